package tensor

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestQuantizeHandBlocks(t *testing.T) {
	q8 := make([]float32, 32)
	q8[0], q8[1], q8[2] = 1, -2, 0.5 // amax 2: d = 2/127 (f16 0x2408), q = round(x*63.5)
	wantQ8 := make([]byte, 34)
	copy(wantQ8, []byte{0x08, 0x24, 64, 0x81, 32}) // 63.5 rounds away from zero; -127
	q4 := make([]float32, 32)
	q4[0], q4[1], q4[2], q4[16] = -4, 3.9, 1, -1 // m = -4: d = 0.5 (0x3800), q = min(15, trunc(2x+8.5))
	wantQ4 := []byte{0x00, 0x38, 0x60, 0x8f, 0x8a}
	for len(wantQ4) < 18 {
		wantQ4 = append(wantQ4, 0x88) // zeros quantize to 8 in both nibbles
	}
	tests := []struct {
		name string
		t    DType
		src  []float32
		want []byte
	}{
		{"q8_0", Q8_0, q8, wantQ8},
		{"q4_0", Q4_0, q4, wantQ4},
		{"q8_0 zeros", Q8_0, make([]float32, 32), make([]byte, 34)},
		{"f16", F16, []float32{1, -2}, []byte{0x00, 0x3c, 0x00, 0xc0}},
		{"bf16", BF16, []float32{1, -2}, []byte{0x80, 0x3f, 0x00, 0xc0}},
		{"f32", F32, []float32{1}, []byte{0, 0, 0x80, 0x3f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]byte, tc.t.RowBytes(len(tc.src)))
			if err := Quantize(got, tc.src, tc.t); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Quantize = % x, want % x", got, tc.want)
			}
		})
	}
}

func TestQuantizeErrors(t *testing.T) {
	tests := []struct {
		name string
		dst  int
		src  int
		t    DType
	}{
		{"partial block", 34, 31, Q8_0},
		{"short dst", 33, 32, Q8_0},
		{"bad type", 100, 32, DType(99)},
	}
	for _, tc := range tests {
		if err := Quantize(make([]byte, tc.dst), make([]float32, tc.src), tc.t); !errors.Is(err, ErrShape) {
			t.Errorf("%s: error %v, want ErrShape", tc.name, err)
		}
	}
	if err := Dequantize(make([]float32, 32), make([]byte, 10), Q4_0); !errors.Is(err, ErrShape) {
		t.Error("Dequantize with short src: no error")
	}
	if err := (&Matrix{DType: Q8_0, Rows: 2, Cols: 32, Data: make([]byte, 67)}).Validate(); err == nil {
		t.Error("Validate accepted a short matrix")
	}
	for _, kv := range []DType{E5M2, E4M3} { // KV cache types only
		if err := (&Matrix{DType: kv, Rows: 2, Cols: 32, Data: make([]byte, 64)}).Validate(); err == nil || !strings.Contains(err.Error(), "not a weight type") {
			t.Errorf("Validate of a %v matrix: %v", kv, err)
		}
	}
	var w *Matrix
	if err := CheckMatMul(nil, nil, 1, w); err == nil {
		t.Error("CheckMatMul(nil weight): no error")
	}
	m := &Matrix{DType: F32, Rows: 2, Cols: 3, Data: make([]byte, 24)}
	if err := CheckMatMul(make([]float32, 1), make([]float32, 3), 1, m); !errors.Is(err, ErrShape) {
		t.Error("CheckMatMul with short out: no error")
	}
	bad := &Matrix{DType: F32, Rows: 2, Cols: 3, Data: make([]byte, 20)}
	if err := CheckMatMul(make([]float32, 2), make([]float32, 3), 1, bad); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "needs 24 bytes") {
		t.Errorf("CheckMatMul(bad matrix) = %v, want ErrShape wrapping Validate's error", err)
	}
}

// roundTripBound is the largest |x - dequant(quant(x))| allowed per block.
func roundTripBound(t DType, block []float32) float64 {
	var amax float64
	for _, v := range block {
		amax = math.Max(amax, math.Abs(float64(v)))
	}
	switch t {
	case F32:
		return 0
	case F16:
		return amax*(1.0/2048) + 0x1p-25 // relative, or half a subnormal step
	case BF16:
		return amax*(1.0/256) + 0x1p-133 // relative, or half a subnormal step
	case Q8_0:
		// half a step, plus f16 rounding of d (relative, or absolute when subnormal)
		return amax/127*0.5*1.01 + amax*(1.0/2048) + 127*0x1p-25
	default: // Q4_0
		// one step (the clamp at 15 loses up to a step), plus f16 rounding of d
		return amax/8*1.01 + amax*(1.0/2048) + 8*0x1p-25
	}
}

