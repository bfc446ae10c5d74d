package sample

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernels checks the dispatched kernels (assembly where available)
// against plain float64 references, on lengths that exercise the tails.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 100, 1003} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 30)
		}
		if n > 5 {
			x[3], x[n-2] = float32(math.NaN()), -inf
		}
		refMax := math.Inf(-1)
		refNaN := false
		for _, v := range x {
			if v != v {
				refNaN = true
				continue
			}
			refMax = math.Max(refMax, float64(v))
		}
		mx, nan := maxNaN(x)
		if float64(mx) != refMax || nan != refNaN {
			t.Fatalf("n=%d: maxNaN = %v, %v; want %v, %v", n, mx, nan, refMax, refNaN)
		}
		dst := make([]float32, n)
		sum := expSum(dst, x, mx)
		var refSum float64
		for i, v := range x {
			want := 0.0
			if d := float64(v - mx); d >= expLo {
				want = math.Exp(d)
			}
			refSum += float64(dst[i])
			if math.Abs(float64(dst[i])-want) > 4e-7*want {
				t.Fatalf("n=%d: e^(%v) = %v, want %v", n, v-mx, dst[i], want)
			}
		}
		if math.Abs(sum-refSum) > 1e-12*refSum || math.Abs(expSum(nil, x, mx)-sum) > 1e-12*sum {
			t.Fatalf("n=%d: expSum = %v (nil dst %v), want %v", n, sum, expSum(nil, x, mx), refSum)
		}
		for _, thr := range []float32{-inf, 0, 20, mx, inf} {
			for _, from := range []int{0, 1, n / 2, n} {
				if got, want := countGT(x[from:], thr), countGTGo(x[from:], thr); got != want {
					t.Fatalf("n=%d: countGT(from %d, %v) = %d, want %d", n, from, thr, got, want)
				}
				if got, want := firstIn(x, from, thr-5, thr+5), firstInGo(x, from, thr-5, thr+5); got != want {
					t.Fatalf("n=%d: firstIn(from %d, %v±5) = %d, want %d", n, from, thr, got, want)
				}
				if got, want := sumGE(dst[from:], x[from:], thr), sumGEGo(dst[from:], x[from:], thr); math.Abs(got-want) > 1e-12*want {
					t.Fatalf("n=%d: sumGE(from %d, %v) = %v, want %v", n, from, thr, got, want)
				}
				want := firstGTGo(x, from, thr)
				if got := firstGT(x, from, thr); got != want {
					t.Fatalf("n=%d: firstGT(from %d, %v) = %d, want %d", n, from, thr, got, want)
				}
			}
		}
		y := append([]float32(nil), x...)
		scale(y, 0.5)
		for i := range y {
			if w := x[i] * 0.5; y[i] != w && !(w != w && y[i] != y[i]) {
				t.Fatalf("n=%d: scale: %v, want %v", n, y[i], w)
			}
		}
	}
}
