package gguf

import "github.com/sglang-go/sglang/srt/tensor"

// GGMLType is a ggml tensor storage type as numbered in GGUF tensor infos.
type GGMLType uint32

// ggml tensor types (gaps are types ggml has removed).
const (
	GGMLTypeF32     GGMLType = 0
	GGMLTypeF16     GGMLType = 1
	GGMLTypeQ4_0    GGMLType = 2
	GGMLTypeQ4_1    GGMLType = 3
	GGMLTypeQ5_0    GGMLType = 6
	GGMLTypeQ5_1    GGMLType = 7
	GGMLTypeQ8_0    GGMLType = 8
	GGMLTypeQ8_1    GGMLType = 9
	GGMLTypeQ2_K    GGMLType = 10
	GGMLTypeQ3_K    GGMLType = 11
	GGMLTypeQ4_K    GGMLType = 12
	GGMLTypeQ5_K    GGMLType = 13
	GGMLTypeQ6_K    GGMLType = 14
	GGMLTypeQ8_K    GGMLType = 15
	GGMLTypeIQ2_XXS GGMLType = 16
	GGMLTypeIQ2_XS  GGMLType = 17
	GGMLTypeIQ3_XXS GGMLType = 18
	GGMLTypeIQ1_S   GGMLType = 19
	GGMLTypeIQ4_NL  GGMLType = 20
	GGMLTypeIQ3_S   GGMLType = 21
	GGMLTypeIQ2_S   GGMLType = 22
	GGMLTypeIQ4_XS  GGMLType = 23
	GGMLTypeI8      GGMLType = 24
	GGMLTypeI16     GGMLType = 25
	GGMLTypeI32     GGMLType = 26
	GGMLTypeI64     GGMLType = 27
	GGMLTypeF64     GGMLType = 28
	GGMLTypeIQ1_M   GGMLType = 29
	GGMLTypeBF16    GGMLType = 30
	GGMLTypeTQ1_0   GGMLType = 34
	GGMLTypeTQ2_0   GGMLType = 35
	GGMLTypeMXFP4   GGMLType = 39
)

type ggmlLayout struct {
	name       string
	blockSize  uint64 // values per block
	blockBytes uint64 // bytes per block
	dtype      tensor.DType
	hasDType   bool
}

var ggmlLayouts = map[GGMLType]ggmlLayout{
	GGMLTypeF32:     {"F32", 1, 4, tensor.F32, true},
	GGMLTypeF16:     {"F16", 1, 2, tensor.F16, true},
	GGMLTypeQ4_0:    {"Q4_0", 32, 18, tensor.Q4_0, true},
	GGMLTypeQ4_1:    {"Q4_1", 32, 20, 0, false},
	GGMLTypeQ5_0:    {"Q5_0", 32, 22, 0, false},
	GGMLTypeQ5_1:    {"Q5_1", 32, 24, 0, false},
	GGMLTypeQ8_0:    {"Q8_0", 32, 34, tensor.Q8_0, true},
	GGMLTypeQ8_1:    {"Q8_1", 32, 36, 0, false},
	GGMLTypeQ2_K:    {"Q2_K", 256, 84, 0, false},
	GGMLTypeQ3_K:    {"Q3_K", 256, 110, 0, false},
	GGMLTypeQ4_K:    {"Q4_K", 256, 144, 0, false},
	GGMLTypeQ5_K:    {"Q5_K", 256, 176, 0, false},
	GGMLTypeQ6_K:    {"Q6_K", 256, 210, 0, false},
	GGMLTypeQ8_K:    {"Q8_K", 256, 292, 0, false},
	GGMLTypeIQ2_XXS: {"IQ2_XXS", 256, 66, 0, false},
	GGMLTypeIQ2_XS:  {"IQ2_XS", 256, 74, 0, false},
	GGMLTypeIQ3_XXS: {"IQ3_XXS", 256, 98, 0, false},
	GGMLTypeIQ1_S:   {"IQ1_S", 256, 50, 0, false},
	GGMLTypeIQ4_NL:  {"IQ4_NL", 32, 18, 0, false},
	GGMLTypeIQ3_S:   {"IQ3_S", 256, 110, 0, false},
	GGMLTypeIQ2_S:   {"IQ2_S", 256, 82, 0, false},
	GGMLTypeIQ4_XS:  {"IQ4_XS", 256, 136, 0, false},
	GGMLTypeI8:      {"I8", 1, 1, 0, false},
	GGMLTypeI16:     {"I16", 1, 2, 0, false},
	GGMLTypeI32:     {"I32", 1, 4, 0, false},
	GGMLTypeI64:     {"I64", 1, 8, 0, false},
	GGMLTypeF64:     {"F64", 1, 8, 0, false},
	GGMLTypeIQ1_M:   {"IQ1_M", 256, 56, 0, false},
	GGMLTypeBF16:    {"BF16", 1, 2, tensor.BF16, true},
	GGMLTypeTQ1_0:   {"TQ1_0", 256, 54, 0, false},
	GGMLTypeTQ2_0:   {"TQ2_0", 256, 66, 0, false},
	GGMLTypeMXFP4:   {"MXFP4", 32, 17, 0, false},
}

func (t GGMLType) String() string {
	if l, ok := ggmlLayouts[t]; ok {
		return l.name
	}
	return "GGMLType(" + itoa(uint64(t)) + ")"
}

// BlockSize returns the values per storage block, or 0 for an unknown type.
func (t GGMLType) BlockSize() uint64 { return ggmlLayouts[t].blockSize }

// BlockBytes returns the bytes per storage block, or 0 for an unknown type.
func (t GGMLType) BlockBytes() uint64 { return ggmlLayouts[t].blockBytes }

// DType returns the tensor.DType for t; ok is false when the runtime does
// not support t.
func (t GGMLType) DType() (d tensor.DType, ok bool) {
	l := ggmlLayouts[t]
	return l.dtype, l.hasDType
}

// GGMLTypeOf returns the ggml type that stores d.
func GGMLTypeOf(d tensor.DType) (GGMLType, bool) {
	switch d {
	case tensor.F32:
		return GGMLTypeF32, true
	case tensor.F16:
		return GGMLTypeF16, true
	case tensor.BF16:
		return GGMLTypeBF16, true
	case tensor.Q8_0:
		return GGMLTypeQ8_0, true
	case tensor.Q4_0:
		return GGMLTypeQ4_0, true
	}
	return 0, false
}
