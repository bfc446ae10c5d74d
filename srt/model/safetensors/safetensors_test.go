package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/srt/tensor"
)

func TestRealFiles(t *testing.T) {
	for _, tc := range []struct {
		dir      string
		count    int
		dtype    tensor.DType
		embShape []int
	}{
		{"stories260K", 47, tensor.F32, []int{512, 64}},
		{"tiny-random-qwen2", 26, tensor.BF16, []int{151936, 32}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			s, err := OpenDir(shared.Path(t, "models", tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := len(s.Names()); n != tc.count {
				t.Errorf("%d tensors, want %d", n, tc.count)
			}
			if got := s.Metadata()["format"]; got != "pt" {
				t.Errorf("metadata format = %q, want pt", got)
			}
			emb, err := s.Tensor("model.embed_tokens.weight")
			if err != nil {
				t.Fatal(err)
			}
			if emb.DType != tc.dtype || !reflect.DeepEqual(emb.Shape, tc.embShape) {
				t.Errorf("embed: %v %v", emb.DType, emb.Shape)
			}
			if _, err := emb.Matrix(); err != nil {
				t.Error(err)
			}
			for _, name := range s.Names() {
				tt, err := s.Tensor(name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if tt.DType != tc.dtype {
					t.Errorf("%s: dtype %v", name, tt.DType)
				}
			}
			if _, err := s.Tensor("lm_head.weight"); !errors.Is(err, ErrNotFound) {
				t.Errorf("lm_head (tied, absent): err = %v", err)
			}
		})
	}
}

// TestRewriteReal checks the writer reproduces the reference writer's bytes.
func TestRewriteReal(t *testing.T) {
	for _, dir := range []string{"stories260K", "tiny-random-qwen2"} {
		p := shared.Path(t, "models", dir, "model.safetensors")
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(orig)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*tensor.Tensor{}
		for _, name := range f.Names() {
			if m[name], err = f.Tensor(name); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m, f.Metadata()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("%s: rewrite differs (len %d vs %d)", dir, buf.Len(), len(orig))
		}
	}
}

func f32Tensor(shape []int, seed byte) *tensor.Tensor {
	n := 4
	for _, d := range shape {
		n *= d
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return &tensor.Tensor{DType: tensor.F32, Shape: shape, Data: b}
}

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := map[string]*tensor.Tensor{
		"b":     f32Tensor([]int{2, 3}, 1),
		"a<&>":  {DType: tensor.BF16, Shape: []int{3}, Data: []byte{1, 2, 3, 4, 5, 6}},
		"c.f16": {DType: tensor.F16, Shape: []int{1, 1, 2}, Data: []byte{9, 8, 7, 6}},
		"empty": {DType: tensor.F32, Shape: []int{0, 4}, Data: nil},
	}
	meta := map[string]string{"format": "pt", "quote\"": "new\nline"}
	p := filepath.Join(dir, "x.safetensors")
	if err := Write(p, in, meta); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if hl := binary.LittleEndian.Uint64(raw); hl%8 != 0 || !bytes.HasPrefix(raw[8:], []byte(`{"__metadata__":`)) {
		t.Errorf("header length %d, header %q", hl, raw[8:40])
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Metadata(), meta) {
		t.Errorf("metadata %v", f.Metadata())
	}
	if got, want := f.Names(), []string{"a<&>", "b", "c.f16", "empty"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names %v", got)
	}
	prevEnd := int64(0)
	for _, name := range f.Names() {
		got, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		w := in[name]
		if got.DType != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) || !bytes.Equal(got.Data, w.Data) {
			t.Errorf("%s: %v %v % x", name, got.DType, got.Shape, got.Data)
		}
		ti, _ := f.Info(name)
		if ti.Begin != prevEnd {
			t.Errorf("%s: begins at %d, want %d (name order, contiguous)", name, ti.Begin, prevEnd)
		}
		prevEnd = ti.End
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]*tensor.Tensor
		want error
	}{
		{"q8", map[string]*tensor.Tensor{"x": {DType: tensor.Q8_0, Shape: []int{32}, Data: make([]byte, 34)}}, ErrUnsupportedType},
		{"short", map[string]*tensor.Tensor{"x": {DType: tensor.F32, Shape: []int{2}, Data: make([]byte, 7)}}, ErrShapeMismatch},
		{"negative", map[string]*tensor.Tensor{"x": {DType: tensor.F32, Shape: []int{-1}}}, ErrBadHeader},
		{"reserved", map[string]*tensor.Tensor{MetadataKey: f32Tensor([]int{1}, 0)}, ErrBadHeader},
		{"nil", map[string]*tensor.Tensor{"x": nil}, ErrBadHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.safetensors")
			if err := Write(p, tc.in, nil); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("failed write left %s", p)
			}
		})
	}
}

