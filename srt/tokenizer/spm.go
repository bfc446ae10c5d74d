package tokenizer

import "unicode/utf8"

// spmModel is llama.cpp's SentencePiece BPE: adjacent symbols merge when
// their concatenation is a vocabulary piece, highest piece score first;
// characters that never form a piece fall back to <0xXX> byte tokens (or
// unk).
type spmModel struct {
	vocab   map[string]int32
	scores  []float32
	byteIDs [256]int32
	unk     int32
}

type spmSym struct {
	start, n   int32
	prev, next int32
}

type spmCand struct {
	score float32
	l, r  int32
	size  int32
}

func spmLess(a, b spmCand) bool { // true when a has priority
	return a.score > b.score || (a.score == b.score && a.l < b.l)
}

func (m *spmModel) tokenize(w string, out []int32) []int32 {
	syms := make([]spmSym, 0, len(w))
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		if c := w[i]; c >= 0xC0 { // llama.cpp takes the lead byte's length
			want := 2
			if c >= 0xF0 {
				want = 4
			} else if c >= 0xE0 {
				want = 3
			}
			size = min(want, len(w)-i)
		}
		syms = append(syms, spmSym{start: int32(i), n: int32(size), prev: int32(len(syms) - 1), next: int32(len(syms) + 1)})
		i += size
	}
	if len(syms) == 0 {
		return out
	}
	syms[len(syms)-1].next = -1
	var q []spmCand
	push := func(c spmCand) {
		q = append(q, c)
		i := len(q) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !spmLess(q[i], q[p]) {
				break
			}
			q[i], q[p] = q[p], q[i]
			i = p
		}
	}
	pop := func() spmCand {
		top := q[0]
		n := len(q) - 1
		q[0] = q[n]
		q = q[:n]
		i := 0
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			c := l
			if r := l + 1; r < n && spmLess(q[r], q[l]) {
				c = r
			}
			if !spmLess(q[c], q[i]) {
				break
			}
			q[i], q[c] = q[c], q[i]
			i = c
		}
		return top
	}
	try := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		s := w[syms[l].start : syms[r].start+syms[r].n]
		id, ok := m.vocab[s]
		if !ok || int(id) >= len(m.scores) {
			return
		}
		push(spmCand{score: m.scores[id], l: l, r: r, size: int32(len(s))})
	}
	for i := 1; i < len(syms); i++ {
		try(int32(i-1), int32(i))
	}
	for len(q) > 0 {
		c := pop()
		L, R := &syms[c.l], &syms[c.r]
		if L.n == 0 || R.n == 0 || L.n+R.n != c.size || L.next != c.r {
			continue
		}
		L.n += R.n
		R.n = 0
		L.next = R.next
		if R.next >= 0 {
			syms[R.next].prev = c.l
		}
		try(L.prev, c.l)
		try(c.l, L.next)
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		s := w[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := m.vocab[s]; ok {
			out = append(out, id)
			continue
		}
		for k := 0; k < len(s); k++ {
			if id := m.byteIDs[s[k]]; id >= 0 {
				out = append(out, id)
			} else if m.unk >= 0 {
				out = append(out, m.unk)
			}
		}
	}
	return out
}
