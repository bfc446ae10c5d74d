package model

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestRopeIndex(t *testing.T) {
	const I = 9 // image token
	info := VisionInfo{Kind: "qwen2_vl", ImageToken: I, MergeSize: 2}
	info25 := info
	info25.Kind = "qwen2_5_vl"
	p := func(t, h, w int32) [3]int32 { return [3]int32{t, h, w} }
	cases := []struct {
		name   string
		tokens []int32
		grids  [][3]int
		info   VisionInfo
		want   [][3]int32
		delta  int
	}{
		{"text only", []int32{1, 2, 3}, nil, info,
			[][3]int32{p(0, 0, 0), p(1, 1, 1), p(2, 2, 2)}, 0},
		// <start> <vs> 4 image tokens (2x2 merged) <ve> <x>: the image starts
		// at 2 and spans rows/cols 2..3; text resumes at 3+1.
		{"one square image", []int32{1, 7, I, I, I, I, 8, 2}, [][3]int{{1, 4, 4}}, info,
			[][3]int32{p(0, 0, 0), p(1, 1, 1), p(2, 2, 2), p(2, 2, 3), p(2, 3, 2), p(2, 3, 3), p(4, 4, 4), p(5, 5, 5)}, 6 - 8},
		// 1x3 merged grid: width positions 0..2, next text at start+3.
		{"wide image", []int32{I, I, I, 5}, [][3]int{{1, 2, 6}}, info,
			[][3]int32{p(0, 0, 0), p(0, 0, 1), p(0, 0, 2), p(3, 3, 3)}, 4 - 4},
		// Tall 3x1 merged grid.
		{"tall image at end", []int32{4, I, I, I}, [][3]int{{1, 6, 2}}, info,
			[][3]int32{p(0, 0, 0), p(1, 1, 1), p(1, 2, 1), p(1, 3, 1)}, 4 - 4},
		// Two images back to back, then text.
		{"two images", []int32{I, I, I, I, 3}, [][3]int{{1, 2, 4}, {1, 2, 4}}, info,
			[][3]int32{p(0, 0, 0), p(0, 0, 1), p(2, 2, 2), p(2, 2, 3), p(4, 4, 4)}, 5 - 5},
		// Two frames: Qwen2-VL counts the frame in t; Qwen2.5-VL images keep t = start.
		{"two frames qwen2", []int32{I, I, 3}, [][3]int{{2, 2, 2}}, info,
			[][3]int32{p(0, 0, 0), p(1, 0, 0), p(2, 2, 2)}, 3 - 3},
		{"two frames qwen2.5", []int32{I, I, 3}, [][3]int{{2, 2, 2}}, info25,
			[][3]int32{p(0, 0, 0), p(0, 0, 0), p(1, 1, 1)}, 2 - 3},
		{"empty", nil, nil, info, [][3]int32{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pos, delta, err := RopeIndex(c.tokens, c.grids, c.info)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, c.want) || delta != c.delta {
				t.Errorf("got %v delta %d, want %v delta %d", pos, delta, c.want, c.delta)
			}
		})
	}
}

func TestRopeIndexErrors(t *testing.T) {
	const I = 9
	info := VisionInfo{Kind: "qwen2_vl", ImageToken: I, MergeSize: 2}
	cases := []struct {
		name   string
		tokens []int32
		grids  [][3]int
		info   VisionInfo
	}{
		{"no grid for image", []int32{1, I}, nil, info},
		{"too few image tokens", []int32{I, I, I, 1}, [][3]int{{1, 4, 4}}, info},
		{"prompt ends inside image", []int32{I, I}, [][3]int{{1, 4, 4}}, info},
		{"grid not a multiple of merge", []int32{I}, [][3]int{{1, 3, 2}}, info},
		{"zero grid", []int32{I}, [][3]int{{0, 2, 2}}, info},
		{"unused grid", []int32{1, 2}, [][3]int{{1, 2, 2}}, info},
		{"extra image tokens", []int32{I, I}, [][3]int{{1, 2, 2}}, info},
		{"bad merge size", []int32{1}, nil, VisionInfo{ImageToken: I}},
	}
	for _, c := range cases {
		if _, _, err := RopeIndex(c.tokens, c.grids, c.info); !errors.Is(err, ErrBatch) {
			t.Errorf("%s: err = %v, want ErrBatch", c.name, err)
		}
	}
}

func TestFillMRoPE(t *testing.T) {
	inv := []float64{1, 0.5, 0.25, 0.125, 0.0625}
	section := []int{1, 2, 2}
	pos := [][3]int32{{3, 3, 3}, {2, 5, 7}}
	cos := make([]float32, 2*len(inv))
	sin := make([]float32, 2*len(inv))
	fillMRoPE(cos, sin, pos, inv, section)

	// Equal components: plain RoPE.
	pc := make([]float32, len(inv))
	ps := make([]float32, len(inv))
	fillRope(pc, ps, []int32{3}, inv)
	if !reflect.DeepEqual(cos[:5], pc) || !reflect.DeepEqual(sin[:5], ps) {
		t.Errorf("text position: cos %v sin %v, want plain RoPE %v %v", cos[:5], sin[:5], pc, ps)
	}
	// Frequency 0 uses t=2, 1..2 use h=5, 3..4 use w=7.
	comp := []float64{2, 5, 5, 7, 7}
	for j, f := range inv {
		if got, want := cos[5+j], float32(math.Cos(comp[j]*f)); got != want {
			t.Errorf("cos[%d] = %v, want %v", j, got, want)
		}
		if got, want := sin[5+j], float32(math.Sin(comp[j]*f)); got != want {
			t.Errorf("sin[%d] = %v, want %v", j, got, want)
		}
	}
}

func TestWindowIndex(t *testing.T) {
	// 3x5 merged units, windows of 2: windows (rows 0-1, cols 0-1), (0-1, 2-3),
	// (0-1, 4), (2, 0-1), (2, 2-3), (2, 4); 4 patch rows per unit.
	perm, bounds := windowIndex(1, 3, 5, 2, 4)
	wantPerm := []int{0, 1, 5, 6, 2, 3, 7, 8, 4, 9, 10, 11, 12, 13, 14}
	wantBounds := []int{0, 16, 32, 40, 48, 56, 60}
	if !reflect.DeepEqual(perm, wantPerm) || !reflect.DeepEqual(bounds, wantBounds) {
		t.Errorf("got %v %v, want %v %v", perm, bounds, wantPerm, wantBounds)
	}
	// Two frames of 1x1 units: the second frame's unit follows.
	perm, bounds = windowIndex(2, 1, 1, 4, 4)
	if !reflect.DeepEqual(perm, []int{0, 1}) || !reflect.DeepEqual(bounds, []int{0, 4, 8}) {
		t.Errorf("two frames: got %v %v", perm, bounds)
	}
}

func TestVisionPositions(t *testing.T) {
	h, w := visionPositions(1, 2, 4, 2)
	wantH := []int32{0, 0, 1, 1, 0, 0, 1, 1}
	wantW := []int32{0, 1, 0, 1, 2, 3, 2, 3}
	if !reflect.DeepEqual(h, wantH) || !reflect.DeepEqual(w, wantW) {
		t.Errorf("got h %v w %v, want %v %v", h, w, wantH, wantW)
	}
}
