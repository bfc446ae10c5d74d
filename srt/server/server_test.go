package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
)

// testServer starts stories260K behind an httptest server.
func testServer(t testing.TB, opts Options, engOpts ...func(*srt.Options)) (*httptest.Server, *srt.Engine, *Server) {
	t.Helper()
	dir := shared.Path(t, "models", "stories260K")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eo := srt.Options{ModelPath: dir, Threads: 1, Logger: log}
	for _, f := range engOpts {
		f(&eo)
	}
	eng, err := srt.NewEngine(context.Background(), eo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	cc, err := LoadChatConfig(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if opts.ChatTemplate == nil {
		opts.ChatTemplate, opts.BOS, opts.EOS = cc.Template, cc.BOS, cc.EOS
	}
	if opts.ServedModelName == "" {
		opts.ServedModelName = "stories"
	}
	opts.Logger = log
	s, err := New(eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warmup(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, eng, s
}

// call sends a request and returns the status and body.
func call(t *testing.T, method, url, body string, hdr ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// sseEvents reads the data: payloads of an SSE body.
func sseEvents(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// waitIdle polls the engine until nothing runs or waits.
func waitIdle(t testing.TB, eng *srt.Engine) srt.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := eng.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Running == 0 && st.Waiting == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type genResp struct {
	Text      string       `json:"text"`
	OutputIDs []int32      `json:"output_ids"`
	MetaInfo  srt.MetaInfo `json:"meta_info"`
	Index     *int         `json:"index"`
}

func TestGenerateNative(t *testing.T) {
	ts, eng, _ := testServer(t, Options{})
	greedy := `"sampling_params": {"temperature": 0, "max_new_tokens": 8}`
	// The reference: the engine itself, greedy.
	want, err := eng.GenerateAll(context.Background(), &srt.GenerateRequest{Text: "Once upon a time",
		Sampling: srt.SamplingParams{MaxNewTokens: 8, TopP: 1, TopK: -1, RepetitionPenalty: 1, SkipSpecialTokens: true}, LogprobStartLen: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("single", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"text": "Once upon a time", `+greedy+`}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		g := decode[genResp](t, b)
		if g.Text != want.Text || len(g.OutputIDs) != 8 || g.MetaInfo.CompletionTokens != 8 {
			t.Fatalf("got %q %v, want %q", g.Text, g.OutputIDs, want.Text)
		}
		if g.MetaInfo.FinishReason == nil || g.MetaInfo.FinishReason.Type != "length" || g.MetaInfo.PromptTokens == 0 {
			t.Fatalf("meta_info %+v", g.MetaInfo)
		}
	})
	t.Run("nulls", func(t *testing.T) {
		body := `{"text": "Once upon a time", "sampling_params": {"skip_special_tokens": null,
			"spaces_between_special_tokens": null, "max_new_tokens": 8, "min_new_tokens": null, "n": null,
			"stop": [], "stop_token_ids": null, "stop_regex": null, "temperature": 0, "top_p": null, "top_k": null,
			"min_p": null, "frequency_penalty": null, "presence_penalty": null, "ignore_eos": null, "regex": null,
			"json_schema": null}, "return_logprob": null, "logprob_start_len": null, "top_logprobs_num": null,
			"return_text_in_logprobs": null, "stream": null, "rid": null}`
		st, b := call(t, "POST", ts.URL+"/generate", body)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		if g := decode[genResp](t, b); g.Text != want.Text {
			t.Fatalf("got %q want %q", g.Text, want.Text)
		}
	})
	t.Run("batch", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"text": ["Once upon a time", "Lily"], `+greedy+`}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		g := decode[[]genResp](t, b)
		if len(g) != 2 || g[0].Text != want.Text || len(g[1].OutputIDs) != 8 {
			t.Fatalf("batch %+v", g)
		}
	})
	t.Run("input_ids", func(t *testing.T) {
		ids, _ := eng.Tokenize("Once upon a time", true)
		idsJSON, _ := json.Marshal([][]int32{ids})
		st, b := call(t, "POST", ts.URL+"/generate", `{"input_ids": `+string(idsJSON)+`, `+greedy+`}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		g := decode[[]genResp](t, b)
		if len(g) != 1 || g[0].Text != want.Text {
			t.Fatalf("got %+v", g)
		}
	})
	t.Run("n", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"text": "Lily", "sampling_params": {"max_new_tokens": 4, "n": 3}}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		if g := decode[[]genResp](t, b); len(g) != 3 {
			t.Fatalf("n=3 gave %d outputs", len(g))
		}
	})
	t.Run("select scoring (max_new_tokens 0, input logprobs)", func(t *testing.T) {
		body := `{"text": ["Once upon a time there", "Once upon a time the"], "sampling_params": {"max_new_tokens": 0,
			"temperature": 0}, "return_logprob": true, "return_text_in_logprobs": true, "logprob_start_len": 3}`
		st, b := call(t, "POST", ts.URL+"/generate", body)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		for _, g := range decode[[]genResp](t, b) {
			if len(g.OutputIDs) != 0 || g.MetaInfo.CompletionTokens != 0 {
				t.Fatalf("max_new_tokens 0 generated %v", g.OutputIDs)
			}
			if n := g.MetaInfo.PromptTokens - 3; len(g.MetaInfo.InputTokenLogprobs) != n || n <= 0 {
				t.Fatalf("got %d input logprobs, want %d", len(g.MetaInfo.InputTokenLogprobs), n)
			}
			for _, lp := range g.MetaInfo.InputTokenLogprobs {
				if lp.Text == nil || lp.Logprob > 0 {
					t.Fatalf("bad logprob entry %+v", lp)
				}
			}
		}
	})
	t.Run("stream", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"text": "Once upon a time", "stream": true, `+greedy+`}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		evs := sseEvents(t, b)
		if len(evs) < 2 || evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("events %q", evs)
		}
		prev := ""
		for _, e := range evs[:len(evs)-1] {
			g := decode[genResp](t, []byte(e))
			if !strings.HasPrefix(g.Text, prev) {
				t.Fatalf("text not cumulative: %q then %q", prev, g.Text)
			}
			prev = g.Text
		}
		if prev != want.Text {
			t.Fatalf("streamed %q want %q", prev, want.Text)
		}
	})
	t.Run("stream batch", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"text": ["a", "b"], "stream": true, `+greedy+`}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		seen := map[int]bool{}
		evs := sseEvents(t, b)
		for _, e := range evs[:len(evs)-1] {
			g := decode[genResp](t, []byte(e))
			if g.Index == nil {
				t.Fatalf("batch event without index: %s", e)
			}
			seen[*g.Index] = true
		}
		if !seen[0] || !seen[1] || evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("events %q", evs)
		}
	})
	t.Run("stream error", func(t *testing.T) {
		st, b := call(t, "POST", ts.URL+"/generate", `{"input_ids": [999999], "stream": true}`)
		if st != 200 {
			t.Fatalf("status %d: %s", st, b)
		}
		evs := sseEvents(t, b)
		var e nativeError
		if len(evs) != 2 || json.Unmarshal([]byte(evs[0]), &e) != nil || e.Error.Code != 400 ||
			e.Error.Type != "invalid_request_error" || e.Error.Message == "" || evs[1] != "[DONE]" {
			t.Fatalf("events %q", evs)
		}
	})
	waitIdle(t, eng)
}

func TestErrors(t *testing.T) {
	ts, _, _ := testServer(t, Options{MaxBodyBytes: 1 << 10})
	big := `{"text": "` + strings.Repeat("x", 2<<10) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"malformed json", "POST", "/generate", `{"text": `, 400, "generate"},
		{"bad type", "POST", "/generate", `{"text": 5}`, 400, "text"},
		{"bad sampling type", "POST", "/generate", `{"text": "a", "sampling_params": {"temperature": "hot"}}`, 400, "temperature"},
		{"no prompt", "POST", "/generate", `{}`, 400, "text or input_ids"},
		{"ebnf", "POST", "/generate", `{"text": "a", "sampling_params": {"ebnf": "root ::= x"}}`, 400, "not supported yet"},
		{"out of vocab", "POST", "/generate", `{"input_ids": [1, 999999]}`, 400, "vocabulary"},
		{"bad top_p", "POST", "/generate", `{"text": "a", "sampling_params": {"top_p": 0}}`, 400, "top_p"},
		{"too large", "POST", "/generate", big, 413, "too large"},
		{"too large openai", "POST", "/v1/completions", big, 413, "too large"},
		{"unknown route", "GET", "/nope", "", 404, "no route"},
		{"unknown model", "POST", "/v1/completions", `{"model": "gpt-4", "prompt": "a"}`, 404, "gpt-4"},
		{"unknown model card", "GET", "/v1/models/gpt-4", "", 404, "gpt-4"},
		{"wrong method", "GET", "/generate", "", 405, "not allowed"},
		{"chat image", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]}`, 400, "does not support images"},
		{"chat bad json", "POST", "/v1/chat/completions", `{"messages": [}`, 400, "chat/completions"},
		{"chat validation is 400", "POST", "/v1/chat/completions", `{"messages": "hi"}`, 400, "messages"},
		{"chat ebnf", "POST", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "ebnf": "root ::= x"}`, 400, "not supported yet"},
		{"completion empty prompt", "POST", "/v1/completions", `{"prompt": null}`, 400, "prompt"},
		{"abort without rid", "POST", "/abort_request", `{}`, 400, "rid"},
		{"detokenize bad id", "POST", "/v1/detokenize", `{"tokens": [999999]}`, 400, "vocabulary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b := call(t, tc.method, ts.URL+tc.path, tc.body)
			if st != tc.status || !strings.Contains(strings.ToLower(string(b)), strings.ToLower(tc.msg)) {
				t.Fatalf("got %d %s; want %d containing %q", st, b, tc.status, tc.msg)
			}
			if strings.HasPrefix(tc.path, "/v1/") || tc.path == "/nope" {
				e := decode[ErrorResponse](t, b)
				if e.Object != "error" || e.Code != tc.status || e.Type == "" {
					t.Fatalf("error object %+v", e)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	ts, _, _ := testServer(t, Options{APIKey: "sk-test"})
	for _, tc := range []struct {
		path, auth string
		status     int
	}{
		{"/v1/models", "", 401},
		{"/v1/models", "Bearer wrong", 401},
		{"/v1/models", "Bearer sk-test", 200},
		{"/get_model_info", "", 401},
		{"/health", "", 200},
		{"/metrics", "", 200},
	} {
		if tc.path == "/get_model_info" {
			// CORS preflight needs no key.
			if st, _ := call(t, "OPTIONS", ts.URL+"/v1/chat/completions", ""); st != 204 {
				t.Errorf("OPTIONS: %d", st)
			}
		}
		st, b := call(t, "GET", ts.URL+tc.path, "", "Authorization", tc.auth)
		if st != tc.status {
			t.Errorf("%s with %q: %d %s, want %d", tc.path, tc.auth, st, b, tc.status)
		}
	}
}

func TestNotReady(t *testing.T) {
	ts, _, s := testServer(t, Options{})
	s.SetReady(false)
	for _, p := range []string{"/health_generate", "/generate", "/v1/completions"} {
		st, b := call(t, map[bool]string{true: "GET", false: "POST"}[p == "/health_generate"], ts.URL+p, `{"text": "a", "prompt": "a"}`)
		if st != 503 {
			t.Errorf("%s while starting: %d %s, want 503", p, st, b)
		}
	}
	if st, _ := call(t, "GET", ts.URL+"/health", ""); st != 200 {
		t.Errorf("/health while starting: %d", st)
	}
	s.SetReady(true)
	if st, b := call(t, "GET", ts.URL+"/health_generate", ""); st != 200 {
		t.Errorf("/health_generate when ready: %d %s", st, b)
	}
}
