package tokenizer

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// addedToken is a vocabulary entry matched verbatim in the input before the
// model runs (HF added_tokens; GGUF control and user-defined tokens).
type addedToken struct {
	content    string
	id         int32
	special    bool
	lstrip     bool
	rstrip     bool
	singleWord bool
}

// addedVocab finds added tokens in text, leftmost first and longest at a
// position.
type addedVocab struct {
	byFirst [256][]*addedToken // candidates by first byte, longest first
	any     bool
}

func newAddedVocab(toks []addedToken) *addedVocab {
	a := &addedVocab{}
	for i := range toks {
		t := &toks[i]
		if t.content == "" {
			continue
		}
		a.byFirst[t.content[0]] = append(a.byFirst[t.content[0]], t)
		a.any = true
	}
	for i := range a.byFirst {
		l := a.byFirst[i]
		sort.SliceStable(l, func(x, y int) bool { return len(l[x].content) > len(l[y].content) })
	}
	return a
}

func isWordByte(s string, i int, before bool) bool {
	var r rune
	if before {
		r, _ = utf8.DecodeLastRuneInString(s[:i])
	} else {
		r, _ = utf8.DecodeRuneInString(s[i:])
	}
	return r == '_' || isLetter(r) || isNumber(r)
}

// split calls fn for each raw segment (id -1) and each matched token, in
// order. Special tokens are matched only when parseSpecial is set.
func (a *addedVocab) split(text string, parseSpecial bool, fn func(seg string, id int32)) {
	if a == nil || !a.any {
		if text != "" {
			fn(text, -1)
		}
		return
	}
	last := 0 // end of the previous token (start of pending raw text)
	for i := 0; i < len(text); {
		cands := a.byFirst[text[i]]
		var hit *addedToken
		for _, t := range cands {
			if (!t.special || parseSpecial) && strings.HasPrefix(text[i:], t.content) {
				if t.singleWord && ((i > 0 && isWordByte(text, i, true)) ||
					(i+len(t.content) < len(text) && isWordByte(text, i+len(t.content), false))) {
					continue
				}
				hit = t
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		s, e := i, i+len(hit.content)
		if hit.lstrip {
			for s > last {
				r, n := utf8.DecodeLastRuneInString(text[last:s])
				if !isWhite(r) {
					break
				}
				s -= n
			}
		}
		if hit.rstrip {
			for e < len(text) {
				r, n := utf8.DecodeRuneInString(text[e:])
				if !isWhite(r) {
					break
				}
				e += n
			}
		}
		if s > last {
			fn(text[last:s], -1)
		}
		fn("", hit.id)
		last, i = e, e
	}
	if last < len(text) {
		fn(text[last:], -1)
	}
}
