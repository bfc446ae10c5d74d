package srt

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

// TestJumpForwardIdenticalOutput runs constrained greedy requests with and
// without jump-forward, on stories260K (SentencePiece) and
// tiny-random-qwen2 (byte-level BPE). Forced text is the tokenizer's tokens
// in both modes, so the outputs must be identical token for token, while
// jump-forward needs fewer forward steps.
func TestJumpForwardIdenticalOutput(t *testing.T) {
	const schema = `{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":1,"maximum":99},"pet":{"enum":["cat","dog","fish"]}},"required":["name","age","pet"]}`
	models := []struct{ name, path string }{
		{"stories260K", shared.Path(t, "models", "stories260K")},
		{"tiny-random-qwen2", shared.Path(t, "models", "tiny-random-qwen2")},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			jf := engineAt(t, Options{ModelPath: m.path, Threads: 2})
			plain := engineAt(t, Options{ModelPath: m.path, Threads: 2, DisableJumpForward: true})
			forced := 0
			for _, pr := range []string{"", "Once upon a time", "Lily and Tom", "The cat sat", "Tim was happy"} {
				for _, pt := range []struct{ name, regex, schema string }{
					{"character", characterRegex, ""}, {"schema", "", schema}, {"ip", ipRegex, ""},
				} {
					p := greedyParams(300)
					p.Regex, p.JSONSchema = pt.regex, pt.schema
					req := GenerateRequest{Text: characterPrompt + pr, Sampling: p}
					a, err := jf.GenerateAll(context.Background(), &req)
					if err != nil {
						t.Fatal(err)
					}
					b, err := plain.GenerateAll(context.Background(), &req)
					if err != nil {
						t.Fatal(err)
					}
					if b.MetaInfo.JumpForwardTokens != 0 {
						t.Fatalf("jump-forward disabled, yet %d tokens jumped", b.MetaInfo.JumpForwardTokens)
					}
					forced += a.MetaInfo.JumpForwardTokens
					if a.Text != b.Text || !slices.Equal(a.OutputIDs, b.OutputIDs) {
						t.Errorf("%s %q: outputs differ:\njf    %q\nplain %q", pt.name, pr, a.Text, b.Text)
					}
				}
			}
			sj, sp := totalsOf(t, jf), totalsOf(t, plain)
			if forced == 0 || sj.ForwardSteps >= sp.ForwardSteps {
				t.Errorf("%d tokens jumped; forward steps: %d with jump-forward, %d without", forced, sj.ForwardSteps, sp.ForwardSteps)
			}
			t.Logf("%d tokens jumped; forward steps %d with jump-forward, %d without", forced, sj.ForwardSteps, sp.ForwardSteps)
		})
	}
}

func engineAt(t testing.TB, o Options) *Engine {
	t.Helper()
	eng, err := NewEngine(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func totalsOf(t *testing.T, eng *Engine) Totals {
	t.Helper()
	st, err := eng.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Totals
}

// TestJumpForwardEqualsPrefill checks the KV of jumped tokens: generating
// with the forced start jumped over must continue exactly like a request
// whose prompt already holds those tokens and whose regex lacks that start.
func TestJumpForwardEqualsPrefill(t *testing.T) {
	eng := storiesEngineOpts(t, Options{Threads: 2})
	const start = "{\n    \"name\": \""
	if !strings.HasPrefix(characterRegex, `\{\n    "name": "`) {
		t.Fatal("unexpected character regex")
	}
	rest := strings.TrimPrefix(characterRegex, `\{\n    "name": "`)
	for _, pr := range []string{"Once upon a time", "The cat sat", "Tim"} {
		p := greedyParams(300)
		p.Regex = characterRegex
		a, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: pr, Sampling: p})
		if err != nil {
			t.Fatal(err)
		}
		m := 0
		for m < len(a.OutputIDs) {
			m++
			txt, _ := eng.Detokenize(a.OutputIDs[:m], true)
			if len(txt) >= len("{\n    \"name\": \"") {
				break
			}
		}
		if txt, _ := eng.Detokenize(a.OutputIDs[:m], true); txt != "{\n    \"name\": \"" {
			t.Fatalf("first %d tokens give %q", m, txt)
		}
		prompt, _ := eng.Tokenize(pr, true)
		p.Regex = rest
		b, err := eng.GenerateAll(context.Background(), &GenerateRequest{InputIDs: append(prompt, a.OutputIDs[:m]...), Sampling: p})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.OutputIDs[m:], b.OutputIDs) {
			t.Errorf("%q: jumped %q, prefilled %q", pr, a.Text, b.Text)
		}
	}
	_ = start
}

// TestJumpForwardStreams checks that streamed deltas carry the forced text:
// they join into the final text, and a forced field name arrives whole.
func TestJumpForwardStreams(t *testing.T) {
	eng := storiesEngineOpts(t, Options{Threads: 2})
	p := DefaultSamplingParams()
	p.MaxNewTokens, p.Regex = 300, characterRegex
	for seed := range uint64(4) {
		p.Seed = &seed
		var joined strings.Builder
		var last *GenerateOutput
		whole := false
		for out, err := range eng.Generate(context.Background(), &GenerateRequest{Text: characterPrompt, Sampling: p}) {
			if err != nil {
				t.Fatal(err)
			}
			joined.WriteString(out.Delta)
			if strings.Contains(out.Delta, `"blood status": "`) {
				whole = true
			}
			last = out
		}
		if joined.String() != last.Text {
			t.Fatalf("deltas join to %q, final text %q", joined.String(), last.Text)
		}
		if !whole || last.MetaInfo.JumpForwardTokens == 0 {
			t.Fatalf("forced text not delivered in one delta (jump-forward tokens %d)", last.MetaInfo.JumpForwardTokens)
		}
	}
}
