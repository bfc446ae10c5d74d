package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/model/hub"
)

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	modelPath := fs.String("model-path", "", "HF model folder, .gguf file, or Hugging Face id")
	prompt := fs.String("prompt", "", "prompt text")
	p := srt.DefaultSamplingParams()
	fs.IntVar(&p.MaxNewTokens, "max-new-tokens", p.MaxNewTokens, "tokens to generate at most")
	fs.IntVar(&p.MinNewTokens, "min-new-tokens", 0, "tokens to generate at least")
	temp := fs.Float64("temperature", 1, "sampling temperature; 0 is greedy")
	topP := fs.Float64("top-p", 1, "nucleus sampling mass")
	fs.IntVar(&p.TopK, "top-k", -1, "sample from the k most likely tokens (-1: all)")
	minP := fs.Float64("min-p", 0, "drop tokens below min-p times the top probability")
	rep := fs.Float64("repetition-penalty", 1, "repetition penalty (1: off)")
	freq := fs.Float64("frequency-penalty", 0, "frequency penalty")
	pres := fs.Float64("presence-penalty", 0, "presence penalty")
	seed := fs.Int64("seed", -1, "sampling seed (-1: random)")
	var stops stringList
	fs.Var(&stops, "stop", "stop string (repeatable)")
	fs.BoolVar(&p.IgnoreEOS, "ignore-eos", false, "keep generating past EOS")
	logprobs := fs.Int("logprobs", -1, "return logprobs of output tokens with this many alternatives (-1: off)")
	asJSON := fs.Bool("json", false, "print the /generate response object")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	ctxLen := fs.Int("context-length", 0, "context length (0: the model's)")
	logLevel := fs.String("log-level", "warning", "log level")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: --model-path is required", errUsage)
	}
	log, err := logger(*logLevel, stderr)
	if err != nil {
		return err
	}
	p.Temperature, p.TopP, p.MinP = float32(*temp), float32(*topP), float32(*minP)
	p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty = float32(*rep), float32(*freq), float32(*pres)
	p.Stop = stops
	if *seed >= 0 {
		s := uint64(*seed)
		p.Seed = &s
	}
	eng, err := srt.NewEngine(ctx, srt.Options{ModelPath: *modelPath, Threads: *threads, ContextLength: *ctxLen,
		Logger: log, Hub: hub.Options{Progress: os.Stderr}})
	if err != nil {
		return err
	}
	defer eng.Close()
	req := &srt.GenerateRequest{Text: *prompt, Sampling: p, LogprobStartLen: -1}
	if *logprobs >= 0 {
		req.ReturnLogprob, req.TopLogprobsNum, req.ReturnTextInLogprobs = true, *logprobs, true
	}
	if *asJSON {
		out, err := eng.GenerateAll(ctx, req)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for out, err := range eng.Generate(ctx, req) {
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, out.Delta)
	}
	fmt.Fprintln(stdout)
	return nil
}
