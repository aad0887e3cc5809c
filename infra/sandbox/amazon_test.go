package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// amzEnv is an Amazon simulator on two httptest servers with a fake clock.
type amzEnv struct {
	t     *testing.T
	az    *Amazon
	clock *fakeClock
	sp    *httptest.Server
	lwa   *httptest.Server
	token string
	// pace advances the clock before each SP-API call (keeps buckets full).
	pace time.Duration
}

func newAmzEnv(t *testing.T, opts AmazonOptions) *amzEnv {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	az := NewAmazon(opts)
	e := &amzEnv{t: t, az: az, clock: clock, sp: httptest.NewServer(az.Handler()), lwa: httptest.NewServer(az.LWAHandler())}
	t.Cleanup(func() { e.sp.Close(); e.lwa.Close(); az.Close() })
	return e
}

func (e *amzEnv) grant(refresh string) resp {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultAmazonClientID},
		"client_secret": {DefaultAmazonClientSecret}, "refresh_token": {refresh}}
	req, err := http.NewRequest("POST", e.lwa.URL+"/auth/o2/token", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(e.t, req)
}

func (e *amzEnv) login() {
	e.t.Helper()
	r := e.grant(DefaultAmazonRefreshToken)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	r.json(e.t, &body)
	e.token = body.AccessToken
}

func (e *amzEnv) do(method, path string, body any) resp {
	e.t.Helper()
	if e.pace > 0 {
		e.clock.Advance(e.pace)
	}
	req := newReq(e.t, method, e.sp.URL+path, body)
	if e.token != "" {
		req.Header.Set("x-amz-access-token", e.token)
	}
	return do(e.t, req)
}

