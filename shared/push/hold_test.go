package push_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/push"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

const holdUntil = "POST /orders/holduntil"

// holdEnd is a rule's hold end in the future of the push's Now (t0 + 1h):
// 11:00 Pacific on 2026-11-21, so ShipStation holds until 2026-11-22.
var holdEnd = time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)

// pacificMidnight22 is when ShipStation releases a hold until 2026-11-22.
var pacificMidnight22 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func heldOrder(num string, groups ...string) order.Order {
	o := newOrder(num, t0, groups...)
	end := holdEnd
	o.Status, o.HoldUntil = order.OnHold, &end
	return o
}

// holdFaults wraps the account's client: fail decides the outcome of the
// n-th HoldUntil call (nil: the call goes to ShipStation).
type holdFaults struct {
	push.Creator
	mu    *sync.Mutex
	calls *int
	fail  func(n int) error
}

func (h holdFaults) HoldUntil(ctx context.Context, id int64, date string) error {
	h.mu.Lock()
	*h.calls++
	n := *h.calls
	h.mu.Unlock()
	if err := h.fail(n); err != nil {
		return err
	}
	return h.Creator.HoldUntil(ctx, id, date)
}

// failHolds makes the env's client fail HoldUntil as fail says; it returns
// the number of HoldUntil calls made.
func (e *env) failHolds(fail func(n int) error) func() int {
	var mu sync.Mutex
	calls := 0
	e.wrap = func(c push.Creator) push.Creator { return holdFaults{Creator: c, mu: &mu, calls: &calls, fail: fail} }
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return calls
	}
}

func (e *env) ssOrder(o order.Order, group string) sandbox.SSOrder {
	e.t.Helper()
	ss, ok := e.sb.ShipStationOrder(shipstation.OrderKey(&o, group))
	if !ok {
		e.t.Fatalf("%s group %q not in ShipStation", o.ID, group)
	}
	return ss
}

func holdDate(ss sandbox.SSOrder) string {
	if ss.HoldUntilDate == nil {
		return ""
	}
	t, err := shipstation.ParseTime(*ss.HoldUntilDate)
	if err != nil {
		return "bad: " + *ss.HoldUntilDate
	}
	return t.In(shipstation.Pacific()).Format(time.DateOnly)
}

