package amazon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// loadSwagger reads one of Amazon's Swagger 2.0 models and converts it to
// OpenAPI 3 for openapi3filter.
func loadSwagger(t *testing.T, name string) *openapi3.T {
	t.Helper()
	raw := readShared(t, "specs", "amazon/"+name)
	var d2 openapi2.T
	if err := json.Unmarshal(raw, &d2); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d3, err := openapi2conv.ToV3(&d2)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(d3, nil); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// Swagger 2.0 query arrays without a collectionFormat default to csv;
	// the converter leaves them unstyled, which OpenAPI 3 reads as
	// form/explode=true. Restore the Swagger meaning.
	for _, pi := range d3.Paths.Map() {
		for _, op := range pi.Operations() {
			for _, p := range op.Parameters {
				v := p.Value
				if v != nil && v.In == openapi3.ParameterInQuery && v.Style == "" && v.Explode == nil &&
					v.Schema != nil && v.Schema.Value != nil && v.Schema.Value.Type.Is("array") {
					v.Style, v.Explode = openapi3.SerializationForm, openapi3.Ptr(false)
				}
			}
		}
	}
	return d3
}

// specRoute is one operation of a spec matched by a path pattern whose
// first group (if any) is the {orderId} path parameter.
type specRoute struct {
	doc     *openapi3.T
	path    string
	method  string
	pattern *regexp.Regexp
}

// contractServer serves each request the canned response of its route after
// validating request and response against the spec; it fails the test on
// any request no route matches.
func contractServer(t *testing.T, routes []specRoute, respond func(r *http.Request) (int, []byte)) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for _, sr := range routes {
			m := sr.pattern.FindStringSubmatch(r.URL.Path)
			if m == nil || r.Method != sr.method {
				continue
			}
			pi := sr.doc.Paths.Find(sr.path)
			if pi == nil {
				t.Fatalf("spec has no path %s", sr.path)
			}
			params := map[string]string{}
			if len(m) > 1 {
				params["orderId"] = m[1]
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			in := &openapi3filter.RequestValidationInput{
				Request:    r,
				PathParams: params,
				Route:      &routers.Route{Spec: sr.doc, Path: sr.path, PathItem: pi, Method: sr.method, Operation: pi.GetOperation(sr.method)},
				Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			}
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s %s does not match the spec: %v", r.Method, r.URL, err)
			}
			status, out := respond(r)
			h := http.Header{}
			if len(out) > 0 {
				h.Set("Content-Type", "application/json")
			}
			err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: status, Header: h, Body: io.NopCloser(bytes.NewReader(out)),
			})
			if err != nil {
				t.Errorf("sample %d response to %s does not match the spec: %v", status, r.URL.Path, err)
			}
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			w.Write(out)
			return
		}
		t.Errorf("no spec route for %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}))
}

