package push_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/push"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipstation"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// The marketplace order the copies below stand for.
const amazonID = "113-4567890-1234567"

var mktID = order.ID("amazon:amz-de:" + amazonID)

// copyOf is a BigCommerce copy of amazonID.
func copyOf(num string) order.Order {
	o := newOrder(num, t0)
	o.Origin = &order.Origin{Marketplace: order.Amazon, OrderID: amazonID}
	return o
}

// observe joins members to the identity of amazonID.
func (e *env) observe(ms ...dedupe.Member) dedupe.Identity {
	e.t.Helper()
	var after dedupe.Identity
	for _, m := range ms {
		var err error
		_, after, err = e.ledger.UpdateIdentity(ctx(e.t), "amazon:"+amazonID, func(x *dedupe.Identity) bool { return x.Observe(m) })
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return after
}

// withDedupe turns identities on, with the push's own queue as Self.
func (e *env) withDedupe() *sqs.Queue {
	self := &sqs.Queue{Client: testenv.SQS(e.t), URL: testenv.Queue(e.t, "pushself", nil)}
	e.svc.Identities, e.svc.Self = e.ledger, self
	return self
}

func (e *env) ssStatus(id order.ID) string {
	e.t.Helper()
	o, ok := e.sb.ShipStationOrder(string(id))
	if !ok {
		return ""
	}
	return o.OrderStatus
}

func (e *env) history(id order.ID, kind order.EventKind) []string {
	e.t.Helper()
	evs, err := e.ledger.History(ctx(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev.Message)
		}
	}
	return out
}

// Copy first, marketplace later: the copy's ShipStation order is cancelled
// once the marketplace's order is the primary, and only once.
func TestHiddenCopyIsCancelledInShipStation(t *testing.T) {
	e := newEnv(t)
	e.withDedupe()
	c := copyOf("301")
	e.upsert(c)
	e.observe(dedupe.Member{ID: c.ID, Copy: true, Version: c.ModifiedAt, JoinedAt: t0})
	e.handle(e.batch(time.Minute, pushBody(c)))
	if st := e.ssStatus(c.ID); st != "awaiting_shipment" {
		t.Fatalf("copy as primary: ShipStation status %q", st)
	}
	x := e.observe(dedupe.Member{ID: mktID, Version: t0, JoinedAt: t0.Add(time.Minute)})
	if x.Primary != mktID {
		t.Fatalf("primary %q", x.Primary)
	}
	e.handle(e.batch(time.Minute, pushBody(c)))
	if st := e.ssStatus(c.ID); st != "cancelled" {
		t.Fatalf("hidden copy: ShipStation status %q, want cancelled", st)
	}
	rec, err := e.ledger.Get(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != ledger.StateSkipped || rec.Pushes[""].Status != order.Cancelled {
		t.Fatalf("ledger: state %s, push %+v", rec.State, rec.Pushes[""])
	}
	if h := e.history(c.ID, order.EventLinked); len(h) != 1 || !strings.Contains(h[0], "duplicate of "+string(mktID)) {
		t.Fatalf("history: %q", h)
	}
	calls := e.createCalls()
	e.handle(e.batch(time.Minute, pushBody(c)))
	if e.createCalls() != calls {
		t.Fatal("a hidden copy was sent to ShipStation again")
	}
}

// Marketplace first: a copy arriving later is never created in ShipStation.
func TestHiddenCopyIsNeverCreated(t *testing.T) {
	e := newEnv(t)
	e.withDedupe()
	c := copyOf("302")
	e.upsert(c)
	e.observe(dedupe.Member{ID: mktID, Version: t0, JoinedAt: t0}, dedupe.Member{ID: c.ID, Copy: true, Version: t0, JoinedAt: t0})
	e.handle(e.batch(time.Minute, pushBody(c)))
	if _, ok := e.sb.ShipStationOrder(string(c.ID)); ok || e.createCalls() != 0 {
		t.Fatalf("hidden copy created in ShipStation (%d calls)", e.createCalls())
	}
	rec, err := e.ledger.Get(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != ledger.StateSkipped {
		t.Fatalf("state %s", rec.State)
	}
}

var configCopies = config.BigCommerceCopies{Hide: config.CopiesHideHold}

// copies.hide: hold holds the copy instead of cancelling it.
func TestHiddenCopyHeld(t *testing.T) {
	e := newEnv(t)
	e.withDedupe()
	e.svc.Config.Store(storeID).BigCommerce.Copies = &configCopies
	c := copyOf("303")
	e.upsert(c)
	e.observe(dedupe.Member{ID: c.ID, Copy: true, Version: t0, JoinedAt: t0})
	e.handle(e.batch(time.Minute, pushBody(c)))
	e.observe(dedupe.Member{ID: mktID, Version: t0, JoinedAt: t0})
	e.handle(e.batch(time.Minute, pushBody(c)))
	if st := e.ssStatus(c.ID); st != "on_hold" {
		t.Fatalf("held copy: ShipStation status %q", st)
	}
}

// racer changes the identity while createorders is in flight, as another
// invocation would.
type racer struct {
	push.Creator
	change func()
}

func (r racer) CreateOrders(ctx context.Context, orders []shipstation.Order) (shipstation.CreateOrdersResult, error) {
	res, err := r.Creator.CreateOrders(ctx, orders)
	if r.change != nil {
		r.change()
	}
	return res, err
}

// A push that raced with a change of primary is not the last word: it
// pushes the order once more, forced, and that push hides it.
func TestPushRacingAChangeOfPrimaryPushesAgain(t *testing.T) {
	e := newEnv(t)
	self := e.withDedupe()
	c := copyOf("304")
	e.upsert(c)
	e.observe(dedupe.Member{ID: c.ID, Copy: true, Version: t0, JoinedAt: t0})
	once := false
	e.wrap = func(cr push.Creator) push.Creator {
		return racer{Creator: cr, change: func() {
			if !once {
				once = true
				e.observe(dedupe.Member{ID: mktID, Version: t0, JoinedAt: t0})
			}
		}}
	}
	e.handle(e.batch(time.Minute, pushBody(c)))
	if st := e.ssStatus(c.ID); st != "awaiting_shipment" {
		t.Fatalf("first push: %q", st)
	}
	got, err := self.Receive(ctx(t), 10, time.Second, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("forced re-push: %d messages, %v", len(got), err)
	}
	var msg queue.Push
	if err := json.Unmarshal([]byte(got[0].Body), &msg); err != nil || !msg.Relink || msg.OrderID != c.ID {
		t.Fatalf("re-push message %s", got[0].Body)
	}
	e.handle(events.SQSEvent{Records: got})
	if st := e.ssStatus(c.ID); st != "cancelled" {
		t.Fatalf("after the forced push: %q, want cancelled", st)
	}
}
