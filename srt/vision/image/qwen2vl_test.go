package image

import (
	"errors"
	"math"
	"testing"
)

func TestSmartResize(t *testing.T) {
	const f, lo, hi = 28, 56 * 56, 28 * 28 * 1280
	cases := []struct {
		h, w, min, max int
		wh, ww         int
		err            error
	}{
		{380, 570, lo, 12845056, 392, 560, nil}, // 13.57->14, 20.36->20
		{1, 1, lo, hi, 56, 56, nil},             // rounds to 0, grows to min_pixels
		{20, 3000, lo, hi, 28, 2996, nil},
		{42, 56, lo, hi, 56, 56, nil},       // 1.5 rounds half to even: 2
		{70, 56, lo, hi, 56, 56, nil},       // 2.5 rounds half to even: 2
		{1, 200, lo, hi, 28, 812, nil},      // ratio exactly 200 is allowed
		{2000, 2000, lo, hi, 980, 980, nil}, // shrink: floor(35.78)*28
		{448, 448, lo, hi, 448, 448, nil},   // already aligned
		{1080, 1920, lo, 12845056, 1092, 1932, nil},
		{1, 201, lo, hi, 0, 0, ErrBadSize},
		{0, 10, lo, hi, 0, 0, ErrBadSize},
	}
	for _, c := range cases {
		h, w, err := SmartResize(c.h, c.w, f, c.min, c.max)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("SmartResize(%d,%d) err = %v, want %v", c.h, c.w, err, c.err)
			}
			continue
		}
		if err != nil || h != c.wh || w != c.ww {
			t.Errorf("SmartResize(%d,%d) = %d,%d,%v; want %d,%d", c.h, c.w, h, w, err, c.wh, c.ww)
		}
		if h%f != 0 || w%f != 0 {
			t.Errorf("SmartResize(%d,%d) = %d,%d not multiples of %d", c.h, c.w, h, w, f)
		}
	}
}

// permute is a literal N-d transpose (numpy's reshape + transpose), used to
// check the patch order independently of patchify's loops.
func permute(src []float32, shape, perm []int) []float32 {
	n := len(shape)
	strides := make([]int, n)
	s := 1
	for i := n - 1; i >= 0; i-- {
		strides[i] = s
		s *= shape[i]
	}
	outShape := make([]int, n)
	for i, p := range perm {
		outShape[i] = shape[p]
	}
	out := make([]float32, len(src))
	idx := make([]int, n)
	for o := range out {
		off := 0
		for i := range idx {
			off += idx[i] * strides[perm[i]]
		}
		out[o] = src[off]
		for i := n - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < outShape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

func TestPatchOrderMatchesHFPermute(t *testing.T) {
	const W, H = 84, 56
	rgb := make([]uint8, W*H*3)
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			for c := 0; c < 3; c++ {
				rgb[(y*W+x)*3+c] = uint8((x*3 + y*5 + c*7 + x*y) % 256)
			}
		}
	}
	img, err := NewRGB(W, H, rgb)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultQwen2VLConfig()
	cfg.DoRescale, cfg.DoNormalize = false, false
	p, err := NewQwen2VL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Preprocess(img)
	if err != nil {
		t.Fatal(err)
	}
	// frames (T, C, H, W) = the CHW image repeated twice.
	const T, ps, m = 2, 14, 2
	gh, gw := H/ps, W/ps
	frames := make([]float32, 0, T*3*H*W)
	for tt := 0; tt < T; tt++ {
		for c := 0; c < 3; c++ {
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					frames = append(frames, float32(rgb[(y*W+x)*3+c]))
				}
			}
		}
	}
	want := permute(frames, []int{1, T, 3, gh / m, m, ps, gw / m, m, ps}, []int{0, 3, 6, 4, 7, 2, 1, 5, 8})
	if out.GridTHW != [3]int{1, gh, gw} || out.Rows != gh*gw || out.Dim != 3*T*ps*ps || out.NumTokens != gh*gw/4 {
		t.Fatalf("shape: grid %v rows %d dim %d tokens %d", out.GridTHW, out.Rows, out.Dim, out.NumTokens)
	}
	for i := range want {
		if out.PixelValues[i] != want[i] {
			t.Fatalf("value %d (row %d col %d) = %v, want %v", i, i/out.Dim, i%out.Dim, out.PixelValues[i], want[i])
		}
	}
}

func TestNormalizeMatchesFloat32Formula(t *testing.T) {
	p, err := NewQwen2VL(DefaultQwen2VLConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ch   int
		v    int
		want float64
	}{
		{0, 0, -0.48145466 / 0.26862954},
		{0, 255, (1 - 0.48145466) / 0.26862954},
		{1, 128, (128.0/255 - 0.4578275) / 0.26130258},
		{2, 17, (17.0/255 - 0.40821073) / 0.27577711},
	} {
		if got := float64(p.lut[c.ch][c.v]); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("channel %d value %d -> %v, want %v", c.ch, c.v, got, c.want)
		}
	}
}

