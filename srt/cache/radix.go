package cache

import (
	"errors"
	"fmt"
	"slices"
)

// Errors reported by the radix tree; check them with errors.Is.
var (
	// ErrDisabled: Insert was called on a disabled tree; it took no slots.
	ErrDisabled = errors.New("cache: radix cache is disabled")
	// ErrBadKey: a key or its slots are malformed (length mismatch).
	ErrBadKey = errors.New("cache: bad radix key")
	// ErrBadSlot: a slot is negative or outside the tree's pool.
	ErrBadSlot = errors.New("cache: bad slot")
	// ErrStaleNode: the node is nil, was evicted, or belongs to another tree.
	ErrStaleNode = errors.New("cache: node not in this tree")
	// ErrNotLocked: Unlock without a matching Lock.
	ErrNotLocked = errors.New("cache: unlock of an unlocked node")
)

// Key is a cache key: token ids with the extra inputs that must also match.
type Key struct {
	// Tokens are the token ids.
	Tokens []int32
	// Extras, when non-nil, has one value per token; positions match only
	// when their extras are equal too (e.g. an image hash on image pad
	// tokens). Nil means every extra is 0.
	Extras []uint64
	// Namespace isolates whole keys (adapter id, cache salt): keys in
	// different namespaces share nothing. 0 is the default namespace.
	Namespace uint64
}

// Validate reports whether the key is well formed.
func (k Key) Validate() error {
	if k.Extras != nil && len(k.Extras) != len(k.Tokens) {
		return fmt.Errorf("%w: %d extras for %d tokens", ErrBadKey, len(k.Extras), len(k.Tokens))
	}
	return nil
}

// edge identifies a child by the first position of its key.
type edge struct {
	tok   int32
	extra uint64
}

// Node is a node of the tree: a run of key positions and their slots. Its
// fields are private; callers only hand it back to Lock and Unlock.
type Node struct {
	tree       *Tree // nil once evicted
	parent     *Node // nil for a root
	children   map[edge]*Node
	tokens     []int32
	extras     []uint64 // nil when every extra of this run is 0
	slots      []int32
	lockRef    int
	lastAccess uint64
	id         uint64 // creation order; breaks LRU ties
	leafIdx    int    // index in Tree.leaves, or -1
	ns         uint64 // namespace, meaningful on roots
}

// Len is the number of tokens the node itself holds (0 for a root).
func (n *Node) Len() int {
	if n == nil {
		return 0
	}
	return len(n.tokens)
}

func (n *Node) isRoot() bool { return n.parent == nil }

func (n *Node) extraAt(i int) uint64 {
	if n.extras == nil {
		return 0
	}
	return n.extras[i]
}

func (n *Node) firstEdge() edge { return edge{n.tokens[0], n.extraAt(0)} }

// commonPrefix is how many leading positions of the node's key equal
// toks/ex (ex may be nil).
func (n *Node) commonPrefix(toks []int32, ex []uint64) int {
	m := min(len(n.tokens), len(toks))
	i := 0
	if n.extras == nil && ex == nil {
		a, b := n.tokens[:m], toks[:m]
		for i < m && a[i] == b[i] {
			i++
		}
		return i
	}
	for i < m && n.tokens[i] == toks[i] && n.extraAt(i) == extraAt(ex, i) {
		i++
	}
	return i
}

func extraAt(ex []uint64, i int) uint64 {
	if ex == nil {
		return 0
	}
	return ex[i]
}

func edgeOf(toks []int32, ex []uint64) edge { return edge{toks[0], extraAt(ex, 0)} }

// cloneExtras copies ex, returning nil when it is all zero.
func cloneExtras(ex []uint64) []uint64 {
	for _, e := range ex {
		if e != 0 {
			return append([]uint64(nil), ex...)
		}
	}
	return nil
}

func advanceExtras(ex []uint64, m int) []uint64 {
	if ex == nil {
		return nil
	}
	return ex[m:]
}

