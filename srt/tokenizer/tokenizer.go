// Package tokenizer turns text into token ids and back for the model families
// sglang-go serves, without cgo or Rust.
//
// A Tokenizer is built from a Hugging Face tokenizer.json (FromFile, FromDir;
// tokenizer_config.json beside it adds add_bos_token/add_eos_token and the
// bos/eos names) or from the vocabulary stored in a GGUF file (FromGGUF,
// VocabFromGGUF). Supported models: byte-level BPE (GPT-2, Llama 3, Qwen2 and
// the other llama.cpp pre-tokenizer families), SentencePiece-style BPE with
// byte fallback (merges from tokenizer.json or llama.cpp's score-driven SPM
// algorithm for GGUF "llama" vocabularies).
//
// Contract:
//   - Encode never fails: any byte string (also invalid UTF-8) yields ids.
//     Added tokens (special or not) found in the text are matched first, like
//     HF; addSpecial adds the post-processor's BOS/EOS.
//   - Decode follows HF decode semantics (decoder chain, lossy UTF-8).
//   - A StreamDecoder emits exactly Decode(prompt+gen) minus Decode(prompt)
//     piece by piece and never emits U+FFFD for a character split across
//     tokens.
//   - A Tokenizer is safe for concurrent use; its per-word cache is private to
//     the instance.
package tokenizer

import (
	"errors"
	"strings"
)

// Errors returned by the constructors.
var (
	// ErrFormat reports a malformed or inconsistent tokenizer description.
	ErrFormat = errors.New("tokenizer: bad format")
	// ErrUnsupported reports a feature of the description this package does
	// not implement (unknown model, normalizer, pre-tokenizer or decoder).
	ErrUnsupported = errors.New("tokenizer: unsupported")
)

type modelKind int

const (
	kindBPE modelKind = iota // merges ranked by position (HF BPE, GGUF gpt2)
	kindSPM                  // llama.cpp SentencePiece: merges driven by piece scores
	kindWPM                  // llama.cpp WordPiece (BERT GGUF vocabularies)
)

// Tokenizer encodes and decodes text. Build one with FromFile, FromDir or
// FromGGUF.
type Tokenizer struct {
	pieces  []string
	vocab   map[string]int32
	special []bool // by id: skipped by Decode(skipSpecial)

	kind modelKind
	bpe  *bpeModel
	spm  *spmModel
	wpm  *wpmModel

	norm      []normalizer
	pre       []preStep
	lastSplit *splitStep // final Isolated split, streamed into the model
	added     *addedVocab

	prefix, suffix []int32 // post-processor tokens around the sequence
	dec            []decodeStep

	bos, eos, unk int32

	cache *wordCache
}

// VocabSize returns the number of ids (model vocabulary plus added tokens).
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// BOS returns the beginning-of-sequence id, or -1 when there is none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence id, or -1 when there is none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// IsSpecial reports whether id is a special (control) token, which Decode
// drops when skipSpecial is set.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// TokenID returns the id of a vocabulary piece (as spelled in the
// vocabulary, e.g. "Ġthe" or "▁the").
func (t *Tokenizer) TokenID(piece string) (int32, bool) {
	id, ok := t.vocab[piece]
	return id, ok
}

// Piece returns the vocabulary string of id, or "" when id is out of range.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Encode returns the ids of text. Added and special tokens that appear
// literally in text are matched as single ids. With addSpecial the
// post-processor's tokens (usually BOS and/or EOS) are added.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.encode(text, addSpecial, true)
}

// encode is Encode with control over matching special tokens in the text.
// With parseSpecial false only non-special added tokens are matched (the
// llama.cpp parse_special=false behaviour).
func (t *Tokenizer) encode(text string, addSpecial, parseSpecial bool) []int32 {
	out := make([]int32, 0, len(text)/3+4)
	if addSpecial {
		out = append(out, t.prefix...)
	}
	t.added.split(text, parseSpecial, func(seg string, id int32) {
		if id >= 0 {
			out = append(out, id)
			return
		}
		out = t.encodeSegment(seg, out)
	})
	if addSpecial {
		out = append(out, t.suffix...)
	}
	return out
}

// encodeSegment normalizes, pre-tokenizes and tokenizes text holding no
// added tokens.
func (t *Tokenizer) encodeSegment(seg string, out []int32) []int32 {
	for _, n := range t.norm {
		seg = n.normalize(seg)
	}
	if seg == "" {
		return out
	}
	words := []string{seg}
	for _, p := range t.pre {
		words = p.apply(words)
	}
	for _, w := range words {
		if w == "" {
			continue
		}
		if t.lastSplit == nil {
			out = t.tokenizeWord(w, out)
			continue
		}
		last := 0
		t.lastSplit.m.find(w, func(s, e int) {
			if s > last {
				out = t.tokenizeWord(w[last:s], out)
			}
			if e > s {
				out = t.tokenizeWord(w[s:e], out)
			}
			last = e
		})
		if last < len(w) {
			out = t.tokenizeWord(w[last:], out)
		}
	}
	return out
}

// finalize sets up the fast paths once the pipeline is known: a trailing
// plain ByteLevel step is folded into the BPE model (which then reads raw
// bytes), and a trailing Isolated split is streamed instead of collected.
func (t *Tokenizer) finalize() {
	if n := len(t.pre); n > 0 && t.kind == kindBPE {
		if bs, ok := t.pre[n-1].(byteLevelStep); ok && !bs.prefixSpace {
			t.pre = t.pre[:n-1]
			if bs.split != nil {
				t.pre = append(t.pre, *bs.split)
			}
			t.bpe.bl = bs.bl
			for b := range t.bpe.blIDs {
				t.bpe.blIDs[b] = -1
				if id, ok := t.vocab[bs.bl.encS[b]]; ok {
					t.bpe.blIDs[b] = id
				}
			}
		}
	}
	if n := len(t.pre); n > 0 {
		if s, ok := t.pre[n-1].(splitStep); ok && s.behavior == splitIsolated && !s.invert {
			t.lastSplit = &s
			t.pre = t.pre[:n-1]
		}
	}
	t.cache = newWordCache(1 << 16)
}

// tokenizeWord runs the model on one pre-tokenized word, through the cache.
func (t *Tokenizer) tokenizeWord(w string, out []int32) []int32 {
	if ids, ok := t.cache.get(w); ok {
		return append(out, ids...)
	}
	n := len(out)
	switch t.kind {
	case kindSPM:
		out = t.spm.tokenize(w, out)
	case kindWPM:
		out = t.wpm.tokenize(w, out)
	default:
		out = t.bpe.tokenize(w, out)
	}
	t.cache.put(w, out[n:])
	return out
}

// Decode turns ids back into text the way HF's decode does. Ids out of range
// are ignored. With skipSpecial, special tokens are dropped.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.pieces) {
			continue
		}
		if skipSpecial && t.special[id] {
			continue
		}
		toks = append(toks, t.pieces[id])
	}
	for _, d := range t.dec {
		toks = d.decode(toks)
	}
	return strings.Join(toks, "")
}
