package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHub mimics the hub's URLs: the revision listing, resolve (plain files
// answered directly with a git ETag, LFS files redirected to a separate CDN
// server with X-Linked-Etag/X-Linked-Size) and error codes.
type fakeHub struct {
	hub, cdn *httptest.Server
	token    string // required for private repos

	mu        sync.Mutex
	repos     map[string]*fakeRepo
	blobs     map[string][]byte // CDN content by sha256
	hits      map[string]int    // "METHOD path" -> count
	ranges    []string          // Range headers the CDN saw
	authCDN   int               // CDN requests that carried Authorization
	authHub   int               // hub requests that carried the right token
	dropAfter map[string]int    // sha256 -> bytes to send before cutting the connection (once)
	renamed   map[string]string // old repo id -> current one (answered with relative redirects)
}

type fakeRepo struct {
	private   bool
	refs      map[string]string            // branch/tag -> commit
	commits   map[string]map[string]string // commit -> file -> content
	lfs       map[string]bool              // file names stored in LFS
	listExtra []string                     // listed but not resolvable
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{repos: map[string]*fakeRepo{}, blobs: map[string][]byte{}, hits: map[string]int{}, dropAfter: map[string]int{}, renamed: map[string]string{}, token: "hf_secret"}
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	t.Cleanup(func() { h.hub.Close(); h.cdn.Close() })
	return h
}

func (h *fakeHub) addCommit(repoID, ref, commit string, files map[string]string, lfs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repoID]
	if r == nil {
		r = &fakeRepo{refs: map[string]string{}, commits: map[string]map[string]string{}, lfs: map[string]bool{}}
		h.repos[repoID] = r
	}
	r.refs[ref] = commit
	r.commits[commit] = files
	for _, f := range lfs {
		r.lfs[f] = true
	}
}

func (h *fakeHub) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[key]
}

func (h *fakeHub) total(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, v := range h.hits {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

func sha256Hex(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:]) }
func gitSHA(s string) string {
	x := sha1.Sum([]byte("blob " + strconv.Itoa(len(s)) + "\x00" + s))
	return hex.EncodeToString(x[:])
}

func errResp(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	http.Error(w, msg, status)
}

// lookup finds the repo and commit for a path like "org/name" + rev,
// writing the hub's error responses itself.
func (h *fakeHub) lookup(w http.ResponseWriter, r *http.Request, repoID, rev string) (*fakeRepo, string, bool) {
	repo := h.repos[repoID]
	authorized := r.Header.Get("Authorization") == "Bearer "+h.token
	if authorized {
		h.authHub++
	}
	if repo == nil || (repo.private && !authorized) {
		errResp(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return nil, "", false
	}
	commit := rev
	if c, ok := repo.refs[rev]; ok {
		commit = c
	}
	if _, ok := repo.commits[commit]; !ok {
		errResp(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return nil, "", false
	}
	return repo, commit, true
}

func (h *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits[r.Method+" "+r.URL.Path]++
	p := r.URL.EscapedPath()
	for old, cur := range h.renamed {
		for _, pre := range []string{"/api/models/", "/"} {
			if rest, ok := strings.CutPrefix(p, pre+old+"/"); ok {
				http.Redirect(w, r, pre+cur+"/"+rest, http.StatusTemporaryRedirect)
				return
			}
		}
	}
	if rest, ok := strings.CutPrefix(p, "/api/models/"); ok {
		repoID, rev, ok := strings.Cut(rest, "/revision/")
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		rev = unescape(rev)
		repo, commit, ok := h.lookup(w, r, repoID, rev)
		if !ok {
			return
		}
		type sib struct {
			RFilename string `json:"rfilename"`
		}
		out := struct {
			ID       string `json:"id"`
			Sha      string `json:"sha"`
			Siblings []sib  `json:"siblings"`
		}{ID: repoID, Sha: commit}
		for name := range repo.commits[commit] {
			out.Siblings = append(out.Siblings, sib{name})
		}
		for _, extra := range repo.listExtra {
			out.Siblings = append(out.Siblings, sib{extra})
		}
		json.NewEncoder(w).Encode(out)
		return
	}
	before, after, ok := strings.Cut(p, "/resolve/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	repoID := strings.TrimPrefix(before, "/")
	rev, file, _ := strings.Cut(after, "/")
	repo, commit, ok := h.lookup(w, r, repoID, unescape(rev))
	if !ok {
		return
	}
	file = unescape(file)
	content, ok := repo.commits[commit][file]
	if !ok {
		errResp(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	if repo.lfs[file] {
		sum := sha256Hex(content)
		h.blobs[sum] = []byte(content)
		w.Header().Set("ETag", `"`+gitSHA("pointer "+sum)+`"`)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		w.Header().Set("Location", h.cdn.URL+"/repos/"+sum+"?sig=abc")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitSHA(content)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	if r.Method == http.MethodGet {
		w.Write([]byte(content))
	}
}

func unescape(s string) string {
	s = strings.ReplaceAll(s, "%2F", "/")
	return strings.ReplaceAll(s, "%20", " ")
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hits["CDN "+r.Method+" "+r.URL.Path]++
	if r.Header.Get("Authorization") != "" {
		h.authCDN++
	}
	if rg := r.Header.Get("Range"); rg != "" {
		h.ranges = append(h.ranges, rg)
	}
	sum := strings.TrimPrefix(r.URL.Path, "/repos/")
	content, ok := h.blobs[sum]
	drop, dropping := h.dropAfter[sum]
	if dropping && r.Header.Get("Range") == "" {
		delete(h.dropAfter, sum)
	}
	h.mu.Unlock()
	if !ok || r.URL.Query().Get("sig") != "abc" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	if dropping && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:drop])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(content)))
}

func (h *fakeHub) String() string { return fmt.Sprintf("hub %s cdn %s", h.hub.URL, h.cdn.URL) }
