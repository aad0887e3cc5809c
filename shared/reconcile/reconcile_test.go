package reconcile_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/reconcile"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const cfgYAML = `
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: bc-main
    channel: bigcommerce
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce: {storeHash: abc123xyz}
    shipstation: {account: main, storeId: 22766}
  - id: bc-two
    channel: bigcommerce
    credentialsSecret: shiprelay/bigcommerce/bc-two
    bigcommerce: {storeHash: def456uvw}
    shipstation: {account: main, storeId: 22767}
  - id: bc-off
    channel: bigcommerce
    enabled: false
    credentialsSecret: shiprelay/bigcommerce/bc-off
    bigcommerce: {storeHash: ghi789rst}
    shipstation: {account: main}
`

// countingLedger is the real ledger, counting ByState calls per store and
// failing them for the stores in fail.
type countingLedger struct {
	*dynamo.Ledger
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]bool
}

func (l *countingLedger) ByState(ctx context.Context, storeID string, s ledger.State, limit int, from ledger.Page) ([]ledger.Record, ledger.Page, error) {
	l.mu.Lock()
	l.calls[storeID]++
	fail := l.fail[storeID]
	l.mu.Unlock()
	if fail {
		return nil, "", errors.New("injected listing failure")
	}
	return l.Ledger.ByState(ctx, storeID, s, limit, from)
}

type env struct {
	t       *testing.T
	ledger  *countingLedger
	queue   *sqs.Queue
	svc     *reconcile.Service
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	client, table := testenv.DynamoDB(t)
	cfg, err := config.Parse([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t:      t,
		ledger: &countingLedger{Ledger: dynamo.New(client, table), calls: map[string]int{}, fail: map[string]bool{}},
		queue:  &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "push", nil)},
		logs:   &bytes.Buffer{}, metrics: &bytes.Buffer{},
	}
	e.svc = &reconcile.Service{
		Config: cfg, Ledger: e.ledger, Push: e.queue,
		Log: obs.NewLogger(e.logs, "DEBUG"), Metrics: obs.NewMetrics(e.metrics, "shiprelay"),
		Now: func() time.Time { return t0 },
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// newOrder builds a valid order of store with one line per ship group.
func newOrder(store, num string, mod time.Time, groups ...string) order.Order {
	if len(groups) == 0 {
		groups = []string{""}
	}
	id, err := order.NewID(order.BigCommerce, store, num)
	if err != nil {
		panic(err)
	}
	o := order.Order{
		ID: id, Channel: order.BigCommerce, StoreID: store, ChannelOrderID: num, OrderNumber: num,
		Status: order.AwaitingShipment, ChannelStatus: "Awaiting Fulfillment",
		OrderDate: mod.Add(-time.Hour), ModifiedAt: mod,
		Currency: "USD", Total: order.MustDecimal("37.97"), AmountPaid: order.MustDecimal("37.97"),
		BillTo: order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		Personal: &order.Personal{
			BillTo: order.Contact{Name: "Ada Lovelace", Street1: "1 Main St", Email: "ada@example.com"},
			ShipTo: map[string]order.Contact{},
			Email:  "ada@example.com",
		},
	}
	for i, g := range groups {
		o.ShipGroups = append(o.ShipGroups, order.ShipGroup{
			Key: g, ShipTo: order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
			ShippingMethod: "Flat Rate", ShippingCost: order.MustDecimal("5.99"),
		})
		o.Personal.ShipTo[g] = order.Contact{Name: "Ada Lovelace", Street1: "1 Main St"}
		o.Items = append(o.Items, order.Item{
			LineID: fmt.Sprint(500 + i), SKU: fmt.Sprintf("MUG-%d", i), Name: "Mug", Quantity: 2,
			UnitPrice: order.MustDecimal("15.99"), Group: g,
		})
	}
	return o
}

// upsert writes o in state st with ledger time at (its UpdatedAt).
func (e *env) upsert(o order.Order, st ledger.State, at time.Time) order.Order {
	e.t.Helper()
	res, rec, err := e.ledger.Upsert(ctx(e.t), o, st, at, at)
	if err != nil {
		e.t.Fatal(err)
	}
	if res != ledger.Created || !rec.UpdatedAt.Equal(at) {
		e.t.Fatalf("upsert %s: %v, updatedAt %v", o.ID, res, rec.UpdatedAt)
	}
	return o
}

func (e *env) run() reconcile.Result {
	e.t.Helper()
	res, err := e.svc.Run(ctx(e.t))
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return res
}

// drain receives every message on the push queue.
func (e *env) drain() []queue.Push {
	e.t.Helper()
	var out []queue.Push
	for {
		msgs, err := e.queue.Receive(ctx(e.t), 10, 0, time.Minute)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			if vis, _, err := e.queue.Depth(ctx(e.t)); err != nil || vis != 0 {
				e.t.Fatalf("receive came back empty with %d visible (%v)", vis, err)
			}
			return out
		}
		for _, m := range msgs {
			var p queue.Push
			if err := json.Unmarshal([]byte(m.Body), &p); err != nil {
				e.t.Fatalf("not a queue.Push: %v: %s", err, m.Body)
			}
			out = append(out, p)
		}
	}
}

func ids(msgs []queue.Push) string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.OrderID))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func idsOf(orders ...order.Order) string {
	var out []string
	for _, o := range orders {
		out = append(out, string(o.ID))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// metric returns the values an EMF metric was emitted with, in order.
func (e *env) metric(name string) []float64 {
	var out []float64
	sc := bufio.NewScanner(bytes.NewReader(e.metrics.Bytes()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			e.t.Fatalf("metric line is not JSON: %s", sc.Text())
		}
		if v, ok := rec[name].(float64); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestRedrivesOnlyPendingWorkOlderThanTheGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := t0.Add(-30 * time.Minute)
	stale := e.upsert(newOrder("bc-main", "101", old), ledger.StatePending, old)
	atGrace := e.upsert(newOrder("bc-main", "102", old), ledger.StatePending, t0.Add(-10*time.Minute))
	e.upsert(newOrder("bc-main", "103", old), ledger.StatePending, t0.Add(-9*time.Minute)) // within the grace
	e.upsert(newOrder("bc-main", "104", t0), ledger.StatePending, t0)                      // just written

	pushed := e.upsert(newOrder("bc-main", "105", old), ledger.StatePending, old)
	if err := e.ledger.MarkPushed(ctx(t), pushed.ID, ledger.Push{
		Group: "", OrderKey: string(pushed.ID), ShipStationOrderID: 1, Account: "main",
		Version: pushed.ModifiedAt, Status: pushed.Status, At: old,
	}, old); err != nil {
		t.Fatal(err)
	}
	// One of two ship groups pushed: still half done.
	half := e.upsert(newOrder("bc-main", "106", old, "1", "2"), ledger.StatePending, old)
	if err := e.ledger.MarkPushed(ctx(t), half.ID, ledger.Push{
		Group: "1", OrderKey: string(half.ID) + "/1", ShipStationOrderID: 2, Account: "main",
		Version: half.ModifiedAt, Status: half.Status, At: old,
	}, old); err != nil {
		t.Fatal(err)
	}
	e.upsert(newOrder("bc-main", "107", old), ledger.StateSkipped, old)
	exc := e.upsert(newOrder("bc-main", "108", old), ledger.StatePending, old)
	if err := e.ledger.RecordException(ctx(t), ledger.Exception{
		ID: ledger.ExceptionID("push", string(exc.ID)), OrderID: exc.ID, StoreID: "bc-main",
		Kind: "invalid", Op: "push", Message: "rejected", At: old,
	}); err != nil {
		t.Fatal(err)
	}
	e.upsert(newOrder("bc-off", "109", old), ledger.StatePending, old) // disabled store

	// The premises: what the ledger says of the pushed, half-pushed and
	// exception orders.
	for id, want := range map[order.ID]ledger.State{pushed.ID: ledger.StatePushed, half.ID: ledger.StatePending, exc.ID: ledger.StateException} {
		rec, err := e.ledger.Get(ctx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != want {
			t.Fatalf("%s: state %s, want %s", id, rec.State, want)
		}
	}

	res := e.run()
	got := e.drain()
	if want := idsOf(stale, atGrace, half); ids(got) != want {
		t.Fatalf("re-driven %s, want %s", ids(got), want)
	}
	for _, m := range got {
		if !m.Version.Equal(old) {
			t.Errorf("%s: version %v, want the ledger's %v", m.OrderID, m.Version, old)
		}
	}
	if res.Stores != 2 || res.Redriven != 3 || res.Pending != 5 || res.ExceptionsOpen != 1 || res.ExceptionsCapped {
		t.Errorf("result %+v, want 2 stores, 5 pending seen, 3 re-driven, 1 exception", res)
	}
	if v := e.metric("ReconcileRedriven"); len(v) != 1 || v[0] != 3 {
		t.Errorf("ReconcileRedriven metric %v, want [3]", v)
	}
	if v := e.metric("ExceptionsOpen"); len(v) != 1 || v[0] != 1 {
		t.Errorf("ExceptionsOpen metric %v, want [1]", v)
	}
	if e.ledger.calls["bc-off"] != 0 {
		t.Errorf("the disabled store was listed")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"reconcile: done"`) || !strings.Contains(logs, `"redriven":3`) {
		t.Errorf("no summary line in the logs:\n%s", logs)
	}
	for _, pii := range []string{"Ada", "Lovelace", "Main St", "ada@example.com"} {
		if strings.Contains(logs, pii) {
			t.Errorf("buyer data %q in the logs", pii)
		}
	}

	// Nothing changed in the ledger: the next sweep re-drives the same
	// work (the push re-reads the ledger, so a repeat is harmless).
	res = e.run()
	if got := e.drain(); ids(got) != idsOf(stale, atGrace, half) || res.Redriven != 3 {
		t.Errorf("second sweep re-drove %s (%d)", ids(got), res.Redriven)
	}
}

func TestNothingToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.Handle(ctx(t), events.EventBridgeEvent{DetailType: "Scheduled Event"}); err != nil {
		t.Fatal(err)
	}
	if got := e.drain(); len(got) != 0 {
		t.Errorf("%d messages", len(got))
	}
	if v := e.metric("ReconcileRedriven"); len(v) != 1 || v[0] != 0 {
		t.Errorf("ReconcileRedriven metric %v, want [0] (emitted every run)", v)
	}
	if v := e.metric("ExceptionsOpen"); len(v) != 1 || v[0] != 0 {
		t.Errorf("ExceptionsOpen metric %v, want [0]", v)
	}
}

func TestTwoStoresAndOneFailing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := t0.Add(-time.Hour)
	a := e.upsert(newOrder("bc-main", "201", old), ledger.StatePending, old)
	b := e.upsert(newOrder("bc-two", "201", old), ledger.StatePending, old)
	c := e.upsert(newOrder("bc-two", "202", old), ledger.StatePending, old)
	if res := e.run(); res.Redriven != 3 {
		t.Errorf("redriven %d, want 3", res.Redriven)
	}
	if got := e.drain(); ids(got) != idsOf(a, b, c) {
		t.Fatalf("re-driven %s, want %s", ids(got), idsOf(a, b, c))
	}

	// bc-main's listing fails: bc-two is still swept, and the error names bc-main.
	e.ledger.fail["bc-main"] = true
	res, err := e.svc.Run(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "store bc-main") || strings.Contains(err.Error(), "bc-two") {
		t.Fatalf("error %v, want one naming bc-main only", err)
	}
	if got := e.drain(); ids(got) != idsOf(b, c) || res.Redriven != 2 {
		t.Errorf("with bc-main failing re-driven %s (%d), want %s", ids(got), res.Redriven, idsOf(b, c))
	}
	if v := e.metric("ReconcileRedriven"); len(v) != 2 || v[1] != 2 {
		t.Errorf("ReconcileRedriven metric %v, want [3 2]", v)
	}
}

func TestEnqueueFailureIsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := t0.Add(-time.Hour)
	e.upsert(newOrder("bc-main", "301", old), ledger.StatePending, old)
	e.svc.Push = &sqs.Queue{Client: e.queue.Client, URL: e.queue.URL[:strings.LastIndexByte(e.queue.URL, '/')+1] + "shiprelay-no-such-queue"}
	err := e.svc.Handle(ctx(t), events.EventBridgeEvent{DetailType: "Scheduled Event"})
	if err == nil || !strings.Contains(err.Error(), "store bc-main") || !strings.Contains(err.Error(), "enqueue push") {
		t.Fatalf("Handle: %v, want an enqueue error naming bc-main", err)
	}
	if v := e.metric("ReconcileRedriven"); len(v) != 1 || v[0] != 0 {
		t.Errorf("ReconcileRedriven metric %v, want [0]", v)
	}
}

func TestPagingOverManyPendingOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.PageSize = 5
	var want []order.Order
	for i := range 23 {
		at := t0.Add(-time.Hour - time.Duration(i)*time.Minute)
		want = append(want, e.upsert(newOrder("bc-main", fmt.Sprint(400+i), at), ledger.StatePending, at))
	}
	for i := range 4 { // recent: listed first (most recently updated first), not due
		at := t0.Add(-time.Duration(i) * time.Minute)
		e.upsert(newOrder("bc-main", fmt.Sprint(500+i), at), ledger.StatePending, at)
	}
	res := e.run()
	got := e.drain()
	if len(got) != 23 || ids(got) != idsOf(want...) {
		t.Fatalf("re-driven %d orders, want the 23 stale ones exactly once", len(got))
	}
	if res.Pending != 27 || res.Redriven != 23 {
		t.Errorf("result %+v", res)
	}
	if n := e.ledger.calls["bc-main"]; n != 6 { // 27 records, 5 a page
		t.Errorf("bc-main listed in %d pages, want 6", n)
	}
}

func TestDefaultPageSizePaging(t *testing.T) {
	testenv.SkipIfShort(t, "writes over a hundred orders")
	t.Parallel()
	e := newEnv(t)
	var want []order.Order
	for i := range reconcile.DefaultPageSize + 5 {
		at := t0.Add(-time.Hour - time.Duration(i)*time.Second)
		want = append(want, e.upsert(newOrder("bc-two", fmt.Sprint(600+i), at), ledger.StatePending, at))
	}
	res := e.run()
	if got := e.drain(); ids(got) != idsOf(want...) || res.Redriven != len(want) {
		t.Fatalf("re-driven %d, want %d", len(got), len(want))
	}
	if n := e.ledger.calls["bc-two"]; n != 2 {
		t.Errorf("bc-two listed in %d pages, want 2", n)
	}
}
