package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	stdimage "image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func encodePNG(t testing.TB, m stdimage.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeConvertsLikePIL(t *testing.T) {
	nrgba := stdimage.NewNRGBA(stdimage.Rect(0, 0, 2, 1))
	nrgba.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0}) // fully transparent: colour kept, not composited
	nrgba.SetNRGBA(1, 0, color.NRGBA{10, 20, 30, 128})
	g16 := stdimage.NewGray16(stdimage.Rect(0, 0, 3, 1))
	g16.SetGray16(0, 0, color.Gray16{100})
	g16.SetGray16(1, 0, color.Gray16{1000}) // PIL "I" -> "RGB" clips to 255
	g16.SetGray16(2, 0, color.Gray16{65535})
	rgb64 := stdimage.NewNRGBA64(stdimage.Rect(0, 0, 1, 1))
	rgb64.SetNRGBA64(0, 0, color.NRGBA64{0x1234, 0xabcd, 0xff00, 0x8000})
	pal := stdimage.NewPaletted(stdimage.Rect(0, 0, 2, 1), color.Palette{color.RGBA{1, 2, 3, 255}, color.NRGBA{40, 50, 60, 0}})
	pal.SetColorIndex(1, 0, 1)
	gray := stdimage.NewGray(stdimage.Rect(0, 0, 1, 1))
	gray.SetGray(0, 0, color.Gray{77})
	cases := []struct {
		name string
		img  stdimage.Image
		want []uint8
	}{
		{"rgba drops alpha", nrgba, []uint8{200, 100, 50, 10, 20, 30}},
		{"gray16 clips", g16, []uint8{100, 100, 100, 255, 255, 255, 255, 255, 255}},
		{"rgba64 high byte", rgb64, []uint8{0x12, 0xab, 0xff}},
		{"palette with transparent entry", pal, []uint8{1, 2, 3, 40, 50, 60}},
		{"gray replicated", gray, []uint8{77, 77, 77}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im, err := Decode(encodePNG(t, c.img), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(im.RGB, c.want) || im.Format != "png" {
				t.Fatalf("RGB = %v (%s), want %v", im.RGB, im.Format, c.want)
			}
		})
	}
}

func TestDecodeGIFFirstFrame(t *testing.T) {
	p := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	f1 := stdimage.NewPaletted(stdimage.Rect(2, 1, 4, 3), p) // smaller than the screen
	f2 := stdimage.NewPaletted(stdimage.Rect(0, 0, 5, 4), p)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{Image: []*stdimage.Paletted{f1, f2}, Delay: []int{0, 0},
		Config: stdimage.Config{Width: 5, Height: 4, ColorModel: p}})
	if err != nil {
		t.Fatal(err)
	}
	im, err := Decode(b.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if im.W != 5 || im.H != 4 || im.Format != "gif" {
		t.Fatalf("got %dx%d %s", im.W, im.H, im.Format)
	}
	at := func(x, y int) [3]uint8 { i := (y*5 + x) * 3; return [3]uint8{im.RGB[i], im.RGB[i+1], im.RGB[i+2]} }
	if at(2, 1) != [3]uint8{255, 0, 0} || at(0, 0) != [3]uint8{0, 0, 0} {
		t.Fatalf("first frame not placed on the canvas: %v %v", at(2, 1), at(0, 0))
	}
}

// pngWithSize rewrites a PNG's IHDR dimensions (fixing the CRC), giving a
// header that promises far more pixels than the data holds.
func pngWithSize(t testing.TB, w, h uint32) []byte {
	b := encodePNG(t, stdimage.NewGray(stdimage.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeLimitsAndErrors(t *testing.T) {
	jpegData, err := os.ReadFile(shared.Path(t, "images", "llamacpp-mtmd-test-1.jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	webpData, err := os.ReadFile(shared.Path(t, "images", "synthetic-lossy-320x240.webp"))
	if err != nil {
		t.Fatal(err)
	}
	small := encodePNG(t, stdimage.NewGray(stdimage.Rect(0, 0, 8, 8)))
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"bomb header", pngWithSize(t, 100000, 100000), Limits{}, ErrTooLarge},
		{"pixels over custom limit", small, Limits{MaxPixels: 63}, ErrTooLarge},
		{"bytes over limit", small, Limits{MaxBytes: int64(len(small) - 1)}, ErrTooLarge},
		{"empty", nil, Limits{}, ErrCorrupt},
		{"truncated jpeg", jpegData[:len(jpegData)/3], Limits{}, ErrCorrupt},
		{"jpeg header only", jpegData[:20], Limits{}, ErrCorrupt},
		{"truncated webp", webpData[:200], Limits{}, ErrCorrupt},
		{"zero-size png", pngWithSize(t, 0, 5), Limits{}, ErrCorrupt},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), Limits{}, ErrUnsupportedFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decode(c.data, c.lim); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestHashDependsOnPixelsAndSize(t *testing.T) {
	a, _ := NewRGB(2, 1, []uint8{1, 2, 3, 4, 5, 6})
	b, _ := NewRGB(1, 2, []uint8{1, 2, 3, 4, 5, 6})
	c, _ := NewRGB(2, 1, []uint8{1, 2, 3, 4, 5, 7})
	d, _ := NewRGB(2, 1, []uint8{1, 2, 3, 4, 5, 6})
	if a.Hash == b.Hash || a.Hash == c.Hash || a.Hash != d.Hash {
		t.Fatal("hash must depend on size and pixels only")
	}
	if _, err := NewRGB(2, 2, make([]uint8, 5)); !errors.Is(err, ErrBadSize) {
		t.Fatalf("short buffer: %v", err)
	}
}
