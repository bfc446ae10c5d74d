// Package benchserve is sglang-go's online-serving load generator, the
// counterpart of SGLang's python -m sglang.bench_serving.
//
// It builds a synthetic dataset of token-id prompts (Dataset: "random" or
// "generated-shared-prefix"), sends them to a running server through one of
// two backends (BackendSGLang: native POST /generate with SSE streaming;
// BackendOAI: POST /v1/completions), and measures what SGLang measures:
// completed and failed requests, token totals and throughputs, TTFT, TPOT,
// ITL and end-to-end latency statistics, plus the server-reported prompt and
// cached-token totals used for prefix-cache measurements.
//
// Contract:
//   - Run never hangs: every request is bounded by Config.Timeout and by ctx;
//     a dead server makes requests fail quickly, and a failed warm-up aborts
//     the run with ErrWarmup.
//   - At most Config.MaxConcurrency requests are in flight at any time
//     (0: unbounded). With RequestRate = +Inf every request is released at
//     once; otherwise arrivals follow a Poisson process seeded by Config.Seed.
//   - A request fails (and is counted in Result.Failed with its message) on a
//     transport error, a non-200 status, an SSE {"error": ...} event, a
//     finish_reason of type "abort", a malformed event, or a stream that ends
//     before "data: [DONE]".
//   - Metric definitions follow SGLang's bench_serving: TTFT is the time to
//     the first event carrying text or output ids; ITL is the gap between
//     streamed events (native: divided evenly over the tokens the event
//     added); TPOT is (latency - TTFT) / (output tokens - 1) for requests with
//     more than one output token; output tokens are the server's reported
//     completion_tokens. Percentiles use linear interpolation (numpy's
//     default) and the standard deviation is the population one.
//   - Dataset generation is a pure function of its parameters and the seed.
//   - Errors are prefixed "benchserve:"; bad configuration wraps ErrConfig.
package benchserve
