package tokenizer

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// llama.cpp token types (tokenizer.ggml.token_type).
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// GGUFVocab is the tokenizer stored in GGUF metadata (tokenizer.ggml.*).
// VocabFromGGUF fills it, applying llama.cpp's per-model defaults to the
// fields that are absent from the file; code that fills it by hand must do
// the same.
type GGUFVocab struct {
	Model  string    // tokenizer.ggml.model: "llama" (SPM) or "gpt2" (byte-level BPE)
	Pre    string    // tokenizer.ggml.pre: qwen2, llama-bpe, gpt-2, deepseek-llm, ...
	Tokens []string  // tokenizer.ggml.tokens
	Scores []float32 // tokenizer.ggml.scores (SPM merge priority)
	Types  []int32   // tokenizer.ggml.token_type (Type* constants)
	Merges []string  // tokenizer.ggml.merges ("left right")

	BOS, EOS, UNK, PAD int32 // -1 when absent
	AddBOS, AddEOS     bool

	// SEP is tokenizer.ggml.seperator_token_id (-1 when absent); AddSEP
	// (tokenizer.ggml.add_sep_token, default true for "bert") appends it.
	SEP    int32
	AddSEP bool

	AddSpacePrefix bool // tokenizer.ggml.add_space_prefix
}

// GGUFMeta is the metadata access VocabFromGGUF needs; *gguf.File (package
// srt/model/gguf) implements it. Taking an interface keeps this package free
// of the tensor code the GGUF reader pulls in.
type GGUFMeta interface {
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Float32s(key string) ([]float32, bool)
	Int32s(key string) ([]int32, bool)
	Uint32(key string) (uint32, bool)
	Bool(key string) (bool, bool)
}

// VocabFromGGUF reads the tokenizer metadata of an open GGUF file (a
// *gguf.File).
func VocabFromGGUF(f GGUFMeta) (GGUFVocab, error) {
	var v GGUFVocab
	var ok bool
	if v.Model, ok = f.String("tokenizer.ggml.model"); !ok {
		return v, fmt.Errorf("%w: gguf: no tokenizer.ggml.model", ErrFormat)
	}
	v.Pre, _ = f.String("tokenizer.ggml.pre")
	if v.Tokens, ok = f.Strings("tokenizer.ggml.tokens"); !ok {
		return v, fmt.Errorf("%w: gguf: no tokenizer.ggml.tokens", ErrFormat)
	}
	v.Scores, _ = f.Float32s("tokenizer.ggml.scores")
	v.Types, _ = f.Int32s("tokenizer.ggml.token_type")
	v.Merges, _ = f.Strings("tokenizer.ggml.merges")
	n := uint32(len(v.Tokens))
	id := func(key string, def int32) int32 {
		if u, ok := f.Uint32(key); ok {
			if u < n {
				return int32(u)
			}
			return -1
		}
		if def >= 0 && uint32(def) < n {
			return def
		}
		return -1
	}
	spm := v.Model == "llama"
	bert := v.Model == "bert"
	defBOS, defEOS, defUNK, defSEP := int32(-1), int32(-1), int32(-1), int32(-1)
	if spm {
		defBOS, defEOS, defUNK = 1, 2, 0
	}
	if bert {
		defBOS, defUNK, defSEP = 101, 100, 102
		defBOS = id("tokenizer.ggml.cls_token_id", defBOS)
	}
	v.BOS = id("tokenizer.ggml.bos_token_id", defBOS)
	v.SEP = id("tokenizer.ggml.seperator_token_id", defSEP)
	v.AddSEP = bert
	if b, ok := f.Bool("tokenizer.ggml.add_sep_token"); ok {
		v.AddSEP = b
	}
	v.EOS = id("tokenizer.ggml.eos_token_id", defEOS)
	v.UNK = id("tokenizer.ggml.unknown_token_id", defUNK)
	v.PAD = id("tokenizer.ggml.padding_token_id", -1)
	v.AddBOS = spm || bert || llama3Pre(v.Pre)
	if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
		v.AddBOS = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_eos_token"); ok {
		v.AddEOS = b
	}
	v.AddSpacePrefix = spm
	if b, ok := f.Bool("tokenizer.ggml.add_space_prefix"); ok {
		v.AddSpacePrefix = b
	}
	return v, nil
}

// nfcPre lists pre-tokenizers whose HF tokenizer.json has an NFC normalizer.
func nfcPre(pre string) bool {
	switch pre {
	case "qwen2", "deepseek-r1-qwen", "megrez":
		return true
	}
	return false
}

func llama3Pre(pre string) bool {
	switch pre {
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "tekken":
		return true
	}
	return false
}

