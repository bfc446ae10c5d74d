// Command tool_use picks a tool with a select and branches on the choice.
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

var question = flag.String("q", "What is 2 * 2?", "the question")

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.ToolUse.Run(ctx, *question)
		if err != nil {
			return err
		}
		fmt.Println("tool:", s.Get("tool"))
		fmt.Println(s.Text())
		return nil
	})
}
