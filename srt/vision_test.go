package srt

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	"github.com/sglang-go/sglang/srt/sample"
	"github.com/sglang-go/sglang/srt/tensor"
	"github.com/sglang-go/sglang/srt/vision/image"
)

// vlModel writes the default seeded Qwen2.5-VL (or Qwen2-VL) test model with
// the real Qwen tokenizer.
func vlModel(t testing.TB, arch string) string {
	t.Helper()
	tok := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	out := filepath.Join(t.TempDir(), arch)
	if err := testmodel.Write(testmodel.Options{Arch: arch, Out: out, Seed: 11, DType: "f32", Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	return out
}

func vlEngine(t testing.TB, dir string, o Options) *Engine {
	t.Helper()
	o.ModelPath, o.Threads = dir, 2
	if o.MaxTotalTokens == 0 {
		o.MaxTotalTokens = 16384
	}
	o.Media.AllowedLocalMediaPaths = append(o.Media.AllowedLocalMediaPaths, shared.Path(t, "images"))
	return engineAt(t, o)
}

const visionPrompt = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What's in this image?<|im_end|>\n<|im_start|>assistant\n"

func imageReq(prompt string, n int, images ...string) *GenerateRequest {
	return &GenerateRequest{Text: prompt, ImageData: images, Sampling: greedyParams(n), ReturnLogprob: true, LogprobStartLen: -1}
}

func TestVisionPromptTokensAndCache(t *testing.T) {
	dir := vlModel(t, "qwen2_5_vl")
	eng := vlEngine(t, dir, Options{})
	if !eng.Info().Vision {
		t.Fatal("Info().Vision is false for a Qwen2.5-VL model")
	}
	img := shared.Path(t, "images", "example_image.png") // 570x380 -> 560x392
	textOnly, err := eng.Tokenize(strings.Replace(visionPrompt, "<|image_pad|>", "", 1), true)
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt := len(textOnly) + (392/28)*(560/28)

	first, err := eng.GenerateAll(context.Background(), imageReq(visionPrompt, 6, img))
	if err != nil {
		t.Fatal(err)
	}
	if first.MetaInfo.PromptTokens != wantPrompt {
		t.Errorf("prompt_tokens %d, want %d (text + 20*14 image tokens)", first.MetaInfo.PromptTokens, wantPrompt)
	}
	if first.MetaInfo.CachedTokens != 0 {
		t.Errorf("first request cached %d tokens", first.MetaInfo.CachedTokens)
	}
	t1 := totalsOf(t, eng)
	if t1.VisionEncodes != 1 {
		t.Errorf("vision encodes %d after the first request, want 1", t1.VisionEncodes)
	}

	// The same image again: its tokens come from the KV cache and the tower
	// does not run.
	second, err := eng.GenerateAll(context.Background(), imageReq(visionPrompt, 6, img))
	if err != nil {
		t.Fatal(err)
	}
	if second.MetaInfo.CachedTokens < wantPrompt-1 {
		t.Errorf("second request cached %d tokens, want >= %d", second.MetaInfo.CachedTokens, wantPrompt-1)
	}
	if !slices.Equal(first.OutputIDs, second.OutputIDs) {
		t.Errorf("cached run gave %v, first run %v", second.OutputIDs, first.OutputIDs)
	}
	t2 := totalsOf(t, eng)
	if t2.VisionEncodes != 1 || t2.VisionCachedImages != 1 {
		t.Errorf("after the repeat: encodes %d (want 1), images served from the KV cache %d (want 1)", t2.VisionEncodes, t2.VisionCachedImages)
	}

	// Another image with the same placeholder tokens shares only the text
	// before it.
	other := shared.Path(t, "images", "llamacpp-mtmd-test-1.jpeg")
	third, err := eng.GenerateAll(context.Background(), imageReq(visionPrompt, 6, other))
	if err != nil {
		t.Fatal(err)
	}
	if start := strings.Index(visionPrompt, "<|image_pad|>"); third.MetaInfo.CachedTokens > start {
		t.Errorf("a different image reused %d cached tokens; the pads start within the first %d", third.MetaInfo.CachedTokens, start)
	}
	if lp1, lp3 := first.MetaInfo.OutputTokenLogprobs[0].Logprob, third.MetaInfo.OutputTokenLogprobs[0].Logprob; lp1 == lp3 {
		t.Errorf("two different images gave the same first logprob %v", lp1)
	}
}

// Chunked prefill that cuts through an image, the radix cache off, and the
// image given as a data URL or raw base64 all give the same tokens.
func TestVisionConsistency(t *testing.T) {
	dir := vlModel(t, "qwen2_vl")
	path := shared.Path(t, "images", "llamacpp-mtmd-test-1.jpeg")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	two := "<|vision_start|><|image_pad|><|vision_end|>first, then<|vision_start|><|image_pad|><|vision_end|> second:"
	small := shared.Path(t, "images", "synthetic-gray-64x48.png")

	ref := vlEngine(t, dir, Options{})
	want, err := ref.GenerateAll(context.Background(), imageReq(two, 8, path, small))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts Options
		imgs []string
	}{
		{"chunked prefill 37", Options{ChunkedPrefillSize: 37}, []string{path, small}},
		{"radix cache off", Options{DisableRadixCache: true}, []string{path, small}},
		{"data URL and base64", Options{}, []string{"data:image/jpeg;base64," + b64, small}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng := vlEngine(t, dir, tc.opts)
			got, err := eng.GenerateAll(context.Background(), imageReq(two, 8, tc.imgs...))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.OutputIDs, want.OutputIDs) || got.MetaInfo.PromptTokens != want.MetaInfo.PromptTokens {
				t.Errorf("got %v (%d prompt tokens), want %v (%d)", got.OutputIDs, got.MetaInfo.PromptTokens, want.OutputIDs, want.MetaInfo.PromptTokens)
			}
		})
	}
	// Swapping the two images changes the answer's logprobs.
	swapped, err := ref.GenerateAll(context.Background(), imageReq(two, 8, small, path))
	if err != nil {
		t.Fatal(err)
	}
	if swapped.MetaInfo.OutputTokenLogprobs[0].Logprob == want.MetaInfo.OutputTokenLogprobs[0].Logprob {
		t.Error("swapping the images did not change the first logprob")
	}
}

