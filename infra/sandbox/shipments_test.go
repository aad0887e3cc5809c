package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// putSSOrder stores an order built from ssOrderBody directly (no API call,
// so the 40/min window is left alone); mutate may edit the body first.
func putSSOrder(t *testing.T, sb *Sandbox, number, key string, mutate func(m map[string]any)) SSOrder {
	t.Helper()
	m := ssOrderBody(number, key)
	if mutate != nil {
		mutate(m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var in SSOrder
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	o, errs, refusal := sb.ss.upsert(in)
	if len(errs) > 0 || refusal != "" {
		t.Fatalf("upsert %s: %v %s", key, errs, refusal)
	}
	return o
}

type shipmentsPage struct {
	Shipments []map[string]any `json:"shipments"`
	Total     int              `json:"total"`
	Page      int              `json:"page"`
	Pages     int              `json:"pages"`
}

func (e *env) listShipments(query string) shipmentsPage {
	e.t.Helper()
	r := e.ssDo("GET", "/shipments?"+query, nil)
	if r.status != 200 {
		e.t.Fatalf("GET /shipments?%s: %d %s", query, r.status, r.body)
	}
	var p shipmentsPage
	r.json(e.t, &p)
	return p
}

func ids(p shipmentsPage) []int64 {
	var out []int64
	for _, s := range p.Shipments {
		out = append(out, int64(s["shipmentId"].(float64)))
	}
	return out
}

func keySet(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(xs ...string) []string {
	sort.Strings(xs)
	return xs
}

var (
	ssTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}$`)
	dateRE   = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)
)

func TestSSShipmentShape(t *testing.T) {
	clk := newFakeClock() // 2026-11-21 17:03:20 UTC = 09:03:20 PST
	e := newEnv(t, Options{Now: clk.Now})
	putSSOrder(t, e.sb, "1001", "bigcommerce:1001", nil)
	out, err := e.sb.ShipOrder("bigcommerce:1001", nil, "stamps_com", "")
	if err != nil || len(out) != 1 {
		t.Fatalf("ship: %v %v", out, err)
	}
	p := e.listShipments("includeShipmentItems=True")
	if p.Total != 1 || p.Page != 1 || p.Pages != 1 || len(p.Shipments) != 1 {
		t.Fatalf("page: %+v", p)
	}
	sh := p.Shipments[0]
	want := sorted("shipmentId", "orderId", "orderKey", "userId", "customerEmail", "orderNumber", "createDate", "shipDate",
		"shipmentCost", "insuranceCost", "trackingNumber", "isReturnLabel", "batchNumber", "carrierCode", "serviceCode",
		"packageCode", "confirmation", "warehouseId", "voided", "voidDate", "marketplaceNotified", "notifyErrorMessage",
		"shipTo", "weight", "dimensions", "insuranceOptions", "advancedOptions", "shipmentItems", "labelData", "formData")
	if got := keySet(sh); !reflect.DeepEqual(got, want) {
		t.Fatalf("shipment keys:\n got %v\nwant %v", got, want)
	}
	if sh["createDate"] != "2026-11-21T09:03:20.0000000" || !ssTimeRE.MatchString(sh["createDate"].(string)) {
		t.Errorf("createDate %v (want Pacific, 7 fractional digits)", sh["createDate"])
	}
	if sh["shipDate"] != "2026-11-21" || !dateRE.MatchString(sh["shipDate"].(string)) || sh["voidDate"] != nil || sh["voided"] != false || sh["userId"] != nil ||
		sh["labelData"] != nil || sh["formData"] != nil || sh["isReturnLabel"] != false || sh["marketplaceNotified"] != false {
		t.Errorf("scalars: %v", sh)
	}
	if _, ok := sh["shipmentCost"].(float64); !ok {
		t.Errorf("shipmentCost is not a number: %#v", sh["shipmentCost"])
	}
	if sh["insuranceCost"] != float64(0) || sh["packageCode"] != "package" || sh["confirmation"] != "delivery" {
		t.Errorf("cost/package/confirmation: %v %v %v", sh["insuranceCost"], sh["packageCode"], sh["confirmation"])
	}
	if _, ok := sh["batchNumber"].(string); !ok {
		t.Errorf("batchNumber %#v", sh["batchNumber"])
	}
	if sh["orderKey"] != "bigcommerce:1001" || sh["orderNumber"] != "1001" || sh["customerEmail"] != "ottoline.testx@example.com" ||
		sh["carrierCode"] != "stamps_com" || sh["serviceCode"] != "usps_ground_advantage" || sh["warehouseId"] != float64(DefaultShipStationWarehouseID) {
		t.Errorf("identity: %v", sh)
	}
	shipTo := sh["shipTo"].(map[string]any)
	for _, k := range []string{"name", "company", "street1", "street2", "street3", "city", "state", "postalCode", "country", "phone", "residential"} {
		if _, ok := shipTo[k]; !ok {
			t.Errorf("shipTo.%s missing", k)
		}
	}
	if shipTo["postalCode"] != "78701" || shipTo["residential"] != true {
		t.Errorf("shipTo: %v", shipTo)
	}
	if got := keySet(sh["weight"].(map[string]any)); !reflect.DeepEqual(got, sorted("value", "units", "WeightUnits")) {
		t.Errorf("weight keys %v", got)
	}
	w := sh["weight"].(map[string]any)
	if w["units"] != "ounces" || w["WeightUnits"] != float64(1) || w["value"] != float64(24) { // 3 units x 8 oz default
		t.Errorf("weight %v", w)
	}
	if got := keySet(sh["dimensions"].(map[string]any)); !reflect.DeepEqual(got, sorted("units", "length", "width", "height")) {
		t.Errorf("dimensions keys %v", got)
	}
	if got := keySet(sh["insuranceOptions"].(map[string]any)); !reflect.DeepEqual(got, sorted("provider", "insureShipment", "insuredValue")) {
		t.Errorf("insuranceOptions keys %v", got)
	}
	adv := sh["advancedOptions"].(map[string]any)
	if adv["storeId"] != float64(22766) || adv["customField1"] != "1001" || adv["customField2"] != "bigcommerce" || adv["source"] != "bigcommerce" {
		t.Errorf("advancedOptions %v", adv)
	}
	items := sh["shipmentItems"].([]any)
	if len(items) != 2 {
		t.Fatalf("items %v", items)
	}
	it := items[0].(map[string]any)
	wantItem := sorted("orderItemId", "lineItemKey", "sku", "name", "imageUrl", "weight", "quantity", "unitPrice", "taxAmount",
		"shippingAmount", "warehouseLocation", "options", "productId", "fulfillmentSku", "adjustment", "upc", "createDate", "modifyDate")
	if got := keySet(it); !reflect.DeepEqual(got, wantItem) {
		t.Fatalf("item keys:\n got %v\nwant %v", got, wantItem)
	}
	if it["lineItemKey"] != "1" || it["sku"] != "MUG-BLK-11" || it["quantity"] != float64(2) || it["unitPrice"] != 15.99 ||
		!ssTimeRE.MatchString(it["createDate"].(string)) {
		t.Errorf("item %v", it)
	}

	// Without includeShipmentItems (or False) shipmentItems is null.
	for _, q := range []string{"", "includeShipmentItems=False", "includeShipmentItems=false"} {
		r := e.ssDo("GET", "/shipments?"+q, nil)
		if !strings.Contains(string(r.body), `"shipmentItems":null`) {
			t.Errorf("%q: shipmentItems not null: %s", q, r.body)
		}
	}
	if p := e.listShipments("includeShipmentItems=true"); p.Shipments[0]["shipmentItems"] == nil {
		t.Error("includeShipmentItems=true gave no items")
	}

	// Void: voided, voidDate in Pacific format; the order is open again.
	clk.Advance(90 * time.Minute)
	if err := e.sb.VoidShipment(out[0].ShipmentID); err != nil {
		t.Fatal(err)
	}
	sh = e.listShipments("").Shipments[0]
	if sh["voided"] != true || sh["voidDate"] != "2026-11-21T10:33:20.0000000" {
		t.Errorf("void: %v %v", sh["voided"], sh["voidDate"])
	}
	if o, _ := e.sb.ShipStationOrder("bigcommerce:1001"); o.OrderStatus != "awaiting_shipment" {
		t.Errorf("after void: %s", o.OrderStatus)
	}
	if err := e.sb.VoidShipment(out[0].ShipmentID); err == nil {
		t.Error("double void accepted")
	}

	// Late evening Pacific is the next day in UTC: shipDate is the Pacific date.
	clk.Advance(-clk.Now().Sub(time.Date(2026, 11, 22, 6, 30, 0, 0, time.UTC)))
	re, err := e.sb.Relabel(out[0].ShipmentID)
	if err != nil {
		t.Fatal(err)
	}
	if re.ShipDate != "2026-11-21" || re.CreateDate != "2026-11-21T22:30:00.0000000" || re.TrackingNumber == out[0].TrackingNumber {
		t.Errorf("relabel: shipDate %s createDate %s tracking %s", re.ShipDate, re.CreateDate, re.TrackingNumber)
	}
}

func TestSSShipmentsFiltersAndPaging(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	putSSOrder(t, e.sb, "A-1", "k1", nil)
	putSSOrder(t, e.sb, "A-2", "k2", nil)
	putSSOrder(t, e.sb, "B-3", "k3", func(m map[string]any) {
		m["advancedOptions"].(map[string]any)["storeId"] = 555
		m["shipTo"].(map[string]any)["country"] = "CA"
		m["shipTo"].(map[string]any)["name"] = "Bartholomew Ng"
	})
	putSSOrder(t, e.sb, "H-4", "hold", func(m map[string]any) { m["orderStatus"] = "on_hold" })

	s1, err := e.sb.ShipOrder("k1", nil, "fedex", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	// k2: line "1" (qty 2) split across two packages; line "2" in the second.
	s2, err := e.sb.ShipOrder("k2", [][]ShipLine{{{LineItemKey: "1", Quantity: 1}}, {{LineItemKey: "1", Quantity: 1}, {LineItemKey: "2", Quantity: 1}}}, "ups_walleted", "")
	if err != nil || len(s2) != 2 {
		t.Fatalf("split: %v %v", s2, err)
	}
	if s2[0].BatchID != s2[1].BatchID || s2[0].TrackingNumber == s2[1].TrackingNumber || s2[0].BatchID == s1[0].BatchID {
		t.Errorf("batches/tracking: %+v", s2)
	}
	clk.Advance(24 * time.Hour) // next Pacific day
	// k3 partially: stays awaiting_shipment.
	s3, err := e.sb.ShipOrder("k3", [][]ShipLine{{{LineItemKey: "2", Quantity: 1}}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"k1": "shipped", "k2": "shipped", "k3": "awaiting_shipment", "hold": "on_hold"} {
		if o, _ := e.sb.ShipStationOrder(key); o.OrderStatus != want {
			t.Errorf("%s: %s, want %s", key, o.OrderStatus, want)
		}
	}
	if o, _ := e.sb.ShipStationOrder("k1"); o.ShipDate == nil || *o.ShipDate != "2026-11-21" {
		t.Errorf("order shipDate %v", o.ShipDate)
	}
	if _, err := e.sb.ShipOrder("hold", nil, "", ""); !errors.Is(err, ErrNotShippable) {
		t.Errorf("on_hold shipped: %v", err)
	}
	if _, err := e.sb.ShipOrder("k1", nil, "", ""); !errors.Is(err, ErrNotShippable) {
		t.Errorf("shipped order shipped again: %v", err)
	}
	if _, err := e.sb.ShipOrder("k3", [][]ShipLine{{{LineItemKey: "1", Quantity: 3}}}, "", ""); !errors.Is(err, ErrNotShippable) {
		t.Errorf("over-ship: %v", err)
	}
	if _, err := e.sb.ShipOrder("nope", nil, "", ""); !errors.Is(err, ErrNoSuchOrder) {
		t.Errorf("unknown order: %v", err)
	}
	if len(e.sb.ShipStationShipments()) != 4 {
		t.Fatalf("shipments: %d", len(e.sb.ShipStationShipments()))
	}

	all := []int64{s1[0].ShipmentID, s2[0].ShipmentID, s2[1].ShipmentID, s3[0].ShipmentID}
	cases := []struct {
		q    string
		want []int64
	}{
		{"", all},
		{fmt.Sprintf("batchId=%d", s2[0].BatchID), all[1:3]},
		{fmt.Sprintf("batchid=%d&includeShipmentItems=False", s2[0].BatchID), all[1:3]}, // ASP.NET binds case-insensitively
		{fmt.Sprintf("orderId=%d", s1[0].OrderID), all[:1]},
		{"orderNumber=A-2", all[1:3]},
		{"trackingNumber=" + s2[1].TrackingNumber, all[2:3]},
		{"storeId=555", all[3:]},
		{"storeID=22766", all[:3]},
		{"carrierCode=ups_walleted", all[1:3]},
		{"recipientName=bartholomew", all[3:]},
		{"recipientCountryCode=CA", all[3:]},
		{"createDateStart=" + url.QueryEscape("2026-11-21 10:00:00"), all[1:]}, // Pacific: k1 at 09:03:20
		{"createDateEnd=" + url.QueryEscape("2026-11-21 10:03:20"), all[:3]},
		{"createDateStart=2026-11-21T18:00:00Z", all[1:]}, // RFC 3339 with zone honoured
		{"shipDateStart=2026-11-22", all[3:]},
		{"shipDateEnd=2026-11-21", all[:3]},
		{"sortBy=CreateDate&sortDir=DESC", []int64{all[3], all[1], all[2], all[0]}},
		{"sortBy=ShipDate&sortDir=ASC", all},
		{"pageSize=3", all[:3]},
		{"pageSize=3&page=2", all[3:]},
		{"pageSize=3&page=3", nil},
	}
	for _, c := range cases {
		got := ids(e.listShipments(c.q))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.q, got, c.want)
		}
	}
	p := e.listShipments("pageSize=3&page=2")
	if p.Total != 4 || p.Pages != 2 || p.Page != 2 {
		t.Errorf("paging: total %d pages %d page %d", p.Total, p.Pages, p.Page)
	}
	if p := e.listShipments("pageSize=500"); p.Pages != 1 {
		t.Errorf("pageSize 500: %+v", p)
	}
	if r := e.ssDo("GET", "/shipments?pageSize=3&page=3", nil); !strings.Contains(string(r.body), `"shipments":[]`) {
		t.Errorf("empty page: %s", r.body)
	}
	// Split line quantities are reported per package.
	p = e.listShipments(fmt.Sprintf("batchId=%d&includeShipmentItems=True", s2[0].BatchID))
	var qty []string
	for _, s := range p.Shipments {
		for _, it := range s["shipmentItems"].([]any) {
			m := it.(map[string]any)
			qty = append(qty, fmt.Sprintf("%v:%v", m["lineItemKey"], m["quantity"]))
		}
	}
	if !reflect.DeepEqual(qty, []string{"1:1", "1:1", "2:1"}) {
		t.Errorf("split items %v", qty)
	}
	// Void dates.
	clk.Advance(time.Hour)
	if err := e.sb.VoidShipment(s2[1].ShipmentID); err != nil {
		t.Fatal(err)
	}
	if got := ids(e.listShipments("voidDateStart=2026-11-22")); !reflect.DeepEqual(got, all[2:3]) {
		t.Errorf("voidDateStart: %v", got)
	}
	if got := ids(e.listShipments("voidDateEnd=2026-11-21")); got != nil {
		t.Errorf("voidDateEnd: %v", got)
	}
	if o, _ := e.sb.ShipStationOrder("k2"); o.OrderStatus != "awaiting_shipment" {
		t.Errorf("k2 after void: %s", o.OrderStatus)
	}
	for _, bad := range []string{"pageSize=501", "pageSize=0", "page=0", "batchId=x", "orderId=1.5", "includeShipmentItems=yes",
		"sortBy=OrderDate", "sortDir=UP", "createDateStart=tomorrow", "shipDateEnd=x", "voidDateStart=x", "storeId=abc"} {
		r := e.ssDo("GET", "/shipments?"+bad, nil)
		var m ssMessage
		if r.status != 400 || json.Unmarshal(r.body, &m) != nil || m.Message != "The request is invalid." || len(m.ModelState) != 1 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

func TestSSShipmentsRateLimited(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	for i := 1; i <= 40; i++ {
		path := "/shipments"
		if i%4 == 0 {
			path = "/webhooks"
		}
		if r := e.ssDo("GET", path, nil); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(40-i) {
			t.Fatalf("request %d: %d remaining %s", i, r.status, r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	clk.Advance(10 * time.Second)
	r := e.ssDo("GET", "/shipments?batchId=1", nil)
	if r.status != 429 || string(r.body) != `{"message":"Too Many Requests"}` || r.header.Get("X-Rate-Limit-Reset") != "50" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("41st: %d %s %v", r.status, r.body, r.header)
	}
	if r := e.ssDo("POST", "/webhooks/subscribe", map[string]any{"target_url": "http://127.0.0.1:1/x", "event": "SHIP_NOTIFY"}); r.status != 429 || len(e.sb.ShipStationWebhooks()) != 0 {
		t.Fatalf("42nd (subscribe): %d", r.status)
	}
	clk.Advance(50 * time.Second)
	if r := e.ssDo("GET", "/shipments", nil); r.status != 200 {
		t.Fatalf("after reset: %d", r.status)
	}
	st := e.sb.Stats().ShipStation
	if st.RateLimited429 != 2 || st.RequestsByRoute["GET /shipments"] != 31 || st.RequestsByRoute["GET /webhooks"] != 10 {
		t.Errorf("stats %+v", st.ServerStats)
	}
	if r := do(t, newReq(t, "GET", e.ss.URL+"/shipments", nil)); r.status != 401 {
		t.Errorf("no auth: %d", r.status)
	}
}

func TestTrackingNumberFormats(t *testing.T) {
	// Published check-digit examples.
	if c := upsCheck("999AA1012345678"); c != '4' { // 1Z999AA10123456784
		t.Errorf("UPS check %c", c)
	}
	if c := s10Check("12345678"); c != '5' { // EE123456785GB
		t.Errorf("S10 check %c", c)
	}
	e := newEnv(t, Options{Seed: 3})
	formats := map[string]*regexp.Regexp{
		"stamps_com":            regexp.MustCompile(`^94\d{20}$`),
		"ups_walleted":          regexp.MustCompile(`^1Z[0-9A-Z]{6}\d{2}\d{8}$`),
		"fedex":                 regexp.MustCompile(`^\d{12}$`),
		"dhl_express_worldwide": regexp.MustCompile(`^\d{10}$`),
		"canada_post":           regexp.MustCompile(`^\d{16}$`),
		"royal_mail":            regexp.MustCompile(`^[A-Z]{2}\d{9}GB$`),
		"australia_post":        regexp.MustCompile(`^[A-Z]{2}\d{9}AU$`),
		"local_courier":         regexp.MustCompile(`^LC\d{10}$`),
	}
	n := 0
	for carrier, re := range formats {
		for range 5 {
			n++
			key := fmt.Sprintf("t%d", n)
			putSSOrder(t, e.sb, key, key, nil)
			out, err := e.sb.ShipOrder(key, nil, carrier, "")
			if err != nil {
				t.Fatal(err)
			}
			tn := out[0].TrackingNumber
			ok := re.MatchString(tn)
			switch carrier {
			case "stamps_com":
				ok = ok && uspsCheck(tn[:21]) == tn[21]
			case "ups_walleted":
				ok = ok && upsCheck(tn[2:17]) == tn[17]
			case "fedex":
				ok = ok && fedexCheck(tn[:11]) == tn[11]
			case "dhl_express_worldwide":
				v, _ := strconv.ParseInt(tn[:9], 10, 64)
				ok = ok && strconv.FormatInt(v%7, 10) == tn[9:]
			case "royal_mail", "australia_post":
				ok = ok && s10Check(tn[2:10]) == tn[10]
			}
			if !ok || out[0].ServiceCode != defaultServices[carrier] {
				t.Errorf("%s: tracking %q service %q", carrier, tn, out[0].ServiceCode)
			}
		}
	}
	// Carrier picked from the destination when none is given.
	seen := map[string]bool{}
	for i := range 60 {
		key := fmt.Sprintf("p%d", i)
		putSSOrder(t, e.sb, key, key, nil)
		out, err := e.sb.ShipOrder(key, nil, "", "")
		if err != nil {
			t.Fatal(err)
		}
		seen[out[0].CarrierCode] = true
	}
	for _, c := range []string{"stamps_com", "ups_walleted", "fedex"} {
		if !seen[c] {
			t.Errorf("US carrier %s never picked: %v", c, seen)
		}
	}
}

// shipSummary describes one shipment for determinism comparisons.
func shipSummary(sh SSShipment) string {
	var items []string
	for _, it := range sh.ShipmentItems {
		items = append(items, fmt.Sprintf("%s=%d", derefStr(it.LineItemKey), it.Quantity))
	}
	return fmt.Sprintf("%s b%d %s %s/%s void=%v [%s]", sh.OrderKey, sh.BatchID, sh.TrackingNumber, sh.CarrierCode, sh.ServiceCode, sh.Voided, strings.Join(items, ","))
}

func TestWarehouseShipsOnlyAwaitingShipment(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now, WarehouseDelay: time.Minute})
	statuses := []string{"awaiting_shipment", "on_hold", "awaiting_payment", "pending_fulfillment", "cancelled", "shipped"}
	for _, st := range statuses {
		putSSOrder(t, e.sb, st, st, func(m map[string]any) { m["orderStatus"] = st })
	}
	if got := e.sb.WarehouseTick(); len(got) != 0 {
		t.Fatalf("shipped before the delay: %v", got)
	}
	clk.Advance(time.Minute)
	got := e.sb.WarehouseTick()
	if len(got) != 1 || got[0].OrderKey != "awaiting_shipment" {
		t.Fatalf("first pass: %v", got)
	}
	for _, st := range statuses {
		want := st
		if st == "awaiting_shipment" {
			want = "shipped"
		}
		if o, _ := e.sb.ShipStationOrder(st); o.OrderStatus != want {
			t.Errorf("%s became %s", st, o.OrderStatus)
		}
	}
	// Released from hold: waits WarehouseDelay from the release.
	clk.Advance(10 * time.Minute)
	if err := e.sb.SetShipStationOrderStatus("on_hold", "awaiting_shipment"); err != nil {
		t.Fatal(err)
	}
	if got := e.sb.WarehouseTick(); len(got) != 0 {
		t.Fatalf("released order shipped at once: %v", got)
	}
	clk.Advance(time.Minute)
	if got := e.sb.WarehouseTick(); len(got) != 1 || got[0].OrderKey != "on_hold" {
		t.Fatalf("released order: %v", got)
	}
	// Partially shipped by hand: the warehouse ships the rest.
	putSSOrder(t, e.sb, "part", "part", nil)
	if _, err := e.sb.ShipOrder("part", [][]ShipLine{{{LineItemKey: "1", Quantity: 1}}}, "", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	got = e.sb.WarehouseTick()
	if len(got) != 1 || shipSummary(got[0])[strings.LastIndex(shipSummary(got[0]), "["):] != "[1=1,2=1]" {
		t.Fatalf("rest of a partial order: %v", got)
	}
	if o, _ := e.sb.ShipStationOrder("part"); o.OrderStatus != "shipped" {
		t.Errorf("part: %s", o.OrderStatus)
	}
	if st := e.sb.Stats().ShipStation; st.Shipments != 4 || st.ShipmentsCreated != 4 || st.Batches != 4 {
		t.Errorf("stats: %+v", st)
	}
}

// runWarehouse creates orders and runs warehouse passes until every order
// is shipped and nothing is scheduled, returning all shipments.
func runWarehouse(t *testing.T, seed uint64, f WarehouseFaults, orders int) (*env, []SSShipment) {
	t.Helper()
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now, Seed: seed, WarehouseDelay: time.Minute, WarehouseFaults: f})
	for i := range orders {
		key := fmt.Sprintf("o%02d", i)
		putSSOrder(t, e.sb, key, key, func(m map[string]any) {
			if i%3 == 2 { // a different address: cannot be combined with the others
				m["shipTo"].(map[string]any)["street1"] = fmt.Sprintf("%d Other Rd", i)
			}
		})
	}
	for range 6 {
		clk.Advance(time.Minute)
		e.sb.WarehouseTick()
	}
	for _, o := range e.sb.ShipStationOrders() {
		if o.OrderStatus != "shipped" {
			t.Fatalf("%s not shipped: %s", o.OrderKey, o.OrderStatus)
		}
	}
	return e, e.sb.ShipStationShipments()
}

// liveQuantities sums non-voided quantities per order and line.
func liveQuantities(list []SSShipment) map[string]int {
	out := map[string]int{}
	for _, sh := range list {
		if sh.Voided {
			continue
		}
		for _, it := range sh.ShipmentItems {
			out[sh.OrderKey+"/"+derefStr(it.LineItemKey)] += it.Quantity
		}
	}
	return out
}

func checkFullyShipped(t *testing.T, list []SSShipment, orders int) {
	t.Helper()
	q := liveQuantities(list)
	for i := range orders {
		k := fmt.Sprintf("o%02d", i)
		if q[k+"/1"] != 2 || q[k+"/2"] != 1 {
			t.Errorf("%s shipped %d+%d units, want 2+1", k, q[k+"/1"], q[k+"/2"])
		}
	}
}

func TestWarehouseKnobs(t *testing.T) {
	const n = 12
	t.Run("plain", func(t *testing.T) {
		_, list := runWarehouse(t, 9, WarehouseFaults{}, n)
		if len(list) != n {
			t.Fatalf("%d shipments", len(list))
		}
		checkFullyShipped(t, list, n)
	})
	t.Run("split", func(t *testing.T) {
		_, list := runWarehouse(t, 9, WarehouseFaults{SplitRate: 1}, n)
		checkFullyShipped(t, list, n)
		byOrder := map[string][]SSShipment{}
		for _, sh := range list {
			byOrder[sh.OrderKey] = append(byOrder[sh.OrderKey], sh)
		}
		straddled, threes := 0, 0
		for k, shs := range byOrder {
			if len(shs) < 2 || len(shs) > 3 {
				t.Errorf("%s: %d packages", k, len(shs))
			}
			if len(shs) == 3 {
				threes++
			}
			tracking := map[string]bool{}
			lines := 0
			for _, sh := range shs {
				if sh.BatchID != shs[0].BatchID {
					t.Errorf("%s: packages in different batches", k)
				}
				tracking[sh.TrackingNumber] = true
				for _, it := range sh.ShipmentItems {
					if derefStr(it.LineItemKey) == "1" {
						lines++
					}
				}
			}
			if len(tracking) != len(shs) {
				t.Errorf("%s: packages share a tracking number", k)
			}
			if lines > 1 {
				straddled++
			}
		}
		if straddled == 0 || threes == 0 {
			t.Errorf("no line split across packages (%d) or no 3-package order (%d)", straddled, threes)
		}
	})
	t.Run("combine", func(t *testing.T) {
		_, list := runWarehouse(t, 9, WarehouseFaults{CombineRate: 1}, n)
		checkFullyShipped(t, list, n)
		if len(list) != n {
			t.Fatalf("%d shipments, want one per order", len(list))
		}
		byTracking := map[string][]SSShipment{}
		for _, sh := range list {
			byTracking[sh.TrackingNumber] = append(byTracking[sh.TrackingNumber], sh)
		}
		combined := 0
		for tn, shs := range byTracking {
			if len(shs) > 3 {
				t.Errorf("%s: %d orders on one label", tn, len(shs))
			}
			if len(shs) > 1 {
				combined++
				for _, sh := range shs[1:] {
					if sh.BatchID != shs[0].BatchID || sh.OrderKey == shs[0].OrderKey || sh.ShipmentCost != "0" {
						t.Errorf("combined label %s: %s", tn, shipSummary(sh))
					}
				}
			}
			for _, sh := range shs {
				if n, _ := strconv.Atoi(sh.OrderKey[1:]); n%3 == 2 && len(shs) > 1 {
					t.Errorf("order %s to another address combined", sh.OrderKey)
				}
			}
		}
		if combined != 3 { // 8 orders share an address: labels of 3+3+2
			t.Errorf("%d combined labels", combined)
		}
	})
	t.Run("void", func(t *testing.T) {
		e, list := runWarehouse(t, 9, WarehouseFaults{VoidRate: 1}, n)
		checkFullyShipped(t, list, n)
		voided, live := 0, 0
		for _, sh := range list {
			if sh.Voided {
				voided++
				if sh.VoidDate == nil || !ssTimeRE.MatchString(*sh.VoidDate) {
					t.Errorf("voidDate %v", sh.VoidDate)
				}
			} else {
				live++
			}
		}
		// Every label is voided once; the relabel may be voided again only if
		// rolled again, which VoidRate does not do for relabels.
		if voided != n || live != n {
			t.Errorf("voided %d live %d", voided, live)
		}
		st := e.sb.Stats().ShipStation
		if st.ShipmentsVoided != n || st.ShipmentsCreated != 2*n || st.Batches != 2*n {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		f := WarehouseFaults{SplitRate: 0.4, CombineRate: 0.3, VoidRate: 0.3}
		_, a := runWarehouse(t, 21, f, n)
		_, b := runWarehouse(t, 21, f, n)
		_, c := runWarehouse(t, 22, f, n)
		sum := func(l []SSShipment) []string {
			var out []string
			for _, sh := range l {
				out = append(out, shipSummary(sh))
			}
			return out
		}
		if !reflect.DeepEqual(sum(a), sum(b)) {
			t.Errorf("same seed, different shipments:\n%v\n%v", sum(a), sum(b))
		}
		if reflect.DeepEqual(sum(a), sum(c)) {
			t.Error("different seeds, same shipments")
		}
		checkFullyShipped(t, a, n)
	})
}

func TestWarehouseVoidRelabelTimeline(t *testing.T) {
	clk := newFakeClock()
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Now: clk.Now, WarehouseDelay: time.Minute, WarehouseFaults: WarehouseFaults{VoidRate: 1}})
	if _, err := e.sb.AddShipStationWebhook(rec.srv.URL+"/ss/secret", "SHIP_NOTIFY"); err != nil {
		t.Fatal(err)
	}
	putSSOrder(t, e.sb, "v1", "v1", nil)
	clk.Advance(time.Minute)
	first := e.sb.WarehouseTick()
	if len(first) != 1 {
		t.Fatalf("first: %v", first)
	}
	clk.Advance(30 * time.Second)
	if got := e.sb.WarehouseTick(); len(got) != 0 {
		t.Fatalf("void pass created %v", got)
	}
	if o, _ := e.sb.ShipStationOrder("v1"); o.OrderStatus != "awaiting_shipment" {
		t.Fatalf("after void: %s", o.OrderStatus)
	}
	clk.Advance(10 * time.Second)
	if got := e.sb.WarehouseTick(); len(got) != 0 {
		t.Fatalf("the warehouse reshipped an order waiting for its relabel: %v", got)
	}
	clk.Advance(20 * time.Second)
	re := e.sb.WarehouseTick()
	if len(re) != 1 || re[0].TrackingNumber == first[0].TrackingNumber || re[0].BatchID == first[0].BatchID || shipSummary(re[0])[strings.LastIndex(shipSummary(re[0]), "["):] != "[1=2,2=1]" {
		t.Fatalf("relabel: %v", re)
	}
	if o, _ := e.sb.ShipStationOrder("v1"); o.OrderStatus != "shipped" {
		t.Fatalf("after relabel: %s", o.OrderStatus)
	}
	flush(t, e.sb)
	// One SHIP_NOTIFY per batch: the first label and the relabel; none for the void.
	if got := rec.all(); len(got) != 2 {
		t.Fatalf("%d SHIP_NOTIFY", len(got))
	}
}

func TestShipNotifyDelivered(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{})
	target := rec.srv.URL + "/shipstation/ship-notify/s3cr3t"
	r := e.ssDo("POST", "/webhooks/subscribe", map[string]any{"target_url": target, "event": "SHIP_NOTIFY", "friendly_name": "shiprelay"})
	if r.status != 201 {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	var sub map[string]any
	r.json(t, &sub)
	id, ok := sub["id"].(float64)
	if !ok || len(sub) != 1 {
		t.Fatalf("subscribe body %s", r.body)
	}
	r = e.ssDo("GET", "/webhooks", nil)
	var list struct {
		Webhooks []map[string]any `json:"webhooks"`
	}
	r.json(t, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0]["WebHookID"] != id || list.Webhooks[0]["HookType"] != "SHIP_NOTIFY" ||
		list.Webhooks[0]["Url"] != target || list.Webhooks[0]["Active"] != true || list.Webhooks[0]["Name"] != "shiprelay" {
		t.Fatalf("list: %s", r.body)
	}
	for _, bad := range []map[string]any{{"event": "SHIP_NOTIFY"}, {"target_url": "ftp://x", "event": "SHIP_NOTIFY"}, {"target_url": target, "event": "SHIPPED"}, {"target_url": target}} {
		if r := e.ssDo("POST", "/webhooks/subscribe", bad); r.status != 400 {
			t.Errorf("%v: %d", bad, r.status)
		}
	}

	putSSOrder(t, e.sb, "2001", "bigcommerce:2001", nil)
	putSSOrder(t, e.sb, "2002", "bigcommerce:2002", nil)
	out, err := e.sb.ShipCombined([]string{"bigcommerce:2001", "bigcommerce:2002"}, "stamps_com", "")
	if err != nil || len(out) != 2 || out[0].TrackingNumber != out[1].TrackingNumber || out[0].BatchID != out[1].BatchID {
		t.Fatalf("combined: %v %v", out, err)
	}
	flush(t, e.sb)
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	wantURL := fmt.Sprintf("%s/shipments?batchId=%d&includeShipmentItems=False", e.ss.URL, out[0].BatchID)
	wantBody := fmt.Sprintf(`{"resource_url":%q,"resource_type":"SHIP_NOTIFY"}`, wantURL)
	if string(got[0].body) != wantBody {
		t.Fatalf("body:\n got %s\nwant %s", got[0].body, wantBody)
	}
	if got[0].header.Get("Content-Type") != "application/json" || got[0].header.Get("webhook-signature") != "" || got[0].header.Get("webhook-id") != "" {
		t.Errorf("headers: %v (V1 webhooks are unsigned)", got[0].header)
	}
	// Follow resource_url with Basic auth, as a client does.
	req := newReq(t, "GET", wantURL, nil)
	req.SetBasicAuth(DefaultShipStationKey, DefaultShipStationSecret)
	res := do(t, req)
	var page shipmentsPage
	res.json(t, &page)
	if res.status != 200 || page.Total != 2 || page.Shipments[0]["shipmentItems"] != nil {
		t.Fatalf("resource: %d %s", res.status, res.body)
	}
	req = newReq(t, "GET", strings.Replace(wantURL, "=False", "=True", 1), nil)
	req.SetBasicAuth(DefaultShipStationKey, DefaultShipStationSecret)
	res = do(t, req)
	res.json(t, &page)
	if page.Total != 2 || page.Shipments[1]["shipmentItems"] == nil || page.Shipments[1]["orderKey"] != "bigcommerce:2002" {
		t.Fatalf("resource with items: %s", res.body)
	}

	// Void: no webhook. Relabel: a new batch, a new SHIP_NOTIFY; the base URL
	// can be set explicitly.
	if err := e.sb.VoidShipment(out[1].ShipmentID); err != nil {
		t.Fatal(err)
	}
	e.sb.SetShipStationBaseURL("https://ss.sandbox.test/")
	re, err := e.sb.Relabel(out[1].ShipmentID)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	got = rec.all()
	if len(got) != 2 || !strings.Contains(string(got[1].body), fmt.Sprintf(`"https://ss.sandbox.test/shipments?batchId=%d&includeShipmentItems=False"`, re.BatchID)) {
		t.Fatalf("after void+relabel: %d deliveries, last %s", len(got), got[len(got)-1].body)
	}
	var payload SSWebhookPayload
	if err := json.Unmarshal(got[1].body, &payload); err != nil || payload.ResourceType != "SHIP_NOTIFY" {
		t.Fatalf("payload: %v %+v", err, payload)
	}

	// ITEM_SHIP_NOTIFY points at the items; a store-filtered hook stays quiet
	// for other stores; unsubscribing stops SHIP_NOTIFY.
	items := newReceiver(t, nil)
	if _, err := e.sb.AddShipStationWebhook(items.srv.URL, "ITEM_SHIP_NOTIFY"); err != nil {
		t.Fatal(err)
	}
	other := newReceiver(t, nil)
	e.sb.SetShipStationBaseURL("")
	if r := e.ssDo("POST", "/webhooks/subscribe", map[string]any{"target_url": other.srv.URL, "event": "SHIP_NOTIFY", "store_id": 999}); r.status != 201 {
		t.Fatalf("store hook: %d", r.status)
	}
	if r := e.ssDo("DELETE", fmt.Sprintf("/webhooks/%d", int64(id)), nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.ssDo("DELETE", fmt.Sprintf("/webhooks/%d", int64(id)), nil); r.status != 404 {
		t.Errorf("second delete: %d", r.status)
	}
	putSSOrder(t, e.sb, "2003", "bigcommerce:2003", nil)
	s3, err := e.sb.ShipOrder("bigcommerce:2003", nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	if len(rec.all()) != 2 || other.callCount() != 0 {
		t.Errorf("unsubscribed or other-store hook called: %d %d", len(rec.all()), other.callCount())
	}
	if g := items.all(); len(g) != 1 || string(g[0].body) != fmt.Sprintf(`{"resource_url":"%s/shipments?batchId=%d&includeShipmentItems=True","resource_type":"ITEM_SHIP_NOTIFY"}`, e.ss.URL, s3[0].BatchID) {
		t.Errorf("ITEM_SHIP_NOTIFY: %v", g)
	}
	st := e.sb.Stats()
	if st.ShipStation.Webhooks.Sent != 3 || st.ShipStation.WebhookSubscriptions != 2 || st.BigCommerce.Webhooks.Events != 0 {
		t.Errorf("stats: %+v / %+v", st.ShipStation.Webhooks, st.BigCommerce.Webhooks)
	}
	if log := e.sb.ShipStationWebhookLog(); len(log) != 3 || log[0].Scope == "" || len(e.sb.WebhookLog()) != 0 {
		t.Errorf("logs: %d ss, %d bc", len(log), len(e.sb.WebhookLog()))
	}
}

func TestShipNotifyDropAndDuplicate(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{ShipStationFaults: Faults{WebhookDropRate: 1}})
	if _, err := e.sb.AddShipStationWebhook(rec.srv.URL, "SHIP_NOTIFY"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		k := fmt.Sprintf("d%d", i)
		putSSOrder(t, e.sb, k, k, nil)
		if _, err := e.sb.ShipOrder(k, nil, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, e.sb)
	if rec.callCount() != 0 {
		t.Fatalf("dropped webhooks delivered: %d", rec.callCount())
	}
	e.sb.SetShipStationFaults(Faults{WebhookDuplicateRate: 1})
	putSSOrder(t, e.sb, "dup", "dup", nil)
	out, err := e.sb.ShipOrder("dup", nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	got := rec.all()
	if len(got) != 2 || string(got[0].body) != string(got[1].body) || !strings.Contains(string(got[0].body), fmt.Sprintf("batchId=%d", out[0].BatchID)) {
		t.Fatalf("duplicate: %v", got)
	}
	st := e.sb.Stats().ShipStation.Webhooks
	if st.Dropped != 3 || st.Duplicated != 1 || st.Sent != 2 || st.Events != 4 {
		t.Errorf("stats %+v", st)
	}
	if e.sb.Stats().BigCommerce.Webhooks.Events != 0 {
		t.Error("SHIP_NOTIFY counted as a BigCommerce webhook")
	}
}

func TestWarehouseGoroutine(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{WarehouseEnabled: true, WarehouseDelay: 40 * time.Millisecond})
	if _, err := e.sb.AddShipStationWebhook(rec.srv.URL, "SHIP_NOTIFY"); err != nil {
		t.Fatal(err)
	}
	// Pushed through the API, as shiprelay does.
	if r := e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("3001", "bigcommerce:3001")}); r.status != 200 {
		t.Fatalf("createorders: %d", r.status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.callCount() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := rec.all()
	if len(got) != 1 || !strings.HasPrefix(string(got[0].body), `{"resource_url":"`+e.ss.URL+"/shipments?batchId=") {
		t.Fatalf("SHIP_NOTIFY from the warehouse: %v", got)
	}
	if o, _ := e.sb.ShipStationOrder("bigcommerce:3001"); o.OrderStatus != "shipped" {
		t.Errorf("order %s", o.OrderStatus)
	}
	// Paused: nothing ships.
	e.sb.SetWarehouseEnabled(false)
	putSSOrder(t, e.sb, "3002", "bigcommerce:3002", nil)
	time.Sleep(120 * time.Millisecond)
	if o, _ := e.sb.ShipStationOrder("bigcommerce:3002"); o.OrderStatus != "awaiting_shipment" {
		t.Errorf("paused warehouse shipped: %s", o.OrderStatus)
	}
	e.sb.Close()
	e.sb.Close()
	e.sb.SetWarehouseEnabled(true) // after Close: no goroutine, no panic
}

func TestWarehouseStartedLater(t *testing.T) {
	e := newEnv(t, Options{TimeScale: 100}) // default delay 2 s / 100 = 20 ms
	if e.sb.WarehouseDelay() != 20*time.Millisecond || e.sb.WarehouseEnabled() {
		t.Fatalf("defaults: %v %v", e.sb.WarehouseDelay(), e.sb.WarehouseEnabled())
	}
	putSSOrder(t, e.sb, "4001", "4001", nil)
	r := e.adminDo(e.ss, "PUT", "/_sandbox/warehouse", map[string]any{"enabled": true, "split_rate": 1})
	if r.status != 200 || !strings.Contains(string(r.body), `"enabled":true`) || !strings.Contains(string(r.body), `"split_rate":1`) {
		t.Fatalf("admin warehouse: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sb.ShipStationShipments()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(e.sb.ShipStationShipments()); n < 2 {
		t.Fatalf("split by the goroutine: %d shipments", n)
	}
	for _, bad := range []map[string]any{{"void_rate": 2}, {"delay_ms": -1}} {
		if r := e.adminDo(e.ss, "PUT", "/_sandbox/warehouse", bad); r.status != 400 {
			t.Errorf("%v: %d", bad, r.status)
		}
	}
}

func TestShipmentAdminEndpoints(t *testing.T) {
	clk := newFakeClock()
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Now: clk.Now, WarehouseDelay: time.Minute})
	if r := e.adminDo(e.ss, "POST", "/_sandbox/webhooks", map[string]any{"target_url": rec.srv.URL}); r.status != 201 {
		t.Fatalf("admin subscribe: %d %s", r.status, r.body)
	}
	putSSOrder(t, e.sb, "5001", "k1", nil)
	putSSOrder(t, e.sb, "5002", "k2", nil)
	r := e.adminDo(e.ss, "POST", "/_sandbox/shipments", map[string]any{"order_key": "k1", "carrier_code": "fedex",
		"packages": [][]map[string]any{{{"line_item_key": "1", "quantity": 2}}, {{"line_item_key": "2", "quantity": 1}}}})
	var made []SSShipment
	r.json(t, &made)
	if r.status != 201 || len(made) != 2 || made[0].CarrierCode != "fedex" {
		t.Fatalf("admin ship: %d %s", r.status, r.body)
	}
	if r := e.adminDo(e.ss, "POST", "/_sandbox/shipments", map[string]any{"order_key": "k1"}); r.status != 400 {
		t.Errorf("ship a shipped order: %d", r.status)
	}
	if r := e.adminDo(e.ss, "POST", fmt.Sprintf("/_sandbox/shipments/%d/void", made[0].ShipmentID), nil); r.status != 200 {
		t.Fatalf("void: %d %s", r.status, r.body)
	}
	if r := e.adminDo(e.ss, "POST", fmt.Sprintf("/_sandbox/shipments/%d/relabel", made[0].ShipmentID), nil); r.status != 201 {
		t.Fatalf("relabel: %d %s", r.status, r.body)
	}
	clk.Advance(time.Minute)
	r = e.adminDo(e.ss, "POST", "/_sandbox/warehouse/tick", nil)
	r.json(t, &made)
	if r.status != 200 || len(made) != 1 || made[0].OrderKey != "k2" {
		t.Fatalf("tick: %d %s", r.status, r.body)
	}
	r = e.adminDo(e.ss, "GET", "/_sandbox/shipments?order_key=k1", nil)
	var list []SSShipment
	r.json(t, &list)
	if len(list) != 3 || !list[0].Voided || len(list[0].ShipmentItems) != 1 {
		t.Fatalf("admin list: %s", r.body)
	}
	r = e.adminDo(e.ss, "POST", "/_sandbox/webhooks/flush?timeout_ms=5000", nil)
	if r.status != 200 || rec.callCount() != 3 {
		t.Fatalf("flush: %d, %d calls", r.status, rec.callCount())
	}
	r = e.adminDo(e.ss, "GET", "/_sandbox/webhooks/log", nil)
	var log []WebhookDelivery
	r.json(t, &log)
	if len(log) != 3 || log[0].Scope != "SHIP_NOTIFY" || !log[0].Delivered {
		t.Errorf("log: %s", r.body)
	}
	r = e.adminDo(e.ss, "GET", "/_sandbox/stats", nil)
	var st Stats
	r.json(t, &st)
	if st.ShipStation.Shipments != 4 || st.ShipStation.ShipmentsCreated != 4 || st.ShipStation.ShipmentsVoided != 1 ||
		st.ShipStation.Batches != 3 || st.ShipStation.Webhooks.Sent != 3 {
		t.Errorf("stats: %s", r.body)
	}
	if r := e.adminDo(e.ss, "GET", "/_sandbox/warehouse", nil); !strings.Contains(string(r.body), `"delay_ms":60000`) {
		t.Errorf("warehouse view: %s", r.body)
	}
}

func TestBCShipmentUpdateDeleteAndWebhooks(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Webhooks: []WebhookDestination{{URL: rec.srv.URL, Scopes: []string{"store/shipment/*"}}}})
	sp := simpleSpec(2)
	sp.ShippingAddresses = append(sp.ShippingAddresses, sp.ShippingAddresses[0])
	sp.Lines = append(sp.Lines, LineSpec{ProductID: 200, Name: "Gift", Quantity: 1, UnitPriceCents: 900, AddressIndex: 1})
	o, err := e.sb.CreateOrder(sp)
	if err != nil {
		t.Fatal(err)
	}
	a0, a1 := o.ShippingAddresses[0].ID, o.ShippingAddresses[1].ID
	post := func(addr, line, qty int) resp {
		return e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), map[string]any{
			"order_address_id": addr, "tracking_number": "9400111899223344556677", "shipping_provider": "usps", "tracking_carrier": "usps",
			"items": []map[string]int{{"order_product_id": line, "quantity": qty}}})
	}
	r := post(a0, o.Lines[0].ID, 3)
	var errs []bcV2Error
	if r.status != 400 || json.Unmarshal(r.body, &errs) != nil || len(errs) != 1 || errs[0].Status != 400 || !strings.Contains(errs[0].Message, "greater than the quantity remaining to be shipped (2)") {
		t.Fatalf("over-ship: %d %s", r.status, r.body)
	}
	if r := post(a1, o.Lines[0].ID, 1); r.status != 400 || !strings.Contains(string(r.body), "is not shipped to order address") {
		t.Fatalf("wrong address: %d %s", r.status, r.body)
	}
	r = post(a0, o.Lines[0].ID, 2)
	if r.status != 201 {
		t.Fatalf("ship: %d %s", r.status, r.body)
	}
	var sh map[string]any
	r.json(t, &sh)
	sid := int(sh["id"].(float64))
	if sh["tracking_number"] != "9400111899223344556677" || sh["shipping_provider"] != "usps" || sh["tracking_carrier"] != "usps" {
		t.Errorf("stored fields: %s", r.body)
	}
	if got, _ := e.sb.Order("", o.ID); got.StatusID != StatusPartiallyShipped {
		t.Errorf("status %d", got.StatusID)
	}

	// PUT: update tracking.
	path := fmt.Sprintf("/v2/orders/%d/shipments/%d", o.ID, sid)
	r = e.bcDo("PUT", path, map[string]any{"tracking_number": "1Z999AA10123456784", "shipping_provider": "ups", "tracking_carrier": "ups", "merchant_shipping_cost": "7.5"})
	r.json(t, &sh)
	if r.status != 200 || sh["tracking_number"] != "1Z999AA10123456784" || sh["shipping_provider"] != "ups" || sh["merchant_shipping_cost"] != "7.5000" ||
		!strings.Contains(sh["generated_tracking_link"].(string), "ups.com") || len(sh["items"].([]any)) != 1 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if got := e.sb.Shipments("", o.ID); got[0].TrackingNumber != "1Z999AA10123456784" || got[0].TrackingCarrier != "ups" {
		t.Errorf("stored after put: %+v", got[0])
	}
	for _, bad := range []map[string]any{{"order_address_id": a1}, {"order_address_id": 999}, {"tracking_number": strings.Repeat("1", 51)}} {
		if r := e.bcDo("PUT", path, bad); r.status != 400 {
			t.Errorf("put %v: %d", bad, r.status)
		}
	}
	if r := e.bcDo("PUT", fmt.Sprintf("/v2/orders/%d/shipments/999", o.ID), map[string]any{"tracking_number": "x"}); r.status != 404 {
		t.Errorf("put unknown: %d", r.status)
	}

	// DELETE: the items are shippable again, the status stays.
	if r := e.bcDo("DELETE", path, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	got, _ := e.sb.Order("", o.ID)
	if got.Lines[0].QuantityShipped != 0 || got.StatusID != StatusPartiallyShipped || len(e.sb.Shipments("", o.ID)) != 0 {
		t.Errorf("after delete: shipped %d status %d", got.Lines[0].QuantityShipped, got.StatusID)
	}
	if r := e.bcDo("DELETE", path, nil); r.status != 404 {
		t.Errorf("delete twice: %d", r.status)
	}
	if r := post(a0, o.Lines[0].ID, 2); r.status != 201 {
		t.Fatalf("reship: %d", r.status)
	}
	if r := post(a1, o.Lines[1].ID, 1); r.status != 201 {
		t.Fatalf("second address: %d", r.status)
	}
	if got, _ := e.sb.Order("", o.ID); got.StatusID != StatusShipped {
		t.Errorf("status %d", got.StatusID)
	}
	if r := e.bcDo("DELETE", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), nil); r.status != 204 || len(e.sb.Shipments("", o.ID)) != 0 || e.sb.Stats().BigCommerce.Shipments != 0 {
		t.Fatalf("delete all: %d", r.status)
	}

	flush(t, e.sb)
	var scopes []string
	for _, g := range rec.all() {
		var p WebhookPayload
		_ = json.Unmarshal(g.body, &p)
		scopes = append(scopes, p.Scope)
	}
	sort.Strings(scopes)
	want := []string{"store/shipment/created", "store/shipment/created", "store/shipment/created", "store/shipment/deleted", "store/shipment/deleted", "store/shipment/deleted", "store/shipment/updated"}
	if !reflect.DeepEqual(scopes, want) {
		t.Errorf("shipment webhooks: %v", scopes)
	}

	// Rate limit and injected faults apply to shipments too.
	e.sb.SetBigCommerceFaults(Faults{Rate5xx: 1})
	if r := post(a0, o.Lines[0].ID, 1); r.status < 500 || len(e.sb.Shipments("", o.ID)) != 0 {
		t.Errorf("injected 5xx: %d", r.status)
	}
	e.sb.SetBigCommerceFaults(Faults{})
	e.sb.SetBigCommerceRateLimit(1, time.Minute)
	post(a0, o.Lines[0].ID, 1)
	if r := e.bcDo("PUT", path, map[string]any{"tracking_number": "x"}); r.status != 429 {
		t.Errorf("rate limit: %d", r.status)
	}
}

