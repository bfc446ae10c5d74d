package safetensors

import (
	"encoding/binary"
	"fmt"
	"github.com/sglang-go/sglang/internal/mmap"
	"sort"

	"github.com/sglang-go/sglang/srt/tensor"
)

// File is one parsed .safetensors file. Its read methods are safe for
// concurrent use; Close is not.
type File struct {
	path   string
	header *Header
	index  map[string]int
	data   []byte // the data section
	closer func() error
}

// Parse parses a whole .safetensors file held in b, without copying it.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes has no header length: %w", len(b), ErrTruncated)
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds %d: %w", n, MaxHeaderSize, ErrBadHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d but only %d bytes follow: %w", n, len(b)-8, ErrTruncated)
	}
	data := b[8+n:]
	h, err := ParseHeader(b[8:8+n], int64(len(data)))
	if err != nil {
		return nil, err
	}
	f := &File{header: h, data: data, index: make(map[string]int, len(h.Tensors))}
	for i, ti := range h.Tensors {
		f.index[ti.Name] = i
	}
	return f, nil
}

// Open memory-maps and parses the .safetensors file at path.
func Open(path string) (*File, error) {
	b, closer, err := mmap.Map(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: open %s: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		closer()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	f.path, f.closer = path, closer
	return f, nil
}

// Path returns the path the file was opened from ("" for Parse).
func (f *File) Path() string { return f.path }

// Close releases the mapping; tensors must not be used afterwards. Close is
// idempotent.
func (f *File) Close() error {
	c := f.closer
	f.closer, f.data = nil, nil
	if c == nil {
		return nil
	}
	if err := c(); err != nil {
		return fmt.Errorf("safetensors: close %s: %w", f.path, err)
	}
	return nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	out := make([]string, len(f.header.Tensors))
	for i, ti := range f.header.Tensors {
		out[i] = ti.Name
	}
	return out
}

// Metadata returns the __metadata__ map (empty when absent). Do not modify it.
func (f *File) Metadata() map[string]string { return f.header.Metadata }

// Info returns the header entry of the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.header.Tensors[i], true
}

// Data returns the raw bytes of the named tensor, whatever its dtype.
func (f *File) Data(name string) ([]byte, error) {
	ti, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %s: %w", name, ErrNotFound)
	}
	if f.data == nil && ti.End > 0 {
		return nil, fmt.Errorf("safetensors: tensor %s: file is closed", name)
	}
	return f.data[ti.Begin:ti.End:ti.End], nil
}

// Tensor returns the named tensor with data aliasing the file.
func (f *File) Tensor(name string) (*tensor.Tensor, error) {
	ti, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %s: %w", name, ErrNotFound)
	}
	dt, ok := DTypeOf(ti.DType)
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %s has unsupported dtype %s: %w", name, ti.DType, ErrUnsupportedType)
	}
	data, err := f.Data(name)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{DType: dt, Shape: append([]int(nil), ti.Shape...), Data: data}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
