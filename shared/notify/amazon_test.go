package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/amazon"
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

// Compile-time: the Amazon notifier confirms and verifies.
var (
	_ notify.Confirmer = (*notify.Amazon)(nil)
	_ notify.Verifier  = (*notify.Amazon)(nil)
)

const amzStoreID = "amz-us"

// amzCfgYAML declares the Amazon store; amzCfgFallbackYAML is the same store
// declared with a BigCommerce channel, used while config rejects Amazon
// stores ("not supported yet"): notify.Service only needs the store to exist
// and be enabled, and the notifications carry the channel.
const (
	amzCfgYAML = `
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: amz-us
    channel: amazon
    credentialsSecret: shiprelay/amazon/amz-us
    shipstation:
      account: main
`
	amzCfgFallbackYAML = `
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: amz-us
    channel: bigcommerce
    credentialsSecret: shiprelay/amazon/amz-us
    bigcommerce:
      storeHash: amzus
    shipstation:
      account: main
`
)

// selfQueue is the notify function's own queue as the Service sees it: it
// keeps the messages sent (verify messages are delayed by minutes, so the
// tests hand them to Handle themselves) and can fail the next sends.
type selfQueue struct {
	mu   sync.Mutex
	msgs []queue.Message
	fail int
}

func (q *selfQueue) Send(_ context.Context, msgs ...queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail > 0 {
		q.fail--
		return errs.Ef(errs.Transient, "test.Send", "queue unavailable")
	}
	q.msgs = append(q.msgs, msgs...)
	return nil
}

func (q *selfQueue) sent() []queue.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queue.Message(nil), q.msgs...)
}

// amzEnv is an Amazon notify function over the real ledger, confirming on
// the sandbox Amazon through the real client and LWA token source.
type amzEnv struct {
	t        *testing.T
	az       *sandbox.Amazon
	sp       *httptest.Server
	lwa      *amazon.LWA
	ledger   *dynamo.Ledger
	queue    *sqs.Queue
	self     *selfQueue
	logs     *bytes.Buffer
	metrics  *bytes.Buffer
	carriers *carrier.Map
	amz      *notify.Amazon
	svc      *notify.Service
}

type amzOptions struct {
	overrides   carrier.Overrides
	verifyAfter time.Duration
}

func newAmzEnv(t *testing.T, o amzOptions) *amzEnv {
	t.Helper()
	az := sandbox.NewAmazon(sandbox.AmazonOptions{Seed: 7})
	sp := httptest.NewServer(az.Handler())
	lwaSrv := httptest.NewServer(az.LWAHandler())
	t.Cleanup(func() { sp.Close(); lwaSrv.Close(); az.Close() })

	cfg, err := config.Parse([]byte(amzCfgYAML))
	if err != nil {
		cfg, err = config.Parse([]byte(amzCfgFallbackYAML))
		if err != nil {
			t.Fatal(err)
		}
	}
	client, table := testenv.DynamoDB(t)
	e := &amzEnv{
		t: t, az: az, sp: sp, ledger: dynamo.New(client, table), self: &selfQueue{},
		logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}, carriers: carrier.Default(),
		lwa: &amazon.LWA{
			BaseURL: lwaSrv.URL, ClientID: sandbox.DefaultAmazonClientID, ClientSecret: sandbox.DefaultAmazonClientSecret,
			RefreshToken: sandbox.DefaultAmazonRefreshToken, HTTP: lwaSrv.Client(),
		},
	}
	if o.overrides != nil {
		if e.carriers, err = carrier.Default().With(o.overrides); err != nil {
			t.Fatal(err)
		}
	}
	e.queue = &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "notify-amazon", nil)}
	log := obs.NewLogger(e.logs, "DEBUG")
	e.amz = &notify.Amazon{
		Client:   func(context.Context, string) (*amazon.Client, error) { return e.client(), nil },
		Carriers: func(string) *carrier.Map { return e.carriers },
	}
	e.svc = &notify.Service{
		Config: cfg, Ledger: e.ledger, Log: log, Metrics: obs.NewMetrics(e.metrics, "shiprelay"),
		Confirmer: e.amz, Self: e.self, VerifyAfter: o.verifyAfter,
		Retry: &lambdaio.Retrier{Visibility: e.queue, Policy: retry.Policy{Base: time.Second, Cap: 15 * time.Minute, Rand: func() float64 { return 0.5 }}, Log: log},
	}
	return e
}

