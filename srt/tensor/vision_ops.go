package tensor

import (
	"fmt"
	"math"
)

// LayerNorm normalises n rows of x (each len(weight) long) to zero mean and
// unit variance, then scales by weight and adds bias (nil bias: none):
// out = (x - mean) / sqrt(var + eps) * weight + bias, with the biased
// variance, as torch.nn.LayerNorm. out may alias x.
func LayerNorm(out, x, weight, bias []float32, n int, eps float32) {
	d := len(weight)
	if d == 0 || len(x) < n*d || len(out) < n*d || (bias != nil && len(bias) != d) {
		panic(fmt.Sprintf("tensor: LayerNorm: bad shapes n=%d dim=%d len(x)=%d len(out)=%d len(bias)=%d",
			n, d, len(x), len(out), len(bias)))
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var mean float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(d)
		var variance float64
		for _, v := range row {
			dv := float64(v) - mean
			variance += dv * dv
		}
		variance /= float64(d)
		inv := float32(1 / math.Sqrt(variance+float64(eps)))
		m := float32(mean)
		o := out[i*d : (i+1)*d]
		if bias == nil {
			for j, v := range row {
				o[j] = (v - m) * inv * weight[j]
			}
			continue
		}
		for j, v := range row {
			o[j] = (v-m)*inv*weight[j] + bias[j]
		}
	}
}

// GELU applies the exact (erf) GELU in place: x * (1 + erf(x/sqrt 2)) / 2,
// torch.nn.GELU() with approximate="none".
func GELU(x []float32) {
	for i, v := range x {
		x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
}

// QuickGELU applies x * sigmoid(1.702 x) in place (CLIP's and Qwen2-VL's
// vision MLP activation).
func QuickGELU(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + expf(-1.702*v))
	}
}
