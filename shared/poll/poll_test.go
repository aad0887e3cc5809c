package poll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// window is one ModifiedBetween call.
type window struct {
	store    string
	from, to time.Time
}

// bcLister is poll.Lister over real BigCommerce clients, paging as the app
// does (shared/app ModifiedBetween), recording the windows it was asked for.
type bcLister struct {
	clients map[string]*bigcommerce.Client
	mu      sync.Mutex
	calls   []window
}

func (l *bcLister) ModifiedBetween(ctx context.Context, storeID string, from, to time.Time, page func([]poll.Change) error) (time.Time, error) {
	return to, l.list(ctx, storeID, from, to, page)
}

func (l *bcLister) list(ctx context.Context, storeID string, from, to time.Time, page func([]poll.Change) error) error {
	l.mu.Lock()
	l.calls = append(l.calls, window{storeID, from, to})
	l.mu.Unlock()
	c := l.clients[storeID]
	if c == nil {
		return errs.Ef(errs.Invalid, "test.poll", "store %q has no client", storeID)
	}
	const limit = 250
	for p := 1; ; p++ {
		orders, err := c.ListOrders(ctx, bigcommerce.ListOrdersQuery{
			MinDateModified: from, MaxDateModified: to, Page: p, Limit: limit, Sort: "date_modified:asc",
		})
		if err != nil {
			return err
		}
		changes := make([]poll.Change, 0, len(orders))
		for _, o := range orders {
			ch := poll.Change{ChannelOrderID: strconv.FormatInt(o.ID, 10)}
			if t, err := bigcommerce.ParseTime(o.DateModified); err == nil {
				ch.ModifiedAt = t
			}
			changes = append(changes, ch)
		}
		if len(changes) > 0 {
			if err := page(changes); err != nil {
				return err
			}
		}
		if len(orders) < limit {
			return nil
		}
	}
}

func (l *bcLister) windows() []window {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]window(nil), l.calls...)
}

type env struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	bcURL  string
	ledger *dynamo.Ledger
	queue  *sqs.Queue
	lister *bcLister
	cfg    *config.Config
	now    time.Time
	svc    *poll.Service
}

const cfgYAML = `
settings:
  pollOverlap: 10m
  initialLookback: 24h
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
    baseURL: http://127.0.0.1:1
stores:
  - id: bc-main
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
  - id: bc-revoked
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc-revoked
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
  - id: bc-off
    channel: bigcommerce
    enabled: false
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc-off
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
`

func newEnv(t *testing.T) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb.BigCommerce())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	client, table := testenv.DynamoDB(t)
	led := dynamo.New(client, table)
	cfg, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML, "BCURL", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	bc := func(token string) *bigcommerce.Client {
		return &bigcommerce.Client{
			BaseURL: srv.URL, StoreHash: sandbox.DefaultStoreHash, AccessToken: token, HTTP: srv.Client(),
			Budget: led, BudgetKey: "bigcommerce:" + sandbox.DefaultStoreHash,
			Limit: ratelimit.PerWindow(150, 30*time.Second), MaxWait: 5 * time.Second,
		}
	}
	e := &env{
		t: t, sb: sb, bcURL: srv.URL, ledger: led, cfg: cfg, now: t0,
		queue: &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "ingest", nil)},
		lister: &bcLister{clients: map[string]*bigcommerce.Client{
			"bc-main":    bc(sandbox.DefaultBigCommerceToken),
			"bc-revoked": bc("revoked-token"),
			"bc-off":     bc(sandbox.DefaultBigCommerceToken),
		}},
	}
	// Only bc-main is polled unless a test adds the others.
	onlyMain, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML[:strings.Index(cfgYAML, "  - id: bc-revoked")], "BCURL", srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = e.service(onlyMain, e.queue)
	return e
}

