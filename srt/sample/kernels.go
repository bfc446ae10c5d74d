package sample

import "math"

var negInf = float32(math.Inf(-1))

// The exp here is the classic Cephes single-precision scheme: e^d =
// 2^n * e^r with n = round(d*log2(e)), r = d - n*ln2 (ln2 split in two so
// n*C1 is exact), and e^r = 1 + r + r^2*P(r) with a degree-5 minimax P.
// The relative error is a few float32 ulps. The assembly kernels use the
// same constants.
const (
	expLo    = -87.3 // below this e^d underflows float32's normal range
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
)

// expNeg returns e^d for d <= 0; 0 below -87.3 and for NaN or -Inf.
func expNeg(d float32) float32 {
	if !(d >= expLo) {
		return 0
	}
	t := d * expLog2e
	n := float32(int32(t + copysign05(t))) // round half away from zero
	r := d - n*expC1
	r -= n * expC2
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	y := (p*(r*r) + r) + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func copysign05(t float32) float32 {
	if t < 0 {
		return -0.5
	}
	return 0.5
}

func expSumGo(dst, x []float32, mx float32) float64 {
	var s0, s1 float64
	if dst == nil {
		i := 0
		for ; i+2 <= len(x); i += 2 {
			s0 += float64(expNeg(x[i] - mx))
			s1 += float64(expNeg(x[i+1] - mx))
		}
		if i < len(x) {
			s0 += float64(expNeg(x[i] - mx))
		}
		return s0 + s1
	}
	dst = dst[:len(x)]
	for i, v := range x {
		e := expNeg(v - mx)
		dst[i] = e
		s0 += float64(e)
	}
	return s0
}

func maxNaNGo(x []float32) (float32, bool) {
	mx, nan := negInf, false
	for _, v := range x {
		if v > mx {
			mx = v
		} else if v != v {
			nan = true
		}
	}
	return mx, nan
}

func scaleGo(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func firstGTGo(x []float32, from int, thr float32) int {
	for i := from; i < len(x); i++ {
		if x[i] > thr {
			return i
		}
	}
	return len(x)
}

func countGTGo(x []float32, thr float32) int {
	n := 0
	for _, v := range x {
		if v > thr {
			n++
		}
	}
	return n
}

func firstInGo(x []float32, from int, lo, hi float32) int {
	for i := from; i < len(x); i++ {
		if v := x[i]; v > lo && v < hi {
			return i
		}
	}
	return len(x)
}

func sumGEGo(e, x []float32, thr float32) float64 {
	e = e[:len(x)]
	var s float64
	for i, v := range x {
		if v >= thr {
			s += float64(e[i])
		}
	}
	return s
}

// max32 is max that ignores a NaN b.
func max32(a, b float32) float32 {
	if b > a {
		return b
	}
	return a
}

// prepRow replaces NaN with -Inf, multiplies by s unless it is 1, and
// returns the maximum and its lowest index (-1 when every entry is -Inf).
func prepRow(x []float32, s float32) (mx float32, at int) {
	if s != 1 {
		scale(x, s)
	}
	mx, nan := maxNaN(x)
	if nan {
		for i, v := range x {
			if v != v {
				x[i] = negInf
			}
		}
	}
	if mx == negInf {
		return mx, -1
	}
	return mx, firstGT(x, 0, nextDown(mx))
}

// argmax returns the index of the largest entry, the lowest on ties, NaN
// ignored; 0 when there is no entry above -Inf.
func argmax(x []float32) int {
	mx, _ := maxNaN(x)
	if mx == negInf {
		return 0
	}
	return firstGT(x, 0, nextDown(mx))
}

// nextDown returns the largest float32 below v (v finite or +Inf).
func nextDown(v float32) float32 {
	return math.Nextafter32(v, negInf)
}