// TestContractAgainstSpecs sends every request the client makes, and the
// sample responses it is tested with, through Amazon's own models.
func TestContractAgainstSpecs(t *testing.T) {
	v2026 := loadSwagger(t, "orders_2026-01-01.json")
	v0 := loadSwagger(t, "ordersV0.json")
	routes := []specRoute{
		{v2026, "/orders/2026-01-01/orders", http.MethodGet, regexp.MustCompile(`^/orders/2026-01-01/orders$`)},
		{v2026, "/orders/2026-01-01/orders/{orderId}", http.MethodGet, regexp.MustCompile(`^/orders/2026-01-01/orders/([^/]+)$`)},
		{v0, "/orders/v0/orders/{orderId}/shipmentConfirmation", http.MethodPost, regexp.MustCompile(`^/orders/v0/orders/([^/]+)/shipmentConfirmation$`)},
	}
	var quota bool
	srv := contractServer(t, routes, func(r *http.Request) (int, []byte) {
		switch {
		case quota:
			return http.StatusTooManyRequests, []byte(`{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`)
		case r.Method == http.MethodPost:
			return http.StatusNoContent, nil
		case r.URL.Path == "/orders/2026-01-01/orders":
			return http.StatusOK, fixture(t, "search_orders.json")
		}
		return http.StatusOK, fixture(t, "get_order.json")
	})
	defer srv.Close()
	c := &Client{MarketplaceID: "ATVPDKIKX0DER", BaseURL: srv.URL, Tokens: &fakeTokens{}}
	ctx := context.Background()

	if _, err := c.GetOrder(ctx, "113-9876543-1112223", []string{"FULFILLMENT", "PACKAGES", "RECIPIENT"}); err != nil {
		t.Fatal(err)
	}
	q := SearchQuery{LastUpdatedAfter: time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC),
		MarketplaceIDs: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"}, FulfilledBy: []string{"MERCHANT"},
		FulfillmentStatuses: []string{"UNSHIPPED", "PARTIALLY_SHIPPED"}, MaxResultsPerPage: 100, IncludedData: []string{"FULFILLMENT"}}
	res, err := c.SearchOrders(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q.PaginationToken = res.NextToken
	if _, err := c.SearchOrders(ctx, q); err != nil {
		t.Fatal(err)
	}
	other := validConfirm()
	other.PackageDetail.PackageReferenceID = "2"
	other.PackageDetail.CarrierCode, other.PackageDetail.CarrierName = "Other", "Local Courier"
	for _, req := range []ConfirmShipmentRequest{validConfirm(), other} {
		if err := c.ConfirmShipment(ctx, "113-9876543-1112223", req); err != nil {
			t.Fatal(err)
		}
	}
	quota = true
	if err := c.ConfirmShipment(ctx, "113-9876543-1112223", validConfirm()); err == nil {
		t.Fatal("429 accepted")
	}
}

// TestContractCatchesBadBodies proves the contract test has teeth: the
// number-typed packageReferenceId Amazon now rejects fails the v0 model.
func TestContractCatchesBadBodies(t *testing.T) {
	v0 := loadSwagger(t, "ordersV0.json")
	path := "/orders/v0/orders/{orderId}/shipmentConfirmation"
	pi := v0.Paths.Find(path)
	body := []byte(`{"marketplaceId":"ATVPDKIKX0DER","packageDetail":{"packageReferenceId":1,"carrierCode":"UPS","trackingNumber":"1Z","shipDate":"2026-11-22T17:30:00Z","orderItems":[{"orderItemId":"1","quantity":1}]}}`)
	r := httptest.NewRequest(http.MethodPost, "/orders/v0/orders/113-9876543-1112223/shipmentConfirmation", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: map[string]string{"orderId": "113-9876543-1112223"},
		Route:   &routers.Route{Spec: v0, Path: path, PathItem: pi, Method: http.MethodPost, Operation: pi.Post},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	})
	if err == nil {
		t.Error("a numeric packageReferenceId passed the model")
	}
}

// TestContractChecksQueryAndResponses: the csv query arrays are checked item
// by item, and a sample response missing a required field fails.
func TestContractChecksQueryAndResponses(t *testing.T) {
	v2026 := loadSwagger(t, "orders_2026-01-01.json")
	path := "/orders/2026-01-01/orders/{orderId}"
	pi := v2026.Paths.Find(path)
	input := func(query string) *openapi3filter.RequestValidationInput {
		r := httptest.NewRequest(http.MethodGet, "/orders/2026-01-01/orders/113-9876543-1112223?"+query, nil)
		return &openapi3filter.RequestValidationInput{
			Request: r, PathParams: map[string]string{"orderId": "113-9876543-1112223"},
			Route:   &routers.Route{Spec: v2026, Path: path, PathItem: pi, Method: http.MethodGet, Operation: pi.Get},
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
	}
	ctx := context.Background()
	if err := openapi3filter.ValidateRequest(ctx, input("includedData=BUYER%2CRECIPIENT")); err != nil {
		t.Errorf("csv includedData rejected: %v", err)
	}
	if err := openapi3filter.ValidateRequest(ctx, input("includedData=BUYER%2CBOGUS")); err == nil {
		t.Error("unknown includedData accepted")
	}
	bad := []byte(`{"order":{"orderId":"113-9876543-1112223","createdTime":"2026-11-21T14:02:11Z","lastUpdatedTime":"2026-11-21T14:35:40Z","salesChannel":{"channelName":"AMAZON"}}}`)
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input(""), Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(bad)),
	})
	if err == nil {
		t.Error("order without orderItems passed the model")
	}
}
