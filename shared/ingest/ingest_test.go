package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ingest"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/retry"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const storeID = "bc-main"

// bcFetcher is ingest.Fetcher over real BigCommerce clients, doing what the
// app's Fetch does: the order, then (when importable) its lines and shipping
// addresses, normalised.
type bcFetcher struct {
	clients map[string]*bigcommerce.Client
}

func (f bcFetcher) Fetch(ctx context.Context, store, channelOrderID string) (order.Order, order.Disposition, error) {
	c := f.clients[store]
	if c == nil {
		return order.Order{}, 0, errs.Ef(errs.Invalid, "test.Fetch", "store %q is not a configured BigCommerce store", store)
	}
	id, err := strconv.ParseInt(channelOrderID, 10, 64)
	if err != nil || id <= 0 {
		return order.Order{}, 0, errs.Ef(errs.Invalid, "test.Fetch", "order id %q is not a positive integer", channelOrderID)
	}
	o, err := c.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	if _, disp, known := order.BigCommerceStatus(o.StatusID); known && disp == order.Ignore {
		return order.Order{ChannelStatus: o.Status}, order.Ignore, nil
	}
	products, err := c.Products(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	addrs, err := c.ShippingAddresses(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	return bigcommerce.Normalize(store, o, products, addrs)
}

type env struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	ledger  *dynamo.Ledger
	push    *sqs.Queue
	ingestQ *sqs.Queue
	svc     *ingest.Service
	logs    *bytes.Buffer
}

const cfgYAML = `
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: bc-main
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
`

var received = time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb.BigCommerce())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	cfg, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML, "BCURL", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	led := dynamo.New(client, table)
	sqsClient := testenv.SQS(t)
	e := &env{
		t: t, sb: sb, ledger: led, logs: &bytes.Buffer{},
		push:    &sqs.Queue{Client: sqsClient, URL: testenv.Queue(t, "push", nil)},
		ingestQ: &sqs.Queue{Client: sqsClient, URL: testenv.Queue(t, "ingest", nil)},
	}
	bc := &bigcommerce.Client{
		BaseURL: srv.URL, StoreHash: sandbox.DefaultStoreHash, AccessToken: sandbox.DefaultBigCommerceToken,
		HTTP: srv.Client(), Budget: led, BudgetKey: "bigcommerce:" + sandbox.DefaultStoreHash,
		Limit: ratelimit.PerWindow(150, 30*time.Second), MaxWait: 5 * time.Second,
	}
	e.svc = &ingest.Service{
		Config: cfg, Ledger: led,
		Fetch: map[order.Channel]ingest.Fetcher{order.BigCommerce: bcFetcher{clients: map[string]*bigcommerce.Client{storeID: bc}}},
		Push:  e.push, Log: obs.NewLogger(e.logs, "DEBUG"),
	}
	e.svc.Retry = &lambdaio.Retrier{Visibility: e.ingestQ, Log: e.svc.Log,
		Policy: retry.Policy{Base: 2 * time.Second, Cap: 15 * time.Minute, Rand: func() float64 { return 0.5 }}}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func address(first string) sandbox.ShippingAddress {
	return sandbox.ShippingAddress{Address: sandbox.Address{
		FirstName: first, LastName: "Lovelace", Street1: "1 Main St", City: "Austin", State: "Texas",
		Zip: "78701", Country: "United States", CountryISO2: "US", Email: strings.ToLower(first) + "@example.com",
	}, ShippingMethod: "Flat Rate", ShippingCostCents: 599}
}

