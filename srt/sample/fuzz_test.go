package sample

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// FuzzSample feeds arbitrary logits and params: Sample must not panic, must
// return an id inside the row, and never one whose processed logit is -Inf
// while a finite one exists.
func FuzzSample(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64}, float32(1), float32(1), 0, float32(0), float32(1), uint64(1))
	f.Add([]byte{0, 0, 128, 127, 0, 0, 128, 255, 0, 0, 192, 127}, float32(0.5), float32(0.3), 2, float32(0.1), float32(1.5), uint64(2))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, float32(0), float32(0), -1, float32(2), float32(0), uint64(3))
	f.Fuzz(func(t *testing.T, raw []byte, temp, topP float32, topK int, minP, rep float32, seed uint64) {
		n := len(raw) / 4
		if n == 0 || n > 4096 {
			return
		}
		row := make([]float32, n)
		for i := range row {
			row[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		p := Params{Temperature: temp, TopP: topP, TopK: topK, MinP: minP, RepetitionPenalty: rep,
			FrequencyPenalty: 0.5, Seed: &seed, MinNewTokens: 1, EOSTokenIDs: []int32{0, -3, int32(n + 5)}}
		s := New(p, n, []int32{0, 1, int32(n)})
		for range 3 {
			x := slices.Clone(row)
			id := s.Sample(x)
			if id < 0 || int(id) >= n {
				t.Fatalf("Sample returned %d for a row of %d", id, n)
			}
			finite := slices.ContainsFunc(x, func(v float32) bool { return v > float32(math.Inf(-1)) })
			if finite && math.IsInf(float64(x[id]), -1) {
				t.Fatalf("Sample returned %d whose processed logit is -Inf (row %v)", id, x)
			}
			s.Accept(id)
		}
		lp := TopLogprobs(row, 3, nil)
		for i := 1; i < len(lp); i++ {
			a, b := key(row[lp[i-1].ID]), key(row[lp[i].ID])
			if b > a || (a == b && lp[i].ID < lp[i-1].ID) || lp[i].Logprob > lp[i-1].Logprob {
				t.Fatalf("TopLogprobs not sorted: %v", lp)
			}
		}
	})
}
