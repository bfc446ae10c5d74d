package tensor

import (
	"unsafe"

	"github.com/sglang-go/sglang/srt/tensor/internal/simd"
)

// tileFn computes, for i < mx and j < nw (nw <= 4):
//
//	out[i*ostride+j] (+)= sum_{k' < k} x[i*xstride+k'] * w_j[k']
//
// where w_j starts at w + j*wstride bytes and holds values of the kernel's
// weight type; acc selects += over =.
type tileFn func(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

// q8DotFn returns sum over nb blocks of xd[b]*d_w[b]*sum_j xq[32b+j]*q_w[b][j],
// with w pointing at nb Q8_0 blocks.
type q8DotFn func(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

// attention helpers: scores[j] = scale * q·k[slots[j]*kstride : +hd]
// and out[:hd] += sum_j p[j] * v[slots[j]*vstride : +hd].
type scoresFn func(scores []float32, q, k []float32, kstride int, slots []int32, hd int, scale float32)
type accumFn func(out, v []float32, vstride int, slots []int32, p []float32, hd int)

// kernelSet is one ISA's choice of kernels, fixed at NewCPU.
type kernelSet struct {
	name   string
	mr     int                                      // max x rows per tile call
	direct [Q4_0 + 1]tileFn                         // tiles reading weights in place (nil: dequantize first)
	dmax   [Q4_0 + 1]int                            // use direct tiles when n <= dmax (F32: always when set)
	f32    tileFn                                   // tile over dequantized f32 panels
	deq    func(dst []float32, src []byte, t DType) // dequantize a run of values
	q8dot  q8DotFn
	scores scoresFn
	accum  accumFn
	// softmax replaces x by softmax(scale*x), len(x) >= 1, scale > 0.
	softmax func(x []float32, scale float32)
	// silu computes gate = silu(gate)*up over len(gate) >= 1 values.
	silu func(gate, up []float32)
}

// bestKernels serves the package-level row operations (Softmax, SiLUMul).
var bestKernels = pickKernels("")

// q8Max is the largest batch for which Q8_0 weights use the int8 path
// (activations quantized per 32-block to int8 with a float32 scale). Larger
// batches dequantize the weights and use the exact f32 GEMM.
const q8Max = 8

var cpuFeatures = simd.Detect()

// ISAs lists the kernel sets usable on this machine, best first.
func ISAs() []string {
	var s []string
	if cpuFeatures.AVX512 {
		s = append(s, "avx512")
	}
	if cpuFeatures.AVX2 {
		s = append(s, "avx2")
	}
	return append(s, "generic")
}

func pickKernels(isa string) *kernelSet {
	f := cpuFeatures
	switch isa {
	case "generic":
		f = simd.Features{}
	case "avx2":
		f.AVX512, f.VNNI = false, false
	}
	if ks := archKernels(f); ks != nil {
		return ks
	}
	return genericKernels()
}

func genericKernels() *kernelSet {
	return &kernelSet{
		name:    "generic",
		mr:      4,
		f32:     tileGo,
		deq:     dequantize,
		q8dot:   q8DotGo,
		scores:  scoresGo,
		accum:   accumGo,
		softmax: softmaxGo,
		silu:    siluMulGo,
	}
}

// tileGo is the portable f32 tile; w must be 4-byte aligned float32 data.
func tileGo(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	xs := unsafe.Slice(x, (mx-1)*xstride+k)
	os := unsafe.Slice(out, (mx-1)*ostride+nw)
	for j := 0; j < nw; j++ {
		wr := unsafe.Slice((*float32)(unsafe.Add(w, j*wstride)), k)
		for i := 0; i < mx; i++ {
			s := dotGo(xs[i*xstride:i*xstride+k], wr)
			if acc {
				os[i*ostride+j] += s
			} else {
				os[i*ostride+j] = s
			}
		}
	}
}

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func q8DotGo(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	q := unsafe.Slice(xq, nb*32)
	d := unsafe.Slice(xd, nb)
	wb := unsafe.Slice((*byte)(w), nb*34)
	var sum float32
	for b := 0; b < nb; b++ {
		blk := wb[34*b : 34*b+34]
		var s int32
		for j, v := range q[32*b : 32*b+32] {
			s += int32(v) * int32(int8(blk[2+j]))
		}
		sum += float32(s) * (d[b] * F16ToF32(uint16(blk[0])|uint16(blk[1])<<8))
	}
	return sum
}

func scoresGo(scores []float32, q, k []float32, kstride int, slots []int32, hd int, scale float32) {
	q = q[:hd]
	for j, s := range slots {
		o := int(s) * kstride
		scores[j] = scale * dotGo(q, k[o:o+hd])
	}
}

func accumGo(out, v []float32, vstride int, slots []int32, p []float32, hd int) {
	out = out[:hd]
	for j, s := range slots {
		o := int(s) * vstride
		pj := p[j]
		for t, vv := range v[o : o+hd] {
			out[t] += pj * vv
		}
	}
}
