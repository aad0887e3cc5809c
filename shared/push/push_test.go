package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/push"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/retry"
	"github.com/shiprelay/shiprelay/shared/shipstation"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const (
	storeID      = "bc-main"
	ssStoreID    = 22766
	createOrders = "POST /orders/createorders"
)

var t0 = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)

const cfgYAML = `
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
    baseURL: SSURL
stores:
  - id: bc-main
    channel: bigcommerce
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
      storeId: 22766
  - id: amz-de
    channel: amazon
    credentialsSecret: shiprelay/amazon/amz-de
    amazon:
      sellerId: A2SELLER0001
      marketplaceId: A1PA6795UKMFR9
      customFields: [orderId]
      taxIdsTo: customField3
    shipstation:
      account: main
      storeId: 22767
`

type env struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	ssURL   string
	ledger  *dynamo.Ledger
	queue   *sqs.Queue
	svc     *push.Service
	logs    *bytes.Buffer
	metrics *bytes.Buffer
	// apiSecret is the ShipStation secret the account's client sends.
	apiSecret string
	// clock is the sandbox's clock.
	clock *sandboxClock
	// wrap, when set, wraps the account's client (fault injection).
	wrap func(push.Creator) push.Creator
}

// sandboxClock is the sandbox's clock: it starts at the push's Now
// (t0 + 1h) and runs at the speed of real time, so rate-limit windows
// pass as they do in real life; Advance jumps ahead (a hold's date).
type sandboxClock struct {
	mu    sync.Mutex
	start time.Time
	skew  time.Duration
}

func (c *sandboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return t0.Add(time.Hour).Add(time.Since(c.start)).Add(c.skew)
}

