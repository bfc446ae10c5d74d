package image

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	stdimage "image"
	"image/color"
)

// Image is a decoded 8-bit RGB image.
type Image struct {
	// W and H are the width and height in pixels (both > 0).
	W, H int
	// RGB holds H rows of W pixels, 3 bytes (R, G, B) per pixel, no padding.
	RGB []uint8
	// Format names the container the image was decoded from ("png", "jpeg",
	// "gif", "webp"), or "" for images built in memory.
	Format string
	// Hash is the SHA-256 of the width and height (uint32 little-endian each)
	// followed by RGB: equal pixels give equal hashes whatever the encoding.
	Hash [32]byte
}

// NewRGB wraps rgb (3*w*h bytes, row-major) as an Image and computes its hash.
// The slice is not copied.
func NewRGB(w, h int, rgb []uint8) (*Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %dx%d", ErrBadSize, w, h)
	}
	if int64(len(rgb)) != int64(w)*int64(h)*3 {
		return nil, fmt.Errorf("%w: %dx%d RGB needs %d bytes, got %d", ErrBadSize, w, h, int64(w)*int64(h)*3, len(rgb))
	}
	im := &Image{W: w, H: h, RGB: rgb}
	im.Hash = pixelHash(w, h, rgb)
	return im, nil
}

func pixelHash(w, h int, rgb []uint8) [32]byte {
	d := sha256.New()
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[:4], uint32(w))
	binary.LittleEndian.PutUint32(hdr[4:], uint32(h))
	d.Write(hdr[:])
	d.Write(rgb)
	var out [32]byte
	copy(out[:], d.Sum(nil))
	return out
}

// FromImage converts any image.Image to RGB the way PIL's convert("RGB")
// does for the modes our decoders produce: gray is replicated, palette
// entries are looked up, alpha is dropped (colour channels are taken
// un-premultiplied, not composited on any background), 16-bit channels keep
// their high byte, and 16-bit gray is clipped to 255 like PIL's "I" -> "RGB".
func FromImage(src stdimage.Image) (*Image, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: nil image", ErrInvalidSource)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %dx%d", ErrBadSize, w, h)
	}
	out := make([]uint8, w*h*3)
	switch s := src.(type) {
	case *stdimage.NRGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *stdimage.RGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				r, g, bl, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
				if a != 0xff {
					c := color.NRGBAModel.Convert(color.RGBA{r, g, bl, a}).(color.NRGBA)
					r, g, bl = c.R, c.G, c.B
				}
				o[3*x], o[3*x+1], o[3*x+2] = r, g, bl
			}
		}
	case *stdimage.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				v := row[x]
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *stdimage.Gray16:
		for y := 0; y < h; y++ {
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				v := s.Gray16At(b.Min.X+x, b.Min.Y+y).Y
				c := uint8(min(v, 255))
				o[3*x], o[3*x+1], o[3*x+2] = c, c, c
			}
		}
	case *stdimage.Paletted:
		var lut [256][3]uint8
		for i, c := range s.Palette {
			if i >= 256 {
				break
			}
			lut[i] = unpremultiplied(c)
		}
		for y := 0; y < h; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				c := lut[row[x]]
				o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
			}
		}
	case *stdimage.YCbCr:
		ycbcrToRGB(s, out)
	case *stdimage.NYCbCrA:
		ycbcrToRGB(&s.YCbCr, out)
	default:
		for y := 0; y < h; y++ {
			o := out[y*w*3:]
			for x := 0; x < w; x++ {
				c := unpremultiplied(src.At(b.Min.X+x, b.Min.Y+y))
				o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
			}
		}
	}
	return NewRGB(w, h, out)
}

// unpremultiplied returns the 8-bit straight-alpha colour channels of c.
func unpremultiplied(c color.Color) [3]uint8 {
	switch v := c.(type) {
	case color.NRGBA:
		return [3]uint8{v.R, v.G, v.B}
	case color.NRGBA64:
		return [3]uint8{uint8(v.R >> 8), uint8(v.G >> 8), uint8(v.B >> 8)}
	case color.Gray:
		return [3]uint8{v.Y, v.Y, v.Y}
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return [3]uint8{uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)}
}

// ycbcrToRGB converts with the JFIF equations (color.YCbCrToRGB), sampling
// chroma at the nearest position for subsampled planes.
func ycbcrToRGB(s *stdimage.YCbCr, out []uint8) {
	b := s.Rect
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		o := out[(y-b.Min.Y)*w*3:]
		yi := s.YOffset(b.Min.X, y)
		for x := b.Min.X; x < b.Max.X; x++ {
			ci := s.COffset(x, y)
			r, g, bl := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			i := 3 * (x - b.Min.X)
			o[i], o[i+1], o[i+2] = r, g, bl
			yi++
		}
	}
}
