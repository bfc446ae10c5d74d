package benchserve

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Output is the measured outcome of one request. Times are in seconds:
// Start from the benchmark's start, TTFT/Latency/ITL from the request's.
type Output struct {
	Success       bool      `json:"success"`
	Error         string    `json:"error,omitempty"`
	PromptLen     int       `json:"prompt_len"`    // dataset prompt length
	OutputLen     int       `json:"output_len"`    // reported completion_tokens
	PromptTokens  int       `json:"prompt_tokens"` // reported prompt_tokens (0: unknown)
	CachedTokens  int       `json:"cached_tokens"` // reported cached_tokens
	Start         float64   `json:"start"`
	TTFT          float64   `json:"ttft"`
	Latency       float64   `json:"latency"`
	ITL           []float64 `json:"itl"`
	GeneratedText string    `json:"generated_text,omitempty"`
}

// errServer is a failure the server reported (HTTP status, error event,
// abort).
var errServer = errors.New("benchserve: server error")

// tracker turns a request's events, stamped with their arrival time (s since
// the request started), into an Output, following SGLang's definitions.
type tracker struct {
	out     Output
	native  bool
	first   bool    // an event with output has arrived
	last    float64 // time of the last output event
	lastOut int     // completion tokens at that event
}

func newTracker(native bool, promptLen, wantOut int) *tracker {
	return &tracker{native: native, out: Output{PromptLen: promptLen, OutputLen: wantOut}}
}

// line notes that some SSE line arrived at t (latency is the time of the
// last line, [DONE] included, as in SGLang).
func (t *tracker) line(at float64) { t.out.Latency = at }

// event processes one JSON payload that arrived at time at.
func (t *tracker) event(data []byte, at float64) error {
	if t.native {
		return t.nativeEvent(data, at)
	}
	return t.oaiEvent(data, at)
}

type nativeEvent struct {
	Text      *string         `json:"text"`
	OutputIDs json.RawMessage `json:"output_ids"`
	MetaInfo  *struct {
		PromptTokens     *int            `json:"prompt_tokens"`
		CompletionTokens *int            `json:"completion_tokens"`
		CachedTokens     *int            `json:"cached_tokens"`
		FinishReason     json.RawMessage `json:"finish_reason"`
	} `json:"meta_info"`
	Error json.RawMessage `json:"error"`
}

func (t *tracker) nativeEvent(data []byte, at float64) error {
	var ev nativeEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("%w: bad event %q: %v", errSSEMalformed, truncate(string(data), 120), err)
	}
	if msg, ok := errorMessage(ev.Error); ok {
		return fmt.Errorf("%w: %s", errServer, msg)
	}
	outLen, haveOut := 0, false
	if m := ev.MetaInfo; m != nil {
		if m.PromptTokens != nil {
			t.out.PromptTokens = *m.PromptTokens
		}
		if m.CachedTokens != nil {
			t.out.CachedTokens = *m.CachedTokens
		}
		if m.CompletionTokens != nil {
			outLen, haveOut = *m.CompletionTokens, true
		}
		if msg, ok := abortMessage(m.FinishReason); ok {
			return fmt.Errorf("%w: request aborted: %s", errServer, msg)
		}
	}
	hasText := ev.Text != nil && *ev.Text != ""
	hasIDs := len(ev.OutputIDs) > 0 && !isEmptyJSONList(ev.OutputIDs)
	if !hasText && !hasIDs {
		if haveOut {
			t.out.OutputLen = outLen
		}
		return nil
	}
	if hasText {
		t.out.GeneratedText = *ev.Text // cumulative
	}
	if !haveOut {
		outLen = t.lastOut + 1
	}
	if !t.first {
		t.first = true
		t.out.TTFT = at
	} else {
		n := outLen - t.lastOut
		if n <= 0 {
			return nil // no new token: the gap runs on to the next event
		}
		gap := (at - t.last) / float64(n)
		for range n {
			t.out.ITL = append(t.out.ITL, gap)
		}
	}
	t.last, t.lastOut = at, outLen
	if haveOut {
		t.out.OutputLen = outLen
	}
	return nil
}

type oaiChunk struct {
	Choices []struct {
		Text         string `json:"text"`
		FinishReason any    `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		PromptTokensDetails *struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
}

func (t *tracker) oaiEvent(data []byte, at float64) error {
	var ch oaiChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return fmt.Errorf("%w: bad chunk %q: %v", errSSEMalformed, truncate(string(data), 120), err)
	}
	if msg, ok := errorMessage(ch.Error); ok {
		return fmt.Errorf("%w: %s", errServer, msg)
	}
	if ch.Object == "error" {
		return fmt.Errorf("%w: %s", errServer, ch.Message)
	}
	if u := ch.Usage; u != nil {
		t.out.OutputLen = u.CompletionTokens
		t.out.PromptTokens = u.PromptTokens
		if u.PromptTokensDetails != nil {
			t.out.CachedTokens = u.PromptTokensDetails.CachedTokens
		}
	}
	if len(ch.Choices) == 0 || ch.Choices[0].Text == "" {
		return nil
	}
	if !t.first {
		t.first = true
		t.out.TTFT = at
	} else {
		t.out.ITL = append(t.out.ITL, at-t.last)
	}
	t.last = at
	t.out.GeneratedText += ch.Choices[0].Text
	return nil
}

// whole processes a non-streamed response body that arrived at time at:
// TTFT equals the latency.
func (t *tracker) whole(data []byte, at float64) error {
	t.out.Latency = at
	if err := t.event(data, at); err != nil {
		return err
	}
	t.out.TTFT, t.out.ITL = at, nil
	return nil
}

// finish marks the request successful.
func (t *tracker) finish() Output {
	t.out.Success = true
	return t.out
}

// errorMessage extracts the message of an "error" value: an object with
// "message", a string, or any other JSON. ok is false for absent/null.
func errorMessage(raw json.RawMessage) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", false
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		return obj.Message, true
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	return truncate(s, 200), true
}

// abortMessage reports a finish_reason of type "abort".
func abortMessage(raw json.RawMessage) (string, bool) {
	var fr struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &fr) != nil || fr.Type != "abort" {
		return "", false
	}
	if fr.Message == "" {
		fr.Message = "abort"
	}
	return fr.Message, true
}

func isEmptyJSONList(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "[]" || s == "null"
}
