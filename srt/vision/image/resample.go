package image

import (
	"fmt"
	"math"
)

// PIL-compatible bicubic resampling on 8-bit RGB.
//
// The arithmetic follows Pillow's libImaging resampler: per output pixel a
// window of the cubic convolution kernel (a = -0.5, support 2) scaled by the
// downscale factor, coefficients normalised in float64 then quantised to
// 22-bit fixed point (rounded half away from zero), accumulation in int32
// starting at one half, a horizontal pass into a uint8 buffer (only the rows
// the vertical pass needs) followed by a vertical pass, and clamping to
// [0, 255] after an arithmetic shift.

const precisionBits = 32 - 8 - 2

func bicubicKernel(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64((a+2)*x)-(a+3))*x*x + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(x-5)*x)+8)*x-4) * a
	}
	return 0
}

// coeffs holds the fixed-point filter of one axis: for output i the source
// window starts at bounds[2i] and has bounds[2i+1] taps, weights at
// k[i*ksize:].
type coeffs struct {
	ksize  int
	bounds []int
	k      []int32
}

func precomputeCoeffs(inSize, outSize int) coeffs {
	const support0 = 2.0
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := support0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, bounds: make([]int, outSize*2), k: make([]int32, outSize*ksize)}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			v := bicubicKernel(float64(float64(float64(x+xmin)-center)+0.5) * ss)
			w[x] = v
			ww += v
		}
		kk := c.k[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			f := float64(v * (1 << precisionBits))
			if v < 0 {
				kk[x] = int32(-0.5 + f)
			} else {
				kk[x] = int32(0.5 + f)
			}
		}
		c.bounds[2*xx] = xmin
		c.bounds[2*xx+1] = xmax
	}
	return c
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ResizeBicubic resizes src to w x h the way PIL's
// Image.resize((w, h), Image.BICUBIC) does for an "RGB" image. The result
// has its own pixel buffer and hash; resizing to the same size copies.
func ResizeBicubic(src *Image, w, h int) (*Image, error) {
	if src == nil || src.W <= 0 || src.H <= 0 || len(src.RGB) != src.W*src.H*3 {
		return nil, fmt.Errorf("%w: invalid source image", ErrBadSize)
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > 1<<31/3 {
		return nil, fmt.Errorf("%w: cannot resize to %dx%d", ErrBadSize, w, h)
	}
	out := resizeRGB(src.RGB, src.W, src.H, w, h)
	return NewRGB(w, h, out)
}

func resizeRGB(in []uint8, inW, inH, outW, outH int) []uint8 {
	if inW == outW && inH == outH {
		return append([]uint8(nil), in...)
	}
	needH := outW != inW
	needV := outH != inH
	cur, curW, curH := in, inW, inH
	var vert coeffs
	if needV {
		vert = precomputeCoeffs(inH, outH)
	}
	if needH {
		horiz := precomputeCoeffs(inW, outW)
		first, last := 0, inH
		if needV {
			first = vert.bounds[0]
			last = vert.bounds[2*outH-2] + vert.bounds[2*outH-1]
			for i := 0; i < outH; i++ {
				vert.bounds[2*i] -= first
			}
		}
		tmp := make([]uint8, outW*(last-first)*3)
		resampleHorizontal(tmp, in, inW, outW, first, last, horiz)
		cur, curW, curH = tmp, outW, last-first
	}
	if needV {
		out := make([]uint8, curW*outH*3)
		resampleVertical(out, cur, curW, outH, vert)
		cur, curH = out, outH
	}
	_ = curH
	return cur
}

func resampleHorizontal(dst, src []uint8, inW, outW, first, last int, c coeffs) {
	const half = int32(1) << (precisionBits - 1)
	for y := first; y < last; y++ {
		srow := src[y*inW*3 : (y+1)*inW*3]
		drow := dst[(y-first)*outW*3 : (y-first+1)*outW*3]
		for xx := 0; xx < outW; xx++ {
			xmin, n := c.bounds[2*xx], c.bounds[2*xx+1]
			k := c.k[xx*c.ksize : xx*c.ksize+n]
			s := srow[xmin*3 : (xmin+n)*3]
			s0, s1, s2 := half, half, half
			for i, kv := range k {
				p := s[i*3 : i*3+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			drow[xx*3] = clip8(s0)
			drow[xx*3+1] = clip8(s1)
			drow[xx*3+2] = clip8(s2)
		}
	}
}

func resampleVertical(dst, src []uint8, w, outH int, c coeffs) {
	const half = int32(1) << (precisionBits - 1)
	stride := w * 3
	acc := make([]int32, stride)
	for yy := 0; yy < outH; yy++ {
		ymin, n := c.bounds[2*yy], c.bounds[2*yy+1]
		k := c.k[yy*c.ksize : yy*c.ksize+n]
		for i := range acc {
			acc[i] = half
		}
		for j, kv := range k {
			row := src[(ymin+j)*stride : (ymin+j+1)*stride]
			for i, p := range row {
				acc[i] += int32(p) * kv
			}
		}
		drow := dst[yy*stride : (yy+1)*stride]
		for i, v := range acc {
			drow[i] = clip8(v)
		}
	}
}
