package srt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
)

func storiesEngine(t *testing.T, file string) *Engine {
	t.Helper()
	path := shared.Path(t, "models", "stories260K", file)
	eng, err := NewEngine(context.Background(), Options{ModelPath: path, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func greedyParams(n int) SamplingParams {
	p := DefaultSamplingParams()
	p.Temperature, p.MaxNewTokens = 0, n
	return p
}

func TestBadRequests(t *testing.T) {
	eng := storiesEngine(t, "stories260K-f32.gguf") // context length 128 in this file
	long := make([]int32, 200)
	for i := range long {
		long[i] = 300
	}
	tests := []struct {
		name string
		req  GenerateRequest
		want error
	}{
		{"prompt longer than context", GenerateRequest{InputIDs: long, Sampling: greedyParams(4)}, ErrContextLength},
		{"token outside vocab", GenerateRequest{InputIDs: []int32{1, 9999}, Sampling: greedyParams(4)}, ErrInvalidRequest},
		{"negative token", GenerateRequest{InputIDs: []int32{-3}, Sampling: greedyParams(4)}, ErrInvalidRequest},
		{"text and ids", GenerateRequest{Text: "x", InputIDs: []int32{1}, Sampling: greedyParams(4)}, ErrInvalidRequest},
		{"negative max tokens", GenerateRequest{Text: "x", Sampling: greedyParams(-1)}, ErrInvalidRequest},
		{"negative temperature", GenerateRequest{Text: "x", Sampling: SamplingParams{Temperature: -1, TopP: 1, MaxNewTokens: 3}}, ErrInvalidRequest},
		{"empty stop string", GenerateRequest{Text: "x", Sampling: SamplingParams{TopP: 1, MaxNewTokens: 3, Stop: []string{""}}}, ErrInvalidRequest},
	}
	for _, tc := range tests {
		_, err := eng.GenerateAll(context.Background(), &tc.req)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A request that would run past the context is cut at it.
	ids := long[:120]
	out, err := eng.GenerateAll(context.Background(), &GenerateRequest{InputIDs: ids, Sampling: greedyParams(50)})
	if err != nil {
		t.Fatal(err)
	}
	if out.MetaInfo.CompletionTokens != 8 || out.MetaInfo.FinishReason.Type != "length" {
		t.Errorf("near the context end: %d tokens, %+v", out.MetaInfo.CompletionTokens, out.MetaInfo.FinishReason)
	}
}

func TestBadModelFiles(t *testing.T) {
	src := shared.Path(t, "models", "stories260K")
	dir := t.TempDir()
	copyFile := func(name string, mutate func([]byte) []byte) string {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, mutate(b), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	same := func(b []byte) []byte { return b }
	half := func(b []byte) []byte { return b[:len(b)/2] }
	// A folder with a truncated safetensors file.
	copyFile("config.json", same)
	copyFile("tokenizer.json", same)
	copyFile("model.safetensors", half)
	tests := []struct {
		name, path, msg string
	}{
		{"truncated safetensors", dir, "safetensors"},
		{"truncated gguf", copyFile("stories260K-f32.gguf", half), "gguf"},
		{"not a gguf", copyFile("stories260K-f16.gguf", func(b []byte) []byte { return append([]byte("NOPE"), b[4:]...) }), "magic"},
	}
	for _, tc := range tests {
		_, err := NewEngine(context.Background(), Options{ModelPath: tc.path})
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.msg) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.msg)
		}
	}
	// Unknown architecture.
	arch := t.TempDir()
	cfg, _ := os.ReadFile(filepath.Join(src, "config.json"))
	os.WriteFile(filepath.Join(arch, "config.json"), []byte(strings.Replace(string(cfg), "LlamaForCausalLM", "FooForCausalLM", 1)), 0o644)
	b, _ := os.ReadFile(filepath.Join(src, "model.safetensors"))
	os.WriteFile(filepath.Join(arch, "model.safetensors"), b, 0o644)
	if _, err := NewEngine(context.Background(), Options{ModelPath: arch}); err == nil || !strings.Contains(err.Error(), "FooForCausalLM") {
		t.Errorf("unknown architecture: err = %v", err)
	}
}

// TestBatchingMatchesSequential runs requests concurrently and one at a
// time: continuous batching must not change greedy outputs.
func TestBatchingMatchesSequential(t *testing.T) {
	eng := storiesEngine(t, "")
	prompts := []string{"Once upon a time", "Lily and Tom", "The cat", "", "A dog", "One day", "Tim was", "The sun"}
	want := make([][]int32, len(prompts))
	for i, p := range prompts {
		out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: p, Sampling: greedyParams(24 + i)})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out.OutputIDs
	}
	got := make([][]int32, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: p, Sampling: greedyParams(24 + i)})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = out.OutputIDs
		}()
	}
	wg.Wait()
	for i := range prompts {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("prompt %q: batched %v, sequential %v", prompts[i], got[i], want[i])
		}
	}
	waitIdle(t, eng)
}

