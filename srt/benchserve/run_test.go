package benchserve

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/tokenizer"
)

// testConfig is a small random-dataset run against srv.
func testConfig(srv *httptest.Server) Config {
	cfg := DefaultConfig()
	cfg.BaseURL = srv.URL
	cfg.NumPrompts = 5
	cfg.Dataset.RandomInputLen = 16
	cfg.Dataset.RandomOutputLen = 4
	cfg.Dataset.RandomRangeRatio = 1
	cfg.Timeout = 5 * time.Second
	return cfg
}

func TestNativeRequestBodies(t *testing.T) {
	for _, tc := range []struct {
		name          string
		disableEOS    bool
		serverVocab   int
		vocabFlag     int
		wantIgnoreEOS bool
		wantBelow     int
	}{
		{"defaults", false, 0, 0, true, DefaultVocabSize},
		{"server vocab", false, 40, 0, true, 40},
		{"flag vocab wins", true, 40, 20, false, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{vocab: tc.serverVocab}
			srv := newFake(t, f)
			cfg := testConfig(srv)
			cfg.DisableIgnoreEOS = tc.disableEOS
			cfg.VocabSize = tc.vocabFlag
			cfg.APIKey = "sekret"
			res, outs, err := Run(context.Background(), cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.bodies) != 6 {
				t.Fatalf("server saw %d requests, want 1 warmup + 5", len(f.bodies))
			}
			for i, b := range f.bodies {
				ids := b["input_ids"].([]any)
				if len(ids) != 16 {
					t.Errorf("request %d: %d input ids, want 16", i, len(ids))
				}
				for _, v := range ids {
					if id := int(v.(float64)); id < 3 || id >= tc.wantBelow {
						t.Fatalf("request %d: id %d outside [3, %d)", i, id, tc.wantBelow)
					}
				}
				sp := b["sampling_params"].(map[string]any)
				if sp["max_new_tokens"] != 4.0 || sp["ignore_eos"] != tc.wantIgnoreEOS || sp["temperature"] != 0.0 {
					t.Errorf("request %d: sampling_params %v", i, sp)
				}
				if b["stream"] != true || b["logprob_start_len"] != -1.0 || b["return_logprob"] != false {
					t.Errorf("request %d: body %v", i, b)
				}
				if f.auth[i] != "Bearer sekret" {
					t.Errorf("request %d: Authorization %q", i, f.auth[i])
				}
			}
			if res.Completed != 5 || res.Failed != 0 || res.TotalInput != 80 || res.TotalOutput != 20 || res.TotalPromptReported != 80 {
				t.Errorf("metrics %+v", res.Metrics)
			}
			if res.VocabSize != tc.wantBelow {
				t.Errorf("vocab_size %d, want %d", res.VocabSize, tc.wantBelow)
			}
			// The warm-up request repeats the first prompt, so the fake's
			// prefix cache reports it fully cached; the rest are random.
			if outs[0].CachedTokens != 16 {
				t.Errorf("first request cached %d, want 16", outs[0].CachedTokens)
			}
			for _, o := range outs {
				if len(o.ITL) != 3 || o.OutputLen != 4 || o.GeneratedText != "xxxx" {
					t.Errorf("output %+v", o)
				}
			}
		})
	}
}

