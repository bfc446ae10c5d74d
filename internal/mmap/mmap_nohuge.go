//go:build unix && !linux

package mmap

// adviseHuge does nothing where MADV_HUGEPAGE does not exist.
func adviseHuge([]byte) {}
