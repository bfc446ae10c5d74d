package tokenizer

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// wpmModel is llama.cpp's WordPiece for BERT GGUF vocabularies: pieces that
// start a word carry a "▁" prefix (the converter's spelling of HF's
// non-"##" pieces); each word is matched greedily, longest piece first, and
// a word with an unmatched part becomes unk.
type wpmModel struct {
	vocab  map[string]int32
	unk    int32
	maxLen int
}

// wpmSplit is BERT's basic tokenizer as llama.cpp does it: NFD, drop
// control characters and accents (Mn), lowercase, split on whitespace and around
// punctuation, ASCII symbols and CJK ideographs.
type wpmSplit struct{}

func isCJKIdeograph(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

func isAssigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

func (wpmSplit) apply(words []string) []string {
	var out []string
	for _, w := range words {
		var cur strings.Builder
		flush := func() {
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		}
		for _, r := range norm.NFD.String(w) {
			if isWhite(r) {
				flush()
				continue
			}
			if r == 0 || r == 0xFFFD || unicode.Is(unicode.C, r) || unicode.Is(unicode.Mn, r) || !isAssigned(r) {
				continue
			}
			lr := unicode.ToLower(r)
			if unicode.IsPunct(r) || (r < 0x7F && unicode.IsSymbol(r)) || isCJKIdeograph(r) {
				flush()
				out = append(out, string(lr))
				continue
			}
			cur.WriteRune(lr)
		}
		flush()
	}
	return out
}

func (m *wpmModel) tokenize(w string, out []int32) []int32 {
	w = "\u2581" + w
	n0 := len(out)
	for i := 0; i < len(w); {
		found := false
		for j := min(len(w), i+m.maxLen); j > i; j-- {
			if id, ok := m.vocab[w[i:j]]; ok {
				out = append(out, id)
				i = j
				found = true
				break
			}
		}
		if !found {
			out = out[:n0]
			break
		}
	}
	if len(out) == n0 && m.unk >= 0 {
		out = append(out, m.unk)
	}
	return out
}
