package model

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model/safetensors"
	"github.com/sglang-go/sglang/srt/tensor"
)

// TestLoadErrors writes broken variants of stories260K and checks that each
// load fails with an error that names the problem.
func TestLoadErrors(t *testing.T) {
	src := shared.Path(t, "models", "stories260K")
	set, err := safetensors.OpenDir(src)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]*tensor.Tensor{}
	for _, n := range set.Names() {
		if all[n], err = set.Tensor(n); err != nil {
			t.Fatal(err)
		}
	}
	variant := func(mutate func(map[string]*tensor.Tensor), config string) string {
		dir := t.TempDir()
		ts := map[string]*tensor.Tensor{}
		for k, v := range all {
			ts[k] = v
		}
		mutate(ts)
		if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
			t.Fatal(err)
		}
		if config == "" {
			config = string(cfg)
		}
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644)
		return dir
	}
	cpu := tensor.NewCPU(tensor.Options{Threads: 1})
	defer cpu.Close()
	q := "model.layers.1.self_attn.q_proj.weight"
	tests := []struct {
		name, dir string
		want      error
		msg       string
	}{
		{"missing tensor", variant(func(m map[string]*tensor.Tensor) { delete(m, q) }, ""), ErrWeights, q},
		{"shape mismatch", variant(func(m map[string]*tensor.Tensor) {
			w := *m[q]
			w.Shape = []int{32, 128}
			m[q] = &w
		}, ""), ErrWeights, "shape"},
		{"unknown architecture", variant(func(map[string]*tensor.Tensor) {}, strings.Replace(string(cfg), "LlamaForCausalLM", "MambaForCausalLM", 1)), ErrArchitecture, "MambaForCausalLM"},
		{"bad config", variant(func(map[string]*tensor.Tensor) {}, `{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}`), ErrConfig, "positive"},
		{"unsupported activation", variant(func(map[string]*tensor.Tensor) {}, strings.Replace(string(cfg), `"silu"`, `"gelu"`, 1)), ErrConfig, "gelu"},
	}
	for _, tc := range tests {
		_, err := LoadHF(tc.dir, cpu)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %v mentioning %q", tc.name, err, tc.want, tc.msg)
		}
	}
	// An unsupported dtype in the file: F64 parses but cannot be used.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	writeF64(t, filepath.Join(dir, "model.safetensors"), all)
	if _, err := LoadHF(dir, cpu); err == nil || !strings.Contains(err.Error(), "F64") {
		t.Errorf("F64 weights: err = %v, want one naming F64", err)
	}
}

// writeF64 writes the tensors as safetensors by hand, the embedding as F64.
func writeF64(t *testing.T, path string, all map[string]*tensor.Tensor) {
	t.Helper()
	emb := all["model.embed_tokens.weight"]
	hdr := `{"model.embed_tokens.weight":{"dtype":"F64","shape":[` + strconv.Itoa(emb.Shape[0]) + `,` + strconv.Itoa(emb.Shape[1]) + `],"data_offsets":[0,` + strconv.Itoa(len(emb.Data)*2) + `]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	b := make([]byte, 8, 8+len(hdr)+len(emb.Data)*2)
	for i := 0; i < 8; i++ {
		b[i] = byte(len(hdr) >> (8 * i))
	}
	b = append(b, hdr...)
	b = append(b, make([]byte, len(emb.Data)*2)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
