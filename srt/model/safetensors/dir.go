package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sglang-go/sglang/srt/tensor"
)

// IndexFile and SingleFile are the standard names in a model folder.
const (
	IndexFile  = "model.safetensors.index.json"
	SingleFile = "model.safetensors"
)

// Set is the tensors of a model folder, possibly spread over shards.
type Set struct {
	files []*File
	owner map[string]*File
	names []string
}

// OpenDir opens the safetensors weights of the model folder dir: the shards
// named by model.safetensors.index.json, else model.safetensors, else every
// *.safetensors file in dir. A tensor name found in two files is an error
// unless the index's weight_map says which one to use.
func OpenDir(dir string) (*Set, error) {
	idx := filepath.Join(dir, IndexFile)
	if b, err := os.ReadFile(idx); err == nil {
		return openIndexed(dir, b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	single := filepath.Join(dir, SingleFile)
	if _, err := os.Stat(single); err == nil {
		return openFiles([]string{single}, nil)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("safetensors: no .safetensors files in %s: %w", dir, ErrNotFound)
	}
	sort.Strings(paths)
	return openFiles(paths, nil)
}

func openIndexed(dir string, b []byte) (*Set, error) {
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("safetensors: %s: %v: %w", IndexFile, err, ErrBadIndex)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("safetensors: %s has no weight_map: %w", IndexFile, ErrBadIndex)
	}
	seen := map[string]bool{}
	var paths []string
	for _, name := range sortedKeys(idx.WeightMap) {
		shard := idx.WeightMap[name]
		if shard == "" || !filepath.IsLocal(shard) || strings.ContainsAny(shard, `/\`) {
			return nil, fmt.Errorf("safetensors: %s maps %q to %q, not a file in the folder: %w", IndexFile, name, shard, ErrBadIndex)
		}
		if !seen[shard] {
			seen[shard] = true
			paths = append(paths, filepath.Join(dir, shard))
		}
	}
	sort.Strings(paths)
	return openFiles(paths, idx.WeightMap)
}

func openFiles(paths []string, weightMap map[string]string) (*Set, error) {
	s := &Set{owner: map[string]*File{}}
	byBase := map[string]*File{}
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.files = append(s.files, f)
		byBase[filepath.Base(p)] = f
	}
	for name, shard := range weightMap {
		f := byBase[shard]
		if _, ok := f.Info(name); !ok {
			s.Close()
			return nil, fmt.Errorf("safetensors: %s maps %s to %s, which does not hold it: %w", IndexFile, name, shard, ErrBadIndex)
		}
		s.owner[name] = f
	}
	for _, f := range s.files {
		for _, name := range f.Names() {
			if _, mapped := weightMap[name]; mapped {
				continue
			}
			if other, dup := s.owner[name]; dup {
				s.Close()
				return nil, fmt.Errorf("safetensors: tensor %s is in both %s and %s: %w", name, other.Path(), f.Path(), ErrBadHeader)
			}
			s.owner[name] = f
		}
	}
	s.names = sortedKeys(s.owner)
	return s, nil
}

// Names returns every tensor name in sorted order.
func (s *Set) Names() []string { return append([]string(nil), s.names...) }

// Files returns the opened files in path order.
func (s *Set) Files() []*File { return append([]*File(nil), s.files...) }

// Info returns the header entry of the named tensor.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Tensor returns the named tensor with data aliasing its file.
func (s *Set) Tensor(name string) (*tensor.Tensor, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %s: %w", name, ErrNotFound)
	}
	return f.Tensor(name)
}

// Metadata returns the union of the files' __metadata__ (earlier files win).
func (s *Set) Metadata() map[string]string {
	out := map[string]string{}
	for i := len(s.files) - 1; i >= 0; i-- {
		for k, v := range s.files[i].Metadata() {
			out[k] = v
		}
	}
	return out
}

// Close closes every file, returning the first error.
func (s *Set) Close() error {
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
