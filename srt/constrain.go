package srt

import (
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/sglang-go/sglang/srt/constrain"
)

// grammarCacheSize is how many compiled grammars an engine keeps.
const grammarCacheSize = 256

// constrainer holds what constrained decoding needs per engine: the
// vocabulary as byte strings (built on the first constrained request, since
// it costs a pass over the whole vocabulary) and the LRU of compiled
// grammars. It is safe for concurrent use.
type constrainer struct {
	once  sync.Once
	vocab *constrain.Vocab
	cache *constrain.Cache
	// pieces maps a token's bytes to its id, for the greedy tokenization
	// that jump-forward falls back on; maxPiece is the longest piece.
	pieces   map[string]int32
	maxPiece int
	err      error
}

// constraints returns the engine's constrainer, building it on first use.
func (e *Engine) constraints() (*constrainer, error) {
	c := &e.cons
	c.once.Do(func() {
		if e.tok == nil {
			c.err = fmt.Errorf("%w: constrained decoding needs a tokenizer", ErrNoTokenizer)
			return
		}
		n := max(e.cfg.Vocab, e.tok.VocabSize())
		tokens := make([][]byte, n)
		c.pieces = make(map[string]int32, n)
		for id := range min(n, e.tok.VocabSize()) {
			b := e.tok.TokenBytes(int32(id))
			if id >= e.cfg.Vocab { // ids the model cannot produce
				continue
			}
			tokens[id] = b
			if len(b) > 0 {
				if _, dup := c.pieces[string(b)]; !dup {
					c.pieces[string(b)] = int32(id)
				}
				c.maxPiece = max(c.maxPiece, len(b))
			}
		}
		tokens = tokens[:e.cfg.Vocab]
		var eos []int32
		for _, id := range e.eosIDs() {
			if id >= 0 && int(id) < len(tokens) {
				eos = append(eos, id)
			}
		}
		v, err := constrain.NewVocab(tokens, eos)
		if err != nil {
			c.err = fmt.Errorf("srt: constrained decoding: %w", err)
			return
		}
		c.vocab, c.cache = v, constrain.NewCache(v, grammarCacheSize)
	})
	return c, c.err
}

// eosIDs is the engine's EOS set: the model config's ids plus the
// tokenizer's own.
func (e *Engine) eosIDs() []int32 {
	if e.tok != nil && e.tok.EOS() >= 0 {
		for _, id := range e.cfg.EOS {
			if id == e.tok.EOS() {
				return e.cfg.EOS
			}
		}
		return append(append([]int32(nil), e.cfg.EOS...), e.tok.EOS())
	}
	return e.cfg.EOS
}

// compileConstraint compiles the request's regex, JSON schema or choices
// (at most one may be set) into a matcher; nil when none is set. Errors wrap
// ErrInvalidRequest and say where the pattern or schema is wrong.
func (e *Engine) compileConstraint(p *SamplingParams) (*constrain.Matcher, error) {
	kinds := 0
	for _, set := range []bool{p.Regex != "", p.JSONSchema != "", len(p.Choices) > 0} {
		if set {
			kinds++
		}
	}
	if kinds == 0 {
		return nil, nil
	}
	if kinds > 1 {
		return nil, fmt.Errorf("%w: give only one of regex, json_schema and choices", ErrInvalidRequest)
	}
	c, err := e.constraints()
	if err != nil {
		return nil, err
	}
	var g *constrain.Grammar
	switch {
	case p.Regex != "":
		g, err = c.cache.Get(constrain.KindRegex, p.Regex, constrain.Options{})
		if err != nil {
			err = fmt.Errorf("regex: %w", err)
		}
	case p.JSONSchema != "":
		g, err = c.cache.Get(constrain.KindJSONSchema, p.JSONSchema, constrain.Options{})
		if err != nil {
			err = fmt.Errorf("json_schema: %w", err)
		}
	default:
		for _, ch := range p.Choices {
			if ch == "" {
				return nil, fmt.Errorf("%w: choices: empty choice", ErrInvalidRequest)
			}
		}
		g, err = c.cache.Get(constrain.KindRegex, constrain.ChoicesRegex(p.Choices), constrain.Options{})
		if err != nil {
			err = fmt.Errorf("choices: %w", err)
		}
	}
	if err != nil {
		if errors.Is(err, constrain.ErrInvalidRegex) || errors.Is(err, constrain.ErrInvalidSchema) ||
			errors.Is(err, constrain.ErrEmptyLanguage) || errors.Is(err, constrain.ErrTooComplex) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		}
		return nil, fmt.Errorf("srt: %w", err)
	}
	return g.NewMatcher(), nil
}

