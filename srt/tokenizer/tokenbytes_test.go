package tokenizer

import (
	"bytes"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

// TestTokenBytes checks that joining the bytes of a sequence's tokens gives
// the decoded text, on a byte-level and a SentencePiece tokenizer.
func TestTokenBytes(t *testing.T) {
	tests := []struct{ dir, text string }{
		{shared.Path(t, "tokenizers", "qwen3"), "Hello, wörld! 你好，世界 🎉 x=1"},
		{shared.Path(t, "models", "stories260K"), "Once upon a time, a cat 🎉 sat."},
	}
	for _, tc := range tests {
		tok, err := FromDir(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		ids := tok.Encode(tc.text, false)
		var got []byte
		for _, id := range ids {
			got = append(got, tok.TokenBytes(id)...)
		}
		// SentencePiece adds a prefix space that decoding strips at the
		// start of a sequence only.
		got = bytes.TrimPrefix(got, []byte(" "))
		want := []byte(tok.Decode(ids, false))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: joined token bytes %q, want %q", tc.dir, got, want)
		}
		if b := tok.TokenBytes(tok.EOS()); tok.EOS() >= 0 && b != nil {
			t.Errorf("%s: EOS has bytes %q", tc.dir, b)
		}
		if tok.TokenBytes(-1) != nil || tok.TokenBytes(int32(tok.VocabSize())) != nil {
			t.Errorf("%s: out-of-range ids have bytes", tc.dir)
		}
	}
}