func TestContractShipmentUpdate(t *testing.T) {
	doc := loadSpec(t, "orders.v2.oas2.yml")
	e := newEnv(t, Options{})
	o, err := e.sb.CreateOrder(simpleSpec(2))
	if err != nil {
		t.Fatal(err)
	}
	r := e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), map[string]any{"order_address_id": o.ShippingAddresses[0].ID,
		"items": []map[string]int{{"order_product_id": o.Lines[0].ID, "quantity": 1}}})
	var sh map[string]any
	r.json(t, &sh)
	params := map[string]string{"order_id": fmt.Sprint(o.ID), "shipment_id": fmt.Sprint(int(sh["id"].(float64)))}
	body := map[string]any{"tracking_number": "EJ958083578US", "merchant_shipping_cost": "1.0000", "order_address_id": o.ShippingAddresses[0].ID, "shipping_provider": "usps"}
	url := fmt.Sprintf("%s/stores/%s/v2/orders/%d/shipments/%s", e.bc.URL, DefaultStoreHash, o.ID, params["shipment_id"])
	req := newReq(t, "PUT", url, body)
	req.Header.Set("X-Auth-Token", DefaultBigCommerceToken)
	validateRequest(t, doc, req, "/orders/{order_id}/shipments/{shipment_id}", params)
	req = newReq(t, "PUT", url, body)
	req.Header.Set("X-Auth-Token", DefaultBigCommerceToken)
	r = do(t, req)
	if r.status != http.StatusOK {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	validateResponse(t, doc, "PUT", "/orders/{order_id}/shipments/{shipment_id}", params, r)
}

// With WarehouseBatches, one pass labels every ready order in one batch:
// one SHIP_NOTIFY whose resource lists all of them.
func TestWarehouseBatchesOnePassOneNotify(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now, Seed: 3, WarehouseDelay: time.Minute, WarehouseBatches: true})
	for i := range 4 {
		key := fmt.Sprintf("b%d", i)
		putSSOrder(t, e.sb, key, key, nil)
	}
	clk.Advance(time.Minute)
	shipped := e.sb.WarehouseTick()
	if len(shipped) < 4 {
		t.Fatalf("shipped %d labels, want ≥4", len(shipped))
	}
	for _, sh := range shipped {
		if sh.BatchID != shipped[0].BatchID {
			t.Fatalf("labels of one pass in batches %d and %d", shipped[0].BatchID, sh.BatchID)
		}
	}
	if got := e.sb.Stats().ShipStation.Batches; got != 1 {
		t.Fatalf("batches = %d, want 1", got)
	}
}
