package tokenizer

import (
	"encoding/json"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
)

type tokCase struct {
	Text     string  `json:"text"`
	IDs      []int32 `json:"ids"`
	Decoded  string  `json:"decoded"`
	LlamaCpp []int32 `json:"llama_cpp_ids"`
}

func loadCases(t testing.TB, elem ...string) []tokCase {
	t.Helper()
	p := shared.Path(t, elem...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []tokCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s: no cases", p)
	}
	return f.Cases
}

var (
	tokMu    sync.Mutex
	tokCache = map[string]*Tokenizer{}
)

// loadTok loads (once per test binary) a tokenizer.json from shared data.
func loadTok(t testing.TB, elem ...string) *Tokenizer {
	t.Helper()
	p := shared.Path(t, elem...)
	tokMu.Lock()
	defer tokMu.Unlock()
	if tk, ok := tokCache[p]; ok {
		return tk
	}
	tk, err := FromFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tokCache[p] = tk
	return tk
}

func checkCases(t *testing.T, tk *Tokenizer, cases []tokCase) {
	t.Helper()
	for _, c := range cases {
		got := tk.Encode(c.Text, true)
		if !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
		if dec := tk.Decode(c.IDs, true); dec != c.Decoded {
			t.Errorf("Decode(%v) = %q, want %q", c.IDs, dec, c.Decoded)
		}
	}
}

func TestQwen3Cases(t *testing.T) {
	tk := loadTok(t, "tokenizers", "qwen3", "tokenizer.json")
	checkCases(t, tk, loadCases(t, "tokenizers", "qwen3", "tokenizer_cases.json"))
}

func TestStoriesCases(t *testing.T) {
	tk := loadTok(t, "models", "stories260K", "tokenizer.json")
	checkCases(t, tk, loadCases(t, "models", "stories260K", "tokenizer_cases.json"))
}

func TestLoadQwenFast(t *testing.T) {
	p := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	// Best of three, so a busy shared machine does not make this flaky.
	var tk *Tokenizer
	el := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		var err error
		if tk, err = FromFile(p); err != nil {
			t.Fatal(err)
		}
		el = min(el, time.Since(start))
		if el < 500*time.Millisecond {
			break
		}
	}
	t.Logf("loaded %d pieces in %v", tk.VocabSize(), el)
	if el > time.Second && !testing.Short() {
		t.Errorf("loading took %v, want < 1s", el)
	}
	if tk.VocabSize() != 151669 || tk.BOS() != -1 || tk.EOS() != 151645 {
		t.Errorf("VocabSize %d BOS %d EOS %d", tk.VocabSize(), tk.BOS(), tk.EOS())
	}
}

// The GGUF vocabularies of the two test models must encode the HF cases
// exactly like their tokenizer.json (and decode the same way).
func TestGGUFCases(t *testing.T) {
	tests := []struct {
		name  string
		gguf  []string
		cases []string
	}{
		{"stories260K", []string{"models", "stories260K", "stories260K-f32.gguf"}, []string{"models", "stories260K", "tokenizer_cases.json"}},
		{"tiny-random-qwen2", []string{"models", "tiny-random-qwen2", "tiny-random-qwen2-f32.gguf"}, []string{"tokenizers", "qwen3", "tokenizer_cases.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name == "tiny-random-qwen2" {
				t.Skip("loads a 19 MB GGUF")
			}
			tk := loadGGUFTok(t, tc.gguf...)
			checkCases(t, tk, loadCases(t, tc.cases...))
		})
	}
}

func sharedPath(tb testing.TB, elem ...string) string { return shared.Path(tb, elem...) }

func TestFromDir(t *testing.T) {
	dir := shared.Path(t, "models", "stories260K")
	tk, err := FromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// tokenizer_config.json: add_bos_token true, bos <s>, eos </s>.
	if tk.BOS() != 1 || tk.EOS() != 2 || tk.VocabSize() != 512 {
		t.Errorf("BOS %d EOS %d size %d", tk.BOS(), tk.EOS(), tk.VocabSize())
	}
	if got := tk.Encode("Once upon a time", true); !slices.Equal(got, []int32{1, 403, 407, 261, 378}) {
		t.Errorf("Encode = %v", got)
	}
	if _, err := FromDir(t.TempDir()); err == nil {
		t.Error("FromDir on an empty directory succeeded")
	}
}
