package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// benchFake is a minimal native SGLang server: every /generate streams
// max_new_tokens events and [DONE].
func benchFake(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /generate", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			InputIDs       []int          `json:"input_ids"`
			SamplingParams map[string]any `json:"sampling_params"`
			Extra          string         `json:"extra"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		n.Add(1)
		if body.Extra != "yes" {
			http.Error(w, `{"error":{"message":"extra body missing"}}`, 400)
			return
		}
		max := int(body.SamplingParams["max_new_tokens"].(float64))
		for i := 1; i <= max; i++ {
			fmt.Fprintf(w, "data: {\"text\":%q,\"meta_info\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"cached_tokens\":0}}\n\n",
				strings.Repeat("z", i), len(body.InputIDs), i)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestBenchServingJSONAndOutputFile(t *testing.T) {
	srv, n := benchFake(t)
	out := filepath.Join(t.TempDir(), "res.jsonl")
	args := []string{"bench-serving", "--base-url", srv.URL, "--num-prompts", "4", "--random-input-len", "8",
		"--random-output-len", "3", "--random-range-ratio", "1", "--max-concurrency", "2",
		"--extra-request-body", `{"extra":"yes"}`, "--output-file", out, "--json", "--timeout", "5"}
	for run := 1; run <= 2; run++ {
		stdout, stderr, code := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res map[string]any
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
		}
		if res["completed"] != 4.0 || res["total_input_tokens"] != 32.0 || res["total_output_tokens"] != 12.0 || res["max_concurrency"] != 2.0 {
			t.Errorf("result %v", res)
		}
		if !strings.Contains(stderr, "Starting warmup") {
			t.Errorf("stderr lacks progress: %q", stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != run {
			t.Errorf("output file has %d lines after %d runs", len(lines), run)
		}
	}
	if got := n.Load(); got != 10 {
		t.Errorf("server saw %d requests, want 2 x (1 warmup + 4)", got)
	}
}

func TestBenchServingReport(t *testing.T) {
	srv, _ := benchFake(t)
	stdout, stderr, code := runCmd(t, "bench-serving", "--base-url", srv.URL, "--num-prompts", "2",
		"--random-input-len", "4", "--random-output-len", "2", "--extra-request-body", `{"extra":"yes"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var seen []string
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			seen = append(seen, sc.Text())
		}
	}
	if len(seen) < 10 || seen[0] != "============ Serving Benchmark Result ============" || !strings.HasPrefix(seen[4], "Successful requests:") || !strings.HasSuffix(strings.TrimSpace(seen[4]), " 2") {
		t.Errorf("report:\n%s", stdout)
	}
}

func TestBenchServingErrors(t *testing.T) {
	srv, _ := benchFake(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"bad dataset", []string{"--dataset-name", "sharegpt"}, 2, "sharegpt"},
		{"bad backend", []string{"--backend", "trt"}, 2, "trt"},
		{"bad rate", []string{"--request-rate", "fast"}, 2, "request-rate"},
		{"negative rate", []string{"--request-rate", "-3"}, 2, "request-rate"},
		{"bad ratio", []string{"--random-range-ratio", "2"}, 2, "random-range-ratio"},
		{"bad extra body", []string{"--extra-request-body", "[1]"}, 2, "extra-request-body"},
		{"bad timeout", []string{"--timeout", "soon"}, 2, "timeout"},
		{"stray argument", []string{"extra"}, 2, "unexpected arguments"},
		{"bad url", []string{"--base-url", "ftp://x"}, 2, "base-url"},
		{"missing tokenizer", []string{"--tokenizer", "/nonexistent/tokenizer.json"}, 1, "nonexistent"},
		// No extra body: the fake answers 400, so the warm-up fails.
		{"warmup fails", []string{"--base-url", srv.URL, "--num-prompts", "1", "--random-output-len", "2"}, 1, "extra body missing"},
		{"all fail", []string{"--base-url", srv.URL, "--num-prompts", "2", "--random-output-len", "2", "--warmup-requests", "0"}, 1, "all 2 requests failed"},
	}
	for _, tc := range tests {
		_, stderr, code := runCmd(t, append([]string{"bench-serving"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", tc.name, code, stderr, tc.code, tc.msg)
		}
	}
	if _, _, code := runCmd(t, "bench-serving", "--help"); code != 0 {
		t.Errorf("--help exit %d", code)
	}
}
