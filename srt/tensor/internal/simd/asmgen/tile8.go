package main

import "fmt"

// The tall tile: batch-8 decode is compute-bound in tile512 (a 6-row pass
// and a 2-row pass, converting every f16 weight twice); tile8x3 keeps 8 x
// rows against 3 weight rows (24 accumulators, the same register budget),
// so each weight is converted once per 8 rows.

// xrow8 returns the address of x row i < 8 (rows 0-2 from SI, 3-5 from R9,
// 6-7 from DX; R8 = row stride).
func xrow8(i int) string {
	if i < 6 {
		return xrow(i)
	}
	return [...]string{"(DX)", "(DX)(R8*1)"}[i-6]
}

// tile8x3 writes tile8x3<T>(k, x, xstride, mx, w, wstride, nw, out, ostride, acc):
// out[i*ostride+j] (+)= x_i · w_j for i < mx <= 8, j < nw <= 3.
func (g *gen) tile8x3(t string) {
	wb := map[string]int{"F32": 64, "F16": 32, "BF16": 32}[t]
	name := "tile8x3" + t
	wregs := wreg[:3]
	g.p("")
	g.p("// func %s(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-73", name)
	g.p("\tMOVQ k+0(FP), CX")
	g.p("\tMOVQ x+8(FP), SI")
	g.p("\tMOVQ xstride+16(FP), R8")
	g.p("\tSHLQ $2, R8")
	g.p("\tLEAQ (SI)(R8*2), R9")
	g.p("\tADDQ R8, R9")
	g.p("\tLEAQ (R9)(R8*2), DX")
	g.p("\tADDQ R8, DX")
	g.p("\tMOVQ w+32(FP), DI")
	g.p("\tMOVQ wstride+40(FP), R10")
	g.p("\tMOVQ nw+48(FP), BX")
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (DI)(R10*2), R12")
	g.p("\tCMPQ BX, $2")
	g.p("\tCMOVQLT DI, R11")
	g.p("\tCMPQ BX, $3")
	g.p("\tCMOVQLT DI, R12")
	g.p("\tLEAQ (R10)(R10*2), R13") // the next tile's rows are 3 rows on
	// tail mask K1 = (1 << (k & 15)) - 1
	g.p("\tMOVQ CX, BX")
	g.p("\tANDQ $15, BX")
	g.p("\tMOVQ $1, AX")
	g.p("\tSHLXQ BX, AX, AX")
	g.p("\tDECQ AX")
	g.p("\tKMOVW AX, K1")
	g.p("\tSHRQ $4, CX")
	g.p("\tVPXORD Z31, Z31, Z31")
	g.p("\tMOVQ mx+24(FP), AX")
	for mx := 1; mx <= 8; mx++ {
		g.p("\tCMPQ AX, $%d", mx)
		g.p("\tJEQ %s_mx%d", name, mx)
	}
	g.p("\tRET")
	for mx := 1; mx <= 8; mx++ {
		l := fmt.Sprintf("%s_mx%d", name, mx)
		g.p("%s:", l)
		for a := 0; a < 3*mx; a++ {
			g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
		}
		g.p("\tTESTQ CX, CX")
		g.p("\tJZ %s_tail", l)
		g.p("%s_loop:", l)
		for _, r := range wregs {
			g.p("\tPREFETCHT0 (%s)(R13*1)", r)
		}
		g.body8x3(t, mx, false)
		for _, r := range []string{"SI", "R9", "DX"} {
			g.p("\tADDQ $64, %s", r)
		}
		for _, r := range wregs {
			g.p("\tADDQ $%d, %s", wb, r)
		}
		g.p("\tDECQ CX")
		g.p("\tJNZ %s_loop", l)
		g.p("%s_tail:", l)
		g.p("\tKORTESTW K1, K1")
		g.p("\tJZ %s_store", l)
		g.body8x3(t, mx, true)
		g.p("%s_store:", l)
		g.store8x3(mx)
		g.p("\tVZEROUPPER")
		g.p("\tRET")
	}
}

func (g *gen) body8x3(t string, mx int, tail bool) {
	for j := 0; j < 3; j++ {
		g.loadW(t, wrow[j], 24+j, tail)
	}
	for i := 0; i < mx; i++ {
		if tail {
			g.p("\tVMOVUPS.Z %s, K1, Z28", xrow8(i))
		} else {
			g.p("\tVMOVUPS %s, Z28", xrow8(i))
		}
		for j := 0; j < 3; j++ {
			g.p("\tVFMADD231PS Z%d, Z28, Z%d", 24+j, 3*i+j)
		}
	}
}

// store8x3 reduces each row's 3 accumulators (and the zero Z31 as a
// fourth) to 3 sums and stores the first nw of them.
func (g *gen) store8x3(mx int) {
	g.p("\tMOVQ nw+48(FP), CX")
	g.p("\tMOVQ $1, AX")
	g.p("\tSHLXQ CX, AX, AX")
	g.p("\tDECQ AX")
	g.p("\tKMOVW AX, K3")
	g.p("\tMOVBQZX acc+72(FP), BX")
	g.p("\tNEGQ BX")
	g.p("\tANDQ AX, BX")
	g.p("\tKMOVW BX, K4")
	g.p("\tMOVQ out+56(FP), DX")
	g.p("\tMOVQ ostride+64(FP), R8")
	g.p("\tSHLQ $2, R8")
	for i := 0; i < mx; i++ {
		a, b, c, d := 3*i, 3*i+1, 3*i+2, 31
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
		g.p("\tVMOVUPS.Z (DX), K4, X30")
		g.p("\tVADDPS X30, X%d, X%d", a, a)
		g.p("\tVMOVUPS X%d, K3, (DX)", a)
		if i+1 < mx {
			g.p("\tADDQ R8, DX")
		}
	}
}
