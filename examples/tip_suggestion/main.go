// Command tip_suggestion expands tips in parallel forks.
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

var maxTokens = flag.Int("max-tokens", 256, "cap of each expanded tip")

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.TipSuggestion.Run(ctx, programs.TipArgs{MaxTokens: *maxTokens})
		if err != nil {
			return err
		}
		fmt.Println(s.Text())
		return nil
	})
}
