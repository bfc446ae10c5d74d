package model

import (
	"fmt"
	"math"
)

// M-RoPE (Qwen2-VL's multimodal rotary embedding) gives every token a
// three-component position (temporal, height, width). The HeadDim/2 rotary
// frequencies are split into three consecutive sections
// (rope_scaling.mrope_section, e.g. [16, 24, 24] for head_dim 128); the
// frequencies of section c rotate by position component c. The same split
// applies to both halves of the rotate_half layout. Text tokens carry equal
// components (p, p, p), for which M-RoPE is plain RoPE at position p.

// fillMRoPE writes cos and sin tables [len(pos)][len(inv)] for 3-D
// positions, frequency j rotating by the component of the section it is in.
func fillMRoPE(cos, sin []float32, pos [][3]int32, inv []float64, section []int) {
	half := len(inv)
	comp := make([]int, half)
	for j := range comp {
		switch {
		case j < section[0]:
			comp[j] = 0
		case j < section[0]+section[1]:
			comp[j] = 1
		default:
			comp[j] = 2
		}
	}
	for r, p := range pos {
		for j, f := range inv {
			s, c := math.Sincos(float64(p[comp[j]]) * f)
			cos[r*half+j] = float32(c)
			sin[r*half+j] = float32(s)
		}
	}
}

// RopeIndex computes the M-RoPE positions of a prompt mixing text and images,
// as transformers' Qwen2-VL get_rope_index does for images: text tokens
// count up with equal components; each run of image tokens (info.ImageToken,
// t*h*w/merge^2 of them for grid [t, h, w] in patches) gets
// (start+t', start+h', start+w') over its merged grid in row-major order,
// where start is the position after the preceding text; the text after an
// image resumes at one past the largest component used so far.
// Qwen2.5-VL images have temporal component 0 (no video timing).
//
// imageGrids lists one image_grid_thw per image, in prompt order. nextDelta
// is max(position)+1 - len(tokens): a token at sequence index i >=
// len(tokens) (decoding) has position i+nextDelta in all three components.
func RopeIndex(tokens []int32, imageGrids [][3]int, info VisionInfo) (pos [][3]int32, nextDelta int, err error) {
	m := info.MergeSize
	if m <= 0 {
		return nil, 0, fmt.Errorf("%w: merge size %d", ErrBatch, m)
	}
	pos = make([][3]int32, len(tokens))
	next, img := 0, 0
	for i := 0; i < len(tokens); {
		if tokens[i] != info.ImageToken {
			pos[i] = [3]int32{int32(next), int32(next), int32(next)}
			next++
			i++
			continue
		}
		if img >= len(imageGrids) {
			return nil, 0, fmt.Errorf("%w: image tokens at index %d but only %d image grids", ErrBatch, i, len(imageGrids))
		}
		g := imageGrids[img]
		if g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[1]%m != 0 || g[2]%m != 0 {
			return nil, 0, fmt.Errorf("%w: image %d grid %v is not a positive multiple of merge size %d", ErrBatch, img, g, m)
		}
		t, h, w := g[0], g[1]/m, g[2]/m
		n := t * h * w
		if i+n > len(tokens) {
			return nil, 0, fmt.Errorf("%w: image %d needs %d image tokens from index %d, prompt has %d tokens", ErrBatch, img, n, i, len(tokens))
		}
		top := 0
		for k := 0; k < n; k++ {
			if tokens[i+k] != info.ImageToken {
				return nil, 0, fmt.Errorf("%w: image %d needs %d image tokens from index %d, found %d", ErrBatch, img, n, i, k)
			}
			tt, hh, ww := k/(h*w), k/w%h, k%w
			if info.Kind == "qwen2_5_vl" {
				tt = 0
			}
			pos[i+k] = [3]int32{int32(next + tt), int32(next + hh), int32(next + ww)}
			top = max(top, tt, hh, ww)
		}
		next += top + 1
		i += n
		img++
	}
	if img != len(imageGrids) {
		return nil, 0, fmt.Errorf("%w: %d image grids but %d images in the prompt", ErrBatch, len(imageGrids), img)
	}
	return pos, next - len(tokens), nil
}