// AdvanceTo moves the clock to t (never back).
func (c *sandboxClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := t0.Add(time.Hour).Add(time.Since(c.start)).Add(c.skew); t.After(now) {
		c.skew += t.Sub(now)
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := &sandboxClock{start: time.Now()}
	sb := sandbox.New(sandbox.Options{Now: clock.Now})
	srv := httptest.NewServer(sb.ShipStation())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	cfg, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML, "SSURL", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	e := &env{
		t: t, sb: sb, ssURL: srv.URL, ledger: dynamo.New(client, table),
		queue: &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "push", nil)},
		logs:  &bytes.Buffer{}, metrics: &bytes.Buffer{}, apiSecret: sandbox.DefaultShipStationSecret,
		clock: clock,
	}
	e.svc = &push.Service{
		Config: cfg, Ledger: e.ledger,
		Account: func(_ context.Context, id string) (push.Creator, error) {
			a := cfg.Account(id)
			if a == nil {
				return nil, fmt.Errorf("no account %q", id)
			}
			var c push.Creator = &shipstation.Client{
				BaseURL: a.BaseURL, APIKey: sandbox.DefaultShipStationKey, APISecret: e.apiSecret,
				HTTP: srv.Client(), Budget: e.ledger, BudgetKey: "shipstation:" + id, Limit: a.Limit(),
			}
			if e.wrap != nil {
				c = e.wrap(c)
			}
			return c, nil
		},
		Log:     obs.NewLogger(e.logs, "DEBUG"),
		Metrics: obs.NewMetrics(e.metrics, "shiprelay"),
		Now:     func() time.Time { return t0.Add(time.Hour) },
	}
	e.svc.Retry = &lambdaio.Retrier{
		Visibility: e.queue, Log: e.svc.Log,
		Policy: retry.Policy{Base: 2 * time.Second, Cap: 15 * time.Minute, Rand: func() float64 { return 0.5 }},
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// newOrder builds a valid canonical order with one line per ship group.
func newOrder(num string, mod time.Time, groups ...string) order.Order {
	if len(groups) == 0 {
		groups = []string{""}
	}
	id, err := order.NewID(order.BigCommerce, storeID, num)
	if err != nil {
		panic(err)
	}
	res := true
	o := order.Order{
		ID: id, Channel: order.BigCommerce, StoreID: storeID, ChannelOrderID: num, OrderNumber: num,
		Status: order.AwaitingShipment, ChannelStatus: "Awaiting Fulfillment",
		OrderDate: mod.Add(-2 * time.Hour), ModifiedAt: mod,
		Currency: "USD", Total: order.MustDecimal("43.20"), AmountPaid: order.MustDecimal("43.20"),
		TaxAmount: order.MustDecimal("3.20"), ShippingPaid: order.MustDecimal("5.99"),
		BillTo: order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		Personal: &order.Personal{
			BillTo: order.Contact{Name: "Ada Lovelace", Street1: "1 Main St", Email: "ada@example.com"},
			ShipTo: map[string]order.Contact{},
			Email:  "ada@example.com",
		},
	}
	for i, g := range groups {
		o.ShipGroups = append(o.ShipGroups, order.ShipGroup{
			Key: g, ShipTo: order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US", Residential: &res},
			ShippingMethod: "Flat Rate", ShippingCost: order.MustDecimal("5.99"),
		})
		o.Personal.ShipTo[g] = order.Contact{Name: fmt.Sprintf("Receiver %d", i+1), Street1: fmt.Sprintf("%d Elm St", i+1)}
		o.Items = append(o.Items, order.Item{
			LineID: fmt.Sprint(500 + i), SKU: fmt.Sprintf("MUG-%d", i), Name: "Mug", Quantity: 2,
			UnitPrice: order.MustDecimal("15.99"), Group: g,
			Weight: &order.Weight{Value: order.MustDecimal("12.5"), Units: "ounces"},
		})
	}
	return o
}

func (e *env) upsert(o order.Order) {
	e.t.Helper()
	res, _, err := e.ledger.Upsert(ctx(e.t), o, ledger.StatePending, t0, t0.Add(time.Minute))
	if err != nil {
		e.t.Fatal(err)
	}
	if res != ledger.Created && res != ledger.Updated {
		e.t.Fatalf("upsert %s: %v", o.ID, res)
	}
}

// batch sends bodies to the real push queue and receives them back, as the
// event source mapping would hand them over; received messages stay hidden
// for visibility.
func (e *env) batch(visibility time.Duration, bodies ...string) events.SQSEvent {
	e.t.Helper()
	var msgs []queue.Message
	for _, b := range bodies {
		msgs = append(msgs, queue.Message{Body: []byte(b)})
	}
	if err := e.queue.Send(ctx(e.t), msgs...); err != nil {
		e.t.Fatal(err)
	}
	return e.receive(len(bodies), visibility)
}

func (e *env) receive(n int, visibility time.Duration) events.SQSEvent {
	e.t.Helper()
	var ev events.SQSEvent
	for len(ev.Records) < n {
		got, err := e.queue.Receive(ctx(e.t), 10, time.Second, visibility)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(got) == 0 {
			e.t.Fatalf("received %d of %d messages", len(ev.Records), n)
		}
		ev.Records = append(ev.Records, got...)
	}
	return ev
}

func pushBody(o order.Order) string {
	b, _ := json.Marshal(queue.Push{OrderID: o.ID, Version: o.ModifiedAt})
	return string(b)
}

func bodies(orders ...order.Order) []string {
	var out []string
	for _, o := range orders {
		out = append(out, pushBody(o))
	}
	return out
}

func (e *env) handle(ev events.SQSEvent) events.SQSEventResponse {
	e.t.Helper()
	resp, err := e.svc.Handle(ctx(e.t), ev)
	if err != nil {
		e.t.Fatalf("Handle returned an error (the whole batch would be retried): %v", err)
	}
	return resp
}

func failedIDs(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	sort.Strings(out)
	return out
}

func messageIDs(ev events.SQSEvent) []string {
	var out []string
	for _, m := range ev.Records {
		out = append(out, m.MessageId)
	}
	sort.Strings(out)
	return out
}

func (e *env) createCalls() int64 {
	return e.sb.Stats().ShipStation.RequestsByRoute[createOrders]
}

func (e *env) ssKeys() []string {
	var out []string
	for _, i := range e.sb.ShipStationOrderInfos() {
		out = append(out, i.OrderKey)
	}
	sort.Strings(out)
	return out
}

func (e *env) get(id order.ID) ledger.Record {
	e.t.Helper()
	rec, err := e.ledger.Get(ctx(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func (e *env) exceptions() []ledger.Exception {
	e.t.Helper()
	x, _, err := e.ledger.Exceptions(ctx(e.t), 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

// assertPushed checks the ledger holds the current version of o as pushed,
// with the ShipStation order ids the sandbox assigned.
func (e *env) assertPushed(o order.Order) {
	e.t.Helper()
	rec := e.get(o.ID)
	if rec.State != ledger.StatePushed || !rec.PushedVersion() {
		e.t.Errorf("%s: state %s, pushed version %v", o.ID, rec.State, rec.PushedVersion())
	}
	for _, g := range o.ShipGroups {
		p, ok := rec.Pushes[g.Key]
		key := shipstation.OrderKey(&o, g.Key)
		ss, found := e.sb.ShipStationOrder(key)
		if !ok || !found {
			e.t.Errorf("%s group %q: push recorded %v, in ShipStation %v", o.ID, g.Key, ok, found)
			continue
		}
		if p.ShipStationOrderID != ss.OrderID || p.OrderKey != key || p.Account != "main" || !p.Version.Equal(o.ModifiedAt) || p.Status != o.Status {
			e.t.Errorf("%s group %q: push %+v, ShipStation order %d", o.ID, g.Key, p, ss.OrderID)
		}
		if ss.StoreID() != ssStoreID {
			e.t.Errorf("%s: ShipStation storeId %d, want %d", key, ss.StoreID(), ssStoreID)
		}
	}
}

func (e *env) metricCount(name string) int {
	return strings.Count(e.metrics.String(), `"Name":"`+name+`"`)
}

func TestBatchIsOneCreateOrdersCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orders := []order.Order{newOrder("101", t0), newOrder("102", t0), newOrder("103", t0)}
	for _, o := range orders {
		e.upsert(o)
	}
	ev := e.batch(time.Minute, bodies(orders...)...)
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 1 {
		t.Errorf("createorders called %d times, want 1", n)
	}
	want := []string{string(orders[0].ID), string(orders[1].ID), string(orders[2].ID)}
	if got := e.ssKeys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ShipStation orders %v, want %v", got, want)
	}
	for _, o := range orders {
		e.assertPushed(o)
	}
	h, _ := e.ledger.History(ctx(t), orders[0].ID)
	if len(h) != 2 || h[1].Kind != order.EventPushed {
		t.Errorf("history = %+v", h)
	}
	if n := e.metricCount("OrdersPushed"); n != 3 {
		t.Errorf("OrdersPushed emitted %d times, want 3", n)
	}
	if n := e.metricCount("WebhookToShipStationLatency"); n != 3 {
		t.Errorf("latency emitted %d times, want 3", n)
	}
	for _, pii := range []string{"Ada Lovelace", "1 Main St", "ada@example.com", "Elm St"} {
		if strings.Contains(e.logs.String(), pii) {
			t.Errorf("buyer PII %q in the logs", pii)
		}
	}

	// Lambda redelivers the same batch (e.g. the deletes were lost).
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Errorf("replay failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 1 {
		t.Errorf("replay called createorders again (%d calls)", n)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
	if d := e.sb.ShipStationDuplicates(); d.Total != 0 {
		t.Errorf("duplicates = %+v", d)
	}
}

func TestSameOrderTwiceInOneBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := newOrder("201", t0)
	other := newOrder("202", t0)
	e.upsert(o)
	e.upsert(other)
	ev := e.batch(time.Minute, pushBody(o), pushBody(other), pushBody(o))
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 1 {
		t.Errorf("createorders called %d times", n)
	}
	infos := e.sb.ShipStationOrderInfos()
	if len(infos) != 2 {
		t.Fatalf("ShipStation holds %d orders, want 2", len(infos))
	}
	for _, i := range infos {
		if i.Updates != 0 {
			t.Errorf("%s was sent %d extra times in one call", i.OrderKey, i.Updates)
		}
	}
	if st := e.sb.Stats().ShipStation; st.Created != 2 || st.Updated != 0 {
		t.Errorf("created %d, updated %d; want 2, 0", st.Created, st.Updated)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
	e.assertPushed(o)
}

func TestThrottledCallIsDeferredThenPushed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orders := []order.Order{newOrder("301", t0), newOrder("302", t0), newOrder("303", t0)}
	for _, o := range orders {
		e.upsert(o)
	}
	e.sb.SetShipStationFaults(sandbox.Faults{Rate429: 1})
	// Received with a 1 s visibility: without a deferral they would be back
	// within a second.
	ev := e.batch(time.Second, bodies(orders...)...)
	resp := e.handle(ev)
	if got, want := failedIDs(resp), messageIDs(ev); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("failures = %v, want every record %v", got, want)
	}
	if st := e.sb.Stats().ShipStation; st.Injected429 != 1 || st.Orders != 0 {
		t.Errorf("ShipStation: %d injected 429s, %d orders; want 1 call refused and nothing stored", st.Injected429, st.Orders)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a 429 became an exception: %+v", x)
	}
	for _, o := range orders {
		if rec := e.get(o.ID); rec.State != ledger.StatePending || len(rec.Pushes) != 0 {
			t.Errorf("%s: state %s pushes %v", o.ID, rec.State, rec.Pushes)
		}
	}
	if n := e.metricCount("ShipStation429"); n != 1 {
		t.Errorf("ShipStation429 emitted %d times, want 1", n)
	}

	time.Sleep(1500 * time.Millisecond)
	if got, err := e.queue.Receive(ctx(t), 10, 0, 0); err != nil || len(got) != 0 {
		t.Fatalf("throttled messages came back after 1.5 s (%d, %v): their visibility was not pushed out", len(got), err)
	}
	if vis, inflight, err := e.queue.Depth(ctx(t)); err != nil || vis != 0 || inflight != 3 {
		t.Errorf("depth = %d visible, %d in flight, %v; want 0, 3", vis, inflight, err)
	}

	// Time passes: the backoff ends and the faults are gone.
	e.sb.SetShipStationFaults(sandbox.Faults{})
	for _, m := range ev.Records {
		if err := e.queue.ChangeVisibility(ctx(t), m.ReceiptHandle, 0); err != nil {
			t.Fatal(err)
		}
	}
	again := e.receive(3, time.Minute)
	if resp := e.handle(again); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry failures = %v", failedIDs(resp))
	}
	for _, o := range orders {
		e.assertPushed(o)
	}
	if n := e.sb.Stats().ShipStation.Orders; n != 3 {
		t.Errorf("ShipStation holds %d orders, want 3", n)
	}
}

func TestThrottledDuplicatesAreAllDeferred(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o, other := newOrder("311", t0), newOrder("312", t0)
	e.upsert(o)
	e.upsert(other)
	e.sb.SetShipStationFaults(sandbox.Faults{Rate429: 1})
	ev := e.batch(time.Second, pushBody(o), pushBody(other), pushBody(o))
	resp := e.handle(ev)
	if got, want := failedIDs(resp), messageIDs(ev); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("failures = %v, want all three %v", got, want)
	}
	time.Sleep(1500 * time.Millisecond)
	if got, err := e.queue.Receive(ctx(t), 10, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("%d messages back after 1.5 s (%v): the second message of an order was not deferred", len(got), err)
	}
}

func TestLostResponseDoesNotDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	orders := []order.Order{newOrder("351", t0), newOrder("352", t0)}
	for _, o := range orders {
		e.upsert(o)
	}
	e.sb.SetShipStationFaults(sandbox.Faults{RateLostResponse: 1})
	ev := e.batch(time.Minute, bodies(orders...)...)
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 2 {
		t.Errorf("failures = %v, want both records (the answer was lost)", failedIDs(resp))
	}
	if rec := e.get(orders[0].ID); rec.State != ledger.StatePending {
		t.Errorf("state %s after a lost answer, want pending", rec.State)
	}
	e.sb.SetShipStationFaults(sandbox.Faults{})
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery failures = %v", failedIDs(resp))
	}
	if d := e.sb.ShipStationDuplicates(); d.Total != 0 || e.sb.Stats().ShipStation.Orders != 2 {
		t.Errorf("ShipStation: %d orders, duplicates %+v", e.sb.Stats().ShipStation.Orders, d)
	}
	for _, o := range orders {
		e.assertPushed(o)
	}
}

func TestServerErrorIsRetriedNotAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := newOrder("361", t0)
	e.upsert(o)
	e.sb.SetShipStationFaults(sandbox.Faults{Rate5xx: 1})
	ev := e.batch(time.Minute, pushBody(o))
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 1 {
		t.Errorf("failures = %v, want the record", failedIDs(resp))
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a 5xx became an exception: %+v", x)
	}
	if n := e.metricCount("ShipStation429"); n != 0 {
		t.Errorf("a 5xx was counted as a 429")
	}
}

func TestClosedShipStationOrderBecomesAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v1 := newOrder("401", t0)
	e.upsert(v1)
	if resp := e.handle(e.batch(time.Minute, pushBody(v1))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("first push failures = %v", failedIDs(resp))
	}
	key := shipstation.OrderKey(&v1, "")
	if err := e.sb.SetShipStationOrderStatus(key, "shipped"); err != nil {
		t.Fatal(err)
	}

	v2 := newOrder("401", t0.Add(10*time.Minute))
	v2.InternalNotes = "address corrected"
	e.upsert(v2)
	ev := e.batch(time.Minute, pushBody(v2))
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %v; a rejected order must not be retried", failedIDs(resp))
	}
	x := e.exceptions()
	if len(x) != 1 {
		t.Fatalf("exceptions = %+v, want 1", x)
	}
	if x[0].OrderID != v2.ID || x[0].StoreID != storeID || x[0].Kind != "invalid" || x[0].Op != "push" ||
		!strings.Contains(x[0].Message, "cannot be updated because its status is 'shipped'") {
		t.Errorf("exception = %+v, want ShipStation's message", x[0])
	}
	rec := e.get(v2.ID)
	if rec.State != ledger.StateException || !strings.Contains(rec.LastError, "status is 'shipped'") {
		t.Errorf("ledger: state %s, last error %q", rec.State, rec.LastError)
	}
	if ss, _ := e.sb.ShipStationOrder(key); ss.OrderStatus != "shipped" {
		t.Errorf("ShipStation order now %q", ss.OrderStatus)
	}

	// Redelivered: no second call, no second exception.
	calls := e.createCalls()
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Errorf("replay failures = %v", failedIDs(resp))
	}
	if e.createCalls() != calls || len(e.exceptions()) != 1 {
		t.Errorf("replay: %d -> %d calls, %d exceptions", calls, e.createCalls(), len(e.exceptions()))
	}
}

