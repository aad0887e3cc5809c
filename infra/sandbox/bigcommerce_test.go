package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBCAuth(t *testing.T) {
	e := newEnv(t, Options{})
	req := newReq(t, "GET", e.bc.URL+"/stores/"+DefaultStoreHash+"/v2/orders", nil)
	r := do(t, req)
	if r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
	var v2 []bcV2Error
	r.json(t, &v2)
	if len(v2) != 1 || v2[0].Status != 401 || v2[0].Message == "" {
		t.Fatalf("401 body: %s", r.body)
	}
	req = newReq(t, "GET", e.bc.URL+"/stores/"+DefaultStoreHash+"/v3/hooks", nil)
	req.Header.Set("X-Auth-Token", "wrong")
	r = do(t, req)
	var v3 bcV3Error
	r.json(t, &v3)
	if r.status != 401 || v3.Status != 401 || v3.Title == "" {
		t.Fatalf("v3 401: %d %s", r.status, r.body)
	}
	req = newReq(t, "GET", e.bc.URL+"/stores/otherstore/v2/orders", nil)
	req.Header.Set("X-Auth-Token", DefaultBigCommerceToken)
	if r := do(t, req); r.status != 401 {
		t.Fatalf("token of another store accepted: %d", r.status)
	}
	if st := e.sb.Stats().BigCommerce; st.Unauthorized != 3 || st.Requests != 3 {
		t.Fatalf("stats: %+v", st.ServerStats)
	}
}

func TestBCEmptyListIs204(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.bcDo("GET", "/v2/orders", nil)
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("empty store: %d %q", r.status, r.body)
	}
	if _, err := e.sb.CreateOrder(simpleSpec(1)); err != nil {
		t.Fatal(err)
	}
	if r := e.bcDo("GET", "/v2/orders", nil); r.status != 200 {
		t.Fatalf("one order: %d", r.status)
	}
	if r := e.bcDo("GET", "/v2/orders?status_id=5", nil); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("no match: %d %q", r.status, r.body)
	}
	if r := e.bcDo("GET", "/v2/orders?page=2", nil); r.status != 204 {
		t.Fatalf("page beyond end: %d", r.status)
	}
}

