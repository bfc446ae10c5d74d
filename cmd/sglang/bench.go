package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/sglang-go/sglang/srt"
)

func runBenchOneBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench-one-batch", stderr)
	modelPath := fs.String("model-path", "", "HF model folder, .gguf file, or Hugging Face id")
	var p srt.BenchParams
	fs.IntVar(&p.BatchSize, "batch-size", 1, "sequences in the batch")
	fs.IntVar(&p.InputLen, "input-len", 512, "prompt tokens per sequence")
	fs.IntVar(&p.OutputLen, "output-len", 16, "tokens generated per sequence")
	fs.IntVar(&p.Runs, "runs", 3, "measured runs (after one warm-up); medians are reported")
	fs.IntVar(&p.Images, "images", 0, "random images per sequence, after the text (vision-language models)")
	fs.IntVar(&p.ImageSize, "image-size", 448, "side of the square random images, in pixels")
	seed := fs.Uint64("seed", 0, "seed of the random prompts")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	kvDType := fs.String("kv-cache-dtype", "auto", "KV cache values: auto (f32 for f32 weights, else float16), float32, float16, fp8_e5m2 or fp8_e4m3 (fp8: half of float16's memory and bandwidth, 2 or 3 mantissa bits)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: --model-path is required", errUsage)
	}
	p.Seed = *seed
	log, _ := logger("warning", stderr)
	if p.Images < 0 || p.ImageSize <= 0 {
		return fmt.Errorf("%w: --images must not be negative and --image-size must be positive", errUsage)
	}
	// Room for the images' tokens: smart_resize rounds each side to a
	// multiple of 28, one more at most.
	side := p.ImageSize/28 + 1
	eng, err := srt.NewEngine(ctx, srt.Options{ModelPath: *modelPath, Threads: *threads, Logger: log,
		ContextLength: p.InputLen + p.OutputLen + p.Images*(side*side+2), MaxTotalTokens: 1, KVCacheDType: *kvDType})
	if err != nil {
		return err
	}
	defer eng.Close()
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := eng.BenchOneBatch(ctx, p)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	info := eng.Info()
	fmt.Fprintf(stdout, "model: %s (%s, %s), threads %d, kernels %s\n", info.ModelPath, info.Format, info.Architectures[0], info.Threads, info.ISA)
	fmt.Fprintf(stdout, "batch_size: %d, input_len: %d, output_len: %d, runs: %d (medians)\n", p.BatchSize, p.InputLen, p.OutputLen, len(res.Runs))
	if p.Images > 0 {
		fmt.Fprintf(stdout, "images: %d per sequence of %dx%d, %d prompt tokens for them\n", p.Images, p.ImageSize, p.ImageSize, res.ImageTokens)
		fmt.Fprintf(stdout, "Vision. latency per image: %.5f s\n", res.VisionLatency)
	}
	fmt.Fprintf(stdout, "Prefill. latency: %.5f s, throughput: %9.2f token/s\n", res.PrefillLatency, res.PrefillThroughput)
	fmt.Fprintf(stdout, "Decode.  median latency: %.5f s, median throughput: %9.2f token/s\n", res.DecodeLatency, res.DecodeThroughput)
	fmt.Fprintf(stdout, "Total. latency: %.3f s\n", res.TotalLatency)
	return nil
}

// startCPUProfile writes a CPU profile to path until stop is called; an
// empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
