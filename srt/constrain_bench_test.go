package srt

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// qwenTestModel is the Qwen2-0.5B-shaped test model (random weights, real
// Qwen tokenizer) that `sglang testmodel --arch qwen2 --hidden 896 --layers
// 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936` writes; set
// SGLANG_QWEN_TESTMODEL to its folder to run the measurements below.
func qwenTestModel(t testing.TB, o Options) *Engine {
	t.Helper()
	dir := os.Getenv("SGLANG_QWEN_TESTMODEL")
	if dir == "" {
		t.Skip("set SGLANG_QWEN_TESTMODEL to the Qwen2-0.5B-shaped test model folder")
	}
	o.ModelPath = dir
	eng, err := NewEngine(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func timedRun(t testing.TB, eng *Engine, req GenerateRequest) (*GenerateOutput, time.Duration) {
	t.Helper()
	start := time.Now()
	out, err := eng.GenerateAll(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	return out, time.Since(start)
}

func medianDur(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// TestMeasureConstrainedDecode reports decode tokens/s with the character
// JSON regex (mask cache warm; both requests ask for logprobs, so that every
// token is sampled through the mask rather than forced) against
// unconstrained decoding of as many tokens.
func TestMeasureConstrainedDecode(t *testing.T) {
	eng := qwenTestModel(t, Options{DisableJumpForward: true})
	prompt := characterPrompt
	con := greedyParams(200)
	con.Regex = characterRegex
	req := func(p SamplingParams) GenerateRequest {
		return GenerateRequest{Text: prompt, Sampling: p, ReturnLogprob: true, LogprobStartLen: -1}
	}
	warm, _ := timedRun(t, eng, req(con))
	n := len(warm.OutputIDs)
	free := greedyParams(n)
	free.IgnoreEOS = true
	var tc, tf []time.Duration
	for range 3 {
		eng.FlushCache(context.Background())
		o1, d1 := timedRun(t, eng, req(con))
		eng.FlushCache(context.Background())
		o2, d2 := timedRun(t, eng, req(free))
		if len(o1.OutputIDs) != n || len(o2.OutputIDs) != n {
			t.Fatalf("token counts %d, %d, want %d", len(o1.OutputIDs), len(o2.OutputIDs), n)
		}
		tc, tf = append(tc, d1), append(tf, d2)
	}
	c, f := float64(n)/medianDur(tc).Seconds(), float64(n)/medianDur(tf).Seconds()
	t.Logf("%d tokens: constrained %.2f tok/s, unconstrained %.2f tok/s, ratio %.3f", n, c, f, c/f)
}

// TestMeasureJumpForward runs the character program at temperature 0 with
// and without jump-forward and reports the speedup and whether the texts
// are identical.
func TestMeasureJumpForward(t *testing.T) {
	req := func() GenerateRequest {
		p := greedyParams(300)
		p.Regex = characterRegex
		return GenerateRequest{Text: characterPrompt, Sampling: p}
	}
	runs := func(disable bool) (*GenerateOutput, time.Duration) {
		eng := qwenTestModel(t, Options{DisableJumpForward: disable})
		timedRun(t, eng, req()) // warm the mask cache
		var ds []time.Duration
		var out *GenerateOutput
		for range 3 {
			eng.FlushCache(context.Background())
			var d time.Duration
			out, d = timedRun(t, eng, req())
			ds = append(ds, d)
		}
		eng.Close()
		return out, medianDur(ds)
	}
	jf, djf := runs(false)
	plain, dplain := runs(true)
	t.Logf("jump-forward: %v, %d tokens (%d forced); token by token: %v, %d tokens; speedup %.2fx",
		djf, len(jf.OutputIDs), jf.MetaInfo.JumpForwardTokens, dplain, len(plain.OutputIDs), dplain.Seconds()/djf.Seconds())
	t.Logf("identical text: %v\njf:    %q\nplain: %q", jf.Text == plain.Text, jf.Text, plain.Text)
	if jf.Text != plain.Text {
		t.Error("jump-forward changed the output")
	}
}

// BenchmarkConstrainedDecode compares decode throughput on stories260K with
// the character regex (jump-forward off, masks warm) and without a
// constraint, for the same number of tokens.
func BenchmarkConstrainedDecode(b *testing.B) {
	eng := storiesEngineOpts(b, Options{Threads: 2, DisableJumpForward: true})
	con := greedyParams(300)
	con.Regex = characterRegex
	warm, _ := timedRun(b, eng, GenerateRequest{Text: characterPrompt, Sampling: con})
	free := greedyParams(len(warm.OutputIDs))
	free.IgnoreEOS = true
	for _, c := range []struct {
		name string
		p    SamplingParams
	}{{"regex", con}, {"free", free}} {
		b.Run(c.name, func(b *testing.B) {
			toks := 0
			for b.Loop() {
				out, _ := timedRun(b, eng, GenerateRequest{Text: characterPrompt, Sampling: c.p})
				toks += len(out.OutputIDs)
			}
			b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
