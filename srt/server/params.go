package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sglang-go/sglang/srt"
)

// StringList is a JSON string or list of strings (SGLang's "stop").
// null and "" decode to an empty list.
type StringList []string

// UnmarshalJSON accepts null, a string, or a list of strings.
func (s *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = nil
		if v != "" {
			*s = StringList{v}
		}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = v
	return nil
}

// NativeSampling is /generate's sampling_params under SGLang's names. Fields
// left out or null keep SGLang's defaults.
type NativeSampling struct {
	MaxNewTokens               *int            `json:"max_new_tokens"`
	MinNewTokens               *int            `json:"min_new_tokens"`
	Temperature                *float32        `json:"temperature"`
	TopP                       *float32        `json:"top_p"`
	TopK                       *int            `json:"top_k"`
	MinP                       *float32        `json:"min_p"`
	RepetitionPenalty          *float32        `json:"repetition_penalty"`
	FrequencyPenalty           *float32        `json:"frequency_penalty"`
	PresencePenalty            *float32        `json:"presence_penalty"`
	Stop                       StringList      `json:"stop"`
	StopTokenIDs               []int32         `json:"stop_token_ids"`
	IgnoreEOS                  *bool           `json:"ignore_eos"`
	SkipSpecialTokens          *bool           `json:"skip_special_tokens"`
	SpacesBetweenSpecialTokens *bool           `json:"spaces_between_special_tokens"`
	NoStopTrim                 *bool           `json:"no_stop_trim"`
	N                          *int            `json:"n"`
	SamplingSeed               *int64          `json:"sampling_seed"`
	Regex                      *string         `json:"regex"`
	StopRegex                  json.RawMessage `json:"stop_regex"`
	JSONSchema                 json.RawMessage `json:"json_schema"`
	EBNF                       *string         `json:"ebnf"`
	StructuralTag              json.RawMessage `json:"structural_tag"`
}

func isNull(m json.RawMessage) bool {
	t := bytes.TrimSpace(m)
	return len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte(`""`)) || bytes.Equal(t, []byte("[]"))
}

// Params converts to the engine's parameters, checking ranges. It returns
// the n samples asked for (1 when unset).
func (ns *NativeSampling) Params() (srt.SamplingParams, int, error) {
	p := srt.DefaultSamplingParams()
	if ns == nil {
		return p, 1, nil
	}
	setI := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setF := func(dst *float32, v *float32) {
		if v != nil {
			*dst = *v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setI(&p.MaxNewTokens, ns.MaxNewTokens)
	setI(&p.MinNewTokens, ns.MinNewTokens)
	setF(&p.Temperature, ns.Temperature)
	setF(&p.TopP, ns.TopP)
	setI(&p.TopK, ns.TopK)
	setF(&p.MinP, ns.MinP)
	setF(&p.RepetitionPenalty, ns.RepetitionPenalty)
	setF(&p.FrequencyPenalty, ns.FrequencyPenalty)
	setF(&p.PresencePenalty, ns.PresencePenalty)
	setB(&p.IgnoreEOS, ns.IgnoreEOS)
	setB(&p.SkipSpecialTokens, ns.SkipSpecialTokens)
	for _, st := range ns.Stop {
		if st != "" { // an empty stop string would end every request at once
			p.Stop = append(p.Stop, st)
		}
	}
	p.StopTokenIDs = ns.StopTokenIDs
	if p.TopK == 0 {
		p.TopK = -1 // SGLang treats 0 as "all"
	}
	n := 1
	setI(&n, ns.N)
	if ns.SamplingSeed != nil {
		if *ns.SamplingSeed < 0 {
			return p, 0, badRequest("sampling_seed must not be negative")
		}
		s := uint64(*ns.SamplingSeed)
		p.Seed = &s
	}
	switch {
	case ns.EBNF != nil && *ns.EBNF != "":
		return p, 0, fmt.Errorf("%w: ebnf (only regex and json_schema constraints are supported)", ErrNotSupported)
	case !isNull(ns.StructuralTag):
		return p, 0, fmt.Errorf("%w: structural_tag (only regex and json_schema constraints are supported)", ErrNotSupported)
	}
	if ns.Regex != nil {
		p.Regex = *ns.Regex
	}
	var err error
	if p.JSONSchema, err = schemaText(ns.JSONSchema); err != nil {
		return p, 0, err
	}
	if !isNull(ns.StopRegex) {
		var sr StringList
		if err := json.Unmarshal(ns.StopRegex, &sr); err != nil {
			return p, 0, badRequest("stop_regex: %v", err)
		}
		p.StopRegex = sr
	}
	return p, n, checkSampling(p, n)
}

// schemaText reads json_schema, which SGLang takes as a string holding the
// schema; an inline schema object is accepted too. null or "" mean none.
func schemaText(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return "", nil
	}
	switch t[0] {
	case '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", badRequest("json_schema: %v", err)
		}
		return s, nil
	case '{', 't', 'f': // an object, or a boolean schema
		var buf bytes.Buffer
		if err := json.Compact(&buf, t); err != nil {
			return "", badRequest("json_schema: %v", err)
		}
		return buf.String(), nil
	}
	return "", badRequest("json_schema: want a string or an object")
}

