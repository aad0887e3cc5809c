package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AmazonCarrierCodes is the subset of Amazon's CarrierCode list
// (amzn-base.xsd, api-contracts §2.6) that the sandbox accepts. Values are
// case- and space-sensitive as on Amazon. A confirmShipment with any other
// carrierCode is answered 204 but NOT recorded, so that a client reading the
// order back (getOrder includedData=PACKAGES) can notice the loss; Amazon's
// real behaviour with unlisted codes is to weaken tracking validation, which
// a read-back is the only way to detect.
var AmazonCarrierCodes = map[string]bool{
	"Blue Package": true, "USPS": true, "UPS": true, "UPSMI": true, "FedEx": true,
	"DHL": true, "DHL Global Mail": true, "Fastway": true, "UPS Mail Innovations": true,
	"Lasership": true, "Royal Mail": true, "FedEx SmartPost": true, "OSM": true,
	"OnTrac": true, "Streamlite": true, "Newgistics": true, "Canada Post": true,
	"City Link": true, "GLS": true, "GO!": true, "Hermes Logistik Gruppe": true,
	"Parcelforce": true, "TNT": true, "Target": true, "SagawaExpress": true,
	"NipponExpress": true, "YamatoTransport": true, "Ninjavan": true, "Qxpress": true,
	"Singapore Post": true, "4PX": true, "Yanwen": true, "Aramex": true,
	"China Post": true, "DHL eCommerce": true, "SF Express": true, "Other": true,
	"Amazon Shipping": true, "AMZL": true, "AMZL_UK": true, "Asendia": true,
	"Australia Post": true, "Correos": true, "DHL Express": true, "DHL Parcel UK": true,
	"DPD": true, "Hermes UK": true, "India Post": true, "InPost": true,
}

// amazonFulfillmentStatuses is the FulfillmentStatus enum of Orders
// v2026-01-01 (searchOrders' fulfillmentStatuses filter).
var amazonFulfillmentStatuses = map[string]bool{
	"PENDING_AVAILABILITY": true, AmazonPending: true, AmazonUnshipped: true, AmazonPartiallyShipped: true,
	AmazonShipped: true, AmazonCancelled: true, "UNFULFILLABLE": true,
}

// amazonIncludedData is the includedData enum of Orders v2026-01-01.
var amazonIncludedData = map[string]bool{
	"BUYER": true, "RECIPIENT": true, "PROCEEDS": true, "EXPENSE": true, "PROMOTION": true,
	"CANCELLATION": true, "FULFILLMENT": true, "PACKAGES": true, "TAX": true, "PAYMENT": true,
	"FULFILLMENT_ORDERS": true,
}

func amzRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func amzJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func amzError(w http.ResponseWriter, status int, code, msg, details string) {
	amzJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg, "details": details}}})
}

func amzInvalid(w http.ResponseWriter, msg string) {
	amzError(w, http.StatusBadRequest, "InvalidInput", msg, "")
}

func (a *Amazon) buildHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/2026-01-01/orders", a.api(AmazonOpSearchOrders, a.searchOrders))
	mux.HandleFunc("GET /orders/2026-01-01/orders/{orderId}", a.api(AmazonOpGetOrder, a.getOrder))
	mux.HandleFunc("POST /orders/v0/orders/{orderId}/shipmentConfirmation", a.api(AmazonOpConfirmShipment, a.confirmShipment))
	mux.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		amzJSON(w, http.StatusOK, a.Stats())
	})
	mux.HandleFunc("POST /_sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("count"))
		if n <= 0 {
			n = 1
		}
		amzJSON(w, http.StatusOK, map[string]int{"generated": len(a.GenerateOrders(n))})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		amzError(w, http.StatusNotFound, "NotFound", "Resource not found.", "")
	})
	return mux
}

