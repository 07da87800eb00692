// go-probe: the Go runtime on several CPUs at once (GOMAXPROCS from the environment,
// or the CPUs the process may use). Goroutines count under one mutex, pass tokens
// around a ring of channels, and allocate while the garbage collector runs; every
// result is checked. Prints "go-probe ok: ..." and exits 0, or says what went wrong
// and exits 1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	counters = 8
	rounds   = 100000
	ring     = 16
	laps     = 10000
)

// count has `counters` goroutines add to one number under a mutex.
func count() int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for g := 0; g < counters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				mu.Lock()
				total++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return total
}

// pass sends a token around a ring of goroutines `laps` times; returns the hops.
func pass() int {
	chans := make([]chan int, ring)
	for i := range chans {
		chans[i] = make(chan int)
	}
	for i := 0; i < ring-1; i++ {
		go func(in, out chan int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(chans[i], chans[i+1])
	}
	hops := 0
	for lap := 0; lap < laps; lap++ {
		chans[0] <- 0
		hops += <-chans[ring-1]
	}
	close(chans[0])
	return hops
}

// churn allocates from several goroutines while forcing collections; checks that
// what each built is intact.
func churn() error {
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s := make([]int, 1000+i)
				for j := range s {
					s[j] = seed*j + i
				}
				if i%50 == 0 {
					runtime.GC()
				}
				for j := range s {
					if s[j] != seed*j+i {
						bad.Add(1)
					}
				}
			}
		}(g + 1)
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		return fmt.Errorf("%d values changed under the collector", n)
	}
	return nil
}

func main() {
	start := time.Now()
	procs := runtime.GOMAXPROCS(0)
	if got := count(); got != counters*rounds {
		fmt.Printf("go-probe FAILED: counted %d, not %d\n", got, counters*rounds)
		os.Exit(1)
	}
	if got := pass(); got != laps*(ring-1) {
		fmt.Printf("go-probe FAILED: %d hops, not %d\n", got, laps*(ring-1))
		os.Exit(1)
	}
	if err := churn(); err != nil {
		fmt.Printf("go-probe FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("go-probe ok: GOMAXPROCS %d, NumCPU %d, %d ms\n", procs, runtime.NumCPU(), time.Since(start).Milliseconds())
}
