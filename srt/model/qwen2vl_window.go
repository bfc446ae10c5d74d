package model

// visionScratch holds one Encode call's activations.
type visionScratch struct {
	x, h, q, k, v, att []float32 // [n][hidden]
	qkv                []float32 // [n][3*hidden]
	gate, up           []float32 // [n][intermediate]
	cos, sin           []float32 // [n][head_dim/2]
}

func newVisionScratch(v *VisionConfig, n int) *visionScratch {
	E, I := v.Hidden, v.Intermediate
	// The merger's middle activations ([n/merge²][hidden*merge²]) reuse gate.
	I = max(I, E)
	hd := v.HeadDim()
	return &visionScratch{
		x: make([]float32, n*E), h: make([]float32, n*E), q: make([]float32, n*E),
		k: make([]float32, n*E), v: make([]float32, n*E), att: make([]float32, n*E),
		qkv: make([]float32, n*3*E), gate: make([]float32, n*I), up: make([]float32, n*I),
		cos: make([]float32, n*hd/2), sin: make([]float32, n*hd/2),
	}
}

// visionPositions gives each patch row its (row, column) in the patch grid,
// for rows in merge-window order: frame, merged row, merged column, then
// row and column inside the merge×merge block (the processor's order).
func visionPositions(t, gh, gw, m int) (hpos, wpos []int32) {
	n := t * gh * gw
	hpos, wpos = make([]int32, 0, n), make([]int32, 0, n)
	for f := 0; f < t; f++ {
		for bh := 0; bh < gh/m; bh++ {
			for bw := 0; bw < gw/m; bw++ {
				for y := 0; y < m; y++ {
					for x := 0; x < m; x++ {
						hpos = append(hpos, int32(bh*m+y))
						wpos = append(wpos, int32(bw*m+x))
					}
				}
			}
		}
	}
	return hpos, wpos
}

// windowIndex is Qwen2.5-VL's get_window_index for one image of t frames of
// lh×lw merged units: the frame is tiled by ws×ws-unit windows from the top
// left (the last row and column of windows may be smaller); perm lists the
// original merged-unit indices frame by frame, window by window (row-major),
// row-major inside a window; bounds are the patch-row offsets where windows
// start, ending with the total (unit rows per merged unit).
func windowIndex(t, lh, lw, ws, unit int) (perm []int, bounds []int) {
	perm = make([]int, 0, t*lh*lw)
	bounds = []int{0}
	for f := 0; f < t; f++ {
		base := f * lh * lw
		for wy := 0; wy < lh; wy += ws {
			for wx := 0; wx < lw; wx += ws {
				for y := wy; y < min(wy+ws, lh); y++ {
					for x := wx; x < min(wx+ws, lw); x++ {
						perm = append(perm, base+y*lw+x)
					}
				}
				bounds = append(bounds, len(perm)*unit)
			}
		}
	}
	return perm, bounds
}

// permuteRows reorders x, in blocks of size values, so that block i becomes
// old block perm[i]; tmp is scratch at least as long as x.
func permuteRows(x, tmp []float32, perm []int, size int) {
	copy(tmp, x)
	for i, src := range perm {
		copy(x[i*size:(i+1)*size], tmp[src*size:(src+1)*size])
	}
}

func permuteInts(p []int32, perm []int, size int) []int32 {
	out := make([]int32, len(p))
	for i, src := range perm {
		copy(out[i*size:(i+1)*size], p[src*size:(src+1)*size])
	}
	return out
}

// segmentContexts gives each of n rows the list of rows in its segment
// (bounds are segment starts plus the end), as attention slot lists over a
// K/V buffer indexed by row. Rows of a segment share one slice.
func segmentContexts(n int, bounds []int) [][]int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	ctx := make([][]int32, n)
	for s := 0; s+1 < len(bounds); s++ {
		for i := bounds[s]; i < bounds[s+1]; i++ {
			ctx[i] = idx[bounds[s]:bounds[s+1]]
		}
	}
	return ctx
}
