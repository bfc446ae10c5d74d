package benchserve

import (
	"fmt"
	"io"
	"strings"
)

// center pads s with c to width n, the extra character going right (like
// Python's "{:c^n}").
func center(s string, c byte, n int) string {
	pad := n - len(s)
	if pad <= 0 {
		return s
	}
	left := pad / 2
	return strings.Repeat(string(c), left) + s + strings.Repeat(string(c), pad-left)
}

// WriteReport prints the result in SGLang's "Serving Benchmark Result"
// layout (labels padded to 40 columns, values to 10), with the failure and
// cached-token lines sglang-go adds.
func (r *Result) WriteReport(w io.Writer) error {
	var b strings.Builder
	val := func(label string, v any) { fmt.Fprintf(&b, "%-40s %-10v\n", label, v) }
	num := func(label string, v float64) { fmt.Fprintf(&b, "%-40s %-10.2f\n", label, v) }
	section := func(title string) { b.WriteString(center(title, '-', 50) + "\n") }
	m := &r.Metrics

	b.WriteString("\n" + center(" Serving Benchmark Result ", '=', 50) + "\n")
	val("Backend:", r.Backend)
	val("Traffic request rate:", r.RequestRate.String())
	if r.MaxConcurrency != nil {
		val("Max request concurrency:", *r.MaxConcurrency)
	} else {
		val("Max request concurrency:", "not set")
	}
	val("Successful requests:", m.Completed)
	val("Failed requests:", m.Failed)
	num("Benchmark duration (s):", m.Duration)
	val("Total input tokens:", m.TotalInput)
	val("Total generated tokens:", m.TotalOutput)
	val("Total cached tokens:", m.TotalCached)
	num("Cache hit rate (%):", 100*m.CacheHitRate)
	num("Request throughput (req/s):", m.RequestThroughput)
	num("Input token throughput (tok/s):", m.InputThroughput)
	num("Output token throughput (tok/s):", m.OutputThroughput)
	num("Peak output token throughput (tok/s):", m.MaxOutputTokensPerS)
	val("Peak concurrent requests:", m.MaxConcurrentRequest)
	num("Total token throughput (tok/s):", m.TotalThroughput)
	num("Concurrency:", m.Concurrency)
	section("End-to-End Latency")
	num("Mean E2E Latency (ms):", m.MeanE2E)
	num("Median E2E Latency (ms):", m.MedianE2E)
	num("P90 E2E Latency (ms):", m.P90E2E)
	num("P99 E2E Latency (ms):", m.P99E2E)
	section("Time to First Token")
	num("Mean TTFT (ms):", m.MeanTTFT)
	num("Median TTFT (ms):", m.MedianTTFT)
	num("P99 TTFT (ms):", m.P99TTFT)
	section("Time per Output Token (excl. 1st token)")
	num("Mean TPOT (ms):", m.MeanTPOT)
	num("Median TPOT (ms):", m.MedianTPOT)
	num("P99 TPOT (ms):", m.P99TPOT)
	section("Inter-Token Latency")
	num("Mean ITL (ms):", m.MeanITL)
	num("Median ITL (ms):", m.MedianITL)
	num("P95 ITL (ms):", m.P95ITL)
	num("P99 ITL (ms):", m.P99ITL)
	num("Max ITL (ms):", m.MaxITL)
	b.WriteString(strings.Repeat("=", 50) + "\n")
	if len(m.FirstError) > 0 {
		b.WriteString("First errors:\n")
		for _, e := range m.FirstError {
			fmt.Fprintf(&b, "  %s\n", truncate(strings.ReplaceAll(e, "\n", " "), 300))
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("benchserve: write report: %w", err)
	}
	return nil
}
