package tokenizer

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// preStep is one pre-tokenizer: it splits (and may rewrite) words.
type preStep interface {
	apply(words []string) []string
}

// matcher finds the non-overlapping matches of a split pattern in s, in
// order, as byte offsets.
type matcher interface {
	find(s string, fn func(start, end int))
}

type splitBehavior int

const (
	splitIsolated splitBehavior = iota
	splitRemoved
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

// splitStep is HF's Split pre-tokenizer (and llama.cpp's per-regex split,
// which is the Isolated behaviour).
type splitStep struct {
	m        matcher
	behavior splitBehavior
	invert   bool
}

type span struct {
	s, e  int
	match bool
}

func (p splitStep) apply(words []string) []string {
	out := make([]string, 0, len(words)*4)
	var spans []span
	for _, w := range words {
		spans = spans[:0]
		last := 0
		p.m.find(w, func(s, e int) {
			if s > last {
				spans = append(spans, span{last, s, false})
			}
			if e > s {
				spans = append(spans, span{s, e, true})
			}
			last = e
		})
		if last < len(w) {
			spans = append(spans, span{last, len(w), false})
		}
		if p.invert {
			for i := range spans {
				spans[i].match = !spans[i].match
			}
		}
		out = p.emit(out, w, spans)
	}
	return out
}

func (p splitStep) emit(out []string, w string, spans []span) []string {
	switch p.behavior {
	case splitRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, w[sp.s:sp.e])
			}
		}
	case splitMergedWithPrevious:
		var acc []span
		prev := false
		for _, sp := range spans {
			if sp.match && !prev && len(acc) > 0 {
				acc[len(acc)-1].e = sp.e
			} else {
				acc = append(acc, sp)
			}
			prev = sp.match
		}
		for _, sp := range acc {
			out = append(out, w[sp.s:sp.e])
		}
	case splitMergedWithNext:
		var acc []span
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prev && len(acc) > 0 {
				acc[len(acc)-1].s = sp.s
			} else {
				acc = append(acc, sp)
			}
			prev = sp.match
		}
		for i := len(acc) - 1; i >= 0; i-- {
			out = append(out, w[acc[i].s:acc[i].e])
		}
	case splitContiguous:
		for i := 0; i < len(spans); {
			j := i + 1
			if spans[i].match {
				for j < len(spans) && spans[j].match {
					j++
				}
			}
			out = append(out, w[spans[i].s:spans[j-1].e])
			i = j
		}
	default:
		for _, sp := range spans {
			out = append(out, w[sp.s:sp.e])
		}
	}
	return out
}

// matchTimeout bounds one regexp2 match so a pathological pattern from a
// tokenizer.json cannot hang Encode; text after a timed-out match is kept
// as one piece.
const matchTimeout = 2 * time.Second

// reMatcher runs a regexp2 pattern (the general path).
type reMatcher struct{ re *regexp2.Regexp }

func newReMatcher(pattern string) (*reMatcher, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = matchTimeout
	return &reMatcher{re: re}, nil
}

func (m *reMatcher) find(s string, fn func(start, end int)) {
	if s == "" {
		return
	}
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		offs = append(offs, i)
		i += size
	}
	offs = append(offs, len(s))
	mt, err := m.re.FindRunesMatch(runes)
	for err == nil && mt != nil {
		fn(offs[mt.Index], offs[mt.Index+mt.Length])
		mt, err = m.re.FindNextMatch(mt)
	}
}

// literalMatcher splits on a literal string.
type literalMatcher struct{ lit string }

func (m literalMatcher) find(s string, fn func(start, end int)) {
	if m.lit == "" {
		return
	}
	off := 0
	for {
		i := strings.Index(s[off:], m.lit)
		if i < 0 {
			return
		}
		fn(off+i, off+i+len(m.lit))
		off += i + len(m.lit)
	}
}

// byteLevelStep is HF's ByteLevel pre-tokenizer: optional prefix space,
// optional GPT-2 split, then every byte is spelled with the byte table.
type byteLevelStep struct {
	bl          *byteLevel
	prefixSpace bool
	split       *splitStep // GPT-2 regex when use_regex
}

func (p byteLevelStep) apply(words []string) []string {
	if p.prefixSpace && len(words) > 0 && words[0] != "" && !strings.HasPrefix(words[0], " ") {
		words[0] = " " + words[0]
	}
	if p.split != nil {
		words = p.split.apply(words)
	}
	for i, w := range words {
		words[i] = p.bl.encode(w)
	}
	return words
}

// metaspaceStep is HF's Metaspace pre-tokenizer.
type metaspaceStep struct {
	repl    string
	prepend string // "always", "first", "never"
	split   bool
}

func (p metaspaceStep) apply(words []string) []string {
	out := words[:0:0]
	for i, w := range words {
		w = strings.ReplaceAll(w, " ", p.repl)
		if (p.prepend == "always" || (p.prepend == "first" && i == 0)) && !strings.HasPrefix(w, p.repl) {
			w = p.repl + w
		}
		if !p.split {
			out = append(out, w)
			continue
		}
		// split before each replacement rune (MergedWithNext)
		start := 0
		for j := 1; j < len(w); j++ {
			if strings.HasPrefix(w[j:], p.repl) {
				out = append(out, w[start:j])
				start = j
			}
		}
		out = append(out, w[start:])
	}
	return out
}
