package shipstation

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
	wait     time.Duration
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

func newClient(t *testing.T, h http.HandlerFunc) (*Client, *fakeBudget) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b := &fakeBudget{}
	return &Client{
		BaseURL:   srv.URL,
		APIKey:    "key1",
		APISecret: "secret1",
		HTTP:      srv.Client(),
		Budget:    b,
		BudgetKey: "shipstation:main:*",
		Limit:     ratelimit.PerWindow(40, time.Minute),
		MaxWait:   time.Second,
	}, b
}

func checkAuth(t *testing.T, r *http.Request) {
	t.Helper()
	u, p, ok := r.BasicAuth()
	if !ok || u != "key1" || p != "secret1" {
		t.Errorf("basic auth = %q %q %v", u, p, ok)
	}
	if r.Header.Get("Accept") != "application/json" {
		t.Errorf("Accept = %q", r.Header.Get("Accept"))
	}
}

func limitHeaders(w http.ResponseWriter, remaining, reset int) {
	w.Header().Set("X-Rate-Limit-Limit", "40")
	w.Header().Set(HeaderRemaining, strconv.Itoa(remaining))
	w.Header().Set(HeaderReset, strconv.Itoa(reset))
}

func TestCreateOrders(t *testing.T) {
	o := testOrder()
	o.AmountPaid = "0.1"
	o.AmountPaid = o.AmountPaid.Add("0.2") // 0.30000000000000004 in float64
	wire, err := FromOrder(o, "132", Target{StoreID: 22766, Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodPost || r.URL.Path != "/orders/createorders" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		raw, _ := io.ReadAll(r.Body)
		body := string(raw)
		for _, want := range []string{`"amountPaid":0.3,`, `"orderDate":"2026-11-21T09:03:20.0000000"`, `"unitPrice":0.1,`,
			`"orderKey":"bigcommerce:bc-main:229/132"`, `"storeId":22766`} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %s: %s", want, body)
			}
		}
		var arr []map[string]any
		if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != 1 {
			t.Errorf("body is not an array of one order: %v", err)
		}
		limitHeaders(w, 37, 41)
		io.WriteString(w, `{"hasErrors":true,"results":[{"orderId":123456789,"orderNumber":"229-1","orderKey":"bigcommerce:bc-main:229/132","success":true,"errorMessage":null},
			{"orderId":0,"orderNumber":"x","orderKey":"y","success":false,"errorMessage":"bad"}]}`)
	})
	res, err := c.CreateOrders(context.Background(), []Order{wire})
	if err != nil {
		t.Fatal(err)
	}
	if !res.HasErrors || len(res.Results) != 2 || res.Results[0].OrderID != 123456789 || !res.Results[0].Success ||
		res.Results[0].ErrorMessage != nil || res.Results[1].ErrorMessage == nil || *res.Results[1].ErrorMessage != "bad" {
		t.Errorf("%+v", res)
	}
	if len(b.takes) != 1 || b.takes[0] != "shipstation:main:*#1" {
		t.Errorf("takes %v", b.takes)
	}
	if len(b.observes) != 1 || b.observes[0] != (observation{"shipstation:main:*", 37, 41 * time.Second}) {
		t.Errorf("observes %+v", b.observes)
	}
}

func TestCreateOrdersLimits(t *testing.T) {
	hits := 0
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	_, err := c.CreateOrders(context.Background(), make([]Order, 101))
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("101 orders: %v", err)
	}
	res, err := c.CreateOrders(context.Background(), nil)
	if err != nil || res.HasErrors || len(res.Results) != 0 {
		t.Errorf("empty: %+v %v", res, err)
	}
	if hits != 0 || len(b.takes) != 0 {
		t.Errorf("sent %d requests, %d takes", hits, len(b.takes))
	}
}

