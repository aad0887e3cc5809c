package sandbox

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// ssHold posts a hold and returns the response.
func (e *env) ssHold(orderID any, date any) resp {
	e.t.Helper()
	body := map[string]any{}
	if orderID != nil {
		body["orderId"] = orderID
	}
	if date != nil {
		body["holdUntilDate"] = date
	}
	return e.ssDo("POST", "/orders/holduntil", body)
}

// ssGetOrder reads one order over the API.
func (e *env) ssGetOrder(id int64) SSOrder {
	e.t.Helper()
	r := e.ssDo("GET", "/orders/"+strconv.FormatInt(id, 10), nil)
	if r.status != 200 {
		e.t.Fatalf("GET /orders/%d: %d %s", id, r.status, r.body)
	}
	var o SSOrder
	r.json(e.t, &o)
	return o
}

func TestSSHoldUntilDateIsReadOnly(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})

	// createorders and createorder ignore holdUntilDate on a new order.
	held := ssOrderBody("500", "k500")
	held["orderStatus"] = "on_hold"
	held["holdUntilDate"] = "2026-11-25"
	single := ssOrderBody("501", "k501")
	single["holdUntilDate"] = "2026-11-25"
	r := e.ssDo("POST", "/orders/createorders", []any{held})
	var res createOrdersResp
	r.json(t, &res)
	if r.status != 200 || res.HasErrors {
		t.Fatalf("createorders: %d %s", r.status, r.body)
	}
	id := res.Results[0].OrderID
	if r := e.ssDo("POST", "/orders/createorder", single); r.status != 200 || strings.Contains(string(r.body), "2026-11-25") {
		t.Fatalf("createorder: %d %s", r.status, r.body)
	}
	for _, k := range []string{"k500", "k501"} {
		o, _ := e.sb.ShipStationOrder(k)
		if o.HoldUntilDate != nil {
			t.Errorf("%s: holdUntilDate %q taken from createorder(s)", k, *o.HoldUntilDate)
		}
	}
	// An on_hold order without a hold date stays on hold for good.
	clk.Advance(30 * 24 * time.Hour)
	if o := e.ssGetOrder(id); o.OrderStatus != "on_hold" || o.HoldUntilDate != nil {
		t.Fatalf("on_hold from createorders: %q %v", o.OrderStatus, o.HoldUntilDate)
	}

	// After a hold, an update keeps the stored date whatever it sends.
	if r := e.ssHold(id, "2027-01-05"); r.status != 200 {
		t.Fatalf("holduntil: %d %s", r.status, r.body)
	}
	held["holdUntilDate"] = "2027-03-01"
	held["internalNotes"] = "updated"
	e.ssDo("POST", "/orders/createorders", []any{held})
	o := e.ssGetOrder(id)
	if o.OrderStatus != "on_hold" || o.HoldUntilDate == nil || *o.HoldUntilDate != "2027-01-05T00:00:00.0000000" || derefStr(o.InternalNotes) != "updated" {
		t.Fatalf("update of a held order: %q %v %q", o.OrderStatus, o.HoldUntilDate, derefStr(o.InternalNotes))
	}
	delete(held, "holdUntilDate")
	e.ssDo("POST", "/orders/createorders", []any{held})
	if o := e.ssGetOrder(id); o.HoldUntilDate == nil || *o.HoldUntilDate != "2027-01-05T00:00:00.0000000" {
		t.Fatalf("update without holdUntilDate dropped the hold date: %v", o.HoldUntilDate)
	}
	// An update that moves it off hold ends the hold: no date, and no
	// release later turns a later hold's status around.
	held["orderStatus"] = "awaiting_shipment"
	e.ssDo("POST", "/orders/createorders", []any{held})
	if o := e.ssGetOrder(id); o.OrderStatus != "awaiting_shipment" || o.HoldUntilDate != nil {
		t.Fatalf("released by update: %q %v", o.OrderStatus, o.HoldUntilDate)
	}
	held["orderStatus"] = "on_hold"
	e.ssDo("POST", "/orders/createorders", []any{held})
	clk.Advance(90 * 24 * time.Hour)
	if o := e.ssGetOrder(id); o.OrderStatus != "on_hold" || o.HoldUntilDate != nil {
		t.Fatalf("an ended hold came back: %q %v", o.OrderStatus, o.HoldUntilDate)
	}
}