// client is the store's SP-API client: the US marketplace on the sandbox,
// with the env's (caching) LWA token source.
func (e *amzEnv) client() *amazon.Client {
	return &amazon.Client{MarketplaceID: sandbox.AmazonMarketplaceUS, BaseURL: e.sp.URL, Tokens: e.lwa, HTTP: e.sp.Client()}
}

// imported creates an unshipped merchant-fulfilled order of lines lines
// (line i has quantity i+1) on the sandbox and imports it into the ledger
// as ingest would.
func (e *amzEnv) imported(lines int) (sandbox.AmazonOrder, order.Order) {
	e.t.Helper()
	ao := e.az.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Items: lines})
	raw, err := e.client().GetOrder(ctx(e.t), ao.OrderID, []string{"BUYER", "RECIPIENT", "FULFILLMENT"})
	if err != nil {
		e.t.Fatal(err)
	}
	norm, disp, err := amazon.Normalize(amzStoreID, &raw, amazon.NormalizeOptions{})
	if err != nil || disp != order.Import {
		e.t.Fatalf("normalize: %v (disposition %v)", err, disp)
	}
	now := time.Now().UTC()
	if _, _, err := e.ledger.Upsert(ctx(e.t), norm, ledger.StatePending, now, now); err != nil {
		e.t.Fatal(err)
	}
	return ao, norm
}

// label is a ShipStation label as the shipments function records it.
type label struct {
	id, tracking, carrier, service string
	// qty is the quantity of each order line, in order; nil means all.
	qty []int
}

// plan records the notification of l for o as the shipments function
// would; replaces, when set, is the reference of a confirmation of a
// since-voided label.
func (e *amzEnv) plan(o order.Order, l label, replaces string) shipment.Notification {
	e.t.Helper()
	s := shipment.Shipment{
		ID: l.id, Account: "main", OrderKey: string(o.ID), TrackingNumber: l.tracking,
		CarrierCode: l.carrier, ServiceCode: l.service,
		ShipDate: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), CreatedAt: time.Now().UTC(),
	}
	for i, it := range o.Items {
		q := it.Quantity
		if l.qty != nil {
			q = l.qty[i]
		}
		if q > 0 {
			s.Lines = append(s.Lines, shipment.Line{LineID: it.LineID, SKU: it.SKU, Quantity: q})
		}
	}
	n, err := shipment.Plan(s, shipment.Target{Order: o}, nil, time.Now().UTC())
	if err != nil || n.State != shipment.Planned {
		e.t.Fatalf("plan: %v %+v", err, n)
	}
	n.Replaces = replaces
	if created, err := e.ledger.PlanNotification(ctx(e.t), n); err != nil || !created {
		e.t.Fatalf("plan notification: %v %v", created, err)
	}
	return n
}

func (e *amzEnv) note(n shipment.Notification) shipment.Notification {
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

func (e *amzEnv) exceptions() []ledger.Exception {
	e.t.Helper()
	x, _, err := e.ledger.Exceptions(ctx(e.t), 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

// handle runs the Lambda handler on messages with these bodies and returns
// the failed ones' count.
func (e *amzEnv) handle(bodies ...[]byte) int {
	e.t.Helper()
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: strconv.Itoa(i), Body: string(b)})
	}
	resp, err := e.svc.Handle(ctx(e.t), ev)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(resp.BatchItemFailures)
}

