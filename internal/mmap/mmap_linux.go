//go:build linux

package mmap

import "golang.org/x/sys/unix"

// adviseHuge marks the mapping MADV_HUGEPAGE. For file pages not yet in the
// page cache, the kernel then reads them into 2 MB folios and maps them with
// PMD entries, so streaming the weights (batch-1 decode reads all of them
// per token) takes far fewer TLB misses. Pages already cached keep the
// folio size they were read with. It is advice: failures (an old kernel,
// THP disabled) are ignored.
func adviseHuge(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}
