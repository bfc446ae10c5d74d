//go:build amd64

package simd

import "unsafe"

//go:generate go run ./asmgen

// Tile512F32 (and the F16/BF16 variants, which convert weights on load)
// compute out[i*ostride+j] (+)= sum_{t<k} x[i*xstride+t] * w_j[t] for
// i < mx (1..6) and j < nw (1..4), w_j = w + j*wstride bytes; acc selects
// += over =. Requires AVX512 (see Features).
//
//go:noescape
func tile512F32(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

//go:noescape
func tile512F16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

//go:noescape
func tile512BF16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

// tile8x3F32 (and F16/BF16) are the same product for i < mx (1..8) and
// j < nw (1..3): the tall tile of small-batch decode.
//
//go:noescape
func tile8x3F32(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

//go:noescape
func tile8x3F16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

//go:noescape
func tile8x3BF16(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)

//go:noescape
func q8DotVNNI(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

//go:noescape
func q8DotAVX2(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

//go:noescape
func accum512(out, v *float32, vstride int, slots *int32, p *float32, n, hd int)

//go:noescape
func tile256F32(k int, x *float32, xstride, mx int, w0, w1, w2, w3 *float32, out *[8]float32)

//go:noescape
func deq512F16(dst *float32, src unsafe.Pointer, n int)

//go:noescape
func deq512BF16(dst *float32, src unsafe.Pointer, n int)

//go:noescape
func deq512Q8(dst *float32, src unsafe.Pointer, nb int)

//go:noescape
func deq512Q4(dst *float32, src unsafe.Pointer, nb int)

//go:noescape
func softmax512(x *float32, n int, scale float32)

//go:noescape
func siluMul512(gate, up *float32, n int)

//go:noescape
func q4DotVNNI(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

//go:noescape
func q4DotAVX2(xq *int8, xd *float32, w unsafe.Pointer, nb int) float32

//go:noescape
func quantActs512(q *int8, d *float32, x *float32, nb int)

//go:noescape
func q8Dot2VNNI(xq *int8, xd *float32, aux *int32, w unsafe.Pointer, nb int) float32

//go:noescape
func deq256F16(dst *float32, src unsafe.Pointer, n int)

//go:noescape
func deq256BF16(dst *float32, src unsafe.Pointer, n int)

//go:noescape
func q8Dot4VNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)

//go:noescape
func mv512F32(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32)

//go:noescape
func mv512F16(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32)

//go:noescape
func mv512BF16(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32)

//go:noescape
func q4Dot4VNNI(aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)

//go:noescape
func q8RowsVNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, rows, nb int, out *float32)
func kdot512F32H64(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512F32H64(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot512F32H128(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512F32H128(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot512F16H64(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512F16H64(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot512F16H128(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512F16H128(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func enc512F16(dst unsafe.Pointer, src *float32, n int)

//go:noescape
func kdot512E5M2H64(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512E5M2H64(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot512E5M2H128(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512E5M2H128(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func enc512E5M2(dst unsafe.Pointer, src *float32, n int)

//go:noescape
func kdot2x512F32H64(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512F32H64(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot2x512F32H128(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512F32H128(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot2x512F16H64(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512F16H64(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot2x512F16H128(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512F16H128(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot2x512E5M2H64(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512E5M2H64(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot2x512E5M2H128(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512E5M2H128(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func enc512E4M3(dst unsafe.Pointer, src *float32, n int)

//go:noescape
func kdot512E4M3H64(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512E4M3H64(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot2x512E4M3H64(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512E4M3H64(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)

//go:noescape
func kdot512E4M3H128(q *float32, k unsafe.Pointer, n int, out *float32)

//go:noescape
func vacc512E4M3H128(out *float32, v unsafe.Pointer, n int, p *float32)

//go:noescape
func kdot2x512E4M3H128(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)

//go:noescape
func vacc2x512E4M3H128(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)
