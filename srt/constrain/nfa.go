package constrain

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// NFA node kinds.
const (
	nByte  = iota // consume one byte in [lo,hi], go to out
	nSplit        // epsilon to out and out1
	nMatch        // accepting
	nFail         // dead end
)

type nnode struct {
	kind   uint8
	lo, hi byte
	out    int32
	out1   int32
}

// nfa is a Thompson NFA over bytes. Rune classes are expanded to UTF-8 byte
// range sequences, so only valid UTF-8 is ever accepted.
type nfa struct {
	nodes []nnode
	start int32
	limit int
}

var errNFATooBig = fmt.Errorf("%w: the pattern expands to too many automaton nodes", ErrTooComplex)

func (n *nfa) add(x nnode) (int32, error) {
	if len(n.nodes) >= n.limit {
		return 0, errNFATooBig
	}
	n.nodes = append(n.nodes, x)
	return int32(len(n.nodes) - 1), nil
}

// buildNFA compiles a simplified syntax tree. limit bounds the node count.
func buildNFA(re *syntax.Regexp, limit int) (*nfa, error) {
	n := &nfa{limit: limit}
	m, err := n.add(nnode{kind: nMatch})
	if err != nil {
		return nil, err
	}
	n.start, err = n.build(re, m)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// build compiles re so that it continues to next, returning its entry node.
func (n *nfa) build(re *syntax.Regexp, next int32) (int32, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		return n.add(nnode{kind: nFail})
	case syntax.OpEmptyMatch:
		return next, nil
	case syntax.OpLiteral:
		var err error
		for k := len(re.Rune) - 1; k >= 0; k-- {
			r := re.Rune[k]
			if re.Flags&syntax.FoldCase != 0 {
				next, err = n.class(foldRanges(r), next)
			} else {
				next, err = n.class([]rune{r, r}, next)
			}
			if err != nil {
				return 0, err
			}
		}
		return next, nil
	case syntax.OpCharClass:
		return n.class(re.Rune, next)
	case syntax.OpAnyCharNotNL:
		return n.class([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}, next)
	case syntax.OpAnyChar:
		return n.class([]rune{0, unicode.MaxRune}, next)
	case syntax.OpCapture:
		return n.build(re.Sub[0], next)
	case syntax.OpConcat:
		var err error
		for k := len(re.Sub) - 1; k >= 0; k-- {
			if next, err = n.build(re.Sub[k], next); err != nil {
				return 0, err
			}
		}
		return next, nil
	case syntax.OpAlternate:
		return n.alt(re.Sub, next)
	case syntax.OpStar, syntax.OpPlus:
		loop, err := n.add(nnode{kind: nSplit, out1: next})
		if err != nil {
			return 0, err
		}
		body, err := n.build(re.Sub[0], loop)
		if err != nil {
			return 0, err
		}
		n.nodes[loop].out = body
		if re.Op == syntax.OpPlus {
			return body, nil
		}
		return loop, nil
	case syntax.OpQuest:
		body, err := n.build(re.Sub[0], next)
		if err != nil {
			return 0, err
		}
		return n.add(nnode{kind: nSplit, out: body, out1: next})
	}
	return 0, fmt.Errorf("%w: unsupported construct %s", ErrInvalidRegex, re)
}

func (n *nfa) alt(subs []*syntax.Regexp, next int32) (int32, error) {
	if len(subs) == 1 {
		return n.build(subs[0], next)
	}
	a, err := n.build(subs[0], next)
	if err != nil {
		return 0, err
	}
	b, err := n.alt(subs[1:], next)
	if err != nil {
		return 0, err
	}
	return n.add(nnode{kind: nSplit, out: a, out1: b})
}

// foldRanges returns the case-folding orbit of r as sorted range pairs.
func foldRanges(r rune) []rune {
	set := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		set = append(set, f)
	}
	var out []rune
	slices.Sort(set)
	for _, x := range set {
		out = append(out, x, x)
	}
	return out
}

// class compiles a rune class (sorted [lo,hi] pairs) into byte sequences.
func (n *nfa) class(ranges []rune, next int32) (int32, error) {
	var seqs [][]byteRange
	for k := 0; k+1 < len(ranges); k += 2 {
		seqs = utf8Sequences(seqs, ranges[k], ranges[k+1])
	}
	if len(seqs) == 0 {
		return n.add(nnode{kind: nFail})
	}
	// Share the trailing continuation-byte chains: sequences ending with the
	// same ranges reuse nodes via a small memo keyed by (suffix, next).
	memo := map[[3]int32]int32{}
	var entries []int32
	for _, seq := range seqs {
		cur := next
		for k := len(seq) - 1; k >= 0; k-- {
			key := [3]int32{int32(seq[k].lo), int32(seq[k].hi), cur}
			if k == 0 { // first bytes are not shared: they fan out via splits
				id, err := n.add(nnode{kind: nByte, lo: seq[k].lo, hi: seq[k].hi, out: cur})
				if err != nil {
					return 0, err
				}
				cur = id
				break
			}
			if id, ok := memo[key]; ok {
				cur = id
				continue
			}
			id, err := n.add(nnode{kind: nByte, lo: seq[k].lo, hi: seq[k].hi, out: cur})
			if err != nil {
				return 0, err
			}
			memo[key] = id
			cur = id
		}
		entries = append(entries, cur)
	}
	cur := entries[len(entries)-1]
	for k := len(entries) - 2; k >= 0; k-- {
		id, err := n.add(nnode{kind: nSplit, out: entries[k], out1: cur})
		if err != nil {
			return 0, err
		}
		cur = id
	}
	return cur, nil
}

type byteRange struct{ lo, hi byte }

// utf8Sequences appends the UTF-8 byte-range sequences covering runes lo..hi
// (surrogates excluded) to dst.
func utf8Sequences(dst [][]byteRange, lo, hi rune) [][]byteRange {
	if lo < 0 {
		lo = 0
	}
	if hi > unicode.MaxRune {
		hi = unicode.MaxRune
	}
	if lo > hi {
		return dst
	}
	// Remove surrogates, which UTF-8 cannot encode.
	if lo < 0xD800 && hi > 0xDFFF {
		dst = utf8Sequences(dst, lo, 0xD7FF)
		return utf8Sequences(dst, 0xE000, hi)
	}
	if lo >= 0xD800 && lo <= 0xDFFF {
		lo = 0xE000
	}
	if hi >= 0xD800 && hi <= 0xDFFF {
		hi = 0xD7FF
	}
	if lo > hi {
		return dst
	}
	// Split at encoding-length boundaries.
	for _, b := range []rune{0x7F, 0x7FF, 0xFFFF} {
		if lo <= b && hi > b {
			dst = utf8Sequences(dst, lo, b)
			return utf8Sequences(dst, b+1, hi)
		}
	}
	if hi <= 0x7F {
		return append(dst, []byteRange{{byte(lo), byte(hi)}})
	}
	// Split until lo and hi differ only in a suffix that spans full
	// continuation ranges.
	for i := 1; i < utf8.UTFMax; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				dst = utf8Sequences(dst, lo, lo|m)
				return utf8Sequences(dst, (lo|m)+1, hi)
			}
			if hi&m != m {
				dst = utf8Sequences(dst, lo, (hi&^m)-1)
				return utf8Sequences(dst, hi&^m, hi)
			}
		}
	}
	var a, b [utf8.UTFMax]byte
	na := utf8.EncodeRune(a[:], lo)
	utf8.EncodeRune(b[:], hi)
	seq := make([]byteRange, na)
	for k := range na {
		seq[k] = byteRange{a[k], b[k]}
	}
	return append(dst, seq)
}
