package cache

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is a naive radix cache: a map from every cached key prefix (one
// entry per position) to that position's slot. The tree must agree with it
// on Insert's prefix length, Match's slots and the set of cached positions.
type model struct {
	entries map[string]int32
	locks   []heldLock
}

type heldLock struct {
	node *Node
	path []string // the model entries the lock protects
}

// prefixes returns the model keys of key's positions.
func prefixes(k Key) []string {
	buf := binary.LittleEndian.AppendUint64(nil, k.Namespace)
	out := make([]string, len(k.Tokens))
	for i, tok := range k.Tokens {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(tok))
		buf = binary.LittleEndian.AppendUint64(buf, extraAt(k.Extras, i))
		out[i] = string(buf)
	}
	return out
}

// match is the model's longest cached prefix of key.
func (m *model) match(k Key) (slots []int32, path []string) {
	for _, p := range prefixes(k) {
		s, ok := m.entries[p]
		if !ok {
			break
		}
		slots, path = append(slots, s), append(path, p)
	}
	return slots, path
}

func (m *model) lockedSet() map[string]bool {
	set := map[string]bool{}
	for _, l := range m.locks {
		for _, p := range l.path {
			set[p] = true
		}
	}
	return set
}

// treeEntries lists the tree's positions the way the model keys them.
func treeEntries(t *Tree) map[string]int32 {
	out := map[string]int32{}
	var walk func(n *Node, buf []byte)
	walk = func(n *Node, buf []byte) {
		for _, c := range n.children {
			b := slices.Clip(buf)
			for i, tok := range c.tokens {
				b = binary.LittleEndian.AppendUint32(b, uint32(tok))
				b = binary.LittleEndian.AppendUint64(b, c.extraAt(i))
				out[string(b)] = c.slots[i]
			}
			walk(c, b)
		}
	}
	walk(t.root, binary.LittleEndian.AppendUint64(nil, 0))
	for ns, r := range t.roots {
		walk(r, binary.LittleEndian.AppendUint64(nil, ns))
	}
	return out
}

// opReader turns fuzz bytes into small numbers; past the end it yields 0.
type opReader struct {
	data []byte
	i    int
}

func (r *opReader) next(n int) int {
	if r.i >= len(r.data) {
		return 0
	}
	b := r.data[r.i]
	r.i++
	return int(b) % n
}

func (r *opReader) key() Key {
	var k Key
	if r.next(3) == 0 {
		k.Namespace = 5
	}
	n := 1 + r.next(8)
	withExtras := r.next(3) == 0
	for i := range n {
		k.Tokens = append(k.Tokens, int32(r.next(3)))
		if withExtras {
			if k.Extras == nil {
				k.Extras = make([]uint64, n)
			}
			if r.next(2) == 0 {
				k.Extras[i] = uint64(1 + r.next(2))
			}
		}
	}
	return k
}

const modelPoolSize = 48

// runModel drives a tree and the model through the operations encoded in
// data and returns the first disagreement or broken invariant.
func runModel(data []byte) error {
	pool := NewPool(modelPoolSize)
	tree := NewTree(pool)
	m := &model{entries: map[string]int32{}}
	r := &opReader{data: data}
	for step := 0; r.i < len(r.data); step++ {
		op := r.next(8)
		if err := m.step(tree, pool, r, op); err != nil {
			return fmt.Errorf("step %d (op %d): %w\n%s", step, op, err, tree.Dump())
		}
		if err := m.verify(tree, pool); err != nil {
			return fmt.Errorf("step %d (op %d): %w\n%s", step, op, err, tree.Dump())
		}
	}
	for _, l := range m.locks {
		if err := tree.Unlock(l.node); err != nil {
			return fmt.Errorf("final unlock: %w", err)
		}
	}
	m.locks = nil
	if err := tree.Reset(); err != nil {
		return err
	}
	clear(m.entries)
	if err := m.verify(tree, pool); err != nil {
		return fmt.Errorf("after the final reset: %w", err)
	}
	if pool.Available() != modelPoolSize || tree.Dump() != "(empty)\n" {
		return fmt.Errorf("slots leak after reset with no locks: %d free\n%s", pool.Available(), tree.Dump())
	}
	return nil
}

