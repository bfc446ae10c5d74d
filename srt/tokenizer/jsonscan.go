package tokenizer

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small scanner for the two big parts of tokenizer.json (the vocab object
// and the merges array); encoding/json's reflection made loading a 150k
// vocabulary several times slower. The input has already been validated as
// JSON by encoding/json, but the scanner still checks what it reads.
type jscan struct {
	b   []byte
	off int
}

func (s *jscan) ws() {
	for s.off < len(s.b) {
		switch s.b[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

func (s *jscan) errf(format string, a ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, s.off, fmt.Sprintf(format, a...))
}

// expect consumes c after optional whitespace.
func (s *jscan) expect(c byte) error {
	s.ws()
	if s.off >= len(s.b) || s.b[s.off] != c {
		return s.errf("want %q", c)
	}
	s.off++
	return nil
}

// peek returns the next non-space byte (0 at the end).
func (s *jscan) peek() byte {
	s.ws()
	if s.off >= len(s.b) {
		return 0
	}
	return s.b[s.off]
}

func (s *jscan) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.off
	for s.off < len(s.b) {
		c := s.b[s.off]
		if c == '"' {
			v := string(s.b[start:s.off])
			s.off++
			return v, nil
		}
		if c == '\\' {
			s.off = start
			return s.strSlow()
		}
		s.off++
	}
	return "", s.errf("unterminated string")
}

func (s *jscan) strSlow() (string, error) {
	var out []byte
	for s.off < len(s.b) {
		c := s.b[s.off]
		switch {
		case c == '"':
			s.off++
			return string(out), nil
		case c != '\\':
			out = append(out, c)
			s.off++
			continue
		}
		if s.off+1 >= len(s.b) {
			break
		}
		e := s.b[s.off+1]
		s.off += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.errf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.off+1 < len(s.b) && s.b[s.off] == '\\' && s.b[s.off+1] == 'u' {
					save := s.off
					s.off += 2
					if lo, ok := s.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.off = save
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", s.errf("bad escape \\%c", e)
		}
	}
	return "", s.errf("unterminated string")
}

func (s *jscan) hex4() (rune, bool) {
	if s.off+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.off:s.off+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.off += 4
	return rune(v), true
}

func (s *jscan) int32() (int32, error) {
	s.ws()
	start := s.off
	if s.off < len(s.b) && s.b[s.off] == '-' {
		s.off++
	}
	for s.off < len(s.b) && s.b[s.off] >= '0' && s.b[s.off] <= '9' {
		s.off++
	}
	v, err := strconv.ParseInt(string(s.b[start:s.off]), 10, 32)
	if err != nil {
		return 0, s.errf("bad id %q", s.b[start:s.off])
	}
	return int32(v), nil
}

// list scans "[ item, item ... ]" calling item for each element.
func (s *jscan) list(open, close byte, item func() error) error {
	if err := s.expect(open); err != nil {
		return err
	}
	if s.peek() == close {
		s.off++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.off++
		case close:
			s.off++
			return nil
		default:
			return s.errf("want ',' or %q", close)
		}
	}
}

// scanVocab parses {"piece": id, ...} into a map.
func scanVocab(raw []byte) (map[string]int32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := &jscan{b: raw}
	m := make(map[string]int32, len(raw)/16)
	err := s.list('{', '}', func() error {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		v, err := s.int32()
		if err != nil {
			return err
		}
		m[k] = v
		return nil
	})
	return m, err
}

// scanMerges parses ["a b", ...] or [["a","b"], ...].
func scanMerges(raw []byte) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := &jscan{b: raw}
	out := make([][2]string, 0, len(raw)/12)
	err := s.list('[', ']', func() error {
		if s.peek() == '[' {
			var parts []string
			err := s.list('[', ']', func() error {
				p, err := s.str()
				parts = append(parts, p)
				return err
			})
			if err != nil {
				return err
			}
			if len(parts) != 2 {
				return s.errf("merge with %d parts", len(parts))
			}
			out = append(out, [2]string{parts[0], parts[1]})
			return nil
		}
		m, err := s.str()
		if err != nil {
			return err
		}
		i := -1
		for k := 1; k < len(m); k++ {
			if m[k] == ' ' {
				i = k
				break
			}
		}
		if i < 0 {
			return s.errf("merge %q has no space", m)
		}
		out = append(out, [2]string{m[:i], m[i+1:]})
		return nil
	})
	return out, err
}
