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
var kvBytes = map[string]int{"F32": 64, "F16": 32}

// loadKV emits the load of 16 cache values of type t at addr into Z<z>.
func (g *gen) loadKV(t, addr string, z int) {
	if t == "F16" {
		g.p("\tVCVTPH2PS %s, Z%d", addr, z)
	} else {
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
