// Package cli is the shared command line of the example programs: a
// --backend flag naming where programs run, and helpers to print results.
//
// --backend takes one of
//
//	http://HOST:PORT        a running `sglang serve` (the default, port 30000)
//	engine:PATH             an in-process engine on the model folder PATH
//	openai                  the OpenAI API ($OPENAI_API_KEY; --model picks the model)
//	openai:BASEURL          an OpenAI-compatible API, e.g. openai:http://127.0.0.1:30000/v1
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sglang-go/sglang/backend/openai"
	"github.com/sglang-go/sglang/sgl"
	"github.com/sglang-go/sglang/srt"
)

// DefaultBackend is the --backend default.
const DefaultBackend = "http://127.0.0.1:30000"

// Flags are the parsed common flags.
type Flags struct {
	Backend string
	Model   string
}

// Register adds --backend and --model to fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Backend, "backend", DefaultBackend, "http://HOST:PORT | engine:MODEL_DIR | openai | openai:BASE_URL")
	fs.StringVar(&f.Model, "model", "gpt-4o-mini", "model name for the openai backends")
	return f
}

// Open makes the backend the flags name. Close releases it (an in-process
// engine); call it when done.
func Open(ctx context.Context, f *Flags) (b sgl.Backend, closeFn func(), err error) {
	spec := f.Backend
	noop := func() {}
	switch {
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		return sgl.RuntimeEndpoint(spec), noop, nil
	case strings.HasPrefix(spec, "engine:"):
		dir := strings.TrimPrefix(spec, "engine:")
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		eng, err := srt.NewEngine(ctx, srt.Options{ModelPath: dir, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("cli: engine %s: %w", dir, err)
		}
		return sgl.Engine(eng), func() { eng.Close() }, nil
	case spec == "openai":
		return sgl.OpenAI(f.Model), noop, nil
	case strings.HasPrefix(spec, "openai:"):
		return sgl.OpenAI(f.Model, openaiBaseURL(strings.TrimPrefix(spec, "openai:"))), noop, nil
	}
	return nil, nil, fmt.Errorf("cli: unknown --backend %q (want http://..., engine:PATH, openai or openai:URL)", spec)
}

// Main parses the flags, opens the backend, sets it as the default and runs
// body; it exits with status 1 on an error.
func Main(body func(ctx context.Context) error) {
	f := Register(flag.CommandLine)
	flag.Parse()
	ctx := context.Background()
	b, closeFn, err := Open(ctx, f)
	if err != nil {
		fail(err)
	}
	defer closeFn()
	sgl.SetDefaultBackend(b)
	if err := body(ctx); err != nil {
		closeFn()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	var be *sgl.BatchError
	if errors.As(err, &be) {
		fmt.Fprintln(os.Stderr, "(some batch items failed)")
	}
	os.Exit(1)
}

// Messages prints a state's chat messages, one "role: content" per line.
func Messages(w io.Writer, s *sgl.State) {
	for _, m := range s.Messages() {
		fmt.Fprintf(w, "%s: %s\n", m.Role, m.Text())
	}
}

func openaiBaseURL(u string) openai.Option { return openai.WithBaseURL(u) }
