package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Amazon end to end: the sandbox Amazon (SP-API, LWA and its ORDER_CHANGE
// notifications, delivered to the runner's OrderChangeQueue), every
// function on the local stack and the sandbox ShipStation. Schedules are
// fired by hand.

// upAmazon starts a private Env with the timed schedules off and returns
// it with a reader of every function's log output.
func upAmazon(t *testing.T, o EnvOptions) (*Env, context.Context, func() string) {
	t.Helper()
	needStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	var logs bytes.Buffer
	sw := &syncWriter{w: &logs}
	o.HTTPAddr, o.DisableSchedules, o.LogWriter = "127.0.0.1:0", true, sw
	env, err := Up(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Down)
	return env, ctx, func() string {
		sw.Write(nil) // a barrier: waits for a writer in progress
		return logs.String()
	}
}

// busyMessages counts the messages still to be handled on the runner's
// queues, leaving out the delayed read-backs of Amazon confirmations
// (settings.verifyAfter after each); a message in a dead-letter queue
// fails t.
func busyMessages(t *testing.T, st *runner.Status) int {
	t.Helper()
	busy := 0
	for name, q := range st.Queues {
		n := q.Visible + q.InFlight + q.Delayed
		if len(q.DeadLetterFor) > 0 && n > 0 {
			t.Fatalf("%d messages in dead-letter queue %s", n, name)
		}
		if name == "NotifyAmazonQueue" {
			n -= q.Delayed
		}
		busy += n
	}
	return busy
}

// amazonSettle waits until every ORDER_CHANGE the sandbox queued is
// delivered (when the pump runs), the queues are empty but for the
// confirmations' scheduled read-backs, and cond holds.
func amazonSettle(t *testing.T, ctx context.Context, env *Env, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := env.Sandbox.FlushShipStationWebhooks(fctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		st, err := env.Runner.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		busy := busyMessages(t, st)
		waiting := 0
		if env.pumpDone != nil {
			waiting = env.OrderChangesWaiting()
		}
		if busy == 0 && waiting == 0 && cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for: %s", what)
}

// waitFor waits until cond holds, whatever the queues hold.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func amazonID(store, orderID string) order.ID {
	id, _ := order.NewID(order.Amazon, store, orderID)
	return id
}

// ssStatus is the ShipStation status of an orderKey ("" when absent).
func ssStatus(env *Env, key string) string {
	o, ok := env.Sandbox.ShipStationOrder(key)
	if !ok {
		return ""
	}
	return o.OrderStatus
}

// ssOrdersFor counts the ShipStation orders of an orderKey.
func ssOrdersFor(env *Env, key string) int {
	n := 0
	for _, i := range env.Sandbox.ShipStationOrderInfos() {
		if i.OrderKey == key {
			n++
		}
	}
	return n
}

// noPII fails when a buyer value of any of the orders is in the logs.
func noPII(t *testing.T, logs string, orders ...sandbox.AmazonOrder) {
	t.Helper()
	for _, o := range orders {
		for _, v := range o.PIIValues() {
			if strings.Contains(logs, v) {
				t.Errorf("a buyer value of order %s is in the function logs", o.OrderID)
			}
		}
	}
}

func TestAmazonDuplicateAndOutOfOrderNotificationsGiveOneOrderInItsNewestState(t *testing.T) {
	t.Parallel()
	env, ctx, logs := upAmazon(t, EnvOptions{NoOrderChangePump: true})
	o := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Items: 2})
	key, id := AmazonOrderKey(AmazonUSStore, o.OrderID), amazonID(AmazonUSStore, o.OrderID)
	created := env.Amazon.DrainOrderChanges()
	if len(created) != 1 {
		t.Fatalf("%d notifications for a new order, want 1", len(created))
	}
	// A second notification of the same (unshipped) version, with its own
	// NotificationId: delivered after the cancellation below, it is older.
	older, err := env.Amazon.OrderChangeMessage(o.OrderID, "OrderStatusChange", "Order status changed to Unshipped")
	if err != nil {
		t.Fatal(err)
	}

	// The same message twice: one import, one ShipStation order.
	if err := env.DeliverOrderChanges(ctx, created[0], created[0]); err != nil {
		t.Fatal(err)
	}
	amazonSettle(t, ctx, env, "the order in ShipStation", func() bool { return ssStatus(env, key) == "awaiting_shipment" })
	if n := env.Amazon.Stats().Requests[sandbox.AmazonOpGetOrder]; n != 1 {
		t.Errorf("getOrder called %d times for one order notified twice, want 1", n)
	}

	// Cancelled: the newer message, then the older one.
	if err := env.Amazon.CancelOrder(o.OrderID); err != nil {
		t.Fatal(err)
	}
	cancelled := env.Amazon.DrainOrderChanges()
	if err := env.DeliverOrderChanges(ctx, cancelled...); err != nil {
		t.Fatal(err)
	}
	amazonSettle(t, ctx, env, "the cancellation in ShipStation", func() bool { return ssStatus(env, key) == "cancelled" })
	reads := env.Amazon.Stats().Requests[sandbox.AmazonOpGetOrder]
	if err := env.DeliverOrderChanges(ctx, older); err != nil {
		t.Fatal(err)
	}
	amazonSettle(t, ctx, env, "the older notification handled", func() bool { return true })
	if st := env.OrderChanges(); st.Delivered != 4 || st.Duplicates != 1 || st.StaleForOrder != 1 {
		t.Errorf("delivered %+v, want 4 with 1 duplicate and 1 older than a change delivered before", st)
	}
	if n := env.Amazon.Stats().Requests[sandbox.AmazonOpGetOrder]; n != reads {
		t.Errorf("the older notification read the order again (%d getOrder calls, had %d): the ledger already had a newer version", n, reads)
	}

	rec, err := env.Ledger.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.ChannelStatus != sandbox.AmazonCancelled || rec.Order.Status != order.Cancelled {
		t.Errorf("ledger: channel status %q, status %q; want %s / %s", rec.Order.ChannelStatus, rec.Order.Status, sandbox.AmazonCancelled, order.Cancelled)
	}
	if got := ssStatus(env, key); got != "cancelled" {
		t.Errorf("ShipStation order is %q, want cancelled", got)
	}
	if n := ssOrdersFor(env, key); n != 1 {
		t.Errorf("%d ShipStation orders for %s, want 1", n, key)
	}
	if d := env.Sandbox.ShipStationDuplicates().Total; d != 0 {
		t.Errorf("%d duplicates in ShipStation", d)
	}
	o, _ = env.Amazon.Order(o.OrderID)
	noPII(t, logs(), o)
}

