package model

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sglang-go/sglang/srt/model/gguf"
	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/tensor"
)

// LoadHF loads a Hugging Face model folder: config.json (+
// generation_config.json) and its safetensors, memory-mapped.
func LoadHF(dir string, cpu *tensor.CPU) (Model, error) {
	cfg, err := ReadHFConfig(dir)
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m, err := Build(cfg, hfWeights{set}, cpu)
	if err != nil {
		set.Close()
		return nil, err
	}
	setCloser(m, set.Close)
	return m, nil
}

type hfWeights struct{ set *safetensors.Set }

func (w hfWeights) Tensor(name string) (*tensor.Tensor, error) { return w.set.Tensor(name) }
func (w hfWeights) Has(name string) bool {
	_, ok := w.set.Info(name)
	return ok
}

// setCloser makes m release its weight file when closed. Models built on
// Llama (Qwen2VL embeds it) get this through Llama.onClose.
func setCloser(m Model, c func() error) {
	if l, ok := m.(interface{ onClose(func() error) }); ok {
		l.onClose(c)
	}
}

// ggufArchs maps GGUF's general.architecture to Hugging Face names.
var ggufArchs = map[string]string{
	"llama": "LlamaForCausalLM",
	"qwen2": "Qwen2ForCausalLM",
}

// LoadGGUF builds a model from an open GGUF file, whose tensors it uses in
// place. The model closes f when it is closed.
func LoadGGUF(f *gguf.File, cpu *tensor.CPU) (Model, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	m, err := Build(cfg, ggufWeights{f}, cpu)
	if err != nil {
		return nil, err
	}
	setCloser(m, f.Close)
	return m, nil
}

// ConfigFromGGUF reads the model shape from GGUF metadata.
func ConfigFromGGUF(f *gguf.File) (*Config, error) {
	arch, _ := f.String("general.architecture")
	hfArch, ok := ggufArchs[arch]
	if !ok {
		return nil, fmt.Errorf("%w %q in GGUF (supported: llama, qwen2)", ErrArchitecture, arch)
	}
	num := func(key string) int {
		v, _ := f.Int(arch + "." + key)
		return int(v)
	}
	c := &Config{
		Architecture: hfArch, ModelType: arch,
		Hidden: num("embedding_length"), Layers: num("block_count"),
		Heads: num("attention.head_count"), KVHeads: num("attention.head_count_kv"),
		Intermediate: num("feed_forward_length"), ContextLength: num("context_length"),
		HeadDim: num("attention.key_length"), Vocab: num("vocab_size"), BOS: -1,
		AttnBias: arch == "qwen2",
		// llama.cpp stores Llama q/k in Meta's interleaved layout (NORM rope);
		// Qwen2 keeps Hugging Face's rotate_half layout (NEOX rope).
		RopeInterleaved: arch == "llama",
	}
	if eps, ok := f.Float32(arch + ".attention.layer_norm_rms_epsilon"); ok {
		c.RMSNormEps = eps
	} else {
		c.RMSNormEps = 1e-5
	}
	if theta, ok := f.Float32(arch + ".rope.freq_base"); ok {
		c.RopeTheta = float64(theta)
	} else {
		c.RopeTheta = 10000
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.HeadDim == 0 && c.Heads > 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if c.Vocab == 0 {
		if ti, ok := f.TensorInfo("token_embd.weight"); ok && len(ti.Dims) == 2 {
			c.Vocab = int(ti.Dims[1])
		}
	}
	_, hasOutput := f.TensorInfo("output.weight")
	c.TieEmbeddings = !hasOutput
	if v, ok := f.Int("tokenizer.ggml.bos_token_id"); ok {
		c.BOS = int32(v)
	}
	if v, ok := f.Int("tokenizer.ggml.eos_token_id"); ok {
		c.EOS = []int32{int32(v)}
	}
	if v, ok := f.Int("tokenizer.ggml.eot_token_id"); ok {
		c.EOS = mergeIDs(c.EOS, []int32{int32(v)})
	}
	if _, ok := f.TensorInfo("rope_freqs.weight"); ok {
		t, err := f.Tensor("rope_freqs.weight")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWeights, err)
		}
		m, err := t.Matrix()
		if err != nil || m.Cols != c.HeadDim/2 {
			return nil, fmt.Errorf("%w: rope_freqs.weight has shape %v, want [%d]", ErrWeights, t.Shape, c.HeadDim/2)
		}
		c.RopeFactors = make([]float32, m.Cols)
		m.Row(0, c.RopeFactors)
	}
	return c, c.Validate()
}

type ggufWeights struct{ f *gguf.File }

var layerName = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)

var ggufBlockNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.q_proj.bias":           "attn_q.bias",
	"self_attn.k_proj.bias":           "attn_k.bias",
	"self_attn.v_proj.bias":           "attn_v.bias",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// GGUFName maps a Hugging Face tensor name to llama.cpp's GGUF name.
func GGUFName(hf string) string {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight"
	case "model.norm.weight":
		return "output_norm.weight"
	case "lm_head.weight":
		return "output.weight"
	}
	if m := layerName.FindStringSubmatch(hf); m != nil {
		if g, ok := ggufBlockNames[m[2]]; ok {
			return "blk." + m[1] + "." + g
		}
	}
	return strings.ReplaceAll(hf, "model.", "")
}

func (w ggufWeights) Tensor(name string) (*tensor.Tensor, error) { return w.f.Tensor(GGUFName(name)) }
func (w ggufWeights) Has(name string) bool {
	_, ok := w.f.TensorInfo(GGUFName(name))
	return ok
}
