package demo

import (
	"bytes"
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

func TestAmazonConfirmBound(t *testing.T) {
	for _, c := range []struct {
		calls int64
		rate  float64
		want  time.Duration
	}{
		{0, 2, 0},
		{10, 2, 0},
		{12, 2, time.Second},
		{5000, 80, time.Duration(4990.0 / 80 * float64(time.Second))},
	} {
		if got := AmazonConfirmBound(c.calls, c.rate, 10); got != c.want {
			t.Errorf("AmazonConfirmBound(%d, %g, 10) = %v, want %v", c.calls, c.rate, got, c.want)
		}
	}
}

// amazonBenchLog collects the functions' logs; writes come from many
// goroutines.
type amazonBenchLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *amazonBenchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *amazonBenchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestAmazonConfirmBenchSmall drains a few dozen confirmations with
// Amazon's rates sped up 20 times: every order gets exactly one package with
// its label's tracking, the ledger confirms each with that package's
// reference, read-backs are scheduled, and no buyer value
// reaches the logs.
func TestAmazonConfirmBenchSmall(t *testing.T) {
	needStack(t)
	testenv.SkipIfShort(t, "short mode")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &amazonBenchLog{}
	var pii []string
	r, err := amazonConfirmBench(ctx, AmazonConfirmBenchOptions{Confirmations: 60, SpeedUp: 20, LogWriter: logs}, func(env *Env, orders []amazonBenchOrder) {
		for _, bo := range orders {
			ao, ok := env.Amazon.Order(bo.OrderID)
			if !ok {
				t.Errorf("order %s: not in the sandbox", bo.OrderID)
				continue
			}
			pii = append(pii, ao.PIIValues()...)
			ps := env.Amazon.Packages(bo.OrderID)
			if len(ps) != 1 {
				t.Errorf("order %s: %d packages, want 1", bo.OrderID, len(ps))
				continue
			}
			p := ps[0]
			if p.TrackingNumber != bo.TrackingNumber || p.PackageReferenceID != bo.PackageRef || p.CarrierCode != "UPS" {
				t.Errorf("order %s: package %s tracking %s carrier %q; want package %s tracking %s carrier UPS",
					bo.OrderID, p.PackageReferenceID, p.TrackingNumber, p.CarrierCode, bo.PackageRef, bo.TrackingNumber)
			}
			ns, err := env.Ledger.Notifications(ctx, bo.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || ns[0].State != shipment.Confirmed || ns[0].ChannelRef != bo.PackageRef {
				t.Errorf("order %s: ledger notifications %+v; want one confirmed as package %s", bo.OrderID, ns, bo.PackageRef)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf testWriter
	r.Print(&buf)
	t.Log(string(buf))
	if !r.Passed() {
		t.Errorf("lost %d, duplicated %d, unconfirmed %d, dead %d", r.Lost, r.Duplicated, r.Unconfirmed, r.Dead)
	}
	if r.ByOperation["confirmShipment"] < int64(r.Confirmations) {
		t.Errorf("%d confirmShipment requests for %d confirmations", r.ByOperation["confirmShipment"], r.Confirmations)
	}
	if r.VerifyPending == 0 || r.VerifyPending > r.Confirmations {
		t.Errorf("%d messages left on the notify queue, want the read-backs: at most one per confirmation (%d)", r.VerifyPending, r.Confirmations)
	}
	// A sanity check, not a timing target: the bucket cannot be beaten by
	// more than its burst, which the bound already grants.
	if ratio := r.Ratio(); math.IsInf(ratio, 0) || math.IsNaN(ratio) || ratio < 0.9 {
		t.Errorf("ratio %v (elapsed %v, bound %v): want a finite ratio ≥ 0.9", ratio, r.Elapsed, r.Bound)
	}
	all := logs.String()
	for _, v := range pii {
		if strings.Contains(all, v) {
			t.Errorf("a buyer value is in the function logs")
			break
		}
	}
}
