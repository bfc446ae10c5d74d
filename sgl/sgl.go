// Package sgl is SGLang's structured-generation language in Go: programs
// that interleave text, chat roles, generation (Gen), choice (Select),
// images, and parallel forks, run against a backend (a live SGLang server,
// an OpenAI-compatible API, or an in-process srt.Engine).
//
//	var qa = sgl.Function(func(s *sgl.State, q string) {
//		s.User(q)
//		s.Assistant(sgl.Gen("answer", sgl.MaxTokens(64)))
//	})
//	sgl.SetDefaultBackend(sgl.RuntimeEndpoint("http://127.0.0.1:30000"))
//	state, err := qa.Run(ctx, "What is 1+1?", sgl.Temperature(0))
//	fmt.Println(state.Get("answer"))
//
// Semantics follow SGLang's frontend (python/sglang/lang): program calls
// queue work that runs in order per state; reading a variable waits for it;
// Fork copies the state client-side; Join gathers fork variables as lists.
// Unlike SGLang, a failed request is an error from Run (never only a log
// line), several images per program are allowed, and the fork prefill is
// sent after syncing.
//
// Backends advertise optional abilities through package ir's interfaces.
// Select without ir.ChoiceScorer and Image without ir.ImageAcceptor fail
// the program with an error wrapping ir.ErrUnsupported. Prefix caching
// (ir.PrefixCacher) is only an optimisation: without it the fork prefill
// and RunBatch's shared-prefix request are skipped, as SGLang's base
// backend does.
package sgl

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/sglang-go/sglang/backend/openai"
	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/sgl/ir"
	"github.com/sglang-go/sglang/srt"
)

// Backend is what programs run against (see package ir for the optional
// abilities).
type Backend = ir.Backend

// Message is a chat message in OpenAI form.
type Message = ir.Message

// ErrNoBackend: neither WithBackend nor SetDefaultBackend gave a backend.
var ErrNoBackend = errors.New("sgl: no backend (call sgl.SetDefaultBackend or pass sgl.WithBackend)")

// defaultBackend is the process-wide default, as SGLang's
// set_default_backend (the one deliberate global).
var defaultBackend atomic.Pointer[Backend]

// SetDefaultBackend sets the backend programs use without WithBackend.
func SetDefaultBackend(b Backend) { defaultBackend.Store(&b) }

// DefaultBackend returns the default backend, nil when unset.
func DefaultBackend() Backend {
	if b := defaultBackend.Load(); b != nil {
		return *b
	}
	return nil
}

// RuntimeEndpoint is a backend for a running `sglang serve` at url.
func RuntimeEndpoint(url string, opts ...runtime.Option) *runtime.Client {
	return runtime.Endpoint(url, opts...)
}

// Engine is a backend that runs on an in-process engine.
func Engine(eng *srt.Engine, opts ...runtime.Option) *runtime.Engine {
	return runtime.NewEngine(eng, opts...)
}

// OpenAI is a backend for an OpenAI-compatible API and model.
func OpenAI(model string, opts ...openai.Option) *openai.Backend {
	return openai.New(model, opts...)
}

// Program is a function of a state and typed arguments.
type Program[A any] struct {
	fn func(s *State, args A)
}

// Function makes a program of fn; A carries its arguments (a struct for
// several).
func Function[A any](fn func(s *State, args A)) *Program[A] { return &Program[A]{fn: fn} }

func (f *Program[A]) backend(c *config) (Backend, error) {
	if c.backend != nil {
		return c.backend, nil
	}
	if b := DefaultBackend(); b != nil {
		return b, nil
	}
	return nil, ErrNoBackend
}

// runBody runs the program body, turning a panic into the state's error.
func (f *Program[A]) runBody(s *State, args A) {
	defer func() {
		if r := recover(); r != nil {
			s.setErr(fmt.Errorf("sgl: program panicked: %v", r))
		}
		s.mu.Lock()
		s.bodyDone = true
		s.notifyLocked()
		s.mu.Unlock()
	}()
	f.fn(s, args)
}

