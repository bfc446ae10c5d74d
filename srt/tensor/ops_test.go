package tensor

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func closeTo(got, want, rel, abs float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

func TestRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct {
		n, heads, hd int
		neox         bool
	}{{1, 1, 2, true}, {3, 2, 8, true}, {3, 2, 8, false}, {5, 3, 64, true}, {4, 2, 64, false}} {
		half := tc.hd / 2
		x := randVec(rng, tc.n*tc.heads*tc.hd)
		orig := append([]float32(nil), x...)
		cos := make([]float32, tc.n*half)
		sin := make([]float32, tc.n*half)
		theta := make([]float64, tc.n*half)
		for i := 0; i < tc.n; i++ {
			for j := 0; j < half; j++ {
				a := float64(i+7) * math.Pow(10000, -2*float64(j)/float64(tc.hd))
				theta[i*half+j] = a
				cos[i*half+j], sin[i*half+j] = float32(math.Cos(a)), float32(math.Sin(a))
			}
		}
		RoPE(x, tc.n, tc.heads, tc.hd, cos, sin, tc.neox)
		// Direct formula: the pair (a, b) is the complex number a+ib, rotated by e^{iθ}.
		for i := 0; i < tc.n; i++ {
			for h := 0; h < tc.heads; h++ {
				base := (i*tc.heads + h) * tc.hd
				for j := 0; j < half; j++ {
					ia, ib := base+2*j, base+2*j+1
					if tc.neox {
						ia, ib = base+j, base+j+half
					}
					z := complex(float64(orig[ia]), float64(orig[ib])) * cmplx.Rect(1, theta[i*half+j])
					if !closeTo(float64(x[ia]), real(z), 0, 1e-6) || !closeTo(float64(x[ib]), imag(z), 0, 1e-6) {
						t.Fatalf("%+v row %d head %d pair %d: got (%g, %g), want (%g, %g)", tc, i, h, j, x[ia], x[ib], real(z), imag(z))
					}
				}
			}
		}
	}
}

func TestRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, d := range []int{1, 7, 64, 896} {
		n := 3
		x := randVec(rng, n*d)
		w := randVec(rng, d)
		want := make([]float32, n*d)
		RefRMSNorm(want, x, w, n, 1e-6)
		got := make([]float32, n*d)
		RMSNorm(got, x, w, n, 1e-6)
		RMSNorm(x, x, w, n, 1e-6) // aliasing
		for i := range want {
			if !closeTo(float64(got[i]), float64(want[i]), 1e-5, 1e-6) || got[i] != x[i] {
				t.Fatalf("d=%d [%d]: got %g (aliased %g), want %g", d, i, got[i], x[i], want[i])
			}
		}
	}
	// Hand case: x = (3, 4), w = 1, eps 0: rms = sqrt(12.5).
	out := make([]float32, 2)
	RMSNorm(out, []float32{3, 4}, []float32{1, 2}, 1, 0)
	if s := math.Sqrt(12.5); !closeTo(float64(out[0]), 3/s, 1e-6, 0) || !closeTo(float64(out[1]), 8/s, 1e-6, 0) {
		t.Fatalf("RMSNorm(3,4) = %v", out)
	}
}

func TestSoftmaxSiLU(t *testing.T) {
	for _, isa := range ISAs() {
		t.Run(isa, func(t *testing.T) { testSoftmaxSiLU(t, pickKernels(isa)) })
	}
}

func testSoftmaxSiLU(t *testing.T, ks *kernelSet) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, n := range []int{1, 2, 15, 16, 17, 100, 1000} {
		for _, scale := range []float32{1, 30} {
			x := randVec(rng, n)
			for i := range x {
				x[i] *= scale
			}
			want := append([]float32(nil), x...)
			for i := range want {
				want[i] *= 0.7
			}
			RefSoftmax(want)
			ks.softmax(x, 0.7)
			var sum float64
			for i := range x {
				sum += float64(x[i])
				if !closeTo(float64(x[i]), float64(want[i]), 1e-5, 1e-7) {
					t.Fatalf("Softmax n=%d [%d] = %g, want %g", n, i, x[i], want[i])
				}
			}
			if !closeTo(sum, 1, 1e-5, 0) {
				t.Fatalf("Softmax n=%d sums to %g", n, sum)
			}
			g := randVec(rng, n)
			for i := range g {
				g[i] *= 12 * scale
			}
			u := randVec(rng, n)
			wantG := append([]float32(nil), g...)
			RefSiLUMul(wantG, u)
			ks.silu(g, u)
			for i := range g {
				if !closeTo(float64(g[i]), float64(wantG[i]), 1e-5, 1e-7) {
					t.Fatalf("SiLUMul n=%d [%d] = %g, want %g", n, i, g[i], wantG[i])
				}
			}
		}
	}
	// Stability with huge inputs and -Inf (masked) entries.
	x := []float32{1000, 1000, float32(math.Inf(-1))}
	ks.softmax(x, 1)
	if x[0] != 0.5 || x[1] != 0.5 || x[2] != 0 {
		t.Fatalf("Softmax(1000, 1000, -Inf) = %v", x)
	}
	g := []float32{-200, 200, 0}
	ks.silu(g, []float32{1, 1, 1})
	if g[0] != 0 && !closeTo(float64(g[0]), 0, 0, 1e-30) || !closeTo(float64(g[1]), 200, 1e-6, 0) || g[2] != 0 {
		t.Fatalf("SiLUMul extremes = %v", g)
	}
}

func TestAddBias(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	AddBias(x, 2, []float32{10, 20, 30})
	Add(x, []float32{1, 1, 1, 1, 1, 1})
	want := []float32{12, 23, 34, 15, 26, 37}
	for i := range want {
		if x[i] != want[i] {
			t.Fatalf("AddBias/Add = %v, want %v", x, want)
		}
	}
}