// Tree is the radix prefix cache (RadixAttention): a tree whose
// edges are runs of token keys and whose nodes hold the KV slots of those
// tokens, so requests that share a prompt prefix share its KV entries.
//
// Contract (page size 1):
//
//   - Keys. A Key is a token sequence plus a Namespace and optional
//     per-token Extras. Two cached positions are the same only when the
//     namespace, the token ids and the per-token extras all agree. The
//     Namespace isolates whole sequences (LoRA adapter, cache salt): keys in
//     different namespaces never share a node. Extras separate positions whose
//     token ids agree but whose hidden inputs differ, for example the image
//     pad tokens of two different images (Extras[i] = the image's hash for
//     the image's positions, 0 elsewhere). A nil Extras means all zero.
//   - Ownership. After Insert(key, slots) returns prefixLen, the tree owns
//     slots[prefixLen:]; slots[:prefixLen] stay the caller's (the tree
//     already holds its own slots for that prefix) and the caller frees the
//     ones it no longer needs. The tree returns the slots it owns to the Pool
//     only when it evicts them (Evict, Reset). Handing the tree a slot it
//     already owns is a caller bug that Insert does not detect (Check does).
//   - Unfinished (chunked-prefill) requests: Insert what is computed so
//     far, free the duplicates, Match the same key again for the tree's
//     slots and node, Lock that node and Unlock the one held before.
//   - Locks. Running requests Lock the node Match returned; a lock holds a
//     reference on every node from there up to the root, and no locked node
//     is evicted. Unlock releases it. Node pointers stay valid across splits
//     (a split puts a new node above the one a request holds), but an
//     unlocked node may be evicted, after which Lock reports ErrStaleNode.
//   - Eviction. Evict removes least-recently-used unlocked leaves (Match and
//     Insert refresh the access time of every node on their path) until the
//     requested number of slots is freed, re-considering a parent that
//     becomes an unlocked leaf. Reset evicts every unlocked node.
//   - Disabled mode (--disable-radix-cache). NewDisabledTree returns a tree
//     that caches nothing: Match finds no prefix (it returns the root, which
//     Lock and Unlock accept as a no-op), Insert returns ErrDisabled and
//     takes no slots, Evict and Reset free nothing. With a disabled tree the
//     scheduler frees all of a finished request's slots itself and does not
//     insert unfinished (chunked-prefill) requests at all.
//
// The tree is a pure data structure: not safe for concurrent use; the
// scheduler goroutine owns it. Time is a logical clock advanced by each
// Match and Insert, so behaviour is deterministic.
// The zero value is not usable; call NewTree or NewDisabledTree.
type Tree struct {
	pool      *Pool
	disabled  bool
	root      *Node            // namespace 0
	roots     map[uint64]*Node // other namespaces, created on insert
	leaves    []*Node          // unlocked leaves: eviction candidates
	evictable int              // tokens in unlocked nodes
	locked    int              // tokens in locked nodes
	clock     uint64
	ids       uint64
}

// NewTree makes an empty, enabled tree. Evicted slots are freed into pool;
// a nil pool drops them (for simulation) and skips slot range checks.
func NewTree(pool *Pool) *Tree {
	t := &Tree{pool: pool, roots: map[uint64]*Node{}}
	t.root = t.newNode(nil)
	return t
}

// NewDisabledTree makes a tree for --disable-radix-cache; see the file
// comment for what it does and what callers do instead.
func NewDisabledTree(pool *Pool) *Tree {
	t := NewTree(pool)
	t.disabled = true
	return t
}

// Disabled reports whether the tree was made by NewDisabledTree.
func (t *Tree) Disabled() bool { return t.disabled }

// Root is the namespace-0 root. Lock and Unlock treat any root as a no-op.
func (t *Tree) Root() *Node { return t.root }

func (t *Tree) newNode(parent *Node) *Node {
	t.ids++
	return &Node{tree: t, parent: parent, id: t.ids, leafIdx: -1}
}

// rootFor returns the root of namespace ns, creating it when create is set.
func (t *Tree) rootFor(ns uint64, create bool) *Node {
	if ns == 0 {
		return t.root
	}
	r := t.roots[ns]
	if r == nil && create {
		r = t.newNode(nil)
		r.ns = ns
		t.roots[ns] = r
	}
	return r
}

// Match finds the longest cached prefix of key. It returns that prefix's
// slots (nil when none) and the deepest node of the match, splitting a node
// when the match ends inside it, and refreshes the access time of the path.
// A malformed key, an empty key or a disabled tree match nothing; the node
// returned is then a root. The returned slots are a fresh slice.
func (t *Tree) Match(key Key) (slots []int32, node *Node) {
	return t.AppendMatch(nil, key)
}

// AppendMatch is Match appending the matched slots to dst, so a caller can
// reuse one buffer.
func (t *Tree) AppendMatch(dst []int32, key Key) (slots []int32, node *Node) {
	slots = dst
	if t.disabled || len(key.Tokens) == 0 || key.Validate() != nil {
		return slots, t.root
	}
	node = t.rootFor(key.Namespace, false)
	if node == nil {
		return slots, t.root
	}
	t.clock++
	node.lastAccess = t.clock
	toks, ex := key.Tokens, key.Extras
	for len(toks) > 0 {
		child := node.children[edgeOf(toks, ex)]
		if child == nil {
			break
		}
		if node.isRoot() {
			// One allocation, bounded by the key, instead of regrowing.
			slots = slices.Grow(slots, len(toks))
		}
		child.lastAccess = t.clock
		m := child.commonPrefix(toks, ex)
		if m < len(child.tokens) {
			child = t.split(child, m)
			slots = append(slots, child.slots...)
			node = child
			break
		}
		slots = append(slots, child.slots...)
		node = child
		toks, ex = toks[m:], advanceExtras(ex, m)
	}
	return slots, node
}

