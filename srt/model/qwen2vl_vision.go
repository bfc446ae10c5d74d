package model

import (
	"context"
	"fmt"
	"math"

	"github.com/sglang-go/sglang/srt/tensor"
)

// VisionTower is the Qwen2-VL / Qwen2.5-VL vision encoder (HF's
// Qwen2VisionTransformerPretrainedModel and
// Qwen2_5_VisionTransformerPretrainedModel): patches are embedded by a
// Conv3d whose stride equals its kernel (a matmul over pixel rows), pass
// through pre-norm transformer blocks with 2-D rotary positions, and every
// merge×merge group of neighbouring patches is merged by an MLP into one
// feature of the language model's hidden size.
//
// Qwen2-VL blocks use LayerNorm and a QuickGELU MLP and attend over the
// whole image. Qwen2.5-VL blocks use RMSNorm and a SwiGLU MLP, and attend
// within windows of window_size pixels except at FullAttBlocks; the patches
// are permuted window by window for the blocks and back after the merger.
type VisionTower struct {
	cfg        VisionConfig
	cpu        *tensor.CPU
	PatchEmbed *tensor.Matrix // [hidden, in_chans*temporal_patch*patch*patch]
	Blocks     []*VisionBlock
	Merger     *PatchMerger
	freqs      []float64 // [head_dim/4] 2-D rotary inverse frequencies
}

// VisionBlock is one vision transformer block:
// x += Proj(Attn(Norm1 x)); x += MLP(Norm2 x).
type VisionBlock struct {
	Norm1, Norm1B []float32      // [hidden]; bias only for LayerNorm (Qwen2-VL)
	QKV           *tensor.Matrix // [3*hidden, hidden]: q, k, v, each [heads][head_dim]
	QKVB          []float32      // [3*hidden]
	Proj          *tensor.Matrix // [hidden, hidden]
	ProjB         []float32      // [hidden]
	Norm2, Norm2B []float32      // [hidden]

	// Qwen2-VL MLP: FC2(act(FC1 x)).
	FC1  *tensor.Matrix // [intermediate, hidden]
	FC1B []float32      // [intermediate]
	FC2  *tensor.Matrix // [hidden, intermediate]
	FC2B []float32      // [hidden]

	// Qwen2.5-VL MLP: Down(act(Gate x) * Up x).
	Gate, Up   *tensor.Matrix // [intermediate, hidden]
	GateB, UpB []float32      // [intermediate]
	Down       *tensor.Matrix // [hidden, intermediate]
	DownB      []float32      // [hidden]

	FullAttention bool // attends over the whole frame (always, for Qwen2-VL)
}

// PatchMerger merges merge×merge neighbouring patches (consecutive rows in
// merge-window order): FC2(GELU(FC1(concat(Norm(x_1..x_m²))))).
type PatchMerger struct {
	Norm, NormB []float32      // [hidden] ln_q; bias only for LayerNorm (Qwen2-VL)
	FC1         *tensor.Matrix // [hidden*merge², hidden*merge²]
	FC1B        []float32      // [hidden*merge²]
	FC2         *tensor.Matrix // [out_hidden, hidden*merge²]
	FC2B        []float32      // [out_hidden]
}

