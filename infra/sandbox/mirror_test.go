package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hookEvent is one BigCommerce webhook as emitted, in emission order.
type hookEvent struct {
	seq    int
	scope  string
	id     int
	status *statusChange
}

// emittedEvents returns the delivered BigCommerce webhooks ordered by their
// emission sequence (the numeric suffix of the message id), whatever order
// the delivery workers sent them in.
func emittedEvents(t *testing.T, sb *Sandbox) []hookEvent {
	t.Helper()
	flush(t, sb)
	var out []hookEvent
	for _, d := range sb.WebhookLog() {
		if d.Duplicate {
			continue
		}
		i := strings.LastIndexByte(d.MessageID, '_')
		seq, err := strconv.Atoi(d.MessageID[i+1:])
		if err != nil {
			t.Fatalf("message id %q", d.MessageID)
		}
		var p struct {
			Data orderEvent `json:"data"`
		}
		if err := json.Unmarshal([]byte(d.Body), &p); err != nil {
			t.Fatalf("payload %s: %v", d.Body, err)
		}
		out = append(out, hookEvent{seq: seq, scope: d.Scope, id: p.Data.ID, status: p.Data.Status})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (h hookEvent) String() string {
	s := fmt.Sprintf("%s#%d", strings.TrimPrefix(h.scope, "store/order/"), h.id)
	if h.status != nil {
		s += fmt.Sprintf("(%d→%d)", h.status.Previous, h.status.New)
	}
	return s
}

func eventsString(evs []hookEvent) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = e.String()
	}
	return strings.Join(parts, " ")
}

func lineSKUs(o BCOrder) []string {
	var out []string
	for _, l := range o.Lines {
		out = append(out, fmt.Sprintf("%s×%d@%d", l.SKU, l.Quantity, l.UnitPriceCents))
	}
	return out
}