func TestAmazonLWA(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{TokenTTL: 5 * time.Minute})
	r := e.grant(DefaultAmazonRefreshToken)
	if r.status != 200 {
		t.Fatalf("grant: %d %s", r.status, r.body)
	}
	var tok map[string]any
	r.json(t, &tok)
	if tok["token_type"] != "bearer" || tok["expires_in"] != float64(300) || tok["refresh_token"] != DefaultAmazonRefreshToken || !strings.HasPrefix(tok["access_token"].(string), "Atza|") {
		t.Fatalf("token body %v", tok)
	}
	e.token = tok["access_token"].(string)
	e.az.GenerateOrder(AmazonOrderSpec{})
	id := e.az.Orders()[0].OrderID
	if r := e.do("GET", "/orders/2026-01-01/orders/"+id, nil); r.status != 200 {
		t.Fatalf("getOrder with fresh token: %d %s", r.status, r.body)
	}
	e.clock.Advance(5 * time.Minute)
	r = e.do("GET", "/orders/2026-01-01/orders/"+id, nil)
	want := `{"errors":[{"code":"Unauthorized","details":"","message":"Access to requested resource is denied."}]}`
	if r.status != 403 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
	e.token = ""
	if r := e.do("GET", "/orders/2026-01-01/orders/"+id, nil); r.status != 403 {
		t.Fatalf("no token: %d", r.status)
	}

	e.az.RevokeRefreshToken(DefaultAmazonRefreshToken)
	r = e.grant(DefaultAmazonRefreshToken)
	var errBody map[string]string
	r.json(t, &errBody)
	if r.status != 400 || errBody["error"] != "invalid_grant" || errBody["error_description"] == "" {
		t.Fatalf("revoked: %d %s", r.status, r.body)
	}
	if r := e.grant("Atzr|unknown"); r.status != 400 {
		t.Fatalf("unknown refresh token: %d", r.status)
	}
	if st := e.az.Stats(); st.TokensIssued != 1 || st.TokenErrors != 2 || st.Unauthorized != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAmazonSearchAndGetOrder(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 3})
	e.login()
	start := e.clock.Now()
	mfn := e.az.GenerateOrder(AmazonOrderSpec{Prime: true, Items: 2})
	e.clock.Advance(time.Second)
	fba := e.az.GenerateOrder(AmazonOrderSpec{FBA: true})
	e.clock.Advance(time.Second)
	jp := e.az.GenerateOrder(AmazonOrderSpec{Japan: true, Business: true, Unshipped: true})
	e.clock.Advance(time.Second)
	for range 3 {
		e.az.GenerateOrder(AmazonOrderSpec{})
		e.clock.Advance(time.Second)
	}

	// Too recent: the default …Before is now − 2 min.
	base := "/orders/2026-01-01/orders?marketplaceIds=" + AmazonMarketplaceUS + "," + AmazonMarketplaceJP + "&lastUpdatedAfter=" + start.Add(-time.Hour).Format(time.RFC3339)
	var page struct {
		Orders            []map[string]any  `json:"orders"`
		Pagination        map[string]string `json:"pagination"`
		LastUpdatedBefore string            `json:"lastUpdatedBefore"`
	}
	r := e.do("GET", base, nil)
	r.json(t, &page)
	if r.status != 200 || len(page.Orders) != 0 || r.header.Get("x-amzn-RateLimit-Limit") != "0.0056" {
		t.Fatalf("recent search: %d %s %v", r.status, r.body, r.header)
	}
	e.clock.Advance(3 * time.Minute)
	var ids []string
	r = e.do("GET", base+"&maxResultsPerPage=4&includedData=BUYER,RECIPIENT,FULFILLMENT", nil)
	for {
		page.Pagination = nil
		r.json(t, &page)
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		for _, o := range page.Orders {
			ids = append(ids, o["orderId"].(string))
		}
		if page.Pagination["nextToken"] == "" {
			break
		}
		r = e.do("GET", "/orders/2026-01-01/orders?paginationToken="+url.QueryEscape(page.Pagination["nextToken"]), nil)
	}
	if len(ids) != 6 || ids[0] != mfn.OrderID || ids[1] != fba.OrderID || ids[2] != jp.OrderID {
		t.Fatalf("ids %v", ids)
	}
	if page.LastUpdatedBefore != e.clock.Now().Add(-2*time.Minute).Format(time.RFC3339) {
		t.Fatalf("lastUpdatedBefore %q", page.LastUpdatedBefore)
	}

	// Validation.
	for _, q := range []string{
		"?marketplaceIds=" + AmazonMarketplaceUS,
		"?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=" + start.Format(time.RFC3339) + "&fulfillmentStatuses=Unshipped",
		"?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=" + start.Format(time.RFC3339) + "&fulfilledBy=MFN",
		"?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=" + start.Format(time.RFC3339) + "&lastUpdatedAfter=" + start.Format(time.RFC3339),
		"?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=" + start.Format(time.RFC3339) + "&createdBefore=" + e.clock.Now().Format(time.RFC3339),
		"?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=" + start.Format(time.RFC3339) + "&maxResultsPerPage=101",
		"?paginationToken=bogus",
	} {
		if r := e.do("GET", "/orders/2026-01-01/orders"+q, nil); r.status != 400 || !strings.Contains(string(r.body), `"InvalidInput"`) {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}

	// getOrder: sections only on request; Prime, PII, FBA email/phone suppression.
	var got struct {
		Order map[string]any `json:"order"`
	}
	e.do("GET", "/orders/2026-01-01/orders/"+mfn.OrderID, nil).json(t, &got)
	if got.Order["buyer"] != nil || got.Order["fulfillment"] != nil || len(got.Order["orderItems"].([]any)) != 2 {
		t.Fatalf("plain getOrder %v", got.Order)
	}
	e.do("GET", "/orders/2026-01-01/orders/"+mfn.OrderID+"?includedData=BUYER,RECIPIENT,FULFILLMENT", nil).json(t, &got)
	raw, _ := json.Marshal(got.Order)
	if !strings.Contains(string(raw), mfn.Buyer.Email) || got.Order["recipient"] != nil || !strings.Contains(string(raw), `"PRIME"`) || !strings.Contains(string(raw), `"PENDING"`) {
		t.Fatalf("pending MFN order %s", raw)
	}
	if err := e.az.MarkUnshipped(mfn.OrderID); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/orders/2026-01-01/orders/"+mfn.OrderID+"?includedData=RECIPIENT,FULFILLMENT", nil).json(t, &got)
	raw, _ = json.Marshal(got.Order)
	if !strings.Contains(string(raw), mfn.Address.AddressLine1) || !strings.Contains(string(raw), `"UNSHIPPED"`) {
		t.Fatalf("unshipped MFN order %s", raw)
	}
	e.do("GET", "/orders/2026-01-01/orders/"+fba.OrderID+"?includedData=BUYER,RECIPIENT", nil).json(t, &got)
	raw, _ = json.Marshal(got.Order)
	if strings.Contains(string(raw), fba.Buyer.Email) || strings.Contains(string(raw), fba.Address.Phone) {
		t.Fatalf("FBA order leaks email/phone %s", raw)
	}
	e.do("GET", "/orders/2026-01-01/orders/"+jp.OrderID+"?includedData=RECIPIENT,BUYER", nil).json(t, &got)
	raw, _ = json.Marshal(got.Order)
	if !strings.Contains(string(raw), "東京都") || !strings.Contains(string(raw), "AMAZON_BUSINESS") || !strings.Contains(string(raw), AmazonMarketplaceJP) {
		t.Fatalf("JP order %s", raw)
	}
	if r := e.do("GET", "/orders/2026-01-01/orders/"+mfn.OrderID+"?includedData=NOPE", nil); r.status != 400 {
		t.Fatalf("bad includedData: %d", r.status)
	}
	if r := e.do("GET", "/orders/2026-01-01/orders/999-0000000-0000000", nil); r.status != 404 {
		t.Fatalf("unknown order: %d", r.status)
	}

	// Transitions.
	if err := e.az.MarkUnshipped(mfn.OrderID); err == nil {
		t.Fatal("MarkUnshipped twice succeeded")
	}
	before := e.az.Orders()[0].LastUpdated
	if err := e.az.CancelOrder(mfn.OrderID); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.az.Order(mfn.OrderID); o.Status != AmazonCancelled || !o.LastUpdated.After(before) {
		t.Fatalf("cancel: %+v", o)
	}
	if len(mfn.PIIValues()) < 4 {
		t.Fatalf("PII values %v", mfn.PIIValues())
	}
}

func confirmBody(mkt, ref any, carrier string, items ...AmazonPackageItem) map[string]any {
	return map[string]any{"marketplaceId": mkt, "packageDetail": map[string]any{
		"packageReferenceId": ref, "carrierCode": carrier, "trackingNumber": "1Z999",
		"shipDate": "2026-11-21T17:00:00Z", "shippingMethod": "Ground", "orderItems": items,
	}}
}

