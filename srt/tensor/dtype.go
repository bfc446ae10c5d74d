package tensor

import "fmt"

// DType is the storage type of a weight. Quantized types use ggml's block
// layouts byte for byte, so GGUF tensors are used in place (memory-mapped).
type DType uint8

const (
	F32  DType = iota // 4 bytes per value
	F16               // IEEE half, 2 bytes per value
	BF16              // bfloat16, 2 bytes per value
	Q8_0              // blocks of 32: f16 scale d, then 32 int8 q; value = d*q (34 bytes)
	Q4_0              // blocks of 32: f16 scale d, then 16 bytes of nibbles; value = d*(q-8) (18 bytes)
	// E5M2 is fp8 E5M2 (1 sign, 5 exponent, 2 mantissa bits: the high byte
	// of the f16 of the same value), 1 byte per value. A KV cache type
	// (SGLang's --kv-cache-dtype fp8_e5m2), not a weight type.
	E5M2
	// E4M3 is fp8 E4M3 in its "fn" form (1 sign, 4 exponent, 3 mantissa
	// bits, no infinities, largest 448), 1 byte per value. A KV cache type
	// (SGLang's --kv-cache-dtype fp8_e4m3), not a weight type.
	E4M3
)

var dtypeNames = [...]string{F32: "F32", F16: "F16", BF16: "BF16", Q8_0: "Q8_0", Q4_0: "Q4_0", E5M2: "E5M2", E4M3: "E4M3"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// BlockSize is the number of values in one storage block (1 for plain types).
func (d DType) BlockSize() int {
	switch d {
	case Q8_0, Q4_0:
		return 32
	}
	return 1
}

// BlockBytes is the size in bytes of one storage block.
func (d DType) BlockBytes() int {
	switch d {
	case F32:
		return 4
	case F16, BF16:
		return 2
	case E5M2, E4M3:
		return 1
	case Q8_0:
		return 34
	case Q4_0:
		return 18
	}
	return 0
}

// RowBytes is the size in bytes of a row of cols values; cols must be a
// multiple of BlockSize.
func (d DType) RowBytes(cols int) int { return cols / d.BlockSize() * d.BlockBytes() }

// Matrix is a 2-D weight, row-major [Rows, Cols]: in Hugging Face's Linear
// layout that is [out_features, in_features]. Data usually points into a
// memory-mapped file and is never written.
type Matrix struct {
	DType      DType
	Rows, Cols int
	Data       []byte // len == Rows * DType.RowBytes(Cols)
}

// Validate reports whether m's data length matches its shape and type.
func (m *Matrix) Validate() error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("tensor: bad matrix shape [%d, %d]", m.Rows, m.Cols)
	}
	if m.DType > Q4_0 {
		return fmt.Errorf("tensor: %v is not a weight type", m.DType)
	}
	if bs := m.DType.BlockSize(); m.Cols%bs != 0 {
		return fmt.Errorf("tensor: %v matrix with %d columns (block size %d)", m.DType, m.Cols, bs)
	}
	if want := m.Rows * m.DType.RowBytes(m.Cols); len(m.Data) != want {
		return fmt.Errorf("tensor: %v matrix [%d, %d] needs %d bytes, has %d", m.DType, m.Rows, m.Cols, want, len(m.Data))
	}
	return nil
}

// Tensor is a named weight as a file stores it: row-major, Shape outermost
// first (GGUF's ne[] reversed), Data in DType's layout, usually memory-mapped.
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// Matrix views a 2-D tensor (or a 1-D one as a single row) as a Matrix.
func (t *Tensor) Matrix() (*Matrix, error) {
	var m Matrix
	switch len(t.Shape) {
	case 1:
		m = Matrix{DType: t.DType, Rows: 1, Cols: t.Shape[0], Data: t.Data}
	case 2:
		m = Matrix{DType: t.DType, Rows: t.Shape[0], Cols: t.Shape[1], Data: t.Data}
	default:
		return nil, fmt.Errorf("tensor: want a 2-D tensor, have shape %v", t.Shape)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
