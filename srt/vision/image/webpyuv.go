package image

import stdimage "image"

// VP8 (lossy WEBP) stores BT.601 limited-range YUV 4:2:0. golang.org/x/image/webp
// returns the planes as an image.YCbCr whose At method would apply the
// full-range JFIF equations, so colours would be visibly off. libwebp (which
// PIL uses) converts with 14-bit fixed-point BT.601 coefficients after
// "fancy" bilinear chroma upsampling; webpToRGB reproduces both.

const (
	yuvFix2  = 6
	yuvMask2 = (256 << yuvFix2) - 1
)

func multHi(v, coeff int) int { return (v * coeff) >> 8 }

func vp8Clip8(v int) uint8 {
	if v&^yuvMask2 == 0 {
		return uint8(v >> yuvFix2)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func vp8YUVToRGB(y, u, v uint8, dst []uint8) {
	yy := multHi(int(y), 19077)
	dst[0] = vp8Clip8(yy + multHi(int(v), 26149) - 14234)
	dst[1] = vp8Clip8(yy - multHi(int(u), 6419) - multHi(int(v), 13320) + 8708)
	dst[2] = vp8Clip8(yy + multHi(int(u), 33050) - 17685)
}

// webpToRGB converts 4:2:0 VP8 planes; it reports false for other layouts.
func webpToRGB(s *stdimage.YCbCr, out []uint8) bool {
	if s.SubsampleRatio != stdimage.YCbCrSubsampleRatio420 || s.Rect.Min != (stdimage.Point{}) {
		return false
	}
	w, h := s.Rect.Dx(), s.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	if len(s.Cb) < (ch-1)*s.CStride+cw || len(s.Cr) < (ch-1)*s.CStride+cw || len(s.Y) < (h-1)*s.YStride+w {
		return false
	}
	uRow := make([]uint8, w)
	vRow := make([]uint8, w)
	for y := 0; y < h; y++ {
		// Nearest chroma row and the other neighbour, clamped at the edges.
		var near, far int
		if y&1 == 1 {
			near, far = (y-1)/2, min((y+1)/2, ch-1)
		} else {
			near, far = y/2, max(y/2-1, 0)
		}
		upsampleRow(s.Cb[near*s.CStride:near*s.CStride+cw], s.Cb[far*s.CStride:far*s.CStride+cw], uRow)
		upsampleRow(s.Cr[near*s.CStride:near*s.CStride+cw], s.Cr[far*s.CStride:far*s.CStride+cw], vRow)
		yrow := s.Y[y*s.YStride : y*s.YStride+w]
		o := out[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			vp8YUVToRGB(yrow[x], uRow[x], vRow[x], o[3*x:3*x+3])
		}
	}
	return true
}

// upsampleRow is libwebp's fancy upsampler for one output row: weights
// 9/16, 3/16, 3/16, 1/16 over the nearest chroma samples (n from the nearer
// chroma row, f from the farther one), with libwebp's exact rounding.
func upsampleRow(n, f []uint8, dst []uint8) {
	w := len(dst)
	dst[0] = uint8((3*int(n[0]) + int(f[0]) + 2) >> 2)
	last := (w - 1) >> 1
	for x := 1; x <= last; x++ {
		nl, nr, fl, fr := int(n[x-1]), int(n[x]), int(f[x-1]), int(f[x])
		avg := nl + nr + fl + fr + 8
		d12 := (avg + 2*(nr+fl)) >> 3
		d03 := (avg + 2*(nl+fr)) >> 3
		dst[2*x-1] = uint8((d12 + nl) >> 1)
		dst[2*x] = uint8((d03 + nr) >> 1)
	}
	if w&1 == 0 {
		dst[w-1] = uint8((3*int(n[last]) + int(f[last]) + 2) >> 2)
	}
}
