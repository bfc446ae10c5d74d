package sample

import (
	"errors"
	"math"
	"testing"
)

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	with := func(f func(*Params)) Params {
		p := Defaults()
		f(&p)
		return p
	}
	tests := []struct {
		name  string
		p     Params
		vocab int
		ok    bool
	}{
		{"defaults", Defaults(), 10, true},
		{"greedy", with(func(p *Params) { p.Temperature = 0 }), 10, true},
		{"all set", with(func(p *Params) {
			p.Temperature, p.TopP, p.TopK, p.MinP = 0.7, 0.9, 40, 0.05
			p.RepetitionPenalty, p.FrequencyPenalty, p.PresencePenalty = 1.1, -2, 2
			p.MinNewTokens, p.StopTokenIDs = 3, []int32{0, 9}
		}), 10, true},
		{"top_k 0 is off", with(func(p *Params) { p.TopK = 0 }), 10, true},
		{"zero value", Params{}, 10, false},
		{"vocab 0", Defaults(), 0, false},
		{"negative temperature", with(func(p *Params) { p.Temperature = -0.1 }), 10, false},
		{"NaN temperature", with(func(p *Params) { p.Temperature = nan }), 10, false},
		{"Inf temperature", with(func(p *Params) { p.Temperature = inf }), 10, false},
		{"top_p 0", with(func(p *Params) { p.TopP = 0 }), 10, false},
		{"top_p above 1", with(func(p *Params) { p.TopP = 1.01 }), 10, false},
		{"top_p NaN", with(func(p *Params) { p.TopP = nan }), 10, false},
		{"min_p negative", with(func(p *Params) { p.MinP = -0.01 }), 10, false},
		{"min_p above 1", with(func(p *Params) { p.MinP = 1.5 }), 10, false},
		{"frequency too big", with(func(p *Params) { p.FrequencyPenalty = 2.5 }), 10, false},
		{"presence too small", with(func(p *Params) { p.PresencePenalty = -2.5 }), 10, false},
		{"repetition 0", with(func(p *Params) { p.RepetitionPenalty = 0 }), 10, false},
		{"repetition above 2", with(func(p *Params) { p.RepetitionPenalty = 2.1 }), 10, false},
		{"min_new_tokens negative", with(func(p *Params) { p.MinNewTokens = -1 }), 10, false},
		{"stop id negative", with(func(p *Params) { p.StopTokenIDs = []int32{-1} }), 10, false},
		{"stop id past vocab", with(func(p *Params) { p.StopTokenIDs = []int32{10} }), 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate(tt.vocab)
			if tt.ok && err != nil {
				t.Fatalf("Validate: unexpected error %v", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("Validate: want an error, got nil")
				}
				if !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("error %v does not wrap ErrInvalidParams", err)
				}
			}
		})
	}
}

func TestGreedy(t *testing.T) {
	for _, tt := range []struct {
		temp float32
		want bool
	}{{0, true}, {1e-7, true}, {-1, true}, {1e-6, false}, {0.5, false}, {1, false}} {
		p := Params{Temperature: tt.temp}
		if got := p.Greedy(); got != tt.want {
			t.Errorf("Greedy() at temperature %v = %v, want %v", tt.temp, got, tt.want)
		}
	}
}

// TestSanitize checks that New treats what Validate rejects as "off".
func TestSanitize(t *testing.T) {
	nan := float32(math.NaN())
	p := Params{Temperature: nan, TopP: 0, TopK: 100, MinP: -1, RepetitionPenalty: 0, FrequencyPenalty: nan, MinNewTokens: -3}
	s := sanitize(&p, 10)
	if s.greedy || s.invTemp != 1 || s.topP != 0 || s.topK != 0 || s.minPOn || s.rep != 1 || s.freq != 0 || s.minNew != 0 {
		t.Fatalf("sanitize(%+v) = %+v, want everything off at temperature 1", p, s)
	}
}
