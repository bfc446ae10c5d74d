package image

import stdimage "image"

// Go's image/jpeg returns subsampled YCbCr planes; image.YCbCr's own
// conversion replicates chroma (nearest) and rounds differently from
// libjpeg-turbo, which PIL uses. jpegToRGB applies libjpeg-turbo's "fancy"
// (triangle-filter) chroma upsampling for 4:2:0, 4:2:2 and 4:4:0 and its
// 16-bit fixed-point YCbCr->RGB tables. The remaining difference from PIL
// comes from the IDCT (Go's is not libjpeg's islow), usually +-1.

const (
	jScaleBits = 16
	jOneHalf   = 1 << (jScaleBits - 1)
)

// jpegColor holds libjpeg's build_ycc_rgb_table results.
type jpegColor struct {
	crR, cbB [256]int32
	crG, cbG [256]int32
}

func newJPEGColor() *jpegColor {
	t := &jpegColor{}
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		t.crR[i] = (91881*x + jOneHalf) >> jScaleBits
		t.cbB[i] = (116130*x + jOneHalf) >> jScaleBits
		t.crG[i] = -46802 * x
		t.cbG[i] = -22554*x + jOneHalf
	}
	return t
}

func clampU8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// jpegToRGB converts Go-decoded JPEG planes; it reports false for layouts it
// does not handle (the caller then falls back to image.YCbCr's conversion).
func jpegToRGB(s *stdimage.YCbCr, out []uint8) bool {
	if s.Rect.Min != (stdimage.Point{}) {
		return false
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	var hs, vs int
	switch s.SubsampleRatio {
	case stdimage.YCbCrSubsampleRatio444:
		hs, vs = 1, 1
	case stdimage.YCbCrSubsampleRatio422:
		hs, vs = 2, 1
	case stdimage.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case stdimage.YCbCrSubsampleRatio440:
		hs, vs = 1, 2
	default:
		return false
	}
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	if s.CStride < cw || len(s.Cb) < (ch-1)*s.CStride+cw || len(s.Cr) < (ch-1)*s.CStride+cw ||
		len(s.Y) < (h-1)*s.YStride+w {
		return false
	}
	t := newJPEGColor()
	cb := make([]uint8, w+1)
	cr := make([]uint8, w+1)
	colsum := make([]int32, cw)
	for y := 0; y < h; y++ {
		cy := y / vs
		for p, dst := range [2][]uint8{cb, cr} {
			plane := s.Cb
			if p == 1 {
				plane = s.Cr
			}
			near := plane[cy*s.CStride : cy*s.CStride+cw]
			if vs == 1 {
				if hs == 1 {
					copy(dst, near)
				} else {
					h2v1Fancy(near, dst[:2*cw])
				}
				continue
			}
			// Vertical triangle filter: the other neighbour is the row above
			// for the top output row of a pair, below for the bottom one,
			// replicated at the image edges.
			fy := cy - 1
			bias := int32(1)
			if y%2 == 1 {
				fy, bias = cy+1, 2
			}
			fy = max(0, min(fy, ch-1))
			far := plane[fy*s.CStride : fy*s.CStride+cw]
			if hs == 1 { // h1v2
				for i := range near {
					dst[i] = uint8((3*int32(near[i]) + int32(far[i]) + bias) >> 2)
				}
				continue
			}
			for i := range colsum {
				colsum[i] = 3*int32(near[i]) + int32(far[i])
			}
			h2v2Fancy(colsum, dst[:2*cw])
		}
		yrow := s.Y[y*s.YStride : y*s.YStride+w]
		o := out[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			yy := int32(yrow[x])
			b, r := cb[x], cr[x]
			o[3*x] = clampU8(yy + t.crR[r])
			o[3*x+1] = clampU8(yy + ((t.cbG[b] + t.crG[r]) >> jScaleBits))
			o[3*x+2] = clampU8(yy + t.cbB[b])
		}
	}
	return true
}

// h2v1Fancy doubles a row horizontally with weights 3/4, 1/4.
func h2v1Fancy(in, out []uint8) {
	n := len(in)
	if n == 1 {
		out[0], out[1] = in[0], in[0]
		return
	}
	out[0] = in[0]
	out[1] = uint8((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		v := 3 * int32(in[i])
		out[2*i] = uint8((v + int32(in[i-1]) + 1) >> 2)
		out[2*i+1] = uint8((v + int32(in[i+1]) + 2) >> 2)
	}
	out[2*n-2] = uint8((3*int32(in[n-1]) + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2Fancy doubles a row of vertical column sums (3*near + far)
// horizontally with weights 3/4, 1/4 and libjpeg's 8/7 rounding biases.
func h2v2Fancy(c []int32, out []uint8) {
	n := len(c)
	if n == 1 {
		out[0] = uint8((c[0]*4 + 8) >> 4)
		out[1] = uint8((c[0]*4 + 7) >> 4)
		return
	}
	out[0] = uint8((c[0]*4 + 8) >> 4)
	out[1] = uint8((c[0]*3 + c[1] + 7) >> 4)
	for i := 1; i < n-1; i++ {
		out[2*i] = uint8((c[i]*3 + c[i-1] + 8) >> 4)
		out[2*i+1] = uint8((c[i]*3 + c[i+1] + 7) >> 4)
	}
	out[2*n-2] = uint8((c[n-1]*3 + c[n-2] + 8) >> 4)
	out[2*n-1] = uint8((c[n-1]*4 + 7) >> 4)
}
