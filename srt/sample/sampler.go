package sample

import (
	"math"
	"math/rand/v2"
)

// seqPCG is the PCG stream constant; the seed is the state.
const seqPCG = 0x5851f42d4c957f2d

// promptBit marks, in Sampler.counts, a token seen in the prompt; the low
// bits count the token in the output.
const promptBit = 1 << 31

// Sampler draws the tokens of one sequence. Create it with New; it is not
// safe for concurrent use.
type Sampler struct {
	set   settings
	vocab int
	rng   *rand.Rand

	accepted int      // tokens recorded by Accept
	counts   []uint32 // per id: promptBit | output count; nil without penalties
	touched  []int32  // ids whose counts are non-zero, in first-seen order

	probs []float32 // scratch: e^(x-max) over the vocabulary
	cands []cand    // scratch: candidate tokens
	hist  [histBins]float64
}

// New returns a Sampler for params p (normally checked with Validate
// first; values Validate would reject are treated as "off" rather than
// failing), a vocabulary of vocab ids, and the prompt, which feeds the
// repetition penalty. Prompt ids outside [0, vocab) are ignored.
func New(p Params, vocab int, prompt []int32) *Sampler {
	vocab = max(vocab, 1)
	s := &Sampler{set: sanitize(&p, vocab), vocab: vocab}
	seed := rand.Uint64()
	if p.Seed != nil {
		seed = *p.Seed
	}
	s.rng = rand.New(rand.NewPCG(seed, seqPCG))
	if s.set.rep != 1 || s.set.freq != 0 || s.set.pres != 0 {
		s.counts = make([]uint32, vocab)
	}
	if s.set.rep != 1 {
		for _, id := range prompt {
			if id < 0 || int(id) >= vocab || s.counts[id]&promptBit != 0 {
				continue
			}
			if s.counts[id] == 0 {
				s.touched = append(s.touched, id)
			}
			s.counts[id] |= promptBit
		}
	}
	return s
}

// Accept records id as the sequence's next output token: it advances the
// min_new_tokens count and the penalty counts. Ids outside the vocabulary
// only advance the count.
func (s *Sampler) Accept(id int32) {
	s.accepted++
	if s.counts == nil || id < 0 || int(id) >= len(s.counts) {
		return
	}
	if s.counts[id] == 0 {
		s.touched = append(s.touched, id)
	}
	if s.counts[id]&^promptBit < math.MaxInt32 {
		s.counts[id]++
	}
}

// Accepted returns how many tokens Accept has recorded.
func (s *Sampler) Accepted() int { return s.accepted }

// Sample picks the next token from one row of logits (normally of the
// vocabulary's length; a shorter row restricts the ids, a longer one is
// used whole). It modifies the row in place as the package documentation
// describes, and draws one random number unless greedy.
func (s *Sampler) Sample(logits []float32) int32 {
	r := s.candidates(logits)
	if r.fixed {
		return r.id
	}
	u := s.rng.Float64()
	switch {
	case r.c != nil:
		return draw(r.c, u)
	}
	return drawScan(r.dense, logits, r.thr, r.total, u, r.id)
}

// survivors is what the pipeline leaves for the draw: a fixed answer (id),
// an explicit candidate list, or the dense unnormalised probabilities of
// the entries with logit >= thr (the others count as 0) with their total;
// id is then the top token, the fallback of the draw.
type survivors struct {
	fixed bool
	id    int32
	c     []cand
	dense []float32
	thr   float32
	total float64
}

// fastNucleusSpan is how far below the max the top-p fast path looks
// (e^-10 of the top token's mass), and fastNucleusMax how many tokens it
// collects before falling back to the histogram.
const (
	fastNucleusSpan = 10
	fastNucleusMax  = 4096
)

// candidates runs the pipeline up to the draw.
func (s *Sampler) candidates(x []float32) survivors {
	if len(x) == 0 {
		return survivors{fixed: true}
	}
	s.penalize(x)
	if s.accepted < s.set.minNew {
		for _, id := range s.set.stopMask {
			if int(id) < len(x) {
				x[id] = negInf
			}
		}
	}
	if s.set.greedy {
		return survivors{fixed: true, id: int32(argmax(x))}
	}
	mx, at := prepRow(x, s.set.invTemp)
	if at < 0 {
		return survivors{fixed: true}
	}
	if math.IsInf(float64(mx), 1) {
		return survivors{fixed: true, id: int32(at)}
	}
	set := &s.set
	var minBound cand // tokens must rank at or before it (min-p)
	if set.minPOn {
		minBound = cand{x: nextDown(mx + set.logMinP), id: -1}
	}
	if set.topK > 0 && set.topK < len(x) {
		c := topK(x, set.topK, s.cands)
		s.cands = c[:0]
		for i := range c {
			c[i].e = expNeg(c[i].x - mx)
		}
		if set.topP > 0 {
			var t float64
			for _, k := range c {
				t += float64(k.e)
			}
			c = c[:nucleus(c, t*float64(set.topP))]
		}
		if set.minPOn {
			c = keepBefore(c, minBound)
		}
		return survivors{c: c}
	}
	if set.topP > 0 {
		return s.topP(x, mx, int32(at), minBound, set.minPOn)
	}
	if set.minPOn {
		return survivors{c: s.gather(x, mx, minBound.x)}
	}
	p := s.scratch(len(x))
	return survivors{dense: p, thr: negInf, total: expSum(p, x, mx), id: int32(at)}
}

