// Command character_gen fills a JSON character sheet constrained by a
// regular expression and decodes it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
	"github.com/sglang-go/sglang/sgl"
)

var name = flag.String("name", "Hermione Granger", "the character")

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.CharacterGen.Run(ctx, *name, sgl.Temperature(0))
		if err != nil {
			return err
		}
		var c programs.Character
		if err := json.Unmarshal([]byte(s.Get("json_output")), &c); err != nil {
			return fmt.Errorf("character_gen: output is not the JSON asked for: %w", err)
		}
		fmt.Printf("%+v\n", c)
		return nil
	})
}
