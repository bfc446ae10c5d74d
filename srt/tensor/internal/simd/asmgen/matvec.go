package main

// Matrix-vector kernels for batch-1 decode: several weight rows per call so
// one activation load serves them all and the horizontal sums happen once
// per row at the end.

var q8rows = [4]string{"DI", "R11", "R12", "R13"}

// q8Dot4VNNI writes q8Dot4VNNI(xq *int8, aux *int32, w unsafe.Pointer, rowBytes, nb int, out *float32):
// out[j] = Q8_0 dot of the activation blocks with weight row j (at w +
// j*rowBytes) for j < 4, nb even and >= 2, with q8Dot2VNNI's arithmetic
// (the weights' sign bit flipped, aux cancelling the excess per pair).
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
		g.p("\tPREFETCHT0 (%s)(R10*4)", r)
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
