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
var kvBytes = map[string]int{"F32": 64, "F16": 32, "E5M2": 16, "E4M3": 16}

// loadKV emits the load of 16 cache values of type t at addr into Z<z>.
// An fp8 E5M2 value is the high byte of the f16 of the same value. An fp8
// E4M3 byte s|eeeemmm becomes the f16 s|0eeee|mmm0000000, its value times
// 2^-8 (exactly, subnormals included): sign-extended, shifted left by 7,
// bit 14 cleared with the mask in Y31 (see e4m3Setup).
func (g *gen) loadKV(t, addr string, z int) {
	switch t {
	case "F16":
		g.p("\tVCVTPH2PS %s, Z%d", addr, z)
	case "E5M2":
		g.p("\tVPMOVZXBW %s, Y%d", addr, z)
		g.p("\tVPSLLW $8, Y%d, Y%d", z, z)
		g.p("\tVCVTPH2PS Y%d, Z%d", z, z)
	case "E4M3":
		g.p("\tVPMOVSXBW %s, Y%d", addr, z)
		g.p("\tVPSLLW $7, Y%d, Y%d", z, z)
		g.p("\tVPANDD Y31, Y%d, Y%d", z, z)
		g.p("\tVCVTPH2PS Y%d, Z%d", z, z)
	default:
		g.p("\tVMOVUPS %s, Z%d", addr, z)
	}
}

// encF16 writes enc512F16(dst unsafe.Pointer, src *float32, n int): dst[i] =
// f16(src[i]) rounded to nearest even, for i < n, n a multiple of 16.
func (g *gen) encF16() {
	g.enc("enc512F16", 32, nil, []string{"VCVTPS2PH $0, Z0, (DI)"})
}

// encE5M2 writes enc512E5M2(dst unsafe.Pointer, src *float32, n int): dst[i]
// = the fp8 E5M2 of src[i] (n a multiple of 16): clamped to +-57344 (the
// largest finite E5M2), rounded to f16 and then to its high byte, both to
// nearest even.
func (g *gen) encE5M2() {
	setup := []string{
		"MOVL $0x47600000, AX", "VPBROADCASTD AX, Z6", // 57344
		"MOVL $0xC7600000, AX", "VPBROADCASTD AX, Z7", // -57344
		"MOVL $0x7F, AX", "VPBROADCASTW AX, Y8",
		"MOVL $1, AX", "VPBROADCASTW AX, Y9",
	}
	body := []string{
		"VMINPS Z6, Z0, Z0", "VMAXPS Z7, Z0, Z0", "VCVTPS2PH $0, Z0, Y0",
		// h + 0x7F + ((h >> 8) & 1), then >> 8: round the low byte away, ties to even
		"VPSRLW $8, Y0, Y1", "VPANDD Y9, Y1, Y1", "VPADDW Y8, Y0, Y0", "VPADDW Y1, Y0, Y0", "VPSRLW $8, Y0, Y0",
		"VPMOVWB Y0, (DI)",
	}
	g.enc("enc512E5M2", 16, setup, body)
}

// encE4M3 writes enc512E4M3(dst unsafe.Pointer, src *float32, n int): dst[i]
// = the fp8 E4M3 (the "fn" variant: no infinities) of src[i], n a multiple of
// 16: clamped to +-448 (the largest E4M3), scaled by 2^-8 and rounded to
// f16, whose low 7 bits are then rounded away (both to nearest even).
func (g *gen) encE4M3() {
	setup := []string{
		"MOVL $0x3FE00000, AX", "VPBROADCASTD AX, Z6", // 1.75 = 448 * 2^-8
		"MOVL $0xBFE00000, AX", "VPBROADCASTD AX, Z7",
		"MOVL $0x3B800000, AX", "VPBROADCASTD AX, Z10", // 2^-8
		"MOVL $0x3F, AX", "VPBROADCASTW AX, Y8",
		"MOVL $1, AX", "VPBROADCASTW AX, Y9",
		"MOVL $0x7FFF, AX", "VPBROADCASTW AX, Y11",
		"MOVL $0x8000, AX", "VPBROADCASTW AX, Y12",
	}
	body := []string{
		"VMULPS Z10, Z0, Z0", "VMINPS Z6, Z0, Z0", "VMAXPS Z7, Z0, Z0", "VCVTPS2PH $0, Z0, Y0",
		"VPANDD Y12, Y0, Y2", "VPSRLW $8, Y2, Y2", // the sign, to bit 7
		"VPANDD Y11, Y0, Y0", // magnitude m: (m + 0x3F + ((m >> 7) & 1)) >> 7
		"VPSRLW $7, Y0, Y1", "VPANDD Y9, Y1, Y1", "VPADDW Y8, Y0, Y0", "VPADDW Y1, Y0, Y0", "VPSRLW $7, Y0, Y0",
		"VPORD Y2, Y0, Y0", "VPMOVWB Y0, (DI)",
	}
	g.enc("enc512E4M3", 16, setup, body)
}

