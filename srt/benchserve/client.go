package benchserve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// infoTimeout bounds the small informational calls (/get_model_info, ...).
const infoTimeout = 10 * time.Second

// maxBody bounds a non-streamed response body.
const maxBody = 64 << 20

// client sends requests to one server.
type client struct {
	cfg   *Config
	hc    *http.Client
	base  string
	model string // OpenAI "model"
}

func newClient(cfg *Config) *client {
	hc := cfg.HTTPClient
	if hc == nil {
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: infoTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: max(cfg.MaxConcurrency, 256),
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		hc = &http.Client{Transport: tr}
	}
	return &client{cfg: cfg, hc: hc, base: cfg.baseURL()}
}

func (c *client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("benchserve: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("benchserve: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// Servers such as llama.cpp's close idle keep-alive connections after a
	// few seconds; a request that meets such a connection is sent again on a
	// new one instead of failing. The empty key marks the request
	// replayable for net/http and is not sent.
	req.Header["X-Idempotency-Key"] = nil
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	return req, nil
}

// call sends a small request and decodes a 200 JSON answer into v (v may be
// a *json.RawMessage).
func (c *client) call(ctx context.Context, method, path string, body, v any) error {
	ctx, cancel := context.WithTimeout(ctx, min(infoTimeout, c.cfg.timeout()))
	defer cancel()
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("benchserve: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("benchserve: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s %s: HTTP %d: %s", errServer, method, path, resp.StatusCode, bodyMessage(data))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("benchserve: %s %s: %w", method, path, err)
	}
	return nil
}

// bodyMessage extracts an error message from an error response body.
func bodyMessage(data []byte) string {
	var obj struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(data, &obj) == nil {
		if msg, ok := errorMessage(obj.Error); ok {
			return msg
		}
		if obj.Message != "" {
			return obj.Message
		}
		if obj.Detail != nil {
			return fmt.Sprint(obj.Detail)
		}
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "(empty body)"
	}
	return truncate(s, 300)
}

// payload builds the request body SGLang's bench sends for backend.
func (c *client) payload(r Request, outLen int) map[string]any {
	cfg := c.cfg
	var p map[string]any
	if cfg.native() {
		ids := r.IDs
		if ids == nil {
			ids = []int32{}
		}
		p = map[string]any{
			"input_ids": ids,
			"sampling_params": map[string]any{
				"temperature":    0.0,
				"max_new_tokens": outLen,
				"ignore_eos":     !cfg.DisableIgnoreEOS,
			},
			"stream":            !cfg.DisableStream,
			"lora_path":         nil,
			"return_logprob":    cfg.ReturnLogprob,
			"logprob_start_len": -1,
		}
	} else {
		p = map[string]any{
			"model":       c.model,
			"prompt":      r.Text,
			"temperature": 0.0,
			"best_of":     1,
			"max_tokens":  outLen,
			"stream":      !cfg.DisableStream,
			"ignore_eos":  !cfg.DisableIgnoreEOS,
		}
		if !cfg.DisableStream {
			p["stream_options"] = map[string]any{"include_usage": true}
		}
	}
	for k, v := range cfg.ExtraRequestBody {
		p[k] = v
	}
	return p
}

func (c *client) path() string {
	if c.cfg.native() {
		return "/generate"
	}
	return "/v1/completions"
}

// send runs one request and measures it. It never returns an error: every
// failure is recorded in the Output.
func (c *client) send(ctx context.Context, r Request, outLen int, benchStart time.Time) Output {
	tr := newTracker(c.cfg.native(), r.PromptLen, outLen)
	rctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	st := time.Now()
	tr.out.Start = st.Sub(benchStart).Seconds()
	fail := func(err error) Output {
		o := Output{PromptLen: r.PromptLen, Start: tr.out.Start, Latency: time.Since(st).Seconds()}
		switch {
		case ctx.Err() != nil:
			o.Error = "canceled: " + ctx.Err().Error()
		case errors.Is(rctx.Err(), context.DeadlineExceeded):
			o.Error = fmt.Sprintf("timed out after %s", c.cfg.timeout())
		default:
			o.Error = err.Error()
		}
		return o
	}
	req, err := c.newRequest(rctx, http.MethodPost, c.path(), c.payload(r, outLen))
	if err != nil {
		return fail(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fail(fmt.Errorf("HTTP %d: %s", resp.StatusCode, bodyMessage(data)))
	}
	if c.cfg.DisableStream {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return fail(err)
		}
		if err := tr.whole(data, time.Since(st).Seconds()); err != nil {
			return fail(err)
		}
		return tr.finish()
	}
	sr := newSSEReader(resp.Body)
	for {
		data, err := sr.next()
		now := time.Since(st).Seconds()
		if errors.Is(err, errSSEDone) {
			tr.line(now)
			drain(resp.Body, cancel)
			return tr.finish()
		}
		if errors.Is(err, io.ErrUnexpectedEOF) && rctx.Err() == nil {
			return fail(errors.New("stream ended before data: [DONE]"))
		}
		if err != nil {
			return fail(err)
		}
		tr.line(now)
		if err := tr.event(data, now); err != nil {
			return fail(err)
		}
	}
}

// drain reads what follows [DONE] (normally just the end of the chunked
// body) so the connection can be reused; a server that keeps the stream open
// is cut off after a moment.
func drain(body io.Reader, cancel context.CancelFunc) {
	t := time.AfterFunc(100*time.Millisecond, cancel)
	defer t.Stop()
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
}
