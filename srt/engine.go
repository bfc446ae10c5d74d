// Package srt is the serving runtime's engine: it loads a model and its
// tokenizer, and runs generation requests through one scheduler goroutine
// that batches every running sequence into each forward step.
//
// Generate streams a request's outputs; cancelling its context frees its KV
// slots at the next step. The engine joins the stages (tokenizer, model,
// sampler, detokenizer); the model knows nothing of scheduling.
//
// Constrained decoding: a request's regex, JSON schema or choices compile
// (through a per-engine LRU, before the request reaches the scheduler, so
// that a bad pattern is an ErrInvalidRequest naming where and why) into a
// constrain.Matcher. Each step masks the logits row to the tokens the
// grammar allows; EOS is allowed only where the output fully matches, and
// once nothing else can follow, EOS is appended without a forward step
// (finish reason "stop", matched = that EOS id). Text the grammar forces
// (e.g. `{"name": "`) becomes the tokenizer's own tokens for it,
// re-tokenized together with the last few output tokens so that boundaries
// come out as the tokenizer draws them. Jump-forward (on unless
// Options.DisableJumpForward) prefills those tokens as one chunk;
// MetaInfo.JumpForwardTokens counts them. With it off they are fed one
// forward step each, like decoded tokens, so both modes give the same tokens
// and, at temperature 0, byte-identical text; jump-forward only saves the
// steps. Requests asking for logprobs decode every token with the plain
// mask instead (the model picks its own split of forced text).
package srt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/gguf"
	"github.com/sglang-go/sglang/srt/model/hub"
	"github.com/sglang-go/sglang/srt/tensor"
	"github.com/sglang-go/sglang/srt/tokenizer"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// Options configure an Engine. Zero values pick defaults.
type Options struct {
	ModelPath string // HF folder, .gguf file, or a Hugging Face id to download
	Threads   int    // kernel threads; 0 = all cores
	// ContextLength caps a sequence's tokens; 0 = the model's own.
	ContextLength int
	// MaxTotalTokens is the KV pool size in tokens; 0 = sized automatically.
	MaxTotalTokens int
	// MaxRunningRequests caps the decode batch; 0 = 256.
	MaxRunningRequests int
	// ChunkedPrefillSize caps the prompt tokens of one prefill step; 0 = 2048.
	ChunkedPrefillSize int
	// SchedulePolicy orders waiting requests: "lpm" (longest cached prefix
	// first, the default) or "fcfs".
	SchedulePolicy string
	// KVCacheDType is the KV cache's value type, as SGLang's
	// --kv-cache-dtype: "auto" (the default: f32 for f32 weights, else f16),
	// "float32", "float16" (also "f32", "f16"), "fp8_e5m2" or "fp8_e4m3"
	// (1 byte per value: twice the tokens in the same memory and half the
	// attention bandwidth of f16; e5m2 keeps 2 mantissa bits and f16's
	// range, e4m3 3 bits and saturates at +-448).
	KVCacheDType string
	// DisableRadixCache turns prefix reuse across requests off.
	DisableRadixCache bool
	// DisableJumpForward makes constrained requests feed the tokens of text
	// their grammar forces one forward step each instead of prefilling them
	// in one chunk (the output is the same).
	DisableJumpForward bool
	// Media says where images may come from (allowed local directories,
	// private addresses) and bounds their size.
	Media image.Options
	// MaxImagesPerRequest caps GenerateRequest.ImageData; 0 =
	// DefaultMaxImagesPerRequest.
	MaxImagesPerRequest int
	// VisionCacheBytes bounds the LRU of vision-tower outputs; 0 = 256 MiB.
	VisionCacheBytes int
	// Hub configures downloads of Hugging Face ids.
	Hub    hub.Options
	Logger *slog.Logger
}

// Errors callers can check with errors.Is.
var (
	ErrInvalidRequest = errors.New("srt: invalid request")
	ErrContextLength  = errors.New("srt: prompt exceeds the context length")
	ErrClosed         = errors.New("srt: engine closed")
	ErrNoTokenizer    = errors.New("srt: model has no tokenizer")
	ErrBusy           = errors.New("srt: requests are running")
)

// ModelInfo describes the loaded model.
type ModelInfo struct {
	ModelPath     string   `json:"model_path"`
	TokenizerPath string   `json:"tokenizer_path"`
	Format        string   `json:"format"` // "hf" or "gguf"
	Architectures []string `json:"architectures"`
	ModelType     string   `json:"model_type"`
	ContextLength int      `json:"context_length"`
	VocabSize     int      `json:"vocab_size"`
	EOS           []int32  `json:"eos_token_ids"`
	WeightBytes   int64    `json:"weight_bytes"`
	KVTokens      int      `json:"max_total_num_tokens"`
	Threads       int      `json:"threads"`
	ISA           string   `json:"isa"`
	KVCacheDType  string   `json:"kv_cache_dtype"`
	// Vision reports a model that understands images (GenerateRequest.ImageData).
	Vision bool `json:"has_image_understanding"`
}

