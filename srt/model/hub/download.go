package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

type downloader struct {
	o              Options
	repoID         string
	repoDir        string
	endpointHost   string
	endpointScheme string
}

// Download fetches the files of repoID at o.Revision that match o.Allow into
// the cache and returns the snapshot folder. See the package comment.
func Download(ctx context.Context, repoID string, o Options) (string, error) {
	o, err := o.withDefaults()
	if err != nil {
		return "", err
	}
	if !ValidRepoID(repoID) {
		return "", fmt.Errorf("hub: %q is not a repository id like org/name: %w", repoID, ErrBadRepoID)
	}
	ep, err := url.Parse(o.Endpoint)
	if err != nil || ep.Host == "" {
		return "", fmt.Errorf("hub: bad endpoint %q", o.Endpoint)
	}
	d := &downloader{o: o, repoID: repoID, repoDir: RepoFolder(o.CacheDir, repoID), endpointHost: ep.Host, endpointScheme: ep.Scheme}
	if o.Offline {
		if dir, ok := cachedSnapshot(d.repoDir, o.Revision); ok {
			return dir, nil
		}
		return "", fmt.Errorf("hub: %s at %s is not in the cache %s and offline mode is on: %w", repoID, o.Revision, o.CacheDir, ErrOffline)
	}
	info, err := d.listRevision(ctx)
	if err != nil {
		if unreachable(ctx, err) {
			if dir, ok := cachedSnapshot(d.repoDir, o.Revision); ok {
				return dir, nil
			}
		}
		return "", err
	}
	var files []string
	for _, s := range info.Siblings {
		if matchAny(o.Allow, s.RFilename) {
			if !safeRel(s.RFilename) {
				return "", fmt.Errorf("hub: %s lists unsafe file name %q: %w", repoID, s.RFilename, ErrBadResponse)
			}
			files = append(files, s.RFilename)
		}
	}
	if len(files) == 0 {
		return "", fmt.Errorf("hub: %s at %s has no files matching %v: %w", repoID, o.Revision, o.Allow, ErrNoFiles)
	}
	commit := info.Sha
	snap := filepath.Join(d.repoDir, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(d.repoDir, "blobs"), 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if o.Revision != commit {
		if err := writeRef(d.repoDir, o.Revision, commit); err != nil {
			return "", err
		}
	}
	for _, f := range files {
		if err := d.fetchFile(ctx, commit, f, filepath.Join(snap, filepath.FromSlash(f))); err != nil {
			return "", err
		}
	}
	return snap, nil
}

func (d *downloader) fetchFile(ctx context.Context, commit, file, dst string) error {
	if exists(dst) {
		return nil
	}
	m, err := d.head(ctx, commit, file)
	if err != nil {
		return err
	}
	blob := filepath.Join(d.repoDir, "blobs", m.etag)
	if !exists(blob) {
		// Like huggingface_hub: {cache}/.locks/{repo folder}/{etag}.lock.
		unlock, err := lockFile(ctx, filepath.Join(d.o.CacheDir, ".locks", filepath.Base(d.repoDir), m.etag+".lock"))
		if err != nil {
			return err
		}
		if !exists(blob) { // another process may have finished it meanwhile
			err = d.downloadBlob(ctx, m, blob, file)
		}
		unlock()
		if err != nil {
			return err
		}
	}
	return link(blob, dst)
}

// errRetry marks a failure worth resuming after.
type errRetry struct{ err error }

func (e *errRetry) Error() string { return e.err.Error() }
func (e *errRetry) Unwrap() error { return e.err }

func (d *downloader) downloadBlob(ctx context.Context, m *fileMeta, blob, file string) error {
	inc := blob + ".incomplete"
	var bar *progressbar.ProgressBar
	if d.o.Progress != nil {
		bar = progressbar.NewOptions64(m.size,
			progressbar.OptionSetWriter(d.o.Progress),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetSpinnerChangeInterval(0), // no ticker goroutine
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(d.o.Progress) }),
		)
	}
	var err error
	for attempt := 0; ; attempt++ {
		if err = d.getInto(ctx, m, inc, file, bar); err == nil {
			break
		}
		var re *errRetry
		if ctx.Err() != nil || attempt >= d.o.Retries || !errors.As(err, &re) {
			if bar != nil {
				bar.Exit()
			}
			return err
		}
		select {
		case <-ctx.Done():
			if bar != nil {
				bar.Exit()
			}
			return fmt.Errorf("hub: %s: %w", file, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	if bar != nil {
		bar.Finish()
	}
	if err := os.Rename(inc, blob); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// getInto downloads m into inc, resuming from what inc already holds.
func (d *downloader) getInto(ctx context.Context, m *fileMeta, inc, file string, bar *progressbar.ProgressBar) error {
	f, err := os.OpenFile(inc, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	have := st.Size()
	if m.size >= 0 && have == m.size {
		return nil
	}
	if m.size >= 0 && have > m.size {
		have = 0
	}
	req, err := d.newRequest(ctx, http.MethodGet, m.url)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := d.o.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("hub: %s: %w", file, ctx.Err())
		}
		return &errRetry{fmt.Errorf("hub: %s: %w", file, err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-") {
			f.Truncate(0)
			return &errRetry{fmt.Errorf("hub: %s: server resumed at the wrong offset (%q): %w", file, resp.Header.Get("Content-Range"), ErrBadResponse)}
		}
	case resp.StatusCode == http.StatusOK:
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		f.Truncate(0)
		return &errRetry{fmt.Errorf("hub: %s: server refused to resume: %w", file, ErrBadResponse)}
	case resp.StatusCode >= 500:
		return &errRetry{responseError(resp, d.repoID, "", file)}
	default:
		return responseError(resp, d.repoID, "", file)
	}
	if err := f.Truncate(have); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	var w io.Writer = f
	if bar != nil {
		bar.Set64(have)
		w = io.MultiWriter(f, bar)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("hub: %s: %w", file, ctx.Err())
		}
		return &errRetry{fmt.Errorf("hub: %s: download interrupted after %d bytes: %w", file, have+n, err)}
	}
	if m.size >= 0 && have+n != m.size {
		if have+n > m.size {
			f.Truncate(0)
		}
		return &errRetry{fmt.Errorf("hub: %s: got %d bytes, want %d: %w", file, have+n, m.size, ErrBadResponse)}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}
