package carrier

import (
	"strings"
	"testing"

	"github.com/shiprelay/shiprelay/shared/order"
)

func TestEmbeddedParses(t *testing.T) {
	m, err := Parse(defaultYAML)
	if err != nil {
		t.Fatalf("carriers.yaml: %v", err)
	}
	if Default() == nil || len(Default().Codes()) != len(m.Codes()) {
		t.Fatal("Default() differs from the embedded file")
	}
	if a, b := Default(), Default(); a != b {
		t.Error("Default() is parsed more than once")
	}
}

// The carriers the issue asks for, by ShipStation code (or alias).
func TestCoverage(t *testing.T) {
	m := Default()
	for _, code := range []string{
		"stamps_com", "endicia", "usps", "ups", "ups_walleted", "fedex", "fedex_walleted",
		"dhl_express", "dhl_express_worldwide", "dhl_global_mail", "ontrac", "canada_post",
		"purolator_canada", "royal_mail", "parcelforce", "evri", "dpd", "gls", "postnl",
		"deutsche_post", "dhl_paket", "colissimo", "australia_post", "sendle", "startrack",
		"asendia", "amazon_buy_shipping",
	} {
		if !m.Known(code) {
			t.Errorf("%s: not in the map", code)
		}
	}
}

func TestEveryEntryChannelCodes(t *testing.T) {
	m := Default()
	for _, code := range m.Codes() {
		e, _ := m.Entry(code)
		if !ValidBigCommerceProvider(e.BigCommerce.ShippingProvider) {
			t.Errorf("%s: bigcommerce shipping_provider %q not in BigCommerce's enum", code, e.BigCommerce.ShippingProvider)
		}
		if e.Amazon.CarrierCode == "" {
			t.Errorf("%s: empty Amazon carrierCode", code)
		}
		if e.Amazon.CarrierCode == AmazonOther && !e.Amazon.AutoConfirmed {
			t.Errorf("%s: known carrier mapped to Amazon Other", code)
		}
		if e.EBay.ShippingCarrierCode == "" {
			t.Errorf("%s: empty eBay shippingCarrierCode", code)
		}
		for s, svc := range e.Services {
			if svc.BigCommerce != nil && !ValidBigCommerceProvider(svc.BigCommerce.ShippingProvider) {
				t.Errorf("%s/%s: bigcommerce shipping_provider %q not in BigCommerce's enum", code, s, svc.BigCommerce.ShippingProvider)
			}
			if svc.Amazon != nil && svc.Amazon.CarrierCode == AmazonOther {
				t.Errorf("%s/%s: known service mapped to Amazon Other", code, s)
			}
		}
		r := m.Lookup(order.Amazon, code, "")
		if !r.Known || (r.Fallback && !r.AutoConfirmed) || r.Code == "" {
			t.Errorf("%s: Amazon lookup %+v", code, r)
		}
	}
}

func TestValidBigCommerceProvider(t *testing.T) {
	for _, p := range []string{"", "auspost", "canadapost", "endicia", "usps", "fedex", "royalmail", "ups", "upsready", "shipperhq", "carrier_123"} {
		if !ValidBigCommerceProvider(p) {
			t.Errorf("%q should be valid", p)
		}
	}
	for _, p := range []string{"dhl", "USPS", "carrier_", "royal_mail", " usps"} {
		if ValidBigCommerceProvider(p) {
			t.Errorf("%q should be invalid", p)
		}
	}
}

