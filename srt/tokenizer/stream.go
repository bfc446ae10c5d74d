package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// StreamDecoder turns generated ids into text incrementally. Add returns
// only text that is final; a character whose bytes are split across tokens
// is held back until it is complete, so U+FFFD never appears for it. The
// concatenation of everything Add and Flush return equals
// Decode(prompt+generated) minus Decode(prompt).
//
// A StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	skipSpecial bool
	ids         []int32
	prefix      int // start of the decode window
	read        int // ids before read have been emitted
}

// streamWindow is how many prompt ids the first decode window includes; the
// window never starts later than needed to make its prefix text non-empty.
const streamWindow = 8

// NewDecoder starts a stream after prompt (the ids the model already saw).
func (t *Tokenizer) NewDecoder(prompt []int32, skipSpecial bool) *StreamDecoder {
	d := &StreamDecoder{t: t, skipSpecial: skipSpecial}
	d.ids = append(d.ids, prompt...)
	d.read = len(d.ids)
	d.prefix = d.cleanStart(max(0, d.read-streamWindow))
	return d
}

// cleanStart moves p back (a little) until ids[p] does not continue a
// character started by an earlier token, so that decoding a window that
// starts at p gives the same text as decoding from the beginning.
func (d *StreamDecoder) cleanStart(p int) int {
	for k := 0; p > 0 && k < 16 && d.t.continuesChar(d.ids[p]); k++ {
		p--
	}
	return p
}

// Add appends one generated id and returns the newly final text ("" when
// the id completes no text yet).
func (d *StreamDecoder) Add(id int32) string {
	d.ids = append(d.ids, id)
	return d.emit(false)
}

// Flush returns any held-back text (an incomplete character becomes U+FFFD,
// as in Decode). The decoder can keep being used afterwards.
func (d *StreamDecoder) Flush() string { return d.emit(true) }

func (d *StreamDecoder) emit(final bool) string {
	if d.read == len(d.ids) {
		return ""
	}
	// A window whose prefix decodes to nothing would let decoders that act on
	// the start of the text (Strip, Metaspace) act on new text; widen it.
	prev := d.t.Decode(d.ids[d.prefix:d.read], d.skipSpecial)
	for prev == "" && d.prefix > 0 {
		d.prefix = d.cleanStart(max(0, d.prefix-streamWindow))
		prev = d.t.Decode(d.ids[d.prefix:d.read], d.skipSpecial)
	}
	full := d.t.Decode(d.ids[d.prefix:], d.skipSpecial)
	if !final && (len(full) <= len(prev) || incompleteTail(full)) {
		return ""
	}
	var out string
	if strings.HasPrefix(full, prev) {
		out = full[len(prev):]
	} else {
		// The new ids changed already-emitted text (an invalid byte that is
		// now part of a character); emit what differs after the common part.
		k := 0
		for k < len(prev) && k < len(full) && prev[k] == full[k] {
			k++
		}
		for k > 0 && !utf8.RuneStart(full[k]) {
			k--
		}
		out = full[k:]
	}
	d.prefix, d.read = d.cleanStart(d.read), len(d.ids)
	return out
}

// incompleteTail reports whether s ends with U+FFFD, the mark of bytes that
// may still become a character.
func incompleteTail(s string) bool {
	return strings.HasSuffix(s, "\uFFFD")
}

// continuesChar reports whether the first byte id decodes to is a UTF-8
// continuation byte (a byte-fallback or byte-level piece inside a character).
func (t *Tokenizer) continuesChar(id int32) bool {
	if id < 0 || int(id) >= len(t.pieces) {
		return false
	}
	p := t.pieces[id]
	if b, ok := parseByteToken(p); ok {
		return b >= 0x80 && b < 0xC0
	}
	for _, st := range t.dec {
		if bl, ok := st.(byteLevelDec); ok {
			r, _ := utf8.DecodeRuneInString(p)
			if r >= 0 && r < 0x200 && bl.bl.isEnc[r] != 0 {
				b := byte(bl.bl.isEnc[r] - 1)
				return b >= 0x80 && b < 0xC0
			}
		}
	}
	return false
}
