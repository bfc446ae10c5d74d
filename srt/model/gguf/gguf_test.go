package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sglang-go/sglang/srt/tensor"
)

func sampleMeta(align uint32) []KV {
	return []KV{
		{"general.architecture", "llama"},
		{KeyAlignment, align},
		{"u8", uint8(200)},
		{"i8", int8(-5)},
		{"u16", uint16(65000)},
		{"i16", int16(-30000)},
		{"u32", uint32(4000000000)},
		{"i32", int32(-2000000000)},
		{"f32", float32(1e-5)},
		{"bool.t", true},
		{"bool.f", false},
		{"str.empty", ""},
		{"str.utf8", "héllo ▁ 世界"},
		{"u64", uint64(math.MaxUint64)},
		{"i64", int64(math.MinInt64)},
		{"f64", math.Pi},
		{"arr.str", []string{"<unk>", "", "a b", "▁the"}},
		{"arr.f32", []float32{0, -1.5, 3}},
		{"arr.i32", []int32{1, 2, 3, 6}},
		{"arr.u8", []uint8{1, 2}},
		{"arr.i8", []int8{-1}},
		{"arr.u16", []uint16{7}},
		{"arr.i16", []int16{-7}},
		{"arr.u32", []uint32{9, 10}},
		{"arr.u64", []uint64{1 << 40}},
		{"arr.i64", []int64{-1 << 40}},
		{"arr.f64", []float64{2.5}},
		{"arr.bool", []bool{true, false, true}},
		{"arr.empty", []string{}},
		{"arr.nested", []any{[]int32{1, 2}, []string{"x"}, []any{[]float32{1}}, []any{}}},
	}
}

