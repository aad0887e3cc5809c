package shipstation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

func ptr[T any](v T) *T { return &v }

// testOrder is a BigCommerce order with two ship groups (addresses 132, 133).
func testOrder() *order.Order {
	return &order.Order{
		ID: "bigcommerce:bc-main:229", Channel: order.BigCommerce, StoreID: "bc-main", ChannelOrderID: "229",
		OrderNumber: "229", Status: order.AwaitingShipment,
		OrderDate:  time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC),
		ModifiedAt: time.Date(2026, 11, 21, 17, 3, 21, 0, time.UTC),
		ShipBy:     ptr(time.Date(2026, 7, 3, 7, 0, 0, 0, time.UTC)),
		Currency:   "USD", Total: "43.2", AmountPaid: "43.1", TaxAmount: "2.5", ShippingPaid: "12.99",
		Items: []order.Item{
			{LineID: "65", SKU: "TWL", Name: "Towel", Quantity: 1, UnitPrice: "0.1", Group: "132", ProductID: "77",
				Weight: &order.Weight{Value: "1.5", Units: "pounds"}, Options: []order.Option{{Name: "Colour", Value: "Beige"}}},
			{LineID: "66", SKU: "MUG", Name: "Mug", Quantity: 2, UnitPrice: "7.25", Tax: "0.6", Group: "133"},
		},
		ShipGroups: []order.ShipGroup{
			{Key: "132", ShipTo: order.Address{City: "San Antonio", State: "TX", PostalCode: "78251", Country: "US", Residential: ptr(true)}, ShippingMethod: "UPS Ground"},
			{Key: "133", ShipTo: order.Address{City: "Austin", State: "TX", PostalCode: "78751", Country: "US"}},
		},
		BillTo:           order.Address{City: "Austin", State: "TX", PostalCode: "78751", Country: "US"},
		InternalNotes:    "fragile",
		RequestedService: "Free Shipping",
		PaymentMethod:    "Credit Card",
		CustomFields:     [3]string{"cf1", "", "cf3"},
		Tags:             []string{"vip"},
		Personal: &order.Personal{
			BillTo: order.Contact{Name: "Jane Doe", Company: "Acme", Street1: "455 Main", Phone: "555-1", Email: "jane@example.com"},
			ShipTo: map[string]order.Contact{
				"132": {Name: "Trishy Smith", Street1: "666 Sussex St", Street2: "Unit 2", Phone: "555-2"},
				"133": {Name: "Jane Doe", Street1: "555 Main Street"},
			},
			Email: "jane@example.com", Username: "jane@example.com", CustomerNotes: "ring twice", GiftMessage: "enjoy",
		},
	}
}

