package tensor

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// CheckMatMul reports whether MatMul(out, x, n, w) has consistent shapes.
func CheckMatMul(out, x []float32, n int, w *Matrix) error {
	if w == nil {
		return fmt.Errorf("tensor: matmul: %w: nil weight", ErrShape)
	}
	if err := w.Validate(); err != nil {
		return fmt.Errorf("tensor: matmul: %w: %w", ErrShape, err)
	}
	if n < 0 || len(x) < n*w.Cols || len(out) < n*w.Rows {
		return fmt.Errorf("tensor: matmul: %w: n=%d with weight [%d, %d] needs x %d and out %d values, have %d and %d", ErrShape,
			n, w.Rows, w.Cols, n*w.Cols, n*w.Rows, len(x), len(out))
	}
	return nil
}

// mmJob is the state of one MatMul shared by the workers.
type mmJob struct {
	out, x []float32
	n      int
	w      *Matrix
	direct tileFn // nil: dequantize panels
	// tall, with direct, is the kernel set's tallH x 3 tile: batches above
	// mr rows run in passes of up to tallH rows against 3 weight rows.
	tall   tileFn
	int8   bool // Q8_0/Q4_0 int8 path
	kc, rb int  // K block and weight-row block (fixed blocks)
	rows   int  // R
	// guided hands out shrinking row ranges (see take): batch-1 style
	// calls whose row ranges need no scratch, so big ranges are free.
	guided     bool
	gmin, gmax int // guided range bounds in rows (multiples of quant)
	quant      int // guided ranges are multiples of quant rows
	threads    int
	next       atomic.Int64 // first row not yet handed out
	xq         []int8
	xd         []float32
	aux        []int32 // per-pair activation data: q8Aux (q8pair, q8rows4) or q4Aux (q4rows4)
}

// MatMul computes out = x · wᵀ: out[i*w.Rows+r] = sum_k x[i*w.Cols+k] * W[r][k]
// for the n rows of x. n == 1 is the decode matvec (weights streamed once);
// large n is the prefill GEMM. Q8_0 and Q4_0 weights with n <= 8 use int8 dot
// products against activations quantized per 32-block (like ggml's
// q8_0·q8_0 and q4_0·q8_0 dots; see RefMatMulQ8);
// otherwise results equal the f32 product of the dequantized weights up to
// summation order. Scratch is reused: no allocation in steady state.
// It panics when shapes do not match (see CheckMatMul).
func (c *CPU) MatMul(out, x []float32, n int, w *Matrix) {
	if err := CheckMatMul(out, x, n, w); err != nil {
		panic(err.Error())
	}
	if n == 0 {
		return
	}
	K, R := w.Cols, w.Rows
	j := &c.mm
	j.out, j.x, j.n, j.w = out, x, n, w
	j.direct, j.tall, j.int8 = nil, nil, false
	if (w.DType == Q8_0 || w.DType == Q4_0) && n <= q8Max {
		j.int8 = true
		j.xq, j.xd = quantizeActs(j.xq, j.xd, x[:n*K], c.k.qacts)
		if w.DType == Q8_0 && c.k.q8pair != nil && K >= 64 {
			j.aux = fillAux(j.aux, 32, q8Aux, j.xq, j.xd, n, K)
		}
		if w.DType == Q4_0 && c.k.q4rows4 != nil && K%64 == 0 {
			j.aux = fillAux(j.aux, 48, q4Aux, j.xq, j.xd, n, K)
		}
		j.kc, j.rb = K, 16
	} else {
		if d := c.k.direct[w.DType]; d != nil && n <= c.k.dmax[w.DType] {
			j.direct = d
			if t := c.k.tall[w.DType]; t != nil && n > c.k.mr {
				j.tall = t
			}
		}
		j.kc = K
		if K > 1024 && (n > 1 || j.direct == nil) && j.tall == nil {
			j.kc = 512
		}
		j.rb = 64
		if n <= 16 {
			j.rb = 16
		}
	}
	j.rows, j.threads = R, c.threads
	j.guided = !c.fixedBlocks && (j.int8 || (n == 1 && j.direct != nil) || j.tall != nil)
	single := R <= j.rb
	if j.guided {
		rowBytes := w.DType.RowBytes(K)
		j.quant = 4
		if j.tall != nil {
			j.quant = 12 // whole 3-row tiles
		}
		j.gmin = max(j.quant, guidedMinBytes/rowBytes/j.quant*j.quant)
		j.gmax = max(j.gmin, guidedMaxBytes/rowBytes/j.quant*j.quant)
		single = R <= j.gmin
	}
	j.next.Store(0)
	if single {
		c.mmWorker(0)
	} else {
		c.run(c.mmTask)
	}
	j.out, j.x, j.w = nil, nil, nil
}

