//go:build amd64

package simd

import "unsafe"

// The exported kernels below are thin names for the assembly; see
// decl_amd64.go for their contracts. They require Features().AVX512 (the
// 512-suffixed ones and Q8DotVNNI with VNNI) or AVX2.

func Tile512F32(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile512F32(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

func Tile512F16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile512F16(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

func Tile512BF16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile512BF16(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

func Tile8x3F32(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile8x3F32(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

func Tile8x3F16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile8x3F16(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

func Tile8x3BF16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool) {
	tile8x3BF16(k, x, xstride, mx, w, wstride, nw, out, ostride, acc)
}

// Q8DotVNNI / Q8DotAVX2: sum over nb blocks of xd[b] * d_w[b] * (xq block · q_w block).
func Q8DotVNNI(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	return q8DotVNNI(xq, xd, w, nb)
}

func Q8DotAVX2(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	return q8DotAVX2(xq, xd, w, nb)
}

// Accum512: out[:hd] += sum_{j<n} p[j] * v[slots[j]*vstride:][:hd]; hd % 16 == 0.
func Accum512(out, v *float32, vstride int, slots *int32, p *float32, n, hd int) {
	accum512(out, v, vstride, slots, p, n, hd)
}

// Tile256F32: AVX2 tile, k a positive multiple of 8, mx 1 or 2:
// out[4i+j] = x_i · w_j (x_i = x + i*xstride floats).
func Tile256F32(k int, x *float32, xstride, mx int, w0, w1, w2, w3 *float32, out *[8]float32) {
	tile256F32(k, x, xstride, mx, w0, w1, w2, w3, out)
}

// Deq512F16 / Deq512BF16 decode n values at src into dst (AVX512).
func Deq512F16(dst *float32, src unsafe.Pointer, n int)  { deq512F16(dst, src, n) }
func Deq512BF16(dst *float32, src unsafe.Pointer, n int) { deq512BF16(dst, src, n) }

// Deq512Q8 / Deq512Q4 decode nb ggml blocks (32 values each) at src into dst (AVX512).
func Deq512Q8(dst *float32, src unsafe.Pointer, nb int) { deq512Q8(dst, src, nb) }
func Deq512Q4(dst *float32, src unsafe.Pointer, nb int) { deq512Q4(dst, src, nb) }

// Softmax512 replaces x[:n] by softmax(scale*x) (n >= 1, scale > 0) with a
// vectorized exp (relative error ~1e-7). AVX512.
func Softmax512(x *float32, n int, scale float32) { softmax512(x, n, scale) }

// SiLUMul512 computes gate[i] = silu(gate[i]) * up[i] for i < n (n >= 1). AVX512.
func SiLUMul512(gate, up *float32, n int) { siluMul512(gate, up, n) }

// Q4DotVNNI / Q4DotAVX2: like Q8Dot* against Q4_0 weight blocks (values d*(q-8)).
func Q4DotVNNI(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	return q4DotVNNI(xq, xd, w, nb)
}

func Q4DotAVX2(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32 {
	return q4DotAVX2(xq, xd, w, nb)
}

// QuantActs512 quantizes nb blocks of 32 activations: d[b] = amax/127,
// q = round-half-away(x/d) (x * (1/d)), like tensor's Go quantizer. AVX512.
func QuantActs512(q *int8, d *float32, x *float32, nb int) { quantActs512(q, d, x, nb) }

// Q8Dot2VNNI is Q8DotVNNI two blocks at a time; aux holds, per pair of x
// blocks, 16 int32 (lane 0: -128*sum of block b's q, lane 8: same for b+1)
// then 16 float32 (b's scale in lanes 0-7, b+1's in 8-15). See Q8Aux.
func Q8Dot2VNNI(xq *int8, xd *float32, aux *int32, w unsafe.Pointer, nb int) float32 {
	return q8Dot2VNNI(xq, xd, aux, w, nb)
}

// Deq256F16 / Deq256BF16 decode n values (n a multiple of 8) at src into dst (AVX2).
func Deq256F16(dst *float32, src unsafe.Pointer, n int)  { deq256F16(dst, src, n) }
func Deq256BF16(dst *float32, src unsafe.Pointer, n int) { deq256BF16(dst, src, n) }

// Q8Dot4VNNI computes out[0:4]: the Q8Dot2VNNI dot of the activation (xq,
// aux; its xd is folded into aux) with the four Q8_0 rows at w + j*rowBytes,
// j < 4. nb must be even and >= 2.
func Q8Dot4VNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32) {
	q8Dot4VNNI(xq, aux, w, rowBytes, nb, out)
}

// MV512F32 (and the F16/BF16 variants) compute out[j] = x · w_j for the
// rows j < rows (rows >= 1), w_j = w + j*wstride bytes, k a positive
// multiple of 32 (the batch-1 decode matvec). The rows are streamed one
// after the other with software prefetch a little ahead of the loads (which
// may touch, harmlessly, up to 2 KB past the last row). AVX512.
func MV512F32(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32) {
	mv512F32(k, x, w, wstride, rows, out)
}

func MV512F16(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32) {
	mv512F16(k, x, w, wstride, rows, out)
}

func MV512BF16(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32) {
	mv512BF16(k, x, w, wstride, rows, out)
}

// Q4Dot4VNNI computes out[0:4]: the int8 dot of an activation (prepared as
// aux, see the generator's q4Dot4VNNI) with the four Q4_0 rows at w +
// j*rowBytes, j < 4. nb must be even and >= 2.
func Q4Dot4VNNI(aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32) {
	q4Dot4VNNI(aux, w, rowBytes, nb, out)
}

// Q8RowsVNNI computes out[j] for j < rows (>= 1): the Q8_0 dot of an
// activation (quantized as xq, with aux per pair of blocks as for
// Q8Dot4VNNI) with the row at w + j*rowBytes. nb must be even and >= 2.
// Rows are streamed in order with prefetch a little ahead of the loads
// (which may touch, harmlessly, up to 2 KB past the last row).
func Q8RowsVNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, rows, nb int, out *float32) {
	q8RowsVNNI(xq, aux, w, rowBytes, rows, nb, out)
}

// KV cache value types of KDot512 and VAcc512.
const (
	KVF32  = iota // float32
	KVF16         // IEEE half
	KVE5M2        // fp8 E5M2: the high byte of the f16
	KVE4M3        // fp8 E4M3 (fn: no infinities, max 448)
)

// KDot512 sets out[j] = q · k_j for the n rows k_j of hd values of type t
// (KVF32, KVF16 or KVE5M2) starting at k; VAcc512 adds sum_j p[j] * v_j to
// out[:hd]. hd is one of AttnHeadDims. AVX512.
func KDot512(t, hd int, q *float32, k unsafe.Pointer, n int, out *float32) {
	switch {
	case t == KVF16 && hd == 64:
		kdot512F16H64(q, k, n, out)
	case t == KVF16 && hd == 128:
		kdot512F16H128(q, k, n, out)
	case t == KVE5M2 && hd == 64:
		kdot512E5M2H64(q, k, n, out)
	case t == KVE4M3 && hd == 64:
		kdot512E4M3H64(q, k, n, out)
	case t == KVE5M2 && hd == 128:
		kdot512E5M2H128(q, k, n, out)
	case t == KVE4M3 && hd == 128:
		kdot512E4M3H128(q, k, n, out)
	case t == KVF32 && hd == 64:
		kdot512F32H64(q, k, n, out)
	case t == KVF32 && hd == 128:
		kdot512F32H128(q, k, n, out)
	default:
		panic("simd: KDot512: unsupported type or head dimension")
	}
}

func VAcc512(t, hd int, out *float32, v unsafe.Pointer, n int, p *float32) {
	switch {
	case t == KVF16 && hd == 64:
		vacc512F16H64(out, v, n, p)
	case t == KVF16 && hd == 128:
		vacc512F16H128(out, v, n, p)
	case t == KVE5M2 && hd == 64:
		vacc512E5M2H64(out, v, n, p)
	case t == KVE4M3 && hd == 64:
		vacc512E4M3H64(out, v, n, p)
	case t == KVE5M2 && hd == 128:
		vacc512E5M2H128(out, v, n, p)
	case t == KVE4M3 && hd == 128:
		vacc512E4M3H128(out, v, n, p)
	case t == KVF32 && hd == 64:
		vacc512F32H64(out, v, n, p)
	case t == KVF32 && hd == 128:
		vacc512F32H128(out, v, n, p)
	default:
		panic("simd: VAcc512: unsupported type or head dimension")
	}
}

// KDot2x512 is KDot512 for two queries (q0 into out0, q1 into out1) over
// the same keys, each key read once; VAcc2x512 is VAcc512 for two outputs.
func KDot2x512(t, hd int, q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32) {
	switch {
	case t == KVF16 && hd == 64:
		kdot2x512F16H64(q0, q1, k, n, out0, out1)
	case t == KVF16 && hd == 128:
		kdot2x512F16H128(q0, q1, k, n, out0, out1)
	case t == KVE5M2 && hd == 64:
		kdot2x512E5M2H64(q0, q1, k, n, out0, out1)
	case t == KVE4M3 && hd == 64:
		kdot2x512E4M3H64(q0, q1, k, n, out0, out1)
	case t == KVE5M2 && hd == 128:
		kdot2x512E5M2H128(q0, q1, k, n, out0, out1)
	case t == KVE4M3 && hd == 128:
		kdot2x512E4M3H128(q0, q1, k, n, out0, out1)
	case t == KVF32 && hd == 64:
		kdot2x512F32H64(q0, q1, k, n, out0, out1)
	case t == KVF32 && hd == 128:
		kdot2x512F32H128(q0, q1, k, n, out0, out1)
	default:
		panic("simd: KDot2x512: unsupported type or head dimension")
	}
}

func VAcc2x512(t, hd int, out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32) {
	switch {
	case t == KVF16 && hd == 64:
		vacc2x512F16H64(out0, out1, v, n, p0, p1)
	case t == KVF16 && hd == 128:
		vacc2x512F16H128(out0, out1, v, n, p0, p1)
	case t == KVE5M2 && hd == 64:
		vacc2x512E5M2H64(out0, out1, v, n, p0, p1)
	case t == KVE4M3 && hd == 64:
		vacc2x512E4M3H64(out0, out1, v, n, p0, p1)
	case t == KVE5M2 && hd == 128:
		vacc2x512E5M2H128(out0, out1, v, n, p0, p1)
	case t == KVE4M3 && hd == 128:
		vacc2x512E4M3H128(out0, out1, v, n, p0, p1)
	case t == KVF32 && hd == 64:
		vacc2x512F32H64(out0, out1, v, n, p0, p1)
	case t == KVF32 && hd == 128:
		vacc2x512F32H128(out0, out1, v, n, p0, p1)
	default:
		panic("simd: VAcc2x512: unsupported type or head dimension")
	}
}

// AttnHeadDims reports whether KDot512 and VAcc512 support hd.
func AttnHeadDim(hd int) bool { return hd == 64 || hd == 128 }

// Enc512F16 converts n float32 values (n a multiple of 16) to f16 at dst,
// rounding to nearest even. AVX512.
func Enc512F16(dst unsafe.Pointer, src *float32, n int) { enc512F16(dst, src, n) }

// Enc512E5M2 converts n float32 values (n a multiple of 16) to fp8 E5M2 at
// dst: clamped to +-57344, rounded to f16 and then to its high byte (both to
// nearest even). AVX512 (BW).
func Enc512E5M2(dst unsafe.Pointer, src *float32, n int) { enc512E5M2(dst, src, n) }

// Enc512E4M3 converts n float32 values (n a multiple of 16) to fp8 E4M3 at
// dst: clamped to +-448, scaled by 2^-8, rounded to f16 and then to its 7
// high magnitude bits (both to nearest even). AVX512 (BW).
func Enc512E4M3(dst unsafe.Pointer, src *float32, n int) { enc512E4M3(dst, src, n) }