func TestAmazonConfirmShipment(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{})
	e.login()
	e.pace = time.Second
	o := e.az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true})
	path := "/orders/v0/orders/" + o.OrderID + "/shipmentConfirmation"
	it0, it1 := o.Items[0].OrderItemID, o.Items[1].OrderItemID // quantities 1 and 2

	for name, body := range map[string]any{
		"numeric ref":   confirmBody(AmazonMarketplaceUS, 1, "UPS", AmazonPackageItem{it0, 1}),
		"zero ref":      confirmBody(AmazonMarketplaceUS, "0", "UPS", AmazonPackageItem{it0, 1}),
		"word ref":      confirmBody(AmazonMarketplaceUS, "abc", "UPS", AmazonPackageItem{it0, 1}),
		"unknown item":  confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{"123", 1}),
		"too many":      confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{it0, 2}),
		"wrong market":  confirmBody(AmazonMarketplaceJP, "1", "UPS", AmazonPackageItem{it0, 1}),
		"no items":      confirmBody(AmazonMarketplaceUS, "1", "UPS"),
		"bad date":      map[string]any{"marketplaceId": AmazonMarketplaceUS, "packageDetail": map[string]any{"packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1", "shipDate": "21/11/2026", "orderItems": []AmazonPackageItem{{it0, 1}}}},
		"no carrier":    confirmBody(AmazonMarketplaceUS, "1", "", AmazonPackageItem{it0, 1}),
		"missing pkg":   map[string]any{"marketplaceId": AmazonMarketplaceUS},
		"zero quantity": confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{it0, 0}),
	} {
		if r := e.do("POST", path, body); r.status != 400 || !strings.Contains(string(r.body), "InvalidInput") {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if len(e.az.Packages(o.OrderID)) != 0 {
		t.Fatal("rejected confirmation recorded")
	}

	// Unknown carrier: 204 but not recorded.
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "1", "Ups Ground", AmazonPackageItem{it0, 1})); r.status != 204 {
		t.Fatalf("unknown carrier: %d %s", r.status, r.body)
	}
	if len(e.az.Packages(o.OrderID)) != 0 || e.az.Stats().UnknownCarrierDropped != 1 {
		t.Fatal("unknown carrier recorded")
	}

	r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{it0, 1}, AmazonPackageItem{it1, 1}))
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if got, _ := e.az.Order(o.OrderID); got.Status != AmazonPartiallyShipped {
		t.Fatalf("status %s", got.Status)
	}
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "2", "USPS", AmazonPackageItem{it1, 2})); r.status != 400 {
		t.Fatalf("over-ship: %d", r.status)
	}
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "2", "USPS", AmazonPackageItem{it1, 1})); r.status != 204 {
		t.Fatalf("second package: %d %s", r.status, r.body)
	}
	// Editing package 1 (same reference id) replaces it.
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "1", "FedEx", AmazonPackageItem{it0, 1}, AmazonPackageItem{it1, 1})); r.status != 204 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	pk := e.az.Packages(o.OrderID)
	if len(pk) != 2 || pk[0].CarrierCode != "FedEx" || pk[1].Items[0].Quantity != 1 {
		t.Fatalf("packages %+v", pk)
	}
	var got struct {
		Order struct {
			Packages []struct {
				PackageReferenceID string              `json:"packageReferenceId"`
				Carrier            string              `json:"carrier"`
				TrackingNumber     string              `json:"trackingNumber"`
				ShippingService    string              `json:"shippingService"`
				PackageItems       []AmazonPackageItem `json:"packageItems"`
			} `json:"packages"`
			Fulfillment struct {
				FulfillmentStatus string `json:"fulfillmentStatus"`
			} `json:"fulfillment"`
		} `json:"order"`
	}
	e.do("GET", "/orders/2026-01-01/orders/"+o.OrderID+"?includedData=PACKAGES,FULFILLMENT", nil).json(t, &got)
	if len(got.Order.Packages) != 2 || got.Order.Packages[1].Carrier != "USPS" || got.Order.Packages[0].TrackingNumber != "1Z999" ||
		got.Order.Packages[0].ShippingService != "Ground" || got.Order.Fulfillment.FulfillmentStatus != AmazonShipped {
		t.Fatalf("read-back %+v", got.Order)
	}

	// FBA, pending and unknown orders.
	fba := e.az.GenerateOrder(AmazonOrderSpec{FBA: true})
	if r := e.do("POST", "/orders/v0/orders/"+fba.OrderID+"/shipmentConfirmation", confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{fba.Items[0].OrderItemID, 1})); r.status != 400 {
		t.Fatalf("FBA confirm: %d", r.status)
	}
	pend := e.az.GenerateOrder(AmazonOrderSpec{})
	if r := e.do("POST", "/orders/v0/orders/"+pend.OrderID+"/shipmentConfirmation", confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{pend.Items[0].OrderItemID, 1})); r.status != 400 {
		t.Fatalf("pending confirm: %d", r.status)
	}
	if r := e.do("POST", "/orders/v0/orders/000-0000000-0000000/shipmentConfirmation", confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{"1", 1})); r.status != 404 {
		t.Fatalf("unknown order: %d", r.status)
	}
}

