package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	commitA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	commitB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var weights = strings.Repeat("0123456789abcdef", 8192) // 128 KiB "LFS" file

func repoFiles() map[string]string {
	return map[string]string{
		"config.json":           `{"model_type":"llama"}`,
		"tokenizer.json":        `{"model":{}}`,
		"tokenizer_config.json": `{}`,
		"model.safetensors":     weights,
		"README.md":             "# not downloaded",
		"templates/chat.jinja":  "{{ messages }}",
		"pytorch_model.bin":     "pickle, not downloaded",
	}
}

// setup isolates the environment and returns a hub with org/model at main.
func setup(t *testing.T) (*fakeHub, Options) {
	for _, k := range []string{"HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_TOKEN", "HF_HUB_OFFLINE", "XDG_CACHE_HOME"} {
		t.Setenv(k, "")
	}
	h := newFakeHub(t)
	h.addCommit("org/model", "main", commitA, repoFiles(), "model.safetensors")
	return h, Options{Endpoint: h.hub.URL, CacheDir: t.TempDir()}
}

func checkSnapshot(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	for name, content := range want {
		p := filepath.Join(dir, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(got) != content {
			t.Errorf("%s: content differs (%d bytes, want %d)", name, len(got), len(content))
		}
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("%s is not a symlink: %v", name, err)
			continue
		}
		if filepath.IsAbs(target) || !strings.Contains(filepath.ToSlash(target), "../blobs/") {
			t.Errorf("%s links to %s, want a relative path into blobs/", name, target)
		}
	}
}

func TestDownload(t *testing.T) {
	h, o := setup(t)
	ctx := context.Background()
	dir, err := Download(ctx, "org/model", o)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(o.CacheDir, "models--org--model")
	if want := filepath.Join(repoDir, "snapshots", commitA); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	files := repoFiles()
	delete(files, "README.md")
	delete(files, "pytorch_model.bin")
	checkSnapshot(t, dir, files)
	for _, absent := range []string{"README.md", "pytorch_model.bin"} {
		if exists(filepath.Join(dir, absent)) {
			t.Errorf("%s downloaded but not allowed", absent)
		}
	}
	if ref, _ := os.ReadFile(filepath.Join(repoDir, "refs", "main")); string(ref) != commitA {
		t.Errorf("refs/main = %q", ref)
	}
	// Blobs are named by ETag: sha256 for LFS files, git sha1 otherwise.
	for name, etag := range map[string]string{"model.safetensors": sha256Hex(weights), "config.json": gitSHA(files["config.json"])} {
		if b, err := os.ReadFile(filepath.Join(repoDir, "blobs", etag)); err != nil || string(b) != files[name] {
			t.Errorf("blob %s for %s: %v", etag, name, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(repoDir, "blobs", "*.incomplete")); len(m) != 0 {
		t.Errorf("incomplete files left: %v", m)
	}
	if n := h.count("CDN GET /repos/" + sha256Hex(weights)); n != 1 {
		t.Errorf("CDN GETs = %d, want 1", n)
	}

	// A second call reuses every file: only the listing is requested.
	before := h.total("")
	dir2, err := Download(ctx, "org/model", o)
	if err != nil || dir2 != dir {
		t.Fatalf("second download: %s, %v", dir2, err)
	}
	if got := h.total("") - before; got != 1 || h.count("GET /api/models/org/model/revision/main") != 2 {
		t.Errorf("second download made %d requests, want 1 (the listing)", got)
	}
}

func TestDownloadBlobReuse(t *testing.T) {
	h, o := setup(t)
	files := repoFiles()
	files["config.json"] = `{"model_type":"llama","v":2}`
	h.addCommit("org/model", "v2", commitB, files, "model.safetensors")
	ctx := context.Background()
	if _, err := Download(ctx, "org/model", o); err != nil {
		t.Fatal(err)
	}
	o.Revision = "v2"
	dir, err := Download(ctx, "org/model", o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dir, commitB) {
		t.Errorf("dir %s", dir)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); string(b) != files["config.json"] {
		t.Errorf("config.json = %s", b)
	}
	if n := h.count("CDN GET /repos/" + sha256Hex(weights)); n != 1 {
		t.Errorf("same weights fetched %d times, want 1 (blob shared by ETag)", n)
	}
	// By commit: no ref is written for a commit hash.
	o.Revision = commitA
	if dir, err := Download(ctx, "org/model", o); err != nil || !strings.HasSuffix(dir, commitA) {
		t.Errorf("by commit: %s, %v", dir, err)
	}
	if exists(filepath.Join(o.CacheDir, "models--org--model", "refs", commitA)) {
		t.Error("a ref was written for a commit hash")
	}
}

func TestDownloadResume(t *testing.T) {
	h, o := setup(t)
	sum := sha256Hex(weights)
	ctx := context.Background()

	// No retries: the cut leaves an .incomplete blob and an error.
	h.dropAfter[sum] = 50000
	o.Retries = -1
	if _, err := Download(ctx, "org/model", o); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Fatalf("err = %v, want an interrupted-download error naming the file", err)
	}
	inc := filepath.Join(o.CacheDir, "models--org--model", "blobs", sum+".incomplete")
	if st, err := os.Stat(inc); err != nil || st.Size() != 50000 {
		t.Fatalf("incomplete file: %v %v", st, err)
	}
	if exists(filepath.Join(o.CacheDir, "models--org--model", "blobs", sum)) {
		t.Fatal("blob renamed into place before it was complete")
	}
	// The next call resumes where the file stopped.
	o.Retries = 0
	dir, err := Download(ctx, "org/model", o)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, dir, map[string]string{"model.safetensors": weights})
	if len(h.ranges) != 1 || h.ranges[0] != "bytes=50000-" {
		t.Errorf("CDN ranges = %v, want [bytes=50000-]", h.ranges)
	}

	// With retries, a cut in the same call is resumed transparently.
	_, o2 := setup(t)
	o2.Endpoint = h.hub.URL
	h.dropAfter[sum] = 777
	h.ranges = nil
	dir, err = Download(ctx, "org/model", o2)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, dir, map[string]string{"model.safetensors": weights})
	if len(h.ranges) != 1 || h.ranges[0] != "bytes=777-" {
		t.Errorf("CDN ranges = %v, want [bytes=777-]", h.ranges)
	}
}

