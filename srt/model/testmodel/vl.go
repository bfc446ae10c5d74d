package testmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/tensor"
)

// Vision-language test models: Qwen2-VL (Arch "qwen2_vl") and Qwen2.5-VL
// ("qwen2_5_vl") Hugging Face folders with the real checkpoints' config
// keys (vision_config, image token ids, rope_scaling.mrope_section),
// tensor names (model.*, visual.*), a preprocessor_config.json, and the
// Qwen vocabulary (151936). The language-model weights are the ones a
// "qwen2" test model of the same seed and shape gets.

func isVL(arch string) bool { return arch == "qwen2_vl" || arch == "qwen2_5_vl" }

// vlDefaults fills unset shapes with a small model (about 10 MB in bf16,
// nearly all of it the 151936-row embedding).
func (o *Options) vlDefaults() error {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.Hidden, 32)
	def(&o.Layers, 2)
	def(&o.Heads, 2)
	def(&o.KVHeads, 1)
	def(&o.Intermediate, 64)
	def(&o.Vocab, 151936)
	def(&o.ContextLength, 32768)
	def(&o.VisionDepth, 4)
	def(&o.VisionHidden, 64)
	def(&o.VisionHeads, 4)
	def(&o.VisionIntermediate, 128)
	def(&o.WindowSize, 112)
	if o.RopeTheta == 0 {
		o.RopeTheta = 1e6
	}
	if o.RMSNormEps == 0 {
		o.RMSNormEps = 1e-6
	}
	if o.DType == "" {
		o.DType = "bf16"
	}
	if o.Format == "" {
		o.Format = "hf"
	}
	if o.Heads > 0 && o.HeadDim == 0 {
		o.HeadDim = o.Hidden / o.Heads
	}
	half := o.HeadDim / 2
	if o.MRoPESection == nil {
		t := half / 4
		h := (half - t) / 2
		o.MRoPESection = []int{t, h, half - t - h}
	}
	if o.VisionFullAtt == nil && o.Arch == "qwen2_5_vl" {
		step := max(2, o.VisionDepth/4)
		for b := step - 1; b < o.VisionDepth; b += step {
			o.VisionFullAtt = append(o.VisionFullAtt, b)
		}
	}
	sum := 0
	for _, v := range o.MRoPESection {
		sum += v
	}
	switch {
	case o.Format != "hf":
		return fmt.Errorf("%w: --arch %s writes only --format hf", ErrOptions, o.Arch)
	case o.Hidden <= 0 || o.Layers <= 0 || o.Heads <= 0 || o.Intermediate <= 0 || o.Vocab <= 0 || o.KVHeads <= 0:
		return fmt.Errorf("%w: hidden, layers, heads, kv-heads, intermediate and vocab must be positive", ErrOptions)
	case o.Hidden%o.Heads != 0 || o.HeadDim != o.Hidden/o.Heads || o.HeadDim%2 != 0 || o.Heads%o.KVHeads != 0:
		return fmt.Errorf("%w: Qwen2-VL needs head_dim = hidden/heads (even) and heads a multiple of kv-heads; have hidden %d, heads %d, head-dim %d, kv-heads %d",
			ErrOptions, o.Hidden, o.Heads, o.HeadDim, o.KVHeads)
	case len(o.MRoPESection) != 3 || sum != half:
		return fmt.Errorf("%w: mrope section %v must be 3 sizes summing to head_dim/2 = %d", ErrOptions, o.MRoPESection, half)
	case o.VisionDepth <= 0 || o.VisionHidden <= 0 || o.VisionHeads <= 0 || o.VisionIntermediate <= 0:
		return fmt.Errorf("%w: vision depth, hidden, heads and intermediate must be positive", ErrOptions)
	case o.VisionHidden%o.VisionHeads != 0 || (o.VisionHidden/o.VisionHeads)%4 != 0:
		return fmt.Errorf("%w: vision hidden %d over %d heads must give a head dim divisible by 4", ErrOptions, o.VisionHidden, o.VisionHeads)
	case o.WindowSize < 28:
		return fmt.Errorf("%w: window size %d must be at least one merged patch (28 pixels)", ErrOptions, o.WindowSize)
	case o.Out == "":
		return fmt.Errorf("%w: --out is required", ErrOptions)
	}
	for _, b := range o.VisionFullAtt {
		if b < 0 || b >= o.VisionDepth {
			return fmt.Errorf("%w: full-attention block %d outside %d vision blocks", ErrOptions, b, o.VisionDepth)
		}
	}
	if d, err := o.dtype(); err != nil {
		return err
	} else if d.BlockSize() > 1 {
		return fmt.Errorf("%w: --dtype %s for hf", ErrOptions, o.DType)
	}
	return nil
}