func TestBCOrderNotFoundBody(t *testing.T) {
	e := newEnv(t, Options{})
	for _, p := range []string{"/v2/orders/4242", "/v2/orders/abc", "/v2/orders/4242/products", "/v2/orders/4242/shipping_addresses", "/v2/nothing"} {
		r := e.bcDo("GET", p, nil)
		if r.status != 404 || string(r.body) != `[{"status":404,"message":"The requested resource was not found."}]` {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	if r := e.bcDo("DELETE", "/v2/orders", nil); r.status != 405 || r.header.Get("Allow") != "GET" {
		t.Errorf("DELETE /v2/orders: %d allow=%q %s", r.status, r.header.Get("Allow"), r.body)
	}
}

func TestBCListFiltersSortAndDates(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	var ids []int
	for i := range 5 {
		sp := simpleSpec(1)
		if i == 2 {
			sp.StatusID = StatusAwaitingPayment
		}
		o, err := e.sb.CreateOrder(sp)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
		clk.Advance(10 * time.Second)
	}
	// Modify the first order last: it becomes the newest by date_modified.
	if _, err := e.sb.UpdateOrder("", ids[0], func(o *BCOrder) { o.StaffNotes = "x" }); err != nil {
		t.Fatal(err)
	}
	list := func(q string) []int {
		t.Helper()
		r := e.bcDo("GET", "/v2/orders?"+q, nil)
		if r.status == 204 {
			return nil
		}
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		var os []struct {
			ID           int    `json:"id"`
			DateModified string `json:"date_modified"`
		}
		r.json(t, &os)
		out := make([]int, len(os))
		for i, o := range os {
			out[i] = o.ID
		}
		return out
	}
	if got := list(""); !reflect.DeepEqual(got, ids) {
		t.Errorf("default sort id asc: %v", got)
	}
	if got := list("sort=date_modified:asc"); !reflect.DeepEqual(got, append(ids[1:], ids[0])) {
		t.Errorf("date_modified:asc: %v", got)
	}
	if got := list("sort=id:desc&limit=2"); !reflect.DeepEqual(got, []int{ids[4], ids[3]}) {
		t.Errorf("id:desc limit 2: %v", got)
	}
	if got := list("limit=2&page=3"); !reflect.DeepEqual(got, []int{ids[4]}) {
		t.Errorf("page 3: %v", got)
	}
	if got := list("status_id=7"); !reflect.DeepEqual(got, []int{ids[2]}) {
		t.Errorf("status_id=7: %v", got)
	}
	if got := list(fmt.Sprintf("min_id=%d&max_id=%d", ids[1], ids[2])); !reflect.DeepEqual(got, ids[1:3]) {
		t.Errorf("min/max id: %v", got)
	}
	// Order 4 was created at t0+40s; order 0 was modified at t0+50s.
	t0 := time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)
	since := t0.Add(40 * time.Second)
	for _, v := range []string{
		since.Format("Mon, 02 Jan 2006 15:04:05 -0700"),
		since.Format(time.RFC3339),
		since.In(time.FixedZone("", -4*3600)).Format("2006-01-02T15:04:05.000-07:00"),
	} {
		if got := list("min_date_modified=" + url.QueryEscape(v)); !reflect.DeepEqual(got, []int{ids[0], ids[4]}) {
			t.Errorf("min_date_modified=%s: %v", v, got)
		}
	}
	// An unencoded "+" arrives as a space and is still understood.
	r := e.bcDo("GET", "/v2/orders?min_date_modified="+strings.ReplaceAll(url.QueryEscape(since.Format("Mon, 02 Jan 2006 15:04:05 -0700")), "%2B", "+"), nil)
	if r.status != 200 {
		t.Errorf("unencoded plus: %d %s", r.status, r.body)
	}
	if got := list("max_date_modified=" + url.QueryEscape(t0.Add(5*time.Second).Format(time.RFC3339))); !reflect.DeepEqual(got, []int(nil)) {
		t.Errorf("max_date_modified before order 0's update: %v", got)
	}
	for _, bad := range []string{"min_date_modified=yesterday", "status_id=x", "sort=colour:asc", "limit=lots"} {
		r := e.bcDo("GET", "/v2/orders?"+bad, nil)
		var body []bcV2Error
		if r.status != 400 || json.Unmarshal(r.body, &body) != nil || len(body) != 1 || body[0].Status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	r = e.bcDo("GET", "/v2/orders/count", nil)
	var cnt struct {
		Count    int `json:"count"`
		Statuses []struct {
			ID    int `json:"id"`
			Count int `json:"count"`
		} `json:"statuses"`
	}
	r.json(t, &cnt)
	if cnt.Count != 5 || len(cnt.Statuses) != 15 || cnt.Statuses[11].Count != 4 || cnt.Statuses[7].Count != 1 {
		t.Errorf("count: %s", r.body)
	}
}

func TestBCLimitCappedAt250(t *testing.T) {
	e := newEnv(t, Options{})
	if _, err := e.sb.CreateRandomOrders("", 260); err != nil {
		t.Fatal(err)
	}
	r := e.bcDo("GET", "/v2/orders?limit=500", nil)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 250 {
		t.Fatalf("limit=500 returned %d orders", len(list))
	}
	r = e.bcDo("GET", "/v2/orders", nil)
	r.json(t, &list)
	if len(list) != 50 {
		t.Fatalf("default limit returned %d orders", len(list))
	}
}

func TestBCProductsPaging(t *testing.T) {
	e := newEnv(t, Options{})
	qty := make([]int, 60)
	for i := range qty {
		qty[i] = 1
	}
	o, err := e.sb.CreateOrder(simpleSpec(qty...))
	if err != nil {
		t.Fatal(err)
	}
	page := func(q string) []map[string]any {
		r := e.bcDo("GET", fmt.Sprintf("/v2/orders/%d/products?%s", o.ID, q), nil)
		if r.status == 204 {
			if len(r.body) != 0 {
				t.Fatalf("204 with body %q", r.body)
			}
			return nil
		}
		var ps []map[string]any
		r.json(t, &ps)
		return ps
	}
	p1, p2, p3 := page(""), page("page=2"), page("page=3")
	if len(p1) != 50 || len(p2) != 10 || p3 != nil {
		t.Fatalf("pages: %d %d %v", len(p1), len(p2), p3)
	}
	if p1[0]["id"] != float64(o.Lines[0].ID) || p2[9]["id"] != float64(o.Lines[59].ID) {
		t.Errorf("paging order wrong")
	}
	if ps := page("limit=25&page=3"); len(ps) != 10 {
		t.Errorf("limit 25 page 3: %d", len(ps))
	}
	// Money is a 4-decimal string, quantities are integers.
	if p1[0]["price_ex_tax"] != "15.9900" || p1[0]["quantity"] != float64(1) || p1[0]["order_address_id"] != float64(o.ShippingAddresses[0].ID) {
		t.Errorf("product fields: %v", p1[0])
	}
}

func TestBCOrderWireFields(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	sp := simpleSpec(2)
	sp.ChannelID, sp.OrderSource, sp.ExternalOrderID = 3, "amazon", "113-4567890-1234567"
	o, err := e.sb.CreateOrder(sp)
	if err != nil {
		t.Fatal(err)
	}
	r := e.bcDo("GET", fmt.Sprintf("/v2/orders/%d", o.ID), nil)
	var m map[string]any
	r.json(t, &m)
	want := map[string]any{
		"date_created": "Sat, 21 Nov 2026 17:03:20 +0000", "status_id": float64(11), "status": "Awaiting Fulfillment",
		"subtotal_ex_tax": "31.9800", "total_inc_tax": "40.6100", "items_total": float64(2), "items_shipped": float64(0),
		"channel_id": float64(3), "order_source": "amazon", "external_order_id": "113-4567890-1234567",
		"external_source": nil, "ebay_order_id": "0", "order_is_digital": false, "date_shipped": "",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	prod := m["products"].(map[string]any)
	if prod["resource"] != fmt.Sprintf("/orders/%d/products", o.ID) || !strings.HasPrefix(prod["url"].(string), e.bc.URL+"/stores/"+DefaultStoreHash+"/v2/orders/") {
		t.Errorf("products resource: %v", prod)
	}
	bill := m["billing_address"].(map[string]any)
	if bill["email"] != "ottoline.testx@example.com" || bill["phone"] == "" {
		t.Errorf("billing: %v", bill)
	}
	// The products URL can be followed.
	u, _ := url.Parse(prod["url"].(string))
	if r := e.bcDo("GET", strings.TrimPrefix(u.Path, "/stores/"+DefaultStoreHash), nil); r.status != 200 {
		t.Errorf("following products url: %d", r.status)
	}
	if r := e.bcDo("GET", "/v3/channels/3", nil); !strings.Contains(string(r.body), `"platform":"amazon"`) {
		t.Errorf("channel 3: %s", r.body)
	}
}

func TestBCShipments(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Webhooks: []WebhookDestination{{URL: rec.srv.URL, Scopes: []string{"store/order/statusUpdated"}}}})
	sp := simpleSpec(3, 1)
	sp.Lines = append(sp.Lines, LineSpec{Name: "Download", Type: "digital", Quantity: 1, UnitPriceCents: 500})
	o, err := e.sb.CreateOrder(sp)
	if err != nil {
		t.Fatal(err)
	}
	addr := o.ShippingAddresses[0].ID
	ship := func(items [][2]int, extra map[string]any) resp {
		body := map[string]any{"order_address_id": addr, "tracking_number": "1Z999AA10123456784", "shipping_provider": "ups", "tracking_carrier": "ups"}
		var its []map[string]int
		for _, it := range items {
			its = append(its, map[string]int{"order_product_id": it[0], "quantity": it[1]})
		}
		body["items"] = its
		for k, v := range extra {
			body[k] = v
		}
		return e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), body)
	}
	if r := e.bcDo("GET", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), nil); r.status != 204 {
		t.Fatalf("no shipments yet: %d", r.status)
	}
	// Partial.
	r := ship([][2]int{{o.Lines[0].ID, 2}}, nil)
	if r.status != 201 {
		t.Fatalf("partial: %d %s", r.status, r.body)
	}
	var sh map[string]any
	r.json(t, &sh)
	if sh["order_id"] != float64(o.ID) || sh["generated_tracking_link"] == "" || sh["shipping_provider_display_name"] != "UPS" || sh["date_created"] == "" {
		t.Errorf("shipment: %s", r.body)
	}
	got, _ := e.sb.Order("", o.ID)
	if got.StatusID != StatusPartiallyShipped || got.Lines[0].QuantityShipped != 2 || got.ItemsShipped() != 2 {
		t.Fatalf("after partial: status %d shipped %d", got.StatusID, got.Lines[0].QuantityShipped)
	}

	bad := []struct {
		name  string
		items [][2]int
		extra map[string]any
		want  string
	}{
		{"over quantity", [][2]int{{o.Lines[0].ID, 2}}, nil, "greater than the quantity remaining"},
		{"over via repeated lines", [][2]int{{o.Lines[1].ID, 1}, {o.Lines[1].ID, 1}}, nil, "greater than the quantity remaining"},
		{"unknown line", [][2]int{{99999, 1}}, nil, "does not belong"},
		{"digital line", [][2]int{{o.Lines[2].ID, 1}}, nil, "cannot be shipped"},
		{"zero quantity", [][2]int{{o.Lines[0].ID, 0}}, nil, "positive integer"},
		{"no items", nil, nil, "'items' cannot be blank"},
		{"wrong address", [][2]int{{o.Lines[0].ID, 1}}, map[string]any{"order_address_id": 777}, "order_address_id"},
		{"no address", [][2]int{{o.Lines[0].ID, 1}}, map[string]any{"order_address_id": nil}, "'order_address_id' cannot be blank"},
		{"long tracking", [][2]int{{o.Lines[0].ID, 1}}, map[string]any{"tracking_number": strings.Repeat("9", 51)}, "tracking_number"},
	}
	for _, b := range bad {
		r := ship(b.items, b.extra)
		var body []bcV2Error
		if r.status != 400 || json.Unmarshal(r.body, &body) != nil || len(body) != 1 || body[0].Status != 400 || !strings.Contains(body[0].Message, b.want) {
			t.Errorf("%s: %d %s", b.name, r.status, r.body)
		}
	}
	r = e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), `{"order_address_id": "one"`)
	if r.status != 400 || !strings.Contains(string(r.body), "not valid JSON") {
		t.Errorf("bad JSON: %d %s", r.status, r.body)
	}

	// Complete.
	r = ship([][2]int{{o.Lines[0].ID, 1}, {o.Lines[1].ID, 1}}, map[string]any{"shipping_provider": "", "tracking_carrier": "dhl", "merchant_shipping_cost": 4.5})
	if r.status != 201 {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	r.json(t, &sh)
	if sh["merchant_shipping_cost"] != "4.5000" || !strings.Contains(sh["generated_tracking_link"].(string), "aftership.com/dhl") {
		t.Errorf("second shipment: %s", r.body)
	}
	got, _ = e.sb.Order("", o.ID)
	if got.StatusID != StatusShipped || got.DateShipped.IsZero() {
		t.Fatalf("after complete: status %d date_shipped %v", got.StatusID, got.DateShipped)
	}
	if r := ship([][2]int{{o.Lines[0].ID, 1}}, nil); r.status != 400 {
		t.Errorf("shipping a shipped order: %d", r.status)
	}
	r = e.bcDo("GET", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), nil)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 2 || len(e.sb.Shipments("", o.ID)) != 2 || len(e.sb.Shipments("", 0)) != 2 {
		t.Fatalf("shipments listed: %d", len(list))
	}
	if e.sb.Stats().BigCommerce.Shipments != 2 {
		t.Errorf("stats shipments")
	}
	flush(t, e.sb)
	var statuses []string
	for _, g := range rec.all() {
		var p struct {
			Data struct {
				Status statusChange `json:"status"`
			} `json:"data"`
		}
		_ = json.Unmarshal(g.body, &p)
		statuses = append(statuses, fmt.Sprintf("%d>%d", p.Data.Status.Previous, p.Data.Status.New))
	}
	sort.Strings(statuses) // deliveries run in parallel, as BigCommerce's do: no order guarantee
	if !reflect.DeepEqual(statuses, []string{"11>3", "3>2"}) {
		t.Errorf("statusUpdated webhooks: %v", statuses)
	}
}

