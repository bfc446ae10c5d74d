package cache

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/radix/*.txt")

// The scripts under testdata/radix are blocks of
//
//	command
//	----
//	expected output lines
//
// separated by blank lines; '#' lines between blocks are comments.
// Commands:
//
//	tree [disabled] CAP            new pool of CAP slots, all held by the script, and a tree
//	insert [ns=N] TOKS : SLOTS     Insert; the script then frees slots[:prefix] into the pool
//	match [ns=N] TOKS [as NAME]    Match; NAME remembers the node for lock/unlock
//	lock NAME | unlock NAME
//	evict N | reset | size | dump | pool
//
// A token is ID or ID@EXTRA. After every command the harness checks the
// tree's invariants and that every slot is in exactly one of: the tree, the
// pool's free list, the script's hands.
func TestRadixScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "radix", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScript(t, f) })
	}
}

type block struct {
	cmd  string
	want []string
	line int
}

func parseScript(t *testing.T, path string) (blocks []block, comments map[int][]string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	comments = map[int][]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#") {
			comments[len(blocks)] = append(comments[len(blocks)], lines[i])
			continue
		}
		b := block{cmd: l, line: i + 1}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "----" {
			t.Fatalf("%s:%d: command without a ---- line", path, i+1)
		}
		for i += 2; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			b.want = append(b.want, strings.TrimRight(lines[i], " "))
		}
		blocks = append(blocks, b)
	}
	return blocks, comments
}

func runScript(t *testing.T, path string) {
	blocks, comments := parseScript(t, path)
	h := &harness{t: t, nodes: map[string]*Node{}}
	var out strings.Builder
	for i, b := range blocks {
		got := h.run(b.cmd)
		if err := h.checkOwnership(); err != nil {
			t.Fatalf("%s:%d %q: %v\n%s", path, b.line, b.cmd, err, h.tree.Dump())
		}
		for _, c := range comments[i] {
			out.WriteString(c + "\n")
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n", b.cmd, strings.Join(got, "\n"))
		if !*update && !slices.Equal(got, b.want) {
			t.Errorf("%s:%d %q:\ngot:\n%s\nwant:\n%s", path, b.line, b.cmd, strings.Join(got, "\n"), strings.Join(b.want, "\n"))
		}
	}
	for _, c := range comments[len(blocks)] {
		out.WriteString(c + "\n")
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type harness struct {
	t     *testing.T
	pool  *Pool
	tree  *Tree
	held  map[int32]bool // slots in the script's hands
	nodes map[string]*Node
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf(format, args...)
}

func (h *harness) run(cmd string) []string {
	f := strings.Fields(cmd)
	if h.tree == nil && f[0] != "tree" {
		h.fatalf("%q before a tree command", cmd)
	}
	switch f[0] {
	case "tree":
		disabled := len(f) == 3 && f[1] == "disabled"
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			h.fatalf("%q: %v", cmd, err)
		}
		h.pool = NewPool(n)
		all, _ := h.pool.Alloc(nil, n)
		h.held = map[int32]bool{}
		for _, s := range all {
			h.held[s] = true
		}
		if disabled {
			h.tree = NewDisabledTree(h.pool)
		} else {
			h.tree = NewTree(h.pool)
		}
		return []string{"ok"}
	case "insert":
		toks, rest, _ := strings.Cut(strings.Join(f[1:], " "), ":")
		key := h.parseKey(strings.Fields(toks))
		slots := parseInts(h.t, strings.Fields(rest))
		for _, s := range slots {
			if !h.held[s] {
				h.fatalf("%q: slot %d is not in the script's hands", cmd, s)
			}
		}
		n, err := h.tree.Insert(key, slots)
		if err != nil {
			return []string{"error " + errName(err)}
		}
		if err := h.pool.Free(slots[:n]); err != nil {
			h.fatalf("%q: %v", cmd, err)
		}
		for _, s := range slots {
			delete(h.held, s)
		}
		return []string{fmt.Sprintf("prefix %d", n)}
	case "match":
		args, name := f[1:], ""
		if len(args) >= 2 && args[len(args)-2] == "as" {
			args, name = args[:len(args)-2], args[len(args)-1]
		}
		slots, node := h.tree.Match(h.parseKey(args))
		if name != "" {
			h.nodes[name] = node
		}
		return []string{"slots" + joinInts(slots) + "; node " + nodeName(node)}
	case "lock", "unlock":
		node, ok := h.nodes[f[1]]
		if !ok {
			h.fatalf("%q: unknown node name", cmd)
		}
		op := h.tree.Lock
		if f[0] == "unlock" {
			op = h.tree.Unlock
		}
		if err := op(node); err != nil {
			return []string{"error " + errName(err)}
		}
		return []string{"ok"}
	case "evict":
		n, err := strconv.Atoi(f[1])
		if err != nil {
			h.fatalf("%q: %v", cmd, err)
		}
		freed, err := h.tree.Evict(n)
		if err != nil {
			h.fatalf("%q: %v", cmd, err)
		}
		return []string{fmt.Sprintf("freed %d", freed)}
	case "reset":
		if err := h.tree.Reset(); err != nil {
			h.fatalf("%q: %v", cmd, err)
		}
		return []string{"ok"}
	case "size":
		total, ev, lk := h.tree.Size()
		return []string{fmt.Sprintf("total=%d evictable=%d locked=%d", total, ev, lk)}
	case "dump":
		return strings.Split(strings.TrimSuffix(h.tree.Dump(), "\n"), "\n")
	case "pool":
		return []string{fmt.Sprintf("free %d", h.pool.Available())}
	}
	h.fatalf("unknown command %q", cmd)
	return nil
}

func (h *harness) parseKey(f []string) Key {
	var k Key
	if len(f) > 0 && strings.HasPrefix(f[0], "ns=") {
		ns, err := strconv.ParseUint(f[0][3:], 10, 64)
		if err != nil {
			h.fatalf("bad namespace %q", f[0])
		}
		k.Namespace, f = ns, f[1:]
	}
	extras := make([]uint64, len(f))
	any := false
	for i, s := range f {
		tok, ex, has := strings.Cut(s, "@")
		v, err := strconv.ParseInt(tok, 10, 32)
		if err != nil {
			h.fatalf("bad token %q", s)
		}
		k.Tokens = append(k.Tokens, int32(v))
		if has {
			e, err := strconv.ParseUint(ex, 10, 64)
			if err != nil {
				h.fatalf("bad extra %q", s)
			}
			extras[i], any = e, true
		}
	}
	if any {
		k.Extras = extras
	}
	return k
}

// checkOwnership: every slot is in exactly one of the tree, the pool's free
// list and the script's hands, and the tree's invariants hold.
func (h *harness) checkOwnership() error {
	if err := h.tree.Check(); err != nil {
		return err
	}
	return slotPartition(h.tree, h.pool, h.held)
}

// slotPartition checks that every slot of pool is held by exactly one of
// the tree, the pool's free list and outside (nil outside means none).
func slotPartition(tree *Tree, pool *Pool, outside map[int32]bool) error {
	owner := make([]string, pool.Capacity())
	claim := func(s int32, who string) error {
		if s < 0 || int(s) >= len(owner) {
			return fmt.Errorf("%s holds slot %d outside the pool", who, s)
		}
		if owner[s] != "" {
			return fmt.Errorf("slot %d held by both %s and %s", s, owner[s], who)
		}
		owner[s] = who
		return nil
	}
	var err error
	tree.walkNodes(func(n *Node) {
		for _, s := range n.slots {
			if e := claim(s, "tree"); e != nil && err == nil {
				err = e
			}
		}
	})
	if err != nil {
		return err
	}
	for _, s := range pool.free {
		if err := claim(s, "pool"); err != nil {
			return err
		}
	}
	for s := range outside {
		if err := claim(s, "caller"); err != nil {
			return err
		}
	}
	for s, who := range owner {
		if who == "" {
			return fmt.Errorf("slot %d leaked: nobody holds it", s)
		}
	}
	return nil
}

// walkNodes calls f on every non-root node.
func (t *Tree) walkNodes(f func(*Node)) {
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, c := range n.children {
			f(c)
			walk(c)
		}
	}
	walk(t.root)
	for _, r := range t.roots {
		walk(r)
	}
}

func parseInts(t *testing.T, f []string) []int32 {
	out := make([]int32, 0, len(f))
	for _, s := range f {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			t.Fatalf("bad number %q", s)
		}
		out = append(out, int32(v))
	}
	return out
}

func joinInts(v []int32) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(int(x)))
	}
	return b.String()
}

// nodeName shows a node by its own tokens, or "root".
func nodeName(n *Node) string {
	if n == nil {
		return "nil"
	}
	if n.isRoot() {
		return "root"
	}
	return strings.TrimSpace(joinInts(n.tokens))
}

func errName(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{
		{ErrDisabled, "disabled"}, {ErrBadKey, "bad-key"}, {ErrBadSlot, "bad-slot"},
		{ErrStaleNode, "stale-node"}, {ErrNotLocked, "not-locked"},
	} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return err.Error()
}

func TestKeyValidate(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		ok   bool
	}{
		{"no extras", Key{Tokens: []int32{1, 2}}, true},
		{"parallel extras", Key{Tokens: []int32{1, 2}, Extras: []uint64{0, 7}}, true},
		{"short extras", Key{Tokens: []int32{1, 2}, Extras: []uint64{7}}, false},
		{"empty", Key{}, true},
	}
	for _, tc := range tests {
		if err := tc.key.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadKey)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestRadixAPIErrors covers bad input that the scripts cannot express.
func TestRadixAPIErrors(t *testing.T) {
	pool := NewPool(8)
	tree := NewTree(pool)
	other := NewTree(nil)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"slots length", second(tree.Insert(Key{Tokens: []int32{1, 2}}, []int32{0})), ErrBadKey},
		{"extras length", second(tree.Insert(Key{Tokens: []int32{1, 2}, Extras: []uint64{1}}, []int32{0, 1})), ErrBadKey},
		{"slot past pool", second(tree.Insert(Key{Tokens: []int32{1}}, []int32{8})), ErrBadSlot},
		{"negative slot", second(tree.Insert(Key{Tokens: []int32{1}}, []int32{-1})), ErrBadSlot},
		{"lock nil", tree.Lock(nil), ErrStaleNode},
		{"lock foreign", tree.Lock(other.Root()), ErrStaleNode},
		{"unlock foreign", tree.Unlock(other.Root()), ErrStaleNode},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if total, _, _ := tree.Size(); total != 0 || tree.Dump() != "(empty)\n" {
		t.Errorf("failed inserts changed the tree:\n%s", tree.Dump())
	}
	// A malformed key matches nothing rather than something wrong.
	if _, err := tree.Insert(Key{Tokens: []int32{1, 2}}, []int32{0, 1}); err != nil {
		t.Fatal(err)
	}
	if s, n := tree.Match(Key{Tokens: []int32{1, 2}, Extras: []uint64{0}}); s != nil || n != tree.Root() {
		t.Errorf("malformed key matched %v", s)
	}
	// A pool that refuses the evicted slots surfaces as an error.
	bad := NewTree(NewPool(4)) // the pool has all 4 slots free: freeing more fails
	if _, err := bad.Insert(Key{Tokens: []int32{1}}, []int32{0}); err != nil {
		t.Fatal(err)
	}
	if freed, err := bad.Evict(1); freed != 1 || err == nil {
		t.Errorf("Evict into a full pool = %d, %v; want 1 and an error", freed, err)
	}
}

func second(_ int, err error) error { return err }
