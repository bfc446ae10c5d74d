package srt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// Images. A vision-language model (model.VisionModel: Qwen2-VL, Qwen2.5-VL)
// takes GenerateRequest.ImageData. On the caller's goroutine, before the
// request reaches the scheduler, each image is loaded (Options.Media says
// which sources are allowed), preprocessed as the model folder's
// preprocessor_config.json says, and its placeholder in the prompt is
// expanded: every run of <|image_pad|> tokens stands for the next image, and
// a run of one becomes one pad per merged patch, (h/28)*(w/28) for a
// resized h x w image (a run already that long is kept as it is). The
// prompt's M-RoPE positions come from model.RopeIndex.
//
// In the scheduler, the radix key of every pad position carries the image's
// pixel hash, so equal images share KV and different images never do. The
// vision tower runs only when a prefill step needs rows of an image that the
// cache did not hold, and its outputs are kept in a small LRU keyed by the
// same hash; Totals counts tower runs, LRU hits and images served wholly
// from the KV cache.

// DefaultMaxImagesPerRequest is the image limit when
// Options.MaxImagesPerRequest is 0.
const DefaultMaxImagesPerRequest = 16

// defaultVisionCacheBytes bounds the vision-output LRU when
// Options.VisionCacheBytes is 0.
const defaultVisionCacheBytes = 256 << 20

// Image errors, checked with errors.Is. Both also match ErrInvalidRequest,
// and an ErrImage error also matches the image package's sentinel
// (image.ErrCorrupt, image.ErrFetch, ...) that names the problem.
var (
	ErrNoVision = errors.New("srt: the model does not support images")
	ErrImage    = errors.New("srt: bad image")
)

// imageError is image i's load or preprocessing failure.
type imageError struct {
	i   int
	err error
}

func (e *imageError) Error() string { return fmt.Sprintf("srt: image %d: %v", e.i, e.err) }
func (e *imageError) Unwrap() error { return e.err }
func (e *imageError) Is(target error) bool {
	return target == ErrImage || target == ErrInvalidRequest
}

// noVisionError is ErrNoVision that also matches ErrInvalidRequest.
type noVisionError struct{}

func (noVisionError) Error() string { return ErrNoVision.Error() }
func (noVisionError) Is(target error) bool {
	return target == ErrNoVision || target == ErrInvalidRequest
}

// vision is what an engine with a vision-language model needs for images.
type vision struct {
	model     model.VisionModel
	info      model.VisionInfo
	proc      *image.Qwen2VL
	loader    *image.Loader
	maxImages int
}

