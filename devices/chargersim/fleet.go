package chargersim

import (
	"context"
	"sync"
	"time"
)

// Run connects a charge point for each id and keeps them up until ctx ends:
// a charge point that cannot connect (the central system not up yet, or
// gone) retries with backoff, and reconnects after losing its connection.
// At most 64 connect at once, so thousands start without a SYN storm.
func Run(ctx context.Context, cfg Config, ids []string) error {
	cfg.defaults()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	up := 0
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := time.Second
			for ctx.Err() == nil {
				sem <- struct{}{}
				c, err := Connect(ctx, cfg, id)
				<-sem
				if err != nil {
					cfg.Log.Debug("chargersim: connect", "chargePoint", id, "error", err, "retryIn", backoff)
					select {
					case <-ctx.Done():
						return
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, 30*time.Second)
					continue
				}
				backoff = time.Second
				mu.Lock()
				up++
				if up == len(ids) || up%1000 == 0 {
					cfg.Log.Info("chargersim: charge points connected", "connected", up, "of", len(ids))
				}
				mu.Unlock()
				<-ctx.Done()
				c.Close()
				return
			}
		}()
	}
	wg.Wait()
	return nil
}
