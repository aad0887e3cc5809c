package ingest_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// detectFetcher is bcFetcher plus origin detection, as the app's Fetch
// does it: the sandbox's channels give the platform of channel_id.
type detectFetcher struct {
	bcFetcher
	sb *sandbox.Sandbox
}

func (f detectFetcher) Fetch(ctx context.Context, store, channelOrderID string) (order.Order, order.Disposition, error) {
	o, disp, err := f.bcFetcher.Fetch(ctx, store, channelOrderID)
	if err != nil || disp == order.Ignore {
		return o, disp, err
	}
	raw, err := f.clients[store].GetOrder(ctx, mustInt(channelOrderID))
	if err != nil {
		return o, disp, err
	}
	platform := ""
	for _, ch := range sandbox.DefaultChannels() {
		if int64(ch.ID) == raw.ChannelID {
			platform = ch.Platform
		}
	}
	o.Origin, o.OriginReview = bigcommerce.DetectOrigin(raw, platform, nil)
	return o, disp, nil
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// withDedupe turns identities on: relinks go to a queue of their own here.
func (e *env) withDedupe() *sqs.Queue {
	self := &sqs.Queue{Client: testenv.SQS(e.t), URL: testenv.Queue(e.t, "relink", nil)}
	bc := e.svc.Fetch[order.BigCommerce].(bcFetcher)
	e.svc.Fetch[order.BigCommerce] = detectFetcher{bcFetcher: bc, sb: e.sb}
	e.svc.Identities, e.svc.Self = e.ledger, self
	return self
}

// relinks drains the relink queue.
func (e *env) relinks(q *sqs.Queue) []queue.Ingest {
	e.t.Helper()
	var out []queue.Ingest
	for {
		msgs, err := q.Receive(ctx(e.t), 10, 0, time.Minute)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			var in queue.Ingest
			if err := json.Unmarshal([]byte(m.Body), &in); err != nil || !in.Relink {
				e.t.Fatalf("relink message %s: %v", m.Body, err)
			}
			out = append(out, in)
		}
	}
}

// Method A (eBay is not connected): a copy recreated under a new id is
// linked to the same identity and stays hidden while the first copy is
// live; when the first is cancelled, the recreated one takes over and is
// pushed.
func TestRecreatedCopyTakesOverWhenTheFirstIsCancelled(t *testing.T) {
	e := newEnv(t)
	self := e.withDedupe()
	first, err := e.sb.MirrorMarketplaceOrder(sandbox.DefaultStoreHash, e.sb.GenerateEBayOrder())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx(t), msgFor(first)); err != nil {
		t.Fatal(err)
	}
	if p := e.pushes(); len(p) != 1 || p[0].OrderID != idOf(first) {
		t.Fatalf("first copy pushes %+v", p)
	}
	second, err := e.sb.RecreateCopyCreateFirst(sandbox.DefaultStoreHash, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The new copy arrives before the old one's cancellation.
	if err := e.svc.Process(ctx(t), msgFor(second)); err != nil {
		t.Fatal(err)
	}
	rec := e.record(idOf(second))
	if rec.State != ledger.StateSkipped || len(e.pushes()) != 0 {
		t.Fatalf("recreated copy while the first is live: state %s", rec.State)
	}
	// The primary (the first copy) is announced now that there is a
	// second member to tell: the first copy decides again, once.
	if r := e.relinks(self); len(r) != 1 || r[0].ChannelOrderID != strconv.Itoa(first.ID) {
		t.Fatalf("relinks %+v", r)
	}
	// The cancellation of the first copy arrives.
	if err := e.svc.Process(ctx(t), msgFor(first)); err != nil {
		t.Fatal(err)
	}
	x, err := e.ledger.Identity(ctx(t), "ebay:"+first.EbayOrderID)
	if err != nil || x.Primary != idOf(second) || len(x.Members) != 2 {
		t.Fatalf("identity %+v %v", x, err)
	}
	r := e.relinks(self)
	if len(r) != 1 || r[0].ChannelOrderID != strconv.Itoa(second.ID) {
		t.Fatalf("relinks %+v", r)
	}
	_ = e.pushes() // the first copy's cancellation push
	if err := e.svc.Process(ctx(t), r[0]); err != nil {
		t.Fatal(err)
	}
	if rec := e.record(idOf(second)); rec.State != ledger.StatePending {
		t.Fatalf("promoted copy state %s", rec.State)
	}
	if p := e.pushes(); len(p) != 1 || p[0].OrderID != idOf(second) {
		t.Fatalf("promoted copy pushes %+v", p)
	}
	// A relink replayed changes nothing more.
	if err := e.svc.Process(ctx(t), r[0]); err != nil {
		t.Fatal(err)
	}
}

// A non-storefront order whose marketplace order is not recognised is
// imported as an ordinary order and listed for review, once.
func TestUnrecognisedMarketplaceOrderIsListedForReview(t *testing.T) {
	e := newEnv(t)
	e.withDedupe()
	o, err := e.sb.CreateOrder(sandbox.OrderSpec{StatusID: sandbox.StatusAwaitingFulfillment, ChannelID: 3,
		Billing: address("Billy").Address, ShippingAddresses: []sandbox.ShippingAddress{address("Ada")}, Lines: []sandbox.LineSpec{mug}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
			t.Fatal(err)
		}
	}
	// Imported as an ordinary order: pushed (the replay re-drives the push).
	if p := e.pushes(); len(p) == 0 || p[0].OrderID != idOf(o) {
		t.Fatalf("pushes %+v", p)
	}
	if rec := e.record(idOf(o)); rec.Order.Origin != nil || rec.Order.OriginReview == "" {
		t.Fatalf("origin %+v review %q", rec.Order.Origin, rec.Order.OriginReview)
	}
	xs, _, err := e.ledger.Exceptions(ctx(t), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, x := range xs {
		if x.Op == "ingest" && x.StoreID == storeID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d review exceptions, want 1: %+v", n, xs)
	}
}

func (e *env) record(id order.ID) ledger.Record {
	e.t.Helper()
	rec, err := e.ledger.Get(ctx(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}
