package chat

import (
	"os"
	"testing"
)

func TestZZDebug(t *testing.T) {
	src := os.Getenv("TPL")
	if src == "" {
		t.Skip()
	}
	tm, err := Parse("dbg", src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tm.Render([]Message{{Role: "user", Content: "hi"}}, Options{Extra: map[string]any{"x": "abc", "n": nil, "d": map[string]any{"a": 1}}})
	t.Logf("out=%q err=%v", out, err)
}
