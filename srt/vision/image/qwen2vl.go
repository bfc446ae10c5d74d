package image

import (
	"fmt"
	"math"
)

// CLIP normalisation constants (transformers' OPENAI_CLIP_MEAN / _STD).
var (
	CLIPMean = [3]float64{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float64{0.26862954, 0.26130258, 0.27577711}
)

// Qwen2VLConfig holds the Qwen2VLImageProcessor settings (Qwen2.5-VL uses
// the same processor). DefaultQwen2VLConfig gives transformers' defaults;
// ParseQwen2VLConfig reads a model's preprocessor_config.json.
type Qwen2VLConfig struct {
	MinPixels         int
	MaxPixels         int
	PatchSize         int
	TemporalPatchSize int
	MergeSize         int
	ImageMean         [3]float64
	ImageStd          [3]float64
	RescaleFactor     float64
	DoResize          bool
	DoRescale         bool
	DoNormalize       bool
}

// DefaultQwen2VLConfig returns the processor's constructor defaults
// (min_pixels 56*56, max_pixels 28*28*1280, patch 14, temporal patch 2,
// merge 2, CLIP mean/std, rescale 1/255). Real checkpoints usually override
// max_pixels (Qwen2-VL-*-Instruct ships 12845056).
func DefaultQwen2VLConfig() Qwen2VLConfig {
	return Qwen2VLConfig{
		MinPixels:         56 * 56,
		MaxPixels:         28 * 28 * 1280,
		PatchSize:         14,
		TemporalPatchSize: 2,
		MergeSize:         2,
		ImageMean:         CLIPMean,
		ImageStd:          CLIPStd,
		RescaleFactor:     1.0 / 255,
		DoResize:          true,
		DoRescale:         true,
		DoNormalize:       true,
	}
}

// Validate checks that the configuration can be used.
func (c Qwen2VLConfig) Validate() error {
	switch {
	case c.PatchSize <= 0 || c.PatchSize > 1024:
		return fmt.Errorf("%w: patch_size %d", ErrInvalidConfig, c.PatchSize)
	case c.TemporalPatchSize <= 0 || c.TemporalPatchSize > 64:
		return fmt.Errorf("%w: temporal_patch_size %d", ErrInvalidConfig, c.TemporalPatchSize)
	case c.MergeSize <= 0 || c.MergeSize > 64:
		return fmt.Errorf("%w: merge_size %d", ErrInvalidConfig, c.MergeSize)
	case c.MinPixels < 0 || c.MaxPixels <= 0 || c.MinPixels > c.MaxPixels:
		return fmt.Errorf("%w: min_pixels %d / max_pixels %d", ErrInvalidConfig, c.MinPixels, c.MaxPixels)
	}
	for i, s := range c.ImageStd {
		if c.DoNormalize && (s == 0 || math.IsNaN(s) || math.IsInf(s, 0)) {
			return fmt.Errorf("%w: image_std[%d] = %v", ErrInvalidConfig, i, s)
		}
	}
	return nil
}

// Factor is the size granularity of resized images: patch_size*merge_size.
func (c Qwen2VLConfig) Factor() int { return c.PatchSize * c.MergeSize }

// SmartResize is transformers' smart_resize: round height and width to
// multiples of factor (half to even, like Python's round), then scale both
// (keeping the aspect ratio) into [minPixels, maxPixels], flooring when
// shrinking and ceiling when growing. Aspect ratios above 200 are refused.
// It returns the new height and width.
func SmartResize(height, width, factor, minPixels, maxPixels int) (int, int, error) {
	if height <= 0 || width <= 0 || factor <= 0 {
		return 0, 0, fmt.Errorf("%w: %dx%d with factor %d", ErrBadSize, width, height, factor)
	}
	h, w, f := float64(height), float64(width), float64(factor)
	if r := math.Max(h, w) / math.Min(h, w); r > 200 {
		return 0, 0, fmt.Errorf("%w: aspect ratio of %dx%d is %.1f, must be at most 200", ErrBadSize, width, height, r)
	}
	hBar := int(math.RoundToEven(h/f)) * factor
	wBar := int(math.RoundToEven(w/f)) * factor
	if int64(hBar)*int64(wBar) > int64(maxPixels) {
		beta := math.Sqrt(h * w / float64(maxPixels))
		hBar = max(factor, int(math.Floor(h/beta/f))*factor)
		wBar = max(factor, int(math.Floor(w/beta/f))*factor)
	} else if int64(hBar)*int64(wBar) < int64(minPixels) {
		beta := math.Sqrt(float64(minPixels) / (h * w))
		hBar = int(math.Ceil(h*beta/f)) * factor
		wBar = int(math.Ceil(w*beta/f)) * factor
	}
	if hBar <= 0 || wBar <= 0 {
		return 0, 0, fmt.Errorf("%w: %dx%d resizes to %dx%d", ErrBadSize, width, height, wBar, hBar)
	}
	return hBar, wBar, nil
}

// Qwen2VLInput is one image's processor output.
type Qwen2VLInput struct {
	// PixelValues is row-major [Rows][Dim]: Rows = t*h*w patches in
	// merge-window order, Dim = 3*temporal_patch_size*patch_size^2 ordered
	// (channel, frame, row, column) within a patch.
	PixelValues []float32
	Rows, Dim   int
	// GridTHW is image_grid_thw: [1, resized_h/patch, resized_w/patch].
	GridTHW [3]int
	// ResizedW and ResizedH are the size after smart_resize.
	ResizedW, ResizedH int
	// NumTokens is the number of image tokens after the merger:
	// t*h*w / merge_size^2.
	NumTokens int
}

// Qwen2VL reproduces Hugging Face's Qwen2VLImageProcessor for one image.
type Qwen2VL struct {
	cfg Qwen2VLConfig
	lut [3][256]float32
}

// NewQwen2VL validates cfg and precomputes the rescale/normalise table.
func NewQwen2VL(cfg Qwen2VLConfig) (*Qwen2VL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Qwen2VL{cfg: cfg}
	for c := 0; c < 3; c++ {
		mean, std := float32(cfg.ImageMean[c]), float32(cfg.ImageStd[c])
		for v := 0; v < 256; v++ {
			// transformers: float32(float64(uint8) * rescale_factor), then
			// (x - mean) / std in float32.
			x := float32(float64(v))
			if cfg.DoRescale {
				x = float32(float64(v) * cfg.RescaleFactor)
			}
			if cfg.DoNormalize {
				x = (x - mean) / std
			}
			p.lut[c][v] = x
		}
	}
	return p, nil
}

// Config returns the processor's configuration.
func (p *Qwen2VL) Config() Qwen2VLConfig { return p.cfg }

// TargetSize returns the (height, width) an image of the given size is
// resized to (the input size itself when resizing is off).
func (p *Qwen2VL) TargetSize(height, width int) (int, int, error) {
	if !p.cfg.DoResize {
		f := p.cfg.Factor()
		if height <= 0 || width <= 0 || height%f != 0 || width%f != 0 {
			return 0, 0, fmt.Errorf("%w: %dx%d is not a multiple of %d and resizing is off", ErrBadSize, width, height, f)
		}
		return height, width, nil
	}
	return SmartResize(height, width, p.cfg.Factor(), p.cfg.MinPixels, p.cfg.MaxPixels)
}

// NumTokens returns the image-token count for an image of the given size
// without processing it.
func (p *Qwen2VL) NumTokens(height, width int) (int, error) {
	h, w, err := p.TargetSize(height, width)
	if err != nil {
		return 0, err
	}
	f := p.cfg.Factor()
	return (h / f) * (w / f), nil
}

// Resize returns the image resized the way the processor resizes it.
func (p *Qwen2VL) Resize(img *Image) (*Image, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrBadSize)
	}
	h, w, err := p.TargetSize(img.H, img.W)
	if err != nil {
		return nil, err
	}
	return ResizeBicubic(img, w, h)
}

