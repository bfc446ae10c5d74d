//go:build amd64 && !purego

package sample

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpKernelsAgree runs each exp kernel this CPU supports directly, so
// the AVX2 one is covered even where expSum dispatches to AVX-512.
func TestExpKernelsAgree(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2+FMA")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 20)
	}
	x[5] = float32(math.NaN())
	mx, _ := maxNaNGo(x)
	ref := make([]float32, len(x))
	refSum := expSumGo(ref, x, mx)
	kernels := map[string]func(d *float32) float64{
		"avx2": func(d *float32) float64 { return expSumAVX2(d, &x[0], len(x), mx) },
	}
	if hasAVX512 {
		kernels["avx512"] = func(d *float32) float64 { return expSumAVX512(d, &x[0], len(x), mx) }
	}
	for name, k := range kernels {
		got := make([]float32, len(x))
		sum := k(&got[0])
		for i := range got {
			if math.Abs(float64(got[i]-ref[i])) > 4e-7*float64(ref[i]) {
				t.Fatalf("%s: e^(%v) = %v, Go gives %v", name, x[i]-mx, got[i], ref[i])
			}
		}
		if math.Abs(sum-refSum) > 1e-6*refSum || math.Abs(k(nil)-sum) > 1e-12*sum {
			t.Fatalf("%s: sum %v (nil dst %v), Go gives %v", name, sum, k(nil), refSum)
		}
	}
}