func TestAmazonRateLimits(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{})
	e.login()
	o := e.az.GenerateOrder(AmazonOrderSpec{})
	get := "/orders/2026-01-01/orders/" + o.OrderID
	for i := range 30 {
		r := e.do("GET", get, nil)
		if r.status != 200 || r.header.Get("x-amzn-RateLimit-Limit") != "0.5" {
			t.Fatalf("request %d: %d %v", i, r.status, r.header)
		}
	}
	r := e.do("GET", get, nil)
	want := `{"errors":[{"code":"QuotaExceeded","details":"","message":"You exceeded your quota for the requested resource."}]}`
	if r.status != 429 || strings.TrimSpace(string(r.body)) != want || r.header.Get("Retry-After") != "" || r.header.Get("x-amzn-RateLimit-Limit") != "" || r.header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("throttled: %d %s %v", r.status, r.body, r.header)
	}
	e.clock.Advance(2 * time.Second) // 0.5 rps → one token
	if r := e.do("GET", get, nil); r.status != 200 {
		t.Fatalf("after refill: %d", r.status)
	}
	if r := e.do("GET", get, nil); r.status != 429 {
		t.Fatalf("second after refill: %d", r.status)
	}
	// Buckets are per operation.
	search := "/orders/2026-01-01/orders?marketplaceIds=" + AmazonMarketplaceUS + "&createdAfter=2026-01-01T00:00:00Z"
	for i := range 20 {
		if r := e.do("GET", search, nil); r.status != 200 {
			t.Fatalf("search %d: %d", i, r.status)
		}
	}
	if r := e.do("GET", search, nil); r.status != 429 {
		t.Fatalf("search 21: %d", r.status)
	}
	st := e.az.Stats()
	if st.Throttled[AmazonOpGetOrder] != 2 || st.Throttled[AmazonOpSearchOrders] != 1 || st.Requests[AmazonOpGetOrder] != 33 {
		t.Fatalf("stats %+v", st)
	}

	// SpeedUp multiplies refill rates.
	fast := newAmzEnv(t, AmazonOptions{SpeedUp: 100})
	fast.login()
	for range 20 {
		fast.do("GET", search, nil)
	}
	fast.clock.Advance(2 * time.Second) // 0.56 rps × 2 s → one token
	if r := fast.do("GET", search, nil); r.status != 200 || r.header.Get("x-amzn-RateLimit-Limit") != "0.56" {
		t.Fatalf("sped-up search: %d %v", r.status, r.header)
	}

	// Fault knobs.
	e.az.SetFaults(Faults{Rate5xx: 1})
	if r := e.do("GET", get, nil); r.status != 503 {
		t.Fatalf("injected 5xx: %d", r.status)
	}
	e.az.SetFaults(Faults{Rate429: 1})
	if r := e.do("POST", "/orders/v0/orders/"+o.OrderID+"/shipmentConfirmation", map[string]any{}); r.status != 429 {
		t.Fatalf("injected 429: %d", r.status)
	}
	if st := e.az.Stats(); st.Injected5xx != 1 || st.Injected429 != 1 {
		t.Fatalf("fault stats %+v", st)
	}
}

func TestAmazonGenerateOrdersAndAdmin(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 9})
	orders := e.az.GenerateOrders(60)
	kinds := map[string]bool{}
	for _, o := range orders {
		if o.FulfilledBy == "AMAZON" {
			kinds["fba"] = true
		}
		if o.MarketplaceID == AmazonMarketplaceJP && o.Address.CountryCode == "JP" {
			kinds["jp"] = true
		}
		if len(o.Items) > 1 {
			kinds["multi"] = true
		}
		for _, p := range o.Programs {
			kinds[p] = true
		}
	}
	for _, o := range orders {
		if o.IOSSNumber != "" && (o.MarketplaceID == AmazonMarketplaceUK || o.MarketplaceID == AmazonMarketplaceDE) {
			kinds["ioss"] = true
		}
		if len(o.TaxRegistrations) > 0 {
			kinds["vat"] = true
		}
		if o.Items[0].ConditionType == AmazonConditionUsed {
			kinds["used"] = true
		}
	}
	for _, k := range []string{"fba", "jp", "multi", "PRIME", "AMAZON_BUSINESS", "ioss", "vat", "used"} {
		if !kinds[k] {
			t.Errorf("no %s order among 60", k)
		}
	}
	// The same seed yields the same orders.
	again := NewAmazon(AmazonOptions{Seed: 9, Now: e.clock.Now}).GenerateOrders(60)
	for i := range orders {
		a, b := orders[i], again[i]
		if a.OrderID != b.OrderID || a.MarketplaceID != b.MarketplaceID || a.Address != b.Address || a.IOSSNumber != b.IOSSNumber || len(a.Items) != len(b.Items) {
			t.Fatalf("order %d differs between runs with one seed: %+v vs %+v", i, a, b)
		}
	}
	if r := do(t, newReq(t, "POST", e.sp.URL+"/_sandbox/orders?count=5", nil)); r.status != 200 || len(e.az.Orders()) != 65 {
		t.Fatalf("admin generate: %d %s", r.status, r.body)
	}
	var st AmazonStats
	r := do(t, newReq(t, "GET", e.sp.URL+"/_sandbox/stats", nil))
	r.json(t, &st)
	if r.status != 200 || st.Requests == nil {
		t.Fatalf("admin stats: %d %s", r.status, r.body)
	}
}

// amzGot is the part of a getOrder body the behaviour tests look at (JSON
// field matching is case-insensitive).
type amzGot struct {
	Order struct {
		OrderID          string
		LastUpdatedTime  string
		OrderAliases     []struct{ AliasID, AliasType string }
		AssociatedOrders []struct{ OrderID, AssociationType string }
		SalesChannel     struct{ MarketplaceID, MarketplaceName string }
		Proceeds         struct {
			GrandTotal struct{ Amount, CurrencyCode string }
		}
		Recipient struct{ DeliveryAddress AmazonAddress }
		Tax       *struct {
			TaxRegistrations []struct{ EntityType, LegalName, TaxRegistrationType, TaxRegistrationNumber string }
		}
		Fulfillment struct{ FulfillmentStatus string }
		OrderItems  []struct {
			OrderItemID string
			Product     struct {
				Condition struct{ ConditionType, ConditionSubtype, ConditionNote string }
				Price     struct {
					UnitPrice struct{ Amount, CurrencyCode string }
				}
			}
			Cancellation *struct {
				CancellationRequest   *struct{ Requester, CancelReason string }
				CancellationExecution *struct{ CancelledBy, CancelReason string }
			}
			Fulfillment *struct {
				QuantityFulfilled, QuantityUnfulfilled int
				Shipping                               *struct {
					InternationalShipping *struct{ IossNumber string }
				}
			}
			Tax *struct {
				TaxCalculationBreakdowns []struct{ ReportingScheme string }
				TaxCollections           []struct{ Model, ResponsibleParty string }
			}
		}
		Packages []struct {
			PackageReferenceID, Carrier, TrackingNumber, ShipTime, CreatedTime, ShippingService string
			PackageItems                                                                        []AmazonPackageItem
		}
	}
}