// TestTimedHoldIsPlacedWithHoldUntil: createorders ignores holdUntilDate,
// so a rule's hold goes out on_hold and is then held until its date with
// POST /orders/holduntil; ShipStation releases it on that date.
func TestTimedHoldIsPlacedWithHoldUntil(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	held, split, plain := heldOrder("801"), heldOrder("802", "a", "b"), newOrder("803", t0)
	e.pushOK(held, split, plain)

	st := e.sb.Stats().ShipStation
	if st.RequestsByRoute[createOrders] != 1 || st.RequestsByRoute[holdUntil] != 3 {
		t.Errorf("createorders %d, holduntil %d calls; want 1 and 3 (one per held ShipStation order)",
			st.RequestsByRoute[createOrders], st.RequestsByRoute[holdUntil])
	}
	for _, c := range []struct {
		o     order.Order
		group string
	}{{held, ""}, {split, "a"}, {split, "b"}} {
		if ss := e.ssOrder(c.o, c.group); ss.OrderStatus != "on_hold" || holdDate(ss) != "2026-11-22" {
			t.Errorf("%s group %q: %q until %q, want on_hold until 2026-11-22", c.o.ID, c.group, ss.OrderStatus, holdDate(ss))
		}
	}
	if ss := e.ssOrder(plain, ""); ss.OrderStatus != "awaiting_shipment" || ss.HoldUntilDate != nil {
		t.Errorf("plain order: %q until %v", ss.OrderStatus, ss.HoldUntilDate)
	}
	for _, o := range []order.Order{held, split, plain} {
		e.assertPushed(o)
	}
	if !strings.Contains(e.logs.String(), `"hold_until":"2026-11-22"`) {
		t.Errorf("no log of the hold: %s", e.logs)
	}

	// The same version again: nothing is sent.
	if resp := e.handle(e.batch(time.Minute, pushBody(held))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("replay failures = %v", failedIDs(resp))
	}
	if n := e.sb.Stats().ShipStation.RequestsByRoute[holdUntil]; n != 3 {
		t.Errorf("replay held again: %d holduntil calls", n)
	}

	// ShipStation releases the orders at Pacific midnight of the date.
	e.clock.AdvanceTo(pacificMidnight22.Add(-time.Minute))
	if ss := e.ssOrder(held, ""); ss.OrderStatus != "on_hold" {
		t.Errorf("released early: %q", ss.OrderStatus)
	}
	e.clock.AdvanceTo(pacificMidnight22)
	client := &shipstation.Client{BaseURL: e.ssURL, APIKey: sandbox.DefaultShipStationKey, APISecret: sandbox.DefaultShipStationSecret}
	got, err := client.GetOrder(ctx(t), e.get(held.ID).Pushes[""].ShipStationOrderID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderStatus != "awaiting_shipment" || got.HoldUntilDate != "" {
		t.Errorf("after the date: %q until %q, want awaiting_shipment", got.OrderStatus, got.HoldUntilDate)
	}
	for _, g := range []string{"a", "b"} {
		if ss := e.ssOrder(split, g); ss.OrderStatus != "awaiting_shipment" {
			t.Errorf("split group %s after the date: %q", g, ss.OrderStatus)
		}
	}
}

// TestFailedHoldRetriesTheJob: the push is recorded only once the hold is
// placed; a failed hold retries the job, whose createorders upserts the
// same ShipStation order again.
func TestFailedHoldRetriesTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.failHolds(func(n int) error {
		if n == 1 {
			return errs.Ef(errs.Transient, "test", "connection reset")
		}
		return nil
	})
	held, plain := heldOrder("811"), newOrder("812", t0)
	e.upsert(held)
	e.upsert(plain)
	ev := e.batch(time.Second, pushBody(held), pushBody(plain))
	var heldMsg events.SQSMessage
	for _, m := range ev.Records {
		if m.Body == pushBody(held) {
			heldMsg = m
		}
	}
	resp := e.handle(ev)
	if got := failedIDs(resp); len(got) != 1 || got[0] != heldMsg.MessageId {
		t.Fatalf("failures = %v, want the held order's message %s", got, heldMsg.MessageId)
	}
	if rec := e.get(held.ID); rec.State != ledger.StatePending || len(rec.Pushes) != 0 {
		t.Errorf("held order recorded without its hold: state %s pushes %v", rec.State, rec.Pushes)
	}
	if ss := e.ssOrder(held, ""); ss.OrderStatus != "on_hold" || ss.HoldUntilDate != nil {
		t.Errorf("after the failed hold: %q until %v (created on_hold, no date yet)", ss.OrderStatus, ss.HoldUntilDate)
	}
	e.assertPushed(plain)
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a transient hold failure became an exception: %+v", x)
	}

	if err := e.queue.ChangeVisibility(ctx(t), heldMsg.ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	again := e.receive(1, time.Minute)
	if resp := e.handle(again); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry failures = %v", failedIDs(resp))
	}
	e.assertPushed(held)
	if ss := e.ssOrder(held, ""); ss.OrderStatus != "on_hold" || holdDate(ss) != "2026-11-22" {
		t.Errorf("after the retry: %q until %q", ss.OrderStatus, holdDate(ss))
	}
	st := e.sb.Stats().ShipStation
	if st.Orders != 2 || st.Created != 2 || st.Updated != 1 || st.Duplicates != 0 || calls() != 2 {
		t.Errorf("orders %d created %d updated %d duplicates %d, hold calls %d; want 2, 2, 1, 0, 2",
			st.Orders, st.Created, st.Updated, st.Duplicates, calls())
	}
}