// enc writes an encoder name(dst unsafe.Pointer, src *float32, n int) that
// runs body on each 16 values of src loaded into Z0, storing outBytes at DI
// (after setup, once).
func (g *gen) enc(name string, outBytes int, setup, body []string) {
	g.p("")
	g.p("// func %s(dst unsafe.Pointer, src *float32, n int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-24", name)
	g.p("\tMOVQ dst+0(FP), DI")
	g.p("\tMOVQ src+8(FP), SI")
	g.p("\tMOVQ n+16(FP), CX")
	for _, l := range setup {
		g.p("\t%s", l)
	}
	g.p("\tSHRQ $4, CX")
	g.p("\tJZ %s_done", name)
	g.p("%s_loop:", name)
	g.p("\tVMOVUPS (SI), Z0")
	for _, l := range body {
		g.p("\t%s", l)
	}
	g.p("\tADDQ $64, SI")
	g.p("\tADDQ $%d, DI", outBytes)
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// e4m3Setup loads the E4M3 widening mask (0xBFFF words) into Y31 and, in
// Z<scale>, the float32 scale (256 or 1/256) that undoes or applies the
// widened values' factor of 2^-8.
func (g *gen) e4m3Setup(scale int, bits uint32) {
	g.p("\tMOVL $0xBFFF, AX")
	g.p("\tVPBROADCASTW AX, Y31")
	g.p("\tMOVL $0x%08X, AX", bits)
	g.p("\tVPBROADCASTD AX, Z%d", scale)
}

// kdot512 writes kdot512<T>H<hd>(q *float32, k unsafe.Pointer, n int, out *float32):
// out[j] = q · k_j for the n rows k_j = k + j*hd values (n >= 0), four rows
// per pass with one reduction for the four.
func (g *gen) kdot512(t string, hd int) { g.kdot(t, hd, 1) }

// kdot2x512 writes kdot2x512<T>H<hd>(q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32):
// kdot512 for two queries at once, each key loaded (and widened) once.
func (g *gen) kdot2x512(t string, hd int) { g.kdot(t, hd, 2) }

// kdot writes the key-dot kernel for nq (1 or 2) queries: query i in
// Z(8i)..., its four accumulators Z(16+8i)..Z(19+8i), keys in Z20..Z23.
func (g *gen) kdot(t string, hd, nq int) {
	name := fmt.Sprintf("kdot512%sH%d", t, hd)
	sig, frame := "q *float32, k unsafe.Pointer, n int, out *float32", 32
	args := []string{"q", "k", "n", "out"}
	if nq == 2 {
		name = fmt.Sprintf("kdot2x512%sH%d", t, hd)
		sig, frame = "q0, q1 *float32, k unsafe.Pointer, n int, out0, out1 *float32", 48
		args = []string{"q0", "q1", "k", "n", "out0", "out1"}
	}
	regs := map[string]string{"q": "SI", "q0": "SI", "q1": "BX", "k": "DI", "n": "CX", "out": "DX", "out0": "DX", "out1": "R8"}
	outs := []string{"DX", "R8"}[:nq]
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(%s)", name, sig)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	for i, a := range args {
		g.p("\tMOVQ %s+%d(FP), %s", a, 8*i, regs[a])
	}
	g.p("\tMOVQ $%d, R10", vb*nz) // row bytes
	if t == "E4M3" {
		g.e4m3Setup(28, 0x43800000) // queries times 256 make up for the keys' 2^-8
	}
	for z := 0; z < nz; z++ {
		g.p("\tVMOVUPS %d(SI), Z%d", 64*z, z)
		if nq == 2 {
			g.p("\tVMOVUPS %d(BX), Z%d", 64*z, 8+z)
		}
	}
	if t == "E4M3" {
		for z := 0; z < nz; z++ {
			for q := 0; q < nq; q++ {
				g.p("\tVMULPS Z28, Z%d, Z%d", 8*q+z, 8*q+z)
			}
		}
	}
	g.p("%s_loop4:", name)
	g.p("\tCMPQ CX, $4")
	g.p("\tJLT %s_tail", name)
	g.p("\tLEAQ (DI)(R10*1), R11")
	g.p("\tLEAQ (R11)(R10*2), R12")
	g.p("\tLEAQ (DI)(R10*2), R13")
	for a := 16; a < 20; a++ {
		for q := 0; q < nq; q++ {
			g.p("\tVPXORD Z%d, Z%d, Z%d", a+8*q, a+8*q, a+8*q)
		}
	}
	rows := []string{"DI", "R11", "R13", "R12"}
	for z := 0; z < nz; z++ {
		for r, reg := range rows {
			g.loadKV(t, fmt.Sprintf("%d(%s)", vb*z, reg), 20+r)
			for q := 0; q < nq; q++ {
				g.p("\tVFMADD231PS Z%d, Z%d, Z%d", 20+r, 8*q+z, 16+8*q+r)
			}
		}
	}
	for off := 0; off < 4*vb*nz; off += 64 { // the lines of the four rows, kvPrefetch on
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	for q, o := range outs {
		a := 16 + 8*q
		g.reduce4(a, a+1, a+2, a+3)
		g.p("\tVMOVUPS X%d, (%s)", a, o)
	}
	g.p("\tLEAQ (DI)(R10*4), DI")
	for _, o := range outs {
		g.p("\tADDQ $16, %s", o)
	}
	g.p("\tSUBQ $4, CX")
	g.p("\tJMP %s_loop4", name)
	g.p("%s_tail:", name)
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_done", name)
	for q := 0; q < nq; q++ {
		g.p("\tVPXORD Z%d, Z%d, Z%d", 16+8*q, 16+8*q, 16+8*q)
	}
	temps := 8 // key chunk z widens into Z(20 + z%temps)
	if nq == 2 {
		temps = 4
	}
	for z := 0; z < nz; z++ {
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), 20+z%temps)
		for q := 0; q < nq; q++ {
			g.p("\tVFMADD231PS Z%d, Z%d, Z%d", 20+z%temps, 8*q+z, 16+8*q)
		}
	}
	for q := 0; q < nq; q++ {
		g.hred512("VADDPS", 16+8*q, 21+q)
	}
	for q, o := range outs {
		g.p("\tVMOVSS X%d, (%s)", 16+8*q, o)
	}
	g.p("\tADDQ R10, DI")
	for _, o := range outs {
		g.p("\tADDQ $4, %s", o)
	}
	g.p("\tDECQ CX")
	g.p("\tJMP %s_tail", name)
	g.p("%s_done:", name)
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}