// verifies returns the verify messages the Service sent to its own queue.
func (e *amzEnv) verifies() []queue.Message {
	e.t.Helper()
	var out []queue.Message
	for _, m := range e.self.sent() {
		var msg queue.Notify
		if err := json.Unmarshal(m.Body, &msg); err != nil {
			e.t.Fatalf("self queue message %q: %v", m.Body, err)
		}
		if !msg.Verify {
			e.t.Fatalf("self queue got a non-verify message %q", m.Body)
		}
		out = append(out, m)
	}
	return out
}

func (e *amzEnv) requests(op string) int64 { return e.az.Stats().Requests[op] }

// noPII fails when a buyer value of o reached the logs or s.
func (e *amzEnv) noPII(o sandbox.AmazonOrder, s ...string) {
	e.t.Helper()
	for _, v := range o.PIIValues() {
		if strings.Contains(e.logs.String(), v) {
			e.t.Errorf("buyer data %q reached the log", v)
		}
		for _, x := range s {
			if strings.Contains(x, v) {
				e.t.Errorf("buyer data %q reached %q", v, x)
			}
		}
	}
}

func TestAmazonKnownCarrierIsRecordedAndVerified(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(2)
	n := e.plan(o, label{id: "7001", tracking: "1Z999AA10123456784", carrier: "ups", service: "ups_ground", qty: []int{1, 1}}, "")
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatal(err)
	}
	got := e.note(n)
	if got.State != shipment.Confirmed || got.ChannelRef != "7001" {
		t.Fatalf("notification = %+v, want confirmed as package 7001 (the ShipStation shipmentId)", got)
	}
	pk := e.az.Packages(ao.OrderID)
	if len(pk) != 1 {
		t.Fatalf("%d Amazon packages, want 1", len(pk))
	}
	p := pk[0]
	if p.PackageReferenceID != "7001" || p.CarrierCode != "UPS" || p.CarrierName != "" || p.ShippingMethod != "UPS Ground" ||
		p.TrackingNumber != n.TrackingNumber || !p.ShipDate.Equal(n.ShipDate) {
		t.Errorf("package = %+v, want ref 7001, UPS, UPS Ground, tracking %s, shipped %s", p, n.TrackingNumber, n.ShipDate)
	}
	want := []sandbox.AmazonPackageItem{{OrderItemID: ao.Items[0].OrderItemID, Quantity: 1}, {OrderItemID: ao.Items[1].OrderItemID, Quantity: 1}}
	if len(p.Items) != 2 || p.Items[0] != want[0] || p.Items[1] != want[1] {
		t.Errorf("package items %+v, want %+v", p.Items, want)
	}
	if st, _ := e.az.Order(ao.OrderID); st.Status != sandbox.AmazonPartiallyShipped {
		t.Errorf("Amazon order status %s, want PARTIALLY_SHIPPED (one of three units left)", st.Status)
	}

	// The confirmation scheduled its read-back on the function's own queue.
	v := e.verifies()
	if len(v) != 1 || v[0].Delay != notify.DefaultVerifyAfter {
		t.Fatalf("verify messages %+v, want one delayed %s", v, notify.DefaultVerifyAfter)
	}
	var vm queue.Notify
	if err := json.Unmarshal(v[0].Body, &vm); err != nil || vm.OrderID != n.OrderID || vm.NotificationID != n.ID || !vm.Verify {
		t.Fatalf("verify message %s: %v", v[0].Body, err)
	}
	if err := e.amz.Verify(ctx(t), got, o); err != nil {
		t.Errorf("Verify: %v", err)
	}
	gets := e.requests(sandbox.AmazonOpGetOrder)
	if failed := e.handle(v[0].Body); failed != 0 {
		t.Fatalf("verify message failed")
	}
	if e.requests(sandbox.AmazonOpGetOrder) != gets+1 {
		t.Errorf("the verify message made %d getOrder calls, want 1", e.requests(sandbox.AmazonOpGetOrder)-gets)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions %+v after a good read-back", x)
	}
	if !strings.Contains(e.metrics.String(), `"Verified":1`) {
		t.Errorf("no Verified metric: %s", e.metrics.String())
	}
	if len(e.verifies()) != 1 {
		t.Errorf("a verify message scheduled another verify")
	}

	// A replay of the confirmation calls Amazon no more but schedules the
	// read-back again (it may be the retry of a failed send).
	confirms := e.requests(sandbox.AmazonOpConfirmShipment)
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatal(err)
	}
	if c := e.requests(sandbox.AmazonOpConfirmShipment); c != confirms {
		t.Errorf("a replay made %d confirmShipment calls", c-confirms)
	}
	if len(e.verifies()) != 2 {
		t.Errorf("a replay of a confirmed notification sent %d verify messages in all, want 2", len(e.verifies()))
	}
	e.noPII(ao)
}