func TestVisionBadRequests(t *testing.T) {
	dir := vlModel(t, "qwen2_5_vl")
	eng := vlEngine(t, dir, Options{MaxImagesPerRequest: 2})
	img := shared.Path(t, "images", "example_image.png")
	corrupt := "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nnot really"))
	outside := filepath.Join(t.TempDir(), "x.png")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		req    *GenerateRequest
		want   error
		detail error
	}{
		{"too many images", imageReq(visionPrompt, 2, img, img, img), ErrInvalidRequest, nil},
		{"fewer placeholders than images", imageReq(visionPrompt, 2, img, img), ErrInvalidRequest, nil},
		{"more placeholders than images", imageReq(visionPrompt+visionPrompt, 2, img), ErrInvalidRequest, nil},
		{"no placeholder", imageReq("Describe it.", 2, img), ErrInvalidRequest, nil},
		{"corrupt bytes", imageReq(visionPrompt, 2, corrupt), ErrImage, image.ErrCorrupt},
		{"not an image", imageReq(visionPrompt, 2, base64.StdEncoding.EncodeToString([]byte("hello world, plain text"))), ErrImage, image.ErrUnsupportedFormat},
		{"path outside the allowed directory", imageReq(visionPrompt, 2, outside), ErrImage, image.ErrNotAllowedPath},
		{"private address", imageReq(visionPrompt, 2, "http://127.0.0.1:1/x.png"), ErrImage, image.ErrForbiddenAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eng.GenerateAll(context.Background(), tc.req)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want %v (and ErrInvalidRequest)", err, tc.want)
			}
			if tc.detail != nil && !errors.Is(err, tc.detail) {
				t.Fatalf("err = %v, want it to wrap %v", err, tc.detail)
			}
		})
	}
	// The engine still serves.
	if _, err := eng.GenerateAll(context.Background(), imageReq(visionPrompt, 2, img)); err != nil {
		t.Fatalf("after bad requests: %v", err)
	}
	st, err := eng.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Running+st.Waiting != 0 {
		t.Errorf("%d running, %d waiting after all requests ended", st.Running, st.Waiting)
	}

	// A text-only model refuses images.
	text := storiesEngine(t, "stories260K-f32.gguf")
	if text.Info().Vision {
		t.Error("stories260K reports image understanding")
	}
	_, err = text.GenerateAll(context.Background(), imageReq("Once", 2, img))
	if !errors.Is(err, ErrNoVision) || !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("text-only model with an image: err = %v, want ErrNoVision", err)
	}
}

