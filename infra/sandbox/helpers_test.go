package sandbox

import (
	"github.com/shiprelay/shiprelay/infra/testenv"

	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a sandbox served on two httptest servers.
type env struct {
	t  *testing.T
	sb *Sandbox
	bc *httptest.Server
	ss *httptest.Server
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	sb := New(opts)
	e := &env{t: t, sb: sb, bc: httptest.NewServer(sb.BigCommerce()), ss: httptest.NewServer(sb.ShipStation())}
	t.Cleanup(func() {
		e.bc.Close()
		e.ss.Close()
		sb.Close()
	})
	return e
}

// resp is a fully read HTTP response.
type resp struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v\nbody: %s", r.req.URL, err, r.body)
	}
}

func do(t *testing.T, req *http.Request) resp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: body, req: req}
}

func newReq(t *testing.T, method, url string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// bcDo calls the BigCommerce API of the default store; path starts with /v2 or /v3.
func (e *env) bcDo(method, path string, body any) resp {
	e.t.Helper()
	req := newReq(e.t, method, e.bc.URL+"/stores/"+DefaultStoreHash+path, body)
	req.Header.Set("X-Auth-Token", DefaultBigCommerceToken)
	if req.Header.Get("Content-Type") == "" {
		// The spec marks Content-Type as a required header even on GETs.
		req.Header.Set("Content-Type", "application/json")
	}
	return do(e.t, req)
}

// ssDo calls the ShipStation API with the default key pair.
func (e *env) ssDo(method, path string, body any) resp {
	e.t.Helper()
	req := newReq(e.t, method, e.ss.URL+path, body)
	req.SetBasicAuth(DefaultShipStationKey, DefaultShipStationSecret)
	return do(e.t, req)
}

// adminDo calls an admin endpoint of a server.
func (e *env) adminDo(srv *httptest.Server, method, path string, body any) resp {
	e.t.Helper()
	return do(e.t, newReq(e.t, method, srv.URL+path, body))
}

// specsDir finds ../shared/specs (see testenv.SharedPath).
func specsDir(t *testing.T) string { return testenv.SharedPath(t, "specs") }

// simpleSpec is a small deterministic order spec: lines[i] quantities.
func simpleSpec(qty ...int) OrderSpec {
	sp := OrderSpec{
		StatusID:           StatusAwaitingFulfillment,
		TaxRateBasisPoints: 825,
		Billing: Address{FirstName: "Ottoline", LastName: "Quillfeather-TESTX", Street1: "12 Larkspur Hollow TESTX", City: "Austin", State: "Texas",
			Zip: "78701", Country: "United States", CountryISO2: "US", Phone: "+1 512-555-0100", Email: "ottoline.testx@example.com"},
	}
	sp.ShippingAddresses = []ShippingAddress{{Address: sp.Billing, ShippingMethod: "Flat Rate", ShippingCostCents: 599}}
	for i, q := range qty {
		sp.Lines = append(sp.Lines, LineSpec{ProductID: 100 + i, Name: "Widget " + string(rune('A'+i%26)), SKU: "W-" + string(rune('A'+i%26)), Quantity: q, UnitPriceCents: 1599, Weight: "1.0000"})
	}
	return sp
}
