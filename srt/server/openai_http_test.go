package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
)

func newClient(url, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = url + "/v1"
	return openai.NewClientWithConfig(cfg)
}

func TestGoOpenAI(t *testing.T) {
	ts, eng, _ := testServer(t, Options{APIKey: "sk-1"})
	c := newClient(ts.URL, "sk-1")
	ctx := context.Background()
	msgs := []openai.ChatCompletionMessage{{Role: "user", Content: "Tell me a story"}}

	t.Run("models", func(t *testing.T) {
		ml, err := c.ListModels(ctx)
		if err != nil || len(ml.Models) != 1 || ml.Models[0].ID != "stories" || ml.Models[0].OwnedBy != "sglang" {
			t.Fatalf("models %+v %v", ml, err)
		}
	})
	t.Run("chat", func(t *testing.T) {
		r, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "stories", Messages: msgs,
			MaxTokens: 8, Temperature: 1e-7, Seed: new(int)})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 1 || r.Choices[0].Message.Role != "assistant" || r.Object != "chat.completion" ||
			r.Usage.CompletionTokens == 0 || r.Usage.PromptTokens == 0 || r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
			t.Fatalf("response %+v", r)
		}
		if r.Usage.PromptTokensDetails == nil {
			t.Fatal("usage without prompt_tokens_details")
		}
		if fr := r.Choices[0].FinishReason; fr != "length" && fr != "stop" {
			t.Fatalf("finish_reason %q", fr)
		}
	})
	t.Run("chat n and logprobs", func(t *testing.T) {
		r, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "stories", Messages: msgs,
			MaxTokens: 5, N: 3, LogProbs: true, TopLogProbs: 2, Stop: []string{"zzz"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 3 {
			t.Fatalf("%d choices", len(r.Choices))
		}
		for i, ch := range r.Choices {
			if ch.Index != i || ch.LogProbs == nil || len(ch.LogProbs.Content) == 0 {
				t.Fatalf("choice %d: %+v", i, ch)
			}
			if len(ch.LogProbs.Content) > 5 {
				t.Fatalf("%d logprobs for at most 5 tokens", len(ch.LogProbs.Content))
			}
			for _, lp := range ch.LogProbs.Content {
				if len(lp.TopLogProbs) != 2 || lp.LogProb > 0 || lp.TopLogProbs[0].LogProb < lp.TopLogProbs[1].LogProb {
					t.Fatalf("logprob %+v", lp)
				}
			}
		}
	})
	t.Run("chat stream with usage", func(t *testing.T) {
		full, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "stories", Messages: msgs, MaxTokens: 12, Temperature: 1e-7})
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{Model: "stories", Messages: msgs,
			MaxTokens: 12, Temperature: 1e-7, Stream: true, StreamOptions: &openai.StreamOptions{IncludeUsage: true}})
		if err != nil {
			t.Fatal(err)
		}
		text, role, finish, usage := readChatStream(t, st)
		if text != full.Choices[0].Message.Content || role != "assistant" || finish == "" {
			t.Fatalf("streamed %q role %q finish %q; non-streamed %q", text, role, finish, full.Choices[0].Message.Content)
		}
		if usage == nil || usage.CompletionTokens != full.Usage.CompletionTokens {
			t.Fatalf("usage %+v, want %+v", usage, full.Usage)
		}
	})
	t.Run("completions", func(t *testing.T) {
		r, err := c.CreateCompletion(ctx, openai.CompletionRequest{Model: "stories", Prompt: "Once upon a time",
			MaxTokens: 6, Temperature: 1e-7, LogProbs: 2, N: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 2 || r.Choices[0].Text != r.Choices[1].Text || r.Choices[0].LogProbs.Tokens == nil {
			t.Fatalf("completion %+v", r)
		}
		lp := r.Choices[0].LogProbs
		if len(lp.Tokens) != len(lp.TokenLogprobs) || len(lp.TopLogprobs) != len(lp.Tokens) || len(lp.Tokens) != 6 {
			t.Fatalf("logprobs %+v for %q", lp, r.Choices[0].Text)
		}
		if r.Usage.PromptTokens == 0 || r.Usage.CompletionTokens != 12 {
			t.Fatalf("usage %+v", r.Usage)
		}
	})
	t.Run("completions stream", func(t *testing.T) {
		st, err := c.CreateCompletionStream(ctx, openai.CompletionRequest{Model: "stories", Prompt: "Once upon a time",
			MaxTokens: 6, Temperature: 1e-7, Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var text string
		for {
			ch, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ch.Choices {
				text += c.Text
			}
		}
		out, _ := c.CreateCompletion(ctx, openai.CompletionRequest{Model: "stories", Prompt: "Once upon a time", MaxTokens: 6, Temperature: 1e-7})
		if text == "" || text != out.Choices[0].Text {
			t.Fatalf("streamed %q, want %q", text, out.Choices[0].Text)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := newClient(ts.URL, "bad").ListModels(ctx)
		var re *openai.RequestError
		var ae *openai.APIError
		if !(errors.As(err, &re) && re.HTTPStatusCode == 401) && !(errors.As(err, &ae) && ae.HTTPStatusCode == 401) {
			t.Fatalf("bad key: %v", err)
		}
		_, err = c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "gpt-4o", Messages: msgs})
		if !(errors.As(err, &re) && re.HTTPStatusCode == 404) && !(errors.As(err, &ae) && ae.HTTPStatusCode == 404) {
			t.Fatalf("unknown model: %v", err)
		}
	})
	waitIdle(t, eng)
}

// TestCurl runs the requests of SGLang's docs through curl.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	ts, _, _ := testServer(t, Options{})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"generate", []string{"-s", ts.URL + "/generate", "-H", "Content-Type: application/json", "-d",
			`{"text": "Once upon a time,", "sampling_params": {"max_new_tokens": 16, "temperature": 0}}`}, `"meta_info"`},
		{"generate stream", []string{"-sN", ts.URL + "/generate", "-d",
			`{"text": "Once upon a time,", "sampling_params": {"max_new_tokens": 4}, "stream": true}`}, "data: [DONE]"},
		{"chat", []string{"-s", ts.URL + "/v1/chat/completions", "-H", "Content-Type: application/json", "-d",
			`{"model": "stories", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 8}`}, `"chat.completion"`},
		{"models", []string{"-s", ts.URL + "/v1/models"}, `"owned_by":"sglang"`},
		{"model info", []string{"-s", ts.URL + "/get_model_info"}, `"model_path"`},
		{"health", []string{"-s", "-o", "/dev/null", "-w", "%{http_code}", ts.URL + "/health"}, "200"},
		{"flush", []string{"-s", "-X", "POST", ts.URL + "/flush_cache"}, "Cache flushed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(curl, tc.args...).Output()
			if err != nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("curl: %v: %s (want %q)", err, out, tc.want)
			}
		})
	}
}

