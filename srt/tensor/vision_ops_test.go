package tensor

import (
	"math"
	"testing"
)

func TestLayerNorm(t *testing.T) {
	cases := []struct {
		name    string
		x, w, b []float32
		eps     float32
		want    []float32
	}{
		// mean 2.5, variance 1.25 -> (x-2.5)/sqrt(1.25)
		{"unit", []float32{1, 2, 3, 4}, []float32{1, 1, 1, 1}, nil, 0,
			[]float32{-1.3416408, -0.4472136, 0.4472136, 1.3416408}},
		{"scale and bias", []float32{1, 2, 3, 4}, []float32{2, 2, 2, 2}, []float32{1, 0, 0, -1}, 0,
			[]float32{-1.6832816, -0.8944272, 0.8944272, 1.6832816}},
		// constant row: variance 0, output = bias
		{"constant", []float32{5, 5}, []float32{1, 1}, []float32{0.5, -0.5}, 1e-6, []float32{0.5, -0.5}},
		// two rows normalised independently
		{"two rows", []float32{0, 2, 10, 30}, []float32{1, 1}, nil, 0, []float32{-1, 1, -1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := make([]float32, len(c.x))
			LayerNorm(out, c.x, c.w, c.b, len(c.x)/len(c.w), c.eps)
			for i := range out {
				if math.Abs(float64(out[i]-c.want[i])) > 1e-5 {
					t.Fatalf("out[%d] = %v, want %v (all %v)", i, out[i], c.want[i], out)
				}
			}
		})
	}
}

func TestLayerNormPanicsOnBadShape(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on short x")
		}
	}()
	LayerNorm(make([]float32, 4), make([]float32, 3), make([]float32, 2), nil, 2, 0)
}

func TestGELU(t *testing.T) {
	cases := []struct{ x, gelu, quick float64 }{
		{0, 0, 0},
		{1, 0.8413447460685429, 1 / (1 + math.Exp(-1.702))},
		{-1, -0.15865525393145707, -1 / (1 + math.Exp(1.702))},
		{3, 2.9959502, 3 / (1 + math.Exp(-3*1.702))},
		{-10, 0, -10 / (1 + math.Exp(17.02))},
	}
	for _, c := range cases {
		g := []float32{float32(c.x)}
		GELU(g)
		q := []float32{float32(c.x)}
		QuickGELU(q)
		if math.Abs(float64(g[0])-c.gelu) > 1e-6 {
			t.Errorf("GELU(%v) = %v, want %v", c.x, g[0], c.gelu)
		}
		if math.Abs(float64(q[0])-c.quick) > 1e-6 {
			t.Errorf("QuickGELU(%v) = %v, want %v", c.x, q[0], c.quick)
		}
	}
}

func BenchmarkLayerNorm(b *testing.B) {
	const n, d = 1024, 1280
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(i%97) * 0.01
	}
	w := make([]float32, d)
	for i := range w {
		w[i] = 1
	}
	b.SetBytes(int64(4 * n * d))
	for b.Loop() {
		LayerNorm(x, x, w, w, n, 1e-6)
	}
}
