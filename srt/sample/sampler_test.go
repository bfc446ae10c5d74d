package sample

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// logs returns ln of each probability (a row whose softmax is probs).
func logs(probs ...float64) []float32 {
	out := make([]float32, len(probs))
	for i, p := range probs {
		out[i] = float32(math.Log(p))
	}
	return out
}

func seeded(p Params, seed uint64) Params {
	p.Seed = &seed
	return p
}

// kept runs the sampler's pipeline on a copy of row and returns the
// unnormalised weights it would draw from (nil weights mean a fixed id).
func kept(s *Sampler, row []float32) (w []float64, fixed bool, id int32) {
	x := slices.Clone(row)
	r := s.candidates(x)
	if r.fixed {
		return nil, true, r.id
	}
	w = make([]float64, len(row))
	switch {
	case r.c != nil:
		for _, k := range r.c {
			w[k.id] += float64(k.e)
		}
	default:
		for i, e := range r.dense[:len(x)] {
			if x[i] >= r.thr {
				w[i] = float64(e)
			}
		}
	}
	return w, false, 0
}

// dist is kept, normalised.
func dist(t *testing.T, s *Sampler, row []float32) []float64 {
	t.Helper()
	w, fixed, id := kept(s, row)
	if fixed {
		w = make([]float64, len(row))
		w[id] = 1
		return w
	}
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// TestTransforms checks each transform against hand-computed distributions.
func TestTransforms(t *testing.T) {
	base := logs(0.4, 0.3, 0.2, 0.1)
	with := func(f func(*Params)) Params {
		p := Defaults()
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Params
		row  []float32
		want []float64
	}{
		{"full softmax", Defaults(), base, []float64{0.4, 0.3, 0.2, 0.1}},
		{"greedy", with(func(p *Params) { p.Temperature = 0 }), base, []float64{1, 0, 0, 0}},
		{"greedy tie to lowest id", with(func(p *Params) { p.Temperature = 0 }), []float32{1, 3, 3, 2}, []float64{0, 1, 0, 0}},
		// T=0.5 squares the probabilities: 16,9,4,1 over 30.
		{"temperature 0.5", with(func(p *Params) { p.Temperature = 0.5 }), base, []float64{16.0 / 30, 9.0 / 30, 4.0 / 30, 1.0 / 30}},
		// T=2 takes square roots.
		{"temperature 2", with(func(p *Params) { p.Temperature = 2 }), base, func() []float64 {
			r := []float64{math.Sqrt(0.4), math.Sqrt(0.3), math.Sqrt(0.2), math.Sqrt(0.1)}
			s := r[0] + r[1] + r[2] + r[3]
			return []float64{r[0] / s, r[1] / s, r[2] / s, r[3] / s}
		}()},
		{"top_k 2", with(func(p *Params) { p.TopK = 2 }), base, []float64{4.0 / 7, 3.0 / 7, 0, 0}},
		{"top_k 1", with(func(p *Params) { p.TopK = 1 }), base, []float64{1, 0, 0, 0}},
		{"top_k tie keeps lower id", with(func(p *Params) { p.TopK = 2 }), logs(0.2, 0.4, 0.2, 0.2), []float64{1.0 / 3, 2.0 / 3, 0, 0}},
		{"top_k >= vocab is off", with(func(p *Params) { p.TopK = 9 }), base, []float64{0.4, 0.3, 0.2, 0.1}},
		// 0.4 < 0.5 <= 0.4+0.3
		{"top_p 0.5", with(func(p *Params) { p.TopP = 0.5 }), base, []float64{4.0 / 7, 3.0 / 7, 0, 0}},
		{"top_p 0.8", with(func(p *Params) { p.TopP = 0.8 }), base, []float64{4.0 / 9, 3.0 / 9, 2.0 / 9, 0}},
		{"top_p 0.3 keeps the top token", with(func(p *Params) { p.TopP = 0.3 }), base, []float64{1, 0, 0, 0}},
		// top-p on the top-3 renormalised 4/9,3/9,2/9: 0.6 needs two tokens (7/9).
		{"top_k 3 then top_p 0.6", with(func(p *Params) { p.TopK, p.TopP = 3, 0.6 }), base, []float64{4.0 / 7, 3.0 / 7, 0, 0}},
		// min_p 0.5: threshold 0.2 keeps 0.4, 0.3, 0.2.
		{"min_p 0.5", with(func(p *Params) { p.MinP = 0.5 }), base, []float64{4.0 / 9, 3.0 / 9, 2.0 / 9, 0}},
		{"min_p 0.9", with(func(p *Params) { p.MinP = 0.9 }), base, []float64{1, 0, 0, 0}},
		// T=0.5: 16,9,4,1; min_p 0.25 -> threshold 4/16 keeps 16,9,4.
		{"temperature then min_p", with(func(p *Params) { p.Temperature, p.MinP = 0.5, 0.25 }), base, []float64{16.0 / 29, 9.0 / 29, 4.0 / 29, 0}},
		// top_p 0.8 keeps 0.4,0.3,0.2; min_p 0.6 (threshold 0.24) drops 0.2.
		{"top_p then min_p", with(func(p *Params) { p.TopP, p.MinP = 0.8, 0.6 }), base, []float64{4.0 / 7, 3.0 / 7, 0, 0}},
		{"NaN logit counts as -Inf", Defaults(), []float32{0, float32(math.NaN()), 0}, []float64{0.5, 0, 0.5}},
		{"+Inf wins", Defaults(), []float32{0, float32(math.Inf(1)), float32(math.Inf(1))}, []float64{0, 1, 0}},
		{"all -Inf gives 0", Defaults(), []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, []float64{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.p, len(tt.row), nil)
			got := dist(t, s, tt.row)
			if !near(got, tt.want, 1e-5) {
				t.Fatalf("distribution = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPenalties checks the processed row against hand-computed values.
func TestPenalties(t *testing.T) {
	row := []float32{2, -1, 0.5, 3, 1}
	tests := []struct {
		name    string
		p       Params
		prompt  []int32
		outputs []int32
		want    []float32
	}{
		{"none", Defaults(), []int32{0}, []int32{1, 1, 3}, []float32{2, -1, 0.5, 3, 1}},
		// prompt token 0 and output tokens 1, 3 are divided/multiplied by 2.
		{"repetition", with(Defaults(), func(p *Params) { p.RepetitionPenalty = 2 }), []int32{0}, []int32{1, 1, 3}, []float32{1, -2, 0.5, 1.5, 1}},
		{"repetition below 1 boosts", with(Defaults(), func(p *Params) { p.RepetitionPenalty = 0.5 }), []int32{0, 1}, nil, []float32{4, -0.5, 0.5, 3, 1}},
		// frequency counts only outputs: token 1 twice, token 3 once.
		{"frequency", with(Defaults(), func(p *Params) { p.FrequencyPenalty = 0.5 }), []int32{0}, []int32{1, 1, 3}, []float32{2, -2, 0.5, 2.5, 1}},
		{"presence", with(Defaults(), func(p *Params) { p.PresencePenalty = 0.25 }), []int32{0}, []int32{1, 1, 3}, []float32{2, -1.25, 0.5, 2.75, 1}},
		// repetition first, then the additive ones.
		{"all three", with(Defaults(), func(p *Params) {
			p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty = 2, 0.5, 0.25
		}), []int32{0}, []int32{1, 1, 3}, []float32{1, -3.25, 0.5, 0.75, 1}},
		{"negative frequency rewards", with(Defaults(), func(p *Params) { p.FrequencyPenalty = -1 }), nil, []int32{4, 4}, []float32{2, -1, 0.5, 3, 3}},
		{"out-of-range ids ignored", with(Defaults(), func(p *Params) { p.RepetitionPenalty, p.FrequencyPenalty = 2, 1 }), []int32{-1, 99}, []int32{-5, 77}, []float32{2, -1, 0.5, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.p, len(row), tt.prompt)
			for _, id := range tt.outputs {
				s.Accept(id)
			}
			x := slices.Clone(row)
			s.Sample(x) // temperature 1: the row is left penalised, unscaled
			for i := range x {
				if math.Abs(float64(x[i]-tt.want[i])) > 1e-6 {
					t.Fatalf("processed row = %v, want %v", x, tt.want)
				}
			}
		})
	}
}

func with(p Params, f func(*Params)) Params {
	f(&p)
	return p
}

// TestRowAfterSample checks the documented row contract: temperature-scaled,
// never truncated, so Logprob on it is SGLang's default logprob.
func TestRowAfterSample(t *testing.T) {
	row := logs(0.4, 0.3, 0.2, 0.1)
	p := with(Defaults(), func(p *Params) { p.Temperature, p.TopK = 0.5, 1 })
	x := slices.Clone(row)
	New(p, 4, nil).Sample(x)
	for i := range x {
		if want := row[i] * 2; math.Abs(float64(x[i]-want)) > 1e-6 {
			t.Fatalf("row after Sample = %v, want the raw row times 2 (%v at %d)", x, want, i)
		}
	}
	if got, want := Logprob(x, 1), math.Log(9.0/30); math.Abs(float64(got)-want) > 1e-5 {
		t.Fatalf("Logprob on the processed row = %v, want %v", got, want)
	}
}

func TestMinNewTokens(t *testing.T) {
	// EOS (3) and the stop id (2) lead; token 1 is next.
	row := []float32{0, 1, 4, 5}
	p := with(Defaults(), func(p *Params) {
		p.Temperature, p.MinNewTokens = 0, 2
		p.EOSTokenIDs, p.StopTokenIDs = []int32{3, 1000}, []int32{2}
	})
	s := New(p, 4, nil)
	want := []int32{1, 1, 3, 3}
	for step, w := range want {
		got := s.Sample(slices.Clone(row))
		if got != w {
			t.Fatalf("step %d: Sample = %d, want %d", step, got, w)
		}
		s.Accept(got)
	}
	// The mask also holds when sampling: EOS and stop never drawn.
	p.Temperature = 1
	p = seeded(p, 7)
	s = New(p, 4, nil)
	for range 200 {
		if got := s.Sample(slices.Clone(row)); got == 2 || got == 3 {
			t.Fatalf("drew masked token %d before min_new_tokens", got)
		}
	}
	if s.Accepted() != 0 {
		t.Fatalf("Accepted() = %d without Accept calls", s.Accepted())
	}
}

// TestFrequencies draws many seeded samples and compares the frequencies
// with the expected distribution (each within 5 standard deviations).
func TestFrequencies(t *testing.T) {
	row := logs(0.05, 0.3, 0.1, 0.25, 0.2, 0.1)
	tests := []struct {
		name string
		p    Params
		want []float64
	}{
		{"full", Defaults(), []float64{0.05, 0.3, 0.1, 0.25, 0.2, 0.1}},
		{"top_k 3", with(Defaults(), func(p *Params) { p.TopK = 3 }), []float64{0, 0.3 / 0.75, 0, 0.25 / 0.75, 0.2 / 0.75, 0}},
		{"top_p 0.6", with(Defaults(), func(p *Params) { p.TopP = 0.6 }), []float64{0, 0.3 / 0.75, 0, 0.25 / 0.75, 0.2 / 0.75, 0}},
		{"min_p 0.5", with(Defaults(), func(p *Params) { p.MinP = 0.5 }), []float64{0, 0.3 / 0.75, 0, 0.25 / 0.75, 0.2 / 0.75, 0}},
		{"temperature 0.5", with(Defaults(), func(p *Params) { p.Temperature = 0.5 }), func() []float64 {
			w := []float64{0.0025, 0.09, 0.01, 0.0625, 0.04, 0.01}
			s := 0.215
			for i := range w {
				w[i] /= s
			}
			return w
		}()},
	}
	n := 40000
	if testing.Short() {
		n = 10000
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(seeded(tt.p, 42), len(row), nil)
			counts := make([]int, len(row))
			x := make([]float32, len(row))
			for range n {
				copy(x, row)
				counts[s.Sample(x)]++
			}
			for i, w := range tt.want {
				sd := math.Sqrt(float64(n) * w * (1 - w))
				if d := math.Abs(float64(counts[i]) - float64(n)*w); d > 5*sd+0.5 {
					t.Errorf("token %d: %d draws, want %.0f ± %.0f", i, counts[i], float64(n)*w, 5*sd)
				}
			}
		})
	}
}

func TestSeedDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, 50)
	for i := range rows {
		rows[i] = make([]float32, 1000)
		for j := range rows[i] {
			rows[i][j] = float32(rng.NormFloat64())
		}
	}
	run := func(seed uint64) []int32 {
		p := with(Defaults(), func(p *Params) { p.TopP, p.RepetitionPenalty = 0.95, 1.2 })
		s := New(seeded(p, seed), 1000, []int32{1, 2, 3})
		var out []int32
		for _, r := range rows {
			id := s.Sample(slices.Clone(r))
			s.Accept(id)
			out = append(out, id)
		}
		return out
	}
	a, b, c := run(9), run(9), run(10)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed gave different ids:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 9 and 10 gave the same 50 ids: %v", a)
	}
}

