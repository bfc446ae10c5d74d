package model

import (
	"context"
	"fmt"
	"math"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Llama is the Llama decoder (Llama 2/3, TinyLlama, SmolLM, stories), and,
// with q/k/v biases, Qwen2/Qwen2.5: pre-norm blocks of grouped-query
// attention with rotary positions and a SwiGLU MLP.
type Llama struct {
	cfg    Config
	cpu    *tensor.CPU
	Embed  *tensor.Matrix // [vocab, hidden]
	Blocks []*Block
	Norm   []float32      // [hidden] final RMSNorm
	LMHead *tensor.Matrix // [vocab, hidden]; == Embed when tied
	freqs  []float64      // [head_dim/2] rotary inverse frequencies
	mrope  []int          // M-RoPE sections of freqs (t, h, w); nil for plain RoPE
	close  func() error
	s      scratch
}

// Block is one transformer layer.
type Block struct {
	AttnNorm   []float32      // [hidden]
	Q          *tensor.Matrix // [heads*head_dim, hidden]
	K, V       *tensor.Matrix // [kv_heads*head_dim, hidden]
	QB, KB, VB []float32      // [heads*head_dim], [kv_heads*head_dim] x2; nil without attention bias
	O          *tensor.Matrix // [hidden, heads*head_dim]
	MLPNorm    []float32      // [hidden]
	Gate, Up   *tensor.Matrix // [intermediate, hidden]
	Down       *tensor.Matrix // [hidden, intermediate]
}

func init() {
	Register("LlamaForCausalLM", newLlama)
	Register("Qwen2ForCausalLM", newLlama) // Llama plus q/k/v bias (Config.AttnBias)
}

func newLlama(cfg *Config, w Weights, cpu *tensor.CPU) (Model, error) {
	c := *cfg
	if err := c.Validate(); err != nil {
		return nil, err
	}
	ld := loader{w: w}
	H, q, kv, I := c.Hidden, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.Intermediate
	m := &Llama{cfg: c, cpu: cpu, freqs: ropeFreqs(&c), mrope: c.MRoPESection}
	m.Embed = ld.matrix("model.embed_tokens.weight", c.Vocab, H)
	m.Norm = ld.vector("model.norm.weight", H)
	if !c.TieEmbeddings || w.Has("lm_head.weight") {
		m.LMHead = ld.matrix("lm_head.weight", c.Vocab, H)
	} else {
		m.LMHead = m.Embed
	}
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		b := &Block{
			AttnNorm: ld.vector(p+"input_layernorm.weight", H),
			Q:        ld.matrix(p+"self_attn.q_proj.weight", q, H),
			K:        ld.matrix(p+"self_attn.k_proj.weight", kv, H),
			V:        ld.matrix(p+"self_attn.v_proj.weight", kv, H),
			O:        ld.matrix(p+"self_attn.o_proj.weight", H, q),
			MLPNorm:  ld.vector(p+"post_attention_layernorm.weight", H),
			Gate:     ld.matrix(p+"mlp.gate_proj.weight", I, H),
			Up:       ld.matrix(p+"mlp.up_proj.weight", I, H),
			Down:     ld.matrix(p+"mlp.down_proj.weight", H, I),
		}
		if c.AttnBias {
			b.QB = ld.vector(p+"self_attn.q_proj.bias", q)
			b.KB = ld.vector(p+"self_attn.k_proj.bias", kv)
			b.VB = ld.vector(p+"self_attn.v_proj.bias", kv)
		}
		m.Blocks = append(m.Blocks, b)
	}
	if ld.err != nil {
		return nil, ld.err
	}
	return m, nil
}

// WeightDType is the storage type of the layer weights.
func (m *Llama) WeightDType() tensor.DType {
	if len(m.Blocks) == 0 {
		return m.Embed.DType
	}
	return m.Blocks[0].Q.DType
}

// Config returns the model's shape.
func (m *Llama) Config() *Config { return &m.cfg }

// onClose sets what Close releases (the mapped weight files).
func (m *Llama) onClose(c func() error) { m.close = c }

// Close releases the weights.
func (m *Llama) Close() error {
	if m.close != nil {
		return m.close()
	}
	return nil
}

