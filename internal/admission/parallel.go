package admission

import (
	"context"
	"sync"
)

// forEach calls fn(ctx, i) for i in [0, n), at most limit at a time, and
// returns when every call has returned. Calls not yet started when ctx ends
// still run, so each sees the cancelled context and reports it as its
// cause: no index is silently skipped.
func forEach(ctx context.Context, n, limit int, fn func(context.Context, int)) {
	if n == 1 {
		fn(ctx, 0)
		return
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}
