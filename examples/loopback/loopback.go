// Package loopback is a test helper of the examples and tutorials: it
// starts the stories260K engine from the
// shared test data and a real `sglang serve` server for it on a fresh
// 127.0.0.1 port. Both are closed at the test's cleanup; the test is
// skipped when the shared data is missing.
package loopback

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/server"
)

// ModelName is the served model name (the OpenAI "model").
const ModelName = "stories"

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

// Serve runs a server for eng (whose model folder is dir) as `sglang
// serve` does and returns its base URL once ready.
func Serve(tb testing.TB, eng *srt.Engine, dir string) string {
	tb.Helper()
	cc, err := server.LoadChatConfig(dir, "", "")
	if err != nil {
		tb.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	s, err := server.New(eng, server.Options{ServedModelName: ModelName, ChatTemplate: cc.Template,
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
