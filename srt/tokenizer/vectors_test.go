package tokenizer

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

const vocabSep = "\n__ggml_vocab_test__\n"

type vector struct {
	text string
	ids  []int32
}

// readVectors parses llama.cpp's X.gguf.inp / X.gguf.out pair.
func readVectors(t testing.TB, name string) []vector {
	t.Helper()
	inp, err := os.ReadFile(shared.Path(t, "tokenizers", "llamacpp-vocab", name+".gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(shared.Path(t, "tokenizers", "llamacpp-vocab", name+".gguf.out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), vocabSep)
	if texts[len(texts)-1] == "" {
		texts = texts[:len(texts)-1]
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) != len(texts) {
		t.Fatalf("%s: %d inputs but %d outputs", name, len(texts), len(lines))
	}
	vs := make([]vector, len(texts))
	for i, txt := range texts {
		vs[i].text = txt
		for _, f := range strings.Fields(lines[i]) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s line %d: %v", name, i+1, err)
			}
			vs[i].ids = append(vs[i].ids, int32(n))
		}
	}
	return vs
}

// loadGGUFTok builds (once per test binary) a Tokenizer from a GGUF file.
func loadGGUFTok(t testing.TB, elem ...string) *Tokenizer {
	t.Helper()
	p := shared.Path(t, elem...)
	tokMu.Lock()
	defer tokMu.Unlock()
	if tk, ok := tokCache[p]; ok {
		return tk
	}
	f, err := readTestMeta(p)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VocabFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := FromGGUF(v)
	if err != nil {
		t.Fatal(err)
	}
	tokCache[p] = tk
	return tk
}

func TestLlamaCppVectors(t *testing.T) {
	ggufs := []string{"llama-spm", "phi-3", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon",
		"starcoder", "refact", "mpt", "bert-bge"}
	run := func(t *testing.T, tk *Tokenizer, vs []vector, hf bool) {
		bad := 0
		for _, v := range vs {
			var got []int32
			if hf {
				got = tk.Encode(v.text, false)
			} else {
				got = tk.encode(v.text, false, false)
			}
			if !slices.Equal(got, v.ids) {
				bad++
				t.Errorf("encode(%q)\n got %v\nwant %v", v.text, got, v.ids)
			}
		}
		t.Logf("%d/%d vectors match", len(vs)-bad, len(vs))
	}
	t.Run("qwen2-tokenizer.json", func(t *testing.T) {
		tk := loadTok(t, "tokenizers", "qwen3", "tokenizer.json")
		run(t, tk, readVectors(t, "ggml-vocab-qwen2"), true)
	})
	t.Run("qwen2-gguf", func(t *testing.T) {
		if testing.Short() {
			t.Skip("loads a 19 MB GGUF")
		}
		tk := loadGGUFTok(t, "models", "tiny-random-qwen2", "tiny-random-qwen2-f32.gguf")
		run(t, tk, readVectors(t, "ggml-vocab-qwen2"), false)
	})
	for _, name := range ggufs {
		t.Run(name, func(t *testing.T) {
			tk := loadGGUFTok(t, "tokenizers", "llamacpp-vocab", "ggml-vocab-"+name+".gguf")
			run(t, tk, readVectors(t, "ggml-vocab-"+name), false)
		})
	}
}
