package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// AmazonOrderSpec describes an order for GenerateOrder. The zero value is a
// merchant-fulfilled, PENDING, one-item US order.
type AmazonOrderSpec struct {
	// FBA makes the order Amazon-fulfilled (fulfilledBy AMAZON); it then
	// starts UNSHIPPED and cannot be confirmed by the seller.
	FBA bool
	// Prime adds the PRIME program (seller-fulfilled Prime when !FBA).
	Prime bool
	// Business adds AMAZON_BUSINESS, a company name and a PO number; when
	// the order ships to Europe (EU or GB) also the buyer's VAT
	// registration (tax.taxRegistrations, entityType BUYER, type VAT).
	Business bool
	// Japan ships to a Japanese address on amazon.co.jp in JPY; it is
	// shorthand for MarketplaceID AmazonMarketplaceJP.
	Japan bool
	// Items is the number of order lines (default 1); line i has quantity
	// i+1.
	Items int
	// Unshipped starts a merchant order UNSHIPPED instead of PENDING.
	Unshipped bool
	// MarketplaceID forces the marketplace: AmazonMarketplaceUS (the
	// default; USD, US address), AmazonMarketplaceJP (JPY, Japanese
	// address), AmazonMarketplaceUK (GBP, British address) or
	// AmazonMarketplaceDE (EUR, German address). Other values mean US.
	MarketplaceID string
	// EU makes a cross-border order into the EU: on the UK marketplace
	// (GBP, shipping to Ireland) or the DE marketplace (EUR, shipping to
	// Germany, France or Austria) — MarketplaceID if it names one of the
	// two, else picked by the seeded generator. The simulated seller ships
	// from outside the EU, so a merchant order of at most EUR 150 (GBP 125)
	// carries Amazon's IOSS number (AmazonIOSSNumber) on every line; prices
	// are drawn so that orders of up to three lines stay under the limit.
	EU bool
	// Used sells every line in USED condition (subtype VERY_GOOD or GOOD,
	// picked per line) with a condition note.
	Used bool
	// ReplacementOf makes the order a replacement (at no charge) of the
	// order with that id: associatedOrders REPLACEMENT_ORIGINAL_ID, and
	// ORDER_CHANGE program "Replacement". If that order is stored, the
	// replacement copies its marketplace, buyer (and AMAZON_BUSINESS),
	// address, tax registrations and lines (new line ids; Items, Japan, EU,
	// Used and MarketplaceID are then ignored).
	ReplacementOf string
}

// AmazonIOSSNumber is the (fake, deterministic) Import One-Stop Shop number
// the sandbox's Amazon uses as marketplace facilitator for EU imports; real
// IOSS numbers are "IM" + 10 digits too, 999 is no country code.
const AmazonIOSSNumber = "IM9990004217"

// amazonIOSSResponsibleParty is ItemTaxCollection.responsibleParty for
// EU imports (as in the spec's own example).
const amazonIOSSResponsibleParty = "Amazon Services Europe S.a.r.L."

// amzLocale is what a marketplace implies for a generated order.
type amzLocale struct {
	name     string // salesChannel.marketplaceName
	currency string
	prefix   int    // first order-id prefix
	prefixes int    // number of consecutive order-id prefixes
	email    string // buyer e-mail domain
	home     string // domestic destination country
}

var amzLocales = map[string]amzLocale{
	AmazonMarketplaceUS: {"Amazon.com", "USD", 111, 3, "marketplace.amazon.com", "US"},
	AmazonMarketplaceJP: {"Amazon.co.jp", "JPY", 503, 1, "marketplace.amazon.co.jp", "JP"},
	AmazonMarketplaceUK: {"Amazon.co.uk", "GBP", 202, 5, "marketplace.amazon.co.uk", "GB"},
	AmazonMarketplaceDE: {"Amazon.de", "EUR", 302, 5, "marketplace.amazon.de", "DE"},
}

// amzEUCountries are the EU member states (ISO 3166-1 alpha-2).
var amzEUCountries = set(strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"))

// amzIOSSLimitCents is the IOSS ceiling (EUR 150 intrinsic value) per
// order currency, in cents; GBP uses a conservative fixed conversion.
var amzIOSSLimitCents = map[string]int64{"EUR": 15000, "GBP": 12500}

// GenerateOrder creates and stores an order described by spec and returns it.
func (a *Amazon) GenerateOrder(spec AmazonOrderSpec) AmazonOrder {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.generateLocked(spec)
}

// GenerateOrders creates n orders cycling through the interesting kinds:
// plain merchant, Prime, FBA, business multi-item, Japanese, multi-item,
// used-condition, EU import with IOSS, and EU business with a VAT
// registration. The kind sequence is deterministic for a given Seed.
func (a *Amazon) GenerateOrders(n int) []AmazonOrder {
	kinds := []AmazonOrderSpec{
		{},
		{Prime: true, Unshipped: true},
		{FBA: true, Prime: true},
		{Business: true, Items: 3, Unshipped: true},
		{Japan: true, Items: 2},
		{Items: 2, Unshipped: true},
		{Used: true, Unshipped: true},
		{EU: true, Unshipped: true},
		{EU: true, Business: true, Items: 2, Unshipped: true},
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AmazonOrder, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, a.generateLocked(kinds[a.rng.IntN(len(kinds))]))
	}
	return out
}

