package bigcommerce

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

const orderJSON = `{
  "id": 229, "status_id": 11, "status": "Awaiting Fulfillment",
  "date_created": "Fri, 21 Nov 2026 17:03:20 +0000",
  "date_modified": "Fri, 21 Nov 2026 18:03:21 +0100",
  "currency_code": "USD",
  "total_inc_tax": "43.2000", "refunded_amount": "0.1000", "total_tax": "2.5000",
  "shipping_cost_inc_tax": "12.9900",
  "payment_method": "Credit Card", "staff_notes": "fragile", "customer_message": "ring twice",
  "billing_address": {"first_name": "Jane", "last_name": "Doe", "company": "Acme", "street_1": "455 Main Street",
    "street_2": "Apt 1", "city": "Austin", "state": "Texas", "zip": "78751", "country": "United States",
    "country_iso2": "US", "phone": "555-123-4567", "email": "janedoe@example.com"}
}`

const productsJSON = `[
  {"id": 66, "order_address_id": 133, "product_id": 78, "name": "Mug", "sku": "MUG-1", "type": "physical",
   "quantity": 2, "quantity_shipped": 1, "price_inc_tax": "0.1000", "weight": 1.5, "upc": "123",
   "product_options": [{"display_name": "Colour", "display_value": "Black", "value": "{\"junk\":1}"}]},
  {"id": 65, "order_address_id": 132, "product_id": 77, "name": "Towel", "sku": "TWL-1", "type": "physical",
   "quantity": 1, "quantity_shipped": "0", "price_inc_tax": "0.2000", "weight": "0.0000"},
  {"id": 67, "order_address_id": 0, "name": "E-book", "type": "digital", "quantity": 1, "price_inc_tax": "5.0000"},
  {"id": 68, "order_address_id": 0, "name": "Gift card", "type": "giftcertificate", "quantity": 1, "price_inc_tax": "25.0000"}
]`

const addrsJSON = `[
  {"id": 133, "first_name": "Jane", "last_name": "Doe", "street_1": "555 Main Street", "city": "Austin",
   "state": "Texas", "zip": "78751", "country_iso2": "US", "email": "janedoe@example.com", "phone": "",
   "shipping_method": "Free Shipping", "cost_inc_tax": "0.0000"},
  {"id": 132, "first_name": "Trishy", "last_name": "Smith", "company": "Acme Pty Ltd", "street_1": "666 Sussex St",
   "city": "San Antonio", "state": "Texas", "zip": "78251", "country_iso2": "US", "phone": "555-0000",
   "shipping_method": "UPS Ground", "cost_inc_tax": "12.9900"}
]`

