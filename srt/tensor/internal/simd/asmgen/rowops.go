package main

// Row kernels: vector exp, softmax, SiLU, activation quantization, and the
// two-block VNNI Q8_0 dot.

// Constants of the vector exp (Cody-Waite reduction, Cephes expf polynomial).
var expConsts = []struct {
	reg  int
	val  string
	bits uint32
}{
	{16, "log2e", 0x3fb8aa3b}, // 1.44269504
	{17, "ln2hi", 0x3f318000}, // 0.693359375
	{18, "ln2lo", 0xb95e8083}, // -2.12194440e-4
	{19, "c6", 0x39506967},    // 1.9875691500e-4
	{20, "c5", 0x3ab743ce},    // 1.3981999507e-3
	{21, "c4", 0x3c088908},    // 8.3334519073e-3
	{22, "c3", 0x3d2aa9c1},    // 4.1665795894e-2
	{23, "c2", 0x3e2aaaaa},    // 1.6666665459e-1
	{24, "c1", 0x3f000000},    // 5.0000001201e-1
	{25, "one", 0x3f800000},   // 1
	{26, "lo", 0xc2dc0000},    // -110
	{27, "hi", 0x42c80000},    // 100
}

func (g *gen) loadExpConsts() {
	for _, c := range expConsts {
		g.p("\tMOVL $0x%08x, AX // %s", c.bits, c.val)
		g.p("\tVPBROADCASTD AX, Z%d", c.reg)
	}
}

// exp512 replaces Z<x> by exp(Z<x>) using Z<t> and Z<t+1> as temps.
func (g *gen) exp512(x, t int) {
	n, r := t, t+1
	g.p("\tVMAXPS Z26, Z%d, Z%d", x, x)
	g.p("\tVMINPS Z27, Z%d, Z%d", x, x)
	g.p("\tVMULPS Z16, Z%d, Z%d", x, n)
	g.p("\tVRNDSCALEPS $0, Z%d, Z%d", n, n)
	g.p("\tVFNMADD231PS Z17, Z%d, Z%d", n, x) // x -= n*ln2hi
	g.p("\tVFNMADD231PS Z18, Z%d, Z%d", n, x) // x -= n*ln2lo: x is now r
	g.p("\tVMOVAPS Z19, Z%d", r)
	for c := 20; c <= 24; c++ {
		g.p("\tVFMADD213PS Z%d, Z%d, Z%d", c, x, r) // p = p*r + c
	}
	g.p("\tVMOVAPS Z%d, Z%d", x, t+2)
	g.p("\tVMULPS Z%d, Z%d, Z%d", x, x, x)        // x = r^2
	g.p("\tVFMADD213PS Z%d, Z%d, Z%d", t+2, x, r) // p = p*r^2 + r
	g.p("\tVADDPS Z25, Z%d, Z%d", r, r)
	g.p("\tVSCALEFPS Z%d, Z%d, Z%d", n, r, x) // x = p * 2^n
}

// hred512 reduces Z<a> across lanes with op (VADDPS/VMAXPS) into all lanes
// of X<a> (lane 0 at least), temp Z<t>.
func (g *gen) hred512(op string, a, t int) {
	g.p("\tVEXTRACTF32X8 $1, Z%d, Y%d", a, t)
	g.p("\t%s Y%d, Y%d, Y%d", op, t, a, a)
	g.p("\tVEXTRACTF32X4 $1, Y%d, X%d", a, t)
	g.p("\t%s X%d, X%d, X%d", op, t, a, a)
	g.p("\tVPERMILPS $0x4e, X%d, X%d", a, t)
	g.p("\t%s X%d, X%d, X%d", op, t, a, a)
	g.p("\tVPERMILPS $0xb1, X%d, X%d", a, t)
	g.p("\t%s X%d, X%d, X%d", op, t, a, a)
}

// tailMask sets K1 to the low min(CX,16) bits and BX to that count.
func (g *gen) tailMask() {
	g.p("\tMOVQ $16, BX")
	g.p("\tCMPQ CX, BX")
	g.p("\tCMOVQLT CX, BX")
	g.p("\tMOVQ $1, AX")
	g.p("\tSHLXQ BX, AX, AX")
	g.p("\tDECQ AX")
	g.p("\tKMOVW AX, K1")
}

