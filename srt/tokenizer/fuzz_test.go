package tokenizer

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sglang-go/sglang/internal/shared"
)

var fuzzSeeds = []string{
	"", " ", "Hello world", "  leading\n\n\ttabs\r\n", "don't WON'T it'S", "日本語のテキスト",
	"🦙🇺🇸 flag", "x = 1234567 + 3.14;", "<|im_start|>user\nhi<|im_end|>", "\xff\xfe bad \xc3",
	"a\u0301 e\u0301", "\u00a0\u2009\u3000 spaces", "'ſ 'S 'll", "<think>\n</think>",
}

// FuzzEncodeDecode: byte-level BPE round-trips any valid UTF-8 text (after
// NFC, Qwen's normalizer) and never panics on any input.
func FuzzEncodeDecode(f *testing.F) {
	tk := loadTok(f, "tokenizers", "qwen3", "tokenizer.json")
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s, true)
		for _, id := range ids {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
		got := tk.Decode(ids, false)
		if !utf8.ValidString(s) {
			return
		}
		if want := (unicodeNorm{norm.NFC}).normalize(s); got != want {
			t.Fatalf("round trip %q -> %v -> %q", want, ids, got)
		}
		// streaming gives the same text
		d := tk.NewDecoder(nil, false)
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteString(d.Add(id))
		}
		sb.WriteString(d.Flush())
		if sb.String() != got {
			t.Fatalf("stream %q, decode %q", sb.String(), got)
		}
	})
}

// FuzzEncodeSPM: the SentencePiece paths (tokenizer.json merges and GGUF
// scores) never panic and round-trip valid UTF-8 without special tokens.
func FuzzEncodeSPM(f *testing.F) {
	hf := loadTok(f, "models", "stories260K", "tokenizer.json")
	gg := loadGGUFTok(f, "models", "stories260K", "stories260K-f32.gguf")
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := hf.Encode(s, true)
		b := gg.Encode(s, true)
		if !utf8.ValidString(s) || strings.Contains(s, "<") {
			return
		}
		// llama.cpp's SPM and HF's BPE agree on this vocabulary.
		if !slices.Equal(a, b) {
			t.Fatalf("%q: tokenizer.json %v, gguf %v", s, a, b)
		}
		if got := hf.Decode(a, true); got != s {
			t.Fatalf("round trip %q -> %v -> %q", s, a, got)
		}
	})
}

// FuzzFastSplit: the hand-coded split matchers equal regexp2 on the same
// patterns.
func FuzzFastSplit(f *testing.F) {
	type pair struct {
		name string
		fast matcher
		re   *reMatcher
	}
	mk := func(name string, fast matcher, pat string) pair {
		re, err := newReMatcher(pat)
		if err != nil {
			f.Fatal(err)
		}
		return pair{name, fast, re}
	}
	pairs := []pair{
		mk("qwen2", llama3Matcher{maxDigits: 1, unicodeFold: true}, patQwen2),
		mk("llama3", llama3Matcher{maxDigits: 3, unicodeFold: true}, patLlama3),
		mk("gpt2", gpt2Matcher{}, patGPT2),
		mk("llama.cpp-qwen2", llama3Matcher{maxDigits: 1}, llamaCppQwen2),
		mk("llama.cpp-llama3", llama3Matcher{maxDigits: 3}, llamaCppLlama3),
		mk("llama.cpp-gpt2", gpt2Matcher{}, llamaCppGPT2),
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			// regexp2 sees U+FFFD for each bad byte, like the fast path, but
			// a literal U+FFFD then differs in width; compare valid text only.
			s = strings.ToValidUTF8(s, "?")
		}
		for _, p := range pairs {
			a := splitAll(p.fast, s)
			b := splitAll(p.re, s)
			if p.name == "llama.cpp-gpt2" {
				b = splitStep{m: p.re}.apply([]string{s})
			}
			if !slices.Equal(a, b) {
				t.Fatalf("%s on %q:\nfast %q\nre   %q", p.name, s, a, b)
			}
		}
	})
}

func splitAll(m matcher, s string) []string {
	return splitStep{m: m}.apply([]string{s})
}

// FuzzFromJSON: the tokenizer.json parser returns an error or a working
// tokenizer, never panics.
func FuzzFromJSON(f *testing.F) {
	b, err := os.ReadFile(shared.Path(f, "models", "stories260K", "tokenizer.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, []byte(`{"add_bos_token": true, "bos_token": "<s>"}`))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}`), []byte(nil))
	f.Add([]byte(`{"model":{"vocab":{"a":0},"merges":[["a","a"]]},"added_tokens":[{"id":5,"content":"<x>","special":true}],"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Replace","pattern":{"Regex":"a+"},"content":"b"}]}}`), []byte(`{"eos_token":{"content":"<x>"}}`))
	f.Add([]byte(`{"model":{"type":"Unigram"}}`), []byte(nil))
	f.Add([]byte(`[]`), []byte(`{`))
	f.Fuzz(func(t *testing.T, data, cfg []byte) {
		tk, err := fromJSON(data, cfg)
		if err != nil {
			return
		}
		ids := tk.Encode("Hello <x> wörld 🦙", true)
		_ = tk.Decode(ids, false)
		d := tk.NewDecoder(ids, true)
		d.Add(0)
		d.Flush()
	})
}

// FuzzScanVocab: the fast vocab/merges scanner agrees with encoding/json on
// valid JSON.
func FuzzScanVocab(f *testing.F) {
	f.Add(`{"a":1,"\u0120b":2,"\ud83e\udd99":3,"q\"\\\/\n":-4}`)
	f.Add(`{ "x" : 7 , "x":8 }`)
	f.Add(`{"\ud800":1}`)
	f.Add(`["a b", "\u0120 x"]`)
	f.Add(`[["a","b"],["\u00e9","c d"]]`)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		var want map[string]int32
		if json.Unmarshal([]byte(s), &want) == nil && want != nil {
			got, err := scanVocab([]byte(s))
			if err != nil || !maps.Equal(got, want) {
				t.Fatalf("scanVocab(%s) = %v, %v; want %v", s, got, err, want)
			}
		}
		var pairs [][]string
		if json.Unmarshal([]byte(s), &pairs) == nil && pairs != nil {
			got, err := scanMerges([]byte(s))
			ok := err == nil && len(got) == len(pairs)
			for i := 0; ok && i < len(pairs); i++ {
				ok = len(pairs[i]) == 2 && got[i] == [2]string{pairs[i][0], pairs[i][1]}
			}
			if !ok && err == nil {
				t.Fatalf("scanMerges(%s) = %q; want %q", s, got, pairs)
			}
		}
		var strs []string
		if json.Unmarshal([]byte(s), &strs) == nil && strs != nil {
			got, err := scanMerges([]byte(s))
			for i := 0; err == nil && i < len(strs); i++ {
				if got[i][0]+" "+got[i][1] != strs[i] {
					t.Fatalf("scanMerges(%s)[%d] = %q; want %q", s, i, got[i], strs[i])
				}
			}
		}
	})
}
