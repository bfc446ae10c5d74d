package image

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// refResize is a float64 separable bicubic with PIL's windowing, without
// fixed point or intermediate rounding; the real resampler may differ from
// it by the two uint8 roundings.
func refResize(in []uint8, inW, inH, outW, outH int) []float64 {
	weights := func(inSize, outSize int) [][2]any {
		scale := float64(inSize) / float64(outSize)
		fs := math.Max(scale, 1)
		sup := 2 * fs
		res := make([][2]any, outSize)
		for i := range res {
			center := (float64(i) + 0.5) * scale
			lo := max(int(center-sup+0.5), 0)
			hi := min(int(center+sup+0.5), inSize)
			var w []float64
			sum := 0.0
			for x := lo; x < hi; x++ {
				v := bicubicKernel((float64(x) - center + 0.5) / fs)
				w = append(w, v)
				sum += v
			}
			for j := range w {
				w[j] /= sum
			}
			res[i] = [2]any{lo, w}
		}
		return res
	}
	hw, vw := weights(inW, outW), weights(inH, outH)
	tmp := make([]float64, outW*inH*3)
	for y := 0; y < inH; y++ {
		for x := 0; x < outW; x++ {
			lo, w := hw[x][0].(int), hw[x][1].([]float64)
			for c := 0; c < 3; c++ {
				s := 0.0
				for j, k := range w {
					s += k * float64(in[(y*inW+lo+j)*3+c])
				}
				tmp[(y*outW+x)*3+c] = math.Max(0, math.Min(255, s))
			}
		}
	}
	out := make([]float64, outW*outH*3)
	for y := 0; y < outH; y++ {
		lo, w := vw[y][0].(int), vw[y][1].([]float64)
		for x := 0; x < outW; x++ {
			for c := 0; c < 3; c++ {
				s := 0.0
				for j, k := range w {
					s += k * tmp[((lo+j)*outW+x)*3+c]
				}
				out[(y*outW+x)*3+c] = math.Max(0, math.Min(255, s))
			}
		}
	}
	return out
}

func TestResizeBicubicAgainstFloatReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ inW, inH, outW, outH int }{
		{17, 13, 40, 31}, // upscale
		{97, 61, 23, 19}, // downscale (support scaled)
		{50, 50, 50, 21}, // vertical only
		{50, 50, 9, 50},  // horizontal only
		{1, 1, 56, 56},   // from a single pixel
		{300, 7, 28, 28}, // mixed
	} {
		in := make([]uint8, c.inW*c.inH*3)
		for i := range in {
			in[i] = uint8(rng.IntN(256))
		}
		src, _ := NewRGB(c.inW, c.inH, in)
		got, err := ResizeBicubic(src, c.outW, c.outH)
		if err != nil {
			t.Fatal(err)
		}
		ref := refResize(in, c.inW, c.inH, c.outW, c.outH)
		for i, v := range got.RGB {
			if d := math.Abs(float64(v) - ref[i]); d > 2.5 {
				t.Fatalf("%v: value %d = %d, float reference %.3f", c, i, v, ref[i])
			}
		}
	}
}

func TestResizeBicubicInvariants(t *testing.T) {
	flat := make([]uint8, 31*17*3)
	for i := range flat {
		flat[i] = []uint8{200, 3, 128}[i%3]
	}
	src, _ := NewRGB(31, 17, flat)
	for _, sz := range [][2]int{{31, 17}, {64, 9}, {5, 40}, {1, 1}} {
		out, err := ResizeBicubic(src, sz[0], sz[1])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out.RGB {
			if v != []uint8{200, 3, 128}[i%3] {
				t.Fatalf("%v: constant image changed at %d: %d", sz, i, v)
			}
		}
	}
	same, _ := ResizeBicubic(src, 31, 17)
	same.RGB[0] = 0
	if src.RGB[0] != 200 {
		t.Fatal("same-size resize aliases the source")
	}
	for _, sz := range [][2]int{{0, 5}, {5, -1}, {1 << 20, 1 << 20}} {
		if _, err := ResizeBicubic(src, sz[0], sz[1]); !errors.Is(err, ErrBadSize) {
			t.Errorf("%v: err = %v", sz, err)
		}
	}
	if _, err := ResizeBicubic(&Image{W: 2, H: 2}, 4, 4); !errors.Is(err, ErrBadSize) {
		t.Errorf("inconsistent source: %v", err)
	}
}