// checkSampling validates ranges as SGLang's SamplingParams.verify does.
func checkSampling(p srt.SamplingParams, n int) error {
	switch {
	case p.MaxNewTokens < 0:
		return badRequest("max_new_tokens must be at least 0, got %d", p.MaxNewTokens)
	case p.MinNewTokens < 0:
		return badRequest("min_new_tokens must be at least 0, got %d", p.MinNewTokens)
	case p.Temperature < 0:
		return badRequest("temperature must be non-negative, got %g", p.Temperature)
	case p.TopP <= 0 || p.TopP > 1:
		return badRequest("top_p must be in (0, 1], got %g", p.TopP)
	case p.TopK < -1:
		return badRequest("top_k must be -1 (disable), or at least 1, got %d", p.TopK)
	case p.MinP < 0 || p.MinP > 1:
		return badRequest("min_p must be in [0, 1], got %g", p.MinP)
	case p.RepetitionPenalty <= 0 || p.RepetitionPenalty > 2:
		return badRequest("repetition_penalty must be in (0, 2], got %g", p.RepetitionPenalty)
	case p.FrequencyPenalty < -2 || p.FrequencyPenalty > 2:
		return badRequest("frequency_penalty must be in [-2, 2], got %g", p.FrequencyPenalty)
	case p.PresencePenalty < -2 || p.PresencePenalty > 2:
		return badRequest("presence_penalty must be in [-2, 2], got %g", p.PresencePenalty)
	case n < 1 || n > 128:
		return badRequest("n must be in [1, 128], got %d", n)
	}
	return nil
}

// MaxBatch caps the generations (prompts times n) of one request.
const MaxBatch = 4096

// GenerateBody is the JSON body of POST /generate.
type GenerateBody struct {
	Text                 json.RawMessage `json:"text"`
	InputIDs             json.RawMessage `json:"input_ids"`
	SamplingParams       json.RawMessage `json:"sampling_params"`
	ReturnLogprob        json.RawMessage `json:"return_logprob"`
	LogprobStartLen      json.RawMessage `json:"logprob_start_len"`
	TopLogprobsNum       json.RawMessage `json:"top_logprobs_num"`
	ReturnTextInLogprobs *bool           `json:"return_text_in_logprobs"`
	Stream               *bool           `json:"stream"`
	RID                  json.RawMessage `json:"rid"`
	ImageData            json.RawMessage `json:"image_data"`
	InputEmbeds          json.RawMessage `json:"input_embeds"`
}

// NativeRequest is a parsed /generate body: one engine request per prompt
// (times n), and whether the answer is a list.
type NativeRequest struct {
	Reqs   []*srt.GenerateRequest
	Batch  bool
	Stream bool
}

// decodeStrict decodes b into v, naming the field on a type error.
func decodeStrict(b []byte, v any, what string) error {
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest("%s: field %q: want %s, got JSON %s", what, te.Field, te.Type, te.Value)
		}
		return badRequest("%s: %v", what, err)
	}
	return nil
}

// perItem decodes a field that is either one value or a list with one
// value per prompt (SGLang allows both for batch fields). n is the batch size.
func perItem[T any](raw json.RawMessage, n int, def T, name string) ([]T, error) {
	out := make([]T, n)
	for i := range out {
		out[i] = def
	}
	if isNull(raw) {
		return out, nil
	}
	var one T
	if err := json.Unmarshal(raw, &one); err == nil {
		for i := range out {
			out[i] = one
		}
		return out, nil
	}
	var list []*T
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, badRequest("%s: want a value or a list of them: %v", name, err)
	}
	if len(list) != n {
		return nil, badRequest("%s has %d items; the batch has %d", name, len(list), n)
	}
	for i, v := range list {
		if v != nil {
			out[i] = *v
		}
	}
	return out, nil
}

