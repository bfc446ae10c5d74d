package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sglang-go/sglang/srt/model/testmodel"
)

func runTestModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("testmodel", stderr)
	var o testmodel.Options
	fs.StringVar(&o.Arch, "arch", "llama", "architecture: llama, qwen2, qwen2_vl or qwen2_5_vl")
	fs.IntVar(&o.Hidden, "hidden", 64, "hidden size (qwen2_vl/qwen2_5_vl default 32)")
	fs.IntVar(&o.Layers, "layers", 2, "decoder layers")
	fs.IntVar(&o.Heads, "heads", 4, "attention heads (qwen2_vl/qwen2_5_vl default 2)")
	fs.IntVar(&o.KVHeads, "kv-heads", 0, "KV heads (0: = heads; qwen2_vl/qwen2_5_vl default 1)")
	fs.IntVar(&o.HeadDim, "head-dim", 0, "head dimension (0: hidden/heads)")
	fs.IntVar(&o.Intermediate, "intermediate", 128, "MLP intermediate size (qwen2_vl/qwen2_5_vl default 64)")
	fs.IntVar(&o.Vocab, "vocab", 512, "vocabulary size (qwen2_vl/qwen2_5_vl default 151936, Qwen's)")
	fs.IntVar(&o.ContextLength, "context-length", 4096, "max_position_embeddings (qwen2_vl/qwen2_5_vl default 32768)")
	fs.Float64Var(&o.RopeTheta, "rope-theta", 0, "rope theta (0: 1e4 llama, 1e6 qwen)")
	fs.Float64Var(&o.RMSNormEps, "rms-norm-eps", 1e-6, "RMSNorm epsilon")
	tied := fs.Bool("tie-embeddings", true, "tie the LM head to the embeddings")
	fs.StringVar(&o.DType, "dtype", "f32", "weight type: f32, f16, bf16, q8_0, q4_0 (quantized: gguf only; qwen2_vl/qwen2_5_vl default bf16)")
	fs.StringVar(&o.Format, "format", "hf", "hf (safetensors folder) or gguf (not for vision models)")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed")
	fs.StringVar(&o.Out, "out", "", "output folder")
	fs.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.json to copy into an hf folder, or a GGUF (e.g. llama.cpp's ggml-vocab-*.gguf) whose vocabulary goes into a gguf model (optional; --vocab must match)")
	fs.IntVar(&o.VisionDepth, "vision-depth", 0, "vision blocks (0: 4)")
	fs.IntVar(&o.VisionHidden, "vision-hidden", 0, "vision embed dim (0: 64)")
	fs.IntVar(&o.VisionHeads, "vision-heads", 0, "vision attention heads (0: 4)")
	fs.IntVar(&o.VisionIntermediate, "vision-intermediate", 0, "vision MLP size (0: 128)")
	fs.IntVar(&o.WindowSize, "window-size", 0, "qwen2_5_vl attention window in pixels (0: 112)")
	fullAtt := fs.String("vision-fullatt", "", "qwen2_5_vl full-attention blocks, comma-separated (default: every depth/4-th, at least every 2nd)")
	mrope := fs.String("mrope-section", "", "M-RoPE (t,h,w) frequency split, comma-separated, summing to head_dim/2 (default 1/4, 3/8, 3/8)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.Untied = !*tied
	if o.Arch == "qwen2_vl" || o.Arch == "qwen2_5_vl" {
		// Shape flags left at their text-model defaults take the small
		// vision-language defaults instead.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, p := range map[string]*int{"hidden": &o.Hidden, "heads": &o.Heads, "kv-heads": &o.KVHeads,
			"intermediate": &o.Intermediate, "vocab": &o.Vocab, "context-length": &o.ContextLength} {
			if !set[name] {
				*p = 0
			}
		}
		if !set["dtype"] {
			o.DType = ""
		}
	}
	var err error
	if o.VisionFullAtt, err = intList("vision-fullatt", *fullAtt); err != nil {
		return err
	}
	if o.MRoPESection, err = intList("mrope-section", *mrope); err != nil {
		return err
	}
	if err := testmodel.Write(o); err != nil {
		return err
	}
	if o.DType == "" {
		o.DType = "bf16"
	}
	fmt.Fprintf(stdout, "wrote %s model (%s, %s) to %s\n", o.Arch, o.DType, o.Format, o.Out)
	return nil
}

// intList parses "1,2,3"; "" is nil.
func intList(flagName, s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%w: --%s %q: %v", errUsage, flagName, s, err)
		}
		out = append(out, v)
	}
	return out, nil
}