func TestSSHoldUntilReleasesOnTheDate(t *testing.T) {
	clk := newFakeClock() // 2026-11-21 09:03:20 Pacific
	e := newEnv(t, Options{Now: clk.Now, WarehouseDelay: time.Minute})
	o := putSSOrder(t, e.sb, "510", "k510", nil)
	other := putSSOrder(t, e.sb, "511", "k511", nil)

	r := e.ssHold(o.OrderID, "2026-11-23")
	if r.status != 200 || string(r.body) != `{"success":true,"message":"Order held successfully."}` {
		t.Fatalf("holduntil: %d %s", r.status, r.body)
	}
	got := e.ssGetOrder(o.OrderID)
	if got.OrderStatus != "on_hold" || got.HoldUntilDate == nil || *got.HoldUntilDate != "2026-11-23T00:00:00.0000000" || got.ModifyDate != SSTime(clk.Now()) {
		t.Fatalf("held: %q %v modified %s", got.OrderStatus, got.HoldUntilDate, got.ModifyDate)
	}
	if got := e.ssGetOrder(other.OrderID); got.OrderStatus != "awaiting_shipment" {
		t.Fatalf("other order: %q", got.OrderStatus)
	}
	// Held orders are not shipped.
	clk.Advance(time.Hour)
	if sh := e.sb.WarehouseTick(); len(sh) != 1 || sh[0].OrderID != other.OrderID {
		t.Fatalf("warehouse shipped %+v, want only the order not held", sh)
	}

	// One second before Pacific midnight of the 23rd (08:00 UTC) it is still held.
	midnight := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	clk.Advance(midnight.Add(-time.Second).Sub(clk.Now()))
	var page struct {
		Orders []SSOrder `json:"orders"`
		Total  int       `json:"total"`
	}
	e.ssDo("GET", "/orders?orderStatus=on_hold", nil).json(t, &page)
	if page.Total != 1 || page.Orders[0].OrderID != o.OrderID {
		t.Fatalf("on_hold list before the date: %+v", page)
	}

	clk.Advance(time.Second)
	e.ssDo("GET", "/orders?orderStatus=on_hold", nil).json(t, &page)
	if page.Total != 0 {
		t.Fatalf("still on hold at the date: %+v", page)
	}
	got = e.ssGetOrder(o.OrderID)
	if got.OrderStatus != "awaiting_shipment" || got.HoldUntilDate != nil || got.ModifyDate != "2026-11-23T00:00:00.0000000" {
		t.Fatalf("released: %q %v modified %s", got.OrderStatus, got.HoldUntilDate, got.ModifyDate)
	}
	// The warehouse waits from the release.
	if sh := e.sb.WarehouseTick(); len(sh) != 0 {
		t.Fatalf("shipped at the instant of release: %+v", sh)
	}
	clk.Advance(time.Minute)
	if sh := e.sb.WarehouseTick(); len(sh) != 1 || sh[0].OrderID != o.OrderID {
		t.Fatalf("warehouse after the release: %+v", sh)
	}
}

