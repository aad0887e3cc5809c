package dynamo_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// TestBudgetNeverOverGrants is the budget's safety property under
// contention: 20 goroutines take from one bucket of burst B and rate R;
// the tokens granted within the run never exceed B + R·elapsed.
func TestBudgetNeverOverGrants(t *testing.T) {
	client, table := testenv.DynamoDB(t)
	b := dynamo.NewBudget(client, table)
	c := ctx(t)
	lim := ratelimit.Limit{Rate: 40, Burst: 10}
	const workers, takes = 20, 25
	var granted, waited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < takes; i++ {
				wait, err := b.Take(c, "api:acct:op", lim, 1)
				if err != nil {
					t.Error(err)
					return
				}
				if wait == 0 {
					granted.Add(1)
					continue
				}
				waited.Add(1)
				time.Sleep(min(wait, 10*time.Millisecond))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	bound := lim.Burst + lim.Rate*elapsed.Seconds()
	t.Logf("granted %d, refused %d in %v (bound %.1f)", granted.Load(), waited.Load(), elapsed, bound)
	if float64(granted.Load()) > bound {
		t.Errorf("granted %d tokens in %v: more than B + R·elapsed = %.1f", granted.Load(), elapsed, bound)
	}
	if granted.Load() < int64(lim.Burst) {
		t.Errorf("granted only %d tokens: not even the burst", granted.Load())
	}
}

func TestBudgetObserveBlocks(t *testing.T) {
	client, table := testenv.DynamoDB(t)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	b := &dynamo.Budget{Client: client, Table: table, Now: func() time.Time { return now }}
	c := ctx(t)
	lim := ratelimit.PerWindow(40, 30*time.Second)
	if wait, err := b.Take(c, "bc:store", lim, 1); err != nil || wait != 0 {
		t.Fatalf("first take: %v %v", wait, err)
	}
	// The API says: nothing left, window resets in 5 s.
	if err := b.Observe(c, "bc:store", lim, 0, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if wait, err := b.Take(c, "bc:store", lim, 1); err != nil || wait != 5*time.Second {
		t.Errorf("take while blocked: wait %v, %v; want 5s", wait, err)
	}
	now = now.Add(5 * time.Second)
	if wait, err := b.Take(c, "bc:store", lim, 1); err != nil || wait != 0 {
		t.Errorf("take after reset: wait %v, %v", wait, err)
	}
	// The ledger is a budget too (app wiring uses it so).
	var _ ratelimit.Budget = dynamo.New(client, table)
}