func (e *env) service(cfg *config.Config, q queue.Sender) *poll.Service {
	return &poll.Service{
		Config: cfg, Watermarks: e.ledger, Listers: map[order.Channel]poll.Lister{order.BigCommerce: e.lister},
		Ingest: q, Log: obs.NewLogger(&bytes.Buffer{}, "ERROR"),
		Now: func() time.Time { return e.now },
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// order creates a BigCommerce order last modified at mod.
func (e *env) order(mod time.Time) sandbox.BCOrder {
	e.t.Helper()
	o, err := e.sb.CreateOrder(sandbox.OrderSpec{
		StatusID: sandbox.StatusAwaitingFulfillment, DateCreated: mod,
		ShippingAddresses: []sandbox.ShippingAddress{{Address: sandbox.Address{
			FirstName: "Ada", LastName: "Lovelace", Street1: "1 Main St", City: "Austin", State: "Texas",
			Zip: "78701", Country: "United States", CountryISO2: "US",
		}, ShippingMethod: "Flat Rate"}},
		Lines: []sandbox.LineSpec{{Name: "Mug", SKU: "MUG-1", Quantity: 1, UnitPriceCents: 1599, Weight: "1.0000"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// drain receives every message on q.
func drain(t *testing.T, q *sqs.Queue) []queue.Ingest {
	t.Helper()
	var out []queue.Ingest
	for {
		msgs, err := q.Receive(ctx(t), 10, 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			if vis, _, err := q.Depth(ctx(t)); err != nil || vis != 0 {
				t.Fatalf("receive came back empty with %d visible (%v)", vis, err)
			}
			return out
		}
		for _, m := range msgs {
			out = append(out, decode(t, m))
		}
	}
}

func decode(t *testing.T, m events.SQSMessage) queue.Ingest {
	t.Helper()
	var in queue.Ingest
	if err := json.Unmarshal([]byte(m.Body), &in); err != nil {
		t.Fatalf("not a queue.Ingest: %v: %s", err, m.Body)
	}
	return in
}

func ids(msgs []queue.Ingest) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ChannelOrderID)
	}
	sort.Strings(out)
	return out
}

func idsOf(orders ...sandbox.BCOrder) []string {
	var out []string
	for _, o := range orders {
		out = append(out, strconv.Itoa(o.ID))
	}
	sort.Strings(out)
	return out
}

func (e *env) watermark(store string) time.Time {
	e.t.Helper()
	wm, err := e.ledger.Watermark(ctx(e.t), poll.WatermarkKey(order.BigCommerce, store))
	if err != nil {
		e.t.Fatal(err)
	}
	return wm
}

func TestFirstRunUsesInitialLookback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tooOld := e.order(t0.Add(-25 * time.Hour))
	b := e.order(t0.Add(-23 * time.Hour))
	c := e.order(t0.Add(-time.Minute))
	atNow := e.order(t0)
	future := e.order(t0.Add(time.Hour))
	_, _ = tooOld, future

	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	w := e.lister.windows()
	if len(w) != 1 || !w[0].from.Equal(t0.Add(-24*time.Hour)) || !w[0].to.Equal(t0) || w[0].store != "bc-main" {
		t.Errorf("lister windows = %+v, want bc-main [t0-24h, t0]", w)
	}
	msgs := drain(t, e.queue)
	if got, want := ids(msgs), idsOf(b, c, atNow); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("enqueued %v, want %v", got, want)
	}
	mods := map[string]time.Time{strconv.Itoa(b.ID): b.DateModified, strconv.Itoa(c.ID): c.DateModified, strconv.Itoa(atNow.ID): atNow.DateModified}
	for _, m := range msgs {
		if m.Channel != order.BigCommerce || m.StoreID != "bc-main" || m.Source != "poll" || !m.ReceivedAt.Equal(t0) {
			t.Errorf("message = %+v", m)
		}
		if !m.ModifiedAt.Equal(mods[m.ChannelOrderID]) {
			t.Errorf("order %s: ModifiedAt %v, want the channel's %v", m.ChannelOrderID, m.ModifiedAt, mods[m.ChannelOrderID])
		}
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0) {
		t.Errorf("watermark = %v, want Now() %v", wm, t0)
	}
}

func TestSecondRunStartsAtWatermarkMinusOverlap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.order(t0.Add(-23 * time.Hour))
	c := e.order(t0.Add(-time.Minute))
	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(drain(t, e.queue)); n != 2 {
		t.Fatalf("first run enqueued %d, want 2", n)
	}

	// Written on the channel side after the first run, dated before it.
	late := e.order(t0.Add(-5 * time.Minute))
	e.order(t0.Add(-15 * time.Minute)) // outside the overlap: missed by design
	fresh := e.order(t0.Add(3 * time.Minute))
	e.now = t0.Add(5 * time.Minute)
	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	w := e.lister.windows()
	if len(w) != 2 || !w[1].from.Equal(t0.Add(-10*time.Minute)) || !w[1].to.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("second window = %+v, want [t0-10m, t0+5m]", w[len(w)-1])
	}
	// c is inside the overlap, so it comes again (ingest dedupes on the version).
	if got, want := ids(drain(t, e.queue)), idsOf(c, late, fresh); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("second run enqueued %v, want %v", got, want)
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("watermark = %v, want t0+5m", wm)
	}
}

