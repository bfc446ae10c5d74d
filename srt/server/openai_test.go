package server

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

// A tiny ChatML-like template for translation tests.
const testTemplate = `{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}`

func chatCfg(t *testing.T) ChatConfig {
	t.Helper()
	tmpl, err := chat.Parse("test", testTemplate)
	if err != nil {
		t.Fatal(err)
	}
	return ChatConfig{Template: tmpl}
}

func parseChat(t *testing.T, body string) *ChatRequest {
	t.Helper()
	var r ChatRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestFromChatRequest(t *testing.T) {
	cfg := chatCfg(t)
	user := `"messages": [{"role": "user", "content": "Hi"}]`
	for _, tc := range []struct {
		name, body string
		prompt     string
		n          int
		check      func(t *testing.T, r *srt.GenerateRequest)
		err        error
		msg        string
	}{
		{name: "plain", body: `{` + user + `}`, prompt: "<|user|>Hi<|end|><|assistant|>", n: 1,
			check: func(t *testing.T, r *srt.GenerateRequest) {
				want := srt.DefaultSamplingParams()
				want.MaxNewTokens = ChatMaxTokens
				if !reflect.DeepEqual(r.Sampling, want) || r.ReturnLogprob {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "parts and system", body: `{"messages": [{"role": "system", "content": null}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}`,
			prompt: "<|system|>None<|end|><|user|>a\nb<|end|><|assistant|>", n: 1},
		{name: "openai fields", body: `{` + user + `, "max_tokens": 5, "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9,
			"n": 2, "stop": ["x", "y"], "seed": 3, "presence_penalty": 0.1, "frequency_penalty": 0.2, "logprobs": true, "top_logprobs": 4,
			"top_k": 10, "min_p": 0.05, "min_tokens": 2, "repetition_penalty": 1.1, "stop_token_ids": [9], "ignore_eos": true, "rid": "r"}`,
			prompt: "<|user|>Hi<|end|><|assistant|>", n: 2, check: func(t *testing.T, r *srt.GenerateRequest) {
				seed := uint64(3)
				want := srt.SamplingParams{MaxNewTokens: 7, MinNewTokens: 2, Temperature: 0.5, TopP: 0.9, TopK: 10, MinP: 0.05,
					RepetitionPenalty: 1.1, FrequencyPenalty: 0.2, PresencePenalty: 0.1, Stop: []string{"x", "y"},
					StopTokenIDs: []int32{9}, IgnoreEOS: true, SkipSpecialTokens: true, Seed: &seed}
				if !reflect.DeepEqual(r.Sampling, want) || !r.ReturnLogprob || r.TopLogprobsNum != 4 || !r.ReturnTextInLogprobs || r.RID != "r" {
					t.Fatalf("got %+v\nwant %+v", r, want)
				}
			}},
		{name: "nulls", body: `{` + user + `, "max_tokens": null, "temperature": null, "n": null, "stop": null, "logprobs": null,
			"top_logprobs": null, "tools": null, "tool_choice": null, "response_format": null, "stream_options": null, "logit_bias": null}`,
			prompt: "<|user|>Hi<|end|><|assistant|>", n: 1},
		{name: "continue final", body: `{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Once"}], "continue_final_message": true}`,
			prompt: "<|user|>Hi<|end|><|assistant|>Once", n: 1},
		{name: "kwargs", body: `{` + user + `, "chat_template_kwargs": {"enable_thinking": false}}`, prompt: "<|user|>Hi<|end|><|assistant|>", n: 1},
		{name: "image", body: `{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}`,
			err: ErrBadRequest, msg: "does not support images"},
		{name: "bad role", body: `{"messages": [{"role": "robot", "content": "x"}]}`, err: ErrBadRequest, msg: "role"},
		{name: "no messages", body: `{"messages": []}`, err: ErrBadRequest, msg: "empty"},
		{name: "continue without assistant", body: `{` + user + `, "continue_final_message": true}`, err: ErrBadRequest, msg: "assistant"},
		{name: "ebnf", body: `{` + user + `, "ebnf": "root ::= x"}`, err: ErrNotSupported, msg: "ebnf"},
		{name: "json_schema without schema", body: `{` + user + `, "response_format": {"type": "json_schema"}}`, err: ErrBadRequest, msg: "schema is required"},
		{name: "text response", body: `{` + user + `, "response_format": {"type": "text"}}`, prompt: "<|user|>Hi<|end|><|assistant|>", n: 1},
		{name: "logit bias", body: `{` + user + `, "logit_bias": {"5": 1}}`, err: ErrNotSupported},
		{name: "top_logprobs without logprobs", body: `{` + user + `, "top_logprobs": 2}`, err: ErrBadRequest},
		{name: "top_logprobs range", body: `{` + user + `, "logprobs": true, "top_logprobs": 21}`, err: ErrBadRequest},
		{name: "temperature range", body: `{` + user + `, "temperature": -1}`, err: ErrBadRequest, msg: "temperature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, n, err := FromChatRequest(parseChat(t, tc.body), cfg)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %v, want %v with %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Text != tc.prompt || n != tc.n {
				t.Fatalf("prompt %q n %d; want %q %d", r.Text, n, tc.prompt, tc.n)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if _, _, err := FromChatRequest(parseChat(t, `{`+user+`}`), ChatConfig{}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("no template: %v", err)
	}
}

func TestFromCompletionRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		prompts    []Prompt
		n          int
		maxNew     int
		err        bool
	}{
		{"string", `{"prompt": "a"}`, []Prompt{{Text: "a"}}, 1, 16, false},
		{"strings", `{"prompt": ["a", "b"], "max_tokens": 3, "n": 2}`, []Prompt{{Text: "a"}, {Text: "b"}}, 2, 3, false},
		{"ids", `{"prompt": [1, 2]}`, []Prompt{{IDs: []int32{1, 2}}}, 1, 16, false},
		{"id lists", `{"prompt": [[1], [2, 3]]}`, []Prompt{{IDs: []int32{1}}, {IDs: []int32{2, 3}}}, 1, 16, false},
		{"null max_tokens", `{"prompt": "a", "max_tokens": null}`, []Prompt{{Text: "a"}}, 1, 16, false},
		{"no prompt", `{}`, nil, 0, 0, true},
		{"bad prompt", `{"prompt": {"x": 1}}`, nil, 0, 0, true},
		{"empty id list", `{"prompt": [[1], []]}`, nil, 0, 0, true},
		{"suffix", `{"prompt": "a", "suffix": "b"}`, nil, 0, 0, true},
		{"logprobs range", `{"prompt": "a", "logprobs": 6}`, nil, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r CompletionRequest
			if err := json.Unmarshal([]byte(tc.body), &r); err != nil {
				t.Fatal(err)
			}
			reqs, n, err := FromCompletionRequest(&r)
			if tc.err {
				if err == nil || statusOf(err) != 400 {
					t.Fatalf("want a 400 error, got %v", err)
				}
				return
			}
			if err != nil || n != tc.n || len(reqs) != len(tc.prompts) {
				t.Fatalf("%d reqs, n %d, %v", len(reqs), n, err)
			}
			for i, p := range tc.prompts {
				if reqs[i].Text != p.Text || !reflect.DeepEqual(reqs[i].InputIDs, p.IDs) || reqs[i].Sampling.MaxNewTokens != tc.maxNew {
					t.Fatalf("req %d: %+v", i, reqs[i])
				}
			}
		})
	}
}

func str(s string) *string { return &s }

// finished makes an output as the engine would.
func finished(text string, ids []int32, prompt, cached int, fr *srt.FinishReason) *srt.GenerateOutput {
	return &srt.GenerateOutput{Text: text, OutputIDs: ids, Finished: true, MetaInfo: srt.MetaInfo{
		FinishReason: fr, PromptTokens: prompt, CompletionTokens: len(ids), CachedTokens: cached}}
}

func TestToChatCompletion(t *testing.T) {
	o1 := finished("Hello", []int32{5, 6}, 10, 4, &srt.FinishReason{Type: "stop", Matched: "\n"})
	o2 := finished("Hey", []int32{7}, 10, 8, &srt.FinishReason{Type: "length", Length: 1})
	o1.MetaInfo.OutputTokenLogprobs = []srt.TokenLogprob{{Logprob: -0.5, ID: 5, Text: str("Hel")}, {Logprob: -1, ID: 6, Text: str("lo")}}
	o1.MetaInfo.OutputTopLogprobs = [][]srt.TokenLogprob{{{Logprob: -0.5, ID: 5, Text: str("Hel")}}, {{Logprob: -1, ID: 6, Text: str("lo")}}}
	cc := ToChatCompletion("id1", "m", 42, []*srt.GenerateOutput{o1, o2}, 2, true)
	if cc.Object != "chat.completion" || cc.ID != "id1" || cc.Model != "m" || cc.Created != 42 || len(cc.Choices) != 2 {
		t.Fatalf("%+v", cc)
	}
	want := Usage{PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13, PromptTokensDetails: &PromptTokensDetails{CachedTokens: 12}}
	if !reflect.DeepEqual(*cc.Usage, want) {
		t.Fatalf("usage %+v", *cc.Usage)
	}
	c0 := cc.Choices[0]
	if *c0.Message.Content != "Hello" || *c0.FinishReason != "stop" || c0.MatchedStop != "\n" || c0.Message.Role != "assistant" {
		t.Fatalf("%+v", c0)
	}
	lp := c0.Logprobs.Content
	if len(lp) != 2 || lp[0].Token != "Hel" || lp[1].Logprob != -1 || !reflect.DeepEqual(lp[1].Bytes, []int{'l', 'o'}) || len(lp[0].TopLogprobs) != 1 {
		t.Fatalf("logprobs %+v", lp)
	}
	if c1 := cc.Choices[1]; c1.Index != 1 || *c1.FinishReason != "length" || c1.MatchedStop != nil {
		t.Fatalf("%+v", c1)
	}
	b, _ := json.Marshal(cc)
	for _, key := range []string{`"matched_stop":"\n"`, `"prompt_tokens_details":{"cached_tokens":12}`, `"matched_stop":null`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	c := ToChatCompletion("i", "m", 0, []*srt.GenerateOutput{o2}, 1, false)
	if b, _ := json.Marshal(c); c.Choices[0].Logprobs != nil || !strings.Contains(string(b), `"logprobs":null`) {
		t.Fatalf("logprobs without asking: %s", b)
	}
}

func TestToCompletion(t *testing.T) {
	o := finished(" there", []int32{1, 2}, 3, 0, &srt.FinishReason{Type: "stop", Matched: int32(2)})
	o.MetaInfo.OutputTokenLogprobs = []srt.TokenLogprob{{Logprob: -0.25, ID: 1, Text: str(" the")}, {Logprob: float32(math.NaN()), ID: 2, Text: str("re")}}
	o.MetaInfo.OutputTopLogprobs = [][]srt.TokenLogprob{{{Logprob: -0.25, ID: 1, Text: str(" the")}, {Logprob: -2, ID: 3, Text: str(" a")}}, {}}
	c := ToCompletion("c", "m", 1, []*srt.GenerateOutput{o}, 1, true, []string{"Hi"})
	ch := c.Choices[0]
	if c.Object != "text_completion" || ch.Text != "Hi there" || *ch.FinishReason != "stop" || ch.MatchedStop != int32(2) {
		t.Fatalf("%+v", c)
	}
	lp := ch.Logprobs
	if !reflect.DeepEqual(lp.Tokens, []string{" the", "re"}) || *lp.TokenLogprobs[0] != -0.25 || !reflect.DeepEqual(lp.TextOffset, []int{2, 6}) ||
		lp.TopLogprobs[0][" a"] != -2 || len(lp.TopLogprobs[1]) != 0 || *lp.TokenLogprobs[1] != -9999 {
		t.Fatalf("logprobs %+v", lp)
	}
}

func TestChunks(t *testing.T) {
	steps := []*srt.GenerateOutput{
		{Text: "He", OutputIDs: []int32{1}, MetaInfo: srt.MetaInfo{OutputTokenLogprobs: []srt.TokenLogprob{{Logprob: -1, ID: 1, Text: str("He")}}}},
		{Text: "Hello", OutputIDs: []int32{1, 2}, MetaInfo: srt.MetaInfo{OutputTokenLogprobs: []srt.TokenLogprob{{Logprob: -1, ID: 1, Text: str("He")}, {Logprob: -2, ID: 2, Text: str("llo")}}}},
		finished("Hello", []int32{1, 2}, 3, 0, &srt.FinishReason{Type: "length", Length: 2}),
	}
	steps[2].MetaInfo.OutputTokenLogprobs = steps[1].MetaInfo.OutputTokenLogprobs
	var st StreamState
	var deltas []string
	var lps int
	var finish *string
	for _, o := range steps {
		c := ToChatChunk("id", "m", 5, 3, o, &st, true)
		if c.Object != "chat.completion.chunk" || c.Choices[0].Index != 3 || c.Choices[0].Delta.Role != "" {
			t.Fatalf("%+v", c)
		}
		deltas = append(deltas, *c.Choices[0].Delta.Content)
		lps += len(c.Choices[0].Logprobs.Content)
		if c.Choices[0].FinishReason != nil {
			finish = c.Choices[0].FinishReason
		}
	}
	if !reflect.DeepEqual(deltas, []string{"He", "llo", ""}) || lps != 2 || finish == nil || *finish != "length" {
		t.Fatalf("deltas %q logprobs %d finish %v", deltas, lps, finish)
	}
	if r := ToRoleChunk("id", "m", 5, 1); r.Choices[0].Delta.Role != "assistant" || *r.Choices[0].Delta.Content != "" {
		t.Fatalf("%+v", r)
	}
	st = StreamState{}
	var texts []string
	var offsets []int
	for _, o := range steps {
		c := ToCompletionChunk("id", "m", 5, 0, o, &st, true)
		texts = append(texts, c.Choices[0].Text)
		offsets = append(offsets, c.Choices[0].Logprobs.TextOffset...)
	}
	if !reflect.DeepEqual(texts, []string{"He", "llo", ""}) || !reflect.DeepEqual(offsets, []int{0, 2}) {
		t.Fatalf("texts %q offsets %v", texts, offsets)
	}
}

func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{badRequest("x"), 400},
		{ErrNotSupported, 400},
		{srt.ErrInvalidRequest, 400},
		{srt.ErrContextLength, 400},
		{srt.ErrNoTokenizer, 400},
		{srt.ErrBusy, 400},
		{srt.ErrClosed, 503},
		{ErrNotReady, 503},
		{ErrOverloaded, 503},
		{ErrModelNotFound, 404},
		{errors.New("boom"), 500},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestLoadChatConfig(t *testing.T) {
	dir := shared.Path(t, "models", "stories260K")
	cfg, err := LoadChatConfig(dir, "", "")
	if err != nil || cfg.Template == nil || cfg.BOS != "<s>" || cfg.EOS != "</s>" {
		t.Fatalf("%+v %v", cfg, err)
	}
	out, err := RenderChat(cfg, []chat.Message{{Role: "user", Content: "Hi"}}, nil, nil, false)
	if err != nil || out != "<s>[INST] Hi [/INST]" {
		t.Fatalf("%q %v", out, err)
	}
	qwen := shared.Path(t, "models", "tiny-random-qwen2")
	cfg, err = LoadChatConfig(qwen, "", "")
	if err != nil || cfg.Template == nil {
		t.Fatalf("qwen: %+v %v", cfg, err)
	}
	out, err = RenderChat(cfg, []chat.Message{{Role: "user", Content: "Hi"}}, nil, map[string]any{"enable_thinking": false}, false)
	if err != nil || !strings.HasSuffix(out, "<|im_start|>assistant\n<think>\n\n</think>\n\n") {
		t.Fatalf("qwen render %q %v", out, err)
	}
	if _, err := LoadChatConfig(dir, "/nonexistent.jinja", ""); err == nil {
		t.Fatal("missing template file accepted")
	}
	if cfg, err := LoadChatConfig(t.TempDir(), "", ""); err != nil || cfg.Template != nil {
		t.Fatalf("folder without config: %+v %v", cfg, err)
	}
	// --chat-template NAME picks a built-in over the model's own.
	cfg, err = LoadChatConfig(dir, "chatml", "")
	if err != nil || cfg.Template == nil {
		t.Fatalf("chatml: %+v %v", cfg, err)
	}
	out, err = RenderChat(cfg, []chat.Message{{Role: "user", Content: "Hi"}}, nil, nil, false)
	if err != nil || !strings.Contains(out, "<|im_start|>user\nHi<|im_end|>") || !strings.HasSuffix(out, "<|im_start|>assistant\n") {
		t.Fatalf("chatml render %q %v", out, err)
	}
	// A GGUF file's own template is used when given.
	cfg, err = LoadChatConfig(filepath.Join(dir, "stories260K-f32.gguf"), "", "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}")
	if err != nil || cfg.Template == nil {
		t.Fatalf("gguf template: %+v %v", cfg, err)
	}
	if out, _ = RenderChat(cfg, []chat.Message{{Role: "user", Content: "Hi"}}, nil, nil, false); out != "<user>Hi" {
		t.Fatalf("gguf template render %q", out)
	}
}

func FuzzParseMessages(f *testing.F) {
	f.Add(`[{"role": "user", "content": "hi"}]`)
	f.Add(`[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}, {"type": "text", "text": "what?"}]}]`)
	f.Add(`[{"role": "assistant", "content": null, "tool_calls": [{"id": "1"}]}, {"role": "tool", "content": [{"type": "text", "text": "x"}], "tool_call_id": "1"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		var raw []json.RawMessage
		if json.Unmarshal([]byte(s), &raw) != nil {
			return
		}
		msgs, images, err := parseMessages(raw)
		if err != nil {
			if statusOf(err) != 400 {
				t.Fatalf("status %d: %v", statusOf(err), err)
			}
			return
		}
		if len(msgs) != len(raw) {
			t.Fatalf("%d messages from %d", len(msgs), len(raw))
		}
		if want := strings.Count(s, `"image_url"`); len(images) > want {
			t.Fatalf("%d images from %d image_url mentions", len(images), want)
		}
	})
}

func FuzzParsePrompts(f *testing.F) {
	for _, s := range []string{`"a"`, `["a","b"]`, `[1,2]`, `[[1],[2]]`, `null`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parsePrompts(json.RawMessage(s))
		if err != nil {
			if statusOf(err) != 400 {
				t.Fatalf("status %d", statusOf(err))
			}
			return
		}
		if len(ps) == 0 {
			t.Fatal("no prompts and no error")
		}
	})
}