func TestLookupKnown(t *testing.T) {
	m := Default()
	r := m.Lookup(order.Amazon, "stamps_com", "usps_priority_mail")
	want := Resolution{Code: "USPS", Name: "USPS", Method: "Priority Mail", TrackingCapable: true, Known: true}
	if r != want {
		t.Errorf("amazon stamps_com = %+v, want %+v", r, want)
	}
	// An alias, upper case and spaces, an unknown service: carrier values.
	r = m.Lookup(order.EBay, " ENDICIA ", "usps_something_new")
	if r.Code != "USPS" || !r.Known || r.Fallback || !r.TrackingCapable || r.Method != "" {
		t.Errorf("ebay endicia = %+v", r)
	}
	r = m.Lookup(order.BigCommerce, "royal_mail", "rm_tracked_48")
	if r.Code != "royalmail" || r.TrackingCarrier != "royal-mail" || r.Method != "Royal Mail Tracked 48" || r.Fallback {
		t.Errorf("bigcommerce royal_mail = %+v", r)
	}
	r = m.Lookup(order.BigCommerce, "dhl_express_worldwide", "")
	if r.Code != "" || r.TrackingCarrier != "dhl" || r.Fallback {
		t.Errorf("bigcommerce dhl_express_worldwide = %+v", r)
	}
	r = m.Lookup(order.Amazon, "evri", "")
	if r.Code != "Hermes UK" || r.Name != "Evri" {
		t.Errorf("amazon evri = %+v", r)
	}
}

func TestServiceTracking(t *testing.T) {
	m := Default()
	cases := []struct {
		carrier, service string
		want             bool
	}{
		{"stamps_com", "usps_first_class_mail", false},
		{"usps", "usps_first_class_mail", false},
		{"stamps_com", "usps_ground_advantage", true},
		{"stamps_com", "", true},
		{"royal_mail", "rm_second_class", false},
		{"royal_mail", "rm_tracked_24", true},
		{"australia_post", "australia_post_international_economy", false},
		{"australia_post", "australia_post_express_post", true},
		{"acme_freight", "", false},
	}
	for _, c := range cases {
		if got := m.TrackingCapable(c.carrier, c.service); got != c.want {
			t.Errorf("TrackingCapable(%s, %s) = %v, want %v", c.carrier, c.service, got, c.want)
		}
		if c.carrier == "acme_freight" {
			continue
		}
		if r := m.Lookup(order.Amazon, c.carrier, c.service); r.TrackingCapable != c.want {
			t.Errorf("Lookup(%s, %s).TrackingCapable = %v, want %v", c.carrier, c.service, r.TrackingCapable, c.want)
		}
	}
}

func TestLookupUnknownFallback(t *testing.T) {
	m := Default()
	r := m.Lookup(order.Amazon, "acme_freight", "acme_overnight")
	if r.Code != "Other" || r.Name != "Acme Freight" || r.Known || !r.Fallback || r.Reason == "" {
		t.Errorf("amazon unknown = %+v", r)
	}
	r = m.Lookup(order.EBay, "acme_freight", "")
	if r.Code != "Other" || !r.Fallback || r.Known {
		t.Errorf("ebay unknown = %+v", r)
	}
	r = m.Lookup(order.BigCommerce, "acme_freight", "")
	if r.Code != "" || r.TrackingCarrier != "" || !r.Fallback || r.Known {
		t.Errorf("bigcommerce unknown = %+v", r)
	}
	if r := m.Lookup(order.Amazon, "", ""); r.Name != "Unknown carrier" || r.Code != "Other" {
		t.Errorf("empty code = %+v", r)
	}
	if r := m.Lookup(order.ShipStation, "ups", ""); !r.Fallback || r.Code != "" || !r.Known {
		t.Errorf("shipstation channel = %+v", r)
	}
}

func TestKnownCarrierChannelFallback(t *testing.T) {
	m := Default()
	// Sendle has no eBay code: known, but eBay gets Other and it is recorded.
	r := m.Lookup(order.EBay, "sendle", "")
	if r.Code != "Other" || !r.Known || !r.Fallback || !strings.Contains(r.Reason, "Sendle") {
		t.Errorf("ebay sendle = %+v", r)
	}
	// Buy Shipping: Amazon confirms it itself.
	r = m.Lookup(order.Amazon, "amazon_buy_shipping", "")
	if !r.AutoConfirmed || r.Fallback || r.Reason == "" {
		t.Errorf("amazon buy shipping = %+v", r)
	}
}

