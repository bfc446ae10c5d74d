package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// byteLevel is the GPT-2 byte-to-unicode table: every byte maps to one
// printable rune, so arbitrary bytes can be spelled with vocabulary strings.
type byteLevel struct {
	enc   [256]rune
	encS  [256]string
	dec   map[rune]byte
	isEnc [0x200]int16 // rune -> byte+1 for runes < 0x200 (all table runes are)
}

func newByteLevel() *byteLevel {
	b := &byteLevel{dec: make(map[rune]byte, 256)}
	n := 0
	for c := 0; c < 256; c++ {
		keep := (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF)
		r := rune(c)
		if !keep {
			r = rune(256 + n)
			n++
		}
		b.enc[c] = r
		b.encS[c] = string(r)
		b.dec[r] = byte(c)
		b.isEnc[r] = int16(c) + 1
	}
	return b
}

// encode spells s byte by byte with the table.
func (b *byteLevel) encode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		sb.WriteString(b.encS[s[i]])
	}
	return sb.String()
}

// decodeTo appends the bytes spelled by s; ok is false (and nothing is
// appended) when s holds a rune outside the table.
func (b *byteLevel) decodeTo(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	for _, r := range s {
		if r < 0 || r >= 0x200 || b.isEnc[r] == 0 {
			return dst[:n], false
		}
		dst = append(dst, byte(b.isEnc[r]-1))
	}
	return dst, true
}

// lossyUTF8 converts b to a string the way Rust's String::from_utf8_lossy
// does: each maximal ill-formed subsequence becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			sb.Write(b[i : i+size])
			i += size
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length (>= 1) of the longest prefix of b that is
// a valid beginning of some UTF-8 sequence (Unicode "maximal subpart").
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k == 0 {
			if x < lo || x > hi {
				return n
			}
		} else if x < 0x80 || x > 0xBF {
			return n
		}
		n++
	}
	return n
}

// parseByteToken reports the byte of a "<0xXX>" piece.
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>' {
		return 0, false
	}
	h, ok1 := hexVal(s[3])
	l, ok2 := hexVal(s[4])
	if !ok1 || !ok2 {
		return 0, false
	}
	return h<<4 | l, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
