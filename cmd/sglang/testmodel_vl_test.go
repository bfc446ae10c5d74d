package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/tensor"
)

// `sglang testmodel --arch qwen2_vl|qwen2_5_vl` writes a loadable
// vision-language folder with the real checkpoints' names, the Qwen
// tokenizer and vocabulary, and the engine serves it as a text model.
func TestTestModelVL(t *testing.T) {
	tok := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	for _, arch := range []string{"qwen2_vl", "qwen2_5_vl"} {
		t.Run(arch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), arch)
			stdout, stderr, code := runCmd(t, "testmodel", "--arch", arch, "--out", out, "--tokenizer", tok, "--seed", "3")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "bf16") {
				t.Errorf("stdout %q does not name the bf16 default", stdout)
			}
			for _, f := range []string{"config.json", "preprocessor_config.json", "tokenizer.json", "model.safetensors"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
			st, err := os.Stat(filepath.Join(out, "model.safetensors"))
			if err == nil && st.Size() > 16<<20 {
				t.Errorf("default model is %d bytes, want a few MB", st.Size())
			}
			set, err := safetensors.OpenDir(out)
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			for _, name := range []string{"model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.bias",
				"visual.patch_embed.proj.weight", "visual.blocks.3.attn.qkv.weight", "visual.merger.mlp.0.weight", "visual.merger.ln_q.weight"} {
				if _, ok := set.Info(name); !ok {
					t.Errorf("no tensor %s", name)
				}
			}
			cpu := tensor.NewCPU(tensor.Options{Threads: 1})
			defer cpu.Close()
			m, err := model.LoadHF(out, cpu)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			vm, ok := m.(model.VisionModel)
			if !ok {
				t.Fatalf("%T is not a VisionModel", m)
			}
			if c := m.Config(); c.Vocab != 151936 || vm.VisionInfo().ImageToken != 151655 {
				t.Errorf("vocab %d, image token %d", c.Vocab, vm.VisionInfo().ImageToken)
			}
			if ids := greedyIDs(t, out, []int32{151644, 872, 198, 9707}, 4); len(ids) != 4 {
				t.Errorf("text generation gave %v", ids)
			}
			if _, err := os.Stat(filepath.Join(out, "chat_template.json")); err != nil {
				t.Errorf("no chat template for images: %v", err)
			}
			// bench-one-batch times the vision tower and prefills the
			// images' tokens: 2 images of 112x112 are 2*(4*4+2) tokens.
			stdout, stderr, code = runCmd(t, "bench-one-batch", "--model-path", out, "--input-len", "8", "--output-len", "3",
				"--runs", "1", "--images", "2", "--image-size", "112", "--json")
			if code != 0 {
				t.Fatalf("bench-one-batch --images: %s", stderr)
			}
			var res struct {
				Images  int     `json:"images"`
				Tokens  int     `json:"image_tokens"`
				Vision  float64 `json:"vision_latency_per_image"`
				Prefill float64 `json:"prefill_throughput"`
			}
			if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Images != 2 || res.Tokens != 36 || res.Vision <= 0 || res.Prefill <= 0 {
				t.Errorf("bench-one-batch --images JSON %s: %v", stdout, err)
			}
		})
	}
}

func TestTestModelVLFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"gguf", []string{"--arch", "qwen2_vl", "--format", "gguf"}, "only --format hf"},
		{"mrope section sum", []string{"--arch", "qwen2_5_vl", "--mrope-section", "1,2,3"}, "mrope section"},
		{"mrope section syntax", []string{"--arch", "qwen2_5_vl", "--mrope-section", "1,x"}, "mrope-section"},
		{"full attention block", []string{"--arch", "qwen2_5_vl", "--vision-fullatt", "9"}, "full-attention block"},
		{"vision heads", []string{"--arch", "qwen2_vl", "--vision-heads", "3"}, "vision hidden"},
		{"quantized", []string{"--arch", "qwen2_vl", "--dtype", "q8_0"}, "safetensors cannot hold"},
	}
	for _, c := range cases {
		args := append([]string{"testmodel", "--out", filepath.Join(dir, c.name)}, c.args...)
		if _, stderr, code := runCmd(t, args...); code == 0 || !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: exit %d, stderr %q; want failure mentioning %q", c.name, code, stderr, c.msg)
		}
	}
}