// loadVision sets up image inputs when the loaded model is a VisionModel.
func (e *Engine) loadVision(dir string) error {
	vm, ok := e.model.(model.VisionModel)
	if !ok {
		return nil
	}
	cfg := image.DefaultQwen2VLConfig()
	if p := filepath.Join(dir, "preprocessor_config.json"); fileExists(p) {
		c, err := image.LoadQwen2VLConfig(p)
		if err != nil {
			return fmt.Errorf("srt: %w", err)
		}
		cfg = c
	}
	proc, err := image.NewQwen2VL(cfg)
	if err != nil {
		return fmt.Errorf("srt: %w", err)
	}
	info := vm.VisionInfo()
	if f := cfg.PatchSize * cfg.MergeSize; f != info.PatchSize*info.MergeSize {
		return fmt.Errorf("srt: preprocessor patch %d x merge %d does not match the vision tower's %d x %d",
			cfg.PatchSize, cfg.MergeSize, info.PatchSize, info.MergeSize)
	}
	maxImages := e.opts.MaxImagesPerRequest
	if maxImages <= 0 {
		maxImages = DefaultMaxImagesPerRequest
	}
	e.vision = &vision{model: vm, info: info, proc: proc, loader: image.NewLoader(e.opts.Media), maxImages: maxImages}
	e.info.Vision = true
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// seqImage is one image of a request.
type seqImage struct {
	hash  uint64 // pixel hash: the radix extra key of the image's positions
	input *image.Qwen2VLInput
	start int       // index in ids of the first pad
	feats []float32 // vision-tower output while the prompt prefills, [NumTokens][Hidden]
}

// prepareImages loads s's images and expands the prompt's placeholders.
func (e *Engine) prepareImages(ctx context.Context, s *seq) error {
	srcs := s.req.ImageData
	if len(srcs) == 0 {
		return nil
	}
	v := e.vision
	if v == nil {
		return noVisionError{}
	}
	if len(srcs) > v.maxImages {
		return fmt.Errorf("%w: %d images; at most %d per request (--max-images-per-request)", ErrInvalidRequest, len(srcs), v.maxImages)
	}
	s.images = make([]seqImage, len(srcs))
	for i, src := range srcs {
		img, err := v.loader.Load(ctx, src)
		if err != nil {
			return &imageError{i, err}
		}
		in, err := v.proc.Preprocess(img)
		if err != nil {
			return &imageError{i, err}
		}
		h := binary.LittleEndian.Uint64(img.Hash[:8])
		if h == 0 {
			h = 1 // 0 means "no image" in a radix key
		}
		s.images[i] = seqImage{hash: h, input: in}
	}
	ids, err := expandImagePads(s.ids, s.images, v.info.ImageToken)
	if err != nil {
		return err
	}
	s.ids = ids
	grids := make([][3]int, len(s.images))
	for i, im := range s.images {
		grids[i] = im.input.GridTHW
	}
	s.mrope, s.ropeDelta, err = model.RopeIndex(s.ids, grids, v.info)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	s.extras = make([]uint64, len(s.ids))
	for _, im := range s.images {
		for k := range im.input.NumTokens {
			s.extras[im.start+k] = im.hash
		}
	}
	return nil
}

// expandImagePads replaces each run of pad tokens in ids by
// images[i].input.NumTokens pads (the i-th run stands for the i-th image) and
// records where each image starts.
func expandImagePads(ids []int32, images []seqImage, pad int32) ([]int32, error) {
	out := make([]int32, 0, len(ids))
	k := 0
	for i := 0; i < len(ids); {
		if ids[i] != pad {
			out = append(out, ids[i])
			i++
			continue
		}
		j := i
		for j < len(ids) && ids[j] == pad {
			j++
		}
		if k >= len(images) {
			return nil, fmt.Errorf("%w: the prompt has more image placeholders than the %d images given", ErrInvalidRequest, len(images))
		}
		n := images[k].input.NumTokens
		if run := j - i; run != 1 && run != n {
			return nil, fmt.Errorf("%w: image %d's placeholder has %d pad tokens; want 1 or %d", ErrInvalidRequest, k, run, n)
		}
		images[k].start = len(out)
		for range n {
			out = append(out, pad)
		}
		k++
		i = j
	}
	if k != len(images) {
		return nil, fmt.Errorf("%w: %d images but %d image placeholders in the prompt (the chat template's <|vision_start|><|image_pad|><|vision_end|>)",
			ErrInvalidRequest, len(images), k)
	}
	return out, nil
}

// pos3 is the M-RoPE position of s's token at index p.
func (s *seq) pos3(p int) [3]int32 {
	if p < len(s.mrope) {
		return s.mrope[p]
	}
	q := int32(p + s.ropeDelta)
	return [3]int32{q, q, q}
}

// imageAt returns the image whose pads cover index p, and the pad's index
// within it, or nil.
func (s *seq) imageAt(p int) (*seqImage, int) {
	for i := range s.images {
		im := &s.images[i]
		if p >= im.start && p < im.start+im.input.NumTokens {
			return im, p - im.start
		}
	}
	return nil, 0
}

// embedAt is the input embedding override of s's row p (nil: the token's).
func (s *seq) embedAt(p int, hidden int) []float32 {
	im, k := s.imageAt(p)
	if im == nil || im.feats == nil {
		return nil
	}
	return im.feats[k*hidden : (k+1)*hidden]
}

// visionCache is an LRU of vision-tower outputs keyed by image hash, bounded
// in bytes. The scheduler goroutine owns it.
type visionCache struct {
	max, size int
	entries   map[uint64]*visionEntry
	clock     uint64
}

type visionEntry struct {
	feats []float32
	used  uint64
}

func newVisionCache(maxBytes int) *visionCache {
	if maxBytes <= 0 {
		maxBytes = defaultVisionCacheBytes
	}
	return &visionCache{max: maxBytes, entries: map[uint64]*visionEntry{}}
}

func (c *visionCache) get(h uint64) []float32 {
	en := c.entries[h]
	if en == nil {
		return nil
	}
	c.clock++
	en.used = c.clock
	return en.feats
}

func (c *visionCache) put(h uint64, feats []float32) {
	size := 4 * len(feats)
	if size > c.max || c.entries[h] != nil {
		return
	}
	for c.size+size > c.max {
		var oldest uint64
		var old *visionEntry
		for k, en := range c.entries {
			if old == nil || en.used < old.used {
				oldest, old = k, en
			}
		}
		delete(c.entries, oldest)
		c.size -= 4 * len(old.feats)
	}
	c.clock++
	c.entries[h] = &visionEntry{feats: feats, used: c.clock}
	c.size += size
}

// ensureImages gives s's images that overlap rows [from, to) their
// vision-tower features, from the LRU or by running the tower.
func (sc *scheduler) ensureImages(s *seq, from, to int) error {
	v := sc.e.vision
	for i := range s.images {
		im := &s.images[i]
		if im.feats != nil || im.start >= to || im.start+im.input.NumTokens <= from {
			continue
		}
		if f := sc.vcache.get(im.hash); f != nil {
			im.feats = f
			sc.totals.VisionCacheHits++
			continue
		}
		f, err := v.model.EncodeImage(s.ctx, im.input.PixelValues, im.input.GridTHW)
		if err != nil {
			return fmt.Errorf("srt: vision tower: %w", err)
		}
		sc.totals.VisionEncodes++
		sc.vcache.put(im.hash, f)
		im.feats = f
	}
	return nil
}

// countCachedImages records, at admission, the images whose every pad came
// from the radix cache (the vision tower is skipped for them).
func (sc *scheduler) countCachedImages(s *seq) {
	for i := range s.images {
		im := &s.images[i]
		if im.start+im.input.NumTokens <= s.treeLen {
			sc.totals.VisionCachedImages++
		}
	}
}

// dropImageFeatures releases s's features once its prompt is in the KV cache.
func (s *seq) dropImageFeatures() {
	for i := range s.images {
		s.images[i].feats = nil
	}
}