// Engine runs generation requests against one model.
type Engine struct {
	opts  Options
	log   *slog.Logger
	cpu   *tensor.CPU
	model model.Model
	tok   *tokenizer.Tokenizer // nil when the model folder has none
	// ggufChatTemplate is a GGUF file's tokenizer.chat_template.
	ggufChatTemplate string
	cfg              *model.Config
	info             ModelInfo
	kvDType          tensor.DType

	submit    chan *seq
	ctrl      chan func(*scheduler)
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	sched     *scheduler
	cons      constrainer
	vision    *vision // nil for text-only models
}

// NewEngine loads the model at opts.ModelPath and starts the scheduler.
func NewEngine(ctx context.Context, opts Options) (*Engine, error) {
	switch opts.SchedulePolicy {
	case "":
		opts.SchedulePolicy = "lpm"
	case "lpm", "fcfs":
	default:
		return nil, fmt.Errorf("%w: schedule policy %q (lpm, fcfs)", ErrInvalidRequest, opts.SchedulePolicy)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	path, err := hub.Resolve(ctx, opts.ModelPath, opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("srt: %w", err)
	}
	cpu := tensor.NewCPU(tensor.Options{Threads: opts.Threads})
	e := &Engine{opts: opts, log: log, cpu: cpu}
	if err := e.load(path); err != nil {
		cpu.Close()
		return nil, err
	}
	e.cfg = e.model.Config()
	if e.kvDType, err = kvCacheDType(opts.KVCacheDType, e.model); err != nil {
		e.model.Close()
		cpu.Close()
		return nil, err
	}
	e.info.KVCacheDType = kvCacheNames[e.kvDType]
	ctxLen := e.cfg.ContextLength
	if opts.ContextLength > 0 {
		ctxLen = opts.ContextLength
	}
	if ctxLen <= 0 {
		ctxLen = 4096
	}
	e.cfg.ContextLength = ctxLen
	kvTokens := opts.MaxTotalTokens
	if kvTokens <= 0 {
		// 2 GiB of KV by default, at least one full context, at most 32 contexts.
		kvTokens = min(max((2<<30)/e.cfg.BytesPerSlot(e.kvDType), ctxLen), 32*ctxLen)
	}
	e.info.ContextLength, e.info.KVTokens = ctxLen, kvTokens
	e.info.Threads, e.info.ISA = cpu.Threads(), cpu.ISA()
	e.info.VocabSize, e.info.EOS = e.cfg.Vocab, e.cfg.EOS
	e.info.Architectures, e.info.ModelType = []string{e.cfg.Architecture}, e.cfg.ModelType
	e.submit = make(chan *seq)
	e.ctrl = make(chan func(*scheduler))
	e.stop = make(chan struct{})
	e.done = make(chan struct{})
	e.sched = newScheduler(e, kvTokens)
	go e.sched.run()
	log.Info("model loaded", "path", path, "format", e.info.Format, "arch", e.cfg.Architecture,
		"layers", e.cfg.Layers, "hidden", e.cfg.Hidden, "context", ctxLen, "kv_tokens", kvTokens,
		"threads", cpu.Threads(), "isa", cpu.ISA())
	return e, nil
}

func (e *Engine) load(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("srt: model path: %w", err)
	}
	e.info.ModelPath = path
	ggufPath := ""
	switch {
	case !st.IsDir() && strings.HasSuffix(strings.ToLower(path), ".gguf"):
		ggufPath = path
	case !st.IsDir():
		return fmt.Errorf("srt: %s is neither a model folder nor a .gguf file", path)
	default:
		if _, err := os.Stat(filepath.Join(path, "config.json")); err != nil {
			matches, _ := filepath.Glob(filepath.Join(path, "*.gguf"))
			if len(matches) != 1 {
				return fmt.Errorf("srt: %s has no config.json and not exactly one .gguf file", path)
			}
			ggufPath = matches[0]
		}
	}
	if ggufPath != "" {
		f, err := gguf.Open(ggufPath)
		if err != nil {
			return fmt.Errorf("srt: %w", err)
		}
		m, err := model.LoadGGUF(f, e.cpu)
		if err != nil {
			f.Close()
			return fmt.Errorf("srt: %w", err)
		}
		e.model, e.info.Format, e.info.TokenizerPath = m, "gguf", ggufPath
		if v, err := tokenizer.VocabFromGGUF(f); err == nil {
			if e.tok, err = tokenizer.FromGGUF(v); err != nil {
				return fmt.Errorf("srt: GGUF vocabulary: %w", err)
			}
		}
		e.ggufChatTemplate, _ = f.String("tokenizer.chat_template")
		e.info.WeightBytes = fileSize(ggufPath)
		return nil
	}
	m, err := model.LoadHF(path, e.cpu)
	if err != nil {
		return fmt.Errorf("srt: %w", err)
	}
	e.model, e.info.Format = m, "hf"
	if err := e.loadVision(path); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(path, "tokenizer.json")); err == nil {
		if e.tok, err = tokenizer.FromDir(path); err != nil {
			return fmt.Errorf("srt: tokenizer: %w", err)
		}
		e.info.TokenizerPath = path
	}
	matches, _ := filepath.Glob(filepath.Join(path, "*.safetensors"))
	for _, p := range matches {
		e.info.WeightBytes += fileSize(p)
	}
	return nil
}

