package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sglang-go/sglang/sgl/ir"
)

// fakeServer records /generate bodies (decoded) and answers from handler.
type fakeServer struct {
	mu     sync.Mutex
	bodies []map[string]any
	reply  func(body map[string]any, w http.ResponseWriter)
}

func (f *fakeServer) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/get_model_info":
			fmt.Fprint(w, `{"model_path":"meta-llama/Llama-2-7b-chat-hf","is_generation":true}`)
		case "/flush_cache":
			b, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || len(b) != 0 {
				http.Error(w, "want POST without body", 400)
			}
		case "/generate":
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			f.mu.Lock()
			f.bodies = append(f.bodies, body)
			f.mu.Unlock()
			f.reply(body, w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGeneratePayload(t *testing.T) {
	fs := &fakeServer{reply: func(_ map[string]any, w http.ResponseWriter) {
		fmt.Fprint(w, `{"text":" Paris","output_ids":[5,6],"meta_info":{"id":"r1","finish_reason":{"type":"stop","matched":"\n"},"prompt_tokens":7,"completion_tokens":2,"cached_tokens":3}}`)
	}}
	srv := fs.start(t)
	c := Endpoint(srv.URL)
	tmpl, err := c.ChatTemplate(context.Background())
	if err != nil || tmpl.Name != "llama-2-chat" {
		t.Fatalf("template %v, %v", tmpl, err)
	}
	s := ir.DefaultSampling()
	s.MaxNewTokens, s.Temperature, s.Stop = 16, 0, []string{"\n"}
	lp := true
	s.ReturnLogprob = &lp
	res, err := c.Generate(context.Background(), &ir.GenRequest{Prompt: ir.Prompt{Text: "Capital:",
		Images: []ir.Image{{Base64: "AAA"}}}, Sampling: s})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != " Paris" || res.Meta.PromptTokens != 7 || res.Meta.CachedTokens != 3 || res.Meta.FinishReason.Type != "stop" {
		t.Errorf("result %+v", res)
	}
	want := decode(t, `{"text":"Capital:","sampling_params":{"skip_special_tokens":true,"spaces_between_special_tokens":true,
		"max_new_tokens":16,"min_new_tokens":0,"n":1,"stop":["\n"],"stop_token_ids":[],"stop_regex":null,"temperature":0,
		"top_p":1,"top_k":-1,"min_p":0,"frequency_penalty":0,"presence_penalty":0,"ignore_eos":false,"regex":null,
		"json_schema":null},"return_logprob":true,"image_data":"AAA"}`)
	if !reflect.DeepEqual(fs.bodies[0], want) {
		t.Errorf("payload\n%v\nwant\n%v", fs.bodies[0], want)
	}
	if err := c.CachePrefix(context.Background(), &ir.Prompt{Text: "prefix"}); err != nil {
		t.Fatal(err)
	}
	if want := decode(t, `{"text":"prefix","sampling_params":{"max_new_tokens":0}}`); !reflect.DeepEqual(fs.bodies[1], want) {
		t.Errorf("prefill payload %v", fs.bodies[1])
	}
	if err := c.FlushCache(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestSelectPayloads(t *testing.T) {
	fs := &fakeServer{reply: func(b map[string]any, w http.ResponseWriter) {
		switch {
		case b["input_ids"] != nil: // unconditional
			fmt.Fprint(w, `[{"text":"","meta_info":{"input_token_logprobs":[[null,11,null],[-2.0,12,null]]}},
				{"text":"","meta_info":{"input_token_logprobs":[[null,21,null]]}}]`)
		case b["return_logprob"] != nil:
			// choice 0: the healing token " is" belongs to the prefix and is dropped.
			fmt.Fprint(w, `[{"text":"","meta_info":{"input_token_logprobs":[[-9.0,3," is"],[-1.0,11," red"],[-1.0,12," wine"]]}},
				{"text":"","meta_info":{"input_token_logprobs":[[-9.0,3," is"],[-0.5,21," blue"]]}}]`)
		default:
			fmt.Fprint(w, `{"text":"","meta_info":{"prompt_tokens":5}}`)
		}
	}}
	srv := fs.start(t)
	c := Endpoint(srv.URL)
	lp, err := c.ScoreChoices(context.Background(), &ir.Prompt{Text: "The sky is"}, []string{" red wine", " blue"}, true)
	if err != nil {
		t.Fatal(err)
	}
	wants := []string{
		`{"text":"The sky is","sampling_params":{"max_new_tokens":0}}`,
		`{"text":["The sky is red wine","The sky is blue"],"sampling_params":{"max_new_tokens":0,"temperature":0},
		  "return_logprob":true,"return_text_in_logprobs":true,"logprob_start_len":3}`,
		`{"input_ids":[[11,12],[21]],"sampling_params":{"max_new_tokens":0},"return_logprob":true,"logprob_start_len":0}`,
	}
	if len(fs.bodies) != len(wants) {
		t.Fatalf("%d requests, want %d", len(fs.bodies), len(wants))
	}
	for i, w := range wants {
		if want := decode(t, w); !reflect.DeepEqual(fs.bodies[i], want) {
			t.Errorf("request %d\n%v\nwant\n%v", i, fs.bodies[i], want)
		}
	}
	if len(lp.Input[0]) != 2 || lp.Normalized[0] != -1 || lp.Normalized[1] != -0.5 || len(lp.Unconditional[0]) != 2 {
		t.Errorf("logprobs %+v", lp)
	}
	d, err := ir.Decide(ir.UnconditionalLikelihoodNormalized, []string{" red wine", " blue"}, lp)
	if err != nil {
		t.Fatal(err)
	}
	// red wine: (-1-0, -1+2) -> 0; blue: (-0.5-0) -> -0.5
	if d.Index != 0 {
		t.Errorf("decision %+v", d)
	}
}

func TestStreamAndErrors(t *testing.T) {
	fs := &fakeServer{reply: func(b map[string]any, w http.ResponseWriter) {
		if b["stream"] != true {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"regex is invalid"}}`)
			return
		}
		if strings.Contains(b["text"].(string), "fail") {
			fmt.Fprint(w, "data: {\"text\":\"a\",\"meta_info\":{}}\n\ndata: {\"error\":{\"message\":\"boom\",\"type\":\"invalid_request_error\",\"code\":400}}\n\n")
			return
		}
		for _, s := range []string{"He", "Hell", "Hello"} {
			fmt.Fprintf(w, "data: {\"text\":%q,\"meta_info\":{\"completion_tokens\":%d}}\n\n", s, len(s))
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}}
	srv := fs.start(t)
	c := Endpoint(srv.URL)
	var pieces []string
	var last ir.MetaInfo
	for ch, err := range c.GenerateStream(context.Background(), &ir.GenRequest{Prompt: ir.Prompt{Text: "x"}, Sampling: ir.DefaultSampling()}) {
		if err != nil {
			t.Fatal(err)
		}
		pieces = append(pieces, ch.Text)
		last = ch.Meta
	}
	if strings.Join(pieces, "|") != "He|ll|o" || last.CompletionTokens != 5 {
		t.Errorf("pieces %q meta %+v", pieces, last)
	}
	if fs.bodies[0]["stream"] != true {
		t.Error("stream flag not sent")
	}
	var err error
	for _, e := range c.GenerateStream(context.Background(), &ir.GenRequest{Prompt: ir.Prompt{Text: "fail"}, Sampling: ir.DefaultSampling()}) {
		err = e
	}
	if !errors.Is(err, ir.ErrBackend) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("stream error: %v", err)
	}
	_, err = c.Generate(context.Background(), &ir.GenRequest{Prompt: ir.Prompt{Text: "x"}, Sampling: ir.DefaultSampling()})
	if !errors.Is(err, ir.ErrBackend) || !strings.Contains(err.Error(), "regex is invalid") || !strings.Contains(err.Error(), "400") {
		t.Errorf("HTTP error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Generate(ctx, &ir.GenRequest{Sampling: ir.DefaultSampling()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Endpoint("http://127.0.0.1:1").ModelInfo(context.Background()); !errors.Is(err, ir.ErrBackend) {
		t.Errorf("unreachable: %v", err)
	}
}

func TestCancelInFlight(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a closed connection only after the body is read
		close(started)
		select { // hold the request until the client goes away
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	c := Endpoint(srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Generate(ctx, &ir.GenRequest{Prompt: ir.Prompt{Text: "x"}, Sampling: ir.DefaultSampling()})
		errc <- err
	}()
	<-started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Generate did not return after cancel")
	}
}

func FuzzSSE(f *testing.F) {
	f.Add("data: {\"text\":\"a\"}\n\ndata: [DONE]\n")
	f.Add("data:x\r\nnoise\ndata: y")
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		for d, err := range sseData(strings.NewReader(s)) {
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(d, "\n") {
				t.Fatalf("payload with newline %q", d)
			}
			n++
		}
		if n > strings.Count(s, "data:") {
			t.Fatalf("%d payloads from %d data: markers", n, strings.Count(s, "data:"))
		}
	})
}
