package tensor

import (
	"runtime"
	"sync"
)

// Options configures a CPU.
type Options struct {
	// Threads is the worker-pool size; 0 means runtime.NumCPU().
	Threads int
	// ISA forces a kernel set: "" picks the best the CPU supports, otherwise
	// "avx512", "avx2" or "generic". Asking for a set the CPU lacks falls
	// back to the best one it has below it.
	ISA string
}

// CPU runs kernels on a fixed pool of worker goroutines. Its methods are not
// safe for concurrent use: call them from one goroutine at a time (the
// scratch buffers and the pool are shared by all calls). Kernels must not be
// called from inside a For callback.
type CPU struct {
	threads int
	k       *kernelSet

	wake []chan struct{}
	wg   sync.WaitGroup
	task func(worker int)

	forN    int
	forFn   func(lo, hi int)
	forTask func(worker int)

	mm     mmJob
	mmTask func(worker int)
	at     attnJob
	atTask func(worker int)

	scratch []workerScratch
	closed  bool
}

// workerScratch is per-worker memory reused across calls.
type workerScratch struct {
	f []float32 // dequantized weight panel
	s []float32 // attention scores
}

// NewCPU starts a worker pool of o.Threads goroutines (the caller's goroutine
// counts as one of them) and picks the kernel set.
func NewCPU(o Options) *CPU {
	t := o.Threads
	if t <= 0 {
		t = runtime.NumCPU()
	}
	c := &CPU{threads: t, k: pickKernels(o.ISA)}
	c.forTask = c.forWorker
	c.mmTask = c.mmWorker
	c.atTask = c.attnWorker
	c.scratch = make([]workerScratch, t)
	c.wake = make([]chan struct{}, t)
	for w := 1; w < t; w++ {
		ch := make(chan struct{}, 1)
		c.wake[w] = ch
		go c.worker(w, ch)
	}
	return c
}

func (c *CPU) worker(w int, ch chan struct{}) {
	for range ch {
		c.task(w)
		c.wg.Done()
	}
}

// Close stops the worker goroutines. The CPU must not be used afterwards.
func (c *CPU) Close() {
	if c.closed {
		return
	}
	c.closed = true
	for _, ch := range c.wake[1:] {
		close(ch)
	}
}

// Threads is the pool size.
func (c *CPU) Threads() int { return c.threads }

// ISA names the kernel set chosen at start-up: "avx512", "avx2" or "generic".
func (c *CPU) ISA() string { return c.k.name }

// run calls task(w) once for every worker w in [0, Threads) in parallel and
// waits for all of them; worker 0 is the calling goroutine.
func (c *CPU) run(task func(worker int)) {
	if c.threads == 1 {
		task(0)
		return
	}
	c.task = task
	c.wg.Add(c.threads - 1)
	for _, ch := range c.wake[1:] {
		ch <- struct{}{}
	}
	task(0)
	c.wg.Wait()
	c.task = nil
}

// For calls fn over [0, n) split into at most Threads contiguous ranges run
// in parallel, and returns when all are done. fn must not call back into c.
func (c *CPU) For(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if c.threads == 1 || n == 1 {
		fn(0, n)
		return
	}
	c.forN, c.forFn = n, fn
	c.run(c.forTask)
	c.forFn = nil
}

func (c *CPU) forWorker(w int) {
	lo := c.forN * w / c.threads
	hi := c.forN * (w + 1) / c.threads
	if lo < hi {
		c.forFn(lo, hi)
	}
}

// growF returns buf resized to n values, reallocating only when too small.
func growF(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
