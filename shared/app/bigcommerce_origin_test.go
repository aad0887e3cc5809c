package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/secrets"
)

const bcOriginCfg = `
shipstation:
  - {id: main, credentialsSecret: ss}
stores:
  - id: bc
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc
    bigcommerce: {storeHash: HASH}
    shipstation: {account: main}
  - id: bc-nochan
    channel: bigcommerce
    baseURL: BCURL
    credentialsSecret: shiprelay/bigcommerce/bc
    bigcommerce: {storeHash: HASH, copies: {channels: false}}
    shipstation: {account: main}
`

// newBigCommerceEnv wires the app's BigCommerce clients to the sandbox, with
// the ledger (the shared rate budget) on DynamoDB Local. While
// failChannels is set, the Channels API answers 503.
func newBigCommerceEnv(t *testing.T) (sb *sandbox.Sandbox, d *Deps, failChannels *atomic.Bool) {
	t.Helper()
	sb = sandbox.New(sandbox.Options{})
	t.Cleanup(sb.Close)
	failChannels = &atomic.Bool{}
	h := sb.BigCommerce()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failChannels.Load() && strings.Contains(r.URL.Path, "/v3/channels/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	src := strings.NewReplacer("BCURL", srv.URL, "HASH", sandbox.DefaultStoreHash).Replace(bcOriginCfg)
	cfg, err := config.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := json.Marshal(map[string]any{"shiprelay/bigcommerce/bc": map[string]string{
		"accessToken": sandbox.DefaultBigCommerceToken, "webhookSecret": "hook-secret",
	}})
	path := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(path, sec, 0o600); err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	d = &Deps{
		Config: cfg, Ledger: dynamo.New(client, table), Secrets: secrets.File{Path: path},
		Log: obs.NewLogger(&bytes.Buffer{}, "ERROR"), HTTP: &http.Client{Timeout: 10 * time.Second},
		getenv: func(string) string { return "" },
	}
	d.clients = &clients{deps: d}
	return sb, d, failChannels
}

func createBCOrder(t *testing.T, sb *sandbox.Sandbox, spec sandbox.OrderSpec) string {
	t.Helper()
	spec.StatusID = sandbox.StatusAwaitingFulfillment
	spec.ShippingAddresses = []sandbox.ShippingAddress{{Address: sandbox.Address{
		FirstName: "Ada", LastName: "Lovelace", Street1: "1 Main St", City: "Austin", State: "Texas",
		Zip: "78701", Country: "United States", CountryISO2: "US",
	}, ShippingMethod: "Ground"}}
	spec.Lines = []sandbox.LineSpec{{Name: "Mug", SKU: "MUG-1", Quantity: 1, UnitPriceCents: 1599, Weight: "1.0000"}}
	o, err := sb.CreateOrder(spec)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(o.ID)
}

func TestBigCommerceFetchDetectsMarketplaceCopies(t *testing.T) {
	sb, d, _ := newBigCommerceEnv(t)
	c := testCtx(t)
	const amazonID = "113-4567890-1234567"
	channelCalls := func() int64 { return sb.Stats().BigCommerce.RequestsByRoute["GET /v3/channels/{id}"] }

	copyID := createBCOrder(t, sb, sandbox.OrderSpec{ChannelID: 3, OrderSource: "external", ExternalOrderID: amazonID,
		CustomerMessage: "leave at the back door"})
	o, disp, err := d.clients.Fetch(c, "bc", copyID)
	if err != nil {
		t.Fatal(err)
	}
	if disp != order.Import || o.Origin == nil || o.Origin.Key() != "amazon:"+amazonID || o.OriginReview != "" {
		t.Fatalf("channel-3 copy: %v origin %+v review %q", disp, o.Origin, o.OriginReview)
	}

	bare := createBCOrder(t, sb, sandbox.OrderSpec{ChannelID: 3, OrderSource: "external", CustomerMessage: "leave at the back door"})
	o, _, err = d.clients.Fetch(c, "bc", bare)
	if err != nil {
		t.Fatal(err)
	}
	if o.Origin != nil || !strings.Contains(o.OriginReview, "channel 3") || !strings.Contains(o.OriginReview, `"amazon"`) {
		t.Fatalf("channel-3 order without ids: origin %+v review %q", o.Origin, o.OriginReview)
	}
	for _, pii := range []string{"back door", "Ada", "Lovelace", "1 Main St"} {
		if strings.Contains(o.OriginReview, pii) {
			t.Errorf("review %q leaks %q", o.OriginReview, pii)
		}
	}
	if n := channelCalls(); n != 1 {
		t.Errorf("channel 3 looked up %d times, want once (cached)", n)
	}

	ebay := createBCOrder(t, sb, sandbox.OrderSpec{ChannelID: 4, OrderSource: "external", EbayOrderID: "12-34567-89012"})
	if o, _, err = d.clients.Fetch(c, "bc", ebay); err != nil || o.Origin == nil || o.Origin.Key() != "ebay:12-34567-89012" {
		t.Fatalf("channel-4 copy: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}

	web := createBCOrder(t, sb, sandbox.OrderSpec{CustomerMessage: "my amazon order " + amazonID + " was late"})
	if o, _, err = d.clients.Fetch(c, "bc", web); err != nil || o.Origin != nil || o.OriginReview != "" {
		t.Fatalf("storefront order: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}

	unknown := createBCOrder(t, sb, sandbox.OrderSpec{ChannelID: 77, OrderSource: "external"})
	if o, _, err = d.clients.Fetch(c, "bc", unknown); err != nil || o.Origin != nil || !strings.Contains(o.OriginReview, "channel 77 is unknown to the Channels API") {
		t.Fatalf("order on an unknown channel: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}
	if n := channelCalls(); n != 3 {
		t.Errorf("channel lookups = %d, want 3 (channels 3, 4 and 77; none for the storefront)", n)
	}

	// copies.channels: false: no lookup; the patterns still find the id.
	if o, _, err = d.clients.Fetch(c, "bc-nochan", copyID); err != nil || o.Origin == nil || o.Origin.Key() != "amazon:"+amazonID {
		t.Fatalf("channels off, copy: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}
	if o, _, err = d.clients.Fetch(c, "bc-nochan", bare); err != nil || o.Origin != nil || !strings.Contains(o.OriginReview, "platform unknown") {
		t.Fatalf("channels off, bare: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}
	if n := channelCalls(); n != 3 {
		t.Errorf("channel lookups with channels off: %d, want still 3", n)
	}
}

func TestBigCommerceFetchRetriesWhenTheChannelsAPIFails(t *testing.T) {
	sb, d, failChannels := newBigCommerceEnv(t)
	c := testCtx(t)
	id := createBCOrder(t, sb, sandbox.OrderSpec{ChannelID: 3, OrderSource: "external", ExternalOrderID: "113-4567890-1234567"})
	failChannels.Store(true)
	_, _, err := d.clients.Fetch(c, "bc", id)
	failChannels.Store(false)
	if !errs.Is(err, errs.Transient) {
		t.Fatalf("fetch while the Channels API fails: %v, want a transient error (retried)", err)
	}
	o, _, err := d.clients.Fetch(c, "bc", id)
	if err != nil || o.Origin == nil || o.Origin.Key() != "amazon:113-4567890-1234567" {
		t.Fatalf("after the outage: %v origin %+v review %q", err, o.Origin, o.OriginReview)
	}
}
