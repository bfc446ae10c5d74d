package constrain

import (
	"container/list"
	"fmt"
	"sync"
)

// Kind names what a cached grammar was compiled from.
type Kind uint8

const (
	KindRegex Kind = iota
	KindJSONSchema
)

func (k Kind) String() string {
	switch k {
	case KindRegex:
		return "regex"
	case KindJSONSchema:
		return "json_schema"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

type cacheKey struct {
	kind Kind
	src  string
	opts Options
}

type cacheEntry struct {
	key   cacheKey
	ready chan struct{} // closed when g/err are set
	g     *Grammar
	err   error
	elem  *list.Element
}

// Cache is an LRU of compiled grammars for one vocabulary, keyed by (kind,
// source, options). Concurrent requests for the same key compile once.
// Compile errors are not cached. It is safe for concurrent use.
type Cache struct {
	vocab *Vocab
	cap   int

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	lru     *list.List // front = most recent; only ready, successful entries
	hits    int64
	misses  int64
}

// NewCache returns a cache holding at most capacity grammars (default 256
// if capacity <= 0).
func NewCache(v *Vocab, capacity int) *Cache {
	if capacity <= 0 {
		capacity = 256
	}
	return &Cache{vocab: v, cap: capacity, entries: map[cacheKey]*cacheEntry{}, lru: list.New()}
}

// Get returns the grammar for (kind, src, o), compiling it on a miss.
func (c *Cache) Get(kind Kind, src string, o Options) (*Grammar, error) {
	key := cacheKey{kind, src, o}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.hits++
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.ready
		return e.g, e.err
	}
	c.misses++
	e := &cacheEntry{key: key, ready: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()

	switch kind {
	case KindRegex:
		e.g, e.err = CompileRegex(src, c.vocab, o)
	case KindJSONSchema:
		e.g, e.err = CompileJSONSchema([]byte(src), c.vocab, o)
	default:
		e.err = fmt.Errorf("constrain: cache: unknown kind %v", kind)
	}
	close(e.ready)

	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		delete(c.entries, key)
		return nil, e.err
	}
	e.elem = c.lru.PushFront(e)
	for c.lru.Len() > c.cap {
		old := c.lru.Remove(c.lru.Back()).(*cacheEntry)
		delete(c.entries, old.key)
	}
	return e.g, nil
}

// Len reports how many grammars are cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Stats reports cache hits and misses so far.
func (c *Cache) Stats() (hits, misses int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
