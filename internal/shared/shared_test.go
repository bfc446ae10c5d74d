package shared

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootHonoursEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	got, ok := Root()
	if !ok || got != filepath.Clean(dir) {
		t.Fatalf("Root() = %q, %v; want %q, true", got, ok, dir)
	}
	t.Setenv(EnvVar, filepath.Join(dir, "absent"))
	if _, ok := Root(); ok {
		t.Fatal("Root() reported an absent folder as present")
	}
}

func TestDefaultFindsSharedBesideRepo(t *testing.T) {
	t.Setenv(EnvVar, "")
	root, ok := Root()
	if !ok {
		t.Skipf("no shared folder at %s", root)
	}
	if _, err := os.Stat(filepath.Join(root, "models")); err != nil {
		t.Fatalf("shared folder %s has no models/: %v", root, err)
	}
}