// api wraps an SP-API operation: request id, access token, fault knobs and
// the operation's token bucket, in that order (as Amazon authenticates
// before throttling).
func (a *Amazon) api(op string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-amzn-RequestId", amzRequestID())
		now := a.now()
		a.mu.Lock()
		a.stats.Requests[op]++
		tok, ok := a.access[r.Header.Get("x-amz-access-token")]
		authed := ok && now.Before(tok.expires)
		if !authed {
			a.stats.Unauthorized++
			a.mu.Unlock()
			amzError(w, http.StatusForbidden, "Unauthorized", "Access to requested resource is denied.", "")
			return
		}
		f := a.faults
		lat := f.Latency
		if f.LatencyJitter > 0 {
			lat += time.Duration(a.rng.Int64N(int64(f.LatencyJitter)))
		}
		inj5xx := f.Rate5xx > 0 && a.rng.Float64() < f.Rate5xx
		inj429 := !inj5xx && f.Rate429 > 0 && a.rng.Float64() < f.Rate429
		var allowed bool
		rate := a.rates[op]
		if !inj5xx && !inj429 {
			b := a.buckets[op]
			if b == nil {
				b = &amzBucket{rate: rate.Rate * a.opts.SpeedUp, burst: float64(rate.Burst), tokens: float64(rate.Burst), last: now}
				a.buckets[op] = b
			}
			allowed = b.take(now)
			if !allowed {
				a.stats.Throttled[op]++
			}
		}
		switch {
		case inj5xx:
			a.stats.Injected5xx++
		case inj429:
			a.stats.Injected429++
		}
		a.mu.Unlock()
		if lat > 0 {
			time.Sleep(lat)
		}
		switch {
		case inj5xx:
			amzError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service temporarily unavailable.", "")
			return
		case inj429 || !allowed:
			amzError(w, http.StatusTooManyRequests, "QuotaExceeded", "You exceeded your quota for the requested resource.", "")
			return
		}
		w.Header().Set("x-amzn-RateLimit-Limit", strconv.FormatFloat(math.Round(rate.Rate*a.opts.SpeedUp*1e6)/1e6, 'f', -1, 64))
		next(w, r)
	}
}

// queryList reads an array query parameter sent either as repeated keys or
// comma-separated (SP-API clients use the CSV form).
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func parseIncluded(r *http.Request) (map[string]bool, error) {
	inc := map[string]bool{}
	for _, v := range queryList(r, "includedData") {
		if !amazonIncludedData[v] {
			return nil, fmt.Errorf("invalid includedData value: %s", v)
		}
		inc[v] = true
	}
	return inc, nil
}

func (a *Amazon) searchOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := a.now().UTC()
	if tok := q.Get("paginationToken"); tok != "" {
		a.mu.Lock()
		p := a.pages[tok]
		if p != nil && now.After(p.expires) {
			delete(a.pages, tok)
			p = nil
		}
		a.mu.Unlock()
		if p == nil {
			amzInvalid(w, "Invalid paginationToken.")
			return
		}
		a.writePage(w, p, now)
		return
	}
	// marketplaceIds is optional in v2026-01-01 (required: false): without
	// it every marketplace of the seller is searched.
	mkts := queryList(r, "marketplaceIds")
	if len(mkts) > 50 {
		amzInvalid(w, "marketplaceIds may hold at most 50 values.")
		return
	}
	parseT := func(name string) (time.Time, bool, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, false, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s is not an ISO 8601 date-time: %s", name, v)
		}
		return t, true, nil
	}
	ca, hasCA, err1 := parseT("createdAfter")
	cb, hasCB, err2 := parseT("createdBefore")
	la, hasLA, err3 := parseT("lastUpdatedAfter")
	lb, hasLB, err4 := parseT("lastUpdatedBefore")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			amzInvalid(w, err.Error())
			return
		}
	}
	if hasCA == hasLA {
		amzInvalid(w, "Exactly one of createdAfter and lastUpdatedAfter must be specified.")
		return
	}
	if (hasCA && hasLB) || (hasLA && hasCB) {
		amzInvalid(w, "createdBefore goes with createdAfter, lastUpdatedBefore with lastUpdatedAfter.")
		return
	}
	limit := now.Add(-a.opts.SearchLag)
	after, before, hasBefore, beforeName := ca, cb, hasCB, "createdBefore"
	if hasLA {
		after, before, hasBefore, beforeName = la, lb, hasLB, "lastUpdatedBefore"
	}
	if !hasBefore {
		before = limit
	} else if before.After(limit) {
		amzInvalid(w, fmt.Sprintf("%s must be at least %s before the time of the request.", beforeName, a.opts.SearchLag))
		return
	}
	if !after.Before(before) {
		amzInvalid(w, fmt.Sprintf("%s must be after the start of the range.", beforeName))
		return
	}
	max := 100
	if v := q.Get("maxResultsPerPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			amzInvalid(w, "maxResultsPerPage must be between 1 and 100.")
			return
		}
		max = n
	}
	inc, err := parseIncluded(r)
	if err != nil {
		amzInvalid(w, err.Error())
		return
	}
	statuses := set(queryList(r, "fulfillmentStatuses"))
	for st := range statuses {
		if !amazonFulfillmentStatuses[st] {
			amzInvalid(w, "invalid fulfillmentStatuses value: "+st)
			return
		}
	}
	by := set(queryList(r, "fulfilledBy"))
	for b := range by {
		if b != "MERCHANT" && b != "AMAZON" {
			amzInvalid(w, "invalid fulfilledBy value: "+b)
			return
		}
	}
	mk := set(mkts)

	type hit struct {
		id string
		t  time.Time
	}
	var hits []hit
	a.mu.Lock()
	for _, o := range a.orders {
		t := o.Created
		if hasLA {
			t = o.LastUpdated
		}
		if t.Before(after) || !t.Before(before) || len(mk) > 0 && !mk[o.MarketplaceID] {
			continue
		}
		if len(statuses) > 0 && !statuses[o.Status] || len(by) > 0 && !by[o.FulfilledBy] {
			continue
		}
		hits = append(hits, hit{o.OrderID, t})
	}
	a.mu.Unlock()
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].t.Equal(hits[j].t) {
			return hits[i].t.Before(hits[j].t)
		}
		return hits[i].id < hits[j].id
	})
	p := &amzPage{max: max, included: inc, before: beforeName, beforeVal: before, expires: now.Add(24 * time.Hour)}
	for _, h := range hits {
		p.ids = append(p.ids, h.id)
	}
	a.writePage(w, p, now)
}

