package model_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// A real image through the processor the folder's preprocessor_config.json
// describes gives one finite feature per <|image_pad|> token the processor
// counts.
func TestEncodeRealImage(t *testing.T) {
	data, err := os.ReadFile(shared.Path(t, "images", "synthetic-lossy-320x240.webp"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.Decode(data, image.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range vlArchs {
		dir := writeVL(t, arch, testmodel.Options{})
		pc, err := image.LoadQwen2VLConfig(filepath.Join(dir, "preprocessor_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		proc, err := image.NewQwen2VL(pc)
		if err != nil {
			t.Fatal(err)
		}
		in, err := proc.Preprocess(img)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := loadVL(t, dir)
		if in.Dim != m.VisionInfo().PatchDim {
			t.Fatalf("processor rows of %d values, model wants %d", in.Dim, m.VisionInfo().PatchDim)
		}
		feats, err := m.EncodeImage(context.Background(), in.PixelValues, in.GridTHW)
		if err != nil {
			t.Fatal(err)
		}
		H := m.Config().Hidden
		if len(feats) != in.NumTokens*H {
			t.Fatalf("%s: %d features for %d image tokens of %d", arch, len(feats), in.NumTokens, H)
		}
		for i, v := range feats {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: feature %d = %v", arch, i, v)
			}
		}
	}
}
