// Package sample turns one row of next-token logits into a token id, the way
// SGLang's sampler does, and computes the log-probabilities SGLang reports.
//
// # Pipeline
//
// Sampler.Sample applies, in this order, to the logits row it is given:
//
//  1. Repetition penalty (multiplicative, HF style: a positive logit is divided
//     by the penalty, a negative one multiplied) on every token seen in the
//     prompt given to New or in the output recorded by Accept. This follows
//     HF, vLLM and SGLang before 2025; current SGLang penalises output
//     tokens only (pass a nil prompt to New for that behaviour).
//  2. Frequency penalty (minus FrequencyPenalty times the token's output count)
//     and presence penalty (minus PresencePenalty once the token appeared in
//     the output). Both count output tokens only, as OpenAI and SGLang do.
//  3. The min_new_tokens mask: until Accept has recorded MinNewTokens tokens,
//     EOSTokenIDs and StopTokenIDs get -Inf.
//  4. Greedy (Temperature < 1e-6): argmax, ties to the lowest id. Done.
//  5. Temperature: logits are multiplied by 1/Temperature.
//  6. Truncation on the softmax of those logits: top-k, then top-p on the
//     top-k renormalised distribution (the smallest set of most probable
//     tokens whose mass reaches TopP), then min-p (drop tokens whose
//     probability is below MinP times the largest one). Probability ties are
//     ordered by token id, lowest first.
//  7. One draw from the renormalised survivors with the Sampler's PCG
//     generator (one uniform number per call).
//
// NaN logits count as -Inf. If any logit is +Inf, the lowest such id wins.
// If every logit is -Inf or NaN, Sample returns 0.
//
// # What Sample leaves in the row
//
// Sample works in place: when it returns, the row holds the logits after
// steps 1-3 and, unless greedy, step 5 (with NaN replaced by -Inf). The row
// is never truncated by top-k/top-p/min-p. Logprob on that row therefore
// gives SGLang's default logprobs (its sampler returns the log-softmax after
// penalties and temperature, before truncation); Logprob on a copy of the
// raw row taken before Sample gives the model's own distribution (what
// SGLang returns with SGLANG_RETURN_ORIGINAL_LOGPROB set). The engine picks
// which row to pass; the functions here are pure.
//
// # Determinism and cost
//
// A Sampler with a Seed draws the same ids for the same sequence of logits
// rows and Accept calls. A Sampler is not safe for concurrent use; the engine
// owns one per sequence. It keeps its scratch between calls (a float32 per
// vocabulary entry once a non-greedy row was sampled), so Sample does not
// allocate in steady state. No path sorts the whole vocabulary: top-k is a
// bounded heap fed by a vectorised "next entry above the heap's minimum"
// scan; top-p first tries the tokens within 10 logits of the max and
// otherwise locates the cut with one histogram pass and a weighted
// quickselect inside one bin. On amd64 with AVX2+FMA the row-wide loops
// (max, scale, exp-and-sum, threshold scans, masked sums) are assembly,
// with an AVX-512F exp-and-sum where available; elsewhere, or with the
// purego build tag, they are plain Go.
package sample

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidParams is wrapped by every error Validate returns.
var ErrInvalidParams = errors.New("sample: invalid sampling params")

// greedyEps is SGLang's _SAMPLING_EPS: temperatures below it mean greedy.
const greedyEps = 1e-6

// Params are one request's sampling settings, with SGLang's meanings. The
// zero value is not valid (TopP 0); start from Defaults.
type Params struct {
	Temperature float32 // < 1e-6 (including 0) is greedy; SGLang default 1
	TopP        float32 // (0, 1]; 1 is off
	TopK        int     // <= 0 is off (SGLang spells it -1)
	MinP        float32 // [0, 1]; 0 is off

	RepetitionPenalty float32 // (0, 2]; 1 is off; prompt and output tokens
	FrequencyPenalty  float32 // [-2, 2]; 0 is off; output tokens, times count
	PresencePenalty   float32 // [-2, 2]; 0 is off; output tokens, once

	// Seed makes the draws reproducible; nil seeds from the runtime's
	// random source. New copies the value.
	Seed *uint64

	// MinNewTokens: until this many tokens were accepted, EOSTokenIDs and
	// StopTokenIDs are masked to -Inf.
	MinNewTokens int
	StopTokenIDs []int32
	EOSTokenIDs  []int32 // filled by the engine from the model/tokenizer

	// IgnoreEOS is carried for the engine, which must then not stop on EOS.
	// The sampler itself does not consult it: EOS ids are still masked during
	// MinNewTokens and otherwise sampled normally, as in SGLang.
	IgnoreEOS bool
}

