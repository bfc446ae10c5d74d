package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed assembly is what the generator writes.
func TestGeneratedUpToDate(t *testing.T) {
	have, err := os.ReadFile("../kernels_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, generate()) {
		t.Fatal("kernels_amd64.s is stale: run go generate in srt/tensor/internal/simd")
	}
}
