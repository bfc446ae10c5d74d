//go:build amd64

package tensor

import (
	"unsafe"

	"github.com/sglang-go/sglang/srt/tensor/internal/simd"
)

func archKernels(f simd.Features) *kernelSet {
	switch {
	case f.AVX512:
		ks := &kernelSet{
			name:    "avx512",
			mr:      6,
			f32:     simd.Tile512F32,
			deq:     deq512,
			q8dot:   simd.Q8DotAVX2,
			accum:   accum512,
			kdot:    kdot512,
			vacc:    vacc512,
			kdot2:   kdot2x512,
			vacc2:   vacc2x512,
			encF16:  simd.Enc512F16,
			encE5M2: simd.Enc512E5M2,
			encE4M3: simd.Enc512E4M3,
			softmax: func(x []float32, scale float32) {
				simd.Softmax512(&x[0], len(x), scale)
			},
			silu: func(gate, up []float32) {
				up = up[:len(gate)]
				simd.SiLUMul512(&gate[0], &up[0], len(gate))
			},
		}
		ks.q4dot = simd.Q4DotAVX2
		ks.qacts = func(q []int8, d, x []float32) {
			_, _ = q[len(x)-1], d[len(x)/32-1]
			simd.QuantActs512(&q[0], &d[0], &x[0], len(x)/32)
		}
		if f.VNNI {
			ks.q8dot, ks.q4dot = simd.Q8DotVNNI, simd.Q4DotVNNI
			ks.q8pair = simd.Q8Dot2VNNI
			ks.q8rows4 = simd.Q8Dot4VNNI
			ks.q8rows = simd.Q8RowsVNNI
			ks.q4rows4 = simd.Q4Dot4VNNI
		}
		ks.direct[F32], ks.dmax[F32] = simd.Tile512F32, directMax512
		ks.direct[F16], ks.dmax[F16] = simd.Tile512F16, directMax512
		ks.direct[BF16], ks.dmax[BF16] = simd.Tile512BF16, directMax512
		ks.tall[F32], ks.tall[F16], ks.tall[BF16] = simd.Tile8x3F32, simd.Tile8x3F16, simd.Tile8x3BF16
		ks.mv[F32], ks.mv[F16], ks.mv[BF16] = simd.MV512F32, simd.MV512F16, simd.MV512BF16
		return ks
	case f.AVX2:
		return &kernelSet{
			name:    "avx2",
			mr:      2,
			f32:     tile256,
			deq:     deq256,
			q8dot:   simd.Q8DotAVX2,
			q4dot:   simd.Q4DotAVX2,
			qacts:   quantActsGo,
			accum:   accumGo,
			softmax: softmaxGo,
			silu:    siluMulGo,
		}
	}
	return nil
}

func accum512(out, v []float32, vstride int, slots []int32, p []float32, hd int) {
	if hd%16 != 0 || len(slots) == 0 {
		accumGo(out, v, vstride, slots, p, hd)
		return
	}
	_ = out[hd-1]
	_ = p[len(slots)-1]
	simd.Accum512(&out[0], &v[0], vstride, &slots[0], &p[0], len(slots), hd)
}

// tile256 adapts the fixed-shape AVX2 tile (nw == 4, k % 8 == 0) to tileFn.
func tile256(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	var wp [4]*float32
	for j := range wp {
		wp[j] = (*float32)(unsafe.Add(w, min(j, nw-1)*wstride))
	}
	var res [8]float32
	kf := k &^ 7
	if kf > 0 {
		simd.Tile256F32(kf, x, xstride, mx, wp[0], wp[1], wp[2], wp[3], &res)
	}
	for i := 0; i < mx; i++ {
		xr := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(x), i*xstride*4)), k)
		o := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(out), i*ostride*4)), nw)
		for j := 0; j < nw; j++ {
			s := res[4*i+j]
			if kf < k {
				s += dotGo(xr[kf:], unsafe.Slice(wp[j], k)[kf:])
			}
			if acc {
				o[j] += s
			} else {
				o[j] = s
			}
		}
	}
}

// directMax512 is the batch size up to which f32/f16/bf16 weights are read
// in place by the tile kernel; larger batches first copy (converting) a
// panel of weight rows into contiguous scratch, which the many x blocks then
// reuse from cache (measured 2x faster at n=512 than strided in-place reads).
const directMax512 = 16

// deq512 dequantizes len(dst) values of type t from src with AVX-512.
func deq512(dst []float32, src []byte, t DType) {
	n := len(dst)
	if n == 0 {
		return
	}
	_ = src[t.RowBytes(n)-1] // bounds check
	d, s := &dst[0], unsafe.Pointer(&src[0])
	switch t {
	case F32: // a byte copy: src need not be 4-byte aligned
		copy(unsafe.Slice((*byte)(unsafe.Pointer(d)), 4*n), src[:4*n])
	case F16:
		simd.Deq512F16(d, s, n)
	case BF16:
		simd.Deq512BF16(d, s, n)
	case Q8_0:
		simd.Deq512Q8(d, s, n/32)
	case Q4_0:
		simd.Deq512Q4(d, s, n/32)
	default:
		dequantize(dst, src, t)
	}
}

// deq256 dequantizes with AVX2 where it has a kernel (f16, bf16).
func deq256(dst []float32, src []byte, t DType) {
	n := len(dst) &^ 7
	if n == 0 || (t != F16 && t != BF16) {
		dequantize(dst, src, t)
		return
	}
	_ = src[2*n-1] // bounds check
	if t == F16 {
		simd.Deq256F16(&dst[0], unsafe.Pointer(&src[0]), n)
	} else {
		simd.Deq256BF16(&dst[0], unsafe.Pointer(&src[0]), n)
	}
	dequantize(dst[n:], src[2*n:], t)
}

// attnHeadDimOK reports whether the kdot/vacc kernels handle hd.
func attnHeadDimOK(hd int) bool { return simd.AttnHeadDim(hd) }

// kvKinds maps KV cache types to simd's.
var kvKinds = [...]int{F32: simd.KVF32, F16: simd.KVF16, E5M2: simd.KVE5M2, E4M3: simd.KVE4M3}

func kdot512(t DType, hd int, q *float32, k unsafe.Pointer, n int, out *float32) {
	simd.KDot512(kvKinds[t], hd, q, k, n, out)
}

func vacc512(t DType, hd int, out *float32, v unsafe.Pointer, n int, p *float32) {
	simd.VAcc512(kvKinds[t], hd, out, v, n, p)
}

func kdot2x512(t DType, hd int, q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32) {
	simd.KDot2x512(kvKinds[t], hd, q0, q1, k, n, out0, out1)
}

func vacc2x512(t DType, hd int, out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32) {
	simd.VAcc2x512(kvKinds[t], hd, out0, out1, v, n, p0, p1)
}
