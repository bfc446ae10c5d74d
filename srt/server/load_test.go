package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The bounded load test: 2,000 requests at 64 concurrent against a real
// server on a loopback port, mixing routes, lengths and streaming, with
// 10% of clients hanging up mid-stream and 5% malformed bodies. Under the
// race detector or -short it runs a fifth of that at 32 concurrent.
type loadSize struct {
	requests, concurrency int
}

func (s loadSize) disconnects() int { return s.requests / 10 }
func (s loadSize) malformed() int   { return s.requests / 20 }

var (
	loadFull  = loadSize{requests: 2000, concurrency: 64}
	loadSmall = loadSize{requests: 400, concurrency: 32}
)

// loadDeadline bounds the whole load phase.
const loadDeadline = 100 * time.Second

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

type loadKind int

const (
	loadGenerate loadKind = iota
	loadChat
	loadCompletions
)

var loadPaths = [...]string{loadGenerate: "/generate", loadChat: "/v1/chat/completions", loadCompletions: "/v1/completions"}

// loadCase is one planned request.
type loadCase struct {
	kind       loadKind
	body       string
	stream     bool
	maxTokens  int
	disconnect bool // cancel after the first event
	malformed  bool // expect 400
}

var loadWords = strings.Fields(`once upon a time there was a little girl named lily she liked to play
outside in the park with her dog max one day they found a big red ball under a tree and the sun was warm
happy sad tom ran jumped saw said mom friend bird cat fish boat toy cake`)

func loadPrompt(r *rand.Rand) string {
	n := 1 + r.IntN(48)
	w := make([]string, n)
	for i := range w {
		w[i] = loadWords[r.IntN(len(loadWords))]
	}
	return strings.Join(w, " ")
}

// loadBadBodies are malformed bodies per route; each must get a 400.
var loadBadBodies = [...][]string{
	loadGenerate: {
		`{"text": "Once upon", "sampling_params": {"max_new_tokens": -1}}`,
		`{"text": 5, "sampling_params": {"max_new_tokens": 4}}`,
		`{"text": "Once upon", "sampling_params": {"temperature": "hot"}}`,
		`{"text": "Once", "input_ids": [1, 2]}`,
		`{"text": "Once upon", "sampling_params": [1, 2]}`,
		`{"text": "Once upon", "stream": "yes"}`,
		`{"text": "Once upon",`,
		`not json at all`,
		``,
	},
	loadChat: {
		`{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "max_tokens": -5}`,
		`{"model": "stories", "messages": "hi"}`,
		`{"model": "stories", "messages": [{"role": "wizard", "content": "hi"}]}`,
		`{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "temperature": "warm"}`,
		`{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "stop": 7}`,
		`{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "top_p": 2.5}`,
		`{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "frobnicate": 1, "n": "two"}`,
		`{"model": "stories"}`,
		`[1, 2, 3]`,
		`{"model": "stories", "messages": [`,
	},
	loadCompletions: {
		`{"model": "stories", "prompt": "Once", "max_tokens": -1}`,
		`{"model": "stories", "prompt": 12.5, "max_tokens": 4}`,
		`{"model": "stories", "prompt": "Once", "max_tokens": "ten"}`,
		`{"model": "stories", "prompt": "Once", "stream": "yes"}`,
		`{"model": "stories", "prompt": "Once", "temperature": -1}`,
		`{"model": "stories", "prompt": "Once", "extra_field": {"deep": [1, 2]}, "logprobs": "many"}`,
		`{"model": "stories", "prompt": "Once"`,
		`null`,
	},
}

// loadPlan makes the requests, deterministically.
func loadPlan(seed uint64, size loadSize) []loadCase {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	cases := make([]loadCase, size.requests)
	for i := range cases {
		c := loadCase{kind: loadKind(r.IntN(3)), maxTokens: 1 + r.IntN(64), stream: r.IntN(2) == 0}
		switch {
		case i < size.malformed():
			bad := loadBadBodies[c.kind]
			c = loadCase{kind: c.kind, malformed: true, body: bad[i%len(bad)]}
		case i < size.malformed()+size.disconnects():
			c.stream, c.disconnect = true, true
			c.maxTokens = 16 + r.IntN(49) // long enough to still run after the first event
		}
		if !c.malformed {
			c.body = loadBody(r, c)
		}
		cases[i] = c
	}
	r.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	return cases
}

