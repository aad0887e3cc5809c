package dynamo_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// simSeed replays a run of TestRedactionScheduleSimulated: its seed is in
// the test's log.
var simSeed = flag.Uint64("redaction.seed", 0, "seed of TestRedactionScheduleSimulated (0: random)")

// simService is a ShipStation carrier service of the simulation.
type simService struct{ carrier, service string }

// Two services that track automatically and two that do not, per the
// carrier map.
var simServices = []simService{
	{"ups", "ups_ground"},
	{"stamps_com", "usps_priority_mail"},
	{"stamps_com", "usps_first_class_mail"},
	{"royal_mail", "rm_second_class"},
}

// simEvent is a change of an order's history: from `at` on, the order has
// these labels and, when delivered is not zero, was delivered then.
type simEvent struct {
	at        time.Time
	labels    []shipment.Shipment
	delivered time.Time
}

// simOrder is one order of the simulation and what the test knows of it.
type simOrder struct {
	o        order.Order
	imported time.Time
	events   []simEvent // after the import, in time order
	// live: the history is applied as it happens under the simulated
	// clock, the due time recomputed at each event; otherwise the whole
	// history is known from the start.
	live       bool
	next       int // events[next] is the first not applied (live orders)
	relabelled bool

	// due is the due time in force: the last one stored before the order
	// was redacted.
	due        time.Time
	reason     string
	redactedAt time.Time
}

// facts are the order's facts after its first k events.
func (s *simOrder) facts(k int) redaction.Facts {
	var labels []shipment.Shipment
	var delivered time.Time
	for _, ev := range s.events[:k] {
		labels = ev.labels
		if !ev.delivered.IsZero() {
			delivered = ev.delivered
		}
	}
	f := redaction.FactsOf(s.o, s.imported, labels, carrier.Default().TrackingCapable)
	f.DeliveredAt = delivered
	return f
}

// simHistory makes a random history: a quarter of the orders never ship;
// the others get a label an hour to 18 days after import (so some come
// after the 14 days of an unshipped order, when the data is already gone),
// with a ship date around the label's or, for some, future-dated by 10 to
// 20 days; a tenth are re-labelled (the first label voided); tracked
// shipments are mostly delivered one to ten days after the label.
func simHistory(rng *rand.Rand, s *simOrder, n int) {
	hours := func(lo, hi float64) time.Duration {
		return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Hour)).Truncate(time.Second)
	}
	if s.o.FulfilledByChannel || rng.Float64() < 0.25 {
		return
	}
	label := func(id string, created time.Time) shipment.Shipment {
		svc := simServices[rng.IntN(len(simServices))]
		ship := created.Add(hours(-12, 72))
		if rng.Float64() < 0.15 {
			ship = created.Add(hours(10*24, 20*24))
		}
		return shipment.Shipment{
			ID: id, Account: "main", OrderKey: string(s.o.ID), TrackingNumber: "T" + id,
			CarrierCode: svc.carrier, ServiceCode: svc.service, CreatedAt: created, ShipDate: ship,
			Lines: []shipment.Line{{LineID: "100", Quantity: 2}},
		}
	}
	first := label(fmt.Sprint(n, "a"), s.imported.Add(hours(1, 18*24)))
	s.events = append(s.events, simEvent{at: first.CreatedAt, labels: []shipment.Shipment{first}})
	final := first
	if rng.Float64() < 0.1 {
		at := first.CreatedAt.Add(hours(1, 48))
		voided := first
		voided.Voided, voided.VoidedAt = true, at
		final = label(fmt.Sprint(n, "b"), at)
		s.events = append(s.events, simEvent{at: at, labels: []shipment.Shipment{voided, final}})
		s.relabelled = true
	}
	if carrier.Default().TrackingCapable(final.CarrierCode, final.ServiceCode) && rng.Float64() < 0.7 {
		at := final.CreatedAt.Add(hours(24, 240))
		s.events = append(s.events, simEvent{at: at, labels: s.events[len(s.events)-1].labels, delivered: at})
	}
}

