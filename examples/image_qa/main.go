// Command image_qa asks a question about an image (the model must be a
// vision model).
package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/sglang-go/sglang/examples/internal/cli"
	"github.com/sglang-go/sglang/examples/programs"
)

var (
	image    = flag.String("image", "https://github.com/sgl-project/sglang/blob/main/test/lang/example_image.png?raw=true", "image path or URL")
	question = flag.String("q", "What is this?", "the question")
)

func main() {
	cli.Main(func(ctx context.Context) error {
		s, err := programs.ImageQA.Run(ctx, programs.ImageQuestion{Image: *image, Question: *question})
		if err != nil {
			return err
		}
		fmt.Println(s.Get("answer"))
		return nil
	})
}
