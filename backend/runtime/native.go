// Package runtime holds the sgl backends that speak SGLang's native
// /generate protocol: Endpoint, an HTTP client of a running `sglang serve`
// that sends exactly the payloads SGLang's Python RuntimeEndpoint sends, and
// Engine, the same requests run in-process on an srt.Engine (no HTTP).
//
// Both implement ir.Backend, ir.Streamer, ir.PrefixCacher and
// ir.ChoiceScorer and ir.ImageAcceptor (images go as image_data, base64;
// a text-only model refuses them: a 400 from the server, an error wrapping
// ir.ErrUnsupported from the engine). Both pass regex, json_schema and
// stop_regex constraints on.
package runtime

import (
	"context"
	"fmt"

	"github.com/sglang-go/sglang/sgl/ir"
)

// samplingJSON is sampling_params as SGLang's frontend sends them for gen,
// in its order, nulls included.
type samplingJSON struct {
	SkipSpecialTokens          bool     `json:"skip_special_tokens"`
	SpacesBetweenSpecialTokens bool     `json:"spaces_between_special_tokens"`
	MaxNewTokens               int      `json:"max_new_tokens"`
	MinNewTokens               int      `json:"min_new_tokens"`
	N                          int      `json:"n"`
	Stop                       []string `json:"stop"`
	StopTokenIDs               []int    `json:"stop_token_ids"`
	StopRegex                  *string  `json:"stop_regex"`
	Temperature                float64  `json:"temperature"`
	TopP                       float64  `json:"top_p"`
	TopK                       int      `json:"top_k"`
	MinP                       float64  `json:"min_p"`
	FrequencyPenalty           float64  `json:"frequency_penalty"`
	PresencePenalty            float64  `json:"presence_penalty"`
	IgnoreEOS                  bool     `json:"ignore_eos"`
	Regex                      *string  `json:"regex"`
	JSONSchema                 *string  `json:"json_schema"`
}

func toSamplingJSON(s *ir.Sampling) samplingJSON {
	stop, ids := s.Stop, s.StopTokenIDs
	if stop == nil {
		stop = []string{}
	}
	if ids == nil {
		ids = []int{}
	}
	return samplingJSON{
		SkipSpecialTokens: s.SkipSpecialTokens, SpacesBetweenSpecialTokens: s.SpacesBetweenSpecialTokens,
		MaxNewTokens: s.MaxNewTokens, MinNewTokens: s.MinNewTokens, N: s.N, Stop: stop, StopTokenIDs: ids,
		StopRegex: s.StopRegex, Temperature: s.Temperature, TopP: s.TopP, TopK: s.TopK, MinP: s.MinP,
		FrequencyPenalty: s.FrequencyPenalty, PresencePenalty: s.PresencePenalty, IgnoreEOS: s.IgnoreEOS,
		Regex: s.Regex, JSONSchema: s.JSONSchema,
	}
}

// GenerateRequest is a /generate request body. Text is a string or a list of
// strings, InputIDs a list of id lists; SamplingParams is samplingJSON for
// gen and a small map for prefill and scoring requests.
type GenerateRequest struct {
	Text                 any   `json:"text,omitempty"`
	InputIDs             any   `json:"input_ids,omitempty"`
	SamplingParams       any   `json:"sampling_params"`
	ReturnLogprob        *bool `json:"return_logprob,omitempty"`
	LogprobStartLen      *int  `json:"logprob_start_len,omitempty"`
	TopLogprobsNum       *int  `json:"top_logprobs_num,omitempty"`
	ReturnTextInLogprobs *bool `json:"return_text_in_logprobs,omitempty"`
	Stream               bool  `json:"stream,omitempty"`
	ImageData            any   `json:"image_data,omitempty"`
}

// GenerateResponse is one /generate result.
type GenerateResponse struct {
	Text      string      `json:"text"`
	OutputIDs []int       `json:"output_ids"`
	MetaInfo  ir.MetaInfo `json:"meta_info"`
}

// generator runs native requests: over HTTP or in-process.
type generator interface {
	generate(ctx context.Context, req *GenerateRequest) ([]GenerateResponse, error)
}

