package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

// up starts a private Env (own table and queues) on a free port, with the
// timed poll off so each test decides when the poll runs.
func up(t *testing.T, bcFaults sandbox.Faults) (*Env, context.Context) {
	env, ctx, _ := upWithLogs(t, bcFaults)
	return env, ctx
}

// needStack skips t when the local stack is not running, and fails it
// instead under CI, where `make test` must have started it.
func needStack(t *testing.T) { testenv.RequireStack(t) }

// upWithLogs is up, also returning every function's log output.
func upWithLogs(t *testing.T, bcFaults sandbox.Faults) (*Env, context.Context, func() string) {
	t.Helper()
	needStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	var logs bytes.Buffer
	sw := &syncWriter{w: &logs}
	env, err := Up(ctx, EnvOptions{HTTPAddr: "127.0.0.1:0", DisableSchedules: true, BigCommerceFaults: bcFaults, LogWriter: sw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Down)
	return env, ctx, func() string {
		sw.Write(nil) // a barrier: waits for a writer in progress
		return logs.String()
	}
}

type syncWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.w.Write(p)
}

// settle waits until the queues are empty and cond holds.
func settle(t *testing.T, ctx context.Context, env *Env, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := env.Sandbox.FlushWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		n, dead, err := env.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dead > 0 {
			t.Fatalf("%d messages in a dead-letter queue", dead)
		}
		if n == 0 && cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for: %s", what)
}

func ssCount(env *Env) int { return len(env.Sandbox.ShipStationOrderInfos()) }

