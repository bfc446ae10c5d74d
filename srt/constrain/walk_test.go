package constrain

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// firstByteToAccept returns the first byte of a shortest byte path from the
// matcher's state to an accepting state (BFS over the DFA), or -1.
func firstByteToAccept(t testing.TB, m *Matcher) int {
	t.Helper()
	d := m.g.d
	type item struct {
		id    int32
		first int
	}
	seen := map[int32]bool{m.state: true}
	q := []item{{m.state, -1}}
	for len(q) > 0 {
		it := q[0]
		q = q[1:]
		s := d.state(it.id)
		if s.accept && it.first >= 0 {
			return it.first
		}
		for _, b := range d.classRep {
			nt, err := d.step(s, b)
			if err != nil {
				t.Fatal(err)
			}
			if nt == deadState || seen[nt] {
				continue
			}
			seen[nt] = true
			f := it.first
			if f < 0 {
				f = int(b)
			}
			q = append(q, item{nt, f})
		}
	}
	return -1
}

// allowedIDs lists the set bits of mask.
func allowedIDs(mask []uint64, dst []int32) []int32 {
	dst = dst[:0]
	for w, x := range mask {
		for x != 0 {
			b := bits.TrailingZeros64(x)
			dst = append(dst, int32(w*64+b))
			x &= x - 1
		}
	}
	return dst
}

// walkResult is one random generation.
type walkResult struct {
	out    []byte
	steps  int
	forced bool // ended because Done() forced EOS
}

// randomWalk drives a matcher with uniformly random allowed tokens. After
// budget tokens it steers to the nearest accepting state one byte token at
// a time. Every step checks that the mask agrees with Accept.
func randomWalk(t testing.TB, g *Grammar, tv *testVocab, rng *rand.Rand, budget int) walkResult {
	t.Helper()
	m := g.NewMatcher()
	var res walkResult
	var ids []int32
	for step := 0; ; step++ {
		if step > budget+4096 {
			t.Fatalf("walk did not finish; output so far %q", res.out)
		}
		mask := m.Mask(nil)
		ids = allowedIDs(mask, ids)
		if len(ids) == 0 {
			t.Fatalf("empty mask after %q", res.out)
		}
		if m.Done() {
			for _, id := range ids {
				if !tv.v.IsEOS(id) {
					t.Fatalf("Done() but mask allows token %d %q after %q", id, tv.v.Token(id), res.out)
				}
			}
			res.forced = true
		}
		canEnd := m.CanEnd()
		for _, id := range ids {
			if tv.v.IsEOS(id) && !canEnd {
				t.Fatalf("EOS allowed in a non-accepting state after %q", res.out)
			}
		}
		if canEnd && (res.forced || rng.IntN(5) == 0 || step >= budget) {
			if err := m.Accept(tv.eos); err != nil {
				t.Fatalf("EOS rejected after %q: %v", res.out, err)
			}
			if !m.Done() || m.Accept(tv.eos) == nil {
				t.Fatal("matcher accepts input after EOS")
			}
			return res
		}
		var id int32
		if step >= budget {
			b := firstByteToAccept(t, m)
			if b < 0 {
				t.Fatalf("no path to an accepting state after %q", res.out)
			}
			id = tv.byByte[b]
			if id < 0 || !m.Allowed(id) {
				t.Fatalf("byte token %d for %#x not allowed after %q", id, b, res.out)
			}
		} else {
			for {
				id = ids[rng.IntN(len(ids))]
				if !tv.v.IsEOS(id) {
					break
				}
			}
		}
		if err := m.Accept(id); err != nil {
			t.Fatalf("allowed token %d %q rejected after %q: %v", id, tv.v.Token(id), res.out, err)
		}
		res.out = append(res.out, tv.v.Token(id)...)
		res.steps++
	}
}
