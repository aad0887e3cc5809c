package order

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestIDRoundTripAndRejects(t *testing.T) {
	id, err := NewID(BigCommerce, "bc-main", "10452")
	if err != nil || id != "bigcommerce:bc-main:10452" {
		t.Fatalf("NewID = %q, %v", id, err)
	}
	ch, store, oid, err := id.Parse()
	if err != nil || ch != BigCommerce || store != "bc-main" || oid != "10452" {
		t.Fatalf("Parse = %v %v %v %v", ch, store, oid, err)
	}
	for _, bad := range [][3]string{{"etsy", "s", "1"}, {"amazon", "", "1"}, {"amazon", "a:b", "1"}, {"ebay", "s", ""}} {
		if _, err := NewID(Channel(bad[0]), bad[1], bad[2]); err == nil {
			t.Errorf("NewID(%v) accepted", bad)
		}
	}
	if _, _, _, err := ID("amazon:x").Parse(); err == nil {
		t.Error("malformed id parsed")
	}
}

func TestDecimalIsExact(t *testing.T) {
	a, b := MustDecimal("0.1"), MustDecimal("0.2")
	if got := a.Add(b); got != "0.3" {
		t.Errorf("0.1+0.2 = %s", got)
	}
	if got := MustDecimal("43.2000"); got != "43.2" {
		t.Errorf("canonical = %s", got)
	}
	if got := MustDecimal("15.99").Mul(3); got != "47.97" {
		t.Errorf("15.99×3 = %s", got)
	}
	if got := MustDecimal("2.005").Round(2); got != "2.01" {
		t.Errorf("round = %s", got)
	}
	if _, err := ParseDecimal("12,50"); err == nil {
		t.Error("12,50 accepted")
	}
	if d, _ := ParseDecimal(""); !d.IsZero() {
		t.Error("empty is not zero")
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)
	o := Order{
		ID: "bigcommerce:s:1", Channel: BigCommerce, StoreID: "s", ChannelOrderID: "1", OrderNumber: "1",
		Status: AwaitingShipment, ModifiedAt: now, ShipGroups: []ShipGroup{{Key: ""}},
		Items: []Item{{LineID: "7", Name: "Mug", Quantity: 1}},
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("valid order: %v", err)
	}
	good := o
	good.ReplacementOf, good.TaxIDs, good.CancelRequested, good.Status = "amazon:s:113-1111111-0000000", []TaxID{{Kind: "IOSS", Number: "IM1"}}, true, OnHold
	if err := good.Validate(); err != nil {
		t.Errorf("valid replacement order: %v", err)
	}
	bad := o
	bad.Items = []Item{{LineID: "", Quantity: 0, Group: "x"}}
	bad.Status = "paid"
	bad.ReplacementOf = "113-1111111-0000000"
	bad.TaxIDs = []TaxID{{Kind: "IOSS", Number: " "}}
	err := bad.Validate()
	for _, want := range []string{"empty line id", "quantity 0", "unknown ship group", `status "paid"`, "replacementOf", "tax id 0: empty number"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestTaxIDsText(t *testing.T) {
	got := TaxIDsText(TaxID{"IOSS", "IM1234567890"}, TaxID{"VAT", " GB123456789 "}, TaxID{"IOSS", "IM1234567890"}, TaxID{"VAT", ""}, TaxID{"", "X9"})
	if want := "IOSS IM1234567890; VAT GB123456789; X9"; got != want {
		t.Errorf("TaxIDsText = %q, want %q", got, want)
	}
	if got := TaxIDsText(); got != "" {
		t.Errorf("empty = %q", got)
	}
}

func TestNewFieldsJSON(t *testing.T) {
	o := Order{ReplacementOf: "amazon:s:1", Business: true, CancelRequested: true, TaxIDs: []TaxID{{"IOSS", "IM1"}},
		Personal: &Personal{TaxIDs: []TaxID{{"VAT", "GB1"}}}}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"replacementOf":"amazon:s:1"`, `"business":true`, `"cancelRequested":true`, `"taxIds":[{"kind":"IOSS","number":"IM1"}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("order JSON lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "GB1") {
		t.Errorf("order JSON carries Personal: %s", b)
	}
	b, _ = json.Marshal(Order{})
	for _, absent := range []string{"replacementOf", "business", "cancelRequested", "taxIds"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("empty order JSON has %s: %s", absent, b)
		}
	}
	b, _ = json.Marshal(o.Personal)
	if !strings.Contains(string(b), `"taxIds":[{"kind":"VAT","number":"GB1"}]`) {
		t.Errorf("personal JSON %s", b)
	}
}

func TestBigCommerceStatusMap(t *testing.T) {
	cases := map[int]struct {
		s Status
		d Disposition
	}{
		0: {"", Ignore}, 1: {"", Ignore}, 7: {AwaitingPayment, Import}, 11: {AwaitingShipment, Import},
		9: {AwaitingShipment, Import}, 12: {OnHold, Import}, 13: {OnHold, Import},
		5: {Cancelled, Import}, 6: {Cancelled, Import}, 4: {Cancelled, Import}, 2: {Shipped, Import},
	}
	for id, want := range cases {
		s, d, ok := BigCommerceStatus(id)
		if !ok || s != want.s || d != want.d {
			t.Errorf("status %d = %q %v %v, want %q %v", id, s, d, ok, want.s, want.d)
		}
	}
	if _, _, ok := BigCommerceStatus(99); ok {
		t.Error("unknown status id mapped")
	}
}