// parallel runs f for every element of xs on a few goroutines and returns
// the first error.
func parallel[T any](xs []T, f func(T) error) error {
	const workers = 8
	ch := make(chan T)
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for range min(workers, len(xs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range ch {
				if err := f(x); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	for _, x := range xs {
		ch <- x
	}
	close(ch)
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

// TestRedactionScheduleSimulated is the acceptance test of the schedule on
// DynamoDB Local: 10,000 orders of Amazon (Amazon orders, BigCommerce
// copies of Amazon orders, FBA orders without buyer data) with random
// histories under a simulated clock.
//
// The orders are loaded in batches (they could be due 14 days after import
// at the earliest, so loading them before the clock starts changes
// nothing), and each order's due time is computed with redaction.Due and
// stored with SetRedactionDue. For most orders the whole history is known
// at once; for a fifth of the shipped ones ("live") it is applied as it
// happens: due at import + 14 days first, recomputed and stored again at
// each label, re-label and delivery, which a redaction that came first
// makes moot. The clock then advances in one-hour steps; each step applies
// the history that happened and runs the sweep: DueForRedaction(now),
// page by page, and Redact(now) of each order listed. Every order must be
// redacted within one hour after its due time in force, and none before.
func TestRedactionScheduleSimulated(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	l, _, _ := newLedger(t)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seed := *simSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, 2026))
	began := time.Now()

	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	orders := make([]*simOrder, n)
	byID := make(map[order.ID]*simOrder, n)
	recs := make([]ledger.Record, n)
	var fba, copies, live int
	for i := range orders {
		imp := start.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Millisecond)
		num := fmt.Sprintf("113-%07d", i)
		var o order.Order
		switch r := rng.Float64(); {
		case r < 0.05:
			o = amazonOrder("us", num, imp)
			o.FulfilledByChannel, o.Status = true, order.Shipped
			fba++
		case r < 0.15:
			o = testOrder("bc", num, imp)
			o.Personal = buyer(fmt.Sprint("B", i))
			copies++
		default:
			o = amazonOrder("us", num, imp)
			o.Personal = buyer(fmt.Sprint("A", i))
		}
		if !redaction.Applies(o) {
			t.Fatalf("%s: the schedule does not apply", o.ID)
		}
		s := &simOrder{o: o, imported: imp}
		simHistory(rng, s, i)
		if len(s.events) > 0 && rng.Float64() < 0.2 {
			s.live = true
			live++
		}
		orders[i], byID[o.ID], recs[i] = s, s, ledger.Record{Order: o, State: ledger.StatePushed, ImportedAt: imp}
	}
	var chunks [][]ledger.Record
	for len(recs) > 0 {
		k := min(500, len(recs))
		chunks, recs = append(chunks, recs[:k]), recs[k:]
	}
	if err := parallel(chunks, func(rs []ledger.Record) error { return l.BulkLoadForTest(c, rs) }); err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(began)

	var sets atomic.Int64
	// store computes the due time after the first k events and stores it.
	store := func(s *simOrder, k int, at time.Time) error {
		due, why := redaction.Due(s.facts(k))
		if !due.After(at.Add(time.Hour)) {
			return fmt.Errorf("%s: history makes due %s at %s: the generator is wrong", s.o.ID, due, at)
		}
		if err := l.SetRedactionDue(c, s.o.ID, due, redaction.Grace); err != nil {
			return err
		}
		sets.Add(1)
		if s.redactedAt.IsZero() {
			s.due, s.reason = due, why
		}
		return nil
	}
	err := parallel(orders, func(s *simOrder) error {
		if s.live {
			return store(s, 0, s.imported)
		}
		return store(s, len(s.events), s.imported)
	})
	if err != nil {
		t.Fatal(err)
	}
	prepared := time.Since(began)

	var inEvents, inQueries, inRedacts time.Duration
	var sweeps, queries, redacted, overdue, listedAgain int
	var lateSum, lateMin, lateMax time.Duration
	lateMin = 1<<63 - 1
	reasons := map[string]int{}
	var pending []*simOrder
	for _, s := range orders {
		if s.live {
			pending = append(pending, s)
		}
	}
	now := start
	for left := n; left > 0; {
		now = now.Add(time.Hour)
		if now.Sub(start) > 200*24*time.Hour {
			t.Fatalf("%d orders still not redacted at %s", left, now)
		}
		// The history that happened in the past hour.
		stepBegan := time.Now()
		var happened []*simOrder
		for _, s := range pending {
			if !s.events[s.next].at.After(now) {
				happened = append(happened, s)
			}
		}
		err := parallel(happened, func(s *simOrder) error {
			for ; s.next < len(s.events) && !s.events[s.next].at.After(now); s.next++ {
				if err := store(s, s.next+1, s.events[s.next].at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		kept := pending[:0]
		for _, s := range pending {
			if s.next < len(s.events) {
				kept = append(kept, s)
			}
		}
		pending = kept
		inEvents += time.Since(stepBegan)

		// The sweep.
		sweepBegan := time.Now()
		sweeps++
		var due []ledger.DueRedaction
		var page ledger.Page
		for {
			got, next, err := l.DueForRedaction(c, now, 500, page)
			if err != nil {
				t.Fatal(err)
			}
			queries++
			due = append(due, got...)
			if page = next; page == "" {
				break
			}
		}
		redactBegan := time.Now()
		inQueries += redactBegan.Sub(sweepBegan)
		var mu sync.Mutex
		err = parallel(due, func(d ledger.DueRedaction) error {
			s := byID[d.ID]
			if s == nil {
				return fmt.Errorf("unknown order %s listed", d.ID)
			}
			if !d.Due.Equal(s.due) {
				return fmt.Errorf("%s listed with due %s, in force %s", d.ID, d.Due, s.due)
			}
			done, err := l.Redact(c, d.ID, now)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if !done {
				listedAgain++
				return nil
			}
			if !s.redactedAt.IsZero() {
				return fmt.Errorf("%s redacted twice", d.ID)
			}
			s.redactedAt = now
			late := now.Sub(s.due)
			if redaction.Overdue(s.due, now) {
				overdue++
			}
			lateSum += late
			lateMin, lateMax = min(lateMin, late), max(lateMax, late)
			redacted++
			left--
			reasons[s.reason]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		inRedacts += time.Since(redactBegan)
	}
	// What is left of the live histories changes nothing any more.
	err = parallel(pending, func(s *simOrder) error {
		for ; s.next < len(s.events); s.next++ {
			if err := store(s, s.next+1, s.events[s.next].at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	swept := time.Since(began)

	var early, late int
	for _, s := range orders {
		switch {
		case s.redactedAt.IsZero():
			t.Errorf("%s never redacted (due %s)", s.o.ID, s.due)
		case s.redactedAt.Before(s.due):
			if early++; early <= 5 {
				t.Errorf("%s redacted at %s, before its due time %s", s.o.ID, s.redactedAt, s.due)
			}
		case s.redactedAt.Sub(s.due) > time.Hour:
			if late++; late <= 5 {
				t.Errorf("%s redacted at %s, more than an hour after its due time %s", s.o.ID, s.redactedAt, s.due)
			}
		}
	}
	if overdue != 0 {
		t.Errorf("%d overdue redactions", overdue)
	}
	if got := dueIDs(t, l, now.Add(1000*24*time.Hour), 1000); len(got) != 0 {
		t.Errorf("%d orders still listed after the sweeps", len(got))
	}
	// A sample read back: redacted, recorded once, nothing personal left.
	sample := make([]*simOrder, 0, 200)
	for _, i := range rng.Perm(n)[:min(200, n)] {
		sample = append(sample, orders[i])
	}
	err = parallel(sample, func(s *simOrder) error {
		rec, err := l.Get(c, s.o.ID)
		if err != nil {
			return err
		}
		p := rec.Order.Personal
		switch {
		case !rec.RedactedAt.Equal(s.redactedAt) || !rec.RedactionDue.Equal(s.due):
			return fmt.Errorf("%s: redactedAt %s due %s, want %s %s", s.o.ID, rec.RedactedAt, rec.RedactionDue, s.redactedAt, s.due)
		case s.o.Personal == nil && p != nil:
			return fmt.Errorf("%s: FBA order has buyer data %s", s.o.ID, jsonOf(p))
		case s.o.Personal != nil && (p == nil || !p.Redacted || p.BillTo.Name != redaction.Redacted || p.ShipTo[""].Street1 != redaction.Redacted):
			return fmt.Errorf("%s: not shown redacted: %s", s.o.ID, jsonOf(p))
		}
		hist, err := l.History(c, s.o.ID)
		if err != nil {
			return err
		}
		var events int
		for _, ev := range hist {
			if ev.Kind == order.EventRedacted {
				events++
			}
		}
		if events != 1 {
			return fmt.Errorf("%s: %d redaction events", s.o.ID, events)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	var shipped, tracked, relabelled, shippedAfter int
	for _, s := range orders {
		if len(s.events) == 0 {
			continue
		}
		shipped++
		if s.events[0].at.After(s.redactedAt) {
			shippedAfter++
		}
		if s.relabelled {
			relabelled++
		}
		if s.facts(len(s.events)).TrackingCapable {
			tracked++
		}
	}
	t.Logf("seed %d (replay: -redaction.seed=%d): %d orders: %d Amazon, %d BigCommerce copies of Amazon orders, %d FBA without buyer data",
		seed, seed, n, n-copies-fba, copies, fba)
	t.Logf("histories: %d never shipped by label; %d shipped (%d by a tracked service, %d re-labelled); %d live (due recomputed as the history happened), %d labelled after their redaction",
		n-shipped, shipped, tracked, relabelled, live, shippedAfter)
	t.Logf("SetRedactionDue calls %d; sweeps %d (hourly, %s simulated, %s to %s), DueForRedaction pages %d",
		sets.Load(), sweeps, now.Sub(start), start.Format(time.DateOnly), now.Format(time.DateOnly), queries)
	t.Logf("redacted %d: lateness after due min %s, max %s, mean %s; before due %d, over 1h late %d, overdue (metric) %d, listed again after redaction %d",
		redacted, lateMin, lateMax, (lateSum / time.Duration(max(redacted, 1))).Round(time.Second), early, late, overdue, listedAgain)
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("  rule %-55q %5d", k, reasons[k])
	}
	t.Logf("wall time %s: load %s, dues %s, clock %s (history %s, DueForRedaction %s, Redact %s), checks %s (DynamoDB Local)",
		time.Since(began).Round(time.Millisecond), loaded.Round(time.Millisecond), (prepared - loaded).Round(time.Millisecond),
		(swept - prepared).Round(time.Millisecond), inEvents.Round(time.Millisecond), inQueries.Round(time.Millisecond),
		inRedacts.Round(time.Millisecond), (time.Since(began) - swept).Round(time.Millisecond))
}
