package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// maxArrayDepth bounds nesting of arrays of arrays.
const maxArrayDepth = 8

// maxDims bounds the number of tensor dimensions (ggml has 4).
const maxDims = 8

// File is a parsed GGUF file. Its methods are safe for concurrent use once
// parsed, except Close.
type File struct {
	Version    uint32
	Alignment  uint64 // data alignment (general.alignment or 32)
	DataOffset uint64 // absolute offset of the data section

	kvs     []KV
	kvIndex map[string]int
	infos   []TensorInfo
	tIndex  map[string]int
	data    []byte // whole file
	closer  func() error
}

type decoder struct {
	b   []byte
	off int
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) need(n int, what string) error {
	if n < 0 || d.remaining() < n {
		return fmt.Errorf("gguf: reading %s at offset %d: need %d bytes, have %d: %w", what, d.off, n, d.remaining(), ErrTruncated)
	}
	return nil
}

func (d *decoder) u8(what string) (uint8, error) {
	if err := d.need(1, what); err != nil {
		return 0, err
	}
	v := d.b[d.off]
	d.off++
	return v, nil
}

func (d *decoder) u16(what string) (uint16, error) {
	if err := d.need(2, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

// count reads a uint64 element count and checks that count elements of at
// least minSize bytes each fit in the bytes left.
func (d *decoder) count(what string, minSize int) (int, error) {
	at := d.off
	n, err := d.u64(what)
	if err != nil {
		return 0, err
	}
	if n > uint64(d.remaining()/minSize) {
		return 0, fmt.Errorf("gguf: %s %d at offset %d needs at least %d bytes each, %d bytes left: %w", what, n, at, minSize, d.remaining(), ErrTruncated)
	}
	return int(n), nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.count(what+" length", 1)
	if err != nil {
		return "", err
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s, nil
}

// Parse parses a GGUF file held in b. The returned File aliases b (tensor
// data is not copied); b must not change while the File is in use.
func Parse(b []byte) (*File, error) {
	d := &decoder{b: b}
	if err := d.need(4, "magic"); err != nil {
		return nil, err
	}
	if string(b[:4]) != Magic {
		return nil, fmt.Errorf("gguf: magic %q: %w", b[:4], ErrBadMagic)
	}
	d.off = 4
	ver, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	if ver != 2 && ver != 3 {
		if v := bits.ReverseBytes32(ver); v == 2 || v == 3 {
			return nil, fmt.Errorf("gguf: big-endian GGUF v%d: %w", v, ErrUnsupportedVersion)
		}
		return nil, fmt.Errorf("gguf: version %d (want 2 or 3): %w", ver, ErrUnsupportedVersion)
	}
	f := &File{Version: ver, Alignment: DefaultAlignment, data: b}
	// Each tensor info takes at least 8 (name) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
	nt, err := d.count("tensor count", 24)
	if err != nil {
		return nil, err
	}
	// Each KV takes at least 8 (key) + 4 (type) + 1 (value) bytes.
	nkv, err := d.count("metadata count", 13)
	if err != nil {
		return nil, err
	}
	f.kvs = make([]KV, 0, nkv)
	f.kvIndex = make(map[string]int, nkv)
	for i := 0; i < nkv; i++ {
		key, err := d.str("metadata key")
		if err != nil {
			return nil, err
		}
		t, err := d.u32("type of " + key)
		if err != nil {
			return nil, err
		}
		v, err := d.value(ValueType(t), key, 0)
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, fmt.Errorf("gguf: duplicate metadata key %q: %w", key, ErrCorrupt)
		}
		f.kvIndex[key] = len(f.kvs)
		f.kvs = append(f.kvs, KV{Key: key, Value: v})
	}
	if v, ok := f.Value(KeyAlignment); ok {
		a, ok := asUint64(v)
		if !ok || a == 0 || a&(a-1) != 0 || a > 1<<30 {
			return nil, fmt.Errorf("gguf: %s = %v is not a power of two: %w", KeyAlignment, v, ErrBadValue)
		}
		f.Alignment = a
	}
	f.infos = make([]TensorInfo, 0, nt)
	f.tIndex = make(map[string]int, nt)
	for i := 0; i < nt; i++ {
		ti, err := d.tensorInfo()
		if err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[ti.Name]; dup {
			return nil, fmt.Errorf("gguf: duplicate tensor %q: %w", ti.Name, ErrCorrupt)
		}
		f.tIndex[ti.Name] = len(f.infos)
		f.infos = append(f.infos, ti)
	}
	off := uint64(d.off)
	if r := off % f.Alignment; r != 0 {
		off += f.Alignment - r
	}
	if nt > 0 && off > uint64(len(b)) {
		return nil, fmt.Errorf("gguf: data section at %d beyond end of file (%d bytes): %w", off, len(b), ErrTruncated)
	}
	f.DataOffset = off
	dataLen := uint64(0)
	if off < uint64(len(b)) {
		dataLen = uint64(len(b)) - off
	}
	for i := range f.infos {
		ti := &f.infos[i]
		if ti.Offset%f.Alignment != 0 {
			return nil, fmt.Errorf("gguf: tensor %q offset %d not aligned to %d: %w", ti.Name, ti.Offset, f.Alignment, ErrCorrupt)
		}
		if ti.Offset > dataLen || ti.Size > dataLen-ti.Offset {
			return nil, fmt.Errorf("gguf: tensor %q data [%d, +%d) beyond data section of %d bytes: %w", ti.Name, ti.Offset, ti.Size, dataLen, ErrTruncated)
		}
	}
	return f, nil
}

func (d *decoder) tensorInfo() (TensorInfo, error) {
	var ti TensorInfo
	name, err := d.str("tensor name")
	if err != nil {
		return ti, err
	}
	ti.Name = name
	nd, err := d.u32("dims of tensor " + name)
	if err != nil {
		return ti, err
	}
	if nd > maxDims {
		return ti, fmt.Errorf("gguf: tensor %q has %d dimensions (max %d): %w", name, nd, maxDims, ErrCorrupt)
	}
	if err := d.need(int(nd)*8, "dims of tensor "+name); err != nil {
		return ti, err
	}
	ti.Dims = make([]uint64, nd)
	elems := uint64(1)
	for j := range ti.Dims {
		v, _ := d.u64("dim")
		ti.Dims[j] = v
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 || lo > math.MaxInt64 {
			return ti, fmt.Errorf("gguf: tensor %q dims %v overflow: %w", name, ti.Dims, ErrCorrupt)
		}
		elems = lo
	}
	t, err := d.u32("type of tensor " + name)
	if err != nil {
		return ti, err
	}
	ti.Type = GGMLType(t)
	if ti.Offset, err = d.u64("offset of tensor " + name); err != nil {
		return ti, err
	}
	if bs := ti.Type.BlockSize(); bs > 0 {
		if nd > 0 && ti.Dims[0]%bs != 0 {
			return ti, fmt.Errorf("gguf: tensor %q of type %v: row of %d values is not a multiple of the block size %d: %w", name, ti.Type, ti.Dims[0], bs, ErrCorrupt)
		}
		hi, lo := bits.Mul64(elems/bs, ti.Type.BlockBytes())
		if hi != 0 || lo > math.MaxInt64 {
			return ti, fmt.Errorf("gguf: tensor %q size overflows: %w", name, ErrCorrupt)
		}
		ti.Size = lo
	}
	return ti, nil
}

// minValueSize is the fewest bytes a value of type t can take.
func minValueSize(t ValueType) int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeString, TypeUint64, TypeInt64, TypeFloat64:
		return 8
	case TypeArray:
		return 12
	}
	return 1
}

