//go:build !amd64 || purego

package sample

// expSum stores e^(x[i]-mx) into dst[:len(x)] unless dst is nil, and returns
// their float64 sum. Entries below mx-87.3, -Inf and NaN give 0.
func expSum(dst, x []float32, mx float32) float64 { return expSumGo(dst, x, mx) }

// maxNaN returns the largest non-NaN entry (-Inf if none) and whether x
// holds a NaN.
func maxNaN(x []float32) (float32, bool) { return maxNaNGo(x) }

// scale multiplies every entry by s.
func scale(x []float32, s float32) { scaleGo(x, s) }

// firstGT returns the first index i >= from with x[i] > thr, or len(x).
func firstGT(x []float32, from int, thr float32) int { return firstGTGo(x, from, thr) }

// countGT returns how many entries are > thr.
func countGT(x []float32, thr float32) int { return countGTGo(x, thr) }

// firstIn returns the first index i >= from with lo < x[i] < hi, or len(x).
func firstIn(x []float32, from int, lo, hi float32) int { return firstInGo(x, from, lo, hi) }

// sumGE returns the float64 sum of e[i] over the i with x[i] >= thr
// (len(e) >= len(x)).
func sumGE(e, x []float32, thr float32) float64 { return sumGEGo(e, x, thr) }
