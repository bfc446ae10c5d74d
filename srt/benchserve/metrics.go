package benchserve

import (
	"math"
	"slices"
)

// maxErrors is how many distinct error messages a result keeps.
const maxErrors = 5

// Metrics are the aggregate measurements of a run; JSON names are SGLang's
// (plus p90/p95/max variants, failures and cache counters). Latencies are in
// milliseconds, throughputs per second of Duration.
type Metrics struct {
	Duration   float64  `json:"duration"`
	Completed  int      `json:"completed"`
	Failed     int      `json:"failed"`
	FirstError []string `json:"first_errors"`

	TotalInput          int     `json:"total_input_tokens"`
	TotalOutput         int     `json:"total_output_tokens"`
	TotalPromptReported int     `json:"total_prompt_tokens_reported"`
	TotalCached         int     `json:"total_cached_tokens"`
	CacheHitRate        float64 `json:"cache_hit_rate"`

	RequestThroughput    float64 `json:"request_throughput"`
	InputThroughput      float64 `json:"input_throughput"`
	OutputThroughput     float64 `json:"output_throughput"`
	TotalThroughput      float64 `json:"total_throughput"`
	MaxOutputTokensPerS  float64 `json:"max_output_tokens_per_s"`
	MaxConcurrentRequest int     `json:"max_concurrent_requests"`
	Concurrency          float64 `json:"concurrency"`

	MeanE2E   float64 `json:"mean_e2e_latency_ms"`
	MedianE2E float64 `json:"median_e2e_latency_ms"`
	StdE2E    float64 `json:"std_e2e_latency_ms"`
	P90E2E    float64 `json:"p90_e2e_latency_ms"`
	P95E2E    float64 `json:"p95_e2e_latency_ms"`
	P99E2E    float64 `json:"p99_e2e_latency_ms"`
	MaxE2E    float64 `json:"max_e2e_latency_ms"`

	MeanTTFT   float64 `json:"mean_ttft_ms"`
	MedianTTFT float64 `json:"median_ttft_ms"`
	StdTTFT    float64 `json:"std_ttft_ms"`
	P90TTFT    float64 `json:"p90_ttft_ms"`
	P95TTFT    float64 `json:"p95_ttft_ms"`
	P99TTFT    float64 `json:"p99_ttft_ms"`
	MaxTTFT    float64 `json:"max_ttft_ms"`

	MeanTPOT   float64 `json:"mean_tpot_ms"`
	MedianTPOT float64 `json:"median_tpot_ms"`
	StdTPOT    float64 `json:"std_tpot_ms"`
	P90TPOT    float64 `json:"p90_tpot_ms"`
	P95TPOT    float64 `json:"p95_tpot_ms"`
	P99TPOT    float64 `json:"p99_tpot_ms"`
	MaxTPOT    float64 `json:"max_tpot_ms"`

	MeanITL   float64 `json:"mean_itl_ms"`
	MedianITL float64 `json:"median_itl_ms"`
	StdITL    float64 `json:"std_itl_ms"`
	P90ITL    float64 `json:"p90_itl_ms"`
	P95ITL    float64 `json:"p95_itl_ms"`
	P99ITL    float64 `json:"p99_itl_ms"`
	MaxITL    float64 `json:"max_itl_ms"`
}

// Stats summarises samples (in seconds) in milliseconds.
type Stats struct {
	Mean, Median, Std, P90, P95, P99, Max float64
}

// Summarize returns the statistics of xs (seconds) in milliseconds; all
// zero for no samples, as SGLang reports.
func Summarize(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	var ss float64
	for _, x := range s {
		ss += (x - mean) * (x - mean)
	}
	const ms = 1000
	return Stats{
		Mean:   mean * ms,
		Median: Percentile(s, 50) * ms,
		Std:    math.Sqrt(ss/float64(len(s))) * ms,
		P90:    Percentile(s, 90) * ms,
		P95:    Percentile(s, 95) * ms,
		P99:    Percentile(s, 99) * ms,
		Max:    s[len(s)-1] * ms,
	}
}

// Percentile returns the p-th percentile (0..100) of sorted samples with
// linear interpolation between closest ranks (numpy's default); 0 for none.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := p / 100 * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	frac := pos - float64(lo)
	return sorted[lo] + (sorted[lo+1]-sorted[lo])*frac
}

