package notify_test

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
	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/notify"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/retry"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const storeID = "bc-main"

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
      storeId: 22766
    notify:
      channel: NOTIFY
`

// Routes of the sandbox BigCommerce's request counters.
const (
	postShipment = "POST /v2/orders/{id}/shipments"
	getShipments = "GET /v2/orders/{id}/shipments"
	putShipment  = "PUT /v2/orders/{id}/shipments/{sid}"
)

// env is a BigCommerce notify function over the real ledger, confirming on
// the sandbox BigCommerce through the real client.
type env struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	ledger *dynamo.Ledger
	queue  *sqs.Queue
	svc    *notify.Service
	// token is the access token the store's client sends.
	token string
}

type options struct {
	notifyOff bool
	token     string
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(sb.BigCommerce())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	on := "true"
	if o.notifyOff {
		on = "false"
	}
	cfg, err := config.Parse([]byte(strings.NewReplacer("BCURL", srv.URL, "NOTIFY", on).Replace(cfgYAML)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	e := &env{t: t, sb: sb, ledger: dynamo.New(client, table), token: o.token}
	if e.token == "" {
		e.token = sandbox.DefaultBigCommerceToken
	}
	e.queue = &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "notify", nil)}
	log := obs.NewLogger(&bytes.Buffer{}, "DEBUG")
	e.svc = &notify.Service{
		Config: cfg, Ledger: e.ledger, Log: log, Metrics: obs.NewMetrics(&bytes.Buffer{}, "shiprelay"),
		Confirmer: &notify.BigCommerce{
			Client: func(_ context.Context, id string) (*bigcommerce.Client, error) {
				st := cfg.Store(id)
				if st == nil {
					return nil, fmt.Errorf("no store %q", id)
				}
				return &bigcommerce.Client{BaseURL: st.BaseURL, StoreHash: st.BigCommerce.StoreHash, AccessToken: e.token, HTTP: srv.Client()}, nil
			},
			Carriers: func(id string) *carrier.Map { return cfg.Store(id).CarrierMap() },
		},
		Retry: &lambdaio.Retrier{Visibility: e.queue, Policy: retry.Policy{Base: time.Second, Cap: 15 * time.Minute, Rand: func() float64 { return 0.5 }}, Log: log},
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// imported creates a BigCommerce order of n mugs and imports it into the
// ledger as ingest would.
func (e *env) imported(n int) (sandbox.BCOrder, order.Order) {
	e.t.Helper()
	c := ctx(e.t)
	o, err := e.sb.CreateOrder(sandbox.OrderSpec{
		StoreHash: sandbox.DefaultStoreHash, StatusID: sandbox.StatusAwaitingFulfillment,
		Billing:           sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US", Email: "ada@example.com"},
		ShippingAddresses: []sandbox.ShippingAddress{{Address: sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US"}, ShippingMethod: "Ground"}},
		Lines:             []sandbox.LineSpec{{Name: "Black Mug", SKU: "MUG-BLK", Quantity: n, UnitPriceCents: 1599, Weight: "0.75"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	bc := &bigcommerce.Client{BaseURL: e.svc.Config.Store(storeID).BaseURL, StoreHash: sandbox.DefaultStoreHash, AccessToken: sandbox.DefaultBigCommerceToken}
	raw, err := bc.GetOrder(c, int64(o.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	products, err := bc.Products(c, int64(o.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	addrs, err := bc.ShippingAddresses(c, int64(o.ID))
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
	return o, norm
}

// plan records a label of qty units of the order's line and plans its
// notification, as the shipments function would; replaces, when set, is
// the channel reference of a confirmation of a since-voided label.
func (e *env) plan(o order.Order, labelID, tracking string, qty int, replaces string) shipment.Notification {
	e.t.Helper()
	label := shipment.Shipment{
		ID: labelID, Account: "main", OrderKey: string(o.ID), TrackingNumber: tracking,
		CarrierCode: "stamps_com", ServiceCode: "usps_ground_advantage", ShipDate: time.Now().UTC(), CreatedAt: time.Now().UTC(),
		Lines: []shipment.Line{{LineID: o.Items[0].LineID, SKU: o.Items[0].SKU, Quantity: qty}},
	}
	n, err := shipment.Plan(label, shipment.Target{Order: o, Group: ""}, nil, time.Now().UTC())
	if err != nil || n.State != shipment.Planned {
		e.t.Fatalf("plan: %v %+v", err, n)
	}
	n.Replaces = replaces
	if created, err := e.ledger.PlanNotification(ctx(e.t), n); err != nil || !created {
		e.t.Fatalf("plan notification: %v %v", created, err)
	}
	return n
}

func msgOf(n shipment.Notification) queue.Notify {
	return queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}
}

func (e *env) note(n shipment.Notification) shipment.Notification {
	e.t.Helper()
	ns, err := e.ledger.Notifications(ctx(e.t), n.OrderID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, x := range ns {
		if x.ID == n.ID {
			return x
		}
	}
	e.t.Fatalf("notification %s is not in the ledger", n.ID)
	return shipment.Notification{}
}

func (e *env) routes() map[string]int64 { return e.sb.Stats().BigCommerce.RequestsByRoute }

func TestConfirmCreatesOneShipmentAndIsNeverRepeated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	bo, o := e.imported(2)
	n := e.plan(o, "5001", "9400111899223100000001", 2, "")
	if err := e.svc.Process(ctx(t), msgOf(n)); err != nil {
		t.Fatal(err)
	}
	got := e.note(n)
	shipments := e.sb.Shipments(sandbox.DefaultStoreHash, bo.ID)
	if len(shipments) != 1 {
		t.Fatalf("%d BigCommerce shipments, want 1", len(shipments))
	}
	sh := shipments[0]
	if got.State != shipment.Confirmed || got.ChannelRef != strconv.Itoa(sh.ID) || got.ConfirmedAt.IsZero() {
		t.Errorf("notification = %+v, want confirmed as shipment %d", got, sh.ID)
	}
	if sh.TrackingNumber != n.TrackingNumber || sh.OrderAddressID != bo.ShippingAddresses[0].ID {
		t.Errorf("shipment tracking %q address %d", sh.TrackingNumber, sh.OrderAddressID)
	}
	if len(sh.Items) != 1 || sh.Items[0].OrderProductID != bo.Lines[0].ID || sh.Items[0].Quantity != 2 {
		t.Errorf("shipment items %+v, want line %d ×2", sh.Items, bo.Lines[0].ID)
	}
	if sh.ShippingProvider == "" && sh.TrackingCarrier == "" {
		t.Errorf("a known carrier (stamps_com) reached BigCommerce without provider or tracking carrier: %+v", sh)
	}

	// Replays (a duplicate message, a re-drive) call BigCommerce no more.
	before := e.sb.Stats().BigCommerce.Requests
	for range 3 {
		if err := e.svc.Process(ctx(t), msgOf(n)); err != nil {
			t.Fatal(err)
		}
	}
	if after := e.sb.Stats().BigCommerce.Requests; after != before {
		t.Errorf("replays of a confirmed notification made %d BigCommerce requests", after-before)
	}
	if again := e.note(n); again.ChannelRef != got.ChannelRef || !again.ConfirmedAt.Equal(got.ConfirmedAt) {
		t.Errorf("replay changed the confirmation: %+v → %+v", got, again)
	}
	if r := e.routes(); r[postShipment] != 1 {
		t.Errorf("%d shipment POSTs, want 1", r[postShipment])
	}
}

func TestNotifyOffSkipsWithoutCallingTheChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{notifyOff: true})
	bo, o := e.imported(1)
	before := e.sb.Stats().BigCommerce.Requests
	n := e.plan(o, "5002", "9400111899223100000002", 1, "")
	if err := e.svc.Process(ctx(t), msgOf(n)); err != nil {
		t.Fatal(err)
	}
	got := e.note(n)
	if got.State != shipment.Skipped || !strings.Contains(got.Reason, "off") {
		t.Errorf("notification = %+v, want skipped (notification off)", got)
	}
	if after := e.sb.Stats().BigCommerce.Requests; after != before {
		t.Errorf("%d BigCommerce requests with notify.channel false", after-before)
	}
	if s := e.sb.Shipments(sandbox.DefaultStoreHash, bo.ID); len(s) != 0 {
		t.Errorf("BigCommerce shipments %+v", s)
	}
}

func TestLostResponseIsAdoptedNotDuplicated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	bo, o := e.imported(1)
	n := e.plan(o, "5003", "9400111899223100000003", 1, "")
	e.sb.SetBigCommerceFaults(sandbox.Faults{RateLostResponse: 1})
	err := e.svc.Process(ctx(t), msgOf(n))
	if err == nil || !errs.Retryable(err) {
		t.Fatalf("lost response: %v, want a retryable error", err)
	}
	if st := e.sb.Stats().BigCommerce; st.LostResponses != 1 {
		t.Fatalf("lost responses %d, want 1", st.LostResponses)
	}
	if got := e.note(n); got.State != shipment.Planned {
		t.Fatalf("after a lost response: %+v, want still planned", got)
	}
	created := e.sb.Shipments(sandbox.DefaultStoreHash, bo.ID)
	if len(created) != 1 {
		t.Fatalf("the lost POST left %d shipments, want 1", len(created))
	}

	e.sb.SetBigCommerceFaults(sandbox.Faults{})
	if err := e.svc.Process(ctx(t), msgOf(n)); err != nil {
		t.Fatal(err)
	}
	if got := e.note(n); got.State != shipment.Confirmed || got.ChannelRef != strconv.Itoa(created[0].ID) {
		t.Errorf("retry: %+v, want confirmed by adopting shipment %d", got, created[0].ID)
	}
	if s := e.sb.Shipments(sandbox.DefaultStoreHash, bo.ID); len(s) != 1 {
		t.Errorf("%d BigCommerce shipments after the retry, want 1", len(s))
	}
	if r := e.routes(); r[postShipment] != 1 {
		t.Errorf("%d shipment POSTs, want 1 (the retry must adopt)", r[postShipment])
	}
}

func TestReplacementUpdatesTheShipmentsTracking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	bo, o := e.imported(1)
	first := e.plan(o, "5004", "9400111899223100000004", 1, "")
	if err := e.svc.Process(ctx(t), msgOf(first)); err != nil {
		t.Fatal(err)
	}
	ref := e.note(first).ChannelRef
	// The label was voided and re-labelled: the relay plans the new label
	// as a replacement of the confirmed one.
	second := e.plan(o, "5005", "9400111899223100000005", 1, ref)
	if err := e.svc.Process(ctx(t), msgOf(second)); err != nil {
		t.Fatal(err)
	}
	if got := e.note(second); got.State != shipment.Confirmed || got.ChannelRef != ref {
		t.Errorf("replacement = %+v, want confirmed on shipment %s", got, ref)
	}
	s := e.sb.Shipments(sandbox.DefaultStoreHash, bo.ID)
	if len(s) != 1 || strconv.Itoa(s[0].ID) != ref || s[0].TrackingNumber != second.TrackingNumber {
		t.Fatalf("BigCommerce shipments %+v, want shipment %s with tracking %s", s, ref, second.TrackingNumber)
	}
	if len(s[0].Items) != 1 || s[0].Items[0].Quantity != 1 {
		t.Errorf("the update changed the shipped quantities: %+v", s[0].Items)
	}
	if r := e.routes(); r[postShipment] != 1 || r[putShipment] != 1 {
		t.Errorf("POSTs %d, PUTs %d; want 1 and 1", r[postShipment], r[putShipment])
	}
}

func TestUnauthorisedPausesTheStoreOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{token: "revoked-token"})
	_, o := e.imported(2)
	a := e.plan(o, "5006", "9400111899223100000006", 1, "")
	b := e.plan(o, "5007", "9400111899223100000007", 1, "")
	base := e.sb.Stats().BigCommerce.Requests
	for _, n := range []shipment.Notification{a, b} {
		body, _ := json.Marshal(msgOf(n))
		if err := e.queue.Send(ctx(t), queue.Message{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	var ev events.SQSEvent
	for len(ev.Records) < 2 {
		got, err := e.queue.Receive(ctx(t), 10, time.Second, 30*time.Second)
		if err != nil || len(got) == 0 {
			t.Fatalf("received %d of 2: %v", len(ev.Records), err)
		}
		ev.Records = append(ev.Records, got...)
	}
	resp, err := e.svc.Handle(ctx(t), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("%d failed records, want both (parked, not dropped)", len(resp.BatchItemFailures))
	}
	st, err := e.ledger.StoreStatus(ctx(t), storeID)
	if err != nil || !st.Paused || !strings.Contains(st.Reason, "re-authorisation") {
		t.Fatalf("store status %+v %v, want paused for re-authorisation", st, err)
	}
	x, _, err := e.ledger.Exceptions(ctx(t), 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 1 || x[0].Kind != "unauthorised" || x[0].StoreID != storeID {
		t.Fatalf("exceptions %+v, want one unauthorised for %s", x, storeID)
	}
	if un := e.sb.Stats().BigCommerce.Unauthorized; un != 1 {
		t.Errorf("%d requests answered 401, want 1 (the second notification must not call a paused store)", un)
	}
	for _, n := range []shipment.Notification{a, b} {
		if got := e.note(n); got.State != shipment.Planned {
			t.Errorf("notification %s: %s, want still planned", n.ID, got.State)
		}
	}
	// Both messages are parked for the policy's longest delay.
	vis, inflight, err := e.queue.Depth(ctx(t))
	if err != nil || vis != 0 || inflight != 2 {
		t.Errorf("queue: %d visible, %d in flight (%v); want both parked", vis, inflight, err)
	}
	if got, err := e.queue.Receive(ctx(t), 10, 2*time.Second, time.Minute); err != nil || len(got) != 0 {
		t.Errorf("parked messages came back within seconds: %d (%v)", len(got), err)
	}
	// A redelivery while paused still calls nobody.
	if err := e.svc.Process(ctx(t), msgOf(a)); !errs.Is(err, errs.Unauthorised) {
		t.Errorf("while paused: %v, want the paused error", err)
	}
	if n := e.sb.Stats().BigCommerce.Requests - base; n != 1 {
		t.Errorf("%d BigCommerce requests in all, want 1", n)
	}

	// Re-authorised and resumed: the work goes through.
	if err := e.ledger.ResumeStore(ctx(t), storeID); err != nil {
		t.Fatal(err)
	}
	e.token = sandbox.DefaultBigCommerceToken
	if err := e.svc.Process(ctx(t), msgOf(a)); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	if got := e.note(a); got.State != shipment.Confirmed {
		t.Errorf("after resume: %+v, want confirmed", got)
	}
}
