package server

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/sglang-go/sglang/srt"
)

// histogram is a Prometheus histogram with fixed buckets (seconds).
type histogram struct {
	mu      sync.Mutex
	bounds  []float64
	counts  []uint64 // per bucket, not cumulative
	sum     float64
	samples uint64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.samples++
}

// write prints the histogram in Prometheus text format.
func (h *histogram) write(w *bufio.Writer, name, help, labels string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s,le=\"%s\"} %d\n", name, labels, strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, cum)
	fmt.Fprintf(w, "%s_sum{%s} %s\n%s_count{%s} %d\n", name, labels, strconv.FormatFloat(h.sum, 'g', -1, 64), name, labels, h.samples)
}

// metrics are the server-side observations; the engine's counters are read
// at scrape time.
type metrics struct {
	ttft, e2e *histogram
	mu        sync.Mutex
	reqs      map[string]uint64 // finished requests by finish reason
}

func newMetrics() *metrics {
	ttft := []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 15, 20, 25, 30}
	e2e := []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300}
	return &metrics{ttft: newHistogram(ttft), e2e: newHistogram(e2e), reqs: map[string]uint64{}}
}

func (m *metrics) finished(out *srt.GenerateOutput) {
	reason := "unknown"
	if fr := out.MetaInfo.FinishReason; fr != nil {
		reason = fr.Type
	}
	m.mu.Lock()
	m.reqs[reason]++
	m.mu.Unlock()
}

// escapeLabel escapes a Prometheus label value.
func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	st, err := s.eng.Stats(r.Context())
	if err != nil {
		writeNativeError(w, err)
		return
	}
	labels := `model_name="` + escapeLabel(s.opts.ServedModelName) + `"`
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %s\n", name, help, name, typ, name, labels,
			strconv.FormatFloat(v, 'g', -1, 64))
	}
	hit := 0.0
	if tot := st.PromptTokens + st.CachedTokens; tot > 0 {
		hit = float64(st.CachedTokens) / float64(tot)
	}
	metric("sglang:num_running_reqs", "gauge", "The number of running requests.", float64(st.Running))
	metric("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.", float64(st.Waiting))
	metric("sglang:num_used_tokens", "gauge", "The number of used KV slots.", float64(st.KVUsed))
	metric("sglang:max_total_num_tokens", "gauge", "The KV pool capacity in tokens.", float64(st.KVTotal))
	metric("sglang:token_usage", "gauge", "The token usage (requests' KV slots / capacity).", st.TokenUsage)
	metric("sglang:cache_hit_rate", "gauge", "The prefix cache hit rate since start.", hit)
	metric("sglang:num_pending_http_reqs", "gauge", "Generation requests in flight in the HTTP server.", float64(s.pending.Load()))
	metric("sglang:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(st.PromptTokens+st.CachedTokens))
	metric("sglang:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(st.GenerationTokens))
	metric("sglang:cached_tokens_total", "counter", "Number of cached prompt tokens.", float64(st.CachedTokens))
	metric("sglang:num_requests_total", "counter", "Number of requests received by the engine.", float64(st.Requests))
	metric("sglang:num_retracted_reqs_total", "counter", "Number of retracted requests.", float64(st.Retracted))
	metric("sglang:vision_encodes_total", "counter", "Images run through the vision tower.", float64(st.VisionEncodes))
	metric("sglang:vision_cache_hits_total", "counter", "Images whose vision-tower output came from the LRU cache.", float64(st.VisionCacheHits))
	metric("sglang:vision_cached_images_total", "counter", "Images whose every token came from the KV prefix cache (no vision work).", float64(st.VisionCachedImages))
	s.metrics.mu.Lock()
	fmt.Fprintf(bw, "# HELP sglang:num_finished_requests_total Number of finished requests by finish reason.\n# TYPE sglang:num_finished_requests_total counter\n")
	for _, reason := range []string{"stop", "length", "abort", "unknown"} {
		if n, ok := s.metrics.reqs[reason]; ok {
			fmt.Fprintf(bw, "sglang:num_finished_requests_total{%s,finish_reason=%q} %d\n", labels, reason, n)
		}
	}
	s.metrics.mu.Unlock()
	s.metrics.ttft.write(bw, "sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels)
	s.metrics.e2e.write(bw, "sglang:e2e_request_latency_seconds", "Histogram of end-to-end request latency in seconds.", labels)
}