// Patch geometry of every Qwen2-VL and Qwen2.5-VL checkpoint.
const (
	vlPatch    = 14
	vlTemporal = 2
	vlMerge    = 2
	vlChannels = 3
)

func (o *Options) vlSpecs() []spec {
	lm := *o
	lm.Arch = "qwen2"
	s := lm.specs()
	E, I, U := o.VisionHidden, o.VisionIntermediate, o.VisionHidden*vlMerge*vlMerge
	lin := func(name string, out, in int) []spec {
		return []spec{
			{name + ".weight", []int{out, in}, fillNormal, 1 / math.Sqrt(float64(in))},
			{name + ".bias", []int{out}, fillBias, 0.1},
		}
	}
	qwen2 := o.Arch == "qwen2_vl"
	norm := func(name string) []spec {
		n := []spec{{name + ".weight", []int{E}, fillNorm, 0}}
		if qwen2 {
			n = append(n, spec{name + ".bias", []int{E}, fillBias, 0.1})
		}
		return n
	}
	pd := vlChannels * vlTemporal * vlPatch * vlPatch
	s = append(s, spec{"visual.patch_embed.proj.weight", []int{E, vlChannels, vlTemporal, vlPatch, vlPatch}, fillNormal, 1 / math.Sqrt(float64(pd))})
	for l := 0; l < o.VisionDepth; l++ {
		p := fmt.Sprintf("visual.blocks.%d.", l)
		s = append(s, norm(p+"norm1")...)
		s = append(s, lin(p+"attn.qkv", 3*E, E)...)
		s = append(s, lin(p+"attn.proj", E, E)...)
		s = append(s, norm(p+"norm2")...)
		if qwen2 {
			s = append(s, lin(p+"mlp.fc1", I, E)...)
			s = append(s, lin(p+"mlp.fc2", E, I)...)
		} else {
			s = append(s, lin(p+"mlp.gate_proj", I, E)...)
			s = append(s, lin(p+"mlp.up_proj", I, E)...)
			s = append(s, lin(p+"mlp.down_proj", E, I)...)
		}
	}
	s = append(s, norm("visual.merger.ln_q")...)
	s = append(s, lin("visual.merger.mlp.0", U, U)...)
	s = append(s, lin("visual.merger.mlp.2", o.Hidden, U)...)
	return s
}

