package programs_test

import (
	"context"
	"os"
	"testing"

	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/examples/loopback"
	"github.com/sglang-go/sglang/examples/programs"
	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/sgl"
)

// compareImages has two images in one user turn, which SGLang's frontend
// refuses and sgl allows.
var compareImages = sgl.Function(func(s *sgl.State, imgs [2]any) {
	s.User("Here is one picture: ", sgl.Image(imgs[0]), " and another: ", sgl.Image(imgs[1]), " How do they differ?")
	s.Assistant(sgl.Gen("answer", sgl.MaxTokens(8)))
})

// TestImagesOnVisionModel runs image_qa and a two-image program on the
// Qwen2.5-VL test model, in-process and through a live server: the images
// reach the vision tower (the engine counts one tower run per new image),
// and a repeated image comes from the caches.
func TestImagesOnVisionModel(t *testing.T) {
	eng, dir := loopback.Vision(t)
	url := loopback.ServeNamed(t, eng, dir, loopback.VisionModelName)
	example := shared.Path(t, "images", "example_image.png")
	logo, err := os.ReadFile(shared.Path(t, "images", "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	backends := []struct {
		name string
		b    sgl.Backend
	}{
		{"engine", runtime.NewEngine(eng)},
		{"endpoint", runtime.Endpoint(url)},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s, err := programs.ImageQA.Run(ctx, programs.ImageQuestion{Image: example, Question: "What is this?"}, sgl.WithBackend(be.b))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Vars()["answer"]; !ok {
				t.Fatalf("no answer: %v", s.Vars())
			}
			before, err := eng.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s, err = compareImages.Run(ctx, [2]any{example, logo}, sgl.WithBackend(be.b), sgl.Temperature(0))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Vars()["answer"]; !ok {
				t.Fatalf("no answer: %v", s.Vars())
			}
			after, err := eng.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// The example image was seen before (LRU or KV cache); the logo
			// is new on the first backend only.
			if ran := after.VisionEncodes - before.VisionEncodes; ran > 1 {
				t.Errorf("the two-image program ran the vision tower %d times", ran)
			}
			if after.VisionEncodes+after.VisionCacheHits+after.VisionCachedImages < 3 {
				t.Errorf("images did not reach the vision path: %+v", after.Totals)
			}
		})
	}
}
