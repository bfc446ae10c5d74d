package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

// ChatMaxTokens is the max_new_tokens of a chat request without
// max_tokens: the engine caps it at the context length.
const ChatMaxTokens = 1 << 30

// ChatConfig is what FromChatRequest needs to render a prompt.
type ChatConfig struct {
	Template *chat.Template
	BOS, EOS string
	// Vision says the model takes images; without it image parts are a 400.
	Vision bool
}

// toSampling converts the shared OpenAI fields; maxTokens is the default
// for an absent max_tokens (0 = the engine default).
func (f *samplingFields) toSampling(maxTokens *int) (srt.SamplingParams, int, error) {
	ns := NativeSampling{MaxNewTokens: maxTokens, MinNewTokens: f.MinTokens, Temperature: f.Temperature,
		TopP: f.TopP, TopK: f.TopK, MinP: f.MinP, RepetitionPenalty: f.RepetitionPenalty,
		FrequencyPenalty: f.FrequencyPenalty, PresencePenalty: f.PresencePenalty, Stop: f.Stop,
		StopTokenIDs: f.StopTokenIDs, IgnoreEOS: f.IgnoreEOS, SkipSpecialTokens: f.SkipSpecialTokens,
		N: f.N, SamplingSeed: f.Seed, Regex: f.Regex, EBNF: f.EBNF, JSONSchema: f.JSONSchema}
	if !isNull(f.LogitBias) && !bytes.Equal(bytes.TrimSpace(f.LogitBias), []byte("{}")) {
		return srt.SamplingParams{}, 0, fmt.Errorf("%w: logit_bias", ErrNotSupported)
	}
	if !isNull(f.ResponseFormat) {
		schema, err := responseFormatSchema(f.ResponseFormat)
		if err != nil {
			return srt.SamplingParams{}, 0, err
		}
		if schema != nil {
			if !isNull(ns.JSONSchema) || (ns.Regex != nil && *ns.Regex != "") {
				return srt.SamplingParams{}, 0, badRequest("response_format: give either response_format or regex/json_schema")
			}
			ns.JSONSchema = schema
		}
	}
	return ns.Params()
}

