package server

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/srt"
)

func BenchmarkParseGenerate(b *testing.B) {
	body := `{"text": "Once upon a time, there was a little girl", "sampling_params": {"max_new_tokens": 128,
		"temperature": 0.7, "top_p": 0.9, "stop": ["\n\n", "END"], "stop_token_ids": null, "regex": null, "n": null},
		"return_logprob": false, "stream": true}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseGenerate(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChatChunkSSE is the per-token cost of a streamed chat: build
// the chunk, marshal it, write the event.
func BenchmarkChatChunkSSE(b *testing.B) {
	out := &srt.GenerateOutput{Text: strings.Repeat("word ", 100), OutputIDs: make([]int32, 100)}
	w := httptest.NewRecorder()
	sse := newSSE(w)
	b.ReportAllocs()
	for b.Loop() {
		st := StreamState{Text: len(out.Text) - 5}
		if err := sse.send(ToChatChunk("chatcmpl-123", "model", 1, 0, out, &st, false)); err != nil {
			b.Fatal(err)
		}
		w.Body.Reset()
	}
}

// BenchmarkHistogram is the cost of one latency observation.
func BenchmarkHistogram(b *testing.B) {
	h := newMetrics().e2e
	for b.Loop() {
		h.observe(1.5)
	}
}

func TestHistogram(t *testing.T) {
	h := newHistogram([]float64{1, 2})
	for _, v := range []float64{0.5, 1, 1.5, 3} {
		h.observe(v)
	}
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	h.write(w, "x", "help", `a="b"`)
	w.Flush()
	want := "# HELP x help\n# TYPE x histogram\n" +
		"x_bucket{a=\"b\",le=\"1\"} 2\nx_bucket{a=\"b\",le=\"2\"} 3\nx_bucket{a=\"b\",le=\"+Inf\"} 4\n" +
		"x_sum{a=\"b\"} 6\nx_count{a=\"b\"} 4\n"
	if sb.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", sb.String(), want)
	}
}

func TestOverloaded(t *testing.T) {
	ts, eng, _ := testServer(t, Options{MaxPending: 1}, longContext)
	resp, _ := openStream(t, t.Context(), ts.URL, "hog")
	st, b := call(t, "POST", ts.URL+"/v1/completions", `{"prompt": "a", "max_tokens": 1}`)
	if st != 503 || !strings.Contains(string(b), "pending") {
		t.Fatalf("second request: %d %s", st, b)
	}
	if st, b := call(t, "POST", ts.URL+"/abort_request", `{"rid": "hog"}`); st != 200 {
		t.Fatalf("abort: %d %s", st, b)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	waitIdle(t, eng)
}

// BenchmarkGenerateHTTP is a whole /generate round trip on stories260K
// (one new token): HTTP, parsing, engine, JSON.
func BenchmarkGenerateHTTP(b *testing.B) {
	ts, _, _ := testServer(b, Options{})
	body := `{"text": "Once upon a time", "sampling_params": {"max_new_tokens": 1, "temperature": 0}}`
	for b.Loop() {
		resp, err := http.Post(ts.URL+"/generate", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}
