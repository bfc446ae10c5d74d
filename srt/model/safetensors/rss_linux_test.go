package safetensors

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

const rssChildEnv = "SAFETENSORS_RSS_CHILD"

// TestMappedNotCopied opens a 1 GiB (sparse) F32 model in a child process,
// touches every page of the tensor, and checks the child's peak RSS stays
// under 1.3x the file size: a copying loader would need 2x.
func TestMappedNotCopied(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB file; skipped in -short mode")
	}
	const n = 1 << 28 // values: 1 GiB of F32
	dir := t.TempDir()
	hdr := fmt.Sprintf(`{"w":{"dtype":"F32","shape":[%d],"data_offsets":[0,%d]}}`, n, 4*n)
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	p := filepath.Join(dir, "model.safetensors")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(len(hdr)))
	fh.Write(l[:])
	fh.WriteString(hdr)
	size := int64(8 + len(hdr) + 4*n)
	if err := fh.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+dir)
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
	dir := os.Getenv(rssChildEnv)
	if dir == "" {
		t.Skip("helper for TestMappedNotCopied")
	}
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Tensor("w")
	if err != nil {
		t.Fatal(err)
	}
	var sum byte
	for i := 0; i < len(w.Data); i += 4096 {
		sum += w.Data[i]
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("sum=%d\nmaxrss_kb=%d\n", sum, ru.Maxrss)
	s.Close()
}
