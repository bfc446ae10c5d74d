package tensor

import (
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"
)

// KVLayer is one layer's key/value cache in head-major layout: the key of
// KV head g at slot s is K[(g*Capacity+s)*HeadDim:][:HeadDim], and so for V.
// Values are f32 (K, V), f16 (K16, V16; half the memory and bandwidth) or
// fp8 E5M2 or E4M3 (K8, V8; a quarter); exactly one pair is set, as DType
// says.
type KVLayer struct {
	K, V                       []float32
	K16, V16                   []uint16
	K8, V8                     []uint8
	DType                      DType // F32, F16, E5M2 or E4M3
	Capacity, KVHeads, HeadDim int
}

// NewKVLayer allocates a zeroed layer of capacity slots holding dtype
// values (F32, F16, E5M2 or E4M3; anything else is F32).
func NewKVLayer(capacity, kvHeads, headDim int, dtype DType) *KVLayer {
	l := &KVLayer{Capacity: capacity, KVHeads: kvHeads, HeadDim: headDim, DType: dtype}
	n := capacity * kvHeads * headDim
	switch dtype {
	case F16:
		l.K16, l.V16 = make([]uint16, n), make([]uint16, n)
	case E5M2, E4M3:
		l.K8, l.V8 = make([]uint8, n), make([]uint8, n)
	default:
		l.DType = F32
		l.K, l.V = make([]float32, n), make([]float32, n)
	}
	return l
}

// Store writes one row's key and value (each [KVHeads*HeadDim], heads
// consecutive) at slot.
func (l *KVLayer) Store(slot int, k, v []float32) {
	hd := l.HeadDim
	for g := 0; g < l.KVHeads; g++ {
		dst := (g*l.Capacity + slot) * hd
		src := k[g*hd : (g+1)*hd]
		vs := v[g*hd : (g+1)*hd]
		switch l.DType {
		case F16:
			F32ToF16Slice(l.K16[dst:dst+hd], src)
			F32ToF16Slice(l.V16[dst:dst+hd], vs)
		case E5M2:
			F32ToE5M2Slice(l.K8[dst:dst+hd], src)
			F32ToE5M2Slice(l.V8[dst:dst+hd], vs)
		case E4M3:
			F32ToE4M3Slice(l.K8[dst:dst+hd], src)
			F32ToE4M3Slice(l.V8[dst:dst+hd], vs)
		default:
			copy(l.K[dst:dst+hd], src)
			copy(l.V[dst:dst+hd], vs)
		}
	}
}

// at widens the key (keys true) or value of head g at slot s into dst
// (the Go attention path and the tests' reference).
func (l *KVLayer) at(keys bool, g, s int, dst []float32) {
	off := (g*l.Capacity + s) * l.HeadDim
	f32, f16, f8 := l.V, l.V16, l.V8
	if keys {
		f32, f16, f8 = l.K, l.K16, l.K8
	}
	switch l.DType {
	case F16:
		for i, h := range f16[off : off+len(dst)] {
			dst[i] = F16ToF32(h)
		}
	case E5M2:
		for i, b := range f8[off : off+len(dst)] {
			dst[i] = E5M2ToF32(b)
		}
	case E4M3:
		for i, b := range f8[off : off+len(dst)] {
			dst[i] = E4M3ToF32(b)
		}
	default:
		copy(dst, f32[off:off+len(dst)])
	}
}

// kvData is the start of head g's keys (or values) at slot s, for kernels.
func (l *KVLayer) kvData(keys bool, g int, s int32) unsafe.Pointer {
	off := (g*l.Capacity + int(s)) * l.HeadDim
	switch {
	case l.DType == F16 && keys:
		return unsafe.Pointer(&l.K16[off])
	case l.DType == F16:
		return unsafe.Pointer(&l.V16[off])
	case l.DType == F32 && keys:
		return unsafe.Pointer(&l.K[off])
	case l.DType == F32:
		return unsafe.Pointer(&l.V[off])
	case keys: // fp8
		return unsafe.Pointer(&l.K8[off])
	}
	return unsafe.Pointer(&l.V8[off])
}