// naiveKeep is the reference truncation: a full sort by (logit desc, id
// asc), top-k, top-p on the renormalised top-k, min-p; float64 throughout.
func naiveKeep(row []float32, topK int, topP, minP float64) []int32 {
	idx := make([]int32, len(row))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if row[a] != row[b] {
			if row[a] > row[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	})
	if topK > 0 && topK < len(idx) {
		idx = idx[:topK]
	}
	mx := float64(row[idx[0]])
	var z float64
	for _, i := range idx {
		z += math.Exp(float64(row[i]) - mx)
	}
	if topP < 1 {
		var acc float64
		for n, i := range idx {
			acc += math.Exp(float64(row[i])-mx) / z
			if acc >= topP {
				idx = idx[:n+1]
				break
			}
		}
	}
	if minP > 0 {
		keep := idx[:0:0]
		for _, i := range idx {
			if math.Exp(float64(row[i])-mx) >= minP {
				keep = append(keep, i)
			}
		}
		idx = keep
	}
	slices.Sort(idx)
	return idx
}

// TestTruncationLargeVocab compares the kept sets on big rows (heap,
// histogram and quickselect paths) with the naive full sort.
func TestTruncationLargeVocab(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name  string
		scale float64
		topK  int
		topP  float32
		minP  float32
	}{
		{"top_p 0.9 flat", 1, 0, 0.9, 0},
		{"top_p 0.9 peaked", 4, 0, 0.9, 0},
		{"top_p 0.5 quantised", 0, 0, 0.5, 0}, // many exact ties
		{"top_k 40", 2, 40, 0, 0},
		{"top_k 5000 top_p 0.8", 2, 5000, 0.8, 0},
		{"min_p 0.05", 2, 0, 0, 0.05},
		{"all three", 3, 200, 0.95, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := make([]float32, 20000)
			for i := range row {
				if tt.scale == 0 {
					row[i] = float32(rng.IntN(8)) / 2
				} else {
					row[i] = float32(rng.NormFloat64() * tt.scale)
				}
			}
			p := with(Defaults(), func(p *Params) { p.TopK, p.TopP, p.MinP = tt.topK, tt.topP, tt.minP })
			if tt.topP == 0 {
				p.TopP = 1
			}
			s := New(p, len(row), nil)
			w, fixed, _ := kept(s, row)
			if fixed {
				t.Fatalf("expected a candidate set")
			}
			var got []int32
			for i, v := range w {
				if v > 0 {
					got = append(got, int32(i))
				}
			}
			want := naiveKeep(row, tt.topK, float64(p.TopP), float64(tt.minP))
			if !slices.Equal(got, want) {
				t.Fatalf("kept %d tokens, naive keeps %d (first diff at %d)", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation check uses a full-size vocabulary")
	}
	row := benchRow(151936, 2)
	for name, p := range benchParams() {
		t.Run(name, func(t *testing.T) {
			s := New(seeded(p, 1), len(row), []int32{5, 6, 7})
			x := slices.Clone(row)
			s.Sample(x)
			s.Accept(5)
			allocs := testing.AllocsPerRun(5, func() {
				copy(x, row)
				s.Sample(x)
			})
			if allocs != 0 {
				t.Fatalf("Sample allocates %.1f times per call", allocs)
			}
		})
	}
}

// TestDrawLargeVocab checks the draws on big rows: every id Sample returns
// lies in the naive kept set, and drawBound/drawDense/draw invert the
// cumulative distribution of the survivors at fixed points.
func TestDrawLargeVocab(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	row := make([]float32, 20000)
	for i := range row {
		row[i] = float32(rng.NormFloat64())
	}
	for _, p := range []Params{
		with(Defaults(), func(p *Params) { p.TopP = 0.7 }), // histogram path, bounded draw
		with(Defaults(), func(p *Params) { p.TopP, p.MinP = 0.95, 0.3 }),
		with(Defaults(), func(p *Params) { p.TopK = 3000 }),
		Defaults(),
	} {
		want := naiveKeep(row, p.TopK, float64(p.TopP), float64(p.MinP))
		s := New(seeded(p, 5), len(row), nil)
		for range 200 {
			id := s.Sample(slices.Clone(row))
			if _, ok := slices.BinarySearch(want, id); !ok {
				t.Fatalf("%+v: drew %d outside the kept set", p, id)
			}
		}
		// Inverse-CDF check against the weights the pipeline reports.
		w, _, _ := kept(s, row)
		var total float64
		for _, v := range w {
			total += v
		}
		x := slices.Clone(row)
		r := s.candidates(x)
		for _, u := range []float64{0, 0.1, 0.25, 0.5, 0.9, 0.999999} {
			var got int32
			switch {
			case r.c != nil:
				slices.SortFunc(r.c, func(a, b cand) int { return int(a.id - b.id) }) // draw scans in slice order
				got = draw(r.c, u)
			default:
				got = drawScan(r.dense, x, r.thr, r.total, u, r.id)
			}
			var acc float64
			wantID := int32(-1)
			for i, v := range w {
				acc += v
				if v > 0 && u*total < acc {
					wantID = int32(i)
					break
				}
			}
			if got != wantID {
				t.Fatalf("%+v: draw at u=%v gave %d, want %d", p, u, got, wantID)
			}
		}
	}
}