// physicalOrder creates an order that must reach ShipStation as one order.
func physicalOrder(t *testing.T, env *Env, status int) sandbox.BCOrder {
	t.Helper()
	spec := sandbox.OrderSpec{
		StoreHash: StoreHash, StatusID: status,
		Billing:           sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US", Email: "ada@example.com"},
		ShippingAddresses: []sandbox.ShippingAddress{{Address: sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US"}, ShippingMethod: "Ground"}},
		Lines:             []sandbox.LineSpec{{Name: "Black Mug", SKU: "MUG-BLK", Quantity: 2, UnitPriceCents: 1599, Weight: "0.75"}},
	}
	o, err := env.Sandbox.CreateOrder(spec)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestWebhookDeliveredThreeTimesGivesOneOrder(t *testing.T) {
	env, ctx := up(t, sandbox.Faults{WebhookDropRate: 1}) // we deliver by hand
	o := physicalOrder(t, env, sandbox.StatusAwaitingFulfillment)
	body := fmt.Sprintf(`{"created_at":%d,"store_id":"1001234567","producer":"stores/%s","scope":"store/order/created","hash":"x","data":{"type":"order","id":%d}}`,
		time.Now().Unix(), StoreHash, o.ID)
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.WebhookURL(), strings.NewReader(body))
		for k, v := range WebhookHeaders() {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusAccepted
		if i > 0 {
			want = http.StatusOK // a duplicate is acknowledged, not re-enqueued
		}
		if resp.StatusCode != want {
			t.Fatalf("delivery %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	settle(t, ctx, env, "the order in ShipStation", func() bool { return ssCount(env) >= 1 })
	if n := ssCount(env); n != 1 {
		t.Fatalf("ShipStation holds %d orders, want 1", n)
	}
	id, _ := order.NewID(order.BigCommerce, StoreID, fmt.Sprint(o.ID))
	rec, err := env.Ledger.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.PushedVersion() || rec.Order.Status != order.AwaitingShipment {
		t.Fatalf("ledger: state %s status %s pushes %+v", rec.State, rec.Order.Status, rec.Pushes)
	}
	hist, err := env.Ledger.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	imported := 0
	for _, ev := range hist {
		if ev.Kind == order.EventImported {
			imported++
		}
	}
	if imported != 1 {
		t.Fatalf("history has %d imported events, want 1: %+v", imported, hist)
	}
	if n, _ := env.countOrders(ctx); n != 1 {
		t.Fatalf("ledger holds %d orders, want 1", n)
	}
	if r := env.Check(); !r.OK() {
		t.Fatalf("check: %+v", r)
	}
}

func TestDroppedWebhooksAreImportedByThePoll(t *testing.T) {
	env, ctx, logs := upWithLogs(t, sandbox.Faults{WebhookDropRate: 1})
	for range 5 {
		physicalOrder(t, env, sandbox.StatusAwaitingFulfillment)
	}
	if _, err := env.Sandbox.CreateRandomOrders(StoreHash, 15); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if st := env.Sandbox.Stats().BigCommerce.Webhooks; st.Sent != 0 || st.Dropped == 0 {
		t.Fatalf("webhooks not dropped: %+v", st)
	}
	if n := ssCount(env); n != 0 {
		t.Fatalf("ShipStation has %d orders before the poll", n)
	}
	res, err := env.Runner.FireSchedule(ctx, "PollFunction")
	if err != nil || res.Error != "" {
		t.Fatalf("poll: %v %+v", err, res)
	}
	settle(t, ctx, env, "every importable order in ShipStation", func() bool { return env.Check().OK() })
	r := env.Check()
	if r.Present < 5 || r.Duplicates != 0 {
		t.Fatalf("after poll: %+v", r)
	}
	// A second poll (overlap) changes nothing.
	before := ssCount(env)
	if _, err := env.Runner.FireSchedule(ctx, "PollFunction"); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, env, "queues drained", func() bool { return true })
	if after := ssCount(env); after != before || !env.Check().OK() {
		t.Fatalf("second poll: %d → %d ShipStation orders, check %+v", before, after, env.Check())
	}
	// No buyer name, street, phone or email reached a log line.
	out := logs()
	if !strings.Contains(out, "ingest: ledger written") {
		t.Fatal("function logs were not captured")
	}
	for _, v := range env.Sandbox.PIIValues(StoreHash) {
		if len(v) >= 5 && strings.Contains(out, v) {
			t.Errorf("buyer data %q appears in the logs", v)
		}
	}
}

func TestOlderUpdateNeverOverwritesNewer(t *testing.T) {
	env, ctx := up(t, sandbox.Faults{WebhookDuplicateRate: 0.5})
	o := physicalOrder(t, env, sandbox.StatusAwaitingPayment)
	settle(t, ctx, env, "awaiting payment in ShipStation", func() bool { return ssCount(env) == 1 })
	id, _ := order.NewID(order.BigCommerce, StoreID, fmt.Sprint(o.ID))
	first, err := env.Ledger.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Two quick changes; the sandbox delivers their webhooks concurrently,
	// duplicated, in any order.
	if _, err := env.Sandbox.SetOrderStatus(StoreHash, o.ID, sandbox.StatusAwaitingFulfillment); err != nil {
		t.Fatal(err)
	}
	last, err := env.Sandbox.SetOrderStatus(StoreHash, o.ID, sandbox.StatusCancelled)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, env, "cancelled in ShipStation", func() bool { return env.Check().OK() })
	// Replay the oldest news: a poll whose hint is the first version.
	if _, err := env.Runner.FireSchedule(ctx, "PollFunction"); err != nil {
		t.Fatal(err)
	}
	settle(t, ctx, env, "queues drained", func() bool { return true })
	// And write the first version straight into the ledger, as a late
	// ingest would: it must be refused as stale.
	res, _, err := env.Ledger.Upsert(ctx, first.Order, first.State, first.FirstSeenAt, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.String() != "stale" {
		t.Fatalf("late write of the first version: %s, want stale", res)
	}
	rec, err := env.Ledger.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Status != order.Cancelled || !rec.Order.ModifiedAt.Equal(last.DateModified.Truncate(time.Second)) {
		t.Fatalf("ledger holds %s modified %v, want cancelled at %v", rec.Order.Status, rec.Order.ModifiedAt, last.DateModified)
	}
	ss, _ := env.Sandbox.ShipStationOrder(string(id))
	if ss.OrderStatus != "cancelled" {
		t.Fatalf("ShipStation status %q, want cancelled", ss.OrderStatus)
	}
	exc, _, err := env.Ledger.Exceptions(ctx, 10, "")
	if err != nil || len(exc) != 0 {
		t.Fatalf("exceptions: %v %+v", err, exc)
	}
}

func TestBadWebhooksEnqueueNothing(t *testing.T) {
	env, ctx := up(t, sandbox.Faults{WebhookDropRate: 1})
	good := fmt.Sprintf(`{"created_at":1,"store_id":"1","producer":"stores/%s","scope":"store/order/created","hash":"x","data":{"type":"order","id":1}}`, StoreHash)
	cases := []struct {
		name, path, body string
		headers          map[string]string
		want             int
	}{
		{"bad json", "/webhooks/bigcommerce/" + StoreID, `{"scope":`, WebhookHeaders(), 400},
		{"unknown store", "/webhooks/bigcommerce/nope", good, WebhookHeaders(), 404},
		{"bad secret", "/webhooks/bigcommerce/" + StoreID, good, map[string]string{webhookHeader: "wrong"}, 401},
		{"no secret", "/webhooks/bigcommerce/" + StoreID, good, nil, 401},
		{"wrong producer", "/webhooks/bigcommerce/" + StoreID, strings.Replace(good, StoreHash, "other", 1), WebhookHeaders(), 400},
		{"too big", "/webhooks/bigcommerce/" + StoreID, `{"x":"` + strings.Repeat("a", 300<<10) + `"}`, WebhookHeaders(), 413},
	}
	for _, tc := range cases {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.Runner.URL()+tc.path, strings.NewReader(tc.body))
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, resp.StatusCode, b, tc.want)
		}
		if tc.want != 404 && !strings.Contains(string(b), "reason") {
			t.Errorf("%s: no reason in %s", tc.name, b)
		}
	}
	time.Sleep(1500 * time.Millisecond) // longer than the ingest batching window
	st, err := env.Runner.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := st.Functions["IngestFunction"]; f.Invocations != 0 {
		t.Fatalf("ingest ran %d times after rejected webhooks", f.Invocations)
	}
	if n, _, _ := env.Queues(ctx); n != 0 {
		t.Fatalf("%d messages queued after rejected webhooks", n)
	}
}

// ledgerOnly writes a sandbox order into the ledger as ingest would, but
// with no push message, last written at writtenAt: the state a lost push
// message (dead-lettered, or a crash between ledger write and enqueue on the
// last delivery) leaves behind.
func ledgerOnly(t *testing.T, ctx context.Context, env *Env, o sandbox.BCOrder, writtenAt time.Time) order.ID {
	t.Helper()
	bc := &bigcommerce.Client{BaseURL: env.BCURL, StoreHash: StoreHash, AccessToken: bcToken}
	id := int64(o.ID)
	raw, err := bc.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	products, err := bc.Products(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := bc.ShippingAddresses(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	norm, disp, err := bigcommerce.Normalize(StoreID, raw, products, addrs)
	if err != nil || disp == order.Ignore {
		t.Fatalf("normalize: %v (disposition %v)", err, disp)
	}
	res, rec, err := env.Ledger.Upsert(ctx, norm, ledger.StatePending, writtenAt, writtenAt)
	if err != nil || res != ledger.Created || rec.State != ledger.StatePending {
		t.Fatalf("upsert: %v %v %+v", err, res, rec.State)
	}
	return norm.ID
}

func TestReconcileRedrivesALostPush(t *testing.T) {
	env, ctx := up(t, sandbox.Faults{WebhookDropRate: 1}) // nothing reaches ingest by itself
	lost := physicalOrder(t, env, sandbox.StatusAwaitingFulfillment)
	recent := physicalOrder(t, env, sandbox.StatusAwaitingFulfillment)
	lostID := ledgerOnly(t, ctx, env, lost, time.Now().Add(-time.Hour))
	recentID := ledgerOnly(t, ctx, env, recent, time.Now()) // inside the 10m grace: maybe still in flight

	settle(t, ctx, env, "queues empty", func() bool { return true })
	if n := ssCount(env); n != 0 {
		t.Fatalf("ShipStation holds %d orders before the sweep", n)
	}
	res, err := env.Runner.FireSchedule(ctx, "ReconcileFunction")
	if err != nil || res.Error != "" {
		t.Fatalf("reconcile: %v %+v", err, res)
	}
	settle(t, ctx, env, "the lost order in ShipStation", func() bool { return ssCount(env) >= 1 })
	if _, ok := env.Sandbox.ShipStationOrder(string(lostID)); !ok || ssCount(env) != 1 {
		t.Fatalf("ShipStation holds %d orders; the lost one there: %v", ssCount(env), ok)
	}
	rec, err := env.Ledger.Get(ctx, lostID)
	if err != nil || rec.State != ledger.StatePushed || !rec.PushedVersion() {
		t.Fatalf("lost order in the ledger: %v state %s", err, rec.State)
	}
	if rec, err := env.Ledger.Get(ctx, recentID); err != nil || rec.State != ledger.StatePending {
		t.Fatalf("recent order: %v state %s, want left pending for its own push", err, rec.State)
	}

	// A second sweep finds nothing due; the poll then brings the recent one
	// (ingest re-drives its push from the ledger). Each order is in
	// ShipStation exactly once.
	if res, err := env.Runner.FireSchedule(ctx, "ReconcileFunction"); err != nil || res.Error != "" {
		t.Fatalf("second reconcile: %v %+v", err, res)
	}
	if res, err := env.Runner.FireSchedule(ctx, "PollFunction"); err != nil || res.Error != "" {
		t.Fatalf("poll: %v %+v", err, res)
	}
	settle(t, ctx, env, "both orders in ShipStation", func() bool { return env.Check().OK() })
	if r := env.Check(); ssCount(env) != 2 || r.Duplicates != 0 || r.Present != 2 {
		t.Fatalf("ShipStation holds %d orders, check %+v", ssCount(env), r)
	}
	st, err := env.Runner.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := st.Functions["ReconcileFunction"]; f.Invocations != 2 {
		t.Errorf("reconcile ran %d times, want 2", f.Invocations)
	}
}
