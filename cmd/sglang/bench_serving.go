package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sglang-go/sglang/srt/benchserve"
	"github.com/sglang-go/sglang/srt/model/gguf"
	"github.com/sglang-go/sglang/srt/tokenizer"
)

// secondsFlag accepts a Go duration ("90s", "5m") or plain seconds ("90").
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f secondsFlag) Set(s string) error {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return errors.New("must be > 0")
		}
		*f.d = time.Duration(v * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return errors.New("want seconds or a duration like 90s")
	}
	*f.d = d
	return nil
}

func runBenchServing(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench-serving", stderr)
	cfg := benchserve.DefaultConfig()
	d := &cfg.Dataset
	fs.StringVar(&cfg.Backend, "backend", cfg.Backend, "sglang (native /generate), sglang-native, or sglang-oai (/v1/completions)")
	baseURL := fs.String("base-url", "", "server URL (default http://<host>:<port>)")
	host := fs.String("host", "127.0.0.1", "server host, when --base-url is not set")
	port := fs.Int("port", 30000, "server port, when --base-url is not set")
	fs.StringVar(&cfg.APIKey, "api-key", "", "API key, sent as a Bearer token")
	fs.StringVar(&cfg.Model, "model", "", "model name of OpenAI requests (default: the server's /v1/models)")
	tokPath := fs.String("tokenizer", "", "tokenizer.json or a GGUF file whose vocabulary turns prompt ids into text for sglang-oai (default: the server's /v1/detokenize)")
	fs.StringVar(&d.Name, "dataset-name", d.Name, "random or generated-shared-prefix")
	fs.IntVar(&cfg.NumPrompts, "num-prompts", cfg.NumPrompts, "number of prompts (random dataset)")
	fs.IntVar(&d.RandomInputLen, "random-input-len", d.RandomInputLen, "input tokens per request (random dataset)")
	fs.IntVar(&d.RandomOutputLen, "random-output-len", d.RandomOutputLen, "output tokens per request (random dataset)")
	fs.Float64Var(&d.RandomRangeRatio, "random-range-ratio", d.RandomRangeRatio, "lengths are drawn from [len*ratio, len]; 1 makes them fixed")
	fs.IntVar(&d.GSPNumGroups, "gsp-num-groups", d.GSPNumGroups, "system-prompt groups (generated-shared-prefix)")
	fs.IntVar(&d.GSPPromptsPerGroup, "gsp-prompts-per-group", d.GSPPromptsPerGroup, "questions per group (generated-shared-prefix)")
	fs.IntVar(&d.GSPSystemPromptLen, "gsp-system-prompt-len", d.GSPSystemPromptLen, "system prompt tokens (generated-shared-prefix)")
	fs.IntVar(&d.GSPQuestionLen, "gsp-question-len", d.GSPQuestionLen, "question tokens (generated-shared-prefix)")
	fs.IntVar(&d.GSPOutputLen, "gsp-output-len", d.GSPOutputLen, "output tokens (generated-shared-prefix)")
	fs.Float64Var(&d.GSPRangeRatio, "gsp-range-ratio", d.GSPRangeRatio, "length range ratio (generated-shared-prefix)")
	fs.Float64Var(&cfg.RequestRate, "request-rate", cfg.RequestRate, "requests per second (Poisson arrivals); inf sends all at once")
	fs.IntVar(&cfg.MaxConcurrency, "max-concurrency", 0, "most requests in flight (0: not set)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the prompts and arrivals")
	fs.BoolVar(&cfg.DisableIgnoreEOS, "disable-ignore-eos", false, "let requests stop at EOS (default: ignore_eos, exact output lengths)")
	fs.BoolVar(&cfg.DisableStream, "disable-stream", false, "send non-streaming requests (TTFT = latency)")
	fs.BoolVar(&cfg.ReturnLogprob, "return-logprob", false, "ask the native backend for logprobs")
	extra := fs.String("extra-request-body", "", "JSON object merged into every request body")
	fs.IntVar(&cfg.WarmupRequests, "warmup-requests", cfg.WarmupRequests, "warm-up requests before the run")
	fs.BoolVar(&cfg.FlushCache, "flush-cache", false, "POST /flush_cache after the warm-up")
	fs.Var(secondsFlag{&cfg.Timeout}, "timeout", "per-request time limit, seconds or a duration (default 30m)")
	fs.IntVar(&cfg.VocabSize, "vocab-size", 0, "prompt ids are drawn below this (default: the server's vocab_size, else 500)")
	fs.IntVar(&cfg.MinTokenID, "min-token-id", cfg.MinTokenID, "smallest prompt id (skips unk/bos/eos)")
	fs.StringVar(&cfg.Tag, "tag", "", "tag copied into the result")
	outFile := fs.String("output-file", "", "append the result as a JSON line to this file")
	details := fs.Bool("output-details", false, "add per-request lists to the JSON result")
	asJSON := fs.Bool("json", false, "print the result object as JSON instead of the report")
	fs.Bool("disable-tqdm", false, "accepted for compatibility (there is no progress bar)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.BaseURL = *baseURL
	if cfg.BaseURL == "" {
		cfg.BaseURL = fmt.Sprintf("http://%s:%d", *host, *port)
	}
	if *extra != "" {
		if err := json.Unmarshal([]byte(*extra), &cfg.ExtraRequestBody); err != nil || cfg.ExtraRequestBody == nil {
			return fmt.Errorf("%w: --extra-request-body must be a JSON object", errUsage)
		}
	}
	if *tokPath != "" {
		tok, err := loadTokenizer(*tokPath)
		if err != nil {
			return err
		}
		cfg.Tokenizer = tok
	}
	cfg.Log = stderr
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	res, _, err := benchserve.Run(ctx, cfg, *details)
	if err != nil {
		if errors.Is(err, benchserve.ErrConfig) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	if *outFile != "" {
		if err := appendJSONLine(*outFile, res); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if err := res.WriteReport(stdout); err != nil {
		return err
	}
	if res.Completed == 0 {
		return fmt.Errorf("all %d requests failed", res.Failed)
	}
	return nil
}

func appendJSONLine(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadTokenizer reads a tokenizer.json, or the vocabulary of a GGUF file
// (a model or one of llama.cpp's vocab-only files).
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".gguf") {
		return tokenizer.FromFile(path)
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := tokenizer.VocabFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tokenizer.FromGGUF(v)
}
