package sgl

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/sglang-go/sglang/sgl/ir"
)

// State is a running program's state (SGLang's ProgramState and its
// StreamExecutor in one). The program adds to it with Add, the role methods
// and Fork; those calls queue work and return at once, and the queued work
// runs in order on the state's own goroutine, as in SGLang. Reading a value
// (Get, Text, ...) waits for the queued work. After the first error the
// remaining work is skipped and Err reports it.
//
// A State is safe for concurrent use; a program normally touches it from
// one goroutine and readers (TextIter) from others.
type State struct {
	ctx     context.Context
	backend ir.Backend
	run     *config
	root    *State // the state Run made (itself for it)
	parent  *State // the state this one was forked from
	trace   bool   // tracing: no backend calls; record the constant prefix

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	queue     []func() error
	working   bool
	bodyDone  bool
	err       error
	tmpl      *ir.ChatTemplate
	text      string
	messages  []ir.Message
	vars      map[string]any // string, or []string after Join
	meta      map[string]ir.MetaInfo
	decisions map[string]*ir.Decision
	images    []ir.Image
	curImages []ir.Image
	role      string
	roleBegin int
	streams   map[string]*varStream
	forkKeys  map[string]bool // variables present when this fork was made
	traceEnd  int             // tracing: text length when the first non-constant op came (-1: none yet)
}

type varStream struct {
	text string
	done bool
}

func newState(ctx context.Context, b ir.Backend, run *config) *State {
	s := &State{ctx: ctx, backend: b, run: run, changed: make(chan struct{}),
		vars: map[string]any{}, meta: map[string]ir.MetaInfo{}, decisions: map[string]*ir.Decision{},
		streams: map[string]*varStream{}, traceEnd: -1}
	s.root = s
	return s
}

// notifyLocked wakes waiters; s.mu must be held.
func (s *State) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// setErr records the first error.
func (s *State) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.notifyLocked()
}

// enqueue queues op; ops run in order on one goroutine.
func (s *State) enqueue(op func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trace {
		return
	}
	s.queue = append(s.queue, op)
	if !s.working {
		s.working = true
		go s.work()
	}
}

func (s *State) work() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.working = false
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		op := s.queue[0]
		s.queue = s.queue[1:]
		failed := s.err != nil
		s.mu.Unlock()
		if failed {
			continue
		}
		if err := s.ctx.Err(); err != nil {
			s.setErr(err)
			continue
		}
		if err := op(); err != nil {
			s.setErr(err)
		}
	}
}

// sync waits until the queued work is done.
func (s *State) sync() {
	for {
		s.mu.Lock()
		if !s.working && len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		ch := s.changed
		s.mu.Unlock()
		<-ch
	}
}

// finished reports whether nothing more will be written: the program body
// returned, the work is done (or failed). s.mu must be held.
func (s *State) finishedLocked() bool {
	if s.err != nil {
		return true
	}
	idle := !s.working && len(s.queue) == 0
	if s.root == s {
		return idle && s.bodyDone
	}
	s.root.mu.Lock()
	done := s.root.bodyDone
	s.root.mu.Unlock()
	return idle && done
}

// template fetches the backend's chat template once.
func (s *State) template() (*ir.ChatTemplate, error) {
	s.mu.Lock()
	t := s.tmpl
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := s.backend.ChatTemplate(s.ctx)
	if err != nil {
		return nil, err
	}
	if t == nil {
		t = ir.DefaultTemplate()
	}
	s.mu.Lock()
	s.tmpl = t
	s.mu.Unlock()
	return t, nil
}

// appendText adds text (and to a streamed variable when name is set).
func (s *State) appendText(t string) {
	s.mu.Lock()
	s.text += t
	s.notifyLocked()
	s.mu.Unlock()
}

// stopTrace marks where a traced program stops being constant text.
func (s *State) stopTrace() {
	s.mu.Lock()
	if s.traceEnd < 0 {
		s.traceEnd = len(s.text)
	}
	s.mu.Unlock()
}

