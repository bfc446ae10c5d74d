package srt

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sglang-go/sglang/srt/cache"
	"github.com/sglang-go/sglang/srt/model"
)

// inputLogprobChunk bounds the prompt rows of one request per prefill step
// when it wants input logprobs, because each such row keeps a vocab of logits.
const inputLogprobChunk = 256

// scheduler is the engine's loop: it admits requests, runs prefill steps
// (chunked, several sequences per step) and decode steps (every running
// sequence in one batch), and hands tokens back to the sequences. It runs in
// one goroutine and owns the KV pool.
type scheduler struct {
	e       *Engine
	pool    *cache.Pool
	kv      *model.KVCache
	waiting []*seq // need (more) prefill
	running []*seq // decoding
	batch   model.Batch
	logits  []float32
	rowSeq  []*seq // per logits row: its sequence
	rowPos  []int  // per logits row: the position it follows
}

func newScheduler(e *Engine, kvTokens int) *scheduler {
	return &scheduler{e: e, pool: cache.NewPool(kvTokens), kv: model.NewKVCache(e.cfg, kvTokens)}
}

func (sc *scheduler) run() {
	e := sc.e
	defer close(e.done)
	for {
		if len(sc.waiting) == 0 && len(sc.running) == 0 {
			select {
			case s := <-e.submit:
				sc.add(s)
			case r := <-e.stats:
				r <- sc.stats()
				continue
			case <-e.stop:
				return
			}
		}
	drain:
		for {
			select {
			case s := <-e.submit:
				sc.add(s)
			case r := <-e.stats:
				r <- sc.stats()
			case <-e.stop:
				sc.abortAll(ErrClosed)
				return
			default:
				break drain
			}
		}
		sc.dropCancelled()
		var err error
		switch {
		case sc.canPrefill():
			err = sc.prefill()
		case len(sc.running) > 0:
			err = sc.decode()
		}
		if err != nil {
			e.log.Error("forward failed", "err", err)
			sc.abortAll(fmt.Errorf("srt: forward: %w", err))
		}
	}
}

func (sc *scheduler) stats() Stats {
	return Stats{Running: len(sc.running), Waiting: len(sc.waiting), KVUsed: sc.pool.Used(), KVTotal: sc.pool.Capacity()}
}

func (sc *scheduler) add(s *seq) { sc.waiting = append(sc.waiting, s) }

func (sc *scheduler) maxRunning() int {
	if n := sc.e.opts.MaxRunningRequests; n > 0 {
		return n
	}
	return 256
}

func (sc *scheduler) canPrefill() bool {
	if len(sc.waiting) == 0 || len(sc.running) >= sc.maxRunning() {
		return false
	}
	return sc.pool.Available() > 0
}

// release frees a sequence's KV slots.
func (sc *scheduler) release(s *seq) {
	if err := sc.pool.Free(s.slots); err != nil {
		sc.e.log.Error("kv pool", "err", err)
	}
	s.slots = nil
}

func (sc *scheduler) dropCancelled() {
	keep := func(list []*seq) []*seq {
		return slices.DeleteFunc(list, func(s *seq) bool {
			if s.ctx.Err() == nil {
				return false
			}
			sc.release(s)
			return true
		})
	}
	sc.waiting = keep(sc.waiting)
	sc.running = keep(sc.running)
}

func (sc *scheduler) abortAll(err error) {
	for _, s := range append(sc.waiting, sc.running...) {
		sc.release(s)
		s.publish(err)
	}
	sc.waiting, sc.running = nil, nil
}

// prefillTarget is how many of s's tokens need KV before it can decode: a new
// sequence prefills its whole prompt and samples from the last row; a
// retracted one re-prefills all but its last token, which decode feeds.
func (s *seq) prefillTarget() (n int, sampleAtEnd bool) {
	if s.outputs() == 0 {
		return len(s.ids), true
	}
	return len(s.ids) - 1, false
}

func (sc *scheduler) resetBatch() {
	b := &sc.batch
	b.Tokens, b.Positions, b.Slots, b.Context, b.Logits = b.Tokens[:0], b.Positions[:0], b.Slots[:0], b.Context[:0], b.Logits[:0]
	sc.rowSeq, sc.rowPos = sc.rowSeq[:0], sc.rowPos[:0]
}

// addRow appends s's token at position p (its KV slot already allocated).
func (sc *scheduler) addRow(s *seq, p int, logits bool) {
	b := &sc.batch
	if logits {
		b.Logits = append(b.Logits, len(b.Tokens))
		sc.rowSeq = append(sc.rowSeq, s)
		sc.rowPos = append(sc.rowPos, p)
	}
	b.Tokens = append(b.Tokens, s.ids[p])
	b.Positions = append(b.Positions, int32(p))
	b.Slots = append(b.Slots, s.slots[p])
	b.Context = append(b.Context, s.slots[:p+1])
}