// build makes a file from a literal header and data length.
func build(header string, dataLen int) []byte {
	b := make([]byte, 8, 8+len(header)+dataLen)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, dataLen)...)
}

func TestParseErrors(t *testing.T) {
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<60)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"header beyond file", build("{}", 0)[:9], ErrTruncated},
		{"header too large", append(hugeLen, "{}"...), ErrBadHeader},
		{"only length", build("{}", 0)[:8], ErrTruncated},
		{"not an object", build("[1,2]", 0), ErrBadHeader},
		{"bad json", build(`{"a":`, 0), ErrBadHeader},
		{"missing field", build(`{"a":{"dtype":"F32","shape":[1]}}`, 4), ErrBadHeader},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, 0), ErrBadHeader},
		{"offsets length", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), ErrBadHeader},
		{"reversed offsets", build(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 4), ErrBadHeader},
		{"beyond data", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), ErrTruncated},
		{"shape mismatch", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8), ErrShapeMismatch},
		{"negative dim", build(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 8), ErrBadHeader},
		{"overflowing shape", build(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 8), ErrBadHeader},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrBadHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOtherDTypes(t *testing.T) {
	hdr := `{"f64":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"u8":{"dtype":"U8","shape":[3],"data_offsets":[16,19]},` +
		`"f8":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[19,20]},"i64":{"dtype":"I64","shape":[],"data_offsets":[24,32]},` +
		`"new":{"dtype":"Z9","shape":[1],"data_offsets":[32,33]}}   `
	f, err := Parse(build(hdr, 40))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dtype string }{{"f64", "F64"}, {"u8", "U8"}, {"f8", "F8_E4M3"}, {"i64", "I64"}, {"new", "Z9"}} {
		_, err := f.Tensor(tc.name)
		want := "safetensors: tensor " + tc.name + " has unsupported dtype " + tc.dtype
		if !errors.Is(err, ErrUnsupportedType) || err.Error() != want+": "+ErrUnsupportedType.Error() {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if d, err := f.Data(tc.name); err != nil || len(d) == 0 {
			t.Errorf("%s: Data = %d bytes, %v", tc.name, len(d), err)
		}
	}
}

func writeShards(t *testing.T, dir string, shards map[string]map[string]*tensor.Tensor) {
	t.Helper()
	for name, ts := range shards {
		if err := Write(filepath.Join(dir, name), ts, map[string]string{"format": "pt", "shard": name}); err != nil {
			t.Fatal(err)
		}
	}
}

