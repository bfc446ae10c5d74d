package constrain

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// deadState is the DFA state with no NFA nodes: nothing can follow.
const deadState int32 = 0

// dstate is one lazily built DFA state. Its transitions are written once
// (under dfa.mu) and read lock-free.
type dstate struct {
	set    []int32        // sorted live NFA nodes (byte nodes and the match node)
	accept bool           // the match node is in set
	trans  []atomic.Int32 // by byte class: next state id + 1; 0 = not built yet
	mask   atomic.Pointer[[]uint64]
	info   atomic.Int32 // 0 = unknown; else infoKnown | infoHasOut | (forced byte+1)<<8
}

const (
	infoKnown  = 1
	infoHasOut = 2
)

// dfa determinizes an NFA on demand.
type dfa struct {
	n        *nfa
	live     []bool     // node can reach the match node
	classOf  [256]uint8 // byte -> equivalence class
	classRep []byte     // class -> one byte of it
	classLen []int      // class -> number of bytes in it

	states atomic.Pointer[[]*dstate] // copy-on-append; readers load, writers hold mu
	start  int32

	mu        sync.Mutex // guards everything below and state creation
	index     map[string]int32
	maxStates int
	maxBytes  int64
	bytes     int64
	stack     []int32
	mark      []uint32
	gen       uint32
	scratch   []int32
}

func newDFA(n *nfa, maxStates int, maxBytes int64) (*dfa, error) {
	d := &dfa{n: n, index: map[string]int32{}, maxStates: maxStates, maxBytes: maxBytes}
	d.computeLive()
	d.computeClasses()
	d.mark = make([]uint32, len(n.nodes))
	empty := []*dstate{}
	d.states.Store(&empty)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.addState(nil); err != nil { // dead state = 0
		return nil, err
	}
	start, err := d.addState(d.closure([]int32{n.start})) // 1, or 0 if nothing matches
	if err != nil {
		return nil, err
	}
	d.start = start
	return d, nil
}

// computeLive marks nodes from which the match node is reachable, so DFA
// states never contain dead ends and "non-empty" means "can still finish".
func (d *dfa) computeLive() {
	nodes := d.n.nodes
	rev := make([][]int32, len(nodes))
	for i, x := range nodes {
		switch x.kind {
		case nByte:
			rev[x.out] = append(rev[x.out], int32(i))
		case nSplit:
			rev[x.out] = append(rev[x.out], int32(i))
			rev[x.out1] = append(rev[x.out1], int32(i))
		}
	}
	d.live = make([]bool, len(nodes))
	var q []int32
	for i, x := range nodes {
		if x.kind == nMatch {
			d.live[i] = true
			q = append(q, int32(i))
		}
	}
	for len(q) > 0 {
		v := q[len(q)-1]
		q = q[:len(q)-1]
		for _, u := range rev[v] {
			if !d.live[u] {
				d.live[u] = true
				q = append(q, u)
			}
		}
	}
}

func (d *dfa) computeClasses() {
	var cut [257]bool
	for _, x := range d.n.nodes {
		if x.kind == nByte {
			cut[x.lo] = true
			cut[int(x.hi)+1] = true
		}
	}
	c := -1
	for b := 0; b < 256; b++ {
		if b == 0 || cut[b] {
			c++
			d.classRep = append(d.classRep, byte(b))
			d.classLen = append(d.classLen, 0)
		}
		d.classOf[b] = uint8(c)
		d.classLen[c]++
	}
}

// closure returns the sorted set of live byte/match nodes reachable by
// epsilon moves from seeds. Caller holds mu (or is the constructor).
func (d *dfa) closure(seeds []int32) []int32 {
	d.gen++
	if d.gen == 0 {
		clear(d.mark)
		d.gen = 1
	}
	out := d.scratch[:0]
	st := append(d.stack[:0], seeds...)
	for len(st) > 0 {
		v := st[len(st)-1]
		st = st[:len(st)-1]
		if d.mark[v] == d.gen || !d.live[v] {
			continue
		}
		d.mark[v] = d.gen
		x := &d.n.nodes[v]
		switch x.kind {
		case nByte, nMatch:
			out = append(out, v)
		case nSplit:
			st = append(st, x.out1, x.out)
		}
	}
	d.stack = st
	slices.Sort(out)
	d.scratch = out
	return out
}

func setKey(set []int32) string {
	if len(set) == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&set[0])), len(set)*4))
}

// addState interns set (copying it). Caller holds mu.
func (d *dfa) addState(set []int32) (int32, error) {
	key := setKey(set)
	if id, ok := d.index[key]; ok {
		return id, nil
	}
	cur := *d.states.Load()
	cost := int64(len(key)*2 + len(d.classRep)*4 + 160)
	if len(cur) >= d.maxStates || d.bytes+cost > d.maxBytes {
		return 0, fmt.Errorf("%w: more than %d DFA states or %d bytes (raise Options.MaxStates/MaxBytes or simplify the pattern)",
			ErrTooComplex, d.maxStates, d.maxBytes)
	}
	d.bytes += cost
	st := &dstate{set: slices.Clone(set), trans: make([]atomic.Int32, len(d.classRep))}
	for _, v := range set {
		if d.n.nodes[v].kind == nMatch {
			st.accept = true
		}
	}
	id := int32(len(cur))
	next := append(cur, st)
	d.states.Store(&next)
	d.index[key] = id
	return id, nil
}

// state returns the state with the given id (ids come from step or start).
func (d *dfa) state(id int32) *dstate { return (*d.states.Load())[id] }

// numStates reports how many states exist so far.
func (d *dfa) numStates() int { return len(*d.states.Load()) }

// step returns the state after byte b. It is lock-free when the transition
// was built before.
func (d *dfa) step(s *dstate, b byte) (int32, error) {
	c := d.classOf[b]
	if t := s.trans[c].Load(); t != 0 {
		return t - 1, nil
	}
	return d.stepSlow(s, c)
}

func (d *dfa) stepSlow(s *dstate, c uint8) (int32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t := s.trans[c].Load(); t != 0 {
		return t - 1, nil
	}
	b := d.classRep[c]
	var seeds []int32
	for _, v := range s.set {
		x := &d.n.nodes[v]
		if x.kind == nByte && x.lo <= b && b <= x.hi {
			seeds = append(seeds, x.out)
		}
	}
	id := deadState
	if len(seeds) > 0 {
		var err error
		if id, err = d.addState(d.closure(seeds)); err != nil {
			return 0, err
		}
	}
	s.trans[c].Store(id + 1)
	return id, nil
}

// stateInfo reports whether any byte can follow s and, if exactly one byte
// can (and s does not accept), which one (else -1).
func (d *dfa) stateInfo(s *dstate) (hasOut bool, forced int, err error) {
	info := s.info.Load()
	if info == 0 {
		live, last := 0, -1
		for c := range d.classRep {
			t, err := d.step(s, d.classRep[c])
			if err != nil {
				return false, -1, err
			}
			if t != deadState {
				live++
				last = c
			}
		}
		info = infoKnown
		if live > 0 {
			info |= infoHasOut
		}
		if live == 1 && d.classLen[last] == 1 && !s.accept {
			info |= (int32(d.classRep[last]) + 1) << 8
		}
		s.info.Store(info)
	}
	return info&infoHasOut != 0, int(info>>8) - 1, nil
}
