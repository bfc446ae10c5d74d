package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Hand-coded matchers for the two split patterns that dominate real use.
// They return exactly the matches of the regexes below (checked against
// regexp2 by FuzzFastSplit):
//
//	llama3-style: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}|
//	              ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//	gpt2:         's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
const (
	patQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return (r|0x20) >= 'a' && (r|0x20) <= 'z'
	}
	return unicode.IsLetter(r)
}

func isNumber(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isWhite(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.IsSpace(r)
}

func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// foldASCII lowercases an ASCII letter; with unicodeFold the long s (U+017F)
// folds to 's' as in Unicode-aware case-insensitive regexes.
func lowerContraction(r rune, unicodeFold bool) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 32
	}
	if unicodeFold && r == 0x17F {
		return 's'
	}
	return r
}

// contraction matches 's 't 're 've 'm 'll 'd at i (s[i] == '\”).
func contraction(s string, i int, fold, unicodeFold bool) int {
	r1, n1 := runeAt(s, i+1)
	if n1 == 0 {
		return 0
	}
	if fold {
		r1 = lowerContraction(r1, unicodeFold)
	}
	switch r1 {
	case 's', 't', 'm', 'd':
		return i + 1 + n1
	case 'r', 'v', 'l':
		r2, n2 := runeAt(s, i+1+n1)
		if n2 == 0 {
			return 0
		}
		if fold {
			r2 = lowerContraction(r2, unicodeFold)
		}
		if (r1 == 'r' && r2 == 'e') || (r1 == 'v' && r2 == 'e') || (r1 == 'l' && r2 == 'l') {
			return i + 1 + n1 + n2
		}
	}
	return 0
}

// whitespaceEnd handles the three whitespace alternatives shared by the
// patterns at i (s[i] is whitespace). withNewline enables \s*[\r\n]+.
func whitespaceEnd(s string, i int, withNewline bool) int {
	e, lastNL, lastStart := i, -1, i
	for e < len(s) {
		r, n := runeAt(s, e)
		if !isWhite(r) {
			break
		}
		if r == '\r' || r == '\n' {
			lastNL = e
		}
		lastStart = e
		e += n
	}
	if withNewline && lastNL >= 0 {
		return lastNL + 1
	}
	if e == len(s) || lastStart == i {
		return e // \s+(?!\S) at end, or the \s+ fallback for one rune
	}
	return lastStart
}

// llama3Matcher implements the Qwen2 (maxDigits 1) and Llama 3 (maxDigits 3)
// split patterns.
type llama3Matcher struct {
	maxDigits   int
	unicodeFold bool // (?i:...) as in HF (folds U+017F); llama.cpp uses [sS]
}

func (m llama3Matcher) find(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		e := m.next(s, i)
		fn(i, e)
		i = e
	}
}

func (m llama3Matcher) next(s string, i int) int {
	r0, n0 := runeAt(s, i)
	if r0 == '\'' {
		if e := contraction(s, i, true, m.unicodeFold); e > 0 {
			return e
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	j := i
	if !isLetter(r0) && r0 != '\r' && r0 != '\n' && !isNumber(r0) {
		j = i + n0
	}
	if r, n := runeAt(s, j); n > 0 && isLetter(r) {
		j += n
		for {
			r, n = runeAt(s, j)
			if n == 0 || !isLetter(r) {
				break
			}
			j += n
		}
		return j
	}
	// \p{N}{1,K}
	if isNumber(r0) {
		j = i + n0
		for k := 1; k < m.maxDigits; k++ {
			r, n := runeAt(s, j)
			if n == 0 || !isNumber(r) {
				break
			}
			j += n
		}
		return j
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j = i
	if r0 == ' ' {
		j += n0
	}
	k := j
	for {
		r, n := runeAt(s, k)
		if n == 0 || isWhite(r) || isLetter(r) || isNumber(r) {
			break
		}
		k += n
	}
	if k > j {
		for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
			k++
		}
		return k
	}
	if isWhite(r0) {
		return whitespaceEnd(s, i, true)
	}
	return i + n0
}

// gpt2Matcher implements the GPT-2 split pattern (HF ByteLevel use_regex and
// llama.cpp's gpt-2 family).
type gpt2Matcher struct{}

func (gpt2Matcher) find(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		e := gpt2Next(s, i)
		fn(i, e)
		i = e
	}
}

func gpt2Next(s string, i int) int {
	r0, n0 := runeAt(s, i)
	if r0 == '\'' {
		if e := contraction(s, i, false, false); e > 0 {
			return e
		}
	}
	j := i
	if r0 == ' ' {
		j += n0
	}
	if r1, n1 := runeAt(s, j); n1 > 0 {
		var class func(rune) bool
		switch {
		case isLetter(r1):
			class = isLetter
		case isNumber(r1):
			class = isNumber
		case !isWhite(r1):
			class = func(r rune) bool { return !isWhite(r) && !isLetter(r) && !isNumber(r) }
		}
		if class != nil {
			j += n1
			for {
				r, n := runeAt(s, j)
				if n == 0 || !class(r) {
					break
				}
				j += n
			}
			return j
		}
	}
	if isWhite(r0) {
		return whitespaceEnd(s, i, false)
	}
	return i + n0
}
