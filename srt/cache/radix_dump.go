package cache

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func sortedNamespaces(m map[uint64]*Node) []uint64 {
	ns := make([]uint64, 0, len(m))
	for k := range m {
		ns = append(ns, k)
	}
	slices.Sort(ns)
	return ns
}

func sortedChildren(n *Node) []*Node {
	cs := make([]*Node, 0, len(n.children))
	for _, c := range n.children {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *Node) int {
		ea, eb := a.firstEdge(), b.firstEdge()
		if c := cmp.Compare(ea.tok, eb.tok); c != 0 {
			return c
		}
		return cmp.Compare(ea.extra, eb.extra)
	})
	return cs
}

// Dump renders the tree deterministically, one node a line, children in
// (token, extra) order and indented two spaces a level:
//
//	1 2 -> 10 11
//	  3 -> 12 lock=1
//	ns 7:
//	  5@9 -> 20
//
// A token with a non-zero extra prints as token@extra; "lock=N" shows a
// node's lock references; namespaces other than 0 follow under "ns N:".
// An empty tree is "(empty)", a disabled one "(disabled)". Access times are
// not shown.
func (t *Tree) Dump() string {
	if t.disabled {
		return "(disabled)\n"
	}
	var b strings.Builder
	dumpChildren(&b, t.root, 0)
	for _, ns := range sortedNamespaces(t.roots) {
		fmt.Fprintf(&b, "ns %d:\n", ns)
		dumpChildren(&b, t.roots[ns], 1)
	}
	if b.Len() == 0 {
		return "(empty)\n"
	}
	return b.String()
}

func dumpChildren(b *strings.Builder, n *Node, depth int) {
	for _, c := range sortedChildren(n) {
		b.WriteString(strings.Repeat("  ", depth))
		for i, tok := range c.tokens {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(int(tok)))
			if e := c.extraAt(i); e != 0 {
				b.WriteByte('@')
				b.WriteString(strconv.FormatUint(e, 10))
			}
		}
		b.WriteString(" ->")
		for _, s := range c.slots {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(int(s)))
		}
		if c.lockRef > 0 {
			fmt.Fprintf(b, " lock=%d", c.lockRef)
		}
		b.WriteByte('\n')
		dumpChildren(b, c, depth+1)
	}
}

// Check verifies the tree's internal invariants in O(size) and returns the
// first violation found: parent and child links, edge keys, run lengths,
// lock references (a node holds at least its children's sum), the size
// counters, the eviction candidates, and that no slot is held twice. It is
// meant for tests and debugging.
func (t *Tree) Check() error {
	c := checker{t: t, slots: map[int32]bool{}}
	roots := []*Node{t.root}
	for _, ns := range sortedNamespaces(t.roots) {
		r := t.roots[ns]
		if r.ns != ns || len(r.children) == 0 {
			return fmt.Errorf("cache: namespace %d root is wrong or empty", ns)
		}
		roots = append(roots, r)
	}
	for _, r := range roots {
		if r.tree != t || r.parent != nil || r.leafIdx >= 0 || len(r.tokens) != 0 {
			return fmt.Errorf("cache: bad root for namespace %d", r.ns)
		}
		if err := c.walk(r); err != nil {
			return err
		}
	}
	if c.evictable != t.evictable || c.locked != t.locked {
		return fmt.Errorf("cache: size counters %d/%d, tree holds %d/%d evictable/locked",
			t.evictable, t.locked, c.evictable, c.locked)
	}
	if c.leaves != len(t.leaves) {
		return fmt.Errorf("cache: %d eviction candidates, tree has %d unlocked leaves", len(t.leaves), c.leaves)
	}
	for i, n := range t.leaves {
		if n.leafIdx != i || n.tree != t {
			return fmt.Errorf("cache: eviction candidate %d is stale", i)
		}
	}
	return nil
}

type checker struct {
	t                 *Tree
	slots             map[int32]bool
	evictable, locked int
	leaves            int
}

func (c *checker) walk(n *Node) error {
	sum := 0
	for e, ch := range n.children {
		if ch.tree != c.t || ch.parent != n {
			return fmt.Errorf("cache: node %d has a stale child", n.id)
		}
		if len(ch.tokens) == 0 || len(ch.slots) != len(ch.tokens) {
			return fmt.Errorf("cache: node %d holds %d tokens and %d slots", ch.id, len(ch.tokens), len(ch.slots))
		}
		if ch.extras != nil && (len(ch.extras) != len(ch.tokens) || cloneExtras(ch.extras) == nil) {
			return fmt.Errorf("cache: node %d has malformed extras", ch.id)
		}
		if ch.firstEdge() != e {
			return fmt.Errorf("cache: node %d filed under the wrong edge", ch.id)
		}
		if ch.lockRef < 0 {
			return fmt.Errorf("cache: node %d has lock count %d", ch.id, ch.lockRef)
		}
		for _, s := range ch.slots {
			if c.slots[s] {
				return fmt.Errorf("cache: slot %d held twice", s)
			}
			c.slots[s] = true
		}
		if ch.lockRef > 0 {
			c.locked += len(ch.tokens)
		} else {
			c.evictable += len(ch.tokens)
		}
		isLeaf := ch.lockRef == 0 && len(ch.children) == 0
		if isLeaf != (ch.leafIdx >= 0) {
			return fmt.Errorf("cache: node %d candidate=%v, want %v", ch.id, ch.leafIdx >= 0, isLeaf)
		}
		if isLeaf {
			c.leaves++
		}
		sum += ch.lockRef
		if err := c.walk(ch); err != nil {
			return err
		}
	}
	if !n.isRoot() && n.lockRef < sum {
		return fmt.Errorf("cache: node %d has %d locks, its children %d", n.id, n.lockRef, sum)
	}
	return nil
}
