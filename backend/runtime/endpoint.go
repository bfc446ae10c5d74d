package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"sync"

	"github.com/sglang-go/sglang/sgl/ir"
)

// Option configures a backend of this package.
type Option func(*options)

type options struct {
	apiKey   string
	client   *http.Client
	template string
}

// WithAPIKey sends "Authorization: Bearer key" (the server's --api-key).
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithChatTemplate names the frontend chat template (see
// ir.LookupChatTemplate) instead of guessing it from the model path.
func WithChatTemplate(name string) Option { return func(o *options) { o.template = name } }

// ModelInfo is the part of /get_model_info the frontend reads.
type ModelInfo struct {
	ModelPath              string `json:"model_path"`
	TokenizerPath          string `json:"tokenizer_path"`
	IsGeneration           bool   `json:"is_generation"`
	HasImageUnderstanding  bool   `json:"has_image_understanding"`
	ModelType              string `json:"model_type"`
	PreferredSamplingParam any    `json:"preferred_sampling_params,omitempty"`
	// ChatTemplate is the Jinja template the server renders chats with
	// (sglang-go's extension; SGLang's servers omit it).
	ChatTemplate string `json:"chat_template,omitempty"`
}

// Client is an sgl backend for a running SGLang-compatible server. It asks
// for /get_model_info on first use (SGLang asks at construction; we wait
// for a context) and keeps the answer.
type Client struct {
	base string
	o    options

	mu   sync.Mutex
	info *ModelInfo
	tmpl *ir.ChatTemplate
}

// Endpoint returns a backend for the server at baseURL (for example
// "http://127.0.0.1:30000"). It does no I/O.
func Endpoint(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/")}
	for _, f := range opts {
		f(&c.o)
	}
	if c.o.client == nil {
		c.o.client = http.DefaultClient
	}
	return c
}

// ModelInfo returns the server's /get_model_info (fetched once).
func (c *Client) ModelInfo(ctx context.Context) (*ModelInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info != nil {
		return c.info, nil
	}
	resp, err := c.do(ctx, http.MethodGet, "/get_model_info", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info ModelInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, fmt.Errorf("%w: /get_model_info: %w", ir.ErrBackend, err)
	}
	c.info = &info
	return c.info, nil
}

// ChatTemplate is the named template, or the one guessed from the server's
// model path, or the one its chat template matches (see pickTemplate).
func (c *Client) ChatTemplate(ctx context.Context) (*ir.ChatTemplate, error) {
	info, err := c.ModelInfo(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tmpl == nil {
		t, err := pickTemplate(c.o.template, info.ModelPath, info.ChatTemplate)
		if err != nil {
			return nil, err
		}
		c.tmpl = t
	}
	return c.tmpl, nil
}

// AcceptsImages: the client forwards images; the server rejects them when
// its model cannot see.
func (c *Client) AcceptsImages() bool { return true }

// Generate sends gen's /generate request.
func (c *Client) Generate(ctx context.Context, req *ir.GenRequest) (*ir.GenResult, error) {
	res, err := c.generate(ctx, genRequest(req))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%w: /generate returned %d results, want 1", ir.ErrBackend, len(res))
	}
	return &ir.GenResult{Text: res[0].Text, Meta: res[0].MetaInfo}, nil
}

// GenerateStream sends gen's request with "stream": true and yields the new
// text of each event (the server sends the whole text so far).
func (c *Client) GenerateStream(ctx context.Context, req *ir.GenRequest) iter.Seq2[ir.StreamChunk, error] {
	return func(yield func(ir.StreamChunk, error) bool) {
		body := genRequest(req)
		body.Stream = true
		resp, err := c.post(ctx, "/generate", body)
		if err != nil {
			yield(ir.StreamChunk{}, err)
			return
		}
		defer resp.Body.Close()
		pos := 0
		for data, err := range sseData(resp.Body) {
			if err != nil {
				yield(ir.StreamChunk{}, fmt.Errorf("%w: stream: %w", ir.ErrBackend, err))
				return
			}
			if data == "[DONE]" {
				return
			}
			var ev struct {
				GenerateResponse
				Error *apiError `json:"error"`
			}
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				yield(ir.StreamChunk{}, fmt.Errorf("%w: stream event: %w", ir.ErrBackend, err))
				return
			}
			if ev.Error != nil {
				yield(ir.StreamChunk{}, fmt.Errorf("%w: %s", ir.ErrBackend, ev.Error.Message))
				return
			}
			piece := ""
			if len(ev.Text) >= pos {
				piece = ev.Text[pos:]
				pos = len(ev.Text)
			}
			if !yield(ir.StreamChunk{Text: piece, Meta: ev.MetaInfo}, nil) {
				return
			}
		}
	}
}

// sseData yields the payload of each "data:" line.
func sseData(r io.Reader) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if s, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data:"); ok {
				if !yield(strings.TrimSpace(s), nil) {
					return
				}
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield("", err)
				return
			}
		}
	}
}

// CachePrefix sends the prompt as a prefill (max_new_tokens 0).
func (c *Client) CachePrefix(ctx context.Context, p *ir.Prompt) error {
	_, err := c.generate(ctx, prefillRequest(p))
	return err
}

// ScoreChoices runs select's requests as SGLang's frontend does, except
// that the unconditional request sets logprob_start_len 0: a server whose
// default (-1) returns no input logprobs would otherwise give none to
// score (our own server does so).
func (c *Client) ScoreChoices(ctx context.Context, p *ir.Prompt, choices []string, uncond bool) (*ir.ChoiceLogprobs, error) {
	return scoreChoices(ctx, c, p, choices, uncond, ptr(0))
}

// FlushCache asks the server to empty its prefix cache.
func (c *Client) FlushCache(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodPost, "/flush_cache", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// generate posts a native request and reads one result or a list.
func (c *Client) generate(ctx context.Context, req *GenerateRequest) ([]GenerateResponse, error) {
	resp, err := c.post(ctx, "/generate", req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: /generate: %w", ir.ErrBackend, err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []GenerateResponse
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("%w: /generate response: %w", ir.ErrBackend, err)
		}
		return list, nil
	}
	var one GenerateResponse
	if err := json.Unmarshal(b, &one); err != nil {
		return nil, fmt.Errorf("%w: /generate response: %w", ir.ErrBackend, err)
	}
	return []GenerateResponse{one}, nil
}

func (c *Client) post(ctx context.Context, path string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding request: %w", ir.ErrInvalid, err)
	}
	return c.do(ctx, http.MethodPost, path, b)
}

type apiError struct {
	Message string `json:"message"`
}

// do sends a request and turns a non-200 answer into an error carrying the
// server's message.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ir.ErrInvalid, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.o.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.apiKey)
	}
	resp, err := c.o.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ir.ErrBackend, method, path, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		var inner apiError
		switch {
		case json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case e.Message != "":
			msg = e.Message
		}
	}
	return nil, fmt.Errorf("%w: %s %s: HTTP %d: %s", ir.ErrBackend, method, path, resp.StatusCode, msg)
}