func TestMultiAddressOrderIsOneShipStationOrderPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := newOrder("501", t0, "11", "12")
	e.upsert(o)
	if resp := e.handle(e.batch(time.Minute, pushBody(o))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	want := []string{string(o.ID) + "/11", string(o.ID) + "/12"}
	if got := e.ssKeys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ShipStation orders %v, want %v", got, want)
	}
	first, _ := e.sb.ShipStationOrder(want[0])
	second, _ := e.sb.ShipStationOrder(want[1])
	if first.OrderNumber != "501-1" || second.OrderNumber != "501-2" {
		t.Errorf("order numbers %q, %q", first.OrderNumber, second.OrderNumber)
	}
	if first.AmountPaid.String() != "43.20" && first.AmountPaid.String() != "43.2" {
		t.Errorf("first amountPaid = %s", first.AmountPaid)
	}
	if second.AmountPaid.String() != "0" || second.ShippingAmount.String() != "0" {
		t.Errorf("second group carries amounts: paid %s shipping %s", second.AmountPaid, second.ShippingAmount)
	}
	if len(first.Items) != 1 || len(second.Items) != 1 || *first.Items[0].LineItemKey != "500" || *second.Items[0].LineItemKey != "501" {
		t.Errorf("lines not split by address")
	}
	if n := e.createCalls(); n != 1 {
		t.Errorf("createorders called %d times", n)
	}
	e.assertPushed(o)
}

func TestOrderNotInLedgerIsAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ghost := newOrder("424242", t0)
	if resp := e.handle(e.batch(time.Minute, pushBody(ghost))); len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %v, want none", failedIDs(resp))
	}
	x := e.exceptions()
	if len(x) != 1 || x[0].OrderID != ghost.ID || x[0].Kind != "invalid" || !strings.Contains(x[0].Message, "not in the ledger") {
		t.Errorf("exceptions = %+v", x)
	}
	if n := e.sb.Stats().ShipStation.Requests; n != 0 {
		t.Errorf("%d ShipStation requests", n)
	}
}

func TestMalformedMessageIsAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := newOrder("601", t0)
	e.upsert(good)
	ev := e.batch(time.Minute, `{"orderId": 42`, `{"version":"2026-11-20T23:00:00Z"}`, pushBody(good))
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %v, want none", failedIDs(resp))
	}
	x := e.exceptions()
	if len(x) != 2 {
		t.Fatalf("exceptions = %+v, want 2", x)
	}
	for _, ex := range x {
		if ex.Kind != "invalid" || !strings.Contains(ex.Message, "not a valid JSON push request") {
			t.Errorf("exception = %+v", ex)
		}
	}
	e.assertPushed(good)
}

func TestUnauthorisedAccountIsOneExceptionAndParked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.apiSecret = "revoked"
	orders := []order.Order{newOrder("701", t0), newOrder("702", t0)}
	for _, o := range orders {
		e.upsert(o)
	}
	ev := e.batch(time.Second, bodies(orders...)...)
	resp := e.handle(ev)
	if got, want := failedIDs(resp), messageIDs(ev); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("failures = %v, want %v", got, want)
	}
	x := e.exceptions()
	if len(x) != 1 || x[0].Kind != "unauthorised" || x[0].OrderID != "" || !strings.Contains(x[0].Message, "main") {
		t.Errorf("exceptions = %+v, want one for the account", x)
	}
	if rec := e.get(orders[0].ID); rec.State != ledger.StatePending {
		t.Errorf("order state %s, want pending (the order is fine)", rec.State)
	}
	time.Sleep(1500 * time.Millisecond)
	if got, _ := e.queue.Receive(ctx(t), 10, 0, 0); len(got) != 0 {
		t.Errorf("messages back after 1.5 s: not parked")
	}
	if n := e.sb.Stats().ShipStation.Unauthorized; n != 1 {
		t.Errorf("%d 401s, want one call", n)
	}
}

