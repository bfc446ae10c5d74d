package programs_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sglang-go/sglang/backend/openai"
	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/examples/loopback"
	"github.com/sglang-go/sglang/sgl"
	"github.com/sglang-go/sglang/sgl/ir"
	"github.com/sglang-go/sglang/srt"
)

// env is stories260K loaded in-process plus a real server on a loopback
// port serving that same engine.
type env struct {
	eng    *srt.Engine
	dir    string
	url    string
	engine *runtime.Engine
	client *runtime.Client
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	eng, dir := loopback.Stories(tb)
	e := &env{eng: eng, dir: dir, engine: runtime.NewEngine(eng)}
	e.url = loopback.Serve(tb, eng, dir)
	e.client = runtime.Endpoint(e.url)
	return e
}

// openAIChat and openAICompletion are the OpenAI backend on our own /v1.
func (e *env) openAIChat() *openai.Backend {
	return openai.New(loopback.ModelName, openai.WithBaseURL(e.url+"/v1"), openai.WithAPIKey("unused"))
}

func (e *env) openAICompletion() *openai.Backend {
	return openai.New(loopback.ModelName, openai.WithBaseURL(e.url+"/v1"), openai.WithAPIKey("unused"), openai.WithChat(false))
}

// skipIfNoRegex skips when the backend rejects regex constraints (the
// engine or server does not have constrained decoding yet).
func skipIfNoRegex(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := strings.ToLower(err.Error())
	if errors.Is(err, ir.ErrUnsupported) || (strings.Contains(msg, "regex") && (strings.Contains(msg, "support") || strings.Contains(msg, "400"))) {
		t.Skipf("backend rejects regex constraints (constrained decoding not available): %v", err)
	}
}

// busyBackend wraps a backend and measures the time during which at least
// one request is inside it (the union of the in-flight intervals, not their
// sum, so concurrency is not double counted).
type busyBackend struct {
	ir.Backend
	mu       sync.Mutex
	inflight int
	since    time.Time
	busy     time.Duration
	calls    atomic.Int64
}

func (b *busyBackend) enter() {
	b.calls.Add(1)
	b.mu.Lock()
	if b.inflight == 0 {
		b.since = time.Now()
	}
	b.inflight++
	b.mu.Unlock()
}

func (b *busyBackend) leave() {
	b.mu.Lock()
	b.inflight--
	if b.inflight == 0 {
		b.busy += time.Since(b.since)
	}
	b.mu.Unlock()
}

func (b *busyBackend) Busy() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy
}

func (b *busyBackend) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	b.enter()
	defer b.leave()
	return b.Backend.Generate(ctx, req)
}

func (b *busyBackend) CachePrefix(ctx context.Context, p *ir.Prompt) error {
	pc, ok := b.Backend.(ir.PrefixCacher)
	if !ok {
		return nil
	}
	b.enter()
	defer b.leave()
	return pc.CachePrefix(ctx, p)
}

// streamCounter wraps a streaming backend and counts the streamed gens and
// their chunks.
type streamCounter struct {
	sgl.Backend
	streams, chunks atomic.Int64
}

func (b *streamCounter) GenerateStream(ctx context.Context, req *ir.GenRequest) iter.Seq2[ir.StreamChunk, error] {
	st, ok := b.Backend.(ir.Streamer)
	if !ok {
		return func(yield func(ir.StreamChunk, error) bool) {
			yield(ir.StreamChunk{}, fmt.Errorf("%w: %T does not stream", ir.ErrUnsupported, b.Backend))
		}
	}
	b.streams.Add(1)
	return func(yield func(ir.StreamChunk, error) bool) {
		for c, err := range st.GenerateStream(ctx, req) {
			b.chunks.Add(1)
			if !yield(c, err) {
				return
			}
		}
	}
}

var (
	_ ir.Streamer     = (*streamCounter)(nil)
	_ ir.PrefixCacher = (*busyBackend)(nil)
	_ sgl.Backend     = (*busyBackend)(nil)
)
