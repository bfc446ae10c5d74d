package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/srt"
)

// longContext makes generations long enough (tens of thousands of tokens)
// to act on them while they run.
func longContext(o *srt.Options) { o.ContextLength, o.MaxTotalTokens = 60000, 61000 }

// openStream starts a long streamed /generate and returns the response
// after its first event.
func openStream(t *testing.T, ctx context.Context, url, rid string) (*http.Response, *bufio.Reader) {
	t.Helper()
	body := `{"text": "Once", "stream": true, "rid": "` + rid + `", "sampling_params": {"max_new_tokens": 50000, "ignore_eos": true}}`
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/generate", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: {") {
		t.Fatalf("first event %q: %v", line, err)
	}
	return resp, rd
}

func TestClientDisconnectFreesRequest(t *testing.T) {
	ts, eng, _ := testServer(t, Options{}, longContext)
	ctx, cancel := context.WithCancel(context.Background())
	resp, _ := openStream(t, ctx, ts.URL, "gone")
	st, _ := eng.Stats(context.Background())
	if st.Running+st.Waiting != 1 {
		t.Fatalf("want 1 request in flight, stats %+v", st)
	}
	cancel()
	resp.Body.Close()
	st = waitIdle(t, eng)
	if st.GenerationTokens >= 50000 || st.KVUsed > st.CachedKV {
		t.Fatalf("request ran to the end or kept its slots: %+v", st)
	}
}

func TestFlushAndAbort(t *testing.T) {
	ts, eng, _ := testServer(t, Options{}, longContext)
	resp, rd := openStream(t, context.Background(), ts.URL, "job-1")
	defer resp.Body.Close()
	if st, b := call(t, "POST", ts.URL+"/flush_cache", ""); st != 400 || !strings.Contains(string(b), "not flushed") {
		t.Fatalf("flush while running: %d %s", st, b)
	}
	st, b := call(t, "POST", ts.URL+"/abort_request", `{"rid": "nope"}`)
	if st != 200 || decode[map[string]any](t, b)["aborted"] != false {
		t.Fatalf("abort unknown: %d %s", st, b)
	}
	st, b = call(t, "POST", ts.URL+"/abort_request", `{"rid": "job-1"}`)
	if st != 200 || decode[map[string]any](t, b)["aborted"] != true {
		t.Fatalf("abort: %d %s", st, b)
	}
	// The stream ends with an abort finish and [DONE].
	var last genResp
	sawDone := false
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break
		}
		d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok {
			continue
		}
		if d == "[DONE]" {
			sawDone = true
			break
		}
		if err := json.Unmarshal([]byte(d), &last); err != nil {
			t.Fatalf("event %q: %v", d, err)
		}
	}
	if !sawDone || last.MetaInfo.FinishReason == nil || last.MetaInfo.FinishReason.Type != "abort" {
		t.Fatalf("stream end: done=%v last=%+v", sawDone, last.MetaInfo)
	}
	waitIdle(t, eng)
	if st, b := call(t, "POST", ts.URL+"/flush_cache", ""); st != 200 {
		t.Fatalf("flush when idle: %d %s", st, b)
	}
	if st, _ := eng.Stats(context.Background()); st.CachedKV != 0 {
		t.Fatalf("cache not empty after flush: %+v", st)
	}
}

func TestInfoRoutes(t *testing.T) {
	ts, _, _ := testServer(t, Options{ServerArgs: map[string]any{"schedule_policy": "lpm"}})
	for _, p := range []string{"/model_info", "/get_model_info"} {
		st, b := call(t, "GET", ts.URL+p, "")
		mi := decode[ModelInfo](t, b)
		if st != 200 || !mi.IsGeneration || mi.HasImageUnderstanding || !strings.HasSuffix(mi.ModelPath, "stories260K") ||
			mi.ModelType != "llama" || len(mi.Architectures) != 1 {
			t.Fatalf("%s: %d %s", p, st, b)
		}
	}
	for _, p := range []string{"/server_info", "/get_server_info"} {
		st, b := call(t, "GET", ts.URL+p, "")
		m := decode[map[string]any](t, b)
		if st != 200 || m["version"] != Version || m["schedule_policy"] != "lpm" || m["internal_states"] == nil {
			t.Fatalf("%s: %d %s", p, st, b)
		}
	}
	st, b := call(t, "GET", ts.URL+"/v1/models/stories", "")
	if st != 200 || decode[ModelCard](t, b).ID != "stories" {
		t.Fatalf("model card: %d %s", st, b)
	}
}

func TestTokenizeRoutes(t *testing.T) {
	ts, eng, _ := testServer(t, Options{})
	want, _ := eng.Tokenize("Once upon a time", true)
	type tokResp struct {
		Tokens      []int32 `json:"tokens"`
		Count       int     `json:"count"`
		MaxModelLen int     `json:"max_model_len"`
	}
	for _, tc := range []struct {
		name, body string
		wantLen    int
	}{
		{"prompt", `{"prompt": "Once upon a time"}`, len(want)},
		{"no specials", `{"prompt": "Once upon a time", "add_special_tokens": false}`, len(want) - 1},
		{"messages", `{"messages": [{"role": "user", "content": "Hi"}]}`, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := call(t, "POST", ts.URL+"/v1/tokenize", tc.body)
			r := decode[tokResp](t, b)
			if st != 200 || r.Count != len(r.Tokens) || r.MaxModelLen != 512 || (tc.wantLen >= 0 && r.Count != tc.wantLen) || r.Count == 0 {
				t.Fatalf("%d %s", st, b)
			}
		})
	}
	ids, _ := json.Marshal(want)
	st, b := call(t, "POST", ts.URL+"/v1/detokenize", `{"tokens": `+string(ids)+`}`)
	if st != 200 || decode[map[string]string](t, b)["text"] != "Once upon a time" {
		t.Fatalf("detokenize: %d %s", st, b)
	}
}

func TestMetrics(t *testing.T) {
	ts, _, _ := testServer(t, Options{})
	for range 2 {
		if st, b := call(t, "POST", ts.URL+"/generate", `{"text": "Once upon a time", "sampling_params": {"max_new_tokens": 3, "ignore_eos": true}}`); st != 200 {
			t.Fatalf("%d %s", st, b)
		}
	}
	time.Sleep(10 * time.Millisecond)
	st, b := call(t, "GET", ts.URL+"/metrics", "")
	text := string(b)
	if st != 200 {
		t.Fatal(st)
	}
	vals := map[string]string{}
	for line := range strings.SplitSeq(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 && !strings.Contains(name, "le=") && !strings.Contains(name, "finish_reason") {
			name = name[:i]
		}
		vals[name] = val
	}
	for name, want := range map[string]string{
		"sglang:num_running_reqs":                  "0",
		"sglang:num_queue_reqs":                    "0",
		"sglang:generation_tokens_total":           "7", // 1 warm-up token + 2 x 3
		"sglang:e2e_request_latency_seconds_count": "2",
		"sglang:time_to_first_token_seconds_count": "2",
	} {
		if vals[name] != want {
			t.Errorf("%s = %q, want %q", name, vals[name], want)
		}
	}
	if _, ok := vals["sglang:cached_tokens_total"]; !ok {
		t.Error("no cached_tokens_total")
	}
	if !strings.Contains(text, `sglang:e2e_request_latency_seconds_bucket{model_name="stories",le="+Inf"} 2`) {
		t.Errorf("histogram +Inf bucket missing:\n%s", text)
	}
	if !strings.Contains(text, "# TYPE sglang:token_usage gauge") {
		t.Error("no token_usage gauge")
	}
}
