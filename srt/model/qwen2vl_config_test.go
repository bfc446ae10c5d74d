package model

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Shortened from the published config.json files.
const (
	qwen25VL3B = `{
  "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
  "bos_token_id": 151643, "eos_token_id": 151645,
  "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
  "image_token_id": 151655, "video_token_id": 151656,
  "hidden_act": "silu", "hidden_size": 2048, "intermediate_size": 11008, "max_position_embeddings": 128000,
  "num_attention_heads": 16, "num_hidden_layers": 36, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 151936,
  "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420,
    "num_heads": 16, "in_chans": 3, "out_hidden_size": 2048, "patch_size": 14, "spatial_merge_size": 2,
    "spatial_patch_size": 14, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
    "tokens_per_second": 2, "temporal_patch_size": 2},
  "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}`
	qwen2VL2B = `{
  "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl",
  "bos_token_id": 151643, "eos_token_id": 151645,
  "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
  "image_token_id": 151655, "video_token_id": 151656,
  "hidden_act": "silu", "hidden_size": 1536, "intermediate_size": 8960, "max_position_embeddings": 32768,
  "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "tie_word_embeddings": true, "vocab_size": 151936,
  "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
    "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2},
  "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}`
	// The layout newer transformers versions save: text keys under text_config.
	qwen25VLNested = `{
  "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
  "image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
  "text_config": {"model_type": "qwen2_5_vl_text", "hidden_size": 2048, "intermediate_size": 11008,
    "num_attention_heads": 16, "num_hidden_layers": 36, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "vocab_size": 151936, "tie_word_embeddings": true, "hidden_act": "silu",
    "rope_parameters": {"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0}},
  "vision_config": {"model_type": "qwen2_5_vl", "depth": 32, "hidden_act": "silu", "hidden_size": 1280,
    "intermediate_size": 3420, "num_heads": 16, "in_chans": 3, "out_hidden_size": 2048, "patch_size": 14,
    "spatial_merge_size": 2, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31], "temporal_patch_size": 2}}`
)

func TestParseVLConfig(t *testing.T) {
	info := VisionInfo{ImageToken: 151655, VideoToken: 151656, VisionStart: 151652, VisionEnd: 151653,
		PatchSize: 14, TemporalPatchSize: 2, MergeSize: 2, PatchDim: 1176}
	cases := []struct {
		name, json string
		hidden     int
		heads      int
		vision     VisionConfig
	}{
		{"Qwen2.5-VL-3B", qwen25VL3B, 2048, 16, VisionConfig{Kind: "qwen2_5_vl", Depth: 32, Hidden: 1280, Heads: 16,
			Intermediate: 3420, OutHidden: 2048, InChannels: 3, PatchSize: 14, TemporalPatchSize: 2, MergeSize: 2,
			WindowSize: 112, FullAttBlocks: []int{7, 15, 23, 31}, HiddenAct: "silu", Eps: 1e-6, RopeTheta: 10000}},
		{"Qwen2-VL-2B", qwen2VL2B, 1536, 12, VisionConfig{Kind: "qwen2_vl", Depth: 32, Hidden: 1280, Heads: 16,
			Intermediate: 5120, OutHidden: 1536, InChannels: 3, PatchSize: 14, TemporalPatchSize: 2, MergeSize: 2,
			HiddenAct: "quick_gelu", Eps: 1e-6, RopeTheta: 10000}},
		{"Qwen2.5-VL nested text_config", qwen25VLNested, 2048, 16, VisionConfig{Kind: "qwen2_5_vl", Depth: 32, Hidden: 1280, Heads: 16,
			Intermediate: 3420, OutHidden: 2048, InChannels: 3, PatchSize: 14, TemporalPatchSize: 2, MergeSize: 2,
			WindowSize: 112, FullAttBlocks: []int{7, 15, 23, 31}, HiddenAct: "silu", Eps: 1e-6, RopeTheta: 10000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseHFConfig([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Hidden != c.hidden || cfg.Heads != c.heads || cfg.KVHeads != 2 || cfg.HeadDim != 128 || cfg.Vocab != 151936 {
				t.Errorf("LM shape: hidden %d heads %d/%d head dim %d vocab %d", cfg.Hidden, cfg.Heads, cfg.KVHeads, cfg.HeadDim, cfg.Vocab)
			}
			if !cfg.AttnBias || !cfg.TieEmbeddings || cfg.RopeTheta != 1e6 || !reflect.DeepEqual(cfg.MRoPESection, []int{16, 24, 24}) {
				t.Errorf("bias %v tie %v theta %v mrope %v", cfg.AttnBias, cfg.TieEmbeddings, cfg.RopeTheta, cfg.MRoPESection)
			}
			want := c.vision
			want.Info = info
			want.Info.Kind = want.Kind
			want.Info.OutHidden = want.OutHidden
			if !reflect.DeepEqual(*cfg.Vision, want) {
				t.Errorf("vision config\n got %+v\nwant %+v", *cfg.Vision, want)
			}
		})
	}
}

func TestParseVLConfigErrors(t *testing.T) {
	cases := []struct{ name, from, to string }{
		{"no vision config", `"vision_config": {"depth"`, `"other_config": {"depth"`},
		{"mrope section too short", `"mrope_section": [16, 24, 24]`, `"mrope_section": [16, 24, 23]`},
		{"mrope section of two", `"mrope_section": [16, 24, 24]`, `"mrope_section": [40, 24]`},
		{"full attention block out of range", `[7, 15, 23, 31]`, `[7, 15, 23, 32]`},
		{"vision heads", `"num_heads": 16`, `"num_heads": 15`},
		{"vision activation", `"hidden_act": "silu", "hidden_size": 1280`, `"hidden_act": "tanh", "hidden_size": 1280`},
		{"negative window", `"window_size": 112`, `"window_size": -1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			js := strings.Replace(qwen25VL3B, c.from, c.to, 1)
			if js == qwen25VL3B {
				t.Fatalf("edit %q not applied", c.from)
			}
			if _, err := ParseHFConfig([]byte(js)); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// FuzzParseHFConfigVL: any config.json either fails with ErrConfig or
// yields a config that validates, with a usable vision shape when present.
func FuzzParseHFConfigVL(f *testing.F) {
	f.Add(qwen25VL3B)
	f.Add(qwen2VL2B)
	f.Add(qwen25VLNested)
	f.Add(`{"model_type": "qwen2_vl", "text_config": 5}`)
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseHFConfig([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		if v := cfg.Vision; v != nil && (v.PatchDim() <= 0 || v.HeadDim()%4 != 0) {
			t.Fatalf("vision shape %+v", v)
		}
	})
}
