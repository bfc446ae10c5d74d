package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sglang-go/sglang/sgl/ir"
)

type recorder struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func server(t *testing.T, rec *recorder) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, body)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/chat/completions":
			if body["stream"] == true {
				w.Header().Set("Content-Type", "text/event-stream")
				for _, p := range []string{"Pa", "ris"} {
					fmt.Fprintf(w, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", p)
				}
				fmt.Fprint(w, "data: [DONE]\n\n")
				return
			}
			fmt.Fprint(w, `{"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"Paris"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1}}`)
		case "/v1/completions":
			prompt, _ := body["prompt"].(string)
			if body["echo"] == true {
				// one token per word, each with logprob -1 (choice "b" gets -0.1)
				var toks []string
				var lps []float64
				var offs []int
				off := 0
				for _, w := range strings.SplitAfter(prompt, " ") {
					if w == "" {
						continue
					}
					toks, offs = append(toks, w), append(offs, off)
					lp := -1.0
					if strings.TrimSpace(w) == "b" {
						lp = -0.1
					}
					lps = append(lps, lp)
					off += len(w)
				}
				b, _ := json.Marshal(map[string]any{"id": "e", "choices": []any{map[string]any{"text": prompt,
					"logprobs": map[string]any{"tokens": toks, "token_logprobs": lps, "text_offset": offs}}}})
				w.Write(b)
				return
			}
			fmt.Fprint(w, `{"id":"p1","choices":[{"index":0,"text":" done","finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

func TestChat(t *testing.T) {
	rec := &recorder{}
	b := New("gpt-4o-mini", WithBaseURL(server(t, rec)), WithAPIKey("k"))
	if !b.IsChat() {
		t.Fatal("gpt-4o-mini is a chat model")
	}
	tmpl, _ := b.ChatTemplate(context.Background())
	if tmpl.Name != "default" {
		t.Errorf("template %s", tmpl.Name)
	}
	s := ir.DefaultSampling()
	s.Temperature, s.MaxNewTokens, s.Stop = 0, 8, []string{"<|im_end|>"}
	req := &ir.GenRequest{Prompt: ir.Prompt{Role: "assistant", Messages: []ir.Message{{Role: "user", Content: "Capital?"},
		{Role: "user", Content: []ir.Part{{Type: "text", Text: "see"}, {Type: "image_url", ImageURL: &ir.ImageURL{URL: "data:image/jpeg;base64,AA=="}}}}}}, Sampling: s}
	res, err := b.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Paris" || res.Meta.PromptTokens != 9 || res.Meta.FinishReason.Type != "stop" {
		t.Errorf("result %+v", res)
	}
	body := rec.bodies[0]
	msgs := body["messages"].([]any)
	if body["model"] != "gpt-4o-mini" || body["max_tokens"] != 8.0 || len(msgs) != 2 || body["temperature"] == nil {
		t.Errorf("body %v", body)
	}
	if parts, ok := msgs[1].(map[string]any)["content"].([]any); !ok || len(parts) != 2 {
		t.Errorf("image message %v", msgs[1])
	}
	var sb strings.Builder
	for ch, err := range b.GenerateStream(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteString(ch.Text)
	}
	if sb.String() != "Paris" {
		t.Errorf("stream %q", sb.String())
	}
	// Gen not right after the assistant begins, regex, select: clear errors.
	bad := *req
	bad.Prompt.RoleText = "The answer is"
	if _, err := b.Generate(context.Background(), &bad); !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("mid-turn gen: %v", err)
	}
	re := *req
	x := "[0-9]+"
	re.Sampling.Regex = &x
	if _, err := b.Generate(context.Background(), &re); !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("regex: %v", err)
	}
	if _, err := b.ScoreChoices(context.Background(), &ir.Prompt{}, []string{"a"}, false); !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("chat select: %v", err)
	}
}

func TestCompletionSelect(t *testing.T) {
	rec := &recorder{}
	b := New("gpt-3.5-turbo-instruct", WithBaseURL(server(t, rec)))
	if b.IsChat() {
		t.Fatal("instruct model taken as chat")
	}
	res, err := b.Generate(context.Background(), &ir.GenRequest{Prompt: ir.Prompt{Text: "Go"}, Sampling: ir.DefaultSampling()})
	if err != nil || res.Text != " done" {
		t.Fatalf("%v %v", res, err)
	}
	if rec.bodies[0]["prompt"] != "Go" {
		t.Errorf("prompt %v", rec.bodies[0])
	}
	lp, err := b.ScoreChoices(context.Background(), &ir.Prompt{Text: "pick one: "}, []string{"a x", "b x"}, true)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ir.Decide(ir.TokenLengthNormalized, []string{"a x", "b x"}, lp)
	if err != nil || d.Choice != "b x" || len(lp.Input[0]) != 2 || len(lp.Unconditional[1]) != 2 {
		t.Errorf("decision %+v %v, logprobs %+v", d, err, lp)
	}
}