func TestOverridesReplaceAndAdd(t *testing.T) {
	base := Default()
	yes := true
	m, err := base.With(Overrides{
		// Replace one block of a carrier.
		"australia_post": {Amazon: &Amazon{CarrierCode: "Australia Post-ArticleId"}},
		// Detach an alias.
		"endicia": {BigCommerce: &BigCommerce{ShippingProvider: "endicia", TrackingCarrier: "usps"}},
		// Add a carrier.
		"acme_freight": {
			Name: "Acme Freight", TrackingCapable: &yes,
			Amazon:      &Amazon{CarrierCode: "Other"},
			EBay:        &EBay{ShippingCarrierCode: "Other"},
			BigCommerce: &BigCommerce{ShippingProvider: "carrier_42"},
		},
		// Change one service.
		"stamps_com/usps_first_class_mail": {TrackingCapable: &yes, Amazon: &Amazon{ShippingMethod: "First Class"}},
		// Add a service to a detached alias.
		"endicia/usps_letter": {Name: "Letter"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Lookup(order.Amazon, "australia_post", ""); r.Code != "Australia Post-ArticleId" || r.Name != "Australia Post" {
		t.Errorf("australia_post = %+v", r)
	}
	if r := m.Lookup(order.EBay, "australia_post", ""); r.Code != "AustraliaPost" {
		t.Errorf("untouched eBay block changed: %+v", r)
	}
	if r := m.Lookup(order.BigCommerce, "endicia", ""); r.Code != "endicia" {
		t.Errorf("endicia = %+v", r)
	}
	if r := m.Lookup(order.BigCommerce, "usps", ""); r.Code != "usps" {
		t.Errorf("other alias changed: %+v", r)
	}
	if r := m.Lookup(order.Amazon, "endicia", "usps_letter"); r.Method != "Letter" || r.Code != "USPS" {
		t.Errorf("endicia/usps_letter = %+v", r)
	}
	if r := m.Lookup(order.Amazon, "acme_freight", ""); !r.Known || r.Code != "Other" || r.Name != "Acme Freight" || !r.Fallback {
		t.Errorf("acme_freight = %+v", r)
	}
	if r := m.Lookup(order.BigCommerce, "acme_freight", ""); r.Code != "carrier_42" || r.Fallback {
		t.Errorf("acme_freight bigcommerce = %+v", r)
	}
	r := m.Lookup(order.Amazon, "stamps_com", "usps_first_class_mail")
	if !r.TrackingCapable || r.Method != "First Class" || r.Code != "USPS" {
		t.Errorf("stamps_com/usps_first_class_mail = %+v", r)
	}
	// The default map is unchanged.
	if base.TrackingCapable("stamps_com", "usps_first_class_mail") {
		t.Error("With changed the default map")
	}
	if r := base.Lookup(order.BigCommerce, "endicia", ""); r.Code != "usps" {
		t.Errorf("With changed the default alias: %+v", r)
	}
	if base.Known("acme_freight") {
		t.Error("With added to the default map")
	}
}

func TestWithYAML(t *testing.T) {
	m, err := Default().WithYAML([]byte(`
carriers:
  royal_mail/rm_special_delivery:
    name: Special Delivery Guaranteed
  my_courier:
    name: My Courier
    trackingCapable: false
    amazon: {carrierCode: Other, carrierName: My Courier Ltd}
    ebay: {shippingCarrierCode: Other}
    bigcommerce: {shipping_provider: "", tracking_carrier: ""}
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Lookup(order.Amazon, "my_courier", ""); r.Name != "My Courier Ltd" || r.TrackingCapable {
		t.Errorf("my_courier = %+v", r)
	}
	if r := m.Lookup(order.BigCommerce, "royal_mail", "rm_special_delivery"); r.Method != "Special Delivery Guaranteed" || r.Code != "royalmail" {
		t.Errorf("royal_mail/rm_special_delivery = %+v", r)
	}
}

func TestOverrideErrors(t *testing.T) {
	yes := true
	cases := map[string]struct {
		o    Overrides
		want []string
	}{
		"incomplete new carrier": {Overrides{"acme": {Name: "Acme"}}, []string{`carrier "acme": trackingCapable`, `carrier "acme": amazon`, `carrier "acme": ebay`, `carrier "acme": bigcommerce`}},
		"bad provider":           {Overrides{"ups": {BigCommerce: &BigCommerce{ShippingProvider: "dhl"}}}, []string{`carrier "ups": bigcommerce.shipping_provider: "dhl"`}},
		"bad slug":               {Overrides{"ups": {BigCommerce: &BigCommerce{ShippingProvider: "ups", TrackingCarrier: "UPS Ground"}}}, []string{`carrier "ups": bigcommerce.tracking_carrier`}},
		"service of nothing":     {Overrides{"nope/svc": {TrackingCapable: &yes}}, []string{`carrier "nope/svc": no carrier "nope"`}},
		"service with services":  {Overrides{"ups/x": {Services: map[string]Service{"y": {}}}}, []string{`carrier "ups/x": a service override takes no aliases or services`}},
		"upper-case key":         {Overrides{"UPS": {Name: "x"}}, []string{`carrier "UPS": key`}},
		"alias collides":         {Overrides{"fedex": {Aliases: []string{"ups"}}}, []string{`carrier "fedex": aliases: "ups" is also a carrier`}},
		"amazon spaces":          {Overrides{"ups": {Amazon: &Amazon{CarrierCode: "UPS "}}}, []string{`carrier "ups": amazon.carrierCode`}},
		"ebay code":              {Overrides{"ups": {EBay: &EBay{ShippingCarrierCode: "Royal Mail"}}}, []string{`carrier "ups": ebay.shippingCarrierCode`}},
	}
	for name, c := range cases {
		_, err := Default().With(c.o)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
	}
}

const good = `
carriers:
  ups:
    name: UPS
    trackingCapable: true
    amazon: {carrierCode: UPS}
    ebay: {shippingCarrierCode: UPS}
    bigcommerce: {shipping_provider: ups, tracking_carrier: ups}
`

func TestParseErrorsNameEntryAndField(t *testing.T) {
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good: %v", err)
	}
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"unknown field": {good + `
  fedex:
    name: FedEx
    trackingCapable: true
    amazon: {carrierCod: FedEx}
    ebay: {shippingCarrierCode: FedEx}
    bigcommerce: {shipping_provider: fedex, tracking_carrier: fedex}
`, []string{`carrier "fedex"`, "carrierCod"}},
		"wrong type": {good + `
  fedex:
    name: FedEx
    trackingCapable: sometimes
    amazon: {carrierCode: FedEx}
    ebay: {shippingCarrierCode: FedEx}
    bigcommerce: {shipping_provider: fedex, tracking_carrier: fedex}
`, []string{`carrier "fedex"`, "sometimes"}},
		"unknown service field": {good + `
    services:
      ups_ground: {nam: UPS Ground}
`, []string{`carrier "ups"`, "nam"}},
		"bad provider": {strings.Replace(good, "shipping_provider: ups", "shipping_provider: dhl", 1),
			[]string{`carrier "ups": bigcommerce.shipping_provider: "dhl"`}},
		"missing flag": {strings.Replace(good, "    trackingCapable: true\n", "", 1),
			[]string{`carrier "ups": trackingCapable: required`}},
		"missing amazon code": {strings.Replace(good, "{carrierCode: UPS}", "{shippingMethod: Ground}", 1),
			[]string{`carrier "ups": amazon.carrierCode: required`}},
		"bad service provider": {good + `
    services:
      ups_ground: {bigcommerce: {shipping_provider: upsx, tracking_carrier: ""}}
`, []string{`carrier "ups": services.ups_ground.bigcommerce.shipping_provider`}},
		"duplicate key":   {good + good[len("\ncarriers:"):], []string{`"ups" already defined`}},
		"syntax":          {"carriers: [", []string{"carrier map"}},
		"empty":           {"carriers: {}", []string{"no carriers"}},
		"top-level field": {good + "version: 2\n", []string{"version"}},
	}
	for name, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
	}
}

func TestEntryIsACopy(t *testing.T) {
	m := Default()
	e, ok := m.Entry("usps")
	if !ok || e.Name != "USPS" {
		t.Fatalf("Entry(usps) = %+v, %v", e, ok)
	}
	e.Amazon.CarrierCode = "changed"
	e.Services["usps_priority_mail"] = Service{Name: "changed"}
	if r := m.Lookup(order.Amazon, "usps", "usps_priority_mail"); r.Code != "USPS" || r.Method != "Priority Mail" {
		t.Errorf("Entry leaked the map: %+v", r)
	}
}
