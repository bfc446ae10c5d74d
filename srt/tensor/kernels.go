package tensor

import (
	"math"
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

// mvFn computes out[j] = sum_{t<k} x[t]*w_j[t] for j < rows (rows >= 1),
// w_j = w + j*wstride bytes holding values of the kernel's weight type;
// k % 32 == 0, k > 0.
type mvFn func(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32)

// q8DotFn returns sum over nb blocks of xd[b]*d_w[b]*sum_j xq[32b+j]*q_w[b][j],
// with w pointing at nb Q8_0 blocks (q4dot: Q4_0 blocks, q = nibble-8).
type q8DotFn func(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

// accumFn is the attention value sum: out[:hd] += sum_j p[j] * v[slots[j]*vstride : +hd].
type accumFn func(out, v []float32, vstride int, slots []int32, p []float32, hd int)

// tallH is the height of the tall tiles (kernelSet.tall).
const tallH = 8

// kernelSet is one ISA's choice of kernels, fixed at NewCPU.
type kernelSet struct {
	name   string
	mr     int              // max x rows per tile call
	direct [Q4_0 + 1]tileFn // tiles reading weights in place (nil: dequantize first)
	dmax   [Q4_0 + 1]int    // use direct tiles when n <= dmax (F32: always when set)
	f32    tileFn           // tile over dequantized f32 panels
	// tall, when set for a type with a direct tile, is a tile of up to
	// tallH x rows against up to 3 weight rows, for batches above mr.
	tall [Q4_0 + 1]tileFn
	// mv, when set for a type, is the n == 1 matvec over a run of weight
	// rows (w + j*wstride bytes) with k a positive multiple of 32:
	// out[j] = x·w_j.
	mv    [Q4_0 + 1]mvFn
	deq   func(dst []float32, src []byte, t DType) // dequantize a run of values
	q8dot q8DotFn
	q4dot q8DotFn
	qacts func(q []int8, d, x []float32) // quantize activations (see quantActsGo)
	// q8pair, when set, is a Q8_0 dot taking two blocks per step with per-pair
	// x data from q8Aux; it replaces q8dot for rows of two blocks or more.
	q8pair func(xq *int8, xd *float32, aux *int32, w unsafe.Pointer, nb int) float32
	// q8rows4, when set, is q8pair over four weight rows (w + j*rowBytes)
	// at once, storing the four dots in out[0:4]; nb must be even.
	q8rows4 func(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)
	// q8rows, when set, is q8rows4's arithmetic over any number of rows
	// (>= 1) streamed one after the other: the batch-1 kernel.
	q8rows func(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, rows, nb int, out *float32)
	// q4rows4, when set, is the Q4_0 int8 dot over four weight rows with
	// the activation prepared by q4Aux; nb must be even.
	q4rows4 func(aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)
	accum   accumFn
	// kdot and vacc, when set, are AttentionKV's key dots and value sums
	// over a run of head-major cache rows (f32, f16 or fp8) for the head
	// dimensions attnHeadDimOK accepts.
	kdot func(t DType, hd int, q *float32, k unsafe.Pointer, n int, out *float32)
	vacc func(t DType, hd int, out *float32, v unsafe.Pointer, n int, p *float32)
	// kdot2 and vacc2, when set, are kdot and vacc for two queries (or
	// outputs) at once over the same rows, each row read once.
	kdot2 func(t DType, hd int, q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)
	vacc2 func(t DType, hd int, out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)
	// encF16, when set, converts float32 to f16 (round to nearest even)
	// for lengths that are multiples of 16.
	encF16 func(dst unsafe.Pointer, src *float32, n int)
	// encE5M2, when set, is F32ToE5M2 over lengths that are multiples of 16.
	encE5M2 func(dst unsafe.Pointer, src *float32, n int)
	// encE4M3, when set, is F32ToE4M3 over lengths that are multiples of 16.
	encE4M3 func(dst unsafe.Pointer, src *float32, n int)
	// softmax replaces x by softmax(scale*x), len(x) >= 1, scale > 0.
	softmax func(x []float32, scale float32)
	// silu computes gate = silu(gate)*up over len(gate) >= 1 values.
	silu func(gate, up []float32)
}

// bestKernels serves the package-level row operations (Softmax, SiLUMul).
var bestKernels = pickKernels("")

// q8Max is the largest batch for which Q8_0 and Q4_0 weights use the int8
// path (activations quantized per 32-block to int8 with a float32 scale).
// Larger batches dequantize the weights and use the exact f32 GEMM.
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
		q4dot:   q4DotGo,
		qacts:   quantActsGo,
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

func q4DotGo(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	q := unsafe.Slice(xq, nb*32)
	d := unsafe.Slice(xd, nb)
	wb := unsafe.Slice((*byte)(w), nb*18)
	var sum float32
	for b := 0; b < nb; b++ {
		blk := wb[18*b : 18*b+18]
		xs := q[32*b : 32*b+32]
		var s int32
		for j := 0; j < 16; j++ {
			s += int32(xs[j])*(int32(blk[2+j]&15)-8) + int32(xs[16+j])*(int32(blk[2+j]>>4)-8)
		}
		sum += float32(s) * (d[b] * F16ToF32(uint16(blk[0])|uint16(blk[1])<<8))
	}
	return sum
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

// q8Aux fills aux (len(xd)/2*32 values) for the q8pair kernel: per pair of
// blocks, 16 int32 with lane 0 = -128*sum(q_b) and lane 8 = -128*sum(q_b+1),
// then the two blocks' scales as float32 bits, each repeated 8 times.
func q8Aux(aux []int32, xq []int8, xd []float32) {
	for p := 0; p < len(xd)/2; p++ {
		a := aux[32*p : 32*p+32]
		clear(a[:16])
		for h := 0; h < 2; h++ {
			var s int32
			for _, v := range xq[64*p+32*h : 64*p+32*h+32] {
				s += int32(v)
			}
			a[8*h] = -128 * s
			bits := int32(math.Float32bits(xd[2*p+h]))
			for t := 0; t < 8; t++ {
				a[16+8*h+t] = bits
			}
		}
	}
}

// q4Aux fills aux (len(xd)/2*48 values) for the q4rows4 kernel: per pair of
// blocks b, b+1, the 64 quants as bytes in the nibble order [b low 16, b+1
// low 16, b high 16, b+1 high 16] (q[0:16] of a block meets the low nibbles),
// then 16 int32 with lane 0 = -8*sum(q_b), lane 4 = -8*sum(q_b+1), then 16
// float32 bits: b's scale in lanes 0-3 and 8-11, b+1's in 4-7 and 12-15.
func q4Aux(aux []int32, xq []int8, xd []float32) {
	for p := 0; p < len(xd)/2; p++ {
		a := aux[48*p : 48*p+48]
		q := xq[64*p : 64*p+64]
		for c := 0; c < 4; c++ { // 16-byte chunks: b lo, b+1 lo, b hi, b+1 hi
			src := q[32*(c%2)+16*(c/2):]
			for t := 0; t < 4; t++ {
				a[4*c+t] = int32(uint32(uint8(src[4*t])) | uint32(uint8(src[4*t+1]))<<8 |
					uint32(uint8(src[4*t+2]))<<16 | uint32(uint8(src[4*t+3]))<<24)
			}
		}
		clear(a[16:32])
		for h := 0; h < 2; h++ {
			var s int32
			for _, v := range q[32*h : 32*h+32] {
				s += int32(v)
			}
			a[16+4*h] = -8 * s
			bits := int32(math.Float32bits(xd[2*p+h]))
			for t := 0; t < 4; t++ {
				a[32+4*h+t] = bits
				a[40+4*h+t] = bits
			}
		}
	}
}
