package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/ledger"
)

// RunOptions shape the demo's traffic.
type RunOptions struct {
	// SteadyOrders are created at SteadyRate orders per second.
	SteadyOrders int
	SteadyRate   float64
	// BurstOrders are created at once, BurstAfter into the run (a flash sale).
	BurstOrders int
	BurstAfter  time.Duration
	// UpdateFraction of the orders change status a few seconds after
	// creation (payment captured, cancelled, verified…).
	UpdateFraction float64
	// Timeout bounds the whole run, settling included.
	Timeout time.Duration
	// Progress receives the live progress line (nil: none).
	Progress io.Writer
	Seed     uint64
}

// Summary is what the demo prints at the end.
type Summary struct {
	Report
	Ship ShipReport
	// Shipping says the warehouse ran, so the shipment report counts.
	Shipping         bool
	Elapsed          time.Duration
	Imported         int
	Exceptions       int
	FunctionErrors   int64
	Webhooks         sandbox.WebhookStats
	ShipStation429s  int64
	BigCommerce429s  int64
	InFlight         int
	DeadLetters      int
	LatencyP50       time.Duration
	LatencyP99       time.Duration
	LatencyN         int
	CaughtByPoll     int
	SettledInTimeout bool
	// Queues holds the queues that are not empty (name → messages).
	Queues map[string]int
}

// transitions are the status changes merchants' orders go through after
// creation: payment captured, manual verification passed, cancelled.
var transitions = map[int][]int{
	sandbox.StatusAwaitingPayment:     {sandbox.StatusAwaitingFulfillment, sandbox.StatusCancelled},
	sandbox.StatusAwaitingFulfillment: {sandbox.StatusCancelled, sandbox.StatusAwaitingShipment},
	sandbox.StatusManualVerification:  {sandbox.StatusAwaitingFulfillment, sandbox.StatusDeclined},
	sandbox.StatusPending:             {sandbox.StatusAwaitingFulfillment},
}

// Run generates the traffic and waits until ShipStation holds exactly what
// it should and every queue is drained, or the timeout.
func (e *Env) Run(ctx context.Context, o RunOptions) (Summary, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	var rngMu sync.Mutex
	var wg sync.WaitGroup
	var genErr error
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		if genErr == nil {
			genErr = err
		}
		errMu.Unlock()
	}
	create := func() {
		rngMu.Lock()
		spec := sandbox.GenerateOrder(rng)
		update := rng.Float64() < o.UpdateFraction
		delay := time.Duration(1+rng.IntN(8)) * time.Second
		pick := rng.IntN(1 << 20)
		rngMu.Unlock()
		spec.StoreHash = StoreHash
		bo, err := e.Sandbox.CreateOrder(spec)
		if err != nil {
			fail(err)
			return
		}
		if !update {
			return
		}
		next := transitions[bo.StatusID]
		if len(next) == 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
			case <-time.After(delay):
				if _, err := e.Sandbox.SetOrderStatus(StoreHash, bo.ID, next[pick%len(next)]); err != nil {
					fail(err)
				}
			}
		}()
	}

	wg.Add(1)
	go func() { // steady stream
		defer wg.Done()
		if o.SteadyOrders == 0 || o.SteadyRate <= 0 {
			return
		}
		tick := time.NewTicker(time.Duration(float64(time.Second) / o.SteadyRate))
		defer tick.Stop()
		for i := 0; i < o.SteadyOrders; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				create()
			}
		}
	}()
	wg.Add(1)
	go func() { // the burst
		defer wg.Done()
		if o.BurstOrders == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.BurstAfter):
		}
		for i := 0; i < o.BurstOrders; i++ {
			create()
		}
	}()
	genDone := make(chan struct{})
	go func() { wg.Wait(); close(genDone) }()

	var sum Summary
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	generated := false
	stable := 0
	for {
		select {
		case <-genDone:
			generated = true
			genDone = nil
			continue
		case <-ctx.Done():
		case <-tick.C:
		}
		var err error
		sum, err = e.snapshot(context.WithoutCancel(ctx), start)
		if err != nil {
			return sum, err
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "\r%5.0fs  orders %4d  imported %4d  pushed %4d/%-4d  confirmed %4d/%-4d  in flight %4d  errors %d  429s %d   ",
				sum.Elapsed.Seconds(), sum.Orders, sum.Imported, sum.Present, sum.Expected, sum.Ship.Confirmed, sum.Ship.Labels, sum.InFlight,
				sum.Exceptions+int(sum.FunctionErrors), sum.ShipStation429s+sum.BigCommerce429s)
		}
		if ctx.Err() != nil {
			break
		}
		// Settled: generation over, webhooks delivered, queues empty and
		// ShipStation right, twice in a row.
		if generated && sum.Webhooks.Pending == 0 && sum.InFlight == 0 && sum.OK() && sum.Orders > 0 && (!sum.Shipping || sum.Ship.ShipOK()) {
			stable++
			if stable >= 2 {
				sum.SettledInTimeout = true
				break
			}
		} else {
			stable = 0
		}
	}
	if o.Progress != nil {
		fmt.Fprintln(o.Progress)
	}
	return sum, genErr
}

