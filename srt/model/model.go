// Package model defines the transformer models the runtime serves and loads
// their weights from Hugging Face folders (safetensors) or GGUF files.
//
// A model is a plain struct with a short Forward over a Batch: rows of
// (token, position, KV slot), each row attending to its own list of KV slots,
// so one call can prefill some sequences and decode others, through one
// matrix multiply per weight. The model owns no scheduling: callers (the
// engine) decide which rows go into a batch and which KV slots they use.
//
// Architectures register by their Hugging Face name, like database/sql
// drivers: LlamaForCausalLM and Qwen2ForCausalLM are built in, and the
// vision-language Qwen2VLForConditionalGeneration and
// Qwen2_5_VLForConditionalGeneration (a VisionModel: Qwen2 with M-RoPE plus
// a vision tower whose image features enter through Batch.Embeds).
package model

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Batch is one forward step's input. All slices of per-row data have the same
// length n, the number of rows.
type Batch struct {
	Tokens    []int32   // [n] input token of each row
	Positions []int32   // [n] position of each row in its sequence
	Slots     []int32   // [n] KV slot each row's key and value are written to
	Context   [][]int32 // [n] KV slots each row attends to, in position order, ending with its own slot
	Logits    []int     // rows whose next-token logits are wanted, ascending

	// MRoPE optionally gives each row a (temporal, height, width) position
	// for models with M-RoPE (Qwen2-VL; see RopeIndex). nil means
	// (p, p, p) with p = Positions[i]; models without M-RoPE ignore it.
	MRoPE [][3]int32
	// Embeds optionally replaces token embeddings: a non-nil Embeds[i]
	// (Hidden values, e.g. an image feature at an <|image_pad|> token) is
	// row i's input instead of the embedding of Tokens[i].
	Embeds [][]float32
}

// Len is the number of rows.
func (b *Batch) Len() int { return len(b.Tokens) }

func (b *Batch) validate(vocab, capacity int) error {
	n := len(b.Tokens)
	if n == 0 {
		return fmt.Errorf("%w: empty batch", ErrBatch)
	}
	if len(b.Positions) != n || len(b.Slots) != n || len(b.Context) != n {
		return fmt.Errorf("%w: %d tokens but %d positions, %d slots, %d contexts",
			ErrBatch, n, len(b.Positions), len(b.Slots), len(b.Context))
	}
	for i, t := range b.Tokens {
		if t < 0 || int(t) >= vocab {
			return fmt.Errorf("%w: token id %d outside the vocabulary of %d", ErrBatch, t, vocab)
		}
		if s := b.Slots[i]; s < 0 || int(s) >= capacity {
			return fmt.Errorf("%w: KV slot %d outside the cache of %d", ErrBatch, s, capacity)
		}
		if c := b.Context[i]; len(c) == 0 || c[len(c)-1] != b.Slots[i] {
			return fmt.Errorf("%w: row %d's context must end with its own slot", ErrBatch, i)
		}
	}
	if b.MRoPE != nil && len(b.MRoPE) != n {
		return fmt.Errorf("%w: %d tokens but %d M-RoPE positions", ErrBatch, n, len(b.MRoPE))
	}
	if b.Embeds != nil && len(b.Embeds) != n {
		return fmt.Errorf("%w: %d tokens but %d embedding rows", ErrBatch, n, len(b.Embeds))
	}
	for i, r := range b.Logits {
		if r < 0 || r >= n || (i > 0 && r <= b.Logits[i-1]) {
			return fmt.Errorf("%w: logits rows must be ascending rows of the batch", ErrBatch)
		}
	}
	return nil
}

// KVCache holds keys and values for every layer, addressed by slot, in
// the head-major layout of tensor.KVLayer, as f32 or f16 values. The model
// writes one slot per batch row; which slots are free is the caller's
// business.
type KVCache struct {
	Layers   []*tensor.KVLayer
	Capacity int // slots
}

// NewKVCache allocates a cache of capacity slots for cfg's shape, holding
// dtype values (tensor.F32, tensor.F16, tensor.E5M2 or tensor.E4M3).
func NewKVCache(cfg *Config, capacity int, dtype tensor.DType) *KVCache {
	kv := &KVCache{Capacity: capacity}
	for range cfg.Layers {
		kv.Layers = append(kv.Layers, tensor.NewKVLayer(capacity, cfg.KVHeads, cfg.HeadDim, dtype))
	}
	return kv
}

// BytesPerSlot is the KV memory one token takes across all layers, with
// dtype values (tensor.F32, tensor.F16, tensor.E5M2 or tensor.E4M3).
func (c *Config) BytesPerSlot(dtype tensor.DType) int {
	return 2 * dtype.BlockBytes() * c.Layers * c.KVHeads * c.HeadDim
}

// Model is a loaded causal language model.
type Model interface {
	Config() *Config
	// Forward runs the batch, writes each row's key and value into kv, and
	// stores the logits of the rows b.Logits names into logits
	// ([len(b.Logits)][Vocab]). It is not safe for concurrent use.
	Forward(ctx context.Context, b *Batch, kv *KVCache, logits []float32) error
	// Close releases the weights (unmapping files).
	Close() error
}

// VisionModel is a Model that also encodes images (Qwen2-VL, Qwen2.5-VL).
// The caller preprocesses an image (srt/vision/image), encodes it, and puts
// the features into Batch.Embeds at the image's <|image_pad|> rows, with
// Batch.MRoPE positions from RopeIndex.
type VisionModel interface {
	Model
	// EncodeImage runs the vision tower on one image's pixel_values
	// ([t*h*w][PatchDim], patches in merge-window order) of grid [t, h, w]
	// patches and returns its features, [t*h*w/merge^2][OutHidden]. Like
	// Forward, it is not safe for concurrent use.
	EncodeImage(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error)
	// VisionInfo gives the special token ids and patch geometry.
	VisionInfo() VisionInfo
}

// Errors.
var (
	ErrBatch        = errors.New("model: bad batch")
	ErrArchitecture = errors.New("model: unknown architecture")
	ErrWeights      = errors.New("model: bad weights")
)

// Weights is where a builder reads named tensors from (HF names).
type Weights interface {
	Tensor(name string) (*tensor.Tensor, error)
	Has(name string) bool
}

// Builder makes a model of one architecture from its config and weights.
type Builder func(cfg *Config, w Weights, cpu *tensor.CPU) (Model, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Builder{}
)

// Register makes an architecture available by its Hugging Face name. It
// panics on a duplicate name, as database/sql.Register does: that is a
// programming error at init time.
func Register(arch string, b Builder) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[arch]; dup {
		panic("model: Register called twice for " + arch)
	}
	registry[arch] = b
}

// Architectures lists the registered architecture names.
func Architectures() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Build makes a model for cfg.Architecture.
func Build(cfg *Config, w Weights, cpu *tensor.CPU) (Model, error) {
	regMu.RLock()
	b, ok := registry[cfg.Architecture]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (supported: %v)", ErrArchitecture, cfg.Architecture, Architectures())
	}
	return b(cfg, w, cpu)
}