// newVisionTower loads visual.* weights (HF names).
func newVisionTower(v *VisionConfig, w Weights, cpu *tensor.CPU) (*VisionTower, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	ld := loader{w: w}
	E, I, U := v.Hidden, v.Intermediate, v.Hidden*v.MergeSize*v.MergeSize
	qwen2 := v.Kind == "qwen2_vl"
	vt := &VisionTower{cfg: *v, cpu: cpu}
	vt.cfg.FullAttBlocks = append([]int(nil), v.FullAttBlocks...)
	vt.PatchEmbed = ld.patchEmbed("visual.patch_embed.proj.weight", v)
	norm := func(name string) ([]float32, []float32) {
		if qwen2 {
			return ld.vector(name+".weight", E), ld.vector(name+".bias", E)
		}
		return ld.vector(name+".weight", E), nil
	}
	for l := 0; l < v.Depth; l++ {
		p := fmt.Sprintf("visual.blocks.%d.", l)
		b := &VisionBlock{
			QKV:   ld.matrix(p+"attn.qkv.weight", 3*E, E),
			QKVB:  ld.vector(p+"attn.qkv.bias", 3*E),
			Proj:  ld.matrix(p+"attn.proj.weight", E, E),
			ProjB: ld.vector(p+"attn.proj.bias", E),
		}
		b.Norm1, b.Norm1B = norm(p + "norm1")
		b.Norm2, b.Norm2B = norm(p + "norm2")
		if qwen2 {
			b.FC1, b.FC1B = ld.matrix(p+"mlp.fc1.weight", I, E), ld.vector(p+"mlp.fc1.bias", I)
			b.FC2, b.FC2B = ld.matrix(p+"mlp.fc2.weight", E, I), ld.vector(p+"mlp.fc2.bias", E)
			b.FullAttention = true
		} else {
			b.Gate, b.GateB = ld.matrix(p+"mlp.gate_proj.weight", I, E), ld.vector(p+"mlp.gate_proj.bias", I)
			b.Up, b.UpB = ld.matrix(p+"mlp.up_proj.weight", I, E), ld.vector(p+"mlp.up_proj.bias", I)
			b.Down, b.DownB = ld.matrix(p+"mlp.down_proj.weight", E, I), ld.vector(p+"mlp.down_proj.bias", E)
			b.FullAttention = v.WindowSize == 0
			for _, f := range v.FullAttBlocks {
				b.FullAttention = b.FullAttention || f == l
			}
		}
		vt.Blocks = append(vt.Blocks, b)
	}
	mg := &PatchMerger{
		FC1:  ld.matrix("visual.merger.mlp.0.weight", U, U),
		FC1B: ld.vector("visual.merger.mlp.0.bias", U),
		FC2:  ld.matrix("visual.merger.mlp.2.weight", v.OutHidden, U),
		FC2B: ld.vector("visual.merger.mlp.2.bias", v.OutHidden),
	}
	mg.Norm, mg.NormB = norm("visual.merger.ln_q")
	vt.Merger = mg
	if ld.err != nil {
		return nil, ld.err
	}
	// VisionRotaryEmbedding(head_dim/2): theta^(-2j/(head_dim/2)).
	rd := v.HeadDim() / 2
	vt.freqs = make([]float64, rd/2)
	for j := range vt.freqs {
		vt.freqs[j] = 1 / math.Pow(v.RopeTheta, float64(2*j)/float64(rd))
	}
	return vt, nil
}

// patchEmbed loads the Conv3d kernel [hidden, in_chans, temporal, patch,
// patch] (or an already flattened [hidden, patch_dim]) as a matrix.
func (l *loader) patchEmbed(name string, v *VisionConfig) *tensor.Matrix {
	t := l.tensor(name)
	if t == nil {
		return nil
	}
	want5 := []int{v.Hidden, v.InChannels, v.TemporalPatchSize, v.PatchSize, v.PatchSize}
	ok := len(t.Shape) == 2 && t.Shape[0] == v.Hidden && t.Shape[1] == v.PatchDim()
	if len(t.Shape) == 5 {
		ok = true
		for i, d := range want5 {
			ok = ok && t.Shape[i] == d
		}
	}
	if !ok {
		l.err = fmt.Errorf("%w: %s has shape %v, want %v", ErrWeights, name, t.Shape, want5)
		return nil
	}
	flat := &tensor.Tensor{DType: t.DType, Shape: []int{v.Hidden, v.PatchDim()}, Data: t.Data}
	m, err := flat.Matrix()
	if err != nil {
		l.err = fmt.Errorf("%w: %s: %w", ErrWeights, name, err)
		return nil
	}
	return m
}

