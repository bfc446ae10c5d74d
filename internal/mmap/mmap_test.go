package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestMap(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("GGUF\x03\x00\x00\x00")},
		{"pages", bytes.Repeat([]byte{7, 1, 2}, 10000)},
		{"huge-pages", bytes.Repeat([]byte{5, 4, 3, 2, 1}, 1<<20)}, // spans 2 MB pages: the madvise path
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		b, unmap, err := Map(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(b, tc.data) {
			t.Errorf("%s: mapped %d bytes, want %d", tc.name, len(b), len(tc.data))
		}
		if err := unmap(); err != nil {
			t.Errorf("%s: unmap: %v", tc.name, err)
		}
	}
	if _, _, err := Map(filepath.Join(dir, "missing")); err == nil {
		t.Error("mapping a missing file succeeded")
	}
}