// Insert caches key -> slots (one slot per token) and returns how many
// leading tokens were already cached. The tree takes ownership of
// slots[prefixLen:]; the caller keeps slots[:prefixLen] and frees the ones
// it does not need (the tree holds its own slots for that prefix). Both
// finished and unfinished (chunked-prefill) requests may be inserted. On
// error the tree is unchanged and took no slots.
func (t *Tree) Insert(key Key, slots []int32) (prefixLen int, err error) {
	if t.disabled {
		return 0, ErrDisabled
	}
	if err := key.Validate(); err != nil {
		return 0, err
	}
	if len(slots) != len(key.Tokens) {
		return 0, fmt.Errorf("%w: %d slots for %d tokens", ErrBadKey, len(slots), len(key.Tokens))
	}
	for _, s := range slots {
		if s < 0 || (t.pool != nil && int(s) >= t.pool.Capacity()) {
			return 0, fmt.Errorf("%w: slot %d", ErrBadSlot, s)
		}
	}
	if len(key.Tokens) == 0 {
		return 0, nil
	}
	t.clock++
	node := t.rootFor(key.Namespace, true)
	node.lastAccess = t.clock
	toks, ex := key.Tokens, key.Extras
	for len(toks) > 0 {
		child := node.children[edgeOf(toks, ex)]
		if child == nil {
			break
		}
		child.lastAccess = t.clock
		m := child.commonPrefix(toks, ex)
		if m < len(child.tokens) {
			child = t.split(child, m)
		}
		node = child
		prefixLen += m
		toks, ex, slots = toks[m:], advanceExtras(ex, m), slots[m:]
	}
	if len(toks) > 0 {
		t.addLeaf(node, toks, ex, slots)
	}
	return prefixLen, nil
}

// split cuts child after its first m positions (0 < m < len) into a new
// parent holding those positions; child keeps the rest (so pointers callers
// hold to child still name the deepest node). It returns the new parent.
func (t *Tree) split(child *Node, m int) *Node {
	p := t.newNode(child.parent)
	p.tokens = append([]int32(nil), child.tokens[:m]...)
	p.slots = append([]int32(nil), child.slots[:m]...)
	p.lockRef = child.lockRef
	p.lastAccess = child.lastAccess
	if child.extras != nil {
		p.extras = cloneExtras(child.extras[:m])
		child.extras = cloneExtras(child.extras[m:])
	}
	child.tokens = append([]int32(nil), child.tokens[m:]...)
	child.slots = append([]int32(nil), child.slots[m:]...)
	e := p.firstEdge()
	child.parent.children[e] = p
	child.parent = p
	p.children = map[edge]*Node{child.firstEdge(): child}
	return p
}

func (t *Tree) addLeaf(parent *Node, toks []int32, ex []uint64, slots []int32) {
	n := t.newNode(parent)
	n.tokens = append([]int32(nil), toks...)
	n.extras = cloneExtras(ex)
	n.slots = append([]int32(nil), slots...)
	n.lastAccess = t.clock
	if parent.children == nil {
		parent.children = map[edge]*Node{}
	}
	parent.children[n.firstEdge()] = n
	t.evictable += len(n.tokens)
	t.updateLeaf(parent)
	t.updateLeaf(n)
}

// Lock adds a lock reference to n and every node above it, protecting
// them from eviction. Locking a root is a no-op.
func (t *Tree) Lock(n *Node) error {
	if n == nil || n.tree != t {
		return ErrStaleNode
	}
	for ; !n.isRoot(); n = n.parent {
		if n.lockRef == 0 {
			t.evictable -= len(n.tokens)
			t.locked += len(n.tokens)
		}
		n.lockRef++
		t.updateLeaf(n)
	}
	return nil
}

// Unlock releases a reference taken by Lock. Unlocking a root is a no-op.
func (t *Tree) Unlock(n *Node) error {
	if n == nil || n.tree != t {
		return ErrStaleNode
	}
	if !n.isRoot() && n.lockRef == 0 {
		return ErrNotLocked
	}
	// Ancestors hold at least as many references as n, so checking n
	// suffices for the whole path.
	for ; !n.isRoot(); n = n.parent {
		n.lockRef--
		if n.lockRef == 0 {
			t.evictable += len(n.tokens)
			t.locked -= len(n.tokens)
		}
		t.updateLeaf(n)
	}
	return nil
}

// Size reports the cached tokens: total = evictable + locked.
func (t *Tree) Size() (total, evictable, locked int) {
	return t.evictable + t.locked, t.evictable, t.locked
}
