package chat

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
)

// The goldens under testdata/golden are produced by Python Jinja2 with
// testdata/make_golden.py (run it with /usr/bin/python3 after editing
// testdata/conversations.json); this test never regenerates them, since
// they must come from the reference implementation, not from this package.

var update = flag.Bool("update", false, "explain how to regenerate the Python-made goldens")

const regenerate = "goldens come from Python Jinja2: run /usr/bin/python3 srt/chat/testdata/make_golden.py (needs python3-jinja2)"

type goldenConversations struct {
	BOS   string `json:"bos_token"`
	EOS   string `json:"eos_token"`
	Now   string `json:"now"`
	Cases []struct {
		Name                string            `json:"name"`
		AddGenerationPrompt bool              `json:"add_generation_prompt"`
		Messages            []Message         `json:"messages"`
		Tools               []json.RawMessage `json:"tools"`
	} `json:"cases"`
}

type goldenFile struct {
	Template string `json:"template"`
	Cases    map[string]struct {
		Output *string `json:"output"`
		Error  string  `json:"error"`
	} `json:"cases"`
}

func loadConversations(t testing.TB) goldenConversations {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "conversations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenConversations
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGoldenTemplates(t *testing.T) {
	if *update {
		t.Skip(regenerate)
	}
	dir := shared.Path(t, "chat-templates")
	conv := loadConversations(t)
	now, err := time.Parse("2006-01-02T15:04:05", conv.Now)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jinja"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	sort.Strings(files)
	passed := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jinja")
		ok := t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
			if err != nil {
				t.Fatalf("missing golden (%s): %v", regenerate, err)
			}
			var g goldenFile
			if err := json.Unmarshal(gb, &g); err != nil {
				t.Fatal(err)
			}
			tmpl, err := Parse(name, string(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, c := range conv.Cases {
				want, ok := g.Cases[c.Name]
				if !ok {
					t.Errorf("%s: golden has no such case; %s", c.Name, regenerate)
					continue
				}
				o := Options{AddGenerationPrompt: c.AddGenerationPrompt, BOS: conv.BOS, EOS: conv.EOS, Now: now}
				if c.Tools != nil {
					for _, tool := range c.Tools {
						o.Tools = append(o.Tools, tool)
					}
				}
				got, err := tmpl.Render(c.Messages, o)
				switch {
				case want.Output == nil && err == nil:
					t.Errorf("%s: want error %q, got output %q", c.Name, want.Error, got)
				case want.Output != nil && err != nil:
					t.Errorf("%s: unexpected error: %v", c.Name, err)
				case want.Output != nil && got != *want.Output:
					t.Errorf("%s: output differs\n got: %q\nwant: %q", c.Name, got, *want.Output)
				case want.Output == nil && !errors.Is(err, ErrRender):
					t.Errorf("%s: error %v does not wrap ErrRender", c.Name, err)
				}
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("golden templates passing: %d/%d", passed, len(files))
}