func TestMirrorAmazonOrderCopy(t *testing.T) {
	doc := loadSpec(t, "orders.v2.oas2.yml")
	clk := newFakeClock()
	e := newEnv(t, Options{Now: clk.Now})
	az := NewAmazon(AmazonOptions{Seed: 3, Now: clk.Now})
	ao := az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true, Business: true})

	c, err := e.sb.MirrorAmazonOrder("", ao)
	if err != nil {
		t.Fatal(err)
	}
	if c.ChannelID != 3 || c.ExternalOrderID != ao.OrderID || c.ExternalID != ao.OrderID || c.OrderSource != CopyOrderSource ||
		c.ExternalSource != "amazon" || c.EbayOrderID != "0" || c.StatusID != StatusAwaitingFulfillment || c.CurrencyCode != "USD" ||
		c.StaffNotes != "Amazon Order "+ao.OrderID {
		t.Fatalf("copy: %+v", c)
	}

	// The wire order.
	id := fmt.Sprint(c.ID)
	params := map[string]string{"order_id": id}
	r := e.bcDo("GET", "/v2/orders/"+id, nil)
	if r.status != 200 {
		t.Fatalf("get copy: %d %s", r.status, r.body)
	}
	validateResponse(t, doc, "GET", "/orders/{order_id}", params, r)
	var m map[string]any
	r.json(t, &m)
	want := map[string]any{
		"channel_id": float64(3), "external_order_id": ao.OrderID, "external_id": ao.OrderID, "order_source": "external",
		"external_source": "amazon", "ebay_order_id": "0", "status_id": float64(11), "status": "Awaiting Fulfillment",
		"currency_code": "USD", "items_total": float64(3), "total_tax": "0.0000", "payment_method": "Amazon",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	bill := m["billing_address"].(map[string]any)
	if bill["email"] != ao.Buyer.Email || fmt.Sprint(bill["first_name"], " ", bill["last_name"]) != ao.Buyer.Name {
		t.Errorf("billing: %v (buyer %+v)", bill, ao.Buyer)
	}

	r = e.bcDo("GET", "/v2/orders/"+id+"/products", nil)
	validateResponse(t, doc, "GET", "/orders/{order_id}/products", params, r)
	var products []map[string]any
	r.json(t, &products)
	if len(products) != len(ao.Items) {
		t.Fatalf("%d products, want %d", len(products), len(ao.Items))
	}
	for i, p := range products {
		it := ao.Items[i]
		cents, _ := parseMoneyCents(it.UnitPrice)
		if p["sku"] != it.SellerSKU || p["name"] != it.Title || p["quantity"] != float64(it.Quantity) ||
			p["price_ex_tax"] != money(cents) || p["price_inc_tax"] != money(cents) || p["type"] != "physical" {
			t.Errorf("product %d: %v, want %+v", i, p, it)
		}
	}

	r = e.bcDo("GET", "/v2/orders/"+id+"/shipping_addresses", nil)
	validateResponse(t, doc, "GET", "/orders/{order_id}/shipping_addresses", params, r)
	var addrs []map[string]any
	r.json(t, &addrs)
	a := ao.Address
	if len(addrs) != 1 || addrs[0]["street_1"] != a.AddressLine1 || addrs[0]["zip"] != a.PostalCode || addrs[0]["city"] != a.City ||
		addrs[0]["country_iso2"] != a.CountryCode || addrs[0]["country"] != "United States" || addrs[0]["company"] != a.CompanyName ||
		addrs[0]["phone"] != a.Phone || addrs[0]["shipping_method"] != "Standard" {
		t.Errorf("shipping address: %v, want %+v", addrs, a)
	}

	// Found by external_order_id and channel_id, as a hub looks for copies.
	r = e.bcDo("GET", "/v2/orders?channel_id=3&external_order_id="+ao.OrderID, nil)
	validateResponse(t, doc, "GET", "/orders", nil, r)
	var list []map[string]any
	r.json(t, &list)
	if len(list) != 1 || list[0]["id"] != float64(c.ID) {
		t.Errorf("filter by external_order_id: %s", r.body)
	}

	// The buyer's data is PII of the store like any order's.
	pii := e.sb.PIIValues("")
	for _, v := range []string{ao.Address.AddressLine1, ao.Address.Phone, ao.Buyer.Email} {
		if !slices.Contains(pii, v) {
			t.Errorf("PIIValues lacks %q", v)
		}
	}

	// A Japanese order keeps its currency; yen amounts have no minor unit.
	jp := az.GenerateOrder(AmazonOrderSpec{Japan: true})
	cj, err := e.sb.MirrorAmazonOrder("", jp)
	if err != nil {
		t.Fatal(err)
	}
	if cj.CurrencyCode != "JPY" || cj.ShippingAddresses[0].CountryISO2 != "JP" || cj.ShippingAddresses[0].Country != "Japan" ||
		money(cj.Lines[0].UnitPriceCents) != jp.Items[0].UnitPrice+".0000" {
		t.Errorf("JP copy: %s %+v %v (item price %s)", cj.CurrencyCode, cj.ShippingAddresses[0].Address, lineSKUs(cj), jp.Items[0].UnitPrice)
	}
	r = e.bcDo("GET", fmt.Sprintf("/v2/orders/%d", cj.ID), nil)
	validateResponse(t, doc, "GET", "/orders/{order_id}", map[string]string{"order_id": fmt.Sprint(cj.ID)}, r)

	// Cancelled orders are not copied.
	if err := az.CancelOrder(jp.OrderID); err != nil {
		t.Fatal(err)
	}
	cancelled, _ := az.Order(jp.OrderID)
	if _, err := e.sb.MirrorAmazonOrder("", cancelled); err == nil {
		t.Error("cancelled Amazon order copied")
	}
}

func TestMirrorNeedsChannel(t *testing.T) {
	e := newEnv(t, Options{Channels: []Channel{{ID: 1, Name: "Storefront", Platform: "bigcommerce", Type: "storefront", Status: "active"}}})
	az := NewAmazon(AmazonOptions{})
	if _, err := e.sb.MirrorAmazonOrder("", az.GenerateOrder(AmazonOrderSpec{})); err == nil || !strings.Contains(err.Error(), "amazon channel") {
		t.Errorf("copy without an Amazon channel: %v", err)
	}
	if _, err := e.sb.MirrorMarketplaceOrder("", MarketplaceOrder{Platform: "bigcommerce", OrderID: "1", Items: []MarketplaceItem{{SKU: "A", Title: "A", Quantity: 1}}}); err == nil {
		t.Error("bigcommerce is not a marketplace")
	}
	if _, err := e.sb.MirrorMarketplaceOrder("", MarketplaceOrder{Platform: "ebay", OrderID: "12-34567-89012"}); err == nil {
		t.Error("order without items copied")
	}
}

