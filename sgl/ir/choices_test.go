package ir

import (
	"errors"
	"math"
	"testing"
)

var null = math.NaN()

// lps builds entries from logprobs (NaN = null).
func lps(vals ...float64) []TokenLogprob {
	out := make([]TokenLogprob, len(vals))
	for i, v := range vals {
		out[i] = TokenLogprob{Logprob: v, ID: i}
	}
	return out
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		method  Method
		input   [][]TokenLogprob
		uncond  [][]TokenLogprob
		want    int
		wantErr error
	}{
		// means: A -1.5, B -0.3
		{"tln picks best mean", TokenLengthNormalized, [][]TokenLogprob{lps(-1, -2), lps(-0.2, -0.4)}, nil, 1, nil},
		// means: A -1.5, B -1.5 (tie -> first), C -2
		{"tln tie takes first", TokenLengthNormalized, [][]TokenLogprob{lps(-1, -2), lps(-0.5, -3, -1), lps(-2)}, nil, 0, nil},
		// A mean skips the null: (-1-3)/2 = -2 > B -2.5
		{"tln skips null", TokenLengthNormalized, [][]TokenLogprob{lps(null, -1, -3), lps(-2.5)}, nil, 0, nil},
		// TLN would pick C (mean -0.3); greedy: col0 keeps A,B (-0.1); col1 B (-0.2 > -5)
		{"greedy walks positions", GreedyTokenSelection, [][]TokenLogprob{lps(-0.1, -5), lps(-0.1, -0.2, -9), lps(-0.3)}, nil, 1, nil},
		// A padded with its mean -1 beats B's -2 at position 1
		{"greedy pads with mean", GreedyTokenSelection, [][]TokenLogprob{lps(-1), lps(-1, -2)}, nil, 0, nil},
		{"greedy all tied takes first", GreedyTokenSelection, [][]TokenLogprob{lps(-1), lps(-1)}, nil, 0, nil},
		// A: diffs -0.2-0, -0.2+0.1 -> -0.15; B: -1-0, -1+4 -> 1.0 (TLN would pick A)
		{"unconditional", UnconditionalLikelihoodNormalized,
			[][]TokenLogprob{lps(-0.2, -0.2), lps(-1, -1)}, [][]TokenLogprob{lps(null, -0.1), lps(null, -4)}, 1, nil},
		{"unconditional length mismatch", UnconditionalLikelihoodNormalized,
			[][]TokenLogprob{lps(-0.2, -0.2)}, [][]TokenLogprob{lps(null)}, 0, ErrBackend},
		{"unconditional missing", UnconditionalLikelihoodNormalized, [][]TokenLogprob{lps(-1)}, nil, 0, ErrBackend},
		{"bad method", Method("best"), [][]TokenLogprob{lps(-1)}, nil, 0, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			choices := make([]string, len(tc.input))
			for i := range choices {
				choices[i] = string(rune('A' + i))
			}
			d, err := Decide(tc.method, choices, &ChoiceLogprobs{Input: tc.input, Unconditional: tc.uncond})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Index != tc.want || d.Choice != choices[tc.want] {
				t.Errorf("picked %d (%s), want %d", d.Index, d.Choice, tc.want)
			}
		})
	}
}

func TestDecideNumbers(t *testing.T) {
	d, err := Decide(UnconditionalLikelihoodNormalized, []string{"a", "b"}, &ChoiceLogprobs{
		Input: [][]TokenLogprob{lps(-0.2, -0.2), lps(-1, -1)}, Unconditional: [][]TokenLogprob{lps(null, -0.1), lps(null, -4)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{-0.15, 1.0}
	for i, w := range want {
		if math.Abs(d.NormalizedUnconditional[i]-w) > 1e-12 {
			t.Errorf("normalized[%d] = %v, want %v", i, d.NormalizedUnconditional[i], w)
		}
	}
	if math.Abs(d.NormalizedPromptLogprobs[1]+1) > 1e-12 {
		t.Errorf("normalized prompt logprob = %v, want -1", d.NormalizedPromptLogprobs[1])
	}
	m := GreedyMatrix([][]TokenLogprob{lps(-0.1, -5), lps(-0.3)})
	wantM := [][]float64{{-0.1, -5}, {-0.3, -0.3}}
	for i := range wantM {
		for j := range wantM[i] {
			if m[i][j] != wantM[i][j] {
				t.Errorf("matrix[%d][%d] = %v, want %v", i, j, m[i][j], wantM[i][j])
			}
		}
	}
}

func TestDropHealedToken(t *testing.T) {
	txt := func(s string) *string { return &s }
	tests := []struct {
		prefix string
		first  *string
		drop   bool
	}{
		{"The answer is", txt(" is"), true},
		{"The answer is", txt(" isn"), false},
		{"The answer is", nil, false},
		{"x", txt(""), true},
	}
	for _, tc := range tests {
		in := []TokenLogprob{{Logprob: -1, Text: tc.first}, {Logprob: -2}}
		got := DropHealedToken(tc.prefix, in)
		if (len(got) == 1) != tc.drop {
			t.Errorf("%q/%v: kept %d entries, drop=%v", tc.prefix, tc.first, len(got), tc.drop)
		}
	}
}

func TestTokenLogprobJSON(t *testing.T) {
	var e []TokenLogprob
	if err := jsonUnmarshal(`[[null, 5, "a"], [-0.5, 6, null], [-1, 7]]`, &e); err != nil {
		t.Fatal(err)
	}
	if !e[0].Null() || e[0].ID != 5 || *e[0].Text != "a" || e[1].Logprob != -0.5 || e[1].Text != nil || e[2].ID != 7 {
		t.Fatalf("parsed %+v", e)
	}
	for _, bad := range []string{`[[1]]`, `[[1,2,3,4]]`, `[["x",1,null]]`, `[{}]`} {
		if err := jsonUnmarshal(bad, &e); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func FuzzTokenLogprob(f *testing.F) {
	for _, s := range []string{`[null,1,"a"]`, `[-1.5,2,null]`, `[1,2]`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var e TokenLogprob
		if err := jsonUnmarshal(s, &e); err != nil {
			return
		}
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var e2 TokenLogprob
		if err := jsonUnmarshal(string(b), &e2); err != nil {
			t.Fatalf("re-parse %s: %v", b, err)
		}
		if e2.ID != e.ID || e2.Null() != e.Null() {
			t.Fatalf("round trip %s -> %s", s, b)
		}
	})
}