func (m *model) step(tree *Tree, pool *Pool, r *opReader, op int) error {
	switch op {
	case 0, 1, 2: // insert a fresh allocation, as a request that computed everything
		k := r.key()
		if short := len(k.Tokens) - pool.Available(); short > 0 {
			if err := m.evict(tree, pool, short); err != nil {
				return err
			}
		}
		slots, ok := pool.Alloc(nil, len(k.Tokens))
		if !ok {
			return nil
		}
		want, _ := m.match(k)
		n, err := tree.Insert(k, slots)
		if err != nil {
			return err
		}
		if n != len(want) {
			return fmt.Errorf("Insert prefix %d, model %d", n, len(want))
		}
		if err := pool.Free(slots[:n]); err != nil {
			return err
		}
		for i, p := range prefixes(k)[n:] {
			m.entries[p] = slots[n+i]
		}
	case 3, 4: // match; op 4 also locks the result like a running request
		k := r.key()
		want, path := m.match(k)
		got, node := tree.Match(k)
		if !slices.Equal(got, want) {
			return fmt.Errorf("Match(%v) = %v, model %v", k, got, want)
		}
		if op == 4 {
			if err := tree.Lock(node); err != nil {
				return err
			}
			m.locks = append(m.locks, heldLock{node: node, path: path})
		}
	case 5:
		if len(m.locks) == 0 {
			return nil
		}
		i := r.next(len(m.locks))
		if err := tree.Unlock(m.locks[i].node); err != nil {
			return err
		}
		m.locks = slices.Delete(m.locks, i, i+1)
	case 6:
		return m.evict(tree, pool, r.next(12))
	case 7:
		if r.next(4) != 0 {
			return nil // keep resets rare so trees grow
		}
		locked := m.lockedSet()
		if err := tree.Reset(); err != nil {
			return err
		}
		for p := range m.entries {
			if !locked[p] {
				delete(m.entries, p)
			}
		}
	}
	return nil
}

// evict runs Evict(n) and checks it against the model: locked positions
// survive, at least min(n, evictable) slots come free, exactly the removed
// positions' slots reach the pool, and what remains is prefix-closed.
func (m *model) evict(tree *Tree, pool *Pool, n int) error {
	locked := m.lockedSet()
	evictable := len(m.entries) - len(locked)
	before := pool.Available()
	freed, err := tree.Evict(n)
	if err != nil {
		return err
	}
	if freed < min(n, evictable) || freed > evictable {
		return fmt.Errorf("Evict(%d) freed %d with %d evictable", n, freed, evictable)
	}
	if pool.Available()-before != freed {
		return fmt.Errorf("Evict(%d) freed %d but the pool gained %d", n, freed, pool.Available()-before)
	}
	now := treeEntries(tree)
	removed := 0
	for p, s := range m.entries {
		if _, ok := now[p]; ok {
			continue
		}
		if locked[p] {
			return fmt.Errorf("Evict(%d) removed a locked position (slot %d)", n, s)
		}
		removed++
		delete(m.entries, p)
	}
	if removed != freed {
		return fmt.Errorf("Evict(%d) reported %d, removed %d positions", n, freed, removed)
	}
	return nil
}

// verify checks the tree against the model and the slot ownership rules.
func (m *model) verify(tree *Tree, pool *Pool) error {
	if err := tree.Check(); err != nil {
		return err
	}
	if err := slotPartition(tree, pool, nil); err != nil {
		return err
	}
	now := treeEntries(tree)
	if len(now) != len(m.entries) {
		return fmt.Errorf("tree caches %d positions, model %d", len(now), len(m.entries))
	}
	for p, s := range m.entries {
		if got, ok := now[p]; !ok || got != s {
			return fmt.Errorf("position missing or with slot %d, model %d", got, s)
		}
		// prefix-closed: the position before p is cached too
		if len(p) > 8+12 {
			if _, ok := m.entries[p[:len(p)-12]]; !ok {
				return fmt.Errorf("cached position without its prefix")
			}
		}
	}
	locked := len(m.lockedSet())
	total, ev, lk := tree.Size()
	if total != len(m.entries) || lk != locked || ev != total-locked {
		return fmt.Errorf("Size() = %d/%d/%d, model %d total, %d locked", total, ev, lk, len(m.entries), locked)
	}
	return nil
}

func TestRadixModel(t *testing.T) {
	runs, steps := 200, 400
	if testing.Short() {
		runs = 40
	}
	for seed := range runs {
		rng := rand.New(rand.NewPCG(uint64(seed), 42))
		data := make([]byte, steps*8)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if err := runModel(data); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func FuzzTree(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 3, 1, 2, 0, 4, 0, 0, 3, 1, 2, 1, 6, 11})
	f.Add([]byte{1, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 5, 0})
	f.Add([]byte("\x00\x02\x07\x01\x02\x00\x01\x00\x01\x00\x01\x04\x00\x03\x00\x01\x06\x05\x07\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if err := runModel(data); err != nil {
			t.Fatal(err)
		}
	})
}
