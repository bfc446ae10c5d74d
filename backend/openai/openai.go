// Package openai is the sgl backend for OpenAI-compatible APIs (OpenAI
// itself, or an SGLang server's /v1 routes), built on
// github.com/sashabaranov/go-openai.
//
// Chat models (the default) generate only at the start of an assistant turn:
// the finished messages are sent as the chat, as SGLang's OpenAI backend
// does. Completion models (WithChat(false), or a model name ending in
// "-instruct") send the whole text as the prompt. Select needs prompt
// logprobs, which only the completions API returns (echo with logprobs); on
// chat models it fails with ir.ErrUnsupported, as do regex, JSON-schema and
// stop-regex constraints.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"os"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/sglang-go/sglang/sgl/ir"
)

// Option configures a Backend.
type Option func(*options)

type options struct {
	baseURL, apiKey, template string
	chat                      *bool
	client                    *http.Client
}

// WithBaseURL points at an OpenAI-compatible server (e.g.
// "http://127.0.0.1:30000/v1").
func WithBaseURL(url string) Option { return func(o *options) { o.baseURL = url } }

// WithAPIKey sets the key (default: $OPENAI_API_KEY).
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithChat says whether the model is a chat model.
func WithChat(chat bool) Option { return func(o *options) { o.chat = &chat } }

// WithChatTemplate names the frontend role format (default: guessed from
// the model name).
func WithChatTemplate(name string) Option { return func(o *options) { o.template = name } }

// WithHTTPClient replaces the HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// Backend runs programs on an OpenAI-compatible API.
type Backend struct {
	model   string
	chat    bool
	client  *goopenai.Client
	tmpl    *ir.ChatTemplate
	initErr error
}

// New returns a backend for model. It does no I/O; a bad template name is
// reported on first use.
func New(model string, opts ...Option) *Backend {
	o := options{apiKey: os.Getenv("OPENAI_API_KEY")}
	for _, f := range opts {
		f(&o)
	}
	cfg := goopenai.DefaultConfig(o.apiKey)
	if o.baseURL != "" {
		cfg.BaseURL = strings.TrimRight(o.baseURL, "/")
	}
	if o.client != nil {
		cfg.HTTPClient = o.client
	}
	b := &Backend{model: model, client: goopenai.NewClientWithConfig(cfg)}
	lower := strings.ToLower(model)
	b.chat = !strings.HasSuffix(lower, "-instruct") && !strings.Contains(lower, "davinci") && !strings.Contains(lower, "babbage")
	if o.chat != nil {
		b.chat = *o.chat
	}
	if o.template != "" {
		b.tmpl, b.initErr = ir.LookupChatTemplate(o.template)
	} else {
		b.tmpl = ir.ChatTemplateForModel(model)
	}
	return b
}

// IsChat reports whether the backend uses the chat completions API.
func (b *Backend) IsChat() bool { return b.chat }

// ChatTemplate returns the frontend role format.
func (b *Backend) ChatTemplate(context.Context) (*ir.ChatTemplate, error) {
	return b.tmpl, b.initErr
}

// AcceptsImages: chat models receive images as image_url parts.
func (b *Backend) AcceptsImages() bool { return b.chat }

// temperature works around go-openai omitting a zero temperature (which
// the API would read as 1).
func temperature(t float64) float32 {
	if t <= 0 {
		return math.SmallestNonzeroFloat32
	}
	return float32(t)
}

func (b *Backend) check(req *ir.GenRequest) error {
	if b.initErr != nil {
		return b.initErr
	}
	if req.Sampling.Constrained() {
		return fmt.Errorf("%w: the OpenAI API does not support regex, json_schema or stop_regex constraints (nor dtype)", ir.ErrUnsupported)
	}
	if b.chat {
		if req.Prompt.Role != "assistant" || strings.TrimSpace(req.Prompt.RoleText) != "" {
			return fmt.Errorf("%w: for OpenAI chat models, Gen must come right after the assistant role begins", ir.ErrUnsupported)
		}
	}
	return nil
}

func chatMessages(msgs []ir.Message) []goopenai.ChatCompletionMessage {
	out := make([]goopenai.ChatCompletionMessage, len(msgs))
	for i, m := range msgs {
		out[i].Role = m.Role
		parts, ok := m.Content.([]ir.Part)
		if !ok {
			out[i].Content = m.Text()
			continue
		}
		for _, p := range parts {
			cp := goopenai.ChatMessagePart{Type: goopenai.ChatMessagePartType(p.Type), Text: p.Text}
			if p.ImageURL != nil {
				cp.ImageURL = &goopenai.ChatMessageImageURL{URL: p.ImageURL.URL}
			}
			out[i].MultiContent = append(out[i].MultiContent, cp)
		}
	}
	return out
}

func (b *Backend) chatRequest(req *ir.GenRequest) goopenai.ChatCompletionRequest {
	s := &req.Sampling
	return goopenai.ChatCompletionRequest{
		Model: b.model, Messages: chatMessages(req.Prompt.Messages), MaxTokens: s.MaxNewTokens,
		Temperature: temperature(s.Temperature), TopP: float32(s.TopP), Stop: s.Stop,
		FrequencyPenalty: float32(s.FrequencyPenalty), PresencePenalty: float32(s.PresencePenalty),
	}
}

func (b *Backend) completionRequest(req *ir.GenRequest) goopenai.CompletionRequest {
	s := &req.Sampling
	return goopenai.CompletionRequest{
		Model: b.model, Prompt: req.Prompt.Text, MaxTokens: s.MaxNewTokens,
		Temperature: temperature(s.Temperature), TopP: float32(s.TopP), Stop: s.Stop,
		FrequencyPenalty: float32(s.FrequencyPenalty), PresencePenalty: float32(s.PresencePenalty),
	}
}

