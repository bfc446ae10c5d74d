package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/server"
)

func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want error
	}{
		{[]string{}, errUsage},
		{[]string{"--model-path", "x", "--tp-size", "2"}, errUsage},
		{[]string{"--model-path", "x", "--port", "70000"}, errUsage},
		{[]string{"--model-path", "x", "--log-level", "loud"}, errUsage},
		{[]string{"--bogus"}, errUsage},
		{[]string{"--help"}, flag.ErrHelp},
	} {
		err := runServe(context.Background(), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, tc.want) {
			t.Errorf("%v: %v, want %v", tc.args, err, tc.want)
		}
	}
}

// TestServeEndToEnd starts "sglang serve" on a free port, waits for the
// ready line, generates, and shuts it down through the context.
func TestServeEndToEnd(t *testing.T) {
	dir := shared.Path(t, "models", "stories260K")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- runServe(ctx, []string{"--model-path", dir, "--port", "0", "--served-model-name", "tiny",
			"--log-level", "error", "--threads", "1", "--schedule-policy", "fcfs", "--mem-fraction-static", "0.8"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		line := sc.Text()
		if _, addr, ok := strings.Cut(line, " on http://"); ok && strings.HasPrefix(line, "serving ") {
			base = "http://" + addr
		}
		if line == server.ReadyMessage {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatalf("no address line before the ready line: %v", <-errc)
	}
	resp, err := http.Post(base+"/generate", "application/json",
		strings.NewReader(`{"text": "Once upon a time", "sampling_params": {"max_new_tokens": 4, "temperature": 0}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"completion_tokens":4`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"id":"tiny"`) {
		t.Fatalf("models %s", b)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