func TestEBayCopy(t *testing.T) {
	doc := loadSpec(t, "orders.v2.oas2.yml")
	e := newEnv(t, Options{Seed: 9})
	m := e.sb.GenerateEBayOrder()
	twin := New(Options{Seed: 9})
	defer twin.Close()
	if again := twin.GenerateEBayOrder(); again.OrderID != m.OrderID || again.ShipTo != m.ShipTo {
		t.Errorf("GenerateEBayOrder not deterministic: %s vs %s", again.OrderID, m.OrderID)
	}
	if !regexp.MustCompile(`^\d{2}-\d{5}-\d{5}$`).MatchString(m.OrderID) || m.Platform != "ebay" || len(m.Items) == 0 || m.ShipTo.CountryISO2 != "US" {
		t.Fatalf("eBay order: %+v", m)
	}
	c, err := e.sb.MirrorMarketplaceOrder("", m)
	if err != nil {
		t.Fatal(err)
	}
	if c.ChannelID != 4 || c.EbayOrderID != m.OrderID || c.ExternalOrderID != m.OrderID || c.ExternalSource != "ebay" || c.StaffNotes != "eBay Order "+m.OrderID {
		t.Fatalf("eBay copy: %+v", c)
	}
	id := fmt.Sprint(c.ID)
	r := e.bcDo("GET", "/v2/orders/"+id, nil)
	validateResponse(t, doc, "GET", "/orders/{order_id}", map[string]string{"order_id": id}, r)
	var w map[string]any
	r.json(t, &w)
	if w["channel_id"] != float64(4) || w["ebay_order_id"] != m.OrderID || w["external_order_id"] != m.OrderID {
		t.Errorf("wire: channel %v ebay %v external %v", w["channel_id"], w["ebay_order_id"], w["external_order_id"])
	}
	r = e.bcDo("GET", "/v2/orders/"+id+"/products", nil)
	validateResponse(t, doc, "GET", "/orders/{order_id}/products", map[string]string{"order_id": id}, r)
	var products []map[string]any
	r.json(t, &products)
	for i, p := range products {
		if p["sku"] != m.Items[i].SKU || p["quantity"] != float64(m.Items[i].Quantity) {
			t.Errorf("product %d: %v, want %+v", i, p, m.Items[i])
		}
	}
	if got := c.ShippingAddresses[0].ShippingCostCents; got != m.ShippingCostCents {
		t.Errorf("shipping cost %d, want %d", got, m.ShippingCostCents)
	}
	if len(e.sb.CopiesOf("", m.OrderID)) != 1 {
		t.Error("CopiesOf misses the eBay copy")
	}
}