// softmax512 writes softmax512(x *float32, n int, scale float32): x = softmax(scale*x), n >= 1, scale > 0.
func (g *gen) softmax512() {
	name := "softmax512"
	g.p("")
	g.p("// func %s(x *float32, n int, scale float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-20", name)
	g.loadExpConsts()
	// pass 1: max
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ n+8(FP), CX")
	g.p("\tMOVL $0xff800000, AX")
	g.p("\tVPBROADCASTD AX, Z8") // -Inf
	g.p("\tVMOVAPS Z8, Z9")
	g.p("%s_max:", name)
	g.tailMask()
	g.p("\tVMOVAPS Z8, Z0")
	g.p("\tVMOVUPS (SI), K1, Z0")
	g.p("\tVMAXPS Z0, Z9, Z9")
	g.p("\tADDQ $64, SI")
	g.p("\tSUBQ BX, CX")
	g.p("\tJNZ %s_max", name)
	g.hred512("VMAXPS", 9, 0)
	g.p("\tVBROADCASTSS scale+16(FP), Z10")
	g.p("\tVMULSS X10, X9, X9")
	g.p("\tVBROADCASTSS X9, Z9") // m*scale
	// pass 2: e = exp(scale*x - m*scale), sum
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ n+8(FP), CX")
	g.p("\tVXORPS X11, X11, X11")
	g.p("\tVXORPS X12, X12, X12")
	g.p("%s_exp:", name)
	g.tailMask()
	g.p("\tVMOVUPS.Z (SI), K1, Z0")
	g.p("\tVFMSUB213PS Z9, Z10, Z0") // z0 = z10*z0 - z9
	g.exp512(0, 1)
	g.p("\tVMOVUPS Z0, K1, (SI)")
	g.p("\tVADDPS Z0, Z11, K1, Z11")
	g.p("\tADDQ $64, SI")
	g.p("\tSUBQ BX, CX")
	g.p("\tJNZ %s_exp", name)
	g.hred512("VADDPS", 11, 0)
	g.p("\tVDIVSS X11, X25, X11")
	g.p("\tVBROADCASTSS X11, Z11")
	// pass 3: scale
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ n+8(FP), CX")
	g.p("%s_mul:", name)
	g.tailMask()
	g.p("\tVMOVUPS.Z (SI), K1, Z0")
	g.p("\tVMULPS Z11, Z0, Z0")
	g.p("\tVMOVUPS Z0, K1, (SI)")
	g.p("\tADDQ $64, SI")
	g.p("\tSUBQ BX, CX")
	g.p("\tJNZ %s_mul", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// siluMul512 writes siluMul512(gate, up *float32, n int): gate = silu(gate)*up, n >= 1.
func (g *gen) siluMul512() {
	name := "siluMul512"
	g.p("")
	g.p("// func %s(gate, up *float32, n int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	g.loadExpConsts()
	g.p("\tMOVQ gate+0(FP), SI")
	g.p("\tMOVQ up+8(FP), DI")
	g.p("\tMOVQ n+16(FP), CX")
	g.p("%s_loop:", name)
	g.tailMask()
	g.p("\tVMOVUPS.Z (SI), K1, Z5")
	g.p("\tVXORPS Z0, Z0, Z0")
	g.p("\tVSUBPS Z5, Z0, Z0") // -g
	g.exp512(0, 1)
	g.p("\tVADDPS Z25, Z0, Z0") // 1 + e^-g
	g.p("\tVMULPS.Z (DI), Z5, K1, Z5")
	g.p("\tVDIVPS Z0, Z5, Z5")
	g.p("\tVMOVUPS Z5, K1, (SI)")
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $64, DI")
	g.p("\tSUBQ BX, CX")
	g.p("\tJNZ %s_loop", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// quantActs512 writes quantActs512(q *int8, d *float32, x *float32, nb int):
// per 32-block, amax = max|x|, d = amax/127, id = 1/d (0 if d == 0),
// q = round-half-away(x*id), bit-identical to the Go twin.
func (g *gen) quantActs512() {
	name := "quantActs512"
	g.p("")
	g.p("// func %s(q *int8, d *float32, x *float32, nb int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	g.p("\tMOVQ q+0(FP), DI")
	g.p("\tMOVQ d+8(FP), DX")
	g.p("\tMOVQ x+16(FP), SI")
	g.p("\tMOVQ nb+24(FP), CX")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_done", name)
	g.p("\tMOVL $0x7fffffff, AX")
	g.p("\tVPBROADCASTD AX, Z20") // abs mask
	g.p("\tMOVL $0x3f000000, AX")
	g.p("\tVPBROADCASTD AX, Z21") // 0.5
	g.p("\tMOVL $0x3f800000, AX")
	g.p("\tVPBROADCASTD AX, Z22") // 1.0
	g.p("\tMOVL $0x42fe0000, AX")
	g.p("\tVMOVD AX, X23") // 127
	g.p("%s_loop:", name)
	g.p("\tVMOVUPS (SI), Z0")
	g.p("\tVMOVUPS 64(SI), Z1")
	g.p("\tVANDPS Z20, Z0, Z2")
	g.p("\tVANDPS Z20, Z1, Z3")
	g.p("\tVMAXPS Z3, Z2, Z2")
	g.hred512("VMAXPS", 2, 3)
	g.p("\tVDIVSS X23, X2, X2") // d = amax/127
	g.p("\tVMOVSS X2, (DX)")
	g.p("\tVXORPS X4, X4, X4")
	g.p("\tVUCOMISS X4, X2")
	g.p("\tJEQ %s_zero", name)
	g.p("\tVMOVAPS X22, X4")
	g.p("\tVDIVSS X2, X4, X4") // id = 1/d
	g.p("%s_zero:", name)
	g.p("\tVBROADCASTSS X4, Z4")
	for _, z := range []int{0, 1} {
		g.p("\tVMULPS Z4, Z%d, Z%d", z, z)          // v = x*id
		g.p("\tVRNDSCALEPS $3, Z%d, Z5", z)         // t = trunc(v)
		g.p("\tVSUBPS Z5, Z%d, Z6", z)              // f = v - t (exact)
		g.p("\tVANDPS Z20, Z6, Z6")                 // |f|
		g.p("\tVCMPPS $0x1d, Z21, Z6, K1")          // |f| >= 0.5 (GE_OQ)
		g.p("\tVPTERNLOGD $0xdc, Z20, Z22, Z%d", z) // (v &^ absmask) | 1.0 = ±1
		g.p("\tVADDPS Z%d, Z5, K1, Z5", z)          // t += ±1 where |f| >= 0.5
		g.p("\tVCVTTPS2DQ Z5, Z5")
		g.p("\tVPMOVSDB Z5, %d(DI)", 16*z)
	}
	g.p("\tADDQ $128, SI")
	g.p("\tADDQ $32, DI")
	g.p("\tADDQ $4, DX")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// q8Dot2VNNI writes q8Dot2VNNI(xq *int8, xd *float32, aux *int32, w unsafe.Pointer, nb int) float32:
// the Q8_0 dot of q8DotVNNI, two blocks per 512-bit step. Weights are made
// unsigned by flipping their sign bit (w+128), and the excess 128*sum(x) is
// cancelled by starting each pair's accumulator at aux: per pair of blocks,
// 16 int32 (lane 0 = -128*sum(x_b), lane 8 = -128*sum(x_b+1), others 0)
// then 16 float32 (x scale of block b in lanes 0-7, of b+1 in 8-15).
// An odd last block is done the q8DotVNNI way.
func (g *gen) q8Dot2VNNI() {
	name := "q8Dot2VNNI"
	g.p("")
	g.p("// func %s(xq *int8, xd *float32, aux *int32, w unsafe.Pointer, nb int) float32", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-44", name)
	g.p("\tMOVQ xq+0(FP), SI")
	g.p("\tMOVQ xd+8(FP), BX")
	g.p("\tMOVQ aux+16(FP), R8")
	g.p("\tMOVQ w+24(FP), DI")
	g.p("\tMOVQ nb+32(FP), CX")
	g.p("\tVPXORD Z0, Z0, Z0")
	g.p("\tVPXORD Z10, Z10, Z10")
	g.p("\tMOVL $0x80808080, AX")
	g.p("\tVPBROADCASTD AX, Z20")
	// permutation index: lanes 0-7 -> 0, 8-15 -> 1
	g.p("\tMOVL $1, AX")
	g.p("\tVPBROADCASTD AX, Z21")
	g.p("\tMOVW $0x00ff, AX")
	g.p("\tKMOVW AX, K1")
	g.p("\tVPXORD Z21, Z21, K1, Z21")
	g.p("%s_pair:", name)
	g.p("\tCMPQ CX, $2")
	g.p("\tJLT %s_tail", name)
	g.p("\tVMOVDQU 2(DI), Y1")
	g.p("\tVINSERTI64X4 $1, 36(DI), Z1, Z1")
	g.p("\tVPXORD Z20, Z1, Z1")
	g.p("\tVMOVDQU32 (R8), Z2")
	g.p("\tVPDPBUSD (SI), Z1, Z2")
	g.p("\tVCVTDQ2PS Z2, Z2")
	g.p("\tMOVWLZX (DI), AX")
	g.p("\tMOVWLZX 34(DI), DX")
	g.p("\tSHLL $16, DX")
	g.p("\tORL DX, AX")
	g.p("\tVMOVD AX, X3")
	g.p("\tVCVTPH2PS X3, X3")
	g.p("\tVPERMPS Z3, Z21, Z3")
	g.p("\tVMULPS 64(R8), Z3, Z3")
	g.p("\tVFMADD231PS Z3, Z2, Z0")
	g.p("\tADDQ $68, DI")
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $8, BX")
	g.p("\tADDQ $128, R8")
	g.p("\tSUBQ $2, CX")
	g.p("\tJMP %s_pair", name)
	g.p("%s_tail:", name)
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_done", name)
	g.p("\tVMOVDQU 2(DI), Y2")
	g.p("\tVMOVDQU (SI), Y3")
	g.p("\tVPABSB Y2, Y4")
	g.p("\tVPSIGNB Y2, Y3, Y3")
	g.p("\tVPXOR Y5, Y5, Y5")
	g.p("\tVPDPBUSD Y3, Y4, Y5")
	g.p("\tVCVTDQ2PS Y5, Y5")
	g.p("\tVPBROADCASTW (DI), X6")
	g.p("\tVCVTPH2PS X6, Y6")
	g.p("\tVBROADCASTSS (BX), Y7")
	g.p("\tVMULPS Y7, Y6, Y6")
	g.p("\tVFMADD231PS Y6, Y5, Y10")
	g.p("%s_done:", name)
	g.p("\tVEXTRACTF32X8 $1, Z0, Y1")
	g.p("\tVADDPS Y1, Y0, Y0")
	g.p("\tVADDPS Y10, Y0, Y0")
	g.hsum256(0, 1)
	g.p("\tMOVSS X0, ret+40(FP)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}
