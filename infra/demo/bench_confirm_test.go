package demo

import (
	"context"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/testenv"
)

func TestConfirmBound(t *testing.T) {
	for _, c := range []struct {
		requests int64
		want     time.Duration
	}{
		{0, 0},
		{150, 0},
		{300, 30 * time.Second},
		{4000, time.Duration(3850.0 / 150 * float64(30*time.Second))},
	} {
		if got := ConfirmBound(c.requests, 150, 30*time.Second); got != c.want {
			t.Errorf("ConfirmBound(%d) = %v, want %v", c.requests, got, c.want)
		}
	}
}

// TestConfirmBenchSmall drains a few hundred confirmations with BigCommerce's
// window scaled to 1 s: every order gets exactly one shipment, the ledger
// confirms each, and the budget keeps the sandbox from answering 429.
func TestConfirmBenchSmall(t *testing.T) {
	needStack(t)
	testenv.SkipIfShort(t, "short mode")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := ConfirmBench(ctx, ConfirmBenchOptions{Confirmations: 200, TimeScale: 30})
	if err != nil {
		t.Fatal(err)
	}
	var buf testWriter
	r.Print(&buf)
	t.Log(string(buf))
	if !r.Passed() {
		t.Errorf("lost %d, duplicated %d, unconfirmed %d, dead %d", r.Lost, r.Duplicated, r.Unconfirmed, r.Dead)
	}
	if r.Requests < 2*int64(r.Confirmations) {
		t.Errorf("%d requests for %d confirmations: want at least 2 each (GET shipments, POST)", r.Requests, r.Confirmations)
	}
	if r.Elapsed < r.Bound {
		t.Errorf("drained in %v, faster than the quota allows (%v)", r.Elapsed, r.Bound)
	}
}

type testWriter []byte

func (w *testWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
