package hub

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
)

// linkSeq makes temporary link names unique within the process.
var linkSeq atomic.Uint64

var (
	commitRe = regexp.MustCompile(`^[0-9a-f]{40}$`)
	etagRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// RepoFolder returns the cache folder of a model repository.
func RepoFolder(cacheDir, repoID string) string {
	return filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

// safeRel reports whether p (slash-separated) is a relative path that stays
// inside its folder.
func safeRel(p string) bool {
	if p == "" || strings.Contains(p, `\`) || strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return filepath.IsLocal(filepath.FromSlash(p))
}

func readRef(repoDir, rev string) (string, bool) {
	if !safeRel(rev) {
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(rev)))
	if err != nil {
		return "", false
	}
	c := strings.TrimSpace(string(b))
	return c, etagRe.MatchString(c)
}

func writeRef(repoDir, rev, commit string) error {
	if !safeRel(rev) {
		return fmt.Errorf("hub: revision %q cannot be stored as a ref: %w", rev, ErrBadResponse)
	}
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(rev))
	if old, err := os.ReadFile(p); err == nil && string(old) == commit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return writeFileAtomic(p, []byte(commit))
}

// cachedSnapshot finds the snapshot folder of rev (a commit, or a ref that
// was resolved before).
func cachedSnapshot(repoDir, rev string) (string, bool) {
	commit := rev
	if !commitRe.MatchString(rev) {
		c, ok := readRef(repoDir, rev)
		if !ok {
			return "", false
		}
		commit = c
	}
	dir := filepath.Join(repoDir, "snapshots", commit)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", false
	}
	return dir, true
}

func writeFileAtomic(p string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: %w", werr)
	}
	return nil
}

// link makes dst a relative symlink to blob, or a copy where symlinks fail.
func link(blob, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	// Make the link under a temporary name and rename it over dst, so a
	// dangling link is replaced and concurrent callers never see a gap.
	if rel, err := filepath.Rel(filepath.Dir(dst), blob); err == nil {
		tmp := fmt.Sprintf("%s.tmp-%d-%d", dst, os.Getpid(), linkSeq.Add(1))
		if err := os.Symlink(rel, tmp); err == nil {
			if err := os.Rename(tmp, dst); err == nil {
				return nil
			}
			os.Remove(tmp)
		}
	}
	src, err := os.Open(blob)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("hub: copy %s: %w", dst, err)
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