func TestNumTokensAndConfigErrors(t *testing.T) {
	p, err := NewQwen2VL(DefaultQwen2VLConfig())
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.NumTokens(380, 570)
	if err != nil || n != (392/28)*(560/28) {
		t.Fatalf("NumTokens = %d, %v", n, err)
	}
	if _, err := p.Preprocess(nil); !errors.Is(err, ErrBadSize) {
		t.Errorf("nil image: %v", err)
	}
	for _, mod := range []func(*Qwen2VLConfig){
		func(c *Qwen2VLConfig) { c.PatchSize = 0 },
		func(c *Qwen2VLConfig) { c.MergeSize = -1 },
		func(c *Qwen2VLConfig) { c.TemporalPatchSize = 0 },
		func(c *Qwen2VLConfig) { c.MinPixels, c.MaxPixels = 10, 5 },
		func(c *Qwen2VLConfig) { c.ImageStd[1] = 0 },
	} {
		cfg := DefaultQwen2VLConfig()
		mod(&cfg)
		if _, err := NewQwen2VL(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("config %+v: err = %v", cfg, err)
		}
	}
	cfg := DefaultQwen2VLConfig()
	cfg.DoResize = false
	p2, _ := NewQwen2VL(cfg)
	if _, _, err := p2.TargetSize(30, 56); !errors.Is(err, ErrBadSize) {
		t.Errorf("unaligned without resize: %v", err)
	}
}

func TestParseQwen2VLConfig(t *testing.T) {
	// The shape of Qwen2-VL-7B-Instruct's preprocessor_config.json.
	instruct := `{
  "min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
  "temporal_patch_size": 2, "merge_size": 2,
  "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_std": [0.26862954, 0.26130258, 0.27577711],
  "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"}`
	cases := []struct {
		name string
		json string
		want func(Qwen2VLConfig) bool
		err  error
	}{
		{"instruct", instruct, func(c Qwen2VLConfig) bool {
			return c.MinPixels == 3136 && c.MaxPixels == 12845056 && c.PatchSize == 14 && c.ImageStd == CLIPStd
		}, nil},
		{"size edges", `{"size": {"shortest_edge": 1000, "longest_edge": 200000}}`, func(c Qwen2VLConfig) bool {
			return c.MinPixels == 1000 && c.MaxPixels == 200000
		}, nil},
		{"top level wins over size", `{"size": {"shortest_edge": 1000, "longest_edge": 200000}, "max_pixels": 300000}`, func(c Qwen2VLConfig) bool {
			return c.MinPixels == 1000 && c.MaxPixels == 300000
		}, nil},
		{"scalar mean", `{"image_mean": 0.5, "image_std": 0.5, "do_normalize": true}`, func(c Qwen2VLConfig) bool {
			return c.ImageMean == [3]float64{0.5, 0.5, 0.5}
		}, nil},
		{"empty uses defaults", `{}`, func(c Qwen2VLConfig) bool { return c == DefaultQwen2VLConfig() }, nil},
		{"bad json", `{`, nil, ErrInvalidConfig},
		{"fractional patch", `{"patch_size": 14.5}`, nil, ErrInvalidConfig},
		{"two means", `{"image_mean": [0.1, 0.2]}`, nil, ErrInvalidConfig},
		{"bilinear", `{"resample": 2}`, nil, ErrInvalidConfig},
		{"min over max", `{"min_pixels": 10, "max_pixels": 5}`, nil, ErrInvalidConfig},
	}
	for _, c := range cases {
		cfg, err := ParseQwen2VLConfig([]byte(c.json))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !c.want(cfg) {
			t.Errorf("%s: cfg = %+v, err = %v", c.name, cfg, err)
		}
	}
	if _, err := LoadQwen2VLConfig("testdata/does-not-exist.json"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPreprocessBatchConcatenates(t *testing.T) {
	p, err := NewQwen2VL(DefaultQwen2VLConfig())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := FromImage(synthImage("rgb", 57, 131, 1))
	b, _ := FromImage(synthImage("gray", 13, 9, 4))
	one, _ := p.Preprocess(a)
	two, _ := p.Preprocess(b)
	batch, err := p.PreprocessBatch([]*Image{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Rows != one.Rows+two.Rows || len(batch.GridTHW) != 2 || batch.GridTHW[1] != two.GridTHW ||
		batch.NumTokens[0] != one.NumTokens || len(batch.PixelValues) != batch.Rows*batch.Dim {
		t.Fatalf("batch shape: rows %d grids %v tokens %v", batch.Rows, batch.GridTHW, batch.NumTokens)
	}
	for i, v := range two.PixelValues {
		if batch.PixelValues[len(one.PixelValues)+i] != v {
			t.Fatalf("second image value %d differs", i)
		}
	}
	if _, err := p.PreprocessBatch([]*Image{a, nil}); !errors.Is(err, ErrBadSize) {
		t.Fatalf("nil in batch: %v", err)
	}
}