func TestRecreateCopy(t *testing.T) {
	for _, createFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("createFirst=%v", createFirst), func(t *testing.T) {
			doc := loadSpec(t, "orders.v2.oas2.yml")
			rec := newReceiver(t, nil)
			clk := newFakeClock()
			e := newEnv(t, Options{Now: clk.Now, Webhooks: []WebhookDestination{{URL: rec.srv.URL}}})
			az := NewAmazon(AmazonOptions{Seed: 5, Now: clk.Now})
			ao := az.GenerateOrder(AmazonOrderSpec{Items: 3, Unshipped: true})
			old, err := e.sb.MirrorAmazonOrder("", ao)
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(90 * time.Second)
			recreate := e.sb.RecreateCopy
			if createFirst {
				recreate = e.sb.RecreateCopyCreateFirst
			}
			n, err := recreate("", old.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n.ID == old.ID || n.ExternalOrderID != ao.OrderID || n.ExternalID != ao.OrderID || n.ChannelID != 3 ||
				n.StatusID != StatusAwaitingFulfillment || n.StaffNotes != old.StaffNotes || !n.DateCreated.Equal(clk.Now()) {
				t.Fatalf("new copy: %+v", n)
			}
			if !slices.Equal(lineSKUs(n), lineSKUs(old)) || n.ShippingAddresses[0].Address != old.ShippingAddresses[0].Address || n.Billing != old.Billing {
				t.Errorf("content differs: %v vs %v", lineSKUs(n), lineSKUs(old))
			}
			for i, l := range n.Lines {
				if l.ID == old.Lines[i].ID || l.OrderAddressID != n.ShippingAddresses[0].ID || n.ShippingAddresses[0].ID == old.ShippingAddresses[0].ID {
					t.Errorf("line %d keeps old ids: %+v", i, l)
				}
			}
			gone, _ := e.sb.Order("", old.ID)
			if gone.StatusID != StatusCancelled {
				t.Errorf("old copy status %d", gone.StatusID)
			}

			copies := e.sb.CopiesOf("", ao.OrderID)
			if len(copies) != 2 || copies[0].ID != old.ID || copies[1].ID != n.ID || copies[0].StatusID != StatusCancelled {
				t.Fatalf("CopiesOf: %+v", copies)
			}

			// Events: the old copy's cancellation and the new copy's creation,
			// in the variant's order.
			evs := emittedEvents(t, e.sb)
			var wantEv string
			if createFirst {
				wantEv = fmt.Sprintf("created#%d created#%d updated#%d statusUpdated#%d(11→5)", old.ID, n.ID, old.ID, old.ID)
			} else {
				wantEv = fmt.Sprintf("created#%d updated#%d statusUpdated#%d(11→5) created#%d", old.ID, old.ID, old.ID, n.ID)
			}
			if got := eventsString(evs); got != wantEv {
				t.Errorf("events %s, want %s", got, wantEv)
			}

			// Over the API: the old one is cancelled, both carry the external id.
			r := e.bcDo("GET", "/v2/orders?external_order_id="+ao.OrderID, nil)
			validateResponse(t, doc, "GET", "/orders", nil, r)
			var list []map[string]any
			r.json(t, &list)
			if len(list) != 2 || list[0]["status_id"] != float64(5) || list[1]["status_id"] != float64(11) || list[1]["external_order_id"] != ao.OrderID {
				t.Errorf("list: %s", r.body)
			}

			// A cancelled copy cannot be recreated; neither can a storefront order.
			if _, err := e.sb.RecreateCopy("", old.ID); !errors.Is(err, ErrNotACopy) {
				t.Errorf("recreate of cancelled copy: %v", err)
			}
			plain, err := e.sb.CreateOrder(simpleSpec(1))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sb.RecreateCopy("", plain.ID); !errors.Is(err, ErrNotACopy) {
				t.Errorf("recreate of storefront order: %v", err)
			}
			if _, err := e.sb.RecreateCopy("", 99999); err == nil {
				t.Error("recreate of missing order")
			}
		})
	}
}

func TestRecreateShippedCopyRefused(t *testing.T) {
	e := newEnv(t, Options{})
	az := NewAmazon(AmazonOptions{})
	c, err := e.sb.MirrorAmazonOrder("", az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true}))
	if err != nil {
		t.Fatal(err)
	}
	r := e.bcDo("POST", fmt.Sprintf("/v2/orders/%d/shipments", c.ID), map[string]any{
		"order_address_id": c.ShippingAddresses[0].ID, "tracking_number": "1Z1", "shipping_provider": "ups",
		"items": []map[string]int{{"order_product_id": c.Lines[0].ID, "quantity": 1}},
	})
	if r.status != 201 {
		t.Fatalf("shipment: %d %s", r.status, r.body)
	}
	if _, err := e.sb.RecreateCopy("", c.ID); !errors.Is(err, ErrNotACopy) {
		t.Errorf("recreate of shipped copy: %v", err)
	}
}

