package tokenizer

import (
	"strings"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a text segment before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

type unicodeNorm struct{ f norm.Form }

func (n unicodeNorm) normalize(s string) string {
	if n.f.IsNormalString(s) {
		return s
	}
	return n.f.String(s)
}

type lowercase struct{}

func (lowercase) normalize(s string) string { return strings.ToLower(s) }

// prepend adds a prefix to non-empty text (HF Prepend).
type prepend struct{ p string }

func (n prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.p + s
}

type replaceStr struct{ old, new string }

func (n replaceStr) normalize(s string) string { return strings.ReplaceAll(s, n.old, n.new) }

type replaceRe struct {
	re  *regexp2.Regexp
	new string
}

func (n replaceRe) normalize(s string) string {
	out, err := n.re.Replace(s, n.new, -1, -1)
	if err != nil {
		return s
	}
	return out
}

type stripNorm struct{ left, right bool }

func (n stripNorm) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isWhite)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isWhite)
	}
	return s
}
