package main

import "fmt"

// Attention kernels over a head-major KV cache, where one head's keys (or
// values) for a run of consecutive slots are consecutive rows of hd values.
// The query (or the output) stays in registers Z0..Z(hd/16-1); one kernel is
// generated per head dimension in attnHeadDims.

// attnHeadDims are the head dimensions with kernels (the common ones).
var attnHeadDims = []int{64, 128}

// kvPrefetch is how far ahead (bytes) kdot and vacc prefetch the rows
// they stream, every cache line of them.
var kvPrefetch = 4096

// kvBytes is the size of 16 cache values of type t.
var kvBytes = map[string]int{"F32": 64, "F16": 32, "E5M2": 16}

// loadKV emits the load of 16 cache values of type t at addr into Z<z>.
// An fp8 E5M2 value is the high byte of the f16 of the same value.
func (g *gen) loadKV(t, addr string, z int) {
	switch t {
	case "F16":
		g.p("\tVCVTPH2PS %s, Z%d", addr, z)
	case "E5M2":
		g.p("\tVPMOVZXBW %s, Y%d", addr, z)
		g.p("\tVPSLLW $8, Y%d, Y%d", z, z)
		g.p("\tVCVTPH2PS Y%d, Z%d", z, z)
	default:
		g.p("\tVMOVUPS %s, Z%d", addr, z)
	}
}

