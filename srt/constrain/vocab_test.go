package constrain

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

// hfTokenizer is the part of a HF tokenizer.json the tests read.
type hfTokenizer struct {
	Model struct {
		Vocab map[string]int32 `json:"vocab"`
	} `json:"model"`
	AddedTokens []struct {
		ID      int32  `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
}

func readHF(t testing.TB, path string) *hfTokenizer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tk hfTokenizer
	if err := json.Unmarshal(data, &tk); err != nil {
		t.Fatal(err)
	}
	return &tk
}

// gpt2ByteDecoder maps GPT-2 byte-level unicode characters back to bytes.
func gpt2ByteDecoder() map[rune]byte {
	m := map[rune]byte{}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[rune(b)] = byte(b)
		} else {
			m[rune(256+n)] = byte(b)
			n++
		}
	}
	return m
}

type testVocab struct {
	v      *Vocab
	byByte [256]int32 // token id of each single byte
	eos    int32
}

func (tv *testVocab) init(t testing.TB, tokens [][]byte, eos []int32) {
	t.Helper()
	for i := range tv.byByte {
		tv.byByte[i] = -1
	}
	for id, b := range tokens {
		if len(b) == 1 && tv.byByte[b[0]] < 0 {
			tv.byByte[b[0]] = int32(id)
		}
	}
	v, err := NewVocab(tokens, eos)
	if err != nil {
		t.Fatal(err)
	}
	tv.v, tv.eos = v, eos[0]
}

var (
	qwenOnce    sync.Once
	qwenVocab   *testVocab
	storiesOnce sync.Once
	storiesVoc  *testVocab
)

// loadQwen returns the Qwen3 vocabulary padded to 151,936 ids.
func loadQwen(t testing.TB) *testVocab {
	t.Helper()
	path := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	qwenOnce.Do(func() {
		tk := readHF(t, path)
		dec := gpt2ByteDecoder()
		tokens := make([][]byte, 151936)
		for s, id := range tk.Model.Vocab {
			b := make([]byte, 0, len(s))
			for _, r := range s {
				c, ok := dec[r]
				if !ok {
					t.Fatalf("token %q: rune %U is not byte-level", s, r)
				}
				b = append(b, c)
			}
			tokens[id] = b
		}
		var eos []int32
		for _, a := range tk.AddedTokens {
			if a.Special {
				tokens[a.ID] = nil
			} else {
				tokens[a.ID] = []byte(a.Content)
			}
			if a.Content == "<|endoftext|>" || a.Content == "<|im_end|>" {
				eos = append(eos, a.ID)
			}
		}
		qwenVocab = &testVocab{}
		qwenVocab.init(t, tokens, eos)
	})
	if qwenVocab == nil {
		t.Fatal("qwen vocabulary failed to load")
	}
	return qwenVocab
}

// loadStories returns the stories260K SentencePiece vocabulary.
func loadStories(t testing.TB) *testVocab {
	t.Helper()
	path := shared.Path(t, "models", "stories260K", "tokenizer.json")
	storiesOnce.Do(func() {
		tk := readHF(t, path)
		tokens := make([][]byte, len(tk.Model.Vocab))
		for s, id := range tk.Model.Vocab {
			if len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
				n, err := strconv.ParseUint(s[3:5], 16, 8)
				if err != nil {
					t.Fatal(err)
				}
				tokens[id] = []byte{byte(n)}
				continue
			}
			tokens[id] = []byte(strings.ReplaceAll(s, "▁", " "))
		}
		var eos []int32
		for _, a := range tk.AddedTokens {
			if a.Special {
				tokens[a.ID] = nil
			}
			if a.Content == "</s>" {
				eos = append(eos, a.ID)
			}
		}
		storiesVoc = &testVocab{}
		storiesVoc.init(t, tokens, eos)
	})
	if storiesVoc == nil {
		t.Fatal("stories vocabulary failed to load")
	}
	return storiesVoc
}

func TestNewVocabErrors(t *testing.T) {
	cases := []struct {
		name   string
		tokens [][]byte
		eos    []int32
	}{
		{"empty", nil, nil},
		{"eos out of range", [][]byte{[]byte("a")}, []int32{1}},
		{"negative eos", [][]byte{[]byte("a")}, []int32{-1}},
	}
	for _, c := range cases {
		if _, err := NewVocab(c.tokens, c.eos); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestVocabTrieCoversTokens(t *testing.T) {
	tokens := [][]byte{[]byte("ab"), []byte("a"), nil, []byte("abc"), []byte("b"), []byte("ab"), []byte("</s>")}
	v, err := NewVocab(tokens, []int32{6})
	if err != nil {
		t.Fatal(err)
	}
	// Every non-special, non-EOS token appears exactly once at a node whose
	// root path spells its bytes.
	seen := map[int32]string{}
	path := make([]byte, v.maxDepth+1)
	for i := range v.nodeByte {
		d := v.nodeDepth[i]
		path[d-1] = v.nodeByte[i]
		for _, id := range v.tokIDs[v.tokOff[i]:v.tokOff[i+1]] {
			seen[id] = string(path[:d])
		}
	}
	want := map[int32]string{0: "ab", 1: "a", 3: "abc", 4: "b", 5: "ab"}
	if len(seen) != len(want) {
		t.Fatalf("trie tokens %v, want %v", seen, want)
	}
	for id, s := range want {
		if seen[id] != s {
			t.Errorf("token %d at %q, want %q", id, seen[id], s)
		}
	}
}
