package benchserve

import (
	"fmt"
	"math/rand/v2"
)

// Dataset names accepted by DatasetConfig.Name.
const (
	DatasetRandom       = "random"
	DatasetRandomIDs    = "random-ids" // alias of DatasetRandom
	DatasetSharedPrefix = "generated-shared-prefix"
)

// DatasetConfig describes a synthetic dataset; the field names follow
// SGLang's --random-* and --gsp-* flags.
type DatasetConfig struct {
	Name string // DatasetRandom or DatasetSharedPrefix

	// Random dataset: each length is drawn uniformly from
	// [max(int(len*RangeRatio), 1), len], as in SGLang (ratio 1: fixed).
	RandomInputLen   int
	RandomOutputLen  int
	RandomRangeRatio float64

	// Generated-shared-prefix dataset: GSPNumGroups system prompts of
	// GSPSystemPromptLen tokens, each followed by GSPPromptsPerGroup questions
	// of GSPQuestionLen tokens; lengths are drawn like the random dataset's
	// with GSPRangeRatio (SGLang's default 1: fixed).
	GSPNumGroups       int
	GSPPromptsPerGroup int
	GSPSystemPromptLen int
	GSPQuestionLen     int
	GSPOutputLen       int
	GSPRangeRatio      float64
}

// DefaultDatasetConfig returns SGLang's defaults.
func DefaultDatasetConfig() DatasetConfig {
	return DatasetConfig{
		Name:           DatasetRandom,
		RandomInputLen: 1024, RandomOutputLen: 1024, RandomRangeRatio: 0,
		GSPNumGroups: 64, GSPPromptsPerGroup: 16, GSPSystemPromptLen: 2048,
		GSPQuestionLen: 128, GSPOutputLen: 256, GSPRangeRatio: 1,
	}
}

// Validate reports a bad dataset description (wrapping ErrConfig).
func (d DatasetConfig) Validate() error {
	switch d.Name {
	case DatasetRandom, DatasetRandomIDs:
		if d.RandomInputLen < 1 || d.RandomOutputLen < 1 {
			return fmt.Errorf("%w: --random-input-len and --random-output-len must be >= 1 (got %d, %d)", ErrConfig, d.RandomInputLen, d.RandomOutputLen)
		}
		if !(d.RandomRangeRatio >= 0 && d.RandomRangeRatio <= 1) {
			return fmt.Errorf("%w: --random-range-ratio must be in [0, 1] (got %g)", ErrConfig, d.RandomRangeRatio)
		}
	case DatasetSharedPrefix:
		if d.GSPNumGroups < 1 || d.GSPPromptsPerGroup < 1 {
			return fmt.Errorf("%w: --gsp-num-groups and --gsp-prompts-per-group must be >= 1", ErrConfig)
		}
		if d.GSPSystemPromptLen < 0 || d.GSPQuestionLen < 1 || d.GSPOutputLen < 1 {
			return fmt.Errorf("%w: --gsp-system-prompt-len must be >= 0, --gsp-question-len and --gsp-output-len >= 1", ErrConfig)
		}
		if !(d.GSPRangeRatio >= 0 && d.GSPRangeRatio <= 1) {
			return fmt.Errorf("%w: --gsp-range-ratio must be in [0, 1] (got %g)", ErrConfig, d.GSPRangeRatio)
		}
	default:
		return fmt.Errorf("%w: unknown --dataset-name %q (random, generated-shared-prefix)", ErrConfig, d.Name)
	}
	return nil
}

// Request is one prompt of a dataset.
type Request struct {
	IDs       []int32 // the prompt's token ids (prefix followed by question)
	Text      string  // the prompt as text; set only for text backends
	PromptLen int     // len(IDs)
	OutputLen int     // max_new_tokens asked for
	Group     int     // shared-prefix group, -1 for the random dataset
	PrefixLen int     // tokens of IDs shared with the group's other requests
}

