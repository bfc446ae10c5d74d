package simd

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// These check the kernels added as variants of others against them: the
// paired attention kernels against two single calls, and the tall tile
// against the 6x4 one. Both do the same arithmetic in the same order, so
// results must be equal bit for bit. The kernels themselves are checked
// against plain Go references in package tensor.

func needAVX512(t *testing.T) {
	if !Detect().AVX512 {
		t.Skip("AVX-512 not available")
	}
}

// kvBytesOf is the size of one cache value of each KV type.
var kvBytesOf = map[int]int{KVF32: 4, KVF16: 2, KVE5M2: 1, KVE4M3: 1}

func TestPairedAttentionKernels(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for typ, size := range kvBytesOf {
		for _, hd := range []int{64, 128} {
			for _, n := range []int{0, 1, 3, 4, 9} {
				cache := randValues(rng, (n+1)*hd, size)
				k := unsafe.Pointer(&cache[0])
				q0, q1 := randVec(rng, hd), randVec(rng, hd)
				p0, p1 := randVec(rng, n+1), randVec(rng, n+1)
				want0, want1 := make([]float32, n+1), make([]float32, n+1)
				got0, got1 := make([]float32, n+1), make([]float32, n+1)
				KDot512(typ, hd, &q0[0], k, n, &want0[0])
				KDot512(typ, hd, &q1[0], k, n, &want1[0])
				KDot2x512(typ, hd, &q0[0], &q1[0], k, n, &got0[0], &got1[0])
				for i := range n {
					if got0[i] != want0[i] || got1[i] != want1[i] {
						t.Fatalf("kdot2 type %d hd %d n %d: key %d = %g, %g; single calls %g, %g", typ, hd, n, i, got0[i], got1[i], want0[i], want1[i])
					}
				}
				o0, o1 := randVec(rng, hd), randVec(rng, hd)
				w0, w1 := append([]float32(nil), o0...), append([]float32(nil), o1...)
				VAcc512(typ, hd, &w0[0], k, n, &p0[0])
				VAcc512(typ, hd, &w1[0], k, n, &p1[0])
				VAcc2x512(typ, hd, &o0[0], &o1[0], k, n, &p0[0], &p1[0])
				for i := range hd {
					if o0[i] != w0[i] || o1[i] != w1[i] {
						t.Fatalf("vacc2 type %d hd %d n %d: dim %d = %g, %g; single calls %g, %g", typ, hd, n, i, o0[i], o1[i], w0[i], w1[i])
					}
				}
			}
		}
	}
}

func TestTallTile(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(3, 4))
	tiles := []struct {
		name       string
		tall, wide func(k int, x *float32, xstride, mx int, w unsafe.Pointer, wstride, nw int, out *float32, ostride int, acc bool)
		size       int
	}{
		{"F32", Tile8x3F32, Tile512F32, 4}, {"F16", Tile8x3F16, Tile512F16, 2}, {"BF16", Tile8x3BF16, Tile512BF16, 2},
	}
	for _, tc := range tiles {
		for _, k := range []int{16, 37, 256} {
			for mx := 1; mx <= 8; mx++ {
				for nw := 1; nw <= 3; nw++ {
					x := randVec(rng, 8*k)
					w := randValues(rng, 3*k, tc.size)
					for _, acc := range []bool{false, true} {
						got, want := randVec(rng, 8*3), make([]float32, 8*3)
						copy(want, got)
						tc.tall(k, &x[0], k, mx, unsafe.Pointer(&w[0]), k*tc.size, nw, &got[0], 3, acc)
						for i0 := 0; i0 < mx; i0 += 6 { // the 6x4 tile in passes of up to 6 rows
							tc.wide(k, &x[i0*k], k, min(6, mx-i0), unsafe.Pointer(&w[0]), k*tc.size, nw, &want[i0*3], 3, acc)
						}
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%s k %d mx %d nw %d acc %v: out[%d] = %g, 6x4 tile %g", tc.name, k, mx, nw, acc, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// randValues returns n random finite values of size bytes each: float32s,
// or 16- and 8-bit patterns whose high byte stays below 0x38 (finite, below
// 1 in f16, bf16 and both fp8 types).
func randValues(rng *rand.Rand, n, size int) []byte {
	b := make([]byte, n*size)
	if size == 4 {
		for i := range n {
			*(*float32)(unsafe.Pointer(&b[4*i])) = float32(rng.NormFloat64())
		}
		return b
	}
	for i := range b {
		b[i] = byte(rng.UintN(256))
		if (i+1)%size == 0 {
			b[i] = byte(rng.UintN(0x38))
		}
	}
	return b
}