func TestSSHoldReleaseSeenByEveryRead(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	type seen struct {
		status string
		date   *string
	}
	reads := []struct {
		name string
		read func(id int64) seen
		want string
	}{
		{"ShipStationOrder", func(int64) seen {
			o, _ := e.sb.ShipStationOrder("k520")
			return seen{o.OrderStatus, o.HoldUntilDate}
		}, "awaiting_shipment"},
		{"ShipStationOrders", func(int64) seen {
			o := e.sb.ShipStationOrders()[0]
			return seen{o.OrderStatus, o.HoldUntilDate}
		}, "awaiting_shipment"},
		{"GET /orders", func(int64) seen {
			var page struct {
				Orders []SSOrder `json:"orders"`
			}
			e.ssDo("GET", "/orders", nil).json(t, &page)
			return seen{page.Orders[0].OrderStatus, page.Orders[0].HoldUntilDate}
		}, "awaiting_shipment"},
		{"GET /orders/{id}", func(id int64) seen {
			o := e.ssGetOrder(id)
			return seen{o.OrderStatus, o.HoldUntilDate}
		}, "awaiting_shipment"},
		// An update sent on_hold after the release date is a new hold
		// without a date: the release came first.
		{"createorder", func(int64) seen {
			body := ssOrderBody("520", "k520")
			body["orderStatus"] = "on_hold"
			var o SSOrder
			e.ssDo("POST", "/orders/createorder", body).json(t, &o)
			return seen{o.OrderStatus, o.HoldUntilDate}
		}, "on_hold"},
		{"SetShipStationOrderStatus", func(int64) seen {
			if err := e.sb.SetShipStationOrderStatus("k520", "on_hold"); err != nil {
				t.Fatal(err)
			}
			o, _ := e.sb.ShipStationOrder("k520")
			return seen{o.OrderStatus, o.HoldUntilDate}
		}, "on_hold"},
	}
	for _, c := range reads {
		o := putSSOrder(t, e.sb, "520", "k520", nil)
		tomorrow := clk.Now().In(pacific).AddDate(0, 0, 1).Format(time.DateOnly)
		if r := e.ssHold(o.OrderID, tomorrow); r.status != 200 {
			t.Fatalf("%s: holduntil %d %s", c.name, r.status, r.body)
		}
		clk.Advance(24 * time.Hour)
		if got := c.read(o.OrderID); got.status != c.want || got.date != nil {
			t.Errorf("%s: %q until %v a day later, want %s without a date", c.name, got.status, got.date, c.want)
		}
		if err := e.sb.SetShipStationOrderStatus("k520", "awaiting_shipment"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSSHoldUntilPastDateReleasesAtOnce(t *testing.T) {
	clk := newFakeClock() // 2026-11-21 Pacific
	e := newEnv(t, Options{Now: clk.Now})
	o := putSSOrder(t, e.sb, "530", "k530", nil)
	for _, d := range []string{"2026-11-21", "2026-11-01"} {
		if r := e.ssHold(o.OrderID, d); r.status != 200 {
			t.Fatalf("holduntil %s: %d %s", d, r.status, r.body)
		}
		if got := e.ssGetOrder(o.OrderID); got.OrderStatus != "awaiting_shipment" || got.HoldUntilDate != nil {
			t.Errorf("hold until %s (reached): %q %v", d, got.OrderStatus, got.HoldUntilDate)
		}
	}
	// A timestamp counts by its Pacific date; a later hold replaces an earlier one.
	for _, d := range []string{"2026-11-24T10:00:00", "2026-11-26 00:00:00", "2026-11-27T07:00:00Z"} {
		if r := e.ssHold(o.OrderID, d); r.status != 200 {
			t.Fatalf("holduntil %s: %d %s", d, r.status, r.body)
		}
	}
	if got := e.ssGetOrder(o.OrderID); got.OrderStatus != "on_hold" || got.HoldUntilDate == nil || *got.HoldUntilDate != "2026-11-26T00:00:00.0000000" {
		t.Errorf("re-held: %q %v", got.OrderStatus, got.HoldUntilDate)
	}
}

func TestSSHoldUntilErrors(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	o := putSSOrder(t, e.sb, "540", "k540", nil)
	shipped := putSSOrder(t, e.sb, "541", "k541", nil)
	cancelled := putSSOrder(t, e.sb, "542", "k542", nil)
	pending := putSSOrder(t, e.sb, "543", "k543", func(m map[string]any) { m["orderStatus"] = "awaiting_payment" })
	if err := e.sb.SetShipStationOrderStatus("k541", "shipped"); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetShipStationOrderStatus("k542", "cancelled"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		r      resp
		status int
		want   string
	}{
		{"unknown order", e.ssHold(999999, "2026-11-30"), 404, `{"Message":"Order not found: 999999"}`},
		{"no orderId", e.ssHold(nil, "2026-11-30"), 400, `"params.orderId":["The orderId field is required."]`},
		{"orderId text", e.ssHold("abc", "2026-11-30"), 400, `The value 'abc' is not valid for orderId.`},
		{"orderId zero", e.ssHold(0, "2026-11-30"), 400, `not valid for orderId`},
		{"no date", e.ssHold(o.OrderID, nil), 400, `"params.holdUntilDate":["The holdUntilDate field is required."]`},
		{"empty date", e.ssHold(o.OrderID, ""), 400, `holdUntilDate field is required`},
		{"bad date", e.ssHold(o.OrderID, "next tuesday"), 400, `The value 'next tuesday' is not valid for holdUntilDate.`},
		{"impossible date", e.ssHold(o.OrderID, "2026-02-30"), 400, `not valid for holdUntilDate`},
		{"date not a string", e.ssHold(o.OrderID, 20261130), 400, `"params":["The request could not be read`},
		{"shipped", e.ssHold(shipped.OrderID, "2026-11-30"), 400, `cannot be placed on hold because its status is 'shipped'`},
		{"cancelled", e.ssHold(cancelled.OrderID, "2026-11-30"), 400, `because its status is 'cancelled'`},
		{"empty body", e.ssDo("POST", "/orders/holduntil", ""), 400, `The request body is empty.`},
		{"not JSON", e.ssDo("POST", "/orders/holduntil", "{"), 400, `"Message":"The request is invalid."`},
		{"GET", e.ssDo("GET", "/orders/holduntil", nil), 404, `Order not found: holduntil`},
	}
	for _, c := range cases {
		if c.r.status != c.status || !strings.Contains(string(c.r.body), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, c.r.status, c.r.body, c.status, c.want)
		}
	}
	for _, k := range []string{"k540", "k541", "k542"} {
		if got, _ := e.sb.ShipStationOrder(k); got.HoldUntilDate != nil || got.OrderStatus == "on_hold" {
			t.Errorf("%s changed by a refused hold: %q %v", k, got.OrderStatus, got.HoldUntilDate)
		}
	}
	// Every open status can be held.
	if r := e.ssHold(pending.OrderID, "2026-11-30"); r.status != 200 {
		t.Errorf("awaiting_payment: %d %s", r.status, r.body)
	}
}

// TestSSHoldUntilGoesThroughTheFront: auth, the shared per-key rate limit
// and the fault knobs apply to holduntil as to every endpoint.
func TestSSHoldUntilGoesThroughTheFront(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now, ShipStationQuota: 3})
	o := putSSOrder(t, e.sb, "550", "k550", nil)

	req := newReq(t, "POST", e.ss.URL+"/orders/holduntil", map[string]any{"orderId": o.OrderID, "holdUntilDate": "2026-11-30"})
	if r := do(t, req); r.status != 401 {
		t.Fatalf("no auth: %d %s", r.status, r.body)
	}

	e.sb.SetShipStationFaults(Faults{Rate5xx: 1})
	if r := e.ssHold(o.OrderID, "2026-11-30"); r.status < 500 {
		t.Fatalf("5xx knob: %d", r.status)
	}
	if got, _ := e.sb.ShipStationOrder("k550"); got.OrderStatus != "awaiting_shipment" {
		t.Fatalf("a 5xx took effect: %q", got.OrderStatus)
	}
	e.sb.SetShipStationFaults(Faults{RateLostResponse: 1})
	if r := e.ssHold(o.OrderID, "2026-11-30"); r.status != 502 {
		t.Fatalf("lost response: %d", r.status)
	}
	if got, _ := e.sb.ShipStationOrder("k550"); got.OrderStatus != "on_hold" {
		t.Fatalf("a lost response did not take effect: %q", got.OrderStatus)
	}
	e.sb.SetShipStationFaults(Faults{})

	// The quota (3) is shared with the other endpoints: the 5xx and the
	// lost response counted, a GET takes the last request of the window.
	if r := e.ssDo("GET", "/orders", nil); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("last of the quota: %d %v", r.status, r.header)
	}
	r := e.ssHold(o.OrderID, "2026-11-30")
	if r.status != 429 || r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Reset") == "" {
		t.Fatalf("over quota: %d %v %s", r.status, r.header, r.body)
	}
	clk.Advance(DefaultShipStationWindow)
	if r := e.ssHold(o.OrderID, "2026-12-01"); r.status != 200 || r.header.Get("X-Rate-Limit-Remaining") != "2" {
		t.Fatalf("next window: %d %v %s", r.status, r.header, r.body)
	}
	if n := e.sb.Stats().ShipStation.RequestsByRoute["POST /orders/holduntil"]; n != 2 {
		t.Errorf("RequestsByRoute[holduntil] = %d, want 2 (lost response and success; 5xx and 429 are not routed)", n)
	}
}
