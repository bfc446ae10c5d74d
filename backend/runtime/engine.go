package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/sglang-go/sglang/sgl/ir"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

// Engine is an sgl backend that runs the native requests in-process on an
// srt.Engine. It does not own the engine (closing it is the caller's job).
type Engine struct {
	eng     *srt.Engine
	tmpl    *ir.ChatTemplate
	initErr error // a bad option, reported on first use
}

// NewEngine wraps eng. The chat template is WithChatTemplate's, or guessed
// from the model path (as SGLang does), or else from the model folder's
// Jinja chat template. A nil engine or an unknown template name makes every
// call fail (so the constructor can be used as an expression).
func NewEngine(eng *srt.Engine, opts ...Option) *Engine {
	e := &Engine{eng: eng}
	if eng == nil {
		e.initErr = fmt.Errorf("%w: nil engine", ir.ErrInvalid)
		return e
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	info := eng.Info()
	e.tmpl, e.initErr = pickTemplate(o.template, info.ModelPath, engineJinja(eng))
	return e
}

// engineJinja is the Jinja chat template `sglang serve` would render for
// eng's model: the model folder's (chat_template.jinja, chat_template.json
// or tokenizer_config.json) or the GGUF file's.
func engineJinja(eng *srt.Engine) string {
	if src := eng.GGUFChatTemplate(); src != "" {
		return src
	}
	t, err := chat.FromModelDir(eng.Info().ModelPath)
	if err != nil {
		return ""
	}
	return t.Source()
}

// pickTemplate chooses the frontend template the same way for both
// backends: the name given with WithChatTemplate, else SGLang's guess from
// the model path, else the one the model's Jinja template matches
// (ir.TemplateNameForJinja), else "default".
func pickTemplate(name, modelPath, jinja string) (*ir.ChatTemplate, error) {
	switch {
	case name != "":
		return ir.LookupChatTemplate(name)
	case ir.TemplateNameForModel(modelPath) != "default":
		return ir.ChatTemplateForModel(modelPath), nil
	}
	t, err := ir.LookupChatTemplate(ir.TemplateNameForJinja(jinja))
	if err != nil {
		return ir.DefaultTemplate(), nil
	}
	return t, nil
}

// ChatTemplate returns the engine's frontend template.
func (e *Engine) ChatTemplate(context.Context) (*ir.ChatTemplate, error) {
	if e.initErr != nil {
		return nil, e.initErr
	}
	return e.tmpl, nil
}

// Generate runs gen's request.
func (e *Engine) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	res, err := e.generate(ctx, genRequest(req))
	if err != nil {
		return nil, err
	}
	return &ir.GenResult{Text: res[0].Text, Meta: res[0].MetaInfo}, nil
}

// GenerateStream runs gen's request and yields its text as it decodes.
func (e *Engine) GenerateStream(ctx context.Context, req *ir.GenRequest) iter.Seq2[ir.StreamChunk, error] {
	return func(yield func(ir.StreamChunk, error) bool) {
		reqs, err := e.toSRT(genRequest(req))
		if err != nil {
			yield(ir.StreamChunk{}, err)
			return
		}
		for out, err := range e.eng.Generate(ctx, reqs[0]) {
			if err != nil {
				yield(ir.StreamChunk{}, wrapEngineErr(err))
				return
			}
			var meta ir.MetaInfo
			if out.Finished {
				r, err := toResponse(out)
				if err != nil {
					yield(ir.StreamChunk{}, err)
					return
				}
				meta = r.MetaInfo
			}
			if !yield(ir.StreamChunk{Text: out.Delta, Meta: meta}, nil) {
				return
			}
		}
	}
}

// CachePrefix prefills the prompt so the radix cache keeps it.
func (e *Engine) CachePrefix(ctx context.Context, p *ir.Prompt) error {
	_, err := e.generate(ctx, prefillRequest(p))
	return err
}

// ScoreChoices runs select's three requests in-process. The unconditional
// request asks for logprobs from position 0 explicitly (srt's default is
// output logprobs only).
func (e *Engine) ScoreChoices(ctx context.Context, p *ir.Prompt, choices []string, uncond bool) (*ir.ChoiceLogprobs, error) {
	return scoreChoices(ctx, e, p, choices, uncond, ptr(0))
}

