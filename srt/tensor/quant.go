package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Quantize encodes src into dst in type t's storage layout. len(src) must be
// a multiple of t.BlockSize() and len(dst) at least t.RowBytes(len(src)).
// Q8_0 and Q4_0 follow ggml's reference quantizers bit for bit: Q8_0 uses
// d = amax/127, q = round(x/d); Q4_0 uses d = m/-8 where m is the value of
// largest magnitude, q = min(15, trunc(x/d + 8.5)).
func Quantize(dst []byte, src []float32, t DType) error {
	bs := t.BlockSize()
	if t.BlockBytes() == 0 {
		return fmt.Errorf("tensor: quantize: %w: unknown type %v", ErrShape, t)
	}
	if len(src)%bs != 0 {
		return fmt.Errorf("tensor: quantize: %w: %d values is not a multiple of %v's block size %d", ErrShape, len(src), t, bs)
	}
	if need := t.RowBytes(len(src)); len(dst) < need {
		return fmt.Errorf("tensor: quantize: %w: dst has %d bytes, %v needs %d", ErrShape, len(dst), t, need)
	}
	switch t {
	case F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
		}
	case Q8_0:
		for b := 0; b < len(src)/32; b++ {
			quantizeQ8Block(dst[34*b:34*b+34], src[32*b:32*b+32])
		}
	case Q4_0:
		for b := 0; b < len(src)/32; b++ {
			quantizeQ4Block(dst[18*b:18*b+18], src[32*b:32*b+32])
		}
	}
	return nil
}

func quantizeQ8Block(dst []byte, x []float32) {
	var amax float32
	for _, v := range x[:32] {
		if a := abs32(v); a > amax {
			amax = a
		}
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(dst, F32ToF16(d))
	for j, v := range x[:32] {
		dst[2+j] = byte(int8(roundHalfAway(v * id)))
	}
}

func quantizeQ4Block(dst []byte, x []float32) {
	var amax, m float32
	for _, v := range x[:32] {
		if a := abs32(v); a > amax {
			amax, m = a, v
		}
	}
	d := m / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(dst, F32ToF16(d))
	for j := 0; j < 16; j++ {
		q0 := min(15, int8(x[j]*id+8.5))
		q1 := min(15, int8(x[16+j]*id+8.5))
		dst[2+j] = byte(q0) | byte(q1)<<4
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// roundHalfAway rounds like C's roundf (ties away from zero); |v| < 2^31.
func roundHalfAway(v float32) float32 {
	t := float32(int32(v)) // truncates toward zero
	if d := v - t; d >= 0.5 {
		t++
	} else if d <= -0.5 {
		t--
	}
	return t
}

// Row dequantizes row i of m into dst[:m.Cols] (an embedding lookup).
// It panics if i is out of range or dst is too short.
func (m *Matrix) Row(i int, dst []float32) {
	if i < 0 || i >= m.Rows {
		panic(fmt.Sprintf("tensor: Row(%d) of a matrix with %d rows", i, m.Rows))
	}
	if len(dst) < m.Cols {
		panic(fmt.Sprintf("tensor: Row: dst has %d values, need %d", len(dst), m.Cols))
	}
	rb := m.DType.RowBytes(m.Cols)
	dequantize(dst[:m.Cols], m.Data[i*rb:(i+1)*rb], m.DType)
}

// Dequantize decodes src (in t's layout) into dst; len(dst) values are
// decoded and must be a multiple of t.BlockSize().
func Dequantize(dst []float32, src []byte, t DType) error {
	if t.BlockBytes() == 0 || len(dst)%t.BlockSize() != 0 {
		return fmt.Errorf("tensor: dequantize: %w: %d values of %v", ErrShape, len(dst), t)
	}
	if need := t.RowBytes(len(dst)); len(src) < need {
		return fmt.Errorf("tensor: dequantize: %w: src has %d bytes, %d %v values need %d", ErrShape, len(src), len(dst), t, need)
	}
	dequantize(dst, src, t)
	return nil
}

func dequantize(dst []float32, src []byte, t DType) {
	switch t {
	case F32:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case BF16:
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case Q8_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[34*b : 34*b+34]
			d := F16ToF32(binary.LittleEndian.Uint16(blk))
			o := dst[32*b : 32*b+32]
			for j := range o {
				o[j] = d * float32(int8(blk[2+j]))
			}
		}
	case Q4_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[18*b : 18*b+18]
			d := F16ToF32(binary.LittleEndian.Uint16(blk))
			o := dst[32*b : 32*b+32]
			for j := 0; j < 16; j++ {
				q := blk[2+j]
				o[j] = d * float32(int(q&15)-8)
				o[16+j] = d * float32(int(q>>4)-8)
			}
		}
	}
}