// genRequest builds gen's request the way RuntimeEndpoint.generate does.
func genRequest(req *ir.GenRequest) *GenerateRequest {
	s := &req.Sampling
	return &GenerateRequest{
		Text:                 req.Prompt.Text,
		SamplingParams:       toSamplingJSON(s),
		ReturnLogprob:        s.ReturnLogprob,
		LogprobStartLen:      s.LogprobStartLen,
		TopLogprobsNum:       s.TopLogprobsNum,
		ReturnTextInLogprobs: s.ReturnTextInLogprobs,
		ImageData:            imageData(req.Prompt.Images),
	}
}

// prefillRequest is cache_prefix's and fork's request: the text, no new
// tokens.
func prefillRequest(p *ir.Prompt) *GenerateRequest {
	return &GenerateRequest{Text: p.Text, SamplingParams: map[string]any{"max_new_tokens": 0}, ImageData: imageData(p.Images)}
}

// imageData is image_data: one base64 string for one image (as SGLang
// sends), a list for several, nil for none.
func imageData(ims []ir.Image) any {
	switch len(ims) {
	case 0:
		return nil
	case 1:
		return ims[0].Base64
	}
	out := make([]string, len(ims))
	for i, im := range ims {
		out[i] = im.Base64
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// scoreChoices is select's three steps (SGLang's RuntimeEndpoint.select):
// prefill the prefix to learn its token count, score prefix+choice from two
// tokens before the choice, drop the healing token when it belongs to the
// prefix, and, when asked, score the choices' tokens alone. uncondStart is
// the unconditional request's logprob_start_len (nil: not sent, as SGLang).
func scoreChoices(ctx context.Context, g generator, p *ir.Prompt, choices []string, uncond bool, uncondStart *int) (*ir.ChoiceLogprobs, error) {
	if len(choices) == 0 {
		return nil, fmt.Errorf("%w: select needs at least one choice", ir.ErrInvalid)
	}
	imgs := imageData(p.Images)
	res, err := g.generate(ctx, prefillRequest(p))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%w: prefill returned %d results", ir.ErrBackend, len(res))
	}
	start := max(res[0].MetaInfo.PromptTokens-2, 0)
	texts := make([]string, len(choices))
	for i, c := range choices {
		texts[i] = p.Text + c
	}
	res, err = g.generate(ctx, &GenerateRequest{
		Text:           texts,
		SamplingParams: map[string]any{"max_new_tokens": 0, "temperature": 0},
		ReturnLogprob:  ptr(true), ReturnTextInLogprobs: ptr(true), LogprobStartLen: &start,
		ImageData: imgs,
	})
	if err != nil {
		return nil, err
	}
	if len(res) != len(choices) {
		return nil, fmt.Errorf("%w: scoring returned %d results for %d choices", ir.ErrBackend, len(res), len(choices))
	}
	lp := &ir.ChoiceLogprobs{
		Input:      make([][]ir.TokenLogprob, len(choices)),
		Output:     make([][]ir.TokenLogprob, len(choices)),
		Normalized: make([]float64, len(choices)),
	}
	for i, r := range res {
		lp.Input[i] = ir.DropHealedToken(p.Text, r.MetaInfo.InputTokenLogprobs)
		lp.Output[i] = r.MetaInfo.OutputTokenLogprobs
		lp.Normalized[i] = ir.MeanLogprob(lp.Input[i])
	}
	if !uncond {
		return lp, nil
	}
	ids := make([][]int, len(choices))
	for i, in := range lp.Input {
		ids[i] = make([]int, len(in))
		for j, e := range in {
			ids[i][j] = e.ID
		}
	}
	res, err = g.generate(ctx, &GenerateRequest{
		InputIDs:       ids,
		SamplingParams: map[string]any{"max_new_tokens": 0},
		ReturnLogprob:  ptr(true), LogprobStartLen: uncondStart,
		ImageData: imgs,
	})
	if err != nil {
		return nil, err
	}
	if len(res) != len(choices) {
		return nil, fmt.Errorf("%w: unconditional scoring returned %d results for %d choices", ir.ErrBackend, len(res), len(choices))
	}
	lp.Unconditional = make([][]ir.TokenLogprob, len(choices))
	for i, r := range res {
		lp.Unconditional[i] = r.MetaInfo.InputTokenLogprobs
	}
	return lp, nil
}
