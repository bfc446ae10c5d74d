// Package safetensors reads and writes Hugging Face .safetensors files and
// model folders made of them (single file or sharded with an index).
//
// Contract:
//   - Open memory-maps one file (read-only; a plain read on systems without
//     mmap); Parse parses a byte slice without copying it. Tensor data
//     aliases that memory: never write it, never use it after Close.
//   - The header is checked fully before any tensor is returned: its length
//     lies within the file (and under MaxHeaderSize), it is a JSON object,
//     every tensor's data_offsets lie within the data section, match
//     shape × dtype size, and no two tensors overlap.
//   - Dtypes F32, F16 and BF16 map to tensor.DType. Other dtypes (F64, I64,
//     U8, F8_E4M3, ...) parse, but Tensor returns an error wrapping
//     ErrUnsupportedType that names the dtype.
//   - OpenDir opens a model folder: model.safetensors.index.json (its
//     weight_map), else model.safetensors, else every *.safetensors file.
//   - Errors are prefixed "safetensors: " and wrap the sentinels below.
package safetensors

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Sentinel errors; test with errors.Is.
var (
	ErrTruncated       = errors.New("truncated file")
	ErrBadHeader       = errors.New("bad header")
	ErrShapeMismatch   = errors.New("data size does not match shape")
	ErrUnsupportedType = errors.New("unsupported dtype")
	ErrNotFound        = errors.New("not found")
	ErrBadIndex        = errors.New("bad index file")
)

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// 100 MB).
const MaxHeaderSize = 100 << 20

// MetadataKey is the header entry holding free-form string metadata.
const MetadataKey = "__metadata__"

// dtypeBits gives the storage width of every dtype the format defines.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// DTypeOf maps a safetensors dtype name to tensor.DType.
func DTypeOf(name string) (tensor.DType, bool) {
	switch name {
	case "F32":
		return tensor.F32, true
	case "F16":
		return tensor.F16, true
	case "BF16":
		return tensor.BF16, true
	}
	return 0, false
}

// DTypeName maps a tensor.DType to its safetensors dtype name.
func DTypeName(d tensor.DType) (string, bool) {
	switch d {
	case tensor.F32:
		return "F32", true
	case tensor.F16:
		return "F16", true
	case tensor.BF16:
		return "BF16", true
	}
	return "", false
}

// TensorInfo is one header entry. Begin and End are byte offsets from the
// start of the data section.
type TensorInfo struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64
}

// Header is a parsed header: tensors sorted by name, plus __metadata__.
type Header struct {
	Tensors  []TensorInfo
	Metadata map[string]string
}

// byteSize returns the bytes shape×dtype needs; ok is false for an unknown
// dtype or an overflowing shape.
func byteSize(dtype string, shape []int) (uint64, bool, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, false, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false, fmt.Errorf("shape %v overflows", shape)
		}
		n = lo
	}
	b, ok := dtypeBits[dtype]
	if !ok {
		return 0, false, nil
	}
	hi, lo := bits.Mul64(n, b)
	if hi != 0 || lo > math.MaxInt64-7 {
		return 0, false, fmt.Errorf("shape %v overflows", shape)
	}
	return (lo + 7) / 8, true, nil
}

func sortInfos(ts []TensorInfo) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
}
