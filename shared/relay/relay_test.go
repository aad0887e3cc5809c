package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/relay"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/shipstation"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const (
	storeID   = "bc-main"
	account   = "main"
	ssStoreID = 22766
)

const cfgYAML = `
settings:
  reconcileAfter: 10m
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
    baseURL: SSURL
stores:
  - id: bc-main
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
      storeId: 22766
`

// env is the shipments function over the real ledger and a real notify
// queue, reading labels from the sandbox ShipStation.
type env struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	ssURL  string
	ledger *dynamo.Ledger
	notify *sqs.Queue
	ss     *shipstation.Client
	bc     *bigcommerce.Client
	svc    *relay.Service
	logs   *bytes.Buffer
}

func newEnv(t *testing.T) *env { return newEnvWith(t, sandbox.Options{}) }

func newEnvWith(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	sb := sandbox.New(opts)
	ssSrv := httptest.NewServer(sb.ShipStation())
	bcSrv := httptest.NewServer(sb.BigCommerce())
	t.Cleanup(func() { ssSrv.Close(); bcSrv.Close(); sb.Close() })
	sb.SetShipStationBaseURL(ssSrv.URL)
	cfg, err := config.Parse([]byte(strings.NewReplacer("SSURL", ssSrv.URL, "BCURL", bcSrv.URL).Replace(cfgYAML)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	e := &env{
		t: t, sb: sb, ssURL: ssSrv.URL, ledger: dynamo.New(client, table),
		notify: &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "notify", nil)},
		logs:   &bytes.Buffer{},
	}
	e.ss = &shipstation.Client{BaseURL: ssSrv.URL, APIKey: sandbox.DefaultShipStationKey, APISecret: sandbox.DefaultShipStationSecret, HTTP: ssSrv.Client()}
	e.bc = &bigcommerce.Client{BaseURL: bcSrv.URL, StoreHash: sandbox.DefaultStoreHash, AccessToken: sandbox.DefaultBigCommerceToken, HTTP: bcSrv.Client()}
	e.svc = &relay.Service{
		Config: cfg, Ledger: e.ledger,
		Source: func(_ context.Context, id string) (relay.Source, error) {
			if id != account {
				return nil, fmt.Errorf("no account %q", id)
			}
			return shipstation.Labels{Client: e.ss, Account: account}, nil
		},
		Notify:  map[order.Channel]queue.Sender{order.BigCommerce: e.notify},
		Log:     obs.NewLogger(e.logs, "DEBUG"),
		Metrics: obs.NewMetrics(&bytes.Buffer{}, "shiprelay"),
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// pushed creates a BigCommerce order in the sandbox, imports it into the
// ledger as ingest would and pushes it to the sandbox ShipStation as push
// would (orderKey recorded). extra, when set, edits the ShipStation order
// before it is sent. It returns the ledger order and its orderKey.
func (e *env) pushed(lines []sandbox.LineSpec, extra func(*shipstation.Order)) (order.Order, string) {
	e.t.Helper()
	c := ctx(e.t)
	o, err := e.sb.CreateOrder(sandbox.OrderSpec{
		StoreHash: sandbox.DefaultStoreHash, StatusID: sandbox.StatusAwaitingFulfillment,
		Billing:           sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US", Email: "ada@example.com"},
		ShippingAddresses: []sandbox.ShippingAddress{{Address: sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US"}, ShippingMethod: "Ground"}},
		Lines:             lines,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	id := int64(o.ID)
	raw, err := e.bc.GetOrder(c, id)
	if err != nil {
		e.t.Fatal(err)
	}
	products, err := e.bc.Products(c, id)
	if err != nil {
		e.t.Fatal(err)
	}
	addrs, err := e.bc.ShippingAddresses(c, id)
	if err != nil {
		e.t.Fatal(err)
	}
	norm, _, err := bigcommerce.Normalize(storeID, raw, products, addrs)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, _, err := e.ledger.Upsert(c, norm, ledger.StatePending, now, now); err != nil {
		e.t.Fatal(err)
	}
	so, err := shipstation.FromOrder(&norm, "", shipstation.Target{StoreID: ssStoreID, Source: "bigcommerce"})
	if err != nil {
		e.t.Fatal(err)
	}
	if extra != nil {
		extra(&so)
	}
	res, err := e.ss.CreateOrders(c, []shipstation.Order{so})
	if err != nil || res.HasErrors || len(res.Results) != 1 {
		e.t.Fatalf("createorders: %v %+v", err, res)
	}
	p := ledger.Push{Group: "", OrderKey: so.OrderKey, ShipStationOrderID: res.Results[0].OrderID, Account: account, Version: norm.ModifiedAt, Status: norm.Status, At: now}
	if err := e.ledger.MarkPushed(c, norm.ID, p, now); err != nil {
		e.t.Fatal(err)
	}
	return norm, so.OrderKey
}

func mugs(n int) []sandbox.LineSpec {
	return []sandbox.LineSpec{{Name: "Black Mug", SKU: "MUG-BLK", Quantity: n, UnitPriceCents: 1599, Weight: "0.75"}}
}

// ship labels the whole order in one package and returns the label.
func (e *env) ship(orderKey string) sandbox.SSShipment {
	e.t.Helper()
	labels, err := e.sb.ShipOrder(orderKey, nil, "stamps_com", "")
	if err != nil || len(labels) != 1 {
		e.t.Fatalf("ship %s: %v %d labels", orderKey, err, len(labels))
	}
	return labels[0]
}

// window relays every label created in the last hour (a scheduled pull).
func (e *env) window() {
	e.t.Helper()
	now := time.Now()
	if err := e.svc.Process(ctx(e.t), queue.Shipments{Account: account, From: now.Add(-time.Hour), To: now.Add(time.Hour), ReceivedAt: now}); err != nil {
		e.t.Fatalf("relay window: %v", err)
	}
}

// resource relays one batch, as a SHIP_NOTIFY for it would.
func (e *env) resource(batchID int64) {
	e.t.Helper()
	u := fmt.Sprintf("%s/shipments?batchId=%d&includeShipmentItems=False", e.ssURL, batchID)
	if err := e.svc.Process(ctx(e.t), queue.Shipments{Account: account, ResourceURL: u, ReceivedAt: time.Now()}); err != nil {
		e.t.Fatalf("relay resource %s: %v", u, err)
	}
}

// drain receives (and deletes) everything on the notify queue.
func (e *env) drain() []queue.Notify {
	e.t.Helper()
	var out []queue.Notify
	for {
		msgs, err := e.notify.Receive(ctx(e.t), 10, 0, time.Minute)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		var handles []string
		for _, m := range msgs {
			out = append(out, notifyOf(e.t, m))
			handles = append(handles, m.ReceiptHandle)
		}
		if err := e.notify.Delete(ctx(e.t), handles...); err != nil {
			e.t.Fatal(err)
		}
	}
}

func notifyOf(t *testing.T, m events.SQSMessage) queue.Notify {
	t.Helper()
	var n queue.Notify
	if err := json.Unmarshal([]byte(m.Body), &n); err != nil {
		t.Fatalf("notify body %s: %v", m.Body, err)
	}
	return n
}

func (e *env) notes(id order.ID) []shipment.Notification {
	e.t.Helper()
	ns, err := e.ledger.Notifications(ctx(e.t), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

func (e *env) exceptions() []ledger.Exception {
	e.t.Helper()
	x, _, err := e.ledger.Exceptions(ctx(e.t), 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

func labelKey(l sandbox.SSShipment) string {
	return account + ":" + strconv.FormatInt(l.ShipmentID, 10)
}

func TestLabelIsPlannedOnceAndQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o, key := e.pushed(mugs(2), nil)
	label := e.ship(key)
	e.resource(label.BatchID)
	e.resource(label.BatchID) // the same SHIP_NOTIFY again
	e.window()                // and the pull
	ns := e.notes(o.ID)
	if len(ns) != 1 {
		t.Fatalf("%d notifications, want 1: %+v", len(ns), ns)
	}
	n := ns[0]
	wantID := shipment.NotificationID(labelKey(label), o.ID, "")
	if n.ID != wantID || n.State != shipment.Planned || n.TrackingNumber != label.TrackingNumber || n.Replaces != "" {
		t.Errorf("notification = %+v, want %s planned with tracking %s", n, wantID, label.TrackingNumber)
	}
	if len(n.Lines) != 1 || n.Lines[0].LineID != o.Items[0].LineID || n.Lines[0].Quantity != 2 {
		t.Errorf("lines = %+v, want %s×2", n.Lines, o.Items[0].LineID)
	}
	// Seeing a recent, still planned notification again leaves it to the
	// message already in flight.
	msgs := e.drain()
	if len(msgs) == 0 {
		t.Fatal("no notify message")
	}
	for _, m := range msgs {
		if m.OrderID != o.ID || m.NotificationID != wantID {
			t.Errorf("notify message %+v", m)
		}
	}
	if len(msgs) != 1 {
		t.Errorf("%d notify messages for one label seen three times, want 1", len(msgs))
	}
}

func TestVoidedLabelIsNeverRelayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Voided before the relay ever saw it.
	early, earlyKey := e.pushed(mugs(1), nil)
	l1 := e.ship(earlyKey)
	if err := e.sb.VoidShipment(l1.ShipmentID); err != nil {
		t.Fatal(err)
	}
	// Voided after it was planned, before the channel heard of it.
	late, lateKey := e.pushed(mugs(1), nil)
	l2 := e.ship(lateKey)
	e.resource(l2.BatchID)
	if msgs := e.drain(); len(msgs) != 1 {
		t.Fatalf("%d notify messages for the live label, want 1", len(msgs))
	}
	if err := e.sb.VoidShipment(l2.ShipmentID); err != nil {
		t.Fatal(err)
	}

	e.window()
	e.window() // a replayed pull changes nothing
	if ns := e.notes(early.ID); len(ns) != 0 {
		t.Errorf("label voided before the relay: notifications %+v, want none", ns)
	}
	if got, err := e.ledger.Label(ctx(t), labelKey(l1)); err != nil || !got.Voided {
		t.Errorf("label %s in the ledger: %+v %v, want recorded voided", labelKey(l1), got, err)
	}
	ns := e.notes(late.ID)
	if len(ns) != 1 || ns[0].State != shipment.Skipped || !strings.Contains(ns[0].Reason, "voided") {
		t.Fatalf("label voided after planning: %+v, want one notification skipped as voided", ns)
	}
	if msgs := e.drain(); len(msgs) != 0 {
		t.Errorf("voided labels queued %d notify messages: %+v", len(msgs), msgs)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions: %+v", x)
	}
}

// confirm settles a planned notification as the notify function would.
func (e *env) confirm(n shipment.Notification, ref string) {
	e.t.Helper()
	if _, err := e.ledger.SettleNotification(ctx(e.t), n.OrderID, n.ID, shipment.Confirmed, ref, "", time.Now()); err != nil {
		e.t.Fatal(err)
	}
}

func TestRelabelAfterAConfirmedVoidReplacesTheTracking(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// relabelFirst: the new label's SHIP_NOTIFY is relayed before any
		// pull shows the void.
		relabelFirst bool
	}{{"void seen with the re-label", false}, {"re-label seen before its void", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			o, key := e.pushed(mugs(2), nil)
			old := e.ship(key)
			e.resource(old.BatchID)
			first := e.notes(o.ID)
			if len(first) != 1 || first[0].State != shipment.Planned {
				t.Fatalf("first label: %+v", first)
			}
			e.drain()
			const ref = "4711"
			e.confirm(first[0], ref)

			fresh, err := e.sb.Relabel(old.ShipmentID)
			if err != nil {
				t.Fatal(err)
			}
			if fresh.TrackingNumber == old.TrackingNumber {
				t.Fatal("the re-label kept the tracking number")
			}
			freshID := shipment.NotificationID(labelKey(fresh), o.ID, "")
			if tc.relabelFirst {
				e.resource(fresh.BatchID)
				var got *shipment.Notification
				for _, n := range e.notes(o.ID) {
					if n.ID == freshID {
						got = &n
					}
				}
				// The old label still counts as shipped: nothing is sent yet.
				if got == nil || got.State != shipment.Skipped || got.Reason != shipment.NothingLeft {
					t.Fatalf("re-label before its void: %+v, want skipped (nothing left)", got)
				}
				if msgs := e.drain(); len(msgs) != 0 {
					t.Fatalf("re-label before its void queued %+v", msgs)
				}
			}
			e.window()

			var planned []shipment.Notification
			for _, n := range e.notes(o.ID) {
				switch {
				case n.ShipmentKey == labelKey(old):
					if n.State != shipment.Confirmed || n.ChannelRef != ref {
						t.Errorf("the voided label's confirmation changed: %+v", n)
					}
				case n.State == shipment.Planned:
					planned = append(planned, n)
				}
			}
			if len(planned) != 1 {
				t.Fatalf("%d planned notifications after the re-label, want 1: %+v", len(planned), e.notes(o.ID))
			}
			r := planned[0]
			if r.Replaces != ref || r.TrackingNumber != fresh.TrackingNumber || r.ShipmentKey != labelKey(fresh) {
				t.Errorf("replacement = %+v, want tracking %s replacing %s", r, fresh.TrackingNumber, ref)
			}
			if len(r.Lines) != 1 || r.Lines[0].Quantity != 2 {
				t.Errorf("replacement lines %+v, want the label's 2 mugs", r.Lines)
			}
			msgs := e.drain()
			if len(msgs) != 1 || msgs[0].NotificationID != r.ID {
				t.Fatalf("notify messages %+v, want one for %s", msgs, r.ID)
			}
			// Replays plan nothing more.
			e.window()
			e.resource(fresh.BatchID)
			want := 2 // the voided label's and the replacement
			if tc.relabelFirst {
				want = 3 // and the re-label's own, skipped
			}
			if n := len(e.notes(o.ID)); n != want {
				t.Errorf("%d notifications after replays, want %d: %+v", n, want, e.notes(o.ID))
			}
			if msgs := e.drain(); len(msgs) != 0 {
				t.Errorf("replays queued %+v", msgs)
			}
		})
	}
}

func TestLabelOfAnOrderShiprelayNeverPushedIsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	so := shipstation.Order{
		OrderNumber: "MANUAL-1", OrderKey: "manual-order-1", OrderDate: shipstation.Time{Time: time.Now()},
		OrderStatus: "awaiting_shipment",
		BillTo:      shipstation.Address{Name: "Someone"},
		ShipTo:      shipstation.Address{Name: "Someone", Street1: "1 Main", City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		Items:       []shipstation.Item{{LineItemKey: "1", SKU: "X", Name: "Thing", Quantity: 1, UnitPrice: "1.00"}},
	}
	if res, err := e.ss.CreateOrders(ctx(t), []shipstation.Order{so}); err != nil || res.HasErrors {
		t.Fatalf("createorders: %v %+v", err, res)
	}
	label := e.ship("manual-order-1")
	e.resource(label.BatchID)
	e.window()
	if got, err := e.ledger.Label(ctx(t), labelKey(label)); err != nil || got.OrderKey != "manual-order-1" {
		t.Errorf("label not recorded: %+v %v", got, err)
	}
	if msgs := e.drain(); len(msgs) != 0 {
		t.Errorf("a label of a foreign order queued %+v", msgs)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("a label of a foreign order raised %+v", x)
	}
}

func TestLabelWithLinesTheOrderLacksIsAnException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o, key := e.pushed(mugs(1), func(so *shipstation.Order) {
		// A line added in ShipStation under a lineItemKey the channel
		// order never had.
		so.Items = append(so.Items, shipstation.Item{LineItemKey: "999999", SKU: "GHOST", Name: "Ghost", Quantity: 1, UnitPrice: "1.00"})
	})
	label := e.ship(key)
	if len(label.ShipmentItems) != 2 {
		t.Fatalf("label items %+v, want 2", label.ShipmentItems)
	}
	e.resource(label.BatchID)
	var found []ledger.Exception
	for _, x := range e.exceptions() {
		if strings.Contains(x.Message, "999999") {
			found = append(found, x)
		}
	}
	if len(found) != 1 || found[0].Kind != "invalid" || found[0].OrderID != o.ID {
		t.Fatalf("exceptions naming line 999999: %+v, want one invalid for %s", found, o.ID)
	}
	ns := e.notes(o.ID)
	if len(ns) != 1 {
		t.Fatalf("notifications %+v, want 1", ns)
	}
	// Only the order's own line is ever reported to the channel.
	for _, l := range ns[0].Lines {
		if l.LineID != o.Items[0].LineID {
			t.Errorf("notification carries line %s the order lacks", l.LineID)
		}
	}
	// Replays record the same exception, not new ones.
	e.resource(label.BatchID)
	e.window()
	n := 0
	for _, x := range e.exceptions() {
		if strings.Contains(x.Message, "999999") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d exceptions after replays, want 1", n)
	}
}
