package amazon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

// fakeTokens hands out "tok-<n>", a new one after each Invalidate.
type fakeTokens struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (f *fakeTokens) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("tok-%d", f.n+1), nil
}

func (f *fakeTokens) Invalidate(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, tok)
	f.n++
}

func newClient(t *testing.T, h http.HandlerFunc) (*Client, *fakeTokens) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ft := &fakeTokens{}
	return &Client{MarketplaceID: "ATVPDKIKX0DER", BaseURL: srv.URL, Tokens: ft}, ft
}

func TestEndpointFor(t *testing.T) {
	for id, want := range map[string]string{
		"ATVPDKIKX0DER": EndpointNA, "A2Q3Y263D00KWC": EndpointNA, "A1F83G8C2ARO7P": EndpointEU,
		"APJ6JRA9NG5V4": EndpointEU, "A1VC38T7YXB528": EndpointFE, "A39IBJ37TRP1C6": EndpointFE,
	} {
		if got, ok := EndpointFor(id); !ok || got != want {
			t.Errorf("EndpointFor(%s) = %s, %v", id, got, ok)
		}
	}
	if _, ok := EndpointFor("NOPE"); ok {
		t.Error("unknown marketplace has an endpoint")
	}
	c := &Client{MarketplaceID: "NOPE", Tokens: &fakeTokens{}}
	if _, err := c.GetOrder(context.Background(), "113-1234567-1234567", nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown marketplace: %v", err)
	}
}

func TestGetOrder(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/orders/2026-01-01/orders/113-9876543-1112223" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if got := r.URL.Query().Get("includedData"); got != "FULFILLMENT,PACKAGES" {
			t.Errorf("includedData %q", got)
		}
		if r.Header.Get("x-amz-access-token") != "tok-1" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		w.Write(fixture(t, "get_order.json"))
	})
	o, err := c.GetOrder(context.Background(), "113-9876543-1112223", []string{"FULFILLMENT", "PACKAGES"})
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID != "113-9876543-1112223" || len(o.OrderItems) != 1 || o.OrderItems[0].Product.Price.UnitPrice.Amount != "15.99" ||
		o.Fulfillment.FulfilledBy != "MERCHANT" || o.Fulfillment.ShipByWindow.LatestDateTime.IsZero() || o.Programs[0] != "PRIME" {
		t.Errorf("%+v", o)
	}
	if s, d, ok := order.AmazonDisposition(o.Fulfillment.FulfillmentStatus, o.Fulfillment.FulfilledBy); !ok || s != order.AwaitingShipment || d != order.Import {
		t.Errorf("disposition %q %v %v", s, d, ok)
	}
	if _, err := c.GetOrder(context.Background(), "../x", nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("malformed id: %v", err)
	}
}

func TestSearchOrdersQuery(t *testing.T) {
	after := time.Date(2026, 11, 21, 14, 0, 0, 0, time.FixedZone("x", 3600))
	var calls int
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		q := r.URL.Query()
		if r.URL.Path != "/orders/2026-01-01/orders" {
			t.Errorf("path %s", r.URL.Path)
		}
		want := map[string]string{
			"lastUpdatedAfter": "2026-11-21T13:00:00Z", "marketplaceIds": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2",
			"includedData": "FULFILLMENT", "fulfilledBy": "MERCHANT", "maxResultsPerPage": "100",
		}
		if calls == 2 {
			want["paginationToken"] = "bmV4dC1wYWdlLXRva2Vu"
		}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("call %d: %s = %q, want %q", calls, k, q.Get(k), v)
			}
		}
		if calls == 1 && q.Has("paginationToken") {
			t.Error("paginationToken on first page")
		}
		w.Write(fixture(t, "search_orders.json"))
	})
	q := SearchQuery{LastUpdatedAfter: after, MarketplaceIDs: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"},
		IncludedData: []string{"FULFILLMENT"}, FulfilledBy: []string{"MERCHANT"}, MaxResultsPerPage: 100}
	res, err := c.SearchOrders(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Orders) != 2 || res.NextToken != "bmV4dC1wYWdlLXRva2Vu" || res.LastUpdatedBefore == nil {
		t.Fatalf("%+v", res)
	}
	q.PaginationToken = res.NextToken
	if _, err := c.SearchOrders(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []SearchQuery{{}, {CreatedAfter: after, LastUpdatedAfter: after}, {CreatedAfter: after, MaxResultsPerPage: 101}} {
		if _, err := c.SearchOrders(context.Background(), bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v accepted: %v", bad, err)
		}
	}
	if calls != 2 {
		t.Errorf("%d calls", calls)
	}
}

