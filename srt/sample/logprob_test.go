package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveLogSoftmax is the float64 reference; NaN entries are left out of
// the normaliser and stay NaN.
func naiveLogSoftmax(row []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		if v == v {
			mx = math.Max(mx, float64(v))
		}
	}
	var z float64
	for _, v := range row {
		if v == v {
			z += math.Exp(float64(v) - mx)
		}
	}
	out := make([]float64, len(row))
	for i, v := range row {
		out[i] = float64(v) - mx - math.Log(z)
	}
	return out
}

func TestExpNeg(t *testing.T) {
	for _, d := range []float32{0, -1e-8, -0.3466, -0.3467, -0.5, -1, -2.5, -10, -40, -80, -87} {
		got, want := float64(expNeg(d)), math.Exp(float64(d))
		if math.Abs(got-want) > 2e-7*want {
			t.Errorf("expNeg(%v) = %v, want %v", d, got, want)
		}
	}
	for i := range 100000 {
		d := -float32(i) * 87.0 / 100000
		got, want := float64(expNeg(d)), math.Exp(float64(d))
		if math.Abs(got-want) > 2e-7*want {
			t.Fatalf("expNeg(%v) = %v, want %v", d, got, want)
		}
	}
	for _, d := range []float32{-88, -1000, float32(math.Inf(-1)), float32(math.NaN())} {
		if got := expNeg(d); got != 0 {
			t.Errorf("expNeg(%v) = %v, want 0", d, got)
		}
	}
}

func TestLogprob(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	big := make([]float32, 151936)
	for i := range big {
		big[i] = float32(rng.NormFloat64()*3 - 5)
	}
	tests := []struct {
		name string
		row  []float32
	}{
		{"one token", []float32{3}},
		{"small", []float32{1, 2, 3, 4}},
		{"large offset", []float32{1000, 1001, 999}},
		{"with -Inf", []float32{0, float32(math.Inf(-1)), 1}},
		{"vocab 151936", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := naiveLogSoftmax(tt.row)
			ids := []int{0, len(tt.row) - 1, len(tt.row) / 2}
			for _, id := range ids {
				got := Logprob(tt.row, int32(id))
				if math.IsInf(want[id], -1) {
					if !math.IsInf(float64(got), -1) {
						t.Fatalf("Logprob(%d) = %v, want -Inf", id, got)
					}
					continue
				}
				if math.Abs(float64(got)-want[id]) > 1e-5 {
					t.Fatalf("Logprob(%d) = %v, want %v", id, got, want[id])
				}
			}
		})
	}
	for _, id := range []int32{-1, 4} {
		if got := Logprob([]float32{1, 2, 3, 4}, id); !math.IsNaN(float64(got)) {
			t.Errorf("Logprob(out-of-range %d) = %v, want NaN", id, got)
		}
	}
}

func TestTopLogprobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	big := make([]float32, 151936)
	for i := range big {
		big[i] = float32(rng.NormFloat64() * 2)
	}
	big[77], big[1234] = 9, 9 // a tie at the top
	tests := []struct {
		name string
		row  []float32
		k    int
	}{
		{"k 1", []float32{1, 3, 2}, 1},
		{"ties by id", []float32{2, 5, 2, 5, 2}, 4},
		{"k above len", []float32{0.5, -1, 2}, 10},
		{"NaN ranks last", []float32{float32(math.NaN()), 1, 0}, 3},
		{"vocab 151936 k 20", big, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := naiveLogSoftmax(tt.row)
			idx := make([]int32, len(tt.row))
			for i := range idx {
				idx[i] = int32(i)
			}
			key := func(i int32) float64 {
				if math.IsNaN(ref[i]) {
					return math.Inf(-1)
				}
				return ref[i]
			}
			slices.SortStableFunc(idx, func(a, b int32) int {
				switch ka, kb := key(a), key(b); {
				case ka > kb:
					return -1
				case ka < kb:
					return 1
				}
				return 0
			})
			want := idx[:min(tt.k, len(idx))]
			got := TopLogprobs(tt.row, tt.k, nil)
			if len(got) != len(want) {
				t.Fatalf("got %d entries, want %d", len(got), len(want))
			}
			for i, g := range got {
				if g.ID != want[i] {
					t.Fatalf("entry %d: id %d, want %d (got %v)", i, g.ID, want[i], got)
				}
				if math.IsNaN(float64(tt.row[g.ID])) {
					continue // a NaN logit has no meaningful logprob
				}
				if math.Abs(float64(g.Logprob)-ref[g.ID]) > 1e-5 {
					t.Fatalf("entry %d (id %d): logprob %v, want %v", i, g.ID, g.Logprob, ref[g.ID])
				}
			}
		})
	}
	if got := TopLogprobs([]float32{1, 2}, 0, nil); len(got) != 0 {
		t.Errorf("k=0 gave %v", got)
	}
	dst := make([]TokenLogprob, 0, 8)
	got := TopLogprobs([]float32{1, 2, 3}, 2, dst)
	if &got[0] != &dst[:1][0] {
		t.Errorf("TopLogprobs did not reuse dst")
	}
	if a := testing.AllocsPerRun(10, func() { TopLogprobs(big, 5, dst) }); a != 0 {
		t.Errorf("TopLogprobs allocates %.1f times with a big enough dst", a)
	}
}
