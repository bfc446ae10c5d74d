package srt

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

type goldenFile struct {
	Cases []struct {
		Name         string          `json:"name"`
		Prompt       string          `json:"prompt"`
		PromptIDs    []int32         `json:"prompt_ids"`
		NPredict     int             `json:"n_predict"`
		GreedyIDs    []int32         `json:"greedy_ids"`
		Text         string          `json:"text"`
		Top5Logprobs [][][2]float64  `json:"top5_logprobs"`
		Extra        json.RawMessage `json:"-"`
	} `json:"cases"`
}

func readGolden(t *testing.T, model string) *goldenFile {
	t.Helper()
	b, err := os.ReadFile(shared.Path(t, "models", model, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestGolden checks greedy ids, decoded text and top-5 logprobs against
// llama.cpp's goldens, for every shipped file of both shared models.
func TestGolden(t *testing.T) {
	// The goldens' logprobs come from the f32 weights with an f32 KV cache;
	// the f16 file's weights are rounded to 11-bit mantissas, which moves
	// logprobs by up to ~5e-3, and an f16 KV cache (the default for
	// non-f32 weights) by up to ~2e-3. Greedy ids match exactly throughout,
	// as llama.cpp's do.
	tests := []struct {
		model, file, kv string
		tol             float64
	}{
		{"stories260K", "", "auto", 1e-4},
		{"stories260K", "stories260K-f32.gguf", "auto", 1e-4},
		{"stories260K", "stories260K-f16.gguf", "auto", 1e-2},
		{"tiny-random-qwen2", "", "float32", 1e-4},
		{"tiny-random-qwen2", "", "float16", 5e-3},
		{"tiny-random-qwen2", "tiny-random-qwen2-f32.gguf", "auto", 1e-4},
	}
	for _, tc := range tests {
		t.Run(tc.model+"/"+tc.file+"/"+tc.kv, func(t *testing.T) {
			g := readGolden(t, tc.model)
			path := shared.Path(t, "models", tc.model)
			if tc.file != "" {
				path = shared.Path(t, "models", tc.model, tc.file)
			}
			eng, err := NewEngine(context.Background(), Options{ModelPath: path, Threads: 2, KVCacheDType: tc.kv})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			for _, c := range g.Cases {
				ids, err := eng.Tokenize(c.Prompt, true)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids, c.PromptIDs) {
					t.Errorf("%s: prompt ids %v, want %v", c.Name, ids, c.PromptIDs)
				}
				sp := DefaultSamplingParams()
				sp.Temperature, sp.MaxNewTokens = 0, c.NPredict
				req := &GenerateRequest{Text: c.Prompt, Sampling: sp, LogprobStartLen: -1}
				if c.Top5Logprobs != nil {
					req.ReturnLogprob, req.TopLogprobsNum = true, 5
				}
				out, err := eng.GenerateAll(context.Background(), req)
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				if !slices.Equal(out.OutputIDs, c.GreedyIDs) {
					t.Errorf("%s: greedy ids\n got %v\nwant %v", c.Name, out.OutputIDs, c.GreedyIDs)
				}
				if out.Text != c.Text {
					t.Errorf("%s: text\n got %q\nwant %q", c.Name, out.Text, c.Text)
				}
				if fr := out.MetaInfo.FinishReason; fr == nil || fr.Type != "length" || fr.Length != c.NPredict {
					t.Errorf("%s: finish reason %+v, want length %d", c.Name, fr, c.NPredict)
				}
				for pos, want := range c.Top5Logprobs {
					got := out.MetaInfo.OutputTopLogprobs[pos]
					for k, w := range want {
						if got[k].ID != int32(w[0]) || math.Abs(float64(got[k].Logprob)-w[1]) > tc.tol {
							t.Errorf("%s: position %d top %d = (%d, %.6f), want (%d, %.6f)", c.Name, pos, k, got[k].ID, got[k].Logprob, int32(w[0]), w[1])
						}
					}
				}
			}
		})
	}
}

// TestGoldenFP8: an fp8 KV cache keeps 2 (E5M2) or 3 (E4M3) mantissa bits,
// so greedy outputs drift from the f32 goldens after some tokens.
// Teacher-forced, on each golden's prompt and continuation, the per-token
// logprobs stay close to the same engine's with an f32 cache (a wrong
// widening or a stale cache row moves them by whole nats), E4M3 closer.
func TestGoldenFP8(t *testing.T) {
	for _, tc := range []struct {
		name, dtype string
		mean, max   float64
	}{
		{"stories260K", "fp8_e5m2", 0.3, 3},
		{"tiny-random-qwen2", "fp8_e5m2", 0.3, 3},
		{"stories260K", "fp8_e4m3", 0.15, 1.5},
		{"tiny-random-qwen2", "fp8_e4m3", 0.15, 1.5},
	} {
		name := tc.name
		g := readGolden(t, name)
		var lps [2][][]TokenLogprob
		for k, dtype := range []string{"float32", tc.dtype} {
			eng, err := NewEngine(context.Background(), Options{ModelPath: shared.Path(t, "models", name), Threads: 2, KVCacheDType: dtype})
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.Info().KVCacheDType; got != dtype {
				t.Errorf("%s: kv cache %s, want %s", name, got, dtype)
			}
			for _, c := range g.Cases {
				ids := append(slices.Clone(c.PromptIDs), c.GreedyIDs...)
				out, err := eng.GenerateAll(context.Background(), &GenerateRequest{InputIDs: ids, Sampling: greedyParams(0),
					ReturnLogprob: true, LogprobStartLen: 0})
				if err != nil {
					t.Fatalf("%s/%s: %v", name, c.Name, err)
				}
				lps[k] = append(lps[k], out.MetaInfo.InputTokenLogprobs)
			}
			eng.Close()
		}
		var sum, worst float64
		n := 0
		for i := range lps[0] {
			for j := 1; j < len(lps[0][i]); j++ { // the first token has no logprob
				d := math.Abs(float64(lps[0][i][j].Logprob - lps[1][i][j].Logprob))
				sum, worst, n = sum+d, max(worst, d), n+1
			}
		}
		t.Logf("%s %s: %d tokens, mean |logprob difference| %.4f, max %.4f", name, tc.dtype, n, sum/float64(n), worst)
		if n < 100 || sum/float64(n) > tc.mean || worst > tc.max {
			t.Errorf("%s: %s vs float32 KV over %d tokens: mean |logprob difference| %.4f (limit %g), max %.4f (limit %g)",
				name, tc.dtype, n, sum/float64(n), worst, tc.mean, tc.max)
		}
	}
}
