package constrain

import (
	"fmt"
	"unicode/utf8"
)

// maxForced bounds the length of one jump-forward string.
const maxForced = 1 << 16

// Matcher is one request's position in a Grammar. It is cheap (a few words)
// and not safe for concurrent use; Clone it to fork.
type Matcher struct {
	g        *Grammar
	state    int32
	finished bool  // EOS was accepted
	err      error // sticky automaton error (ErrTooComplex)
}

// Grammar returns the matcher's grammar.
func (m *Matcher) Grammar() *Grammar { return m.g }

// Clone returns an independent copy of the matcher at the same position.
func (m *Matcher) Clone() *Matcher { c := *m; return &c }

// Err returns the sticky error that stopped the matcher (it wraps
// ErrTooComplex), or nil.
func (m *Matcher) Err() error { return m.err }

// Finished reports whether an EOS token has been accepted.
func (m *Matcher) Finished() bool { return m.finished }

// Mask returns the set of allowed token ids as a bitset (bit id%64 of word
// id/64). With dst == nil it returns the grammar's cached bitset, which the
// caller must not modify; otherwise it copies into dst (grown if needed).
// After EOS nothing is allowed. If the matcher hit an automaton limit (see
// Err), only EOS is allowed so that generation stops.
func (m *Matcher) Mask(dst []uint64) []uint64 {
	src := m.g.none
	switch {
	case m.finished:
	case m.err != nil:
		src = m.g.eosOnly
	default:
		mk, err := m.g.mask(m.state)
		if err != nil {
			m.err = err
			src = m.g.eosOnly
		} else {
			src = mk
		}
	}
	if dst == nil {
		return src
	}
	if cap(dst) < len(src) {
		dst = make([]uint64, len(src))
	}
	dst = dst[:len(src)]
	copy(dst, src)
	return dst
}

// Allowed reports whether token id may be accepted now, without the cost of
// a mask when the mask is not cached yet.
func (m *Matcher) Allowed(id int32) bool {
	if m.finished || m.err != nil {
		return false
	}
	v := m.g.vocab
	if id < 0 || int(id) >= len(v.tokens) {
		return false
	}
	if v.isEOS[id] {
		return m.g.d.state(m.state).accept
	}
	tok := v.tokens[id]
	if len(tok) == 0 {
		return false
	}
	t, err := m.walk(tok)
	return err == nil && t != deadState
}

// walk runs b from the current state; it returns the dead state if b is not
// allowed, or an automaton error.
func (m *Matcher) walk(b []byte) (int32, error) {
	d := m.g.d
	id := m.state
	for _, c := range b {
		t, err := d.step(d.state(id), c)
		if err != nil {
			return 0, err
		}
		if t == deadState {
			return deadState, nil
		}
		id = t
	}
	return id, nil
}

// Accept advances by one token. EOS is accepted only in an accepting state
// and finishes the matcher. On error the matcher does not move.
func (m *Matcher) Accept(id int32) error {
	if m.finished {
		return ErrFinished
	}
	if m.err != nil {
		return m.err
	}
	v := m.g.vocab
	if id < 0 || int(id) >= len(v.tokens) {
		return fmt.Errorf("%w: token id %d outside the vocabulary", ErrNotAllowed, id)
	}
	if v.isEOS[id] {
		if !m.g.d.state(m.state).accept {
			return fmt.Errorf("%w: EOS before the output matches", ErrNotAllowed)
		}
		m.finished = true
		return nil
	}
	tok := v.tokens[id]
	if len(tok) == 0 {
		return fmt.Errorf("%w: special token %d", ErrNotAllowed, id)
	}
	t, err := m.walk(tok)
	if err != nil {
		m.err = err
		return err
	}
	if t == deadState {
		return fmt.Errorf("%w: token %d %q", ErrNotAllowed, id, tok)
	}
	m.state = t
	return nil
}

// AcceptBytes advances by raw bytes (e.g. a jump-forward string). On error
// the matcher does not move.
func (m *Matcher) AcceptBytes(b []byte) error {
	if m.finished {
		return ErrFinished
	}
	if m.err != nil {
		return m.err
	}
	t, err := m.walk(b)
	if err != nil {
		m.err = err
		return err
	}
	if t == deadState {
		return fmt.Errorf("%w: bytes %q", ErrNotAllowed, b)
	}
	m.state = t
	return nil
}

// CanEnd reports whether the output so far fully matches (EOS is allowed).
func (m *Matcher) CanEnd() bool {
	return !m.finished && m.err == nil && m.g.d.state(m.state).accept
}

// Done reports whether generation must end: the output fully matches and no
// further byte is possible (only EOS is allowed), or EOS was accepted.
func (m *Matcher) Done() bool {
	if m.finished {
		return true
	}
	if m.err != nil {
		return false
	}
	s := m.g.d.state(m.state)
	if !s.accept {
		return false
	}
	hasOut, _, err := m.g.d.stateInfo(s)
	if err != nil {
		m.err = err
		return false
	}
	return !hasOut
}

// Forced returns the bytes the grammar forces from here: the longest chain
// of states with exactly one possible next byte, stopping at accepting
// states and trimmed to whole UTF-8 characters. It does not move the
// matcher; feed the bytes back with AcceptBytes (jump-forward). It returns
// nil if the next byte is not forced.
func (m *Matcher) Forced() []byte {
	if m.finished || m.err != nil {
		return nil
	}
	d := m.g.d
	var out []byte
	id := m.state
	for len(out) < maxForced {
		s := d.state(id)
		_, forced, err := d.stateInfo(s)
		if err != nil {
			m.err = err
			return nil
		}
		if forced < 0 {
			break
		}
		out = append(out, byte(forced))
		t, err := d.step(s, byte(forced))
		if err != nil {
			m.err = err
			return nil
		}
		id = t
	}
	// Drop a trailing partial character.
	for k := len(out) - 1; k >= 0 && k >= len(out)-utf8.UTFMax; k-- {
		if utf8.RuneStart(out[k]) {
			if !utf8.FullRune(out[k:]) {
				out = out[:k]
			}
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
