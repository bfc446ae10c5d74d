package benchserve

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Failure modes of the fake server, chosen per request by fake.mode.
const (
	modeOK        = ""
	mode500       = "500"
	modeErrEvent  = "error-event"
	modeMalformed = "malformed"
	modeTruncated = "truncated"
	modeAbort     = "abort"
	modeStall     = "stall"
	modeDropConn  = "drop-conn" // close the connection without an answer, as a server closing an idle keep-alive connection
)

// fake is a scripted SGLang server: /generate streams one event per token
// (cumulative text, meta_info with prompt/completion/cached tokens), and
// /v1/completions streams OpenAI chunks plus a usage chunk.
type fake struct {
	vocab      int           // /get_model_info vocab_size (0: absent)
	firstDelay time.Duration // before the first token
	tokenDelay time.Duration // between tokens
	mode       func(n int) string

	mu          sync.Mutex
	n           int
	inflight    int
	maxInflight int
	bodies      []map[string]any
	arrivals    []time.Time
	prompts     [][]int64 // for the fake prefix cache
	detok       int
	flushes     int
	auth        []string
	conns       int // TCP connections opened
}

func newFake(t *testing.T, f *fake) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /get_model_info", func(w http.ResponseWriter, r *http.Request) {
		info := map[string]any{"model_path": "fake"}
		if f.vocab > 0 {
			info["vocab_size"] = f.vocab
		}
		json.NewEncoder(w).Encode(info)
	})
	mux.HandleFunc("GET /get_server_info", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"version":"fake-1"}`)
	})
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake-model","object":"model"}]}`)
	})
	mux.HandleFunc("POST /flush_cache", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.flushes++
		f.prompts = nil
		f.mu.Unlock()
	})
	mux.HandleFunc("POST /v1/detokenize", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Tokens []int64 `json:"tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.mu.Lock()
		f.detok++
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"text": idsText(body.Tokens)})
	})
	mux.HandleFunc("POST /generate", func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, true) })
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, false) })
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func idsText(ids []int64) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "<%d>", id)
	}
	return b.String()
}

// cached returns the longest prefix shared with an earlier prompt and
// remembers this one.
func (f *fake) cached(ids []int64) int {
	best := 0
	for _, p := range f.prompts {
		n := 0
		for n < len(p) && n < len(ids) && p[n] == ids[n] {
			n++
		}
		best = max(best, n)
	}
	f.prompts = append(f.prompts, ids)
	return best
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request, native bool) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, 400)
		return
	}
	f.mu.Lock()
	n := f.n
	f.n++
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.bodies = append(f.bodies, body)
	f.arrivals = append(f.arrivals, time.Now())
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	var ids []int64
	var maxNew int
	var prompt string
	if native {
		for _, v := range body["input_ids"].([]any) {
			ids = append(ids, int64(v.(float64)))
		}
		maxNew = int(body["sampling_params"].(map[string]any)["max_new_tokens"].(float64))
	} else {
		prompt, _ = body["prompt"].(string)
		maxNew = int(body["max_tokens"].(float64))
		ids = make([]int64, strings.Count(prompt, "<"))
	}
	cached := 0
	if native {
		cached = f.cached(ids)
	}
	f.mu.Unlock()
	// leave is called before the last byte is written, so that a client that
	// starts its next request on [DONE] is not counted twice.
	var once sync.Once
	leave := func() {
		once.Do(func() {
			f.mu.Lock()
			f.inflight--
			f.mu.Unlock()
		})
	}
	defer leave()
	mode := modeOK
	if f.mode != nil {
		mode = f.mode(n)
	}
	if mode == modeDropConn {
		leave()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if mode == mode500 {
		leave()
		w.WriteHeader(500)
		fmt.Fprint(w, `{"error":{"message":"fake overload"}}`)
		return
	}
	stream, _ := body["stream"].(bool)
	flusher := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	sleep := func(d time.Duration) bool {
		select {
		case <-time.After(d):
			return true
		case <-r.Context().Done():
			return false
		}
	}
	if mode == modeStall {
		<-r.Context().Done()
		return
	}
	if !sleep(f.firstDelay) {
		return
	}
	if !stream {
		leave()
		text := strings.Repeat("x", maxNew)
		if native {
			json.NewEncoder(w).Encode(map[string]any{"text": text, "meta_info": map[string]any{
				"prompt_tokens": len(ids), "completion_tokens": maxNew, "cached_tokens": cached}})
		} else {
			json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"text": text}},
				"usage": map[string]any{"prompt_tokens": len(ids), "completion_tokens": maxNew}})
		}
		return
	}
	for i := 1; i <= maxNew; i++ {
		if i > 1 && !sleep(f.tokenDelay) {
			return
		}
		switch {
		case mode == modeErrEvent && i == 2:
			fmt.Fprint(w, `data: {"error":{"message":"fake engine error","type":"invalid_request_error","code":400}}`+"\n\n")
			flusher.Flush()
			return
		case mode == modeMalformed && i == 2:
			fmt.Fprint(w, "data: {not json\n\n")
			flusher.Flush()
			return
		case mode == modeTruncated && i == 2:
			return
		}
		if native {
			meta := map[string]any{"prompt_tokens": len(ids), "completion_tokens": i, "cached_tokens": cached}
			if i == maxNew {
				meta["finish_reason"] = map[string]any{"type": "length", "length": maxNew}
				if mode == modeAbort {
					meta["finish_reason"] = map[string]any{"type": "abort", "message": "fake abort"}
				}
			}
			ev, _ := json.Marshal(map[string]any{"text": strings.Repeat("x", i), "output_ids": []int{i}, "meta_info": meta})
			fmt.Fprintf(w, "data: %s\n\n", ev)
		} else {
			ev, _ := json.Marshal(map[string]any{"object": "text_completion", "choices": []any{map[string]any{"index": 0, "text": "x"}}})
			fmt.Fprintf(w, "data: %s\n\n", ev)
		}
		flusher.Flush()
	}
	if !native {
		fmt.Fprintf(w, `data: {"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"prompt_tokens_details":{"cached_tokens":7}}}`+"\n\n", len(ids), maxNew)
	}
	leave()
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}