func TestSearchOrdersDefaultsToHomeMarketplace(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("marketplaceIds"); got != "ATVPDKIKX0DER" {
			t.Errorf("marketplaceIds %q", got)
		}
		if got := r.URL.Query().Get("createdAfter"); got != "2026-11-01T00:00:00Z" {
			t.Errorf("createdAfter %q", got)
		}
		fmt.Fprint(w, `{"orders":[]}`)
	})
	res, err := c.SearchOrders(context.Background(), SearchQuery{CreatedAfter: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(res.Orders) != 0 || res.NextToken != "" {
		t.Fatalf("%+v %v", res, err)
	}
}

func validConfirm() ConfirmShipmentRequest {
	return ConfirmShipmentRequest{PackageDetail: PackageDetail{
		PackageReferenceID: "1", CarrierCode: "UPS", ShippingMethod: "UPS Ground", TrackingNumber: "1Z999AA10123456784",
		ShipDate:   time.Date(2026, 11, 22, 9, 30, 0, 0, time.FixedZone("PST", -8*3600)),
		OrderItems: []ConfirmShipmentItem{{OrderItemID: "40000000000001", Quantity: 2}},
	}}
}

func TestConfirmShipmentBody(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/orders/v0/orders/113-9876543-1112223/shipmentConfirmation" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("x-amz-access-token") != "tok-1" {
			t.Errorf("headers %v", r.Header)
		}
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		pd := m["packageDetail"].(map[string]any)
		if m["marketplaceId"] != "ATVPDKIKX0DER" || pd["packageReferenceId"] != "1" || pd["shipDate"] != "2026-11-22T17:30:00Z" ||
			pd["carrierCode"] != "UPS" || pd["trackingNumber"] != "1Z999AA10123456784" {
			t.Errorf("body %s", b)
		}
		if _, ok := pd["carrierName"]; ok {
			t.Errorf("empty carrierName sent: %s", b)
		}
		items := pd["orderItems"].([]any)
		if it := items[0].(map[string]any); it["orderItemId"] != "40000000000001" || it["quantity"] != float64(2) {
			t.Errorf("items %s", b)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if err := c.ConfirmShipment(context.Background(), "113-9876543-1112223", validConfirm()); err != nil {
		t.Fatal(err)
	}
}

func TestConfirmShipmentValidates(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { t.Error("called") })
	cases := map[string]func(*ConfirmShipmentRequest){
		"ref zero":      func(r *ConfirmShipmentRequest) { r.PackageDetail.PackageReferenceID = "0" },
		"ref negative":  func(r *ConfirmShipmentRequest) { r.PackageDetail.PackageReferenceID = "-1" },
		"ref padded":    func(r *ConfirmShipmentRequest) { r.PackageDetail.PackageReferenceID = "01" },
		"ref text":      func(r *ConfirmShipmentRequest) { r.PackageDetail.PackageReferenceID = "pkg1" },
		"no carrier":    func(r *ConfirmShipmentRequest) { r.PackageDetail.CarrierCode = "" },
		"Other no name": func(r *ConfirmShipmentRequest) { r.PackageDetail.CarrierCode = "Other" },
		"no tracking":   func(r *ConfirmShipmentRequest) { r.PackageDetail.TrackingNumber = "" },
		"no ship date":  func(r *ConfirmShipmentRequest) { r.PackageDetail.ShipDate = time.Time{} },
		"no items":      func(r *ConfirmShipmentRequest) { r.PackageDetail.OrderItems = nil },
		"zero quantity": func(r *ConfirmShipmentRequest) { r.PackageDetail.OrderItems[0].Quantity = 0 },
		"no item id":    func(r *ConfirmShipmentRequest) { r.PackageDetail.OrderItems[0].OrderItemID = "" },
	}
	for name, f := range cases {
		r := validConfirm()
		f(&r)
		if err := c.ConfirmShipment(context.Background(), "113-9876543-1112223", r); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRetriesOnceWithFreshTokenOn401And403(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		var seen []string
		c, ft := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.Header.Get("x-amz-access-token"))
			if len(seen) == 1 {
				w.WriteHeader(status)
				fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}`)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		if err := c.ConfirmShipment(context.Background(), "113-9876543-1112223", validConfirm()); err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if strings.Join(seen, ",") != "tok-1,tok-2" || strings.Join(ft.invalidated, ",") != "tok-1" {
			t.Errorf("%d: tokens %v, invalidated %v", status, seen, ft.invalidated)
		}
	}
	// A second rejection is final: Unauthorised, two calls, no loop.
	var calls int
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied."}]}`)
	})
	_, err := c.GetOrder(context.Background(), "113-9876543-1112223", nil)
	if !errs.Is(err, errs.Unauthorised) || calls != 2 || !strings.Contains(err.Error(), "Access to requested resource is denied") {
		t.Errorf("err = %v after %d calls", err, calls)
	}
	if strings.Contains(err.Error(), "tok-") {
		t.Errorf("token in error: %v", err)
	}
}