func TestFromOrderMultiGroup(t *testing.T) {
	o := testOrder()
	first, err := FromOrder(o, "132", Target{StoreID: 22766, Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := FromOrder(o, "133", Target{StoreID: 22766, Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	if first.OrderKey != "bigcommerce:bc-main:229/132" || second.OrderKey != "bigcommerce:bc-main:229/133" {
		t.Errorf("keys %q %q", first.OrderKey, second.OrderKey)
	}
	if first.OrderNumber != "229-1" || second.OrderNumber != "229-2" {
		t.Errorf("numbers %q %q", first.OrderNumber, second.OrderNumber)
	}
	if first.AmountPaid != "43.1" || first.TaxAmount != "2.5" || first.ShippingAmount != "12.99" {
		t.Errorf("first amounts %q %q %q", first.AmountPaid, first.TaxAmount, first.ShippingAmount)
	}
	if second.AmountPaid != "0" || second.TaxAmount != "0" || second.ShippingAmount != "0" {
		t.Errorf("second amounts %q %q %q", second.AmountPaid, second.TaxAmount, second.ShippingAmount)
	}
	if len(first.Items) != 1 || first.Items[0].LineItemKey != "65" || first.Items[0].UnitPrice != "0.1" ||
		first.Items[0].Weight == nil || first.Items[0].Weight.Value != "1.5" || first.Items[0].Weight.Units != "pounds" ||
		first.Items[0].ProductID != 0 || len(first.Items[0].Options) != 1 || first.Items[0].Options[0] != (ItemOption{"Colour", "Beige"}) {
		t.Errorf("first items %+v", first.Items)
	}
	if len(second.Items) != 1 || second.Items[0].LineItemKey != "66" || second.Items[0].Quantity != 2 || second.Items[0].TaxAmount != "0.6" {
		t.Errorf("second items %+v", second.Items)
	}
	wantShip := Address{Name: "Trishy Smith", Street1: "666 Sussex St", Street2: "Unit 2", City: "San Antonio", State: "TX",
		PostalCode: "78251", Country: "US", Phone: "555-2", Residential: first.ShipTo.Residential}
	if first.ShipTo != wantShip || first.ShipTo.Residential == nil || !*first.ShipTo.Residential {
		t.Errorf("shipTo %+v", first.ShipTo)
	}
	if first.BillTo.Name != "Jane Doe" || first.BillTo.Company != "Acme" || first.BillTo.City != "Austin" || first.BillTo.Country != "US" {
		t.Errorf("billTo %+v", first.BillTo)
	}
	if first.CustomerEmail != "jane@example.com" || first.CustomerUsername != "jane@example.com" || first.CustomerNotes != "ring twice" ||
		first.GiftMessage != "enjoy" || first.InternalNotes != "fragile" || first.PaymentMethod != "Credit Card" {
		t.Errorf("customer fields %+v", first)
	}
	if first.RequestedShippingService != "UPS Ground" || second.RequestedShippingService != "Free Shipping" {
		t.Errorf("service %q %q", first.RequestedShippingService, second.RequestedShippingService)
	}
	if first.OrderStatus != "awaiting_shipment" || !first.OrderDate.Equal(o.OrderDate) || !first.ShipByDate.Equal(*o.ShipBy) || !first.PaymentDate.IsZero() {
		t.Errorf("status/dates %+v", first)
	}
	if a := first.AdvancedOptions; a.StoreID != 22766 || a.Source != "bigcommerce" || a.CustomField1 != "cf1" || a.CustomField2 != "" || a.CustomField3 != "cf3" {
		t.Errorf("advanced %+v", a)
	}
	if first.TagIDs != nil {
		t.Errorf("tags sent: %v", first.TagIDs)
	}
	b, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"shipByDate":"2026-07-03T00:00:00.0000000"`, `"amountPaid":43.1`, `"weight":{"value":1.5,"units":"pounds"}`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	for _, absent := range []string{`paymentDate`, `orderId`, `createDate`, `orderTotal`, `tagIds`, `productId`} {
		if strings.Contains(s, absent) {
			t.Errorf("JSON has %s: %s", absent, s)
		}
	}
}

func TestFromOrderSingleGroupAndOrigin(t *testing.T) {
	o := testOrder()
	o.Items = o.Items[:1]
	o.Items[0].Group = ""
	o.ShipGroups = []order.ShipGroup{{Key: "", ShipTo: o.ShipGroups[0].ShipTo}}
	o.Personal.ShipTo = map[string]order.Contact{"": {Name: "Trishy Smith"}}
	got, err := FromOrder(o, "", Target{Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderKey != "bigcommerce:bc-main:229" || got.OrderNumber != "229" || got.ShipTo.Name != "Trishy Smith" {
		t.Errorf("%q %q %q", got.OrderKey, got.OrderNumber, got.ShipTo.Name)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), "storeId") || !strings.Contains(string(b), `"advancedOptions":{"customField1":"cf1","customField3":"cf3","source":"bigcommerce"}`) {
		t.Errorf("advancedOptions: %s", b)
	}
	// A copy of a marketplace order keeps its own key: each order that
	// stands for the marketplace order has its own ShipStation order.
	o.Origin = &order.Origin{Marketplace: order.Amazon, OrderID: "113-4567890-1234567"}
	if k := OrderKey(o, ""); k != "bigcommerce:bc-main:229" {
		t.Errorf("origin key %q", k)
	}
	multi := testOrder()
	multi.Origin = o.Origin
	if k := OrderKey(multi, "133"); k != "bigcommerce:bc-main:229/133" {
		t.Errorf("origin multi key %q", k)
	}
	if OrderKey(nil, "") != "" {
		t.Error("nil order key")
	}
}

func TestFromOrderRedacted(t *testing.T) {
	o := testOrder()
	o.Personal = nil
	got, err := FromOrder(o, "132", Target{})
	if err != nil {
		t.Fatal(err)
	}
	want := Address{Name: Redacted, City: "San Antonio", State: "TX", PostalCode: "78251", Country: "US", Residential: got.ShipTo.Residential}
	if got.ShipTo != want {
		t.Errorf("shipTo %+v", got.ShipTo)
	}
	if got.BillTo != (Address{Name: Redacted, City: "Austin", State: "TX", PostalCode: "78751", Country: "US"}) {
		t.Errorf("billTo %+v", got.BillTo)
	}
	if got.CustomerEmail != "" || got.CustomerUsername != "" || got.CustomerNotes != "" || got.GiftMessage != "" {
		t.Errorf("PII left: %+v", got)
	}
}

func TestFromOrderNumberCap(t *testing.T) {
	o := testOrder()
	o.OrderNumber = strings.Repeat("é", 60)
	got, err := FromOrder(o, "133", Target{})
	if err != nil {
		t.Fatal(err)
	}
	if n := []rune(got.OrderNumber); len(n) != 50 || !strings.HasSuffix(got.OrderNumber, "é-2") {
		t.Errorf("%q (%d)", got.OrderNumber, len(n))
	}
	o.ShipGroups = o.ShipGroups[:1]
	o.Items = o.Items[:1]
	got, _ = FromOrder(o, "132", Target{})
	if len([]rune(got.OrderNumber)) != 50 {
		t.Errorf("single %q", got.OrderNumber)
	}
}

func TestFromOrderErrors(t *testing.T) {
	cases := map[string]func(o *order.Order) string{
		"unknown group": func(o *order.Order) string { return "999" },
		"status":        func(o *order.Order) string { o.Status = "pending"; return "132" },
		"order date":    func(o *order.Order) string { o.OrderDate = time.Time{}; return "132" },
		"no lines":      func(o *order.Order) string { o.Items = o.Items[1:]; return "132" },
		"money":         func(o *order.Order) string { o.AmountPaid = "1,5"; return "132" },
		"unit price":    func(o *order.Order) string { o.Items[0].UnitPrice = "abc"; return "132" },
		"weight units":  func(o *order.Order) string { o.Items[0].Weight.Units = "kg"; return "132" },
		"quantity":      func(o *order.Order) string { o.Items[0].Quantity = 0; return "132" },
	}
	for name, edit := range cases {
		o := testOrder()
		g := edit(o)
		if _, err := FromOrder(o, g, Target{}); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := FromOrder(nil, "", Target{}); !errs.Is(err, errs.Invalid) {
		t.Errorf("nil: %v", err)
	}
}

func TestNumberIsExact(t *testing.T) {
	sum := order.MustDecimal("0.1").Add(order.MustDecimal("0.2"))
	n, err := Number(sum)
	if err != nil || n != "0.3" {
		t.Fatalf("%q %v", n, err)
	}
	b, _ := json.Marshal(struct {
		A json.Number `json:"a"`
	}{n})
	if string(b) != `{"a":0.3}` {
		t.Errorf("%s", b)
	}
	for in, want := range map[order.Decimal]string{"": "0", "43.2000": "43.2", "-1.05": "-1.05", "1e2": "100", "0.0001": "0.0001"} {
		if got, err := Number(in); err != nil || string(got) != want {
			t.Errorf("%q → %q %v", in, got, err)
		}
	}
	if _, err := Number("NaN"); err == nil {
		t.Error("NaN accepted")
	}
}

// amazonOrder is a single-group Amazon order with an IOSS number and a
// buyer's VAT number.
func amazonOrder() *order.Order {
	o := testOrder()
	o.ID, o.Channel, o.StoreID, o.ChannelOrderID, o.OrderNumber = "amazon:amz-de:305-1111111-3333333", order.Amazon, "amz-de", "305-1111111-3333333", "305-1111111-3333333"
	o.Items = o.Items[:1]
	o.Items[0].Group = ""
	o.ShipGroups = []order.ShipGroup{{Key: "", ShipTo: order.Address{City: "Berlin", PostalCode: "10115", Country: "DE"}}}
	o.InternalNotes = ""
	o.CustomFields = [3]string{"305-1111111-3333333", "", ""}
	o.TaxIDs = []order.TaxID{{Kind: "IOSS", Number: "IM2760000742"}}
	o.Personal.ShipTo = map[string]order.Contact{"": {Name: "Greta Gruber", Street1: "Hauptstrasse 5"}}
	o.Personal.TaxIDs = []order.TaxID{{Kind: "VAT", Number: "DE811907980"}}
	return o
}

func TestFromOrderTaxIDs(t *testing.T) {
	const both = "IOSS IM2760000742; VAT DE811907980"
	for _, to := range []string{"", TaxIDsToInternalNotes} {
		got, err := FromOrder(amazonOrder(), "", Target{TaxIDsTo: to})
		if err != nil {
			t.Fatal(err)
		}
		if got.InternalNotes != both || got.AdvancedOptions.CustomField2 != "" {
			t.Errorf("to %q: notes %q", to, got.InternalNotes)
		}
	}
	// Appended after existing notes, on a line of its own.
	o := amazonOrder()
	o.InternalNotes = "Replacement for Amazon order 305-9999999-0000000"
	got, _ := FromOrder(o, "", Target{})
	if got.InternalNotes != "Replacement for Amazon order 305-9999999-0000000\n"+both {
		t.Errorf("notes %q", got.InternalNotes)
	}

	// Into an empty custom field; the notes stay as they are.
	for to, field := range map[string]func(a AdvancedOptions) string{
		TaxIDsToCustomField2: func(a AdvancedOptions) string { return a.CustomField2 },
		TaxIDsToCustomField3: func(a AdvancedOptions) string { return a.CustomField3 },
	} {
		got, err := FromOrder(o, "", Target{TaxIDsTo: to})
		if err != nil {
			t.Fatal(err)
		}
		if field(got.AdvancedOptions) != both || got.InternalNotes != o.InternalNotes || got.AdvancedOptions.CustomField1 != "305-1111111-3333333" {
			t.Errorf("to %s: advanced %+v notes %q", to, got.AdvancedOptions, got.InternalNotes)
		}
	}
	// A custom field that has a value is never overwritten: the notes get it.
	got, _ = FromOrder(o, "", Target{TaxIDsTo: TaxIDsToCustomField1})
	if got.AdvancedOptions.CustomField1 != "305-1111111-3333333" || !strings.HasSuffix(got.InternalNotes, "\n"+both) {
		t.Errorf("occupied field: advanced %+v notes %q", got.AdvancedOptions, got.InternalNotes)
	}

	// A redacted order keeps Amazon's IOSS number but not the buyer's VAT number.
	o = amazonOrder()
	o.Personal = nil
	for _, to := range []string{TaxIDsToInternalNotes, TaxIDsToCustomField3} {
		got, err := FromOrder(o, "", Target{TaxIDsTo: to})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		if strings.Contains(string(b), "DE811907980") || !strings.Contains(string(b), `"IOSS IM2760000742"`) {
			t.Errorf("redacted, to %s: %s", to, b)
		}
	}
	o = amazonOrder()
	o.Personal.Redacted = true
	if got, _ := FromOrder(o, "", Target{}); got.InternalNotes != "IOSS IM2760000742" {
		t.Errorf("redaction-marked personal data: notes %q", got.InternalNotes)
	}

	// Only buyer tax ids; no tax ids at all.
	o = amazonOrder()
	o.TaxIDs = nil
	if got, _ := FromOrder(o, "", Target{TaxIDsTo: TaxIDsToCustomField2}); got.AdvancedOptions.CustomField2 != "VAT DE811907980" {
		t.Errorf("buyer only: %+v", got.AdvancedOptions)
	}
	o.Personal.TaxIDs = nil
	o.InternalNotes = "fragile"
	if got, _ := FromOrder(o, "", Target{TaxIDsTo: TaxIDsToCustomField2}); got.AdvancedOptions.CustomField2 != "" || got.InternalNotes != "fragile" {
		t.Errorf("none: %+v %q", got.AdvancedOptions, got.InternalNotes)
	}

	// An unknown place is invalid.
	if _, err := FromOrder(amazonOrder(), "", Target{TaxIDsTo: "customField4"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown target: %v", err)
	}
}

func TestFromOrderOnHold(t *testing.T) {
	o := amazonOrder()
	o.Status = order.OnHold
	o.CancelRequested = true
	o.Tags = []string{"Prime", "Cancel requested"}
	got, err := FromOrder(o, "", Target{})
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderStatus != "on_hold" || got.TagIDs != nil {
		t.Errorf("status %q tags %v", got.OrderStatus, got.TagIDs)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"orderStatus":"on_hold"`) {
		t.Errorf("JSON %s", b)
	}
}

func TestFromOrderOnHoldHasNoHoldUntilDate(t *testing.T) {
	o := amazonOrder()
	o.Status = order.OnHold // a channel's or buyer's hold: no end
	got, err := FromOrder(o, "", Target{})
	if err != nil {
		t.Fatal(err)
	}
	if got.HoldUntilDate != "" {
		t.Errorf("holdUntilDate %q for a hold without an end", got.HoldUntilDate)
	}
}

func TestFromOrderRuleActions(t *testing.T) {
	o := amazonOrder()
	o.Status = order.OnHold
	end := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC) // 11:00 Pacific
	o.HoldUntil = &end
	o.WarehouseID = 40112
	o.RequestedService, o.ShipGroups[0].ShippingMethod = "UPS Ground", "UPS Ground"
	got, err := FromOrder(o, "", Target{StoreID: 5})
	if err != nil {
		t.Fatal(err)
	}
	// holdUntilDate is read-only in ShipStation: the push holds the order
	// with POST /orders/holduntil after creating it on_hold.
	if got.OrderStatus != "on_hold" || got.HoldUntilDate != "" {
		t.Errorf("status %q holdUntilDate %q, want on_hold without a holdUntilDate", got.OrderStatus, got.HoldUntilDate)
	}
	if d := HoldDate(*o.HoldUntil); d != "2026-11-22" {
		t.Errorf("HoldDate = %s, want 2026-11-22 (the next Pacific date)", d)
	}
	if got.AdvancedOptions.WarehouseID != 40112 || got.AdvancedOptions.StoreID != 5 || got.RequestedShippingService != "UPS Ground" {
		t.Errorf("advanced options %+v service %q", got.AdvancedOptions, got.RequestedShippingService)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"warehouseId":40112`) || !strings.Contains(string(b), `"orderStatus":"on_hold"`) || strings.Contains(string(b), "holdUntilDate") {
		t.Errorf("JSON %s: want on_hold, warehouseId 40112 and no holdUntilDate", b)
	}

	// The hold has ended by the time the order is awaiting shipment again:
	// no holdUntilDate on an order that is not on hold.
	o.Status = order.AwaitingShipment
	o.WarehouseID = 0
	got, err = FromOrder(o, "", Target{})
	if err != nil {
		t.Fatal(err)
	}
	if got.HoldUntilDate != "" || got.AdvancedOptions.WarehouseID != 0 {
		t.Errorf("released order: holdUntilDate %q warehouse %d", got.HoldUntilDate, got.AdvancedOptions.WarehouseID)
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), "holdUntilDate") || strings.Contains(string(b), "warehouseId") {
		t.Errorf("JSON %s", b)
	}
}

func TestHoldDateNeverEndsEarly(t *testing.T) {
	cases := []struct {
		at   time.Time
		want string
	}{
		// Midnight Pacific exactly: that date.
		{time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), "2026-11-22"},
		// A nanosecond later: the next one.
		{time.Date(2026, 11, 22, 8, 0, 0, 1, time.UTC), "2026-11-23"},
		// A nanosecond earlier (late on the 21st in Pacific time).
		{time.Date(2026, 11, 22, 7, 59, 59, 999999999, time.UTC), "2026-11-22"},
		// Summer time (PDT, UTC-7): midnight is 07:00 UTC.
		{time.Date(2026, 7, 4, 7, 0, 0, 0, time.UTC), "2026-07-04"},
		{time.Date(2026, 7, 4, 6, 59, 0, 0, time.UTC), "2026-07-04"},
		{time.Date(2026, 7, 4, 7, 1, 0, 0, time.UTC), "2026-07-05"},
		// Year end.
		{time.Date(2027, 1, 1, 7, 0, 0, 0, time.UTC), "2027-01-01"},
	}
	for _, tc := range cases {
		if got := HoldDate(tc.at); got != tc.want {
			t.Errorf("HoldDate(%s) = %s, want %s", tc.at.Format(time.RFC3339Nano), got, tc.want)
		}
	}
}
