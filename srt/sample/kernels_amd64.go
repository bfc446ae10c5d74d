//go:build amd64 && !purego

package sample

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly kernels (AVX2 and FMA), hasAVX512 the wider
// exp kernel; both are fixed at start.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasPOPCNT
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F
)

//go:noescape
func expSumAVX2(dst, x *float32, n int, mx float32) float64

//go:noescape
func expSumAVX512(dst, x *float32, n int, mx float32) float64

//go:noescape
func maxAVX2(x *float32, n int) (mx float32, nan bool)

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

//go:noescape
func firstGTAVX2(x *float32, n int, thr float32) int

//go:noescape
func countGTAVX2(x *float32, n int, thr float32) int

//go:noescape
func firstInAVX2(x *float32, n int, lo, hi float32) int

//go:noescape
func sumGEAVX2(e, x *float32, n int, thr float32) float64

// expSum stores e^(x[i]-mx) into dst[:len(x)] unless dst is nil, and returns
// their float64 sum. Entries below mx-87.3, -Inf and NaN give 0.
func expSum(dst, x []float32, mx float32) float64 {
	if !hasAVX2 || len(x) < 8 {
		return expSumGo(dst, x, mx)
	}
	n := len(x) &^ 7
	var d *float32
	if dst != nil {
		dst = dst[:len(x)]
		d = &dst[0]
	}
	var s float64
	if n16 := len(x) &^ 15; hasAVX512 && n16 > 0 {
		s = expSumAVX512(d, &x[0], n16, mx)
		if n > n16 {
			var d8 *float32
			if d != nil {
				d8 = &dst[n16]
			}
			s += expSumAVX2(d8, &x[n16], n-n16, mx)
		}
	} else {
		s = expSumAVX2(d, &x[0], n, mx)
	}
	var tail []float32
	if dst != nil {
		tail = dst[n:]
	}
	return s + expSumGo(tail, x[n:], mx)
}

// maxNaN returns the largest non-NaN entry (-Inf if none) and whether x
// holds a NaN.
func maxNaN(x []float32) (float32, bool) {
	if !hasAVX2 || len(x) < 8 {
		return maxNaNGo(x)
	}
	n := len(x) &^ 7
	m, nan := maxAVX2(&x[0], n)
	m2, nan2 := maxNaNGo(x[n:])
	return max32(m, m2), nan || nan2
}

// scale multiplies every entry by s.
func scale(x []float32, s float32) {
	if !hasAVX2 || len(x) < 8 {
		scaleGo(x, s)
		return
	}
	n := len(x) &^ 7
	scaleAVX2(&x[0], n, s)
	scaleGo(x[n:], s)
}

// firstGT returns the first index i >= from with x[i] > thr, or len(x).
func firstGT(x []float32, from int, thr float32) int {
	if !hasAVX2 {
		return firstGTGo(x, from, thr)
	}
	y := x[from:]
	n := len(y) &^ 7
	if n > 0 {
		if i := firstGTAVX2(&y[0], n, thr); i < n {
			return from + i
		}
	}
	return firstGTGo(x, from+n, thr)
}

// countGT returns how many entries are > thr.
func countGT(x []float32, thr float32) int {
	if !hasAVX2 || len(x) < 8 {
		return countGTGo(x, thr)
	}
	n := len(x) &^ 7
	return countGTAVX2(&x[0], n, thr) + countGTGo(x[n:], thr)
}

// firstIn returns the first index i >= from with lo < x[i] < hi, or len(x).
func firstIn(x []float32, from int, lo, hi float32) int {
	if !hasAVX2 {
		return firstInGo(x, from, lo, hi)
	}
	y := x[from:]
	n := len(y) &^ 7
	if n > 0 {
		if i := firstInAVX2(&y[0], n, lo, hi); i < n {
			return from + i
		}
	}
	return firstInGo(x, from+n, lo, hi)
}

// sumGE returns the float64 sum of e[i] over the i with x[i] >= thr
// (len(e) >= len(x)).
func sumGE(e, x []float32, thr float32) float64 {
	if !hasAVX2 || len(x) < 8 {
		return sumGEGo(e, x, thr)
	}
	n := len(x) &^ 7
	e = e[:len(x)]
	return sumGEAVX2(&e[0], &x[0], n, thr) + sumGEGo(e[n:], x[n:], thr)
}
