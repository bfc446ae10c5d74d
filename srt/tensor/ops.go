package tensor

import (
	"fmt"
	"math"
)

// RMSNorm normalizes each of the n rows of x (row length len(weight)):
// out = x / sqrt(mean(x²) + eps) * weight. out may alias x.
func RMSNorm(out, x, weight []float32, n int, eps float32) {
	d := len(weight)
	if len(x) < n*d || len(out) < n*d {
		panic(fmt.Sprintf("tensor: RMSNorm: %d rows of %d need %d values (x %d, out %d)", n, d, n*d, len(x), len(out)))
	}
	for i := 0; i < n; i++ {
		xr := x[i*d : (i+1)*d]
		or := out[i*d : (i+1)*d]
		ss := sumSquares(xr)
		s := float32(1 / math.Sqrt(float64(ss)/float64(d)+float64(eps)))
		for j, w := range weight {
			or[j] = xr[j] * s * w
		}
	}
}

func sumSquares(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * x[i]
		s1 += x[i+1] * x[i+1]
		s2 += x[i+2] * x[i+2]
		s3 += x[i+3] * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// RoPE applies rotary position embeddings in place to n rows of x, each row
// nHeads*headDim long. cos and sin hold [n][headDim/2] values (the angles of
// each row's position). neox selects the rotate-half layout (pairs i and
// i+headDim/2, Hugging Face); otherwise pairs are interleaved (2i, 2i+1,
// the Meta/GGUF llama layout).
func RoPE(x []float32, n, nHeads, headDim int, cos, sin []float32, neox bool) {
	half := headDim / 2
	if headDim%2 != 0 || len(x) < n*nHeads*headDim || len(cos) < n*half || len(sin) < n*half {
		panic(fmt.Sprintf("tensor: RoPE: bad shapes n=%d heads=%d headDim=%d len(x)=%d len(cos)=%d len(sin)=%d",
			n, nHeads, headDim, len(x), len(cos), len(sin)))
	}
	for i := 0; i < n; i++ {
		c := cos[i*half : (i+1)*half]
		s := sin[i*half : (i+1)*half]
		row := x[i*nHeads*headDim : (i+1)*nHeads*headDim]
		for h := 0; h < nHeads; h++ {
			v := row[h*headDim : (h+1)*headDim]
			if neox {
				a, b := v[:half], v[half:headDim]
				for j := range c {
					x0, x1 := a[j], b[j]
					a[j] = x0*c[j] - x1*s[j]
					b[j] = x0*s[j] + x1*c[j]
				}
			} else {
				for j := range c {
					x0, x1 := v[2*j], v[2*j+1]
					v[2*j] = x0*c[j] - x1*s[j]
					v[2*j+1] = x0*s[j] + x1*c[j]
				}
			}
		}
	}
}

// SiLUMul computes gate[i] = silu(gate[i]) * up[i] (the SwiGLU product).
// up must be at least as long as gate.
func SiLUMul(gate, up []float32) {
	if len(gate) == 0 {
		return
	}
	bestKernels.silu(gate, up[:len(gate)])
}

func siluMulGo(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = g / (1 + expf(-g)) * up[i]
	}
}

// Softmax replaces x by softmax(x), subtracting the maximum first.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	bestKernels.softmax(x, 1)
}

// softmaxGo replaces x by softmax(scale*x); scale > 0.
func softmaxGo(x []float32, scale float32) {
	if scale != 1 {
		for i := range x {
			x[i] *= scale
		}
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	var sum float32
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// Add computes dst[i] += src[i].
func Add(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// AddBias adds bias to each of the n rows of x (row length len(bias)).
func AddBias(x []float32, n int, bias []float32) {
	d := len(bias)
	if len(x) < n*d {
		panic(fmt.Sprintf("tensor: AddBias: %d rows of %d need %d values, have %d", n, d, n*d, len(x)))
	}
	for i := 0; i < n; i++ {
		Add(x[i*d:(i+1)*d], bias)
	}
}

// expf is float32 exp computed through math.Exp (as fast as a float32
// polynomial in pure Go, and exact).
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }
