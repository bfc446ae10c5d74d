//go:build unix

// Package mmap maps model files read-only into memory, so weights are used
// in place rather than copied. Where mmap is unavailable it reads the file.
// On Linux the mapping asks for transparent huge pages (see adviseHuge).
package mmap

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Map maps path read-only and returns the bytes and a function that unmaps them. An empty file gives an empty slice.
func Map(path string) ([]byte, func() error, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	if size == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	if int64(int(size)) != size || size < 0 {
		return nil, nil, fmt.Errorf("file of %d bytes too large to map", size)
	}
	b, err := unix.Mmap(int(fh.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	adviseHuge(b)
	return b, func() error { return unix.Munmap(b) }, nil
}