func (e *amzEnv) getOrder(id, included string) amzGot {
	e.t.Helper()
	r := e.do("GET", "/orders/2026-01-01/orders/"+id+"?includedData="+included, nil)
	if r.status != 200 {
		e.t.Fatalf("getOrder %s: %d %s", id, r.status, r.body)
	}
	var g amzGot
	r.json(e.t, &g)
	return g
}

func TestAmazonRequestCancel(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 21})
	e.login()
	e.pace = time.Second
	o := e.az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true})
	e.az.DrainOrderChanges()
	e.clock.Advance(time.Minute)
	if err := e.az.RequestCancel(o.OrderID, "Order created by mistake"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.az.Order(o.OrderID)
	if got.Status != AmazonUnshipped || !got.LastUpdated.After(o.LastUpdated) || !got.CancelRequested() {
		t.Fatalf("after request: %+v", got)
	}
	msgs := e.az.DrainOrderChanges()
	if len(msgs) != 1 {
		t.Fatalf("%d messages after the request, want 1", len(msgs))
	}
	c := parseChange(t, msgs[0]).Payload.OrderChangeNotification
	if c.OrderChangeType != "BuyerRequestedChange" || c.Summary.OrderStatus != "Unshipped" || len(c.Summary.OrderItems) != 2 ||
		!c.Summary.OrderItems[0].IsBuyerRequestedCancel || !c.Summary.OrderItems[1].IsBuyerRequestedCancel {
		t.Fatalf("request message %s", msgs[0])
	}

	// getOrder: the request is under includedData CANCELLATION only.
	if g := e.getOrder(o.OrderID, "FULFILLMENT"); g.Order.OrderItems[0].Cancellation != nil || g.Order.Fulfillment.FulfillmentStatus != AmazonUnshipped {
		t.Fatalf("cancellation without CANCELLATION: %+v", g.Order)
	}
	g := e.getOrder(o.OrderID, "CANCELLATION")
	if g.Order.LastUpdatedTime != got.LastUpdated.Format(time.RFC3339) {
		t.Errorf("lastUpdatedTime %s, want %s", g.Order.LastUpdatedTime, got.LastUpdated.Format(time.RFC3339))
	}
	for _, it := range g.Order.OrderItems {
		if it.Cancellation == nil || it.Cancellation.CancellationRequest == nil || it.Cancellation.CancellationExecution != nil ||
			*it.Cancellation.CancellationRequest != (struct{ Requester, CancelReason string }{"BUYER", "Order created by mistake"}) {
			t.Fatalf("item cancellation %+v", it.Cancellation)
		}
	}

	// Refusals.
	if err := e.az.RequestCancel(o.OrderID, "again"); !errors.Is(err, ErrAmazonTransition) {
		t.Errorf("second request: %v", err)
	}
	fba := e.az.GenerateOrder(AmazonOrderSpec{FBA: true})
	if err := e.az.RequestCancel(fba.OrderID, ""); !errors.Is(err, ErrAmazonTransition) {
		t.Errorf("FBA request: %v", err)
	}
	shipped := e.az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	if r := e.do("POST", "/orders/v0/orders/"+shipped.OrderID+"/shipmentConfirmation", confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{shipped.Items[0].OrderItemID, 1})); r.status != 204 {
		t.Fatalf("confirm: %d", r.status)
	}
	if err := e.az.RequestCancel(shipped.OrderID, ""); !errors.Is(err, ErrAmazonTransition) {
		t.Errorf("shipped request: %v", err)
	}
	if err := e.az.RequestCancel("999-0000000-0000000", ""); err == nil {
		t.Error("unknown order request succeeded")
	}
	pending := e.az.GenerateOrder(AmazonOrderSpec{})
	if err := e.az.RequestCancel(pending.OrderID, ""); err != nil {
		t.Errorf("pending request: %v", err)
	}
	e.az.DrainOrderChanges()

	// Amazon executes the buyer's cancellation.
	if err := e.az.CancelOrder(o.OrderID); err != nil {
		t.Fatal(err)
	}
	g = e.getOrder(o.OrderID, "CANCELLATION,FULFILLMENT")
	ex := g.Order.OrderItems[1].Cancellation.CancellationExecution
	if g.Order.Fulfillment.FulfillmentStatus != AmazonCancelled || ex == nil || ex.CancelledBy != "BUYER" || ex.CancelReason != "Order created by mistake" ||
		g.Order.OrderItems[1].Cancellation.CancellationRequest == nil || g.Order.OrderItems[1].Fulfillment.QuantityUnfulfilled != 0 {
		t.Fatalf("cancelled order %+v", g.Order)
	}
	msgs = e.az.DrainOrderChanges()
	if c := parseChange(t, msgs[0]).Payload.OrderChangeNotification; len(msgs) != 1 || c.OrderChangeType != "OrderStatusChange" ||
		c.Summary.OrderStatus != "Canceled" || !c.Summary.OrderItems[0].IsBuyerRequestedCancel {
		t.Fatalf("cancel messages %q", msgs)
	}
	// Without a request Amazon is the canceller; CancelOrderBy names one.
	plain := e.az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	_ = e.az.CancelOrder(plain.OrderID)
	if ex := e.getOrder(plain.OrderID, "CANCELLATION").Order.OrderItems[0].Cancellation; ex == nil || ex.CancellationRequest != nil || ex.CancellationExecution.CancelledBy != "AMAZON" {
		t.Fatalf("plain cancel %+v", ex)
	}
	byMerchant := e.az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	if err := e.az.CancelOrderBy(byMerchant.OrderID, AmazonCancelByMerchant, "Out of stock"); err != nil {
		t.Fatal(err)
	}
	if ex := e.getOrder(byMerchant.OrderID, "CANCELLATION").Order.OrderItems[0].Cancellation.CancellationExecution; ex.CancelledBy != "MERCHANT" || ex.CancelReason != "Out of stock" {
		t.Fatalf("merchant cancel %+v", ex)
	}
	if err := e.az.CancelOrderBy(pending.OrderID, "SELLER", ""); err == nil {
		t.Fatal("cancelledBy SELLER accepted")
	}
}