// TestHoldThrottledDefersTheJob: the hold shares the account's rate limit
// and budget; once createorders has used up the window the hold waits (the
// budget learnt the limit from createorders' headers), which defers the
// job for the reset time, and the holds after it in the same call are not
// tried.
func TestHoldThrottledDefersTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := e.failHolds(func(int) error { return nil })
	e.sb.SetShipStationRateLimit(1, time.Minute) // createorders takes it all
	a, b := heldOrder("821"), heldOrder("822")
	e.upsert(a)
	e.upsert(b)
	ev := e.batch(time.Second, pushBody(a), pushBody(b))
	resp := e.handle(ev)
	if got, want := failedIDs(resp), messageIDs(ev); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("failures = %v, want both %v", got, want)
	}
	st := e.sb.Stats().ShipStation
	if st.RequestsByRoute[createOrders] != 1 || st.RequestsByRoute[holdUntil] != 0 || st.Orders != 2 || calls() != 1 {
		t.Errorf("createorders %d, holduntil %d, orders %d, hold attempts %d; want 1, 0, 2, 1 (the second hold not tried)",
			st.RequestsByRoute[createOrders], st.RequestsByRoute[holdUntil], st.Orders, calls())
	}
	for _, o := range []order.Order{a, b} {
		if rec := e.get(o.ID); rec.State != ledger.StatePending || len(rec.Pushes) != 0 {
			t.Errorf("%s: state %s pushes %v", o.ID, rec.State, rec.Pushes)
		}
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a throttled hold became an exception: %+v", x)
	}
	if n := e.metricCount("ShipStation429"); n != 1 {
		t.Errorf("ShipStation429 emitted %d times, want 1", n)
	}
	time.Sleep(1500 * time.Millisecond)
	if got, err := e.queue.Receive(ctx(t), 10, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("%d messages back after 1.5 s (%v): the throttled holds were not deferred", len(got), err)
	}
}

// TestRefusedHoldIsAnException: a hold ShipStation refuses is not retried:
// the order is an exception (it stays on hold, without an end date).
func TestRefusedHoldIsAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.failHolds(func(int) error {
		return errs.Ef(errs.Invalid, "shipstation.HoldUntil", "order 1: HTTP 400: The order cannot be placed on hold")
	})
	held := heldOrder("831")
	e.upsert(held)
	if resp := e.handle(e.batch(time.Minute, pushBody(held))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v: a refused hold is not retried", failedIDs(resp))
	}
	rec := e.get(held.ID)
	if rec.State != ledger.StateException || len(rec.Pushes) != 0 {
		t.Errorf("state %s pushes %v, want an exception and no push", rec.State, rec.Pushes)
	}
	x := e.exceptions()
	if len(x) != 1 || !strings.Contains(x[0].Message, "cannot be placed on hold") || !strings.Contains(x[0].Message, "no end date") {
		t.Errorf("exceptions = %+v", x)
	}
}

// TestEndedHoldGoesOutAwaitingShipment: a rule's hold that is over by the
// time the order is pushed is not placed; ShipStation would have released
// the order already.
func TestEndedHoldGoesOutAwaitingShipment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := newOrder("841", t0)
	end := t0.Add(30 * time.Minute) // before the push's Now, t0 + 1h
	o.Status, o.HoldUntil = order.OnHold, &end
	e.pushOK(o)
	if ss := e.ssOrder(o, ""); ss.OrderStatus != "awaiting_shipment" || ss.HoldUntilDate != nil {
		t.Errorf("%q until %v, want awaiting_shipment", ss.OrderStatus, ss.HoldUntilDate)
	}
	if n := e.sb.Stats().ShipStation.RequestsByRoute[holdUntil]; n != 0 {
		t.Errorf("holduntil called %d times for an ended hold", n)
	}
	e.assertPushed(o)
}
