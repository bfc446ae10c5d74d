package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sglang-go/sglang/srt/tensor"
)

// WriteTensor is a tensor to write: Data is already encoded in DType's layout
// and Shape is row-major, outermost first (it is written reversed as GGUF
// dims).
type WriteTensor struct {
	Name  string
	DType tensor.DType
	Shape []int
	Data  []byte
}

// Write writes a GGUF v3 file with the metadata in the order given and the
// tensors in the order given, each aligned to general.alignment (from meta,
// a uint32) or 32. Metadata values must be one of the Go types listed in the
// package comment (use explicit sizes: int and []int are rejected).
func Write(w io.Writer, meta []KV, tensors []WriteTensor) error {
	align := uint64(DefaultAlignment)
	seen := make(map[string]bool, len(meta))
	for _, kv := range meta {
		if seen[kv.Key] {
			return fmt.Errorf("gguf: write: duplicate metadata key %q: %w", kv.Key, ErrBadValue)
		}
		seen[kv.Key] = true
		if kv.Key == KeyAlignment {
			a, ok := kv.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("gguf: write: %s must be a uint32 power of two, have %T %v: %w", KeyAlignment, kv.Value, kv.Value, ErrBadValue)
			}
			align = uint64(a)
		}
	}
	type placed struct {
		ty     GGMLType
		offset uint64
	}
	pl := make([]placed, len(tensors))
	names := make(map[string]bool, len(tensors))
	var off uint64
	for i, t := range tensors {
		if names[t.Name] {
			return fmt.Errorf("gguf: write: duplicate tensor %q: %w", t.Name, ErrBadValue)
		}
		names[t.Name] = true
		gt, ok := GGMLTypeOf(t.DType)
		if !ok {
			return fmt.Errorf("gguf: write: tensor %q has unsupported type %v: %w", t.Name, t.DType, ErrUnsupportedType)
		}
		if err := checkShape(t); err != nil {
			return err
		}
		pl[i] = placed{gt, off}
		off = alignUp(off+uint64(len(t.Data)), align)
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	e := &encoder{w: bw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(meta)))
	for _, kv := range meta {
		e.str(kv.Key)
		if err := e.value(kv.Key, kv.Value, 0); err != nil {
			return err
		}
	}
	for i, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for j := len(t.Shape) - 1; j >= 0; j-- {
			e.u64(uint64(t.Shape[j]))
		}
		e.u32(uint32(pl[i].ty))
		e.u64(pl[i].offset)
	}
	e.pad(align)
	e.n = 0
	for _, t := range tensors {
		e.raw(t.Data)
		e.pad(align)
	}
	if e.err != nil {
		return fmt.Errorf("gguf: write: %w", e.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gguf: write: %w", err)
	}
	return nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

func checkShape(t WriteTensor) error {
	if len(t.Shape) == 0 || len(t.Shape) > 4 {
		return fmt.Errorf("gguf: write: tensor %q has %d dimensions (want 1 to 4): %w", t.Name, len(t.Shape), ErrBadValue)
	}
	n := 1
	for _, d := range t.Shape {
		if d <= 0 || n > math.MaxInt/d {
			return fmt.Errorf("gguf: write: tensor %q has bad shape %v: %w", t.Name, t.Shape, ErrBadValue)
		}
		n *= d
	}
	cols := t.Shape[len(t.Shape)-1]
	if cols%t.DType.BlockSize() != 0 {
		return fmt.Errorf("gguf: write: tensor %q of type %v: %d columns is not a multiple of %d: %w", t.Name, t.DType, cols, t.DType.BlockSize(), ErrBadValue)
	}
	if want := n / t.DType.BlockSize() * t.DType.BlockBytes(); len(t.Data) != want {
		return fmt.Errorf("gguf: write: tensor %q %v %v needs %d bytes, has %d: %w", t.Name, t.DType, t.Shape, want, len(t.Data), ErrBadValue)
	}
	return nil
}

type encoder struct {
	w   *bufio.Writer
	n   uint64 // bytes written since the last reset (for padding)
	err error
	buf [8]byte
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(b)
	e.n += uint64(len(b))
}

func (e *encoder) u8(v uint8) { e.raw([]byte{v}) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.raw(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.raw(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.raw(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
		e.n += uint64(len(s))
	}
}
func (e *encoder) pad(a uint64) {
	if r := e.n % a; r != 0 {
		e.raw(make([]byte, a-r))
	}
}

var errWriteType = errors.New("unsupported metadata Go type")

// typeOf returns the GGUF type of a scalar or slice Go value.
func typeOf(v any) (ValueType, bool) {
	switch v.(type) {
	case uint8, []uint8:
		return TypeUint8, true
	case int8, []int8:
		return TypeInt8, true
	case uint16, []uint16:
		return TypeUint16, true
	case int16, []int16:
		return TypeInt16, true
	case uint32, []uint32:
		return TypeUint32, true
	case int32, []int32:
		return TypeInt32, true
	case float32, []float32:
		return TypeFloat32, true
	case bool, []bool:
		return TypeBool, true
	case string, []string:
		return TypeString, true
	case uint64, []uint64:
		return TypeUint64, true
	case int64, []int64:
		return TypeInt64, true
	case float64, []float64:
		return TypeFloat64, true
	}
	return 0, false
}

func eachOf[T any](e *encoder, s []T, put func(T)) {
	e.u64(uint64(len(s)))
	for _, x := range s {
		put(x)
	}
}

func (e *encoder) value(key string, v any, depth int) error {
	if _, nested := v.([]any); nested || isSlice(v) {
		e.u32(uint32(TypeArray))
		return e.arrayBody(key, v, depth)
	}
	t, ok := typeOf(v)
	if !ok {
		return fmt.Errorf("gguf: write: %s: %T: %w", key, v, errWriteType)
	}
	e.u32(uint32(t))
	e.scalar(v)
	return nil
}

// arrayBody writes an array's element type, length and elements.
func (e *encoder) arrayBody(key string, v any, depth int) error {
	if depth >= maxArrayDepth {
		return fmt.Errorf("gguf: write: %s: arrays nested deeper than %d: %w", key, maxArrayDepth, ErrBadValue)
	}
	if nested, ok := v.([]any); ok {
		e.u32(uint32(TypeArray))
		e.u64(uint64(len(nested)))
		for _, x := range nested {
			if err := e.arrayBody(key, x, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	t, ok := typeOf(v)
	if !ok || !isSlice(v) {
		return fmt.Errorf("gguf: write: %s: array element %T is not an array: %w", key, v, errWriteType)
	}
	e.u32(uint32(t))
	e.array(v)
	return nil
}

func isSlice(v any) bool {
	switch v.(type) {
	case []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool, []string, []uint64, []int64, []float64:
		return true
	}
	return false
}

func (e *encoder) scalar(v any) {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	}
}

func (e *encoder) array(v any) {
	switch x := v.(type) {
	case []uint8:
		e.u64(uint64(len(x)))
		e.raw(x)
	case []int8:
		eachOf(e, x, func(y int8) { e.u8(uint8(y)) })
	case []uint16:
		eachOf(e, x, e.u16)
	case []int16:
		eachOf(e, x, func(y int16) { e.u16(uint16(y)) })
	case []uint32:
		eachOf(e, x, e.u32)
	case []int32:
		eachOf(e, x, func(y int32) { e.u32(uint32(y)) })
	case []float32:
		eachOf(e, x, func(y float32) { e.u32(math.Float32bits(y)) })
	case []bool:
		eachOf(e, x, func(y bool) { e.scalar(y) })
	case []string:
		eachOf(e, x, e.str)
	case []uint64:
		eachOf(e, x, e.u64)
	case []int64:
		eachOf(e, x, func(y int64) { e.u64(uint64(y)) })
	case []float64:
		eachOf(e, x, func(y float64) { e.u64(math.Float64bits(y)) })
	}
}