func TestAmazonReplacementOrder(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 22})
	e.login()
	e.pace = time.Second
	orig := e.az.GenerateOrder(AmazonOrderSpec{EU: true, Business: true, Items: 2, Unshipped: true})
	rep := e.az.GenerateOrder(AmazonOrderSpec{ReplacementOf: orig.OrderID, Unshipped: true, Items: 5, Japan: true})
	if rep.ReplacementOf != orig.OrderID || rep.MarketplaceID != orig.MarketplaceID || rep.Currency != orig.Currency ||
		rep.Address != orig.Address || rep.Buyer != orig.Buyer || len(rep.Items) != 2 || rep.OrderID == orig.OrderID {
		t.Fatalf("replacement %+v of %+v", rep, orig)
	}
	for i, it := range rep.Items {
		if it.SellerSKU != orig.Items[i].SellerSKU || it.Quantity != orig.Items[i].Quantity || it.OrderItemID == orig.Items[i].OrderItemID || it.UnitPrice != "0.00" {
			t.Errorf("line %d %+v of %+v", i, it, orig.Items[i])
		}
	}
	g := e.getOrder(rep.OrderID, "PROCEEDS")
	if len(g.Order.AssociatedOrders) != 1 || g.Order.AssociatedOrders[0].OrderID != orig.OrderID ||
		g.Order.AssociatedOrders[0].AssociationType != "REPLACEMENT_ORIGINAL_ID" || g.Order.Proceeds.GrandTotal.Amount != "0.00" {
		t.Fatalf("replacement getOrder %+v", g.Order)
	}
	if g := e.getOrder(orig.OrderID, "PROCEEDS"); g.Order.AssociatedOrders != nil || g.Order.Proceeds.GrandTotal.Amount == "0.00" {
		t.Fatalf("original getOrder %+v", g.Order)
	}
	// The original need not be stored.
	lone := e.az.GenerateOrder(AmazonOrderSpec{ReplacementOf: "111-0000000-0000001", Japan: true})
	if lone.MarketplaceID != AmazonMarketplaceJP || lone.Items[0].UnitPrice != "0" || lone.ReplacementOf != "111-0000000-0000001" {
		t.Fatalf("replacement of an unknown order %+v", lone)
	}
	msgs := e.az.DrainOrderChanges()
	for i, want := range []bool{false, true, true} {
		if got := slices.Contains(parseChange(t, msgs[i]).Payload.OrderChangeNotification.Summary.OrderPrograms, "Replacement"); got != want {
			t.Errorf("message %d Replacement program = %v: %s", i, got, msgs[i])
		}
	}
}

