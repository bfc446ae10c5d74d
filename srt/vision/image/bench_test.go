package image

import (
	"os"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func benchImage(b *testing.B, w, h int) *Image {
	img, err := FromImage(synthImage("rgb", w, h, 1))
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func benchPreprocess(b *testing.B, w, h int) {
	img := benchImage(b, w, h)
	cfg := DefaultQwen2VLConfig()
	cfg.MaxPixels = 12845056
	p, err := NewQwen2VL(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(img.RGB)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Preprocess(img); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPreprocess448(b *testing.B)   { benchPreprocess(b, 448, 448) }
func BenchmarkPreprocess1080p(b *testing.B) { benchPreprocess(b, 1920, 1080) }

func BenchmarkResize1080pTo448(b *testing.B) {
	img := benchImage(b, 1920, 1080)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ResizeBicubic(img, 448, 448); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJPEG640(b *testing.B) {
	data, err := os.ReadFile(shared.Path(b, "images", "llamacpp-mtmd-test-1.jpeg"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