func sampleTensors() []WriteTensor {
	f32 := make([]byte, 2*3*4)
	for i := range f32 {
		f32[i] = byte(i)
	}
	q8 := make([]byte, 2*34)
	for i := range q8 {
		q8[i] = byte(3 * i)
	}
	return []WriteTensor{
		{Name: "a.f32", DType: tensor.F32, Shape: []int{2, 3}, Data: f32},
		{Name: "b.f16", DType: tensor.F16, Shape: []int{5}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{Name: "c.bf16", DType: tensor.BF16, Shape: []int{1, 2, 1}, Data: []byte{0x80, 0x3f, 0, 0x40}},
		{Name: "d.q8_0", DType: tensor.Q8_0, Shape: []int{1, 64}, Data: q8},
		{Name: "e.q4_0", DType: tensor.Q4_0, Shape: []int{2, 1, 1, 32}, Data: bytes.Repeat([]byte{0x5a}, 36)},
	}
}

func writeSample(t testing.TB, align uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, sampleMeta(align), sampleTensors()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, align := range []uint32{32, 64, 1, 4096} {
		b := writeSample(t, align)
		f, err := Parse(b)
		if err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		if f.Version != 3 || f.Alignment != uint64(align) || f.DataOffset%uint64(align) != 0 {
			t.Errorf("align %d: version %d alignment %d data offset %d", align, f.Version, f.Alignment, f.DataOffset)
		}
		if got := f.KVs(); !reflect.DeepEqual(got, sampleMeta(align)) {
			t.Errorf("align %d: metadata differs:\n got %#v\nwant %#v", align, got, sampleMeta(align))
		}
		want := sampleTensors()
		infos := f.TensorInfos()
		if len(infos) != len(want) {
			t.Fatalf("align %d: %d tensors, want %d", align, len(infos), len(want))
		}
		for i, w := range want {
			if infos[i].Name != w.Name || infos[i].Offset%uint64(align) != 0 {
				t.Errorf("align %d: info %d = %+v", align, i, infos[i])
			}
			got, err := f.Tensor(w.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) || !bytes.Equal(got.Data, w.Data) {
				t.Errorf("align %d: tensor %s = %v %v % x, want %v %v % x", align, w.Name, got.DType, got.Shape, got.Data, w.DType, w.Shape, w.Data)
			}
		}
		if n := len(b); n%int(align) != 0 {
			t.Errorf("align %d: file length %d not padded", align, n)
		}
	}
}

func TestAccessors(t *testing.T) {
	f, err := Parse(writeSample(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		name string
		got  any
		ok   bool
		want any
		wok  bool
	}
	u8, ok1 := f.Uint32("u8")
	u32, ok2 := f.Uint32("u32")
	i32u, ok3 := f.Uint32("i32")
	u64u, ok4 := f.Uint32("u64")
	i8, ok5 := f.Int("i8")
	i64, ok6 := f.Int("i64")
	u64i, ok7 := f.Int("u64")
	sInt, ok8 := f.Int("general.architecture")
	f32, ok9 := f.Float32("f32")
	f64, ok10 := f.Float32("f64")
	bt, ok11 := f.Bool("bool.t")
	bf, ok12 := f.Bool("bool.f")
	s, ok13 := f.String("str.utf8")
	ss, ok14 := f.Strings("arr.str")
	fs, ok15 := f.Float32s("arr.f64")
	is, ok16 := f.Int32s("arr.i32")
	is2, ok17 := f.Int32s("arr.u8")
	is3, ok18 := f.Int32s("arr.u32")
	_, ok19 := f.Int32s("arr.u64")
	_, ok20 := f.Strings("missing")
	_, ok21 := f.String("u8")
	for _, c := range []check{
		{"Uint32(u8)", u8, ok1, uint32(200), true},
		{"Uint32(u32)", u32, ok2, uint32(4000000000), true},
		{"Uint32(negative i32)", i32u, ok3, uint32(0), false},
		{"Uint32(huge u64)", u64u, ok4, uint32(0), false},
		{"Int(i8)", i8, ok5, int64(-5), true},
		{"Int(i64)", i64, ok6, int64(math.MinInt64), true},
		{"Int(huge u64)", u64i, ok7, int64(0), false},
		{"Int(string)", sInt, ok8, int64(0), false},
		{"Float32(f32)", f32, ok9, float32(1e-5), true},
		{"Float32(f64)", f64, ok10, float32(math.Pi), true},
		{"Bool(t)", bt, ok11, true, true},
		{"Bool(f)", bf, ok12, false, true},
		{"String", s, ok13, "héllo ▁ 世界", true},
		{"Strings", ss, ok14, []string{"<unk>", "", "a b", "▁the"}, true},
		{"Float32s(f64)", fs, ok15, []float32{2.5}, true},
		{"Int32s(i32)", is, ok16, []int32{1, 2, 3, 6}, true},
		{"Int32s(u8)", is2, ok17, []int32{1, 2}, true},
		{"Int32s(u32)", is3, ok18, []int32{9, 10}, true},
		{"Int32s(u64 too big)", nil, ok19, nil, false},
		{"Strings(missing)", nil, ok20, nil, false},
		{"String(u8)", nil, ok21, nil, false},
	} {
		if c.ok != c.wok || (c.wok && !reflect.DeepEqual(c.got, c.want)) {
			t.Errorf("%s = %v, %v; want %v, %v", c.name, c.got, c.ok, c.want, c.wok)
		}
	}
	if keys := f.Keys(); len(keys) != len(sampleMeta(32)) || keys[0] != "general.architecture" || keys[len(keys)-1] != "arr.nested" {
		t.Errorf("Keys() = %v", keys)
	}
}

func TestWriteErrors(t *testing.T) {
	good := sampleTensors()[0]
	for _, tc := range []struct {
		name    string
		meta    []KV
		tensors []WriteTensor
		want    error
	}{
		{"plain int", []KV{{"x", 5}}, nil, errWriteType},
		{"int slice", []KV{{"x", []int{5}}}, nil, errWriteType},
		{"nested scalar", []KV{{"x", []any{int32(1)}}}, nil, errWriteType},
		{"duplicate key", []KV{{"x", "a"}, {"x", "b"}}, nil, ErrBadValue},
		{"alignment not uint32", []KV{{KeyAlignment, uint64(32)}}, nil, ErrBadValue},
		{"alignment not power of 2", []KV{{KeyAlignment, uint32(48)}}, nil, ErrBadValue},
		{"duplicate tensor", nil, []WriteTensor{good, good}, ErrBadValue},
		{"short data", nil, []WriteTensor{{Name: "t", DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 7)}}, ErrBadValue},
		{"zero dim", nil, []WriteTensor{{Name: "t", DType: tensor.F32, Shape: []int{0, 2}}}, ErrBadValue},
		{"no dims", nil, []WriteTensor{{Name: "t", DType: tensor.F32, Data: make([]byte, 4)}}, ErrBadValue},
		{"five dims", nil, []WriteTensor{{Name: "t", DType: tensor.F32, Shape: []int{1, 1, 1, 1, 1}, Data: make([]byte, 4)}}, ErrBadValue},
		{"q8 partial block", nil, []WriteTensor{{Name: "t", DType: tensor.Q8_0, Shape: []int{33}, Data: make([]byte, 34)}}, ErrBadValue},
		{"unknown dtype", nil, []WriteTensor{{Name: "t", DType: tensor.DType(99), Shape: []int{1}, Data: make([]byte, 4)}}, ErrUnsupportedType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, tc.meta, tc.tensors)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// patchTensorType rewrites the ggml type of the named tensor in b's header.
func patchTensorType(t *testing.T, b []byte, name string, ndims int, ty GGMLType) []byte {
	t.Helper()
	b = bytes.Clone(b)
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		t.Fatalf("tensor name %q not in file", name)
	}
	binary.LittleEndian.PutUint32(b[i+len(name)+4+8*ndims:], uint32(ty))
	return b
}

func TestParseErrors(t *testing.T) {
	sample := writeSample(t, 32)
	f, err := Parse(sample)
	if err != nil {
		t.Fatal(err)
	}
	hdrEnd := int(f.DataOffset)
	le := binary.LittleEndian
	mod := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(sample)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic only", []byte("GGUF"), ErrTruncated},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrBadMagic},
		{"version 1", mod(func(b []byte) []byte { le.PutUint32(b[4:], 1); return b }), ErrUnsupportedVersion},
		{"big endian", mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[4:], 3); return b }), ErrUnsupportedVersion},
		{"huge tensor count", mod(func(b []byte) []byte { le.PutUint64(b[8:], 1<<62); return b }), ErrTruncated},
		{"huge kv count", mod(func(b []byte) []byte { le.PutUint64(b[16:], math.MaxUint64); return b }), ErrTruncated},
		{"huge key length", mod(func(b []byte) []byte { le.PutUint64(b[24:], 1<<40); return b }), ErrTruncated},
		{"unknown value type", mod(func(b []byte) []byte { le.PutUint32(b[32+len("general.architecture"):], 77); return b }), ErrUnsupportedType},
		{"truncated data", sample[:len(sample)-40], ErrTruncated},
		{"header only", sample[:hdrEnd-1], ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.b)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Every truncation of the file is an error, never a panic.
	for n := 0; n < len(sample)-1; n++ {
		if _, err := Parse(sample[:n]); err == nil && n < hdrEnd {
			t.Fatalf("Parse of %d-byte prefix succeeded", n)
		}
	}
}

