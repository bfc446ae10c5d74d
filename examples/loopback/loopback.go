// Package loopback is a test helper of the examples and tutorials: it
// starts the stories260K engine from the shared test data (or a seeded
// Qwen2.5-VL test model with the real Qwen tokenizer, for images) and a
// real `sglang serve` server for it on a fresh 127.0.0.1 port. Both are
// closed at the test's cleanup; the test is skipped when the shared data is
// missing.
package loopback

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	"github.com/sglang-go/sglang/srt/server"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// ModelName is the served model name (the OpenAI "model") of Serve;
// VisionModelName is ServeNamed's for the vision model in the examples.
const (
	ModelName       = "stories"
	VisionModelName = "qwen-vl"
)

// Stories loads stories260K in-process and returns the engine and its
// folder.
func Stories(tb testing.TB) (*srt.Engine, string) {
	tb.Helper()
	dir := shared.Path(tb, "models", "stories260K")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: dir, Threads: 2, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng, dir
}

// Vision writes the seeded Qwen2.5-VL test model (`sglang testmodel --arch
// qwen2_5_vl`, random weights, the real Qwen tokenizer) and loads it
// in-process. Images may come from ../shared/images by path and from
// loopback URLs (private addresses are allowed, for test image servers).
func Vision(tb testing.TB) (*srt.Engine, string) {
	tb.Helper()
	tok := shared.Path(tb, "tokenizers", "qwen3", "tokenizer.json")
	dir := filepath.Join(tb.TempDir(), "qwen2_5_vl")
	if err := testmodel.Write(testmodel.Options{Arch: "qwen2_5_vl", Out: dir, Seed: 1, Tokenizer: tok}); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: dir, Threads: 2, Logger: log, MaxTotalTokens: 32768,
		Media: image.Options{AllowPrivateURLs: true, AllowedLocalMediaPaths: []string{shared.Path(tb, "images")}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng, dir
}

// Serve runs a server for eng (whose model folder is dir) as `sglang
// serve` does and returns its base URL once ready.
func Serve(tb testing.TB, eng *srt.Engine, dir string) string {
	tb.Helper()
	return ServeNamed(tb, eng, dir, ModelName)
}

// ServeNamed is Serve with the given served model name.
func ServeNamed(tb testing.TB, eng *srt.Engine, dir, name string) string {
	tb.Helper()
	cc, err := server.LoadChatConfig(dir, "", "")
	if err != nil {
		tb.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	s, err := server.New(eng, server.Options{ServedModelName: name, ChatTemplate: cc.Template,
		BOS: cc.BOS, EOS: cc.EOS, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnReady: func(a net.Addr) { ready <- a }})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln, 5*time.Second) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a.String()
	case err := <-errc:
		errc <- err
		tb.Fatalf("server ended before ready: %v", err)
	case <-time.After(30 * time.Second):
		tb.Fatal("server not ready after 30s")
	}
	return ""
}
