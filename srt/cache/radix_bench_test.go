package cache

import (
	"math/rand/v2"
	"testing"
)

// benchTree caches 10 sequences of 1,000 tokens that share their first 200
// tokens: 8,200 cached tokens, plus 1,800 more in a second batch sharing
// nothing, for 10,000 in all. It returns the tree and the 10 sequences.
func benchTree(b *testing.B) (*Tree, [][]int32) {
	rng := rand.New(rand.NewPCG(1, 2))
	tree := NewTree(nil)
	shared := make([]int32, 200)
	for i := range shared {
		shared[i] = rng.Int32N(32000)
	}
	var seqs [][]int32
	slot := int32(0)
	add := func(toks []int32) {
		slots := make([]int32, len(toks))
		for i := range slots {
			slots[i] = slot + int32(i)
		}
		n, err := tree.Insert(Key{Tokens: toks}, slots)
		if err != nil {
			b.Fatal(err)
		}
		slot += int32(len(toks) - n)
	}
	for range 10 {
		s := append([]int32(nil), shared...)
		for len(s) < 1000 {
			s = append(s, rng.Int32N(32000))
		}
		seqs = append(seqs, s)
		add(s)
	}
	for range 2 {
		s := make([]int32, 900)
		for i := range s {
			s[i] = 32000 + rng.Int32N(1000)
		}
		add(s)
	}
	if total, _, _ := tree.Size(); total != 10000 {
		b.Fatalf("bench tree holds %d tokens, want 10000", total)
	}
	return tree, seqs
}

func BenchmarkRadixMatch1000(b *testing.B) {
	tree, seqs := benchTree(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		slots, _ := tree.Match(Key{Tokens: seqs[i%len(seqs)]})
		if len(slots) != 1000 {
			b.Fatalf("matched %d", len(slots))
		}
		i++
	}
}

func BenchmarkRadixInsertCached1000(b *testing.B) {
	tree, seqs := benchTree(b)
	slots := make([]int32, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if n, err := tree.Insert(Key{Tokens: seqs[i%len(seqs)]}, slots); err != nil || n != 1000 {
			b.Fatalf("Insert = %d, %v", n, err)
		}
		i++
	}
}

// BenchmarkRadixInsertNew1000 inserts 1,000-token keys whose last 500
// tokens are new (at least the 200-token shared prefix is cached), then
// evicts 500 tokens to keep the tree's size steady.
func BenchmarkRadixInsertNew1000(b *testing.B) {
	tree, seqs := benchTree(b)
	slots := make([]int32, 1000)
	key := make([]int32, 1000)
	b.ReportAllocs()
	i := int32(0)
	for b.Loop() {
		copy(key, seqs[int(i)%len(seqs)][:500])
		for j := 500; j < 1000; j++ {
			key[j] = 40000 + i*7 + int32(j)
		}
		if n, err := tree.Insert(Key{Tokens: key}, slots); err != nil || n < 200 {
			b.Fatalf("Insert = %d, %v", n, err)
		}
		if _, err := tree.Evict(500); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkRadixAppendMatch1000(b *testing.B) {
	tree, seqs := benchTree(b)
	buf := make([]int32, 0, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		slots, _ := tree.AppendMatch(buf[:0], Key{Tokens: seqs[i%len(seqs)]})
		if len(slots) != 1000 {
			b.Fatalf("matched %d", len(slots))
		}
		i++
	}
}