const listJSON = `{"orders":[{"orderId":123456789,"orderNumber":"229-1","orderKey":"bigcommerce:bc-main:229/132",
 "orderDate":"2026-07-01T12:00:00.0000000","createDate":"2026-11-21T09:15:02.1230000","modifyDate":null,
 "paymentDate":null,"shipByDate":null,"orderStatus":"awaiting_shipment","customerId":null,
 "billTo":{"name":"Jane Doe","company":null,"street1":null,"country":"US","residential":null,"addressVerified":null},
 "shipTo":{"name":"Jane Doe","street1":"123 MAIN ST","city":"SEATTLE","state":"WA","postalCode":"98101","country":"US","residential":true,"addressVerified":"Address validated successfully"},
 "items":[{"orderItemId":4455667,"lineItemKey":"65","sku":"MUG","name":"Mug","quantity":2,"unitPrice":15.99,"taxAmount":null,"weight":{"value":12,"units":"ounces","WeightUnits":1},"productId":null,"options":[]}],
 "orderTotal":31.98,"amountPaid":31.98,"taxAmount":0,"shippingAmount":0,"gift":false,
 "advancedOptions":{"storeId":22766,"customField1":"113-4567890-1234567","source":"amazon","mergedIds":[]},
 "tagIds":null,"externallyFulfilled":false,"unknownField":{"x":[1]}}],"total":1,"page":1,"pages":1}`

func TestListOrders(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodGet || r.URL.Path != "/orders" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		q := r.URL.Query()
		if q.Get("orderNumber") != "229 A&B" || q.Get("orderStatus") != "awaiting_shipment" || q.Get("storeId") != "22766" ||
			q.Get("page") != "2" || q.Get("pageSize") != "500" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		io.WriteString(w, listJSON)
	})
	page, err := c.ListOrders(context.Background(), ListOrdersQuery{
		OrderNumber: "229 A&B", OrderStatus: "awaiting_shipment", StoreID: 22766, Page: 2, PageSize: 500,
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Pages != 1 || len(page.Orders) != 1 {
		t.Fatalf("%+v", page)
	}
	o := page.Orders[0]
	if !o.OrderDate.Equal(time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC)) || !o.CreateDate.Equal(time.Date(2026, 11, 21, 17, 15, 2, 123e6, time.UTC)) ||
		!o.ModifyDate.IsZero() || o.OrderTotal != "31.98" || o.Items[0].UnitPrice != "15.99" || o.Items[0].Weight.Value != "12" ||
		o.AdvancedOptions.StoreID != 22766 || o.ShipTo.Residential == nil || !*o.ShipTo.Residential {
		t.Errorf("%+v", o)
	}
	for _, bad := range []ListOrdersQuery{{PageSize: 501}, {Page: -1}} {
		if _, err := c.ListOrders(context.Background(), bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestGetOrder(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/orders/123456789":
			var p struct{ Orders []json.RawMessage }
			json.Unmarshal([]byte(listJSON), &p)
			w.Write(p.Orders[0])
		case "/orders/5":
			w.WriteHeader(404)
			io.WriteString(w, `{"Message":"Order not found"}`)
		default:
			t.Errorf("path %s", r.URL.Path)
		}
	})
	o, err := c.GetOrder(context.Background(), 123456789)
	if err != nil || o.OrderNumber != "229-1" {
		t.Fatalf("%+v %v", o, err)
	}
	_, err = c.GetOrder(context.Background(), 5)
	if !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "Order not found") || !strings.Contains(err.Error(), "shipstation.GetOrder: ") {
		t.Errorf("404: %v", err)
	}
	if _, err := c.GetOrder(context.Background(), 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("id 0: %v", err)
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
		{"401", 401, nil, ``, errs.Unauthorised, 0, "HTTP 401"},
		{"403", 403, nil, `{"Message":"Forbidden"}`, errs.Unauthorised, 0, "Forbidden"},
		{"404", 404, nil, ``, errs.NotFound, 0, "HTTP 404"},
		{"400", 400, nil, `{"Message":"The request is invalid.","ModelState":{"apiOrder.shipTo.country":["The Country field is required."]}}`,
			errs.Invalid, 0, "The request is invalid.; apiOrder.shipTo.country: The Country field is required."},
		{"400 lower", 400, nil, `{"message":"bad thing"}`, errs.Invalid, 0, "bad thing"},
		{"429", 429, map[string]string{HeaderRemaining: "0", HeaderReset: "41"}, `{"message":"Too Many Requests"}`, errs.Transient, 41 * time.Second, "Too Many Requests"},
		{"429 bare", 429, nil, ``, errs.Transient, DefaultRetryAfter, "HTTP 429"},
		{"500", 500, nil, `{"Message":"An error has occurred.","ExceptionMessage":"Object reference not set","StackTrace":"at ` + pii + `"}`,
			errs.Transient, 0, "An error has occurred.; Object reference not set"},
		{"502 html", 502, nil, `<html>` + pii + `</html>`, errs.Transient, 0, "HTTP 502"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.ListOrders(context.Background(), ListOrdersQuery{})
			if err == nil {
				t.Fatal("no error")
			}
			if k := errs.KindOf(err); k != tc.kind {
				t.Errorf("kind %v want %v: %v", k, tc.kind, err)
			}
			if d := errs.RetryAfterOf(err); d != tc.retry {
				t.Errorf("retry %v want %v", d, tc.retry)
			}
			if s := err.Error(); !strings.Contains(s, tc.msg) || strings.Contains(s, pii) || strings.Contains(s, "StackTrace") {
				t.Errorf("message %q (want %q, no body)", s, tc.msg)
			}
			if tc.name == "429" && (len(b.observes) != 1 || b.observes[0].remaining != 0 || b.observes[0].reset != 41*time.Second) {
				t.Errorf("observes %+v", b.observes)
			}
		})
	}
}

