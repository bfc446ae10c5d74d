package tokenizer

import (
	"encoding/json"
	"fmt"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

type hfPattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// hfNode is the union of the fields used by normalizers, pre-tokenizers,
// decoders and post-processors.
type hfNode struct {
	Type           string            `json:"type"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	PreTokenizers  []json.RawMessage `json:"pretokenizers"`
	Decoders       []json.RawMessage `json:"decoders"`
	Processors     []json.RawMessage `json:"processors"`
	Pattern        hfPattern         `json:"pattern"`
	Content        string            `json:"content"`
	Prepend        string            `json:"prepend"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	Split          *bool             `json:"split"`
	Individual     bool              `json:"individual_digits"`
	Start          int               `json:"start"`
	Stop           int               `json:"stop"`
	Left           bool              `json:"left"`
	Right          bool              `json:"right"`
	Prefix         string            `json:"prefix"`
	Single         []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int32 `json:"ids"`
	} `json:"special_tokens"`
	Cls []json.RawMessage `json:"cls"`
	Sep []json.RawMessage `json:"sep"`
}

func parseNode(raw json.RawMessage, what string) (*hfNode, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var n hfNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, what, err)
	}
	return &n, nil
}

func parseNormalizer(raw json.RawMessage) ([]normalizer, error) {
	n, err := parseNode(raw, "normalizer")
	if n == nil || err != nil {
		return nil, err
	}
	switch n.Type {
	case "Sequence":
		var out []normalizer
		for _, r := range n.Normalizers {
			s, err := parseNormalizer(r)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	case "NFC":
		return []normalizer{unicodeNorm{norm.NFC}}, nil
	case "NFD":
		return []normalizer{unicodeNorm{norm.NFD}}, nil
	case "NFKC":
		return []normalizer{unicodeNorm{norm.NFKC}}, nil
	case "NFKD":
		return []normalizer{unicodeNorm{norm.NFKD}}, nil
	case "Lowercase":
		return []normalizer{lowercase{}}, nil
	case "Prepend":
		return []normalizer{prepend{n.Prepend}}, nil
	case "Strip":
		return []normalizer{stripNorm{n.Left, n.Right}}, nil
	case "Replace":
		if n.Pattern.String != nil {
			return []normalizer{replaceStr{*n.Pattern.String, n.Content}}, nil
		}
		if n.Pattern.Regex != nil {
			re, err := regexp2.Compile(*n.Pattern.Regex, regexp2.None)
			if err != nil {
				return nil, fmt.Errorf("%w: Replace regex: %v", ErrFormat, err)
			}
			re.MatchTimeout = matchTimeout
			return []normalizer{replaceRe{re, n.Content}}, nil
		}
		return nil, fmt.Errorf("%w: Replace without pattern", ErrFormat)
	}
	return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, n.Type)
}

// splitMatcher picks the hand-coded matcher for known patterns.
func splitMatcher(p hfPattern) (matcher, error) {
	if p.String != nil {
		return literalMatcher{*p.String}, nil
	}
	if p.Regex == nil {
		return nil, fmt.Errorf("%w: Split without pattern", ErrFormat)
	}
	switch *p.Regex {
	case patQwen2:
		return llama3Matcher{maxDigits: 1, unicodeFold: true}, nil
	case patLlama3:
		return llama3Matcher{maxDigits: 3, unicodeFold: true}, nil
	case patGPT2:
		return gpt2Matcher{}, nil
	}
	m, err := newReMatcher(*p.Regex)
	if err != nil {
		return nil, fmt.Errorf("%w: split regex: %v", ErrFormat, err)
	}
	return m, nil
}

var behaviors = map[string]splitBehavior{
	"": splitIsolated, "Isolated": splitIsolated, "Removed": splitRemoved,
	"MergedWithPrevious": splitMergedWithPrevious, "MergedWithNext": splitMergedWithNext,
	"Contiguous": splitContiguous,
}