func (d *decoder) value(t ValueType, key string, depth int) (any, error) {
	switch t {
	case TypeUint8:
		return d.u8(key)
	case TypeInt8:
		v, err := d.u8(key)
		return int8(v), err
	case TypeUint16:
		return d.u16(key)
	case TypeInt16:
		v, err := d.u16(key)
		return int16(v), err
	case TypeUint32:
		return d.u32(key)
	case TypeInt32:
		v, err := d.u32(key)
		return int32(v), err
	case TypeFloat32:
		v, err := d.u32(key)
		return math.Float32frombits(v), err
	case TypeBool:
		v, err := d.u8(key)
		if err == nil && v > 1 {
			return nil, fmt.Errorf("gguf: %s: bool byte %d: %w", key, v, ErrBadValue)
		}
		return v == 1, err
	case TypeString:
		return d.str(key)
	case TypeUint64:
		return d.u64(key)
	case TypeInt64:
		v, err := d.u64(key)
		return int64(v), err
	case TypeFloat64:
		v, err := d.u64(key)
		return math.Float64frombits(v), err
	case TypeArray:
		if depth >= maxArrayDepth {
			return nil, fmt.Errorf("gguf: %s: arrays nested deeper than %d: %w", key, maxArrayDepth, ErrCorrupt)
		}
		et, err := d.u32(key + " element type")
		if err != nil {
			return nil, err
		}
		if ValueType(et) > TypeFloat64 {
			return nil, fmt.Errorf("gguf: %s: array of unknown value type %d: %w", key, et, ErrUnsupportedType)
		}
		n, err := d.count(key+" array length", minValueSize(ValueType(et)))
		if err != nil {
			return nil, err
		}
		return d.array(ValueType(et), n, key, depth)
	}
	return nil, fmt.Errorf("gguf: %s: unknown value type %d: %w", key, t, ErrUnsupportedType)
}