func TestDownloadErrors(t *testing.T) {
	h, o := setup(t)
	h.addCommit("org/private", "main", commitB, map[string]string{"config.json": "{}"})
	h.repos["org/private"].private = true
	h.repos["org/model"].listExtra = []string{"generation_config.json"}
	ctx := context.Background()
	for _, tc := range []struct {
		name, repo, rev, token string
		want                   error
		msg                    string
	}{
		{"missing repo", "org/missing", "", "", ErrRepoNotFound, "hub: repository org/missing not found"},
		{"private without token", "org/private", "", "", ErrRepoNotFound, "hub: repository org/private not found"},
		{"private with wrong token", "org/private", "", "hf_wrong", ErrRepoNotFound, "(HTTP 401"},
		{"missing revision", "org/model", "nope", "", ErrRevisionNotFound, "hub: revision nope of repository org/model not found"},
		{"listed file missing", "org/model", "", "", ErrEntryNotFound, "generation_config.json not found"},
		{"bad id", "../etc", "", "", ErrBadRepoID, "not a repository id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oo := o
			oo.Revision, oo.Token = tc.rev, tc.token
			_, err := Download(ctx, tc.repo, oo)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
	t.Run("no matching files", func(t *testing.T) {
		oo := o
		oo.Allow = []string{"*.gguf"}
		if _, err := Download(ctx, "org/model", oo); !errors.Is(err, ErrNoFiles) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestToken(t *testing.T) {
	h, o := setup(t)
	h.addCommit("org/private", "main", commitB, map[string]string{"model.safetensors": weights}, "model.safetensors")
	h.repos["org/private"].private = true
	t.Setenv("HF_TOKEN", h.token)
	dir, err := Download(context.Background(), "org/private", o)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, dir, map[string]string{"model.safetensors": weights})
	if h.authHub < 2 {
		t.Errorf("hub saw the token %d times, want listing + resolve", h.authHub)
	}
	if h.authCDN != 0 {
		t.Errorf("token sent to the CDN %d times", h.authCDN)
	}
}

func TestOffline(t *testing.T) {
	h, o := setup(t)
	ctx := context.Background()
	// Uncached + offline: a clear error, no request.
	oo := o
	oo.Offline = true
	if _, err := Download(ctx, "org/model", oo); !errors.Is(err, ErrOffline) {
		t.Errorf("uncached offline: %v", err)
	}
	if h.total("") != 0 {
		t.Errorf("offline mode made %d requests", h.total(""))
	}
	dir, err := Download(ctx, "org/model", o)
	if err != nil {
		t.Fatal(err)
	}
	before := h.total("")
	t.Setenv("HF_HUB_OFFLINE", "1")
	if got, err := Download(ctx, "org/model", o); err != nil || got != dir {
		t.Errorf("HF_HUB_OFFLINE=1: %s, %v", got, err)
	}
	oo.Revision = commitA
	if got, err := Download(ctx, "org/model", oo); err != nil || got != dir {
		t.Errorf("offline by commit: %s, %v", got, err)
	}
	if h.total("") != before {
		t.Error("offline mode made requests")
	}
	t.Setenv("HF_HUB_OFFLINE", "")
	// Hub unreachable: the cached snapshot is used; an uncached repo fails.
	h.hub.Close()
	if got, err := Download(ctx, "org/model", o); err != nil || got != dir {
		t.Errorf("unreachable, cached: %s, %v", got, err)
	}
	if _, err := Download(ctx, "org/other", o); err == nil {
		t.Error("unreachable, uncached: no error")
	}
}

func TestProgressAndCancel(t *testing.T) {
	_, o := setup(t)
	var buf bytes.Buffer
	o.Progress = &buf
	if _, err := Download(context.Background(), "org/model", o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "model.safetensors") {
		t.Errorf("progress output %q lacks the file name", buf.String())
	}
	_, o2 := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Download(ctx, "org/model", o2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestEnvDefaults(t *testing.T) {
	h, _ := setup(t)
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", h.hub.URL+"/")
	t.Setenv("HF_HOME", home)
	dir, err := Download(context.Background(), "org/model", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "hub", "models--org--model", "snapshots", commitA); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HF_HUB_CACHE": "/c", "HF_HOME": "/h", "XDG_CACHE_HOME": "/x"}, "/c"},
		{map[string]string{"HF_HOME": "/h", "XDG_CACHE_HOME": "/x"}, filepath.FromSlash("/h/hub")},
		{map[string]string{"XDG_CACHE_HOME": "/x"}, filepath.FromSlash("/x/huggingface/hub")},
		{map[string]string{"HOME": "/home/u"}, filepath.FromSlash("/home/u/.cache/huggingface/hub")},
	} {
		for _, k := range []string{"HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"} {
			t.Setenv(k, tc.env[k])
		}
		if home, ok := tc.env["HOME"]; ok {
			t.Setenv("HOME", home)
		}
		if got, err := DefaultCacheDir(); err != nil || got != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.env, got, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	_, o := setup(t)
	ctx := context.Background()
	local := t.TempDir()
	file := filepath.Join(local, "m.gguf")
	os.WriteFile(file, []byte("GGUF"), 0o644)
	for _, tc := range []struct {
		in      string
		want    string
		wantErr error
	}{
		{local, local, nil},
		{file, file, nil},
		{"org/model", filepath.Join(o.CacheDir, "models--org--model", "snapshots", commitA), nil},
		{"./no/such/dir/x", "", ErrBadRepoID},
	} {
		got, err := Resolve(ctx, tc.in, o)
		if !errors.Is(err, tc.wantErr) || got != tc.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestValidRepoID(t *testing.T) {
	for id, want := range map[string]bool{
		"org/name": true, "gpt2": true, "Qwen/Qwen2.5-0.5B-Instruct": true, "a_b/c.d-e": true,
		"": false, "/abs": false, "a/b/c": false, "../x": false, "a/..": false, "a--b/c": false,
		"a/b ": false, "-a/b": false, "a\\b": false,
	} {
		if got := ValidRepoID(id); got != want {
			t.Errorf("ValidRepoID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.safetensors", "model.safetensors", true},
		{"*.safetensors", "sub/model-00001.safetensors", true},
		{"*.safetensors", "model.safetensors.index.json", false},
		{"config.json", "config.json", true},
		{"config.json", "sub/config.json", false},
		{"model-?.bin", "model-1.bin", true},
		{"model-?.bin", "model-10.bin", false},
		{"*", "", true},
		{"", "x", false},
		{"*a*b*c", "xaybzc", true},
		{"*a*b*c", "xaybz", false},
		{"*.jinja", "templates/chat.jinja", true},
	} {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestConcurrentDownloads(t *testing.T) {
	h, o := setup(t)
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = Download(context.Background(), "org/model", o)
		}()
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("download %d: %s, %v", i, dirs[i], errs[i])
		}
	}
	checkSnapshot(t, dirs[0], map[string]string{"model.safetensors": weights, "config.json": repoFiles()["config.json"]})
	if n := h.count("CDN GET /repos/" + sha256Hex(weights)); n != 1 {
		t.Errorf("weights fetched %d times by concurrent downloads, want 1", n)
	}
}

// A renamed repository answers with relative redirects to its new name; the
// files are cached under the name asked for, like huggingface_hub does.
func TestRenamedRepo(t *testing.T) {
	h, o := setup(t)
	h.renamed["old/model"] = "org/model"
	dir, err := Download(context.Background(), "old/model", o)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(o.CacheDir, "models--old--model", "snapshots", commitA); dir != want {
		t.Errorf("dir = %s, want %s", dir, want)
	}
	checkSnapshot(t, dir, map[string]string{"model.safetensors": weights, "config.json": repoFiles()["config.json"]})
	if h.count("HEAD /old/model/resolve/"+commitA+"/config.json") != 1 || h.count("HEAD /org/model/resolve/"+commitA+"/config.json") != 1 {
		t.Errorf("the relative redirect was not followed: %v", h.hits)
	}
}