func TestMoreThan100OrdersAreSplitAcrossCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var orders []order.Order
	for i := range 105 {
		orders = append(orders, newOrder(fmt.Sprint(1000+i), t0))
	}
	var wg sync.WaitGroup
	work := make(chan order.Order)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if _, _, err := e.ledger.Upsert(context.Background(), o, ledger.StatePending, t0, t0); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, o := range orders {
		work <- o
	}
	close(work)
	wg.Wait()
	ev := e.batch(time.Minute, bodies(orders...)...)
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 2 {
		t.Errorf("createorders called %d times for 105 orders, want 2", n)
	}
	if n := e.sb.Stats().ShipStation.Orders; n != 105 {
		t.Errorf("ShipStation holds %d orders", n)
	}
}

const listTags = "GET /accounts/listtags"

func (e *env) listTagsCalls() int64 {
	return e.sb.Stats().ShipStation.RequestsByRoute[listTags]
}

// amazonOrder is a canonical Amazon order of store amz-de with tags, an
// IOSS number and a buyer's VAT number.
func amazonOrder(num string, mod time.Time, tags ...string) order.Order {
	o := newOrder(num, mod)
	id, err := order.NewID(order.Amazon, "amz-de", num)
	if err != nil {
		panic(err)
	}
	o.ID, o.Channel, o.StoreID, o.ChannelOrderID, o.ChannelStatus = id, order.Amazon, "amz-de", num, "UNSHIPPED"
	o.Tags = tags
	o.CustomFields = [3]string{num, "", ""}
	o.TaxIDs = []order.TaxID{{Kind: "IOSS", Number: "IM2760000742"}}
	o.Personal.TaxIDs = []order.TaxID{{Kind: "VAT", Number: "DE811907980"}}
	return o
}

func (e *env) pushOK(orders ...order.Order) {
	e.t.Helper()
	for _, o := range orders {
		e.upsert(o)
	}
	if resp := e.handle(e.batch(time.Minute, bodies(orders...)...)); len(resp.BatchItemFailures) != 0 {
		e.t.Fatalf("failures = %v", failedIDs(resp))
	}
}

func (e *env) tagIDs(o order.Order) string {
	e.t.Helper()
	ss, ok := e.sb.ShipStationOrder(shipstation.OrderKey(&o, ""))
	if !ok {
		e.t.Fatalf("%s not in ShipStation", o.ID)
	}
	return fmt.Sprint(ss.TagIDs)
}

func tagID(t *testing.T, sb *sandbox.Sandbox, name string) int64 {
	t.Helper()
	for _, tag := range sb.ShipStationTags() {
		if tag.Name == name {
			return tag.TagID
		}
	}
	t.Fatalf("sandbox has no tag %q", name)
	return 0
}

func TestTagsAreSentAsAccountTagIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prime, business, cancel := tagID(t, e.sb, "Prime"), tagID(t, e.sb, "Business"), tagID(t, e.sb, "Cancel requested")
	held := amazonOrder("302-0000000-0000001", t0, "Prime", "cancel REQUESTED")
	held.Status, held.CancelRequested = order.OnHold, true
	biz := amazonOrder("302-0000000-0000002", t0, "Business", "Prime", "business")
	plain := amazonOrder("302-0000000-0000003", t0)
	e.pushOK(held, biz, plain)
	if got, want := e.tagIDs(held), fmt.Sprint([]int64{prime, cancel}); got != want {
		t.Errorf("held order tagIds %s, want %s", got, want)
	}
	if got, want := e.tagIDs(biz), fmt.Sprint([]int64{business, prime}); got != want {
		t.Errorf("business order tagIds %s, want %s", got, want)
	}
	if got := e.tagIDs(plain); got != "[]" {
		t.Errorf("untagged order tagIds %s", got)
	}
	ss, _ := e.sb.ShipStationOrder(shipstation.OrderKey(&held, ""))
	if ss.OrderStatus != "on_hold" {
		t.Errorf("held order status %q", ss.OrderStatus)
	}
	// The store's taxIdsTo puts the tax ids in customField3.
	if a := ss.AdvancedOptions; a == nil || a.CustomField1 == nil || *a.CustomField1 != string(held.ChannelOrderID) ||
		a.CustomField3 == nil || *a.CustomField3 != "IOSS IM2760000742; VAT DE811907980" || ss.StoreID() != 22767 {
		t.Errorf("advanced options %+v", a)
	}
	if ss.InternalNotes != nil && strings.Contains(*ss.InternalNotes, "IOSS") {
		t.Errorf("tax ids also in the notes: %q", *ss.InternalNotes)
	}
	for _, o := range []order.Order{held, biz, plain} {
		if rec := e.get(o.ID); rec.State != ledger.StatePushed {
			t.Errorf("%s: state %s", o.ID, rec.State)
		}
	}
	if n := e.listTagsCalls(); n != 1 {
		t.Errorf("listtags called %d times for one batch, want 1", n)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
	if strings.Contains(e.logs.String(), "DE811907980") {
		t.Error("buyer VAT number in the logs")
	}

	// Within five minutes the cached list serves; orders without tags
	// never read it.
	e.pushOK(amazonOrder("302-0000000-0000004", t0, "Prime"), newOrder("9001", t0))
	if n := e.listTagsCalls(); n != 1 {
		t.Errorf("listtags called %d times, want 1 (cached)", n)
	}
}

func TestUnknownTagIsOneExceptionAndTheOrderIsPushed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := t0.Add(time.Hour)
	e.svc.Now = func() time.Time { return now }
	prime := tagID(t, e.sb, "Prime")

	a := amazonOrder("303-0000000-0000001", t0, "Prime", "Fragile")
	b := amazonOrder("303-0000000-0000002", t0, "fragile")
	e.pushOK(a, b)
	if got, want := e.tagIDs(a), fmt.Sprint([]int64{prime}); got != want {
		t.Errorf("tagIds %s, want %s", got, want)
	}
	if got := e.tagIDs(b); got != "[]" {
		t.Errorf("tagIds %s, want none", got)
	}
	for _, o := range []order.Order{a, b} {
		if rec := e.get(o.ID); rec.State != ledger.StatePushed {
			t.Errorf("%s: state %s, want pushed", o.ID, rec.State)
		}
	}
	x := e.exceptions()
	if len(x) != 1 {
		t.Fatalf("exceptions = %+v, want one", x)
	}
	if x[0].OrderID != "" || x[0].Kind != "invalid" || x[0].ID != "push:tag:main:fragile" ||
		!strings.Contains(strings.ToLower(x[0].Message), `create a tag named "fragile" in shipstation (settings → tags) to tag orders with it`) {
		t.Errorf("exception = %+v", x[0])
	}
	// Read once: the list was fresh, so the miss reads nothing more.
	if n := e.listTagsCalls(); n != 1 {
		t.Errorf("listtags called %d times, want 1", n)
	}

	// The same missing name again: no new read, no new exception.
	e.pushOK(amazonOrder("303-0000000-0000003", t0, "FRAGILE"))
	if n, x := e.listTagsCalls(), e.exceptions(); n != 1 || len(x) != 1 {
		t.Errorf("repeat: %d listtags calls, %d exceptions", n, len(x))
	}

	// The merchant creates another tag: its first use reads the list again
	// and finds it.
	gift, err := e.sb.AddShipStationTag("Gift", "")
	if err != nil {
		t.Fatal(err)
	}
	g := amazonOrder("303-0000000-0000004", t0, "gift", "Fragile")
	e.pushOK(g)
	if got, want := e.tagIDs(g), fmt.Sprint([]int64{gift.TagID}); got != want {
		t.Errorf("new tag: tagIds %s, want %s", got, want)
	}
	if n, x := e.listTagsCalls(), e.exceptions(); n != 2 || len(x) != 1 {
		t.Errorf("new tag: %d listtags calls, %d exceptions", n, len(x))
	}

	// Five minutes on the list is read again; still one exception, also
	// from another process.
	now = now.Add(push.TagCacheTTL)
	e.pushOK(amazonOrder("303-0000000-0000005", t0, "Fragile"))
	if n := e.listTagsCalls(); n != 3 {
		t.Errorf("after the TTL: %d listtags calls, want 3", n)
	}
	fresh := &push.Service{Config: e.svc.Config, Ledger: e.svc.Ledger, Account: e.svc.Account, Retry: e.svc.Retry,
		Log: e.svc.Log, Metrics: e.svc.Metrics, Now: e.svc.Now}
	o := amazonOrder("303-0000000-0000006", t0, "Fragile")
	e.upsert(o)
	if resp, err := fresh.Handle(ctx(t), e.batch(time.Minute, pushBody(o))); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("fresh process: %v %v", resp, err)
	}
	if x := e.exceptions(); len(x) != 1 {
		t.Errorf("exceptions = %+v, want one per account and tag", x)
	}
	if rec := e.get(o.ID); rec.State != ledger.StatePushed {
		t.Errorf("fresh process: state %s", rec.State)
	}

	// Once the merchant creates it, the tag is used.
	fragile, err := e.sb.AddShipStationTag("Fragile", "")
	if err != nil {
		t.Fatal(err)
	}
	f := amazonOrder("303-0000000-0000007", t0, "Fragile")
	now = now.Add(push.TagCacheTTL)
	e.pushOK(f)
	if got, want := e.tagIDs(f), fmt.Sprint([]int64{fragile.TagID}); got != want {
		t.Errorf("created tag: tagIds %s, want %s", got, want)
	}
}

func TestTagListThrottledDefersTheOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := amazonOrder("304-0000000-0000001", t0, "Prime")
	e.upsert(o)
	e.sb.SetShipStationFaults(sandbox.Faults{Rate429: 1})
	ev := e.batch(time.Second, pushBody(o))
	if resp := e.handle(ev); len(resp.BatchItemFailures) != 1 {
		t.Errorf("failures = %v, want the record", failedIDs(resp))
	}
	if n := e.createCalls(); n != 0 {
		t.Errorf("createorders called %d times after listtags was throttled", n)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions = %+v", x)
	}
	if rec := e.get(o.ID); rec.State != ledger.StatePending {
		t.Errorf("state %s, want pending", rec.State)
	}
	e.sb.SetShipStationFaults(sandbox.Faults{})
	e.pushOK(amazonOrder("304-0000000-0000001", t0.Add(time.Minute), "Prime"))
	if got, want := e.tagIDs(o), fmt.Sprint([]int64{tagID(t, e.sb, "Prime")}); got != want {
		t.Errorf("tagIds %s, want %s", got, want)
	}
}

func TestRedactedOrderIsSentAgainWithoutItsBuyerData(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := newOrder("301", t0)
	e.upsert(o)
	if resp := e.handle(e.batch(time.Minute, bodies(o)...)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	resend, _ := json.Marshal(queue.Push{OrderID: o.ID, Version: o.ModifiedAt, Redacted: true})
	// Not redacted yet: a redacted re-send request changes nothing.
	if resp := e.handle(e.batch(time.Minute, string(resend))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 1 {
		t.Fatalf("createorders called %d times before the redaction, want 1", n)
	}
	if ok, err := e.ledger.Redact(ctx(t), o.ID, t0.Add(14*24*time.Hour)); err != nil || !ok {
		t.Fatalf("redact: %v %v", ok, err)
	}
	if resp := e.handle(e.batch(time.Minute, string(resend))); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures = %v", failedIDs(resp))
	}
	if n := e.createCalls(); n != 2 {
		t.Fatalf("createorders called %d times, want 2 (the redacted copy)", n)
	}
	ss, ok := e.sb.ShipStationOrder(string(o.ID))
	if !ok {
		t.Fatal("ShipStation order missing")
	}
	raw, _ := json.Marshal(ss)
	for _, pii := range []string{"Ada Lovelace", "1 Main St", "Elm St", "Receiver 1"} {
		if strings.Contains(string(raw), pii) {
			t.Errorf("ShipStation's copy still holds %q", pii)
		}
	}
	if !strings.Contains(string(raw), "REDACTED (Amazon)") || !strings.Contains(string(raw), "Austin") {
		t.Errorf("ShipStation's copy is not the redacted order: %s", raw)
	}
}
