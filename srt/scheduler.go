package srt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sglang-go/sglang/srt/cache"
	"github.com/sglang-go/sglang/srt/model"
)

// inputLogprobChunk bounds the prompt rows of one request per prefill step
// when it wants input logprobs, because each such row keeps a vocab of logits.
const inputLogprobChunk = 256

// decodeLogInterval is how many decode steps pass between "Decode batch"
// log lines, as SGLang's decode_log_interval.
const decodeLogInterval = 40

// scheduler is the engine's loop: it admits requests, runs prefill steps
// (chunked, several sequences per step, reusing cached prefixes from the
// radix tree) and decode steps (every running sequence in one batch), and
// hands tokens back to the sequences. It runs in one goroutine and owns the
// KV pool and the radix tree.
type scheduler struct {
	e       *Engine
	pool    *cache.Pool
	tree    *cache.Tree
	kv      *model.KVCache
	waiting []*seq // need (more) prefill
	running []*seq // decoding
	batch   model.Batch
	logits  []float32
	rowSeq  []*seq // per logits row: its sequence
	rowPos  []int  // per logits row: the position it follows
	totals  Totals
	vcache  *visionCache

	decodeSteps  int
	decodeTokens int
	decodeSince  time.Time
}

func newScheduler(e *Engine, kvTokens int) *scheduler {
	sc := &scheduler{e: e, pool: cache.NewPool(kvTokens), kv: model.NewKVCache(e.cfg, kvTokens, e.kvDType), decodeSince: time.Now()}
	if e.vision != nil {
		sc.vcache = newVisionCache(e.opts.VisionCacheBytes)
	}
	if e.opts.DisableRadixCache {
		sc.tree = cache.NewDisabledTree(sc.pool)
	} else {
		sc.tree = cache.NewTree(sc.pool)
	}
	return sc
}

