package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
		"?lastUpdatedAfter=" + start.Format(time.RFC3339),
		"?marketplaceIds=" + AmazonMarketplaceUS,
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
	for _, k := range []string{"fba", "jp", "multi", "PRIME", "AMAZON_BUSINESS"} {
		if !kinds[k] {
			t.Errorf("no %s order among 60", k)
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
