//go:build !amd64

package tensor

import "github.com/sglang-go/sglang/srt/tensor/internal/simd"

func archKernels(f simd.Features) *kernelSet { return nil }

func attnHeadDimOK(hd int) bool { return false }