// ParseGenerate reads a /generate body.
func ParseGenerate(r io.Reader) (*NativeRequest, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("server: reading the body: %w", err)
	}
	var b GenerateBody
	if err := decodeStrict(data, &b, "generate"); err != nil {
		return nil, err
	}
	if !isNull(b.InputEmbeds) {
		return nil, fmt.Errorf("%w: input_embeds", ErrNotSupported)
	}
	var texts []string
	var ids [][]int32
	batch := false
	switch {
	case !isNull(b.Text) && !isNull(b.InputIDs):
		return nil, badRequest("give either text or input_ids, not both")
	case !isNull(b.Text):
		var one string
		if err := json.Unmarshal(b.Text, &one); err == nil {
			texts = []string{one}
		} else if err := json.Unmarshal(b.Text, &texts); err != nil {
			return nil, badRequest("text: want a string or a list of strings")
		} else {
			batch = true
		}
	case !isNull(b.InputIDs):
		var one []int32
		if err := json.Unmarshal(b.InputIDs, &one); err == nil {
			ids = [][]int32{one}
		} else if err := json.Unmarshal(b.InputIDs, &ids); err != nil {
			return nil, badRequest("input_ids: want a list of token ids or a list of such lists")
		} else {
			batch = true
		}
	default:
		return nil, badRequest("either text or input_ids must be given")
	}
	n := max(len(texts), len(ids))
	if batch && n == 0 {
		return nil, badRequest("the batch is empty")
	}
	var samp []NativeSampling
	if isNull(b.SamplingParams) {
		samp = make([]NativeSampling, n)
	} else if bytes.HasPrefix(bytes.TrimSpace(b.SamplingParams), []byte("[")) {
		if err := decodeStrict(b.SamplingParams, &samp, "sampling_params"); err != nil {
			return nil, err
		}
		if len(samp) != n {
			return nil, badRequest("sampling_params has %d items; the batch has %d", len(samp), n)
		}
	} else {
		var one NativeSampling
		if err := decodeStrict(b.SamplingParams, &one, "sampling_params"); err != nil {
			return nil, err
		}
		samp = make([]NativeSampling, n)
		for i := range samp {
			samp[i] = one
		}
	}
	retLP, err := perItem(b.ReturnLogprob, n, false, "return_logprob")
	if err != nil {
		return nil, err
	}
	startLen, err := perItem(b.LogprobStartLen, n, -1, "logprob_start_len")
	if err != nil {
		return nil, err
	}
	topN, err := perItem(b.TopLogprobsNum, n, 0, "top_logprobs_num")
	if err != nil {
		return nil, err
	}
	rids, err := perItem(b.RID, n, "", "rid")
	if err != nil {
		return nil, err
	}
	images, err := parseImageData(b.ImageData, n, batch)
	if err != nil {
		return nil, err
	}
	out := &NativeRequest{Batch: batch, Stream: b.Stream != nil && *b.Stream}
	total := 0
	for i := range samp {
		if samp[i].N != nil {
			total += max(*samp[i].N, 1)
		} else {
			total++
		}
	}
	if total > MaxBatch {
		return nil, badRequest("the request asks for %d generations; at most %d are allowed", total, MaxBatch)
	}
	for i := range n {
		p, samples, err := samp[i].Params()
		if err != nil {
			return nil, err
		}
		if topN[i] < 0 {
			return nil, badRequest("top_logprobs_num must not be negative")
		}
		for k := range samples {
			req := &srt.GenerateRequest{Sampling: p, ReturnLogprob: retLP[i], LogprobStartLen: startLen[i],
				TopLogprobsNum: topN[i], ReturnTextInLogprobs: b.ReturnTextInLogprobs != nil && *b.ReturnTextInLogprobs,
				RID: rids[i]}
			if images != nil {
				req.ImageData = images[i]
			}
			if req.RID != "" && samples > 1 {
				req.RID = fmt.Sprintf("%s-%d", rids[i], k)
			}
			if texts != nil {
				req.Text = texts[i]
			} else {
				if len(ids[i]) == 0 {
					return nil, badRequest("input_ids[%d] is empty", i)
				}
				req.InputIDs = ids[i]
			}
			if req.Text == "" && req.InputIDs == nil {
				return nil, badRequest("the prompt is empty")
			}
			out.Reqs = append(out.Reqs, req)
		}
		if samples > 1 {
			out.Batch = true
		}
	}
	return out, nil
}