// bcOrder creates a BigCommerce order in the sandbox.
func (e *env) bcOrder(status int, lines ...sandbox.LineSpec) sandbox.BCOrder {
	e.t.Helper()
	spec := sandbox.OrderSpec{StatusID: status, Billing: address("Billy").Address, Lines: lines}
	for _, l := range lines {
		if l.Type == "" || l.Type == "physical" {
			spec.ShippingAddresses = []sandbox.ShippingAddress{address("Ada")}
			break
		}
	}
	o, err := e.sb.CreateOrder(spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

var mug = sandbox.LineSpec{Name: "Mug", SKU: "MUG-1", Quantity: 2, UnitPriceCents: 1599, Weight: "1.0000"}

func msgFor(o sandbox.BCOrder) queue.Ingest {
	return queue.Ingest{Channel: order.BigCommerce, StoreID: storeID, ChannelOrderID: strconv.Itoa(o.ID), Source: "webhook", ReceivedAt: received}
}

func idOf(o sandbox.BCOrder) order.ID {
	return order.ID("bigcommerce:" + storeID + ":" + strconv.Itoa(o.ID))
}

// viaQueue sends msgs through the real ingest queue and returns the batch
// as Lambda would hand it over.
func (e *env) viaQueue(bodies ...[]byte) events.SQSEvent {
	e.t.Helper()
	return e.viaQueueVis(time.Minute, bodies...)
}

// viaQueueVis is viaQueue with the received messages hidden for visibility.
func (e *env) viaQueueVis(visibility time.Duration, bodies ...[]byte) events.SQSEvent {
	e.t.Helper()
	var out []queue.Message
	for _, b := range bodies {
		out = append(out, queue.Message{Body: b})
	}
	if err := e.ingestQ.Send(ctx(e.t), out...); err != nil {
		e.t.Fatal(err)
	}
	var ev events.SQSEvent
	for len(ev.Records) < len(bodies) {
		msgs, err := e.ingestQ.Receive(ctx(e.t), 10, time.Second, visibility)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			e.t.Fatalf("received %d of %d messages", len(ev.Records), len(bodies))
		}
		ev.Records = append(ev.Records, msgs...)
	}
	return ev
}

func body(t *testing.T, m queue.Ingest) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushes drains the push queue.
func (e *env) pushes() []queue.Push {
	e.t.Helper()
	var out []queue.Push
	for {
		msgs, err := e.push.Receive(ctx(e.t), 10, 0, time.Minute)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			if vis, _, err := e.push.Depth(ctx(e.t)); err != nil || vis != 0 {
				e.t.Fatalf("receive came back empty with %d visible (%v)", vis, err)
			}
			return out
		}
		for _, m := range msgs {
			var p queue.Push
			if err := json.Unmarshal([]byte(m.Body), &p); err != nil {
				e.t.Fatalf("push message %s: %v", m.Body, err)
			}
			out = append(out, p)
		}
	}
}

func (e *env) history(id order.ID) []order.Event {
	e.t.Helper()
	h, err := e.ledger.History(ctx(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func kinds(h []order.Event) string {
	var k []string
	for _, ev := range h {
		k = append(k, string(ev.Kind))
	}
	return strings.Join(k, ",")
}

func (e *env) exceptions() []ledger.Exception {
	e.t.Helper()
	x, _, err := e.ledger.Exceptions(ctx(e.t), 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

func (e *env) assertNotInLedger(id order.ID) {
	e.t.Helper()
	if _, err := e.ledger.Get(ctx(e.t), id); !errs.Is(err, errs.NotFound) {
		e.t.Errorf("order %s: Get = %v, want not_found", id, err)
	}
}

func TestAwaitingFulfillmentIsImportedAndPushed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	resp, err := e.svc.Handle(ctx(t), e.viaQueue(body(t, msgFor(o))))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	rec, err := e.ledger.Get(ctx(t), idOf(o))
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != ledger.StatePending || rec.Order.Status != order.AwaitingShipment || rec.Order.ChannelStatus != "Awaiting Fulfillment" {
		t.Errorf("record state %s, status %s (%s)", rec.State, rec.Order.Status, rec.Order.ChannelStatus)
	}
	if !rec.Order.ModifiedAt.Equal(o.DateModified) || !rec.FirstSeenAt.Equal(received) {
		t.Errorf("version %v (want %v), first seen %v (want %v)", rec.Order.ModifiedAt, o.DateModified, rec.FirstSeenAt, received)
	}
	if len(rec.Order.Items) != 1 || rec.Order.Items[0].Quantity != 2 || rec.Order.Personal == nil || rec.Order.Personal.ShipTo[""].Name != "Ada Lovelace" {
		t.Errorf("order content = %+v personal %+v", rec.Order.Items, rec.Order.Personal)
	}
	if k := kinds(e.history(idOf(o))); k != "imported" {
		t.Errorf("history = %s, want imported", k)
	}
	p := e.pushes()
	if len(p) != 1 || p[0].OrderID != idOf(o) || !p[0].Version.Equal(o.DateModified) {
		t.Errorf("push messages = %+v, want one for %s at %v", p, idOf(o), o.DateModified)
	}
	if strings.Contains(e.logs.String(), "Lovelace") || strings.Contains(e.logs.String(), "1 Main St") {
		t.Errorf("buyer PII in the logs")
	}
}

func TestReplayRedrivesAnUnpushedOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	for range 2 {
		if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
			t.Fatal(err)
		}
	}
	if k := kinds(e.history(idOf(o))); k != "imported" {
		t.Errorf("history after a replay = %s, want a single imported", k)
	}
	if p := e.pushes(); len(p) != 2 {
		t.Errorf("%d push messages, want 2 (the replay re-drives the push)", len(p))
	}

	// Once the version is in ShipStation a replay needs nothing.
	rec, _ := e.ledger.Get(ctx(t), idOf(o))
	if err := e.ledger.MarkPushed(ctx(t), idOf(o), ledger.Push{
		Group: "", OrderKey: string(idOf(o)), ShipStationOrderID: 1, Account: "main",
		Version: rec.Order.ModifiedAt, Status: rec.Order.Status,
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages for a pushed version, want 0", len(p))
	}
}

func TestNewerVersionOfAPushedOrderIsPushedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.ledger.Get(ctx(t), idOf(o))
	_ = e.ledger.MarkPushed(ctx(t), idOf(o), ledger.Push{OrderKey: string(idOf(o)), ShipStationOrderID: 1, Account: "main", Version: rec.Order.ModifiedAt, Status: rec.Order.Status}, time.Now())
	e.pushes()

	cancelled, err := e.sb.SetOrderStatus("", o.ID, sandbox.StatusCancelled)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, _ = e.ledger.Get(ctx(t), idOf(o))
	if rec.State != ledger.StatePending || rec.Order.Status != order.Cancelled || !rec.Order.ModifiedAt.Equal(cancelled.DateModified) {
		t.Errorf("after cancellation: state %s status %s version %v", rec.State, rec.Order.Status, rec.Order.ModifiedAt)
	}
	if !rec.FirstSeenAt.Equal(received) {
		t.Errorf("FirstSeenAt changed on update: %v", rec.FirstSeenAt)
	}
	if k := kinds(e.history(idOf(o))); k != "imported,pushed,updated" {
		t.Errorf("history = %s", k)
	}
	if p := e.pushes(); len(p) != 1 || !p[0].Version.Equal(cancelled.DateModified) {
		t.Errorf("push messages = %+v, want the cancellation pushed to the open ShipStation order", p)
	}
}

func TestPendingOrderIsNotImported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusPending, mug)
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	e.assertNotInLedger(idOf(o))
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages", len(p))
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
}

func TestDigitalOnlyOrderIsSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, sandbox.LineSpec{Name: "E-book", SKU: "EBOOK", Type: "digital", Quantity: 1, UnitPriceCents: 999})
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, err := e.ledger.Get(ctx(t), idOf(o))
	if err != nil {
		t.Fatalf("digital-only order not recorded: %v", err)
	}
	if rec.State != ledger.StateSkipped {
		t.Errorf("state = %s, want skipped", rec.State)
	}
	h := e.history(idOf(o))
	if k := kinds(h); k != "imported,skipped" || !strings.Contains(h[1].Message, "no physical items") {
		t.Errorf("history = %+v", h)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages for a digital-only order", len(p))
	}
	// A replay stays quiet.
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	if p := e.pushes(); len(p) != 0 || kinds(e.history(idOf(o))) != "imported,skipped" {
		t.Errorf("replay of a skipped order: %d pushes, history %s", len(p), kinds(e.history(idOf(o))))
	}
}

func TestOrderFirstSeenCancelledIsSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, st := range []int{sandbox.StatusCancelled, sandbox.StatusShipped} {
		o := e.bcOrder(st, mug)
		if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
			t.Fatal(err)
		}
		rec, err := e.ledger.Get(ctx(t), idOf(o))
		if err != nil || rec.State != ledger.StateSkipped {
			t.Errorf("status %d: state %s, %v; want skipped", st, rec.State, err)
		}
		h := e.history(idOf(o))
		if len(h) != 2 || h[1].Kind != order.EventSkipped || !strings.Contains(h[1].Message, "before import") {
			t.Errorf("status %d: history %+v", st, h)
		}
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages", len(p))
	}
}

func TestMissingOrderIsAcked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := sandbox.BCOrder{ID: 999999}
	if err := e.svc.Process(ctx(t), msgFor(gone)); err != nil {
		t.Errorf("Process of a 404 order = %v, want nil (nothing to retry)", err)
	}
	e.assertNotInLedger(idOf(gone))
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages", len(p))
	}
	if n := e.sb.Stats().BigCommerce.RequestsByRoute["GET /v2/orders/{id}"]; n != 1 {
		t.Errorf("GET order called %d times", n)
	}
}

func TestUnknownStoreIsAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := queue.Ingest{Channel: order.BigCommerce, StoreID: "bc-gone", ChannelOrderID: "101", Source: "webhook", ReceivedAt: received}
	if err := e.svc.Process(ctx(t), m); err != nil {
		t.Errorf("Process = %v, want nil (recorded, not retried)", err)
	}
	x := e.exceptions()
	if len(x) != 1 || x[0].StoreID != "bc-gone" || x[0].Kind != "invalid" || x[0].Op != "ingest" || !strings.Contains(x[0].Message, "bc-gone") {
		t.Errorf("exceptions = %+v", x)
	}
	if n := e.sb.Stats().BigCommerce.Requests; n != 0 {
		t.Errorf("%d BigCommerce requests for an unknown store", n)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages", len(p))
	}
}

func TestMalformedMessageIsAnExceptionNotARetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	ev := e.viaQueue([]byte(`{"channel": "bigcommerce", "storeId": `), body(t, msgFor(o)))
	resp, err := e.svc.Handle(ctx(t), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("Handle = %+v, %v; want no failures", resp, err)
	}
	if x := e.exceptions(); len(x) != 1 || x[0].Kind != "invalid" || !strings.Contains(x[0].Message, "not JSON") {
		t.Errorf("exceptions = %+v", x)
	}
	if p := e.pushes(); len(p) != 1 {
		t.Errorf("the good record of the batch was not processed: %d pushes", len(p))
	}
}

func TestBigCommerce429IsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	e.sb.SetBigCommerceFaults(sandbox.Faults{Rate429: 1})
	err := e.svc.Process(ctx(t), msgFor(o))
	if err == nil || !errs.Retryable(err) || !errs.Is(err, errs.Transient) {
		t.Fatalf("Process under 429 = %v, want a transient error", err)
	}
	ev := e.viaQueueVis(time.Second, body(t, msgFor(o)))
	resp, herr := e.svc.Handle(ctx(t), ev)
	if herr != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].MessageId {
		t.Errorf("Handle under 429 = %+v, %v; want the record reported as failed", resp, herr)
	}
	// The redelivery waits for BigCommerce's reset instead of the 1 s visibility.
	time.Sleep(1500 * time.Millisecond)
	if back, err := e.ingestQ.Receive(ctx(t), 10, 0, 0); err != nil || len(back) != 0 {
		t.Errorf("%d messages back after 1.5 s (%v): the throttled record was not deferred", len(back), err)
	}
	if st := e.sb.Stats().BigCommerce; st.Injected429 != 2 {
		t.Errorf("sandbox served %d injected 429s, want 2", st.Injected429)
	}
	e.assertNotInLedger(idOf(o))
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a throttled fetch became an exception: %+v", x)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("%d push messages", len(p))
	}

	e.sb.SetBigCommerceFaults(sandbox.Faults{})
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatalf("retry after the throttle: %v", err)
	}
	if rec, err := e.ledger.Get(ctx(t), idOf(o)); err != nil || rec.State != ledger.StatePending {
		t.Errorf("after retry: %+v, %v", rec.State, err)
	}
}

func TestPollHintSkipsTheFetch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	if err := e.svc.Process(ctx(t), msgFor(o)); err != nil {
		t.Fatal(err)
	}
	e.pushes()
	before := e.sb.Stats().BigCommerce.Requests

	for _, hint := range []time.Time{o.DateModified, o.DateModified.Add(-time.Hour)} {
		m := msgFor(o)
		m.Source, m.ModifiedAt = "poll", hint
		if err := e.svc.Process(ctx(t), m); err != nil {
			t.Fatal(err)
		}
	}
	if after := e.sb.Stats().BigCommerce.Requests; after != before {
		t.Errorf("BigCommerce requests %d -> %d; a poll hint at or before the stored version must not fetch", before, after)
	}
	// Still pending: each message re-drives the push.
	if p := e.pushes(); len(p) != 2 {
		t.Errorf("%d push messages, want 2 re-drives", len(p))
	}
	if k := kinds(e.history(idOf(o))); k != "imported" {
		t.Errorf("history = %s", k)
	}

	// A newer hint does fetch.
	m := msgFor(o)
	m.Source, m.ModifiedAt = "poll", o.DateModified.Add(time.Second)
	if err := e.svc.Process(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	if after := e.sb.Stats().BigCommerce.Requests; after != before+3 {
		t.Errorf("BigCommerce requests %d -> %d, want +3 (order, products, addresses)", before, after)
	}
}
