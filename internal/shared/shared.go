// Package shared locates the read-only test data folder (../shared beside the
// repository) for tests. The folder is found through one environment variable,
// SGLANG_SHARED, whose default is the "shared" folder next to the repository root.
package shared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvVar names the environment variable that overrides the shared folder's path.
const EnvVar = "SGLANG_SHARED"

// Root returns the shared folder's path; ok is false when it does not exist.
func Root() (string, bool) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		// internal/shared/shared.go -> repo root -> ../shared
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	}
	dir = filepath.Clean(dir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return dir, false
	}
	return dir, true
}

// Path returns the path of elem under the shared folder, or skips the test
// with a clear message when the shared folder (or that path) is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	root, ok := Root()
	if !ok {
		tb.Skipf("shared test data not found at %s (set %s to the folder holding models/ and tokenizers/)", root, EnvVar)
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test data %s is missing: %v", p, err)
	}
	return p
}