func TestErrorKinds(t *testing.T) {
	quota := `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`
	cases := []struct {
		name   string
		status int
		body   string
		call   func(*Client) error
		kind   errs.Kind
		retry  time.Duration
		want   string
	}{
		{"confirm 429", 429, quota, confirm, errs.Transient, 500 * time.Millisecond, "QuotaExceeded"},
		{"getOrder 429", 429, quota, getOrder, errs.Transient, 2 * time.Second, "QuotaExceeded"},
		{"search 429", 429, quota, search, errs.Transient, ThrottleWait(OpSearchOrders), "QuotaExceeded"},
		{"400 invalid input", 400, `{"errors":[{"code":"InvalidInput","message":"Invalid Input","details":""}]}`, confirm, errs.Invalid, 0, "InvalidInput: Invalid Input"},
		{"404", 404, `{"errors":[{"code":"NotFound","message":"Order not found"}]}`, confirm, errs.NotFound, 0, "NotFound"},
		{"500", 500, `{"errors":[{"code":"InternalFailure","message":"We encountered an internal error."}]}`, confirm, errs.Transient, 0, "InternalFailure"},
		{"503", 503, ``, confirm, errs.Transient, 0, "HTTP 503"},
		{"garbage 200", 200, `{"order":`, getOrder, errs.Transient, 0, "decode"},
		{"no order", 200, `{}`, getOrder, errs.Invalid, 0, "no order"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			})
			err := c.call(cl)
			if !errs.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want %v containing %q", err, c.kind, c.want)
			}
			if got := errs.RetryAfterOf(err); got != c.retry {
				t.Errorf("RetryAfter = %v, want %v", got, c.retry)
			}
		})
	}
}

func confirm(c *Client) error {
	return c.ConfirmShipment(context.Background(), "113-9876543-1112223", validConfirm())
}

func getOrder(c *Client) error {
	_, err := c.GetOrder(context.Background(), "113-9876543-1112223", nil)
	return err
}

func search(c *Client) error {
	_, err := c.SearchOrders(context.Background(), SearchQuery{LastUpdatedAfter: time.Now().Add(-time.Hour)})
	return err
}

func TestLimitsArePublishedRates(t *testing.T) {
	if w := ThrottleWait(OpSearchOrders); w < 178*time.Second || w > 179*time.Second {
		t.Errorf("searchOrders wait %v", w)
	}
	for op, want := range map[string][2]float64{OpConfirmShipment: {2, 10}, OpGetOrder: {0.5, 30}, OpSearchOrders: {0.0056, 20}} {
		if l := Limits[op]; l.Rate != want[0] || l.Burst != want[1] {
			t.Errorf("%s: %+v", op, l)
		}
	}
}

func TestClientWithLWA(t *testing.T) {
	var calls int
	lwa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		fmt.Fprintf(w, `{"access_token":"Atza|lwa-%d","expires_in":3600}`, calls)
	}))
	defer lwa.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-amz-access-token") != "Atza|lwa-1" {
			t.Errorf("token %q", r.Header.Get("x-amz-access-token"))
		}
		w.Write(fixture(t, "get_order.json"))
	}))
	defer api.Close()
	c := &Client{MarketplaceID: "ATVPDKIKX0DER", BaseURL: api.URL,
		Tokens: &LWA{BaseURL: lwa.URL, ClientID: "id", ClientSecret: "s", RefreshToken: "r"}}
	for range 3 {
		if _, err := c.GetOrder(context.Background(), "113-9876543-1112223", nil); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("%d token fetches", calls)
	}
}
