package benchserve

import (
	"math"
	"slices"
	"strings"
	"testing"
)

type ev struct {
	at   float64
	data string // "" marks a [DONE]-like bare line
}

func play(t *testing.T, native bool, wantOut int, evs []ev) (Output, error) {
	t.Helper()
	tr := newTracker(native, 10, wantOut)
	for _, e := range evs {
		tr.line(e.at)
		if e.data == "" {
			continue
		}
		if err := tr.event([]byte(e.data), e.at); err != nil {
			return Output{}, err
		}
	}
	return tr.finish(), nil
}

func approxSlice(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12 {
			return false
		}
	}
	return true
}

func TestTrackerScriptedTimeline(t *testing.T) {
	for _, tc := range []struct {
		name                string
		native              bool
		evs                 []ev
		wantTTFT, wantLat   float64
		wantITL             []float64
		wantOut, wantCached int
		wantText            string
	}{
		{
			name:   "native, one token per event",
			native: true,
			evs: []ev{
				{0.100, `{"text":"a","meta_info":{"prompt_tokens":10,"completion_tokens":1,"cached_tokens":4}}`},
				{0.150, `{"text":"ab","meta_info":{"completion_tokens":2}}`},
				{0.230, `{"text":"abc","meta_info":{"completion_tokens":3}}`},
				{0.240, ""}, // [DONE]
			},
			wantTTFT: 0.100, wantLat: 0.240, wantITL: []float64{0.050, 0.080},
			wantOut: 3, wantCached: 4, wantText: "abc",
		},
		{
			name:   "native, an event adding three tokens and one adding none",
			native: true,
			evs: []ev{
				{0.2, `{"text":"a","output_ids":[5],"meta_info":{"completion_tokens":1}}`},
				{0.5, `{"text":"abcd","meta_info":{"completion_tokens":4}}`},
				{0.6, `{"text":"abcd","meta_info":{"completion_tokens":4}}`}, // no new token: skipped
				{0.7, `{"text":"abcde","meta_info":{"completion_tokens":5}}`},
				{0.7, ""},
			},
			wantTTFT: 0.2, wantLat: 0.7, wantITL: []float64{0.1, 0.1, 0.1, 0.2},
			wantOut: 5, wantText: "abcde",
		},
		{
			name:   "native, first output is ids with empty text",
			native: true,
			evs: []ev{
				{0.05, `{"text":"","output_ids":[],"meta_info":{"completion_tokens":0}}`},
				{0.10, `{"text":"","output_ids":[7],"meta_info":{"completion_tokens":1}}`},
				{0.30, `{"text":"é","output_ids":[8],"meta_info":{"completion_tokens":2}}`},
				{0.31, ""},
			},
			wantTTFT: 0.10, wantLat: 0.31, wantITL: []float64{0.2}, wantOut: 2, wantText: "é",
		},
		{
			name:   "native without completion_tokens keeps the asked length",
			native: true,
			evs: []ev{
				{0.1, `{"text":"a"}`},
				{0.3, `{"text":"ab"}`},
				{0.4, ""},
			},
			wantTTFT: 0.1, wantLat: 0.4, wantITL: []float64{0.2}, wantOut: 9, wantText: "ab",
		},
		{
			name: "oai chunks then usage",
			evs: []ev{
				{0.1, `{"choices":[{"text":"x"}]}`},
				{0.3, `{"choices":[{"text":"yz"}]}`},
				{0.35, `{"choices":[{"text":""}]}`},
				{0.4, `{"choices":[{"text":"w","finish_reason":"length"}]}`},
				{0.45, `{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":6}}}`},
				{0.5, ""},
			},
			wantTTFT: 0.1, wantLat: 0.5, wantITL: []float64{0.2, 0.1}, wantOut: 4, wantCached: 6, wantText: "xyzw",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := play(t, tc.native, 9, tc.evs)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(o.TTFT-tc.wantTTFT) > 1e-12 || math.Abs(o.Latency-tc.wantLat) > 1e-12 {
				t.Errorf("ttft %v latency %v, want %v %v", o.TTFT, o.Latency, tc.wantTTFT, tc.wantLat)
			}
			if !approxSlice(o.ITL, tc.wantITL) {
				t.Errorf("itl %v, want %v", o.ITL, tc.wantITL)
			}
			if o.OutputLen != tc.wantOut || o.CachedTokens != tc.wantCached || o.GeneratedText != tc.wantText || !o.Success {
				t.Errorf("output %+v", o)
			}
		})
	}
}

func TestTrackerErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
		native           bool
	}{
		{"error object", `{"error":{"message":"boom","code":400}}`, "boom", true},
		{"error string", `{"error":"plain"}`, "plain", true},
		{"abort", `{"text":"a","meta_info":{"finish_reason":{"type":"abort","message":"gone"}}}`, "gone", true},
		{"not json", `{"text":`, "malformed", true},
		{"oai error", `{"error":{"message":"bad model"}}`, "bad model", false},
		{"oai error object", `{"object":"error","message":"too long"}`, "too long", false},
		{"oai not json", `[1,2`, "malformed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := play(t, tc.native, 4, []ev{{0.1, tc.data}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	// A stop finish reason is not a failure.
	if _, err := play(t, true, 4, []ev{{0.1, `{"text":"a","meta_info":{"finish_reason":{"type":"stop","matched":2}}}`}}); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestTrackerWhole(t *testing.T) {
	tr := newTracker(true, 3, 8)
	if err := tr.whole([]byte(`{"text":"abc","meta_info":{"prompt_tokens":3,"completion_tokens":3,"cached_tokens":1}}`), 0.7); err != nil {
		t.Fatal(err)
	}
	o := tr.finish()
	if o.TTFT != 0.7 || o.Latency != 0.7 || len(o.ITL) != 0 || o.OutputLen != 3 || o.CachedTokens != 1 {
		t.Errorf("whole: %+v", o)
	}
}

func TestComputeMetricsHandWorked(t *testing.T) {
	outs := []Output{
		{Success: true, PromptLen: 10, OutputLen: 3, PromptTokens: 10, CachedTokens: 5, Start: 0, TTFT: 0.1, Latency: 0.5, ITL: []float64{0.2, 0.2}},
		{Success: true, PromptLen: 20, OutputLen: 1, PromptTokens: 20, Start: 0.5, TTFT: 0.3, Latency: 0.3},
		{Success: false, PromptLen: 30, Error: "HTTP 500: x"},
		{Success: true, PromptLen: 30, OutputLen: 5, PromptTokens: 30, CachedTokens: 10, Start: 1.2, TTFT: 0.2, Latency: 1.0, ITL: []float64{0.1, 0.2, 0.2, 0.3}},
		{Success: false, Error: "HTTP 500: x"},
	}
	m := ComputeMetrics(outs, 2.0)
	eq := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if m.Completed != 3 || m.Failed != 2 || !slices.Equal(m.FirstError, []string{"HTTP 500: x"}) {
		t.Errorf("counts %d/%d errors %q", m.Completed, m.Failed, m.FirstError)
	}
	if m.TotalInput != 60 || m.TotalOutput != 9 || m.TotalCached != 15 || m.TotalPromptReported != 60 {
		t.Errorf("totals %+v", m)
	}
	eq("cache hit rate", m.CacheHitRate, 0.25)
	eq("request throughput", m.RequestThroughput, 1.5)
	eq("input throughput", m.InputThroughput, 30)
	eq("output throughput", m.OutputThroughput, 4.5)
	eq("total throughput", m.TotalThroughput, 34.5)
	eq("concurrency", m.Concurrency, (0.5+0.3+1.0)/2)
	// TTFT 0.1, 0.3, 0.2 s.
	eq("mean ttft", m.MeanTTFT, 200)
	eq("median ttft", m.MedianTTFT, 200)
	eq("std ttft", m.StdTTFT, 1000*math.Sqrt(0.02/3))
	eq("p99 ttft", m.P99TTFT, 1000*(0.2+0.98*0.1))
	eq("max ttft", m.MaxTTFT, 300)
	// TPOT: (0.5-0.1)/2 = 0.2 and (1.0-0.2)/4 = 0.2; the 1-token request has none.
	eq("mean tpot", m.MeanTPOT, 200)
	eq("std tpot", m.StdTPOT, 0)
	// ITL 0.2 0.2 0.1 0.2 0.2 0.3 -> sorted 0.1 0.2 0.2 0.2 0.2 0.3.
	eq("mean itl", m.MeanITL, 1000*1.2/6)
	eq("median itl", m.MedianITL, 200)
	eq("p95 itl", m.P95ITL, 1000*(0.2+0.75*0.1)) // rank 4.75
	eq("max itl", m.MaxITL, 300)
	// E2E 0.5 0.3 1.0 -> p90 at rank 1.8: 0.5 + 0.8*0.5.
	eq("median e2e", m.MedianE2E, 500)
	eq("p90 e2e", m.P90E2E, 900)
	// Tokens: req0 at 0.1, 0.3, 0.5 (second 0); req1 at 0.8 (second 0);
	// req3 at 1.4, 1.5, 1.7, 1.9, 2.2 (four in second 1).
	eq("peak tokens/s", m.MaxOutputTokensPerS, 4)
	if m.MaxConcurrentRequest != 2 {
		t.Errorf("peak concurrent %d, want 2", m.MaxConcurrentRequest)
	}
}

func TestPercentileAndEmpty(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	for _, tc := range []struct{ p, want float64 }{{0, 1}, {50, 2.5}, {99, 3.97}, {100, 4}, {25, 1.75}} {
		if got := Percentile(s, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]float64{7}, 99) != 7 {
		t.Error("degenerate percentiles")
	}
	m := ComputeMetrics(nil, 0)
	if m.Completed != 0 || m.MeanTTFT != 0 || m.RequestThroughput != 0 || m.FirstError == nil {
		t.Errorf("empty metrics %+v", m)
	}
}

func BenchmarkTrackerNativeEvent(b *testing.B) {
	data := []byte(`{"text":"Once upon a time there was a little girl named Lily","output_ids":[1,2,3],"meta_info":{"id":"abc","prompt_tokens":128,"completion_tokens":12,"cached_tokens":64,"finish_reason":null}}`)
	b.ReportAllocs()
	tr := newTracker(true, 128, 1<<30)
	for i := range b.N {
		tr.lastOut = i // every event adds one token
		if err := tr.event(data, float64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputeMetrics(b *testing.B) {
	outs := make([]Output, 1000)
	for i := range outs {
		itl := make([]float64, 255)
		for j := range itl {
			itl[j] = 0.01 + float64(j%7)*0.001
		}
		outs[i] = Output{Success: true, PromptLen: 1024, OutputLen: 256, Start: float64(i) * 0.01, TTFT: 0.2, Latency: 2.8, ITL: itl}
	}
	b.ReportAllocs()
	for b.Loop() {
		ComputeMetrics(outs, 12)
	}
}