func (sc *scheduler) forward() error {
	vocab := sc.e.cfg.Vocab
	if need := len(sc.batch.Logits) * vocab; cap(sc.logits) < need {
		sc.logits = make([]float32, need)
	}
	sc.logits = sc.logits[:len(sc.batch.Logits)*vocab]
	return sc.e.model.Forward(context.Background(), &sc.batch, sc.kv, sc.logits)
}

func (sc *scheduler) row(i int) []float32 {
	v := sc.e.cfg.Vocab
	return sc.logits[i*v : (i+1)*v]
}

// prefill runs one prefill step over the waiting sequences, in order, up to
// the chunked-prefill token budget.
func (sc *scheduler) prefill() error {
	budget := sc.e.opts.ChunkedPrefillSize
	if budget <= 0 {
		budget = 2048
	}
	sc.resetBatch()
	type part struct {
		s        *seq
		complete bool
		sample   bool
	}
	var parts []part
	for _, s := range sc.waiting {
		if budget == 0 || len(sc.running)+len(parts) >= sc.maxRunning() {
			break
		}
		target, sampleAtEnd := s.prefillTarget()
		from := len(s.slots)
		k := min(target-from, budget)
		lpFrom := s.inputLogprobFrom()
		if lpFrom < s.promptLen && from+k > lpFrom-1 {
			k = min(k, inputLogprobChunk)
		}
		k = min(k, sc.pool.Available())
		if k <= 0 {
			break
		}
		s.slots, _ = sc.pool.Alloc(s.slots, k)
		budget -= k
		complete := from+k == target
		for p := from; p < from+k; p++ {
			// Row p predicts token p+1: needed for input logprobs of
			// prompt positions >= lpFrom, and for the first sample.
			wantLP := p+1 < s.promptLen && p+1 >= lpFrom
			last := complete && sampleAtEnd && p == target-1
			if p == 0 && lpFrom == 0 && s.outputs() == 0 {
				s.addInputLogprob(0, nil)
			}
			sc.addRow(s, p, wantLP || last)
		}
		parts = append(parts, part{s, complete, sampleAtEnd})
	}
	if len(parts) == 0 {
		return nil
	}
	if err := sc.forward(); err != nil {
		return err
	}
	for i, s := range sc.rowSeq {
		p := sc.rowPos[i]
		if p+1 < s.promptLen && p+1 >= s.inputLogprobFrom() && s.outputs() == 0 {
			s.addInputLogprob(p+1, sc.row(i))
		}
	}
	for _, pt := range parts {
		if !pt.complete {
			continue
		}
		s := pt.s
		sc.waiting = slices.DeleteFunc(sc.waiting, func(x *seq) bool { return x == s })
		if !pt.sample {
			sc.running = append(sc.running, s)
			continue
		}
		if s.maxNew == 0 {
			s.finish = &FinishReason{Type: "length", Length: 0}
			sc.finish(s)
			continue
		}
		sc.sampleInto(s, sc.lastRowOf(s))
		if s.finish != nil {
			sc.finish(s)
		} else {
			sc.running = append(sc.running, s)
			s.publish(nil)
		}
	}
	return nil
}

// lastRowOf returns the index of s's last logits row in this step.
func (sc *scheduler) lastRowOf(s *seq) int {
	for i := len(sc.rowSeq) - 1; i >= 0; i-- {
		if sc.rowSeq[i] == s {
			return i
		}
	}
	return -1
}

// sampleInto samples s's next token from logits row i. Logprobs are read
// from the row Sample leaves behind (after penalties and temperature), as
// SGLang reports them by default.
func (sc *scheduler) sampleInto(s *seq, i int) {
	logits := sc.row(i)
	s.accept(s.sampler.Sample(logits), logits)
}

func (sc *scheduler) finish(s *seq) {
	sc.release(s)
	sc.running = slices.DeleteFunc(sc.running, func(x *seq) bool { return x == s })
	s.publish(nil)
}

// decode runs one step over every running sequence, retracting the newest
// ones back to the queue when the pool has no slot for them.
func (sc *scheduler) decode() error {
	for sc.pool.Available() < len(sc.running) && len(sc.running) > 1 {
		victim := sc.running[len(sc.running)-1]
		sc.running = sc.running[:len(sc.running)-1]
		sc.release(victim)
		sc.waiting = append([]*seq{victim}, sc.waiting...)
		sc.e.log.Warn("KV pool full: retracted a request", "rid", victim.id)
	}
	if sc.pool.Available() < len(sc.running) {
		return errors.New("KV pool exhausted by a single sequence")
	}
	sc.resetBatch()
	for _, s := range sc.running {
		s.slots, _ = sc.pool.Alloc(s.slots, 1)
		sc.addRow(s, len(s.ids)-1, true)
	}
	if err := sc.forward(); err != nil {
		return err
	}
	done := sc.running[:0:0]
	for i, s := range sc.rowSeq {
		sc.sampleInto(s, i)
		if s.finish != nil {
			done = append(done, s)
		} else {
			s.publish(nil)
		}
	}
	for _, s := range done {
		sc.finish(s)
	}
	return nil
}
