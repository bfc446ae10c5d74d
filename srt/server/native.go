package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sglang-go/sglang/srt"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleHealthGenerate(w http.ResponseWriter, r *http.Request) {
	if !s.Ready() {
		writeNativeError(w, fmt.Errorf("%w: the server is starting", ErrNotReady))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	p := srt.DefaultSamplingParams()
	p.MaxNewTokens, p.Temperature = 1, 0
	req := &srt.GenerateRequest{InputIDs: []int32{0}, Sampling: p, LogprobStartLen: -1}
	if ids, err := s.eng.Tokenize("Hi", true); err == nil && len(ids) > 0 {
		req.InputIDs = ids
	}
	for _, err := range s.eng.Generate(ctx, req) {
		if err != nil {
			writeNativeError(w, fmt.Errorf("%w: health generation failed: %w", ErrNotReady, err))
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// ModelInfo is the body of /model_info and /get_model_info.
type ModelInfo struct {
	ModelPath              string   `json:"model_path"`
	TokenizerPath          string   `json:"tokenizer_path"`
	IsGeneration           bool     `json:"is_generation"`
	HasImageUnderstanding  bool     `json:"has_image_understanding"`
	HasAudioUnderstanding  bool     `json:"has_audio_understanding"`
	ModelType              string   `json:"model_type"`
	Architectures          []string `json:"architectures"`
	ServedModelName        string   `json:"served_model_name"`
	WeightVersion          string   `json:"weight_version"`
	ContextLength          int      `json:"context_length"`
	VocabSize              int      `json:"vocab_size"`
	EOSTokenIDs            []int32  `json:"eos_token_ids"`
	Format                 string   `json:"format"`
	PreferredSamplingParam any      `json:"preferred_sampling_params"`
	// ChatTemplate is the Jinja source of the chat template the server
	// renders /v1/chat/completions with (our extension: frontends pick
	// their role format from it instead of guessing from the model path).
	ChatTemplate string `json:"chat_template,omitempty"`
}

func (s *Server) modelInfo() ModelInfo {
	in := s.eng.Info()
	return ModelInfo{ModelPath: in.ModelPath, TokenizerPath: in.TokenizerPath, IsGeneration: true,
		ModelType: in.ModelType, Architectures: in.Architectures, ServedModelName: s.opts.ServedModelName,
		WeightVersion: "default", ContextLength: in.ContextLength, VocabSize: in.VocabSize,
		EOSTokenIDs: in.EOS, Format: in.Format, HasImageUnderstanding: in.Vision,
		ChatTemplate: s.chatTemplateSource()}
}

func (s *Server) chatTemplateSource() string {
	if s.opts.ChatTemplate == nil {
		return ""
	}
	return s.opts.ChatTemplate.Source()
}

func (s *Server) handleModelInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.modelInfo())
}

func (s *Server) handleServerInfo(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	for k, v := range s.opts.ServerArgs {
		out[k] = v
	}
	in := s.eng.Info()
	out["model_path"] = in.ModelPath
	out["served_model_name"] = s.opts.ServedModelName
	out["version"] = Version
	out["max_total_num_tokens"] = in.KVTokens
	out["context_length"] = in.ContextLength
	out["threads"] = in.Threads
	out["isa"] = in.ISA
	out["ready"] = s.Ready()
	out["uptime_s"] = time.Since(s.start).Seconds()
	if st, err := s.eng.Stats(r.Context()); err == nil {
		out["internal_states"] = []map[string]any{{
			"num_running_reqs": st.Running, "num_queue_reqs": st.Waiting, "token_usage": st.TokenUsage,
			"kv_used": st.KVUsed, "kv_total": st.KVTotal, "cached_kv": st.CachedKV,
		}}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleFlushCache(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.FlushCache(r.Context()); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(statusOf(err))
		fmt.Fprintf(w, "Cache not flushed. Please check for pending requests. (%v)\n", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)")
}

func (s *Server) handleAbort(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RID      string `json:"rid"`
		AbortAll bool   `json:"abort_all"`
	}
	if err := readJSON(r, &body, "abort_request"); err != nil {
		writeNativeError(w, err)
		return
	}
	if body.RID == "" {
		writeNativeError(w, badRequest("abort_request: rid is required"))
		return
	}
	found, err := s.eng.Abort(r.Context(), body.RID)
	if err != nil {
		writeNativeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rid": body.RID, "aborted": found})
}

// readJSON decodes r's body into v, turning every failure into a 400 (or
// 413 when the body is over the limit).
func readJSON(r *http.Request, v any, what string) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("server: %s: reading the body: %w", what, err)
	}
	if len(data) == 0 {
		return badRequest("%s: empty body", what)
	}
	return decodeStrict(data, v, what)
}

// bodyErr keeps 413 for over-long bodies and makes other read errors 400.
func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		// 413, with the limit named (large inline images hit it first).
		return fmt.Errorf("server: the request body exceeds the %d-byte limit (--max-body-bytes): %w", mbe.Limit, err)
	}
	if errors.Is(err, ErrBadRequest) || errors.Is(err, ErrNotSupported) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadRequest, err)
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	nr, err := ParseGenerate(r.Body)
	if err != nil {
		writeNativeError(w, bodyErr(err))
		return
	}
	release, err := s.admit()
	if err != nil {
		writeNativeError(w, err)
		return
	}
	defer release()
	if nr.Stream {
		s.streamGenerate(w, r, nr)
		return
	}
	outs, err := s.runAll(r.Context(), nr.Reqs)
	if err != nil {
		writeNativeError(w, err)
		return
	}
	if nr.Batch {
		writeJSON(w, http.StatusOK, outs)
		return
	}
	writeJSON(w, http.StatusOK, outs[0])
}

