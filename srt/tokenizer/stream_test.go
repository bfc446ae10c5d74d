package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// streamAll feeds gen through a StreamDecoder and returns every output.
func streamAll(tk *Tokenizer, prompt, gen []int32, skip bool) []string {
	d := tk.NewDecoder(prompt, skip)
	var outs []string
	for _, id := range gen {
		outs = append(outs, d.Add(id))
	}
	return append(outs, d.Flush())
}

func checkStream(t *testing.T, tk *Tokenizer, text string, addSpecial bool) {
	t.Helper()
	ids := tk.Encode(text, addSpecial)
	for _, skip := range []bool{true, false} {
		for cut := 0; cut <= len(ids); cut++ {
			if cut < len(ids) && tk.continuesChar(ids[cut]) {
				continue // a real prompt does not end inside a character
			}
			prompt, gen := ids[:cut], ids[cut:]
			outs := streamAll(tk, prompt, gen, skip)
			got := strings.Join(outs, "")
			full, pre := tk.Decode(ids, skip), tk.Decode(prompt, skip)
			if !strings.HasPrefix(full, pre) {
				t.Fatalf("%q: Decode(prompt) %q is not a prefix of %q", text, pre, full)
			}
			if want := full[len(pre):]; got != want {
				t.Errorf("%q cut %d skip %v: stream %q, want %q", text, cut, skip, got, want)
			}
			if !strings.ContainsRune(full, utf8.RuneError) {
				for _, o := range outs {
					if strings.ContainsRune(o, utf8.RuneError) || !utf8.ValidString(o) {
						t.Errorf("%q cut %d: output %q has a broken character", text, cut, o)
					}
				}
			}
		}
	}
}

// rareChar is a character Qwen's byte-level BPE spells with several tokens.
const rareChar = "\U0001D11E\U0002A6A5"

var streamTexts = []string{
	"Hello world",
	"Emoji 😀🎉 test 🦙🇺🇸 flag " + rareChar,
	"日本語のテキスト and 中文",
	"  leading and trailing  ",
	"Привет, мир! ñandú résumé",
	"<s> inside </s> text",
	"<|im_start|>user\nhi 👋<|im_end|>",
	"line\n\n\tindented\r\n",
}

func TestStreamDecoder(t *testing.T) {
	toks := map[string]func(t *testing.T) *Tokenizer{
		"qwen3": func(t *testing.T) *Tokenizer { return loadTok(t, "tokenizers", "qwen3", "tokenizer.json") },
		"stories260K": func(t *testing.T) *Tokenizer {
			return loadTok(t, "models", "stories260K", "tokenizer.json")
		},
		"stories260K-gguf": func(t *testing.T) *Tokenizer {
			return loadGGUFTok(t, "models", "stories260K", "stories260K-f32.gguf")
		},
	}
	for name, load := range toks {
		t.Run(name, func(t *testing.T) {
			tk := load(t)
			for _, s := range streamTexts {
				checkStream(t, tk, s, true)
			}
		})
	}
}

// A character split over byte tokens must be held back, not emitted as
// U+FFFD pieces.
func TestStreamHoldsSplitCharacters(t *testing.T) {
	tests := []struct {
		name string
		load func(t *testing.T) *Tokenizer
		text string
	}{
		{"qwen3-rare", func(t *testing.T) *Tokenizer { return loadTok(t, "tokenizers", "qwen3", "tokenizer.json") }, rareChar},
		{"stories-cjk", func(t *testing.T) *Tokenizer { return loadTok(t, "models", "stories260K", "tokenizer.json") }, "日本"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := tc.load(t)
			ids := tk.Encode(tc.text, false)
			if len(ids) < 2 {
				t.Fatalf("%q encodes to %v; the test needs a split character", tc.text, ids)
			}
			outs := streamAll(tk, nil, ids, true)
			empty := 0
			for _, o := range outs[:len(ids)] {
				if o == "" {
					empty++
				}
				if strings.ContainsRune(o, utf8.RuneError) {
					t.Errorf("output %q contains U+FFFD", o)
				}
			}
			if empty == 0 {
				t.Errorf("no output was held back: %q", outs)
			}
			if got := strings.Join(outs, ""); got != tk.Decode(ids, true) {
				t.Errorf("stream %q, want %q", got, tk.Decode(ids, true))
			}
		})
	}
}

// Flush emits an incomplete trailing character as U+FFFD, like Decode.
func TestStreamFlushIncomplete(t *testing.T) {
	tk := loadTok(t, "tokenizers", "qwen3", "tokenizer.json")
	const ch = "\U0002A6A5"
	ids := tk.Encode(ch, false)
	if len(ids) < 2 {
		t.Fatalf("%q encodes to %v; the test needs a split character", ch, ids)
	}
	d := tk.NewDecoder(nil, true)
	var got string
	for _, id := range ids[:len(ids)-1] {
		got += d.Add(id)
	}
	if got != "" {
		t.Fatalf("partial character emitted early: %q", got)
	}
	want := tk.Decode(ids[:len(ids)-1], true)
	if f := d.Flush(); f != want || !strings.ContainsRune(f, utf8.RuneError) {
		t.Errorf("Flush = %q, want %q", f, want)
	}
}
