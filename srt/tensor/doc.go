// Package tensor holds sglang-go's CPU compute kernels: matrix products over
// f32/f16/bf16/Q8_0/Q4_0 weights, attention over a slot-addressed KV cache,
// and the elementwise row operations a transformer forward pass needs.
//
// Contract:
//   - Weights are [Matrix] values, row-major [out_features, in_features],
//     read-only (usually memory-mapped); quantized layouts are ggml's.
//   - Activations are []float32, row-major, n rows of the stated length.
//   - A [CPU] owns a fixed worker pool and per-call scratch; its methods may
//     be called by one goroutine at a time (not concurrently).
//   - Kernels are picked once in [NewCPU] by CPU features (AVX-512, AVX2/FMA,
//     or portable Go); every fast kernel has a pure-Go reference twin
//     (RefMatMul, RefAttention, ...) that the tests compare it with.
//   - Batch-1 decode (n == 1, and the int8 path's n <= 8) is bound by
//     weight streaming: it runs four-row kernels (one activation load per
//     four rows, software prefetch ahead of the hardware's page-bounded
//     streams) over row ranges handed out in shrinking, guided chunks.
//   - Shape mismatches are programming errors: the kernels panic with a
//     "tensor:"-prefixed message, like an out-of-range slice index would.
//     Use [CheckMatMul] and [CheckAttention] to validate untrusted shapes.
package tensor

import "errors"

// ErrShape is wrapped by every error about inconsistent sizes or types
// (CheckMatMul, CheckAttention, Quantize, Dequantize); test with errors.Is.
var ErrShape = errors.New("bad shape")
