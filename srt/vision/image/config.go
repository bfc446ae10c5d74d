package image

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// rawPreprocessorConfig mirrors the fields of preprocessor_config.json that
// the Qwen2-VL processor reads. Pointers distinguish absent from zero.
type rawPreprocessorConfig struct {
	MinPixels         *float64    `json:"min_pixels"`
	MaxPixels         *float64    `json:"max_pixels"`
	PatchSize         *float64    `json:"patch_size"`
	TemporalPatchSize *float64    `json:"temporal_patch_size"`
	MergeSize         *float64    `json:"merge_size"`
	ImageMean         *jsonTriple `json:"image_mean"`
	ImageStd          *jsonTriple `json:"image_std"`
	RescaleFactor     *float64    `json:"rescale_factor"`
	DoResize          *bool       `json:"do_resize"`
	DoRescale         *bool       `json:"do_rescale"`
	DoNormalize       *bool       `json:"do_normalize"`
	Resample          *float64    `json:"resample"`
	Size              *struct {
		ShortestEdge *float64 `json:"shortest_edge"`
		LongestEdge  *float64 `json:"longest_edge"`
		MinPixels    *float64 `json:"min_pixels"`
		MaxPixels    *float64 `json:"max_pixels"`
	} `json:"size"`
}

// jsonTriple accepts a 3-element list or a single number (broadcast).
type jsonTriple [3]float64

func (t *jsonTriple) UnmarshalJSON(b []byte) error {
	var one float64
	if err := json.Unmarshal(b, &one); err == nil {
		*t = jsonTriple{one, one, one}
		return nil
	}
	var list []float64
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	if len(list) != 3 {
		return fmt.Errorf("want 3 values, got %d", len(list))
	}
	copy(t[:], list)
	return nil
}

func intField(name string, v *float64, dst *int) error {
	if v == nil {
		return nil
	}
	if *v != math.Trunc(*v) || *v < 0 || *v > 1<<40 {
		return fmt.Errorf("%w: %s = %v is not a non-negative integer", ErrInvalidConfig, name, *v)
	}
	*dst = int(*v)
	return nil
}

// ParseQwen2VLConfig reads a Qwen2-VL / Qwen2.5-VL preprocessor_config.json.
// Absent fields keep DefaultQwen2VLConfig's values; "size" with
// shortest_edge/longest_edge (newer transformers) sets the pixel bounds, and
// top-level min_pixels/max_pixels override it, as in transformers.
func ParseQwen2VLConfig(data []byte) (Qwen2VLConfig, error) {
	cfg := DefaultQwen2VLConfig()
	var raw rawPreprocessorConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if s := raw.Size; s != nil {
		for _, f := range []struct {
			name string
			v    *float64
			dst  *int
		}{
			{"size.shortest_edge", s.ShortestEdge, &cfg.MinPixels},
			{"size.longest_edge", s.LongestEdge, &cfg.MaxPixels},
			{"size.min_pixels", s.MinPixels, &cfg.MinPixels},
			{"size.max_pixels", s.MaxPixels, &cfg.MaxPixels},
		} {
			if err := intField(f.name, f.v, f.dst); err != nil {
				return cfg, err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
		dst  *int
	}{
		{"min_pixels", raw.MinPixels, &cfg.MinPixels},
		{"max_pixels", raw.MaxPixels, &cfg.MaxPixels},
		{"patch_size", raw.PatchSize, &cfg.PatchSize},
		{"temporal_patch_size", raw.TemporalPatchSize, &cfg.TemporalPatchSize},
		{"merge_size", raw.MergeSize, &cfg.MergeSize},
	} {
		if err := intField(f.name, f.v, f.dst); err != nil {
			return cfg, err
		}
	}
	if raw.ImageMean != nil {
		cfg.ImageMean = *raw.ImageMean
	}
	if raw.ImageStd != nil {
		cfg.ImageStd = *raw.ImageStd
	}
	if raw.RescaleFactor != nil {
		cfg.RescaleFactor = *raw.RescaleFactor
	}
	if raw.DoResize != nil {
		cfg.DoResize = *raw.DoResize
	}
	if raw.DoRescale != nil {
		cfg.DoRescale = *raw.DoRescale
	}
	if raw.DoNormalize != nil {
		cfg.DoNormalize = *raw.DoNormalize
	}
	if raw.Resample != nil && *raw.Resample != 3 {
		return cfg, fmt.Errorf("%w: resample = %v; only 3 (bicubic) is implemented", ErrInvalidConfig, *raw.Resample)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// LoadQwen2VLConfig reads and parses a preprocessor_config.json file.
func LoadQwen2VLConfig(path string) (Qwen2VLConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return DefaultQwen2VLConfig(), fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return ParseQwen2VLConfig(data)
}