func TestCancelCopies(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Webhooks: []WebhookDestination{{URL: rec.srv.URL}}})
	az := NewAmazon(AmazonOptions{})
	ao := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	first, err := e.sb.MirrorAmazonOrder("", ao)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.sb.RecreateCopy("", first.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.sb.CancelCopies("", ao.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != second.ID || got[0].StatusID != StatusCancelled {
		t.Fatalf("CancelCopies: %+v", got)
	}
	evs := emittedEvents(t, e.sb)
	if last := evs[len(evs)-1]; last.scope != "store/order/statusUpdated" || last.id != second.ID || last.status.New != StatusCancelled {
		t.Errorf("last event %s", last)
	}
	for _, c := range e.sb.CopiesOf("", ao.OrderID) {
		if c.StatusID != StatusCancelled {
			t.Errorf("copy %d still %s", c.ID, c.StatusName())
		}
	}
	if again, _ := e.sb.CancelCopies("", ao.OrderID); len(again) != 0 {
		t.Errorf("second CancelCopies cancelled %d", len(again))
	}
	if e.sb.CopiesOf("", "no-such-order") != nil {
		t.Error("CopiesOf of an unknown order")
	}
}

func TestMirrorPlans(t *testing.T) {
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = fmt.Sprintf("111-%07d-%07d", i*7919%10000000, i)
	}
	opts := MirrorOptions{CopyBeforeShare: 0.3, RecreateShare: 0.2, CreateFirstShare: 0.5, Seed: 11}
	a, b := NewMirror(nil, nil, opts), NewMirror(nil, nil, opts)
	// Same seed, any call order: same plans.
	reversed := map[string]MirrorPlan{}
	for i := len(ids) - 1; i >= 0; i-- {
		reversed[ids[i]] = b.Plan(AmazonOrder{OrderID: ids[i]})
	}
	var before, recreate, first int
	for _, id := range ids {
		p := a.Plan(AmazonOrder{OrderID: id})
		if q := reversed[id]; q != p {
			t.Fatalf("plans differ for %s: %+v vs %+v", id, p, q)
		}
		if p.OrderID != id || (p.CreateFirst && !p.Recreate) {
			t.Fatalf("plan %+v", p)
		}
		if p.CopyBefore {
			before++
		}
		if p.Recreate {
			recreate++
			if p.CreateFirst {
				first++
			}
		}
	}
	share := func(n, of int) float64 { return float64(n) / float64(of) }
	if s := share(before, len(ids)); s < 0.25 || s > 0.35 {
		t.Errorf("CopyBefore share %.3f, want ≈0.3", s)
	}
	if s := share(recreate, len(ids)); s < 0.16 || s > 0.24 {
		t.Errorf("Recreate share %.3f, want ≈0.2", s)
	}
	if s := share(first, recreate); s < 0.4 || s > 0.6 {
		t.Errorf("CreateFirst share %.3f, want ≈0.5", s)
	}
	other := NewMirror(nil, nil, MirrorOptions{CopyBeforeShare: 0.3, RecreateShare: 0.2, CreateFirstShare: 0.5, Seed: 12})
	diff := 0
	for _, id := range ids {
		if other.Plan(AmazonOrder{OrderID: id}) != a.Plan(AmazonOrder{OrderID: id}) {
			diff++
		}
	}
	if diff == 0 {
		t.Error("the seed does not matter")
	}
	all := NewMirror(nil, nil, MirrorOptions{CopyBeforeShare: 1, RecreateShare: 1, CreateFirstShare: 1})
	none := NewMirror(nil, nil, MirrorOptions{})
	for _, id := range ids[:50] {
		if p := all.Plan(AmazonOrder{OrderID: id}); !p.CopyBefore || !p.Recreate || !p.CreateFirst {
			t.Fatalf("shares 1: %+v", p)
		}
		if p := none.Plan(AmazonOrder{OrderID: id}); p.CopyBefore || p.Recreate || p.CreateFirst {
			t.Fatalf("shares 0: %+v", p)
		}
	}
}