func TestBCRateLimitWindow(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now, BigCommerceQuota: 5, BigCommerceWindow: 30 * time.Second})
	for i := 1; i <= 5; i++ {
		r := e.bcDo("GET", "/v2/orders", nil)
		if r.status != 204 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := r.header.Get("X-Rate-Limit-Requests-Left"); got != strconv.Itoa(5-i) {
			t.Fatalf("request %d: left %s", i, got)
		}
		if r.header.Get("X-Rate-Limit-Requests-Quota") != "5" || r.header.Get("X-Rate-Limit-Time-Window-Ms") != "30000" {
			t.Fatalf("headers: %v", r.header)
		}
		clk.Advance(time.Second)
	}
	r := e.bcDo("GET", "/v2/orders", nil)
	if r.status != 429 {
		t.Fatalf("6th request: %d", r.status)
	}
	if r.header.Get("X-Rate-Limit-Requests-Left") != "0" || r.header.Get("X-Rate-Limit-Time-Reset-Ms") != "25000" || r.header.Get("X-Rate-Limit-Requests-Quota") != "5" {
		t.Fatalf("429 headers: %v", r.header)
	}
	var body []bcV2Error
	r.json(t, &body)
	if len(body) != 1 || body[0].Status != 429 {
		t.Fatalf("429 body: %s", r.body)
	}
	clk.Advance(25 * time.Second)
	if r := e.bcDo("GET", "/v2/orders", nil); r.status != 204 || r.header.Get("X-Rate-Limit-Requests-Left") != "4" {
		t.Fatalf("after reset: %d left %s", r.status, r.header.Get("X-Rate-Limit-Requests-Left"))
	}
	st := e.sb.Stats().BigCommerce
	if st.RateLimited429 != 1 || st.Total429 != 1 || st.Requests != 7 || st.RequestsByRoute["GET /v2/orders"] != 6 {
		t.Fatalf("stats: %+v", st.ServerStats)
	}
}

