package sandbox

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ssOrderBody is a valid createorder body (api-contracts §1.3 fields).
func ssOrderBody(number, key string) map[string]any {
	return map[string]any{
		"orderNumber":      number,
		"orderKey":         key,
		"orderDate":        "2026-11-21T17:03:20Z",
		"paymentDate":      "2026-11-21 09:04:00",
		"orderStatus":      "awaiting_shipment",
		"customerUsername": "ottoline.testx@example.com",
		"customerEmail":    "ottoline.testx@example.com",
		"billTo":           map[string]any{"name": "Ottoline Quillfeather-TESTX"},
		"shipTo": map[string]any{
			"name": "Ottoline Quillfeather-TESTX", "street1": "12 Larkspur Hollow", "city": "Austin", "state": "TX",
			"postalCode": "78701", "country": "US", "phone": "+1 512-555-0100", "residential": true,
		},
		"items": []map[string]any{
			{"lineItemKey": "1", "sku": "MUG-BLK-11", "name": "Black Ceramic Mug 11oz", "quantity": 2, "unitPrice": 15.99, "options": []map[string]string{{"name": "Size", "value": "M"}}},
			{"lineItemKey": "2", "sku": "NB-DOT-A5", "name": "Dot Grid Notebook A5", "quantity": 1, "unitPrice": "12.50"},
		},
		"amountPaid":     48.66,
		"taxAmount":      2.19,
		"shippingAmount": 5.99,
		"advancedOptions": map[string]any{
			"storeId": 22766, "customField1": number, "customField2": "bigcommerce", "source": "bigcommerce",
		},
	}
}

type createOrdersResp struct {
	HasErrors bool `json:"hasErrors"`
	Results   []struct {
		OrderID      int64   `json:"orderId"`
		OrderNumber  *string `json:"orderNumber"`
		OrderKey     *string `json:"orderKey"`
		Success      bool    `json:"success"`
		ErrorMessage *string `json:"errorMessage"`
	} `json:"results"`
}

func TestSSAuth(t *testing.T) {
	e := newEnv(t, Options{})
	r := do(t, newReq(t, "GET", e.ss.URL+"/orders", nil))
	if r.status != 401 || !strings.Contains(string(r.body), "Authorization has been denied") {
		t.Fatalf("no auth: %d %s", r.status, r.body)
	}
	req := newReq(t, "GET", e.ss.URL+"/orders", nil)
	req.SetBasicAuth(DefaultShipStationKey, "wrong")
	if r := do(t, req); r.status != 401 {
		t.Fatalf("bad secret: %d", r.status)
	}
	if r := e.ssDo("GET", "/orders", nil); r.status != 200 {
		t.Fatalf("good auth: %d", r.status)
	}
}

func TestSSUpsertByOrderKey(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	body := ssOrderBody("100", "bigcommerce:abc123xyz:100")
	r := e.ssDo("POST", "/orders/createorders", []any{body})
	var res createOrdersResp
	r.json(t, &res)
	if r.status != 200 || res.HasErrors || len(res.Results) != 1 || !res.Results[0].Success || res.Results[0].ErrorMessage != nil || res.Results[0].OrderID == 0 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	firstID := res.Results[0].OrderID
	created := clk.Now()
	clk.Advance(time.Minute)

	body["internalNotes"] = "second push"
	body["advancedOptions"].(map[string]any)["storeId"] = 99999 // ignored on update
	r = e.ssDo("POST", "/orders/createorders", []any{body})
	r.json(t, &res)
	if res.HasErrors || res.Results[0].OrderID != firstID {
		t.Fatalf("upsert: %s", r.body)
	}
	orders := e.sb.ShipStationOrders()
	if len(orders) != 1 {
		t.Fatalf("%d orders after upsert, want 1", len(orders))
	}
	o := orders[0]
	if o.InternalNotes == nil || *o.InternalNotes != "second push" || o.StoreID() != 22766 {
		t.Errorf("update not applied or storeId changed: notes %v store %d", o.InternalNotes, o.StoreID())
	}
	if at := e.sb.ShipStationCreatedAt()["bigcommerce:abc123xyz:100"]; !at.Equal(created) {
		t.Errorf("created-at %v, want %v", at, created)
	}
	// Single createorder with the same key returns the full order, still one order.
	r = e.ssDo("POST", "/orders/createorder", body)
	var single SSOrder
	r.json(t, &single)
	if r.status != 200 || single.OrderID != firstID || single.OrderKey != "bigcommerce:abc123xyz:100" {
		t.Fatalf("createorder: %d %s", r.status, r.body)
	}
	st := e.sb.Stats().ShipStation
	if st.Orders != 1 || st.Created != 1 || st.Updated != 2 || st.Duplicates != 0 {
		t.Fatalf("stats: %+v", st)
	}
	infos := e.sb.ShipStationOrderInfos()
	if len(infos) != 1 || infos[0].Updates != 2 || !infos[0].ModifiedAt.After(infos[0].CreatedAt) {
		t.Fatalf("infos: %+v", infos)
	}

	// Without orderKey ShipStation generates one: a new order every time.
	delete(body, "orderKey")
	body["orderNumber"] = "101"
	body["advancedOptions"].(map[string]any)["customField1"] = "101"
	e.ssDo("POST", "/orders/createorder", body)
	e.ssDo("POST", "/orders/createorder", body)
	if n := len(e.sb.ShipStationOrders()); n != 3 {
		t.Fatalf("%d orders, want 3", n)
	}
	rep := e.sb.ShipStationDuplicates()
	if rep.ByOrderNumber != 1 || rep.BySource != 1 || rep.Total != 2 || len(rep.Groups) != 2 {
		t.Fatalf("duplicates: %+v", rep)
	}
	if st := e.sb.Stats().ShipStation; st.Duplicates != 2 {
		t.Fatalf("stats duplicates %d", st.Duplicates)
	}
}

