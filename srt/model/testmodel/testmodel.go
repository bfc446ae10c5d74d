// Package testmodel writes seeded random-weight models, as Hugging Face
// folders or GGUF files, with the shapes of real ones. Tests and benchmarks
// use them where real weights cannot be downloaded. The same seed and shape
// give the same weights in both formats (Llama q/k are permuted into
// llama.cpp's layout for GGUF), so both load to the same model.
package testmodel

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/gguf"
	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/tensor"
)

// Options describe the model to write.
type Options struct {
	Arch          string // "llama" or "qwen2"
	Hidden        int
	Layers        int
	Heads         int
	KVHeads       int
	HeadDim       int // 0 = Hidden/Heads
	Intermediate  int
	Vocab         int
	ContextLength int
	RopeTheta     float64
	RMSNormEps    float64
	Untied        bool   // write a separate lm_head
	DType         string // f32, f16, bf16, q8_0 (q8_0 and q4_0 only for gguf)
	Format        string // "hf" or "gguf"
	Seed          uint64
	Out           string // folder (hf) or folder receiving model.gguf (gguf)
	// Tokenizer is optional: a tokenizer.json to copy into an hf folder, or,
	// for gguf, a GGUF file (llama.cpp's vocab-only files fit) whose
	// tokenizer.* metadata is copied, so llama.cpp can load the model too.
	// Vocab must equal that file's token count.
	Tokenizer string

	// Vision-language models (Arch "qwen2_vl" or "qwen2_5_vl", hf only);
	// zero values pick a small default (see vl.go).
	VisionDepth        int   // vision blocks
	VisionHidden       int   // vision embed dim
	VisionHeads        int   // vision attention heads
	VisionIntermediate int   // vision MLP size
	VisionFullAtt      []int // Qwen2.5-VL fullatt_block_indexes; nil: every depth/4-th block (at least every 2nd)
	WindowSize         int   // Qwen2.5-VL window_size in pixels; 0: 112
	MRoPESection       []int // rope_scaling.mrope_section; nil: head_dim/2 split 1/4, 3/8, 3/8
}

// ErrOptions reports options that cannot describe a model.
var ErrOptions = errors.New("testmodel: bad options")

func (o *Options) defaults() error {
	if o.HeadDim == 0 && o.Heads > 0 {
		o.HeadDim = o.Hidden / o.Heads
	}
	if o.KVHeads == 0 {
		o.KVHeads = o.Heads
	}
	if o.ContextLength == 0 {
		o.ContextLength = 4096
	}
	if o.RopeTheta == 0 {
		o.RopeTheta = map[string]float64{"qwen2": 1e6}[o.Arch]
		if o.RopeTheta == 0 {
			o.RopeTheta = 10000
		}
	}
	if o.RMSNormEps == 0 {
		o.RMSNormEps = 1e-6
	}
	if o.Format == "" {
		o.Format = "hf"
	}
	if o.DType == "" {
		o.DType = "f32"
	}
	switch {
	case o.Arch != "llama" && o.Arch != "qwen2":
		return fmt.Errorf("%w: --arch %q (want llama, qwen2, qwen2_vl or qwen2_5_vl)", ErrOptions, o.Arch)
	case o.Hidden <= 0 || o.Layers <= 0 || o.Heads <= 0 || o.Intermediate <= 0 || o.Vocab <= 0:
		return fmt.Errorf("%w: hidden, layers, heads, intermediate and vocab must be positive", ErrOptions)
	case o.Heads%o.KVHeads != 0 || o.HeadDim%2 != 0:
		return fmt.Errorf("%w: heads %d must be a multiple of kv-heads %d, head-dim %d even", ErrOptions, o.Heads, o.KVHeads, o.HeadDim)
	case o.Format != "hf" && o.Format != "gguf":
		return fmt.Errorf("%w: --format %q (want hf or gguf)", ErrOptions, o.Format)
	case o.Out == "":
		return fmt.Errorf("%w: --out is required", ErrOptions)
	}
	if _, err := o.dtype(); err != nil {
		return err
	}
	return nil
}

func (o *Options) dtype() (tensor.DType, error) {
	d, ok := map[string]tensor.DType{"f32": tensor.F32, "f16": tensor.F16, "bf16": tensor.BF16, "q8_0": tensor.Q8_0, "q4_0": tensor.Q4_0}[strings.ToLower(o.DType)]
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: --dtype %q (want f32, f16, bf16, q8_0 or q4_0)", ErrOptions, o.DType)
	case o.Format == "hf" && d.BlockSize() > 1:
		return 0, fmt.Errorf("%w: safetensors cannot hold %v; use --format gguf", ErrOptions, d)
	}
	return d, nil
}

