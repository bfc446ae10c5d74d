// Package gguf reads and writes GGUF model files (versions 2 and 3), the
// format of llama.cpp.
//
// Contract:
//   - Open memory-maps a file (read-only; a plain read on systems without
//     mmap) and parses it; Parse parses a byte slice it does not copy. Tensor
//     data returned by File.Tensor aliases that memory and must not be
//     written, nor used after Close.
//   - Parsing never panics and never allocates more than the input can
//     describe: every count and length is checked against the bytes left.
//     Tensor data ranges are checked against the data section when parsed.
//   - Metadata values keep their GGUF type as a Go type: uint8, int8, uint16,
//     int16, uint32, int32, uint64, int64, float32, float64, bool, string;
//     arrays become typed slices ([]string, []float32, []int32, ...), and
//     arrays of arrays become []any holding those slices.
//   - File.Tensor maps ggml types F32, F16, BF16, Q8_0 and Q4_0 to tensor.DType
//     with Shape = GGUF dims reversed (outermost first). Other ggml types
//     parse but File.Tensor returns an error wrapping ErrUnsupportedType.
//   - Errors are prefixed "gguf: " and wrap the sentinel errors below.
package gguf

import (
	"errors"
)

// Sentinel errors; test with errors.Is.
var (
	ErrBadMagic           = errors.New("bad magic (not a GGUF file)")
	ErrUnsupportedVersion = errors.New("unsupported GGUF version")
	ErrTruncated          = errors.New("truncated file")
	ErrCorrupt            = errors.New("corrupt file")
	ErrUnsupportedType    = errors.New("unsupported type")
	ErrNotFound           = errors.New("not found")
	ErrBadValue           = errors.New("bad value")
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment used when general.alignment is absent.
const DefaultAlignment = 32

// KeyAlignment is the metadata key that overrides the data alignment.
const KeyAlignment = "general.alignment"

// ValueType is the GGUF type tag of a metadata value.
type ValueType uint32

// GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return "ValueType(" + itoa(uint64(t)) + ")"
}

// KV is one metadata entry, in file order.
type KV struct {
	Key   string
	Value any
}

// TensorInfo describes one tensor as the file declares it.
type TensorInfo struct {
	Name   string
	Type   GGMLType
	Dims   []uint64 // ggml ne[]: innermost (contiguous) dimension first
	Offset uint64   // from the start of the data section
	Size   uint64   // bytes; 0 when Type's layout is unknown
}

// Elements returns the number of values in the tensor.
func (ti *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range ti.Dims {
		n *= d
	}
	return n
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
