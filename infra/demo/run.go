package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
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
	// Amazon is the Amazon traffic on both marketplaces (none by default).
	Amazon AmazonRunOptions
	// Dedupe is the marketplace-copy traffic (DedupeTraffic). Nil means
	// DefaultDedupe when there is Amazon traffic, none without; a zero
	// DedupeOptions means none. A zero Seed takes the run's.
	Dedupe *DedupeOptions
}

// dedupe returns the copy traffic to run (nil for none).
func (o RunOptions) dedupe() *DedupeOptions {
	d := o.Dedupe
	if d == nil && o.Amazon.Rounds > 0 {
		def := DefaultDedupe
		d = &def
	}
	if d == nil || d.Amazon+d.EBay == 0 {
		return nil
	}
	c := *d
	if c.Seed == 0 {
		c.Seed = o.Seed
	}
	return &c
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
	// ExceptionsByOp counts the exceptions by "op (kind)".
	ExceptionsByOp map[string]int

	// HasAmazon says the run sent Amazon traffic, so the Amazon report counts.
	HasAmazon    bool
	Amazon       AmazonReport
	OrderChanges OrderChangeStats
	AmazonStats  sandbox.AmazonStats
	// OrderChangesWaiting are ORDER_CHANGE messages not delivered yet.
	OrderChangesWaiting int

	// Redaction is what the redaction sweep did, on its clock.
	Redaction RedactionReport

	// HasDedupe says the run sent marketplace-copy traffic, so the dedupe
	// report counts.
	HasDedupe bool
	Dedupe    DedupeReport
	// Logs are counts read from the functions' logs and metrics.
	Logs LogCounts
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
	var amz *AmazonTraffic
	if o.Amazon.Rounds > 0 {
		amz = e.StartAmazon(ctx, o.Amazon, o.Seed)
		defer amz.Stop()
	}
	var dd *DedupeTraffic
	if opts := o.dedupe(); opts != nil {
		dd = NewDedupeTraffic(e, *opts)
		// A second in: the Amazon traffic's first orders lose their
		// ORDER_CHANGE on purpose (sandbox-wide knobs), the copies' own
		// cancellations must not.
		go func() {
			sleepCtx(ctx, time.Second)
			dd.Start(ctx)
		}()
	}
	genDone := make(chan struct{})
	go func() {
		wg.Wait()
		if amz != nil {
			<-amz.Done()
		}
		if dd != nil {
			<-dd.Done()
		}
		close(genDone)
	}()

	var sum Summary
	// A snapshot every second; after a settled one, the confirming one
	// comes sooner, so that the periodic polls' short bursts of work do
	// not keep a settled run waiting.
	next := time.NewTimer(time.Second)
	defer next.Stop()
	generated := false
	stable := 0
	for {
		select {
		case <-genDone:
			generated = true
			genDone = nil
			continue
		case <-ctx.Done():
		case <-next.C:
		}
		var err error
		sum, err = e.snapshot(context.WithoutCancel(ctx), start, amz, dd)
		if err != nil {
			return sum, err
		}
		if o.Progress != nil {
			amazon := ""
			if sum.HasAmazon {
				amazon = fmt.Sprintf("  amazon %3d/%-3d confirmed %3d/%-3d", sum.Amazon.Present, sum.Amazon.Expected, sum.Amazon.Confirmed, sum.Amazon.Shipped)
				if sum.HasDedupe {
					amazon += fmt.Sprintf("  copies %3d linked %3d", sum.Dedupe.Copies, sum.Dedupe.Linked)
				}
				if e.ClockSpeedUp > 1 {
					amazon += fmt.Sprintf("  redacted %3d/%-3d (day %2.0f)", sum.Redaction.Done, sum.Redaction.Due, sum.Redaction.Simulated.Hours()/24)
				}
			}
			fmt.Fprintf(o.Progress, "\r%5.0fs  orders %4d  imported %4d  pushed %4d/%-4d  confirmed %4d/%-4d%s  in flight %4d  errors %d  429s %d   ",
				sum.Elapsed.Seconds(), sum.Orders+sum.Amazon.Orders, sum.Imported, sum.Present, sum.Expected, sum.Ship.Confirmed, sum.Ship.Labels, amazon, sum.InFlight,
				sum.Exceptions+int(sum.FunctionErrors), sum.ShipStation429s+sum.BigCommerce429s)
		}
		if ctx.Err() != nil {
			break
		}
		// Settled: generation over, webhooks delivered, queues empty and
		// ShipStation right, twice in a row.
		if generated && sum.Webhooks.Pending == 0 && sum.InFlight == 0 && sum.OK() && sum.Orders+sum.Amazon.Orders > 0 && (!sum.Shipping || sum.Ship.ShipOK()) &&
			(!sum.HasAmazon || sum.Amazon.OK() && sum.OrderChangesWaiting == 0) && (!sum.HasDedupe || sum.Dedupe.OK()) {
			stable++
			next.Reset(300 * time.Millisecond)
			if stable >= 2 {
				sum.SettledInTimeout = true
				break
			}
		} else {
			stable = 0
			next.Reset(time.Second)
		}
	}
	if o.Progress != nil {
		fmt.Fprintln(o.Progress)
	}
	if err := e.finishRedactions(context.WithoutCancel(ctx), &sum); err != nil {
		return sum, err
	}
	return sum, genErr
}