// topP is top-p (then min-p) over the whole row. A fast path collects the
// tokens within fastNucleusSpan of the max; if they carry the mass it is
// exact among them. Otherwise one histogram pass over the exps finds the
// bin where the mass is reached and a weighted quickselect inside that bin
// finds the cut token; the draw then scans the row up to that rank.
func (s *Sampler) topP(x []float32, mx float32, at int32, minBound cand, minPOn bool) survivors {
	topP := float64(s.set.topP)
	p := s.scratch(len(x))
	target := expSum(p, x, mx) * topP
	if lo := mx - fastNucleusSpan; countGT(x, lo) <= fastNucleusMax {
		c := s.gather(x, mx, lo)
		var mass float64
		for _, k := range c {
			mass += float64(k.e)
		}
		if mass >= target {
			c = c[:nucleus(c, target)]
			if minPOn {
				c = keepBefore(c, minBound)
			}
			return survivors{c: c}
		}
	}
	clear(s.hist[:])
	histogram(p, x, mx, &s.hist)
	edge, before := histBins-1, 0.0
	for b, m := range s.hist {
		if before+m >= target {
			edge = b
			break
		}
		before += m
	}
	// Collect the edge bin's tokens: a range test first, the exact bin
	// only near it.
	lo := mx - float32(edge+1)/histScale - 0.01
	hi := mx - float32(edge)/histScale + 0.01
	c := s.cands[:0]
	for i := firstIn(x, 0, lo, hi); i < len(x); i = firstIn(x, i+1, lo, hi) {
		if v := x[i]; binOf(mx, v) == edge && p[i] > 0 {
			c = append(c, cand{x: v, e: p[i], id: int32(i)})
		}
	}
	s.cands = c[:0]
	if len(c) == 0 { // rounding left the target unreached: keep everything
		return survivors{dense: p, thr: negInf, total: before, id: at}
	}
	r := max(nucleus(c, target-before), 1)
	for _, k := range c[:r] {
		before += float64(k.e)
	}
	cut := worst(c[:r])
	if minPOn && better(minBound, cut) {
		return survivors{c: s.gather(x, mx, minBound.x)}
	}
	// The survivors are the tokens ranking at or before cut. Zero the
	// excluded ties of its logit so that "logit >= cut.x" says the same.
	for _, k := range c[r:] {
		if k.x == cut.x {
			p[k.id] = 0
		}
	}
	return survivors{dense: p, thr: cut.x, total: before, id: at}
}

// gather returns the tokens with x > thr as candidates.
func (s *Sampler) gather(x []float32, mx, thr float32) []cand {
	c := s.cands[:0]
	for i := firstGT(x, 0, thr); i < len(x); i = firstGT(x, i+1, thr) {
		c = append(c, cand{x: x[i], e: expNeg(x[i] - mx), id: int32(i)})
	}
	s.cands = c[:0]
	return c
}

// keepBefore filters c to the candidates ranking at or before bound.
func keepBefore(c []cand, bound cand) []cand {
	kept := c[:0]
	for _, k := range c {
		if !better(bound, k) {
			kept = append(kept, k)
		}
	}
	return kept
}

// scratch returns the probability scratch, at least n long.
func (s *Sampler) scratch(n int) []float32 {
	if cap(s.probs) < n {
		s.probs = make([]float32, n)
	}
	return s.probs[:n]
}

// penalize applies the repetition, frequency and presence penalties to the
// tokens seen so far.
func (s *Sampler) penalize(x []float32) {
	rep, freq, pres := s.set.rep, s.set.freq, s.set.pres
	for _, id := range s.touched {
		if int(id) >= len(x) {
			continue
		}
		c := s.counts[id]
		v := x[id]
		if rep != 1 {
			if v < 0 {
				v *= rep
			} else {
				v /= rep
			}
		}
		if n := c &^ promptBit; n > 0 {
			v -= freq*float32(n) + pres
		}
		x[id] = v
	}
}