func checkRoundTrip(t *testing.T, typ DType, src []float32) {
	t.Helper()
	data := make([]byte, typ.RowBytes(len(src)))
	if err := Quantize(data, src, typ); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(src))
	if err := Dequantize(got, data, typ); err != nil {
		t.Fatal(err)
	}
	bs := max(32, typ.BlockSize())
	for b := 0; b < len(src); b += bs {
		blk := src[b:min(b+bs, len(src))]
		lim := roundTripBound(typ, blk)
		for j, v := range blk {
			if d := math.Abs(float64(v) - float64(got[b+j])); d > lim {
				t.Fatalf("%v: value %d = %g came back as %g (error %g > %g)", typ, b+j, v, got[b+j], d, lim)
			}
		}
	}
	// Matrix.Row agrees with Dequantize.
	m := &Matrix{DType: typ, Rows: 1, Cols: len(src), Data: data}
	row := make([]float32, len(src))
	m.Row(0, row)
	for i := range row {
		if math.Float32bits(row[i]) != math.Float32bits(got[i]) {
			t.Fatalf("Row[%d] = %g, Dequantize gave %g", i, row[i], got[i])
		}
	}
}

func TestQuantizeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, typ := range allTypes {
		for _, scale := range []float64{1e-3, 1, 300} {
			src := make([]float32, 32*9)
			for i := range src {
				src[i] = float32((rng.Float64()*2 - 1) * scale)
			}
			checkRoundTrip(t, typ, src)
		}
	}
}

func FuzzQuantize(f *testing.F) {
	f.Add(uint8(3), []byte{1, 2, 3, 4, 200, 100, 7, 8})
	f.Add(uint8(4), []byte{0x80, 0x3f, 0, 0, 0, 0, 0x80, 0xbf})
	f.Fuzz(func(t *testing.T, typ uint8, raw []byte) {
		dt := allTypes[int(typ)%len(allTypes)]
		src := make([]float32, 32)
		for i := range src {
			if 4*i+4 <= len(raw) {
				v := math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 6e4 {
					v = 0
				}
				src[i] = v
			}
		}
		checkRoundTrip(t, dt, src)
	})
}

// Every ISA's bulk dequantizer matches the portable one bit for bit.
func TestKernelDequantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, isa := range ISAs() {
		ks := pickKernels(isa)
		for _, typ := range allTypes {
			for _, n := range []int{32, 64, 96, 1024} {
				cnt := n
				if typ.BlockSize() == 1 {
					cnt = n + rng.IntN(17) // exercise tails
				}
				m := randMatrix(t, rng, typ, 1, cnt)
				want := make([]float32, cnt)
				dequantize(want, m.Data, typ)
				got := make([]float32, cnt+1)
				got[cnt] = 42
				ks.deq(got[:cnt], m.Data, typ)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %v n=%d: [%d] = %g, want %g", isa, typ, cnt, i, got[i], want[i])
					}
				}
				if got[cnt] != 42 {
					t.Fatalf("%s %v n=%d wrote past the end", isa, typ, cnt)
				}
			}
		}
	}
}

func TestRoundHalfAway(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	vals := []float32{0, 0.5, -0.5, 1.5, -1.5, 2.5, 0.49999997, -0.49999997, 126.5, -126.5, 127, 1e-30}
	for range 10000 {
		vals = append(vals, rng.Float32()*254-127, float32(rng.IntN(255)-127)+0.5)
	}
	for _, v := range vals {
		if got, want := roundHalfAway(v), float32(math.Round(float64(v))); got != want {
			t.Fatalf("roundHalfAway(%g) = %g, want %g", v, got, want)
		}
	}
}

// Every ISA's activation quantizer matches quantActsGo bit for bit.
func TestKernelQuantActs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	x := randVec(rng, 32*40)
	for i := range x {
		switch i % 7 {
		case 0:
			x[i] = float32(rng.IntN(9)-4) * 0.5 // ties after scaling are likely
		case 1:
			x[i] *= 100
		}
	}
	copy(x[64:96], make([]float32, 32)) // an all-zero block
	wantQ, wantD := quantizeActs(nil, nil, x, quantActsGo)
	for _, isa := range ISAs() {
		ks := pickKernels(isa)
		q, d := quantizeActs(nil, nil, x, ks.qacts)
		for i := range wantD {
			if math.Float32bits(d[i]) != math.Float32bits(wantD[i]) {
				t.Fatalf("%s: scale %d = %g, want %g", isa, i, d[i], wantD[i])
			}
		}
		for i := range wantQ {
			if q[i] != wantQ[i] {
				t.Fatalf("%s: q[%d] = %d, want %d (x = %g, d = %g)", isa, i, q[i], wantQ[i], x[i], d[i/32])
			}
		}
	}
}
