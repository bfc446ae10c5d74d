//go:build !unix

package mmap

import "os"

// Map reads path into memory where mmap is unavailable.
func Map(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