// kdot512 writes kdot512<T>H<hd>(q *float32, k unsafe.Pointer, n int, out *float32):
// out[j] = q · k_j for the n rows k_j = k + j*hd values (n >= 0), four rows
// per pass with one reduction for the four.
func (g *gen) kdot512(t string, hd int) {
	name := fmt.Sprintf("kdot512%sH%d", t, hd)
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(q *float32, k unsafe.Pointer, n int, out *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	g.p("\tMOVQ q+0(FP), SI")
	g.p("\tMOVQ k+8(FP), DI")
	g.p("\tMOVQ n+16(FP), CX")
	g.p("\tMOVQ out+24(FP), DX")
	g.p("\tMOVQ $%d, R10", vb*nz) // row bytes
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS %d(SI), Z%d", 64*z, z)
	}
	g.p("%s_loop4:", name)
	g.p("\tCMPQ CX, $4")
	g.p("\tJLT %s_tail", name)
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (R11)(R10*2), R12")
	g.p("\tLEAQ (DI)(R10*2), R13")
	for a := 16; a < 20; a++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
	}
	rows := []string{"DI", "R11", "R13", "R12"}
	for z := 0; z < nz; z++ {
		for r, reg := range rows {
			g.loadKV(t, fmt.Sprintf("%d(%s)", vb*z, reg), 20+r)
			g.p("\tVFMADD231PS Z%d, Z%d, Z%d", 20+r, z, 16+r)
		}
	}
	for off := 0; off < 4*vb*nz; off += 64 { // the lines of the four rows, kvPrefetch on
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	g.reduce4(16, 17, 18, 19)
	g.p("\tVMOVUPS X16, (DX)")
	g.p("\tLEAQ (DI)(R10*4), DI")
	g.p("\tADDQ $16, DX")
	g.p("\tSUBQ $4, CX")
	g.p("\tJMP %s_loop4", name)
	g.p("%s_tail:", name)
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_done", name)
	g.p("\tVPXORD Z16, Z16, Z16")
	for z := 0; z < nz; z++ {
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), 20+z%8)
		g.p("\tVFMADD231PS Z%d, Z%d, Z16", 20+z%8, z)
	}
	g.hred512("VADDPS", 16, 21)
	g.p("\tVMOVSS X16, (DX)")
	g.p("\tADDQ R10, DI")
	g.p("\tADDQ $4, DX")
	g.p("\tDECQ CX")
	g.p("\tJMP %s_tail", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// vacc512 writes vacc512<T>H<hd>(out *float32, v unsafe.Pointer, n int, p *float32):
// out[:hd] += sum_{j<n} p[j] * v_j for the n rows v_j = v + j*hd values.
func (g *gen) vacc512(t string, hd int) {
	name := fmt.Sprintf("vacc512%sH%d", t, hd)
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(out *float32, v unsafe.Pointer, n int, p *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-32", name)
	g.p("\tMOVQ out+0(FP), DX")
	g.p("\tMOVQ v+8(FP), DI")
	g.p("\tMOVQ n+16(FP), CX")
	g.p("\tMOVQ p+24(FP), SI")
	g.p("\tMOVQ $%d, R10", vb*nz)
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS %d(DX), Z%d", 64*z, z)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_store", name)
	g.p("%s_loop:", name)
	g.p("\tVBROADCASTSS (SI), Z16")
	for off := 0; off < vb*nz; off += 64 {
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	for z := 0; z < nz; z++ {
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), 17+z%8)
		g.p("\tVFMADD231PS Z%d, Z16, Z%d", 17+z%8, z)
	}
	g.p("\tADDQ R10, DI")
	g.p("\tADDQ $4, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_store:", name)
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS Z%d, %d(DX)", z, 64*z)
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// encF16 writes enc512F16(dst unsafe.Pointer, src *float32, n int): dst[i] =
// f16(src[i]) rounded to nearest even, for i < n, n a multiple of 16.
func (g *gen) encF16() {
	name := "enc512F16"
	g.p("")
	g.p("// func %s(dst unsafe.Pointer, src *float32, n int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	g.p("\tMOVQ dst+0(FP), DI")
	g.p("\tMOVQ src+8(FP), SI")
	g.p("\tMOVQ n+16(FP), CX")
	g.p("\tSHRQ $4, CX")
	g.p("\tJZ %s_done", name)
	g.p("%s_loop:", name)
	g.p("\tVMOVUPS (SI), Z0")
	g.p("\tVCVTPS2PH $0, Z0, (DI)")
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $32, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// encE5M2 writes enc512E5M2(dst unsafe.Pointer, src *float32, n int): dst[i]
// = the fp8 E5M2 of src[i] (n a multiple of 16): clamped to +-57344 (the
// largest finite E5M2), rounded to f16 and then to its high byte, both to
// nearest even.
func (g *gen) encE5M2() {
	name := "enc512E5M2"
	g.p("")
	g.p("// func %s(dst unsafe.Pointer, src *float32, n int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	g.p("\tMOVQ dst+0(FP), DI")
	g.p("\tMOVQ src+8(FP), SI")
	g.p("\tMOVQ n+16(FP), CX")
	g.p("\tMOVL $0x47600000, AX") // 57344
	g.p("\tVPBROADCASTD AX, Z6")
	g.p("\tMOVL $0xC7600000, AX") // -57344
	g.p("\tVPBROADCASTD AX, Z7")
	g.p("\tMOVL $0x7F, AX")
	g.p("\tVPBROADCASTW AX, Y8")
	g.p("\tMOVL $1, AX")
	g.p("\tVPBROADCASTW AX, Y9")
	g.p("\tSHRQ $4, CX")
	g.p("\tJZ %s_done", name)
	g.p("%s_loop:", name)
	g.p("\tVMOVUPS (SI), Z0")
	g.p("\tVMINPS Z6, Z0, Z0")
	g.p("\tVMAXPS Z7, Z0, Z0")
	g.p("\tVCVTPS2PH $0, Z0, Y0")
	// h + 0x7F + ((h >> 8) & 1), then >> 8: round the low byte away, ties to even
	g.p("\tVPSRLW $8, Y0, Y1")
	g.p("\tVPANDD Y9, Y1, Y1")
	g.p("\tVPADDW Y8, Y0, Y0")
	g.p("\tVPADDW Y1, Y0, Y0")
	g.p("\tVPSRLW $8, Y0, Y0")
	g.p("\tVPMOVWB Y0, (DI)")
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $16, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// kdot2x512 writes kdot2x512<T>H<hd>(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32):
// kdot512 for two queries at once, each key loaded (and widened) once.
func (g *gen) kdot2x512(t string, hd int) {
	name := fmt.Sprintf("kdot2x512%sH%d", t, hd)
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.p("\tMOVQ q0+0(FP), SI")
	g.p("\tMOVQ q1+8(FP), BX")
	g.p("\tMOVQ k+16(FP), DI")
	g.p("\tMOVQ n+24(FP), CX")
	g.p("\tMOVQ out0+32(FP), DX")
	g.p("\tMOVQ out1+40(FP), R8")
	g.p("\tMOVQ $%d, R10", vb*nz) // row bytes
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS %d(SI), Z%d", 64*z, z)
		g.p("\tVMOVUPS %d(BX), Z%d", 64*z, 8+z)
	}
	g.p("%s_loop4:", name)
	g.p("\tCMPQ CX, $4")
	g.p("\tJLT %s_tail", name)
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (R11)(R10*2), R12")
	g.p("\tLEAQ (DI)(R10*2), R13")
	for a := 16; a < 20; a++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
		g.p("\tVPXORD Z%d, Z%d, Z%d", a+8, a+8, a+8)
	}
	rows := []string{"DI", "R11", "R13", "R12"}
	for z := 0; z < nz; z++ {
		for r, reg := range rows {
			g.loadKV(t, fmt.Sprintf("%d(%s)", vb*z, reg), 20+r)
			g.p("\tVFMADD231PS Z%d, Z%d, Z%d", 20+r, z, 16+r)
			g.p("\tVFMADD231PS Z%d, Z%d, Z%d", 20+r, 8+z, 24+r)
		}
	}
	for off := 0; off < 4*vb*nz; off += 64 {
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	g.reduce4(16, 17, 18, 19)
	g.p("\tVMOVUPS X16, (DX)")
	g.reduce4(24, 25, 26, 27)
	g.p("\tVMOVUPS X24, (R8)")
	g.p("\tLEAQ (DI)(R10*4), DI")
	g.p("\tADDQ $16, DX")
	g.p("\tADDQ $16, R8")
	g.p("\tSUBQ $4, CX")
	g.p("\tJMP %s_loop4", name)
	g.p("%s_tail:", name)
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_done", name)
	g.p("\tVPXORD Z16, Z16, Z16")
	g.p("\tVPXORD Z24, Z24, Z24")
	for z := 0; z < nz; z++ {
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), 20+z%4)
		g.p("\tVFMADD231PS Z%d, Z%d, Z16", 20+z%4, z)
		g.p("\tVFMADD231PS Z%d, Z%d, Z24", 20+z%4, 8+z)
	}
	g.hred512("VADDPS", 16, 21)
	g.hred512("VADDPS", 24, 22)
	g.p("\tVMOVSS X16, (DX)")
	g.p("\tVMOVSS X24, (R8)")
	g.p("\tADDQ R10, DI")
	g.p("\tADDQ $4, DX")
	g.p("\tADDQ $4, R8")
	g.p("\tDECQ CX")
	g.p("\tJMP %s_tail", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// vacc2x512 writes vacc2x512<T>H<hd>(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32):
// vacc512 for two outputs at once, each value loaded (and widened) once.
func (g *gen) vacc2x512(t string, hd int) {
	name := fmt.Sprintf("vacc2x512%sH%d", t, hd)
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-48", name)
	g.p("\tMOVQ out0+0(FP), DX")
	g.p("\tMOVQ out1+8(FP), R8")
	g.p("\tMOVQ v+16(FP), DI")
	g.p("\tMOVQ n+24(FP), CX")
	g.p("\tMOVQ p0+32(FP), SI")
	g.p("\tMOVQ p1+40(FP), BX")
	g.p("\tMOVQ $%d, R10", vb*nz)
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS %d(DX), Z%d", 64*z, z)
		g.p("\tVMOVUPS %d(R8), Z%d", 64*z, 8+z)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_store", name)
	g.p("%s_loop:", name)
	g.p("\tVBROADCASTSS (SI), Z16")
	g.p("\tVBROADCASTSS (BX), Z17")
	for off := 0; off < vb*nz; off += 64 {
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	for z := 0; z < nz; z++ {
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), 18+z)
		g.p("\tVFMADD231PS Z%d, Z16, Z%d", 18+z, z)
		g.p("\tVFMADD231PS Z%d, Z17, Z%d", 18+z, 8+z)
	}
	g.p("\tADDQ R10, DI")
	g.p("\tADDQ $4, SI")
	g.p("\tADDQ $4, BX")
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_store:", name)
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS Z%d, %d(DX)", z, 64*z)
		g.p("\tVMOVUPS Z%d, %d(R8)", 8+z, 64*z)
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}
