package redaction

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/shiprelay/shiprelay/shared/order"
)

func TestIsRelayEmail(t *testing.T) {
	for addr, want := range map[string]bool{
		"abc123xyz@marketplace.amazon.com":           true,
		"0f3kq9v1xb@marketplace.amazon.de":           true,
		"q7@marketplace.amazon.co.uk":                true,
		"q7@marketplace.amazon.com.au":               true,
		"q7@marketplace.amazon.co.jp":                true,
		"  Q7@Marketplace.Amazon.COM ":               true,
		"jane@example.com":                           false,
		"jane@amazon.com":                            false,
		"q7@marketplace.amazon.com.example.org":      false,
		"q7@marketplace.amazon.evil.example":         false,
		"q7@marketplace.amazon.":                     false,
		"q7@marketplace.amazon.c0m":                  false,
		"@marketplace.amazon.com":                    false,
		"Jane Doe <q7@marketplace.amazon.com>":       false,
		"q7@x@marketplace.amazon.com":                false,
		"q7@notmarketplace.amazon.com":               false,
		"q7@marketplace.amazon.com.":                 false,
		"q7@marketplace.amazon.xx.uk":                false,
		"":                                           false,
		"marketplace.amazon.com":                     false,
		"jane.doe+orders@marketplace.amazon.com.mx":  true,
		"jane.doe@sub.marketplace.amazon.com":        false,
		"jane.doe@marketplace.amazon.co.uk.evil.com": false,
	} {
		if got := IsRelayEmail(addr); got != want {
			t.Errorf("IsRelayEmail(%q) = %v, want %v", addr, got, want)
		}
	}
}

func fullPersonal() *order.Personal {
	return &order.Personal{
		BillTo: order.Contact{Name: "Ada Lovelace", Company: "Analytical Ltd", Street1: "12 St James's Sq",
			Street2: "Flat 3", Street3: "Westminster", Phone: "+44 20 7946 0000", Email: "ada@example.co.uk"},
		ShipTo: map[string]order.Contact{
			"":   {Name: "Ada Lovelace", Street1: "12 St James's Sq", Phone: "+44 20 7946 0000", Email: "q7@marketplace.amazon.co.uk"},
			"a2": {Name: "Charles Babbage", Company: "Difference Engines", Street1: "1 Dorset St"},
		},
		Email:         "q7@marketplace.amazon.co.uk",
		Username:      "ada1815",
		GiftMessage:   "For the engine",
		CustomerNotes: "Leave at the door",
		TaxIDs:        []order.TaxID{{Kind: "VAT", Number: "GB123456789"}},
	}
}

func TestRedact(t *testing.T) {
	p := fullPersonal()
	before, _ := json.Marshal(p)
	r := Redact(p)
	if after, _ := json.Marshal(p); string(after) != string(before) {
		t.Error("Redact changed its argument")
	}
	want := &order.Personal{
		BillTo: order.Contact{Name: Redacted, Company: Redacted, Street1: Redacted, Street2: Redacted, Street3: Redacted,
			Phone: Redacted, Email: Redacted},
		ShipTo: map[string]order.Contact{
			"":   {Name: Redacted, Street1: Redacted, Phone: Redacted, Email: "q7@marketplace.amazon.co.uk"},
			"a2": {Name: Redacted, Company: Redacted, Street1: Redacted},
		},
		Email:         "q7@marketplace.amazon.co.uk",
		Username:      Redacted,
		GiftMessage:   Redacted,
		CustomerNotes: Redacted,
		TaxIDs:        []order.TaxID{{Kind: "VAT", Number: Redacted}},
		Redacted:      true,
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("Redact =\n %+v\nwant\n %+v", r, want)
	}
	// Nothing of the original survives anywhere in the result.
	raw, _ := json.Marshal(r)
	for _, secret := range []string{"Ada", "Lovelace", "Babbage", "Analytical", "St James", "Flat 3", "Westminster",
		"7946", "ada@example", "ada1815", "engine", "door", "GB123456789", "Dorset", "Difference"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("redacted data still holds %q: %s", secret, raw)
		}
	}
	// Idempotent.
	if again := Redact(r); !reflect.DeepEqual(again, r) {
		t.Errorf("Redact twice = %+v", again)
	}
}

func TestRedactNonRelayTopLevelEmailAndEmptyFields(t *testing.T) {
	p := &order.Personal{Email: "buyer@example.com", ShipTo: map[string]order.Contact{"": {Name: ""}}}
	r := Redact(p)
	if r.Email != Redacted || !r.Redacted {
		t.Errorf("email %q redacted %v", r.Email, r.Redacted)
	}
	// Names are always set; empty values stay empty.
	if r.BillTo != (order.Contact{Name: Redacted}) || r.ShipTo[""] != (order.Contact{Name: Redacted}) {
		t.Errorf("contacts %+v %+v", r.BillTo, r.ShipTo)
	}
	if r.Username != "" || r.GiftMessage != "" || r.CustomerNotes != "" || r.TaxIDs != nil {
		t.Errorf("empty fields filled: %+v", r)
	}
}

// FBA orders store no buyer data: nothing to redact is not an error.
func TestRedactNothing(t *testing.T) {
	if r := Redact(nil); r != nil {
		t.Errorf("Redact(nil) = %+v", r)
	}
}