func TestAmazonFBAImportedOnlyWhereTheStoreAsks(t *testing.T) {
	t.Parallel()
	env, ctx, logs := upAmazon(t, EnvOptions{})
	us := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{FBA: true, Prime: true, Items: 2})
	jp := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{FBA: true, Japan: true})
	usKey, jpKey := AmazonOrderKey(AmazonUSStore, us.OrderID), AmazonOrderKey(AmazonJPStore, jp.OrderID)
	amazonSettle(t, ctx, env, "the amazon-us FBA order in ShipStation", func() bool { return ssStatus(env, usKey) != "" })
	// The poll too: what it lists goes the same way.
	env.BackdateAmazonOrder(us.OrderID, 3*time.Minute)
	env.BackdateAmazonOrder(jp.OrderID, 3*time.Minute)
	firePoll(t, ctx, env)
	amazonSettle(t, ctx, env, "the poll's work", func() bool { return true })

	// amazon-us imports them: shipped, with no buyer data.
	ss, ok := env.Sandbox.ShipStationOrder(usKey)
	if !ok || ss.OrderStatus != "shipped" {
		t.Fatalf("amazon-us FBA order in ShipStation: %v, status %q; want shipped", ok, ss.OrderStatus)
	}
	if leaks := buyerData(ss, us); len(leaks) > 0 {
		t.Errorf("amazon-us FBA order carries buyer data in ShipStation: %v", leaks)
	}
	if n := ssOrdersFor(env, usKey); n != 1 {
		t.Errorf("%d ShipStation orders for %s, want 1", n, usKey)
	}
	rec, err := env.Ledger.Get(ctx, amazonID(AmazonUSStore, us.OrderID))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Personal != nil {
		t.Errorf("the ledger keeps buyer data of an FBA order: %d ship-to entries", len(rec.Order.Personal.ShipTo))
	}
	if rec.Order.Status != order.Shipped {
		t.Errorf("ledger status %q, want shipped", rec.Order.Status)
	}

	// amazon-jp does not: nothing pushed, nothing in the ledger.
	if st := ssStatus(env, jpKey); st != "" {
		t.Errorf("amazon-jp FBA order is in ShipStation (%s); the store does not import them", st)
	}
	if _, err := env.Ledger.Get(ctx, amazonID(AmazonJPStore, jp.OrderID)); !errs.Is(err, errs.NotFound) {
		t.Errorf("amazon-jp FBA order in the ledger: %v", err)
	}
	for _, o := range []sandbox.AmazonOrder{us, jp} {
		if p := env.Amazon.Packages(o.OrderID); len(p) != 0 {
			t.Errorf("FBA order %s has %d packages confirmed by the seller", o.OrderID, len(p))
		}
	}
	noPII(t, logs(), us, jp)
}

