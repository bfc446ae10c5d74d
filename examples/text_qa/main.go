// Command text_qa answers a batch of questions with RunBatch and a
// progress bar.
package main

import (
	"context"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
	"github.com/sglang-go/sglang/sgl"
)

func main() {
	cli.Main(func(ctx context.Context) error {
		questions := []string{
			"What is the capital of the United Kingdom?",
			"What is the capital of France?",
			"What is the capital of Japan?",
		}
		states, err := programs.TextQA.RunBatch(ctx, questions, sgl.ProgressBar(true), sgl.Temperature(0))
		for i, s := range states {
			fmt.Printf("%s\n ->%s\n", questions[i], s.Get("answer"))
		}
		return err
	})
}
