package model

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestParseHFConfig(t *testing.T) {
	tests := []struct {
		name string
		json string
		want func(*Config) bool
		err  error
	}{
		{"qwen2 defaults: bias, untied unless said", `{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128,"vocab_size":100,"eos_token_id":[5,6]}`,
			func(c *Config) bool {
				return c.AttnBias && !c.TieEmbeddings && c.KVHeads == 4 && c.HeadDim == 16 && slices.Equal(c.EOS, []int32{5, 6})
			}, nil},
		{"llama tied, GQA, explicit head_dim", `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":8,"num_key_value_heads":2,"head_dim":16,"intermediate_size":128,"vocab_size":100,"tie_word_embeddings":true,"bos_token_id":1,"eos_token_id":2}`,
			func(c *Config) bool {
				return !c.AttnBias && c.TieEmbeddings && c.KVHeads == 2 && c.HeadDim == 16 && c.BOS == 1
			}, nil},
		{"heads not a multiple of kv heads", `{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":6,"num_key_value_heads":4,"intermediate_size":128,"vocab_size":100}`, nil, ErrConfig},
		{"unknown rope scaling", `{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128,"vocab_size":100,"rope_scaling":{"rope_type":"yarn","factor":4}}`, nil, ErrConfig},
		{"not json", `{"hidden_size":`, nil, ErrConfig},
	}
	for _, tc := range tests {
		c, err := ParseHFConfig([]byte(tc.json))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !tc.want(c) {
			t.Errorf("%s: %+v, %v", tc.name, c, err)
		}
	}
}

// TestLlama3RopeScaling compares with values computed independently from
// the formula in Meta's Llama 3.1 reference (theta 5e5, head_dim 128,
// factor 8, low/high frequency factors 1 and 4, original context 8192).
func TestLlama3RopeScaling(t *testing.T) {
	c := &Config{HeadDim: 128, RopeTheta: 500000, RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}}
	got := ropeFreqs(c)
	want := map[int]float64{0: 1.0, 20: 0.016560440080994446, 40: 3.428102195952591e-05, 45: 1.2297638677963614e-05, 50: 4.411534674558404e-06, 63: 3.068925988914511e-07}
	for i, w := range want {
		if math.Abs(got[i]-w) > 1e-12*math.Max(1, w) && math.Abs(got[i]/w-1) > 1e-9 {
			t.Errorf("freq %d = %g, want %g", i, got[i], w)
		}
	}
	c.RopeScaling = &RopeScaling{LegacyType: "linear", Factor: 2}
	if got := ropeFreqs(c); math.Abs(got[1]-math.Pow(500000, -2.0/128)/2) > 1e-15 {
		t.Errorf("linear scaling: freq 1 = %g", got[1])
	}
}