// kvCacheNames are the KV cache types' names, as SGLang's --kv-cache-dtype
// spells them (and as Info reports them).
var kvCacheNames = map[tensor.DType]string{tensor.F32: "float32", tensor.F16: "float16", tensor.E5M2: "fp8_e5m2", tensor.E4M3: "fp8_e4m3"}

// kvCacheDType resolves Options.KVCacheDType for m.
func kvCacheDType(name string, m model.Model) (tensor.DType, error) {
	switch name = strings.ToLower(name); name {
	case "", "auto":
		if w, ok := m.(interface{ WeightDType() tensor.DType }); ok && w.WeightDType() == tensor.F32 {
			return tensor.F32, nil
		}
		return tensor.F16, nil
	case "f32", "fp32":
		return tensor.F32, nil
	case "f16", "fp16", "half":
		return tensor.F16, nil
	}
	for t, n := range kvCacheNames {
		if n == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: kv cache dtype %q (auto, float32, float16, fp8_e5m2, fp8_e4m3)", ErrInvalidRequest, name)
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// Info describes the loaded model.
func (e *Engine) Info() ModelInfo { return e.info }

// Config is the model's shape (read-only).
func (e *Engine) Config() *model.Config { return e.cfg }

// GGUFChatTemplate is the chat template stored in a GGUF model's metadata
// (tokenizer.chat_template), or "" for other formats.
func (e *Engine) GGUFChatTemplate() string { return e.ggufChatTemplate }

// Tokenizer is the model's tokenizer, or nil when it has none.
func (e *Engine) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// Tokenize encodes text with the model's tokenizer.
func (e *Engine) Tokenize(text string, addSpecial bool) ([]int32, error) {
	if e.tok == nil {
		return nil, ErrNoTokenizer
	}
	return e.tok.Encode(text, addSpecial), nil
}

// Detokenize decodes ids with the model's tokenizer.
func (e *Engine) Detokenize(ids []int32, skipSpecial bool) (string, error) {
	if e.tok == nil {
		return "", ErrNoTokenizer
	}
	for _, id := range ids {
		if id < 0 || int(id) >= e.tok.VocabSize() {
			return "", fmt.Errorf("%w: token id %d outside the vocabulary of %d", ErrInvalidRequest, id, e.tok.VocabSize())
		}
	}
	return e.tok.Decode(ids, skipSpecial), nil
}

// Stats is a snapshot of the scheduler's state.
type Stats struct {
	Running, Waiting int     // sequences decoding, and waiting for (more) prefill
	KVUsed, KVTotal  int     // KV slots in use (by requests or the cache), and the pool's capacity
	CachedKV         int     // slots the radix cache holds
	TokenUsage       float64 // slots held by requests / capacity
	Totals
}

// Totals are counters since the engine started.
type Totals struct {
	Requests, Finished, Retracted int
	PromptTokens                  int // prompt tokens computed (not cached)
	CachedTokens                  int // prompt tokens reused from the cache
	GenerationTokens              int
	JumpForwardTokens             int // output tokens appended by jump-forward
	ForwardSteps                  int // model forward passes
	VisionEncodes                 int // images run through the vision tower
	VisionCacheHits               int // images whose tower output came from the LRU
	VisionCachedImages            int // images whose every token came from the KV cache
}

// control runs f on the scheduler goroutine and waits for it.
func (e *Engine) control(ctx context.Context, f func(*scheduler)) error {
	done := make(chan struct{})
	select {
	case e.ctrl <- func(sc *scheduler) { f(sc); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return ErrClosed
	}
	<-done
	return nil
}

// Stats asks the scheduler for its state.
func (e *Engine) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := e.control(ctx, func(sc *scheduler) {
		total, _, _ := sc.tree.Size()
		st = Stats{Running: len(sc.running), Waiting: len(sc.waiting), KVUsed: sc.pool.Used(),
			KVTotal: sc.pool.Capacity(), CachedKV: total, TokenUsage: sc.usage(), Totals: sc.totals}
	})
	return st, err
}

// FlushCache empties the radix cache. It fails with ErrBusy while requests
// run or wait, as SGLang's /flush_cache does.
func (e *Engine) FlushCache(ctx context.Context) error {
	var err error
	if cerr := e.control(ctx, func(sc *scheduler) {
		if len(sc.running)+len(sc.waiting) > 0 {
			err = fmt.Errorf("%w: %d running, %d waiting", ErrBusy, len(sc.running), len(sc.waiting))
			return
		}
		err = sc.tree.Reset()
	}); cerr != nil {
		return cerr
	}
	return err
}

// Abort ends the request with the given rid (finish reason "abort"). It
// reports whether such a request was running or waiting.
func (e *Engine) Abort(ctx context.Context, rid string) (bool, error) {
	var found bool
	err := e.control(ctx, func(sc *scheduler) { found = sc.abort(rid) })
	return found, err
}

// Close stops the scheduler, aborting running requests, and releases the
// model.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.stop)
		<-e.done
		err = e.model.Close()
		e.cpu.Close()
	})
	return err
}
