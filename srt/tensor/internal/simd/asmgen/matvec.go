package main

import "fmt"

// Matrix-vector kernels for batch-1 decode: several weight rows per call so
// one activation load serves them all and the horizontal sums happen once
// per row at the end.

var q8rows = [4]string{"DI", "R11", "R12", "R13"}

// q8PrefetchRows is how many rows ahead q8Dot4VNNI prefetches (both cache
// lines a 68-byte step can touch, per row). Measured on Zen 5, one thread
// streaming 110 MB: no prefetch 15 GB/s, 4 rows and one line 23 GB/s,
// 4 rows and two lines 27 GB/s, 8 rows and two lines 30 GB/s, 12-24 rows no better.
const q8PrefetchRows = 8

// q8Dot4VNNI writes q8Dot4VNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32):
// out[j] = Q8_0 dot of the activation blocks with weight row j (at w +
// j*rowBytes) for j < 4, nb even and >= 2, with q8Dot2VNNI's arithmetic
// (the weights' sign bit flipped, aux cancelling the excess per pair).
// The x-scale vector (aux's float half) and the x quants are loaded once
// per pair for all four rows.
func (g *gen) q8Dot4VNNI() {
	name := "q8Dot4VNNI"
	g.p("")
	g.p("// func %s(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.p("\tMOVQ xq+0(FP), SI")
	g.p("\tMOVQ aux+8(FP), R8")
	g.p("\tMOVQ w+16(FP), DI")
	g.p("\tMOVQ rowBytes+24(FP), R10")
	g.p("\tMOVQ nb+32(FP), CX")
	g.p("\tSHRQ $1, CX")
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (DI)(R10*2), R12")
	g.p("\tLEAQ (R11)(R10*2), R13")
	g.p("\tIMUL3Q $%d, R10, R14", q8PrefetchRows)
	for a := 16; a < 20; a++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
	}
	g.p("\tMOVL $0x80808080, AX")
	g.p("\tVPBROADCASTD AX, Z20")
	g.p("\tMOVL $0xff00, AX")
	g.p("\tKMOVD AX, K2") // words 8-15 of a 16-word broadcast
	g.p("%s_loop:", name)
	g.p("\tVMOVDQU64 (SI), Z1")
	g.p("\tVMOVDQU32 (R8), Z2")
	g.p("\tVMOVUPS 64(R8), Z3")
	for j, r := range q8rows {
		w, t, s := 4+3*j, 5+3*j, 6+3*j
		g.p("\tPREFETCHT0 (%s)(R14*1)", r)
		g.p("\tPREFETCHT0 64(%s)(R14*1)", r)
		g.p("\tVMOVDQU 2(%s), Y%d", r, w)
		g.p("\tVINSERTI64X4 $1, 36(%s), Z%d, Z%d", r, w, w)
		g.p("\tVPXORD Z20, Z%d, Z%d", w, w)
		g.p("\tVMOVDQA32 Z2, Z%d", t)
		g.p("\tVPDPBUSD Z1, Z%d, Z%d", w, t)
		g.p("\tVCVTDQ2PS Z%d, Z%d", t, t)
		g.p("\tVPBROADCASTW (%s), Y%d", r, s)
		g.p("\tVPBROADCASTW 34(%s), K2, Y%d", r, s)
		g.p("\tVCVTPH2PS Y%d, Z%d", s, s)
		g.p("\tVMULPS Z3, Z%d, Z%d", s, s)
		g.p("\tVFMADD231PS Z%d, Z%d, Z%d", s, t, 16+j)
	}
	for _, r := range q8rows {
		g.p("\tADDQ $68, %s", r)
	}
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $128, R8")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("\tMOVQ out+40(FP), DX")
	g.reduce4(16, 17, 18, 19)
	g.p("\tVMOVUPS X16, (DX)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// q8RowsVNNI writes q8RowsVNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, rows, nb int, out *float32):
// out[j] = the Q8_0 dot of the activation with weight row j (at w +
// j*rowBytes) for j < rows (>= 1), nb even and >= 2, with q8Dot4VNNI's
// per-pair arithmetic. The rows are streamed one after the other (one
// sequential stream per thread, prefetched mvPrefetch bytes ahead), which
// the batch-1 decode matvec prefers to four interleaved rows.
func (g *gen) q8RowsVNNI() {
	name := "q8RowsVNNI"
	g.p("")
	g.p("// func %s(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, rows, nb int, out *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-56", name)
	g.p("\tMOVQ w+16(FP), DI")
	g.p("\tMOVQ rowBytes+24(FP), R10")
	g.p("\tMOVQ rows+32(FP), R11")
	g.p("\tMOVQ nb+40(FP), R12")
	g.p("\tSHRQ $1, R12")
	g.p("\tMOVQ out+48(FP), DX")
	g.p("\tMOVL $0x80808080, AX")
	g.p("\tVPBROADCASTD AX, Z20")
	g.p("\tMOVL $0xff00, AX")
	g.p("\tKMOVD AX, K2") // words 8-15 of a 16-word broadcast
	g.p("%s_row:", name)
	g.p("\tMOVQ xq+0(FP), SI")
	g.p("\tMOVQ aux+8(FP), R8")
	g.p("\tMOVQ DI, AX")
	g.p("\tMOVQ R12, CX")
	g.p("\tVPXORD Z16, Z16, Z16")
	g.p("%s_loop:", name)
	g.p("\tPREFETCHT0 %d(AX)", mvPrefetch)
	g.p("\tPREFETCHT0 %d(AX)", mvPrefetch+64)
	g.p("\tVMOVDQU 2(AX), Y4")
	g.p("\tVINSERTI64X4 $1, 36(AX), Z4, Z4")
	g.p("\tVPXORD Z20, Z4, Z4")
	g.p("\tVMOVDQU32 (R8), Z5")
	g.p("\tVPDPBUSD (SI), Z4, Z5")
	g.p("\tVCVTDQ2PS Z5, Z5")
	g.p("\tVPBROADCASTW (AX), Y6")
	g.p("\tVPBROADCASTW 34(AX), K2, Y6")
	g.p("\tVCVTPH2PS Y6, Z6")
	g.p("\tVMULPS 64(R8), Z6, Z6")
	g.p("\tVFMADD231PS Z6, Z5, Z16")
	g.p("\tADDQ $68, AX")
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $128, R8")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("\tVEXTRACTF32X8 $1, Z16, Y1")
	g.p("\tVADDPS Y1, Y16, Y16")
	g.p("\tVEXTRACTF32X4 $1, Y16, X1")
	g.p("\tVADDPS X1, X16, X0")
	g.p("\tVHADDPS X0, X0, X0")
	g.p("\tVHADDPS X0, X0, X0")
	g.p("\tVMOVSS X0, (DX)")
	g.p("\tADDQ $4, DX")
	g.p("\tADDQ R10, DI")
	g.p("\tDECQ R11")
	g.p("\tJNZ %s_row", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// reduce4 leaves in X<a> the four lane sums of Z<a>, Z<b>, Z<c>, Z<d> (in
// that order), clobbering them and Z29, Z30.
func (g *gen) reduce4(a, b, c, d int) {
	g.p("\tVUNPCKLPS Z%d, Z%d, Z29", b, a)
	g.p("\tVUNPCKHPS Z%d, Z%d, Z30", b, a)
	g.p("\tVADDPS Z30, Z29, Z%d", a)
	g.p("\tVUNPCKLPS Z%d, Z%d, Z29", d, c)
	g.p("\tVUNPCKHPS Z%d, Z%d, Z30", d, c)
	g.p("\tVADDPS Z30, Z29, Z%d", c)
	g.p("\tVSHUFPS $0x44, Z%d, Z%d, Z29", c, a)
	g.p("\tVSHUFPS $0xEE, Z%d, Z%d, Z30", c, a)
	g.p("\tVADDPS Z30, Z29, Z%d", a)
	g.p("\tVEXTRACTF32X8 $1, Z%d, Y29", a)
	g.p("\tVADDPS Y29, Y%d, Y%d", a, a)
	g.p("\tVEXTRACTF32X4 $1, Y%d, X29", a)
	g.p("\tVADDPS X29, X%d, X%d", a, a)
}

// mvPrefetch is how far ahead of its loads mv512 prefetches, in bytes.
// Rows are streamed one after the other, so the weights form one
// sequential stream per thread. Measured on Zen 5 (2 threads, 200-360 MB
// of layer-shaped weights, both kernels alternating in one process): one
// row at a time streams about 15% faster than four interleaved rows (four
// streams per thread, one cache line each per step) for f16 and f32;
// 1-4 KB ahead measured alike, no prefetch about 10% lower.
const mvPrefetch = 2048

// mv512 writes mv512<T>(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32):
// out[j] = x · w_j for j < rows (>= 1), w_j = w + j*wstride bytes of type
// t, k a positive multiple of 32. Each row is summed in 64-value steps
// into four accumulators (plus a 32-value step when k%64 != 0), x read
// from memory (it stays in L1).
func (g *gen) mv512(t string) {
	wb := map[string]int{"F32": 64, "F16": 32, "BF16": 32}[t] // bytes per 16 weights
	name := "mv512" + t
	g.p("")
	g.p("// func %s(k int, x *float32, w unsafe.Pointer, wstride, rows int, out *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.p("\tMOVQ k+0(FP), BX")
	g.p("\tMOVQ BX, R9")
	g.p("\tANDQ $32, R9")
	g.p("\tSHRQ $6, BX")
	g.p("\tMOVQ w+16(FP), DI")
	g.p("\tMOVQ wstride+24(FP), R10")
	g.p("\tMOVQ rows+32(FP), R11")
	g.p("\tMOVQ out+40(FP), DX")
	g.p("%s_row:", name)
	g.p("\tMOVQ x+8(FP), SI")
	g.p("\tMOVQ DI, AX")
	g.p("\tMOVQ BX, CX")
	for a := 0; a < 4; a++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_half", name)
	g.p("%s_loop:", name)
	for l := 0; l < 4*wb/64; l++ {
		g.p("\tPREFETCHT0 %d(AX)", mvPrefetch+64*l)
	}
	for z := 0; z < 4; z++ {
		g.loadW(t, fmt.Sprintf("%d(AX)", z*wb), 4+z, false)
	}
	for z := 0; z < 4; z++ {
		g.p("\tVFMADD231PS %d(SI), Z%d, Z%d", 64*z, 4+z, z)
	}
	g.p("\tADDQ $%d, AX", 4*wb)
	g.p("\tADDQ $256, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_half:", name)
	g.p("\tTESTQ R9, R9")
	g.p("\tJZ %s_sum", name)
	for z := 0; z < 2; z++ {
		g.loadW(t, fmt.Sprintf("%d(AX)", z*wb), 4+z, false)
	}
	for z := 0; z < 2; z++ {
		g.p("\tVFMADD231PS %d(SI), Z%d, Z%d", 64*z, 4+z, z)
	}
	g.p("%s_sum:", name)
	g.p("\tVADDPS Z1, Z0, Z0")
	g.p("\tVADDPS Z3, Z2, Z2")
	g.p("\tVADDPS Z2, Z0, Z0")
	g.p("\tVEXTRACTF32X8 $1, Z0, Y1")
	g.p("\tVADDPS Y1, Y0, Y0")
	g.p("\tVEXTRACTF32X4 $1, Y0, X1")
	g.p("\tVADDPS X1, X0, X0")
	g.p("\tVHADDPS X0, X0, X0")
	g.p("\tVHADDPS X0, X0, X0")
	g.p("\tVMOVSS X0, (DX)")
	g.p("\tADDQ $4, DX")
	g.p("\tADDQ R10, DI")
	g.p("\tDECQ R11")
	g.p("\tJNZ %s_row", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// q4Dot4VNNI writes q4Dot4VNNI(aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32):
// out[j] = the int8 dot of the activation with Q4_0 weight row j (at w +
// j*rowBytes), j < 4, nb even and >= 2. Per pair of blocks aux holds 48
// int32 (see tensor's q4Aux): the pair's 64 x quants reordered to match the
// nibble layout [b0 low, b1 low, b0 high, b1 high] (16 bytes each), the
// -8*sum(x) corrections (lane 0: block b0, lane 4: b1), and the x scales
// (lanes 0-3 and 8-11: b0, 4-7 and 12-15: b1). Nibbles are used as the
// unsigned VPDPBUSD operand as they are.
func (g *gen) q4Dot4VNNI() {
	name := "q4Dot4VNNI"
	g.p("")
	g.p("// func %s(aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	g.p("\tMOVQ aux+0(FP), R8")
	g.p("\tMOVQ w+8(FP), DI")
	g.p("\tMOVQ rowBytes+16(FP), R10")
	g.p("\tMOVQ nb+24(FP), CX")
	g.p("\tSHRQ $1, CX")
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (DI)(R10*2), R12")
	g.p("\tLEAQ (R11)(R10*2), R13")
	g.p("\tIMUL3Q $%d, R10, R14", q8PrefetchRows)
	for a := 16; a < 20; a++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
	}
	g.p("\tMOVL $0x0f0f0f0f, AX")
	g.p("\tVPBROADCASTD AX, Z20")
	// word shift counts: 0 in the low 256 bits, 4 in the high
	g.p("\tMOVL $0x00040004, AX")
	g.p("\tVPBROADCASTD AX, Z21")
	g.p("\tVPXORD Y21, Y21, Y22")
	g.p("\tVINSERTI64X4 $1, Y21, Z22, Z21")
	g.p("\tMOVL $0xf0f0, AX")
	g.p("\tKMOVD AX, K2") // words 4-7 and 12-15 of a 16-word broadcast
	g.p("%s_loop:", name)
	g.p("\tVMOVDQU64 (R8), Z1")
	g.p("\tVMOVDQU32 64(R8), Z2")
	g.p("\tVMOVUPS 128(R8), Z3")
	for j, r := range q8rows {
		w, t, s := 4+3*j, 5+3*j, 6+3*j
		g.p("\tPREFETCHT0 (%s)(R14*1)", r)
		g.p("\tVMOVDQU 2(%s), X%d", r, w)
		g.p("\tVINSERTI128 $1, 20(%s), Y%d, Y%d", r, w, w)
		g.p("\tVINSERTI64X4 $1, Y%d, Z%d, Z%d", w, w, w)
		g.p("\tVPSRLVW Z21, Z%d, Z%d", w, w)
		g.p("\tVPANDD Z20, Z%d, Z%d", w, w)
		g.p("\tVMOVDQA32 Z2, Z%d", t)
		g.p("\tVPDPBUSD Z1, Z%d, Z%d", w, t)
		g.p("\tVCVTDQ2PS Z%d, Z%d", t, t)
		g.p("\tVPBROADCASTW (%s), Y%d", r, s)
		g.p("\tVPBROADCASTW 18(%s), K2, Y%d", r, s)
		g.p("\tVCVTPH2PS Y%d, Z%d", s, s)
		g.p("\tVMULPS Z3, Z%d, Z%d", s, s)
		g.p("\tVFMADD231PS Z%d, Z%d, Z%d", s, t, 16+j)
	}
	for _, r := range q8rows {
		g.p("\tADDQ $36, %s", r)
	}
	g.p("\tADDQ $192, R8")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("\tMOVQ out+32(FP), DX")
	g.reduce4(16, 17, 18, 19)
	g.p("\tVMOVUPS X16, (DX)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}
