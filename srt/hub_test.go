package srt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/model/hub"
)

// TestEngineDownloadsHubID loads a model by Hugging Face id from a local
// server that answers the hub's URLs, as `sglang generate --model-path
// org/name` does, and checks the download lands in the HF cache layout and
// generates the golden ids.
func TestEngineDownloadsHubID(t *testing.T) {
	src := shared.Path(t, "models", "stories260K")
	files := []string{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	var fetched []string
	mux := http.NewServeMux()
	mux.HandleFunc("/api/models/karpathy/stories260K/revision/main", func(w http.ResponseWriter, r *http.Request) {
		var sib []map[string]string
		for _, f := range files {
			sib = append(sib, map[string]string{"rfilename": f})
		}
		json.NewEncoder(w).Encode(map[string]any{"sha": commit, "siblings": sib})
	})
	mux.HandleFunc("/karpathy/stories260K/resolve/", func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		if !slices.Contains(files, name) {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Error(err)
			return
		}
		sum := sha256.Sum256(b)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Repo-Commit", commit)
		if r.Method == http.MethodGet {
			fetched = append(fetched, name)
		}
		http.ServeContent(w, r, name, fileTime(t, filepath.Join(src, name)), bytes.NewReader(b))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cache := t.TempDir()
	var progress bytes.Buffer
	opts := Options{ModelPath: "karpathy/stories260K", Threads: 2, Hub: hub.Options{Endpoint: srv.URL, CacheDir: cache, Progress: &progress}}
	eng, err := NewEngine(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: greedyParams(8)})
	eng.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := readGolden(t, "stories260K")
	if !slices.Equal(out.OutputIDs, g.Cases[0].GreedyIDs[:8]) {
		t.Errorf("downloaded model generated %v, want %v", out.OutputIDs, g.Cases[0].GreedyIDs[:8])
	}
	snap := filepath.Join(cache, "models--karpathy--stories260K", "snapshots", commit, "model.safetensors")
	if fi, err := os.Lstat(snap); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("snapshot file %s: %v (want a symlink into blobs/)", snap, err)
	}
	if progress.Len() == 0 {
		t.Error("no download progress was shown")
	}
	// A second start uses the cache and downloads nothing again.
	n := len(fetched)
	eng, err = NewEngine(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if len(fetched) != n {
		t.Errorf("second start downloaded again: %v", fetched[n:])
	}
	// An unknown id says so.
	opts.ModelPath = "karpathy/missing"
	opts.Hub.CacheDir = t.TempDir()
	if _, err := NewEngine(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown repo: %v", err)
	}
}

func fileTime(t *testing.T, p string) (mt time.Time) {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}