// TokenPool is the set of token ids prompts are drawn from.
type TokenPool struct {
	ids []int32
}

// NewTokenPool returns the ids in [lo, hi) for which skip (if non-nil) is
// false. It fails (ErrConfig) when no id is left.
func NewTokenPool(lo, hi int32, skip func(int32) bool) (TokenPool, error) {
	if lo < 0 || hi <= lo {
		return TokenPool{}, fmt.Errorf("%w: token id range [%d, %d) is empty", ErrConfig, lo, hi)
	}
	ids := make([]int32, 0, hi-lo)
	for id := lo; id < hi; id++ {
		if skip == nil || !skip(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return TokenPool{}, fmt.Errorf("%w: every token id in [%d, %d) is special", ErrConfig, lo, hi)
	}
	return TokenPool{ids: ids}, nil
}

// Len is the number of ids in the pool.
func (p TokenPool) Len() int { return len(p.ids) }

func (p TokenPool) draw(r *rand.Rand, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = p.ids[r.IntN(len(p.ids))]
	}
	return out
}

// randomLen draws a length uniformly from [max(int(full*ratio),1), full].
func randomLen(r *rand.Rand, full int, ratio float64) int {
	lo := max(int(float64(full)*ratio), 1)
	if lo >= full {
		return full
	}
	return lo + r.IntN(full-lo+1)
}

// Generate builds the dataset. numPrompts applies to the random dataset;
// the shared-prefix dataset always has GSPNumGroups*GSPPromptsPerGroup
// requests (as in SGLang), interleaved across groups (g0q0, g1q0, ...,
// g0q1, ...) so that consecutive requests never share a prefix.
func (d DatasetConfig) Generate(numPrompts int, pool TokenPool, seed uint64) ([]Request, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if pool.Len() == 0 {
		return nil, fmt.Errorf("%w: empty token pool", ErrConfig)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed_da7a))
	if d.Name == DatasetSharedPrefix {
		return d.sharedPrefix(r, pool), nil
	}
	if numPrompts < 1 {
		return nil, fmt.Errorf("%w: --num-prompts must be >= 1 (got %d)", ErrConfig, numPrompts)
	}
	inLens := make([]int, numPrompts)
	outLens := make([]int, numPrompts)
	for i := range inLens {
		inLens[i] = randomLen(r, d.RandomInputLen, d.RandomRangeRatio)
	}
	for i := range outLens {
		outLens[i] = randomLen(r, d.RandomOutputLen, d.RandomRangeRatio)
	}
	reqs := make([]Request, numPrompts)
	for i := range reqs {
		ids := pool.draw(r, inLens[i])
		reqs[i] = Request{IDs: ids, PromptLen: len(ids), OutputLen: outLens[i], Group: -1}
	}
	return reqs, nil
}

func (d DatasetConfig) sharedPrefix(r *rand.Rand, pool TokenPool) []Request {
	g, q := d.GSPNumGroups, d.GSPPromptsPerGroup
	prefixes := make([][]int32, g)
	for i := range prefixes {
		n := d.GSPSystemPromptLen
		if n > 0 {
			n = randomLen(r, n, d.GSPRangeRatio)
		}
		prefixes[i] = pool.draw(r, n)
	}
	reqs := make([]Request, 0, g*q)
	for j := 0; j < q; j++ {
		for i := 0; i < g; i++ {
			qlen := randomLen(r, d.GSPQuestionLen, d.GSPRangeRatio)
			olen := randomLen(r, d.GSPOutputLen, d.GSPRangeRatio)
			ids := make([]int32, 0, len(prefixes[i])+qlen)
			ids = append(ids, prefixes[i]...)
			ids = append(ids, pool.draw(r, qlen)...)
			reqs = append(reqs, Request{IDs: ids, PromptLen: len(ids), OutputLen: olen, Group: i, PrefixLen: len(prefixes[i])})
		}
	}
	return reqs
}
