package srt

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// retokenizeTail is how many trailing output tokens jump-forward may
// re-tokenize together with the forced text, so that token boundaries come
// out as the tokenizer would draw them (e.g. `"` + `,\n` becoming `",\n`).
const retokenizeTail = 8

// forcing reports whether text s's grammar forces becomes the tokenizer's
// tokens for it (appended in one prefill with jump-forward on, fed one per
// forward step with it off). Requests asking for logprobs decode every
// token with the plain mask instead, since they want each token's logits.
func (s *seq) forcing() bool {
	return s.matcher != nil && !s.req.ReturnLogprob && s.e.tok != nil
}

// forcedChunk bounds the prefill chunk of s from position from: with
// jump-forward off, forced tokens get one forward step each, like decoded
// ones (the prompt before them still prefills at once).
func (s *seq) forcedChunk(from, k int) int {
	if !s.jump || !s.e.opts.DisableJumpForward {
		return k
	}
	return min(k, max(s.promptLen-from, 0)+1)
}

// tokensBytes appends the bytes of ids to dst; ok is false if one of them
// is a special token (no bytes).
func (s *seq) tokensBytes(dst []byte, ids []int32) ([]byte, bool) {
	for _, id := range ids {
		b := s.e.tok.TokenBytes(id)
		if len(b) == 0 {
			return dst, false
		}
		dst = append(dst, b...)
	}
	return dst, true
}

// retokenize returns the tokens for the last k output tokens followed by the
// forced bytes: the tokenizer's own encoding of that text when it gives back
// exactly those bytes, else (k == 0 only) a greedy longest-match over the
// vocabulary. ok is false when neither works.
func (s *seq) retokenize(k int, forced []byte) (toks []int32, ok bool) {
	L := len(s.ids)
	tail, ok := s.tokensBytes(nil, s.ids[L-k:])
	if !ok || !utf8.Valid(tail) {
		return nil, false
	}
	text := append(tail, forced...)
	toks = s.e.tok.Encode(string(text), false)
	if got, ok := s.tokensBytes(nil, toks); ok && bytes.Equal(got, text) {
		return toks, true
	}
	if k > 0 {
		return nil, false
	}
	return s.e.cons.greedyTokens(forced)
}

// greedyTokens splits b into vocabulary tokens, longest match first.
func (c *constrainer) greedyTokens(b []byte) ([]int32, bool) {
	var out []int32
	for i := 0; i < len(b); {
		found := false
		for l := min(c.maxPiece, len(b)-i); l > 0; l-- {
			if id, ok := c.pieces[string(b[i:i+l])]; ok {
				out = append(out, id)
				i += l
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return out, true
}

// jumpForward appends the text the grammar forces after s's last token,
// without forward steps. Tokens from position lo on may be re-tokenized
// (lo is at least the prompt length and the end of the radix-tree-owned
// prefix). It returns the position from which s's tokens changed (KV slots
// at or beyond it are stale) and whether a jump happened; then s.jump is
// set unless the jump finished the sequence, and s needs a prefill of its
// new tokens before it samples again.
func (s *seq) jumpForward(lo int) (cut int, jumped bool) {
	if !s.forcing() || s.finish != nil {
		return 0, false
	}
	forced := s.matcher.Forced()
	if len(forced) == 0 || !utf8.RuneStart(forced[0]) {
		return 0, false
	}
	L := len(s.ids)
	lo = max(lo, s.promptLen)
	var toks []int32
	k := min(retokenizeTail, L-lo)
	for ; k >= 0; k-- {
		if t, ok := s.retokenize(k, forced); ok {
			toks = t
			break
		}
	}
	if k < 0 {
		return 0, false
	}
	// Keep the re-tokenized tokens that did not change.
	for k > 0 && len(toks) > 0 && toks[0] == s.ids[L-k] {
		toks, k = toks[1:], k-1
	}
	cut = L - k
	if cut-s.promptLen+len(toks) > s.maxNew || len(toks) == 0 {
		// The forced text does not fit: decode token by token up to the limit.
		return 0, false
	}
	if err := s.matcher.AcceptBytes(forced); err != nil {
		return 0, false
	}
	if s.dec != nil {
		s.text.WriteString(s.dec.Flush())
		s.text.WriteString(string(forced))
	}
	// A new backing array: published snapshots share the old one.
	ids := make([]int32, cut, cut+len(toks)+16)
	copy(ids, s.ids[:cut])
	s.ids = append(ids, toks...)
	for _, id := range toks[min(k, len(toks)):] {
		s.sampler.Accept(id)
	}
	if !s.e.opts.DisableJumpForward {
		s.jumpTokens += len(toks) - k
	}
	if s.dec != nil {
		s.dec = s.e.tok.NewDecoder(s.ids, s.req.Sampling.SkipSpecialTokens)
		s.checkStopRegex()
		s.checkStopStrings()
	}
	if s.finish == nil && s.matcher.Done() {
		s.forceEOS()
	}
	s.settle()
	s.jump = s.finish == nil
	return cut, true
}

// jumpForward runs s's jump-forward after a sampled token and, when the
// tokens changed, drops the KV slots of the replaced positions. It reports
// whether s must leave the decode batch for a prefill of its new tokens.
func (sc *scheduler) jumpForward(s *seq) bool {
	cut, ok := s.jumpForward(max(s.treeLen, s.promptLen))
	if !ok {
		return false
	}
	if cut < len(s.slots) {
		sc.free(s.slots[cut:])
		s.slots = slices.Clip(s.slots[:cut])
	}
	sc.totals.JumpForwardTokens += s.jumpTokens - s.jumpCounted
	s.jumpCounted = s.jumpTokens
	return s.jump
}
