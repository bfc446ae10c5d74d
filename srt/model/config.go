package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Config is the shape of a decoder-only transformer, read from a Hugging Face
// config.json or from GGUF metadata. Field names follow config.json.
type Config struct {
	Architecture  string  // "LlamaForCausalLM", "Qwen2ForCausalLM", ...
	ModelType     string  // "llama", "qwen2"
	Hidden        int     // hidden_size
	Layers        int     // num_hidden_layers
	Heads         int     // num_attention_heads
	KVHeads       int     // num_key_value_heads (grouped-query attention)
	HeadDim       int     // head_dim, default Hidden/Heads
	Intermediate  int     // intermediate_size
	Vocab         int     // vocab_size
	RMSNormEps    float32 // rms_norm_eps
	RopeTheta     float64 // rope_theta
	RopeScaling   *RopeScaling
	TieEmbeddings bool    // tie_word_embeddings
	ContextLength int     // max_position_embeddings (or GGUF context_length)
	AttnBias      bool    // q/k/v projections carry a bias (Qwen2)
	BOS           int32   // -1 when unknown
	EOS           []int32 // from config.json and generation_config.json

	// RopeInterleaved selects the Meta/GGUF pair layout (2i, 2i+1) for q/k
	// instead of Hugging Face's rotate_half layout (i, i+HeadDim/2). It is
	// a property of how q/k weights are stored, set by the loader.
	RopeInterleaved bool
	// RopeFactors divide the rotary frequencies (GGUF's rope_freqs.weight,
	// llama.cpp's form of Llama 3 rope scaling); nil when absent.
	RopeFactors []float32

	// MRoPESection is rope_scaling.mrope_section (Qwen2-VL's multimodal
	// rotary embedding): how many of the HeadDim/2 frequencies rotate by the
	// temporal, height and width position; nil for plain RoPE.
	MRoPESection []int
	// Vision is the vision tower of a vision-language model (Qwen2-VL,
	// Qwen2.5-VL), nil for text-only models.
	Vision *VisionConfig
}

// RopeScaling is config.json's rope_scaling. Types "llama3" and "linear" are
// supported.
type RopeScaling struct {
	Type                          string  `json:"rope_type"`
	LegacyType                    string  `json:"type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings float64 `json:"original_max_position_embeddings"`
	MRoPESection                  []int   `json:"mrope_section"`
	RopeTheta                     float64 `json:"rope_theta"` // only in transformers v5's rope_parameters
}

// ErrConfig reports a config that cannot describe a supported model.
var ErrConfig = errors.New("model: bad config")

type hfConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	HiddenSize            int             `json:"hidden_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	HeadDim               int             `json:"head_dim"`
	IntermediateSize      int             `json:"intermediate_size"`
	VocabSize             int             `json:"vocab_size"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	RopeTheta             float64         `json:"rope_theta"`
	RopeScaling           *RopeScaling    `json:"rope_scaling"`
	RopeParameters        *RopeScaling    `json:"rope_parameters"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	HiddenAct             string          `json:"hidden_act"`
}

// ReadHFConfig reads dir/config.json and, if present, dir/generation_config.json.
func ReadHFConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	cfg, err := ParseHFConfig(b)
	if err != nil {
		return nil, err
	}
	if g, err := os.ReadFile(filepath.Join(dir, "generation_config.json")); err == nil {
		var gen struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(g, &gen); err != nil {
			return nil, fmt.Errorf("%w: generation_config.json: %v", ErrConfig, err)
		}
		cfg.EOS = mergeIDs(cfg.EOS, parseIDs(gen.EOS))
	}
	return cfg, nil
}

