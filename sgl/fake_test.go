package sgl

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/sglang-go/sglang/sgl/ir"
)

// fakeBackend records requests and answers from a script.
type fakeBackend struct {
	tmpl   *ir.ChatTemplate
	answer func(req *ir.GenRequest) (string, error)
	scores map[string]float64 // choice -> logprob of each of its tokens

	mu       sync.Mutex
	gens     []*ir.GenRequest
	prefills []string
	selects  []string // prompt texts scored
	uncond   []bool
}

func (f *fakeBackend) ChatTemplate(context.Context) (*ir.ChatTemplate, error) {
	if f.tmpl == nil {
		return ir.DefaultTemplate(), nil
	}
	return f.tmpl, nil
}

func (f *fakeBackend) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.gens = append(f.gens, req)
	f.mu.Unlock()
	out, err := f.answer(req)
	if err != nil {
		return nil, err
	}
	return &ir.GenResult{Text: out, Meta: ir.MetaInfo{CompletionTokens: len(out)}}, nil
}

func (f *fakeBackend) CachePrefix(_ context.Context, p *ir.Prompt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefills = append(f.prefills, p.Text)
	return nil
}

func (f *fakeBackend) ScoreChoices(_ context.Context, p *ir.Prompt, choices []string, uncond bool) (*ir.ChoiceLogprobs, error) {
	f.mu.Lock()
	f.selects = append(f.selects, p.Text)
	f.uncond = append(f.uncond, uncond)
	f.mu.Unlock()
	lp := &ir.ChoiceLogprobs{}
	for _, c := range choices {
		var row, u []ir.TokenLogprob
		for range strings.Fields(c) {
			row = append(row, ir.TokenLogprob{Logprob: f.scores[c]})
			u = append(u, ir.TokenLogprob{Logprob: -1})
		}
		lp.Input = append(lp.Input, row)
		lp.Unconditional = append(lp.Unconditional, u)
	}
	return lp, nil
}

func (f *fakeBackend) AcceptsImages() bool { return true }

func (f *fakeBackend) requests() []*ir.GenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*ir.GenRequest(nil), f.gens...)
}

// streamingFake also streams: the answer one byte at a time.
type streamingFake struct {
	*fakeBackend
	gate chan struct{} // each piece waits for a receive when non-nil
}

func (f *streamingFake) GenerateStream(ctx context.Context, req *ir.GenRequest) iter.Seq2[ir.StreamChunk, error] {
	return func(yield func(ir.StreamChunk, error) bool) {
		out, err := f.answer(req)
		if err != nil {
			yield(ir.StreamChunk{}, err)
			return
		}
		for i := range len(out) {
			if f.gate != nil {
				select {
				case <-f.gate:
				case <-ctx.Done():
					yield(ir.StreamChunk{}, ctx.Err())
					return
				}
			}
			if !yield(ir.StreamChunk{Text: out[i : i+1]}, nil) {
				return
			}
		}
	}
}

// plainBackend has no optional abilities.
type plainBackend struct{ f *fakeBackend }

func (p *plainBackend) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	return p.f.Generate(ctx, req)
}

func (p *plainBackend) ChatTemplate(ctx context.Context) (*ir.ChatTemplate, error) {
	return p.f.ChatTemplate(ctx)
}

func constant(s string) func(*ir.GenRequest) (string, error) {
	return func(*ir.GenRequest) (string, error) { return s, nil }
}

func mustTemplate(name string) *ir.ChatTemplate {
	t, err := ir.LookupChatTemplate(name)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return t
}