func parsePreTokenizer(raw json.RawMessage, bl *byteLevel) ([]preStep, error) {
	n, err := parseNode(raw, "pre_tokenizer")
	if n == nil || err != nil {
		return nil, err
	}
	switch n.Type {
	case "Sequence":
		var out []preStep
		for _, r := range n.PreTokenizers {
			s, err := parsePreTokenizer(r, bl)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	case "Split":
		m, err := splitMatcher(n.Pattern)
		if err != nil {
			return nil, err
		}
		b, ok := behaviors[n.Behavior]
		if !ok {
			return nil, fmt.Errorf("%w: split behavior %q", ErrUnsupported, n.Behavior)
		}
		return []preStep{splitStep{m: m, behavior: b, invert: n.Invert}}, nil
	case "ByteLevel":
		s := byteLevelStep{bl: bl, prefixSpace: n.AddPrefixSpace != nil && *n.AddPrefixSpace}
		if n.UseRegex == nil || *n.UseRegex {
			s.split = &splitStep{m: gpt2Matcher{}}
		}
		return []preStep{s}, nil
	case "Metaspace":
		s := metaspaceStep{repl: n.Replacement, prepend: n.PrependScheme, split: n.Split == nil || *n.Split}
		if s.repl == "" {
			s.repl = "\u2581"
		}
		if s.prepend == "" {
			s.prepend = "always"
			if n.AddPrefixSpace != nil && !*n.AddPrefixSpace {
				s.prepend = "never"
			}
		}
		return []preStep{s}, nil
	case "Digits":
		pat := `\p{N}+`
		if n.Individual {
			pat = `\p{N}`
		}
		m, _ := newReMatcher(pat)
		return []preStep{splitStep{m: m}}, nil
	case "WhitespaceSplit":
		m, _ := newReMatcher(`\s+`)
		return []preStep{splitStep{m: m, behavior: splitRemoved}}, nil
	case "Whitespace":
		m, _ := newReMatcher(`\w+|[^\w\s]+`)
		return []preStep{splitStep{m: m, behavior: splitRemoved, invert: true}}, nil
	}
	return nil, fmt.Errorf("%w: pre_tokenizer %q", ErrUnsupported, n.Type)
}

func parseDecoder(raw json.RawMessage, bl *byteLevel) ([]decodeStep, error) {
	n, err := parseNode(raw, "decoder")
	if n == nil || err != nil {
		return nil, err
	}
	switch n.Type {
	case "Sequence":
		var out []decodeStep
		for _, r := range n.Decoders {
			s, err := parseDecoder(r, bl)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	case "ByteLevel":
		return []decodeStep{byteLevelDec{bl}}, nil
	case "Replace":
		if n.Pattern.String == nil {
			return nil, fmt.Errorf("%w: Replace decoder with regex", ErrUnsupported)
		}
		return []decodeStep{replaceDec{*n.Pattern.String, n.Content}}, nil
	case "ByteFallback":
		return []decodeStep{byteFallbackDec{}}, nil
	case "Fuse":
		return []decodeStep{fuseDec{}}, nil
	case "Strip":
		return []decodeStep{stripDec{n.Content, n.Start, n.Stop}}, nil
	case "Metaspace":
		d := metaspaceDec{repl: n.Replacement, stripPrefix: n.PrependScheme != "never"}
		if n.PrependScheme == "" && n.AddPrefixSpace != nil {
			d.stripPrefix = *n.AddPrefixSpace
		}
		if d.repl == "" {
			d.repl = "\u2581"
		}
		return []decodeStep{d}, nil
	case "WordPiece":
		p := n.Prefix
		if p == "" {
			p = "##"
		}
		return []decodeStep{wordPieceDec{p}}, nil
	}
	return nil, fmt.Errorf("%w: decoder %q", ErrUnsupported, n.Type)
}

// parsePostProcessor returns the ids added before and after a single
// sequence.
func parsePostProcessor(raw json.RawMessage, vocab map[string]int32) (prefix, suffix []int32, err error) {
	n, err := parseNode(raw, "post_processor")
	if n == nil || err != nil {
		return nil, nil, err
	}
	switch n.Type {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		for _, r := range n.Processors {
			p, s, err := parsePostProcessor(r, vocab)
			if err != nil {
				return nil, nil, err
			}
			prefix = append(prefix, p...)
			suffix = append(s, suffix...)
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		seen := false
		for _, piece := range n.Single {
			switch {
			case piece.Sequence != nil:
				seen = true
			case piece.SpecialToken != nil:
				st, ok := n.SpecialTokens[piece.SpecialToken.ID]
				var ids []int32
				if ok {
					ids = st.IDs
				} else if id, ok := vocab[piece.SpecialToken.ID]; ok {
					ids = []int32{id}
				} else {
					return nil, nil, fmt.Errorf("%w: template token %q unknown", ErrFormat, piece.SpecialToken.ID)
				}
				if seen {
					suffix = append(suffix, ids...)
				} else {
					prefix = append(prefix, ids...)
				}
			}
		}
		return prefix, suffix, nil
	case "RobertaProcessing", "BertProcessing":
		get := func(p []json.RawMessage) []int32 {
			if len(p) != 2 {
				return nil
			}
			var id int32
			if json.Unmarshal(p[1], &id) != nil {
				return nil
			}
			return []int32{id}
		}
		return get(n.Cls), get(n.Sep), nil
	}
	return nil, nil, fmt.Errorf("%w: post_processor %q", ErrUnsupported, n.Type)
}
