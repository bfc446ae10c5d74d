//go:build !amd64

package simd

func detect() Features { return Features{} }
