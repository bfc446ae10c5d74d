package model

import (
	"context"
	"fmt"
	"strings"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Qwen2VL is Qwen2-VL or Qwen2.5-VL: a Qwen2 language model with M-RoPE
// (the embedded Llama, Config.MRoPESection set) and a vision tower whose
// image features replace the <|image_pad|> token embeddings (Batch.Embeds).
type Qwen2VL struct {
	*Llama
	Vision *VisionTower
}

var _ VisionModel = (*Qwen2VL)(nil)

func init() {
	Register("Qwen2VLForConditionalGeneration", newQwen2VL)
	Register("Qwen2_5_VLForConditionalGeneration", newQwen2VL)
}

func newQwen2VL(cfg *Config, w Weights, cpu *tensor.CPU) (Model, error) {
	switch {
	case cfg.Vision == nil:
		return nil, fmt.Errorf("%w: %s needs a vision_config", ErrConfig, cfg.Architecture)
	case cfg.MRoPESection == nil:
		return nil, fmt.Errorf("%w: %s needs rope_scaling.mrope_section", ErrConfig, cfg.Architecture)
	case cfg.Vision.OutHidden != cfg.Hidden:
		return nil, fmt.Errorf("%w: vision tower outputs %d values, the language model's hidden size is %d",
			ErrConfig, cfg.Vision.OutHidden, cfg.Hidden)
	}
	w = vlWeights{w}
	lm, err := newLlama(cfg, w, cpu)
	if err != nil {
		return nil, err
	}
	vt, err := newVisionTower(cfg.Vision, w, cpu)
	if err != nil {
		return nil, err
	}
	return &Qwen2VL{Llama: lm.(*Llama), Vision: vt}, nil
}

// EncodeImage runs the vision tower; see VisionModel.
func (m *Qwen2VL) EncodeImage(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error) {
	return m.Vision.Encode(ctx, pixels, grid)
}

// VisionInfo gives the image token ids and patch geometry.
func (m *Qwen2VL) VisionInfo() VisionInfo { return m.cfg.Vision.Info }

// vlWeights reads both checkpoint layouts: the original one
// (model.layers.N..., visual.blocks.N...) and the one newer transformers
// versions save (model.language_model.layers.N..., model.visual.blocks.N...).
// Names are asked for in the original layout.
type vlWeights struct{ w Weights }

func (v vlWeights) name(n string) string {
	if v.w.Has(n) {
		return n
	}
	var alt string
	switch {
	case strings.HasPrefix(n, "model."):
		alt = "model.language_model." + strings.TrimPrefix(n, "model.")
	case strings.HasPrefix(n, "visual."):
		alt = "model." + n
	}
	if alt != "" && v.w.Has(alt) {
		return alt
	}
	return n
}

func (v vlWeights) Tensor(name string) (*tensor.Tensor, error) { return v.w.Tensor(v.name(name)) }
func (v vlWeights) Has(name string) bool                       { return v.w.Has(v.name(name)) }
