package tokenizer

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestLossyUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\xF0\x9F\x98", "\uFFFD"},             // truncated 4-byte sequence: one mark
		{"\xF0\x9F\x98a", "\uFFFDa"},           // ... followed by ASCII
		{"\xC3(", "\uFFFD("},                   // bad continuation
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: each byte
		{"\xFFok\xE6\x97", "\uFFFDok\uFFFD"},
		{"\xE6\x97\xA5", "日"},
	}
	for _, tc := range tests {
		if got := lossyUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestByteLevelTable(t *testing.T) {
	bl := newByteLevel()
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := bl.enc[b]
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
	}
	// GPT-2's well-known spellings of space, newline and tab.
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 'a': 'a', 0xAD: 'Ń'} {
		if bl.enc[b] != want {
			t.Errorf("byte %#x -> %q, want %q", b, bl.enc[b], want)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	back, ok := bl.decodeTo(nil, bl.encode(string(all)))
	if !ok || string(back) != string(all) {
		t.Errorf("byte table does not round-trip")
	}
}

func TestDecoders(t *testing.T) {
	tests := []struct {
		name string
		d    decodeStep
		in   []string
		want []string
	}{
		{"bytefallback", byteFallbackDec{}, []string{"<0xE6>", "<0x97>", "<0xA5>", "x"}, []string{"日", "x"}},
		{"bytefallback-invalid", byteFallbackDec{}, []string{"a", "<0xE6>", "<0x97>", "b"}, []string{"a", "\uFFFD", "\uFFFD", "b"}},
		{"strip", stripDec{" ", 1, 0}, []string{"  a", "b "}, []string{" a", "b "}},
		{"replace", replaceDec{"▁", " "}, []string{"▁a▁b"}, []string{" a b"}},
		{"fuse", fuseDec{}, []string{"a", "b", "c"}, []string{"abc"}},
		{"metaspace", metaspaceDec{"▁", true}, []string{"▁Hey", "▁you"}, []string{"Hey", " you"}},
		{"wordpiece", wordPieceDec{"##"}, []string{"un", "##aff", "able"}, []string{"un", "aff", " able"}},
	}
	for _, tc := range tests {
		if got := tc.d.decode(slices.Clone(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q -> %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// The examples of HF's SplitDelimiterBehavior documentation.
func TestSplitBehaviors(t *testing.T) {
	const in = "the-final--countdown"
	tests := []struct {
		b      splitBehavior
		invert bool
		want   []string
	}{
		{splitRemoved, false, []string{"the", "final", "countdown"}},
		{splitIsolated, false, []string{"the", "-", "final", "-", "-", "countdown"}},
		{splitMergedWithPrevious, false, []string{"the-", "final-", "-", "countdown"}},
		{splitMergedWithNext, false, []string{"the", "-final", "-", "-countdown"}},
		{splitContiguous, false, []string{"the", "-", "final", "--", "countdown"}},
		{splitRemoved, true, []string{"-", "-", "-"}},
	}
	for _, tc := range tests {
		got := splitStep{m: literalMatcher{"-"}, behavior: tc.b, invert: tc.invert}.apply([]string{in})
		if !slices.Equal(got, tc.want) {
			t.Errorf("behavior %d invert %v: %q, want %q", tc.b, tc.invert, got, tc.want)
		}
	}
}

func TestAddedTokenSplit(t *testing.T) {
	toks := []addedToken{
		{content: "<s>", id: 1, special: true},
		{content: "<sep>", id: 2, special: true, lstrip: true, rstrip: true},
		{content: "word", id: 3, singleWord: true},
		{content: "<s>x", id: 4},
	}
	a := newAddedVocab(toks)
	type piece struct {
		s  string
		id int32
	}
	tests := []struct {
		in           string
		parseSpecial bool
		want         []piece
	}{
		{"a<s>b", true, []piece{{"a", -1}, {"", 1}, {"b", -1}}},
		{"a<s>b", false, []piece{{"a<s>b", -1}}},
		{"a<s>xb", true, []piece{{"a", -1}, {"", 4}, {"b", -1}}}, // longest wins
		{"a  <sep>  b", true, []piece{{"a", -1}, {"", 2}, {"b", -1}}},
		{"a word b", true, []piece{{"a ", -1}, {"", 3}, {" b", -1}}},
		{"swordfish", true, []piece{{"swordfish", -1}}},
		{"", true, nil},
	}
	for _, tc := range tests {
		var got []piece
		a.split(tc.in, tc.parseSpecial, func(s string, id int32) { got = append(got, piece{s, id}) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("split(%q, %v) = %q, want %q", tc.in, tc.parseSpecial, got, tc.want)
		}
	}
}

const tinyJSON = `{"model":{"type":"BPE","vocab":{"<s>":0,"</s>":1,"a":2,"b":3,"ab":4,"Ġ":5,"Ġab":6},
 "merges":["a b","Ġ ab"]},
 "added_tokens":[{"id":0,"content":"<s>","special":true},{"id":1,"content":"</s>","special":true}],
 "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
 "decoder":{"type":"ByteLevel"}}`

func TestConfigAddsBOSEOS(t *testing.T) {
	tests := []struct {
		cfg  string
		want []int32
		bos  int32
		eos  int32
	}{
		{``, []int32{4, 6}, -1, -1},
		{`{"add_bos_token":true,"bos_token":"<s>","eos_token":"</s>"}`, []int32{0, 4, 6}, 0, 1},
		{`{"add_bos_token":true,"add_eos_token":true,"bos_token":{"content":"<s>"},"eos_token":"</s>"}`, []int32{0, 4, 6, 1}, 0, 1},
		{`{"add_eos_token":true,"eos_token":"</s>"}`, []int32{4, 6, 1}, -1, 1},
	}
	for _, tc := range tests {
		tk, err := fromJSON([]byte(tinyJSON), []byte(tc.cfg))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode("ab ab", true); !slices.Equal(got, tc.want) {
			t.Errorf("cfg %s: Encode = %v, want %v", tc.cfg, got, tc.want)
		}
		if got := tk.Encode("ab ab", false); !slices.Equal(got, []int32{4, 6}) {
			t.Errorf("cfg %s: Encode(no special) = %v", tc.cfg, got)
		}
		if tk.BOS() != tc.bos || tk.EOS() != tc.eos {
			t.Errorf("cfg %s: BOS %d EOS %d, want %d %d", tc.cfg, tk.BOS(), tk.EOS(), tc.bos, tc.eos)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	if _, err := FromFile(filepath.Join(t.TempDir(), "nope.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := []struct {
		json string
		want error
	}{
		{`{`, ErrFormat},
		{`{"model":null}`, ErrFormat},
		{`{"model":{"type":"Unigram","vocab":[]}}`, ErrUnsupported},
		{`{"model":{"type":"BPE","vocab":[],"merges":[]}}`, ErrFormat},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a"]]}}`, ErrFormat},
		{`{"model":{"type":"WordLevel","vocab":{}}}`, ErrUnsupported},
		{`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`, ErrFormat},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":["ab"]}}`, ErrFormat},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Precompiled"}}`, ErrUnsupported},
		{`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("}}}`, ErrFormat},
	}
	for _, tc := range bad {
		if _, err := fromJSON([]byte(tc.json), nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.json, err, tc.want)
		}
	}
	ggufBad := []struct {
		v    GGUFVocab
		want error
	}{
		{GGUFVocab{Model: "gpt2"}, ErrFormat},
		{GGUFVocab{Model: "t5", Tokens: []string{"a"}}, ErrUnsupported},
		{GGUFVocab{Model: "llama", Tokens: []string{"a"}, Scores: []float32{1, 2}}, ErrFormat},
		{GGUFVocab{Model: "gpt2", Tokens: []string{"a"}, Merges: []string{"nospace"}}, ErrFormat},
	}
	for _, tc := range ggufBad {
		if _, err := FromGGUF(tc.v); !errors.Is(err, tc.want) {
			t.Errorf("%+v: err %v, want %v", tc.v, err, tc.want)
		}
	}
}

func TestQwenAPI(t *testing.T) {
	tk := loadTok(t, "tokenizers", "qwen3", "tokenizer.json")
	tests := []struct {
		piece   string
		id      int32
		special bool
	}{
		{"<|endoftext|>", 151643, true},
		{"<|im_start|>", 151644, true},
		{"<|im_end|>", 151645, true},
		{"<think>", 151667, false},
		{"Ġupon", 5193, false},
	}
	for _, tc := range tests {
		id, ok := tk.TokenID(tc.piece)
		if !ok || id != tc.id {
			t.Errorf("TokenID(%q) = %d %v, want %d", tc.piece, id, ok, tc.id)
		}
		if tk.Piece(tc.id) != tc.piece || tk.IsSpecial(tc.id) != tc.special {
			t.Errorf("id %d: Piece %q IsSpecial %v", tc.id, tk.Piece(tc.id), tk.IsSpecial(tc.id))
		}
	}
	if tk.Piece(-1) != "" || tk.Piece(1<<30) != "" || tk.IsSpecial(-5) {
		t.Error("out-of-range ids must be harmless")
	}
	ids := tk.Encode("<|im_start|>user\n<think>hi</think><|im_end|>", false)
	want := []int32{151644, 872, 198, 151667, 6023, 151668, 151645}
	if !slices.Equal(ids, want) {
		t.Errorf("chat ids %v, want %v", ids, want)
	}
	if got := tk.Decode(ids, true); got != "user\n<think>hi</think>" {
		t.Errorf("Decode(skip) = %q", got)
	}
	if got := tk.Decode(append(ids, -3, 1<<29), false); got != "<|im_start|>user\n<think>hi</think><|im_end|>" {
		t.Errorf("Decode = %q", got)
	}
}

func TestGGUFSpecials(t *testing.T) {
	tk := loadGGUFTok(t, "models", "stories260K", "stories260K-f32.gguf")
	if tk.BOS() != 1 || tk.EOS() != 2 || tk.VocabSize() != 512 || !tk.IsSpecial(1) || tk.IsSpecial(300) {
		t.Errorf("BOS %d EOS %d size %d", tk.BOS(), tk.EOS(), tk.VocabSize())
	}
	// parse_special=false (llama.cpp vectors) leaves "<s>" as text.
	if got := tk.encode("<s>", false, false); slices.Contains(got, 1) {
		t.Errorf("encode without special parsing matched <s>: %v", got)
	}
	if got := tk.Encode("<s>", false); !slices.Equal(got, []int32{1}) {
		t.Errorf("Encode(<s>) = %v", got)
	}
}

// Encode is safe for concurrent use and gives the same ids.
func TestConcurrentEncode(t *testing.T) {
	tk := loadTok(t, "tokenizers", "qwen3", "tokenizer.json")
	text := benchText(t, 1<<14)
	want := tk.Encode(text, true)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := tk.Encode(text, true); !slices.Equal(got, want) {
				errs <- "concurrent Encode differs"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