func TestBCRateLimitRealTimeWindow(t *testing.T) {
	e := newEnv(t, Options{BigCommerceQuota: 2, BigCommerceWindow: 150 * time.Millisecond})
	e.bcDo("GET", "/v2/orders", nil)
	e.bcDo("GET", "/v2/orders", nil)
	r := e.bcDo("GET", "/v2/orders", nil)
	if r.status != 429 {
		t.Fatalf("3rd: %d", r.status)
	}
	reset, _ := strconv.Atoi(r.header.Get("X-Rate-Limit-Time-Reset-Ms"))
	if reset <= 0 || reset > 150 {
		t.Fatalf("reset ms %d", reset)
	}
	time.Sleep(time.Duration(reset+5) * time.Millisecond)
	if r := e.bcDo("GET", "/v2/orders", nil); r.status != 204 {
		t.Fatalf("after window: %d", r.status)
	}
}

func TestBCInjectedFaults(t *testing.T) {
	e := newEnv(t, Options{BigCommerceFaults: Faults{Rate429: 1}})
	r := e.bcDo("GET", "/v2/orders", nil)
	if r.status != 429 || r.header.Get("X-Rate-Limit-Time-Reset-Ms") == "" || r.header.Get("X-Rate-Limit-Requests-Left") == "" {
		t.Fatalf("injected 429: %d %v", r.status, r.header)
	}
	r = e.adminDo(e.bc, "PUT", "/_sandbox/faults", map[string]any{"rate_429": 0, "rate_5xx": 1})
	if r.status != 200 {
		t.Fatalf("admin: %d %s", r.status, r.body)
	}
	r = e.bcDo("GET", "/v2/orders", nil)
	if r.status < 500 || r.status > 503 {
		t.Fatalf("injected 5xx: %d", r.status)
	}
	e.sb.SetBigCommerceFaults(Faults{Latency: 30 * time.Millisecond})
	start := time.Now()
	e.bcDo("GET", "/v2/orders", nil)
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency not applied")
	}
	// Lost response: the shipment is created but the client sees a 502.
	o, _ := e.sb.CreateOrder(simpleSpec(1))
	e.sb.SetBigCommerceFaults(Faults{RateLostResponse: 1})
	r = e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", o.ID), map[string]any{"order_address_id": o.ShippingAddresses[0].ID, "items": []map[string]int{{"order_product_id": o.Lines[0].ID, "quantity": 1}}})
	if r.status != 502 || len(e.sb.Shipments("", o.ID)) != 1 {
		t.Fatalf("lost response: %d, %d shipments", r.status, len(e.sb.Shipments("", o.ID)))
	}
	st := e.sb.Stats().BigCommerce
	if st.Injected429 != 1 || st.Injected5xx != 1 || st.LostResponses != 1 || st.Total429 != 1 {
		t.Fatalf("stats: %+v", st.ServerStats)
	}
	if r := e.adminDo(e.bc, "PUT", "/_sandbox/faults", map[string]any{"rate_5xx": 2}); r.status != 400 {
		t.Errorf("rate 2 accepted: %d", r.status)
	}
	if r := e.adminDo(e.bc, "PUT", "/_sandbox/faults", "{"); r.status != 400 {
		t.Errorf("bad JSON accepted: %d", r.status)
	}
}

