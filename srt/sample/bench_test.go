package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// benchRow is a row of n logits drawn from N(0, scale^2) plus a few strong
// candidates, like a language model's output.
func benchRow(n int, scale float64) []float32 {
	rng := rand.New(rand.NewPCG(11, 12))
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(rng.NormFloat64() * scale)
	}
	for i := range 8 {
		row[rng.IntN(n)] = float32(6*scale - float64(i))
	}
	return row
}

func benchParams() map[string]Params {
	d := Defaults()
	return map[string]Params{
		"greedy":    with(d, func(p *Params) { p.Temperature = 0 }),
		"topk40":    with(d, func(p *Params) { p.TopK = 40 }),
		"topp0.9":   with(d, func(p *Params) { p.TopP = 0.9 }),
		"minp0.05":  with(d, func(p *Params) { p.MinP = 0.05 }),
		"full":      d,
		"penalties": with(d, func(p *Params) { p.RepetitionPenalty, p.FrequencyPenalty, p.TopK = 1.1, 0.5, 40 }),
	}
}

// BenchmarkSample runs Sample on a 151936-token row (N(0, 2^2) plus a few
// strong tokens) at temperature 1, which leaves the row unchanged, so it is
// not re-copied per iteration.
func BenchmarkSample(b *testing.B) {
	const vocab = 151936
	row := benchRow(vocab, 2)
	ps := benchParams()
	for _, name := range []string{"greedy", "topk40", "topp0.9", "minp0.05", "full"} {
		p := ps[name]
		b.Run(name, func(b *testing.B) {
			s := New(seeded(p, 1), vocab, nil)
			x := slices.Clone(row)
			b.SetBytes(vocab * 4)
			for b.Loop() {
				s.Sample(x)
			}
		})
	}
}

// BenchmarkSampleCopy includes the copy of the row the engine makes.
func BenchmarkSampleCopy(b *testing.B) {
	const vocab = 151936
	row := benchRow(vocab, 2)
	for _, name := range []string{"penalties", "topp0.9"} {
		p := benchParams()[name]
		p.Temperature = 0.7
		b.Run(name, func(b *testing.B) {
			s := New(seeded(p, 1), vocab, []int32{1, 2, 3})
			for i := range 200 {
				s.Accept(int32(i * 101))
			}
			x := make([]float32, vocab)
			for b.Loop() {
				copy(x, row)
				s.Sample(x)
			}
		})
	}
}

func BenchmarkTopLogprobs(b *testing.B) {
	row := benchRow(151936, 2)
	for _, k := range []int{1, 5, 20} {
		b.Run("k"+string(rune('0'+k/10))+string(rune('0'+k%10)), func(b *testing.B) {
			dst := make([]TokenLogprob, 0, k)
			for b.Loop() {
				dst = TopLogprobs(row, k, dst)
			}
		})
	}
}

func BenchmarkLogprob(b *testing.B) {
	row := benchRow(151936, 2)
	var sink float32
	for b.Loop() {
		sink += Logprob(row, 5)
	}
	if math.IsNaN(float64(sink)) {
		b.Fatal("NaN")
	}
}
