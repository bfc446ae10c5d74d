// Command streaming runs the multi-turn program with Stream and prints the
// text as it is generated.
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
		s, err := programs.MultiTurnQA.Run(ctx, programs.TwoQuestions{
			Q1: "What is the capital of the United States?",
			Q2: "List two local attractions.",
		}, sgl.Stream())
		if err != nil {
			return err
		}
		for piece := range s.TextIter(ctx) {
			fmt.Print(piece)
		}
		fmt.Println()
		return s.Wait(ctx)
	})
}
