// Command chat_example writes its chat with explicit role begin/end calls.
package main

import (
	"context"
	"os"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.ChatExample.Run(ctx, "What is the capital of France?")
		if err != nil {
			return err
		}
		cli.Messages(os.Stdout, s)
		return nil
	})
}