func writeIndex(t *testing.T, dir string, wm map[string]string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 1}, "weight_map": wm})
	if err := os.WriteFile(filepath.Join(dir, IndexFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDir(t *testing.T) {
	s1 := "model-00001-of-00002.safetensors"
	s2 := "model-00002-of-00002.safetensors"
	shards := map[string]map[string]*tensor.Tensor{
		s1: {"a": f32Tensor([]int{2}, 1), "b": f32Tensor([]int{3}, 2)},
		s2: {"c": f32Tensor([]int{1, 4}, 3)},
	}
	t.Run("indexed", func(t *testing.T) {
		dir := t.TempDir()
		writeShards(t, dir, shards)
		writeIndex(t, dir, map[string]string{"a": s1, "b": s1, "c": s2})
		s, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := s.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Errorf("names %v", got)
		}
		for shard, ts := range shards {
			for name, want := range ts {
				got, err := s.Tensor(name)
				if err != nil || !bytes.Equal(got.Data, want.Data) || !reflect.DeepEqual(got.Shape, want.Shape) {
					t.Errorf("%s from %s: %v", name, shard, err)
				}
			}
		}
		if len(s.Files()) != 2 || s.Metadata()["shard"] != s1 {
			t.Errorf("files %d metadata %v", len(s.Files()), s.Metadata())
		}
	})
	t.Run("glob", func(t *testing.T) {
		dir := t.TempDir()
		writeShards(t, dir, shards)
		s, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if len(s.Names()) != 3 {
			t.Errorf("names %v", s.Names())
		}
	})
	t.Run("single wins over stray files", func(t *testing.T) {
		dir := t.TempDir()
		writeShards(t, dir, map[string]map[string]*tensor.Tensor{SingleFile: shards[s1], "other.safetensors": shards[s1]})
		s, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if len(s.Files()) != 1 || len(s.Names()) != 2 {
			t.Errorf("files %d names %v", len(s.Files()), s.Names())
		}
	})
	for _, tc := range []struct {
		name   string
		shards map[string]map[string]*tensor.Tensor
		index  map[string]string
		want   error
	}{
		{"empty folder", nil, nil, ErrNotFound},
		{"duplicate across shards", map[string]map[string]*tensor.Tensor{s1: shards[s1], s2: shards[s1]}, nil, ErrBadHeader},
		{"index names wrong shard", shards, map[string]string{"a": s2, "b": s1, "c": s2}, ErrBadIndex},
		{"index escapes folder", shards, map[string]string{"a": "../x.safetensors"}, ErrBadIndex},
		{"index missing shard", shards, map[string]string{"a": "absent.safetensors"}, os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeShards(t, dir, tc.shards)
			if tc.index != nil {
				writeIndex(t, dir, tc.index)
			}
			s, err := OpenDir(dir)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if s != nil {
				s.Close()
			}
		})
	}
	t.Run("bad index json", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, IndexFile), []byte("{"), 0o644)
		if _, err := OpenDir(dir); !errors.Is(err, ErrBadIndex) || !strings.Contains(err.Error(), IndexFile) {
			t.Errorf("err = %v", err)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, map[string]*tensor.Tensor{"a": f32Tensor([]int{2, 2}, 0), "b": {DType: tensor.BF16, Shape: []int{1}, Data: []byte{1, 2}}}, map[string]string{"k": "v"})
	hl := binary.LittleEndian.Uint64(buf.Bytes())
	f.Add(buf.Bytes()[8:8+hl], int64(18))
	f.Add([]byte(`{"a":{"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]}}`), int64(1))
	f.Add([]byte(`{}`), int64(0))
	f.Fuzz(func(t *testing.T, hdr []byte, dataSize int64) {
		h, err := ParseHeader(hdr, dataSize)
		if err != nil {
			return
		}
		for _, ti := range h.Tensors {
			if ti.Begin < 0 || ti.End < ti.Begin || ti.End > dataSize {
				t.Fatalf("accepted bad range %+v for %d bytes", ti, dataSize)
			}
			if size, known, err := byteSize(ti.DType, ti.Shape); err != nil || (known && int64(size) != ti.End-ti.Begin) {
				t.Fatalf("accepted %+v with size %d, %v", ti, size, err)
			}
		}
	})
}

func BenchmarkOpenDirQwen(b *testing.B) {
	dir := shared.Path(b, "models", "tiny-random-qwen2")
	for b.Loop() {
		s, err := OpenDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Tensor("model.embed_tokens.weight"); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