func TestAmazonPendingOrderIsPushedOnlyOnceUnshipped(t *testing.T) {
	t.Parallel()
	env, ctx, _ := upAmazon(t, EnvOptions{})
	o := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Items: 2})
	if o.Status != sandbox.AmazonPending {
		t.Fatalf("generated a %s order, want PENDING", o.Status)
	}
	key := AmazonOrderKey(AmazonUSStore, o.OrderID)
	// Its notification, and the poll (which sees it once two minutes old).
	amazonSettle(t, ctx, env, "the pending notification", func() bool { return true })
	env.BackdateAmazonOrder(o.OrderID, 3*time.Minute)
	firePoll(t, ctx, env)
	amazonSettle(t, ctx, env, "the poll's work", func() bool { return true })
	if st := ssStatus(env, key); st != "" {
		t.Fatalf("a PENDING order is in ShipStation (%s)", st)
	}
	if rec, err := env.Ledger.Get(ctx, amazonID(AmazonUSStore, o.OrderID)); err == nil && len(rec.Pushes) > 0 {
		t.Fatalf("a PENDING order was pushed: %+v", rec.Pushes)
	}

	if err := env.Amazon.MarkUnshipped(o.OrderID); err != nil {
		t.Fatal(err)
	}
	amazonSettle(t, ctx, env, "the order in ShipStation", func() bool { return ssStatus(env, key) == "awaiting_shipment" })
	if n := ssOrdersFor(env, key); n != 1 {
		t.Errorf("%d ShipStation orders for %s, want 1", n, key)
	}
}

