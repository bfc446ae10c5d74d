package image

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	stdimage "image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

// The goldens come from testdata/make_golden.py (PIL + numpy re-implementation
// of Qwen2VLImageProcessor). Regenerate with
//
//	/usr/bin/python3 testdata/make_golden.py /work/shared/images

type goldenCase struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Synth *struct {
		Kind string `json:"kind"`
		W    int    `json:"w"`
		H    int    `json:"h"`
		Seed int    `json:"seed"`
	} `json:"synth"`
	MinPixels     int     `json:"min_pixels"`
	MaxPixels     int     `json:"max_pixels"`
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	DecodedSHA256 string  `json:"decoded_sha256"`
	ResizedWidth  int     `json:"resized_width"`
	ResizedHeight int     `json:"resized_height"`
	ResizedSHA256 string  `json:"resized_sha256"`
	GridTHW       [3]int  `json:"grid_thw"`
	NumTokens     int     `json:"num_tokens"`
	Rows          int     `json:"rows"`
	Dim           int     `json:"dim"`
	Sum           float64 `json:"sum"`
	AbsSum        float64 `json:"abs_sum"`
	SampleRows    []int   `json:"sample_rows"`
	SampleOffset  int     `json:"sample_offset"`
}

type goldenIndex struct {
	Cases []goldenCase `json:"cases"`
}

func loadGolden(t testing.TB) (goldenIndex, []float32) {
	t.Helper()
	var idx goldenIndex
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "golden.bin"))
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, len(raw)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return idx, vals
}

// synthImage mirrors synth() in testdata/make_golden.py.
func synthImage(kind string, w, h, seed int) stdimage.Image {
	val := func(x, y, c int) uint8 {
		var smooth int
		switch c {
		case 0:
			smooth = x * 255 / max(w-1, 1)
		case 1:
			smooth = y * 255 / max(h-1, 1)
		case 2:
			smooth = (x + y) * 255 / max(w+h-2, 1)
		default:
			smooth = 255 - (x*7+y*3)%256
		}
		noise := ((int64(x) * 73856093) ^ (int64(y) * 19349663) ^ (int64(c+seed) * 83492791)) % 97 * 255 / 96
		if (x/8+y/8)%3 == 0 {
			return uint8(noise)
		}
		return uint8(smooth)
	}
	r := stdimage.Rect(0, 0, w, h)
	switch kind {
	case "gray":
		g := stdimage.NewGray(r)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.Pix[y*g.Stride+x] = val(x, y, 0)
			}
		}
		return g
	case "rgba":
		n := stdimage.NewNRGBA(r)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for c := 0; c < 4; c++ {
					n.Pix[y*n.Stride+4*x+c] = val(x, y, c)
				}
			}
		}
		return n
	}
	m := stdimage.NewRGBA(r)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				m.Pix[y*m.Stride+4*x+c] = val(x, y, c)
			}
			m.Pix[y*m.Stride+4*x+3] = 255
		}
	}
	return m
}

// lossyDecoders lists formats whose Go decoder is not bit-identical to PIL's
// (libjpeg-turbo's IDCT and fancy chroma upsampling, libwebp's YUV->RGB).
var lossyDecoders = map[string]bool{"jpeg": true, "webp-lossy": true}

func TestQwen2VLGolden(t *testing.T) {
	idx, vals := loadGolden(t)
	if len(idx.Cases) < 8 {
		t.Fatalf("golden index has %d cases, want >= 8", len(idx.Cases))
	}
	for _, gc := range idx.Cases {
		t.Run(gc.Name, func(t *testing.T) {
			var img *Image
			var err error
			if gc.Synth != nil {
				img, err = FromImage(synthImage(gc.Synth.Kind, gc.Synth.W, gc.Synth.H, gc.Synth.Seed))
			} else {
				var data []byte
				data, err = os.ReadFile(shared.Path(t, "images", gc.File))
				if err != nil {
					t.Fatal(err)
				}
				img, err = Decode(data, Limits{})
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.W != gc.Width || img.H != gc.Height {
				t.Fatalf("decoded %dx%d, golden %dx%d", img.W, img.H, gc.Width, gc.Height)
			}
			exact := hex.EncodeToString(img.Hash[:]) == gc.DecodedSHA256
			kind := img.Format
			if kind == "webp" && gc.File != "" && filepath.Base(gc.File) == "synthetic-lossy-320x240.webp" {
				kind = "webp-lossy"
			}
			if !exact && !lossyDecoders[kind] {
				t.Fatalf("decoded pixels differ from PIL's convert(\"RGB\") for a lossless %q image", img.Format)
			}
			cfg := DefaultQwen2VLConfig()
			cfg.MinPixels, cfg.MaxPixels = gc.MinPixels, gc.MaxPixels
			p, err := NewQwen2VL(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Resize(img)
			if err != nil {
				t.Fatal(err)
			}
			if r.W != gc.ResizedWidth || r.H != gc.ResizedHeight {
				t.Fatalf("resized to %dx%d, golden %dx%d", r.W, r.H, gc.ResizedWidth, gc.ResizedHeight)
			}
			if exact && hex.EncodeToString(r.Hash[:]) != gc.ResizedSHA256 {
				t.Errorf("bicubic resize differs from PIL's")
			}
			out, err := p.Preprocess(img)
			if err != nil {
				t.Fatal(err)
			}
			if out.GridTHW != gc.GridTHW || out.Rows != gc.Rows || out.Dim != gc.Dim || out.NumTokens != gc.NumTokens {
				t.Fatalf("grid %v rows %d dim %d tokens %d; golden grid %v rows %d dim %d tokens %d",
					out.GridTHW, out.Rows, out.Dim, out.NumTokens, gc.GridTHW, gc.Rows, gc.Dim, gc.NumTokens)
			}
			if want := (gc.ResizedHeight / 28) * (gc.ResizedWidth / 28); out.NumTokens != want {
				t.Errorf("NumTokens = %d, want (h/28)*(w/28) = %d", out.NumTokens, want)
			}
			// Tolerances: exact decodes must match to 1e-5 per value. JPEG
			// differs from libjpeg-turbo by the IDCT (+-1..3 levels on a few
			// pixels; one level is ~0.015 after normalisation).
			tol, meanTol := 1e-5, 1e-6
			if !exact {
				tol, meanTol = 0.1, 0.002
			}
			var sum, absDiff, maxDiff float64
			for _, v := range out.PixelValues {
				sum += float64(v)
			}
			n := 0
			for i, row := range gc.SampleRows {
				want := vals[gc.SampleOffset+i*gc.Dim : gc.SampleOffset+(i+1)*gc.Dim]
				got := out.PixelValues[row*out.Dim : (row+1)*out.Dim]
				for j := range want {
					d := math.Abs(float64(got[j]) - float64(want[j]))
					absDiff += d
					maxDiff = max(maxDiff, d)
					n++
				}
			}
			if maxDiff > tol {
				t.Errorf("sampled rows: max |diff| = %g > %g", maxDiff, tol)
			}
			if mean := absDiff / float64(n); mean > meanTol {
				t.Errorf("sampled rows: mean |diff| = %g > %g (max %g)", mean, meanTol, maxDiff)
			}
			if d := math.Abs(sum-gc.Sum) / float64(len(out.PixelValues)); d > meanTol {
				t.Errorf("sum = %.6f, golden %.6f (per-value drift %g)", sum, gc.Sum, d)
			}
			if !exact {
				t.Logf("%s decoder differs from PIL: sampled max |diff| %.4f, mean %.5f", img.Format, maxDiff, absDiff/float64(n))
			}
		})
	}
}
