package gguf

import "math"

// Keys returns the metadata keys in file order.
func (f *File) Keys() []string {
	out := make([]string, len(f.kvs))
	for i, kv := range f.kvs {
		out[i] = kv.Key
	}
	return out
}

// KVs returns the metadata entries in file order. The slice is a copy; the
// values (including array slices) are shared and must not be modified.
func (f *File) KVs() []KV { return append([]KV(nil), f.kvs...) }

// Value returns the metadata value stored under key.
func (f *File) Value(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.kvs[i].Value, true
}

// String returns a string value.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Value(key)
	s, ok := v.(string)
	return s, ok
}

// Uint32 returns an integer value of any integer type that fits in uint32.
func (f *File) Uint32(key string) (uint32, bool) {
	v, _ := f.Value(key)
	u, ok := asUint64(v)
	if !ok || u > math.MaxUint32 {
		return 0, false
	}
	return uint32(u), true
}

// Int returns an integer value of any integer type that fits in int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Value(key)
	return asInt64(v)
}

// Float32 returns a float32 or float64 value as float32.
func (f *File) Float32(key string) (float32, bool) {
	v, _ := f.Value(key)
	switch x := v.(type) {
	case float32:
		return x, true
	case float64:
		return float32(x), true
	}
	return 0, false
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Value(key)
	b, ok := v.(bool)
	return b, ok
}

// Strings returns an array of strings. The slice is shared; do not modify it.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Value(key)
	s, ok := v.([]string)
	return s, ok
}

// Float32s returns an array of float32 (float64 arrays are converted). The
// slice may be shared; do not modify it.
func (f *File) Float32s(key string) ([]float32, bool) {
	v, _ := f.Value(key)
	switch x := v.(type) {
	case []float32:
		return x, true
	case []float64:
		out := make([]float32, len(x))
		for i, e := range x {
			out[i] = float32(e)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns an array of integers that all fit in int32 (such as
// tokenizer.ggml.token_type). The slice may be shared; do not modify it.
func (f *File) Int32s(key string) ([]int32, bool) {
	v, _ := f.Value(key)
	switch x := v.(type) {
	case []int32:
		return x, true
	case []uint8, []int8, []uint16, []int16, []uint32, []uint64, []int64:
		return convInt32s(x)
	}
	return nil, false
}

func convInt32s(v any) ([]int32, bool) {
	var out []int32
	add := func(i int64) bool {
		if i < math.MinInt32 || i > math.MaxInt32 {
			return false
		}
		out = append(out, int32(i))
		return true
	}
	ok := true
	switch x := v.(type) {
	case []uint8:
		for _, e := range x {
			ok = ok && add(int64(e))
		}
	case []int8:
		for _, e := range x {
			ok = ok && add(int64(e))
		}
	case []uint16:
		for _, e := range x {
			ok = ok && add(int64(e))
		}
	case []int16:
		for _, e := range x {
			ok = ok && add(int64(e))
		}
	case []uint32:
		for _, e := range x {
			ok = ok && add(int64(e))
		}
	case []int64:
		for _, e := range x {
			ok = ok && add(e)
		}
	case []uint64:
		for _, e := range x {
			ok = ok && e <= math.MaxInt32 && add(int64(e))
		}
	}
	if !ok {
		return nil, false
	}
	if out == nil {
		out = []int32{}
	}
	return out, true
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

func asUint64(v any) (uint64, bool) {
	if u, ok := v.(uint64); ok {
		return u, true
	}
	i, ok := asInt64(v)
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}