func (e *Env) snapshot(ctx context.Context, start time.Time) (Summary, error) {
	s := Summary{Report: e.Check(), Elapsed: time.Since(start), Shipping: e.Sandbox.WarehouseEnabled()}
	if s.Shipping {
		s.Ship = e.CheckShipments()
	}
	st := e.Sandbox.Stats()
	s.Webhooks = st.BigCommerce.Webhooks
	s.ShipStation429s = st.ShipStation.Total429
	s.BigCommerce429s = st.BigCommerce.Total429
	var err error
	if s.InFlight, s.DeadLetters, err = e.Queues(ctx); err != nil {
		return s, err
	}
	if s.Imported, err = e.countOrders(ctx); err != nil {
		return s, err
	}
	exc, _, err := e.Ledger.Exceptions(ctx, 1000, "")
	if err != nil {
		return s, err
	}
	s.Exceptions = len(exc)
	rs, err := e.Runner.Status(ctx)
	if err != nil {
		return s, err
	}
	s.Queues = map[string]int{}
	for name, q := range rs.Queues {
		if n := q.Visible + q.InFlight + q.Delayed; n > 0 {
			s.Queues[name] = n
		}
	}
	for _, f := range rs.Functions {
		s.FunctionErrors += f.Errors
	}
	lat, poll := e.Latencies()
	s.LatencyN, s.CaughtByPoll = len(lat), poll
	s.LatencyP50, s.LatencyP99 = Percentile(lat, 50), Percentile(lat, 99)
	return s, nil
}

// countOrders counts ledger orders updated since the run began.
func (e *Env) countOrders(ctx context.Context) (int, error) {
	n := 0
	from := time.Now().Add(-24 * time.Hour)
	var page string
	for {
		recs, next, err := e.Ledger.UpdatedBetween(ctx, from, time.Now().Add(time.Minute), 1000, pageOf(page))
		if err != nil {
			return n, err
		}
		n += len(recs)
		if next == "" {
			return n, nil
		}
		page = string(next)
	}
}

// Print writes the summary as the demo shows it.
func (s Summary) Print(w io.Writer) {
	line := strings.Repeat("─", 64)
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "shiprelay demo summary (%.0fs)\n", s.Elapsed.Seconds())
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "BigCommerce orders generated      %d\n", s.Orders)
	fmt.Fprintf(w, "orders in the ledger              %d\n", s.Imported)
	fmt.Fprintf(w, "ShipStation orders expected       %d\n", s.Expected)
	fmt.Fprintf(w, "  present, right status           %d\n", s.Present)
	fmt.Fprintf(w, "  missing                         %d\n", len(s.Missing))
	fmt.Fprintf(w, "  wrong status                    %d\n", len(s.WrongStatus))
	fmt.Fprintf(w, "  unexpected                      %d\n", len(s.Unexpected))
	fmt.Fprintf(w, "duplicates in ShipStation         %d\n", s.Duplicates)
	if len(s.CancelledAfterShipping) > 0 {
		fmt.Fprintf(w, "cancelled after ShipStation shipped them  %d (each an exception)\n", len(s.CancelledAfterShipping))
	}
	fmt.Fprintf(w, "webhooks sent / dropped / duplicated  %d / %d / %d\n", s.Webhooks.Sent, s.Webhooks.Dropped, s.Webhooks.Duplicated)
	fmt.Fprintf(w, "orders caught by the poll         %d\n", s.CaughtByPoll)
	fmt.Fprintf(w, "429s seen (ShipStation / BigCommerce)  %d / %d\n", s.ShipStation429s, s.BigCommerce429s)
	fmt.Fprintf(w, "exceptions / function errors      %d / %d\n", s.Exceptions, s.FunctionErrors)
	fmt.Fprintf(w, "in flight / dead letters          %d / %d\n", s.InFlight, s.DeadLetters)
	for name, n := range s.Queues {
		fmt.Fprintf(w, "  %-31s %d\n", name, n)
	}
	fmt.Fprintf(w, "webhook→ShipStation latency       p50 %v  p99 %v  (n=%d)\n",
		s.LatencyP50.Round(time.Millisecond), s.LatencyP99.Round(time.Millisecond), s.LatencyN)
	if s.Shipping {
		fmt.Fprintf(w, "labels (live / voided)            %d / %d\n", s.Ship.Labels, s.Ship.Voided)
		fmt.Fprintf(w, "  confirmed on BigCommerce once   %d\n", s.Ship.Confirmed)
		fmt.Fprintf(w, "  missing / duplicated / voided relayed  %d / %d / %d\n", len(s.Ship.Missing), len(s.Ship.Duplicated), len(s.Ship.VoidRelayed))
		fmt.Fprintf(w, "label→confirmation latency        p50 %v  p99 %v\n",
			Percentile(s.Ship.Latency, 50).Round(time.Millisecond), Percentile(s.Ship.Latency, 99).Round(time.Millisecond))
	}
	verdict := "OK: every order in ShipStation exactly once, nothing lost"
	if s.Shipping {
		verdict = "OK: every order in ShipStation once, every label confirmed on BigCommerce once, nothing lost"
	}
	if !s.Passed() {
		verdict = "FAILED"
	}
	fmt.Fprintln(w, line)
	fmt.Fprintln(w, verdict)
	for _, list := range [][]string{s.Missing, s.WrongStatus, s.Unexpected, s.Ship.Missing, s.Ship.Duplicated, s.Ship.VoidRelayed} {
		for i, m := range list {
			if i == 10 {
				fmt.Fprintf(w, "  … and %d more\n", len(list)-10)
				break
			}
			fmt.Fprintln(w, "  "+m)
		}
	}
}

// Passed reports whether the run met the demo's bar.
func (s Summary) Passed() bool {
	return s.OK() && s.DeadLetters == 0 && s.SettledInTimeout && (!s.Shipping || s.Ship.ShipOK())
}

func pageOf(s string) ledger.Page { return ledger.Page(s) }
