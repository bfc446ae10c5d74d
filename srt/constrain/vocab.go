package constrain

import (
	"bytes"
	"fmt"
	"slices"
)

// Vocab is a model's vocabulary as byte strings, indexed by token id, plus
// its EOS ids. It holds a byte trie (in preorder, with subtree skip links) used
// to compute token masks. Build it once per model; it is immutable and safe
// for concurrent use.
type Vocab struct {
	tokens [][]byte
	eos    []int32
	isEOS  []bool
	words  int // len of a mask in uint64 words

	// Trie nodes in preorder. Node i consumes nodeByte[i] at depth
	// nodeDepth[i] (1-based); its subtree ends just before nodeSkip[i].
	nodeByte  []byte
	nodeDepth []int32
	nodeSkip  []int32
	tokOff    []int32 // tokens ending at node i: tokIDs[tokOff[i]:tokOff[i+1]]
	tokIDs    []int32
	maxDepth  int
}

// NewVocab builds a vocabulary. tokens[id] is the exact byte string that
// token id decodes to; give special and control tokens an empty (nil) byte
// string so that masks never allow them. eos lists the ids that end a
// generation; they are allowed only where the grammar accepts.
func NewVocab(tokens [][]byte, eos []int32) (*Vocab, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrBadVocab)
	}
	if len(tokens) > 1<<30 {
		return nil, fmt.Errorf("%w: %d tokens is too many", ErrBadVocab, len(tokens))
	}
	v := &Vocab{
		tokens: make([][]byte, len(tokens)),
		isEOS:  make([]bool, len(tokens)),
		words:  (len(tokens) + 63) / 64,
	}
	for i, t := range tokens {
		v.tokens[i] = bytes.Clone(t)
	}
	for _, id := range eos {
		if id < 0 || int(id) >= len(tokens) {
			return nil, fmt.Errorf("%w: EOS id %d outside [0,%d)", ErrBadVocab, id, len(tokens))
		}
		if !v.isEOS[id] {
			v.isEOS[id] = true
			v.eos = append(v.eos, id)
		}
	}
	v.buildTrie()
	return v, nil
}

// Size is the number of token ids (the mask covers ids [0, Size)).
func (v *Vocab) Size() int { return len(v.tokens) }

// MaskWords is the length of a mask in uint64 words.
func (v *Vocab) MaskWords() int { return v.words }

// Token returns the bytes of id (nil for special tokens or bad ids). The
// result must not be modified.
func (v *Vocab) Token(id int32) []byte {
	if id < 0 || int(id) >= len(v.tokens) {
		return nil
	}
	return v.tokens[id]
}

// EOS returns the end-of-sequence ids.
func (v *Vocab) EOS() []int32 { return slices.Clone(v.eos) }

// IsEOS reports whether id is an EOS id.
func (v *Vocab) IsEOS(id int32) bool {
	return id >= 0 && int(id) < len(v.isEOS) && v.isEOS[id]
}

func (v *Vocab) buildTrie() {
	order := make([]int32, 0, len(v.tokens))
	for i, t := range v.tokens {
		if len(t) > 0 && !v.isEOS[i] {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(v.tokens[a], v.tokens[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	var open []int32 // open[d-1] = node at depth d on the current path
	var prev []byte
	v.tokOff = append(v.tokOff, 0)
	for _, id := range order {
		s := v.tokens[id]
		if prev != nil && bytes.Equal(s, prev) {
			// Same bytes as the previous token: same node.
			v.tokIDs = append(v.tokIDs, id)
			v.tokOff[len(v.tokOff)-1] = int32(len(v.tokIDs))
			continue
		}
		lcp := 0
		for lcp < len(s) && lcp < len(prev) && s[lcp] == prev[lcp] {
			lcp++
		}
		// Close nodes deeper than the shared prefix.
		for len(open) > lcp {
			v.nodeSkip[open[len(open)-1]] = int32(len(v.nodeByte))
			open = open[:len(open)-1]
		}
		for d := lcp; d < len(s); d++ {
			node := int32(len(v.nodeByte))
			v.nodeByte = append(v.nodeByte, s[d])
			v.nodeDepth = append(v.nodeDepth, int32(d+1))
			v.nodeSkip = append(v.nodeSkip, 0)
			v.tokOff = append(v.tokOff, int32(len(v.tokIDs)))
			open = append(open, node)
		}
		v.tokIDs = append(v.tokIDs, id)
		v.tokOff[len(v.tokOff)-1] = int32(len(v.tokIDs))
		if len(s) > v.maxDepth {
			v.maxDepth = len(s)
		}
		prev = s
	}
	for _, n := range open {
		v.nodeSkip[n] = int32(len(v.nodeByte))
	}
}
