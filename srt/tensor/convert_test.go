package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestF16Special(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},              // largest finite half
		{65520, 0x7c00},              // halfway to 2^16 rounds (to even) to Inf
		{65519.99, 0x7bff},           // just below halfway stays finite
		{inf, 0x7c00},                // +Inf
		{-inf, 0xfc00},               // -Inf
		{1e10, 0x7c00},               // overflow
		{6.103515625e-05, 0x0400},    // smallest normal 2^-14
		{5.9604644775390625e-08, 1},  // smallest subnormal 2^-24
		{2.98023223876953125e-08, 0}, // exactly half of it: ties to even -> 0
		{2.99e-08, 1},                // just above half rounds up
		{8.940696716308594e-08, 2},   // 1.5 * 2^-24: tie -> even (2)
		{1 + 1.0/2048, 0x3c00},       // tie between 1 and next: even (1)
		{1 + 3.0/2048, 0x3c02},       // tie between 1+1/1024 and 1+2/1024: even
		{0.333251953125, 0x3555},     // exact
		{-6.0975552e-05, 0x83ff},     // largest subnormal, negative
	}
	for _, tc := range tests {
		if got := F32ToF16(tc.f); got != tc.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, not a NaN", h)
	}
	if f := F16ToF32(0x7e00); !math.IsNaN(float64(f)) {
		t.Errorf("F16ToF32(0x7e00) = %g, want NaN", f)
	}
}

// Every half value converts to float32 and back unchanged.
func TestF16RoundTripAll(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("F16ToF32(%#04x) = NaN", h)
			}
			if back := F32ToF16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("F32ToF16(F16ToF32(%#04x) = %g) = %#04x", h, f, back)
		}
	}
}

// nearestEven checks that h is the correctly rounded encoding of f given
// neighbours lo/hi decoded by dec (ties must pick the even encoding).
func checkNearest(t *testing.T, name string, f float32, h uint16, dec func(uint16) float32, maxFinite uint16) {
	t.Helper()
	got := float64(dec(h))
	if math.IsInf(got, 0) {
		// Must be at least halfway past the largest finite value.
		top := float64(dec(maxFinite))
		if math.Abs(float64(f)) < top {
			t.Fatalf("%s(%g) overflowed to %g", name, f, got)
		}
		return
	}
	err := math.Abs(float64(f) - got)
	for _, nb := range []uint16{h + 1, h - 1} {
		if nb&0x7fff > maxFinite {
			continue
		}
		v := float64(dec(nb))
		if (v < 0) != (got < 0) && got != 0 {
			continue
		}
		e := math.Abs(float64(f) - v)
		if e < err || (e == err && h&1 == 1) {
			t.Fatalf("%s(%g) = %#04x (%g), but %#04x (%g) is nearer or the even tie", name, f, h, got, nb, v)
		}
	}
}

func TestF32ToF16Rounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		// Random exponents across the half range, including subnormals.
		f := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(44)-28))
		checkNearest(t, "F32ToF16", f, F32ToF16(f), F16ToF32, 0x7bff)
	}
}

func TestBF16(t *testing.T) {
	tests := []struct {
		f float32
		b uint16
	}{
		{0, 0}, {1, 0x3f80}, {-2, 0xc000},
		{float32(math.Inf(-1)), 0xff80},
		{1 + 1.0/256, 0x3f80},     // tie -> even
		{1 + 3.0/256, 0x3f82},     // tie -> even
		{math.MaxFloat32, 0x7f80}, // rounds up to Inf, like torch
		{1e-40, 0x0001},           // subnormal f32 keeps its top bits
	}
	for _, tc := range tests {
		if got := F32ToBF16(tc.f); got != tc.b {
			t.Errorf("F32ToBF16(%g) = %#04x, want %#04x", tc.f, got, tc.b)
		}
	}
	if b := F32ToBF16(float32(math.NaN())); b&0x7f80 != 0x7f80 || b&0x7f == 0 {
		t.Errorf("F32ToBF16(NaN) = %#04x, not a NaN", b)
	}
	for b := 0; b < 1<<16; b++ {
		f := BF16ToF32(uint16(b))
		if math.IsNaN(float64(f)) {
			continue
		}
		if back := F32ToBF16(f); back != uint16(b) {
			t.Fatalf("bf16 %#04x round trip gave %#04x", b, back)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		f := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(200)-100))
		checkNearest(t, "F32ToBF16", f, F32ToBF16(f), BF16ToF32, 0x7f7f)
	}
}

func FuzzF16(f *testing.F) {
	f.Add(uint32(0x3f800000))
	f.Add(uint32(0x477ff000))
	f.Add(uint32(0x33000000))
	f.Fuzz(func(t *testing.T, bits uint32) {
		v := math.Float32frombits(bits)
		h := F32ToF16(v)
		if math.IsNaN(float64(v)) {
			if !math.IsNaN(float64(F16ToF32(h))) {
				t.Fatalf("NaN %#08x -> %#04x", bits, h)
			}
			return
		}
		checkNearest(t, "F32ToF16", v, h, F16ToF32, 0x7bff)
		b := F32ToBF16(v)
		checkNearest(t, "F32ToBF16", v, b, BF16ToF32, 0x7f7f)
	})
}
