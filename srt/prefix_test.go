package srt

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func prefixEngine(t *testing.T, disable bool) *Engine {
	t.Helper()
	eng, err := NewEngine(context.Background(), Options{ModelPath: shared.Path(t, "models", "tiny-random-qwen2"), Threads: 2, DisableRadixCache: disable})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func TestPrefixReuse(t *testing.T) {
	for _, disable := range []bool{false, true} {
		eng := prefixEngine(t, disable)
		prefix := make([]int32, 1000)
		for i := range prefix {
			prefix[i] = int32(1000 + i*7%5000)
		}
		gen := func(ids []int32) *GenerateOutput {
			out, err := eng.GenerateAll(context.Background(), &GenerateRequest{InputIDs: ids, Sampling: greedyParams(8)})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		first := gen(append(slices.Clone(prefix), 11, 12, 13))
		second := gen(append(slices.Clone(prefix), 21, 22, 23))
		again := gen(append(slices.Clone(prefix), 11, 12, 13))
		if first.MetaInfo.CachedTokens != 0 {
			t.Errorf("disable=%v: first request cached %d", disable, first.MetaInfo.CachedTokens)
		}
		wantSecond, wantAgain := 1000, 1002
		if disable {
			wantSecond, wantAgain = 0, 0
		}
		if second.MetaInfo.CachedTokens != wantSecond || again.MetaInfo.CachedTokens != wantAgain {
			t.Errorf("disable=%v: cached %d and %d, want %d and %d", disable, second.MetaInfo.CachedTokens, again.MetaInfo.CachedTokens, wantSecond, wantAgain)
		}
		if !slices.Equal(first.OutputIDs, again.OutputIDs) {
			t.Errorf("disable=%v: cached prefix changed the output: %v vs %v", disable, first.OutputIDs, again.OutputIDs)
		}
		waitIdle(t, eng)
	}
}

// TestMultiTurnReuse: each turn of a chat resends the whole conversation;
// every earlier turn, including the previous answer, comes from the cache.
func TestMultiTurnReuse(t *testing.T) {
	eng := prefixEngine(t, false)
	prevLen := 0
	convo := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
	for turn, q := range []string{"What is 2+2?", "And 3+3?", "Thanks!"} {
		convo += "<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n"
		before, err := eng.Tokenize(convo, true)
		if err != nil {
			t.Fatal(err)
		}
		out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: convo, Sampling: greedyParams(6)})
		if err != nil {
			t.Fatal(err)
		}
		if turn > 0 && out.MetaInfo.CachedTokens < prevLen {
			t.Errorf("turn %d: cached %d of %d prompt tokens; the previous turn's %d should all be cached", turn, out.MetaInfo.CachedTokens, len(before), prevLen)
		}
		convo += out.Text + "<|im_end|>\n"
		after, _ := eng.Tokenize(convo, true)
		// The answer's tokens were cached with the request, all but the
		// last one, which was sampled but never fed back.
		prevLen = min(commonPrefix(after, append(before, out.OutputIDs...)), len(before)+len(out.OutputIDs)-1)
	}
	waitIdle(t, eng)
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func TestFlushAndAbort(t *testing.T) {
	eng := storiesEngine(t, "")
	p := greedyParams(400)
	p.IgnoreEOS = true
	started := make(chan struct{})
	done := make(chan *GenerateOutput, 1)
	go func() {
		var last *GenerateOutput
		for out, err := range eng.Generate(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: p, RID: "job-1"}) {
			if err != nil {
				t.Error(err)
				break
			}
			if last == nil {
				close(started)
			}
			last = out
		}
		done <- last
	}()
	<-started
	if err := eng.FlushCache(context.Background()); err == nil || !strings.Contains(err.Error(), "running") {
		t.Errorf("flush while running: %v", err)
	}
	if found, err := eng.Abort(context.Background(), "job-1"); !found || err != nil {
		t.Errorf("abort: %v %v", found, err)
	}
	if found, _ := eng.Abort(context.Background(), "nope"); found {
		t.Error("aborted an unknown rid")
	}
	last := <-done
	if last == nil || last.MetaInfo.FinishReason == nil || last.MetaInfo.FinishReason.Type != "abort" {
		t.Errorf("aborted request ended with %+v", last)
	}
	waitIdle(t, eng)
}