// spec is one weight to generate: HF name, shape, and how to fill it.
type spec struct {
	name  string
	shape []int
	kind  int // fillNormal, fillNorm (around 1), fillBias
	std   float64
}

const (
	fillNormal = iota
	fillNorm
	fillBias
)

func (o *Options) specs() []spec {
	H, q, kv, I := o.Hidden, o.Heads*o.HeadDim, o.KVHeads*o.HeadDim, o.Intermediate
	lin := func(name string, out, in int) spec {
		return spec{name, []int{out, in}, fillNormal, 1 / math.Sqrt(float64(in))}
	}
	s := []spec{{"model.embed_tokens.weight", []int{o.Vocab, H}, fillNormal, 1}}
	for l := 0; l < o.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		s = append(s,
			spec{p + "input_layernorm.weight", []int{H}, fillNorm, 0},
			lin(p+"self_attn.q_proj.weight", q, H),
			lin(p+"self_attn.k_proj.weight", kv, H),
			lin(p+"self_attn.v_proj.weight", kv, H),
		)
		if o.Arch == "qwen2" {
			s = append(s,
				spec{p + "self_attn.q_proj.bias", []int{q}, fillBias, 0.5},
				spec{p + "self_attn.k_proj.bias", []int{kv}, fillBias, 0.5},
				spec{p + "self_attn.v_proj.bias", []int{kv}, fillBias, 0.5})
		}
		s = append(s,
			lin(p+"self_attn.o_proj.weight", H, q),
			spec{p + "post_attention_layernorm.weight", []int{H}, fillNorm, 0},
			lin(p+"mlp.gate_proj.weight", I, H),
			lin(p+"mlp.up_proj.weight", I, H),
			lin(p+"mlp.down_proj.weight", H, I),
		)
	}
	s = append(s, spec{"model.norm.weight", []int{H}, fillNorm, 0})
	if o.Untied {
		s = append(s, lin("lm_head.weight", o.Vocab, H))
	}
	return s
}

// fill generates a spec's values from its own stream, so weights do not
// depend on generation order or on which format is written.
func (o *Options) fill(i int, sp spec) []float32 {
	n := 1
	for _, d := range sp.shape {
		n *= d
	}
	r := rand.New(rand.NewPCG(o.Seed, uint64(i)))
	v := make([]float32, n)
	for j := range v {
		switch sp.kind {
		case fillNorm:
			v[j] = float32(0.5 + r.Float64())
		default:
			v[j] = float32(r.NormFloat64() * sp.std)
		}
	}
	return v
}

// Write generates the model and writes it to o.Out.
func Write(o Options) error {
	if isVL(o.Arch) {
		return writeVL(o)
	}
	if err := o.defaults(); err != nil {
		return err
	}
	dt, _ := o.dtype()
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	specs := o.specs()
	tensors := make([]*tensor.Tensor, len(specs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, sp := range specs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v := o.fill(i, sp)
			if o.Format == "gguf" && o.Arch == "llama" && (strings.HasSuffix(sp.name, "q_proj.weight") || strings.HasSuffix(sp.name, "k_proj.weight")) {
				v = toInterleaved(v, sp.shape[0]/o.HeadDim, o.HeadDim, sp.shape[1])
			}
			t := dt
			if len(sp.shape) == 1 {
				t = tensor.F32 // norms and biases stay f32, as llama.cpp keeps them
				if o.Format == "hf" {
					t = dt
				}
			}
			tensors[i] = encode(v, sp.shape, t)
		}()
	}
	wg.Wait()
	if o.Format == "gguf" {
		return o.writeGGUF(specs, tensors)
	}
	return o.writeHF(specs, tensors)
}

// toInterleaved permutes q/k rows of each head from Hugging Face's
// rotate_half layout (i, i+d/2) to Meta's interleaved pairs (2i, 2i+1).
func toInterleaved(v []float32, heads, d, cols int) []float32 {
	out := make([]float32, len(v))
	for h := 0; h < heads; h++ {
		for i := 0; i < d/2; i++ {
			for j := 0; j < 2; j++ {
				src := (h*d + j*d/2 + i) * cols
				dst := (h*d + 2*i + j) * cols
				copy(out[dst:dst+cols], v[src:src+cols])
			}
		}
	}
	return out
}

func encode(v []float32, shape []int, t tensor.DType) *tensor.Tensor {
	cols := shape[len(shape)-1]
	data := make([]byte, len(v)/cols*t.RowBytes(cols))
	switch t {
	case tensor.F32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
		}
	case tensor.F16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(data[2*i:], tensor.F32ToF16(x))
		}
	case tensor.BF16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(data[2*i:], tensor.F32ToBF16(x))
		}
	default:
		tensor.Quantize(data, v, t)
	}
	return &tensor.Tensor{DType: t, Shape: shape, Data: data}
}