func (a *Amazon) generateLocked(spec AmazonOrderSpec) AmazonOrder {
	a.seq++
	now := a.now().UTC()
	if spec.Items <= 0 {
		spec.Items = 1
	}
	orig := a.orders[spec.ReplacementOf]
	mkt := spec.MarketplaceID
	if mkt == "" && spec.Japan {
		mkt = AmazonMarketplaceJP
	}
	if spec.EU && mkt != AmazonMarketplaceUK && mkt != AmazonMarketplaceDE {
		mkt = [...]string{AmazonMarketplaceUK, AmazonMarketplaceDE}[a.rng.IntN(2)]
	}
	if orig != nil {
		mkt = orig.MarketplaceID
	}
	loc, ok := amzLocales[mkt]
	if !ok {
		mkt, loc = AmazonMarketplaceUS, amzLocales[AmazonMarketplaceUS]
	}
	dest := loc.home
	if spec.EU {
		switch mkt {
		case AmazonMarketplaceUK:
			dest = "IE"
		case AmazonMarketplaceDE:
			dest = [...]string{"DE", "FR", "AT"}[a.rng.IntN(3)]
		}
	}
	prefix := loc.prefix + a.rng.IntN(loc.prefixes)
	id := fmt.Sprintf("%03d-%07d-%07d", prefix, a.rng.IntN(10000000), a.seq)
	tok := fmt.Sprintf("pii%06x", a.rng.Uint32()&0xffffff)
	o := &AmazonOrder{
		OrderID:       id,
		SellerOrderID: fmt.Sprintf("SO-%06d", a.seq),
		MarketplaceID: mkt,
		Currency:      loc.currency,
		Created:       now,
		LastUpdated:   now,
		Status:        AmazonPending,
		FulfilledBy:   "MERCHANT",
		ServiceLevel:  "STANDARD",
		ShipBy:        now.Add(48 * time.Hour).Truncate(time.Second),
		DeliverBy:     now.Add(5 * 24 * time.Hour).Truncate(time.Second),
		Buyer: AmazonBuyer{
			Name:  "Buyer " + tok,
			Email: tok + "@" + loc.email,
		},
		Address:       a.amzAddress(dest, tok),
		ReplacementOf: spec.ReplacementOf,
	}
	if spec.Unshipped || spec.FBA {
		o.Status = AmazonUnshipped
	}
	if spec.FBA {
		o.FulfilledBy = "AMAZON"
	}
	if spec.Prime {
		o.Programs = append(o.Programs, "PRIME")
		o.ServiceLevel = "SECOND_DAY"
	}
	if spec.Business {
		o.Programs = append(o.Programs, "AMAZON_BUSINESS")
		o.Buyer.CompanyName = "Company " + tok
		o.Buyer.PurchaseOrder = fmt.Sprintf("PO-%05d", a.seq)
		o.Address.CompanyName = "Company " + tok
		o.Address.AddressType = "COMMERCIAL"
		if vat := a.amzVATNumber(dest); vat != "" {
			o.TaxRegistrations = []AmazonTaxRegistration{{EntityType: "BUYER", LegalName: "Company " + tok, Type: "VAT", Number: vat}}
		}
	}
	for i := 0; i < spec.Items; i++ {
		var price string
		switch loc.currency {
		case "JPY":
			price = fmt.Sprintf("%d", 500+a.rng.IntN(9000))
		case "GBP", "EUR":
			price = fmt.Sprintf("%d.%02d", 5+a.rng.IntN(15), a.rng.IntN(100))
		default:
			price = fmt.Sprintf("%d.%02d", 5+a.rng.IntN(60), a.rng.IntN(100))
		}
		it := AmazonOrderItem{
			OrderItemID:      fmt.Sprintf("%014d", int64(a.seq)*1000+int64(i)+10000000000000),
			ASIN:             fmt.Sprintf("B0%08X", a.rng.Uint32()),
			SellerSKU:        fmt.Sprintf("SKU-%03d", a.rng.IntN(1000)),
			Title:            fmt.Sprintf("Sandbox product %d", i+1),
			Quantity:         i + 1,
			UnitPrice:        price,
			ConditionType:    AmazonConditionNew,
			ConditionSubtype: AmazonConditionNew,
		}
		if spec.Used {
			it.ConditionType = AmazonConditionUsed
			if a.rng.IntN(2) == 0 {
				it.ConditionSubtype = AmazonConditionVeryGood
				it.ConditionNote = "Very good: light signs of use on the casing, all accessories included."
			} else {
				it.ConditionSubtype = AmazonConditionGood
				it.ConditionNote = "Good: visible scratches, fully functional, original box missing."
			}
		}
		o.Items = append(o.Items, it)
	}
	if orig != nil {
		o.Currency = orig.Currency
		o.Buyer = orig.Buyer
		o.Address = orig.Address
		o.TaxRegistrations = append([]AmazonTaxRegistration(nil), orig.TaxRegistrations...)
		if slices.Contains(orig.Programs, "AMAZON_BUSINESS") && !slices.Contains(o.Programs, "AMAZON_BUSINESS") {
			o.Programs = append(o.Programs, "AMAZON_BUSINESS")
		}
		o.Items = o.Items[:0]
		for i, it := range orig.Items {
			o.Items = append(o.Items, AmazonOrderItem{
				OrderItemID: fmt.Sprintf("%014d", int64(a.seq)*1000+int64(i)+10000000000000),
				ASIN:        it.ASIN, SellerSKU: it.SellerSKU, Title: it.Title, Quantity: it.Quantity,
				ConditionType: it.ConditionType, ConditionSubtype: it.ConditionSubtype, ConditionNote: it.ConditionNote,
			})
		}
	}
	if o.ReplacementOf != "" {
		zero := "0.00"
		if o.Currency == "JPY" {
			zero = "0"
		}
		for i := range o.Items {
			o.Items[i].UnitPrice = zero
		}
	}
	if lim, ok := amzIOSSLimitCents[o.Currency]; ok && o.FulfilledBy == "MERCHANT" &&
		amzEUCountries[o.Address.CountryCode] && amzTotalCents(o) <= lim {
		o.IOSSNumber = AmazonIOSSNumber
	}
	a.orders[id] = o
	a.queueStatusChange(o)
	return o.clone()
}

