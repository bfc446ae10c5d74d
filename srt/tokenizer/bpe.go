package tokenizer

import (
	"sync"
	"unicode/utf8"
)

// bpeModel is rank-ordered BPE over vocabulary ids. Words arrive already
// byte-level encoded when the pre-tokenizer says so.
type bpeModel struct {
	vocab        map[string]int32
	merges       map[uint64]uint64 // left<<32|right -> rank<<32|result
	byteFallback bool
	byteIDs      [256]int32 // "<0xXX>" ids, -1 when absent
	unk          int32      // -1 when none
	fuseUnk      bool
	ignoreMerges bool // a word that is itself a token is emitted whole

	// bl is set when words arrive as raw bytes that the model spells with
	// the byte-level table itself; blIDs holds each byte's token id.
	bl    *byteLevel
	blIDs [256]int32
}

func mergeKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

type bpeSym struct {
	id         int32
	prev, next int32
	dead       bool
}

type bpeCand struct {
	rank     int32
	pos      int32 // left symbol
	lid, rid int32
	res      int32
}

func candLess(a, b bpeCand) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

type candHeap []bpeCand

func (h *candHeap) push(c bpeCand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !candLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *candHeap) pop() bpeCand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && candLess(s[r], s[l]) {
			m = r
		}
		if !candLess(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// initial splits w into single-character symbols (with byte fallback or unk
// for characters missing from the vocabulary).
func (m *bpeModel) initial(w string, syms []bpeSym) []bpeSym {
	add := func(id int32) {
		syms = append(syms, bpeSym{id: id})
	}
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		ch := w[i : i+size]
		i += size
		if id, ok := m.vocab[ch]; ok {
			add(id)
			continue
		}
		if m.byteFallback {
			okAll := true
			for k := 0; k < len(ch); k++ {
				if m.byteIDs[ch[k]] < 0 {
					okAll = false
					break
				}
			}
			if okAll {
				for k := 0; k < len(ch); k++ {
					add(m.byteIDs[ch[k]])
				}
				continue
			}
		}
		if m.unk < 0 {
			continue
		}
		if m.fuseUnk && len(syms) > 0 && syms[len(syms)-1].id == m.unk {
			continue
		}
		add(m.unk)
	}
	return syms
}

// initialBytes makes one symbol per byte of a raw (not yet byte-level
// spelled) word.
func (m *bpeModel) initialBytes(w string, syms []bpeSym) []bpeSym {
	for i := 0; i < len(w); i++ {
		id := m.blIDs[w[i]]
		if id < 0 {
			if m.unk < 0 || (m.fuseUnk && len(syms) > 0 && syms[len(syms)-1].id == m.unk) {
				continue
			}
			id = m.unk
		}
		syms = append(syms, bpeSym{id: id})
	}
	return syms
}

func (m *bpeModel) tokenize(w string, out []int32) []int32 {
	if m.ignoreMerges {
		key := w
		if m.bl != nil {
			key = m.bl.encode(w)
		}
		if id, ok := m.vocab[key]; ok {
			return append(out, id)
		}
	}
	var buf [32]bpeSym
	var syms []bpeSym
	if m.bl != nil {
		syms = m.initialBytes(w, buf[:0])
	} else {
		syms = m.initial(w, buf[:0])
	}
	n := len(syms)
	if n == 0 {
		return out
	}
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	syms[n-1].next = -1
	var hbuf [32]bpeCand
	h := candHeap(hbuf[:0])
	try := func(l int32) {
		r := syms[l].next
		if r < 0 {
			return
		}
		v, ok := m.merges[mergeKey(syms[l].id, syms[r].id)]
		if !ok {
			return
		}
		h.push(bpeCand{rank: int32(v >> 32), pos: l, lid: syms[l].id, rid: syms[r].id, res: int32(uint32(v))})
	}
	for i := 0; i < n-1; i++ {
		try(int32(i))
	}
	for len(h) > 0 {
		c := h.pop()
		l := &syms[c.pos]
		if l.dead || l.id != c.lid || l.next < 0 {
			continue
		}
		r := &syms[l.next]
		if r.id != c.rid {
			continue
		}
		l.id = c.res
		r.dead = true
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = c.pos
		}
		if l.prev >= 0 {
			try(l.prev)
		}
		try(c.pos)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out
}

// wordCache memoizes word -> ids. It is bounded: when full it is emptied.
type wordCache struct {
	mu  sync.RWMutex
	m   map[string][]int32
	max int
}

const maxCachedWord = 96

func newWordCache(max int) *wordCache {
	return &wordCache{m: make(map[string][]int32, 1024), max: max}
}

func (c *wordCache) get(w string) ([]int32, bool) {
	if c == nil || len(w) > maxCachedWord {
		return nil, false
	}
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	if c == nil || len(w) > maxCachedWord {
		return
	}
	cp := append([]int32(nil), ids...)
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[w] = cp
	c.mu.Unlock()
}
