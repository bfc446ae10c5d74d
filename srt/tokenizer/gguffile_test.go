package tokenizer

import (
	"reflect"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model/gguf"
)

// *gguf.File is what the engine passes to VocabFromGGUF.
var _ GGUFMeta = (*gguf.File)(nil)

// The real GGUF reader and the tests' minimal reader give the same vocabulary.
func TestVocabFromGGUFFile(t *testing.T) {
	for _, elem := range [][]string{
		{"models", "stories260K", "stories260K-f32.gguf"},
		{"tokenizers", "llamacpp-vocab", "ggml-vocab-gpt-2.gguf"},
		{"tokenizers", "llamacpp-vocab", "ggml-vocab-bert-bge.gguf"},
	} {
		p := shared.Path(t, elem...)
		f, err := gguf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := VocabFromGGUF(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		m, err := readTestMeta(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := VocabFromGGUF(m)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: gguf.File and test reader disagree", p)
		}
		if len(got.Tokens) == 0 || got.Model == "" {
			t.Errorf("%s: empty vocabulary %q", p, got.Model)
		}
	}
}