func waitIdle(t *testing.T, eng *Engine) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := eng.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.KVUsed == st.CachedKV && st.Running == 0 && st.Waiting == 0 {
			// Only the radix cache holds slots; flushing it empties the pool.
			if err := eng.FlushCache(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st, _ := eng.Stats(context.Background()); st.KVUsed != 0 || st.CachedKV != 0 {
				t.Fatalf("after flush: %+v", st)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCancelFreesSlots(t *testing.T) {
	eng := storiesEngine(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	p := greedyParams(400)
	p.IgnoreEOS = true
	for _, err := range eng.Generate(ctx, &GenerateRequest{Text: "Once upon a time", Sampling: p}) {
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			break
		}
		if n++; n == 5 {
			cancel()
		}
	}
	waitIdle(t, eng)
	// Breaking out of the loop aborts too.
	for range eng.Generate(context.Background(), &GenerateRequest{Text: "The cat", Sampling: p}) {
		break
	}
	waitIdle(t, eng)
}

func TestStopConditions(t *testing.T) {
	eng := storiesEngine(t, "")
	full, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: greedyParams(40)})
	if err != nil {
		t.Fatal(err)
	}
	// Stop string: the text ends before it, and finish_reason names it.
	p := greedyParams(40)
	p.Stop = []string{"Lily"}
	out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: p})
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(full.Text, "Lily")
	if out.Text != full.Text[:cut] || out.MetaInfo.FinishReason.Matched != "Lily" {
		t.Errorf("stop string: text %q reason %+v; want %q", out.Text, out.MetaInfo.FinishReason, full.Text[:cut])
	}
	// Stop token id.
	p = greedyParams(40)
	p.StopTokenIDs = []int32{full.OutputIDs[3]}
	out, err = eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: p})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.OutputIDs, full.OutputIDs[:4]) || out.MetaInfo.FinishReason.Matched != full.OutputIDs[3] {
		t.Errorf("stop token: ids %v reason %+v", out.OutputIDs, out.MetaInfo.FinishReason)
	}
	// max_new_tokens 0 with input logprobs: prefill only, as SGLang's select uses it.
	req := &GenerateRequest{Text: "Once upon a time", Sampling: greedyParams(0), ReturnLogprob: true, LogprobStartLen: 0, TopLogprobsNum: 2}
	out, err = eng.GenerateAll(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	lp := out.MetaInfo.InputTokenLogprobs
	if len(out.OutputIDs) != 0 || len(lp) != 5 || lp[0].Logprob == lp[0].Logprob || lp[1].Logprob >= 0 {
		t.Errorf("prefill-only: ids %v, input logprobs %+v", out.OutputIDs, lp)
	}
	if fmt.Sprint(out.MetaInfo.FinishReason) != fmt.Sprint(&FinishReason{Type: "length"}) {
		t.Errorf("prefill-only finish reason %+v", out.MetaInfo.FinishReason)
	}
}

func TestSeedReproducible(t *testing.T) {
	eng := storiesEngine(t, "")
	seed := uint64(42)
	p := DefaultSamplingParams()
	p.MaxNewTokens, p.Seed = 30, &seed
	var outs [][]int32
	for range 2 {
		out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "The cat", Sampling: p})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out.OutputIDs)
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Errorf("same seed, different outputs: %v vs %v", outs[0], outs[1])
	}
}

// The KV cache holds f32 for f32 weights and f16 otherwise, unless told;
// an f16 cache fits twice the tokens in the same default memory.
func TestKVCacheDType(t *testing.T) {
	tests := []struct {
		file, dtype, want string
	}{
		{"stories260K-f32.gguf", "", "float32"},
		{"stories260K-f16.gguf", "auto", "float16"},
		{"stories260K-f32.gguf", "float16", "float16"},
		{"stories260K-f16.gguf", "f32", "float32"},
		{"stories260K-f16.gguf", "fp8_e5m2", "fp8_e5m2"},
		{"stories260K-f16.gguf", "fp8_e4m3", "fp8_e4m3"},
	}
	for _, tc := range tests {
		eng, err := NewEngine(context.Background(), Options{ModelPath: shared.Path(t, "models", "stories260K", tc.file), Threads: 1,
			KVCacheDType: tc.dtype, ContextLength: 128})
		if err != nil {
			t.Fatal(err)
		}
		info := eng.Info()
		eng.Close()
		if info.KVCacheDType != tc.want {
			t.Errorf("%s with %q: kv cache %s, want %s", tc.file, tc.dtype, info.KVCacheDType, tc.want)
		}
	}
	_, err := NewEngine(context.Background(), Options{ModelPath: shared.Path(t, "models", "stories260K"), KVCacheDType: "fp8"})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("kv cache dtype fp8: err %v", err)
	}
}
