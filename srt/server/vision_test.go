package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	vimage "github.com/sglang-go/sglang/srt/vision/image"
)

// The tutorial's two images (example_image.png, 570x380, becomes 560x392:
// 20*14 = 280 image tokens; imageTokens computes the counts).
const (
	exampleImage = "example_image.png"
	logoImage    = "logo.png"
)

// visionServer serves the seeded Qwen2.5-VL test model on loopback, and an
// image host (an httptest server over ../shared/images). allowPrivate lets
// the model server fetch from the loopback image host.
type visionServer struct {
	url, images string // base URLs
	eng         *srt.Engine
	dir         string // model folder
}

func startVision(t *testing.T, allowPrivate bool) *visionServer {
	t.Helper()
	imgDir := shared.Path(t, "images")
	tok := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	dir := filepath.Join(t.TempDir(), "qwen2_5_vl")
	if err := testmodel.Write(testmodel.Options{Arch: "qwen2_5_vl", Out: dir, Seed: 5, DType: "f32", Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: dir, Threads: 2, Logger: log, MaxTotalTokens: 32768,
		MaxImagesPerRequest: 4, Media: vimage.Options{AllowPrivateURLs: allowPrivate, AllowedLocalMediaPaths: []string{imgDir}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	host := httptest.NewServer(http.FileServer(http.Dir(imgDir)))
	t.Cleanup(host.Close)
	url, _ := serveLoopback(t, eng, dir, Options{ServedModelName: "qwen-vl"})
	return &visionServer{url: url, images: host.URL, eng: eng, dir: dir}
}

// imageTokens is the number of image tokens the processor makes for a file.
func imageTokens(t *testing.T, vs *visionServer, name string) int {
	t.Helper()
	cfg, err := vimage.LoadQwen2VLConfig(filepath.Join(vs.dir, "preprocessor_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := vimage.NewQwen2VL(cfg)
	if err != nil {
		t.Fatal(err)
	}
	img, err := vimage.NewLoader(vimage.Options{AllowedLocalMediaPaths: []string{shared.Path(t, "images")}}).Load(context.Background(), shared.Path(t, "images", name))
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.NumTokens(img.H, img.W)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dataURL(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(shared.Path(t, "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

// textTokens is the prompt length of messages with every image placeholder
// counted as one pad (what /v1/tokenize reports).
func textTokens(t *testing.T, base, messages string) int {
	t.Helper()
	st, b := call(t, "POST", base+"/v1/tokenize", `{"messages": `+messages+`}`)
	if st != 200 {
		t.Fatalf("tokenize: %d %s", st, b)
	}
	var out struct{ Count int }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Count
}

func visionMetric(t *testing.T, base, name string) float64 {
	t.Helper()
	_, b := call(t, "GET", base+"/metrics", "")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{[^}]*\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("metric %s missing in:\n%s", name, b)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVisionTutorial sends the requests of SGLang's "OpenAI APIs - Vision"
// page: curl, raw HTTP (the page's Python requests), the OpenAI client, and
// two interleaved images, with images from an HTTP server and data URLs.
func TestVisionTutorial(t *testing.T) {
	vs := startVision(t, true)
	exampleURL := vs.images + "/" + exampleImage
	nEx, nLogo := imageTokens(t, vs, exampleImage), imageTokens(t, vs, logoImage)
	oneImage := fmt.Sprintf(`[{"role": "user", "content": [{"type": "text", "text": "What's in this image?"},
		{"type": "image_url", "image_url": {"url": %q}}]}]`, exampleURL)
	wantPrompt := textTokens(t, vs.url, oneImage) - 1 + nEx

	t.Run("model info", func(t *testing.T) {
		st, b := call(t, "GET", vs.url+"/get_model_info", "")
		if mi := decode[ModelInfo](t, b); st != 200 || !mi.HasImageUnderstanding {
			t.Fatalf("%d %s", st, b)
		}
	})

	t.Run("raw HTTP and the KV cache", func(t *testing.T) {
		body := `{"model": "qwen-vl", "messages": ` + oneImage + `, "max_tokens": 8, "temperature": 0}`
		before := visionMetric(t, vs.url, "sglang:vision_encodes_total")
		st, b := call(t, "POST", vs.url+"/v1/chat/completions", body)
		cc := decode[ChatCompletion](t, b)
		if st != 200 || cc.Usage.PromptTokens != wantPrompt || len(cc.Choices) != 1 {
			t.Fatalf("%d %s (want prompt_tokens %d = text + %d image tokens)", st, b, wantPrompt, nEx)
		}
		encodes := visionMetric(t, vs.url, "sglang:vision_encodes_total")
		if encodes != before+1 {
			t.Fatalf("vision encodes %v -> %v, want one more", before, encodes)
		}
		st, b = call(t, "POST", vs.url+"/v1/chat/completions", body)
		again := decode[ChatCompletion](t, b)
		if st != 200 || again.Usage.PromptTokensDetails.CachedTokens < wantPrompt-1 {
			t.Fatalf("repeat: %d %s (want cached_tokens >= %d)", st, b, wantPrompt-1)
		}
		if a, b := again.Choices[0].Message.Content, cc.Choices[0].Message.Content; a == nil || b == nil || *a != *b {
			t.Errorf("repeat answered %v, first %v", a, b)
		}
		if got := visionMetric(t, vs.url, "sglang:vision_encodes_total"); got != encodes {
			t.Errorf("the repeat ran the vision tower (%v -> %v encodes)", encodes, got)
		}
		if got := visionMetric(t, vs.url, "sglang:vision_cached_images_total"); got < 1 {
			t.Errorf("vision_cached_images_total %v after a repeat", got)
		}
	})

	t.Run("curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl not installed")
		}
		body := `{"model": "qwen-vl", "messages": ` + oneImage + `, "max_tokens": 8}`
		out, err := exec.Command(curl, "-s", vs.url+"/v1/chat/completions", "-H", "Content-Type: application/json",
			"-H", "Authorization: Bearer None", "-d", body).Output()
		if err != nil {
			t.Fatal(err)
		}
		cc := decode[ChatCompletion](t, out)
		if cc.Object != "chat.completion" || cc.Usage.PromptTokens != wantPrompt {
			t.Fatalf("%s", out)
		}
	})

	t.Run("native generate with image_data", func(t *testing.T) {
		prompt := "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe it.<|im_end|>\n<|im_start|>assistant\n"
		body, _ := json.Marshal(map[string]any{"text": prompt, "image_data": exampleURL,
			"sampling_params": map[string]any{"max_new_tokens": 4, "temperature": 0}})
		st, b := call(t, "POST", vs.url+"/generate", string(body))
		var out srt.GenerateOutput
		if err := json.Unmarshal(b, &out); st != 200 || err != nil {
			t.Fatalf("%d %s", st, b)
		}
		ids, err := vs.eng.Tokenize(prompt, true)
		if err != nil {
			t.Fatal(err)
		}
		if out.MetaInfo.PromptTokens != len(ids)-1+nEx {
			t.Fatalf("prompt_tokens %d, want %d", out.MetaInfo.PromptTokens, len(ids)-1+nEx)
		}
	})

	c := newClient(vs.url, "None")
	ctx := context.Background()
	twoImages := []openai.ChatMessagePart{
		{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: exampleURL}},
		{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: dataURL(t, logoImage)}},
		{Type: openai.ChatMessagePartTypeText, Text: "I have two very different images. They are not related at all. " +
			"Please describe the first image in one sentence, and then describe the second image in another sentence."},
	}
	twoJSON, _ := json.Marshal([]openai.ChatCompletionMessage{{Role: "user", MultiContent: twoImages}})
	wantTwo := textTokens(t, vs.url, string(twoJSON)) - 2 + nEx + nLogo

	t.Run("go-openai", func(t *testing.T) {
		resp, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "qwen-vl", MaxTokens: 8,
			Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: []openai.ChatMessagePart{
				{Type: openai.ChatMessagePartTypeText, Text: "What's in this image?"},
				{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: exampleURL, Detail: openai.ImageURLDetailAuto}},
			}}}})
		if err != nil || resp.Usage.PromptTokens != wantPrompt {
			t.Fatalf("%v %+v", err, resp.Usage)
		}
	})

	t.Run("go-openai two interleaved images", func(t *testing.T) {
		resp, err := c.CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: "qwen-vl", MaxTokens: 8,
			Messages: []openai.ChatCompletionMessage{{Role: "user", MultiContent: twoImages}}})
		if err != nil || resp.Usage.PromptTokens != wantTwo {
			t.Fatalf("%v %+v (want %d prompt tokens)", err, resp.Usage, wantTwo)
		}
	})

	t.Run("go-openai streamed", func(t *testing.T) {
		st, err := c.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{Model: "qwen-vl", MaxTokens: 8, Stream: true,
			StreamOptions: &openai.StreamOptions{IncludeUsage: true},
			Messages:      []openai.ChatCompletionMessage{{Role: "user", MultiContent: twoImages}}})
		if err != nil {
			t.Fatal(err)
		}
		text, _, _, usage := readChatStream(t, st)
		if text == "" {
			t.Error("the stream carried no text")
		}
		if usage == nil || usage.PromptTokens != wantTwo || usage.CompletionTokens == 0 {
			t.Fatalf("usage %+v, want %d prompt tokens", usage, wantTwo)
		}
	})

	t.Run("openai npm", func(t *testing.T) {
		node, npmDir := npmClient(t)
		cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(cctx, node, "--test", "--test-reporter=spec", "vision.test.mjs")
		cmd.Dir = npmDir
		// The data URL is too long for an environment variable: pass a file.
		second := filepath.Join(t.TempDir(), "image2.txt")
		if err := os.WriteFile(second, []byte(dataURL(t, logoImage)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(os.Environ(), "SGLANG_VISION_BASE_URL="+vs.url+"/v1", "SGLANG_VISION_MODEL=qwen-vl",
			"SGLANG_VISION_IMAGE_URL="+exampleURL, "SGLANG_VISION_IMAGE2_DATA_URL_FILE="+second,
			"SGLANG_VISION_PROMPT_TOKENS="+strconv.Itoa(wantPrompt), "SGLANG_VISION_TWO_PROMPT_TOKENS="+strconv.Itoa(wantTwo), "NO_COLOR=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("node --test vision.test.mjs: %v\n%s", err, out)
		}
	})
}

// npmClient finds node and the installed openai package, or skips.
func npmClient(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the openai npm client test")
	}
	dir, err = filepath.Abs(filepath.Join("testdata", "npm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("the openai npm package is not installed (run `npm ci` in %s): %v", dir, err)
	}
	return node, dir
}

// hugePNG is a valid PNG header claiming w x h pixels (no pixel data).
func hugePNG(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// TestVisionBadImages: every bad image is a 400 naming the problem, and the
// server keeps serving.
func TestVisionBadImages(t *testing.T) {
	vs := startVision(t, true)
	strict := startVision(t, false) // the default: no private addresses
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	chat := func(url string) string {
		return fmt.Sprintf(`{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": %q}},
			{"type": "text", "text": "What is it?"}]}], "max_tokens": 2}`, url)
	}
	outside := filepath.Join(t.TempDir(), "secret.png")
	if err := os.WriteFile(outside, hugePNG(2, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("A", 50<<20)
	tests := []struct {
		name   string
		base   string
		body   string
		status int
		msg    string
	}{
		{"corrupt bytes", vs.url, chat("data:image/png;base64," + b64([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDRbroken"))), 400, "corrupt"},
		{"unsupported format", vs.url, chat("data:image/bmp;base64," + b64(append([]byte("BM"), make([]byte, 64)...))), 400, "unsupported image format"},
		{"too many pixels", vs.url, chat("data:image/png;base64," + b64(hugePNG(20000, 20000))), 400, "too large"},
		{"unreachable URL", vs.url, chat("http://127.0.0.1:1/x.png"), 400, "fetch failed"},
		{"404", vs.url, chat(vs.images + "/missing.png"), 400, "404"},
		{"private address", strict.url, chat(strict.images + "/" + exampleImage), 400, "forbidden network address"},
		{"path outside the allowed directory", vs.url, chat(outside), 400, "not allowed"},
		{"file URL outside", vs.url, chat("file:///etc/hostname"), 400, "not allowed"},
		{"not base64", vs.url, chat("data:image/png;base64,@@@"), 400, "invalid image source"},
		{"too many images", vs.url, `{"messages": [{"role": "user", "content": [` + strings.Repeat(`{"type": "image_url", "image_url": {"url": "`+vs.images+"/"+exampleImage+`"}},`, 5) +
			`{"type": "text", "text": "?"}]}]}`, 400, "at most 4"},
		{"empty url", vs.url, chat(""), 400, "image_url.url is required"},
		{"generate corrupt image_data", vs.url, `{"text": "<|vision_start|><|image_pad|><|vision_end|>", "image_data": "` + b64([]byte("GIF89a-nope")) + `"}`, 400, "corrupt"},
		{"50 MB body", vs.url, chat("data:image/png;base64," + big), 413, "byte limit (--max-body-bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/chat/completions"
			if strings.HasPrefix(tc.name, "generate") {
				path = "/generate"
			}
			st, b := call(t, "POST", tc.base+path, tc.body)
			t.Logf("%d %.200s", st, b)
			if st != tc.status || !strings.Contains(strings.ToLower(string(b)), strings.ToLower(tc.msg)) {
				t.Fatalf("status %d body %.300s; want %d mentioning %q", st, b, tc.status, tc.msg)
			}
		})
	}
	// Both servers still answer.
	for _, base := range []string{vs.url, strict.url} {
		if st, b := call(t, "POST", base+"/v1/chat/completions", chat(dataURL(t, exampleImage))); st != 200 {
			t.Fatalf("after bad images: %d %s", st, b)
		}
	}
	// A text-only model refuses images in both APIs.
	ts, _, _ := testServer(t, Options{})
	if st, b := call(t, "POST", ts.URL+"/v1/chat/completions", chat(dataURL(t, exampleImage))); st != 400 || !strings.Contains(string(b), "does not support images") {
		t.Fatalf("text-only chat with an image: %d %s", st, b)
	}
	if st, b := call(t, "POST", ts.URL+"/generate", `{"text": "Once", "image_data": "`+dataURL(t, exampleImage)+`"}`); st != 400 || !strings.Contains(string(b), "does not support images") {
		t.Fatalf("text-only generate with an image: %d %s", st, b)
	}
}

// The built-in --chat-template qwen2-vl renders image messages exactly as
// the model folder's Qwen2-VL template does.
func TestQwen2VLTemplates(t *testing.T) {
	tok := shared.Path(t, "tokenizers", "qwen3", "tokenizer.json")
	dir := filepath.Join(t.TempDir(), "vl")
	if err := testmodel.Write(testmodel.Options{Arch: "qwen2_vl", Out: dir, Seed: 1, Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	own, err := LoadChatConfig(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := LoadChatConfig(dir, "qwen2-vl", "")
	if err != nil {
		t.Fatal(err)
	}
	raw := []json.RawMessage{
		json.RawMessage(`{"role": "user", "content": [{"type": "text", "text": "Compare "}, {"type": "image_url", "image_url": {"url": "a"}},
			{"type": "text", "text": " and "}, {"type": "image_url", "image_url": {"url": "b"}}]}`),
		json.RawMessage(`{"role": "assistant", "content": "They differ."}`),
		json.RawMessage(`{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "c"}}, {"type": "text", "text": "And this?"}]}`),
	}
	msgs, images, err := parseMessages(raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(images, ",") != "a,b,c" {
		t.Fatalf("images %q", images)
	}
	a, err := RenderChat(own, msgs, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderChat(builtin, msgs, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("model template:\n%q\nbuilt-in qwen2-vl:\n%q", a, b)
	}
	if n := strings.Count(a, "<|vision_start|><|image_pad|><|vision_end|>"); n != 3 {
		t.Errorf("%d image placeholders in %q", n, a)
	}
}
