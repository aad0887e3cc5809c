package ingest_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ingest"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
)

const amazonStore = `
  - id: amz-us
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: A3TH9S8BH6GOGM, marketplaceId: ATVPDKIKX0DER}
    shipstation: {account: main}
`

// amazonFetcher does what the app's Amazon fetcher does: getOrder with
// buyer, recipient, fulfilment and cancellation data, normalised.
type amazonFetcher struct {
	client *amazon.Client
	opts   amazon.NormalizeOptions
}

func (f amazonFetcher) Fetch(ctx context.Context, store, id string) (order.Order, order.Disposition, error) {
	o, err := f.client.GetOrder(ctx, id, []string{"BUYER", "RECIPIENT", "FULFILLMENT", "PROCEEDS", "CANCELLATION", "TAX"})
	if err != nil {
		return order.Order{}, 0, err
	}
	return amazon.Normalize(store, &o, f.opts)
}

// newAmazonEnv is the ingest env with an Amazon store over the sandbox.
func newAmazonEnv(t *testing.T) (*env, *sandbox.Amazon) {
	e := newEnv(t)
	amz := sandbox.NewAmazon(sandbox.AmazonOptions{Seed: 5})
	api := httptest.NewServer(amz.Handler())
	lwa := httptest.NewServer(amz.LWAHandler())
	t.Cleanup(func() { api.Close(); lwa.Close() })
	cfg, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML, "BCURL", "http://127.0.0.1:1") + amazonStore))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Config = cfg
	e.svc.Stores = e.ledger
	e.svc.Fetch[order.Amazon] = amazonFetcher{client: &amazon.Client{
		MarketplaceID: sandbox.AmazonMarketplaceUS, BaseURL: api.URL, HTTP: api.Client(),
		Tokens: &amazon.LWA{BaseURL: lwa.URL, ClientID: sandbox.DefaultAmazonClientID, ClientSecret: sandbox.DefaultAmazonClientSecret, RefreshToken: sandbox.DefaultAmazonRefreshToken},
	}}
	return e, amz
}

func amazonMsg(o sandbox.AmazonOrder) queue.Ingest {
	return queue.Ingest{Channel: order.Amazon, StoreID: "amz-us", ChannelOrderID: o.OrderID, Source: "notification", ReceivedAt: received}
}

