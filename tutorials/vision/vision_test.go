package vision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/sglang-go/sglang/examples/loopback"
)

// The model of the tutorial; the tests use the loopback server's model.
const visionModel = "Qwen/Qwen2.5-VL-7B-Instruct"

const (
	exampleImageURL = "https://raw.githubusercontent.com/sgl-project/sglang/main/examples/assets/example_image.png"
	logoImageURL    = "https://raw.githubusercontent.com/sgl-project/sglang/main/assets/logo.png"
)

// curlCommand is the tutorial's shell request (README.md shows it);
// curlBody is its JSON body, which TestCurlBody checks and sends.
const curlCommand = `curl -s http://localhost:30000/v1/chat/completions \
  -H "Content-Type: application/json" \
  -d '` + curlBody + `'`

const curlBody = `{
    "model": "Qwen/Qwen2.5-VL-7B-Instruct",
    "messages": [
      {
        "role": "user",
        "content": [
          {"type": "text", "text": "What’s in this image?"},
          {"type": "image_url", "image_url": {"url": "` + exampleImageURL + `"}}
        ]
      }
    ],
    "max_tokens": 300
  }`

// chatRequest is the part of /v1/chat/completions the tutorial uses.
type chatRequest struct {
	Model     string        `json:"model"`
	Messages  []chatMessage `json:"messages"`
	MaxTokens int           `json:"max_tokens"`
}

type chatMessage struct {
	Role    string        `json:"role"`
	Content []contentPart `json:"content"`
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
}

type imageURL struct {
	URL string `json:"url"`
}

// askHTTP sends one image question with net/http (the tutorial's
// "requests" section) and returns the answer.
func askHTTP(ctx context.Context, baseURL, model, question string, images ...string) (string, error) {
	parts := []contentPart{{Type: "text", Text: question}}
	for _, u := range images {
		parts = append(parts, contentPart{Type: "image_url", ImageURL: &imageURL{URL: u}})
	}
	body, err := json.Marshal(chatRequest{Model: model, MaxTokens: 300,
		Messages: []chatMessage{{Role: "user", Content: parts}}})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &httpError{Status: resp.StatusCode, Body: string(raw)}
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", err
	}
	if len(out.Choices) == 0 {
		return "", errors.New("no choices")
	}
	return out.Choices[0].Message.Content, nil
}

type httpError struct {
	Status int
	Body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// askOpenAI sends the same question with the go-openai client (the
// tutorial's "OpenAI Python client" section).
func askOpenAI(ctx context.Context, baseURL, model, question string, images ...string) (string, error) {
	cfg := goopenai.DefaultConfig("None")
	cfg.BaseURL = baseURL + "/v1"
	client := goopenai.NewClientWithConfig(cfg)
	parts := []goopenai.ChatMessagePart{{Type: goopenai.ChatMessagePartTypeText, Text: question}}
	for _, u := range images {
		parts = append(parts, goopenai.ChatMessagePart{Type: goopenai.ChatMessagePartTypeImageURL,
			ImageURL: &goopenai.ChatMessageImageURL{URL: u}})
	}
	resp, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model:     model,
		Messages:  []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, MultiContent: parts}},
		MaxTokens: 300,
	})
	if err != nil {
		return "", err
	}
	return resp.Choices[0].Message.Content, nil
}

// onePixelPNG is a valid 1x1 RGB PNG; tests send it as a data URL (no
// network in CI).
var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" +
	"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")

func dataURL(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// noImageSupport reports whether err is the server saying the model takes
// no images.
func noImageSupport(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "image") && (strings.Contains(msg, "not support") || strings.Contains(msg, "400"))
}

func TestCurlBody(t *testing.T) {
	if !strings.Contains(curlCommand, "/v1/chat/completions") {
		t.Fatal("curl command lost its route")
	}
	var req chatRequest
	if err := json.Unmarshal([]byte(curlBody), &req); err != nil {
		t.Fatalf("curl body is not JSON: %v", err)
	}
	if req.Model != visionModel || len(req.Messages) != 1 || len(req.Messages[0].Content) != 2 ||
		req.Messages[0].Content[1].ImageURL == nil || req.Messages[0].Content[1].ImageURL.URL != exampleImageURL {
		t.Errorf("curl body %+v", req)
	}
}

// TestVisionRequests sends each request of the tutorial to a loopback
// server. stories260K has no vision tower, so the server must refuse the
// image (400) rather than ignore it; on a vision model the answer must be
// non-empty.
func TestVisionRequests(t *testing.T) {
	eng, dir := loopback.Stories(t)
	url := loopback.Serve(t, eng, dir)
	img := dataURL(onePixelPNG)
	ctx := context.Background()
	tests := []struct {
		name string
		ask  func(ctx context.Context, baseURL, model, question string, images ...string) (string, error)
		imgs []string
	}{
		{"net/http", askHTTP, []string{img}},
		{"go-openai", askOpenAI, []string{img}},
		{"multiple images", askOpenAI, []string{img, img}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer, err := tc.ask(ctx, url, loopback.ModelName, "What’s in this image?", tc.imgs...)
			if err != nil {
				if noImageSupport(err) {
					t.Skipf("the server says the model has no image support: %v", err)
				}
				t.Fatal(err)
			}
			if answer == "" {
				t.Error("empty answer")
			}
		})
	}
	// Without an image the same request works on the text model, so the
	// refusal above is about the image.
	cfg := goopenai.DefaultConfig("None")
	cfg.BaseURL = url + "/v1"
	resp, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model: loopback.ModelName, MaxTokens: 8,
		Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "Hello"}},
	})
	if err != nil || len(resp.Choices) != 1 {
		t.Errorf("text-only request: %v", err)
	}
}

// Example_multipleImages is the tutorial's multiple-image request against
// a vision model on port 30000 (compiled, not run: it needs that server).
func Example_multipleImages() {
	answer, err := askOpenAI(context.Background(), "http://localhost:30000", visionModel,
		"I have two very different images. What are they?", exampleImageURL, logoImageURL)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(answer)
}