func TestExpandImagePads(t *testing.T) {
	const pad = 9
	imgs := func(n ...int) []seqImage {
		out := make([]seqImage, len(n))
		for i, k := range n {
			out[i].input = &image.Qwen2VLInput{NumTokens: k}
		}
		return out
	}
	tests := []struct {
		name   string
		ids    []int32
		images []seqImage
		want   []int32
		starts []int
		err    bool
	}{
		{"one pad each", []int32{1, pad, 2, pad, 3}, imgs(2, 3), []int32{1, pad, pad, 2, pad, pad, pad, 3}, []int{1, 4}, false},
		{"already expanded", []int32{pad, pad, pad, 4}, imgs(3), []int32{pad, pad, pad, 4}, []int{0}, false},
		{"wrong run length", []int32{pad, pad, 4}, imgs(3), nil, nil, true},
		{"missing placeholder", []int32{1, pad}, imgs(1, 1), nil, nil, true},
		{"extra placeholder", []int32{pad, 1, pad}, imgs(1), nil, nil, true},
	}
	for _, tc := range tests {
		got, err := expandImagePads(tc.ids, tc.images, pad)
		if (err != nil) != tc.err {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		for i, s := range tc.starts {
			if tc.images[i].start != s {
				t.Errorf("%s: image %d starts at %d, want %d", tc.name, i, tc.images[i].start, s)
			}
		}
	}
}

func TestVisionCacheLRU(t *testing.T) {
	c := newVisionCache(40) // room for ten floats
	c.put(1, make([]float32, 4))
	c.put(2, make([]float32, 4))
	if c.get(1) == nil { // 1 is now the most recent
		t.Fatal("entry 1 missing")
	}
	c.put(3, make([]float32, 4)) // evicts 2
	if c.get(2) != nil || c.get(1) == nil || c.get(3) == nil {
		t.Errorf("LRU kept the wrong entries: 1:%v 2:%v 3:%v", c.get(1) != nil, c.get(2) != nil, c.get(3) != nil)
	}
	c.put(4, make([]float32, 20)) // larger than the cache: not kept
	if c.get(4) != nil || c.size > c.max {
		t.Errorf("oversized entry kept, size %d of %d", c.size, c.max)
	}
}

// The engine's first token and its logprob equal a forward pass built by
// hand from the model API: the processor's pixels, the tower's features at
// the pad rows, and RopeIndex positions.
func TestVisionMatchesDirectForward(t *testing.T) {
	dir := vlModel(t, "qwen2_5_vl")
	eng := vlEngine(t, dir, Options{})
	path := shared.Path(t, "images", "example_image.png")
	got, err := eng.GenerateAll(context.Background(), imageReq(visionPrompt, 1, path))
	if err != nil {
		t.Fatal(err)
	}

	vm := eng.model.(model.VisionModel)
	info := vm.VisionInfo()
	img, err := image.NewLoader(image.Options{AllowedLocalMediaPaths: []string{filepath.Dir(path)}}).Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := image.LoadQwen2VLConfig(filepath.Join(dir, "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	proc, err := image.NewQwen2VL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := proc.Preprocess(img)
	if err != nil {
		t.Fatal(err)
	}
	feats, err := vm.EncodeImage(context.Background(), in.PixelValues, in.GridTHW)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int32
	for _, id := range eng.tok.Encode(visionPrompt, true) {
		if id != info.ImageToken {
			ids = append(ids, id)
			continue
		}
		for range in.NumTokens {
			ids = append(ids, id)
		}
	}
	pos, _, err := model.RopeIndex(ids, [][3]int{in.GridTHW}, info)
	if err != nil {
		t.Fatal(err)
	}
	H, n := eng.cfg.Hidden, len(ids)
	b := &model.Batch{Tokens: ids, MRoPE: pos, Embeds: make([][]float32, n), Logits: []int{n - 1}}
	for i, k := 0, 0; i < n; i++ {
		b.Positions = append(b.Positions, int32(i))
		b.Slots = append(b.Slots, int32(i))
		b.Context = append(b.Context, b.Slots[:i+1:i+1])
		if ids[i] == info.ImageToken {
			b.Embeds[i] = feats[k*H : (k+1)*H]
			k++
		}
	}
	logits := make([]float32, eng.cfg.Vocab)
	if err := vm.Forward(context.Background(), b, model.NewKVCache(eng.cfg, n, tensor.F32), logits); err != nil {
		t.Fatal(err)
	}
	want := int32(slices.Index(logits, slices.Max(logits)))
	if got.OutputIDs[0] != want {
		t.Fatalf("engine's first token %d, direct forward's argmax %d", got.OutputIDs[0], want)
	}
	if d := got.MetaInfo.OutputTokenLogprobs[0].Logprob - sample.Logprob(logits, want); d > 1e-4 || d < -1e-4 {
		t.Errorf("engine logprob differs from the direct forward's by %g", d)
	}
}
