package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sglang-go/sglang/srt/model/testmodel"
)

func runTestModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("testmodel", stderr)
	var o testmodel.Options
	fs.StringVar(&o.Arch, "arch", "llama", "architecture: llama or qwen2")
	fs.IntVar(&o.Hidden, "hidden", 64, "hidden size")
	fs.IntVar(&o.Layers, "layers", 2, "decoder layers")
	fs.IntVar(&o.Heads, "heads", 4, "attention heads")
	fs.IntVar(&o.KVHeads, "kv-heads", 0, "KV heads (0: = heads)")
	fs.IntVar(&o.HeadDim, "head-dim", 0, "head dimension (0: hidden/heads)")
	fs.IntVar(&o.Intermediate, "intermediate", 128, "MLP intermediate size")
	fs.IntVar(&o.Vocab, "vocab", 512, "vocabulary size")
	fs.IntVar(&o.ContextLength, "context-length", 4096, "max_position_embeddings")
	fs.Float64Var(&o.RopeTheta, "rope-theta", 0, "rope theta (0: 1e4 llama, 1e6 qwen2)")
	fs.Float64Var(&o.RMSNormEps, "rms-norm-eps", 1e-6, "RMSNorm epsilon")
	tied := fs.Bool("tie-embeddings", true, "tie the LM head to the embeddings")
	fs.StringVar(&o.DType, "dtype", "f32", "weight type: f32, f16, bf16, q8_0, q4_0 (quantized: gguf only)")
	fs.StringVar(&o.Format, "format", "hf", "hf (safetensors folder) or gguf")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed")
	fs.StringVar(&o.Out, "out", "", "output folder")
	fs.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.json to copy into an hf folder (optional)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.Untied = !*tied
	if err := testmodel.Write(o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s model (%s, %s) to %s\n", o.Arch, o.DType, o.Format, o.Out)
	return nil
}