// Add appends items in order: a string is text; Gen, Select and Image
// results run against the backend. Anything else is an error.
func (s *State) Add(items ...any) *State {
	for _, it := range items {
		switch v := it.(type) {
		case string:
			if s.trace {
				s.appendText(v)
				continue
			}
			s.enqueue(func() error { s.appendText(v); return nil })
		case Expr:
			if s.trace {
				s.stopTrace()
				continue
			}
			s.enqueue(func() error { return v.exec(s) })
		default:
			err := fmt.Errorf("%w: cannot add a %T to a program (want string or sgl.Gen/Select/Image)", ir.ErrInvalid, it)
			if s.trace {
				s.stopTrace()
				continue
			}
			s.enqueue(func() error { return err })
		}
	}
	return s
}

// roleBegin and roleEnd run SGLang's role logic; they are pure text work,
// so a trace runs them too.
func (s *State) roleBeginOp(role string) error {
	t, err := s.template()
	if err != nil {
		return err
	}
	s.mu.Lock()
	cur, nmsg := s.role, len(s.messages)
	s.mu.Unlock()
	if cur != "" {
		return fmt.Errorf("%w: %s begins inside %s: nested roles are not allowed", ir.ErrInvalid, role, cur)
	}
	if nmsg == 0 && role != "system" && t.DefaultSystemPrompt != "" {
		if err := s.roleBeginOp("system"); err != nil {
			return err
		}
		s.appendText(t.DefaultSystemPrompt)
		if err := s.roleEndOp("system"); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix, _ := t.Affix(role, s.messages)
	s.role = role
	s.text += prefix
	s.roleBegin = len(s.text)
	s.notifyLocked()
	return nil
}

func (s *State) roleEndOp(role string) error {
	t, err := s.template()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != role {
		return fmt.Errorf("%w: %s ends but the open role is %q", ir.ErrInvalid, role, s.role)
	}
	content := strings.TrimLeftFunc(s.text[s.roleBegin:], unicode.IsSpace)
	_, suffix := t.Affix(role, s.messages)
	s.text += suffix
	msg := ir.Message{Role: role, Content: content}
	if len(s.curImages) > 0 {
		parts := []ir.Part{{Type: "text", Text: content}}
		for _, im := range s.curImages {
			parts = append(parts, ir.Part{Type: "image_url", ImageURL: &ir.ImageURL{URL: im.DataURL()}})
		}
		msg.Content = parts
		s.curImages = nil
	}
	s.messages = append(s.messages, msg)
	s.role = ""
	s.notifyLocked()
	return nil
}

func (s *State) roleOp(role string, begin bool) {
	op := func() error {
		if begin {
			return s.roleBeginOp(role)
		}
		return s.roleEndOp(role)
	}
	if s.trace {
		if err := op(); err != nil {
			s.stopTrace()
		}
		return
	}
	s.enqueue(op)
}

func (s *State) roleWith(role string, items []any) *State {
	s.roleOp(role, true)
	s.Add(items...)
	s.roleOp(role, false)
	return s
}

// System writes a system message (its items between the role's prefix and
// suffix).
func (s *State) System(items ...any) *State { return s.roleWith("system", items) }

// User writes a user message.
func (s *State) User(items ...any) *State { return s.roleWith("user", items) }

// Assistant writes an assistant message (usually a Gen).
func (s *State) Assistant(items ...any) *State { return s.roleWith("assistant", items) }

// SystemBegin opens a system message; SystemEnd closes it.
func (s *State) SystemBegin() *State { s.roleOp("system", true); return s }

// SystemEnd closes a system message.
func (s *State) SystemEnd() *State { s.roleOp("system", false); return s }

// UserBegin opens a user message.
func (s *State) UserBegin() *State { s.roleOp("user", true); return s }

// UserEnd closes a user message.
func (s *State) UserEnd() *State { s.roleOp("user", false); return s }

// AssistantBegin opens an assistant message.
func (s *State) AssistantBegin() *State { s.roleOp("assistant", true); return s }

// AssistantEnd closes an assistant message.
func (s *State) AssistantEnd() *State { s.roleOp("assistant", false); return s }

// prompt snapshots the state for a request.
func (s *State) prompt() *ir.Prompt {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &ir.Prompt{Text: s.text, Messages: slices.Clone(s.messages), Images: slices.Clone(s.images), Role: s.role}
	if s.role != "" {
		p.RoleText = s.text[s.roleBegin:]
	}
	return p
}

// Forks are the states Fork made.
type Forks []*State

// Fork waits for the queued work, then makes n copies of the state (text,
// messages, variables, images, open role); nothing is copied on the server.
// For n > 1 and a non-empty text it first sends the text as a prefill so
// the server caches the shared prefix (SGLang checks before syncing and
// usually skips it; we sync first).
func (s *State) Fork(n int) Forks {
	if n < 1 {
		s.setErr(fmt.Errorf("%w: fork needs n >= 1, got %d", ir.ErrInvalid, n))
		return nil
	}
	if s.trace {
		s.stopTrace()
	} else {
		s.sync()
		s.mu.Lock()
		text, failed := s.text, s.err != nil
		s.mu.Unlock()
		if pc, ok := s.backend.(ir.PrefixCacher); ok && n > 1 && text != "" && !failed {
			if err := pc.CachePrefix(s.ctx, s.prompt()); err != nil {
				s.setErr(fmt.Errorf("sgl: fork prefill: %w", err))
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Forks, n)
	for i := range out {
		c := newState(s.ctx, s.backend, s.run)
		c.root, c.parent, c.trace, c.traceEnd = s.root, s, s.trace, s.traceEnd
		c.err, c.tmpl, c.text = s.err, s.tmpl, s.text
		c.messages, c.images = slices.Clone(s.messages), slices.Clone(s.images)
		c.curImages = slices.Clone(s.curImages)
		c.vars = maps.Clone(s.vars)
		c.role, c.roleBegin = s.role, s.roleBegin
		c.forkKeys = map[string]bool{}
		for k := range s.vars {
			c.forkKeys[k] = true
		}
		out[i] = c
	}
	return out
}

// Join waits for the forks and gathers their new variables into lists on
// the state they were forked from (SGLang's gather_variable):
// parent[name] = [fork0[name], fork1[name], ...]. A failed fork fails the
// parent.
func (f Forks) Join() {
	if len(f) == 0 {
		return
	}
	parent := f[0].parent
	for _, c := range f {
		c.sync()
	}
	if parent.trace {
		return
	}
	parent.enqueue(func() error {
		for i, c := range f {
			c.mu.Lock()
			err, vars, keys := c.err, maps.Clone(c.vars), c.forkKeys
			c.mu.Unlock()
			if err != nil {
				return fmt.Errorf("sgl: fork %d: %w", i, err)
			}
			parent.mu.Lock()
			for _, k := range slices.Sorted(maps.Keys(vars)) {
				if keys[k] {
					continue
				}
				v := valueString(vars[k])
				if old, ok := parent.vars[k].([]string); ok {
					parent.vars[k] = append(old, v)
				} else {
					parent.vars[k] = []string{v}
				}
			}
			parent.notifyLocked()
			parent.mu.Unlock()
		}
		return nil
	})
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, "")
	}
	return fmt.Sprint(v)
}

// Err waits for the queued work and returns the first error.
func (s *State) Err() error {
	s.sync()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Wait waits until the program finished (the body returned and all work
// ran; for streamed runs) or ctx ends, and returns the program's error.
func (s *State) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		done, err, ch := s.finishedLocked(), s.err, s.changed
		s.mu.Unlock()
		if done {
			s.sync() // an in-flight request may still be ending after an error
			if err == nil {
				err = s.Err()
			}
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
