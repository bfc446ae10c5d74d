package sgl

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sglang-go/sglang/sgl/ir"
)

// ErrNoVariable: the program has no variable of that name.
var ErrNoVariable = fmt.Errorf("%w: no such variable", ir.ErrInvalid)

// Get waits for the queued work and returns variable name ("" when absent;
// a joined list is concatenated).
func (s *State) Get(name string) string {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	return valueString(s.vars[name])
}

// Values returns a variable as a list: a joined variable's items, or a
// plain variable as one item; nil when absent.
func (s *State) Values(name string) []string {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v := s.vars[name].(type) {
	case string:
		return []string{v}
	case []string:
		return slices.Clone(v)
	}
	return nil
}

// Vars returns a copy of every variable (string or []string values).
func (s *State) Vars() map[string]any {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(s.vars)
	for k, v := range out {
		if l, ok := v.([]string); ok {
			out[k] = slices.Clone(l)
		}
	}
	return out
}

func (s *State) scalar(name string) (string, error) {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vars[name].(string)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrNoVariable, name)
	}
	return strings.TrimSpace(v), nil
}

// Int parses variable name as an integer (the cast SGLang does for
// dtype=int).
func (s *State) Int(name string) (int, error) {
	v, err := s.scalar(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "+"))
	if err != nil {
		return 0, fmt.Errorf("sgl: variable %q is not an int: %w", name, err)
	}
	return n, nil
}

// Float parses variable name as a number.
func (s *State) Float(name string) (float64, error) {
	v, err := s.scalar(name)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("sgl: variable %q is not a float: %w", name, err)
	}
	return f, nil
}

// Bool parses variable name as True/False (Python spelling) or true/false.
func (s *State) Bool(name string) (bool, error) {
	v, err := s.scalar(name)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("sgl: variable %q is not a bool: %w", name, err)
	}
	return b, nil
}

// String returns variable name with a dtype=str value's quotes removed.
func (s *State) String(name string) (string, error) {
	v, err := s.scalar(name)
	if err != nil {
		return "", err
	}
	if uq, err := strconv.Unquote(v); err == nil {
		return uq, nil
	}
	return strings.Trim(v, `"`), nil
}

// Text waits for the queued work and returns the whole text.
func (s *State) Text() string {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text
}

// Messages returns the finished role messages in OpenAI form.
func (s *State) Messages() []ir.Message {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// MetaInfo returns the meta info of gen name.
func (s *State) MetaInfo(name string) (ir.MetaInfo, bool) {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.meta[name]
	return m, ok
}

// Decision returns select name's decision and logprobs, nil when absent.
func (s *State) Decision(name string) *ir.Decision {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decisions[name]
}

// TextIter yields the text as it is produced: of variable name, or of the
// whole program when name is omitted. It ends when that text is complete,
// the program fails (check Err or Wait), or ctx ends.
func (s *State) TextIter(ctx context.Context, name ...string) iter.Seq[string] {
	return func(yield func(string) bool) {
		pos := 0
		for {
			s.mu.Lock()
			var cur string
			var done bool
			if len(name) == 0 {
				cur, done = s.text, s.finishedLocked()
			} else if vs := s.streams[name[0]]; vs != nil {
				cur, done = vs.text, vs.done || s.err != nil
			} else {
				done = s.finishedLocked()
			}
			ch := s.changed
			s.mu.Unlock()
			if len(cur) > pos {
				piece := cur[pos:]
				pos = len(cur)
				if !yield(piece) {
					return
				}
				continue
			}
			if done {
				return
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}
}