// responseFormatSchema reads OpenAI's response_format: "text" constrains
// nothing, "json_object" any JSON object (as SGLang does, the schema
// {"type":"object"}), and "json_schema" the schema under json_schema.schema.
func responseFormatSchema(raw json.RawMessage) (json.RawMessage, error) {
	var rf struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
			Strict *bool           `json:"strict"`
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return nil, badRequest("response_format: %v", err)
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"object"}`), nil
	case "json_schema":
		if rf.JSONSchema == nil || isNull(rf.JSONSchema.Schema) {
			return nil, badRequest("response_format: json_schema.schema is required")
		}
		if t := bytes.TrimSpace(rf.JSONSchema.Schema); t[0] != '{' {
			return nil, badRequest("response_format: json_schema.schema must be an object")
		}
		return rf.JSONSchema.Schema, nil
	}
	return nil, fmt.Errorf("%w: response_format %q (json_object and json_schema are)", ErrNotSupported, rf.Type)
}

// parseMessages reads OpenAI chat messages into template messages, and
// returns the image_url parts' URLs in order. A message with images keeps
// its content parts (the template renders each image's placeholder); a
// text-only list of parts becomes one string, as SGLang does for templates
// that expect string content (most do).
func parseMessages(raw []json.RawMessage) ([]chat.Message, []string, error) {
	msgs := make([]chat.Message, 0, len(raw))
	var images []string
	for i, r := range raw {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil || m == nil {
			return nil, nil, badRequest("messages[%d]: want an object", i)
		}
		var cm chat.Message
		if err := json.Unmarshal(m["role"], &cm.Role); err != nil || cm.Role == "" {
			return nil, nil, badRequest("messages[%d]: role must be a string", i)
		}
		switch cm.Role {
		case "system", "user", "assistant", "tool", "developer", "function":
		default:
			return nil, nil, badRequest("messages[%d]: unknown role %q", i, cm.Role)
		}
		if c, ok := m["content"]; ok && !isNullJSON(c) {
			content, imgs, err := parseContent(c, i)
			if err != nil {
				return nil, nil, err
			}
			cm.Content = content
			images = append(images, imgs...)
		}
		for k, v := range m {
			if isNullJSON(v) {
				continue
			}
			var err error
			switch k {
			case "role", "content":
			case "name":
				err = json.Unmarshal(v, &cm.Name)
			case "tool_call_id":
				err = json.Unmarshal(v, &cm.ToolCallID)
			case "tool_calls":
				var calls []json.RawMessage
				err = json.Unmarshal(v, &calls)
				for _, c := range calls {
					cm.ToolCalls = append(cm.ToolCalls, c)
				}
			default:
				var x any
				err = json.Unmarshal(v, &x)
				if cm.Extra == nil {
					cm.Extra = map[string]any{}
				}
				cm.Extra[k] = x
			}
			if err != nil {
				return nil, nil, badRequest("messages[%d].%s: %v", i, k, err)
			}
		}
		msgs = append(msgs, cm)
	}
	return msgs, images, nil
}

// parseContent reads message i's content: a string, or a list of text and
// image_url parts.
func parseContent(c json.RawMessage, i int) (content any, images []string, err error) {
	var s string
	if err := json.Unmarshal(c, &s); err == nil {
		return s, nil, nil
	}
	var parts []chat.Part
	if err := json.Unmarshal(c, &parts); err != nil {
		return nil, nil, badRequest("messages[%d].content: want a string or a list of content parts", i)
	}
	for j, p := range parts {
		switch p.Type {
		case "text":
		case "image_url":
			if p.ImageURL == nil || strings.TrimSpace(p.ImageURL.URL) == "" {
				return nil, nil, badRequest("messages[%d].content[%d]: image_url.url is required", i, j)
			}
			images = append(images, p.ImageURL.URL)
		default:
			return nil, nil, badRequest("messages[%d].content[%d]: unsupported content part type %q (text and image_url are)", i, j, p.Type)
		}
	}
	if len(images) > 0 {
		return parts, images, nil
	}
	texts := make([]string, len(parts))
	for j, p := range parts {
		texts[j] = p.Text
	}
	return strings.Join(texts, "\n"), nil, nil
}

func isNullJSON(b json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// contentText joins a message's text.
func contentText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []chat.Part:
		var sb strings.Builder
		for _, p := range v {
			sb.WriteString(p.Text)
		}
		return sb.String()
	}
	return ""
}

// RenderChat renders msgs with the template. With continueFinal the last
// (assistant) message is left open so the model continues it.
func RenderChat(cfg ChatConfig, msgs []chat.Message, tools []any, kwargs map[string]any, continueFinal bool) (string, error) {
	if cfg.Template == nil {
		return "", badRequest("the model has no chat template; pass --chat-template")
	}
	if len(msgs) == 0 {
		return "", badRequest("messages must not be empty")
	}
	last := msgs[len(msgs)-1]
	if continueFinal && last.Role != "assistant" {
		return "", badRequest("continue_final_message needs the last message to be from the assistant")
	}
	genPrompt := last.Role != "assistant"
	out, err := cfg.Template.Render(msgs, chat.Options{AddGenerationPrompt: genPrompt, Tools: tools,
		BOS: cfg.BOS, EOS: cfg.EOS, Extra: kwargs})
	if err != nil {
		return "", err
	}
	if continueFinal {
		final := strings.TrimSpace(contentText(last.Content))
		if i := strings.LastIndex(out, final); final != "" && i >= 0 {
			out = out[:i+len(final)]
		}
	}
	return out, nil
}

// FromChatRequest translates a chat request into one engine request whose
// Text is the rendered prompt (to be tokenized without special tokens, as
// the template already holds them), and the number of samples n.
func FromChatRequest(r *ChatRequest, cfg ChatConfig) (*srt.GenerateRequest, int, error) {
	maxTok := r.MaxCompletionTokens
	if maxTok == nil {
		maxTok = r.MaxTokens
	}
	if maxTok == nil {
		// As SGLang: no max_tokens means up to the end of the context.
		unlimited := ChatMaxTokens
		maxTok = &unlimited
	}
	p, n, err := r.toSampling(maxTok)
	if err != nil {
		return nil, 0, err
	}
	msgs, images, err := parseMessages(r.Messages)
	if err != nil {
		return nil, 0, err
	}
	if len(images) > 0 && !cfg.Vision {
		return nil, 0, badRequest("the model does not support images (image_url parts need a vision-language model such as Qwen2-VL)")
	}
	var tools []any
	for _, t := range r.Tools {
		tools = append(tools, t)
	}
	if tc := bytes.TrimSpace(r.ToolChoice); len(tc) > 0 && !isNull(tc) && string(tc) != `"none"` && string(tc) != `"auto"` {
		return nil, 0, fmt.Errorf("%w: tool_choice %s", ErrNotSupported, tc)
	}
	text, err := RenderChat(cfg, msgs, tools, r.ChatTemplateKwargs, r.ContinueFinalMessage != nil && *r.ContinueFinalMessage)
	if err != nil {
		return nil, 0, err
	}
	req := &srt.GenerateRequest{Text: text, Sampling: p, LogprobStartLen: -1, ImageData: images}
	if r.Logprobs != nil && *r.Logprobs {
		req.ReturnLogprob, req.ReturnTextInLogprobs = true, true
		if r.TopLogprobs != nil {
			if *r.TopLogprobs < 0 || *r.TopLogprobs > 20 {
				return nil, 0, badRequest("top_logprobs must be in [0, 20], got %d", *r.TopLogprobs)
			}
			req.TopLogprobsNum = *r.TopLogprobs
		}
	} else if r.TopLogprobs != nil && *r.TopLogprobs > 0 {
		return nil, 0, badRequest("top_logprobs needs logprobs to be true")
	}
	if r.RID != nil {
		req.RID = *r.RID
	}
	return req, n, nil
}

// Prompt is one completions prompt: text or token ids.
type Prompt struct {
	Text string
	IDs  []int32
}

// parsePrompts reads completions' prompt: a string, a list of strings, a
// list of ids, or a list of id lists.
func parsePrompts(raw json.RawMessage) ([]Prompt, error) {
	if isNullJSON(raw) || len(bytes.TrimSpace(raw)) == 0 {
		return nil, badRequest("prompt is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Prompt{{Text: s}}, nil
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil && len(ss) > 0 {
		out := make([]Prompt, len(ss))
		for i, t := range ss {
			out[i] = Prompt{Text: t}
		}
		return out, nil
	}
	var ids []int32
	if json.Unmarshal(raw, &ids) == nil && len(ids) > 0 {
		return []Prompt{{IDs: ids}}, nil
	}
	var lists [][]int32
	if json.Unmarshal(raw, &lists) == nil && len(lists) > 0 {
		out := make([]Prompt, len(lists))
		for i, l := range lists {
			if len(l) == 0 {
				return nil, badRequest("prompt[%d] is empty", i)
			}
			out[i] = Prompt{IDs: l}
		}
		return out, nil
	}
	return nil, badRequest("prompt: want a string, a list of strings, a list of token ids, or a list of such lists")
}

// FromCompletionRequest translates a completions request into one engine
// request per prompt, and the number of samples n of each.
func FromCompletionRequest(r *CompletionRequest) ([]*srt.GenerateRequest, int, error) {
	maxTok := r.MaxTokens
	if maxTok == nil {
		def := 16 // OpenAI's and SGLang's completions default
		maxTok = &def
	}
	p, n, err := r.toSampling(maxTok)
	if err != nil {
		return nil, 0, err
	}
	if r.Suffix != nil && *r.Suffix != "" {
		return nil, 0, fmt.Errorf("%w: suffix", ErrNotSupported)
	}
	if r.BestOf != nil && *r.BestOf > 1 && *r.BestOf != n {
		return nil, 0, fmt.Errorf("%w: best_of", ErrNotSupported)
	}
	prompts, err := parsePrompts(r.Prompt)
	if err != nil {
		return nil, 0, err
	}
	reqs := make([]*srt.GenerateRequest, len(prompts))
	for i, pr := range prompts {
		req := &srt.GenerateRequest{Text: pr.Text, InputIDs: pr.IDs, Sampling: p, LogprobStartLen: -1}
		if r.Logprobs != nil {
			if *r.Logprobs < 0 || *r.Logprobs > 5 {
				return nil, 0, badRequest("logprobs must be in [0, 5], got %d", *r.Logprobs)
			}
			req.ReturnLogprob, req.ReturnTextInLogprobs, req.TopLogprobsNum = true, true, *r.Logprobs
		}
		if r.RID != nil && len(prompts) == 1 {
			req.RID = *r.RID
		}
		reqs[i] = req
	}
	return reqs, n, nil
}

// finishOf returns OpenAI's finish_reason and matched_stop of an output.
func finishOf(out *srt.GenerateOutput) (*string, any) {
	fr := out.MetaInfo.FinishReason
	if fr == nil || !out.Finished {
		return nil, nil
	}
	reason := fr.Type
	return &reason, fr.Matched
}

func lpValue(v float32) float64 {
	if math.IsNaN(float64(v)) {
		return -9999
	}
	return float64(v)
}

func tokText(t srt.TokenLogprob) string {
	if t.Text != nil {
		return *t.Text
	}
	return ""
}

func textBytes(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}

// ToChatLogprobs converts output logprobs [from, to) to the chat form.
func ToChatLogprobs(mi *srt.MetaInfo, from, to int) *ChatLogprobs {
	lp := &ChatLogprobs{Content: []TokenLogprob{}}
	for i := from; i < to && i < len(mi.OutputTokenLogprobs); i++ {
		t := mi.OutputTokenLogprobs[i]
		e := TokenLogprob{Token: tokText(t), Logprob: lpValue(t.Logprob), Bytes: textBytes(tokText(t)), TopLogprobs: []TopLogprob{}}
		if i < len(mi.OutputTopLogprobs) {
			for _, a := range mi.OutputTopLogprobs[i] {
				e.TopLogprobs = append(e.TopLogprobs, TopLogprob{Token: tokText(a), Logprob: lpValue(a.Logprob), Bytes: textBytes(tokText(a))})
			}
		}
		lp.Content = append(lp.Content, e)
	}
	return lp
}

// ToCompletionLogprobs converts output logprobs [from, to) to the
// completions form; offset is the text length before the first token.
func ToCompletionLogprobs(mi *srt.MetaInfo, from, to, offset int) *CompletionLogprobs {
	lp := &CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []*float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for i := from; i < to && i < len(mi.OutputTokenLogprobs); i++ {
		t := mi.OutputTokenLogprobs[i]
		v := lpValue(t.Logprob)
		lp.Tokens = append(lp.Tokens, tokText(t))
		lp.TokenLogprobs = append(lp.TokenLogprobs, &v)
		lp.TextOffset = append(lp.TextOffset, offset)
		offset += len(tokText(t))
		top := map[string]float64{}
		if i < len(mi.OutputTopLogprobs) {
			for _, a := range mi.OutputTopLogprobs[i] {
				if _, dup := top[tokText(a)]; !dup {
					top[tokText(a)] = lpValue(a.Logprob)
				}
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
	}
	return lp
}

// ToUsage sums token counts; outputs come n per prompt, and a prompt
// counts once.
func ToUsage(outs []*srt.GenerateOutput, n int) *Usage {
	u := &Usage{PromptTokensDetails: &PromptTokensDetails{}}
	for i, o := range outs {
		if n <= 1 || i%n == 0 {
			u.PromptTokens += o.MetaInfo.PromptTokens
		}
		u.CompletionTokens += o.MetaInfo.CompletionTokens
		u.PromptTokensDetails.CachedTokens += o.MetaInfo.CachedTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// ToChatCompletion builds a chat.completion from finished outputs.
func ToChatCompletion(id, model string, created int64, outs []*srt.GenerateOutput, n int, logprobs bool) ChatCompletion {
	cc := ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: make([]ChatChoice, len(outs)), Usage: ToUsage(outs, n)}
	for i, o := range outs {
		text := o.Text
		reason, matched := finishOf(o)
		c := ChatChoice{Index: i, Message: ChatMessage{Role: "assistant", Content: &text}, FinishReason: reason, MatchedStop: matched}
		if logprobs {
			c.Logprobs = ToChatLogprobs(&o.MetaInfo, 0, len(o.MetaInfo.OutputTokenLogprobs))
		}
		cc.Choices[i] = c
	}
	return cc
}

// ToCompletion builds a text_completion from finished outputs; prefixes
// (the echoed prompts, or nil) are prepended to each choice's text.
func ToCompletion(id, model string, created int64, outs []*srt.GenerateOutput, n int, logprobs bool, prefixes []string) Completion {
	c := Completion{ID: id, Object: "text_completion", Created: created, Model: model,
		Choices: make([]CompletionChoice, len(outs)), Usage: ToUsage(outs, n)}
	for i, o := range outs {
		prefix := ""
		if prefixes != nil {
			prefix = prefixes[i]
		}
		reason, matched := finishOf(o)
		ch := CompletionChoice{Index: i, Text: prefix + o.Text, FinishReason: reason, MatchedStop: matched}
		if logprobs {
			ch.Logprobs = ToCompletionLogprobs(&o.MetaInfo, 0, len(o.MetaInfo.OutputTokenLogprobs), len(prefix))
		}
		c.Choices[i] = ch
	}
	return c
}

// StreamState tracks what one choice of a stream has sent.
type StreamState struct {
	Started bool // the role chunk went out
	Text    int  // bytes of text sent
	Tokens  int  // output tokens whose logprobs were sent
}

// ToChatChunk turns an output into the chunk of choice index carrying what
// is new since st, and advances st.
func ToChatChunk(id, model string, created int64, index int, out *srt.GenerateOutput, st *StreamState, logprobs bool) ChatChunk {
	delta := out.Text[min(st.Text, len(out.Text)):]
	ch := ChatChunkChoice{Index: index, Delta: ChatDelta{Content: &delta}}
	ch.FinishReason, ch.MatchedStop = finishOf(out)
	if logprobs {
		ch.Logprobs = ToChatLogprobs(&out.MetaInfo, st.Tokens, len(out.MetaInfo.OutputTokenLogprobs))
		st.Tokens = len(out.MetaInfo.OutputTokenLogprobs)
	}
	st.Text = len(out.Text)
	return ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []ChatChunkChoice{ch}}
}

// ToRoleChunk is a stream's first chunk for a choice: the assistant role.
func ToRoleChunk(id, model string, created int64, index int) ChatChunk {
	empty := ""
	return ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model,
		Choices: []ChatChunkChoice{{Index: index, Delta: ChatDelta{Role: "assistant", Content: &empty}}}}
}

// ToCompletionChunk turns an output into the completions chunk of choice
// index carrying what is new since st, and advances st.
func ToCompletionChunk(id, model string, created int64, index int, out *srt.GenerateOutput, st *StreamState, logprobs bool) Completion {
	delta := out.Text[min(st.Text, len(out.Text)):]
	ch := CompletionChoice{Index: index, Text: delta}
	ch.FinishReason, ch.MatchedStop = finishOf(out)
	if logprobs {
		ch.Logprobs = ToCompletionLogprobs(&out.MetaInfo, st.Tokens, len(out.MetaInfo.OutputTokenLogprobs), st.Text)
		st.Tokens = len(out.MetaInfo.OutputTokenLogprobs)
	}
	st.Text = len(out.Text)
	return Completion{ID: id, Object: "text_completion", Created: created, Model: model, Choices: []CompletionChoice{ch}}
}