func finish(reason string) *ir.FinishReason {
	if reason == "" {
		return nil
	}
	return &ir.FinishReason{Type: reason}
}

func apiErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: openai: %w", ir.ErrBackend, err)
}

// Generate runs one chat or completion request.
func (b *Backend) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	if err := b.check(req); err != nil {
		return nil, err
	}
	if b.chat {
		resp, err := b.client.CreateChatCompletion(ctx, b.chatRequest(req))
		if err != nil {
			return nil, apiErr(err)
		}
		if len(resp.Choices) == 0 {
			return nil, fmt.Errorf("%w: openai: no choices", ir.ErrBackend)
		}
		c := resp.Choices[0]
		return &ir.GenResult{Text: c.Message.Content, Meta: ir.MetaInfo{ID: resp.ID, FinishReason: finish(string(c.FinishReason)),
			PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}}, nil
	}
	resp, err := b.client.CreateCompletion(ctx, b.completionRequest(req))
	if err != nil {
		return nil, apiErr(err)
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("%w: openai: no choices", ir.ErrBackend)
	}
	c := resp.Choices[0]
	return &ir.GenResult{Text: c.Text, Meta: ir.MetaInfo{ID: resp.ID, FinishReason: finish(c.FinishReason),
		PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}}, nil
}

// GenerateStream streams one chat or completion request.
func (b *Backend) GenerateStream(ctx context.Context, req *ir.GenRequest) iter.Seq2[ir.StreamChunk, error] {
	return func(yield func(ir.StreamChunk, error) bool) {
		if err := b.check(req); err != nil {
			yield(ir.StreamChunk{}, err)
			return
		}
		if b.chat {
			cr := b.chatRequest(req)
			cr.Stream = true
			st, err := b.client.CreateChatCompletionStream(ctx, cr)
			if err != nil {
				yield(ir.StreamChunk{}, apiErr(err))
				return
			}
			defer st.Close()
			for {
				r, err := st.Recv()
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					yield(ir.StreamChunk{}, apiErr(err))
					return
				}
				if len(r.Choices) == 0 {
					continue
				}
				c := r.Choices[0]
				if !yield(ir.StreamChunk{Text: c.Delta.Content, Meta: ir.MetaInfo{ID: r.ID, FinishReason: finish(string(c.FinishReason))}}, nil) {
					return
				}
			}
		}
		cr := b.completionRequest(req)
		cr.Stream = true
		st, err := b.client.CreateCompletionStream(ctx, cr)
		if err != nil {
			yield(ir.StreamChunk{}, apiErr(err))
			return
		}
		defer st.Close()
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(ir.StreamChunk{}, apiErr(err))
				return
			}
			if len(r.Choices) == 0 {
				continue
			}
			c := r.Choices[0]
			if !yield(ir.StreamChunk{Text: c.Text, Meta: ir.MetaInfo{ID: r.ID, FinishReason: finish(c.FinishReason)}}, nil) {
				return
			}
		}
	}
}

// ScoreChoices scores each choice with an echoed completion request
// (logprobs of the prompt's tokens). Chat models cannot: the chat API
// returns no prompt logprobs.
func (b *Backend) ScoreChoices(ctx context.Context, p *ir.Prompt, choices []string, uncond bool) (*ir.ChoiceLogprobs, error) {
	if b.chat {
		return nil, fmt.Errorf("%w: select needs prompt token logprobs, which the OpenAI chat API does not return; use a completion model (openai.WithChat(false))", ir.ErrUnsupported)
	}
	lp := &ir.ChoiceLogprobs{Input: make([][]ir.TokenLogprob, len(choices)), Output: make([][]ir.TokenLogprob, len(choices))}
	if uncond {
		lp.Unconditional = make([][]ir.TokenLogprob, len(choices))
	}
	for i, c := range choices {
		in, err := b.echoLogprobs(ctx, p.Text, c)
		if err != nil {
			return nil, err
		}
		lp.Input[i] = in
		if uncond {
			u, err := b.echoLogprobs(ctx, "", c)
			if err != nil {
				return nil, err
			}
			if len(u) > 0 {
				u[0].Logprob = math.NaN() // the first prompt token has no logprob
			}
			lp.Unconditional[i] = u
		}
	}
	return lp, nil
}

// echoLogprobs returns the logprobs of the tokens overlapping choice in
// prefix+choice.
func (b *Backend) echoLogprobs(ctx context.Context, prefix, choice string) ([]ir.TokenLogprob, error) {
	full := prefix + choice
	resp, err := b.client.CreateCompletion(ctx, goopenai.CompletionRequest{
		Model: b.model, Prompt: full, Echo: true, LogProbs: 1, MaxTokens: 1, Temperature: temperature(0),
	})
	if err != nil {
		return nil, apiErr(err)
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("%w: openai: no choices", ir.ErrBackend)
	}
	l := resp.Choices[0].LogProbs
	if len(l.TextOffset) != len(l.Tokens) || len(l.TokenLogprobs) != len(l.Tokens) {
		return nil, fmt.Errorf("%w: the API returned no echoed logprobs (needs echo and logprobs support)", ir.ErrUnsupported)
	}
	var out []ir.TokenLogprob
	for j, tok := range l.Tokens {
		start, end := l.TextOffset[j], l.TextOffset[j]+len(tok)
		if start >= len(full) || end <= len(prefix) {
			continue
		}
		t := tok
		out = append(out, ir.TokenLogprob{Logprob: float64(l.TokenLogprobs[j]), Text: &t})
	}
	return out, nil
}
