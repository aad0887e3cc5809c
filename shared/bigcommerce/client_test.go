package bigcommerce

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// fakeBudget is a test double of ratelimit.Budget that records its calls.
type fakeBudget struct {
	mu       sync.Mutex
	takes    []string
	observes []observation
	wait     time.Duration // returned by Take
}

type observation struct {
	key       string
	remaining int
	reset     time.Duration
}

func (b *fakeBudget) Take(_ context.Context, key string, _ ratelimit.Limit, n int) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.takes = append(b.takes, key+"#"+strconv.Itoa(n))
	return b.wait, nil
}

func (b *fakeBudget) Observe(_ context.Context, key string, _ ratelimit.Limit, remaining int, reset time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.observes = append(b.observes, observation{key, remaining, reset})
	return nil
}

const testHash = "abc123"

func newClient(t *testing.T, h http.HandlerFunc) (*Client, *fakeBudget, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b := &fakeBudget{}
	return &Client{
		BaseURL:     srv.URL,
		StoreHash:   testHash,
		AccessToken: "tok-1",
		HTTP:        srv.Client(),
		Budget:      b,
		BudgetKey:   "bigcommerce:s1:*",
		Limit:       ratelimit.PerWindow(150, 30*time.Second),
		MaxWait:     time.Second,
	}, b, srv
}

func rateHeaders(w http.ResponseWriter, left, resetMs int) {
	w.Header().Set(HeaderRequestsLeft, strconv.Itoa(left))
	w.Header().Set(HeaderTimeResetMs, strconv.Itoa(resetMs))
}

func checkAuth(t *testing.T, r *http.Request) {
	t.Helper()
	if got := r.Header.Get("X-Auth-Token"); got != "tok-1" {
		t.Errorf("X-Auth-Token = %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
}

func TestListOrdersRequestAndBudget(t *testing.T) {
	min := time.Date(2026, 11, 21, 12, 0, 0, 0, time.FixedZone("X", 3600))
	maxT := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	c, b, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.URL.Path != "/stores/abc123/v2/orders" {
			t.Errorf("path = %q", r.URL.Path)
		}
		q := r.URL.Query()
		if got := q.Get("min_date_modified"); got != "Sat, 21 Nov 2026 11:00:00 +0000" {
			t.Errorf("min_date_modified = %q", got)
		}
		if got := q.Get("max_date_modified"); got != "Sun, 22 Nov 2026 00:00:00 +0000" {
			t.Errorf("max_date_modified = %q", got)
		}
		if !strings.Contains(r.URL.RawQuery, "%2B0000") {
			t.Errorf("'+' not URL-encoded: %s", r.URL.RawQuery)
		}
		if q.Get("page") != "2" || q.Get("limit") != "50" || q.Get("sort") != "date_modified:asc" {
			t.Errorf("query = %s", r.URL.RawQuery)
		}
		rateHeaders(w, 149, 1500)
		io.WriteString(w, `[{"id":10452,"status_id":11,"total_inc_tax":"43.2000","unknown_field":{"x":1}}]`)
	})
	got, err := c.ListOrders(context.Background(), ListOrdersQuery{
		MinDateModified: min, MaxDateModified: maxT, Page: 2, Limit: 50, Sort: "date_modified:asc",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 10452 || got[0].TotalIncTax != "43.2000" {
		t.Fatalf("orders = %+v", got)
	}
	if len(b.takes) != 1 || b.takes[0] != "bigcommerce:s1:*#1" {
		t.Errorf("takes = %v", b.takes)
	}
	if len(b.observes) != 1 || b.observes[0] != (observation{"bigcommerce:s1:*", 149, 1500 * time.Millisecond}) {
		t.Errorf("observes = %+v", b.observes)
	}
}

func TestListOrders204IsEmpty(t *testing.T) {
	c, b, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		rateHeaders(w, 10, 200)
		w.WriteHeader(http.StatusNoContent)
	})
	got, err := c.ListOrders(context.Background(), ListOrdersQuery{})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if len(b.observes) != 1 {
		t.Errorf("observes = %+v", b.observes)
	}
}

