// Command regular_expression_gen answers with an IP address constrained by
// a regular expression.
package main

import (
	"context"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.RegularExpressionGen.Run(ctx, "What is the IP address of the Google DNS servers?")
		if err != nil {
			return err
		}
		fmt.Println(s.Get("answer"))
		return nil
	})
}
