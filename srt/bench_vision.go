package srt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// benchSeq is one prompt of BenchOneBatch: tokens, and for image prompts
// the preprocessed images, their M-RoPE positions and the decode offset.
type benchSeq struct {
	tokens    []int32
	images    []*image.Qwen2VLInput
	mrope     [][3]int32
	ropeDelta int
}

// benchImages appends p.Images random images to every prompt, as
// <|vision_start|> pads <|vision_end|>, and returns the tokens they add to
// one prompt.
func (e *Engine) benchImages(prompts []benchSeq, p BenchParams, rng *rand.Rand) (int, error) {
	v := e.vision
	if v == nil {
		return 0, fmt.Errorf("%w: --images needs a vision-language model", ErrNoVision)
	}
	size := p.ImageSize
	if size <= 0 {
		size = 448
	}
	added := 0
	for i := range prompts {
		s := &prompts[i]
		n0 := len(s.tokens)
		grids := make([][3]int, p.Images)
		for k := range p.Images {
			rgb := make([]uint8, 3*size*size)
			for j := range rgb {
				rgb[j] = uint8(rng.UintN(256))
			}
			img, err := image.NewRGB(size, size, rgb)
			if err != nil {
				return 0, err
			}
			in, err := v.proc.Preprocess(img)
			if err != nil {
				return 0, err
			}
			s.images = append(s.images, in)
			grids[k] = in.GridTHW
			s.tokens = append(s.tokens, v.info.VisionStart)
			for range in.NumTokens {
				s.tokens = append(s.tokens, v.info.ImageToken)
			}
			s.tokens = append(s.tokens, v.info.VisionEnd)
		}
		var err error
		if s.mrope, s.ropeDelta, err = model.RopeIndex(s.tokens, grids, v.info); err != nil {
			return 0, err
		}
		added = len(s.tokens) - n0
	}
	return added, nil
}

// benchEncode runs the vision tower on every image (timing it into r) and
// returns each prompt's Embeds rows, or nil for text-only prompts.
func (e *Engine) benchEncode(ctx context.Context, prompts []benchSeq, r *BenchRun) ([][][]float32, error) {
	if len(prompts[0].images) == 0 {
		return nil, nil
	}
	H := e.cfg.Hidden
	out := make([][][]float32, len(prompts))
	start, count := time.Now(), 0
	for b, s := range prompts {
		out[b] = make([][]float32, len(s.tokens))
		k := 0
		var feats []float32
		left := 0
		for i, t := range s.tokens {
			if t != e.vision.info.ImageToken {
				continue
			}
			if left == 0 {
				in := s.images[k]
				f, err := e.vision.model.EncodeImage(ctx, in.PixelValues, in.GridTHW)
				if err != nil {
					return nil, err
				}
				feats, left, k = f, in.NumTokens, k+1
				count++
			}
			j := len(feats)/H - left
			out[b][i] = feats[j*H : (j+1)*H]
			left--
		}
	}
	r.VisionLatency = time.Since(start).Seconds() / float64(count)
	return out, nil
}
