package ir

import (
	"fmt"
	"math"
	"strings"
)

// Method is how select picks a choice from its token logprobs (SGLang's
// choices_method).
type Method string

// The three methods of SGLang's sglang.lang.choices.
const (
	// TokenLengthNormalized picks the highest mean token logprob (default).
	TokenLengthNormalized Method = "token_length_normalized"
	// GreedyTokenSelection walks the token positions keeping the choices
	// whose logprob is the maximum; shorter choices are padded with their
	// own mean.
	GreedyTokenSelection Method = "greedy_token_selection"
	// UnconditionalLikelihoodNormalized picks the highest mean of
	// conditional minus unconditional token logprobs.
	UnconditionalLikelihoodNormalized Method = "unconditional_likelihood_normalized"
)

// NeedsUnconditional reports whether the method needs the choices' tokens
// scored without the prompt.
func (m Method) NeedsUnconditional() bool { return m == UnconditionalLikelihoodNormalized }

// Valid reports whether m is one of the three methods.
func (m Method) Valid() bool {
	switch m {
	case TokenLengthNormalized, GreedyTokenSelection, UnconditionalLikelihoodNormalized:
		return true
	}
	return false
}

// ChoiceLogprobs are the logprobs a ChoiceScorer returns, one entry per
// choice.
type ChoiceLogprobs struct {
	// Input are the conditional logprobs of each choice's tokens (the
	// token-healing token already dropped, see DropHealedToken).
	Input [][]TokenLogprob
	// Output are the output-token logprobs of each scoring request
	// (usually empty).
	Output [][]TokenLogprob
	// Normalized is each choice's mean input logprob; when nil Decide
	// computes it from Input.
	Normalized []float64
	// Unconditional are the logprobs of each choice's tokens scored
	// alone (nil unless asked for).
	Unconditional [][]TokenLogprob
}

// Decision is select's outcome and the numbers behind it (SGLang's
// ChoicesDecision meta info).
type Decision struct {
	Index                    int
	Choice                   string
	NormalizedPromptLogprobs []float64
	GreedyMatrix             [][]float64 // greedy_token_selection only
	NormalizedUnconditional  []float64   // unconditional_likelihood_normalized only
	Logprobs                 *ChoiceLogprobs
}

