package gguf

import (
	"fmt"
	"github.com/sglang-go/sglang/internal/mmap"
	"math"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Open memory-maps the GGUF file at path and parses it. Call Close when the
// tensors are no longer used.
func Open(path string) (*File, error) {
	b, closer, err := mmap.Map(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: open %s: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		closer()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	f.closer = closer
	return f, nil
}

// Close releases the file's memory mapping. Tensors returned by Tensor must
// not be used afterwards. Close is idempotent.
func (f *File) Close() error {
	c := f.closer
	f.closer = nil
	f.data = nil
	if c == nil {
		return nil
	}
	if err := c(); err != nil {
		return fmt.Errorf("gguf: close: %w", err)
	}
	return nil
}

// TensorInfos returns the tensor descriptions in file order.
func (f *File) TensorInfos() []TensorInfo { return append([]TensorInfo(nil), f.infos...) }

// TensorInfo returns the description of the named tensor.
func (f *File) TensorInfo(name string) (TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.infos[i], true
}

// TensorData returns the raw bytes of the named tensor, whatever its type.
func (f *File) TensorData(name string) ([]byte, error) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %s: %w", name, ErrNotFound)
	}
	ti := &f.infos[i]
	if ti.Type.BlockSize() == 0 {
		return nil, fmt.Errorf("gguf: tensor %s has unknown type %v: %w", name, ti.Type, ErrUnsupportedType)
	}
	if f.data == nil {
		return nil, fmt.Errorf("gguf: tensor %s: file is closed", name)
	}
	start := f.DataOffset + ti.Offset
	return f.data[start : start+ti.Size : start+ti.Size], nil
}

// Tensor returns the named tensor with its data aliasing the file, Shape
// being the GGUF dims reversed (outermost first). Types the runtime does not
// support give an error wrapping ErrUnsupportedType that names the type.
func (f *File) Tensor(name string) (*tensor.Tensor, error) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %s: %w", name, ErrNotFound)
	}
	ti := &f.infos[i]
	dt, ok := ti.Type.DType()
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %s has unsupported type %v: %w", name, ti.Type, ErrUnsupportedType)
	}
	shape := make([]int, len(ti.Dims))
	for j, d := range ti.Dims {
		if d > math.MaxInt {
			return nil, fmt.Errorf("gguf: tensor %s dim %d too large: %w", name, d, ErrCorrupt)
		}
		shape[len(shape)-1-j] = int(d)
	}
	data, err := f.TensorData(name)
	if err != nil {
		return nil, err
	}
	return &tensor.Tensor{DType: dt, Shape: shape, Data: data}, nil
}
