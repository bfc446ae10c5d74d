package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// testMeta is a minimal GGUF metadata reader for the tests, so they do not
// depend on the state of the full GGUF/tensor packages. It implements
// GGUFMeta, like *gguf.File.
type testMeta map[string]any

func readTestMeta(path string) (testMeta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &metaReader{b: b}
	if string(r.next(4)) != "GGUF" {
		return nil, errors.New("not a GGUF file")
	}
	if v := r.u32(); v < 2 || v > 3 {
		return nil, fmt.Errorf("GGUF version %d", v)
	}
	r.u64() // tensors
	n := r.u64()
	m := testMeta{}
	for i := uint64(0); i < n && r.err == nil; i++ {
		k := r.str()
		m[k] = r.value(r.u32())
	}
	return m, r.err
}

type metaReader struct {
	b   []byte
	off int
	err error
}

func (r *metaReader) next(n int) []byte {
	if r.err != nil || n < 0 || r.off+n > len(r.b) {
		r.err = errors.New("truncated GGUF")
		return make([]byte, max(n, 0))
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}
func (r *metaReader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *metaReader) u64() uint64 { return binary.LittleEndian.Uint64(r.next(8)) }
func (r *metaReader) str() string {
	n := r.u64()
	if n > uint64(len(r.b)) {
		r.err = errors.New("bad string length")
		return ""
	}
	return string(r.next(int(n)))
}

func (r *metaReader) value(t uint32) any {
	switch t {
	case 0:
		return uint64(r.next(1)[0])
	case 1:
		return int64(int8(r.next(1)[0]))
	case 2:
		return uint64(binary.LittleEndian.Uint16(r.next(2)))
	case 3:
		return int64(int16(binary.LittleEndian.Uint16(r.next(2))))
	case 4:
		return uint64(r.u32())
	case 5:
		return int64(int32(r.u32()))
	case 6:
		return math.Float32frombits(r.u32())
	case 7:
		return r.next(1)[0] != 0
	case 8:
		return r.str()
	case 9:
		et, n := r.u32(), r.u64()
		if n > uint64(len(r.b)) {
			r.err = errors.New("bad array length")
			return nil
		}
		out := make([]any, 0, n)
		for i := uint64(0); i < n && r.err == nil; i++ {
			out = append(out, r.value(et))
		}
		return out
	case 10:
		return r.u64()
	case 11:
		return int64(r.u64())
	case 12:
		return math.Float64frombits(r.u64())
	}
	r.err = fmt.Errorf("GGUF value type %d", t)
	return nil
}

func (m testMeta) String(k string) (string, bool) { s, ok := m[k].(string); return s, ok }
func (m testMeta) Bool(k string) (bool, bool)     { b, ok := m[k].(bool); return b, ok }
func (m testMeta) Uint32(k string) (uint32, bool) {
	switch v := m[k].(type) {
	case uint64:
		return uint32(v), v <= math.MaxUint32
	case int64:
		return uint32(v), v >= 0 && v <= math.MaxUint32
	}
	return 0, false
}

func (m testMeta) Strings(k string) ([]string, bool) {
	a, ok := m[k].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(a))
	for i, v := range a {
		if out[i], ok = v.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

func (m testMeta) Float32s(k string) ([]float32, bool) {
	a, ok := m[k].([]any)
	if !ok {
		return nil, false
	}
	out := make([]float32, len(a))
	for i, v := range a {
		if out[i], ok = v.(float32); !ok {
			return nil, false
		}
	}
	return out, true
}

func (m testMeta) Int32s(k string) ([]int32, bool) {
	a, ok := m[k].([]any)
	if !ok {
		return nil, false
	}
	out := make([]int32, len(a))
	for i, v := range a {
		switch x := v.(type) {
		case int64:
			out[i] = int32(x)
		case uint64:
			out[i] = int32(x)
		default:
			return nil, false
		}
	}
	return out, true
}