// MeanLogprob is the mean of the non-null logprobs of entries, NaN when
// there are none. (SGLang's compute_normalized_prompt_logprobs also skips
// exact zeros because it tests truthiness; a logprob of 0 is a certain
// token and we count it.)
func MeanLogprob(entries []TokenLogprob) float64 {
	sum, n := 0.0, 0
	for _, e := range entries {
		if !e.Null() {
			sum += e.Logprob
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// DropHealedToken removes the first entry when its text is a suffix of the
// prefix: the scoring request starts two tokens before the choice (for
// token healing), and when no healing happened that first token belongs to
// the prefix, not to the choice. An entry without text is kept.
func DropHealedToken(prefix string, entries []TokenLogprob) []TokenLogprob {
	if len(entries) == 0 || entries[0].Text == nil || !strings.HasSuffix(prefix, *entries[0].Text) {
		return entries
	}
	return entries[1:]
}

// Decide applies the method to the choices' logprobs. It fails when the
// logprobs do not match the choices.
func Decide(m Method, choices []string, lp *ChoiceLogprobs) (*Decision, error) {
	if !m.Valid() {
		return nil, fmt.Errorf("%w: choices method %q", ErrInvalid, m)
	}
	if len(choices) == 0 {
		return nil, fmt.Errorf("%w: select needs at least one choice", ErrInvalid)
	}
	if lp == nil || len(lp.Input) != len(choices) {
		return nil, fmt.Errorf("%w: logprobs for %d choices, want %d", ErrBackend, lenInput(lp), len(choices))
	}
	norm := lp.Normalized
	if norm == nil {
		norm = make([]float64, len(choices))
		for i, in := range lp.Input {
			norm[i] = MeanLogprob(in)
		}
	}
	if len(norm) != len(choices) {
		return nil, fmt.Errorf("%w: %d normalized logprobs for %d choices", ErrBackend, len(norm), len(choices))
	}
	d := &Decision{NormalizedPromptLogprobs: norm, Logprobs: lp}
	switch m {
	case TokenLengthNormalized:
		d.Index = ArgmaxFirst(norm)
	case GreedyTokenSelection:
		d.GreedyMatrix = GreedyMatrix(lp.Input)
		d.Index = GreedySelect(d.GreedyMatrix)
	case UnconditionalLikelihoodNormalized:
		vals, err := UnconditionalNormalized(lp.Input, lp.Unconditional)
		if err != nil {
			return nil, err
		}
		d.NormalizedUnconditional = vals
		d.Index = ArgmaxFirst(vals)
	}
	d.Choice = choices[d.Index]
	return d, nil
}

func lenInput(lp *ChoiceLogprobs) int {
	if lp == nil {
		return 0
	}
	return len(lp.Input)
}

// ArgmaxFirst is the index of the first maximum; NaN counts as -Inf.
// It returns 0 for an empty slice.
func ArgmaxFirst(vals []float64) int {
	best, bv := 0, math.Inf(-1)
	for i, v := range vals {
		if math.IsNaN(v) {
			v = math.Inf(-1)
		}
		if i == 0 || v > bv {
			best, bv = i, v
		}
	}
	return best
}

// GreedyMatrix builds greedy_token_selection's matrix: row i holds choice
// i's token logprobs, padded to the longest choice with the row's mean. A
// null logprob is replaced by the row's mean too; an empty row is all NaN.
func GreedyMatrix(input [][]TokenLogprob) [][]float64 {
	width := 0
	for _, in := range input {
		width = max(width, len(in))
	}
	m := make([][]float64, len(input))
	for i, in := range input {
		mean := MeanLogprob(in)
		row := make([]float64, width)
		for j := range row {
			row[j] = mean
			if j < len(in) && !in[j].Null() {
				row[j] = in[j].Logprob
			}
		}
		m[i] = row
	}
	return m
}

// GreedySelect walks the matrix's columns keeping the rows equal to the
// column's maximum among the rows still in play, until one is left; it
// returns the first row left. NaN counts as -Inf.
func GreedySelect(m [][]float64) int {
	if len(m) == 0 {
		return 0
	}
	remaining := make([]int, len(m))
	for i := range remaining {
		remaining[i] = i
	}
	val := func(i, j int) float64 {
		if v := m[i][j]; !math.IsNaN(v) {
			return v
		}
		return math.Inf(-1)
	}
	for j := 0; j < len(m[0]) && len(remaining) > 1; j++ {
		best := math.Inf(-1)
		for _, i := range remaining {
			best = max(best, val(i, j))
		}
		kept := remaining[:0]
		for _, i := range remaining {
			if val(i, j) == best {
				kept = append(kept, i)
			}
		}
		remaining = kept
	}
	return remaining[0]
}

// UnconditionalNormalized is, per choice, the mean of conditional minus
// unconditional logprobs; the first unconditional logprob counts as 0 when
// null (the first token of a prompt has none). Pairs with a null
// conditional logprob are skipped.
func UnconditionalNormalized(input, uncond [][]TokenLogprob) ([]float64, error) {
	if len(uncond) != len(input) {
		return nil, fmt.Errorf("%w: unconditional logprobs for %d choices, want %d", ErrBackend, len(uncond), len(input))
	}
	out := make([]float64, len(input))
	for i := range input {
		if len(input[i]) != len(uncond[i]) {
			return nil, fmt.Errorf("%w: choice %d has %d conditional and %d unconditional logprobs", ErrBackend, i, len(input[i]), len(uncond[i]))
		}
		sum, n := 0.0, 0
		for j, c := range input[i] {
			u := uncond[i][j].Logprob
			if uncond[i][j].Null() {
				if j != 0 {
					continue
				}
				u = 0
			}
			if c.Null() {
				continue
			}
			sum += c.Logprob - u
			n++
		}
		out[i] = math.NaN()
		if n > 0 {
			out[i] = sum / float64(n)
		}
	}
	return out, nil
}
