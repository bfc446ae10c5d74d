package srt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/sglang-go/sglang/srt/model"
)

// BenchParams configure BenchOneBatch, after SGLang's bench_one_batch: one
// static batch of BatchSize random prompts of InputLen tokens, prefilled in
// one forward, then OutputLen decode steps.
type BenchParams struct {
	BatchSize, InputLen, OutputLen int
	Runs                           int // measured runs after one warm-up; 0 = 3
	Seed                           uint64
	// Images adds that many random ImageSize x ImageSize images (default
	// 448) to every prompt, after its InputLen text tokens, for
	// vision-language models: each run encodes them with the vision tower
	// (timed apart) and prefills their tokens with the text.
	Images, ImageSize int
}

// BenchRun is one run's figures. Throughputs are tokens per second.
type BenchRun struct {
	VisionLatency     float64 `json:"vision_latency_per_image,omitempty"` // seconds per image in the tower
	PrefillLatency    float64 `json:"prefill_latency"`
	PrefillThroughput float64 `json:"prefill_throughput"`
	DecodeLatency     float64 `json:"decode_latency"` // median step
	DecodeThroughput  float64 `json:"decode_throughput"`
	TotalLatency      float64 `json:"total_latency"`
}

// BenchResult holds the medians over the runs, and each run.
type BenchResult struct {
	BatchSize int `json:"batch_size"`
	InputLen  int `json:"input_len"`
	OutputLen int `json:"output_len"`
	// Images per sequence, and the prompt tokens they add to each.
	Images      int `json:"images,omitempty"`
	ImageTokens int `json:"image_tokens,omitempty"`
	BenchRun
	Runs []BenchRun `json:"runs"`
}

// BenchOneBatch measures the engine's model directly, bypassing the
// scheduler, with a KV cache of its own. It must not run while the engine
// serves requests.
func (e *Engine) BenchOneBatch(ctx context.Context, p BenchParams) (*BenchResult, error) {
	if p.BatchSize <= 0 || p.InputLen <= 0 || p.OutputLen <= 0 {
		return nil, fmt.Errorf("%w: batch size, input and output lengths must be positive", ErrInvalidRequest)
	}
	if p.Runs <= 0 {
		p.Runs = 3
	}
	rng := rand.New(rand.NewPCG(p.Seed, 1))
	prompts := make([]benchSeq, p.BatchSize)
	for i := range prompts {
		prompts[i].tokens = make([]int32, p.InputLen)
		for j := range prompts[i].tokens {
			prompts[i].tokens[j] = int32(rng.IntN(e.cfg.Vocab))
		}
	}
	res := &BenchResult{BatchSize: p.BatchSize, InputLen: p.InputLen, OutputLen: p.OutputLen, Images: p.Images}
	if p.Images > 0 {
		n, err := e.benchImages(prompts, p, rng)
		if err != nil {
			return nil, err
		}
		res.ImageTokens = n
	}
	inLen := len(prompts[0].tokens)
	if inLen+p.OutputLen > e.info.ContextLength {
		return nil, fmt.Errorf("%w: input %d + output %d exceeds the context length %d", ErrContextLength, inLen, p.OutputLen, e.info.ContextLength)
	}
	kv := model.NewKVCache(e.cfg, p.BatchSize*(inLen+p.OutputLen), e.kvDType)
	for run := 0; run <= p.Runs; run++ {
		r, err := e.benchRun(ctx, kv, prompts, p.OutputLen)
		if err != nil {
			return nil, err
		}
		if run > 0 { // run 0 warms up
			res.Runs = append(res.Runs, r)
		}
	}
	med := func(f func(BenchRun) float64) float64 {
		v := make([]float64, len(res.Runs))
		for i, r := range res.Runs {
			v[i] = f(r)
		}
		return median(v)
	}
	res.VisionLatency = med(func(r BenchRun) float64 { return r.VisionLatency })
	res.PrefillLatency = med(func(r BenchRun) float64 { return r.PrefillLatency })
	res.PrefillThroughput = med(func(r BenchRun) float64 { return r.PrefillThroughput })
	res.DecodeLatency = med(func(r BenchRun) float64 { return r.DecodeLatency })
	res.DecodeThroughput = med(func(r BenchRun) float64 { return r.DecodeThroughput })
	res.TotalLatency = med(func(r BenchRun) float64 { return r.TotalLatency })
	return res, nil
}

func (e *Engine) benchRun(ctx context.Context, kv *model.KVCache, prompts []benchSeq, outLen int) (BenchRun, error) {
	B, I := len(prompts), len(prompts[0].tokens)
	var r BenchRun
	embeds, err := e.benchEncode(ctx, prompts, &r)
	if err != nil {
		return BenchRun{}, err
	}
	seqLen := I + outLen
	slots := func(b, upto int) []int32 {
		s := make([]int32, upto)
		for i := range s {
			s[i] = int32(b*seqLen + i)
		}
		return s
	}
	var batch model.Batch
	for b, pr := range prompts {
		all := slots(b, I)
		if pr.mrope != nil {
			batch.MRoPE = append(batch.MRoPE, pr.mrope...)
			batch.Embeds = append(batch.Embeds, embeds[b]...)
		}
		for i, t := range pr.tokens {
			batch.Tokens = append(batch.Tokens, t)
			batch.Positions = append(batch.Positions, int32(i))
			batch.Slots = append(batch.Slots, all[i])
			batch.Context = append(batch.Context, all[:i+1])
		}
		batch.Logits = append(batch.Logits, b*I+I-1)
	}
	vocab := e.cfg.Vocab
	logits := make([]float32, B*vocab)
	argmax := func(row []float32) int32 {
		best := 0
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
		return int32(best)
	}
	start := time.Now()
	if err := e.model.Forward(ctx, &batch, kv, logits); err != nil {
		return BenchRun{}, err
	}
	next := make([]int32, B)
	for b := range next {
		next[b] = argmax(logits[b*vocab : (b+1)*vocab])
	}
	r.PrefillLatency = time.Since(start).Seconds()
	r.PrefillThroughput = float64(B*I) / r.PrefillLatency
	steps := make([]float64, 0, outLen)
	ctxs := make([][]int32, B)
	for b := range ctxs {
		ctxs[b] = slots(b, seqLen)
	}
	for step := 0; step < outLen-1; step++ {
		pos := I + step
		batch = model.Batch{Logits: make([]int, B)}
		for b := range prompts {
			batch.Tokens = append(batch.Tokens, next[b])
			batch.Positions = append(batch.Positions, int32(pos+prompts[b].ropeDelta))
			batch.Slots = append(batch.Slots, ctxs[b][pos])
			batch.Context = append(batch.Context, ctxs[b][:pos+1])
			batch.Logits[b] = b
		}
		t := time.Now()
		if err := e.model.Forward(ctx, &batch, kv, logits); err != nil {
			return BenchRun{}, err
		}
		for b := range next {
			next[b] = argmax(logits[b*vocab : (b+1)*vocab])
		}
		steps = append(steps, time.Since(t).Seconds())
	}
	if len(steps) > 0 {
		r.DecodeLatency = median(steps)
		r.DecodeThroughput = float64(B) / r.DecodeLatency
	}
	r.TotalLatency = time.Since(start).Seconds()
	return r, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
