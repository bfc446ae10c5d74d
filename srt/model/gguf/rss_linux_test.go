package gguf

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const rssChildEnv = "GGUF_RSS_CHILD"

// TestMappedNotCopied opens a 1 GiB (sparse) F32 GGUF in a child process,
// touches every page of its tensor, and checks the child's peak RSS stays
// under 1.3x the file size: a copying loader would need 2x.
func TestMappedNotCopied(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB file; skipped in -short mode")
	}
	const n = 1 << 28 // values: 1 GiB of F32
	le := binary.LittleEndian
	var h []byte
	h = append(h, Magic...)
	h = le.AppendUint32(h, 3)
	h = le.AppendUint64(h, 1) // tensors
	h = le.AppendUint64(h, 0) // metadata
	h = le.AppendUint64(h, 1)
	h = append(h, 'w')
	h = le.AppendUint32(h, 1)
	h = le.AppendUint64(h, n)
	h = le.AppendUint32(h, uint32(GGMLTypeF32))
	h = le.AppendUint64(h, 0)
	size := int64(alignUp(uint64(len(h)), DefaultAlignment)) + 4*n
	p := filepath.Join(t.TempDir(), "big.gguf")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write(h)
	if err := fh.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+p)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var kb int64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "maxrss_kb="); ok {
			kb, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if kb == 0 {
		t.Fatalf("child printed no maxrss:\n%s", out)
	}
	ratio := float64(kb*1024) / float64(size)
	t.Logf("peak RSS %d MiB for a %d MiB file (%.2fx)", kb/1024, size>>20, ratio)
	if ratio >= 1.3 {
		t.Errorf("peak RSS is %.2fx the file size, want < 1.3x", ratio)
	}
}

func TestRSSChild(t *testing.T) {
	p := os.Getenv(rssChildEnv)
	if p == "" {
		t.Skip("helper for TestMappedNotCopied")
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.Tensor("w")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Shape) != 1 || w.Shape[0] != 1<<28 {
		t.Fatalf("shape %v", w.Shape)
	}
	var sum byte
	for i := 0; i < len(w.Data); i += 4096 {
		sum += w.Data[i]
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("sum=%d\nmaxrss_kb=%d\n", sum, ru.Maxrss)
	f.Close()
}
