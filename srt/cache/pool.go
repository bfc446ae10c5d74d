// Package cache manages the KV cache's slots: a fixed-capacity pool of slot
// indices. It never owns KV data, only the indices the model writes keys and
// values to. The radix prefix cache (Tree, radix.go) sits on top: it keeps
// the slots of finished and running requests' tokens keyed by their token
// prefixes, so later requests reuse them, and frees them into the Pool on
// eviction.
package cache

import "fmt"

// Pool hands out KV slots from a fixed capacity. It is not safe for
// concurrent use: the engine's scheduler goroutine owns it.
type Pool struct {
	free []int32 // stack of free slots
	cap  int
}

// NewPool makes a pool of capacity slots, numbered 0..capacity-1.
func NewPool(capacity int) *Pool {
	p := &Pool{free: make([]int32, capacity), cap: capacity}
	for i := range p.free {
		p.free[i] = int32(capacity - 1 - i) // pop yields ascending slots
	}
	return p
}

// Capacity is the total number of slots.
func (p *Pool) Capacity() int { return p.cap }

// Available is the number of free slots.
func (p *Pool) Available() int { return len(p.free) }

// Used is the number of slots handed out.
func (p *Pool) Used() int { return p.cap - len(p.free) }

// Alloc appends n free slots to dst. It returns false, allocating nothing,
// when fewer than n are free.
func (p *Pool) Alloc(dst []int32, n int) ([]int32, bool) {
	if n > len(p.free) {
		return dst, false
	}
	k := len(p.free) - n
	for i := len(p.free) - 1; i >= k; i-- {
		dst = append(dst, p.free[i])
	}
	p.free = p.free[:k]
	return dst, true
}

// Free returns slots to the pool. Returning a slot twice, or one outside the
// pool, is a bug in the caller and is reported as an error.
func (p *Pool) Free(slots []int32) error {
	if len(p.free)+len(slots) > p.cap {
		return fmt.Errorf("cache: freeing %d slots into a pool with only %d in use", len(slots), p.Used())
	}
	for _, s := range slots {
		if s < 0 || int(s) >= p.cap {
			return fmt.Errorf("cache: slot %d outside the pool of %d", s, p.cap)
		}
	}
	p.free = append(p.free, slots...)
	return nil
}