// run generates req to the end, recording metrics. onOut sees every
// output (may be nil).
func (s *Server) run(ctx context.Context, req *srt.GenerateRequest, onOut func(*srt.GenerateOutput) error) (*srt.GenerateOutput, error) {
	t0 := time.Now()
	first := true
	var last *srt.GenerateOutput
	for out, err := range s.eng.Generate(ctx, req) {
		if err != nil {
			return nil, err
		}
		if first && (len(out.OutputIDs) > 0 || out.Finished) {
			s.metrics.ttft.observe(time.Since(t0).Seconds())
			first = false
		}
		last = out
		if onOut != nil {
			if err := onOut(out); err != nil {
				return nil, err
			}
		}
	}
	if last == nil {
		return nil, errors.New("server: the request ended without output")
	}
	s.metrics.e2e.observe(time.Since(t0).Seconds())
	s.metrics.finished(last)
	return last, nil
}

// runAll runs reqs concurrently; the first error cancels the rest.
func (s *Server) runAll(ctx context.Context, reqs []*srt.GenerateRequest) ([]*srt.GenerateOutput, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]*srt.GenerateOutput, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			outs[i], errs[i] = s.run(ctx, req, nil)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// streamEvent is one output of a streamed batch, tagged with its index.
type streamEvent struct {
	index int
	out   *srt.GenerateOutput
	err   error
}

// fanIn runs reqs concurrently and sends every output, tagged, to one
// channel, closed when all end. Cancel ctx to stop them.
func (s *Server) fanIn(ctx context.Context, reqs []*srt.GenerateRequest) <-chan streamEvent {
	ch := make(chan streamEvent)
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			_, err := s.run(ctx, req, func(o *srt.GenerateOutput) error {
				select {
				case ch <- streamEvent{index: i, out: o}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil {
				select {
				case ch <- streamEvent{index: i, err: err}:
				case <-ctx.Done():
				}
			}
		})
	}
	go func() { wg.Wait(); close(ch) }()
	return ch
}

// nativeChunk is a streamed /generate event: cumulative text, plus index for batches.
type nativeChunk struct {
	Text      string       `json:"text"`
	OutputIDs []int32      `json:"output_ids"`
	MetaInfo  srt.MetaInfo `json:"meta_info"`
	Index     *int         `json:"index,omitempty"`
}

func (s *Server) streamGenerate(w http.ResponseWriter, r *http.Request, nr *NativeRequest) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sse := newSSE(w)
	failed := false
	for ev := range s.fanIn(ctx, nr.Reqs) {
		if failed || ctx.Err() != nil {
			continue
		}
		if ev.err != nil {
			failed = true
			sse.sendError(ev.err)
			cancel()
			continue
		}
		c := nativeChunk{Text: ev.out.Text, OutputIDs: ev.out.OutputIDs, MetaInfo: ev.out.MetaInfo}
		if nr.Batch {
			c.Index = &ev.index
		}
		if err := sse.send(c); err != nil {
			cancel() // the client is gone
		}
	}
	if failed || ctx.Err() == nil {
		sse.done()
	}
}

func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model            string            `json:"model"`
		Prompt           json.RawMessage   `json:"prompt"`
		Messages         []json.RawMessage `json:"messages"`
		AddSpecialTokens *bool             `json:"add_special_tokens"`
	}
	if err := readJSON(r, &body, "tokenize"); err != nil {
		writeOpenAIError(w, bodyErr(err))
		return
	}
	if err := s.checkModel(body.Model); err != nil {
		writeOpenAIError(w, err)
		return
	}
	add := body.AddSpecialTokens == nil || *body.AddSpecialTokens
	var text string
	switch {
	case len(body.Messages) > 0:
		msgs, _, err := parseMessages(body.Messages)
		if err != nil {
			writeOpenAIError(w, err)
			return
		}
		text, err = s.renderChat(msgs)
		if err != nil {
			writeOpenAIError(w, err)
			return
		}
		add = body.AddSpecialTokens != nil && *body.AddSpecialTokens
	case !isNull(body.Prompt):
		if err := json.Unmarshal(body.Prompt, &text); err != nil {
			writeOpenAIError(w, badRequest("tokenize: prompt must be a string"))
			return
		}
	default:
		writeOpenAIError(w, badRequest("tokenize: give prompt or messages"))
		return
	}
	ids, err := s.eng.Tokenize(text, add)
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	if ids == nil {
		ids = []int32{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ids, "count": len(ids), "max_model_len": s.eng.Info().ContextLength})
}

func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model  string  `json:"model"`
		Tokens []int32 `json:"tokens"`
	}
	if err := readJSON(r, &body, "detokenize"); err != nil {
		writeOpenAIError(w, bodyErr(err))
		return
	}
	if err := s.checkModel(body.Model); err != nil {
		writeOpenAIError(w, err)
		return
	}
	text, err := s.eng.Detokenize(body.Tokens, true)
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": text})
}