func TestSSClosedOrdersCannotBeUpdated(t *testing.T) {
	e := newEnv(t, Options{})
	body := ssOrderBody("200", "k200")
	e.ssDo("POST", "/orders/createorders", []any{body})
	if err := e.sb.SetShipStationOrderStatus("k200", "shipped"); err != nil {
		t.Fatal(err)
	}
	other := ssOrderBody("201", "k201")
	r := e.ssDo("POST", "/orders/createorders", []any{body, other})
	var res createOrdersResp
	r.json(t, &res)
	if r.status != 200 || !res.HasErrors || res.Results[0].Success || res.Results[0].ErrorMessage == nil || !strings.Contains(*res.Results[0].ErrorMessage, "shipped") || !res.Results[1].Success {
		t.Fatalf("mixed: %d %s", r.status, r.body)
	}
	if *res.Results[0].OrderKey != "k200" || *res.Results[0].OrderNumber != "200" {
		t.Errorf("failed result does not echo the order: %s", r.body)
	}
	r = e.ssDo("POST", "/orders/createorder", body)
	if r.status != 400 || !strings.Contains(string(r.body), "cannot be updated") {
		t.Fatalf("single update of shipped: %d %s", r.status, r.body)
	}
	// Cancelled via admin.
	r = e.adminDo(e.ss, "POST", "/_sandbox/orders/status", map[string]string{"order_key": "k201", "order_status": "cancelled"})
	if r.status != 200 {
		t.Fatalf("admin status: %d %s", r.status, r.body)
	}
	if r := e.ssDo("POST", "/orders/createorder", other); r.status != 400 {
		t.Fatalf("update of cancelled: %d", r.status)
	}
}