func TestErrorKinds(t *testing.T) {
	const pii = "jane@example.com"
	cases := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		kind    errs.Kind
		retry   time.Duration
		msg     string
	}{
		{"401", 401, nil, `[{"status":401,"message":"You are not authorised"}]`, errs.Unauthorised, 0, "You are not authorised"},
		{"403", 403, nil, `{"status":403,"title":"Forbidden"}`, errs.Unauthorised, 0, "Forbidden"},
		{"404", 404, nil, ``, errs.NotFound, 0, "HTTP 404"},
		{"400 v2", 400, nil, `[{"status":400,"message":"The field 'status_id' is invalid."}]`, errs.Invalid, 0, "The field 'status_id' is invalid."},
		{"422 v3", 422, nil, `{"status":422,"title":"Unprocessable","errors":{"email":"` + pii + `"}}`, errs.Invalid, 0, "Unprocessable"},
		{"409", 409, nil, `[{"status":409,"message":"conflict"}]`, errs.Invalid, 0, "conflict"},
		{"429 headers", 429, map[string]string{HeaderRequestsLeft: "0", HeaderTimeResetMs: "4200"}, `[{"status":429,"message":"Too many"}]`, errs.Transient, 4200 * time.Millisecond, "Too many"},
		{"429 overload", 429, nil, ``, errs.Transient, OverloadRetryAfter, "HTTP 429"},
		{"500 html", 500, nil, `<html>` + pii + `</html>`, errs.Transient, 0, "HTTP 500"},
		{"503", 503, nil, ``, errs.Transient, 0, "HTTP 503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, b, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.GetOrder(context.Background(), 123)
			if err == nil {
				t.Fatal("no error")
			}
			if k := errs.KindOf(err); k != tc.kind {
				t.Errorf("kind = %v, want %v (%v)", k, tc.kind, err)
			}
			if d := errs.RetryAfterOf(err); d != tc.retry {
				t.Errorf("retry after = %v, want %v", d, tc.retry)
			}
			s := err.Error()
			if !strings.Contains(s, tc.msg) || !strings.HasPrefix(s, "bigcommerce.GetOrder: ") || !strings.Contains(s, "order 123") {
				t.Errorf("error %q lacks %q or context", s, tc.msg)
			}
			if strings.Contains(s, pii) {
				t.Errorf("error leaks body: %q", s)
			}
			if tc.name == "429 headers" && (len(b.observes) != 1 || b.observes[0].remaining != 0 || b.observes[0].reset != 4200*time.Millisecond) {
				t.Errorf("observes = %+v", b.observes)
			}
		})
	}
}

func TestVendorMessageTruncated(t *testing.T) {
	long := strings.Repeat("x", 1000)
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `[{"status":400,"message":"`+long+`"}]`)
	})
	_, err := c.GetOrder(context.Background(), 1)
	if err == nil || len(err.Error()) > 450 {
		t.Fatalf("error not truncated: %d chars", len(err.Error()))
	}
}