func TestMirrorRun(t *testing.T) {
	e := newEnv(t, Options{})
	az := NewAmazon(AmazonOptions{Seed: 4})

	// Everything before, every copy recreated cancel-first.
	m := NewMirror(e.sb, az, MirrorOptions{CopyBeforeShare: 1, RecreateShare: 1})
	ao := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	p, err := m.BeforeVisible(ao)
	if err != nil || !p.CopyBefore || !p.Recreate || p.CreateFirst {
		t.Fatalf("plan %+v, %v", p, err)
	}
	if n := len(e.sb.CopiesOf("", ao.OrderID)); n != 1 {
		t.Fatalf("%d copies after BeforeVisible", n)
	}
	if _, err := m.AfterVisible(ao.OrderID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sb.CopiesOf("", ao.OrderID)); n != 1 {
		t.Fatalf("AfterVisible copied again: %d copies", n)
	}
	n, ok, err := m.Recreate(ao.OrderID)
	if err != nil || !ok || n.ExternalOrderID != ao.OrderID {
		t.Fatalf("Recreate: %+v %v %v", n, ok, err)
	}
	if _, ok, _ := m.Recreate(ao.OrderID); ok {
		t.Error("recreated twice")
	}
	copies := e.sb.CopiesOf("", ao.OrderID)
	if len(copies) != 2 || copies[0].StatusID != StatusCancelled || copies[1].ID != n.ID {
		t.Fatalf("copies %+v", copies)
	}
	if c, ok, err := m.Copy(ao); err != nil || !ok || c.ID != n.ID {
		t.Errorf("Copy returns the live copy: %d %v %v", c.ID, ok, err)
	}

	// Everything after, nothing recreated.
	later := NewMirror(e.sb, az, MirrorOptions{})
	bo := az.GenerateOrder(AmazonOrderSpec{Unshipped: true, Items: 2})
	if p, err := later.BeforeVisible(bo); err != nil || p.CopyBefore {
		t.Fatalf("plan %+v, %v", p, err)
	}
	if n := len(e.sb.CopiesOf("", bo.OrderID)); n != 0 {
		t.Fatalf("copied before: %d", n)
	}
	if _, err := later.AfterVisible(bo.OrderID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sb.CopiesOf("", bo.OrderID)); n != 1 {
		t.Fatalf("%d copies after AfterVisible", n)
	}
	if _, ok, err := later.Recreate(bo.OrderID); ok || err != nil {
		t.Errorf("recreate without plan: %v %v", ok, err)
	}

	// Cancelled before the copy was due: skipped. Cancelled after: the
	// copy follows.
	co := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	if _, err := later.BeforeVisible(co); err != nil {
		t.Fatal(err)
	}
	if err := az.CancelOrder(co.OrderID); err != nil {
		t.Fatal(err)
	}
	if _, err := later.AfterVisible(co.OrderID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sb.CopiesOf("", co.OrderID)); n != 0 {
		t.Errorf("cancelled order copied: %d", n)
	}
	if err := az.CancelOrder(bo.OrderID); err != nil {
		t.Fatal(err)
	}
	got, err := later.SyncCancellations()
	if err != nil || len(got) != 1 || got[0].ExternalOrderID != bo.OrderID || got[0].StatusID != StatusCancelled {
		t.Fatalf("SyncCancellations: %+v %v", got, err)
	}
	if again, _ := later.SyncCancellations(); len(again) != 0 {
		t.Errorf("second sync cancelled %d", len(again))
	}
	if st := later.Stats(); st != (MirrorStats{Copies: 1, Cancelled: 1, Skipped: 1}) {
		t.Errorf("stats %+v", st)
	}
	if st := m.Stats(); st != (MirrorStats{Copies: 1, Recreated: 1}) {
		t.Errorf("stats %+v", st)
	}
	if _, err := NewMirror(e.sb, nil, MirrorOptions{}).AfterVisible(ao.OrderID); err == nil {
		t.Error("AfterVisible without Amazon")
	}
}

// ---- Duplicates ----

func TestDefaultSourceKey(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		key, source, cf1 string
		want             string
	}{
		{"amazon:amazon-us:113-4567890-1234567", "amazon", "", "amazon:113-4567890-1234567"},
		{"amazon:113-4567890-1234567", "bigcommerce", "105", "amazon:113-4567890-1234567"},
		{"Amazon:amazon-us:113-4567890-1234567/2", "amazon", "", "amazon:113-4567890-1234567/2"},
		{"amazon:amazon-us:113-4567890-1234567", "amazon", "ATVPDKIKX0DER", "amazon:113-4567890-1234567"},
		{"ebay:ebay-us:12-34567-89012", "ebay", "", "ebay:12-34567-89012"},
		{"bigcommerce:bc-main:105", "BigCommerce", "105", "bigcommerce:105"},
		{"bigcommerce:bc-main:105", "bigcommerce", "", ""},
		{"k1", "", "", ""},
		{"amazon::113", "", "", ""},
		{"amazon:a:b:c", "", "", ""},
	}
	for _, c := range cases {
		o := &SSOrder{OrderKey: c.key, AdvancedOptions: &SSAdvancedOptions{}}
		if c.source != "" {
			o.AdvancedOptions.Source = str(c.source)
		}
		if c.cf1 != "" {
			o.AdvancedOptions.CustomField1 = str(c.cf1)
		}
		if got := DefaultSourceKey(o); got != c.want {
			t.Errorf("DefaultSourceKey(%s, %s, %s) = %q, want %q", c.key, c.source, c.cf1, got, c.want)
		}
	}
	if got := DefaultSourceKey(&SSOrder{OrderKey: "x"}); got != "" {
		t.Errorf("no advancedOptions: %q", got)
	}
}

