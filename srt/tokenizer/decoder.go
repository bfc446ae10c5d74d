package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decodeStep is one HF decoder: it maps the token strings to new strings.
type decodeStep interface {
	decode(toks []string) []string
}

// byteLevelDec joins the tokens and maps their runes back to bytes; a token
// with a rune outside the byte table contributes its UTF-8 bytes as is.
type byteLevelDec struct{ bl *byteLevel }

func (d byteLevelDec) decode(toks []string) []string {
	var b []byte
	for _, t := range toks {
		var ok bool
		if b, ok = d.bl.decodeTo(b, t); !ok {
			b = append(b, t...)
		}
	}
	return []string{lossyUTF8(b)}
}

type replaceDec struct{ old, new string }

func (d replaceDec) decode(toks []string) []string {
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(t, d.old, d.new)
	}
	return toks
}

// byteFallbackDec turns runs of <0xXX> tokens into text (one U+FFFD per
// byte when a run is not valid UTF-8).
type byteFallbackDec struct{}

func (byteFallbackDec) decode(toks []string) []string {
	out := toks[:0:0]
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range toks {
		if b, ok := parseByteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) decode(toks []string) []string { return []string{strings.Join(toks, "")} }

// stripDec removes up to start leading and stop trailing copies of content
// from each token.
type stripDec struct {
	content     string
	start, stop int
}

func (d stripDec) decode(toks []string) []string {
	for i, t := range toks {
		for k := 0; k < d.start && strings.HasPrefix(t, d.content); k++ {
			t = t[len(d.content):]
		}
		for k := 0; k < d.stop && strings.HasSuffix(t, d.content); k++ {
			t = t[:len(t)-len(d.content)]
		}
		toks[i] = t
	}
	return toks
}

// metaspaceDec replaces the replacement rune with spaces and drops the
// leading space of the first token when a prefix space was added.
type metaspaceDec struct {
	repl        string
	stripPrefix bool
}

func (d metaspaceDec) decode(toks []string) []string {
	for i, t := range toks {
		t = strings.ReplaceAll(t, d.repl, " ")
		if i == 0 && d.stripPrefix {
			t = strings.TrimPrefix(t, " ")
		}
		toks[i] = t
	}
	return toks
}

// wordPieceDec joins WordPiece tokens: "##" continues a word, others get a
// leading space.
type wordPieceDec struct{ prefix string }

func (d wordPieceDec) decode(toks []string) []string {
	for i, t := range toks {
		if i > 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = t[len(d.prefix):]
			} else {
				t = " " + t
			}
		}
		toks[i] = t
	}
	return toks
}
