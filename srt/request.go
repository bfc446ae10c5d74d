package srt

import (
	"encoding/json"
	"fmt"
	"math"
)

// SamplingParams are a request's sampling settings, under SGLang's
// /generate names. Use DefaultSamplingParams for SGLang's defaults.
type SamplingParams struct {
	MaxNewTokens      int      `json:"max_new_tokens"`
	MinNewTokens      int      `json:"min_new_tokens"`
	Temperature       float32  `json:"temperature"` // < 1e-6 is greedy
	TopP              float32  `json:"top_p"`
	TopK              int      `json:"top_k"` // <= 0 is off
	MinP              float32  `json:"min_p"`
	RepetitionPenalty float32  `json:"repetition_penalty"`
	FrequencyPenalty  float32  `json:"frequency_penalty"`
	PresencePenalty   float32  `json:"presence_penalty"`
	Stop              []string `json:"stop"`
	StopTokenIDs      []int32  `json:"stop_token_ids"`
	IgnoreEOS         bool     `json:"ignore_eos"`
	SkipSpecialTokens bool     `json:"skip_special_tokens"`
	Seed              *uint64  `json:"sampling_seed"`
	// Constrained decoding: at most one of Regex (Python re syntax, full
	// match), JSONSchema (a JSON schema document) and Choices (the output is
	// exactly one of the strings) may be set.
	Regex      string   `json:"regex,omitempty"`
	JSONSchema string   `json:"json_schema,omitempty"`
	Choices    []string `json:"choices,omitempty"`
	// StopRegex ends the output at the first match of any of these Go
	// regexps in the output text (finish reason "stop", matched = the text).
	StopRegex []string `json:"stop_regex,omitempty"`
}

// DefaultSamplingParams are SGLang's defaults: 128 new tokens, temperature
// 1, no truncation, special tokens skipped.
func DefaultSamplingParams() SamplingParams {
	return SamplingParams{MaxNewTokens: 128, Temperature: 1, TopP: 1, TopK: -1, RepetitionPenalty: 1, SkipSpecialTokens: true}
}

// GenerateRequest is one generation. Exactly one of Text and InputIDs is set.
type GenerateRequest struct {
	Text     string
	InputIDs []int32
	Sampling SamplingParams
	// ImageData are the request's images, in prompt order: http(s) URLs,
	// data: URLs, raw base64, or local paths and file:// URLs (only under
	// Options.Media.AllowedLocalMediaPaths). The i-th run of <|image_pad|>
	// tokens in the prompt is the i-th image's placeholder.
	ImageData []string
	// ReturnLogprob asks for per-token logprobs. LogprobStartLen is the first
	// prompt position whose logprob is returned (-1: output tokens only), and
	// TopLogprobsNum the number of alternatives per position.
	ReturnLogprob        bool
	LogprobStartLen      int
	TopLogprobsNum       int
	ReturnTextInLogprobs bool
	RID                  string // request id; generated when empty
}

// FinishReason says why a sequence ended, in SGLang's shape.
type FinishReason struct {
	Type    string `json:"type"`              // "stop", "length" or "abort"
	Matched any    `json:"matched,omitempty"` // the stop string or token id, for "stop"
	Length  int    `json:"length,omitempty"`  // for "length"
	Message string `json:"message,omitempty"` // for "abort"
}

// TokenLogprob is one [logprob, token_id, text] entry. Logprob is NaN where
// there is none (the first prompt token), which marshals as null.
type TokenLogprob struct {
	Logprob float32
	ID      int32
	Text    *string
}

// MarshalJSON writes the SGLang triple [logprob, id, text-or-null].
func (t TokenLogprob) MarshalJSON() ([]byte, error) {
	var lp any
	if !math.IsNaN(float64(t.Logprob)) {
		lp = t.Logprob
	}
	return json.Marshal([]any{lp, t.ID, t.Text})
}

// UnmarshalJSON reads the triple.
func (t *TokenLogprob) UnmarshalJSON(b []byte) error {
	var raw [3]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("srt: logprob entry: %w", err)
	}
	var lp *float32
	if err := json.Unmarshal(raw[0], &lp); err != nil {
		return err
	}
	t.Logprob = float32(math.NaN())
	if lp != nil {
		t.Logprob = *lp
	}
	if err := json.Unmarshal(raw[1], &t.ID); err != nil {
		return err
	}
	return json.Unmarshal(raw[2], &t.Text)
}

// MetaInfo is /generate's meta_info.
type MetaInfo struct {
	ID                  string           `json:"id"`
	FinishReason        *FinishReason    `json:"finish_reason"`
	PromptTokens        int              `json:"prompt_tokens"`
	CompletionTokens    int              `json:"completion_tokens"`
	CachedTokens        int              `json:"cached_tokens"`
	JumpForwardTokens   int              `json:"jump_forward_tokens,omitempty"`
	E2ELatency          float64          `json:"e2e_latency"`
	InputTokenLogprobs  []TokenLogprob   `json:"input_token_logprobs,omitempty"`
	OutputTokenLogprobs []TokenLogprob   `json:"output_token_logprobs,omitempty"`
	InputTopLogprobs    [][]TokenLogprob `json:"input_top_logprobs,omitempty"`
	OutputTopLogprobs   [][]TokenLogprob `json:"output_top_logprobs,omitempty"`
}

// GenerateOutput is the state of a generation so far. Text and OutputIDs are
// cumulative; Delta is the text added since the previous output the caller
// received. Slices are shared and must not be modified.
type GenerateOutput struct {
	Text      string   `json:"text"`
	OutputIDs []int32  `json:"output_ids"`
	MetaInfo  MetaInfo `json:"meta_info"`
	Delta     string   `json:"-"`
	Finished  bool     `json:"-"`
}
