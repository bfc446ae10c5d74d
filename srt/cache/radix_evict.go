package cache

import (
	"fmt"
	"slices"
)

// updateLeaf puts n in the eviction candidates exactly when it is an
// attached, unlocked, childless non-root node.
func (t *Tree) updateLeaf(n *Node) {
	want := n.tree == t && !n.isRoot() && n.lockRef == 0 && len(n.children) == 0
	switch {
	case want && n.leafIdx < 0:
		n.leafIdx = len(t.leaves)
		t.leaves = append(t.leaves, n)
	case !want && n.leafIdx >= 0:
		last := t.leaves[len(t.leaves)-1]
		t.leaves[n.leafIdx] = last
		last.leafIdx = n.leafIdx
		t.leaves[len(t.leaves)-1] = nil
		t.leaves = t.leaves[:len(t.leaves)-1]
		n.leafIdx = -1
	}
}

// lruLess orders eviction candidates: least recently used first, older
// nodes first on ties.
func lruLess(a, b *Node) bool {
	if a.lastAccess != b.lastAccess {
		return a.lastAccess < b.lastAccess
	}
	return a.id < b.id
}

// nodeHeap is a binary min-heap under lruLess.
type nodeHeap []*Node

func (h nodeHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && lruLess(h[r], h[l]) {
			m = r
		}
		if !lruLess(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h *nodeHeap) push(n *Node) {
	*h = append(*h, n)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !lruLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *nodeHeap) pop() *Node {
	s := *h
	n := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	*h = s[:last]
	h.down(0)
	return n
}

// Evict frees at least n slots into the pool when that many are evictable,
// removing least-recently-used unlocked leaves whole (so it may free more
// than n); a parent left as an unlocked leaf becomes a candidate in turn.
// It returns the number of slots freed. An error means the pool refused
// slots (a double free by some owner); eviction still went ahead.
func (t *Tree) Evict(n int) (freed int, err error) {
	if t.disabled || n <= 0 || len(t.leaves) == 0 {
		return 0, nil
	}
	h := nodeHeap(slices.Clone(t.leaves))
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	for freed < n && len(h) > 0 {
		x := h.pop()
		freed += len(x.slots)
		if e := t.release(x.slots); e != nil && err == nil {
			err = e
		}
		p := x.parent
		t.detachLeaf(x)
		if p.isRoot() {
			t.dropEmptyRoot(p)
		} else if p.leafIdx >= 0 {
			h.push(p)
		}
	}
	return freed, err
}

// detachLeaf unlinks the unlocked, childless node x from the tree.
func (t *Tree) detachLeaf(x *Node) {
	p := x.parent
	delete(p.children, x.firstEdge())
	t.evictable -= len(x.tokens)
	x.tree = nil
	t.updateLeaf(x) // drops it from the candidates
	t.updateLeaf(p)
}

// dropEmptyRoot forgets a namespace root that has no children left.
func (t *Tree) dropEmptyRoot(r *Node) {
	if r != t.root && len(r.children) == 0 {
		delete(t.roots, r.ns)
	}
}

func (t *Tree) release(slots []int32) error {
	if t.pool == nil || len(slots) == 0 {
		return nil
	}
	if err := t.pool.Free(slots); err != nil {
		return fmt.Errorf("cache: radix tree freeing evicted slots: %w", err)
	}
	return nil
}

// Reset (/flush_cache) evicts every unlocked node, freeing its slots into
// the pool. Locked nodes, and so the paths running requests hold, stay;
// with no locks the tree ends empty. An error means the pool refused slots.
func (t *Tree) Reset() error {
	if t.disabled {
		return nil
	}
	var err error
	roots := []*Node{t.root}
	for _, ns := range sortedNamespaces(t.roots) {
		roots = append(roots, t.roots[ns])
	}
	for _, r := range roots {
		if e := t.resetUnder(r); e != nil && err == nil {
			err = e
		}
		t.dropEmptyRoot(r)
	}
	return err
}

// resetUnder removes the unlocked subtrees below the locked (or root) node n.
func (t *Tree) resetUnder(n *Node) error {
	var err error
	for e, c := range n.children {
		var ce error
		if c.lockRef > 0 {
			ce = t.resetUnder(c)
		} else {
			delete(n.children, e)
			ce = t.dropSubtree(c)
		}
		if ce != nil && err == nil {
			err = ce
		}
	}
	t.updateLeaf(n)
	return err
}

// dropSubtree frees every node of the unlocked, already unlinked subtree n.
func (t *Tree) dropSubtree(n *Node) error {
	err := t.release(n.slots)
	t.evictable -= len(n.tokens)
	for _, c := range n.children {
		if e := t.dropSubtree(c); e != nil && err == nil {
			err = e
		}
	}
	n.tree = nil
	t.updateLeaf(n) // drops it from the candidates
	return err
}
