package order

import "testing"

func TestAmazonStatusEveryValue(t *testing.T) {
	cases := []struct {
		in     string
		status Status
		disp   Disposition
	}{
		{"PENDING_AVAILABILITY", "", Ignore},
		{"PENDING", "", Ignore},
		{"UNSHIPPED", AwaitingShipment, Import},
		{"PARTIALLY_SHIPPED", AwaitingShipment, Import},
		{"SHIPPED", Shipped, Import},
		{"CANCELLED", Cancelled, Import},
		{"UNFULFILLABLE", "", Ignore},
		{"PendingAvailability", "", Ignore},
		{"Pending", "", Ignore},
		{"Unshipped", AwaitingShipment, Import},
		{"PartiallyShipped", AwaitingShipment, Import},
		{"Shipped", Shipped, Import},
		{"InvoiceUnconfirmed", Shipped, Import},
		{"Canceled", Cancelled, Import},
		{"Unfulfillable", "", Ignore},
	}
	if len(cases) != len(amazonStatus) {
		t.Fatalf("table has %d entries, test covers %d", len(amazonStatus), len(cases))
	}
	for _, c := range cases {
		s, d, ok := AmazonStatus(c.in)
		if !ok || s != c.status || d != c.disp {
			t.Errorf("AmazonStatus(%q) = %q, %v, %v; want %q, %v", c.in, s, d, ok, c.status, c.disp)
		}
		if s != "" && !s.Valid() {
			t.Errorf("AmazonStatus(%q) = %q, not canonical", c.in, s)
		}
	}
}

func TestAmazonStatusSpellingsAgree(t *testing.T) {
	pairs := [][2]string{
		{"PENDING_AVAILABILITY", "PendingAvailability"}, {"PENDING", "Pending"},
		{"UNSHIPPED", "Unshipped"}, {"PARTIALLY_SHIPPED", "PartiallyShipped"},
		{"SHIPPED", "Shipped"}, {"CANCELLED", "Canceled"}, {"UNFULFILLABLE", "Unfulfillable"},
	}
	for _, p := range pairs {
		s1, d1, _ := AmazonStatus(p[0])
		s2, d2, _ := AmazonStatus(p[1])
		if s1 != s2 || d1 != d2 {
			t.Errorf("%s and %s disagree: %q/%v vs %q/%v", p[0], p[1], s1, d1, s2, d2)
		}
	}
}

func TestAmazonStatusUnknown(t *testing.T) {
	for _, in := range []string{"", "Cancelled", "CANCELED", "unshipped", "shipped", " SHIPPED"} {
		if s, d, ok := AmazonStatus(in); ok || s != "" || d != Ignore {
			t.Errorf("AmazonStatus(%q) = %q, %v, %v; want unknown", in, s, d, ok)
		}
	}
}

func TestAmazonFulfilledByEveryValue(t *testing.T) {
	cases := map[string]AmazonFulfilment{
		"MERCHANT": AmazonByMerchant, "MFN": AmazonByMerchant,
		"AMAZON": AmazonByAmazon, "AFN": AmazonByAmazon,
	}
	if len(cases) != len(amazonFulfilment) {
		t.Fatalf("table has %d entries, test covers %d", len(amazonFulfilment), len(cases))
	}
	for in, want := range cases {
		if got, ok := AmazonFulfilledBy(in); !ok || got != want {
			t.Errorf("AmazonFulfilledBy(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "mfn", "FBA", "Merchant", "SELLER"} {
		if got, ok := AmazonFulfilledBy(in); ok || got != "" {
			t.Errorf("AmazonFulfilledBy(%q) = %q, %v; want unknown", in, got, ok)
		}
	}
}

func TestAmazonDisposition(t *testing.T) {
	cases := []struct {
		status, by string
		want       Status
		disp       Disposition
		ok         bool
	}{
		{"UNSHIPPED", "MERCHANT", AwaitingShipment, Import, true},
		{"Unshipped", "MFN", AwaitingShipment, Import, true},
		{"Shipped", "AFN", Shipped, Ignore, true},
		{"UNSHIPPED", "AMAZON", AwaitingShipment, Ignore, true},
		{"Canceled", "MFN", Cancelled, Import, true},
		{"PENDING", "MERCHANT", "", Ignore, true},
		{"Bogus", "MFN", "", Ignore, false},
		{"Unshipped", "FBA", "", Ignore, false},
	}
	for _, c := range cases {
		s, d, ok := AmazonDisposition(c.status, c.by)
		if s != c.want || d != c.disp || ok != c.ok {
			t.Errorf("AmazonDisposition(%q, %q) = %q, %v, %v; want %q, %v, %v", c.status, c.by, s, d, ok, c.want, c.disp, c.ok)
		}
	}
}