// amzAddress builds a delivery address in country; the name, street line
// and phone carry the PII token.
func (a *Amazon) amzAddress(country, tok string) AmazonAddress {
	n := a.rng.IntN(10000)
	switch country {
	case "JP":
		return AmazonAddress{
			Name:          "山田 太郎 " + tok,
			AddressLine1:  "千代田1-1 " + tok,
			AddressLine2:  "サンドボックスビル 3F",
			City:          "千代田区",
			StateOrRegion: "東京都",
			PostalCode:    "100-0001",
			CountryCode:   "JP",
			Phone:         fmt.Sprintf("03-5555-%04d ", n) + tok,
			AddressType:   "RESIDENTIAL",
		}
	case "GB":
		return AmazonAddress{
			Name: "Recipient " + tok, AddressLine1: "10 " + tok + " Road", City: "London",
			StateOrRegion: "Greater London", PostalCode: "SW1A 2AA", CountryCode: "GB",
			Phone: fmt.Sprintf("+44 20 7946 %04d ", n) + tok, AddressType: "RESIDENTIAL",
		}
	case "IE":
		return AmazonAddress{
			Name: "Siobhán Ó Briain " + tok, AddressLine1: "1 " + tok + " Lane", City: "Dublin",
			StateOrRegion: "Co. Dublin", PostalCode: "D02 X285", CountryCode: "IE",
			Phone: fmt.Sprintf("+353 1 555 %04d ", n) + tok, AddressType: "RESIDENTIAL",
		}
	case "DE":
		return AmazonAddress{
			Name: "Jürgen Müller " + tok, AddressLine1: "Friedrichstraße 100 " + tok, City: "Berlin",
			StateOrRegion: "Berlin", PostalCode: "10117", CountryCode: "DE",
			Phone: fmt.Sprintf("+49 30 5555%04d ", n) + tok, AddressType: "RESIDENTIAL",
		}
	case "FR":
		return AmazonAddress{
			Name: "Zoé Lefèvre " + tok, AddressLine1: "12 rue de la Paix " + tok, City: "Paris",
			StateOrRegion: "Île-de-France", PostalCode: "75002", CountryCode: "FR",
			Phone: fmt.Sprintf("+33 1 55 55 %02d %02d ", n/100, n%100) + tok, AddressType: "RESIDENTIAL",
		}
	case "AT":
		return AmazonAddress{
			Name: "Lena Gruber " + tok, AddressLine1: "Stephansplatz 1 " + tok, City: "Wien",
			StateOrRegion: "Wien", PostalCode: "1010", CountryCode: "AT",
			Phone: fmt.Sprintf("+43 1 555 %04d ", n) + tok, AddressType: "RESIDENTIAL",
		}
	}
	return AmazonAddress{
		Name:          "Recipient " + tok,
		AddressLine1:  "100 " + tok + " Street",
		City:          "Seattle",
		StateOrRegion: "WA",
		PostalCode:    "98101",
		CountryCode:   "US",
		Phone:         fmt.Sprintf("+1 206-555-%04d x", n) + tok,
		AddressType:   "RESIDENTIAL",
	}
}

// amzVATNumber draws a VAT registration number in country's format, or ""
// outside Europe.
func (a *Amazon) amzVATNumber(country string) string {
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + a.rng.IntN(10))
		}
		return string(b)
	}
	switch country {
	case "DE", "GB":
		return country + digits(9)
	case "FR":
		return "FR" + digits(11)
	case "AT":
		return "ATU" + digits(8)
	case "IE":
		return "IE" + digits(7) + "T"
	}
	return ""
}
