package benchserve

import (
	"errors"
	"slices"
	"testing"
)

func mustPool(t *testing.T, lo, hi int32, skip func(int32) bool) TokenPool {
	t.Helper()
	p, err := NewTokenPool(lo, hi, skip)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSharedPrefixStructure(t *testing.T) {
	d := DatasetConfig{Name: DatasetSharedPrefix, GSPNumGroups: 4, GSPPromptsPerGroup: 3,
		GSPSystemPromptLen: 10, GSPQuestionLen: 5, GSPOutputLen: 7, GSPRangeRatio: 1}
	pool := mustPool(t, 3, 100, nil)
	reqs, err := d.Generate(999, pool, 1) // num prompts ignored, as in SGLang
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 12 {
		t.Fatalf("%d requests, want 12", len(reqs))
	}
	prefix := map[int][]int32{}
	for k, r := range reqs {
		if r.Group != k%4 {
			t.Errorf("request %d in group %d, want %d (interleaved)", k, r.Group, k%4)
		}
		if len(r.IDs) != 15 || r.PromptLen != 15 || r.PrefixLen != 10 || r.OutputLen != 7 {
			t.Errorf("request %d: %d ids, prompt %d, prefix %d, output %d", k, len(r.IDs), r.PromptLen, r.PrefixLen, r.OutputLen)
		}
		if p, ok := prefix[r.Group]; ok {
			if !slices.Equal(p, r.IDs[:10]) {
				t.Errorf("request %d: prefix differs within group %d", k, r.Group)
			}
		} else {
			prefix[r.Group] = r.IDs[:10]
		}
		if k > 0 && slices.Equal(reqs[k-1].IDs[:10], r.IDs[:10]) {
			t.Errorf("requests %d and %d share a prefix", k-1, k)
		}
	}
	for g := 1; g < 4; g++ {
		if slices.Equal(prefix[0], prefix[g]) {
			t.Errorf("groups 0 and %d share a prefix", g)
		}
	}
	for k := 4; k < 12; k++ { // same group, different questions
		if slices.Equal(reqs[k].IDs[10:], reqs[k-4].IDs[10:]) {
			t.Errorf("requests %d and %d ask the same question", k-4, k)
		}
	}
}

func TestRandomDataset(t *testing.T) {
	pool := mustPool(t, 3, 50, func(id int32) bool { return id%5 == 0 })
	for _, tc := range []struct {
		ratio        float64
		minIn, minOu int
	}{
		{1, 40, 8}, {0.5, 20, 4}, {0, 1, 1},
	} {
		d := DatasetConfig{Name: DatasetRandom, RandomInputLen: 40, RandomOutputLen: 8, RandomRangeRatio: tc.ratio}
		reqs, err := d.Generate(200, pool, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != 200 {
			t.Fatalf("%d requests", len(reqs))
		}
		varied := false
		for _, r := range reqs {
			if r.PromptLen != len(r.IDs) || r.PromptLen < tc.minIn || r.PromptLen > 40 || r.OutputLen < tc.minOu || r.OutputLen > 8 || r.Group != -1 {
				t.Fatalf("ratio %v: request %+v", tc.ratio, r)
			}
			if r.PromptLen != reqs[0].PromptLen {
				varied = true
			}
			for _, id := range r.IDs {
				if id < 3 || id >= 50 || id%5 == 0 {
					t.Fatalf("id %d outside the pool", id)
				}
			}
		}
		if varied != (tc.ratio < 1) {
			t.Errorf("ratio %v: lengths varied = %v", tc.ratio, varied)
		}
	}
}

func TestDatasetDeterminism(t *testing.T) {
	pool := mustPool(t, 0, 1000, nil)
	d := DefaultDatasetConfig()
	d.RandomInputLen, d.RandomOutputLen = 32, 4
	a, _ := d.Generate(5, pool, 42)
	b, _ := d.Generate(5, pool, 42)
	c, _ := d.Generate(5, pool, 43)
	for i := range a {
		if !slices.Equal(a[i].IDs, b[i].IDs) || a[i].OutputLen != b[i].OutputLen {
			t.Fatal("same seed, different dataset")
		}
	}
	if slices.Equal(a[0].IDs, c[0].IDs) {
		t.Error("different seeds, same prompt")
	}
}

func TestDatasetErrors(t *testing.T) {
	if _, err := NewTokenPool(5, 5, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("empty range: %v", err)
	}
	if _, err := NewTokenPool(0, 4, func(int32) bool { return true }); !errors.Is(err, ErrConfig) {
		t.Errorf("all special: %v", err)
	}
	pool := mustPool(t, 0, 10, nil)
	for _, d := range []DatasetConfig{
		{Name: "sharegpt"},
		{Name: DatasetRandom, RandomInputLen: 4, RandomOutputLen: 0},
		{Name: DatasetRandom, RandomInputLen: 4, RandomOutputLen: 4, RandomRangeRatio: -0.1},
		{Name: DatasetSharedPrefix, GSPNumGroups: 1, GSPPromptsPerGroup: 1, GSPQuestionLen: 0, GSPOutputLen: 1},
	} {
		if _, err := d.Generate(1, pool, 1); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", d, err)
		}
	}
	d := DatasetConfig{Name: DatasetRandom, RandomInputLen: 4, RandomOutputLen: 4}
	if _, err := d.Generate(0, pool, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("zero prompts: %v", err)
	}
	if _, err := d.Generate(1, TokenPool{}, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("zero pool: %v", err)
	}
}

func BenchmarkGenerateSharedPrefix(b *testing.B) {
	d := DefaultDatasetConfig() // 64 groups x 16 prompts, 2048 + 128 tokens
	d.Name = DatasetSharedPrefix
	pool, _ := NewTokenPool(3, 32000, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Generate(0, pool, 1); err != nil {
			b.Fatal(err)
		}
	}
}
