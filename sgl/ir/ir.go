// Package ir is the small leaf package (no dependencies beyond the standard library) shared by the sgl frontend and its
// backends: the Backend interface, its optional abilities, the request and
// result types that cross it, the chat-template role formats, and the pure
// scoring math of select.
//
// The contract: the sgl interpreter resolves every sampling option (defaults,
// run-level, call-level, the chat template's stop strings, dtype -> regex)
// before calling a backend, so a backend sends GenRequest.Sampling as it is.
// A backend that cannot honour a field (a regex, images, streaming) returns an
// error wrapping ErrUnsupported rather than ignoring it. Optional abilities
// are extra interfaces (Streamer, PrefixCacher, ChoiceScorer, ImageAcceptor)
// the interpreter finds by type assertion.
package ir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnsupported: the backend lacks an ability the program needs.
	ErrUnsupported = errors.New("sgl: unsupported by this backend")
	// ErrBackend: the backend (server, API, engine) reported a failure.
	ErrBackend = errors.New("sgl: backend error")
	// ErrInvalid: bad program input (unknown template, bad option, ...).
	ErrInvalid = errors.New("sgl: invalid input")
)

// Backend runs generations for the interpreter. Implementations must be safe
// for concurrent use.
type Backend interface {
	// Generate runs one generation of req and returns its text.
	Generate(ctx context.Context, req *GenRequest) (*GenResult, error)
	// ChatTemplate is the role format used for System/User/Assistant
	// (it may need to ask the server, hence ctx).
	ChatTemplate(ctx context.Context) (*ChatTemplate, error)
}

// Streamer is a backend that can stream a generation.
type Streamer interface {
	// GenerateStream yields the generation's new text piece by piece; the
	// last chunk carries the final meta info.
	GenerateStream(ctx context.Context, req *GenRequest) iter.Seq2[StreamChunk, error]
}

// PrefixCacher is a backend whose server keeps a prefix cache: CachePrefix
// sends the prompt as a prefill (no new tokens) so later requests reuse it.
type PrefixCacher interface {
	CachePrefix(ctx context.Context, p *Prompt) error
}

// ChoiceScorer is a backend that can score choices by token logprobs (what
// select needs).
type ChoiceScorer interface {
	// ScoreChoices returns, for each choice appended to p.Text, the logprobs
	// of the choice's tokens. With unconditional set it also scores each
	// choice's tokens alone.
	ScoreChoices(ctx context.Context, p *Prompt, choices []string, unconditional bool) (*ChoiceLogprobs, error)
}

// ImageAcceptor marks a backend that forwards images (Prompt.Images).
type ImageAcceptor interface {
	AcceptsImages() bool
}

// Prompt is the program state a request is made from.
type Prompt struct {
	Text     string    // the whole text so far
	Messages []Message // finished role messages, OpenAI form
	Images   []Image   // every image of the program so far, in order
	Role     string    // the open role ("" when none)
	RoleText string    // text written since the open role began
}

// Image is one image of a program.
type Image struct {
	Source string // path, URL or "<bytes>"
	Base64 string // the image file, base64 (standard encoding)
}

// DataURL is the image as an OpenAI data URL (SGLang labels every image
// image/jpeg whatever its format; servers sniff the bytes).
func (im Image) DataURL() string { return "data:image/jpeg;base64," + im.Base64 }

// Message is one chat message in OpenAI form. Content is a string, or a list
// of parts when the message has images.
type Message struct {
	Role    string `json:"role"`
	Content any    `json:"content"` // string or []Part
}

// Text is the message's text (the text parts joined).
func (m Message) Text() string {
	switch c := m.Content.(type) {
	case string:
		return c
	case []Part:
		s := ""
		for _, p := range c {
			s += p.Text
		}
		return s
	}
	return ""
}