// compileStopRegex compiles stop_regex patterns (Go regexp syntax).
func compileStopRegex(pats []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for i, p := range pats {
		if p == "" {
			return nil, fmt.Errorf("%w: stop_regex[%d] is empty", ErrInvalidRequest, i)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("%w: stop_regex[%d]: %w", ErrInvalidRequest, i, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// checkStopRegex ends the sequence at the earliest stop_regex match in the
// output text. Unlike a stop string, the matched text stays in the output
// (the output ends with it): a regex match has no bounded length, so text
// cannot be held back from a stream until it is known not to match.
func (s *seq) checkStopRegex() {
	if len(s.stopRe) == 0 || s.finish != nil {
		return
	}
	text := s.text.String()
	best, matched := -1, ""
	for _, re := range s.stopRe {
		if loc := re.FindStringIndex(text); loc != nil && (best < 0 || loc[0] < best) {
			best, matched = loc[0], text[loc[0]:loc[1]]
		}
	}
	if best >= 0 {
		s.finish = &FinishReason{Type: "stop", Matched: matched}
		s.stopAt = best + len(matched)
	}
}

// constrainRow masks row to the tokens the grammar allows. It reports false
// (and finishes s) when the matcher hit an automaton limit.
func (s *seq) constrainRow(row []float32) bool {
	if s.matcher == nil {
		return true
	}
	mask := s.matcher.Mask(nil)
	if err := s.matcher.Err(); err != nil {
		s.finish = &FinishReason{Type: "abort", Message: fmt.Sprintf("constrained decoding: %v", err)}
		return false
	}
	constrain.ApplyMask(row, mask)
	return true
}

// acceptConstrained advances the matcher by the sampled token id. When the
// output then fully matches and nothing can follow, it appends an EOS id
// without a forward step (forced EOS), finishing as if the model chose it.
func (s *seq) acceptConstrained(id int32) {
	if s.matcher == nil || s.finish != nil {
		return
	}
	if err := s.matcher.Accept(id); err != nil {
		s.finish = &FinishReason{Type: "abort", Message: fmt.Sprintf("constrained decoding: %v", err)}
		return
	}
	if s.matcher.Finished() || !s.matcher.Done() {
		return
	}
	s.forceEOS()
}

// forceEOS ends a sequence whose grammar is complete: the first EOS id is
// appended as an output token (unless max_new_tokens is reached) and the
// finish reason is "stop" with that id, as when the model samples it.
func (s *seq) forceEOS() {
	eos := s.matcher.Grammar().Vocab().EOS()
	if len(eos) == 0 {
		s.finish = &FinishReason{Type: "stop"}
		return
	}
	if s.outputs() >= s.maxNew {
		return // the length check finishes it
	}
	s.sampler.Accept(eos[0])
	s.ids = append(s.ids, eos[0])
	if s.req.ReturnLogprob {
		s.outLP = append(s.outLP, TokenLogprob{Logprob: 0, ID: eos[0], Text: s.tokenText(eos[0])})
		if s.req.TopLogprobsNum > 0 {
			s.outTop = append(s.outTop, nil)
		}
	}
	s.finish = &FinishReason{Type: "stop", Matched: eos[0]}
}
