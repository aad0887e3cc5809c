package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/secrets"
)

const amazonCfg = `
shipstation:
  - {id: main, credentialsSecret: ss}
stores:
  - id: amz-us
    channel: amazon
    baseURL: SPAPI
    credentialsSecret: shiprelay/amazon/seller
    amazon: {sellerId: SELLER, marketplaceId: ATVPDKIKX0DER, lwaURL: LWA, importFBA: true}
    shipstation: {account: main}
  - id: amz-jp
    channel: amazon
    baseURL: SPAPI
    credentialsSecret: shiprelay/amazon/seller
    amazon: {sellerId: SELLER, marketplaceId: A1VC38T7YXB528, lwaURL: LWA, itemIdentifier: asin}
    shipstation: {account: main}
`

type amazonEnv struct {
	amz  *sandbox.Amazon
	deps *Deps
}

// newAmazonEnv wires the app's Amazon clients to the sandbox, with the
// ledger (the shared rate budget) on DynamoDB Local.
func newAmazonEnv(t *testing.T, speedUp float64) *amazonEnv {
	t.Helper()
	amz := sandbox.NewAmazon(sandbox.AmazonOptions{Seed: 3, SpeedUp: speedUp, SearchLag: -1})
	api := httptest.NewServer(amz.Handler())
	lwa := httptest.NewServer(amz.LWAHandler())
	t.Cleanup(func() { api.Close(); lwa.Close() })
	src := strings.NewReplacer("SPAPI", api.URL, "LWA", lwa.URL, "SELLER", sandbox.DefaultAmazonSellerID).Replace(amazonCfg)
	cfg, err := config.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sec, _ := json.Marshal(map[string]any{"shiprelay/amazon/seller": map[string]string{
		"clientId": sandbox.DefaultAmazonClientID, "clientSecret": sandbox.DefaultAmazonClientSecret, "refreshToken": sandbox.DefaultAmazonRefreshToken,
	}})
	path := filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(path, sec, 0o600); err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	speed := ""
	if speedUp > 1 {
		speed = "1000"
	}
	d := &Deps{
		Config: cfg, Ledger: dynamo.New(client, table), Secrets: secrets.File{Path: path},
		Log: obs.NewLogger(&bytes.Buffer{}, "ERROR"), HTTP: &http.Client{Timeout: 10 * time.Second},
		getenv: func(k string) string {
			if k == EnvAmazonSpeedUp {
				return speed
			}
			return ""
		},
	}
	d.amazon = &amazonClients{deps: d}
	return &amazonEnv{amz: amz, deps: d}
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestAmazonFetchNormalisesWithTheStoreSettings(t *testing.T) {
	e := newAmazonEnv(t, 1)
	c := testCtx(t)
	us := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Prime: true, Items: 2})
	o, disp, err := e.deps.amazon.Fetch(c, "amz-us", us.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if disp != order.Import || o.ID != order.ID("amazon:amz-us:"+us.OrderID) || o.Status != order.AwaitingShipment || len(o.Items) != 2 {
		t.Fatalf("US order: %v %+v", disp, o)
	}
	if o.Items[0].SKU != us.Items[0].SellerSKU {
		t.Errorf("item identifier sku: SKU %q, want %q", o.Items[0].SKU, us.Items[0].SellerSKU)
	}
	if o.Personal == nil || o.Personal.ShipTo[""].Name != us.Address.Name {
		t.Error("buyer data not read (includedData BUYER, RECIPIENT)")
	}
	jp := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Japan: true, Unshipped: true})
	o, _, err = e.deps.amazon.Fetch(c, "amz-jp", jp.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Items[0].SKU != jp.Items[0].ASIN {
		t.Errorf("item identifier asin: SKU %q, want %q", o.Items[0].SKU, jp.Items[0].ASIN)
	}
	if got := o.ShipGroups[0].ShipTo.City; got != jp.Address.City {
		t.Errorf("Japanese city %q, want %q unchanged", got, jp.Address.City)
	}
	// An order of another marketplace is not this store's.
	if _, _, err := e.deps.amazon.Fetch(c, "amz-us", jp.OrderID); !errs.Is(err, errs.Invalid) {
		t.Errorf("JP order fetched as amz-us: %v", err)
	}
	if _, _, err := e.deps.amazon.Fetch(c, "nope", jp.OrderID); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown store: %v", err)
	}
}

func TestAmazonRevokedAuthorisationIsUnauthorisedWithTheFix(t *testing.T) {
	e := newAmazonEnv(t, 1)
	o := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	e.amz.RevokeRefreshToken(sandbox.DefaultAmazonRefreshToken)
	_, _, err := e.deps.amazon.Fetch(testCtx(t), "amz-us", o.OrderID)
	if !errs.Is(err, errs.Unauthorised) || !strings.Contains(err.Error(), amazon.ReauthoriseMessage) {
		t.Fatalf("Fetch with a revoked grant = %v", err)
	}
	if strings.Contains(err.Error(), sandbox.DefaultAmazonRefreshToken) || strings.Contains(err.Error(), sandbox.DefaultAmazonClientSecret) {
		t.Error("credentials in the error")
	}
}

func TestAmazonListerPagesAndReturnsTheSearchedWindow(t *testing.T) {
	// Sped up: 3 pages of searchOrders would take 6 minutes at the real rate.
	e := newAmazonEnv(t, 1000)
	c := testCtx(t)
	want := map[string]bool{}
	for range 230 {
		o := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
		want[o.OrderID] = true
	}
	e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Japan: true, Unshipped: true}) // another marketplace
	// Searches are bounded in whole seconds: let this second pass.
	time.Sleep(1100 * time.Millisecond)
	from := time.Now().Add(-time.Hour)
	to := time.Now().Add(amazonSearchLag)
	pages := 0
	got := map[string]bool{}
	until, err := e.deps.amazon.ModifiedBetween(c, "amz-us", from, to, func(cs []poll.Change) error {
		pages++
		for _, ch := range cs {
			if got[ch.ChannelOrderID] {
				t.Errorf("order %s listed twice", ch.ChannelOrderID)
			}
			got[ch.ChannelOrderID] = true
			if ch.ModifiedAt.IsZero() {
				t.Errorf("order %s without its modification time", ch.ChannelOrderID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d orders; want 3 pages of the %d US orders", pages, len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("order %s not listed", id)
		}
	}
	// The window ends at least two minutes before "to", and the next
	// watermark is where Amazon says the search ended.
	if until.IsZero() || until.After(to.Add(-amazonSearchLag)) {
		t.Errorf("covered until %v; want ≤ %v", until, to.Add(-amazonSearchLag))
	}
	// A window that is empty after the lag is not searched at all.
	now := time.Now()
	before := e.amz.Stats().Requests[sandbox.AmazonOpSearchOrders]
	if u, err := e.deps.amazon.ModifiedBetween(c, "amz-us", now.Add(-time.Minute), now, func([]poll.Change) error { return nil }); err != nil || !u.Equal(now.Add(-time.Minute)) {
		t.Errorf("empty window: %v, %v", u, err)
	}
	if after := e.amz.Stats().Requests[sandbox.AmazonOpSearchOrders]; after != before {
		t.Errorf("an empty window cost %d searches", after-before)
	}
}