func TestAmazonUnknownCarrierIsSentAsOther(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(1)
	n := e.plan(o, label{id: "7002", tracking: "AF123456789", carrier: "acme_freight", service: "acme_ground"}, "")
	ref, err := e.amz.Confirm(ctx(t), n, o)
	if err != nil || ref != "7002" {
		t.Fatalf("Confirm = %q, %v; want 7002", ref, err)
	}
	pk := e.az.Packages(ao.OrderID)
	if len(pk) != 1 || pk[0].CarrierCode != "Other" || pk[0].CarrierName != "Acme Freight" || pk[0].TrackingNumber != n.TrackingNumber {
		t.Fatalf("packages %+v, want one with Other / Acme Freight", pk)
	}
	if len(pk[0].Items) != 1 || pk[0].Items[0].OrderItemID != ao.Items[0].OrderItemID || pk[0].Items[0].Quantity != 1 {
		t.Errorf("package items %+v", pk[0].Items)
	}
	n.State, n.ChannelRef = shipment.Confirmed, ref
	if err := e.amz.Verify(ctx(t), n, o); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestAmazonSilentDropIsCaughtByTheReadBack(t *testing.T) {
	t.Parallel()
	// A store override maps Evri to "Evri", which is not on Amazon's list:
	// Amazon answers 204 and keeps nothing.
	e := newAmzEnv(t, amzOptions{overrides: carrier.Overrides{"evri": {Amazon: &carrier.Amazon{CarrierCode: "Evri"}}}})
	ao, o := e.imported(1)
	n := e.plan(o, label{id: "7003", tracking: "H00A0B1234567890", carrier: "evri", service: "evri_48"}, "")
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatalf("confirm: %v (Amazon answered 204: the confirmation must succeed)", err)
	}
	got := e.note(n)
	if got.State != shipment.Confirmed || got.ChannelRef != "7003" {
		t.Fatalf("notification = %+v, want confirmed as 7003", got)
	}
	if st := e.az.Stats(); st.UnknownCarrierDropped != 1 || len(e.az.Packages(ao.OrderID)) != 0 {
		t.Fatalf("sandbox dropped %d, packages %+v; want the package silently dropped", st.UnknownCarrierDropped, e.az.Packages(ao.OrderID))
	}

	err := e.amz.Verify(ctx(t), got, o)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("Verify = %v, want invalid", err)
	}
	var ce *errs.Error
	if !errors.As(err, &ce) || ce.Op != "notify.Amazon.verify" {
		t.Errorf("Verify error op: %v", err)
	}
	for _, want := range []string{"7003", n.TrackingNumber, `"Evri"`, "Seller Central", "carrier map"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Verify error %q does not say %q", err, want)
		}
	}

	// Through the function: the read-back raises one exception, however
	// often it is delivered, and the notification stays confirmed.
	v := e.verifies()
	if len(v) != 1 {
		t.Fatalf("%d verify messages, want 1", len(v))
	}
	for range 2 {
		if failed := e.handle(v[0].Body); failed != 0 {
			t.Fatalf("verify message failed")
		}
	}
	x := e.exceptions()
	if len(x) != 1 {
		t.Fatalf("exceptions %+v, want exactly one", x)
	}
	if x[0].Kind != "invalid" || x[0].OrderID != n.OrderID || x[0].StoreID != amzStoreID || !strings.Contains(x[0].Message, "did not record package 7003") {
		t.Errorf("exception %+v", x[0])
	}
	if again := e.note(n); again.State != shipment.Confirmed || again.ChannelRef != "7003" {
		t.Errorf("after the failed read-back: %+v, want still confirmed", again)
	}
	if len(e.verifies()) != 1 {
		t.Errorf("verify messages scheduled more verifies: %d", len(e.verifies()))
	}
	e.noPII(ao, x[0].Message)
}

