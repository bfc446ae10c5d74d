package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const userAgent = "sglang-go/hub"

// statusError is an HTTP error response from the hub.
type statusError struct {
	status int
	msg    string
	err    error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.err }

// unreachable reports whether err means the hub could not be used at all
// (connection failure or server error), so a cached snapshot may stand in.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// responseError turns a non-2xx response into an error naming what failed.
func responseError(resp *http.Response, repoID, rev, file string) error {
	code := resp.Header.Get("X-Error-Code")
	detail := resp.Header.Get("X-Error-Message")
	if detail != "" {
		detail = ": " + detail
	}
	st := resp.StatusCode
	mk := func(sentinel error, format string, args ...any) error {
		return &statusError{status: st, msg: fmt.Sprintf("hub: "+format, args...) + fmt.Sprintf(" (HTTP %d%s): %v", st, detail, sentinel), err: sentinel}
	}
	switch {
	case st == http.StatusUnauthorized || code == "RepoNotFound":
		return mk(ErrRepoNotFound, "repository %s not found; if it is private or gated, set a token (HF_TOKEN)", repoID)
	case code == "GatedRepo" || st == http.StatusForbidden:
		return mk(ErrGated, "access to repository %s is restricted", repoID)
	case code == "RevisionNotFound":
		return mk(ErrRevisionNotFound, "revision %s of repository %s not found", rev, repoID)
	case code == "EntryNotFound" || (st == http.StatusNotFound && file != ""):
		return mk(ErrEntryNotFound, "file %s not found in repository %s at %s", file, repoID, rev)
	case st == http.StatusNotFound:
		return mk(ErrRepoNotFound, "repository %s (revision %s) not found", repoID, rev)
	}
	return mk(ErrBadResponse, "unexpected status for %s %s", resp.Request.Method, resp.Request.URL.Redacted())
}

func (d *downloader) newRequest(ctx context.Context, method, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	if d.o.Token != "" && req.URL.Host == d.endpointHost {
		req.Header.Set("Authorization", "Bearer "+d.o.Token)
	}
	return req, nil
}

type revisionInfo struct {
	Sha      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

func (d *downloader) listRevision(ctx context.Context) (*revisionInfo, error) {
	u := d.o.Endpoint + "/api/models/" + d.repoID + "/revision/" + url.PathEscape(d.o.Revision)
	req, err := d.newRequest(ctx, http.MethodGet, u)
	if err != nil {
		return nil, err
	}
	resp, err := d.o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hub: list %s: %w", d.repoID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp, d.repoID, d.o.Revision, "")
	}
	var info revisionInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return nil, fmt.Errorf("hub: list %s: decoding revision info: %v: %w", d.repoID, err, ErrBadResponse)
	}
	if !etagRe.MatchString(info.Sha) {
		return nil, fmt.Errorf("hub: list %s: revision info has bad commit %q: %w", d.repoID, info.Sha, ErrBadResponse)
	}
	return &info, nil
}

// fileMeta is what a HEAD on a resolve URL tells about a file.
type fileMeta struct {
	etag   string
	commit string
	size   int64 // -1 when unknown
	url    string
}

func normalizeETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// head asks for a file's metadata without downloading it. Redirects within
// the hub are followed; a redirect to another host (a CDN) gives the
// download URL.
func (d *downloader) head(ctx context.Context, commit, file string) (*fileMeta, error) {
	u := d.resolveURL(commit, file)
	client := *d.o.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	m := &fileMeta{size: -1}
	for hops := 0; ; hops++ {
		if hops > 10 {
			return nil, fmt.Errorf("hub: %s: too many redirects: %w", file, ErrBadResponse)
		}
		req, err := d.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("hub: %s: %w", file, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return nil, responseError(resp, d.repoID, commit, file)
		}
		h := resp.Header
		if m.etag == "" {
			m.etag = normalizeETag(h.Get("X-Linked-Etag"))
		}
		if m.etag == "" {
			m.etag = normalizeETag(h.Get("ETag"))
		}
		if m.commit == "" {
			m.commit = h.Get("X-Repo-Commit")
		}
		if m.size < 0 {
			for _, k := range []string{"X-Linked-Size", "Content-Length"} {
				if n, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil && n >= 0 && (k != "Content-Length" || resp.StatusCode < 300) {
					m.size = n
					break
				}
			}
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			m.url = u
			break
		}
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("hub: %s: redirect without location: %w", file, ErrBadResponse)
		}
		if loc.Host != d.endpointHost || loc.Scheme != d.endpointScheme {
			m.url = loc.String()
			break
		}
		u = loc.String()
	}
	if !etagRe.MatchString(m.etag) {
		return nil, fmt.Errorf("hub: %s: missing or bad ETag %q: %w", file, m.etag, ErrBadResponse)
	}
	return m, nil
}

func (d *downloader) resolveURL(rev, file string) string {
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return d.o.Endpoint + "/" + d.repoID + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(segs, "/")
}
