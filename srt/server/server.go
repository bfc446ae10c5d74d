// Package server is sglang-go's HTTP front: SGLang's native API (/generate,
// /health, /model_info, /flush_cache, /metrics, ...) and the OpenAI API
// (/v1/chat/completions, /v1/completions, /v1/models), wire-compatible with
// SGLang so its Python frontend and OpenAI clients can drive it.
//
// The server holds no model: it translates requests (pure functions in
// openai.go and params.go) and runs them on an Engine. A request whose
// client disconnects is aborted through its context. Errors are JSON with
// the status SGLang uses: 400 for bad input (never 422), 401 for a wrong
// API key, 404 for unknown routes and models, 413 for bodies over the
// limit, 503 while starting or overloaded.
package server

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

// Version is reported by /server_info and /get_server_info.
const Version = "0.1.0-go"

// ReadyMessage is logged once the server serves, as SGLang prints it.
const ReadyMessage = "The server is fired up and ready to roll!"

// Engine is what the server needs of srt.Engine.
type Engine interface {
	Generate(ctx context.Context, req *srt.GenerateRequest) iter.Seq2[*srt.GenerateOutput, error]
	Tokenize(text string, addSpecial bool) ([]int32, error)
	Detokenize(ids []int32, skipSpecial bool) (string, error)
	Info() srt.ModelInfo
	Stats(ctx context.Context) (srt.Stats, error)
	FlushCache(ctx context.Context) error
	Abort(ctx context.Context, rid string) (bool, error)
}

// Options configure a Server. Zero values pick defaults.
type Options struct {
	// ServedModelName is the model id of the OpenAI API; "" = the model path.
	ServedModelName string
	// ChatTemplate renders chat messages; nil makes chat routes fail with 400.
	ChatTemplate *chat.Template
	// BOS and EOS are the template's bos_token and eos_token.
	BOS, EOS string
	// APIKey, when set, is required as "Authorization: Bearer KEY" on every
	// route but /health* and /metrics.
	APIKey string
	// MaxBodyBytes limits request bodies; 0 = 32 MiB.
	MaxBodyBytes int64
	// MaxPending refuses generation requests with 503 while this many are
	// in flight; 0 = no limit.
	MaxPending int
	// ServerArgs are reported as-is by /server_info.
	ServerArgs map[string]any
	// OnReady is called once Serve has warmed up and serves; nil logs
	// ReadyMessage at info level.
	OnReady func(addr net.Addr)
	Logger  *slog.Logger
}

// Server serves one Engine over HTTP. Make it with New.
type Server struct {
	eng     Engine
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	ready   atomic.Bool
	pending atomic.Int64
	metrics *metrics
	start   time.Time
}

// New makes a server for eng. It answers 503 on generation routes until
// Warmup succeeds or SetReady(true) is called.
func New(eng Engine, opts Options) (*Server, error) {
	if eng == nil {
		return nil, errors.New("server: nil engine")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.ServedModelName == "" {
		opts.ServedModelName = eng.Info().ModelPath
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{eng: eng, opts: opts, log: log, mux: http.NewServeMux(), metrics: newMetrics(), start: time.Now()}
	s.routes()
	return s, nil
}

// SetReady marks the server ready (or not) to generate.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Ready reports whether the server accepts generation requests.
func (s *Server) Ready() bool { return s.ready.Load() }

// ModelName is the served model name.
func (s *Server) ModelName() string { return s.opts.ServedModelName }

// Warmup generates one token, as SGLang does before it reports ready, and
// marks the server ready.
func (s *Server) Warmup(ctx context.Context) error {
	p := srt.DefaultSamplingParams()
	p.MaxNewTokens, p.Temperature = 1, 0
	req := &srt.GenerateRequest{InputIDs: []int32{0}, Sampling: p, LogprobStartLen: -1}
	if ids, err := s.eng.Tokenize("The capital city of France is", true); err == nil && len(ids) > 0 {
		req.InputIDs = ids
	}
	for _, err := range s.eng.Generate(ctx, req) {
		if err != nil {
			return fmt.Errorf("server: warm-up: %w", err)
		}
	}
	s.SetReady(true)
	return nil
}

func (s *Server) routes() {
	h := func(path string, methods string, f http.HandlerFunc) {
		s.mux.Handle(path, allow(methods, f))
	}
	h("/health", "GET,HEAD", s.handleHealth)
	h("/health_generate", "GET,HEAD", s.handleHealthGenerate)
	h("/model_info", "GET", s.handleModelInfo)
	h("/get_model_info", "GET", s.handleModelInfo)
	h("/server_info", "GET", s.handleServerInfo)
	h("/get_server_info", "GET", s.handleServerInfo)
	h("/flush_cache", "POST,GET", s.handleFlushCache)
	h("/abort_request", "POST", s.handleAbort)
	h("/metrics", "GET", s.handleMetrics)
	h("/generate", "POST,PUT", s.handleGenerate)
	h("/v1/tokenize", "POST", s.handleTokenize)
	h("/tokenize", "POST", s.handleTokenize)
	h("/v1/detokenize", "POST", s.handleDetokenize)
	h("/detokenize", "POST", s.handleDetokenize)
	h("/v1/models", "GET", s.handleModels)
	h("/v1/models/{model...}", "GET", s.handleModel)
	h("/v1/completions", "POST", s.handleCompletions)
	h("/v1/chat/completions", "POST", s.handleChat)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, NewErrorResponse(http.StatusNotFound, "server: no route "+r.Method+" "+r.URL.Path))
	})
}