func TestNetHTTPChatRaw(t *testing.T) {
	ts, _, _ := testServer(t, Options{})
	body := `{"model": null, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user",
		"content": [{"type": "text", "text": "Hi"}]}], "max_tokens": 4, "temperature": null, "top_p": null,
		"n": null, "stop": null, "seed": 1, "logprobs": null, "stream_options": null, "top_k": 5, "min_p": 0.1,
		"min_tokens": 2, "repetition_penalty": 1.1, "stop_token_ids": [], "ignore_eos": true, "chat_template_kwargs": {}}`
	st, b := call(t, "POST", ts.URL+"/v1/chat/completions", body)
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, b)
	}
	cc := decode[ChatCompletion](t, b)
	if len(cc.Choices) != 1 || cc.Usage.CompletionTokens != 4 || cc.Choices[0].FinishReason == nil || *cc.Choices[0].FinishReason != "length" {
		t.Fatalf("%s", b)
	}
	// The same prompt again is served from the radix cache.
	st, b = call(t, "POST", ts.URL+"/v1/chat/completions", body)
	if cc := decode[ChatCompletion](t, b); st != 200 || cc.Usage.PromptTokensDetails.CachedTokens == 0 {
		t.Fatalf("repeat: %d %s", st, b)
	}
	// continue_final_message leaves the assistant turn open.
	body = `{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Once upon"}],
		"continue_final_message": true, "max_tokens": 2}`
	if st, b := call(t, "POST", ts.URL+"/v1/chat/completions", body); st != 200 {
		t.Fatalf("continue_final_message: %d %s", st, b)
	}
}

// TestQwenChat serves the Qwen3-templated tiny model: ChatML prompts with
// chat_template_kwargs, through go-openai.
func TestQwenChat(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 151k-token tokenizer")
	}
	dir := shared.Path(t, "models", "tiny-random-qwen2")
	cc, err := LoadChatConfig(dir, "", "")
	if err != nil || cc.Template == nil {
		t.Fatalf("%+v %v", cc, err)
	}
	ts, _, _ := testServer(t, Options{ChatTemplate: cc.Template, BOS: cc.BOS, EOS: cc.EOS}, func(o *srt.Options) { o.ModelPath = dir })
	st, b := call(t, "POST", ts.URL+"/v1/tokenize", `{"messages": [{"role": "user", "content": "Hi"}]}`)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	r, err := newClient(ts.URL, "").CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{Model: "stories",
		Messages:  []openai.ChatCompletionMessage{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}},
		MaxTokens: 3, ChatTemplateKwargs: map[string]any{"enable_thinking": false}})
	if err != nil || r.Usage.CompletionTokens == 0 {
		t.Fatalf("%+v %v", r, err)
	}
}

// readChatStream reads a go-openai chat stream to its end and returns the
// joined content, the role and finish reason it named, and the usage chunk.
func readChatStream(t *testing.T, st *openai.ChatCompletionStream) (text, role, finish string, usage *openai.Usage) {
	t.Helper()
	defer st.Close()
	for {
		ch, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return text, role, finish, usage
		}
		if err != nil {
			t.Fatal(err)
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
		for _, c := range ch.Choices {
			text += c.Delta.Content
			if c.Delta.Role != "" {
				role = c.Delta.Role
			}
			if c.FinishReason != "" {
				finish = string(c.FinishReason)
			}
		}
	}
}
