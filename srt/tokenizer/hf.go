package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

type hfAdded struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type hfModel struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	ByteFallback            bool            `json:"byte_fallback"`
	FuseUnk                 bool            `json:"fuse_unk"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
}

type hfFile struct {
	AddedTokens   []hfAdded       `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         *hfModel        `json:"model"`
}

// hfConfig is the part of tokenizer_config.json we use.
type hfConfig struct {
	AddBOS *bool           `json:"add_bos_token"`
	AddEOS *bool           `json:"add_eos_token"`
	BOS    json.RawMessage `json:"bos_token"`
	EOS    json.RawMessage `json:"eos_token"`
}

// tokenName reads a config token given as a string or {"content": ...}.
func tokenName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Content
	}
	return ""
}

// FromDir loads dir/tokenizer.json (and dir/tokenizer_config.json if present).
func FromDir(dir string) (*Tokenizer, error) {
	return FromFile(filepath.Join(dir, "tokenizer.json"))
}

// FromFile loads a Hugging Face tokenizer.json. A tokenizer_config.json in
// the same directory, when present, supplies add_bos_token/add_eos_token and
// the bos/eos token names.
func FromFile(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var cfg []byte
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	if b, err := os.ReadFile(cfgPath); err == nil {
		cfg = b
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := fromJSON(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return t, nil
}

// fromJSON builds a Tokenizer from tokenizer.json bytes and optional
// tokenizer_config.json bytes.
func fromJSON(data, cfgData []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %v", ErrFormat, err)
	}
	var cfg hfConfig
	if len(cfgData) > 0 {
		if err := json.Unmarshal(cfgData, &cfg); err != nil {
			return nil, fmt.Errorf("%w: tokenizer_config.json: %v", ErrFormat, err)
		}
	}
	if f.Model == nil {
		return nil, fmt.Errorf("%w: no model", ErrFormat)
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("%w: model type %q", ErrUnsupported, f.Model.Type)
	}
	if f.Model.Type == "" && f.Model.Merges == nil {
		return nil, fmt.Errorf("%w: model without type or merges", ErrUnsupported)
	}
	if p := f.Model.ContinuingSubwordPrefix; p != nil && *p != "" {
		return nil, fmt.Errorf("%w: continuing_subword_prefix %q", ErrUnsupported, *p)
	}
	if p := f.Model.EndOfWordSuffix; p != nil && *p != "" {
		return nil, fmt.Errorf("%w: end_of_word_suffix %q", ErrUnsupported, *p)
	}

	vocab, err := scanVocab(f.Model.Vocab)
	if err != nil {
		return nil, fmt.Errorf("%w (model.vocab)", err)
	}
	if vocab == nil {
		vocab = map[string]int32{}
	}
	t := &Tokenizer{vocab: vocab, bos: -1, eos: -1, unk: -1}
	nVocab := len(vocab)
	maxID := int32(-1)
	for _, id := range vocab {
		if id < 0 || id > 1<<26 {
			return nil, fmt.Errorf("%w: vocab id %d out of range", ErrFormat, id)
		}
		maxID = max(maxID, id)
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID > 1<<26 {
			return nil, fmt.Errorf("%w: added token id %d out of range", ErrFormat, a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	if limit := 2*(nVocab+len(f.AddedTokens)) + 1024; int(maxID) >= limit {
		return nil, fmt.Errorf("%w: id %d far beyond the %d entries", ErrFormat, maxID, nVocab+len(f.AddedTokens))
	}
	t.pieces = make([]string, maxID+1)
	t.special = make([]bool, maxID+1)
	for p, id := range t.vocab {
		t.pieces[id] = p
	}
	added := make([]addedToken, 0, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		t.pieces[a.ID] = a.Content
		t.special[a.ID] = a.Special
		if _, ok := t.vocab[a.Content]; !ok {
			t.vocab[a.Content] = a.ID
		}
		added = append(added, addedToken{content: a.Content, id: a.ID, special: a.Special,
			lstrip: a.Lstrip, rstrip: a.Rstrip, singleWord: a.SingleWord})
	}
	t.added = newAddedVocab(added)

	m := &bpeModel{vocab: t.vocab, unk: -1, byteFallback: f.Model.ByteFallback,
		fuseUnk: f.Model.FuseUnk, ignoreMerges: f.Model.IgnoreMerges}
	if f.Model.UnkToken != nil {
		if id, ok := t.vocab[*f.Model.UnkToken]; ok {
			m.unk, t.unk = id, id
		}
	}
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = -1
		if id, ok := t.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	merges, err := scanMerges(f.Model.Merges)
	if err != nil {
		return nil, fmt.Errorf("%w (model.merges)", err)
	}
	m.merges = make(map[uint64]uint64, len(merges))
	for rank, mg := range merges {
		l, ok1 := t.vocab[mg[0]]
		r, ok2 := t.vocab[mg[1]]
		res, ok3 := t.vocab[mg[0]+mg[1]]
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		k := mergeKey(l, r)
		if _, dup := m.merges[k]; !dup {
			m.merges[k] = uint64(rank)<<32 | uint64(uint32(res))
		}
	}
	t.kind, t.bpe = kindBPE, m

	bl := newByteLevel()
	if t.norm, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer, bl); err != nil {
		return nil, err
	}
	if t.dec, err = parseDecoder(f.Decoder, bl); err != nil {
		return nil, err
	}
	if t.prefix, t.suffix, err = parsePostProcessor(f.PostProcessor, t.vocab); err != nil {
		return nil, err
	}
	if id, ok := t.vocab[tokenName(cfg.BOS)]; ok && len(cfg.BOS) > 0 {
		t.bos = id
	} else if len(t.prefix) > 0 {
		t.bos = t.prefix[0]
	}
	if id, ok := t.vocab[tokenName(cfg.EOS)]; ok && len(cfg.EOS) > 0 {
		t.eos = id
	} else if len(t.suffix) > 0 {
		t.eos = t.suffix[len(t.suffix)-1]
	}
	t.prefix = applyAddFlag(t.prefix, cfg.AddBOS, t.bos, true)
	t.suffix = applyAddFlag(t.suffix, cfg.AddEOS, t.eos, false)
	t.finalize()
	return t, nil
}

// applyAddFlag makes the post-processor agree with add_bos_token /
// add_eos_token from tokenizer_config.json when they are given.
func applyAddFlag(list []int32, flag *bool, id int32, front bool) []int32 {
	if flag == nil || id < 0 {
		return list
	}
	has := false
	for _, x := range list {
		if x == id {
			has = true
		}
	}
	switch {
	case *flag && !has && front:
		return append([]int32{id}, list...)
	case *flag && !has:
		return append(list, id)
	case !*flag && has:
		out := list[:0:0]
		for _, x := range list {
			if x != id {
				out = append(out, x)
			}
		}
		return out
	}
	return list
}
