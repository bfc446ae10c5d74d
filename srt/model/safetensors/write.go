package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sglang-go/sglang/srt/tensor"
)

// Write writes tensors (F32, F16 or BF16) and metadata to path as one
// .safetensors file: tensors in name order, the header padded with spaces
// to a multiple of 8 bytes. The file is written to a temporary name in the
// same folder and renamed into place.
func Write(path string, tensors map[string]*tensor.Tensor, metadata map[string]string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Encode(tmp, tensors, metadata); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// Encode writes a .safetensors file to w; see Write.
func Encode(w io.Writer, tensors map[string]*tensor.Tensor, metadata map[string]string) error {
	names := sortedKeys(tensors)
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			hdr.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		sep()
		writeJSONString(&hdr, MetadataKey)
		hdr.WriteString(":{")
		for i, k := range sortedKeys(metadata) {
			if i > 0 {
				hdr.WriteByte(',')
			}
			writeJSONString(&hdr, k)
			hdr.WriteByte(':')
			writeJSONString(&hdr, metadata[k])
		}
		hdr.WriteByte('}')
	}
	var off int64
	for _, name := range names {
		t := tensors[name]
		if name == MetadataKey {
			return fmt.Errorf("safetensors: write: tensor name %s is reserved: %w", name, ErrBadHeader)
		}
		if t == nil {
			return fmt.Errorf("safetensors: write: tensor %s is nil: %w", name, ErrBadHeader)
		}
		dt, ok := DTypeName(t.DType)
		if !ok {
			return fmt.Errorf("safetensors: write: tensor %s has unsupported dtype %v: %w", name, t.DType, ErrUnsupportedType)
		}
		size, _, err := byteSize(dt, t.Shape)
		if err != nil {
			return fmt.Errorf("safetensors: write: tensor %s: %v: %w", name, err, ErrBadHeader)
		}
		if uint64(len(t.Data)) != size {
			return fmt.Errorf("safetensors: write: tensor %s %s %v needs %d bytes, has %d: %w", name, dt, t.Shape, size, len(t.Data), ErrShapeMismatch)
		}
		sep()
		writeJSONString(&hdr, name)
		hdr.WriteString(`:{"dtype":"` + dt + `","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(strconv.Itoa(d))
		}
		end := off + int64(len(t.Data))
		hdr.WriteString(`],"data_offsets":[` + strconv.FormatInt(off, 10) + "," + strconv.FormatInt(end, 10) + "]}")
		off = end
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(hdr.Len()))
	bw.Write(n[:])
	bw.Write(hdr.Bytes())
	for _, name := range names {
		bw.Write(tensors[name].Data)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)               // a string always encodes
	buf.Truncate(buf.Len() - 1) // drop Encode's newline
}