func TestEnqueueFailureKeepsTheWatermark(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.svc.Run(ctx(t)); err != nil { // nothing yet: watermark t0
		t.Fatal(err)
	}
	a := e.order(t0.Add(2 * time.Minute))
	b := e.order(t0.Add(4 * time.Minute))
	e.now = t0.Add(5 * time.Minute)

	broken := &sqs.Queue{Client: e.queue.Client, URL: e.queue.URL[:strings.LastIndexByte(e.queue.URL, '/')+1] + "shiprelay-no-such-queue"}
	failing := e.service(e.svc.Config, broken)
	err := failing.Handle(ctx(t), events.EventBridgeEvent{DetailType: "Scheduled Event"})
	if err == nil {
		t.Fatal("Handle returned nil although nothing could be enqueued")
	}
	if !strings.Contains(err.Error(), "bc-main") {
		t.Errorf("error does not name the store: %v", err)
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0) {
		t.Errorf("watermark moved to %v after a failed run, want it kept at %v", wm, t0)
	}
	if msgs := drain(t, e.queue); len(msgs) != 0 {
		t.Errorf("%d messages", len(msgs))
	}

	// The next run repeats the window.
	e.now = t0.Add(10 * time.Minute)
	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(drain(t, e.queue)), idsOf(a, b); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("retry run enqueued %v, want %v", got, want)
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("watermark = %v", wm)
	}
}

func TestNoOrdersAdvancesTheWatermark(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.order(t0.Add(-48 * time.Hour)) // the store has orders, none in range
	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatalf("a 204 from BigCommerce must not be an error: %v", err)
	}
	if got := e.sb.Stats().BigCommerce.RequestsByRoute["GET /v2/orders"]; got != 1 {
		t.Errorf("GET /v2/orders called %d times, want 1", got)
	}
	if msgs := drain(t, e.queue); len(msgs) != 0 {
		t.Errorf("enqueued %d", len(msgs))
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0) {
		t.Errorf("watermark = %v, want %v", wm, t0)
	}
}

func TestPagingOverManyOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []sandbox.BCOrder
	for i := range 260 {
		want = append(want, e.order(t0.Add(-time.Duration(i+1)*time.Minute)))
	}
	if err := e.svc.Run(ctx(t)); err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, e.queue)
	got := ids(msgs)
	if len(got) != 260 || strings.Join(got, ",") != strings.Join(idsOf(want...), ",") {
		t.Errorf("enqueued %d distinct-or-not orders, want the 260 created", len(got))
	}
	if n := e.sb.Stats().BigCommerce.RequestsByRoute["GET /v2/orders"]; n != 2 {
		t.Errorf("GET /v2/orders called %d times, want 2 pages", n)
	}
}

func TestOneStoreFailingDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.order(t0.Add(-time.Hour))
	svc := e.service(e.cfg, e.queue) // bc-main, bc-revoked (bad token), bc-off (disabled)
	err := svc.Run(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "bc-revoked") || strings.Contains(err.Error(), "bc-main") {
		t.Fatalf("Run error = %v, want one naming only bc-revoked", err)
	}
	if !errs.Is(err, errs.Unauthorised) {
		t.Errorf("the store's failure lost its kind: %v", err)
	}
	for _, w := range e.lister.windows() {
		if w.store == "bc-off" {
			t.Errorf("a disabled store was polled")
		}
	}
	if got := ids(drain(t, e.queue)); strings.Join(got, ",") != strings.Join(idsOf(a), ",") {
		t.Errorf("enqueued %v, want bc-main's %v", got, idsOf(a))
	}
	if wm := e.watermark("bc-main"); !wm.Equal(t0) {
		t.Errorf("bc-main watermark = %v", wm)
	}
	if wm := e.watermark("bc-revoked"); !wm.IsZero() {
		t.Errorf("failed store's watermark = %v, want unset", wm)
	}
	if st := e.sb.Stats().BigCommerce; st.Unauthorized != 1 {
		t.Errorf("sandbox 401s = %d, want 1", st.Unauthorized)
	}
}
