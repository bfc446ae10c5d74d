package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
)

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestGenerateJSONGolden runs `sglang generate --json` as a user would, on
// each stories260K file, and compares with llama.cpp's greedy ids.
func TestGenerateJSONGolden(t *testing.T) {
	b, err := os.ReadFile(shared.Path(t, "models", "stories260K", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Prompt    string  `json:"prompt"`
			GreedyIDs []int32 `json:"greedy_ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	dir := shared.Path(t, "models", "stories260K")
	for _, path := range []string{dir, filepath.Join(dir, "stories260K-f32.gguf"), filepath.Join(dir, "stories260K-f16.gguf")} {
		c := g.Cases[0]
		stdout, stderr, code := runCmd(t, "generate", "--model-path", path, "--prompt", c.Prompt,
			"--max-new-tokens", "64", "--temperature", "0", "--logprobs", "5", "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", path, code, stderr)
		}
		var resp struct {
			Text      string  `json:"text"`
			OutputIDs []int32 `json:"output_ids"`
			MetaInfo  struct {
				PromptTokens        int               `json:"prompt_tokens"`
				CompletionTokens    int               `json:"completion_tokens"`
				FinishReason        map[string]any    `json:"finish_reason"`
				OutputTokenLogprobs []json.RawMessage `json:"output_token_logprobs"`
				OutputTopLogprobs   [][]any           `json:"output_top_logprobs"`
			} `json:"meta_info"`
		}
		if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s", path, err, stdout)
		}
		if !slices.Equal(resp.OutputIDs, c.GreedyIDs) {
			t.Errorf("%s: output_ids %v, want %v", path, resp.OutputIDs, c.GreedyIDs)
		}
		m := resp.MetaInfo
		if m.PromptTokens != 5 || m.CompletionTokens != 64 || m.FinishReason["type"] != "length" {
			t.Errorf("%s: meta_info %+v", path, m)
		}
		if len(m.OutputTokenLogprobs) != 64 || len(m.OutputTopLogprobs) != 64 || len(m.OutputTopLogprobs[0]) != 5 {
			t.Errorf("%s: %d output logprobs, %d top lists", path, len(m.OutputTokenLogprobs), len(m.OutputTopLogprobs))
		}
	}
}

func TestGenerateStreamsText(t *testing.T) {
	dir := shared.Path(t, "models", "stories260K")
	stdout, stderr, code := runCmd(t, "generate", "--model-path", dir, "--prompt", "Once upon a time", "--max-new-tokens", "20", "--temperature", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, ", there was a little girl named Lily") {
		t.Errorf("streamed text %q", stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"missing model", []string{"generate", "--prompt", "x"}, 2, "--model-path is required"},
		{"bad flag", []string{"generate", "--nope"}, 2, "flag provided but not defined"},
		{"missing path", []string{"generate", "--model-path", "/nonexistent/model"}, 1, "nonexistent"},
		{"bad testmodel arch", []string{"testmodel", "--arch", "gpt9", "--out", "x"}, 1, "gpt9"},
		{"quantized safetensors", []string{"testmodel", "--dtype", "q8_0", "--format", "hf", "--out", "x"}, 1, "safetensors cannot hold"},
	}
	for _, tc := range tests {
		_, stderr, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", tc.name, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestTestModelBothFormats writes the same seeded model as an HF folder and
// as GGUF files and checks that they generate the same greedy ids, and that
// bench-one-batch reports throughputs as JSON.
func TestTestModelBothFormats(t *testing.T) {
	dir := t.TempDir()
	shape := []string{"--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--intermediate", "96", "--vocab", "300", "--seed", "7"}
	for _, arch := range []string{"llama", "qwen2"} {
		var ids [][]int32
		for _, f := range []struct{ format, dtype string }{{"hf", "f32"}, {"gguf", "f32"}, {"hf", "bf16"}, {"gguf", "f16"}, {"gguf", "q8_0"}} {
			out := filepath.Join(dir, arch+f.format+f.dtype)
			args := append([]string{"testmodel", "--arch", arch, "--format", f.format, "--dtype", f.dtype, "--out", out}, shape...)
			if _, stderr, code := runCmd(t, args...); code != 0 {
				t.Fatalf("testmodel %v: %s", args, stderr)
			}
			path := out
			if f.format == "gguf" {
				path = filepath.Join(out, "model.gguf")
			}
			got := greedy(t, path)
			if f.dtype == "f32" {
				ids = append(ids, got)
			}
			if f.dtype != "f32" && len(got) != 8 {
				t.Errorf("%s %s %s: %d ids", arch, f.format, f.dtype, len(got))
			}
		}
		if !slices.Equal(ids[0], ids[1]) {
			t.Errorf("%s: hf f32 %v != gguf f32 %v", arch, ids[0], ids[1])
		}
	}
	stdout, stderr, code := runCmd(t, "bench-one-batch", "--model-path", filepath.Join(dir, "llamahff32"),
		"--batch-size", "2", "--input-len", "16", "--output-len", "4", "--runs", "1", "--json")
	if code != 0 {
		t.Fatalf("bench-one-batch: %s", stderr)
	}
	var res struct {
		Prefill float64 `json:"prefill_throughput"`
		Decode  float64 `json:"decode_throughput"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Prefill <= 0 || res.Decode <= 0 {
		t.Errorf("bench-one-batch JSON %q: %v", stdout, err)
	}
}

// greedy generates 8 tokens from a fixed id prompt through the engine.
func greedy(t *testing.T, path string) []int32 {
	t.Helper()
	return greedyIDs(t, path, []int32{5, 17, 42, 99}, 8)
}

// TestTestModelGGUFVocab writes a gguf test model carrying llama.cpp's
// llama-spm vocabulary and checks that the engine (and bench-serving's
// --tokenizer) tokenize with it as llama.cpp does (the vocab file's own
// reference cases), and that a
// --vocab that does not match the file's token count is refused.
func TestTestModelGGUFVocab(t *testing.T) {
	vocab := shared.Path(t, "tokenizers", "llamacpp-vocab", "ggml-vocab-llama-spm.gguf")
	inp, err1 := os.ReadFile(vocab + ".inp")
	outp, err2 := os.ReadFile(vocab + ".out")
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(strings.TrimSuffix(string(inp), "\n__ggml_vocab_test__\n"), "\n__ggml_vocab_test__\n")
	wants := strings.Split(strings.TrimSuffix(string(outp), "\n"), "\n")
	if len(texts) != len(wants) || len(texts) < 10 {
		t.Fatalf("%d texts, %d reference lines", len(texts), len(wants))
	}
	out := t.TempDir()
	args := []string{"testmodel", "--format", "gguf", "--dtype", "f16", "--hidden", "32", "--layers", "1", "--heads", "2",
		"--intermediate", "32", "--vocab", "32000", "--tokenizer", vocab, "--out", out}
	if _, stderr, code := runCmd(t, args...); code != 0 {
		t.Fatalf("testmodel: %s", stderr)
	}
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: filepath.Join(out, "model.gguf"), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	benchTok, err := loadTokenizer(filepath.Join(out, "model.gguf")) // bench-serving --tokenizer model.gguf
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, text := range texts {
		if strings.TrimSpace(text) == "" {
			continue // blank cases are whitespace-only; the reference file trims them
		}
		ids, err := eng.Tokenize(text, false)
		if err != nil {
			t.Fatal(err)
		}
		if b := benchTok.Encode(text, false); !slices.Equal(b, ids) {
			t.Errorf("case %d: bench-serving's tokenizer %v, engine %v", i, b, ids)
		}
		got := strings.Trim(fmt.Sprint(ids), "[]")
		if want := strings.Join(strings.Fields(wants[i]), " "); got != want {
			t.Errorf("case %d %q: ids %s, llama.cpp %s", i, text, got, want)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d cases checked", checked)
	}
	bad := slices.Clone(args)
	bad[slices.Index(bad, "--vocab")+1] = "300"
	bad[len(bad)-1] = t.TempDir()
	if _, stderr, code := runCmd(t, bad...); code == 0 || !strings.Contains(stderr, "32000 tokens") {
		t.Errorf("--vocab 300 with a 32000-token file: exit %d, %q", code, stderr)
	}
}
