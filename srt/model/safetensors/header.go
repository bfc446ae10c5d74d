package safetensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int   `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader parses and checks the JSON header of a file whose data
// section is dataSize bytes long.
func ParseHeader(header []byte, dataSize int64) (*Header, error) {
	trimmed := bytes.TrimRight(header, " \t\r\n\x00")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("safetensors: header does not start with '{': %w", ErrBadHeader)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %v: %w", err, ErrBadHeader)
	}
	h := &Header{Metadata: map[string]string{}, Tensors: make([]TensorInfo, 0, len(raw))}
	for name, msg := range raw {
		if name == MetadataKey {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: %s is not a map of strings: %v: %w", MetadataKey, err, ErrBadHeader)
			}
			if h.Metadata == nil {
				h.Metadata = map[string]string{}
			}
			continue
		}
		var e rawEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v: %w", name, err, ErrBadHeader)
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, fmt.Errorf("safetensors: tensor %q needs dtype, shape and data_offsets: %w", name, ErrBadHeader)
		}
		offs := *e.DataOffsets
		if len(offs) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q data_offsets %v: want [begin, end]: %w", name, offs, ErrBadHeader)
		}
		ti := TensorInfo{Name: name, DType: *e.DType, Shape: *e.Shape, Begin: offs[0], End: offs[1]}
		if ti.Shape == nil {
			ti.Shape = []int{}
		}
		if ti.Begin < 0 || ti.End < ti.Begin {
			return nil, fmt.Errorf("safetensors: tensor %q data_offsets [%d, %d] are invalid: %w", name, ti.Begin, ti.End, ErrBadHeader)
		}
		if ti.End > dataSize {
			return nil, fmt.Errorf("safetensors: tensor %q data [%d, %d) beyond the data section of %d bytes: %w", name, ti.Begin, ti.End, dataSize, ErrTruncated)
		}
		size, known, err := byteSize(ti.DType, ti.Shape)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v: %w", name, err, ErrBadHeader)
		}
		if known && uint64(ti.End-ti.Begin) != size {
			return nil, fmt.Errorf("safetensors: tensor %q %s %v needs %d bytes, data_offsets span %d: %w", name, ti.DType, ti.Shape, size, ti.End-ti.Begin, ErrShapeMismatch)
		}
		h.Tensors = append(h.Tensors, ti)
	}
	// No two tensors may share bytes.
	byOff := append([]TensorInfo(nil), h.Tensors...)
	sort.Slice(byOff, func(i, j int) bool {
		if byOff[i].Begin != byOff[j].Begin {
			return byOff[i].Begin < byOff[j].Begin
		}
		return byOff[i].End < byOff[j].End
	})
	for i := 1; i < len(byOff); i++ {
		a, b := byOff[i-1], byOff[i]
		if b.Begin < a.End {
			return nil, fmt.Errorf("safetensors: tensors %q [%d, %d) and %q [%d, %d) overlap: %w", a.Name, a.Begin, a.End, b.Name, b.Begin, b.End, ErrBadHeader)
		}
	}
	sortInfos(h.Tensors)
	return h, nil
}