// FromGGUF builds a Tokenizer from a GGUF vocabulary.
func FromGGUF(v GGUFVocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("%w: gguf: empty vocabulary", ErrFormat)
	}
	if (v.Scores != nil && len(v.Scores) != n) || (v.Types != nil && len(v.Types) != n) {
		return nil, fmt.Errorf("%w: gguf: %d tokens but %d scores and %d types", ErrFormat, n, len(v.Scores), len(v.Types))
	}
	t := &Tokenizer{
		pieces:  slices.Clone(v.Tokens),
		vocab:   make(map[string]int32, n),
		special: make([]bool, n),
		bos:     -1, eos: -1, unk: -1,
	}
	check := func(id int32) int32 {
		if id >= 0 && int(id) < n {
			return id
		}
		return -1
	}
	t.bos, t.eos, t.unk = check(v.BOS), check(v.EOS), check(v.UNK)
	var added []addedToken
	for i, p := range v.Tokens {
		t.vocab[p] = int32(i) // as in llama.cpp, the last duplicate wins
		typ := TypeNormal
		if v.Types != nil {
			typ = v.Types[i]
		}
		switch typ {
		case TypeControl, TypeUnknown:
			t.special[i] = true
			added = append(added, addedToken{content: p, id: int32(i), special: true})
		case TypeUserDefined:
			added = append(added, addedToken{content: p, id: int32(i)})
		}
	}
	t.added = newAddedVocab(added)
	var byteIDs [256]int32
	for b := range byteIDs {
		byteIDs[b] = -1
		if id, ok := t.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			byteIDs[b] = id
		}
	}
	bl := newByteLevel()
	switch v.Model {
	case "llama":
		scores := v.Scores
		if scores == nil {
			scores = make([]float32, n)
		}
		t.kind = kindSPM
		t.spm = &spmModel{vocab: t.vocab, scores: scores, byteIDs: byteIDs, unk: t.unk}
		if v.AddSpacePrefix {
			t.norm = append(t.norm, prepend{"\u2581"})
		}
		t.norm = append(t.norm, replaceStr{" ", "\u2581"})
		t.dec = []decodeStep{replaceDec{"\u2581", " "}, byteFallbackDec{}, fuseDec{}}
		if v.AddSpacePrefix {
			t.dec = append(t.dec, stripDec{" ", 1, 0})
		}
	case "bert":
		m := &wpmModel{vocab: t.vocab, unk: t.unk}
		for _, p := range v.Tokens {
			m.maxLen = max(m.maxLen, len(p))
		}
		t.kind, t.wpm = kindWPM, m
		t.pre = []preStep{wpmSplit{}}
		t.dec = []decodeStep{replaceDec{"\u2581", " "}, fuseDec{}, stripDec{" ", 1, 0}}
	case "gpt2":
		m := &bpeModel{vocab: t.vocab, unk: -1, ignoreMerges: llama3Pre(v.Pre)}
		for i := range m.byteIDs {
			m.byteIDs[i] = -1
		}
		m.merges = make(map[uint64]uint64, len(v.Merges))
		for rank, mg := range v.Merges {
			k := -1
			if len(mg) > 1 {
				if j := strings.IndexByte(mg[1:], ' '); j >= 0 {
					k = j + 1
				}
			}
			if k < 0 {
				return nil, fmt.Errorf("%w: gguf: merge %q has no space", ErrFormat, mg)
			}
			l, ok1 := t.vocab[mg[:k]]
			r, ok2 := t.vocab[mg[k+1:]]
			res, ok3 := t.vocab[mg[:k]+mg[k+1:]]
			if !ok1 || !ok2 || !ok3 {
				continue
			}
			key := mergeKey(l, r)
			if _, dup := m.merges[key]; !dup {
				m.merges[key] = uint64(rank)<<32 | uint64(uint32(res))
			}
		}
		t.kind, t.bpe = kindBPE, m
		pats := preRegexes(v.Pre)
		for _, p := range pats {
			mt, err := ggufMatcher(p)
			if err != nil {
				return nil, fmt.Errorf("%w: gguf pre %q: %v", ErrFormat, v.Pre, err)
			}
			t.pre = append(t.pre, splitStep{m: mt})
		}
		t.pre = append(t.pre, byteLevelStep{bl: bl})
		if nfcPre(v.Pre) {
			// The HF tokenizer of these models normalizes to NFC; llama.cpp
			// does not. We follow HF so GGUF and tokenizer.json agree.
			t.norm = []normalizer{unicodeNorm{norm.NFC}}
		}
		t.dec = []decodeStep{byteLevelDec{bl}}
	default:
		return nil, fmt.Errorf("%w: gguf tokenizer model %q", ErrUnsupported, v.Model)
	}
	if v.AddBOS && t.bos >= 0 {
		t.prefix = []int32{t.bos}
	}
	if v.AddEOS && t.eos >= 0 {
		t.suffix = []int32{t.eos}
	}
	if v.AddSEP && v.SEP >= 0 && int(v.SEP) < n {
		t.suffix = append(t.suffix, v.SEP)
	}
	t.finalize()
	return t, nil
}

func ggufMatcher(p string) (matcher, error) {
	switch p {
	case llamaCppQwen2:
		return llama3Matcher{maxDigits: 1}, nil
	case llamaCppLlama3:
		return llama3Matcher{maxDigits: 3}, nil
	case llamaCppGPT2:
		return gpt2Matcher{}, nil
	}
	return newReMatcher(p)
}
