package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/tensor"
)

func TestRealStories(t *testing.T) {
	for _, tc := range []struct {
		file    string
		embType tensor.DType
	}{
		{"stories260K-f32.gguf", tensor.F32},
		{"stories260K-f16.gguf", tensor.F16},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Open(shared.Path(t, "models", "stories260K", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if arch, _ := f.String("general.architecture"); arch != "llama" {
				t.Errorf("architecture = %q, want llama", arch)
			}
			if n, ok := f.Int("llama.context_length"); !ok || n != 128 {
				t.Errorf("llama.context_length = %d, %v; want 128", n, ok)
			}
			if n, ok := f.Uint32("llama.embedding_length"); !ok || n != 64 {
				t.Errorf("llama.embedding_length = %d, %v; want 64", n, ok)
			}
			if n, ok := f.Uint32("llama.block_count"); !ok || n != 5 {
				t.Errorf("llama.block_count = %d, %v; want 5", n, ok)
			}
			if n, ok := f.Uint32("llama.attention.head_count_kv"); !ok || n != 4 {
				t.Errorf("llama.attention.head_count_kv = %d, %v; want 4", n, ok)
			}
			if eps, ok := f.Float32("llama.attention.layer_norm_rms_epsilon"); !ok || eps != 1e-5 {
				t.Errorf("rms eps = %v, %v; want 1e-5", eps, ok)
			}
			toks, ok := f.Strings("tokenizer.ggml.tokens")
			if !ok || len(toks) != 512 || toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3] != "<0x00>" {
				t.Errorf("tokens: ok=%v len=%d head=%q", ok, len(toks), toks[:min(4, len(toks))])
			}
			if sc, ok := f.Float32s("tokenizer.ggml.scores"); !ok || len(sc) != 512 {
				t.Errorf("scores: ok=%v len=%d", ok, len(sc))
			}
			if tt, ok := f.Int32s("tokenizer.ggml.token_type"); !ok || len(tt) != 512 || tt[0] != 2 || tt[1] != 3 || tt[3] != 6 {
				t.Errorf("token_type: ok=%v len=%d head=%v", ok, len(tt), tt[:min(4, len(tt))])
			}
			infos := f.TensorInfos()
			if len(infos) != 48 {
				t.Errorf("tensor count = %d, want 48", len(infos))
			}
			emb, err := f.Tensor("token_embd.weight")
			if err != nil {
				t.Fatal(err)
			}
			if emb.DType != tc.embType || len(emb.Shape) != 2 || emb.Shape[0] != 512 || emb.Shape[1] != 64 {
				t.Errorf("token_embd: %v %v", emb.DType, emb.Shape)
			}
			if _, err := emb.Matrix(); err != nil {
				t.Error(err)
			}
			norm, err := f.Tensor("blk.0.attn_norm.weight")
			if err != nil {
				t.Fatal(err)
			}
			if norm.DType != tensor.F32 || len(norm.Shape) != 1 || norm.Shape[0] != 64 || len(norm.Data) != 256 {
				t.Errorf("attn_norm: %v %v %d bytes", norm.DType, norm.Shape, len(norm.Data))
			}
			if _, err := f.Tensor("nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing tensor: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRealQwenAndVocab(t *testing.T) {
	q := shared.Path(t, "models", "tiny-random-qwen2", "tiny-random-qwen2-f32.gguf")
	f, err := Open(q)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if arch, _ := f.String("general.architecture"); arch != "qwen2" {
		t.Errorf("architecture = %q", arch)
	}
	if toks, _ := f.Strings("tokenizer.ggml.tokens"); len(toks) != 151936 {
		t.Errorf("qwen tokens = %d, want 151936", len(toks))
	}
	if m, _ := f.Strings("tokenizer.ggml.merges"); len(m) != 151387 {
		t.Errorf("qwen merges = %d, want 151387", len(m))
	}
	if bos, ok := f.Int("tokenizer.ggml.bos_token_id"); !ok || bos != 151643 {
		t.Errorf("bos = %d %v", bos, ok)
	}
	if add, ok := f.Bool("tokenizer.ggml.add_bos_token"); !ok || add {
		t.Errorf("add_bos_token = %v %v, want false", add, ok)
	}
	for _, ti := range f.TensorInfos() {
		tt, err := f.Tensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		if tt.DType != tensor.F32 {
			t.Errorf("%s: %v", ti.Name, tt.DType)
		}
	}
	files, _ := filepath.Glob(filepath.Join(shared.Path(t, "tokenizers", "llamacpp-vocab"), "*.gguf"))
	if len(files) < 12 {
		t.Fatalf("found %d vocab files, want 12", len(files))
	}
	for _, p := range files {
		vf, err := Open(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if toks, ok := vf.Strings("tokenizer.ggml.tokens"); !ok || len(toks) == 0 {
			t.Errorf("%s: no tokens", filepath.Base(p))
		}
		if m, ok := vf.String("tokenizer.ggml.model"); !ok || m == "" {
			t.Errorf("%s: no tokenizer.ggml.model", filepath.Base(p))
		}
		vf.Close()
	}
}

// TestRewriteReal copies a real file through Parse and Write: llama.cpp's
// own writer uses the same layout, so the bytes must be identical.
func TestRewriteReal(t *testing.T) {
	for _, name := range []string{"stories260K-f32.gguf", "stories260K-f16.gguf"} {
		p := shared.Path(t, "models", "stories260K", name)
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(orig)
		if err != nil {
			t.Fatal(err)
		}
		var wts []WriteTensor
		for _, ti := range f.TensorInfos() {
			tt, err := f.Tensor(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			wts = append(wts, WriteTensor{Name: ti.Name, DType: tt.DType, Shape: tt.Shape, Data: tt.Data})
		}
		var buf bytes.Buffer
		if err := Write(&buf, f.KVs(), wts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			n := 0
			for n < min(buf.Len(), len(orig)) && buf.Bytes()[n] == orig[n] {
				n++
			}
			t.Errorf("%s: rewritten file differs at byte %d (len %d vs %d)", name, n, buf.Len(), len(orig))
		}
	}
}

func BenchmarkParseQwenVocab(b *testing.B) {
	data, err := os.ReadFile(shared.Path(b, "models", "tiny-random-qwen2", "tiny-random-qwen2-f32.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenStories(b *testing.B) {
	p := shared.Path(b, "models", "stories260K", "stories260K-f32.gguf")
	for b.Loop() {
		f, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Tensor("token_embd.weight"); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
