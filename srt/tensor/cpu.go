package tensor

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Options configures a CPU.
type Options struct {
	// Threads is the worker-pool size; 0 means runtime.NumCPU().
	Threads int
	// Spin is how long idle workers busy-wait for the next job before
	// parking (a parked worker takes microseconds to wake, which adds up
	// over the hundreds of kernel calls of one decode step). 0 means 50µs;
	// negative disables spinning.
	Spin time.Duration
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

	workers []*poolWorker
	gen     atomic.Uint64 // bumped once per parallel job
	pending atomic.Int32  // workers still running the current job
	waiter  poolWorker    // the caller's parking state while it waits for pending == 0
	task    func(worker int)
	spin    time.Duration

	forN    int
	forFn   func(lo, hi int)
	forTask func(worker int)

	mm      mmJob
	mmTask  func(worker int)
	at      attnJob
	atTask  func(worker int)
	akv     attnKVJob
	akvTask func(worker int)

	scratch []workerScratch
	closed  bool
	// fixedBlocks disables guided row ranges in MatMul (for tests and A/B
	// benchmarks).
	fixedBlocks bool
}

// workerScratch is per-worker memory reused across calls.
type workerScratch struct {
	f   []float32 // dequantized weight panel
	s   []float32 // attention scores
	off []int     // AttentionKV: where each group row's scores start
}

// NewCPU starts a worker pool of o.Threads goroutines (the caller's goroutine
// counts as one of them) and picks the kernel set.
func NewCPU(o Options) *CPU {
	t := o.Threads
	if t <= 0 {
		t = runtime.NumCPU()
	}
	c := &CPU{threads: t, k: pickKernels(o.ISA), spin: o.Spin}
	c.waiter.wake = make(chan struct{}, 1)
	switch {
	case c.spin == 0:
		c.spin = 50 * time.Microsecond
	case c.spin < 0:
		c.spin = 0
	}
	c.forTask = c.forWorker
	c.mmTask = c.mmWorker
	c.atTask = c.attnWorker
	c.akvTask = c.attnKVWorker
	c.scratch = make([]workerScratch, t)
	for w := 1; w < t; w++ {
		pw := &poolWorker{wake: make(chan struct{}, 1)}
		c.workers = append(c.workers, pw)
		go c.worker(w, pw)
	}
	return c
}

// poolWorker is the parking state of one worker goroutine.
type poolWorker struct {
	parked atomic.Bool
	wake   chan struct{} // a token means "look at gen again"; closed by Close
}

func (c *CPU) worker(w int, pw *poolWorker) {
	seen := uint64(0)
	for {
		if !c.waitJob(pw, seen) {
			return
		}
		seen = c.gen.Load()
		c.task(w)
		if c.pending.Add(-1) == 0 && c.waiter.parked.Load() {
			select {
			case c.waiter.wake <- struct{}{}:
			default:
			}
		}
	}
}

// waitJob waits until gen moves past seen (true) or the pool closes (false):
// it spins for c.spin, then parks on the wake channel.
func (c *CPU) waitJob(pw *poolWorker, seen uint64) bool {
	var start time.Time
	for i := 0; ; i++ {
		if c.gen.Load() != seen {
			return true
		}
		if i&255 != 255 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < c.spin {
			continue
		}
		// Park. The recheck after publishing parked pairs with run's
		// gen.Add-then-parked.Load, so a job is never missed.
		pw.parked.Store(true)
		if c.gen.Load() != seen {
			pw.parked.Store(false)
			return true
		}
		_, ok := <-pw.wake
		pw.parked.Store(false)
		if !ok {
			return false
		}
		start = time.Time{}
	}
}

// Close stops the worker goroutines. The CPU must not be used afterwards.
func (c *CPU) Close() {
	if c.closed {
		return
	}
	c.closed = true
	for _, pw := range c.workers {
		close(pw.wake)
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
	c.pending.Store(int32(c.threads - 1))
	c.gen.Add(1)
	for _, pw := range c.workers {
		if pw.parked.Load() {
			select {
			case pw.wake <- struct{}{}:
			default: // a token is already waiting
			}
		}
	}
	task(0)
	c.waitDone()
}

// waitDone waits for pending to reach 0: it spins for c.spin, then parks on
// c.waiter.wake so that, on an oversubscribed machine, the OS can run the
// workers instead of this spinning thread.
func (c *CPU) waitDone() {
	var start time.Time
	for i := 0; c.pending.Load() != 0; i++ {
		if i&255 != 255 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
			continue
		}
		if time.Since(start) < c.spin {
			continue
		}
		c.waiter.parked.Store(true)
		if c.pending.Load() == 0 {
			c.waiter.parked.Store(false)
			return
		}
		<-c.waiter.wake
		c.waiter.parked.Store(false)
	}
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
