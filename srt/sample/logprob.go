package sample

import (
	"math"
	"slices"
)

// TokenLogprob is one token's natural-log probability.
type TokenLogprob struct {
	ID      int32
	Logprob float32
}

// LogSumExp returns log(sum(exp(logits))), ignoring NaN entries; -Inf for
// an empty row or one that is all -Inf, +Inf if any entry is +Inf.
func LogSumExp(logits []float32) float64 {
	mx, _ := maxNaN(logits)
	if math.IsInf(float64(mx), 0) {
		return float64(mx)
	}
	return float64(mx) + math.Log(expSum(nil, logits, mx))
}

// Logprob returns the log-softmax of logits at id: logits[id] minus
// LogSumExp(logits), accumulated in float64. Which row to pass decides the
// meaning (see the package documentation): the raw model row gives the
// model's distribution, the row Sample leaves behind gives SGLang's default
// (penalised, temperature-scaled) logprob. An id outside the row gives NaN.
func Logprob(logits []float32, id int32) float32 {
	if id < 0 || int(id) >= len(logits) {
		return float32(math.NaN())
	}
	return float32(float64(logits[id]) - LogSumExp(logits))
}

// TopLogprobs returns the k most probable tokens of logits with their
// log-softmax values, most probable first, equal values by ascending id.
// It reuses dst's storage (dst[:0]); k is capped at len(logits) and k <= 0
// gives an empty result. NaN entries rank last. It does not modify logits.
func TopLogprobs(logits []float32, k int, dst []TokenLogprob) []TokenLogprob {
	dst = dst[:0]
	k = min(k, len(logits))
	if k <= 0 {
		return dst
	}
	lse := LogSumExp(logits)
	// Bounded min-heap over (logit desc, id asc), stored in dst itself with
	// the logit in the Logprob field until the end.
	h := dst
	for i := range k {
		h = append(h, TokenLogprob{ID: int32(i), Logprob: key(logits[i])})
	}
	for i := k/2 - 1; i >= 0; i-- {
		siftDownTL(h, i)
	}
	// Only strictly larger logits enter (ties lose to the kept lower ids;
	// NaN never compares larger).
	for i := firstGT(logits, k, h[0].Logprob); i < len(logits); i = firstGT(logits, i+1, h[0].Logprob) {
		h[0] = TokenLogprob{ID: int32(i), Logprob: logits[i]}
		siftDownTL(h, 0)
	}
	slices.SortFunc(h, func(a, b TokenLogprob) int {
		switch {
		case betterTL(a, b):
			return -1
		case betterTL(b, a):
			return 1
		}
		return 0
	})
	for i := range h {
		h[i].Logprob = float32(float64(h[i].Logprob) - lse)
	}
	return h
}

// key maps NaN to -Inf for ranking; a NaN logit only makes the result (as
// -Inf) when the row has fewer than k other entries.
func key(v float32) float32 {
	if v != v {
		return negInf
	}
	return v
}

func betterTL(a, b TokenLogprob) bool {
	return a.Logprob > b.Logprob || (a.Logprob == b.Logprob && a.ID < b.ID)
}

func siftDownTL(h []TokenLogprob, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && betterTL(h[l], h[r]) {
			w = r
		}
		if !betterTL(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