func TestAmazonEUOrders(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 23})
	e.login()
	e.pace = time.Second
	ioss := regexp.MustCompile(`^IM[0-9]{10}$`)
	if !ioss.MatchString(AmazonIOSSNumber) {
		t.Fatalf("IOSS number %q", AmazonIOSSNumber)
	}
	mkts := map[string]bool{}
	for i := range 12 {
		o := e.az.GenerateOrder(AmazonOrderSpec{EU: true, Business: i%2 == 0, Items: 3, Unshipped: true})
		mkts[o.MarketplaceID] = true
		want := map[string]struct{ cur, countries string }{
			AmazonMarketplaceUK: {"GBP", "IE"}, AmazonMarketplaceDE: {"EUR", "DE FR AT"},
		}[o.MarketplaceID]
		if want.cur == "" || o.Currency != want.cur || !slices.Contains(strings.Fields(want.countries), o.Address.CountryCode) || o.IOSSNumber != AmazonIOSSNumber {
			t.Fatalf("EU order %+v", o)
		}
		g := e.getOrder(o.OrderID, "RECIPIENT,FULFILLMENT,TAX")
		if g.Order.Recipient.DeliveryAddress.CountryCode != o.Address.CountryCode || g.Order.OrderItems[0].Product.Price.UnitPrice.CurrencyCode != o.Currency {
			t.Fatalf("EU getOrder %+v", g.Order)
		}
		for _, it := range g.Order.OrderItems {
			if it.Fulfillment == nil || it.Fulfillment.Shipping == nil || it.Fulfillment.Shipping.InternationalShipping.IossNumber != AmazonIOSSNumber {
				t.Fatalf("line without IOSS number: %+v", it)
			}
			if it.Tax == nil || it.Tax.TaxCollections[0].Model != "MARKETPLACE_FACILITATOR" || it.Tax.TaxCalculationBreakdowns[0].ReportingScheme != "IOSS" {
				t.Fatalf("line tax %+v", it.Tax)
			}
		}
		if i%2 == 1 {
			if g.Order.Tax != nil || len(o.TaxRegistrations) != 0 {
				t.Fatalf("consumer order with tax registrations %+v", g.Order.Tax)
			}
			continue
		}
		// Business: the buyer's VAT registration, which is PII.
		if g.Order.Tax == nil || len(g.Order.Tax.TaxRegistrations) != 1 {
			t.Fatalf("business order tax %+v", g.Order.Tax)
		}
		reg := g.Order.Tax.TaxRegistrations[0]
		prefix := map[string]string{"IE": "IE", "DE": "DE", "FR": "FR", "AT": "ATU"}[o.Address.CountryCode]
		if reg.EntityType != "BUYER" || reg.TaxRegistrationType != "VAT" || reg.LegalName != o.Buyer.CompanyName || !strings.HasPrefix(reg.TaxRegistrationNumber, prefix) {
			t.Fatalf("registration %+v for %s", reg, o.Address.CountryCode)
		}
		pii := o.PIIValues()
		if !slices.Contains(pii, reg.LegalName) || !slices.Contains(pii, reg.TaxRegistrationNumber) {
			t.Fatalf("PII values %v lack the tax registration", pii)
		}
		for _, v := range pii {
			if v != reg.TaxRegistrationNumber && !strings.Contains(v, o.Buyer.Name[len("Buyer "):]) {
				t.Errorf("PII value %q lacks the order's token", v)
			}
		}
	}
	if !mkts[AmazonMarketplaceUK] || !mkts[AmazonMarketplaceDE] {
		t.Fatalf("EU marketplaces %v", mkts)
	}
	// Without FULFILLMENT/TAX there is neither IOSS number nor tax.
	r := e.do("GET", "/orders/2026-01-01/orders/"+e.az.Orders()[0].OrderID, nil)
	if strings.Contains(string(r.body), "iossNumber") || strings.Contains(string(r.body), "taxRegistrations") {
		t.Fatalf("sections without includedData: %s", r.body)
	}
	// Forced marketplace; above the EUR 150 IOSS ceiling; FBA; domestic UK.
	de := e.az.GenerateOrder(AmazonOrderSpec{EU: true, MarketplaceID: AmazonMarketplaceDE})
	big := e.az.GenerateOrder(AmazonOrderSpec{EU: true, Items: 8, MarketplaceID: AmazonMarketplaceDE})
	fba := e.az.GenerateOrder(AmazonOrderSpec{EU: true, FBA: true})
	uk := e.az.GenerateOrder(AmazonOrderSpec{MarketplaceID: AmazonMarketplaceUK, Unshipped: true})
	us := e.az.GenerateOrder(AmazonOrderSpec{Business: true})
	if de.MarketplaceID != AmazonMarketplaceDE || de.IOSSNumber == "" || big.IOSSNumber != "" || fba.IOSSNumber != "" ||
		uk.Address.CountryCode != "GB" || uk.Currency != "GBP" || uk.IOSSNumber != "" || us.IOSSNumber != "" || len(us.TaxRegistrations) != 0 {
		t.Fatalf("de %+v\nbig %+v\nfba %+v\nuk %+v\nus %+v", de, big, fba, uk, us)
	}
	if g := e.getOrder(big.OrderID, "FULFILLMENT,TAX"); g.Order.OrderItems[0].Fulfillment.Shipping != nil || g.Order.OrderItems[0].Tax != nil {
		t.Fatalf("order above the IOSS ceiling %+v", g.Order.OrderItems[0])
	}
}

func TestAmazonUsedCondition(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 24})
	e.login()
	e.pace = time.Second
	o := e.az.GenerateOrder(AmazonOrderSpec{Used: true, Items: 6, Unshipped: true, Business: true})
	subtypes := map[string]bool{}
	g := e.getOrder(o.OrderID, "")
	for i, it := range o.Items {
		c := g.Order.OrderItems[i].Product.Condition
		if it.ConditionType != AmazonConditionUsed || c.ConditionType != "USED" || c.ConditionSubtype != it.ConditionSubtype ||
			c.ConditionNote == "" || c.ConditionNote != it.ConditionNote {
			t.Fatalf("line %d: %+v rendered %+v", i, it, c)
		}
		subtypes[c.ConditionSubtype] = true
		for _, p := range append(o.PIIValues(), "pii") {
			if strings.Contains(c.ConditionNote, p) {
				t.Fatalf("condition note %q contains PII %q", c.ConditionNote, p)
			}
		}
	}
	if len(subtypes) != 2 || !subtypes["VERY_GOOD"] || !subtypes["GOOD"] {
		t.Fatalf("subtypes %v", subtypes)
	}
	n := e.az.GenerateOrder(AmazonOrderSpec{})
	if c := e.getOrder(n.OrderID, "").Order.OrderItems[0].Product.Condition; c.ConditionType != "NEW" || c.ConditionSubtype != "NEW" || c.ConditionNote != "" {
		t.Fatalf("new item condition %+v", c)
	}
}