// Run executes the program with args; options set run-level sampling
// defaults. It returns when the program is done, with its first error.
// With Stream it returns at once: read with TextIter and finish with Wait.
// Cancelling ctx stops in-flight requests.
func (f *Program[A]) Run(ctx context.Context, args A, opts ...Option) (*State, error) {
	c := newConfig(opts)
	b, err := f.backend(c)
	if err != nil {
		return nil, err
	}
	s := newState(ctx, b, c)
	if c.stream {
		go f.runBody(s, args)
		return s, nil
	}
	f.runBody(s, args)
	return s, s.Wait(context.Background())
}

// BatchError lists the failed items of a RunBatch.
type BatchError struct {
	Errs map[int]error // by item index
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("sgl: %d batch item(s) failed; first: %v", len(e.Errs), e.first())
}

func (e *BatchError) first() error {
	best := -1
	for i := range e.Errs {
		if best < 0 || i < best {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return fmt.Errorf("item %d: %w", best, e.Errs[best])
}

// Unwrap returns the item errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		out = append(out, err)
	}
	return out
}

// RunBatch runs the program once per argument, Concurrency at a time. A
// batch of several first sends its shared constant prefix once (when
// longer than 64 characters) so the server caches it: the prefix is found by
// tracing the program body on the first two items without calling the
// backend, so bodies run twice for those items and should have no side
// effects besides the state. Every item gets a state (check its Err); the
// error is a *BatchError when any item failed.
func (f *Program[A]) RunBatch(ctx context.Context, batch []A, opts ...Option) ([]*State, error) {
	c := newConfig(opts)
	c.stream = false
	b, err := f.backend(c)
	if err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	if len(batch) > 1 {
		f.cachePrefix(ctx, b, c, batch)
	}
	workers := c.concurrency
	if workers <= 0 {
		workers = max(96, 16*goruntime.NumCPU())
	}
	workers = min(workers, len(batch))
	showBar := term.IsTerminal(int(os.Stderr.Fd()))
	if c.progress != nil {
		showBar = *c.progress
	}
	var bar *progressbar.ProgressBar
	if showBar {
		bar = progressbar.NewOptions(len(batch), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionSetDescription("sgl batch"))
	}
	states := make([]*State, len(batch))
	errs := map[int]error{}
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				s := newState(ctx, b, c)
				f.runBody(s, batch[i])
				err := s.Wait(context.Background())
				mu.Lock()
				states[i] = s
				if err != nil {
					errs[i] = err
				}
				if bar != nil {
					bar.Add(1)
				}
				mu.Unlock()
			}
		})
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if len(errs) > 0 {
		return states, &BatchError{Errs: errs}
	}
	return states, nil
}

// tracePrefix runs the body without a backend call and returns its leading
// constant text (text and role affixes up to the first gen, select, image or
// fork).
func (f *Program[A]) tracePrefix(ctx context.Context, b Backend, c *config, args A) string {
	s := newState(ctx, b, c)
	s.trace = true
	f.runBody(s, args)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return ""
	}
	if s.traceEnd >= 0 {
		return s.text[:s.traceEnd]
	}
	return s.text
}

// cachePrefix sends the batch's common constant prefix once. SGLang traces
// with placeholder arguments; Go cannot build a placeholder of any type, so
// we trace the first two items and keep their common prefix. Failures are
// ignored: the items report their own errors.
func (f *Program[A]) cachePrefix(ctx context.Context, b Backend, c *config, batch []A) {
	pc, ok := b.(ir.PrefixCacher)
	if !ok {
		return
	}
	p0 := f.tracePrefix(ctx, b, c, batch[0])
	p1 := f.tracePrefix(ctx, b, c, batch[1])
	prefix := commonPrefix(p0, p1)
	if len(prefix) > 64 {
		_ = pc.CachePrefix(ctx, &ir.Prompt{Text: prefix})
	}
}

// commonPrefix is the longest common prefix of a and b, cut to a rune
// boundary.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}
