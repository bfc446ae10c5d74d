package runtime_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/examples/loopback"
	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/model/testmodel"
)

// The in-process engine and the HTTP endpoint pick the same frontend chat
// template for a model: the endpoint reads the template the server renders
// (model_info's chat_template) where the model path says nothing.
func TestBackendsAgreeOnTemplate(t *testing.T) {
	tok := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	model := func(arch string) string {
		dir := filepath.Join(t.TempDir(), "m") // a path that names no model family
		o := testmodel.Options{Arch: arch, Out: dir, Seed: 1, Tokenizer: tok}
		if arch == "qwen2" {
			o.Hidden, o.Layers, o.Heads, o.KVHeads, o.Intermediate, o.Vocab = 32, 1, 2, 1, 64, 151936
		}
		if err := testmodel.Write(o); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name, path, want string
	}{
		{"stories260K", shared.Path(t, "models", "stories260K"), ""},
		{"qwen2 with the Qwen3 template", model("qwen2"), "chatml"},
		{"qwen2.5-vl", model("qwen2_5_vl"), "qwen2-vl"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := srt.NewEngine(ctx, srt.Options{ModelPath: tc.path, Threads: 1, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close() })
			url := loopback.ServeNamed(t, eng, tc.path, "m")
			a, err := runtime.NewEngine(eng).ChatTemplate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b, err := runtime.Endpoint(url).ChatTemplate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != b.Name || (tc.want != "" && a.Name != tc.want) {
				t.Errorf("engine picks %q, endpoint %q (want %q)", a.Name, b.Name, tc.want)
			}
			t.Logf("both pick %q", a.Name)
		})
	}
}
