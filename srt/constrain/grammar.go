package constrain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Options bound the automaton of a grammar. The zero value uses defaults.
type Options struct {
	// MaxStates bounds the number of DFA states (default 100,000).
	MaxStates int
	// MaxBytes bounds the memory of DFA states, not counting token masks
	// (default 256 MiB).
	MaxBytes int64
	// MaxNFANodes bounds the size of the pattern's NFA (default 1,000,000).
	MaxNFANodes int
	// Schema configures CompileJSONSchema.
	Schema SchemaOptions
}

func (o Options) withDefaults() Options {
	if o.MaxStates <= 0 {
		o.MaxStates = 100_000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxNFANodes <= 0 {
		o.MaxNFANodes = 1_000_000
	}
	return o
}

// Grammar is a compiled constraint for one vocabulary: immutable from the
// outside, shareable across requests and safe for concurrent use.
type Grammar struct {
	pattern string
	vocab   *Vocab
	d       *dfa
	eosOnly []uint64 // mask allowing only EOS
	none    []uint64 // mask allowing nothing
}

// CompileRegex compiles a Python-syntax regular expression (full-match
// semantics) against a vocabulary.
func CompileRegex(pattern string, v *Vocab, o Options) (*Grammar, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil vocabulary", ErrBadVocab)
	}
	o = o.withDefaults()
	re, err := parseRegex(pattern, o.MaxNFANodes)
	if err != nil {
		return nil, err
	}
	n, err := buildNFA(re, o.MaxNFANodes)
	if err != nil {
		return nil, fmt.Errorf("constrain: regex: %w", err)
	}
	d, err := newDFA(n, o.MaxStates, o.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("constrain: regex: %w", err)
	}
	if d.start == deadState {
		return nil, &RegexError{Pattern: pattern, Msg: "the pattern matches no string", Err: ErrEmptyLanguage}
	}
	g := &Grammar{pattern: pattern, vocab: v, d: d,
		eosOnly: make([]uint64, v.words), none: make([]uint64, v.words)}
	for _, id := range v.eos {
		g.eosOnly[id>>6] |= 1 << (id & 63)
	}
	return g, nil
}

// CompileJSONSchema compiles a JSON schema (via SchemaToRegex with
// o.Schema) against a vocabulary.
func CompileJSONSchema(schema []byte, v *Vocab, o Options) (*Grammar, error) {
	re, err := SchemaToRegex(schema, o.Schema)
	if err != nil {
		return nil, err
	}
	g, err := CompileRegex(re, v, o)
	if err != nil {
		// Positions in the generated regex mean nothing to the caller.
		se := &SchemaError{Msg: "the schema's regex does not compile: " + err.Error()}
		switch {
		case errors.Is(err, ErrTooComplex):
			se.Err = ErrTooComplex
		case errors.Is(err, ErrEmptyLanguage):
			se.Err = ErrEmptyLanguage
		case errors.Is(err, ErrBadVocab):
			return nil, err
		}
		return nil, se
	}
	return g, nil
}

// ChoicesRegex returns a regex matching exactly one of the given strings.
func ChoicesRegex(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = regexp.QuoteMeta(c)
	}
	return "(" + strings.Join(q, "|") + ")"
}

// CompileChoices compiles a grammar matching exactly one of choices (for
// select).
func CompileChoices(choices []string, v *Vocab, o Options) (*Grammar, error) {
	if len(choices) == 0 {
		return nil, fmt.Errorf("%w: no choices", ErrInvalidRegex)
	}
	return CompileRegex(ChoicesRegex(choices), v, o)
}

// Pattern returns the regex the grammar was compiled from.
func (g *Grammar) Pattern() string { return g.pattern }

// Vocab returns the grammar's vocabulary.
func (g *Grammar) Vocab() *Vocab { return g.vocab }

// NumStates reports how many DFA states have been built so far.
func (g *Grammar) NumStates() int { return g.d.numStates() }

// NewMatcher returns a matcher at the start of the grammar.
func (g *Grammar) NewMatcher() *Matcher {
	return &Matcher{g: g, state: g.d.start}
}

// mask returns the cached token mask of state id, computing it if needed.
// The result must not be modified.
func (g *Grammar) mask(id int32) ([]uint64, error) {
	s := g.d.state(id)
	if m := s.mask.Load(); m != nil {
		return *m, nil
	}
	m, err := g.computeMask(s)
	if err != nil {
		return nil, err
	}
	s.mask.Store(&m)
	return m, nil
}

// computeMask walks the vocabulary trie from s. Subtrees whose prefix kills
// the automaton are skipped through their skip links.
func (g *Grammar) computeMask(s *dstate) ([]uint64, error) {
	v := g.vocab
	d := g.d
	m := make([]uint64, v.words)
	if s.accept {
		copy(m, g.eosOnly)
	}
	if len(s.set) == 0 || (len(s.set) == 1 && s.accept) {
		return m, nil
	}
	path := make([]*dstate, v.maxDepth+1)
	path[0] = s
	nodes := v.nodeByte
	depth := v.nodeDepth
	skip := v.nodeSkip
	off := v.tokOff
	ids := v.tokIDs
	states := *d.states.Load()
	for i := 0; i < len(nodes); {
		parent := path[depth[i]-1]
		b := nodes[i]
		t := parent.trans[d.classOf[b]].Load() - 1
		if t < 0 {
			var err error
			if t, err = d.step(parent, b); err != nil {
				return nil, err
			}
		}
		if t == deadState {
			i = int(skip[i])
			continue
		}
		if int(t) >= len(states) {
			states = *d.states.Load()
		}
		path[depth[i]] = states[t]
		for _, id := range ids[off[i]:off[i+1]] {
			m[id>>6] |= 1 << (id & 63)
		}
		i++
	}
	return m, nil
}