// Part is one OpenAI content part.
type Part struct {
	Type     string    `json:"type"` // "text" or "image_url"
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image_url part's payload.
type ImageURL struct {
	URL string `json:"url"`
}

// Sampling are the resolved sampling parameters of one generation, under
// SGLang's /generate names. Pointer fields are optional (nil is JSON null or
// absent, as SGLang's frontend sends them).
type Sampling struct {
	MaxNewTokens     int
	MinNewTokens     int
	N                int
	Stop             []string
	StopTokenIDs     []int
	StopRegex        *string
	Temperature      float64
	TopP             float64
	TopK             int
	MinP             float64
	FrequencyPenalty float64
	PresencePenalty  float64
	IgnoreEOS        bool
	Regex            *string
	JSONSchema       *string

	SkipSpecialTokens          bool
	SpacesBetweenSpecialTokens bool

	ReturnLogprob        *bool
	LogprobStartLen      *int
	TopLogprobsNum       *int
	ReturnTextInLogprobs *bool
}

// DefaultSampling is SGLang's frontend default: 128 new tokens, temperature
// 1, no truncation, empty stop lists, special tokens skipped.
func DefaultSampling() Sampling {
	return Sampling{MaxNewTokens: 128, N: 1, Stop: []string{}, StopTokenIDs: []int{}, Temperature: 1,
		TopP: 1, TopK: -1, SkipSpecialTokens: true, SpacesBetweenSpecialTokens: true}
}

// Constrained reports whether a regex, JSON schema or stop regex is set.
func (s *Sampling) Constrained() bool {
	return s.Regex != nil || s.JSONSchema != nil || s.StopRegex != nil
}

// GenRequest is one generation.
type GenRequest struct {
	Prompt   Prompt
	Sampling Sampling
}

// GenResult is a finished generation.
type GenResult struct {
	Text string
	Meta MetaInfo
}

// StreamChunk is one piece of a streamed generation: Text is new text; Meta
// is the latest meta info (complete on the last chunk).
type StreamChunk struct {
	Text string
	Meta MetaInfo
}

// FinishReason says why a generation ended, in SGLang's shape.
type FinishReason struct {
	Type    string `json:"type"`
	Matched any    `json:"matched,omitempty"`
	Length  int    `json:"length,omitempty"`
	Message string `json:"message,omitempty"`
}

// MetaInfo is SGLang's meta_info of a generation (fields a backend does not
// know stay zero).
type MetaInfo struct {
	ID                  string           `json:"id,omitempty"`
	FinishReason        *FinishReason    `json:"finish_reason,omitempty"`
	PromptTokens        int              `json:"prompt_tokens"`
	CompletionTokens    int              `json:"completion_tokens"`
	CachedTokens        int              `json:"cached_tokens"`
	E2ELatency          float64          `json:"e2e_latency,omitempty"`
	InputTokenLogprobs  []TokenLogprob   `json:"input_token_logprobs,omitempty"`
	OutputTokenLogprobs []TokenLogprob   `json:"output_token_logprobs,omitempty"`
	InputTopLogprobs    [][]TokenLogprob `json:"input_top_logprobs,omitempty"`
	OutputTopLogprobs   [][]TokenLogprob `json:"output_top_logprobs,omitempty"`
}

// TokenLogprob is one [logprob, token_id, text] entry. Logprob is NaN where
// the server sent null (the first prompt token); Text is nil when not asked.
type TokenLogprob struct {
	Logprob float64
	ID      int
	Text    *string
}

// Null reports whether the logprob is missing.
func (t TokenLogprob) Null() bool { return math.IsNaN(t.Logprob) }

// MarshalJSON writes the triple [logprob-or-null, id, text-or-null].
func (t TokenLogprob) MarshalJSON() ([]byte, error) {
	var lp any
	if !t.Null() {
		lp = t.Logprob
	}
	return json.Marshal([]any{lp, t.ID, t.Text})
}

// UnmarshalJSON reads a triple (a 2-element [logprob, id] is accepted too).
func (t *TokenLogprob) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("sgl: logprob entry: %w", err)
	}
	if len(raw) < 2 || len(raw) > 3 {
		return fmt.Errorf("sgl: logprob entry has %d elements, want 3", len(raw))
	}
	var lp *float64
	if err := json.Unmarshal(raw[0], &lp); err != nil {
		return fmt.Errorf("sgl: logprob entry: %w", err)
	}
	t.Logprob = math.NaN()
	if lp != nil {
		t.Logprob = *lp
	}
	if err := json.Unmarshal(raw[1], &t.ID); err != nil {
		return fmt.Errorf("sgl: logprob entry id: %w", err)
	}
	t.Text = nil
	if len(raw) == 3 {
		if err := json.Unmarshal(raw[2], &t.Text); err != nil {
			return fmt.Errorf("sgl: logprob entry text: %w", err)
		}
	}
	return nil
}
