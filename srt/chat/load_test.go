package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func TestFromModelDirStories260K(t *testing.T) {
	cfg := shared.Path(t, "models", "stories260K", "tokenizer_config.json")
	tm, err := FromModelDir(filepath.Dir(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// The Llama-2 chat template; bos_token "<s>" and eos_token "</s>" come
	// from the config. Expected strings follow the template text by hand
	// (strip() only trims the ends of the merged system+user content).
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"system+user", []Message{system("S"), user(" Hi ")}, "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\n Hi [/INST]"},
		{"multi turn", []Message{user("u1"), assistant("a1"), user("u2")}, "<s>[INST] u1 [/INST] a1 </s><s>[INST] u2 [/INST]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tm.Render(tc.msgs, Options{AddGenerationPrompt: true})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	_, err = tm.Render([]Message{user("a"), user("b")}, Options{})
	if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "must alternate") {
		t.Errorf("non-alternating roles: err = %v, want the template's exception", err)
	}
	got, err := tm.Render([]Message{user("Hi")}, Options{BOS: "<BOS>"})
	if err != nil || got != "<BOS>[INST] Hi [/INST]" {
		t.Errorf("Options.BOS override: got %q, %v", got, err)
	}
}

func TestFromModelDirQwen3(t *testing.T) {
	cfg := shared.Path(t, "tokenizers", "qwen3", "tokenizer_config.json")
	tm, err := FromModelDir(filepath.Dir(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"plain", nil, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{"enable_thinking false", map[string]any{"enable_thinking": false},
			"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tm.Render([]Message{user("Hi")}, Options{AddGenerationPrompt: true, Extra: tc.extra})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFromModelDirForms(t *testing.T) {
	const list = `{"bos_token": {"content": "<B>", "special": true}, "chat_template": [
		{"name": "default", "template": "D:{{ bos_token }}{{ messages[0].content }}"},
		{"name": "tool_use", "template": "T:{{ tools | length }}"}]}`
	tests := []struct {
		name    string
		files   map[string]string
		tools   []any
		want    string
		wantErr error
	}{
		{"string", map[string]string{"tokenizer_config.json": `{"chat_template": "S:{{ messages[0].content }}"}`}, nil, "S:hi", nil},
		{"list default", map[string]string{"tokenizer_config.json": list}, nil, "D:<B>hi", nil},
		{"list tool_use", map[string]string{"tokenizer_config.json": list}, []any{map[string]any{"type": "function"}}, "T:1", nil},
		{"jinja file wins", map[string]string{"tokenizer_config.json": list, "chat_template.jinja": "J:{{ messages[0].content }}\n"}, nil, "J:hi", nil},
		{"json file", map[string]string{"chat_template.json": `{"chat_template": "C:{{ messages[0].content }}"}`}, nil, "C:hi", nil},
		{"list without default", map[string]string{"tokenizer_config.json": `{"chat_template": [{"name": "rag", "template": "R"}]}`}, nil, "", ErrNoTemplate},
		{"no template", map[string]string{"tokenizer_config.json": `{"bos_token": "<s>"}`}, nil, "", ErrNoTemplate},
		{"empty dir", map[string]string{}, nil, "", ErrNoTemplate},
		{"bad syntax", map[string]string{"tokenizer_config.json": `{"chat_template": "{% if %}"}`}, nil, "", ErrParse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			tm, err := FromModelDir(dir)
			if err == nil {
				var got string
				got, err = tm.Render([]Message{user("hi")}, Options{Tools: tc.tools})
				if err == nil && got != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestFromFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"t.jinja": "{{ messages | length }}",
		"c.json":  `{"chat_template": "{{ messages[0].role }}"}`,
	})
	for file, want := range map[string]string{"t.jinja": "1", "c.json": "user"} {
		tm, err := FromFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := tm.Render([]Message{user("x")}, Options{})
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", file, got, err, want)
		}
	}
	if _, err := FromFile(filepath.Join(dir, "missing.jinja")); err == nil {
		t.Error("missing file: no error")
	}
}