// Defaults returns SGLang's default sampling params: temperature 1, no
// truncation, no penalties.
func Defaults() Params {
	return Params{Temperature: 1, TopP: 1, TopK: -1, RepetitionPenalty: 1}
}

// Greedy reports whether p selects the argmax (temperature below 1e-6).
func (p *Params) Greedy() bool { return p.Temperature < greedyEps }

// Validate checks p against SGLang's limits for a vocabulary of vocab ids.
// Errors wrap ErrInvalidParams.
func (p *Params) Validate(vocab int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
	}
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	switch {
	case vocab <= 0:
		return bad("vocabulary size must be positive, got %d", vocab)
	case !finite(p.Temperature) || p.Temperature < 0:
		return bad("temperature must be a non-negative finite number, got %v", p.Temperature)
	case !(p.TopP > 0 && p.TopP <= 1):
		return bad("top_p must be in (0, 1], got %v", p.TopP)
	case !(p.MinP >= 0 && p.MinP <= 1):
		return bad("min_p must be in [0, 1], got %v", p.MinP)
	case !(p.FrequencyPenalty >= -2 && p.FrequencyPenalty <= 2):
		return bad("frequency_penalty must be in [-2, 2], got %v", p.FrequencyPenalty)
	case !(p.PresencePenalty >= -2 && p.PresencePenalty <= 2):
		return bad("presence_penalty must be in [-2, 2], got %v", p.PresencePenalty)
	case !(p.RepetitionPenalty > 0 && p.RepetitionPenalty <= 2):
		return bad("repetition_penalty must be in (0, 2] (1 is off), got %v", p.RepetitionPenalty)
	case p.MinNewTokens < 0:
		return bad("min_new_tokens must not be negative, got %d", p.MinNewTokens)
	}
	for _, id := range p.StopTokenIDs {
		if id < 0 || int(id) >= vocab {
			return bad("stop_token_ids entry %d is outside the vocabulary [0, %d)", id, vocab)
		}
	}
	return nil
}

// settings are Params sanitised for use: anything Validate would reject
// becomes "off", so New never fails.
type settings struct {
	greedy   bool
	invTemp  float32
	topP     float32 // in (0,1); 0 = off
	topK     int     // > 0; 0 = off
	logMinP  float32 // ln(MinP), valid when minPOn
	minPOn   bool
	rep      float32 // 1 = off
	freq     float32
	pres     float32
	minNew   int
	stopMask []int32 // EOS and stop ids masked during MinNewTokens
}

func sanitize(p *Params, vocab int) settings {
	var s settings
	t := p.Temperature
	if !finite32(t) {
		t = 1 // NaN or Inf: the default
	}
	s.greedy = t < greedyEps
	if !s.greedy {
		s.invTemp = 1 / t
	}
	if p.TopP > 0 && p.TopP < 1 {
		s.topP = p.TopP
	}
	if p.TopK > 0 && p.TopK < vocab {
		s.topK = p.TopK
	}
	if p.MinP > 0 && p.MinP <= 1 {
		s.minPOn = true
		s.logMinP = float32(math.Log(float64(p.MinP)))
	}
	s.rep = 1
	if p.RepetitionPenalty > 0 && !math.IsInf(float64(p.RepetitionPenalty), 0) {
		s.rep = p.RepetitionPenalty
	}
	if finite32(p.FrequencyPenalty) {
		s.freq = p.FrequencyPenalty
	}
	if finite32(p.PresencePenalty) {
		s.pres = p.PresencePenalty
	}
	s.minNew = max(p.MinNewTokens, 0)
	if s.minNew > 0 {
		for _, ids := range [][]int32{p.EOSTokenIDs, p.StopTokenIDs} {
			for _, id := range ids {
				if id >= 0 && int(id) < vocab {
					s.stopMask = append(s.stopMask, id)
				}
			}
		}
	}
	return s
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}
