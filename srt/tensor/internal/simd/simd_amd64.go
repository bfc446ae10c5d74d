//go:build amd64

package simd

import "golang.org/x/sys/cpu"

func detect() Features {
	x := cpu.X86
	avx2 := x.HasAVX2 && x.HasFMA && x.HasAVX && x.HasF16C
	avx512 := avx2 && x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ
	return Features{AVX512: avx512, VNNI: avx512 && x.HasAVX512VNNI, AVX2: avx2}
}