func TestDuplicatesIgnoreCancelled(t *testing.T) {
	e := newEnv(t, Options{})
	putSSOrder(t, e.sb, "700", "k700a", nil)
	putSSOrder(t, e.sb, "700", "k700b", nil) // same number and source (bigcommerce:700)
	rep := e.sb.ShipStationDuplicates()
	if rep.ByOrderNumber != 1 || rep.BySource != 1 || rep.Total != 2 {
		t.Fatalf("live duplicates: %+v", rep)
	}
	if err := e.sb.SetShipStationOrderStatus("k700b", "cancelled"); err != nil {
		t.Fatal(err)
	}
	rep = e.sb.ShipStationDuplicates()
	if rep.Total != 0 || len(rep.Groups) != 0 {
		t.Fatalf("cancelled order still counted: %+v", rep)
	}
	if st := e.sb.Stats().ShipStation; st.Duplicates != 0 || st.DuplicatesBySource != 0 {
		t.Fatalf("stats: %+v", st)
	}
	// Shipped orders are still duplicates.
	putSSOrder(t, e.sb, "700", "k700c", nil)
	if err := e.sb.SetShipStationOrderStatus("k700c", "shipped"); err != nil {
		t.Fatal(err)
	}
	if rep := e.sb.ShipStationDuplicates(); rep.ByOrderNumber != 1 || rep.BySource != 1 {
		t.Fatalf("shipped duplicate not counted: %+v", rep)
	}
}

// pushCopyLike stores the ShipStation orders a hub that does not recognise
// copies would make: the Amazon import and the copy as a plain BigCommerce
// order.
func pushCopyLike(t *testing.T, sb *Sandbox, amazonID string, bcKey string, bcID int) {
	t.Helper()
	putSSOrder(t, sb, amazonID, "amazon:amazon-us:"+amazonID, func(m map[string]any) {
		m["advancedOptions"] = map[string]any{"storeId": 22767, "source": "amazon"}
	})
	putSSOrder(t, sb, fmt.Sprint(bcID), bcKey, nil)
}