func TestTransportErrorsAreTransient(t *testing.T) {
	release := make(chan struct{})
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := c.GetOrder(context.Background(), 1); !errs.Is(err, errs.Transient) {
		t.Errorf("timeout: %v", err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c2 := &Client{BaseURL: u, APIKey: "k", APISecret: "s"}
	if _, err := c2.GetOrder(context.Background(), 1); !errs.Is(err, errs.Transient) {
		t.Errorf("refused: %v", err)
	}
	if _, err := (&Client{APIKey: "k"}).GetOrder(context.Background(), 1); !errs.Is(err, errs.Unauthorised) {
		t.Errorf("no secret: %v", err)
	}
	c3, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"orders":"x"}`) })
	if _, err := c3.ListOrders(context.Background(), ListOrdersQuery{}); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad body: %v", err)
	}
}

func TestBudgetDeferred(t *testing.T) {
	hits := 0
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	b.wait = 30 * time.Second
	_, err := c.GetOrder(context.Background(), 1)
	var d *ratelimit.ErrDeferred
	if !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 30*time.Second || !errors.As(err, &d) {
		t.Errorf("%v", err)
	}
	if hits != 0 {
		t.Error("request sent without budget")
	}
}

func TestListTags(t *testing.T) {
	body := `[{"tagId":12345,"name":"Prime","color":"#FF9900"},{"tagId":12346,"name":"Cancel requested","color":"#FF0000"}]`
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodGet || r.URL.Path != "/accounts/listtags" || r.URL.RawQuery != "" {
			t.Errorf("%s %s", r.Method, r.URL)
		}
		limitHeaders(w, 39, 60)
		io.WriteString(w, body)
	})
	tags, err := c.ListTags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Tag{{TagID: 12345, Name: "Prime", Color: "#FF9900"}, {TagID: 12346, Name: "Cancel requested", Color: "#FF0000"}}
	if len(tags) != 2 || tags[0] != want[0] || tags[1] != want[1] {
		t.Errorf("tags %+v", tags)
	}
	if len(b.takes) != 1 || b.takes[0] != "shipstation:main:*#1" {
		t.Errorf("takes %v", b.takes)
	}

	// No tags: an empty list, whether ShipStation says [] or null.
	for _, body = range []string{`[]`, `null`} {
		tags, err = c.ListTags(context.Background())
		if err != nil || tags == nil || len(tags) != 0 {
			t.Errorf("%s: %+v %v", body, tags, err)
		}
	}

	// Errors are classified like every call.
	c, _ = newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"Message":"Authorization has been denied for this request."}`)
	})
	if _, err := c.ListTags(context.Background()); !errs.Is(err, errs.Unauthorised) {
		t.Errorf("401: %v", err)
	}
	c, _ = newClient(t, func(w http.ResponseWriter, r *http.Request) {
		limitHeaders(w, 0, 17)
		w.WriteHeader(http.StatusTooManyRequests)
	})
	if _, err := c.ListTags(context.Background()); !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 17*time.Second {
		t.Errorf("429: %v", err)
	}
}