func TestAmazonRetryAfterLostResponseKeepsOnePackage(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(2)
	n := e.plan(o, label{id: "7004", tracking: "9400111899223100007004", carrier: "stamps_com", service: "usps_priority_mail"}, "")
	// The first call's 204 was lost on the way back; the message is retried.
	first, err := e.amz.Confirm(ctx(t), n, o)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.amz.Confirm(ctx(t), n, o)
	if err != nil {
		t.Fatal(err)
	}
	if first != second || first != "7004" {
		t.Errorf("refs %q and %q, want 7004 twice", first, second)
	}
	pk := e.az.Packages(ao.OrderID)
	if len(pk) != 1 || pk[0].PackageReferenceID != "7004" || pk[0].CarrierCode != "USPS" || pk[0].ShippingMethod != "Priority Mail" {
		t.Fatalf("packages %+v, want one USPS Priority Mail package 7004", pk)
	}
	if c := e.requests(sandbox.AmazonOpConfirmShipment); c != 2 {
		t.Errorf("%d confirmShipment calls, want 2", c)
	}
	if st, _ := e.az.Order(ao.OrderID); st.Status != sandbox.AmazonShipped {
		t.Errorf("Amazon order status %s, want SHIPPED (the repeat edits, it adds nothing)", st.Status)
	}
}

func TestAmazonReLabelEditsTheConfirmedPackage(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(1)
	first := e.plan(o, label{id: "7005", tracking: "1Z999AA10000007005", carrier: "ups", service: "ups_ground"}, "")
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: first.OrderID, NotificationID: first.ID}); err != nil {
		t.Fatal(err)
	}
	ref := e.note(first).ChannelRef
	// The label was voided and re-labelled: the relay plans the new label
	// as a replacement of the confirmed one.
	second := e.plan(o, label{id: "7006", tracking: "1Z999AA10000007006", carrier: "fedex", service: "fedex_ground"}, ref)
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: second.OrderID, NotificationID: second.ID}); err != nil {
		t.Fatal(err)
	}
	if got := e.note(second); got.State != shipment.Confirmed || got.ChannelRef != ref {
		t.Errorf("replacement = %+v, want confirmed on package %s", got, ref)
	}
	pk := e.az.Packages(ao.OrderID)
	if len(pk) != 1 || pk[0].PackageReferenceID != ref || pk[0].TrackingNumber != second.TrackingNumber || pk[0].CarrierCode != "FedEx" {
		t.Fatalf("packages %+v, want package %s with FedEx tracking %s", pk, ref, second.TrackingNumber)
	}
	if len(pk[0].Items) != 1 || pk[0].Items[0].Quantity != 1 {
		t.Errorf("the edit changed the package items: %+v", pk[0].Items)
	}

	// Both read-backs pass: the replacement's, and the replaced label's,
	// whose package now rightly carries the new tracking.
	if err := e.amz.Verify(ctx(t), e.note(second), o); err != nil {
		t.Errorf("Verify(replacement): %v", err)
	}
	// On its own the replaced label's read-back finds the package with
	// another tracking number (the Service must not ask it, below).
	if err := e.amz.Verify(ctx(t), e.note(first), o); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "the package has tracking "+second.TrackingNumber) {
		t.Errorf("Verify(replaced) = %v, want invalid naming the package's tracking %s", err, second.TrackingNumber)
	}
	v := e.verifies()
	if len(v) != 2 {
		t.Fatalf("%d verify messages, want 2", len(v))
	}
	if failed := e.handle(v[0].Body, v[1].Body); failed != 0 {
		t.Fatalf("%d verify messages failed", failed)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions %+v: a replaced confirmation was checked against its re-label's tracking", x)
	}
}

