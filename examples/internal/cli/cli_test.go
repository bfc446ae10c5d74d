package cli

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func TestOpen(t *testing.T) {
	dir := shared.Path(t, "models", "stories260K")
	tests := []struct {
		spec     string
		wantType string // "" = an error
	}{
		{"http://127.0.0.1:30000", "*runtime.Client"},
		{"https://example.com", "*runtime.Client"},
		{"openai", "*openai.Backend"},
		{"openai:http://127.0.0.1:30000/v1", "*openai.Backend"},
		{"engine:" + dir, "*runtime.Engine"},
		{"engine:/does/not/exist", ""},
		{"127.0.0.1:30000", ""},
		{"", ""},
	}
	for _, tc := range tests {
		b, closeFn, err := Open(context.Background(), &Flags{Backend: tc.spec, Model: "m"})
		if tc.wantType == "" {
			if err == nil {
				closeFn()
				t.Errorf("%q: no error", tc.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := fmt.Sprintf("%T", b); got != tc.wantType {
			t.Errorf("%q: backend %s, want %s", tc.spec, got, tc.wantType)
		}
		closeFn()
	}
}

func TestRegisterDefaults(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := Register(fs)
	if err := fs.Parse([]string{"--model", "qwen"}); err != nil {
		t.Fatal(err)
	}
	if f.Backend != DefaultBackend || f.Model != "qwen" {
		t.Errorf("flags %+v", f)
	}
}