// Forward runs one batch; see Model.
func (m *Llama) Forward(ctx context.Context, b *Batch, kv *KVCache, logits []float32) error {
	c := &m.cfg
	if err := b.validate(c.Vocab, kv.Capacity); err != nil {
		return err
	}
	if want := len(b.Logits) * c.Vocab; len(logits) < want {
		return fmt.Errorf("%w: logits buffer of %d floats, need %d", ErrBatch, len(logits), want)
	}
	n, H := b.Len(), c.Hidden
	s := m.s.ensure(c, n)
	for i, t := range b.Tokens {
		if b.Embeds != nil && b.Embeds[i] != nil {
			if len(b.Embeds[i]) != H {
				return fmt.Errorf("%w: row %d's embedding has %d values, want %d", ErrBatch, i, len(b.Embeds[i]), H)
			}
			copy(s.x[i*H:(i+1)*H], b.Embeds[i])
			continue
		}
		m.Embed.Row(int(t), s.x[i*H:(i+1)*H])
	}
	if m.mrope != nil && b.MRoPE != nil {
		fillMRoPE(s.cos, s.sin, b.MRoPE, m.freqs, m.mrope)
	} else {
		fillRope(s.cos, s.sin, b.Positions, m.freqs)
	}
	if len(kv.Layers) != len(m.Blocks) {
		return fmt.Errorf("%w: a KV cache of %d layers for %d blocks", ErrBatch, len(kv.Layers), len(m.Blocks))
	}
	plan := tensor.PlanAttention(b.Context)
	for l, blk := range m.Blocks {
		if err := ctx.Err(); err != nil {
			return err
		}
		blk.forward(m, s, b, kv.Layers[l], plan)
	}
	if len(b.Logits) == 0 {
		return nil
	}
	for j, r := range b.Logits {
		copy(s.h[j*H:(j+1)*H], s.x[r*H:(r+1)*H])
	}
	nl := len(b.Logits)
	tensor.RMSNorm(s.h[:nl*H], s.h[:nl*H], m.Norm, nl, c.RMSNormEps)
	m.cpu.MatMul(logits[:nl*c.Vocab], s.h[:nl*H], nl, m.LMHead)
	return nil
}

// forward is one pre-norm block: x += Attn(RMSNorm(x)); x += MLP(RMSNorm(x)).
func (blk *Block) forward(m *Llama, s *scratch, b *Batch, kvl *tensor.KVLayer, plan *tensor.AttnPlan) {
	c, cpu, n := &m.cfg, m.cpu, b.Len()
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	tensor.RMSNorm(s.h, s.x, blk.AttnNorm, n, c.RMSNormEps)
	cpu.MatMul(s.q[:n*q], s.h[:n*c.Hidden], n, blk.Q)
	cpu.MatMul(s.k[:n*kv], s.h[:n*c.Hidden], n, blk.K)
	cpu.MatMul(s.v[:n*kv], s.h[:n*c.Hidden], n, blk.V)
	if blk.QB != nil {
		tensor.AddBias(s.q[:n*q], n, blk.QB)
		tensor.AddBias(s.k[:n*kv], n, blk.KB)
		tensor.AddBias(s.v[:n*kv], n, blk.VB)
	}
	tensor.RoPE(s.q[:n*q], n, c.Heads, c.HeadDim, s.cos, s.sin, !c.RopeInterleaved)
	tensor.RoPE(s.k[:n*kv], n, c.KVHeads, c.HeadDim, s.cos, s.sin, !c.RopeInterleaved)
	for i, slot := range b.Slots {
		kvl.Store(int(slot), s.k[i*kv:(i+1)*kv], s.v[i*kv:(i+1)*kv])
	}
	cpu.AttentionKV(s.att[:n*q], s.q[:n*q], kvl, b.Context, plan, tensor.AttnParams{
		NHeads: c.Heads, NKVHeads: c.KVHeads, HeadDim: c.HeadDim, Scale: float32(1 / math.Sqrt(float64(c.HeadDim))),
	})
	cpu.MatMul(s.h[:n*c.Hidden], s.att[:n*q], n, blk.O)
	tensor.Add(s.x[:n*c.Hidden], s.h[:n*c.Hidden])

	tensor.RMSNorm(s.h, s.x, blk.MLPNorm, n, c.RMSNormEps)
	I := c.Intermediate
	cpu.MatMul(s.gate[:n*I], s.h[:n*c.Hidden], n, blk.Gate)
	cpu.MatMul(s.up[:n*I], s.h[:n*c.Hidden], n, blk.Up)
	tensor.SiLUMul(s.gate[:n*I], s.up[:n*I])
	cpu.MatMul(s.h[:n*c.Hidden], s.gate[:n*I], n, blk.Down)
	tensor.Add(s.x[:n*c.Hidden], s.h[:n*c.Hidden])
}

// scratch holds the activations of one forward, grown to the largest batch.
type scratch struct {
	rows                         int
	x, h, q, k, v, att, gate, up []float32
	cos, sin                     []float32
}

func (s *scratch) ensure(c *Config, n int) *scratch {
	if n <= s.rows {
		s.trim(c, n)
		return s
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	s.rows = n
	s.x = make([]float32, n*c.Hidden)
	s.h = make([]float32, n*c.Hidden)
	s.q = make([]float32, n*q)
	s.att = make([]float32, n*q)
	s.k = make([]float32, n*kv)
	s.v = make([]float32, n*kv)
	s.gate = make([]float32, n*c.Intermediate)
	s.up = make([]float32, n*c.Intermediate)
	s.cos = make([]float32, n*c.HeadDim/2)
	s.sin = make([]float32, n*c.HeadDim/2)
	s.trim(c, n)
	return s
}

// trim reslices the row-wise buffers that whole-buffer ops read to n rows.
func (s *scratch) trim(c *Config, n int) {
	s.x = s.x[:n*c.Hidden]
	s.h = s.h[:n*c.Hidden]
	s.cos = s.cos[:n*c.HeadDim/2]
	s.sin = s.sin[:n*c.HeadDim/2]
}