func TestAmazonBuyShippingIsSkippedWithoutCallingAmazon(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(1)
	n := e.plan(o, label{id: "7007", tracking: "TBA000000007007", carrier: "amazon_buy_shipping", service: ""}, "")
	before := e.az.Stats()

	_, err := e.amz.Confirm(ctx(t), n, o)
	var skip notify.Skip
	if !errors.As(err, &skip) || !strings.Contains(skip.Reason, "confirmed by Amazon itself") {
		t.Fatalf("Confirm = %v, want a Skip saying Amazon confirms it", err)
	}
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatal(err)
	}
	got := e.note(n)
	if got.State != shipment.Skipped || got.Reason != skip.Reason {
		t.Errorf("notification = %+v, want skipped: %s", got, skip.Reason)
	}
	after := e.az.Stats()
	for _, op := range []string{sandbox.AmazonOpConfirmShipment, sandbox.AmazonOpGetOrder} {
		if after.Requests[op] != before.Requests[op] {
			t.Errorf("%d %s calls for a Buy Shipping label", after.Requests[op]-before.Requests[op], op)
		}
	}
	if after.TokensIssued != before.TokensIssued || len(e.az.Packages(ao.OrderID)) != 0 {
		t.Errorf("Amazon was called: tokens %d→%d, packages %+v", before.TokensIssued, after.TokensIssued, e.az.Packages(ao.OrderID))
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions %+v for a skip", x)
	}
	if len(e.verifies()) != 0 {
		t.Errorf("a skipped notification scheduled a read-back")
	}
	if !strings.Contains(e.metrics.String(), `"Skipped":1`) {
		t.Errorf("no Skipped metric: %s", e.metrics.String())
	}
}