// fillAux sizes aux to n activation rows of K/64 pairs times stride values
// and fills each row's part with fill (q8Aux or q4Aux).
func fillAux(aux []int32, stride int, fill func(aux []int32, xq []int8, xd []float32), xq []int8, xd []float32, n, K int) []int32 {
	pairs, nb := K/64, K/32
	if cap(aux) < n*pairs*stride {
		aux = make([]int32, n*pairs*stride)
	}
	aux = aux[:n*pairs*stride]
	for i := 0; i < n; i++ {
		fill(aux[i*pairs*stride:(i+1)*pairs*stride], xq[i*K:(i+1)*K], xd[i*nb:(i+1)*nb])
	}
	return aux
}

// quantizeActs quantizes x (length a multiple of 32) to int8 blocks with one
// float32 scale each: d = amax/127, q = round(x/d), using fill (a kernel
// with quantActsGo's exact semantics).
func quantizeActs(q []int8, d []float32, x []float32, fill func(q []int8, d, x []float32)) ([]int8, []float32) {
	if cap(q) < len(x) {
		q = make([]int8, len(x))
	}
	q = q[:len(x)]
	d = growF(d, len(x)/32)
	if len(x) > 0 {
		fill(q, d, x)
	}
	return q, d
}

func quantActsGo(q []int8, d, x []float32) {
	for b := range d {
		xs := x[32*b : 32*b+32]
		var amax float32
		for _, v := range xs {
			if a := abs32(v); a > amax {
				amax = a
			}
		}
		s := amax / 127
		var id float32
		if s != 0 {
			id = 1 / s
		}
		d[b] = s
		qs := q[32*b : 32*b+32]
		for t, v := range xs {
			qs[t] = int8(roundHalfAway(v * id))
		}
	}
}

func (c *CPU) mmWorker(wk int) {
	j := &c.mm
	if j.int8 {
		c.mmInt8(wk)
		return
	}
	w, n, x, out := j.w, j.n, j.x, j.out
	K, R := w.Cols, w.Rows
	rowBytes := w.DType.RowBytes(K)
	esz := w.DType.BlockBytes() / w.DType.BlockSize() // only used for direct (plain) types
	// Tiles of h x rows against nw weight rows: up to mr x 4, or with the
	// tall tile passes of equal height h <= tallH against 3 weight rows,
	// each weight converted once per pass.
	h, nw := c.k.mr, 4
	if j.tall != nil {
		passes := (n + tallH - 1) / tallH
		h, nw = (n+passes-1)/passes, 3
	}
	sc := &c.scratch[wk]
	var mv mvFn
	if n == 1 && j.direct != nil && K%32 == 0 {
		mv = c.k.mv[w.DType]
	}
	for {
		r0, r1 := j.take()
		if r0 >= R {
			return
		}
		nr := r1 - r0
		if mv != nil {
			_, _ = w.Data[r1*rowBytes-1], out[r1-1] // the kernel reads rows [r0, r1)
			mv(K, &x[0], unsafe.Pointer(&w.Data[r0*rowBytes]), rowBytes, nr, &out[r0])
			continue
		}
		for k0 := 0; k0 < K; k0 += j.kc {
			kk := min(j.kc, K-k0)
			tile := j.direct
			if j.tall != nil {
				tile = j.tall
			}
			var wbase unsafe.Pointer
			wstride := rowBytes
			if tile != nil {
				wbase = unsafe.Pointer(&w.Data[r0*rowBytes+k0*esz])
			} else {
				tile = c.k.f32
				sc.f = growF(sc.f, nr*kk)
				bs, bb := w.DType.BlockSize(), w.DType.BlockBytes()
				for r := 0; r < nr; r++ {
					src := w.Data[(r0+r)*rowBytes+k0/bs*bb:]
					c.k.deq(sc.f[r*kk:(r+1)*kk], src, w.DType)
				}
				wbase = unsafe.Pointer(&sc.f[0])
				wstride = kk * 4
			}
			for i0 := 0; i0 < n; i0 += h {
				mx := min(h, n-i0)
				for j0 := 0; j0 < nr; j0 += nw {
					tile(kk, &x[i0*K+k0], K, mx, unsafe.Add(wbase, j0*wstride), wstride,
						min(nw, nr-j0), &out[i0*R+r0+j0], R, k0 > 0)
				}
			}
		}
	}
}

