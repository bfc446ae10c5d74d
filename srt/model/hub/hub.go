// Package hub downloads model repositories from the Hugging Face Hub (or a
// mirror speaking its protocol) into the standard huggingface_hub cache, so
// folders are shared with Python tools.
//
// Contract:
//   - Download lists a revision with GET {endpoint}/api/models/{repo}/revision/{rev},
//     keeps the files matching Options.Allow, and fetches each with
//     {endpoint}/{repo}/resolve/{commit}/{file}, following redirects. It
//     returns {cache}/models--{org}--{name}/snapshots/{commit}.
//   - Cache layout: blobs/{etag} hold contents, snapshots/{commit}/{file}
//     are relative symlinks to them (copies where symlinks fail), and
//     refs/{rev} holds the commit a branch or tag resolved to.
//   - A file already in the snapshot is not requested again; a blob already
//     present (same etag) is linked without downloading. Downloads go to
//     blobs/{etag}.incomplete, resume with a Range request after an
//     interruption (a few retries per file), and are renamed into place
//     only when complete.
//   - With HF_HUB_OFFLINE=1 (or Options.Offline) no request is made; when the
//     hub cannot be reached a cached snapshot of the revision is used.
//   - HTTP 401 and 404 become errors wrapping ErrRepoNotFound,
//     ErrRevisionNotFound or ErrEntryNotFound that name the repository.
//   - Errors are prefixed "hub: ".
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Sentinel errors; test with errors.Is.
var (
	ErrRepoNotFound     = errors.New("repository not found")
	ErrRevisionNotFound = errors.New("revision not found")
	ErrEntryNotFound    = errors.New("file not found")
	ErrGated            = errors.New("access restricted")
	ErrOffline          = errors.New("offline and not cached")
	ErrBadRepoID        = errors.New("bad repository id")
	ErrNoFiles          = errors.New("no files to download")
	ErrBadResponse      = errors.New("bad response from hub")
)

// DefaultEndpoint is the public hub.
const DefaultEndpoint = "https://huggingface.co"

// DefaultAllow returns the file selection used when Options.Allow is empty:
// what a server needs to load a model from safetensors.
func DefaultAllow() []string {
	return []string{
		"config.json", "generation_config.json",
		"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
		"added_tokens.json", "vocab.json", "merges.txt", "tokenizer.model",
		"*.safetensors", "model.safetensors.index.json",
		"*.jinja", "preprocessor_config.json",
	}
}

// Options configures Download. The zero value uses the environment like
// huggingface_hub does.
type Options struct {
	// Endpoint defaults to $HF_ENDPOINT, else DefaultEndpoint.
	Endpoint string
	// CacheDir defaults to $HF_HUB_CACHE, else $HF_HOME/hub, else
	// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
	CacheDir string
	// Revision is a branch, tag or commit; default "main".
	Revision string
	// Token defaults to $HF_TOKEN; sent as "Authorization: Bearer" to the hub
	// (not to other hosts it redirects to).
	Token string
	// Progress receives a progress bar per downloaded file; nil for none.
	Progress io.Writer
	// HTTPClient defaults to a client without timeout (use ctx to cancel).
	HTTPClient *http.Client
	// Allow holds glob patterns over repository paths ('*' also matches
	// '/'); default DefaultAllow().
	Allow []string
	// Offline forbids network access; HF_HUB_OFFLINE=1 sets it too.
	Offline bool
	// Retries is how many times an interrupted file download is resumed;
	// default 3, negative for none.
	Retries int
}

func (o Options) withDefaults() (Options, error) {
	if o.Endpoint == "" {
		o.Endpoint = os.Getenv("HF_ENDPOINT")
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = dir
	}
	if o.Revision == "" {
		o.Revision = "main"
	}
	if o.Token == "" {
		o.Token = os.Getenv("HF_TOKEN")
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if len(o.Allow) == 0 {
		o.Allow = DefaultAllow()
	}
	if isTrue(os.Getenv("HF_HUB_OFFLINE")) {
		o.Offline = true
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	return o, nil
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// DefaultCacheDir returns the hub cache folder the environment selects.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub"), nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "huggingface", "hub"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: no cache folder: set HF_HUB_CACHE or HF_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface", "hub"), nil
}

var repoIDRe = regexp.MustCompile(`^(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidRepoID reports whether id looks like a hub model id ("org/name" or
// a legacy "name").
func ValidRepoID(id string) bool {
	return len(id) <= 96 && repoIDRe.MatchString(id) && !strings.Contains(id, "..") && !strings.Contains(id, "--")
}

// IsLocal reports whether path names an existing local file or folder.
func IsLocal(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Resolve returns pathOrID itself when it is an existing local file or
// folder, and otherwise downloads it as a repository id.
func Resolve(ctx context.Context, pathOrID string, o Options) (string, error) {
	if IsLocal(pathOrID) {
		return pathOrID, nil
	}
	if !ValidRepoID(pathOrID) {
		return "", fmt.Errorf("hub: %q is neither a local path nor a repository id: %w", pathOrID, ErrBadRepoID)
	}
	return Download(ctx, pathOrID, o)
}