func loadBody(r *rand.Rand, c loadCase) string {
	temp := []float64{0, 0.8}[r.IntN(2)]
	var v map[string]any
	switch c.kind {
	case loadGenerate:
		v = map[string]any{"text": loadPrompt(r), "stream": c.stream,
			"sampling_params": map[string]any{"max_new_tokens": c.maxTokens, "temperature": temp}}
	case loadChat:
		msgs := []map[string]string{{"role": "user", "content": loadPrompt(r)}}
		if r.IntN(3) == 0 {
			msgs = append([]map[string]string{{"role": "system", "content": loadPrompt(r)}}, msgs...)
		}
		v = map[string]any{"model": "stories", "messages": msgs, "max_tokens": c.maxTokens, "temperature": temp, "stream": c.stream}
	case loadCompletions:
		v = map[string]any{"model": "stories", "prompt": loadPrompt(r), "max_tokens": c.maxTokens, "temperature": temp, "stream": c.stream}
	}
	if c.stream && c.kind != loadGenerate && r.IntN(2) == 0 {
		v["stream_options"] = map[string]any{"include_usage": true}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// loadStats counts outcomes; all fields are atomics.
type loadStats struct {
	ok, bad, disconnected, disconnectLate atomic.Int64
}

// doLoadCase sends c and checks its answer; an error is a test failure.
func doLoadCase(ctx context.Context, hc *http.Client, base string, c loadCase, st *loadStats) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, base+loadPaths[c.kind], strings.NewReader(c.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	defer resp.Body.Close()
	if c.malformed {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if resp.StatusCode != http.StatusBadRequest {
			return fmt.Errorf("malformed body got status %d, want 400: %s", resp.StatusCode, b)
		}
		if msg := loadErrorMessage(c.kind, b); msg == "" {
			return fmt.Errorf("400 without an error message: %s", b)
		}
		st.bad.Add(1)
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if !c.stream {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if err := checkLoadFinal(c, b); err != nil {
			return err
		}
		st.ok.Add(1)
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("stream with Content-Type %q", ct)
	}
	if c.disconnect {
		return loadDisconnect(resp.Body, cancel, st)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	if err := checkLoadStream(c, b); err != nil {
		return err
	}
	st.ok.Add(1)
	return nil
}

// loadDisconnect reads the first event, then hangs up.
func loadDisconnect(body io.Reader, cancel context.CancelFunc, st *loadStats) error {
	br := bufio.NewReader(body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("stream ended before its first event: %w", err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	cancel()
	// The rest must fail (we hung up) or, if the request ended first, be
	// a complete stream.
	rest, err := io.ReadAll(br)
	switch {
	case err != nil:
		st.disconnected.Add(1)
	case bytes.HasSuffix(bytes.TrimSpace(rest), []byte("data: [DONE]")):
		st.disconnectLate.Add(1)
	default:
		return fmt.Errorf("disconnected stream ended without an error or [DONE]: %q", rest)
	}
	return nil
}

// loadErrorMessage finds the message of an error body of either shape.
func loadErrorMessage(kind loadKind, b []byte) string {
	if kind == loadGenerate {
		var e nativeError
		if json.Unmarshal(b, &e) != nil || e.Error.Code != http.StatusBadRequest {
			return ""
		}
		return e.Error.Message
	}
	var e ErrorResponse
	if json.Unmarshal(b, &e) != nil || e.Object != "error" || e.Code != http.StatusBadRequest {
		return ""
	}
	return e.Message
}

// loadFinish is what a finished answer reports, whatever the route.
type loadFinish struct {
	reason     string // "stop" or "length"
	completion int    // completion tokens; -1 = not reported
}

func (f loadFinish) check(c loadCase) error {
	if f.reason != "stop" && f.reason != "length" {
		return fmt.Errorf("finish_reason %q", f.reason)
	}
	if f.completion < 0 {
		return nil
	}
	if f.completion > c.maxTokens || (f.reason == "length" && f.completion != c.maxTokens) {
		return fmt.Errorf("%d completion tokens, finish %q, max %d", f.completion, f.reason, c.maxTokens)
	}
	return nil
}

func checkLoadFinal(c loadCase, b []byte) error {
	var f loadFinish
	switch c.kind {
	case loadGenerate:
		var g genResp
		if err := json.Unmarshal(b, &g); err != nil {
			return fmt.Errorf("decode %q: %w", b, err)
		}
		if g.MetaInfo.FinishReason == nil {
			return fmt.Errorf("no finish_reason: %s", b)
		}
		f = loadFinish{g.MetaInfo.FinishReason.Type, g.MetaInfo.CompletionTokens}
		if len(g.OutputIDs) != f.completion {
			return fmt.Errorf("%d output_ids, %d completion tokens", len(g.OutputIDs), f.completion)
		}
	case loadChat:
		var r ChatCompletion
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("decode %q: %w", b, err)
		}
		if len(r.Choices) != 1 || r.Choices[0].FinishReason == nil || r.Usage == nil || r.Choices[0].Message.Content == nil {
			return fmt.Errorf("incomplete chat.completion: %s", b)
		}
		f = loadFinish{*r.Choices[0].FinishReason, r.Usage.CompletionTokens}
	case loadCompletions:
		var r Completion
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("decode %q: %w", b, err)
		}
		if len(r.Choices) != 1 || r.Choices[0].FinishReason == nil || r.Usage == nil {
			return fmt.Errorf("incomplete text_completion: %s", b)
		}
		f = loadFinish{*r.Choices[0].FinishReason, r.Usage.CompletionTokens}
	}
	return f.check(c)
}

// checkLoadStream checks a whole SSE body: JSON events, exactly one
// finish, no error event, and data: [DONE] last.
func checkLoadStream(c loadCase, b []byte) error {
	var events []string
	for line := range strings.Lines(string(b)) {
		if d, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			events = append(events, d)
		}
	}
	if len(events) < 2 || events[len(events)-1] != "[DONE]" {
		return fmt.Errorf("stream does not end with [DONE]: %q", b)
	}
	events = events[:len(events)-1]
	f := loadFinish{completion: -1}
	finishes := 0
	for _, ev := range events {
		if strings.Contains(ev, `"error"`) && !strings.Contains(ev, `"choices"`) && !strings.Contains(ev, `"meta_info"`) {
			return fmt.Errorf("error event: %s", ev)
		}
		switch c.kind {
		case loadGenerate:
			var g genResp
			if err := json.Unmarshal([]byte(ev), &g); err != nil {
				return fmt.Errorf("event %q: %w", ev, err)
			}
			if g.MetaInfo.FinishReason != nil {
				finishes++
				f = loadFinish{g.MetaInfo.FinishReason.Type, g.MetaInfo.CompletionTokens}
			}
		case loadChat:
			var ch ChatChunk
			if err := json.Unmarshal([]byte(ev), &ch); err != nil {
				return fmt.Errorf("event %q: %w", ev, err)
			}
			for _, x := range ch.Choices {
				if x.FinishReason != nil {
					finishes++
					f.reason = *x.FinishReason
				}
			}
			if ch.Usage != nil {
				f.completion = ch.Usage.CompletionTokens
			}
		case loadCompletions:
			var cp Completion
			if err := json.Unmarshal([]byte(ev), &cp); err != nil {
				return fmt.Errorf("event %q: %w", ev, err)
			}
			for _, x := range cp.Choices {
				if x.FinishReason != nil {
					finishes++
					f.reason = *x.FinishReason
				}
			}
			if cp.Usage != nil {
				f.completion = cp.Usage.CompletionTokens
			}
		}
	}
	if finishes != 1 {
		return fmt.Errorf("%d finish events in %q", finishes, b)
	}
	if strings.Contains(c.body, "include_usage") && f.completion < 0 {
		return fmt.Errorf("include_usage without a usage chunk: %q", b)
	}
	return f.check(c)
}

// waitGoroutines waits until at most max goroutines run.
func waitGoroutines(max int, within time.Duration) (int, bool) {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= max {
			return n, true
		}
		if time.Now().After(deadline) {
			return n, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLoad runs the load plan against a server on a real loopback port and
// checks every answer, then that the engine is idle, that /flush_cache
// empties the KV pool, and that goroutines return to their baseline.
func TestLoad(t *testing.T) {
	size := loadFull
	if raceEnabled() || testing.Short() {
		size = loadSmall
	}
	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	eng, dir := loopbackEngine(t)
	base, _ := serveLoopback(t, eng, dir, Options{})
	cases := loadPlan(1, size)

	tr := &http.Transport{MaxIdleConns: size.concurrency, MaxIdleConnsPerHost: size.concurrency, IdleConnTimeout: 5 * time.Second}
	hc := &http.Client{Transport: tr}
	before, err := eng.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	baseline := runtime.NumGoroutine()

	var st loadStats
	var failures atomic.Int64
	var firstErrs sync.Map
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range size.concurrency {
		wg.Go(func() {
			for i := range next {
				if err := doLoadCase(ctx, hc, base, cases[i], &st); err != nil {
					if failures.Add(1) <= 10 {
						firstErrs.Store(i, err)
					}
				}
			}
		})
	}
feed:
	for i := range cases {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	wall := time.Since(t0)
	firstErrs.Range(func(k, v any) bool {
		c := cases[k.(int)]
		t.Errorf("request %d (%s stream=%v disconnect=%v malformed=%v body %.120s): %v",
			k, loadPaths[c.kind], c.stream, c.disconnect, c.malformed, c.body, v)
		return true
	})
	if ctx.Err() != nil {
		t.Fatalf("the load did not finish within %v", loadDeadline)
	}
	t.Logf("%d requests at %d concurrent in %v: %.0f req/s; ok %d, 400 %d, hung up %d (finished first %d), failures %d",
		size.requests, size.concurrency, wall.Round(time.Millisecond), float64(size.requests)/wall.Seconds(),
		st.ok.Load(), st.bad.Load(), st.disconnected.Load(), st.disconnectLate.Load(), failures.Load())
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed", n, size.requests)
	}
	if got, want := st.ok.Load(), int64(size.requests-size.malformed()-size.disconnects()); got != want {
		t.Errorf("%d well-formed requests answered, want %d", got, want)
	}
	if got := st.bad.Load(); got != int64(size.malformed()) {
		t.Errorf("%d malformed requests answered 400, want %d", got, size.malformed())
	}
	if got := st.disconnected.Load() + st.disconnectLate.Load(); got != int64(size.disconnects()) {
		t.Errorf("%d disconnects, want %d", got, size.disconnects())
	}

	// Every request that reached the engine did so exactly once; malformed
	// ones never did.
	after := waitIdle(t, eng)
	if got, want := after.Requests-before.Requests, size.requests-size.malformed(); got != want {
		t.Errorf("the engine saw %d requests, want %d", got, want)
	}
	// A request dropped because its client hung up is not counted finished:
	// every answered request finished, and the hung-up ones were cut short.
	finished := after.Finished - before.Finished
	cut := (after.Requests - before.Requests) - finished
	t.Logf("engine: %d finished, %d cut short by a disconnect, %d generated tokens",
		finished, cut, after.GenerationTokens-before.GenerationTokens)
	// A few hung-up requests may end in the engine before it sees the
	// cancellation; most (max_new_tokens >= 16) must be dropped.
	if int64(finished) < st.ok.Load()+st.disconnectLate.Load() || int64(cut) > st.disconnected.Load() ||
		int64(cut) < st.disconnected.Load()/2 {
		t.Errorf("engine finished %d and dropped %d; clients got %d answers and hung up on %d",
			finished, cut, st.ok.Load()+st.disconnectLate.Load(), st.disconnected.Load())
	}
	if code, b := call(t, http.MethodPost, base+"/flush_cache", ""); code != http.StatusOK {
		t.Fatalf("flush_cache: %d %s", code, b)
	}
	if st, err := eng.Stats(ctx); err != nil || st.KVUsed != 0 || st.Running != 0 || st.Waiting != 0 {
		t.Fatalf("after flush_cache: %+v %v", st, err)
	}

	tr.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	const slack = 4
	if n, ok := waitGoroutines(baseline+slack, 10*time.Second); !ok {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after the load, baseline %d (+%d slack):\n%s", n, baseline, slack, buf)
	}
}