// wireSampling reads sampling_params back from any of the shapes we send.
type wireSampling struct {
	MaxNewTokens      *int     `json:"max_new_tokens"`
	MinNewTokens      *int     `json:"min_new_tokens"`
	Stop              []string `json:"stop"`
	StopTokenIDs      []int32  `json:"stop_token_ids"`
	StopRegex         *string  `json:"stop_regex"`
	Temperature       *float32 `json:"temperature"`
	TopP              *float32 `json:"top_p"`
	TopK              *int     `json:"top_k"`
	MinP              *float32 `json:"min_p"`
	FrequencyPenalty  *float32 `json:"frequency_penalty"`
	PresencePenalty   *float32 `json:"presence_penalty"`
	IgnoreEOS         *bool    `json:"ignore_eos"`
	SkipSpecialTokens *bool    `json:"skip_special_tokens"`
	Regex             *string  `json:"regex"`
	JSONSchema        *string  `json:"json_schema"`
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// toSRT turns a native request into one srt request per prompt.
func (e *Engine) toSRT(req *GenerateRequest) ([]*srt.GenerateRequest, error) {
	if e.initErr != nil {
		return nil, e.initErr
	}
	var images []string
	switch im := req.ImageData.(type) {
	case nil:
	case string:
		images = []string{im}
	case []string:
		images = im
	default:
		return nil, fmt.Errorf("%w: image data of type %T", ir.ErrInvalid, req.ImageData)
	}
	raw, err := json.Marshal(req.SamplingParams)
	if err != nil {
		return nil, fmt.Errorf("%w: sampling params: %w", ir.ErrInvalid, err)
	}
	var w wireSampling
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: sampling params: %w", ir.ErrInvalid, err)
	}
	sp := srt.DefaultSamplingParams()
	set(&sp.MaxNewTokens, w.MaxNewTokens)
	set(&sp.MinNewTokens, w.MinNewTokens)
	set(&sp.Temperature, w.Temperature)
	set(&sp.TopP, w.TopP)
	set(&sp.TopK, w.TopK)
	set(&sp.MinP, w.MinP)
	set(&sp.FrequencyPenalty, w.FrequencyPenalty)
	set(&sp.PresencePenalty, w.PresencePenalty)
	set(&sp.IgnoreEOS, w.IgnoreEOS)
	set(&sp.SkipSpecialTokens, w.SkipSpecialTokens)
	sp.Stop, sp.StopTokenIDs = w.Stop, w.StopTokenIDs
	set(&sp.Regex, w.Regex)
	set(&sp.JSONSchema, w.JSONSchema)
	if w.StopRegex != nil {
		sp.StopRegex = []string{*w.StopRegex}
	}
	base := srt.GenerateRequest{Sampling: sp, LogprobStartLen: -1, ImageData: images}
	set(&base.ReturnLogprob, req.ReturnLogprob)
	set(&base.LogprobStartLen, req.LogprobStartLen)
	set(&base.TopLogprobsNum, req.TopLogprobsNum)
	set(&base.ReturnTextInLogprobs, req.ReturnTextInLogprobs)
	var out []*srt.GenerateRequest
	add := func(text string, ids []int32) {
		r := base
		r.Sampling.Stop = append([]string(nil), sp.Stop...)
		r.Text, r.InputIDs = text, ids
		out = append(out, &r)
	}
	switch t := req.Text.(type) {
	case string:
		add(t, nil)
	case []string:
		for _, s := range t {
			add(s, nil)
		}
	case nil:
		switch ids := req.InputIDs.(type) {
		case []int:
			add("", toInt32(ids))
		case [][]int:
			for _, x := range ids {
				add("", toInt32(x))
			}
		default:
			return nil, fmt.Errorf("%w: request has neither text nor input_ids", ir.ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("%w: text of type %T", ir.ErrInvalid, req.Text)
	}
	return out, nil
}

func toInt32(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out
}

// generate runs the native request's prompts concurrently (the scheduler
// batches them) and returns their results in order.
func (e *Engine) generate(ctx context.Context, req *GenerateRequest) ([]GenerateResponse, error) {
	reqs, err := e.toSRT(req)
	if err != nil {
		return nil, err
	}
	res := make([]GenerateResponse, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			out, err := e.eng.GenerateAll(ctx, r)
			if err != nil {
				errs[i] = wrapEngineErr(err)
				return
			}
			rr, err := toResponse(out)
			if err != nil {
				errs[i] = err
				return
			}
			res[i] = *rr
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

func wrapEngineErr(err error) error {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, srt.ErrNoVision):
		return fmt.Errorf("%w: %w", ir.ErrUnsupported, err)
	}
	return fmt.Errorf("%w: %w", ir.ErrBackend, err)
}

// AcceptsImages: the engine takes images (sgl.Image); a text-only model
// refuses them with an error wrapping ir.ErrUnsupported and srt.ErrNoVision.
func (e *Engine) AcceptsImages() bool { return true }

// toResponse converts srt's output through its JSON form, which is
// /generate's.
func toResponse(out *srt.GenerateOutput) (*GenerateResponse, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding engine output: %w", ir.ErrBackend, err)
	}
	var r GenerateResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: decoding engine output: %w", ir.ErrBackend, err)
	}
	if r.MetaInfo.FinishReason != nil && r.MetaInfo.FinishReason.Type == "abort" {
		return nil, fmt.Errorf("%w: request aborted: %s", ir.ErrBackend, r.MetaInfo.FinishReason.Message)
	}
	return &r, nil
}