func TestSSValidation(t *testing.T) {
	e := newEnv(t, Options{})
	mk := func(mut func(m map[string]any)) map[string]any {
		m := ssOrderBody("300", "")
		delete(m, "orderKey")
		mut(m)
		return m
	}
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"no orderNumber", mk(func(m map[string]any) { delete(m, "orderNumber") }), "orderNumber field is required"},
		{"long orderNumber", mk(func(m map[string]any) { m["orderNumber"] = strings.Repeat("9", 51) }), "maximum length of 50"},
		{"no orderDate", mk(func(m map[string]any) { delete(m, "orderDate") }), "orderDate field is required"},
		{"bad orderDate", mk(func(m map[string]any) { m["orderDate"] = "soon" }), "not valid for orderDate"},
		{"bad status", mk(func(m map[string]any) { m["orderStatus"] = "open" }), "not a valid orderStatus"},
		{"no billTo", mk(func(m map[string]any) { delete(m, "billTo") }), "billTo field is required"},
		{"no shipTo", mk(func(m map[string]any) { delete(m, "shipTo") }), "shipTo field is required"},
		{"country name", mk(func(m map[string]any) { m["shipTo"].(map[string]any)["country"] = "United States" }), "two-letter ISO"},
		{"no country", mk(func(m map[string]any) { delete(m["shipTo"].(map[string]any), "country") }), "country field is required"},
		{"item without name", mk(func(m map[string]any) { m["items"].([]map[string]any)[0]["name"] = "" }), "name field is required"},
		{"item quantity 0", mk(func(m map[string]any) { m["items"].([]map[string]any)[0]["quantity"] = 0 }), "at least 1"},
		{"quantity not a number", mk(func(m map[string]any) { m["items"].([]map[string]any)[0]["quantity"] = "two" }), "could not be read"},
	}
	var batch []any
	for _, c := range cases {
		batch = append(batch, c.body)
	}
	batch = append(batch, ssOrderBody("399", "good"))
	r := e.ssDo("POST", "/orders/createorders", batch)
	var res createOrdersResp
	r.json(t, &res)
	if r.status != 200 || !res.HasErrors || len(res.Results) != len(cases)+1 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	for i, c := range cases {
		got := res.Results[i]
		if got.Success || got.OrderID != 0 || got.ErrorMessage == nil || !strings.Contains(*got.ErrorMessage, c.want) {
			t.Errorf("%s: %+v (%v)", c.name, got, derefStr(got.ErrorMessage))
		}
	}
	if !res.Results[len(cases)].Success {
		t.Errorf("valid order in the batch failed: %v", derefStr(res.Results[len(cases)].ErrorMessage))
	}
	if n := len(e.sb.ShipStationOrders()); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}
	if st := e.sb.Stats().ShipStation; st.Rejected != int64(len(cases)) {
		t.Errorf("rejected %d, want %d", st.Rejected, len(cases))
	}

	// Single createorder: 400 with ModelState.
	r = e.ssDo("POST", "/orders/createorder", cases[7].body)
	var msg ssMessage
	r.json(t, &msg)
	if r.status != 400 || msg.Message != "The request is invalid." || len(msg.ModelState["apiOrder.shipTo.country"]) != 1 {
		t.Errorf("createorder invalid: %d %s", r.status, r.body)
	}

	// Whole-request errors.
	var big []any
	for i := range 101 {
		big = append(big, ssOrderBody(strconv.Itoa(i), "b"+strconv.Itoa(i)))
	}
	if r := e.ssDo("POST", "/orders/createorders", big); r.status != 400 || !strings.Contains(string(r.body), "maximum of 100") {
		t.Errorf("101 orders: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"", "{", `{"orderNumber":"1"}`, "[1,2", "null garbage"} {
		r := e.ssDo("POST", "/orders/createorders", bad)
		if r.status != 400 || !strings.Contains(string(r.body), "Message") {
			t.Errorf("body %q: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.ssDo("POST", "/orders/createorder", "[1]"); r.status != 400 || !strings.Contains(string(r.body), "could not be read") {
		t.Errorf("createorder with array: %d %s", r.status, r.body)
	}
	if r := e.ssDo("POST", "/orders/createorders", []any{42, "x"}); r.status != 200 || !strings.Contains(string(r.body), `"hasErrors":true`) {
		t.Errorf("non-object orders: %d %s", r.status, r.body)
	}
}

func derefStr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

var ssDateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$`)

// TestSSOrderShape checks the response shape against api-contracts §1.3 by
// hand (ShipStation V1 has no machine-readable spec here).
func TestSSOrderShape(t *testing.T) {
	clk := newFakeClock() // 2026-11-21 17:03:20 UTC = 09:03:20 PST
	e := newEnv(t, Options{Now: clk.Now})
	r := e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("100", "bigcommerce:abc:100")})
	var res createOrdersResp
	r.json(t, &res)
	r = e.ssDo("GET", fmt.Sprintf("/orders/%d", res.Results[0].OrderID), nil)
	if r.status != 200 {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	var m map[string]any
	r.json(t, &m)
	type kind int
	const (
		str kind = iota
		num
		boolean
		obj
		arr
		null
		strOrNull
		numOrNull
	)
	check := func(where string, m map[string]any, fields map[string]kind) {
		t.Helper()
		for f, k := range fields {
			v, ok := m[f]
			if !ok {
				t.Errorf("%s.%s missing", where, f)
				continue
			}
			good := false
			switch k {
			case str:
				_, good = v.(string)
			case num:
				_, good = v.(float64)
			case boolean:
				_, good = v.(bool)
			case obj:
				_, good = v.(map[string]any)
			case arr:
				_, good = v.([]any)
			case null:
				good = v == nil
			case strOrNull:
				_, good = v.(string)
				good = good || v == nil
			case numOrNull:
				_, good = v.(float64)
				good = good || v == nil
			}
			if !good {
				t.Errorf("%s.%s = %#v has the wrong JSON type", where, f, v)
			}
		}
	}
	check("order", m, map[string]kind{
		"orderId": num, "orderNumber": str, "orderKey": str, "orderDate": str, "createDate": str, "modifyDate": str,
		"paymentDate": str, "shipByDate": null, "orderStatus": str, "customerId": num, "customerUsername": str, "customerEmail": str,
		"billTo": obj, "shipTo": obj, "items": arr, "orderTotal": num, "amountPaid": num, "taxAmount": num, "shippingAmount": num,
		"customerNotes": strOrNull, "internalNotes": strOrNull, "gift": boolean, "giftMessage": strOrNull, "paymentMethod": strOrNull,
		"requestedShippingService": strOrNull, "carrierCode": strOrNull, "serviceCode": strOrNull, "packageCode": strOrNull,
		"confirmation": strOrNull, "shipDate": strOrNull, "holdUntilDate": strOrNull, "weight": obj, "dimensions": null,
		"insuranceOptions": obj, "internationalOptions": obj, "advancedOptions": obj, "tagIds": null, "userId": null,
		"externallyFulfilled": boolean, "externallyFulfilledBy": strOrNull,
	})
	check("shipTo", m["shipTo"].(map[string]any), map[string]kind{
		"name": str, "company": strOrNull, "street1": str, "street2": strOrNull, "street3": strOrNull, "city": str, "state": str,
		"postalCode": str, "country": str, "phone": str, "residential": boolean, "addressVerified": str,
	})
	items := m["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("items: %v", items)
	}
	check("items[0]", items[0].(map[string]any), map[string]kind{
		"orderItemId": num, "lineItemKey": str, "sku": str, "name": str, "imageUrl": strOrNull, "weight": null, "quantity": num,
		"unitPrice": num, "taxAmount": numOrNull, "shippingAmount": numOrNull, "warehouseLocation": strOrNull, "options": arr,
		"productId": numOrNull, "fulfillmentSku": strOrNull, "adjustment": boolean, "upc": strOrNull, "createDate": str, "modifyDate": str,
	})
	check("advancedOptions", m["advancedOptions"].(map[string]any), map[string]kind{
		"warehouseId": numOrNull, "nonMachinable": boolean, "saturdayDelivery": boolean, "containsAlcohol": boolean,
		"mergedOrSplit": boolean, "mergedIds": arr, "parentId": numOrNull, "storeId": num, "customField1": str,
		"customField2": str, "customField3": strOrNull, "source": str, "billToParty": strOrNull,
	})
	check("weight", m["weight"].(map[string]any), map[string]kind{"value": num, "units": str, "WeightUnits": num})
	for _, f := range []string{"orderDate", "createDate", "modifyDate", "paymentDate"} {
		if !ssDateRE.MatchString(m[f].(string)) {
			t.Errorf("%s = %q is not ShipStation's date format", f, m[f])
		}
	}
	// Pacific time: 17:03:20Z is 09:03:20 PST; a zone-less date is already Pacific.
	if m["orderDate"] != "2026-11-21T09:03:20.0000000" || m["createDate"] != "2026-11-21T09:03:20.0000000" || m["paymentDate"] != "2026-11-21T09:04:00.0000000" {
		t.Errorf("dates: order %v create %v payment %v", m["orderDate"], m["createDate"], m["paymentDate"])
	}
	// orderTotal = 2*15.99 + 12.50 + 5.99 shipping + 2.19 tax.
	if m["orderTotal"] != 52.66 {
		t.Errorf("orderTotal %v", m["orderTotal"])
	}
	if r := e.ssDo("GET", "/orders/987654", nil); r.status != 404 {
		t.Errorf("missing order: %d", r.status)
	}
	if r := e.ssDo("GET", "/orders/abc", nil); r.status != 404 {
		t.Errorf("non-numeric order id: %d", r.status)
	}
}

func TestSSListOrders(t *testing.T) {
	e := newEnv(t, Options{})
	var batch []any
	for i := range 30 {
		b := ssOrderBody(fmt.Sprintf("A-%03d", i), fmt.Sprintf("k%d", i))
		if i%3 == 0 {
			b["orderStatus"] = "awaiting_payment"
		}
		if i >= 25 {
			b["orderNumber"] = fmt.Sprintf("B-%03d", i)
			b["advancedOptions"].(map[string]any)["storeId"] = 555
		}
		batch = append(batch, b)
	}
	e.ssDo("POST", "/orders/createorders", batch)
	type listResp struct {
		Orders []SSOrder `json:"orders"`
		Total  int       `json:"total"`
		Page   int       `json:"page"`
		Pages  int       `json:"pages"`
	}
	list := func(q string) listResp {
		t.Helper()
		r := e.ssDo("GET", "/orders?"+q, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		var lr listResp
		r.json(t, &lr)
		return lr
	}
	if lr := list(""); lr.Total != 30 || len(lr.Orders) != 30 || lr.Page != 1 || lr.Pages != 1 {
		t.Errorf("all: total %d len %d page %d pages %d", lr.Total, len(lr.Orders), lr.Page, lr.Pages)
	}
	if lr := list("pageSize=7&page=5"); lr.Total != 30 || len(lr.Orders) != 2 || lr.Pages != 5 || lr.Page != 5 {
		t.Errorf("paging: total %d len %d pages %d", lr.Total, len(lr.Orders), lr.Pages)
	}
	if lr := list("orderNumber=b-"); lr.Total != 5 {
		t.Errorf("orderNumber starts-with: %d", lr.Total)
	}
	if lr := list("orderNumber=A-00"); lr.Total != 10 {
		t.Errorf("orderNumber A-00: %d", lr.Total)
	}
	if lr := list("orderStatus=awaiting_payment"); lr.Total != 10 {
		t.Errorf("orderStatus: %d", lr.Total)
	}
	if lr := list("storeId=555"); lr.Total != 5 {
		t.Errorf("storeId: %d", lr.Total)
	}
	if lr := list("storeId=1"); lr.Total != 0 || lr.Pages != 0 || lr.Orders == nil {
		t.Errorf("no match: %+v", lr)
	}
	if lr := list("sortBy=CreateDate&sortDir=DESC&pageSize=1"); len(lr.Orders) != 1 {
		t.Errorf("sort: %+v", lr)
	}
	for _, bad := range []string{"pageSize=501", "pageSize=x", "page=0", "orderStatus=open", "storeId=x", "sortBy=Name", "createDateStart=tomorrow"} {
		if r := e.ssDo("GET", "/orders?"+bad, nil); r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
}

func TestSSRateLimit(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	for i := 1; i <= 40; i++ {
		r := e.ssDo("GET", "/orders", nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if r.header.Get("X-Rate-Limit-Limit") != "40" || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(40-i) || r.header.Get("X-Rate-Limit-Reset") != "60" {
			t.Fatalf("request %d headers: limit %s remaining %s reset %s", i, r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"), r.header.Get("X-Rate-Limit-Reset"))
		}
	}
	clk.Advance(19 * time.Second)
	r := e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("1", "k1")})
	if r.status != 429 || string(r.body) != `{"message":"Too Many Requests"}` {
		t.Fatalf("41st: %d %s", r.status, r.body)
	}
	if r.header.Get("X-Rate-Limit-Limit") != "40" || r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Reset") != "41" {
		t.Fatalf("429 headers: %v", r.header)
	}
	if len(e.sb.ShipStationOrders()) != 0 {
		t.Fatal("a rate-limited request had an effect")
	}
	// Another key pair has its own window.
	clk.Advance(41 * time.Second)
	if r := e.ssDo("GET", "/orders", nil); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != "39" {
		t.Fatalf("after reset: %d remaining %s", r.status, r.header.Get("X-Rate-Limit-Remaining"))
	}
	st := e.sb.Stats().ShipStation
	if st.RateLimited429 != 1 || st.Total429 != 1 || st.Requests != 42 {
		t.Fatalf("stats: %+v", st.ServerStats)
	}
}

func TestSSRateLimitPerKeyPairAndTimeScale(t *testing.T) {
	e := newEnv(t, Options{TimeScale: 200, ShipStationKeys: []KeyPair{{"k1", "s1"}, {"k2", "s2"}}}) // 60 s / 200 = 300 ms
	call := func(k, s string) resp {
		req := newReq(t, "GET", e.ss.URL+"/orders", nil)
		req.SetBasicAuth(k, s)
		return do(t, req)
	}
	for range 40 {
		call("k1", "s1")
	}
	if r := call("k1", "s1"); r.status != 429 {
		t.Fatalf("k1 41st: %d", r.status)
	}
	if r := call("k2", "s2"); r.status != 200 {
		t.Fatalf("k2 limited by k1's usage: %d", r.status)
	}
	time.Sleep(320 * time.Millisecond)
	if r := call("k1", "s1"); r.status != 200 {
		t.Fatalf("k1 after the scaled window: %d", r.status)
	}
	r := e.adminDo(e.ss, "GET", "/_sandbox/ratelimit", nil)
	if !strings.Contains(string(r.body), `"window_ms":300`) {
		t.Errorf("ratelimit view: %s", r.body)
	}
}

func TestSSInjectedFaults(t *testing.T) {
	e := newEnv(t, Options{ShipStationFaults: Faults{Rate429: 1}})
	r := e.ssDo("GET", "/orders", nil)
	if r.status != 429 || r.header.Get("X-Rate-Limit-Reset") == "" || string(r.body) != `{"message":"Too Many Requests"}` {
		t.Fatalf("injected 429: %d %v %s", r.status, r.header, r.body)
	}
	e.sb.SetShipStationFaults(Faults{RateLostResponse: 1})
	r = e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("1", "k1")})
	if r.status != 502 || len(e.sb.ShipStationOrders()) != 1 {
		t.Fatalf("lost response: %d, %d orders", r.status, len(e.sb.ShipStationOrders()))
	}
	// The client retries: the upsert keeps one order.
	e.sb.SetShipStationFaults(Faults{})
	e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("1", "k1")})
	if st := e.sb.Stats().ShipStation; st.Orders != 1 || st.Duplicates != 0 || st.LostResponses != 1 || st.Injected429 != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if got := e.sb.ShipStationFaults(); got.RateLostResponse != 0 {
		t.Errorf("faults getter: %+v", got)
	}
}

func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.adminDo(e.bc, "POST", "/_sandbox/orders", map[string]any{"count": 3})
	var created struct {
		Orders []BCOrder `json:"orders"`
	}
	r.json(t, &created)
	if r.status != 201 || len(created.Orders) != 3 {
		t.Fatalf("create orders: %d %s", r.status, r.body)
	}
	spec := simpleSpec(1)
	raw, _ := json.Marshal(spec)
	var specMap map[string]any
	_ = json.Unmarshal(raw, &specMap)
	delete(specMap, "status_id") // defaults to Awaiting Fulfillment here
	r = e.adminDo(e.bc, "POST", "/_sandbox/orders", map[string]any{"spec": specMap})
	r.json(t, &created)
	if r.status != 201 || created.Orders[0].StatusID != StatusAwaitingFulfillment {
		t.Fatalf("create from spec: %d %s", r.status, r.body)
	}
	id := created.Orders[0].ID
	r = e.adminDo(e.bc, "POST", fmt.Sprintf("/_sandbox/orders/%d", id), map[string]any{"status_id": StatusCancelled})
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if o, _ := e.sb.Order("", id); o.StatusID != StatusCancelled {
		t.Fatalf("status %d", o.StatusID)
	}
	for _, p := range []string{"/_sandbox/orders", "/_sandbox/shipments", "/_sandbox/webhooks", "/_sandbox/webhooks/log", "/_sandbox/pii", "/_sandbox/faults", "/_sandbox/ratelimit"} {
		if r := e.adminDo(e.bc, "GET", p, nil); r.status != 200 || !json.Valid(r.body) {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	r = e.adminDo(e.bc, "GET", "/_sandbox/pii", nil)
	if !strings.Contains(string(r.body), "Quillfeather-TESTX") {
		t.Errorf("pii: %s", r.body)
	}
	rec := newReceiver(t, nil)
	if r := e.adminDo(e.bc, "POST", "/_sandbox/webhooks", map[string]any{"url": rec.srv.URL, "headers": map[string]string{"X-Webhook-Secret": "x"}}); r.status != 201 {
		t.Fatalf("add webhook: %d %s", r.status, r.body)
	}
	if r := e.adminDo(e.bc, "POST", "/_sandbox/webhooks", map[string]any{"url": "ftp://nope"}); r.status != 400 {
		t.Errorf("bad webhook url: %d", r.status)
	}
	e.adminDo(e.bc, "POST", "/_sandbox/orders", map[string]any{"count": 2})
	if r := e.adminDo(e.bc, "POST", "/_sandbox/webhooks/flush?timeout_ms=5000", nil); r.status != 200 {
		t.Fatalf("flush: %d %s", r.status, r.body)
	}
	if len(rec.all()) != 2 {
		t.Errorf("admin-registered webhook got %d", len(rec.all()))
	}
	if r := e.adminDo(e.bc, "PUT", "/_sandbox/ratelimit", map[string]any{"quota": 3, "window_ms": 1000}); r.status != 200 || !strings.Contains(string(r.body), `"quota":3`) {
		t.Errorf("set ratelimit: %d %s", r.status, r.body)
	}
	if r := e.adminDo(e.bc, "POST", "/_sandbox/ratelimit/reset", nil); r.status != 200 {
		t.Errorf("reset: %d", r.status)
	}
	// Stats on both servers, same document.
	e.ssDo("POST", "/orders/createorders", []any{ssOrderBody("1", "k1")})
	for _, srv := range []string{e.bc.URL, e.ss.URL} {
		r := do(t, newReq(t, "GET", srv+"/_sandbox/stats", nil))
		var st Stats
		r.json(t, &st)
		if st.BigCommerce.Orders != 6 || st.ShipStation.Orders != 1 || st.BigCommerce.Webhooks.Sent != 2 {
			t.Errorf("stats from %s: %s", srv, r.body)
		}
		var raw map[string]map[string]any
		r.json(t, &raw)
		for _, k := range []string{"requests", "requests_by_route", "rate_limited_429", "injected_429", "total_429", "injected_5xx"} {
			if _, ok := raw["shipstation"][k]; !ok {
				t.Errorf("stats lack shipstation.%s", k)
			}
		}
		for _, k := range []string{"duplicates", "orders", "created"} {
			if _, ok := raw["shipstation"][k]; !ok {
				t.Errorf("stats lack shipstation.%s", k)
			}
		}
	}
	r = e.adminDo(e.ss, "GET", "/_sandbox/orders", nil)
	var infos []SSOrderInfo
	r.json(t, &infos)
	if len(infos) != 1 || infos[0].OrderKey != "k1" || infos[0].CreatedAt.IsZero() {
		t.Errorf("ss orders: %s", r.body)
	}
	if r := e.adminDo(e.ss, "GET", "/_sandbox/duplicates", nil); r.status != 200 || !strings.Contains(string(r.body), `"duplicates":0`) {
		t.Errorf("duplicates: %s", r.body)
	}
	if r := e.adminDo(e.ss, "GET", "/_sandbox/nothing", nil); r.status != 404 {
		t.Errorf("unknown admin path: %d", r.status)
	}
}

// TestBadInputNeverPanics throws malformed requests at every endpoint.
func TestBadInputNeverPanics(t *testing.T) {
	e := newEnv(t, Options{})
	o, _ := e.sb.CreateOrder(simpleSpec(1))
	bodies := []string{"", "{", "[]", "null", `{"items":[{"order_product_id":"x"}]}`, `{"order_address_id":-1,"items":[{}]}`, strings.Repeat("[", 10000), `"str"`, `{"scope":7}`}
	bcPaths := []string{"/v2/orders", "/v2/orders/count", fmt.Sprintf("/v2/orders/%d", o.ID), fmt.Sprintf("/v2/orders/%d/shipments", o.ID),
		fmt.Sprintf("/v2/orders/%d/products?page=-3&limit=-1", o.ID), "/v3/hooks", "/v3/hooks/1", "/v3/channels/x", "/v2/orders/1/shipments/x"}
	for _, p := range bcPaths {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			for _, b := range bodies {
				r := e.bcDo(m, p, b)
				if r.status >= 500 {
					t.Errorf("BC %s %s %q: %d %s", m, p, b, r.status, r.body)
				}
				if r.status >= 400 && !json.Valid(r.body) {
					t.Errorf("BC %s %s: error body is not JSON: %q", m, p, r.body)
				}
			}
		}
	}
	for _, p := range []string{"/orders", "/orders/createorder", "/orders/createorders", "/orders/1", "/orders?page=x", "/nothing"} {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			for _, b := range bodies {
				r := e.ssDo(m, p, b)
				if r.status >= 500 {
					t.Errorf("SS %s %s %q: %d %s", m, p, b, r.status, r.body)
				}
			}
		}
	}
	for _, p := range []string{"/_sandbox/faults", "/_sandbox/ratelimit", "/_sandbox/orders", "/_sandbox/orders/x", "/_sandbox/orders/1", "/_sandbox/webhooks", "/_sandbox/orders/status"} {
		for _, srv := range []string{e.bc.URL, e.ss.URL} {
			for _, b := range bodies {
				r := do(t, newReq(t, "POST", srv+p, b))
				if r.status >= 500 {
					t.Errorf("admin POST %s%s %q: %d %s", srv, p, b, r.status, r.body)
				}
			}
		}
	}
}

func TestSSTags(t *testing.T) {
	e := newEnv(t, Options{})
	// The V1 shape: a bare array of {tagId, name, color}.
	r := e.ssDo("GET", "/accounts/listtags", nil)
	if r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") == "" {
		t.Fatalf("listtags: %d %s", r.status, r.body)
	}
	var raw []map[string]any
	r.json(t, &raw)
	if len(raw) != 3 {
		t.Fatalf("default tags %s", r.body)
	}
	for _, tag := range raw {
		if len(tag) != 3 {
			t.Errorf("tag fields %v", tag)
		}
		if _, ok := tag["tagId"].(float64); !ok {
			t.Errorf("tagId %v", tag["tagId"])
		}
		if _, ok := tag["name"].(string); !ok {
			t.Errorf("name %v", tag["name"])
		}
		if c, ok := tag["color"].(string); !ok || !regexp.MustCompile(`^#[0-9A-F]{6}$`).MatchString(c) {
			t.Errorf("color %v", tag["color"])
		}
	}
	var tags []SSTag
	r.json(t, &tags)
	var names []string
	for _, tag := range tags {
		names = append(names, tag.Name)
	}
	if strings.Join(names, ",") != "Prime,Business,Cancel requested" {
		t.Errorf("default tag names %v", names)
	}
	if got := e.sb.ShipStationTags(); len(got) != 3 || got[0] != tags[0] || got[2] != tags[2] {
		t.Errorf("ShipStationTags %+v, listtags %+v", got, tags)
	}

	// A person adds and removes tags.
	gift, err := e.sb.AddShipStationTag("Gift", "#00FF00")
	if err != nil || gift.TagID == 0 || gift.Name != "Gift" {
		t.Fatalf("add: %+v %v", gift, err)
	}
	if _, err := e.sb.AddShipStationTag("gift", ""); err == nil {
		t.Error("duplicate name (other case) accepted")
	}
	if _, err := e.sb.AddShipStationTag(" ", ""); err == nil {
		t.Error("empty name accepted")
	}
	if !e.sb.RemoveShipStationTag("cancel REQUESTED") || e.sb.RemoveShipStationTag("Cancel requested") {
		t.Error("remove")
	}
	r = e.ssDo("GET", "/accounts/listtags", nil)
	tags = nil
	r.json(t, &tags)
	if len(tags) != 3 || tags[2] != gift {
		t.Errorf("after add/remove %+v", tags)
	}
	for _, tag := range e.sb.ShipStationTags() {
		e.sb.RemoveShipStationTag(tag.Name)
	}
	if r := e.ssDo("GET", "/accounts/listtags", nil); strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("no tags: %s", r.body)
	}
	if r := do(t, newReq(t, "GET", e.ss.URL+"/accounts/listtags", nil)); r.status != 401 {
		t.Errorf("no auth: %d", r.status)
	}
}

func TestSSOrderTagIDsRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	body := ssOrderBody("300", "amazon:amz:300")
	body["tagIds"] = []int64{41001, 41003}
	r := e.ssDo("POST", "/orders/createorders", []any{body})
	var res createOrdersResp
	r.json(t, &res)
	if r.status != 200 || res.HasErrors {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if o, ok := e.sb.ShipStationOrder("amazon:amz:300"); !ok || fmt.Sprint(o.TagIDs) != "[41001 41003]" {
		t.Errorf("stored tagIds %v", o.TagIDs)
	}
	var one SSOrder
	e.ssDo("GET", fmt.Sprintf("/orders/%d", res.Results[0].OrderID), nil).json(t, &one)
	if fmt.Sprint(one.TagIDs) != "[41001 41003]" {
		t.Errorf("GET /orders/{id} tagIds %v", one.TagIDs)
	}
	var page struct{ Orders []SSOrder }
	e.ssDo("GET", "/orders?orderNumber=300", nil).json(t, &page)
	if len(page.Orders) != 1 || fmt.Sprint(page.Orders[0].TagIDs) != "[41001 41003]" {
		t.Errorf("GET /orders tagIds %+v", page.Orders)
	}
	// createorder is a full replace: an update without tags clears them.
	delete(body, "tagIds")
	e.ssDo("POST", "/orders/createorders", []any{body})
	if o, _ := e.sb.ShipStationOrder("amazon:amz:300"); o.TagIDs != nil {
		t.Errorf("tagIds after update %v", o.TagIDs)
	}
}