func TestAmazonRevokedGrantPausesTheStoreOnce(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	_, o := e.imported(2)
	a := e.plan(o, label{id: "7008", tracking: "1Z999AA10000007008", carrier: "ups", service: "ups_ground", qty: []int{1, 0}}, "")
	b := e.plan(o, label{id: "7009", tracking: "1Z999AA10000007009", carrier: "ups", service: "ups_ground", qty: []int{0, 2}}, "")
	// The seller removed the app: the refresh token is revoked and the
	// cached access token has expired.
	e.az.RevokeRefreshToken(sandbox.DefaultAmazonRefreshToken)
	e.az.ExpireAccessTokens()
	for _, n := range []shipment.Notification{a, b} {
		body, _ := json.Marshal(queue.Notify{OrderID: n.OrderID, NotificationID: n.ID})
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
	st, err := e.ledger.StoreStatus(ctx(t), amzStoreID)
	if err != nil || !st.Paused || !strings.Contains(st.Reason, "re-authorisation") {
		t.Fatalf("store status %+v %v, want paused for re-authorisation", st, err)
	}
	x := e.exceptions()
	if len(x) != 1 || x[0].Kind != "unauthorised" || x[0].StoreID != amzStoreID {
		t.Fatalf("exceptions %+v, want one unauthorised for %s", x, amzStoreID)
	}
	if !strings.Contains(x[0].Message, "invalid_grant") || strings.Contains(x[0].Message, sandbox.DefaultAmazonRefreshToken) {
		t.Errorf("exception message %q: want invalid_grant named and no secret", x[0].Message)
	}
	stats := e.az.Stats()
	if stats.TokenErrors != 1 || stats.Requests[sandbox.AmazonOpConfirmShipment] != 1 {
		t.Errorf("token errors %d, confirmShipment calls %d; want 1 and 1 (the second notification must not call a paused store)",
			stats.TokenErrors, stats.Requests[sandbox.AmazonOpConfirmShipment])
	}
	for _, n := range []shipment.Notification{a, b} {
		if got := e.note(n); got.State != shipment.Planned {
			t.Errorf("notification %s: %s, want still planned", n.ID, got.State)
		}
	}
	if strings.Contains(e.logs.String(), sandbox.DefaultAmazonRefreshToken) || strings.Contains(e.logs.String(), sandbox.DefaultAmazonClientSecret) {
		t.Errorf("a credential reached the log")
	}
}

func TestAmazonReadBackWithRevokedGrantPausesTheStore(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	_, o := e.imported(1)
	n := e.plan(o, label{id: "7010", tracking: "1Z999AA10000007010", carrier: "ups", service: "ups_ground"}, "")
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatal(err)
	}
	e.az.RevokeRefreshToken(sandbox.DefaultAmazonRefreshToken)
	e.az.ExpireAccessTokens()
	verify := queue.Notify{OrderID: n.OrderID, NotificationID: n.ID, Verify: true}
	if err := e.svc.Process(ctx(t), verify); !errs.Is(err, errs.Unauthorised) {
		t.Fatalf("read-back with a revoked grant: %v, want unauthorised", err)
	}
	if st, err := e.ledger.StoreStatus(ctx(t), amzStoreID); err != nil || !st.Paused {
		t.Fatalf("store status %+v %v, want paused", st, err)
	}
	gets := e.requests(sandbox.AmazonOpGetOrder)
	if err := e.svc.Process(ctx(t), verify); !errors.Is(err, notify.ErrPaused) {
		t.Errorf("read-back while paused: %v, want ErrPaused", err)
	}
	if g := e.requests(sandbox.AmazonOpGetOrder); g != gets {
		t.Errorf("a paused store was read %d times", g-gets)
	}
	if x := e.exceptions(); len(x) != 1 || x[0].Kind != "unauthorised" {
		t.Errorf("exceptions %+v, want one unauthorised", x)
	}
	if got := e.note(n); got.State != shipment.Confirmed {
		t.Errorf("notification %+v, want still confirmed", got)
	}
}

func TestAmazonThrottleIsRetriedNotAnException(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	ao, o := e.imported(1)
	n := e.plan(o, label{id: "7011", tracking: "1Z999AA10000007011", carrier: "ups", service: "ups_ground"}, "")
	e.az.SetFaults(sandbox.Faults{Rate429: 1})
	err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID})
	if !errs.Is(err, errs.Transient) || !errs.Retryable(err) || errs.RetryAfterOf(err) <= 0 {
		t.Fatalf("throttled confirm: %v, want a transient error with a wait", err)
	}
	if e.az.Stats().Injected429 != 1 {
		t.Fatalf("429s served: %d, want 1", e.az.Stats().Injected429)
	}
	if got := e.note(n); got.State != shipment.Planned {
		t.Errorf("after a 429: %+v, want still planned", got)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions %+v for a throttle", x)
	}

	e.az.SetFaults(sandbox.Faults{})
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := e.note(n); got.State != shipment.Confirmed || len(e.az.Packages(ao.OrderID)) != 1 {
		t.Errorf("retry: %+v, packages %+v; want confirmed", got, e.az.Packages(ao.OrderID))
	}

	// A throttled read-back is retried too.
	e.az.SetFaults(sandbox.Faults{Rate429: 1})
	verify := queue.Notify{OrderID: n.OrderID, NotificationID: n.ID, Verify: true}
	if err := e.svc.Process(ctx(t), verify); !errs.Is(err, errs.Transient) {
		t.Errorf("throttled read-back: %v, want transient", err)
	}
	if x := e.exceptions(); len(x) != 0 {
		t.Errorf("exceptions %+v for a throttled read-back", x)
	}
}

