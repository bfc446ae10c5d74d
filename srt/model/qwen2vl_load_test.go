package model_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	"github.com/sglang-go/sglang/srt/tensor"
)

// setWeights serves a safetensors folder under other names: rename maps
// the name asked for to the stored one ("" = absent).
type setWeights struct {
	set    *safetensors.Set
	rename func(string) string
}

func (w setWeights) Tensor(name string) (*tensor.Tensor, error) {
	if n := w.rename(name); n != "" {
		return w.set.Tensor(n)
	}
	return nil, errors.New("no tensor " + name)
}

func (w setWeights) Has(name string) bool {
	n := w.rename(name)
	if n == "" {
		return false
	}
	_, ok := w.set.Info(n)
	return ok
}

func openSet(t *testing.T, dir string) (*model.Config, *safetensors.Set) {
	t.Helper()
	cfg, err := model.ReadHFConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	return cfg, set
}

// forwardAll runs a prompt as one prefill and returns every row's logits.
func forwardAll(t *testing.T, m model.Model, b *model.Batch) []float32 {
	t.Helper()
	c := m.Config()
	n := len(b.Tokens)
	b.Positions, b.Slots, b.Context, b.Logits = make([]int32, n), make([]int32, n), make([][]int32, n), make([]int, n)
	for i := range b.Tokens {
		b.Positions[i], b.Slots[i], b.Logits[i] = int32(i), int32(i), i
		for j := 0; j <= i; j++ {
			b.Context[i] = append(b.Context[i], int32(j))
		}
	}
	logits := make([]float32, n*c.Vocab)
	if err := m.Forward(context.Background(), b, model.NewKVCache(c, n, tensor.F32), logits); err != nil {
		t.Fatal(err)
	}
	return logits
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// A VL model on a text-only prompt is its Qwen2 language model: the same
// weights written as Qwen2ForCausalLM give the same logits, with M-RoPE
// positions absent or equal to (p, p, p).
func TestQwen2VLTextOnlyEqualsQwen2(t *testing.T) {
	vl, _ := loadVL(t, writeVL(t, "qwen2_5_vl", testmodel.Options{}))
	c := vl.Config()
	qdir := filepath.Join(t.TempDir(), "qwen2")
	err := testmodel.Write(testmodel.Options{Arch: "qwen2", Hidden: c.Hidden, Layers: c.Layers, Heads: c.Heads,
		KVHeads: c.KVHeads, Intermediate: c.Intermediate, Vocab: c.Vocab, RopeTheta: c.RopeTheta,
		RMSNormEps: float64(c.RMSNormEps), DType: "bf16", Seed: 7, Out: qdir})
	if err != nil {
		t.Fatal(err)
	}
	cpu := tensor.NewCPU(tensor.Options{})
	defer cpu.Close()
	q, err := model.LoadHF(qdir, cpu)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	tokens := []int32{151644, 872, 198, 9707, 11, 1879, 0, 151645}
	want := forwardAll(t, q, &model.Batch{Tokens: tokens})
	pos, delta, err := model.RopeIndex(tokens, nil, vl.VisionInfo())
	if err != nil || delta != 0 {
		t.Fatalf("RopeIndex: %v, delta %d", err, delta)
	}
	shifted := make([][3]int32, len(pos))
	for i, p := range pos {
		shifted[i] = [3]int32{p[0], 2 * p[1], p[2]} // a uniform shift would be invisible
	}
	cases := []struct {
		name  string
		mrope [][3]int32
		same  bool
	}{
		{"no M-RoPE positions", nil, true},
		{"equal components", pos, true},
		{"height stretched", shifted, false},
	}
	for _, cs := range cases {
		got := forwardAll(t, vl, &model.Batch{Tokens: tokens, MRoPE: cs.mrope})
		if d := maxDiff(got, want); (d < 1e-5) != cs.same {
			t.Errorf("%s: max logit difference from Qwen2 %g (want same: %v)", cs.name, d, cs.same)
		}
	}
}

// An image prompt: features go in at the image pads; prefilling the whole
// prompt equals prefilling a prefix then decoding the rest at
// position i+delta, as the serving path will.
func TestQwen2VLImagePrompt(t *testing.T) {
	m, _ := loadVL(t, writeVL(t, "qwen2_vl", testmodel.Options{DType: "f32"}))
	info := m.VisionInfo()
	grid := [3]int{1, 4, 6}
	feats, err := m.EncodeImage(context.Background(), refPixels(24, info.PatchDim), grid)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int32{151644, 872, 198, info.VisionStart}
	for range 6 {
		tokens = append(tokens, info.ImageToken)
	}
	tokens = append(tokens, info.VisionEnd, 3838, 374, 419)
	pos, delta, err := model.RopeIndex(tokens, [][3]int{grid}, info)
	if err != nil {
		t.Fatal(err)
	}
	if delta != -3 { // the 2x3 merged image takes 6 tokens but advances positions by 3
		t.Fatalf("delta %d, want -3", delta)
	}
	embeds := make([][]float32, len(tokens))
	H := m.Config().Hidden
	for i, k := 4, 0; k < 6; i, k = i+1, k+1 {
		embeds[i] = feats[k*H : (k+1)*H]
	}
	full := forwardAll(t, m, &model.Batch{Tokens: tokens, MRoPE: pos, Embeds: embeds})
	withPads := forwardAll(t, m, &model.Batch{Tokens: tokens, MRoPE: pos})
	if maxDiff(full, withPads) < 1e-3 {
		t.Fatal("image features did not change the logits")
	}

	// Prefill all but the last token, then decode it with plain Positions.
	c := m.Config()
	n := len(tokens)
	kv := model.NewKVCache(c, n, tensor.F32)
	pre := &model.Batch{Tokens: tokens[:n-1], MRoPE: pos[:n-1], Embeds: embeds[:n-1]}
	for i := range pre.Tokens {
		pre.Positions = append(pre.Positions, int32(i))
		pre.Slots = append(pre.Slots, int32(i))
		ctx := make([]int32, i+1)
		for j := range ctx {
			ctx[j] = int32(j)
		}
		pre.Context = append(pre.Context, ctx)
	}
	if err := m.Forward(context.Background(), pre, kv, nil); err != nil {
		t.Fatal(err)
	}
	last := make([]int32, n)
	for j := range last {
		last[j] = int32(j)
	}
	dec := &model.Batch{Tokens: tokens[n-1:], Positions: []int32{int32(n - 1 + delta)}, Slots: []int32{int32(n - 1)},
		Context: [][]int32{last}, Logits: []int{0}}
	got := make([]float32, c.Vocab)
	if err := m.Forward(context.Background(), dec, kv, got); err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got, full[(n-1)*c.Vocab:]); d > 1e-4 {
		t.Errorf("decode after image prefill differs from full prefill by %g", d)
	}
}

