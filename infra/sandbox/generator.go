package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

type catalogOption struct {
	name   string
	typ    string
	values []string
}

type catalogItem struct {
	productID int
	sku       string
	name      string
	price     int64 // cents
	weight    string
	digital   bool
	options   []catalogOption
}

var catalog = []catalogItem{
	{productID: 101, sku: "MUG-BLK-11", name: "Black Ceramic Mug 11oz", price: 1599, weight: "0.9000"},
	{productID: 102, sku: "TEE-ORG", name: "Organic Cotton Tee", price: 2400, weight: "0.4000", options: []catalogOption{
		{name: "Size", typ: "Multiple choice", values: []string{"S", "M", "L", "XL"}},
		{name: "Color", typ: "Swatch", values: []string{"Heather Grey", "Navy", "Forest"}},
	}},
	{productID: 103, sku: "TWL-CHM-BG", name: "Fog Linen Chambray Towel - Beige Stripe", price: 4900, weight: "0.6000"},
	{productID: 104, sku: "CANDLE-SND", name: "Sandalwood Soy Candle", price: 2850, weight: "1.1000", options: []catalogOption{
		{name: "Wick", typ: "Multiple choice", values: []string{"Cotton", "Wood"}},
	}},
	{productID: 105, sku: "BTL-STL-750", name: "Insulated Steel Bottle 750ml", price: 3200, weight: "0.8000", options: []catalogOption{
		{name: "Color", typ: "Swatch", values: []string{"Matte Black", "Sage", "Coral"}},
	}},
	{productID: 106, sku: "NB-DOT-A5", name: "Dot Grid Notebook A5", price: 1250, weight: "0.5000"},
	{productID: 107, sku: "SOCK-WOOL", name: "Merino Hiking Socks", price: 1800, weight: "0.2000", options: []catalogOption{
		{name: "Size", typ: "Multiple choice", values: []string{"S", "M", "L"}},
	}},
	{productID: 108, sku: "BAG-CNV-TOTE", name: "Waxed Canvas Tote", price: 6500, weight: "1.4000"},
	{productID: 109, sku: "TEA-SENCHA-100", name: "Sencha Green Tea 100g", price: 1400, weight: "0.2500"},
	{productID: 110, sku: "LAMP-DESK-BR", name: "Brass Desk Lamp", price: 11900, weight: "3.2000", options: []catalogOption{
		{name: "Plug", typ: "Multiple choice", values: []string{"US", "UK", "EU"}},
	}},
	{productID: 111, sku: "PUZ-1000-MAP", name: "1000-Piece Vintage Map Puzzle", price: 2700, weight: "0.9500"},
	{productID: 112, sku: "GLV-GARDEN", name: "Leather Garden Gloves", price: 2200, weight: "0.3000", options: []catalogOption{
		{name: "Size", typ: "Multiple choice", values: []string{"M", "L"}},
	}},
	{productID: 201, sku: "EBK-FERMENT", name: "E-Book: Field Guide to Fermentation", price: 999, weight: "0.0000", digital: true},
	{productID: 202, sku: "DL-PATTERN-QUILT", name: "Quilt Pattern Download", price: 650, weight: "0.0000", digital: true},
}

var (
	firstNames = []string{"Marisol", "Thaddeus", "Ottoline", "Bartholomew", "Seraphina", "Ignatius", "Wilhelmina", "Leopold", "Perpetua", "Cornelius", "Anneliese", "Evander", "Philippa", "Lysander", "Henrietta", "Augustin"}
	lastNames  = []string{"Quillfeather", "Vantongeren", "Okonkwo-Marsh", "Delacroix-Finch", "Abernathy", "Szczepanski", "Ravenscroft", "Moreau-Lindqvist", "Fitzwilliam", "Oyelaran", "Haverbrook", "Castellanos", "Nightingale", "Van der Waals"}
	streets    = []string{"Larkspur Hollow", "Quincewood Terrace", "Old Tannery Row", "Marigold Crescent", "Foxglove Lane", "Pelican Wharf Road", "Juniper Ridge Way", "Copperbeech Close", "Saltmarsh Drive", "Windlass Court"}
	companies  = []string{"", "", "", "Brambleworks LLC", "Quayside Joinery", "Northwind Apiaries"}
	messages   = []string{"Please leave with the neighbour at number %d", "Gift - no invoice in the box please (%d)", "Ring bell twice, flat %d"}
)

type place struct {
	city, state, zip, country, iso2, phonePrefix string
	taxBP                                        int
}

var places = []place{
	{"Austin", "Texas", "78701", "United States", "US", "+1 512-555-", 825},
	{"Seattle", "Washington", "98101", "United States", "US", "+1 206-555-", 1025},
	{"Brooklyn", "New York", "11201", "United States", "US", "+1 718-555-", 888},
	{"Portland", "Oregon", "97205", "United States", "US", "+1 503-555-", 0},
	{"Denver", "Colorado", "80202", "United States", "US", "+1 303-555-", 881},
	{"Asheville", "North Carolina", "28801", "United States", "US", "+1 828-555-", 700},
	{"Toronto", "Ontario", "M5V 2T6", "Canada", "CA", "+1 416-555-", 1300},
	{"Manchester", "Greater Manchester", "M1 1AE", "United Kingdom", "GB", "+44 161 496 ", 0},
	{"Melbourne", "Victoria", "3000", "Australia", "AU", "+61 3 9555 ", 0},
}

const tokenAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// piiToken returns a random 5-character token such as "QX7KF".
func piiToken(rng *rand.Rand) string {
	var b strings.Builder
	for range 5 {
		b.WriteByte(tokenAlphabet[rng.IntN(len(tokenAlphabet))])
	}
	return b.String()
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// fakeAddress makes a distinctive fake address; every PII field carries tok.
func fakeAddress(rng *rand.Rand, tok string, p place) Address {
	first, last := pick(rng, firstNames), pick(rng, lastNames)+"-"+tok
	local := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(first + "." + last))
	a := Address{
		FirstName:   first,
		LastName:    last,
		Company:     pick(rng, companies),
		Street1:     fmt.Sprintf("%d %s", 10+rng.IntN(9890), pick(rng, streets)),
		Street2:     "",
		City:        p.city,
		State:       p.state,
		Zip:         p.zip,
		Country:     p.country,
		CountryISO2: p.iso2,
		Phone:       fmt.Sprintf("%s%04d", p.phonePrefix, rng.IntN(10000)),
		Email:       local + "@example.com",
	}
	if rng.IntN(3) == 0 {
		a.Street2 = "Unit " + tok
	} else {
		a.Street1 += " " + tok
	}
	return a
}

// GenerateOrder makes a realistic random BigCommerce order spec: 1–4
// physical lines (some with product options), sometimes an extra digital
// line, sometimes digital only, sometimes two shipping addresses; status
// mostly 11 (Awaiting Fulfillment), else 7, 12, 1 or 0. Names, streets,
// e-mails and phones are fake and contain a random token.
func GenerateOrder(rng *rand.Rand) OrderSpec {
	tok := piiToken(rng)
	home := pick(rng, places)
	billing := fakeAddress(rng, tok, home)

	var status int
	switch r := rng.IntN(100); {
	case r < 75:
		status = StatusAwaitingFulfillment
	case r < 83:
		status = StatusAwaitingPayment
	case r < 89:
		status = StatusManualVerification
	case r < 95:
		status = StatusPending
	default:
		status = StatusIncomplete
	}

	sp := OrderSpec{
		StatusID:           status,
		CustomerID:         rng.IntN(3) * (1 + rng.IntN(5000)), // a third are guests (0)
		ChannelID:          1,
		OrderSource:        "www",
		EbayOrderID:        "0",
		PaymentMethod:      pick(rng, []string{"Credit Card", "PayPal", "Apple Pay", "Manual"}),
		CurrencyCode:       "USD",
		TaxRateBasisPoints: home.taxBP,
		Billing:            billing,
	}
	if rng.IntN(4) == 0 {
		sp.CustomerMessage = fmt.Sprintf(pick(rng, messages), 1+rng.IntN(99)) + " - " + tok
	}

	physical := catalog[:len(catalog)-2]
	digital := catalog[len(catalog)-2:]
	digitalOnly := rng.IntN(100) < 5
	if !digitalOnly {
		sp.ShippingAddresses = []ShippingAddress{{
			Address:           billing,
			ShippingMethod:    pick(rng, []string{"Flat Rate", "Free Shipping", "USPS Ground Advantage", "UPS Ground"}),
			ShippingCostCents: pick(rng, []int64{0, 599, 999}),
		}}
		if rng.IntN(100) < 10 {
			p := pick(rng, places)
			other := fakeAddress(rng, tok, p)
			other.Email = ""
			sp.ShippingAddresses = append(sp.ShippingAddresses, ShippingAddress{Address: other, ShippingMethod: "Flat Rate", ShippingCostCents: 599})
		}
		n := 1 + rng.IntN(4)
		if len(sp.ShippingAddresses) == 2 && n < 2 {
			n = 2
		}
		for i := range n {
			item := pick(rng, physical)
			ls := LineSpec{
				ProductID:      item.productID,
				Name:           item.name,
				SKU:            item.sku,
				Type:           "physical",
				Quantity:       1 + rng.IntN(3),
				UnitPriceCents: item.price,
				Weight:         item.weight,
				AddressIndex:   i % len(sp.ShippingAddresses),
			}
			if len(item.options) > 0 {
				ls.VariantID = item.productID*10 + rng.IntN(9)
				var suffix []string
				for oi, o := range item.options {
					v := pick(rng, o.values)
					ls.Options = append(ls.Options, LineOption{OptionID: 10 + oi, ProductOptionID: item.productID*10 + oi, DisplayName: o.name, DisplayValue: v, Type: o.typ})
					suffix = append(suffix, strings.ToUpper(strings.ReplaceAll(v, " ", "")))
				}
				ls.SKU = item.sku + "-" + strings.Join(suffix, "-")
			}
			sp.Lines = append(sp.Lines, ls)
		}
	}
	if digitalOnly || rng.IntN(100) < 15 {
		item := pick(rng, digital)
		sp.Lines = append(sp.Lines, LineSpec{ProductID: item.productID, Name: item.name, SKU: item.sku, Type: "digital", Quantity: 1, UnitPriceCents: item.price, Weight: item.weight})
	}
	return sp
}