func TestAmazonVerifyEnqueueFailureKeepsTheConfirmation(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{verifyAfter: time.Hour})
	ao, o := e.imported(1)
	n := e.plan(o, label{id: "7012", tracking: "1Z999AA10000007012", carrier: "ups", service: "ups_ground"}, "")
	e.self.fail = 1
	err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID})
	if err == nil || !errs.Retryable(err) {
		t.Fatalf("failed verify send: %v, want a retryable error", err)
	}
	if got := e.note(n); got.State != shipment.Confirmed || got.ChannelRef != "7012" {
		t.Fatalf("after the failed send: %+v, want the confirmation recorded", got)
	}
	// The retried message finds the confirmation and only schedules the
	// read-back.
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID}); err != nil {
		t.Fatal(err)
	}
	if c := e.requests(sandbox.AmazonOpConfirmShipment); c != 1 {
		t.Errorf("%d confirmShipment calls, want 1", c)
	}
	v := e.verifies()
	if len(v) != 1 || v[0].Delay != queue.MaxDelay {
		t.Fatalf("verify messages %+v, want one delayed %s (VerifyAfter capped)", v, queue.MaxDelay)
	}
	if len(e.az.Packages(ao.OrderID)) != 1 {
		t.Errorf("packages %+v", e.az.Packages(ao.OrderID))
	}
}

func TestAmazonReadBackOfUnconfirmedNotificationDoesNothing(t *testing.T) {
	t.Parallel()
	e := newAmzEnv(t, amzOptions{})
	_, o := e.imported(1)
	n := e.plan(o, label{id: "7013", tracking: "1Z999AA10000007013", carrier: "ups", service: "ups_ground"}, "")
	before := e.az.Stats().Requests
	if err := e.svc.Process(ctx(t), queue.Notify{OrderID: n.OrderID, NotificationID: n.ID, Verify: true}); err != nil {
		t.Fatal(err)
	}
	after := e.az.Stats().Requests
	for op, c := range after {
		if c != before[op] {
			t.Errorf("%d %s calls for the read-back of a planned notification", c-before[op], op)
		}
	}
	if got := e.note(n); got.State != shipment.Planned {
		t.Errorf("a read-back changed the notification: %+v", got)
	}
	if len(e.verifies()) != 0 || len(e.exceptions()) != 0 {
		t.Errorf("verify messages %d, exceptions %d; want none", len(e.verifies()), len(e.exceptions()))
	}
}

func TestPackageReferenceID(t *testing.T) {
	t.Parallel()
	n := func(key, replaces string) shipment.Notification {
		return shipment.Notification{ShipmentKey: key, Replaces: replaces}
	}
	if got := notify.PackageReferenceID(n("main:123456789", "")); got != "123456789" {
		t.Errorf("numeric shipmentId: %q, want it as is", got)
	}
	if got := notify.PackageReferenceID(n("main:123456789", "42")); got != "42" {
		t.Errorf("re-label: %q, want the replaced package's 42", got)
	}
	seen := map[string]string{}
	for _, key := range []string{"main:abc", "main:007", "main:0", "main:-5", "main:9007199254740992", "main:", "other:abc", "main:1.5"} {
		got := notify.PackageReferenceID(n(key, ""))
		v, err := strconv.ParseUint(got, 10, 64)
		if err != nil || v < 1 || v >= 1<<53 || strconv.FormatUint(v, 10) != got {
			t.Errorf("%s: %q is not a positive integer below 2^53", key, got)
		}
		if again := notify.PackageReferenceID(n(key, "")); again != got {
			t.Errorf("%s: %q then %q: not stable", key, got, again)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%s and %s share reference %s", prev, key, got)
		}
		seen[got] = key
	}
	if got := notify.PackageReferenceID(n("main:9007199254740991", "")); got != "9007199254740991" {
		t.Errorf("2^53-1: %q, want it as is", got)
	}
}

func TestBigCommerceIsNotAVerifier(t *testing.T) {
	t.Parallel()
	if _, ok := notify.Confirmer(&notify.BigCommerce{}).(notify.Verifier); ok {
		t.Error("the BigCommerce confirmer became a Verifier")
	}
}