// allow answers 405 to methods other than those listed (comma-separated).
func allow(methods string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for m := range strings.SplitSeq(methods, ",") {
			if r.Method == m {
				h(w, r)
				return
			}
		}
		w.Header().Set("Allow", strings.ReplaceAll(methods, ",", ", "))
		writeJSON(w, http.StatusMethodNotAllowed, NewErrorResponse(http.StatusMethodNotAllowed,
			fmt.Sprintf("server: method %s not allowed on %s", r.Method, r.URL.Path)))
	})
}

// statusWriter records the status for the access log; Unwrap keeps
// http.ResponseController (flushing SSE) working.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP applies CORS, the API key check and the body limit, then
// routes. Each request is logged at debug level.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	defer func() {
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", w.status, "remote", r.RemoteAddr,
			"seconds", time.Since(t0).Seconds())
	}()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.opts.APIKey != "" && r.Method != http.MethodOptions && !strings.HasPrefix(r.URL.Path, "/health") &&
		!strings.HasPrefix(r.URL.Path, "/metrics") {
		if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
			writeJSON(w, http.StatusUnauthorized, NewErrorResponse(http.StatusUnauthorized, "server: invalid or missing API key"))
			return
		}
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	}
	s.mux.ServeHTTP(w, r)
}

// admit counts a generation request in; the returned func counts it out.
func (s *Server) admit() (func(), error) {
	if !s.Ready() {
		return nil, fmt.Errorf("%w: the server is starting", ErrNotReady)
	}
	n := s.pending.Add(1)
	if s.opts.MaxPending > 0 && n > int64(s.opts.MaxPending) {
		s.pending.Add(-1)
		return nil, fmt.Errorf("%w: %d in flight", ErrOverloaded, n-1)
	}
	return func() { s.pending.Add(-1) }, nil
}

// checkModel accepts "", "default" (as SGLang's docs and clients send),
// the served name, or the model path.
func (s *Server) checkModel(name string) error {
	if name == "" || name == "default" || name == s.opts.ServedModelName || name == s.eng.Info().ModelPath {
		return nil
	}
	return fmt.Errorf("%w: the model %q does not exist (serving %q)", ErrModelNotFound, name, s.opts.ServedModelName)
}

// Serve serves on ln until ctx ends, then shuts down gracefully (waiting up
// to grace for requests in flight). It warms up first and logs ReadyMessage.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if err := s.Warmup(ctx); err != nil && ctx.Err() == nil {
		hs.Close()
		<-errc
		return err
	}
	if ctx.Err() == nil {
		if s.opts.OnReady != nil {
			s.opts.OnReady(ln.Addr())
		} else {
			s.log.Info(ReadyMessage, "addr", ln.Addr().String())
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
