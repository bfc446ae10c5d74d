package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
)

// loopbackEngine loads stories260K for tests that serve on a real port.
func loopbackEngine(t testing.TB) (*srt.Engine, string) {
	t.Helper()
	dir := shared.Path(t, "models", "stories260K")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: dir, Threads: 2, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng, dir
}

// serveLoopback runs a Server for eng with Serve on a fresh 127.0.0.1
// port, as `sglang serve` does, and returns its base URL once it reports
// ready. The server is shut down (and waited for) at cleanup.
func serveLoopback(t testing.TB, eng *srt.Engine, dir string, opts Options) (string, *Server) {
	t.Helper()
	cc, err := LoadChatConfig(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	opts.ChatTemplate, opts.BOS, opts.EOS = cc.Template, cc.BOS, cc.EOS
	if opts.ServedModelName == "" {
		opts.ServedModelName = "stories"
	}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ready := make(chan net.Addr, 1)
	opts.OnReady = func(a net.Addr) { ready <- a }
	s, err := New(eng, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-ready:
		return "http://" + a.String(), s
	case err := <-errc:
		errc <- err
		t.Fatalf("serve ended before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready after 30s")
	}
	return "", nil
}

// TestOpenAINpmClient runs testdata/npm/openai.test.mjs (node --test)
// with the official openai npm package against two servers on loopback:
// one open, one requiring an API key. It skips without node or without
// testdata/npm/node_modules (run `npm ci` there first).
func TestOpenAINpmClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the openai npm client test")
	}
	npmDir, err := filepath.Abs(filepath.Join("testdata", "npm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(npmDir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("the openai npm package is not installed (run `npm ci` in %s): %v", npmDir, err)
	}
	eng, dir := loopbackEngine(t)
	const key = "sk-npm-test"
	open, _ := serveLoopback(t, eng, dir, Options{})
	keyed, _ := serveLoopback(t, eng, dir, Options{APIKey: key})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", ".")
	cmd.Dir = npmDir
	cmd.Env = append(os.Environ(),
		"SGLANG_OPENAI_BASE_URL="+open+"/v1",
		"SGLANG_OPENAI_AUTH_BASE_URL="+keyed+"/v1",
		"SGLANG_OPENAI_API_KEY="+key,
		"SGLANG_OPENAI_MODEL=stories",
		"NO_COLOR=1",
	)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			t.Fatalf("node --test failed (%v, ctx %v) after %v:\n%s", err, ctx.Err(), time.Since(t0), out)
		}
		t.Fatalf("running node: %v\n%s", err, out)
	}
	t.Logf("node --test passed in %v", time.Since(t0).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
