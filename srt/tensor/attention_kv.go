package tensor

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// KVLayer is one layer's key/value cache in head-major layout: the key of
// KV head g at slot s is K[(g*Capacity+s)*HeadDim:][:HeadDim], and so for V.
// Values are f32 (K, V) or f16 (K16, V16; half the memory and bandwidth);
// exactly one pair is set.
type KVLayer struct {
	K, V                       []float32
	K16, V16                   []uint16
	Capacity, KVHeads, HeadDim int
}

// NewKVLayer allocates a zeroed layer of capacity slots.
func NewKVLayer(capacity, kvHeads, headDim int, f16 bool) *KVLayer {
	l := &KVLayer{Capacity: capacity, KVHeads: kvHeads, HeadDim: headDim}
	n := capacity * kvHeads * headDim
	if f16 {
		l.K16, l.V16 = make([]uint16, n), make([]uint16, n)
	} else {
		l.K, l.V = make([]float32, n), make([]float32, n)
	}
	return l
}

// F16 reports whether the layer stores f16 values.
func (l *KVLayer) F16() bool { return l.K16 != nil }

// Store writes one row's key and value (each [KVHeads*HeadDim], heads
// consecutive) at slot.
func (l *KVLayer) Store(slot int, k, v []float32) {
	hd := l.HeadDim
	for g := 0; g < l.KVHeads; g++ {
		dst := (g*l.Capacity + slot) * hd
		src := k[g*hd : (g+1)*hd]
		vs := v[g*hd : (g+1)*hd]
		if l.K16 != nil {
			F32ToF16Slice(l.K16[dst:dst+hd], src)
			F32ToF16Slice(l.V16[dst:dst+hd], vs)
		} else {
			copy(l.K[dst:dst+hd], src)
			copy(l.V[dst:dst+hd], vs)
		}
	}
}

// key returns the key of head g at slot s as f32 (for the reference).
func (l *KVLayer) at(f16 []uint16, f32 []float32, g, s int, dst []float32) {
	off := (g*l.Capacity + s) * l.HeadDim
	if f16 != nil {
		for i := range dst {
			dst[i] = F16ToF32(f16[off+i])
		}
		return
	}
	copy(dst, f32[off:off+len(dst)])
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
	if (kv.K16 != nil) == (kv.K != nil) || len(kv.K)+len(kv.K16) != size || len(kv.V)+len(kv.V16) != size {
		return fmt.Errorf("tensor: attention: %w: the cache must hold f32 or f16 keys and values of %d slots", ErrShape, kv.Capacity)
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
	// Scores of the shared prefix, chunk by chunk, then each row's own rest.
	for c0 := 0; c0 < grp.shared; c0 += kvChunk {
		c1 := min(c0+kvChunk, grp.shared)
		forRuns(lead, c0, c1, func(a, b int, s0 int32) {
			for k := range grp.rows {
				c.kdotHeads(kv, g, s0, a, b, qheads(k), hq, sc.s[sc.off[k]:], len(j.slots[grp.rows[k]]))
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
			for k := range grp.rows {
				for h := 0; h < hq; h++ {
					c.vacc(kv, g, s0, b-a, orow(k, h), score(k, h)[a:b])
				}
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
	tile, esz := c.k.direct[F32], 4
	if kv.K16 != nil {
		tile, esz = c.k.direct[F16], 2
	}
	if hq < 2 || tile == nil {
		for h := 0; h < hq; h++ {
			c.kdot(kv, g, s0, b-a, q[h*hd:(h+1)*hd], s[h*L+a:h*L+b])
		}
		return
	}
	off := (g*kv.Capacity + int(s0)) * hd
	var base unsafe.Pointer
	if kv.K16 != nil {
		base = unsafe.Pointer(&kv.K16[off])
	} else {
		base = unsafe.Pointer(&kv.K[off])
	}
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
	hd := kv.HeadDim
	off := (g*kv.Capacity + int(s0)) * hd
	if c.k.kdot != nil && attnHeadDimOK(hd) {
		if kv.K16 != nil {
			c.k.kdot(true, hd, &q[0], unsafe.Pointer(&kv.K16[off]), n, &out[0])
		} else {
			c.k.kdot(false, hd, &q[0], unsafe.Pointer(&kv.K[off]), n, &out[0])
		}
		return
	}
	kdotGo(kv, off, n, q, out)
}

// vacc adds sum_t w[t] * value(g, s0+t) to out.
func (c *CPU) vacc(kv *KVLayer, g int, s0 int32, n int, out, w []float32) {
	hd := kv.HeadDim
	off := (g*kv.Capacity + int(s0)) * hd
	if c.k.vacc != nil && attnHeadDimOK(hd) {
		if kv.V16 != nil {
			c.k.vacc(true, hd, &out[0], unsafe.Pointer(&kv.V16[off]), n, &w[0])
		} else {
			c.k.vacc(false, hd, &out[0], unsafe.Pointer(&kv.V[off]), n, &w[0])
		}
		return
	}
	vaccGo(kv, off, n, out, w)
}

func kdotGo(kv *KVLayer, off, n int, q, out []float32) {
	hd := kv.HeadDim
	for t := 0; t < n; t++ {
		var s float32
		base := off + t*hd
		if kv.K16 != nil {
			for i, x := range q[:hd] {
				s += x * F16ToF32(kv.K16[base+i])
			}
		} else {
			for i, x := range q[:hd] {
				s += x * kv.K[base+i]
			}
		}
		out[t] = s
	}
}

func vaccGo(kv *KVLayer, off, n int, out, w []float32) {
	hd := kv.HeadDim
	for t := 0; t < n; t++ {
		base, p := off+t*hd, w[t]
		if kv.V16 != nil {
			for i := range out[:hd] {
				out[i] += p * F16ToF32(kv.V16[base+i])
			}
		} else {
			for i := range out[:hd] {
				out[i] += p * kv.V[base+i]
			}
		}
	}
}

func growI(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}