func TestGenerateOrderVariety(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	statuses := map[int]int{}
	var digitalLine, digitalOnly, twoAddr, withOptions int
	tokens := map[string]bool{}
	for range 1000 {
		sp := GenerateOrder(rng)
		if err := sp.validate(); err != nil {
			t.Fatalf("invalid generated spec: %v", err)
		}
		statuses[sp.StatusID]++
		n := len(sp.Lines)
		if n < 1 || n > 5 {
			t.Fatalf("%d lines", n)
		}
		phys := 0
		for _, l := range sp.Lines {
			switch l.Type {
			case "digital":
				digitalLine++
			default:
				phys++
				if len(l.Options) > 0 {
					withOptions++
				}
			}
		}
		if phys > 4 {
			t.Fatalf("%d physical lines", phys)
		}
		if phys == 0 {
			digitalOnly++
			if len(sp.ShippingAddresses) != 0 {
				t.Fatal("digital-only order with a shipping address")
			}
		}
		if len(sp.ShippingAddresses) == 2 {
			twoAddr++
			used := map[int]bool{}
			for _, l := range sp.Lines {
				if l.Type != "digital" {
					used[l.AddressIndex] = true
				}
			}
			if len(used) != 2 {
				t.Fatal("second address carries no line")
			}
		}
		tok := sp.Billing.LastName[strings.LastIndex(sp.Billing.LastName, "-")+1:]
		if len(tok) != 5 || !strings.Contains(sp.Billing.Email, strings.ToLower(tok)) || !(strings.Contains(sp.Billing.Street1, tok) || strings.Contains(sp.Billing.Street2, tok)) {
			t.Fatalf("PII without token: %+v", sp.Billing)
		}
		tokens[tok] = true
	}
	if statuses[11] < 650 || statuses[7] == 0 || statuses[12] == 0 || statuses[1] == 0 || statuses[0] == 0 {
		t.Errorf("status mix: %v", statuses)
	}
	if digitalLine == 0 || digitalOnly == 0 || twoAddr == 0 || withOptions == 0 {
		t.Errorf("variety: digital lines %d, digital-only %d, two addresses %d, options %d", digitalLine, digitalOnly, twoAddr, withOptions)
	}
	if len(tokens) < 950 {
		t.Errorf("tokens not distinctive: %d distinct of 1000", len(tokens))
	}
	a := GenerateOrder(rand.New(rand.NewPCG(1, 2)))
	b := GenerateOrder(rand.New(rand.NewPCG(1, 2)))
	if !reflect.DeepEqual(a, b) {
		t.Error("generator not reproducible for a seed")
	}
	// The sandbox's generated orders are reproducible for a seed too.
	s1, s2 := New(Options{Seed: 9}), New(Options{Seed: 9})
	defer s1.Close()
	defer s2.Close()
	o1, _ := s1.CreateRandomOrders("", 5)
	o2, _ := s2.CreateRandomOrders("", 5)
	for i := range o1 {
		if !reflect.DeepEqual(o1[i].PIIValues(), o2[i].PIIValues()) || !reflect.DeepEqual(o1[i].Lines, o2[i].Lines) {
			t.Fatalf("order %d differs between sandboxes with the same seed", i)
		}
	}
	if len(o1[0].PIIValues()) < 5 {
		t.Errorf("PIIValues: %v", o1[0].PIIValues())
	}
}