// Config returns the tower's shape.
func (vt *VisionTower) Config() *VisionConfig { return &vt.cfg }

// Encode runs the tower on one image's (or video's) pixel rows
// ([t*h*w][PatchDim] in merge-window order) of grid [t, h, w] patches and
// returns [t*h*w/merge²][OutHidden] features in the same order. Attention
// stays within each frame. Not safe for concurrent use (it drives cpu).
func (vt *VisionTower) Encode(ctx context.Context, pixels []float32, grid [3]int) ([]float32, error) {
	v := &vt.cfg
	t, gh, gw, m := grid[0], grid[1], grid[2], v.MergeSize
	if t <= 0 || gh <= 0 || gw <= 0 || gh%m != 0 || gw%m != 0 || t*gh*gw > 1<<24 {
		return nil, fmt.Errorf("%w: image grid %v must be positive with h and w multiples of merge size %d", ErrBatch, grid, m)
	}
	n, D, E, unit := t*gh*gw, v.PatchDim(), v.Hidden, m*m
	if len(pixels) != n*D {
		return nil, fmt.Errorf("%w: grid %v needs %d pixel values (%d patches × %d), have %d", ErrBatch, grid, n*D, n, D, len(pixels))
	}
	s := newVisionScratch(v, n)
	vt.cpu.MatMul(s.x, pixels, n, vt.PatchEmbed)
	hpos, wpos := visionPositions(t, gh, gw, m)

	// Segments of rows that attend to each other: frames, and (Qwen2.5-VL)
	// windows after permuting merged units window by window.
	full := make([]int, 0, t+1)
	for f := 0; f <= t; f++ {
		full = append(full, f*gh*gw)
	}
	win := full
	var perm []int
	if ws := vt.windowUnits(); ws > 0 {
		perm, win = windowIndex(t, gh/m, gw/m, ws, unit)
		permuteRows(s.x, s.h, perm, unit*E)
		hpos, wpos = permuteInts(hpos, perm, unit), permuteInts(wpos, perm, unit)
	}
	vt.fillRope(s.cos, s.sin, hpos, wpos)
	ctxFull, ctxWin := segmentContexts(n, full), segmentContexts(n, win)

	for _, blk := range vt.Blocks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := ctxWin
		if blk.FullAttention {
			c = ctxFull
		}
		blk.forward(vt, s, n, c)
	}
	out := vt.merge(s, n)
	if perm != nil {
		O := v.OutHidden
		back := make([]float32, len(out))
		for i, src := range perm {
			copy(back[src*O:(src+1)*O], out[i*O:(i+1)*O])
		}
		out = back
	}
	return out, nil
}

// windowUnits is the window side in merged units (window_size / merge /
// patch, 4 for Qwen2.5-VL's 112 pixels), 0 without window attention.
func (vt *VisionTower) windowUnits() int {
	v := &vt.cfg
	if v.WindowSize == 0 || v.Kind == "qwen2_vl" {
		return 0
	}
	return v.WindowSize / v.MergeSize / v.PatchSize
}