func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// writePage answers one page of a search snapshot; a further page gets a
// new opaque token valid for 24 h.
func (a *Amazon) writePage(w http.ResponseWriter, p *amzPage, now time.Time) {
	end := min(p.offset+p.max, len(p.ids))
	orders := make([]map[string]any, 0, end-p.offset)
	a.mu.Lock()
	for _, id := range p.ids[p.offset:end] {
		if o := a.orders[id]; o != nil {
			orders = append(orders, renderAmazonOrder(o, p.included))
		}
	}
	resp := map[string]any{"orders": orders, p.before: p.beforeVal.UTC().Format(time.RFC3339)}
	if end < len(p.ids) {
		next := *p
		next.offset = end
		next.expires = now.Add(24 * time.Hour)
		tok := amzRequestID()
		a.pages[tok] = &next
		resp["pagination"] = map[string]string{"nextToken": tok}
	}
	a.mu.Unlock()
	amzJSON(w, http.StatusOK, resp)
}

func (a *Amazon) getOrder(w http.ResponseWriter, r *http.Request) {
	inc, err := parseIncluded(r)
	if err != nil {
		amzInvalid(w, err.Error())
		return
	}
	a.mu.Lock()
	o := a.orders[r.PathValue("orderId")]
	var body map[string]any
	if o != nil {
		body = renderAmazonOrder(o, inc)
	}
	a.mu.Unlock()
	if o == nil {
		amzError(w, http.StatusNotFound, "NotFound", "Order not found.", "")
		return
	}
	amzJSON(w, http.StatusOK, map[string]any{"order": body})
}

func amzTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// renderAmazonOrder builds the v2026-01-01 Order object; optional sections
// appear only when named in includedData (CANCELLATION: lines'
// cancellation; FULFILLMENT: order and line fulfillment, incl. the IOSS
// number; TAX: tax registrations and line tax collection; PACKAGES:
// packages). Caller holds a.mu.
func renderAmazonOrder(o *AmazonOrder, inc map[string]bool) map[string]any {
	money := func(v string) map[string]string { return map[string]string{"amount": v, "currencyCode": o.Currency} }
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		cond := map[string]string{"conditionType": it.ConditionType, "conditionSubtype": it.ConditionSubtype}
		if it.ConditionType == "" {
			cond = map[string]string{"conditionType": AmazonConditionNew, "conditionSubtype": AmazonConditionNew}
		}
		if it.ConditionNote != "" {
			cond["conditionNote"] = it.ConditionNote
		}
		m := map[string]any{
			"orderItemId":     it.OrderItemID,
			"quantityOrdered": it.Quantity,
			"product": map[string]any{
				"asin": it.ASIN, "title": it.Title, "sellerSku": it.SellerSKU,
				"condition": cond,
				"price":     map[string]any{"unitPrice": money(it.UnitPrice)},
			},
		}
		if inc["CANCELLATION"] {
			c := map[string]any{}
			if it.CancelRequester != "" {
				req := map[string]string{"requester": it.CancelRequester}
				if it.CancelRequestReason != "" {
					req["cancelReason"] = it.CancelRequestReason
				}
				c["cancellationRequest"] = req
			}
			if o.Status == AmazonCancelled && o.CancelledBy != "" {
				ex := map[string]string{"cancelledBy": o.CancelledBy}
				if o.CancelReason != "" {
					ex["cancelReason"] = o.CancelReason
				}
				c["cancellationExecution"] = ex
			}
			if len(c) > 0 {
				m["cancellation"] = c
			}
		}
		if inc["FULFILLMENT"] {
			unf := it.Quantity - it.Shipped
			if o.Status == AmazonCancelled {
				unf = 0
			}
			f := map[string]any{"quantityFulfilled": it.Shipped, "quantityUnfulfilled": unf}
			if o.IOSSNumber != "" {
				f["shipping"] = map[string]any{"internationalShipping": map[string]string{"iossNumber": o.IOSSNumber}}
			}
			m["fulfillment"] = f
		}
		if inc["TAX"] && o.IOSSNumber != "" {
			m["tax"] = map[string]any{
				"taxCalculationBreakdowns": []map[string]string{{"reportingScheme": "IOSS"}},
				"taxCollections":           []map[string]string{{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": amazonIOSSResponsibleParty}},
			}
		}
		items = append(items, m)
	}
	sc := map[string]string{"channelName": "AMAZON", "marketplaceId": o.MarketplaceID}
	if name := amzMarketplaceName(o.MarketplaceID); name != "" {
		sc["marketplaceName"] = name
	}
	out := map[string]any{
		"orderId":         o.OrderID,
		"createdTime":     amzTime(o.Created),
		"lastUpdatedTime": amzTime(o.LastUpdated),
		"programs":        append([]string{}, o.Programs...),
		"salesChannel":    sc,
		"orderItems":      items,
	}
	if o.SellerOrderID != "" {
		out["orderAliases"] = []map[string]string{{"aliasId": o.SellerOrderID, "aliasType": "SELLER_ORDER_ID"}}
	}
	if o.ReplacementOf != "" {
		out["associatedOrders"] = []map[string]string{{"orderId": o.ReplacementOf, "associationType": "REPLACEMENT_ORIGINAL_ID"}}
	}
	if inc["BUYER"] {
		b := map[string]string{"buyerName": o.Buyer.Name}
		if o.FulfilledBy == "MERCHANT" {
			b["buyerEmail"] = o.Buyer.Email
		}
		if o.Buyer.CompanyName != "" {
			b["buyerCompanyName"] = o.Buyer.CompanyName
		}
		if o.Buyer.PurchaseOrder != "" {
			b["buyerPurchaseOrderNumber"] = o.Buyer.PurchaseOrder
		}
		out["buyer"] = b
	}
	if inc["RECIPIENT"] && o.Status != AmazonPending {
		addr := o.Address
		if o.FulfilledBy == "AMAZON" {
			addr.Phone = "" // phone is suppressed for Amazon-fulfilled orders
		}
		out["recipient"] = map[string]any{"deliveryAddress": addr}
	}
	if inc["PROCEEDS"] && o.Status != AmazonPending {
		out["proceeds"] = map[string]any{"grandTotal": money(amzGrandTotal(o))}
	}
	if inc["TAX"] && len(o.TaxRegistrations) > 0 {
		regs := make([]map[string]string, 0, len(o.TaxRegistrations))
		for _, r := range o.TaxRegistrations {
			m := map[string]string{"entityType": r.EntityType}
			for k, v := range map[string]string{"legalName": r.LegalName, "taxRegistrationType": r.Type, "taxRegistrationNumber": r.Number} {
				if v != "" {
					m[k] = v
				}
			}
			regs = append(regs, m)
		}
		out["tax"] = map[string]any{"taxRegistrations": regs}
	}
	if inc["FULFILLMENT"] {
		f := map[string]any{
			"fulfillmentStatus":       o.Status,
			"fulfilledBy":             o.FulfilledBy,
			"fulfillmentServiceLevel": o.ServiceLevel,
		}
		if o.FulfilledBy == "MERCHANT" {
			f["shipByWindow"] = map[string]string{"latestDateTime": amzTime(o.ShipBy)}
			f["deliverByWindow"] = map[string]string{"latestDateTime": amzTime(o.DeliverBy)}
		}
		out["fulfillment"] = f
	}
	if inc["PACKAGES"] && o.FulfilledBy == "MERCHANT" {
		pk := make([]map[string]any, 0, len(o.Packages))
		for _, p := range o.Packages {
			m := map[string]any{
				"packageReferenceId": p.PackageReferenceID,
				"createdTime":        amzTime(p.Created),
				"packageStatus":      map[string]string{"status": "SHIPPED"},
				"carrier":            p.CarrierCode,
				"shipTime":           amzTime(p.ShipDate),
				"trackingNumber":     p.TrackingNumber,
				"packageItems":       p.Items,
			}
			if p.CarrierCode == "Other" && p.CarrierName != "" {
				m["carrier"] = p.CarrierName
			}
			if p.ShippingMethod != "" {
				m["shippingService"] = p.ShippingMethod
			}
			pk = append(pk, m)
		}
		out["packages"] = pk
	}
	return out
}

// amzMarketplaceName is salesChannel.marketplaceName, "" when unknown.
func amzMarketplaceName(id string) string { return amzLocales[id].name }

// amzTotalCents sums unit price × quantity in hundredths of the currency
// unit (hundredths of a yen for JPY).
func amzTotalCents(o *AmazonOrder) int64 {
	var cents int64
	for _, it := range o.Items {
		whole, frac, _ := strings.Cut(it.UnitPrice, ".")
		w, _ := strconv.ParseInt(whole, 10, 64)
		f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
		cents += (w*100 + f) * int64(it.Quantity)
	}
	return cents
}

// amzGrandTotal is the order total as a decimal string (whole yen for JPY).
func amzGrandTotal(o *AmazonOrder) string {
	cents := amzTotalCents(o)
	if o.Currency == "JPY" {
		return strconv.FormatInt(cents/100, 10)
	}
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

type amzConfirmItem struct {
	OrderItemID string `json:"orderItemId"`
	Quantity    int    `json:"quantity"`
}

type amzConfirmRequest struct {
	MarketplaceID string `json:"marketplaceId"`
	PackageDetail *struct {
		PackageReferenceID json.RawMessage  `json:"packageReferenceId"`
		CarrierCode        string           `json:"carrierCode"`
		CarrierName        string           `json:"carrierName"`
		ShippingMethod     string           `json:"shippingMethod"`
		TrackingNumber     string           `json:"trackingNumber"`
		ShipDate           string           `json:"shipDate"`
		OrderItems         []amzConfirmItem `json:"orderItems"`
	} `json:"packageDetail"`
}

func (a *Amazon) confirmShipment(w http.ResponseWriter, r *http.Request) {
	var req amzConfirmRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		amzInvalid(w, "Invalid request body: "+err.Error())
		return
	}
	pd := req.PackageDetail
	if req.MarketplaceID == "" || pd == nil {
		amzInvalid(w, "marketplaceId and packageDetail are required.")
		return
	}
	var ref string
	if err := json.Unmarshal(pd.PackageReferenceID, &ref); err != nil {
		amzInvalid(w, "invalid type [packageDetail.packageReferenceId]")
		return
	}
	if n, err := strconv.ParseUint(ref, 10, 63); err != nil || n == 0 || ref != strconv.FormatUint(n, 10) {
		amzInvalid(w, "packageReferenceId must be a positive integer.")
		return
	}
	if pd.CarrierCode == "" || pd.TrackingNumber == "" || len(pd.OrderItems) == 0 {
		amzInvalid(w, "carrierCode, trackingNumber and orderItems are required.")
		return
	}
	shipDate, err := time.Parse(time.RFC3339, pd.ShipDate)
	if err != nil {
		amzInvalid(w, "Invalid Input")
		return
	}
	orderID := r.PathValue("orderId")
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.orders[orderID]
	if o == nil {
		amzError(w, http.StatusNotFound, "NotFound", "Order not found.", "")
		return
	}
	if req.MarketplaceID != o.MarketplaceID {
		amzInvalid(w, "marketplaceId does not match the order.")
		return
	}
	if o.FulfilledBy != "MERCHANT" {
		amzInvalid(w, "Amazon-fulfilled orders cannot be confirmed by the seller.")
		return
	}
	if o.Status != AmazonUnshipped && o.Status != AmazonPartiallyShipped && o.Status != AmazonShipped {
		amzInvalid(w, fmt.Sprintf("Order is in status %s and cannot be confirmed.", o.Status))
		return
	}
	// Quantities already in other packages (this package is replaced when
	// its reference id exists: confirmShipment also edits packages).
	used := map[string]int{}
	existing := -1
	for i, p := range o.Packages {
		if p.PackageReferenceID == ref {
			existing = i
			continue
		}
		for _, it := range p.Items {
			used[it.OrderItemID] += it.Quantity
		}
	}
	ordered := map[string]int{}
	for _, it := range o.Items {
		ordered[it.OrderItemID] = it.Quantity
	}
	req2 := map[string]int{}
	for _, it := range pd.OrderItems {
		q, ok := ordered[it.OrderItemID]
		if !ok {
			amzInvalid(w, "OrderItemId is invalid: "+it.OrderItemID)
			return
		}
		req2[it.OrderItemID] += it.Quantity
		if it.Quantity <= 0 || used[it.OrderItemID]+req2[it.OrderItemID] > q {
			amzInvalid(w, "Quantity is invalid for OrderItemId "+it.OrderItemID)
			return
		}
	}
	if !AmazonCarrierCodes[pd.CarrierCode] {
		// Accepted, silently not recorded (see AmazonCarrierCodes).
		a.stats.UnknownCarrierDropped++
		w.WriteHeader(http.StatusNoContent)
		return
	}
	pkg := AmazonPackage{
		PackageReferenceID: ref, CarrierCode: pd.CarrierCode, CarrierName: pd.CarrierName,
		ShippingMethod: pd.ShippingMethod, TrackingNumber: pd.TrackingNumber,
		ShipDate: shipDate.UTC(), Created: a.now().UTC(),
	}
	for _, it := range pd.OrderItems {
		pkg.Items = append(pkg.Items, AmazonPackageItem(it))
	}
	if existing >= 0 {
		pkg.Created = o.Packages[existing].Created
		o.Packages[existing] = pkg
		a.stats.PackagesEdited++
	} else {
		o.Packages = append(o.Packages, pkg)
		a.stats.PackagesRecorded++
	}
	shipped := map[string]int{}
	for _, p := range o.Packages {
		for _, it := range p.Items {
			shipped[it.OrderItemID] += it.Quantity
		}
	}
	all := true
	for i := range o.Items {
		o.Items[i].Shipped = shipped[o.Items[i].OrderItemID]
		if o.Items[i].Shipped < o.Items[i].Quantity {
			all = false
		}
	}
	prev := o.Status
	o.Status = AmazonPartiallyShipped
	if all {
		o.Status = AmazonShipped
	}
	a.touch(o)
	// An edit or a further partial package leaves the status as it was:
	// no OrderStatusChange then.
	if o.Status != prev {
		a.queueStatusChange(o)
	}
	w.WriteHeader(http.StatusNoContent)
}

// buildLWAHandler serves POST /auth/o2/token with grant_type=refresh_token.
func (a *Amazon) buildLWAHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/o2/token", a.lwaToken)
	return mux
}

func (a *Amazon) lwaToken(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, errCode, desc string) {
		a.mu.Lock()
		a.stats.TokenErrors++
		a.mu.Unlock()
		amzJSON(w, code, map[string]string{"error": errCode, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "Malformed request body")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "refresh_token" {
		fail(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type: "+gt)
		return
	}
	if r.PostForm.Get("client_id") != a.opts.ClientID || r.PostForm.Get("client_secret") != a.opts.ClientSecret {
		fail(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		fail(http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : refresh_token")
		return
	}
	a.mu.Lock()
	if !a.refresh[rt] {
		a.mu.Unlock()
		fail(http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
		return
	}
	a.tokenSeq++
	at := fmt.Sprintf("Atza|sandbox-%d-%s", a.tokenSeq, amzRequestID())
	a.access[at] = amzToken{refresh: rt, expires: a.now().Add(a.opts.TokenTTL)}
	a.stats.TokensIssued++
	a.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	amzJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"refresh_token": rt,
		"token_type":    "bearer",
		"expires_in":    int(a.opts.TokenTTL / time.Second),
	})
}