func TestAmazonRevokedGrantPausesTheStoreOnceAndParksTheWork(t *testing.T) {
	e, amz := newAmazonEnv(t)
	c := ctx(t)
	a := amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	b := amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	amz.RevokeRefreshToken(sandbox.DefaultAmazonRefreshToken)
	for _, o := range []sandbox.AmazonOrder{a, b, a} {
		err := e.svc.Process(c, amazonMsg(o))
		if !errs.Is(err, errs.Unauthorised) {
			t.Fatalf("Process with a revoked grant = %v, want an unauthorised error (parked)", err)
		}
	}
	st, err := e.ledger.StoreStatus(c, "amz-us")
	if err != nil || !st.Paused {
		t.Fatalf("store status %+v, %v; want paused", st, err)
	}
	exs, _, _ := e.ledger.Exceptions(c, 10, "")
	if len(exs) != 1 || !strings.Contains(exs[0].Message, "Manage Your Apps") || !strings.Contains(exs[0].Message, "stores resume amz-us") {
		t.Fatalf("exceptions %+v, want exactly one with the fix", exs)
	}
	// While paused, Amazon is not called at all.
	before := amz.Stats().TokenErrors
	if err := e.svc.Process(c, amazonMsg(b)); err != ingest.ErrPaused {
		t.Fatalf("paused store: %v, want ErrPaused", err)
	}
	if after := amz.Stats().TokenErrors; after != before {
		t.Errorf("a paused store called Amazon (%d token errors)", after-before)
	}
	// Re-authorised and resumed: the parked work goes through.
	amz.AddRefreshToken(sandbox.DefaultAmazonRefreshToken)
	if err := e.ledger.ResumeStore(c, "amz-us"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(c, amazonMsg(b)); err != nil {
		t.Fatal(err)
	}
	if rec, err := e.ledger.Get(c, order.ID("amazon:amz-us:"+b.OrderID)); err != nil || rec.State != ledger.StatePending {
		t.Fatalf("after resume: %+v, %v", rec.State, err)
	}
}

func TestAmazonBuyerCancelRequestHoldsTheOrderWithOneException(t *testing.T) {
	e, amz := newAmazonEnv(t)
	c := ctx(t)
	o := amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	if err := e.svc.Process(c, amazonMsg(o)); err != nil {
		t.Fatal(err)
	}
	if err := amz.RequestCancel(o.OrderID, "No longer needed"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a duplicated change: still one exception
		if err := e.svc.Process(c, amazonMsg(o)); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := e.ledger.Get(c, order.ID("amazon:amz-us:"+o.OrderID))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Status != order.OnHold || !rec.Order.CancelRequested || rec.State != ledger.StatePending {
		t.Fatalf("order %s/%s cancelRequested=%v; want on hold, pending its push", rec.Order.Status, rec.State, rec.Order.CancelRequested)
	}
	if !strings.Contains(strings.Join(rec.Order.Tags, ","), amazon.TagCancelRequested) {
		t.Errorf("tags %v", rec.Order.Tags)
	}
	exs, _, _ := e.ledger.Exceptions(c, 10, "")
	if len(exs) != 1 || !strings.Contains(exs[0].Message, "asked to cancel") {
		t.Fatalf("exceptions %+v, want one", exs)
	}
	if got := e.pushes(); len(got) < 2 {
		t.Errorf("%d pushes queued; the hold must reach ShipStation", len(got))
	}
}

func TestAmazonFBAIsPushedOnceAsShippedWithoutBuyerDataOnlyWhenImported(t *testing.T) {
	e, amz := newAmazonEnv(t)
	c := ctx(t)
	fba := amz.GenerateOrder(sandbox.AmazonOrderSpec{FBA: true, Prime: true})
	id := order.ID("amazon:amz-us:" + fba.OrderID)

	// Import off (the default): nothing written, nothing pushed.
	if err := e.svc.Process(c, amazonMsg(fba)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.Get(c, id); !errs.Is(err, errs.NotFound) {
		t.Fatalf("FBA order with import off is in the ledger: %v", err)
	}
	if got := e.pushes(); len(got) != 0 {
		t.Fatalf("%d pushes with FBA import off", len(got))
	}

	// Import on: shipped, no buyer data, one push.
	f := e.svc.Fetch[order.Amazon].(amazonFetcher)
	f.opts.ImportFBA = true
	e.svc.Fetch[order.Amazon] = f
	if err := e.svc.Process(c, amazonMsg(fba)); err != nil {
		t.Fatal(err)
	}
	rec, err := e.ledger.Get(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Order.Status != order.Shipped || !rec.Order.FulfilledByChannel || rec.Order.Personal != nil || rec.State != ledger.StatePending {
		t.Fatalf("FBA order: %s/%s fulfilledByChannel=%v personal=%v", rec.Order.Status, rec.State, rec.Order.FulfilledByChannel, rec.Order.Personal != nil)
	}
	if got := e.pushes(); len(got) != 1 {
		t.Fatalf("%d pushes, want 1", len(got))
	}
	// Once in ShipStation, a later version is not pushed again.
	if err := e.ledger.MarkPushed(c, id, ledger.Push{Group: "", OrderKey: "k", ShipStationOrderID: 1, Account: "main", Version: rec.Order.ModifiedAt, Status: order.Shipped, At: time.Now()}, time.Now()); err != nil {
		t.Fatal(err)
	}
	later := rec.Order
	later.ModifiedAt = later.ModifiedAt.Add(time.Hour)
	if st, _ := ingest.Decide(&later, map[string]ledger.Push{"": {}}, false); st != ledger.StateSkipped {
		t.Errorf("a later FBA version: %s, want skipped", st)
	}
}