func TestTimeoutAndConnectionErrorsAreTransient(t *testing.T) {
	release := make(chan struct{})
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	_, err := c.GetOrder(context.Background(), 1)
	if !errs.Is(err, errs.Transient) {
		t.Errorf("timeout: %v", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c2 := &Client{BaseURL: url, StoreHash: testHash, AccessToken: "t"}
	_, err = c2.GetOrder(context.Background(), 1)
	if !errs.Is(err, errs.Transient) {
		t.Errorf("refused: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c2.GetOrder(ctx, 1)
	if !errs.Is(err, errs.Transient) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestBudgetDeferred(t *testing.T) {
	hits := 0
	c, b, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	b.wait = 5 * time.Second
	c.MaxWait = 0
	_, err := c.GetOrder(context.Background(), 1)
	if !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 5*time.Second {
		t.Fatalf("err = %v (retry %v)", err, errs.RetryAfterOf(err))
	}
	var d *ratelimit.ErrDeferred
	if !errors.As(err, &d) {
		t.Errorf("ErrDeferred not in chain: %v", err)
	}
	if hits != 0 {
		t.Errorf("request sent despite no budget")
	}
}

func TestNilBudgetAndDefaults(t *testing.T) {
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":7,"status_id":2}`)
	})
	c.Budget = nil
	o, err := c.GetOrder(context.Background(), 7)
	if err != nil || o.ID != 7 {
		t.Fatalf("%v %v", o, err)
	}
	if _, err := (&Client{StoreHash: "x"}).GetOrder(context.Background(), 7); !errs.Is(err, errs.Unauthorised) {
		t.Errorf("missing token: %v", err)
	}
	if _, err := (&Client{AccessToken: "x"}).GetOrder(context.Background(), 7); !errs.Is(err, errs.Invalid) {
		t.Errorf("missing hash: %v", err)
	}
}

func TestGetOrderBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"syntax":   `{"id":`,
		"wrongid":  `{"id":8}`,
		"badtype":  `{"id":"x"}`,
		"badmoney": `{"id":7,"total_inc_tax":{"a":1}}`,
		"empty":    ``,
	} {
		t.Run(name, func(t *testing.T) {
			c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
			_, err := c.GetOrder(context.Background(), 7)
			if err == nil {
				t.Fatal("no error")
			}
			k := errs.KindOf(err)
			if name == "syntax" {
				if k != errs.Transient { // cut short: unexpected EOF
					t.Errorf("kind %v: %v", k, err)
				}
			} else if k != errs.Invalid {
				t.Errorf("kind %v: %v", k, err)
			}
		})
	}
}

func product(id int64) map[string]any {
	return map[string]any{"id": id, "order_id": 5, "type": "physical", "quantity": 1, "price_inc_tax": "1.0000"}
}

func TestProductsPaging(t *testing.T) {
	for _, end := range []string{"short", "204", "empty"} {
		t.Run(end, func(t *testing.T) {
			var pages []string
			c, b, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				checkAuth(t, r)
				if r.URL.Path != "/stores/abc123/v2/orders/5/products" {
					t.Errorf("path = %q", r.URL.Path)
				}
				q := r.URL.Query()
				if q.Get("limit") != "250" {
					t.Errorf("limit = %q", q.Get("limit"))
				}
				pages = append(pages, q.Get("page"))
				var list []map[string]any
				switch q.Get("page") {
				case "1":
					for i := range 250 {
						list = append(list, product(int64(i+1)))
					}
				case "2":
					switch end {
					case "204":
						w.WriteHeader(http.StatusNoContent)
						return
					case "short":
						for i := range 3 {
							list = append(list, product(int64(251+i)))
						}
					}
				default:
					t.Errorf("unexpected page %s", q.Get("page"))
				}
				if list == nil {
					list = []map[string]any{}
				}
				json.NewEncoder(w).Encode(list)
			})
			got, err := c.Products(context.Background(), 5)
			if err != nil {
				t.Fatal(err)
			}
			want := 250
			if end == "short" {
				want = 253
			}
			if len(got) != want || strings.Join(pages, ",") != "1,2" {
				t.Errorf("got %d products from pages %v", len(got), pages)
			}
			if len(b.takes) != 2 {
				t.Errorf("takes = %v", b.takes)
			}
		})
	}
}

func TestShippingAddressesSinglePage(t *testing.T) {
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stores/abc123/v2/orders/229/shipping_addresses" || r.URL.Query().Get("page") != "1" {
			t.Errorf("url = %s", r.URL)
		}
		io.WriteString(w, `[{"id":132,"order_id":229,"city":"San Antonio","cost_inc_tax":"12.9900","shipping_quotes":{"url":"u"}},{"id":133}]`)
	})
	got, err := c.ShippingAddresses(context.Background(), 229)
	if err != nil || len(got) != 2 || got[0].CostIncTax != "12.9900" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := c.ShippingAddresses(context.Background(), 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("id 0: %v", err)
	}
}

func TestCreateShipment(t *testing.T) {
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodPost || r.URL.Path != "/stores/abc123/v2/orders/228/shipments" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"order_address_id":  float64(131),
			"items":             []any{map[string]any{"order_product_id": float64(194), "quantity": float64(2)}},
			"tracking_number":   "EJ958083578US",
			"shipping_provider": "usps",
			"tracking_carrier":  "usps",
			"shipping_method":   "Ground",
			"comments":          "Ready",
		}
		gb, _ := json.Marshal(body)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("body = %s\nwant   %s", gb, wb)
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":11,"order_id":228,"order_address_id":131,"tracking_number":"EJ958083578US","items":[{"order_product_id":194,"product_id":0,"quantity":2}],"shipping_address":{"first_name":"Trishy"}}`)
	})
	s, err := c.CreateShipment(context.Background(), 228, ShipmentRequest{
		OrderAddressID: 131, Items: []ShipmentItem{{OrderProductID: 194, ProductID: 9, Quantity: 2}},
		TrackingNumber: "EJ958083578US", ShippingProvider: "usps", TrackingCarrier: "usps",
		ShippingMethod: "Ground", Comments: "Ready",
	})
	if err != nil || s.ID != 11 || len(s.Items) != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []ShipmentRequest{
		{Items: []ShipmentItem{{OrderProductID: 1, Quantity: 1}}},
		{OrderAddressID: 1},
		{OrderAddressID: 1, Items: []ShipmentItem{{OrderProductID: 1, Quantity: 0}}},
	} {
		if _, err := c.CreateShipment(context.Background(), 228, bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