func TestAmazonMarketplaces(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 25})
	e.login()
	e.pace = time.Second
	start := e.clock.Now()
	gen := func(spec AmazonOrderSpec) AmazonOrder {
		e.clock.Advance(time.Second) // distinct createdTime: results sort by it
		return e.az.GenerateOrder(spec)
	}
	us := gen(AmazonOrderSpec{Unshipped: true})
	jp := gen(AmazonOrderSpec{Japan: true, Unshipped: true})
	jp2 := gen(AmazonOrderSpec{MarketplaceID: AmazonMarketplaceJP, Unshipped: true})
	uk := gen(AmazonOrderSpec{MarketplaceID: AmazonMarketplaceUK, Unshipped: true})
	de := gen(AmazonOrderSpec{MarketplaceID: AmazonMarketplaceDE, Unshipped: true})
	ca := gen(AmazonOrderSpec{MarketplaceID: "A2EUQ1WTGCTBG2"})
	if ca.MarketplaceID != AmazonMarketplaceUS || jp2.Currency != "JPY" || de.Currency != "EUR" || uk.Currency != "GBP" {
		t.Fatalf("marketplaces: ca %s jp2 %s de %s uk %s", ca.MarketplaceID, jp2.Currency, de.Currency, uk.Currency)
	}
	e.clock.Advance(3 * time.Minute)
	search := func(query string) []string {
		t.Helper()
		r := e.do("GET", "/orders/2026-01-01/orders?createdAfter="+start.Add(-time.Minute).Format(time.RFC3339)+query, nil)
		var page struct{ Orders []struct{ OrderID string } }
		r.json(t, &page)
		if r.status != 200 {
			t.Fatalf("search %s: %d %s", query, r.status, r.body)
		}
		var ids []string
		for _, o := range page.Orders {
			ids = append(ids, o.OrderID)
		}
		return ids
	}
	for q, want := range map[string][]string{
		"&marketplaceIds=" + AmazonMarketplaceUK:                                            {uk.OrderID},
		"&marketplaceIds=" + AmazonMarketplaceJP + "," + AmazonMarketplaceDE:                {jp.OrderID, jp2.OrderID, de.OrderID},
		"&marketplaceIds=" + AmazonMarketplaceDE + "&marketplaceIds=" + AmazonMarketplaceUS: {us.OrderID, de.OrderID, ca.OrderID},
		"": {us.OrderID, jp.OrderID, jp2.OrderID, uk.OrderID, de.OrderID, ca.OrderID},
	} {
		if got := search(q); !slices.Equal(got, want) {
			t.Errorf("search%s = %v, want %v", q, got, want)
		}
	}
	for _, o := range []AmazonOrder{us, jp, uk, de} {
		g := e.getOrder(o.OrderID, "PROCEEDS")
		name := map[string]string{AmazonMarketplaceUS: "Amazon.com", AmazonMarketplaceJP: "Amazon.co.jp", AmazonMarketplaceUK: "Amazon.co.uk", AmazonMarketplaceDE: "Amazon.de"}[o.MarketplaceID]
		if g.Order.SalesChannel.MarketplaceID != o.MarketplaceID || g.Order.SalesChannel.MarketplaceName != name || g.Order.Proceeds.GrandTotal.CurrencyCode != o.Currency ||
			len(g.Order.OrderAliases) != 1 || g.Order.OrderAliases[0].AliasID != o.SellerOrderID || g.Order.OrderAliases[0].AliasType != "SELLER_ORDER_ID" {
			t.Errorf("getOrder %s: %+v", o.MarketplaceID, g.Order)
		}
	}
	path := "/orders/v0/orders/" + uk.OrderID + "/shipmentConfirmation"
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "1", "Royal Mail", AmazonPackageItem{uk.Items[0].OrderItemID, 1})); r.status != 400 {
		t.Fatalf("UK order confirmed on US: %d", r.status)
	}
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUK, "1", "Royal Mail", AmazonPackageItem{uk.Items[0].OrderItemID, 1})); r.status != 204 {
		t.Fatalf("UK confirm: %d %s", r.status, r.body)
	}
	// An order added without a seller order id has no alias.
	e.az.AddOrder(AmazonOrder{OrderID: "111-1111111-1111111", MarketplaceID: AmazonMarketplaceUS, Currency: "USD", Status: AmazonUnshipped, FulfilledBy: "MERCHANT"})
	if g := e.getOrder("111-1111111-1111111", ""); g.Order.OrderAliases != nil {
		t.Fatalf("alias without a seller order id: %+v", g.Order.OrderAliases)
	}
}

func TestAmazonPackageEdit(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 26})
	e.login()
	e.pace = time.Second
	o := e.az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true}) // quantities 1 and 2
	it0, it1 := o.Items[0].OrderItemID, o.Items[1].OrderItemID
	path := "/orders/v0/orders/" + o.OrderID + "/shipmentConfirmation"
	e.az.DrainOrderChanges()
	if r := e.do("POST", path, confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{it0, 1}, AmazonPackageItem{it1, 2})); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	first := e.getOrder(o.OrderID, "PACKAGES,FULFILLMENT")
	e.clock.Advance(30 * time.Minute)
	edit := map[string]any{"marketplaceId": AmazonMarketplaceUS, "packageDetail": map[string]any{
		"packageReferenceId": "1", "carrierCode": "Other", "carrierName": "Acme Freight", "trackingNumber": "ACME-42",
		"shipDate": "2026-11-22T09:30:00Z", "orderItems": []AmazonPackageItem{{it0, 1}, {it1, 2}},
	}}
	if r := e.do("POST", path, edit); r.status != 204 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	g := e.getOrder(o.OrderID, "PACKAGES,FULFILLMENT")
	if len(g.Order.Packages) != 1 {
		t.Fatalf("%d packages after an edit, want 1", len(g.Order.Packages))
	}
	p := g.Order.Packages[0]
	if p.PackageReferenceID != "1" || p.Carrier != "Acme Freight" || p.TrackingNumber != "ACME-42" || p.ShipTime != "2026-11-22T09:30:00Z" ||
		p.CreatedTime != first.Order.Packages[0].CreatedTime || p.ShippingService != "" ||
		!slices.Equal(p.PackageItems, []AmazonPackageItem{{it0, 1}, {it1, 2}}) || g.Order.Fulfillment.FulfillmentStatus != AmazonShipped {
		t.Fatalf("edited package %+v (first %+v)", p, first.Order.Packages[0])
	}
	if g.Order.LastUpdatedTime <= first.Order.LastUpdatedTime {
		t.Errorf("lastUpdatedTime %s not after %s", g.Order.LastUpdatedTime, first.Order.LastUpdatedTime)
	}
	if st := e.az.Stats(); st.PackagesRecorded != 1 || st.PackagesEdited != 1 {
		t.Errorf("stats recorded=%d edited=%d", st.PackagesRecorded, st.PackagesEdited)
	}
	// One OrderStatusChange (Shipped); the edit changes no status.
	if msgs := e.az.DrainOrderChanges(); len(msgs) != 1 || parseChange(t, msgs[0]).Payload.OrderChangeNotification.Summary.OrderStatus != "Shipped" {
		t.Errorf("messages %q", msgs)
	}
}