func TestBCUpdateOrderRules(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	o, _ := e.sb.CreateOrder(simpleSpec(1))
	prev := o.DateModified
	for i := range 5 {
		u, err := e.sb.UpdateOrder("", o.ID, func(x *BCOrder) { x.StaffNotes = strconv.Itoa(i); x.ID = 1; x.DateModified = time.Time{} })
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != o.ID || u.DateModified.Sub(prev) != time.Second {
			t.Fatalf("update %d: id %d, date_modified %v after %v", i, u.ID, u.DateModified, prev)
		}
		prev = u.DateModified
	}
	clk.Advance(time.Minute)
	u, _ := e.sb.UpdateOrder("", o.ID, nil)
	if !u.DateModified.Equal(clk.Now()) {
		t.Errorf("date_modified %v, want the clock %v", u.DateModified, clk.Now())
	}
	if _, err := e.sb.SetOrderStatus("", o.ID, 99); err == nil {
		t.Error("status 99 accepted")
	}
	if _, err := e.sb.UpdateOrder("", 4242, nil); err == nil {
		t.Error("missing order updated")
	}
	if _, err := e.sb.CreateOrder(OrderSpec{StatusID: 11}); err == nil {
		t.Error("order without lines accepted")
	}
	sp := simpleSpec(1)
	sp.Lines[0].AddressIndex = 3
	if _, err := e.sb.CreateOrder(sp); err == nil {
		t.Error("line with a missing address accepted")
	}
	// PUT /v2/orders/{id} changes status like the control panel would.
	r := e.bcDo("PUT", fmt.Sprintf("/v2/orders/%d", o.ID), map[string]any{"status_id": 5})
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"Cancelled"`) {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if r := e.bcDo("PUT", fmt.Sprintf("/v2/orders/%d", o.ID), map[string]any{"status_id": 42}); r.status != 400 {
		t.Errorf("PUT bad status: %d", r.status)
	}
}

func TestBCStoresAreIsolated(t *testing.T) {
	e := newEnv(t, Options{BigCommerceQuota: 2, Stores: []StoreConfig{
		{Hash: "storeone", StoreID: "1001", Tokens: []string{"tok-one"}},
		{Hash: "storetwo", StoreID: "1002", Tokens: []string{"tok-two", "tok-two-b"}},
	}})
	if e.sb.DefaultStoreHash() != "storeone" {
		t.Fatalf("default store %s", e.sb.DefaultStoreHash())
	}
	sp := simpleSpec(1)
	sp.StoreHash = "storetwo"
	o, err := e.sb.CreateOrder(sp)
	if err != nil {
		t.Fatal(err)
	}
	get := func(hash, tok, path string) resp {
		req := newReq(t, "GET", e.bc.URL+"/stores/"+hash+path, nil)
		req.Header.Set("X-Auth-Token", tok)
		return do(t, req)
	}
	if r := get("storeone", "tok-one", "/v2/orders"); r.status != 204 {
		t.Errorf("store one sees store two's order: %d", r.status)
	}
	if r := get("storetwo", "tok-two-b", fmt.Sprintf("/v2/orders/%d", o.ID)); r.status != 200 {
		t.Errorf("second token of store two: %d", r.status)
	}
	if r := get("storetwo", "tok-one", "/v2/orders"); r.status != 401 {
		t.Errorf("store one's token on store two: %d", r.status)
	}
	// Each store has its own quota (2 per window).
	get("storeone", "tok-one", "/v2/orders")
	if r := get("storeone", "tok-one", "/v2/orders"); r.status != 429 {
		t.Errorf("store one 3rd request: %d", r.status)
	}
	if r := get("storetwo", "tok-two", "/v2/orders"); r.status != 200 { // 2nd counted request: 401s do not count
		t.Errorf("store two 2nd request: %d", r.status)
	}
	if r := get("storetwo", "tok-two", "/v2/orders"); r.status != 429 {
		t.Errorf("store two 3rd request: %d", r.status)
	}
	if _, err := e.sb.CreateOrder(OrderSpec{StoreHash: "nope", StatusID: 11, Lines: sp.Lines, ShippingAddresses: sp.ShippingAddresses}); err == nil {
		t.Error("unknown store accepted")
	}
}