func (c *CPU) mmInt8(wk int) {
	j := &c.mm
	w, n, out := j.w, j.n, j.out
	K, R := w.Cols, w.Rows
	nb := K / 32
	rowBytes := w.DType.RowBytes(K)
	dot := c.k.q8dot
	if w.DType == Q4_0 {
		dot = c.k.q4dot
	}
	pair := c.k.q8pair
	if w.DType != Q8_0 || nb < 2 {
		pair = nil
	}
	pairs := nb / 2
	rows4, rows1 := c.k.q8rows4, c.k.q8rows
	if pair == nil || nb%2 != 0 {
		rows4, rows1 = nil, nil
	}
	if n != 1 {
		rows1 = nil
	}
	q4rows4 := c.k.q4rows4
	if w.DType != Q4_0 || nb%2 != 0 {
		q4rows4 = nil
	}
	_ = w.Data[R*rowBytes-1] // rows4 reads whole rows
	for {
		r0, r1 := j.take()
		if r0 >= R {
			return
		}
		if q4rows4 != nil {
			for ; r0+4 <= r1; r0 += 4 {
				wp := unsafe.Pointer(&w.Data[r0*rowBytes])
				for i := 0; i < n; i++ {
					o := out[i*R+r0 : i*R+r0+4]
					q4rows4(&j.aux[i*pairs*48], wp, rowBytes, nb, &o[0])
				}
			}
		}
		if rows1 != nil {
			rows1(&j.xq[0], &j.aux[0], unsafe.Pointer(&w.Data[r0*rowBytes]), rowBytes, r1-r0, nb, &out[r0])
			continue
		}
		if rows4 != nil {
			for ; r0+4 <= r1; r0 += 4 {
				wp := unsafe.Pointer(&w.Data[r0*rowBytes])
				for i := 0; i < n; i++ {
					o := out[i*R+r0 : i*R+r0+4]
					rows4(&j.xq[i*K], &j.aux[i*pairs*32], wp, rowBytes, nb, &o[0])
				}
			}
		}
		for r := r0; r < r1; r++ {
			wp := unsafe.Pointer(&w.Data[r*rowBytes])
			if pair != nil {
				for i := 0; i < n; i++ {
					out[i*R+r] = pair(&j.xq[i*K], &j.xd[i*nb], &j.aux[i*pairs*32], wp, nb)
				}
				continue
			}
			for i := 0; i < n; i++ {
				out[i*R+r] = dot(&j.xq[i*K], &j.xd[i*nb], wp, nb)
			}
		}
	}
}

// Guided scheduling bounds, in weight bytes per handed-out range: ranges
// start at a 1/(2*threads) share of what is left, capped so that a range
// streams in microseconds, and shrink to guidedMinBytes so the workers
// finish together. Far fewer hand-outs than fixed 16-row blocks (an atomic
// each, its cache line bouncing between cores) on a 150k-row LM head.
const (
	guidedMinBytes = 16 << 10
	guidedMaxBytes = 256 << 10
)

// take hands out the next range of weight rows [r0, r1); r0 >= rows when
// all are taken.
func (j *mmJob) take() (r0, r1 int) {
	if !j.guided {
		r0 = int(j.next.Add(int64(j.rb))) - j.rb
		return r0, min(r0+j.rb, j.rows)
	}
	for {
		cur := j.next.Load()
		left := j.rows - int(cur)
		if left <= 0 {
			return j.rows, j.rows
		}
		chunk := min(max(left/(2*j.threads)/j.quant*j.quant, j.gmin), j.gmax, left)
		if j.next.CompareAndSwap(cur, cur+int64(chunk)) {
			return int(cur), int(cur) + chunk
		}
	}
}