func fixed[T any](d *decoder, n, size int, conv func([]byte) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = conv(d.b[d.off:])
		d.off += size
	}
	return out
}

// array reads n elements of type et; count has checked that n fit.
func (d *decoder) array(et ValueType, n int, key string, depth int) (any, error) {
	le := binary.LittleEndian
	switch et {
	case TypeUint8:
		return fixed(d, n, 1, func(b []byte) uint8 { return b[0] }), nil
	case TypeInt8:
		return fixed(d, n, 1, func(b []byte) int8 { return int8(b[0]) }), nil
	case TypeBool:
		out := make([]bool, n)
		for i := range out {
			v := d.b[d.off]
			if v > 1 {
				return nil, fmt.Errorf("gguf: %s[%d]: bool byte %d: %w", key, i, v, ErrBadValue)
			}
			out[i] = v == 1
			d.off++
		}
		return out, nil
	case TypeUint16:
		return fixed(d, n, 2, func(b []byte) uint16 { return le.Uint16(b) }), nil
	case TypeInt16:
		return fixed(d, n, 2, func(b []byte) int16 { return int16(le.Uint16(b)) }), nil
	case TypeUint32:
		return fixed(d, n, 4, func(b []byte) uint32 { return le.Uint32(b) }), nil
	case TypeInt32:
		return fixed(d, n, 4, func(b []byte) int32 { return int32(le.Uint32(b)) }), nil
	case TypeFloat32:
		return fixed(d, n, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) }), nil
	case TypeUint64:
		return fixed(d, n, 8, func(b []byte) uint64 { return le.Uint64(b) }), nil
	case TypeInt64:
		return fixed(d, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) }), nil
	case TypeFloat64:
		return fixed(d, n, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }), nil
	case TypeString:
		return d.strings(n, key)
	case TypeArray:
		out := make([]any, n)
		for i := range out {
			v, err := d.value(TypeArray, key, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("gguf: %s: array of unknown value type %d: %w", key, et, ErrUnsupportedType)
}

// strings reads n strings into one shared backing allocation (vocabularies
// hold hundreds of thousands of short strings).
func (d *decoder) strings(n int, key string) ([]string, error) {
	start, total := d.off, 0
	what := key + " string length"
	for i := 0; i < n; i++ {
		l, err := d.count(what, 1)
		if err != nil {
			return nil, err
		}
		d.off += l
		total += l
	}
	buf := make([]byte, 0, total)
	out := make([]string, n)
	d.off = start
	for i := range out {
		l := int(binary.LittleEndian.Uint64(d.b[d.off:]))
		d.off += 8
		if l > 0 {
			at := len(buf)
			buf = append(buf, d.b[d.off:d.off+l]...)
			out[i] = unsafe.String(&buf[at], l)
		}
		d.off += l
	}
	return out, nil
}