func (sc *scheduler) run() {
	e := sc.e
	defer close(e.done)
	for {
		if len(sc.waiting) == 0 && len(sc.running) == 0 {
			select {
			case s := <-e.submit:
				sc.add(s)
			case f := <-e.ctrl:
				f(sc)
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
			case f := <-e.ctrl:
				f(sc)
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

func (sc *scheduler) add(s *seq) {
	sc.totals.Requests++
	sc.totals.JumpForwardTokens += s.jumpTokens - s.jumpCounted
	s.jumpCounted = s.jumpTokens
	if s.finish != nil {
		// Jump-forward completed the grammar before any forward step.
		sc.totals.Finished++
		s.publish(nil)
		return
	}
	sc.waiting = append(sc.waiting, s)
}

func (sc *scheduler) maxRunning() int {
	if n := sc.e.opts.MaxRunningRequests; n > 0 {
		return n
	}
	return 256
}

func (sc *scheduler) canPrefill() bool {
	return len(sc.waiting) > 0 && len(sc.running) < sc.maxRunning()
}

// usage is SGLang's "token usage": KV slots held by requests (not merely
// cached) over the pool's capacity.
func (sc *scheduler) usage() float64 {
	_, evictable, _ := sc.tree.Size()
	return float64(sc.pool.Used()-evictable) / float64(sc.pool.Capacity())
}

// key is the radix key of s's first n tokens: with images, each pad
// position carries its image's hash.
func (s *seq) key(n int) cache.Key {
	if s.extras == nil {
		return cache.Key{Tokens: s.ids[:n]}
	}
	for len(s.extras) < n {
		s.extras = append(s.extras, 0)
	}
	return cache.Key{Tokens: s.ids[:n], Extras: s.extras[:n]}
}

// insert gives s's computed KV to the radix tree and frees s's own slots
// for the prefix the tree already held. It reports whether the tree took
// them (false when the cache is off or the insert failed).
func (sc *scheduler) insert(s *seq) bool {
	n := len(s.slots)
	if n == 0 || sc.tree.Disabled() {
		return false
	}
	prefix, err := sc.tree.Insert(s.key(n), s.slots)
	if err != nil {
		sc.e.log.Error("radix insert", "err", err)
		return false
	}
	sc.free(s.slots[s.treeLen:max(prefix, s.treeLen)])
	return true
}

// unlock drops s's lock on its cached prefix.
func (sc *scheduler) unlock(s *seq) {
	if s.node == nil {
		return
	}
	if err := sc.tree.Unlock(s.node); err != nil {
		sc.e.log.Error("radix unlock", "err", err)
	}
}

// release hands a sequence's KV slots to the radix tree (which keeps them as
// a cached prefix until evicted), or back to the pool when the cache is off.
func (sc *scheduler) release(s *seq) {
	if !sc.insert(s) {
		sc.free(s.slots[s.treeLen:])
	}
	sc.unlock(s)
	s.slots, s.node, s.treeLen = nil, nil, 0
}

func (sc *scheduler) free(slots []int32) {
	if err := sc.pool.Free(slots); err != nil {
		sc.e.log.Error("kv pool", "err", err)
	}
}

// cachePrefix inserts s's computed KV into the tree and takes the tree's
// slots for it, so requests arriving later reuse it while s still runs.
func (sc *scheduler) cachePrefix(s *seq) {
	if !sc.insert(s) {
		return
	}
	slots, node := sc.tree.Match(s.key(len(s.slots)))
	if err := sc.tree.Lock(node); err != nil {
		sc.e.log.Error("radix lock", "err", err)
	}
	sc.unlock(s)
	s.slots, s.node, s.treeLen = slots, node, len(slots)
}

// alloc takes n slots for s, evicting cached prefixes if the pool is short.
func (sc *scheduler) alloc(s *seq, n int) bool {
	if short := n - sc.pool.Available(); short > 0 {
		if _, err := sc.tree.Evict(short); err != nil {
			sc.e.log.Error("radix evict", "err", err)
		}
	}
	var ok bool
	s.slots, ok = sc.pool.Alloc(s.slots, n)
	return ok
}

func (sc *scheduler) available() int {
	_, evictable, _ := sc.tree.Size()
	return sc.pool.Available() + evictable
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

// abort ends the request with id rid, as /abort_request does.
func (sc *scheduler) abort(rid string) bool {
	for _, list := range [][]*seq{sc.waiting, sc.running} {
		for _, s := range list {
			if s.id == rid {
				s.finish = &FinishReason{Type: "abort", Message: "Abort by the user."}
				sc.finish(s)
				return true
			}
		}
	}
	return false
}

// prefillTarget is how many of s's tokens need KV before it can decode: a new
// sequence prefills its whole prompt and samples from the last row; a
// retracted one re-prefills all but its last token, which decode feeds.
func (s *seq) prefillTarget() (n int, sampleAtEnd bool) {
	if s.outputs() == 0 || s.jump {
		return len(s.ids), true
	}
	return len(s.ids) - 1, false
}

// matchLimit is how much of s may come from the cache: at least the token
// whose logits are sampled must be computed, and so must every row whose
// input logprob is wanted.
func (s *seq) matchLimit() int {
	target, sampleAtEnd := s.prefillTarget()
	limit := target
	if sampleAtEnd {
		limit--
	}
	if from := s.inputLogprobFrom(); from < s.promptLen {
		limit = min(limit, max(from-1, 0))
	}
	return max(limit, 0)
}

func (sc *scheduler) resetBatch() {
	b := &sc.batch
	b.Tokens, b.Positions, b.Slots, b.Context, b.Logits = b.Tokens[:0], b.Positions[:0], b.Slots[:0], b.Context[:0], b.Logits[:0]
	if sc.e.vision != nil {
		b.MRoPE, b.Embeds = b.MRoPE[:0], b.Embeds[:0]
	}
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
	b.Slots = append(b.Slots, s.slots[p])
	b.Context = append(b.Context, s.slots[:p+1])
	if sc.e.vision == nil {
		b.Positions = append(b.Positions, int32(p))
		return
	}
	pos := s.pos3(p)
	b.Positions = append(b.Positions, pos[0])
	b.MRoPE = append(b.MRoPE, pos)
	b.Embeds = append(b.Embeds, s.embedAt(p, sc.e.cfg.Hidden))
}

func (sc *scheduler) forward() error {
	vocab := sc.e.cfg.Vocab
	if need := len(sc.batch.Logits) * vocab; cap(sc.logits) < need {
		sc.logits = make([]float32, need)
	}
	sc.logits = sc.logits[:len(sc.batch.Logits)*vocab]
	sc.totals.ForwardSteps++
	return sc.e.model.Forward(context.Background(), &sc.batch, sc.kv, sc.logits)
}

func (sc *scheduler) row(i int) []float32 {
	v := sc.e.cfg.Vocab
	return sc.logits[i*v : (i+1)*v]
}

// orderWaiting applies the schedule policy: lpm puts the requests with the
// longest cached prefix first (fcfs beyond 128 waiting, as SGLang does).
func (sc *scheduler) orderWaiting() {
	if sc.e.opts.SchedulePolicy != "lpm" || sc.tree.Disabled() || len(sc.waiting) > 128 || len(sc.waiting) < 2 {
		return
	}
	for _, s := range sc.waiting {
		s.prio = len(s.slots)
		if s.node == nil {
			m, _ := sc.tree.Match(s.key(s.matchLimit()))
			s.prio = len(m)
		}
	}
	slices.SortStableFunc(sc.waiting, func(a, b *seq) int { return b.prio - a.prio })
}

// admit takes the cached prefix of a sequence about to start prefilling.
func (sc *scheduler) admit(s *seq) {
	slots, node := sc.tree.Match(s.key(s.matchLimit()))
	if err := sc.tree.Lock(node); err != nil {
		sc.e.log.Error("radix lock", "err", err)
	}
	s.slots, s.node, s.treeLen = slots, node, len(slots)
	if !s.admitted {
		s.cached = len(slots)
		sc.countCachedImages(s)
	}
}

// sharesUncachedPrefix reports whether s starts with the same tokens as a
// sequence already in this prefill step that the cache does not hold yet:
// s then waits one step and reuses that sequence's KV (in-batch prefix
// caching).
func sharesUncachedPrefix(s *seq, batch []*seq) bool {
	const probe = 32
	for _, o := range batch {
		n := min(probe, len(s.ids), len(o.ids))
		if n == probe && slices.Equal(s.ids[:n], o.ids[:n]) {
			return true
		}
	}
	return false
}

// prefill runs one prefill step over the waiting sequences, in policy order,
// up to the chunked-prefill token budget.
func (sc *scheduler) prefill() error {
	budget := sc.e.opts.ChunkedPrefillSize
	if budget <= 0 {
		budget = 2048
	}
	sc.orderWaiting()
	sc.resetBatch()
	// Running sequences decode in the same forward pass (a mixed batch), so
	// new arrivals do not stall them.
	decodeRows := 0
	if len(sc.running) > 0 && sc.available() > len(sc.running) {
		if err := sc.addDecodeRows(); err != nil {
			return err
		}
		decodeRows = len(sc.rowSeq)
	}
	type part struct {
		s        *seq
		complete bool
		sample   bool
	}
	var parts []part
	var fresh []*seq // sequences in this step whose prefix the cache lacks
	type failure struct {
		s   *seq
		err error
	}
	var failed []failure
	newSeqs, newTokens, cachedTokens := 0, 0, 0
	for _, s := range sc.waiting {
		if budget == 0 || len(sc.running)+len(parts) >= sc.maxRunning() {
			break
		}
		if s.node == nil {
			first := !s.admitted
			sc.admit(s)
			if !sc.tree.Disabled() && s.treeLen < 32 && len(parts) > 0 && sharesUncachedPrefix(s, fresh) {
				continue
			}
			if s.treeLen < 32 {
				fresh = append(fresh, s)
			}
			if first {
				s.admitted = true
				newSeqs++
				cachedTokens += s.treeLen
			}
		}
		target, sampleAtEnd := s.prefillTarget()
		from := len(s.slots)
		k := s.forcedChunk(from, min(target-from, budget))
		lpFrom := s.inputLogprobFrom()
		if lpFrom < s.promptLen && from+k > lpFrom-1 {
			k = min(k, inputLogprobChunk)
		}
		k = min(k, sc.available())
		if k < target-from && k <= 0 {
			break
		}
		if len(s.images) > 0 {
			if err := sc.ensureImages(s, from, from+k); err != nil {
				failed = append(failed, failure{s, err})
				continue
			}
		}
		if !sc.alloc(s, k) {
			break
		}
		budget -= k
		newTokens += k
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
	for _, f := range failed {
		sc.fail(f.s, f.err)
	}
	if len(parts) == 0 && decodeRows == 0 {
		if len(failed) > 0 {
			return nil
		}
		return sc.unstall()
	}
	if len(sc.batch.Tokens) > 0 {
		if err := sc.forward(); err != nil {
			return err
		}
	}
	if decodeRows > 0 {
		sc.sampleDecodeRows(decodeRows)
	}
	for i := decodeRows; i < len(sc.rowSeq); i++ {
		s, p := sc.rowSeq[i], sc.rowPos[i]
		if p+1 < s.promptLen && p+1 >= s.inputLogprobFrom() && s.outputs() == 0 {
			s.addInputLogprob(p+1, sc.row(i))
		}
	}
	for _, pt := range parts {
		s := pt.s
		sampleRow := -1
		if pt.complete && pt.sample && s.maxNew > 0 {
			sampleRow = sc.lastRowOf(s)
		}
		if sampleRow >= 0 {
			s.jump = false
			sc.sampleInto(s, sampleRow)
		}
		sc.cachePrefix(s)
		if !pt.complete {
			continue
		}
		s.dropImageFeatures()
		sc.waiting = slices.DeleteFunc(sc.waiting, func(x *seq) bool { return x == s })
		switch {
		case pt.sample && s.maxNew == 0:
			s.finish = &FinishReason{Type: "length", Length: 0}
			sc.finish(s)
		case s.finish != nil:
			sc.finish(s)
		case s.jump:
			// Jump-forward appended tokens: prefill them next step.
			sc.waiting = append([]*seq{s}, sc.waiting...)
			s.publish(nil)
		default:
			sc.running = append(sc.running, s)
			s.publish(nil)
		}
	}
	sc.totals.PromptTokens += newTokens
	sc.totals.CachedTokens += cachedTokens
	if len(parts) == 0 {
		return nil
	}
	sc.e.log.Info(fmt.Sprintf("Prefill batch. #new-seq: %d, #new-token: %d, #cached-token: %d, token usage: %.2f, #running-req: %d, #queue-req: %d",
		newSeqs, newTokens, cachedTokens, sc.usage(), len(sc.running), len(sc.waiting)))
	return nil
}

// unstall makes room when a prefill step could run nothing because the KV
// pool is full: running sequences decode (retracting the newest if needed),
// else waiting sequences that hold slots (jump-forward leaves them waiting
// mid-generation) give them back and will prefill again from the cache.
func (sc *scheduler) unstall() error {
	keep := 1 // the head of the queue keeps its slots, unless others run
	if len(sc.running) > 0 {
		keep = 0
	}
	freed := false
	for _, s := range sc.waiting[min(keep, len(sc.waiting)):] {
		if len(s.slots) > 0 || s.node != nil {
			sc.release(s)
			freed = true
		}
	}
	switch {
	case freed:
		return nil
	case len(sc.running) > 0:
		return sc.decode()
	}
	return errors.New("KV pool exhausted by a single sequence")
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
//
// A constrained sequence has its row masked to the grammar's tokens first,
// and after the token may jump forward over forced text; sampleInto then
// reports true: s must leave the decode batch to prefill the new tokens.
func (sc *scheduler) sampleInto(s *seq, i int) (jumped bool) {
	logits := sc.row(i)
	if s.matcher != nil && !s.constrainRow(logits) {
		s.settle()
		return false
	}
	s.accept(s.sampler.Sample(logits), logits)
	sc.totals.GenerationTokens++
	if s.matcher != nil && s.finish == nil {
		return sc.jumpForward(s)
	}
	return false
}

// fail ends s with err (a per-request failure; the batch goes on).
func (sc *scheduler) fail(s *seq, err error) {
	sc.release(s)
	sc.running = slices.DeleteFunc(sc.running, func(x *seq) bool { return x == s })
	sc.waiting = slices.DeleteFunc(sc.waiting, func(x *seq) bool { return x == s })
	sc.totals.Finished++
	s.publish(err)
}

func (sc *scheduler) finish(s *seq) {
	sc.release(s)
	sc.running = slices.DeleteFunc(sc.running, func(x *seq) bool { return x == s })
	sc.waiting = slices.DeleteFunc(sc.waiting, func(x *seq) bool { return x == s })
	sc.totals.Finished++
	s.publish(nil)
}

// addDecodeRows adds one row per running sequence: its last token, at a
// newly allocated slot.
func (sc *scheduler) addDecodeRows() error {
	for _, s := range sc.running {
		if !sc.alloc(s, 1) {
			return errors.New("KV pool exhausted by a single sequence")
		}
		sc.addRow(s, len(s.ids)-1, true)
	}
	return nil
}

// sampleDecodeRows samples the first n logits rows, which addDecodeRows
// made, and finishes the sequences that stop.
func (sc *scheduler) sampleDecodeRows(n int) {
	var done, jumped []*seq
	for i, s := range sc.rowSeq[:n] {
		j := sc.sampleInto(s, i)
		switch {
		case s.finish != nil:
			done = append(done, s)
		case j:
			jumped = append(jumped, s)
			s.publish(nil)
		default:
			s.publish(nil)
		}
	}
	if len(jumped) > 0 {
		// Their new tokens need a prefill step before they decode again.
		sc.running = slices.DeleteFunc(sc.running, func(x *seq) bool { return slices.Contains(jumped, x) })
		sc.waiting = append(jumped, sc.waiting...)
	}
	sc.decodeSteps++
	sc.decodeTokens += n
	if sc.decodeSteps%decodeLogInterval == 0 {
		tokens := 0
		for _, s := range sc.running {
			tokens += len(s.slots)
		}
		el := time.Since(sc.decodeSince).Seconds()
		sc.e.log.Info(fmt.Sprintf("Decode batch. #running-req: %d, #token: %d, token usage: %.2f, gen throughput (token/s): %.2f, #queue-req: %d",
			len(sc.running), tokens, sc.usage(), float64(sc.decodeTokens)/el, len(sc.waiting)))
		sc.decodeTokens, sc.decodeSince = 0, time.Now()
	}
	for _, s := range done {
		sc.finish(s)
	}
}

// decode runs one step over every running sequence, evicting cached
// prefixes and then retracting the newest requests back to the queue when
// the pool has no slot for them.
func (sc *scheduler) decode() error {
	for sc.available() < len(sc.running) && len(sc.running) > 1 {
		victim := sc.running[len(sc.running)-1]
		sc.running = sc.running[:len(sc.running)-1]
		sc.release(victim)
		sc.waiting = append([]*seq{victim}, sc.waiting...)
		sc.totals.Retracted++
		sc.e.log.Warn("KV pool full: retracted a request", "rid", victim.id)
	}
	sc.resetBatch()
	if err := sc.addDecodeRows(); err != nil {
		return err
	}
	if err := sc.forward(); err != nil {
		return err
	}
	sc.sampleDecodeRows(len(sc.rowSeq))
	return nil
}
