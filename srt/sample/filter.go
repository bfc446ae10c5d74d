package sample

import "slices"

// cand is one candidate token: its (processed) logit x, its unnormalised
// probability e = e^(x-max), and its id.
type cand struct {
	x  float32
	e  float32
	id int32
}

// better is the sampling order: higher logit first, then lower id.
func better(a, b cand) bool { return a.x > b.x || (a.x == b.x && a.id < b.id) }

func cmpCand(a, b cand) int {
	switch {
	case better(a, b):
		return -1
	case better(b, a):
		return 1
	}
	return 0
}

// topK appends to dst the k best entries of x in the order of better (the
// result itself is in heap order, not sorted). NaN entries must already be
// -Inf. k must be in [1, len(x)].
func topK(x []float32, k int, dst []cand) []cand {
	h := dst[:0]
	for i := range k {
		h = append(h, cand{x: x[i], id: int32(i)})
	}
	// Min-heap on better: h[0] is the worst kept candidate.
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	// Equal logits lose to the kept lower ids, so only strictly larger
	// ones enter; firstGT skips the rest eight at a time.
	for i := firstGT(x, k, h[0].x); i < len(x); i = firstGT(x, i+1, h[0].x) {
		h[0] = cand{x: x[i], id: int32(i)}
		siftDown(h, 0)
	}
	return h
}

// siftDown restores the min-heap (worst at the root) below i.
func siftDown(h []cand, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(h[l], h[r]) {
			w = r
		}
		if !better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// nucleus reorders c so that c[:r] is the smallest set of best candidates
// (order of better) whose mass (sum of e) reaches target, and returns r. It
// returns len(c) when the whole set falls short. Expected time is linear
// (weighted quickselect); c[:r] is left unsorted.
func nucleus(c []cand, target float64) int {
	lo, hi := 0, len(c)
	for hi-lo > 24 {
		p := pivot(c, lo, hi)
		c[p], c[hi-1] = c[hi-1], c[p]
		pv := c[hi-1]
		i := lo
		var left float64
		for j := lo; j < hi-1; j++ {
			if better(c[j], pv) {
				left += float64(c[j].e)
				c[i], c[j] = c[j], c[i]
				i++
			}
		}
		c[i], c[hi-1] = c[hi-1], c[i]
		switch {
		case left >= target:
			hi = i
		case left+float64(pv.e) >= target:
			return i + 1
		default:
			target -= left + float64(pv.e)
			lo = i + 1
		}
	}
	s := c[lo:hi]
	slices.SortFunc(s, cmpCand)
	var acc float64
	for j := range s {
		acc += float64(s[j].e)
		if acc >= target {
			return lo + j + 1
		}
	}
	return hi
}

// pivot returns the index of the median of c[lo], c[mid], c[hi-1].
func pivot(c []cand, lo, hi int) int {
	a, b, d := lo, lo+(hi-lo)/2, hi-1
	if better(c[b], c[a]) {
		a, b = b, a
	}
	// now c[a] ranks before c[b]
	if better(c[d], c[b]) {
		if better(c[d], c[a]) {
			return a
		}
		return d
	}
	return b
}

// histScale bins d = max-x in steps of 1/histScale up to the float32 exp
// underflow, to locate the top-p cut in one pass over a flat row.
const (
	histScale = 16
	histBins  = 88*histScale + 1
)

// binOf is the histogram bin of logit v below the maximum mx.
func binOf(mx, v float32) int {
	d := (mx - v) * histScale
	if d < histBins-1 { // false for NaN
		return int(d)
	}
	return histBins - 1
}

// histogram adds each e[i] > 0 to hist[binOf(mx, x[i])].
func histogram(e, x []float32, mx float32, hist *[histBins]float64) {
	e = e[:len(x)]
	for i, v := range x {
		if w := e[i]; w > 0 {
			hist[binOf(mx, v)] += float64(w)
		}
	}
}

// worst returns the last-ranked candidate of a non-empty c.
func worst(c []cand) cand {
	w := c[0]
	for _, k := range c[1:] {
		if better(w, k) {
			w = k
		}
	}
	return w
}

// drawBlock is the block size of drawScan's skip-ahead sums.
const drawBlock = 1024

// drawScan draws index i with probability e[i]/total among the i with
// x[i] >= thr (total is their mass), given u uniform in [0, 1). Whole
// blocks are skipped with a vectorised masked sum; only the block where the
// cumulative mass crosses u*total is scanned. fallback is returned if
// rounding runs past the end without a pick.
func drawScan(e, x []float32, thr float32, total, u float64, fallback int32) int32 {
	t := u * total
	var acc float64
	last := fallback
	e = e[:len(x)]
	for start := 0; start < len(x); start += drawBlock {
		end := min(start+drawBlock, len(x))
		if end < len(x) {
			if s := sumGE(e[start:end], x[start:end], thr); acc+s <= t {
				acc += s
				continue
			}
		}
		for i := start; i < end; i++ {
			w := e[i]
			if w <= 0 || x[i] < thr {
				continue
			}
			acc += float64(w)
			last = int32(i)
			if t < acc {
				return last
			}
		}
	}
	return last
}

// draw picks a candidate with probability proportional to e, given u
// uniform in [0, 1). c must hold at least one entry with e > 0.
func draw(c []cand, u float64) int32 {
	var total float64
	for _, k := range c {
		total += float64(k.e)
	}
	t := u * total
	var acc float64
	last := c[0].id
	for _, k := range c {
		if k.e <= 0 {
			continue
		}
		acc += float64(k.e)
		last = k.id
		if t < acc {
			return k.id
		}
	}
	return last
}
