package tokenizer

import "strings"

// TokenBytes returns the bytes token id adds to the text when it appears in
// the middle of a sequence: the decoder chain applied to the token alone,
// without the steps that only act at the start of a sequence (Strip,
// Metaspace's dropped prefix space). Byte tokens (byte-level BPE runes,
// SentencePiece <0xNN>) give their raw byte, which may be part of a UTF-8
// character. Special tokens and ids out of range give nil.
//
// Constrained decoding walks these byte strings to decide which tokens keep
// the output inside a grammar.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	if id < 0 || int(id) >= len(t.pieces) || t.special[id] {
		return nil
	}
	s := t.pieces[id]
	for _, d := range t.dec {
		switch d := d.(type) {
		case byteLevelDec:
			if b, ok := d.bl.decodeTo(nil, s); ok {
				return b
			}
			return []byte(s)
		case byteFallbackDec:
			if b, ok := parseByteToken(s); ok {
				return []byte{b}
			}
		case replaceDec:
			s = strings.ReplaceAll(s, d.old, d.new)
		case metaspaceDec:
			s = strings.ReplaceAll(s, d.repl, " ")
		case wordPieceDec:
			if strings.HasPrefix(s, d.prefix) {
				s = s[len(d.prefix):]
			} else {
				s = " " + s
			}
		}
	}
	return []byte(s)
}