// Preprocess returns pixel_values and image_grid_thw for one image.
func (p *Qwen2VL) Preprocess(img *Image) (*Qwen2VLInput, error) {
	r, err := p.Resize(img)
	if err != nil {
		return nil, err
	}
	return p.patchify(r), nil
}

// patchify normalises the resized image and lays it out in merge-window
// order: for each (block row, block column) of merge x merge patches, the
// patches row by row; inside a patch, channel, then frame (the image
// repeated temporal_patch_size times), then pixel row and column.
func (p *Qwen2VL) patchify(r *Image) *Qwen2VLInput {
	ps, tps, m := p.cfg.PatchSize, p.cfg.TemporalPatchSize, p.cfg.MergeSize
	gh, gw := r.H/ps, r.W/ps
	dim := 3 * tps * ps * ps
	rows := gh * gw
	out := make([]float32, rows*dim)
	frame := ps * ps
	row := 0
	for bh := 0; bh < gh/m; bh++ {
		for bw := 0; bw < gw/m; bw++ {
			for mh := 0; mh < m; mh++ {
				for mw := 0; mw < m; mw++ {
					y0 := (bh*m + mh) * ps
					x0 := (bw*m + mw) * ps
					dst := out[row*dim : (row+1)*dim]
					for c := 0; c < 3; c++ {
						lut := &p.lut[c]
						base := dst[c*tps*frame : c*tps*frame+frame]
						for py := 0; py < ps; py++ {
							src := r.RGB[((y0+py)*r.W+x0)*3:]
							o := base[py*ps : py*ps+ps]
							for px := range o {
								o[px] = lut[src[px*3+c]]
							}
						}
						for t := 1; t < tps; t++ {
							copy(dst[(c*tps+t)*frame:(c*tps+t+1)*frame], base)
						}
					}
					row++
				}
			}
		}
	}
	return &Qwen2VLInput{
		PixelValues: out,
		Rows:        rows,
		Dim:         dim,
		GridTHW:     [3]int{1, gh, gw},
		ResizedW:    r.W,
		ResizedH:    r.H,
		NumTokens:   rows / (m * m),
	}
}

// Qwen2VLBatch is the processor output for several images: pixel_values of
// all images concatenated row-wise and one image_grid_thw row per image.
type Qwen2VLBatch struct {
	PixelValues []float32
	Rows, Dim   int
	GridTHW     [][3]int
	NumTokens   []int
}

// PreprocessBatch processes images in order and concatenates the results
// as the Hugging Face processor does for a list of images.
func (p *Qwen2VL) PreprocessBatch(imgs []*Image) (*Qwen2VLBatch, error) {
	b := &Qwen2VLBatch{Dim: 3 * p.cfg.TemporalPatchSize * p.cfg.PatchSize * p.cfg.PatchSize}
	for i, img := range imgs {
		in, err := p.Preprocess(img)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		b.PixelValues = append(b.PixelValues, in.PixelValues...)
		b.Rows += in.Rows
		b.GridTHW = append(b.GridTHW, in.GridTHW)
		b.NumTokens = append(b.NumTokens, in.NumTokens)
	}
	return b, nil
}
