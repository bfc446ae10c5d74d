package image

import (
	"context"
	"encoding/base64"
	"errors"
	stdimage "image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func FuzzParseDataURL(f *testing.F) {
	f.Add("data:image/png;base64,iVBORw0KGgo=")
	f.Add("data:;base64,")
	f.Add("data:image/png;base64,AAAA====")
	f.Add("data:text/plain,hello")
	f.Add("data:image/png;base64,-_-_\n AA")
	f.Fuzz(func(t *testing.T, s string) {
		const max = 1 << 12
		b, err := ParseDataURL(s, max)
		if err != nil {
			if !errors.Is(err, ErrInvalidSource) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(b) > max {
			t.Fatalf("decoded %d bytes over the %d limit", len(b), max)
		}
	})
}

func FuzzLoadInline(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n")))
	f.Add("/9j/4AAQ")
	f.Add("file:///etc/passwd")
	f.Add("./x.png")
	f.Add("gopher://x")
	l := NewLoader(Options{MaxBytes: 1 << 12, MaxPixels: 1 << 16})
	f.Fuzz(func(t *testing.T, s string) {
		if low := strings.ToLower(strings.TrimSpace(s)); strings.HasPrefix(low, "http") {
			return // no network in fuzzing
		}
		im, err := l.Load(context.Background(), s)
		if err == nil && (im.W*im.H > 1<<16 || len(im.RGB) != im.W*im.H*3) {
			t.Fatalf("limits not enforced: %dx%d", im.W, im.H)
		}
	})
}

func FuzzDecode(f *testing.F) {
	if root, ok := shared.Root(); ok {
		for _, name := range []string{"synthetic-1x1.png", "synthetic-animated-96x64.gif", "synthetic-lossless-320x240.webp", "synthetic-gray-64x48.png"} {
			if b, err := os.ReadFile(filepath.Join(root, "images", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add(encodePNG(f, stdimage.NewGray(stdimage.Rect(0, 0, 3, 2))))
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 18}
		im, err := Decode(data, lim)
		if err != nil {
			return
		}
		if int64(im.W)*int64(im.H) > lim.MaxPixels || len(im.RGB) != im.W*im.H*3 {
			t.Fatalf("bad image %dx%d len %d", im.W, im.H, len(im.RGB))
		}
	})
}

func FuzzParseQwen2VLConfig(f *testing.F) {
	f.Add([]byte(`{"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14}`))
	f.Add([]byte(`{"size": {"shortest_edge": 1, "longest_edge": 2}, "image_mean": 0.5}`))
	f.Add([]byte(`{"merge_size": 0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseQwen2VLConfig(data)
		if err != nil {
			return
		}
		p, err := NewQwen2VL(cfg)
		if err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		// Small images must not panic under any accepted config.
		if cfg.PatchSize*cfg.MergeSize <= 64 && cfg.MaxPixels <= 1<<16 {
			img, _ := NewRGB(3, 2, make([]uint8, 18))
			_, _ = p.Preprocess(img)
		}
	})
}
