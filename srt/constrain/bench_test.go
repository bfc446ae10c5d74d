package constrain

import (
	"math/rand/v2"
	"testing"
)

// benchStates returns matchers of the character regex (inside the "name"
// string) and of a free JSON string (almost every token allowed).
func benchMatchers(b *testing.B) (tv *testVocab, name, str *Matcher) {
	tv = loadQwen(b)
	g, err := CompileRegex(characterRegex, tv.v, Options{})
	if err != nil {
		b.Fatal(err)
	}
	name = g.NewMatcher()
	if err := name.AcceptBytes([]byte("{\n    \"name\": \"Ha")); err != nil {
		b.Fatal(err)
	}
	gs, err := CompileRegex(reString, tv.v, Options{})
	if err != nil {
		b.Fatal(err)
	}
	str = gs.NewMatcher()
	if err := str.AcceptBytes([]byte(`"ab`)); err != nil {
		b.Fatal(err)
	}
	return tv, name, str
}

func BenchmarkMaskUncached(b *testing.B) {
	_, name, str := benchMatchers(b)
	for _, c := range []struct {
		name string
		m    *Matcher
	}{{"name-field", name}, {"json-string", str}} {
		b.Run(c.name, func(b *testing.B) {
			s := c.m.g.d.state(c.m.state)
			if _, err := c.m.g.computeMask(s); err != nil { // build the DFA states once
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.m.g.computeMask(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMaskCachedApply(b *testing.B) {
	tv, name, _ := benchMatchers(b)
	logits := make([]float32, tv.v.Size())
	for i := range logits {
		logits[i] = float32(i % 7)
	}
	name.Mask(nil)
	b.ResetTimer()
	for b.Loop() {
		ApplyMask(logits, name.Mask(nil))
	}
}

func BenchmarkApplyMask(b *testing.B) { benchApply(b, ApplyMask) }

// BenchmarkApplyMaskGo measures the portable kernel (arm64, no AVX-512).
func BenchmarkApplyMaskGo(b *testing.B) { benchApply(b, applyMaskGo) }

func benchApply(b *testing.B, apply func([]float32, []uint64)) {
	n := 151936
	logits := make([]float32, n)
	mask := make([]uint64, (n+63)/64)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range mask {
		mask[i] = rng.Uint64()
	}
	b.SetBytes(int64(4 * n))
	for b.Loop() {
		apply(logits, mask)
	}
}

func BenchmarkAccept(b *testing.B) {
	tv := loadQwen(b)
	g, err := CompileRegex(characterRegex, tv.v, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Record one generation's tokens, then replay it.
	var toks []int32
	m := g.NewMatcher()
	rng := rand.New(rand.NewPCG(9, 9))
	for !m.Done() {
		ids := allowedIDs(m.Mask(nil), nil)
		id := ids[rng.IntN(len(ids))]
		if tv.v.IsEOS(id) {
			break
		}
		if err := m.Accept(id); err != nil {
			b.Fatal(err)
		}
		toks = append(toks, id)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		m := g.NewMatcher()
		for _, id := range toks {
			if err := m.Accept(id); err != nil {
				b.Fatal(err)
			}
		}
		n += len(toks)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/token")
}
