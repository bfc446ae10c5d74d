package image

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// fileURLPath returns the local path of a file:// URL. Only an empty host or
// "localhost" is accepted.
func fileURLPath(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: bad file URL: %v", ErrInvalidSource, err)
	}
	if !strings.EqualFold(u.Scheme, "file") {
		return "", fmt.Errorf("%w: not a file URL", ErrInvalidSource)
	}
	if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return "", fmt.Errorf("%w: file URL host %q is not local", ErrInvalidSource, u.Host)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque // file:relative/path
	}
	if p == "" {
		return "", fmt.Errorf("%w: file URL has no path", ErrInvalidSource)
	}
	return filepath.FromSlash(p), nil
}

// within reports whether p equals dir or lies below it (both clean, absolute).
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// allowedRoots returns the allowed directories, absolute with symlinks
// resolved; directories that do not exist are skipped.
func (l *Loader) allowedRoots() []string {
	var roots []string
	for _, d := range l.AllowedLocalMediaPaths {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			roots = append(roots, r)
		}
	}
	return roots
}

// readLocal reads a local file if, after symlinks and ".." are resolved, it
// lies under one of the allowed directories.
func (l *Loader) readLocal(p string) ([]byte, error) {
	roots := l.allowedRoots()
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: %q (local media paths are not enabled)", ErrNotAllowedPath, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrNotAllowedPath, p, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		// Do not reveal whether files outside the allowed tree exist.
		if !underAny(abs, roots) {
			return nil, fmt.Errorf("%w: %q is outside the allowed directories", ErrNotAllowedPath, p)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %q does not exist", ErrFetch, p)
		}
		return nil, fmt.Errorf("%w: %q: %v", ErrFetch, p, err)
	}
	if !underAny(resolved, roots) {
		return nil, fmt.Errorf("%w: %q is outside the allowed directories", ErrNotAllowedPath, p)
	}
	f, err := os.Open(resolved)
	if err != nil {
		return nil, fmt.Errorf("%w: open %q: %v", ErrFetch, p, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: stat %q: %v", ErrFetch, p, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %q is not a regular file", ErrFetch, p)
	}
	max := l.limits().maxBytes()
	if st.Size() > max {
		return nil, fmt.Errorf("%w: %q is %d bytes, over the %d-byte limit", ErrTooLarge, p, st.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %q: %v", ErrFetch, p, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %q is over the %d-byte limit", ErrTooLarge, p, max)
	}
	return data, nil
}

func underAny(p string, roots []string) bool {
	for _, r := range roots {
		if within(p, r) {
			return true
		}
	}
	return false
}
