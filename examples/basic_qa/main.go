// Command basic_qa asks one question in a single chat turn.
//
//	go run ./examples/basic_qa --backend http://127.0.0.1:30000
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
	"github.com/sglang-go/sglang/sgl"
)

var question = flag.String("q", "What is the capital of the United States?", "the question")

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.BasicQA.Run(ctx, *question, sgl.Temperature(0))
		if err != nil {
			return err
		}
		fmt.Println(s.Get("answer"))
		return nil
	})
}