// ComputeMetrics aggregates the outputs of a run that lasted dur seconds.
func ComputeMetrics(outs []Output, dur float64) Metrics {
	var m Metrics
	m.Duration = dur
	var ttfts, tpots, itls, e2e []float64
	for _, o := range outs {
		if !o.Success {
			m.Failed++
			if len(m.FirstError) < maxErrors && !slices.Contains(m.FirstError, o.Error) {
				m.FirstError = append(m.FirstError, o.Error)
			}
			continue
		}
		m.Completed++
		m.TotalInput += o.PromptLen
		m.TotalOutput += o.OutputLen
		m.TotalPromptReported += o.PromptTokens
		m.TotalCached += o.CachedTokens
		if o.OutputLen > 1 {
			tpots = append(tpots, (o.Latency-o.TTFT)/float64(o.OutputLen-1))
		}
		itls = append(itls, o.ITL...)
		ttfts = append(ttfts, o.TTFT)
		e2e = append(e2e, o.Latency)
	}
	if m.FirstError == nil {
		m.FirstError = []string{}
	}
	if base := m.TotalPromptReported; base > 0 {
		m.CacheHitRate = float64(m.TotalCached) / float64(base)
	} else if m.TotalInput > 0 {
		m.CacheHitRate = float64(m.TotalCached) / float64(m.TotalInput)
	}
	if dur > 0 {
		m.RequestThroughput = float64(m.Completed) / dur
		m.InputThroughput = float64(m.TotalInput) / dur
		m.OutputThroughput = float64(m.TotalOutput) / dur
		m.TotalThroughput = float64(m.TotalInput+m.TotalOutput) / dur
		var sum float64
		for _, x := range e2e {
			sum += x
		}
		m.Concurrency = sum / dur
	}
	m.MaxOutputTokensPerS, m.MaxConcurrentRequest = peaks(outs)
	s := Summarize(e2e)
	m.MeanE2E, m.MedianE2E, m.StdE2E, m.P90E2E, m.P95E2E, m.P99E2E, m.MaxE2E = s.Mean, s.Median, s.Std, s.P90, s.P95, s.P99, s.Max
	s = Summarize(ttfts)
	m.MeanTTFT, m.MedianTTFT, m.StdTTFT, m.P90TTFT, m.P95TTFT, m.P99TTFT, m.MaxTTFT = s.Mean, s.Median, s.Std, s.P90, s.P95, s.P99, s.Max
	s = Summarize(tpots)
	m.MeanTPOT, m.MedianTPOT, m.StdTPOT, m.P90TPOT, m.P95TPOT, m.P99TPOT, m.MaxTPOT = s.Mean, s.Median, s.Std, s.P90, s.P95, s.P99, s.Max
	s = Summarize(itls)
	m.MeanITL, m.MedianITL, m.StdITL, m.P90ITL, m.P95ITL, m.P99ITL, m.MaxITL = s.Mean, s.Median, s.Std, s.P90, s.P95, s.P99, s.Max
	return m
}

// peaks buckets successful requests into whole seconds from the first
// start, like SGLang: the most tokens streamed in one second (first token at
// Start+TTFT, the next ones ITL apart) and the most requests running in one.
func peaks(outs []Output) (tokensPerS float64, concurrent int) {
	minStart, maxEnd := math.Inf(1), math.Inf(-1)
	for _, o := range outs {
		if o.Success {
			minStart = min(minStart, o.Start)
			maxEnd = max(maxEnd, o.Start+o.Latency)
		}
	}
	if math.IsInf(minStart, 1) {
		return 0, 0
	}
	n := int(math.Ceil(maxEnd-minStart)) + 1
	tokens := make([]int, n)
	running := make([]int, n)
	for _, o := range outs {
		if !o.Success {
			continue
		}
		t := o.Start + o.TTFT
		times := append([]float64{t}, make([]float64, 0, len(o.ITL))...)
		for _, gap := range o.ITL {
			t += gap
			times = append(times, t)
		}
		for _, tt := range times {
			if b := int(tt - minStart); b >= 0 && b < n {
				tokens[b]++
			}
		}
		first := int(o.Start - minStart)
		last := min(int(o.Start+o.Latency-minStart)+1, n)
		for b := first; b < last; b++ {
			running[b]++
		}
	}
	return float64(slices.Max(tokens)), slices.Max(running)
}
