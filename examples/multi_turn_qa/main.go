// Command multi_turn_qa asks two questions in two chat turns.
package main

import (
	"context"
	"os"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.MultiTurnQA.Run(ctx, programs.TwoQuestions{
			Q1: "What is the capital of the United States?",
			Q2: "List two local attractions.",
		})
		if err != nil {
			return err
		}
		cli.Messages(os.Stdout, s)
		return nil
	})
}
