package testmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestWriteVLDeterministic(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, seed uint64) []byte {
		out := filepath.Join(dir, name)
		if err := Write(Options{Arch: "qwen2_5_vl", Seed: seed, Out: out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := write("a", 1), write("b", 1), write("c", 2)
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different weights")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same weights")
	}
}

func TestVLConfigKeys(t *testing.T) {
	for _, c := range []struct {
		arch   string
		vision []string // vision_config keys the real checkpoints have
	}{
		{"qwen2_vl", []string{"depth", "embed_dim", "mlp_ratio", "num_heads", "in_chans", "hidden_size", "patch_size", "spatial_merge_size", "temporal_patch_size"}},
		{"qwen2_5_vl", []string{"depth", "hidden_size", "intermediate_size", "num_heads", "in_chans", "out_hidden_size", "patch_size",
			"spatial_merge_size", "window_size", "fullatt_block_indexes", "temporal_patch_size", "hidden_act"}},
	} {
		out := filepath.Join(t.TempDir(), c.arch)
		if err := Write(Options{Arch: c.arch, Out: out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			ModelType   string                     `json:"model_type"`
			ImageToken  int                        `json:"image_token_id"`
			Vocab       int                        `json:"vocab_size"`
			RopeScaling map[string]json.RawMessage `json:"rope_scaling"`
			Vision      map[string]json.RawMessage `json:"vision_config"`
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.ModelType != c.arch || cfg.ImageToken != 151655 || cfg.Vocab != 151936 || cfg.RopeScaling["mrope_section"] == nil {
			t.Errorf("%s: config %s", c.arch, b)
		}
		for _, k := range c.vision {
			if cfg.Vision[k] == nil {
				t.Errorf("%s: vision_config has no %q", c.arch, k)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "preprocessor_config.json")); err != nil {
			t.Error(err)
		}
	}
}

func TestVLDefaults(t *testing.T) {
	o := Options{Arch: "qwen2_5_vl", VisionDepth: 32, Hidden: 256, Heads: 2, Out: "x"}
	if err := o.vlDefaults(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.VisionFullAtt, []int{7, 15, 23, 31}) || !reflect.DeepEqual(o.MRoPESection, []int{16, 24, 24}) {
		t.Errorf("full attention %v, mrope %v; want Qwen2.5-VL's [7 15 23 31] and [16 24 24]", o.VisionFullAtt, o.MRoPESection)
	}
}

func TestVLOptionErrors(t *testing.T) {
	cases := []struct {
		name string
		o    Options
	}{
		{"gguf", Options{Format: "gguf"}},
		{"quantized", Options{DType: "q4_0"}},
		{"head dim override", Options{HeadDim: 8}},
		{"kv heads", Options{Heads: 4, KVHeads: 3, Hidden: 64}},
		{"mrope section", Options{MRoPESection: []int{4, 4, 4}}},
		{"vision head dim", Options{VisionHidden: 24, VisionHeads: 4}},
		{"negative depth", Options{VisionDepth: -1}},
		{"full attention block", Options{VisionFullAtt: []int{4}}},
		{"window", Options{WindowSize: 14}},
		{"no out", Options{Out: "-"}},
	}
	for _, c := range cases {
		o := c.o
		o.Arch = "qwen2_5_vl"
		if o.Out == "" {
			o.Out = filepath.Join(t.TempDir(), "m")
		} else if o.Out == "-" {
			o.Out = ""
		}
		if err := Write(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: err = %v, want ErrOptions", c.name, err)
		}
	}
}