func (o *Options) vlConfig() map[string]any {
	arch := map[string]string{"qwen2_vl": "Qwen2VLForConditionalGeneration", "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration"}[o.Arch]
	dtype := map[string]string{"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[strings.ToLower(o.DType)]
	c := map[string]any{
		"architectures": []string{arch}, "model_type": o.Arch, "hidden_size": o.Hidden,
		"num_hidden_layers": o.Layers, "num_attention_heads": o.Heads, "num_key_value_heads": o.KVHeads,
		"intermediate_size": o.Intermediate, "vocab_size": o.Vocab,
		"max_position_embeddings": o.ContextLength, "rope_theta": o.RopeTheta, "rms_norm_eps": o.RMSNormEps,
		"tie_word_embeddings": !o.Untied, "hidden_act": "silu", "torch_dtype": dtype,
		"bos_token_id": 151643, "eos_token_id": 151645,
		"vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
		"image_token_id": 151655, "video_token_id": 151656,
		"rope_scaling":       map[string]any{"type": "mrope", "mrope_section": o.MRoPESection},
		"use_sliding_window": false, "sliding_window": o.ContextLength, "max_window_layers": o.Layers,
		"attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": true,
	}
	vc := map[string]any{
		"depth": o.VisionDepth, "num_heads": o.VisionHeads, "in_chans": vlChannels,
		"patch_size": vlPatch, "spatial_patch_size": vlPatch, "spatial_merge_size": vlMerge,
		"temporal_patch_size": vlTemporal,
	}
	if o.Arch == "qwen2_vl" {
		vc["embed_dim"] = o.VisionHidden
		vc["mlp_ratio"] = float64(o.VisionIntermediate) / float64(o.VisionHidden)
		vc["hidden_size"] = o.Hidden
		vc["hidden_act"] = "quick_gelu"
	} else {
		vc["hidden_size"] = o.VisionHidden
		vc["intermediate_size"] = o.VisionIntermediate
		vc["out_hidden_size"] = o.Hidden
		vc["hidden_act"] = "silu"
		vc["window_size"] = o.WindowSize
		vc["fullatt_block_indexes"] = o.VisionFullAtt
		vc["tokens_per_second"] = 2
	}
	c["vision_config"] = vc
	return c
}

func (o *Options) vlPreprocessor() map[string]any {
	proc := map[string]string{"qwen2_vl": "Qwen2VLProcessor", "qwen2_5_vl": "Qwen2_5_VLProcessor"}[o.Arch]
	return map[string]any{
		"min_pixels": 56 * 56, "max_pixels": 28 * 28 * 1280,
		"patch_size": vlPatch, "temporal_patch_size": vlTemporal, "merge_size": vlMerge,
		"image_mean": []float64{0.48145466, 0.4578275, 0.40821073},
		"image_std":  []float64{0.26862954, 0.26130258, 0.27577711},
		"do_resize":  true, "do_rescale": true, "do_normalize": true, "do_convert_rgb": true,
		"rescale_factor": 1.0 / 255, "resample": 3,
		"image_processor_type": "Qwen2VLImageProcessor", "processor_class": proc,
	}
}

func writeVL(o Options) error {
	if err := o.vlDefaults(); err != nil {
		return err
	}
	dt, _ := o.dtype()
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	specs := o.vlSpecs()
	named := make(map[string]*tensor.Tensor, len(specs))
	for i, sp := range specs {
		named[sp.name] = encode(o.fill(i, sp), sp.shape, dt)
	}
	if err := safetensors.Write(filepath.Join(o.Out, "model.safetensors"), named, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	files := map[string]any{"config.json": o.vlConfig(), "preprocessor_config.json": o.vlPreprocessor(),
		"chat_template.json": map[string]string{"chat_template": vlChatTemplate}}
	for name, v := range files {
		b, _ := json.MarshalIndent(v, "", "  ")
		if err := os.WriteFile(filepath.Join(o.Out, name), b, 0o644); err != nil {
			return fmt.Errorf("testmodel: %w", err)
		}
	}
	if o.Tokenizer == "" {
		return nil
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json"} {
		src := filepath.Join(filepath.Dir(o.Tokenizer), name)
		if name == "tokenizer.json" {
			src = o.Tokenizer
		}
		b, err := os.ReadFile(src)
		if err != nil {
			if name == "tokenizer.json" {
				return fmt.Errorf("testmodel: %w", err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(o.Out, name), b, 0o644); err != nil {
			return fmt.Errorf("testmodel: %w", err)
		}
	}
	return nil
}

// vlChatTemplate is a chat template in the format of the Qwen2-VL and
// Qwen2.5-VL checkpoints' chat_template.json: ChatML turns, a default system
// prompt, and each image or image_url content part rendered as
// <|vision_start|><|image_pad|><|vision_end|> (the processor expands the
// pad to one token per merged patch).
const vlChatTemplate = "{% set image_count = namespace(value=0) %}" +
	"{% for message in messages %}" +
	"{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}" +
	"<|im_start|>{{ message['role'] }}\n" +
	"{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n" +
	"{% else %}{% for content in message['content'] %}" +
	"{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}" +
	"{% set image_count.value = image_count.value + 1 %}" +
	"{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>" +
	"{% elif 'text' in content %}{{ content['text'] }}{% endif %}" +
	"{% endfor %}<|im_end|>\n{% endif %}{% endfor %}" +
	"{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