// vacc512 writes vacc512<T>H<hd>(out *float32, v unsafe.Pointer, n int, p *float32):
// out[:hd] += sum_{j<n} p[j] * v_j for the n rows v_j = v + j*hd values.
func (g *gen) vacc512(t string, hd int) { g.vacc(t, hd, 1) }

// vacc2x512 writes vacc2x512<T>H<hd>(out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32):
// vacc512 for two outputs at once, each value loaded (and widened) once.
func (g *gen) vacc2x512(t string, hd int) { g.vacc(t, hd, 2) }

// vacc writes the value-sum kernel for nq (1 or 2) outputs: output i in
// Z(8i)..., its weight broadcast in Z(16+i), values widened after those.
func (g *gen) vacc(t string, hd, nq int) {
	name := fmt.Sprintf("vacc512%sH%d", t, hd)
	sig, frame := "out *float32, v unsafe.Pointer, n int, p *float32", 32
	args := []string{"out", "v", "n", "p"}
	if nq == 2 {
		name = fmt.Sprintf("vacc2x512%sH%d", t, hd)
		sig, frame = "out0, out1 *float32, v unsafe.Pointer, n int, p0, p1 *float32", 48
		args = []string{"out0", "out1", "v", "n", "p0", "p1"}
	}
	regs := map[string]string{"out": "DX", "out0": "DX", "out1": "R8", "v": "DI", "n": "CX", "p": "SI", "p0": "SI", "p1": "BX"}
	outs, ps := []string{"DX", "R8"}[:nq], []string{"SI", "BX"}[:nq]
	vb, nz := kvBytes[t], hd/16
	g.p("")
	g.p("// func %s(%s)", name, sig)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	for i, a := range args {
		g.p("\tMOVQ %s+%d(FP), %s", a, 8*i, regs[a])
	}
	g.p("\tMOVQ $%d, R10", vb*nz)
	if t == "E4M3" {
		// sum in units of 2^-8: the outputs scaled down on load, up on store
		g.e4m3Setup(30, 0x3B800000)
		g.p("\tMOVL $0x43800000, AX")
		g.p("\tVPBROADCASTD AX, Z29")
	}
	for z := 0; z < nz; z++ {
		for q, o := range outs {
			g.p("\tVMOVUPS %d(%s), Z%d", 64*z, o, 8*q+z)
			if t == "E4M3" {
				g.p("\tVMULPS Z30, Z%d, Z%d", 8*q+z, 8*q+z)
			}
		}
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ %s_store", name)
	g.p("%s_loop:", name)
	for q, p := range ps {
		g.p("\tVBROADCASTSS (%s), Z%d", p, 16+q)
	}
	for off := 0; off < vb*nz; off += 64 {
		g.p("\tPREFETCHT0 %d(DI)", kvPrefetch+off)
	}
	for z := 0; z < nz; z++ {
		v := 16 + nq + z%8 // 8 temps at most: Z17..Z24 for one output, Z18..Z25 for two
		g.loadKV(t, fmt.Sprintf("%d(DI)", vb*z), v)
		for q := 0; q < nq; q++ {
			g.p("\tVFMADD231PS Z%d, Z%d, Z%d", v, 16+q, 8*q+z)
		}
	}
	g.p("\tADDQ R10, DI")
	for _, p := range ps {
		g.p("\tADDQ $4, %s", p)
	}
	g.p("\tDECQ CX")
	g.p("\tJNZ %s_loop", name)
	g.p("%s_store:", name)
	for z := 0; z < nz; z++ {
		for q, o := range outs {
			if t == "E4M3" {
				g.p("\tVMULPS Z29, Z%d, Z%d", 8*q+z, 8*q+z)
			}
			g.p("\tVMOVUPS Z%d, %d(%s)", 8*q+z, 64*z, o)
		}
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
}