func (o *Options) hfConfig() map[string]any {
	arch := map[string]string{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[o.Arch]
	dtype := map[string]string{"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[strings.ToLower(o.DType)]
	c := map[string]any{
		"architectures": []string{arch}, "model_type": o.Arch, "hidden_size": o.Hidden,
		"num_hidden_layers": o.Layers, "num_attention_heads": o.Heads, "num_key_value_heads": o.KVHeads,
		"head_dim": o.HeadDim, "intermediate_size": o.Intermediate, "vocab_size": o.Vocab,
		"max_position_embeddings": o.ContextLength, "rope_theta": o.RopeTheta, "rms_norm_eps": o.RMSNormEps,
		"tie_word_embeddings": !o.Untied, "hidden_act": "silu", "torch_dtype": dtype,
		"bos_token_id": 1, "eos_token_id": 2,
	}
	if o.Arch == "qwen2" {
		c["bos_token_id"], c["eos_token_id"] = 151643, 151645
	}
	return c
}

func (o *Options) writeHF(specs []spec, tensors []*tensor.Tensor) error {
	named := make(map[string]*tensor.Tensor, len(specs))
	for i, sp := range specs {
		named[sp.name] = tensors[i]
	}
	if err := safetensors.Write(filepath.Join(o.Out, "model.safetensors"), named, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	cfg, _ := json.MarshalIndent(o.hfConfig(), "", "  ")
	if err := os.WriteFile(filepath.Join(o.Out, "config.json"), cfg, 0o644); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	if o.Tokenizer != "" {
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
	}
	return nil
}

func (o *Options) writeGGUF(specs []spec, tensors []*tensor.Tensor) error {
	a := o.Arch
	meta := []gguf.KV{
		{Key: "general.architecture", Value: a},
		{Key: "general.name", Value: "sglang-go testmodel"},
		{Key: a + ".context_length", Value: uint32(o.ContextLength)},
		{Key: a + ".embedding_length", Value: uint32(o.Hidden)},
		{Key: a + ".block_count", Value: uint32(o.Layers)},
		{Key: a + ".feed_forward_length", Value: uint32(o.Intermediate)},
		{Key: a + ".attention.head_count", Value: uint32(o.Heads)},
		{Key: a + ".attention.head_count_kv", Value: uint32(o.KVHeads)},
		{Key: a + ".attention.key_length", Value: uint32(o.HeadDim)},
		{Key: a + ".attention.value_length", Value: uint32(o.HeadDim)},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: float32(o.RMSNormEps)},
		{Key: a + ".rope.freq_base", Value: float32(o.RopeTheta)},
		{Key: a + ".rope.dimension_count", Value: uint32(o.HeadDim)},
		{Key: a + ".vocab_size", Value: uint32(o.Vocab)},
	}
	if o.Tokenizer != "" {
		vocab, err := o.ggufVocab()
		if err != nil {
			return err
		}
		meta = append(meta, vocab...)
	}
	wt := make([]gguf.WriteTensor, len(specs))
	for i, sp := range specs {
		t := tensors[i]
		wt[i] = gguf.WriteTensor{Name: model.GGUFName(sp.name), DType: t.DType, Shape: t.Shape, Data: t.Data}
	}
	f, err := os.Create(filepath.Join(o.Out, "model.gguf"))
	if err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	if err := gguf.Write(f, meta, wt); err != nil {
		f.Close()
		return fmt.Errorf("testmodel: %w", err)
	}
	return f.Close()
}

// ggufVocab reads the tokenizer.* metadata of the GGUF file o.Tokenizer
// and checks its token count against o.Vocab.
func (o *Options) ggufVocab() ([]gguf.KV, error) {
	f, err := gguf.Open(o.Tokenizer)
	if err != nil {
		return nil, fmt.Errorf("testmodel: --tokenizer for a gguf model must be a GGUF file: %w", err)
	}
	defer f.Close()
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	n := len(toks)
	if !ok {
		n = -1
	}
	var out []gguf.KV
	for _, kv := range f.KVs() {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			out = append(out, kv)
		}
	}
	switch {
	case n < 0:
		return nil, fmt.Errorf("%w: %s has no tokenizer.ggml.tokens", ErrOptions, o.Tokenizer)
	case n != o.Vocab:
		return nil, fmt.Errorf("%w: --vocab %d but %s has %d tokens", ErrOptions, o.Vocab, o.Tokenizer, n)
	}
	return out, nil
}
