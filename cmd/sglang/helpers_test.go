package main

import (
	"context"
	"testing"

	"github.com/sglang-go/sglang/srt"
)

func greedyIDs(t *testing.T, path string, prompt []int32, n int) []int32 {
	t.Helper()
	eng, err := srt.NewEngine(context.Background(), srt.Options{ModelPath: path, Threads: 2})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer eng.Close()
	sp := srt.DefaultSamplingParams()
	sp.Temperature, sp.MaxNewTokens, sp.IgnoreEOS = 0, n, true
	out, err := eng.GenerateAll(context.Background(), &srt.GenerateRequest{InputIDs: prompt, Sampling: sp, LogprobStartLen: -1})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.OutputIDs
}
