package benchserve

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata goldens")

func fixedResult() *Result {
	mc := 8
	outs := []Output{
		{Success: true, PromptLen: 100, OutputLen: 4, PromptTokens: 100, CachedTokens: 40, Start: 0, TTFT: 0.05, Latency: 0.2, ITL: []float64{0.05, 0.05, 0.05}},
		{Success: true, PromptLen: 100, OutputLen: 4, PromptTokens: 100, CachedTokens: 60, Start: 0.1, TTFT: 0.07, Latency: 0.25, ITL: []float64{0.06, 0.06, 0.06}},
		{Success: false, PromptLen: 100, Error: "HTTP 503: busy\nretry"},
	}
	return &Result{Backend: BackendSGLang, DatasetName: DatasetRandom, RequestRate: Rate(math.Inf(1)),
		MaxConcurrency: &mc, NumPrompts: 3, Seed: 1, ServerInfo: json.RawMessage("null"),
		Metrics: ComputeMetrics(outs, 0.5)}
}

// The report's layout is compared with a golden file; the header and a few
// lines are also checked against SGLang's format rules directly.
func TestReportLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := fixedResult().WriteReport(&buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	lines := strings.Split(got, "\n")
	if lines[1] != "============ Serving Benchmark Result ============" {
		t.Errorf("header %q", lines[1])
	}
	for _, want := range []string{
		"Backend:" + strings.Repeat(" ", 33) + "sglang    ",
		"Traffic request rate:" + strings.Repeat(" ", 20) + "inf       ",
		"Max request concurrency:" + strings.Repeat(" ", 17) + "8         ",
		"Successful requests:" + strings.Repeat(" ", 21) + "2         ",
		"Failed requests:" + strings.Repeat(" ", 25) + "1         ",
		"Total cached tokens:" + strings.Repeat(" ", 21) + "100       ",
		"Cache hit rate (%):" + strings.Repeat(" ", 22) + "50.00     ",
		"----------------End-to-End Latency----------------",
		"---------------Time to First Token----------------",
		"-----Time per Output Token (excl. 1st token)------",
		"Mean TTFT (ms):" + strings.Repeat(" ", 26) + "60.00     ",
		strings.Repeat("=", 50),
		"  HTTP 503: busy retry",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("report lacks line %q", want)
		}
	}
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s:\n%s", golden, got)
	}
}

func TestRateJSON(t *testing.T) {
	for _, tc := range []struct {
		r    Rate
		want string
	}{{Rate(math.Inf(1)), `"inf"`}, {Rate(2.5), `2.5`}} {
		b, err := json.Marshal(tc.r)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v -> %s %v, want %s", float64(tc.r), b, err, tc.want)
		}
	}
	if Rate(4).String() != "4.0" || Rate(0.5).String() != "0.5" || Rate(math.Inf(1)).String() != "inf" {
		t.Error("Rate.String")
	}
}

func TestCenter(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"ab", 5, "-ab--"}, {"abc", 5, "-abc-"}, {"abcdef", 3, "abcdef"}} {
		if got := center(tc.s, '-', tc.n); got != tc.want {
			t.Errorf("center(%q,%d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
