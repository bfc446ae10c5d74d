package image

import (
	"bytes"
	"fmt"
	stdimage "image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Default limits used when the corresponding Options field is zero.
const (
	DefaultMaxBytes  = 20 << 20   // 20 MiB of encoded data
	DefaultMaxPixels = 40_000_000 // 40 megapixels after decoding
)

// Limits bounds what Decode accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes  int64 // encoded size limit (default DefaultMaxBytes)
	MaxPixels int64 // width*height limit (default DefaultMaxPixels)
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels > 0 {
		return l.MaxPixels
	}
	return DefaultMaxPixels
}

// Sniff names the format of data from its first bytes: "png", "jpeg", "gif"
// and "webp" are supported; other recognised formats ("bmp", "tiff", "svg",
// "ico", "heif/avif", "psd", "jpeg2000", "qoi") are named so errors can say
// what was sent; "" means unknown.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return "tiff"
	case bytes.HasPrefix(data, []byte("\x00\x00\x01\x00")):
		return "ico"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return "heif/avif"
	case bytes.HasPrefix(data, []byte("8BPS")):
		return "psd"
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")), bytes.HasPrefix(data, []byte("\xff\x4f\xff\x51")):
		return "jpeg2000"
	case bytes.HasPrefix(data, []byte("qoif")):
		return "qoi"
	}
	t := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n\ufeff")
	if bytes.HasPrefix(t, []byte("<svg")) || bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<!DOCTYPE svg")) {
		return "svg"
	}
	return ""
}

// Decode decodes PNG, JPEG, GIF (first frame) or WEBP bytes into RGB. The
// format is sniffed from the content. The header's dimensions are checked
// against lim before any pixel is decoded.
func Decode(data []byte, lim Limits) (*Image, error) {
	if int64(len(data)) > lim.maxBytes() {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrTooLarge, len(data), lim.maxBytes())
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty image data", ErrCorrupt)
	}
	format := Sniff(data)
	var decodeConfig func([]byte) (stdimage.Config, error)
	var decode func([]byte) (stdimage.Image, error)
	switch format {
	case "png":
		decodeConfig = func(b []byte) (stdimage.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (stdimage.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case "jpeg":
		decodeConfig = func(b []byte) (stdimage.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (stdimage.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case "gif":
		decodeConfig = func(b []byte) (stdimage.Config, error) { return gif.DecodeConfig(bytes.NewReader(b)) }
		decode = decodeGIFFirstFrame
	case "webp":
		decodeConfig = func(b []byte) (stdimage.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) }
		decode = func(b []byte) (stdimage.Image, error) { return webp.Decode(bytes.NewReader(b)) }
	case "":
		return nil, fmt.Errorf("%w: unrecognised data (want PNG, JPEG, GIF or WEBP)", ErrUnsupportedFormat)
	default:
		return nil, fmt.Errorf("%w: %s (want PNG, JPEG, GIF or WEBP)", ErrUnsupportedFormat, format)
	}
	cfg, err := decodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrCorrupt, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s header says %dx%d", ErrCorrupt, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels() {
		return nil, fmt.Errorf("%w: %dx%d = %d pixels exceeds the %d-pixel limit", ErrTooLarge, cfg.Width, cfg.Height, px, lim.maxPixels())
	}
	img, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// A GIF frame smaller than the logical screen is placed on a canvas of
		// the screen's size; anything else is inconsistent data.
		if format != "gif" {
			return nil, fmt.Errorf("%w: %s decoded to %dx%d but the header says %dx%d", ErrCorrupt, format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
		}
	}
	var out *Image
	if ycc := webpYCbCr(format, img); ycc != nil {
		rgb := make([]uint8, ycc.Rect.Dx()*ycc.Rect.Dy()*3)
		if webpToRGB(ycc, rgb) {
			out, err = NewRGB(ycc.Rect.Dx(), ycc.Rect.Dy(), rgb)
		} else {
			out, err = FromImage(img)
		}
	} else if ycc, ok := img.(*stdimage.YCbCr); ok && format == "jpeg" {
		rgb := make([]uint8, ycc.Rect.Dx()*ycc.Rect.Dy()*3)
		if jpegToRGB(ycc, rgb) {
			out, err = NewRGB(ycc.Rect.Dx(), ycc.Rect.Dy(), rgb)
		} else {
			out, err = FromImage(img)
		}
	} else {
		out, err = FromImage(img)
	}
	if err != nil {
		return nil, err
	}
	out.Format = format
	return out, nil
}

// decodeGIFFirstFrame returns the first frame on a canvas of the logical
// screen's size (PIL's frame 0), unfilled areas black.
func decodeGIFFirstFrame(b []byte) (stdimage.Image, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	frame, err := gif.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	screen := stdimage.Rect(0, 0, cfg.Width, cfg.Height)
	if frame.Bounds() == screen {
		return frame, nil
	}
	canvas := stdimage.NewNRGBA(screen)
	draw.Draw(canvas, screen.Intersect(frame.Bounds()), frame, frame.Bounds().Min, draw.Src)
	return canvas, nil
}

// webpYCbCr returns the YUV planes of a lossy WEBP, or nil.
func webpYCbCr(format string, img stdimage.Image) *stdimage.YCbCr {
	if format != "webp" {
		return nil
	}
	switch v := img.(type) {
	case *stdimage.YCbCr:
		return v
	case *stdimage.NYCbCrA:
		return &v.YCbCr
	}
	return nil
}
