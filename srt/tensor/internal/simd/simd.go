// Package simd holds the hand-written vector kernels (Go assembly) that
// package tensor dispatches to. Every kernel has a pure-Go twin in package
// tensor; on machines or architectures without the needed features the
// Has* flags are false and the kernels must not be called.
//
// Pointer arguments address raw memory: callers guarantee that every byte a
// kernel reads or writes (as documented per kernel) is inside live Go
// memory (a slice or a mapped file kept alive by the caller).
package simd

// Features reports what the kernels of this package can use.
type Features struct {
	AVX512 bool // AVX512F+BW+VL+DQ (+F16C, FMA): the avx512 kernel set
	VNNI   bool // AVX512_VNNI on top of AVX512
	AVX2   bool // AVX2+FMA+F16C: the avx2 kernel set
}

// Detect returns the CPU's usable features (all false off amd64).
func Detect() Features { return detect() }