// F32ToF16Slice converts src into dst (same length), rounding to nearest
// even, with F16C where available.
func F32ToF16Slice(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if enc := bestKernels.encF16; enc != nil {
		n = len(src) &^ 15
		if n > 0 {
			enc(unsafe.Pointer(&dst[0]), &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = F32ToF16(src[i])
	}
}

// maxE5M2 is the largest finite fp8 E5M2 value.
const maxE5M2 = 57344

// F32ToE5M2 returns the fp8 E5M2 of x: clamped to +-57344, rounded to f16
// and then to the f16's high byte, both to nearest even (the double
// rounding differs from a direct one only in rare ties).
func F32ToE5M2(x float32) uint8 {
	if !math.IsNaN(float64(x)) {
		x = min(max(x, -maxE5M2), maxE5M2)
	}
	h := F32ToF16(x)
	return uint8((uint32(h) + 0x7F + uint32(h>>8&1)) >> 8)
}

// E5M2ToF32 widens an fp8 E5M2 value.
func E5M2ToF32(b uint8) float32 { return F16ToF32(uint16(b) << 8) }

// maxE4M3 is the largest fp8 E4M3 (fn) value.
const maxE4M3 = 448

// F32ToE4M3 returns the fp8 E4M3 (fn) of x: clamped to +-448, scaled by
// 2^-8 and rounded to f16 (where E4M3's normals and subnormals land on f16
// normals and subnormals), then to the f16's 7 high magnitude bits, both to
// nearest even.
func F32ToE4M3(x float32) uint8 {
	if !math.IsNaN(float64(x)) {
		x = min(max(x, -maxE4M3), maxE4M3)
	}
	h := uint32(F32ToF16(x * (1.0 / 256)))
	m := h & 0x7FFF
	return uint8(h>>8&0x80 | (m+0x3F+(m>>7&1))>>7)
}

// E4M3ToF32 widens an fp8 E4M3 (fn) value (0x7F and 0xFF, its NaNs, widen
// to +-480).
func E4M3ToF32(b uint8) float32 {
	return F16ToF32(uint16(b&0x80)<<8|uint16(b&0x7F)<<7) * 256
}

// F32ToE5M2Slice converts src into dst (same length) as F32ToE5M2 does,
// with AVX-512 where available.
func F32ToE5M2Slice(dst []uint8, src []float32) { fp8Slice(dst, src, bestKernels.encE5M2, F32ToE5M2) }

// F32ToE4M3Slice converts src into dst (same length) as F32ToE4M3 does,
// with AVX-512 where available.
func F32ToE4M3Slice(dst []uint8, src []float32) { fp8Slice(dst, src, bestKernels.encE4M3, F32ToE4M3) }

// fp8Slice encodes src into dst with enc (nil, or a kernel for multiples of
// 16 values) and scalar for the rest.
func fp8Slice(dst []uint8, src []float32, enc func(dst unsafe.Pointer, src *float32, n int), scalar func(float32) uint8) {
	dst = dst[:len(src)]
	n := 0
	if enc != nil {
		n = len(src) &^ 15
		if n > 0 {
			enc(unsafe.Pointer(&dst[0]), &src[0], n)
		}
	}
	for i := n; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}

// CheckAttentionKV reports whether AttentionKV's arguments are consistent.
func CheckAttentionKV(out, q []float32, kv *KVLayer, slots [][]int32, p AttnParams) error {
	if kv == nil || p.NHeads <= 0 || p.NKVHeads <= 0 || p.NHeads%p.NKVHeads != 0 || p.NKVHeads != kv.KVHeads || p.HeadDim != kv.HeadDim {
		return fmt.Errorf("tensor: attention: %w: heads %d/%d of dim %d against a cache of %d heads of %d", ErrShape, p.NHeads, p.NKVHeads, p.HeadDim, kvHeads(kv), kvHeadDim(kv))
	}
	n, qd := len(slots), p.NHeads*p.HeadDim
	if len(q) < n*qd || len(out) < n*qd {
		return fmt.Errorf("tensor: attention: %w: %d rows need q and out of %d values", ErrShape, n, n*qd)
	}
	size := kv.Capacity * kv.KVHeads * kv.HeadDim
	var k, v int
	switch kv.DType {
	case F32:
		k, v = len(kv.K), len(kv.V)
	case F16:
		k, v = len(kv.K16), len(kv.V16)
	case E5M2, E4M3:
		k, v = len(kv.K8), len(kv.V8)
	}
	if k != size || v != size {
		return fmt.Errorf("tensor: attention: %w: the cache must hold %v keys and values of %d slots (f32, f16, e5m2 or e4m3)", ErrShape, kv.DType, kv.Capacity)
	}
	for i, row := range slots {
		if len(row) == 0 {
			return fmt.Errorf("tensor: attention: %w: row %d has no slots", ErrShape, i)
		}
		for _, s := range row {
			if s < 0 || int(s) >= kv.Capacity {
				return fmt.Errorf("tensor: attention: %w: row %d: slot %d out of range [0, %d)", ErrShape, i, s, kv.Capacity)
			}
		}
	}
	return nil
}

func kvHeads(kv *KVLayer) int {
	if kv == nil {
		return 0
	}
	return kv.KVHeads
}

func kvHeadDim(kv *KVLayer) int {
	if kv == nil {
		return 0
	}
	return kv.HeadDim
}

// AttnPlan groups the rows of an attention call that share a prefix of
// cache slots, so that each shared key and value is read once for all of
// them. Build it once per forward pass (the rows' slots are the same in
// every layer).
type AttnPlan struct {
	groups []attnGroup
}

type attnGroup struct {
	rows   []int // row indices, at most maxGroupRows
	shared int   // leading slots common to every row
}

// maxGroupRows bounds the rows that share one pass over a prefix (their
// scores live in one worker's scratch).
const maxGroupRows = 16

// minShared is the shortest common prefix worth grouping rows for.
const minShared = 16

// PlanAttention groups rows whose slot lists share at least minShared
// leading slots: the causal rows of one sequence's prefill chunk (which
// share a backing array), and sequences whose prompts share cached slots.
func PlanAttention(slots [][]int32) *AttnPlan {
	p := &AttnPlan{}
	open := map[int32]int{} // first slot -> index of the group still taking rows
	for i, row := range slots {
		if len(row) == 0 {
			continue
		}
		gi, ok := open[row[0]]
		if ok {
			g := &p.groups[gi]
			lead := slots[g.rows[0]]
			sh := commonPrefix(lead[:g.shared], row)
			if sh >= minShared && len(g.rows) < maxGroupRows {
				g.rows = append(g.rows, i)
				g.shared = sh
				continue
			}
		}
		open[row[0]] = len(p.groups)
		p.groups = append(p.groups, attnGroup{rows: []int{i}, shared: len(row)})
	}
	return p
}

// commonPrefix is the length of the common prefix of a and b. Slices of one
// backing array (a sequence's causal rows) compare in O(1).
func commonPrefix(a, b []int32) int {
	n := min(len(a), len(b))
	if n > 0 && unsafe.SliceData(a) == unsafe.SliceData(b) {
		return n
	}
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

type attnKVJob struct {
	out, q []float32
	kv     *KVLayer
	slots  [][]int32
	plan   *AttnPlan
	p      AttnParams
	ntasks int
	next   atomic.Int64
}

// AttentionKV is Attention over a head-major KVLayer: for every row i and
// head h, out_i,h = softmax_j(Scale * q_i,h · K[slots[i][j]]) · V[slots[i][j]].
// plan must come from PlanAttention(slots) (nil builds one). Rows of a plan
// group read their shared prefix once. It panics on bad shapes (see
// CheckAttentionKV).
func (c *CPU) AttentionKV(out, q []float32, kv *KVLayer, slots [][]int32, plan *AttnPlan, p AttnParams) {
	if err := CheckAttentionKV(out, q, kv, slots, p); err != nil {
		panic(err.Error())
	}
	if plan == nil {
		plan = PlanAttention(slots)
	}
	j := &c.akv
	j.out, j.q, j.kv, j.slots, j.plan, j.p = out, q, kv, slots, plan, p
	j.ntasks = len(plan.groups) * p.NKVHeads
	j.next.Store(0)
	if j.ntasks <= 1 || c.threads == 1 {
		c.attnKVWorker(0)
	} else {
		c.run(c.akvTask)
	}
	j.out, j.q, j.kv, j.slots, j.plan = nil, nil, nil, nil, nil
}

func (c *CPU) attnKVWorker(wk int) {
	j := &c.akv
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.ntasks {
			return
		}
		g := j.plan.groups[t/j.p.NKVHeads]
		c.attnKVTask(&c.scratch[wk], g, t%j.p.NKVHeads)
	}
}

// kvChunk is how many shared slots are scored (or summed) for every row of
// a group before moving on: their keys stay in L1 meanwhile.
const kvChunk = 64

// attnKVTask computes group grp's outputs for the query heads of KV head g.
func (c *CPU) attnKVTask(sc *workerScratch, grp attnGroup, g int) {
	j := &c.akv
	p, kv := j.p, j.kv
	hd, hq := p.HeadDim, p.NHeads/p.NKVHeads
	total := 0
	for _, r := range grp.rows {
		total += hq * len(j.slots[r])
	}
	sc.s = growF(sc.s, total)
	// scores of (row k, query head h) start at off[k] + h*len(row)
	sc.off = growI(sc.off, len(grp.rows))
	o := 0
	for k, r := range grp.rows {
		sc.off[k] = o
		o += hq * len(j.slots[r])
	}
	score := func(k, h int) []float32 {
		L := len(j.slots[grp.rows[k]])
		return sc.s[sc.off[k]+h*L : sc.off[k]+(h+1)*L]
	}
	qheads := func(k int) []float32 { // the hq query heads of row k that use KV head g
		return j.q[(grp.rows[k]*p.NHeads+g*hq)*hd:][:hq*hd]
	}
	orow := func(k, h int) []float32 {
		return j.out[(grp.rows[k]*p.NHeads+g*hq+h)*hd:][:hd]
	}
	lead := j.slots[grp.rows[0]]
	// The group's queries i = k*hq + h (row k, head h): several heads of a
	// row share each key load through the matmul tile (grouped-query
	// attention with f32/f16 values); otherwise queries go in pairs, each
	// key and value read and widened once for two.
	nq := len(grp.rows) * hq
	tiled := hq >= 2 && (kv.DType == F32 || kv.DType == F16) && c.k.direct[kv.DType] != nil
	paired := c.k.kdot2 != nil && attnHeadDimOK(hd)
	query := func(i int) []float32 { return qheads(i / hq)[i%hq*hd:][:hd] }
	// Scores of the shared prefix, chunk by chunk, then each row's own rest.
	for c0 := 0; c0 < grp.shared; c0 += kvChunk {
		c1 := min(c0+kvChunk, grp.shared)
		forRuns(lead, c0, c1, func(a, b int, s0 int32) {
			if tiled {
				for k := range grp.rows {
					c.kdotHeads(kv, g, s0, a, b, qheads(k), hq, sc.s[sc.off[k]:], len(j.slots[grp.rows[k]]))
				}
				return
			}
			i := 0
			if paired {
				keys := kv.kvData(true, g, s0)
				for ; i+1 < nq; i += 2 {
					s1, s2 := score(i/hq, i%hq), score((i+1)/hq, (i+1)%hq)
					c.k.kdot2(kv.DType, hd, &query(i)[0], &query(i + 1)[0], keys, b-a, &s1[a], &s2[a])
				}
			}
			for ; i < nq; i++ {
				c.kdot(kv, g, s0, b-a, query(i), score(i/hq, i%hq)[a:b])
			}
		})
	}
	for k, r := range grp.rows {
		row := j.slots[r]
		forRuns(row, grp.shared, len(row), func(a, b int, s0 int32) {
			c.kdotHeads(kv, g, s0, a, b, qheads(k), hq, sc.s[sc.off[k]:], len(row))
		})
	}
	for k := range grp.rows {
		for h := 0; h < hq; h++ {
			s := score(k, h)
			if p.Scale > 0 {
				c.k.softmax(s, p.Scale)
			} else {
				for t := range s {
					s[t] *= p.Scale
				}
				softmaxGo(s, 1)
			}
			clear(orow(k, h))
		}
	}
	for c0 := 0; c0 < grp.shared; c0 += kvChunk {
		c1 := min(c0+kvChunk, grp.shared)
		forRuns(lead, c0, c1, func(a, b int, s0 int32) {
			i := 0
			if paired {
				vals := kv.kvData(false, g, s0)
				for ; i+1 < nq; i += 2 {
					k1, h1, k2, h2 := i/hq, i%hq, (i+1)/hq, (i+1)%hq
					c.k.vacc2(kv.DType, hd, &orow(k1, h1)[0], &orow(k2, h2)[0], vals, b-a, &score(k1, h1)[a], &score(k2, h2)[a])
				}
			}
			for ; i < nq; i++ {
				c.vacc(kv, g, s0, b-a, orow(i/hq, i%hq), score(i/hq, i%hq)[a:b])
			}
		})
	}
	for k, r := range grp.rows {
		row := j.slots[r]
		forRuns(row, grp.shared, len(row), func(a, b int, s0 int32) {
			for h := 0; h < hq; h++ {
				c.vacc(kv, g, s0, b-a, orow(k, h), score(k, h)[a:b])
			}
		})
	}
}

// forRuns calls f(a, b, row[a]) for each maximal run row[a:b] of
// consecutive slot numbers within row[lo:hi].
func forRuns(row []int32, lo, hi int, f func(a, b int, s0 int32)) {
	for a := lo; a < hi; {
		b := a + 1
		for b < hi && row[b] == row[b-1]+1 {
			b++
		}
		f(a, b, row[a])
		a = b
	}
}

// kdotHeads scores the hq consecutive query heads at q (hd apart) against
// the keys of slots s0.. for row positions [a, b): head h's scores go to
// s[h*L+a : h*L+b]. Several heads share each key load through the matmul
// tile (grouped-query attention, and prefill); one head uses kdot.
func (c *CPU) kdotHeads(kv *KVLayer, g int, s0 int32, a, b int, q []float32, hq int, s []float32, L int) {
	hd := kv.HeadDim
	var tile tileFn
	esz := kv.DType.BlockBytes()
	if kv.DType == F32 || kv.DType == F16 {
		tile = c.k.direct[kv.DType]
	}
	if hq < 2 || tile == nil {
		for h := 0; h < hq; h++ {
			c.kdot(kv, g, s0, b-a, q[h*hd:(h+1)*hd], s[h*L+a:h*L+b])
		}
		return
	}
	base := kv.kvData(true, g, s0)
	n := b - a
	for h0 := 0; h0 < hq; h0 += c.k.mr {
		mx := min(c.k.mr, hq-h0)
		for t := 0; t < n; t += 4 {
			tile(hd, &q[h0*hd], hd, mx, unsafe.Add(base, t*hd*esz), hd*esz, min(4, n-t), &s[h0*L+a+t], L, false)
		}
	}
}

// kdot sets out[t] = q · key(g, s0+t) for t < n.
func (c *CPU) kdot(kv *KVLayer, g int, s0 int32, n int, q, out []float32) {
	if c.k.kdot != nil && attnHeadDimOK(kv.HeadDim) {
		c.k.kdot(kv.DType, kv.HeadDim, &q[0], kv.kvData(true, g, s0), n, &out[0])
		return
	}
	kdotGo(kv, g, s0, n, q, out)
}

// vacc adds sum_t w[t] * value(g, s0+t) to out.
func (c *CPU) vacc(kv *KVLayer, g int, s0 int32, n int, out, w []float32) {
	if c.k.vacc != nil && attnHeadDimOK(kv.HeadDim) {
		c.k.vacc(kv.DType, kv.HeadDim, &out[0], kv.kvData(false, g, s0), n, &w[0])
		return
	}
	vaccGo(kv, g, s0, n, out, w)
}

// maxGoHeadDim bounds the head dimensions whose widened key or value the
// Go path keeps on the stack (larger ones allocate).
const maxGoHeadDim = 256

func kdotGo(kv *KVLayer, g int, s0 int32, n int, q, out []float32) {
	var buf [maxGoHeadDim]float32
	k := widenBuf(buf[:], kv.HeadDim)
	for t := 0; t < n; t++ {
		kv.at(true, g, int(s0)+t, k)
		var s float32
		for i, x := range q[:kv.HeadDim] {
			s += x * k[i]
		}
		out[t] = s
	}
}

func vaccGo(kv *KVLayer, g int, s0 int32, n int, out, w []float32) {
	var buf [maxGoHeadDim]float32
	v := widenBuf(buf[:], kv.HeadDim)
	for t := 0; t < n; t++ {
		kv.at(false, g, int(s0)+t, v)
		p := w[t]
		for i := range out[:kv.HeadDim] {
			out[i] += p * v[i]
		}
	}
}

// widenBuf is buf[:hd], or a new slice when hd is larger.
func widenBuf(buf []float32, hd int) []float32 {
	if hd <= len(buf) {
		return buf[:hd]
	}
	return make([]float32, hd)
}

func growI(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}
