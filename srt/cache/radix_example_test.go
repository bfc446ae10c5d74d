package cache_test

import (
	"fmt"

	"github.com/sglang-go/sglang/srt/cache"
)

// A request's life in the radix cache, as the scheduler drives it.
func ExampleTree() {
	pool := cache.NewPool(16)
	tree := cache.NewTree(pool)

	serve := func(prompt []int32) {
		key := cache.Key{Tokens: prompt}
		// Admit: reuse the cached prefix and pin it while the request runs.
		prefix, node := tree.Match(key)
		_ = tree.Lock(node)
		// Allocate slots for the rest (evicting cold entries if short).
		if short := len(prompt) - len(prefix) - pool.Available(); short > 0 {
			_, _ = tree.Evict(short)
		}
		slots, _ := pool.Alloc(prefix, len(prompt)-len(prefix))
		// ... the model writes KV for slots[len(prefix):] ...
		// Finish: hand the slots to the tree, free the duplicates, unpin.
		n, _ := tree.Insert(key, slots)
		_ = pool.Free(slots[len(prefix):n])
		_ = tree.Unlock(node)
		fmt.Printf("matched %d, insert prefix %d\n", len(prefix), n)
	}
	serve([]int32{1, 2, 3, 4})
	serve([]int32{1, 2, 3, 9})
	total, evictable, locked := tree.Size()
	fmt.Println(total, evictable, locked, pool.Available())
	fmt.Print(tree.Dump())
	// Output:
	// matched 0, insert prefix 0
	// matched 3, insert prefix 3
	// 5 5 0 11
	// 1 2 3 -> 0 1 2
	//   4 -> 3
	//   9 -> 4
}