func TestNormalizeMultiAddressWithDigitalLine(t *testing.T) {
	o := decode[Order](t, orderJSON)
	got, disp, err := Normalize("bc-main", &o, decode[[]Product](t, productsJSON), decode[[]ShippingAddress](t, addrsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if disp != order.Import || got.Status != order.AwaitingShipment || got.ChannelStatus != "Awaiting Fulfillment" {
		t.Errorf("disp %v status %q %q", disp, got.Status, got.ChannelStatus)
	}
	if got.ID != "bigcommerce:bc-main:229" || got.OrderNumber != "229" || got.ChannelOrderID != "229" || got.Origin != nil {
		t.Errorf("identity %q %q %q %v", got.ID, got.OrderNumber, got.ChannelOrderID, got.Origin)
	}
	if !got.OrderDate.Equal(time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)) || got.OrderDate.Location() != time.UTC {
		t.Errorf("order date %v", got.OrderDate)
	}
	if !got.ModifiedAt.Equal(time.Date(2026, 11, 21, 17, 3, 21, 0, time.UTC)) || got.ModifiedAt.Location() != time.UTC {
		t.Errorf("modified %v", got.ModifiedAt)
	}
	if got.Total != "43.2" || got.AmountPaid != "43.1" || got.TaxAmount != "2.5" || got.ShippingPaid != "12.99" || got.Currency != "USD" {
		t.Errorf("money %q %q %q %q", got.Total, got.AmountPaid, got.TaxAmount, got.ShippingPaid)
	}
	keys := []string{}
	for _, g := range got.ShipGroups {
		keys = append(keys, g.Key)
	}
	if !reflect.DeepEqual(keys, []string{"132", "133"}) {
		t.Fatalf("groups %v", keys)
	}
	if g := got.ShipGroups[0]; g.ShipTo != (order.Address{City: "San Antonio", State: "Texas", PostalCode: "78251", Country: "US"}) ||
		g.ShippingMethod != "UPS Ground" || g.ShippingCost != "12.99" {
		t.Errorf("group 132 %+v", g)
	}
	if got.RequestedService != "UPS Ground" {
		t.Errorf("requested service %q", got.RequestedService)
	}
	if len(got.Items) != 2 {
		t.Fatalf("items %+v", got.Items)
	}
	mug := got.ItemsOf("133")
	if len(mug) != 1 || mug[0].LineID != "66" || mug[0].SKU != "MUG-1" || mug[0].Quantity != 2 || mug[0].QuantityShipped != 1 ||
		mug[0].UnitPrice != "0.1" || mug[0].ProductID != "78" || mug[0].UPC != "123" ||
		!reflect.DeepEqual(mug[0].Weight, &order.Weight{Value: "1.5", Units: "pounds"}) ||
		!reflect.DeepEqual(mug[0].Options, []order.Option{{Name: "Colour", Value: "Black"}}) {
		t.Errorf("mug %+v", mug)
	}
	towel := got.ItemsOf("132")
	if len(towel) != 1 || towel[0].LineID != "65" || towel[0].Weight != nil {
		t.Errorf("towel %+v", towel)
	}
	// Money stays exact decimal text: 0.1 × 2 + 0.2 = 0.4.
	sum := mug[0].UnitPrice.Mul(mug[0].Quantity).Add(towel[0].UnitPrice)
	if sum != "0.4" {
		t.Errorf("sum = %q", sum)
	}
	if got.InternalNotes != "fragile" || got.PaymentMethod != "Credit Card" {
		t.Errorf("notes %q %q", got.InternalNotes, got.PaymentMethod)
	}
	// PII only in Personal.
	p := got.Personal
	if p == nil || p.CustomerNotes != "ring twice" || p.Email != "janedoe@example.com" ||
		p.BillTo != (order.Contact{Name: "Jane Doe", Company: "Acme", Street1: "455 Main Street", Street2: "Apt 1", Phone: "555-123-4567", Email: "janedoe@example.com"}) {
		t.Errorf("personal %+v", p)
	}
	if c := p.ShipTo["132"]; c.Name != "Trishy Smith" || c.Company != "Acme Pty Ltd" || c.Street1 != "666 Sussex St" || c.Phone != "555-0000" {
		t.Errorf("ship-to 132 %+v", c)
	}
	if len(p.ShipTo) != 2 {
		t.Errorf("ship-to %+v", p.ShipTo)
	}
	if got.BillTo != (order.Address{City: "Austin", State: "Texas", PostalCode: "78751", Country: "US"}) {
		t.Errorf("bill-to %+v", got.BillTo)
	}
	canon, _ := json.Marshal(got)
	for _, s := range []string{"Jane", "Doe", "Main Street", "555-", "example.com", "ring twice", "Trishy"} {
		if strings.Contains(string(canon), s) {
			t.Errorf("canonical order leaks %q: %s", s, canon)
		}
	}
	if !got.Pushable() {
		t.Error("not pushable")
	}
	if err := got.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestNormalizeSingleAddress(t *testing.T) {
	o := decode[Order](t, orderJSON)
	addrs := decode[[]ShippingAddress](t, addrsJSON)[:1]
	got, _, err := Normalize("s", &o, decode[[]Product](t, productsJSON), addrs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ShipGroups) != 1 || got.ShipGroups[0].Key != "" || len(got.Items) != 2 {
		t.Fatalf("%+v", got.ShipGroups)
	}
	for _, it := range got.Items {
		if it.Group != "" {
			t.Errorf("item group %q", it.Group)
		}
	}
	if _, ok := got.Personal.ShipTo[""]; !ok {
		t.Error("no ship-to contact for group \"\"")
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestNormalizeDigitalOnly(t *testing.T) {
	o := decode[Order](t, orderJSON)
	prods := decode[[]Product](t, productsJSON)[2:]
	got, disp, err := Normalize("s", &o, prods, nil)
	if err != nil {
		t.Fatal(err)
	}
	if disp != order.Import || got.Pushable() || len(got.Items) != 0 {
		t.Errorf("digital-only: disp %v pushable %v items %d", disp, got.Pushable(), len(got.Items))
	}
	if len(got.ShipGroups) != 1 || got.ShipGroups[0].Key != "" || got.ShipGroups[0].ShipTo.City != "Austin" {
		t.Errorf("groups %+v", got.ShipGroups)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	// Several addresses but only digital lines: still one well-formed group.
	got, _, err = Normalize("s", &o, prods, decode[[]ShippingAddress](t, addrsJSON))
	if err != nil || got.Pushable() || len(got.ShipGroups) != 1 || got.Validate() != nil {
		t.Errorf("multi-address digital: %+v %v", got.ShipGroups, err)
	}
}

func TestNormalizeEachStatus(t *testing.T) {
	want := map[int]struct {
		s order.Status
		d order.Disposition
	}{
		0: {"", order.Ignore}, 1: {"", order.Ignore},
		2: {order.Shipped, order.Import}, 3: {order.AwaitingShipment, order.Import},
		4: {order.Cancelled, order.Import}, 5: {order.Cancelled, order.Import}, 6: {order.Cancelled, order.Import},
		7: {order.AwaitingPayment, order.Import}, 8: {order.AwaitingShipment, order.Import},
		9: {order.AwaitingShipment, order.Import}, 10: {order.Shipped, order.Import},
		11: {order.AwaitingShipment, order.Import}, 12: {order.OnHold, order.Import},
		13: {order.OnHold, order.Import}, 14: {order.AwaitingShipment, order.Import},
	}
	for id := 0; id <= 14; id++ {
		o := decode[Order](t, orderJSON)
		o.StatusID = id
		got, disp, err := Normalize("s", &o, nil, nil)
		if err != nil {
			t.Errorf("status %d: %v", id, err)
			continue
		}
		if got.Status != want[id].s || disp != want[id].d {
			t.Errorf("status %d: got %q/%v want %q/%v", id, got.Status, disp, want[id].s, want[id].d)
		}
	}
	for _, id := range []int{15, -1, 99} {
		o := decode[Order](t, orderJSON)
		o.StatusID = id
		if _, _, err := Normalize("s", &o, nil, nil); err == nil || !strings.Contains(err.Error(), "status_id") {
			t.Errorf("status %d: err = %v", id, err)
		}
	}
}

func TestNormalizeBadData(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(o *Order, p []Product, a []ShippingAddress)
		field string
	}{
		{"total", func(o *Order, _ []Product, _ []ShippingAddress) { o.TotalIncTax = "12,50" }, "total_inc_tax"},
		{"tax", func(o *Order, _ []Product, _ []ShippingAddress) { o.TotalTax = "NaN" }, "total_tax"},
		{"modified", func(o *Order, _ []Product, _ []ShippingAddress) { o.DateModified = "yesterday" }, "date_modified"},
		{"created empty", func(o *Order, _ []Product, _ []ShippingAddress) { o.DateCreated = "" }, "date_created"},
		{"price", func(_ *Order, p []Product, _ []ShippingAddress) { p[0].PriceIncTax = "x" }, "products[0].price_inc_tax"},
		{"weight", func(_ *Order, p []Product, _ []ShippingAddress) { p[1].Weight = "heavy" }, "products[1].weight"},
		{"qty shipped", func(_ *Order, p []Product, _ []ShippingAddress) { p[0].QuantityShipped = "1.5" }, "products[0].quantity_shipped"},
		{"line id", func(_ *Order, p []Product, _ []ShippingAddress) { p[0].ID = 0 }, "products[0].id"},
		{"address", func(_ *Order, p []Product, _ []ShippingAddress) { p[0].OrderAddressID = 999 }, "products[0].order_address_id"},
		{"ship cost", func(_ *Order, _ []Product, a []ShippingAddress) { a[1].CostIncTax = "?" }, "cost_inc_tax"},
		{"order id", func(o *Order, _ []Product, _ []ShippingAddress) { o.ID = 0 }, "id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := decode[Order](t, orderJSON)
			p := decode[[]Product](t, productsJSON)
			a := decode[[]ShippingAddress](t, addrsJSON)
			tc.edit(&o, p, a)
			_, _, err := Normalize("s", &o, p, a)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want field %q", err, tc.field)
			}
			if err != nil && strings.Contains(err.Error(), "example.com") {
				t.Errorf("error leaks PII: %v", err)
			}
		})
	}
	if _, _, err := Normalize("s", nil, nil, nil); err == nil {
		t.Error("nil order accepted")
	}
	o := decode[Order](t, orderJSON)
	if _, _, err := Normalize("bad:store", &o, nil, nil); err == nil {
		t.Error("bad store id accepted")
	}
}

func TestFlexStringDecodesNumbersExactly(t *testing.T) {
	o := decode[Order](t, `{"id":1,"total_inc_tax":43.20,"total_tax":null,"refunded_amount":"0","customer_id":5,"ebay_order_id":"0"}`)
	if o.TotalIncTax != "43.20" || o.TotalTax != "" || o.CustomerID != "5" {
		t.Errorf("%+v", o)
	}
	var f FlexString
	for _, bad := range []string{`{}`, `[]`, `true`, `"\x"`} {
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	b, _ := json.Marshal(FlexString("1.50"))
	if string(b) != `"1.50"` {
		t.Errorf("marshal %s", b)
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"Tue, 20 Nov 2012 00:00:00 +0000",
		"Tue, 20 Nov 2012 01:00:00 +0100",
		"Tue, 20 Nov 2012 00:00:00 GMT",
		"2012-11-20T00:00:00Z",
		"2012-11-19T19:00:00.000-05:00",
	} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(time.Date(2012, 11, 20, 0, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if _, err := ParseTime("20/11/2012"); err == nil {
		t.Error("bad date accepted")
	}
}