// ParseHFConfig parses the contents of a config.json.
func ParseHFConfig(b []byte) (*Config, error) {
	b, err := flattenTextConfig(b)
	if err != nil {
		return nil, err
	}
	var h hfConfig
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: config.json: %v", ErrConfig, err)
	}
	c := &Config{
		ModelType:     h.ModelType,
		Hidden:        h.HiddenSize,
		Layers:        h.NumHiddenLayers,
		Heads:         h.NumAttentionHeads,
		KVHeads:       h.NumKeyValueHeads,
		HeadDim:       h.HeadDim,
		Intermediate:  h.IntermediateSize,
		Vocab:         h.VocabSize,
		RMSNormEps:    float32(h.RMSNormEps),
		RopeTheta:     h.RopeTheta,
		RopeScaling:   h.RopeScaling,
		TieEmbeddings: h.TieWordEmbeddings == nil || *h.TieWordEmbeddings,
		ContextLength: h.MaxPositionEmbeddings,
		BOS:           -1,
	}
	if len(h.Architectures) > 0 {
		c.Architecture = h.Architectures[0]
	}
	if ids := parseIDs(h.BOSTokenID); len(ids) > 0 {
		c.BOS = ids[0]
	}
	c.EOS = parseIDs(h.EOSTokenID)
	if h.HiddenAct != "" && h.HiddenAct != "silu" {
		return nil, fmt.Errorf("%w: hidden_act %q is not supported (want silu)", ErrConfig, h.HiddenAct)
	}
	switch h.ModelType {
	case "qwen2_vl", "qwen2_5_vl":
		c.AttnBias = true
		if h.TieWordEmbeddings == nil {
			c.TieEmbeddings = false
		}
		if c.Vision, err = parseVisionConfig(b, h.ModelType); err != nil {
			return nil, err
		}
	case "qwen2":
		c.AttnBias = true
		if h.TieWordEmbeddings == nil {
			c.TieEmbeddings = false
		}
	case "llama":
		if h.TieWordEmbeddings == nil {
			c.TieEmbeddings = false
		}
	}
	if h.AttentionBias != nil {
		c.AttnBias = *h.AttentionBias
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.HeadDim == 0 && c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.RopeScaling == nil && h.RopeParameters != nil {
		c.RopeScaling = h.RopeParameters
		if c.RopeTheta == 0 {
			c.RopeTheta = h.RopeParameters.RopeTheta
		}
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if s := c.RopeScaling; s != nil && len(s.MRoPESection) > 0 {
		c.MRoPESection = append([]int(nil), s.MRoPESection...)
	}
	return c, c.Validate()
}

// Validate checks that the shape is consistent.
func (c *Config) Validate() error {
	switch {
	case c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Intermediate <= 0 || c.Vocab <= 0:
		return fmt.Errorf("%w: hidden %d, layers %d, heads %d, intermediate %d, vocab %d must all be positive",
			ErrConfig, c.Hidden, c.Layers, c.Heads, c.Intermediate, c.Vocab)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: %d attention heads is not a multiple of %d KV heads", ErrConfig, c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("%w: head_dim %d must be positive and even", ErrConfig, c.HeadDim)
	}
	if s := c.RopeScaling; s != nil {
		switch s.kind() {
		case "llama3", "linear", "default", "", "mrope":
		default:
			return fmt.Errorf("%w: rope_scaling type %q is not supported (llama3, linear)", ErrConfig, s.kind())
		}
		if k := s.kind(); k != "default" && k != "" && k != "mrope" && s.Factor <= 0 {
			return fmt.Errorf("%w: rope_scaling factor %v must be positive", ErrConfig, s.Factor)
		}
	}
	if sec := c.MRoPESection; sec != nil {
		sum := 0
		for _, v := range sec {
			if v < 0 {
				sum = -1
				break
			}
			sum += v
		}
		if len(sec) != 3 || sum != c.HeadDim/2 {
			return fmt.Errorf("%w: mrope_section %v must be 3 non-negative sizes summing to head_dim/2 = %d", ErrConfig, sec, c.HeadDim/2)
		}
	}
	if c.Vision != nil {
		if err := c.Vision.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func (s *RopeScaling) kind() string {
	if s.Type != "" {
		return s.Type
	}
	return s.LegacyType
}

func parseIDs(raw json.RawMessage) []int32 {
	if len(raw) == 0 {
		return nil
	}
	var one int32
	if json.Unmarshal(raw, &one) == nil {
		return []int32{one}
	}
	var many []int32
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

func mergeIDs(a, b []int32) []int32 {
	out := append([]int32(nil), a...)
	for _, id := range b {
		dup := false
		for _, x := range out {
			dup = dup || x == id
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}
