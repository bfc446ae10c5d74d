package chat

import (
	"sync"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func TestConcurrentRender(t *testing.T) {
	tm, err := FromModelDir(shared.Path(t, "tokenizers", "qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := tenTurns()
	want, err := tm.Render(msgs, Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Go(func() {
			for range 20 {
				got, err := tm.Render(msgs, Options{AddGenerationPrompt: true})
				if err != nil || got != want {
					errs <- "concurrent render differs"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
