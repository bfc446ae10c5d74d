package vision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/sglang-go/sglang/examples/loopback"
	"github.com/sglang-go/sglang/internal/shared"
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

// imageServer serves the tutorial's two images (from ../shared/images)
// on loopback, in place of the GitHub URLs CI cannot reach, and returns
// their URLs.
func imageServer(t *testing.T) (example, logo string) {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(shared.Path(t, "images"))))
	t.Cleanup(srv.Close)
	return srv.URL + "/example_image.png", srv.URL + "/logo.png"
}

// TestVisionRequests sends each request of the tutorial (net/http, the
// OpenAI client, two images in one message, and the curl body) to a
// loopback server on the Qwen2.5-VL test model, with the tutorial's own
// images. The model has random weights, so the answers are only checked
// to exist; the usage shows the images' tokens.
func TestVisionRequests(t *testing.T) {
	eng, dir := loopback.Vision(t)
	url := loopback.ServeNamed(t, eng, dir, loopback.VisionModelName)
	example, logo := imageServer(t)
	ctx := context.Background()
	tests := []struct {
		name string
		ask  func(ctx context.Context, baseURL, model, question string, images ...string) (string, error)
		imgs []string
	}{
		{"net/http", askHTTP, []string{example}},
		{"go-openai", askOpenAI, []string{example}},
		{"multiple images", askOpenAI, []string{example, logo}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer, err := tc.ask(ctx, url, loopback.VisionModelName, "What’s in this image?", tc.imgs...)
			if err != nil {
				t.Fatal(err)
			}
			if answer == "" {
				t.Error("empty answer")
			}
		})
	}
	t.Run("curl body", func(t *testing.T) {
		body := strings.ReplaceAll(curlBody, exampleImageURL, example)
		body = strings.Replace(body, visionModel, loopback.VisionModelName, 1)
		body = strings.Replace(body, `"max_tokens": 300`, `"max_tokens": 8`, 1)
		resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Usage struct {
				PromptTokens int `json:"prompt_tokens"`
			} `json:"usage"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("status %d: %v", resp.StatusCode, err)
		}
		// example_image.png (570x380) becomes 560x392: 20*14 image tokens.
		if out.Usage.PromptTokens < 280 {
			t.Errorf("prompt_tokens %d, want the image's 280 tokens and the text", out.Usage.PromptTokens)
		}
	})
}

// TestTextModelRefusesImages: the same request to a text-only model is a
// 400 saying so, never an answer that ignores the image.
func TestTextModelRefusesImages(t *testing.T) {
	eng, dir := loopback.Stories(t)
	url := loopback.Serve(t, eng, dir)
	example, _ := imageServer(t)
	_, err := askHTTP(context.Background(), url, loopback.ModelName, "What’s in this image?", example)
	var he *httpError
	if !errors.As(err, &he) || he.Status != http.StatusBadRequest || !strings.Contains(he.Body, "does not support images") {
		t.Fatalf("err = %v, want a 400 saying the model does not support images", err)
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