// The newer transformers layout (model.language_model.*, model.visual.*)
// loads to the same model.
func TestQwen2VLNewLayoutNames(t *testing.T) {
	for _, arch := range vlArchs {
		t.Run(arch, func(t *testing.T) {
			dir := writeVL(t, arch, testmodel.Options{})
			old, cpu := loadVL(t, dir)
			cfg, set := openSet(t, dir)
			newNames := func(name string) string {
				switch {
				case strings.HasPrefix(name, "model.language_model."):
					return "model." + strings.TrimPrefix(name, "model.language_model.")
				case strings.HasPrefix(name, "model.visual."):
					return strings.TrimPrefix(name, "model.")
				case strings.HasPrefix(name, "model."), strings.HasPrefix(name, "visual."):
					return "" // old names are absent in this layout
				}
				return name
			}
			m, err := model.Build(cfg, setWeights{set, newNames}, cpu)
			if err != nil {
				t.Fatal(err)
			}
			vm := m.(model.VisionModel)
			px := refPixels(24, vm.VisionInfo().PatchDim)
			a, err1 := vm.EncodeImage(context.Background(), px, [3]int{1, 4, 6})
			b, err2 := old.EncodeImage(context.Background(), px, [3]int{1, 4, 6})
			if err1 != nil || err2 != nil || maxDiff(a, b) != 0 {
				t.Fatalf("new layout: %v %v, difference %g", err1, err2, maxDiff(a, b))
			}
			tok := []int32{1, 2, 3}
			if d := maxDiff(forwardAll(t, m, &model.Batch{Tokens: tok}), forwardAll(t, old, &model.Batch{Tokens: tok})); d != 0 {
				t.Fatalf("new layout logits differ by %g", d)
			}
		})
	}
}