func TestAmazonCancellationAfterPushCancelsAndAfterShippingRaisesAnException(t *testing.T) {
	t.Parallel()
	env, ctx, logs := upAmazon(t, EnvOptions{})
	pushed := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	shipped := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Japan: true, Items: 2})
	pKey, sKey := AmazonOrderKey(AmazonUSStore, pushed.OrderID), AmazonOrderKey(AmazonJPStore, shipped.OrderID)
	amazonSettle(t, ctx, env, "both orders in ShipStation", func() bool {
		return ssStatus(env, pKey) == "awaiting_shipment" && ssStatus(env, sKey) == "awaiting_shipment"
	})

	// Cancelled on Amazon while ShipStation has it open: cancelled there.
	if err := env.Amazon.CancelOrder(pushed.OrderID); err != nil {
		t.Fatal(err)
	}
	amazonSettle(t, ctx, env, "the cancellation in ShipStation", func() bool { return ssStatus(env, pKey) == "cancelled" })

	// Cancelled on Amazon after the warehouse shipped it, before shiprelay
	// heard of the label (its SHIP_NOTIFY is lost; no label pull runs):
	// nothing can unship it, so a person must hear of it.
	env.Sandbox.SetShipStationFaults(sandbox.Faults{WebhookDropRate: 1})
	if _, err := env.Sandbox.ShipOrder(sKey, nil, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := env.Amazon.CancelOrder(shipped.OrderID); err != nil {
		t.Fatal(err)
	}
	sID := amazonID(AmazonJPStore, shipped.OrderID)
	var found bool
	amazonSettle(t, ctx, env, "an exception for the shipped order", func() bool {
		exc, _, err := env.Ledger.Exceptions(ctx, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range exc {
			if x.OrderID == sID {
				found = true
			}
		}
		return found
	})
	if st := ssStatus(env, sKey); st != "shipped" {
		t.Errorf("the shipped order is %q in ShipStation, want still shipped", st)
	}
	exc, _, err := env.Ledger.Exceptions(ctx, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range exc {
		if x.OrderID == amazonID(AmazonUSStore, pushed.OrderID) {
			t.Errorf("an exception for the order cancelled in time: %s %s", x.Op, x.Message)
		}
	}
	for _, o := range []sandbox.AmazonOrder{pushed, shipped} {
		if p := env.Amazon.Packages(o.OrderID); len(p) != 0 {
			t.Errorf("cancelled order %s has %d packages", o.OrderID, len(p))
		}
	}
	noPII(t, logs(), pushed, shipped)
}

func TestAmazonInvalidGrantPausesTheStoreOnceAndResumeImports(t *testing.T) {
	t.Parallel()
	env, ctx, logs := upAmazon(t, EnvOptions{})
	// The seller removed shiprelay's authorisation before any call.
	env.Amazon.RevokeRefreshToken(sandbox.DefaultAmazonRefreshToken)
	first := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := env.Ledger.StoreStatus(ctx, AmazonUSStore)
		if err != nil {
			t.Fatal(err)
		}
		if st.Paused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("amazon-us was never paused")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// More work for the paused store: parked, no call, no second exception.
	second := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Prime: true})
	time.Sleep(3 * time.Second)
	s1 := env.Amazon.Stats()
	time.Sleep(2 * time.Second)
	s2 := env.Amazon.Stats()
	if s2.TokenErrors != s1.TokenErrors || s2.Requests[sandbox.AmazonOpGetOrder] != s1.Requests[sandbox.AmazonOpGetOrder] {
		t.Errorf("calls kept coming while paused: token errors %d → %d, getOrder %d → %d",
			s1.TokenErrors, s2.TokenErrors, s1.Requests[sandbox.AmazonOpGetOrder], s2.Requests[sandbox.AmazonOpGetOrder])
	}
	if s2.TokenErrors < 1 || s2.TokenErrors > 2 {
		t.Errorf("%d refused token grants, want 1 or 2 (one per function that tried)", s2.TokenErrors)
	}
	exc, _, err := env.Ledger.Exceptions(ctx, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var unauth []string
	for _, x := range exc {
		if x.Kind == "unauthorised" {
			unauth = append(unauth, x.StoreID)
			if !strings.Contains(x.Message, "re-authorisation required") || !strings.Contains(x.Message, "resume "+AmazonUSStore) {
				t.Errorf("the exception does not tell how to re-authorise: %q", x.Message)
			}
		}
	}
	if len(unauth) != 1 || unauth[0] != AmazonUSStore {
		t.Fatalf("unauthorised exceptions for stores %v, want exactly one for %s", unauth, AmazonUSStore)
	}
	if st, err := env.Ledger.StoreStatus(ctx, AmazonJPStore); err != nil || st.Paused {
		t.Errorf("amazon-jp paused (%v) though it made no call", err)
	}
	for _, o := range []sandbox.AmazonOrder{first, second} {
		if st := ssStatus(env, AmazonOrderKey(AmazonUSStore, o.OrderID)); st != "" {
			t.Fatalf("order %s in ShipStation (%s) without authorisation", o.OrderID, st)
		}
	}

	// Re-authorised (the same refresh token made valid again) and resumed:
	// the next poll imports what waited.
	env.Amazon.AddRefreshToken(sandbox.DefaultAmazonRefreshToken)
	if err := env.Ledger.ResumeStore(ctx, AmazonUSStore); err != nil {
		t.Fatal(err)
	}
	env.BackdateAmazonOrder(first.OrderID, 3*time.Minute)
	env.BackdateAmazonOrder(second.OrderID, 3*time.Minute)
	firePoll(t, ctx, env)
	// Not amazonSettle: the messages parked while the store was paused stay
	// in the ingest queue until their retry (the policy's longest delay).
	waitFor(t, "both orders in ShipStation", func() bool {
		return ssStatus(env, AmazonOrderKey(AmazonUSStore, first.OrderID)) == "awaiting_shipment" &&
			ssStatus(env, AmazonOrderKey(AmazonUSStore, second.OrderID)) == "awaiting_shipment"
	})
	if st, err := env.Ledger.StoreStatus(ctx, AmazonUSStore); err != nil || st.Paused {
		t.Errorf("amazon-us still paused after the resume (%v)", err)
	}
	noPII(t, logs(), first, second)
}

func TestAmazonPollImportsAnOrderWhoseNotificationWasLost(t *testing.T) {
	t.Parallel()
	env, ctx, _ := upAmazon(t, EnvOptions{AmazonNotify: sandbox.AmazonNotifyKnobs{DropRate: 1}})
	o := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Japan: true, Items: 2})
	key := AmazonOrderKey(AmazonJPStore, o.OrderID)
	if n := env.Amazon.Stats().NotificationsDropped; n != 1 {
		t.Fatalf("%d notifications dropped, want 1", n)
	}
	time.Sleep(time.Second)
	amazonSettle(t, ctx, env, "nothing to do", func() bool { return true })
	if st := ssStatus(env, key); st != "" {
		t.Fatalf("the order reached ShipStation (%s) without a notification or a poll", st)
	}
	// searchOrders only lists changes at least two minutes old.
	env.BackdateAmazonOrder(o.OrderID, 3*time.Minute)
	searches := env.Amazon.Stats().Requests[sandbox.AmazonOpSearchOrders]
	firePoll(t, ctx, env)
	amazonSettle(t, ctx, env, "the order in ShipStation", func() bool { return ssStatus(env, key) == "awaiting_shipment" })
	if n := env.Amazon.Stats().Requests[sandbox.AmazonOpSearchOrders]; n <= searches {
		t.Errorf("the poll made no searchOrders call")
	}
	ss, _ := env.Sandbox.ShipStationOrder(key)
	if diff := addressDiff(o.Address, ss.ShipTo); len(diff) > 0 {
		t.Errorf("the Japanese address changed on the way: %v", diff)
	}
	if ss.StoreID() != AmazonJPShipStationID {
		t.Errorf("ShipStation storeId %d, want amazon-jp's %d", ss.StoreID(), AmazonJPShipStationID)
	}
}