// finishRedactions completes the summary's redaction report: it waits (a
// few seconds at most) for the redactions falling due as the run ends,
// then checks what the ledger and ShipStation hold of the redacted orders.
func (e *Env) finishRedactions(ctx context.Context, sum *Summary) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		simNow := e.SimNow()
		recs, err := e.ledgerRecords(ctx)
		if err != nil {
			return err
		}
		sum.Redaction = e.CheckRedactions(recs, simNow)
		if (sum.Redaction.Pending == 0 && len(sum.Redaction.Undone) == 0) || time.Now().After(deadline) {
			return e.Verify(ctx, &sum.Redaction, recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *Env) snapshot(ctx context.Context, start time.Time, amz *AmazonTraffic, dd *DedupeTraffic) (Summary, error) {
	s := Summary{Report: e.Check(), Elapsed: time.Since(start), Shipping: e.Sandbox.WarehouseEnabled()}
	if s.Shipping {
		s.Ship = e.CheckShipments()
	}
	st := e.Sandbox.Stats()
	s.Webhooks = st.BigCommerce.Webhooks
	s.ShipStation429s = st.ShipStation.Total429
	s.BigCommerce429s = st.BigCommerce.Total429
	simNow := e.SimNow() // before the ledger is read: what was due then is listed
	recs, err := e.ledgerRecords(ctx)
	if err != nil {
		return s, err
	}
	s.Imported = len(recs)
	s.Redaction = e.CheckRedactions(recs, simNow)
	exc, _, err := e.Ledger.Exceptions(ctx, 1000, "")
	if err != nil {
		return s, err
	}
	s.Exceptions = len(exc)
	s.ExceptionsByOp = map[string]int{}
	for _, x := range exc {
		s.ExceptionsByOp[x.Op+" ("+x.Kind+")"]++
	}
	if amz != nil {
		s.HasAmazon = true
		s.Amazon = e.CheckAmazon(amz, exc)
		s.OrderChanges = e.OrderChanges()
		s.AmazonStats = e.Amazon.Stats()
		s.OrderChangesWaiting = e.OrderChangesWaiting()
	}
	if dd != nil {
		s.HasDedupe = true
		s.Dedupe = e.CheckDedupe(dd)
	}
	s.Logs = e.LogCounts()
	rs, err := e.Runner.Status(ctx)
	if err != nil {
		return s, err
	}
	s.Queues = map[string]int{}
	for name, q := range rs.Queues {
		n := q.Visible + q.InFlight + q.Delayed
		switch {
		case len(q.DeadLetterFor) > 0:
			s.DeadLetters += n
		default:
			s.InFlight += n
		}
		if n > 0 {
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
	recs, err := e.ledgerRecords(ctx)
	return len(recs), err
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
	fmt.Fprintf(w, "webhook→ShipStation latency       p50 %v  p99 %v  (n=%d)\n",
		s.LatencyP50.Round(time.Millisecond), s.LatencyP99.Round(time.Millisecond), s.LatencyN)
	if s.Shipping {
		fmt.Fprintf(w, "labels (live / voided)            %d / %d\n", s.Ship.Labels, s.Ship.Voided)
		fmt.Fprintf(w, "  confirmed on BigCommerce once   %d\n", s.Ship.Confirmed)
		fmt.Fprintf(w, "  missing / duplicated / voided relayed  %d / %d / %d\n", len(s.Ship.Missing), len(s.Ship.Duplicated), len(s.Ship.VoidRelayed))
		fmt.Fprintf(w, "label→confirmation latency        p50 %v  p99 %v\n",
			Percentile(s.Ship.Latency, 50).Round(time.Millisecond), Percentile(s.Ship.Latency, 99).Round(time.Millisecond))
	}
	if s.HasAmazon {
		s.printAmazon(w, line)
	}
	if s.HasDedupe {
		s.printDedupe(w, line)
	}
	if s.HasAmazon || s.Redaction.Scheduled > 0 {
		s.printRedaction(w, line)
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "exceptions / function errors      %d / %d\n", s.Exceptions, s.FunctionErrors)
	ops := make([]string, 0, len(s.ExceptionsByOp))
	for op := range s.ExceptionsByOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(w, "  %-31s %d\n", op, s.ExceptionsByOp[op])
	}
	fmt.Fprintf(w, "in flight / dead letters          %d / %d\n", s.InFlight, s.DeadLetters)
	for name, n := range s.Queues {
		fmt.Fprintf(w, "  %-31s %d\n", name, n)
	}
	verdict := "OK: every order in ShipStation exactly once, nothing lost"
	if s.Shipping {
		verdict = "OK: every order in ShipStation once, every label confirmed on BigCommerce once, nothing lost"
	}
	if s.HasAmazon {
		verdict = "OK: every order in ShipStation once and as its channel says, every label confirmed as each store's policy says, nothing lost"
		if s.Redaction.Due > 0 {
			verdict = "OK: every order in ShipStation once and as its channel says, every label confirmed as each store's policy says, every due redaction done in time, nothing lost"
		}
	}
	if s.HasDedupe {
		verdict += "; every marketplace order open in ShipStation once, however its copies came"
	}
	if !s.Passed() {
		verdict = "FAILED"
		if !s.SettledInTimeout {
			verdict += " (not settled in time)"
		}
	}
	fmt.Fprintln(w, line)
	fmt.Fprintln(w, verdict)
	for _, list := range [][]string{s.Missing, s.WrongStatus, s.Unexpected, s.Ship.Missing, s.Ship.Duplicated, s.Ship.VoidRelayed, s.Amazon.Problems, s.Dedupe.Problems, s.Redaction.Issues()} {
		for i, m := range list {
			if i == 10 {
				fmt.Fprintf(w, "  … and %d more\n", len(list)-10)
				break
			}
			fmt.Fprintln(w, "  "+m)
		}
	}
}

// printAmazon writes the Amazon part of the summary.
func (s Summary) printAmazon(w io.Writer, line string) {
	a := s.Amazon
	fmt.Fprintln(w, line)
	var stores []string
	for _, st := range AmazonStores {
		stores = append(stores, fmt.Sprintf("%s %d", st.ID, a.ByStore[st.ID]))
	}
	fmt.Fprintf(w, "Amazon orders generated           %d (%s)\n", a.Orders, strings.Join(stores, ", "))
	for _, k := range AmazonKinds {
		if n := a.ByKind[k]; n > 0 {
			fmt.Fprintf(w, "  %-31s %d\n", k, n)
		}
	}
	fmt.Fprintf(w, "ShipStation orders expected       %d\n", a.Expected)
	fmt.Fprintf(w, "  present, right status and data  %d\n", a.Present)
	fmt.Fprintf(w, "  rightly absent                  %d (pending, cancelled while pending, FBA on %s)\n", a.Absent, AmazonJPStore)
	if len(a.CancelledAfterShipping) > 0 {
		fmt.Fprintf(w, "  cancelled after the warehouse shipped them  %d (each an exception)\n", len(a.CancelledAfterShipping))
	}
	if len(a.ShippedBeforeRequest) > 0 {
		fmt.Fprintf(w, "  shipped before the buyer asked to cancel   %d\n", len(a.ShippedBeforeRequest))
	}
	fmt.Fprintf(w, "shipped merchant orders           %d (%d with several labels)\n", a.Shipped, a.MultiLabel)
	fmt.Fprintf(w, "  confirmed as the store says     %d\n", a.Confirmed)
	for _, st := range AmazonStores {
		fmt.Fprintf(w, "  %-31s %d\n", fmt.Sprintf("packages on %s (%s)", st.ID, st.Confirm), a.Packages[st.ID])
	}
	st := s.AmazonStats
	fmt.Fprintf(w, "SP-API calls searchOrders / getOrder / confirmShipment  %d / %d / %d (429s %d)\n",
		st.Requests[sandbox.AmazonOpSearchOrders], st.Requests[sandbox.AmazonOpGetOrder], st.Requests[sandbox.AmazonOpConfirmShipment],
		sumValues(st.Throttled)+st.Injected429)
	oc := s.OrderChanges
	fmt.Fprintf(w, "ORDER_CHANGE delivered / duplicated / out of order / dropped  %d / %d / %d / %d\n",
		oc.Delivered, oc.Duplicates, oc.OutOfOrder, st.NotificationsDropped)
	if oc.StaleForOrder > 0 {
		fmt.Fprintf(w, "  older than a change of the same order delivered before  %d\n", oc.StaleForOrder)
	}
	fmt.Fprintf(w, "Amazon orders caught by the poll  %d\n", a.CaughtByPoll)
}

// printDedupe writes the marketplace-copy part of the summary.
func (s Summary) printDedupe(w io.Writer, line string) {
	d := s.Dedupe
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "marketplace orders with copies    %d (%d on Amazon, %d on eBay, not connected)\n", d.RealOrders, d.AmazonOrders, d.EBayOrders)
	fmt.Fprintf(w, "  BigCommerce copies              %d\n", d.Copies)
	fmt.Fprintf(w, "  recreated copies                %d\n", d.Recreated)
	fmt.Fprintf(w, "  copies linked                   %d (marketplace orders whose orders are linked)\n", d.Linked)
	fmt.Fprintf(w, "  duplicates hidden               %d (linked orders kept out of ShipStation)\n", d.Hidden)
	fmt.Fprintf(w, "  cancelled / shipped             %d / %d\n", d.Cancelled, d.Shipped)
	fmt.Fprintf(w, "  confirmations Amazon / BigCommerce  %d / %d\n", d.AmazonConfirmations, d.BCConfirmations)
	fmt.Fprintf(w, "  primary decisions               %d\n", s.Logs.PrimaryDecisions)
	fmt.Fprintf(w, "  rule decisions                  %d (order versions a rule matched: bulk orders, marketplace copies)\n", s.Logs.RuleDecisions)
}

// printRedaction writes the redaction part of the summary.
func (s Summary) printRedaction(w io.Writer, line string) {
	r := s.Redaction
	fmt.Fprintln(w, line)
	clock := "real time"
	if r.SpeedUp > 1 {
		clock = fmt.Sprintf("clock x%g: %s simulated", r.SpeedUp, simDuration(r.Simulated))
	}
	fmt.Fprintf(w, "Amazon buyer-data redaction       (%s)\n", clock)
	fmt.Fprintf(w, "  orders with a due time          %d (%d not due yet)\n", r.Scheduled, r.Later)
	fmt.Fprintf(w, "  due by the end of the run       %d\n", r.Due)
	late := ""
	if r.Done > 0 {
		late = fmt.Sprintf(" (latest %s after due, simulated)", simDuration(r.MaxLate))
	}
	fmt.Fprintf(w, "  redacted                        %d%s\n", r.Done, late)
	if r.Pending > 0 {
		fmt.Fprintf(w, "  due, next sweep's               %d\n", r.Pending)
	}
	fmt.Fprintf(w, "  overdue / before due            %d / %d (overdue: more than %s late)\n", len(r.Overdue)+len(r.Undone), len(r.Early), simDuration(r.Lateness))
	if r.Verified {
		fmt.Fprintf(w, "  ledger buyer data redacted      %d (%d held none)\n", r.LedgerChecked, r.NoBuyerData)
		fmt.Fprintf(w, "  ShipStation copies re-sent redacted / shipped, kept / none held / never pushed  %d / %d / %d / %d\n",
			r.Resent, r.ShippedKept, r.ShipStationNoData, r.NotInShipStation)
	}
}

func sumValues(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Passed reports whether the run met the demo's bar.
func (s Summary) Passed() bool {
	return s.OK() && s.DeadLetters == 0 && s.SettledInTimeout && (!s.Shipping || s.Ship.ShipOK()) && (!s.HasAmazon || s.Amazon.OK()) &&
		(!s.HasDedupe || s.Dedupe.OK()) && s.Redaction.OK()
}

func pageOf(s string) ledger.Page { return ledger.Page(s) }
