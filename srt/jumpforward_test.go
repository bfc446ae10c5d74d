package srt

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestJumpForwardSameText runs constrained greedy requests on stories260K
// with and without jump-forward. Both must fully match and jump-forward must
// save decode steps. The texts are only reported: the model sees different
// token boundaries in forced text (jump-forward uses the tokenizer's, plain
// decoding the model's own choices), so later free text may differ.
func TestJumpForwardSameText(t *testing.T) {
	jf := storiesEngineOpts(t, Options{Threads: 2})
	plain := storiesEngineOpts(t, Options{Threads: 2, DisableJumpForward: true})
	prompts := []string{"", "Once upon a time", "Lily and Tom", "The cat sat", "Tim was happy"}
	patterns := []struct{ name, pattern string }{
		{"character", characterRegex},
		{"schema", ""},
		{"ip", ipRegex},
	}
	const schema = `{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":1,"maximum":99},"pet":{"enum":["cat","dog","fish"]}},"required":["name","age","pet"]}`
	same, forced := 0, 0
	for _, pt := range patterns {
		for _, pr := range prompts {
			p := greedyParams(300)
			if pt.pattern != "" {
				p.Regex = pt.pattern
			} else {
				p.JSONSchema = schema
			}
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
				t.Fatalf("jump-forward disabled, yet %d tokens forced", b.MetaInfo.JumpForwardTokens)
			}
			forced += a.MetaInfo.JumpForwardTokens
			if a.Text == b.Text {
				same++
			} else {
				t.Logf("%s %q: texts differ:\njf    %q\nplain %q", pt.name, pr, a.Text, b.Text)
			}
			if len(a.OutputIDs)-a.MetaInfo.JumpForwardTokens >= len(b.OutputIDs) && pt.name != "ip" {
				t.Errorf("%s %q: jump-forward decoded %d tokens, token by token %d", pt.name, pr, len(a.OutputIDs)-a.MetaInfo.JumpForwardTokens, len(b.OutputIDs))
			}
		}
	}
	t.Logf("%d of %d texts identical, %d tokens jumped", same, len(prompts)*len(patterns), forced)
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
