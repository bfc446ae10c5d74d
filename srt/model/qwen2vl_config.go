package model

import (
	"encoding/json"
	"fmt"
	"slices"
)

// VisionConfig is the shape of a Qwen2-VL or Qwen2.5-VL vision tower:
// config.json's vision_config plus the top-level special token ids.
type VisionConfig struct {
	Kind              string  // model_type: "qwen2_vl" or "qwen2_5_vl"
	Depth             int     // depth: vision blocks
	Hidden            int     // embed_dim (Qwen2-VL) / hidden_size (Qwen2.5-VL)
	Heads             int     // num_heads
	Intermediate      int     // embed_dim*mlp_ratio (Qwen2-VL) / intermediate_size (Qwen2.5-VL)
	OutHidden         int     // merger output: hidden_size (Qwen2-VL) / out_hidden_size (Qwen2.5-VL)
	InChannels        int     // in_chans (in_channels), 3
	PatchSize         int     // patch_size, 14
	TemporalPatchSize int     // temporal_patch_size, 2
	MergeSize         int     // spatial_merge_size, 2
	WindowSize        int     // window_size in pixels (Qwen2.5-VL), 112; 0 = full attention everywhere
	FullAttBlocks     []int   // fullatt_block_indexes (Qwen2.5-VL): blocks with full attention
	HiddenAct         string  // quick_gelu (Qwen2-VL), silu (Qwen2.5-VL)
	Eps               float32 // norm epsilon, 1e-6
	RopeTheta         float64 // vision rotary theta, 10000

	Info VisionInfo
}

// VisionInfo is what the text side needs to place image features: the
// special token ids and the patch geometry.
type VisionInfo struct {
	Kind              string // "qwen2_vl" or "qwen2_5_vl"
	ImageToken        int32  // image_token_id: <|image_pad|>, one per merged patch
	VideoToken        int32  // video_token_id: <|video_pad|>
	VisionStart       int32  // vision_start_token_id: <|vision_start|>
	VisionEnd         int32  // vision_end_token_id: <|vision_end|>
	PatchSize         int    // pixels per patch side
	TemporalPatchSize int    // frames per patch
	MergeSize         int    // patches per merged token side
	PatchDim          int    // values per pixel row: InChannels*TemporalPatchSize*PatchSize^2
	OutHidden         int    // length of one image feature (the LM hidden size)
}

// PatchDim is the length of one pixel_values row.
func (v *VisionConfig) PatchDim() int {
	return v.InChannels * v.TemporalPatchSize * v.PatchSize * v.PatchSize
}

// HeadDim is the per-head size of vision attention.
func (v *VisionConfig) HeadDim() int { return v.Hidden / max(v.Heads, 1) }

// Validate checks that the vision shape is consistent.
func (v *VisionConfig) Validate() error {
	switch {
	case v.Kind != "qwen2_vl" && v.Kind != "qwen2_5_vl":
		return fmt.Errorf("%w: vision model type %q (want qwen2_vl or qwen2_5_vl)", ErrConfig, v.Kind)
	case v.Depth <= 0 || v.Hidden <= 0 || v.Heads <= 0 || v.Intermediate <= 0 || v.OutHidden <= 0:
		return fmt.Errorf("%w: vision depth %d, hidden %d, heads %d, intermediate %d, out hidden %d must all be positive",
			ErrConfig, v.Depth, v.Hidden, v.Heads, v.Intermediate, v.OutHidden)
	case v.Hidden%v.Heads != 0 || v.HeadDim()%4 != 0:
		return fmt.Errorf("%w: vision hidden %d over %d heads must give a head dim divisible by 4", ErrConfig, v.Hidden, v.Heads)
	case v.InChannels <= 0 || v.PatchSize <= 0 || v.TemporalPatchSize <= 0 || v.MergeSize <= 0:
		return fmt.Errorf("%w: vision in_chans %d, patch %d, temporal patch %d, merge %d must all be positive",
			ErrConfig, v.InChannels, v.PatchSize, v.TemporalPatchSize, v.MergeSize)
	case v.WindowSize < 0 || (v.WindowSize > 0 && v.WindowSize/v.MergeSize/v.PatchSize == 0):
		return fmt.Errorf("%w: vision window_size %d is smaller than one merged patch", ErrConfig, v.WindowSize)
	}
	switch v.HiddenAct {
	case "quick_gelu", "gelu", "silu":
	default:
		return fmt.Errorf("%w: vision hidden_act %q (want quick_gelu, gelu or silu)", ErrConfig, v.HiddenAct)
	}
	for _, b := range v.FullAttBlocks {
		if b < 0 || b >= v.Depth {
			return fmt.Errorf("%w: fullatt_block_indexes entry %d outside %d blocks", ErrConfig, b, v.Depth)
		}
	}
	return nil
}