func TestQwen2VLLoadErrors(t *testing.T) {
	dir := writeVL(t, "qwen2_5_vl", testmodel.Options{})
	cpu := tensor.NewCPU(tensor.Options{})
	defer cpu.Close()
	same := func(n string) string { return n }
	cases := []struct {
		name   string
		edit   func(c *model.Config)
		rename func(string) string
		want   error
	}{
		{"missing vision tensor", nil, func(n string) string {
			if n == "visual.blocks.1.attn.qkv.weight" {
				return ""
			}
			return n
		}, model.ErrWeights},
		{"missing merger bias", nil, func(n string) string {
			if n == "visual.merger.mlp.2.bias" {
				return ""
			}
			return n
		}, model.ErrWeights},
		{"patch embed of wrong shape", nil, func(n string) string {
			if n == "visual.patch_embed.proj.weight" {
				return "visual.blocks.0.attn.qkv.weight"
			}
			return n
		}, model.ErrWeights},
		{"qkv of wrong shape", nil, func(n string) string {
			if n == "visual.blocks.0.attn.qkv.weight" {
				return "visual.blocks.0.attn.proj.weight"
			}
			return n
		}, model.ErrWeights},
		{"no vision config", func(c *model.Config) { c.Vision = nil }, same, model.ErrConfig},
		{"no mrope section", func(c *model.Config) { c.MRoPESection = nil }, same, model.ErrConfig},
		{"merger width differs from LM", func(c *model.Config) { v := *c.Vision; v.OutHidden++; c.Vision = &v }, same, model.ErrConfig},
		{"bad vision heads", func(c *model.Config) { v := *c.Vision; v.Heads = 3; c.Vision = &v }, same, model.ErrConfig},
		{"bad activation", func(c *model.Config) { v := *c.Vision; v.HiddenAct = "relu6"; c.Vision = &v }, same, model.ErrConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, set := openSet(t, dir)
			if c.edit != nil {
				c.edit(cfg)
			}
			if _, err := model.Build(cfg, setWeights{set, c.rename}, cpu); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestEncodeImageErrors(t *testing.T) {
	m, _ := loadVL(t, writeVL(t, "qwen2_vl", testmodel.Options{}))
	D := m.VisionInfo().PatchDim
	cases := []struct {
		name string
		rows int
		grid [3]int
	}{
		{"odd height", 12, [3]int{1, 3, 4}},
		{"zero frames", 0, [3]int{0, 2, 2}},
		{"negative", 4, [3]int{1, -2, -2}},
		{"short pixels", 3, [3]int{1, 2, 2}},
		{"long pixels", 5, [3]int{1, 2, 2}},
	}
	for _, c := range cases {
		if _, err := m.EncodeImage(context.Background(), make([]float32, c.rows*D), c.grid); !errors.Is(err, model.ErrBatch) {
			t.Errorf("%s: err = %v, want ErrBatch", c.name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.EncodeImage(ctx, make([]float32, 4*D), [3]int{1, 2, 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	// Embeds rows must have Hidden values.
	b := &model.Batch{Tokens: []int32{1}, Positions: []int32{0}, Slots: []int32{0}, Context: [][]int32{{0}},
		Embeds: [][]float32{make([]float32, 3)}}
	if err := m.Forward(context.Background(), b, model.NewKVCache(m.Config(), 1, tensor.F32), nil); !errors.Is(err, model.ErrBatch) {
		t.Errorf("short embedding: err = %v, want ErrBatch", err)
	}
	b.Embeds, b.MRoPE = nil, make([][3]int32, 2)
	if err := m.Forward(context.Background(), b, model.NewKVCache(m.Config(), 1, tensor.F32), nil); !errors.Is(err, model.ErrBatch) {
		t.Errorf("M-RoPE rows mismatch: err = %v, want ErrBatch", err)
	}
}

func BenchmarkVisionTower448(b *testing.B) {
	for _, arch := range vlArchs {
		b.Run(arch, func(b *testing.B) {
			m, _ := loadVL(b, writeVL(b, arch, testmodel.Options{}))
			grid := [3]int{1, 32, 32} // 448x448 pixels
			px := refPixels(1024, m.VisionInfo().PatchDim)
			for b.Loop() {
				if _, err := m.EncodeImage(context.Background(), px, grid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