func TestUnsupportedTensorType(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, nil, []WriteTensor{{Name: "blk.0.attn_q.weight", DType: tensor.F32, Shape: []int{1, 256}, Data: make([]byte, 1024)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ty      GGMLType
		wantMsg string
		size    uint64
	}{
		{GGMLTypeQ4_K, "gguf: tensor blk.0.attn_q.weight has unsupported type Q4_K", 144},
		{GGMLTypeQ6_K, "gguf: tensor blk.0.attn_q.weight has unsupported type Q6_K", 210},
		{GGMLTypeQ5_0, "gguf: tensor blk.0.attn_q.weight has unsupported type Q5_0", 8 * 22},
		{GGMLType(200), "gguf: tensor blk.0.attn_q.weight has unsupported type GGMLType(200)", 0},
	} {
		f, err := Parse(patchTensorType(t, buf.Bytes(), "blk.0.attn_q.weight", 2, tc.ty))
		if err != nil {
			t.Fatalf("%v: %v", tc.ty, err)
		}
		if ti, _ := f.TensorInfo("blk.0.attn_q.weight"); ti.Size != tc.size || ti.Type != tc.ty {
			t.Errorf("%v: info %+v, want size %d", tc.ty, ti, tc.size)
		}
		_, err = f.Tensor("blk.0.attn_q.weight")
		if !errors.Is(err, ErrUnsupportedType) || err.Error()[:len(tc.wantMsg)] != tc.wantMsg {
			t.Errorf("%v: err = %v", tc.ty, err)
		}
	}
	// A row that is not a whole number of blocks is corrupt.
	if _, err := Parse(patchTensorType(t, buf.Bytes(), "blk.0.attn_q.weight", 2, GGMLTypeQ8_0)); err != nil {
		t.Errorf("Q8_0 [1,256]: %v", err)
	}
	var b2 bytes.Buffer
	if err := Write(&b2, nil, []WriteTensor{{Name: "t", DType: tensor.F32, Shape: []int{40}, Data: make([]byte, 160)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(patchTensorType(t, b2.Bytes(), "t", 1, GGMLTypeQ8_0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Q8_0 with 40 columns: err = %v, want ErrCorrupt", err)
	}
}

func TestOpenClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(p, writeSample(t, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := f.Tensor("a.f32")
	if err != nil || tt.Data[5] != 5 {
		t.Fatalf("tensor: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.Tensor("a.f32"); err == nil {
		t.Error("Tensor after Close succeeded")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "absent.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(absent) = %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.gguf")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); !errors.Is(err, ErrTruncated) {
		t.Errorf("Open(empty) = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	sample := writeSample(f, 32)
	f.Add(sample)
	f.Add(sample[:200])
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gf, err := Parse(b)
		if err != nil {
			return
		}
		for _, k := range gf.Keys() {
			gf.Value(k)
			gf.Strings(k)
			gf.Int32s(k)
			gf.Float32s(k)
		}
		for _, ti := range gf.TensorInfos() {
			if tt, err := gf.Tensor(ti.Name); err == nil {
				n := 1
				for _, d := range tt.Shape {
					n *= d
				}
				if want := n / tt.DType.BlockSize() * tt.DType.BlockBytes(); len(tt.Data) != want {
					t.Fatalf("tensor %s: %d bytes, want %d", ti.Name, len(tt.Data), want)
				}
			}
		}
	})
}