func TestMaxConcurrency(t *testing.T) {
	for _, c := range []int{1, 3} {
		f := &fake{tokenDelay: 2 * time.Millisecond, firstDelay: 3 * time.Millisecond}
		srv := newFake(t, f)
		cfg := testConfig(srv)
		cfg.NumPrompts = 12
		cfg.MaxConcurrency = c
		cfg.WarmupRequests = 0
		res, _, err := Run(context.Background(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		if f.maxInflight != c {
			t.Errorf("concurrency %d: server saw up to %d in flight", c, f.maxInflight)
		}
		if f.conns > c {
			t.Errorf("concurrency %d: %d connections for 12 requests (not reused)", c, f.conns)
		}
		if res.Completed != 12 || res.MaxConcurrency == nil || *res.MaxConcurrency != c {
			t.Errorf("concurrency %d: completed %d, max_concurrency %v", c, res.Completed, res.MaxConcurrency)
		}
	}
	// Unbounded with rate inf: all at once.
	f := &fake{firstDelay: 30 * time.Millisecond}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.NumPrompts = 8
	cfg.WarmupRequests = 0
	if _, _, err := Run(context.Background(), cfg, false); err != nil {
		t.Fatal(err)
	}
	if f.maxInflight != 8 {
		t.Errorf("unbounded: server saw up to %d in flight, want 8", f.maxInflight)
	}
}

func TestPoissonArrivals(t *testing.T) {
	f := &fake{}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.NumPrompts = 10
	cfg.WarmupRequests = 0
	cfg.RequestRate = 100 // mean gap 10 ms; 9 gaps
	if _, _, err := Run(context.Background(), cfg, false); err != nil {
		t.Fatal(err)
	}
	span := f.arrivals[len(f.arrivals)-1].Sub(f.arrivals[0])
	if span < 15*time.Millisecond || span > 2*time.Second {
		t.Errorf("10 requests at 100/s arrived over %v", span)
	}
}

func TestTimelineEndToEnd(t *testing.T) {
	f := &fake{firstDelay: 40 * time.Millisecond, tokenDelay: 20 * time.Millisecond}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.NumPrompts = 2
	cfg.Dataset.RandomOutputLen = 5
	cfg.WarmupRequests = 0
	res, outs, err := Run(context.Background(), cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		// Sleeps only stretch on a loaded machine; client-side arrival
		// jitter can shorten a gap a little.
		if got < 0.8*want || got > want+tol {
			t.Errorf("%s = %.1f ms, want %.0f..%.0f ms", name, got, 0.8*want, want+tol)
		}
	}
	near("mean TTFT", res.MeanTTFT, 40, 100)
	near("mean ITL", res.MeanITL, 20, 40)
	near("mean TPOT", res.MeanTPOT, 20, 40)
	near("mean E2E", res.MeanE2E, 120, 200)
	for _, o := range outs {
		if len(o.ITL) != 4 {
			t.Errorf("ITL %v, want 4 gaps", o.ITL)
		}
	}
	if res.Details == nil || len(res.Details.ITLs) != 2 || res.Details.OutputLens[0] != 5 {
		t.Errorf("details %+v", res.Details)
	}
}

func TestFailuresCounted(t *testing.T) {
	modes := []string{modeOK, mode500, modeErrEvent, modeMalformed, modeTruncated, modeAbort, modeOK}
	f := &fake{mode: func(n int) string {
		if n == 0 {
			return modeOK // warm-up
		}
		return modes[(n-1)%len(modes)]
	}}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.NumPrompts = len(modes)
	cfg.Dataset.RandomOutputLen = 3
	cfg.MaxConcurrency = 1 // keep request order = mode order
	res, outs, err := Run(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 2 || res.Failed != 5 {
		t.Fatalf("completed %d failed %d, want 2 and 5; errors %q", res.Completed, res.Failed, res.FirstError)
	}
	want := map[string]string{
		mode500:       "HTTP 500: fake overload",
		modeErrEvent:  "fake engine error",
		modeMalformed: "malformed",
		modeTruncated: "before data: [DONE]",
		modeAbort:     "fake abort",
	}
	for i, m := range modes {
		if m == modeOK {
			if !outs[i].Success {
				t.Errorf("request %d failed: %s", i, outs[i].Error)
			}
			continue
		}
		if outs[i].Success || !strings.Contains(outs[i].Error, want[m]) {
			t.Errorf("%s: success=%v error %q, want it to contain %q", m, outs[i].Success, outs[i].Error, want[m])
		}
	}
	if len(res.FirstError) != 5 {
		t.Errorf("first errors %q", res.FirstError)
	}
	if res.TotalOutput != 6 {
		t.Errorf("total output %d counts failed requests", res.TotalOutput)
	}
}

// TestClosedConnectionRetried: a request that meets a keep-alive connection
// the server has just closed (llama.cpp's server closes idle ones after a
// few seconds) is sent again on a new connection, not counted as failed.
func TestClosedConnectionRetried(t *testing.T) {
	f := &fake{mode: func(n int) string {
		if n == 2 || n == 5 {
			return modeDropConn
		}
		return modeOK
	}}
	srv := newFake(t, f)
	for _, backend := range []string{BackendSGLang, BackendOAI} {
		f.mu.Lock()
		f.n = 0
		f.mu.Unlock()
		cfg := testConfig(srv)
		cfg.Backend = backend
		cfg.NumPrompts = 6
		cfg.Dataset.RandomOutputLen = 3
		cfg.MaxConcurrency = 1
		res, _, err := Run(context.Background(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Completed != 6 || res.Failed != 0 {
			t.Errorf("%s: completed %d failed %d (%q), want all 6 answered after a retry", backend, res.Completed, res.Failed, res.FirstError)
		}
		if f.n < 9 {
			t.Errorf("%s: server saw %d requests, want warm-up + 6 + 2 retries", backend, f.n)
		}
	}
}

func TestWarmupAndDeadServer(t *testing.T) {
	f := &fake{mode: func(int) string { return mode500 }}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.WarmupRequests = 2
	_, _, err := Run(context.Background(), cfg, false)
	if !errors.Is(err, ErrWarmup) || !strings.Contains(err.Error(), "fake overload") {
		t.Errorf("all warm-ups failing: err = %v", err)
	}
	if len(f.bodies) != 2 {
		t.Errorf("server saw %d requests, want only the 2 warm-ups", len(f.bodies))
	}

	dead := httptest.NewServer(nil)
	url := dead.URL
	dead.Close()
	cfg = DefaultConfig()
	cfg.BaseURL = url
	cfg.NumPrompts = 3
	start := time.Now()
	_, _, err = Run(context.Background(), cfg, false)
	if !errors.Is(err, ErrWarmup) {
		t.Errorf("dead server: err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("dead server took %v", d)
	}
	// Without warm-up the run completes with every request failed.
	cfg.WarmupRequests = 0
	res, _, err := Run(context.Background(), cfg, false)
	if err != nil || res.Completed != 0 || res.Failed != 3 || len(res.FirstError) == 0 {
		t.Errorf("dead server without warm-up: %v %+v", err, res)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	f := &fake{mode: func(n int) string { return modeStall }}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.NumPrompts = 2
	cfg.WarmupRequests = 0
	cfg.Timeout = 100 * time.Millisecond
	start := time.Now()
	res, _, err := Run(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 2 || !strings.Contains(res.FirstError[0], "timed out") {
		t.Errorf("stalled server: %+v", res.Metrics)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeouts took %v", d)
	}

	cfg.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, _, err = Run(ctx, cfg, false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("canceled run: err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestOAIBackend(t *testing.T) {
	for _, withTok := range []bool{false, true} {
		f := &fake{}
		srv := newFake(t, f)
		cfg := testConfig(srv)
		cfg.Backend = BackendOAI
		cfg.NumPrompts = 3
		if withTok {
			cfg.Tokenizer = fakeTok{}
		}
		res, outs, err := Run(context.Background(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		if withTok && f.detok != 0 {
			t.Errorf("with a tokenizer the server detokenized %d times", f.detok)
		}
		if !withTok && f.detok != 3 {
			t.Errorf("server detokenized %d times, want 3", f.detok)
		}
		for i, b := range f.bodies {
			p, _ := b["prompt"].(string)
			so, _ := b["stream_options"].(map[string]any)
			if strings.Count(p, "<") != 16 || b["max_tokens"] != 4.0 || b["ignore_eos"] != true ||
				b["model"] != "fake-model" || b["stream"] != true || so["include_usage"] != true {
				t.Errorf("request %d body %v", i, b)
			}
		}
		if res.Completed != 3 || res.TotalOutput != 12 || res.TotalCached != 21 || res.TotalPromptReported != 48 {
			t.Errorf("metrics %+v", res.Metrics)
		}
		if len(outs[0].ITL) != 3 || outs[0].GeneratedText != "xxxx" {
			t.Errorf("output %+v", outs[0])
		}
	}
}

type fakeTok struct{}

func (fakeTok) Decode(ids []int32, _ bool) string {
	s := make([]int64, len(ids))
	for i, id := range ids {
		s[i] = int64(id)
	}
	return idsText(s)
}
func (fakeTok) IsSpecial(id int32) bool { return id%2 == 0 }
func (fakeTok) VocabSize() int          { return 30 }

func TestSharedPrefixRunAndStream(t *testing.T) {
	for _, stream := range []bool{true, false} {
		f := &fake{}
		srv := newFake(t, f)
		cfg := testConfig(srv)
		cfg.DisableStream = !stream
		cfg.Dataset = DatasetConfig{Name: DatasetSharedPrefix, GSPNumGroups: 2, GSPPromptsPerGroup: 3,
			GSPSystemPromptLen: 20, GSPQuestionLen: 4, GSPOutputLen: 2, GSPRangeRatio: 1}
		cfg.MaxConcurrency = 1
		cfg.FlushCache = true
		res, _, err := Run(context.Background(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		if f.flushes != 1 {
			t.Errorf("flushes %d", f.flushes)
		}
		// After the flush, the first request of each group misses and the
		// other two hit the 20-token prefix.
		if res.Completed != 6 || res.TotalCached < 4*20 || res.TotalCached > 4*24 {
			t.Errorf("stream=%v: completed %d cached %d", stream, res.Completed, res.TotalCached)
		}
		if !stream && (res.MeanITL != 0 || res.MeanTTFT != res.MeanE2E) {
			t.Errorf("non-streamed: ITL %v TTFT %v E2E %v", res.MeanITL, res.MeanTTFT, res.MeanE2E)
		}
	}
}

func TestResultJSONSchema(t *testing.T) {
	f := &fake{}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.Tag = "t1"
	res, _, err := Run(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tag", "backend", "dataset_name", "request_rate", "max_concurrency",
		"random_input_len", "random_output_len", "random_range_ratio", "server_info", "duration",
		"completed", "failed", "first_errors", "total_input_tokens", "total_output_tokens",
		"total_cached_tokens", "request_throughput", "input_throughput", "output_throughput",
		"total_throughput", "mean_e2e_latency_ms", "median_e2e_latency_ms", "std_e2e_latency_ms",
		"p99_e2e_latency_ms", "mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms",
		"mean_tpot_ms", "median_tpot_ms", "std_tpot_ms", "p99_tpot_ms", "mean_itl_ms",
		"median_itl_ms", "std_itl_ms", "p95_itl_ms", "p99_itl_ms", "max_itl_ms", "concurrency",
		"max_output_tokens_per_s", "max_concurrent_requests"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result JSON lacks %q", k)
		}
	}
	if m["request_rate"] != "inf" || m["max_concurrency"] != nil || m["backend"] != "sglang" || m["completed"] != 5.0 {
		t.Errorf("request_rate %v max_concurrency %v backend %v completed %v", m["request_rate"], m["max_concurrency"], m["backend"], m["completed"])
	}
	if si, _ := m["server_info"].(map[string]any); si["version"] != "fake-1" {
		t.Errorf("server_info %v", m["server_info"])
	}
	if _, ok := m["input_lens"]; ok {
		t.Error("details present without withDetails")
	}
	if math.IsNaN(res.Concurrency) {
		t.Error("NaN concurrency")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"backend", func(c *Config) { c.Backend = "vllm" }},
		{"url", func(c *Config) { c.BaseURL = "localhost:30000" }},
		{"num prompts", func(c *Config) { c.NumPrompts = 0 }},
		{"rate", func(c *Config) { c.RequestRate = -1 }},
		{"rate NaN", func(c *Config) { c.RequestRate = math.NaN() }},
		{"concurrency", func(c *Config) { c.MaxConcurrency = -2 }},
		{"warmup", func(c *Config) { c.WarmupRequests = -1 }},
		{"vocab", func(c *Config) { c.VocabSize = 2 }},
		{"dataset", func(c *Config) { c.Dataset.Name = "sharegpt" }},
		{"input len", func(c *Config) { c.Dataset.RandomInputLen = 0 }},
		{"ratio", func(c *Config) { c.Dataset.RandomRangeRatio = 1.5 }},
		{"gsp groups", func(c *Config) {
			c.Dataset.Name = DatasetSharedPrefix
			c.Dataset.GSPNumGroups = 0
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("Validate() = %v, want ErrConfig", err)
			}
			if _, _, err := Run(context.Background(), cfg, false); !errors.Is(err, ErrConfig) {
				t.Errorf("Run() = %v, want ErrConfig", err)
			}
		})
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("zero Config validated")
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

// TestOAIWithRealTokenizer builds text prompts with the stories260K
// tokenizer: no special id may reach a prompt and no /v1/detokenize call is
// made.
func TestOAIWithRealTokenizer(t *testing.T) {
	tok, err := tokenizer.FromFile(shared.Path(t, "models", "stories260K", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{}
	srv := newFake(t, f)
	cfg := testConfig(srv)
	cfg.Backend = BackendOAI
	cfg.MinTokenID = 0
	cfg.Tokenizer = tok
	cfg.NumPrompts = 3
	res, _, err := Run(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if f.detok != 0 || res.Completed != 3 || res.VocabSize != tok.VocabSize() {
		t.Errorf("detokenize calls %d, completed %d, vocab %d", f.detok, res.Completed, res.VocabSize)
	}
	for i, b := range f.bodies {
		p := b["prompt"].(string)
		if p == "" || strings.Contains(p, "<s>") || strings.Contains(p, "</s>") || strings.Contains(p, "<unk>") {
			t.Errorf("request %d prompt %q", i, p)
		}
		if n := len(tok.Encode(p, false)); n < 4 || n > 24 {
			t.Errorf("request %d: prompt re-encodes to %d tokens, far from 16", i, n)
		}
	}
}