type hfVisionConfig struct {
	Depth             int      `json:"depth"`
	EmbedDim          int      `json:"embed_dim"`
	HiddenSize        int      `json:"hidden_size"`
	MLPRatio          float64  `json:"mlp_ratio"`
	IntermediateSize  int      `json:"intermediate_size"`
	OutHiddenSize     int      `json:"out_hidden_size"`
	NumHeads          int      `json:"num_heads"`
	InChans           int      `json:"in_chans"`
	InChannels        int      `json:"in_channels"`
	PatchSize         int      `json:"patch_size"`
	SpatialPatchSize  int      `json:"spatial_patch_size"`
	TemporalPatchSize int      `json:"temporal_patch_size"`
	SpatialMergeSize  int      `json:"spatial_merge_size"`
	WindowSize        int      `json:"window_size"`
	FullAttBlocks     []int    `json:"fullatt_block_indexes"`
	HiddenAct         string   `json:"hidden_act"`
	Eps               *float64 `json:"layer_norm_eps"`
}

// parseVisionConfig reads vision_config and the special token ids of a
// qwen2_vl or qwen2_5_vl config.json, with transformers' defaults.
func parseVisionConfig(b []byte, modelType string) (*VisionConfig, error) {
	var top struct {
		Vision       *hfVisionConfig `json:"vision_config"`
		ImageToken   *int32          `json:"image_token_id"`
		VideoToken   *int32          `json:"video_token_id"`
		VisionStart  *int32          `json:"vision_start_token_id"`
		VisionEnd    *int32          `json:"vision_end_token_id"`
		HiddenSizeLM int             `json:"hidden_size"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	h := top.Vision
	if h == nil {
		return nil, fmt.Errorf("%w: %s config.json has no vision_config", ErrConfig, modelType)
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	v := &VisionConfig{
		Kind:              modelType,
		Depth:             def(h.Depth, 32),
		Heads:             def(h.NumHeads, 16),
		InChannels:        def(h.InChans, def(h.InChannels, 3)),
		PatchSize:         def(h.PatchSize, def(h.SpatialPatchSize, 14)),
		TemporalPatchSize: def(h.TemporalPatchSize, 2),
		MergeSize:         def(h.SpatialMergeSize, 2),
		HiddenAct:         h.HiddenAct,
		Eps:               1e-6,
		RopeTheta:         10000,
	}
	if h.Eps != nil {
		v.Eps = float32(*h.Eps)
	}
	if modelType == "qwen2_vl" {
		v.Hidden = def(h.EmbedDim, 1280)
		ratio := h.MLPRatio
		if ratio == 0 {
			ratio = 4
		}
		v.Intermediate = int(float64(v.Hidden) * ratio)
		v.OutHidden = def(h.HiddenSize, def(top.HiddenSizeLM, 3584))
		if v.HiddenAct == "" {
			v.HiddenAct = "quick_gelu"
		}
	} else {
		v.Hidden = def(h.HiddenSize, 1280)
		v.Intermediate = def(h.IntermediateSize, 3420)
		v.OutHidden = def(h.OutHiddenSize, def(top.HiddenSizeLM, 3584))
		v.WindowSize = def(h.WindowSize, 112)
		v.FullAttBlocks = slices.Clone(h.FullAttBlocks)
		if h.FullAttBlocks == nil {
			v.FullAttBlocks = []int{7, 15, 23, 31}
		}
		if v.HiddenAct == "" {
			v.HiddenAct = "silu"
		}
	}
	id := func(p *int32, d int32) int32 {
		if p == nil {
			return d
		}
		return *p
	}
	v.Info = VisionInfo{
		Kind:              modelType,
		ImageToken:        id(top.ImageToken, 151655),
		VideoToken:        id(top.VideoToken, 151656),
		VisionStart:       id(top.VisionStart, 151652),
		VisionEnd:         id(top.VisionEnd, 151653),
		PatchSize:         v.PatchSize,
		TemporalPatchSize: v.TemporalPatchSize,
		MergeSize:         v.MergeSize,
		PatchDim:          v.PatchDim(),
		OutHidden:         v.OutHidden,
	}
	return v, nil
}

// flattenTextConfig lifts the keys of a nested text_config (the layout newer
// transformers versions save for Qwen2-VL and Qwen2.5-VL) to the top level,
// where they override the top level (except architectures and model_type,
// which stay the top-level model's), so one parser reads
// both layouts. Configs without text_config are returned unchanged.
func flattenTextConfig(b []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	raw, ok := top["text_config"]
	if !ok {
		return b, nil
	}
	var text map[string]json.RawMessage
	if err := json.Unmarshal(raw, &text); err != nil || text == nil {
		return b, nil
	}
	for k, v := range text {
		switch k {
		case "architectures", "model_type":
			continue
		}
		top[k] = v
	}
	out, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	return out, nil
}