func TestDuplicatesRelateCopies(t *testing.T) {
	e := newEnv(t, Options{})
	az := NewAmazon(AmazonOptions{Seed: 8})
	ao := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	c, err := e.sb.MirrorAmazonOrder("", ao)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.sb.CreateOrder(simpleSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	// The hub's store id ("bc-main") is not the store hash: with one store
	// the sandbox still resolves it.
	copyKey := fmt.Sprintf("bigcommerce:bc-main:%d", c.ID)
	pushCopyLike(t, e.sb, ao.OrderID, copyKey, c.ID)
	putSSOrder(t, e.sb, fmt.Sprint(plain.ID), fmt.Sprintf("bigcommerce:bc-main:%d", plain.ID), nil)
	rep := e.sb.ShipStationDuplicates()
	if rep.BySource != 1 || rep.ByOrderNumber != 0 || len(rep.Groups) != 1 {
		t.Fatalf("copy not related: %+v", rep)
	}
	g := rep.Groups[0]
	if g.Kind != "source" || g.Key != "amazon:"+ao.OrderID || !slices.Equal(g.OrderKeys, []string{"amazon:amazon-us:" + ao.OrderID, copyKey}) {
		t.Fatalf("group %+v", g)
	}
	if st := e.sb.Stats().ShipStation; st.DuplicatesBySource != 1 {
		t.Errorf("stats by source %d", st.DuplicatesBySource)
	}

	// The hub hides the copy: cancelled in ShipStation, no longer a duplicate.
	if err := e.sb.SetShipStationOrderStatus(copyKey, "cancelled"); err != nil {
		t.Fatal(err)
	}
	if rep := e.sb.ShipStationDuplicates(); rep.Total != 0 {
		t.Fatalf("hidden copy counted: %+v", rep)
	}

	// A recreated copy pushed again (new BigCommerce id) is caught too,
	// also when only source + customField1 name it.
	n, err := e.sb.RecreateCopy("", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	putSSOrder(t, e.sb, fmt.Sprint(n.ID), "generated-key-1", func(m map[string]any) {
		m["advancedOptions"].(map[string]any)["customField1"] = fmt.Sprint(n.ID)
	})
	rep = e.sb.ShipStationDuplicates()
	if rep.BySource != 1 || rep.Groups[0].Key != "amazon:"+ao.OrderID {
		t.Fatalf("recreated copy not related: %+v", rep)
	}

	// A copy the hub recognised and pushed under its origin upserts the
	// import's key spelling "amazon:<id>" and is related by DefaultSourceKey.
	bo := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	putSSOrder(t, e.sb, bo.OrderID, "amazon:amazon-us:"+bo.OrderID, nil)
	putSSOrder(t, e.sb, bo.OrderID+"-copy", "amazon:"+bo.OrderID, nil)
	rep = e.sb.ShipStationDuplicates()
	if rep.BySource != 2 {
		t.Fatalf("origin-keyed copy not related: %+v", rep)
	}
}

func TestDuplicatesSeveralStores(t *testing.T) {
	e := newEnv(t, Options{Stores: []StoreConfig{
		{Hash: "store1", StoreID: "1001", Tokens: []string{"t1"}},
		{Hash: "store2", StoreID: "1002", Tokens: []string{"t2"}},
	}})
	az := NewAmazon(AmazonOptions{Seed: 2})
	a1 := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	a2 := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	c1, err := e.sb.MirrorAmazonOrder("store1", a1)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.sb.MirrorAmazonOrder("store2", a2)
	if err != nil {
		t.Fatal(err)
	}
	if c1.ID != c2.ID {
		t.Fatalf("test assumes equal ids in both stores: %d %d", c1.ID, c2.ID)
	}
	// Named by store hash and by store id: related.
	pushCopyLike(t, e.sb, a1.OrderID, fmt.Sprintf("bigcommerce:store1:%d", c1.ID), c1.ID)
	putSSOrder(t, e.sb, a2.OrderID, "amazon:amazon-us:"+a2.OrderID, func(m map[string]any) {
		m["advancedOptions"] = map[string]any{"storeId": 22767, "source": "amazon"}
	})
	putSSOrder(t, e.sb, "x2", fmt.Sprintf("bigcommerce:1002:%d", c2.ID), func(m map[string]any) {
		m["advancedOptions"].(map[string]any)["storeId"] = 22770
	})
	if rep := e.sb.ShipStationDuplicates(); rep.BySource != 2 || rep.ByOrderNumber != 0 {
		t.Fatalf("copies in two stores: %+v", rep)
	}

	// A store name the sandbox does not know cannot be resolved among
	// several stores; the test declares the relation.
	a3 := az.GenerateOrder(AmazonOrderSpec{Unshipped: true})
	c3, err := e.sb.MirrorAmazonOrder("store2", a3)
	if err != nil {
		t.Fatal(err)
	}
	putSSOrder(t, e.sb, a3.OrderID, "amazon:amazon-us:"+a3.OrderID, func(m map[string]any) {
		m["advancedOptions"] = map[string]any{"storeId": 22767, "source": "amazon"}
	})
	key3 := fmt.Sprintf("bigcommerce:bc-two:%d", c3.ID)
	putSSOrder(t, e.sb, "x3", key3, func(m map[string]any) {
		m["advancedOptions"].(map[string]any)["storeId"] = 22770
		m["advancedOptions"].(map[string]any)["customField1"] = "x3"
	})
	if rep := e.sb.ShipStationDuplicates(); rep.BySource != 2 {
		t.Fatalf("unknown store resolved: %+v", rep)
	}
	e.sb.SetSourceKeyOf(key3, "amazon:"+a3.OrderID)
	if rep := e.sb.ShipStationDuplicates(); rep.BySource != 3 {
		t.Fatalf("declared relation ignored: %+v", rep)
	}
	e.sb.SetSourceKeyOf(key3, "")
	if rep := e.sb.ShipStationDuplicates(); rep.BySource != 2 {
		t.Fatalf("declaration not removed: %+v", rep)
	}
}