func (blk *VisionBlock) forward(vt *VisionTower, s *visionScratch, n int, slots [][]int32) {
	v, cpu := &vt.cfg, vt.cpu
	E, I, hd := v.Hidden, v.Intermediate, v.HeadDim()
	vt.norm(s.h, s.x, blk.Norm1, blk.Norm1B, n)
	cpu.MatMul(s.qkv, s.h, n, blk.QKV)
	tensor.AddBias(s.qkv, n, blk.QKVB)
	for i := 0; i < n; i++ {
		row := s.qkv[i*3*E : (i+1)*3*E]
		copy(s.q[i*E:(i+1)*E], row[:E])
		copy(s.k[i*E:(i+1)*E], row[E:2*E])
		copy(s.v[i*E:(i+1)*E], row[2*E:])
	}
	tensor.RoPE(s.q, n, v.Heads, hd, s.cos, s.sin, true)
	tensor.RoPE(s.k, n, v.Heads, hd, s.cos, s.sin, true)
	cpu.Attention(s.att, s.q, s.k, s.v, slots, tensor.AttnParams{
		NHeads: v.Heads, NKVHeads: v.Heads, HeadDim: hd, Scale: float32(1 / math.Sqrt(float64(hd))),
	})
	cpu.MatMul(s.h, s.att, n, blk.Proj)
	tensor.AddBias(s.h, n, blk.ProjB)
	tensor.Add(s.x, s.h)

	vt.norm(s.h, s.x, blk.Norm2, blk.Norm2B, n)
	if blk.FC1 != nil {
		cpu.MatMul(s.gate, s.h, n, blk.FC1)
		tensor.AddBias(s.gate, n, blk.FC1B)
		activate(v.HiddenAct, s.gate)
		cpu.MatMul(s.h, s.gate, n, blk.FC2)
		tensor.AddBias(s.h, n, blk.FC2B)
	} else {
		cpu.MatMul(s.gate, s.h, n, blk.Gate)
		tensor.AddBias(s.gate, n, blk.GateB)
		cpu.MatMul(s.up, s.h, n, blk.Up)
		tensor.AddBias(s.up, n, blk.UpB)
		if v.HiddenAct == "silu" {
			tensor.SiLUMul(s.gate, s.up)
		} else {
			activate(v.HiddenAct, s.gate)
			for i, u := range s.up[:n*I] {
				s.gate[i] *= u
			}
		}
		cpu.MatMul(s.h, s.gate, n, blk.Down)
		tensor.AddBias(s.h, n, blk.DownB)
	}
	tensor.Add(s.x, s.h)
}

// merge applies the patch merger to the n rows of s.x.
func (vt *VisionTower) merge(s *visionScratch, n int) []float32 {
	v, mg := &vt.cfg, vt.Merger
	U := v.Hidden * v.MergeSize * v.MergeSize
	rows := n / (v.MergeSize * v.MergeSize)
	vt.norm(s.h, s.x, mg.Norm, mg.NormB, n)
	mid := s.gate[:rows*U]
	if cap(s.gate) < rows*U {
		mid = make([]float32, rows*U)
	}
	vt.cpu.MatMul(mid, s.h, rows, mg.FC1)
	tensor.AddBias(mid, rows, mg.FC1B)
	tensor.GELU(mid)
	out := make([]float32, rows*v.OutHidden)
	vt.cpu.MatMul(out, mid, rows, mg.FC2)
	tensor.AddBias(out, rows, mg.FC2B)
	return out
}

// norm is LayerNorm (with bias: Qwen2-VL) or RMSNorm (Qwen2.5-VL).
func (vt *VisionTower) norm(out, x, w, b []float32, n int) {
	if b != nil {
		tensor.LayerNorm(out, x, w, b, n, vt.cfg.Eps)
		return
	}
	tensor.RMSNorm(out, x, w, n, vt.cfg.Eps)
}

func activate(act string, x []float32) {
	switch act {
	case "quick_gelu":
		tensor.QuickGELU(x)
	case "gelu":
		tensor.GELU(x)
	case "silu":
		for i, v := range x {
			x[i] = v / (1 + float32(math.Exp(float64(-v))))
		}
	}
}

// fillRope writes the 2-D rotary tables [n][head_dim/2]: the first
// head_dim/4 angles rotate by the patch row, the rest by its column.
func (vt *VisionTower) fillRope(cos, sin []float32, hpos, wpos []int32) {
	q := len(vt.freqs)
	half := 2 * q
	for r := range hpos {
		for j, f := range vt.freqs {
			s, c := math.Sincos(float64(hpos[r]) * f)
			cos[r*half+j], sin[r*half+j] = float32(c), float32(s)
			s, c = math.Sincos(float64(wpos[r]) * f)
			cos[r*half+q+j], sin[r*half+q+j] = float32(c), float32(s)
		}
	}
}
