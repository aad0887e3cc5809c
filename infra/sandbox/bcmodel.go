package sandbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BigCommerce order status ids (GET /v2/order_statuses).
const (
	StatusIncomplete          = 0
	StatusPending             = 1
	StatusShipped             = 2
	StatusPartiallyShipped    = 3
	StatusRefunded            = 4
	StatusCancelled           = 5
	StatusDeclined            = 6
	StatusAwaitingPayment     = 7
	StatusAwaitingPickup      = 8
	StatusAwaitingShipment    = 9
	StatusCompleted           = 10
	StatusAwaitingFulfillment = 11
	StatusManualVerification  = 12
	StatusDisputed            = 13
	StatusPartiallyRefunded   = 14
)

var bcStatusNames = [...]string{
	"Incomplete", "Pending", "Shipped", "Partially Shipped", "Refunded", "Cancelled", "Declined",
	"Awaiting Payment", "Awaiting Pickup", "Awaiting Shipment", "Completed", "Awaiting Fulfillment",
	"Manual Verification Required", "Disputed", "Partially Refunded",
}

// StatusName returns BigCommerce's system label of a status id ("" if unknown).
func StatusName(id int) string {
	if id < 0 || id >= len(bcStatusNames) {
		return ""
	}
	return bcStatusNames[id]
}

// Address is a BigCommerce billing or shipping address.
type Address struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Company     string `json:"company"`
	Street1     string `json:"street_1"`
	Street2     string `json:"street_2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	Country     string `json:"country"`
	CountryISO2 string `json:"country_iso2"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
}

// ShippingAddress is one shipping destination of an order (an "order address").
type ShippingAddress struct {
	// ID is the order_address_id, assigned by the sandbox.
	ID int `json:"id"`
	Address
	// ShippingMethod is the customer's chosen method, e.g. "Flat Rate".
	ShippingMethod string `json:"shipping_method"`
	// ShippingCostCents is the shipping charged for this address, ex tax.
	ShippingCostCents int64 `json:"shipping_cost_cents"`
}

// LineOption is one product option of a line (e.g. Size: M).
type LineOption struct {
	ID              int    `json:"id"`
	OptionID        int    `json:"option_id"`
	ProductOptionID int    `json:"product_option_id"`
	DisplayName     string `json:"display_name"`
	DisplayValue    string `json:"display_value"`
	// Type is BigCommerce's option type, e.g. "Multiple choice", "Swatch".
	Type string `json:"type"`
}

// LineItem is one order product (GET /v2/orders/{id}/products).
type LineItem struct {
	// ID is the order_product_id, assigned by the sandbox.
	ID        int `json:"id"`
	ProductID int `json:"product_id"`
	VariantID int `json:"variant_id"`
	// OrderAddressID links the line to a ShippingAddress; 0 for digital lines.
	OrderAddressID   int    `json:"order_address_id"`
	Name             string `json:"name"`
	SKU              string `json:"sku"`
	UPC              string `json:"upc"`
	Type             string `json:"type"` // physical, digital, giftcertificate
	Quantity         int    `json:"quantity"`
	QuantityShipped  int    `json:"quantity_shipped"`
	QuantityRefunded int    `json:"quantity_refunded"`
	// UnitPriceCents is the unit price excluding tax, in cents.
	UnitPriceCents int64 `json:"unit_price_cents"`
	// UnitTaxCents is the tax per unit, in cents.
	UnitTaxCents int64        `json:"unit_tax_cents"`
	Weight       string       `json:"weight"`
	Options      []LineOption `json:"options"`
}

// BCOrder is a simulated BigCommerce order. Money is kept in integer cents
// and rendered as BigCommerce's 4-decimal strings ("43.2000").
type BCOrder struct {
	ID           int       `json:"id"`
	StoreHash    string    `json:"store_hash"`
	CustomerID   int       `json:"customer_id"`
	StatusID     int       `json:"status_id"`
	DateCreated  time.Time `json:"date_created"`
	DateModified time.Time `json:"date_modified"`
	// DateShipped is zero until the order is fully shipped.
	DateShipped time.Time `json:"date_shipped"`
	ChannelID   int       `json:"channel_id"`
	// OrderSource is e.g. "www", "manual", "external", "amazon".
	OrderSource string `json:"order_source"`
	// ExternalSource, ExternalID render as null when empty.
	ExternalSource  string `json:"external_source"`
	ExternalID      string `json:"external_id"`
	ExternalOrderID string `json:"external_order_id"`
	// EbayOrderID is "0" unless the order is an eBay order.
	EbayOrderID     string `json:"ebay_order_id"`
	CustomerMessage string `json:"customer_message"`
	StaffNotes      string `json:"staff_notes"`
	PaymentMethod   string `json:"payment_method"`
	PaymentStatus   string `json:"payment_status"`
	CurrencyCode    string `json:"currency_code"`
	CartID          string `json:"cart_id"`
	IPAddress       string `json:"ip_address"`
	// DiscountCents is an order-level discount.
	DiscountCents     int64             `json:"discount_cents"`
	Billing           Address           `json:"billing_address"`
	ShippingAddresses []ShippingAddress `json:"shipping_addresses"`
	Lines             []LineItem        `json:"lines"`
	IsDeleted         bool              `json:"is_deleted"`
}

// StatusName returns the order's status label.
func (o *BCOrder) StatusName() string { return StatusName(o.StatusID) }

// IsDigital reports whether every line is digital (order_is_digital).
func (o *BCOrder) IsDigital() bool {
	for _, l := range o.Lines {
		if l.Type != "digital" {
			return false
		}
	}
	return len(o.Lines) > 0
}

// ItemsTotal is the sum of line quantities.
func (o *BCOrder) ItemsTotal() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// ItemsShipped is the sum of shipped quantities.
func (o *BCOrder) ItemsShipped() int {
	n := 0
	for _, l := range o.Lines {
		n += l.QuantityShipped
	}
	return n
}

// Line returns the line with order_product_id id.
func (o *BCOrder) Line(id int) (*LineItem, bool) {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return &o.Lines[i], true
		}
	}
	return nil, false
}

// ShippingAddress returns the shipping address with order_address_id id.
func (o *BCOrder) ShippingAddress(id int) (*ShippingAddress, bool) {
	for i := range o.ShippingAddresses {
		if o.ShippingAddresses[i].ID == id {
			return &o.ShippingAddresses[i], true
		}
	}
	return nil, false
}

func (o *BCOrder) subtotalCents() (exTax, tax int64) {
	for _, l := range o.Lines {
		exTax += l.UnitPriceCents * int64(l.Quantity)
		tax += l.UnitTaxCents * int64(l.Quantity)
	}
	return exTax, tax
}

func (o *BCOrder) shippingCents() int64 {
	var n int64
	for _, a := range o.ShippingAddresses {
		n += a.ShippingCostCents
	}
	return n
}

// TotalIncTaxCents is the order total including tax, after discount.
func (o *BCOrder) TotalIncTaxCents() int64 {
	ex, tax := o.subtotalCents()
	return ex + tax + o.shippingCents() - o.DiscountCents
}

// PIIValues lists the personal data of the order (names, streets, e-mails,
// phones, company, customer message). Generated values are distinctive, so
// finding one of them in a log proves a leak.
func (o *BCOrder) PIIValues() []string {
	var out []string
	add := func(v string) {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	addAddr := func(a Address) {
		add(a.FirstName + " " + a.LastName)
		add(a.LastName)
		add(a.Company)
		add(a.Street1)
		add(a.Street2)
		add(a.Phone)
		add(a.Email)
	}
	addAddr(o.Billing)
	for _, a := range o.ShippingAddresses {
		addAddr(a.Address)
	}
	add(o.CustomerMessage)
	return out
}

func (o *BCOrder) clone() BCOrder {
	c := *o
	c.ShippingAddresses = append([]ShippingAddress(nil), o.ShippingAddresses...)
	c.Lines = make([]LineItem, len(o.Lines))
	for i, l := range o.Lines {
		l.Options = append([]LineOption(nil), l.Options...)
		c.Lines[i] = l
	}
	return c
}

// ShipmentItem is one line of a BigCommerce shipment.
type ShipmentItem struct {
	OrderProductID int `json:"order_product_id"`
	ProductID      int `json:"product_id"`
	Quantity       int `json:"quantity"`
}

// BCShipment is a shipment created with POST /v2/orders/{id}/shipments.
type BCShipment struct {
	ID                   int            `json:"id"`
	StoreHash            string         `json:"store_hash"`
	OrderID              int            `json:"order_id"`
	CustomerID           int            `json:"customer_id"`
	OrderAddressID       int            `json:"order_address_id"`
	DateCreated          time.Time      `json:"date_created"`
	TrackingNumber       string         `json:"tracking_number"`
	ShippingProvider     string         `json:"shipping_provider"`
	TrackingCarrier      string         `json:"tracking_carrier"`
	TrackingLink         string         `json:"tracking_link"`
	ShippingMethod       string         `json:"shipping_method"`
	MerchantShippingCost string         `json:"merchant_shipping_cost"`
	Comments             string         `json:"comments"`
	Items                []ShipmentItem `json:"items"`
}

// OrderSpec describes an order to create with Sandbox.CreateOrder. IDs are
// assigned by the sandbox. GenerateOrder makes realistic random specs.
type OrderSpec struct {
	// StoreHash selects the store; "" means the default store.
	StoreHash string `json:"store_hash"`
	// StatusID is the initial status. Note that 0 is Incomplete; the admin
	// endpoint defaults it to 11 (Awaiting Fulfillment) when absent.
	StatusID   int `json:"status_id"`
	CustomerID int `json:"customer_id"`
	// ChannelID defaults to 1 (the storefront).
	ChannelID int `json:"channel_id"`
	// OrderSource defaults to "www".
	OrderSource     string `json:"order_source"`
	ExternalSource  string `json:"external_source"`
	ExternalID      string `json:"external_id"`
	ExternalOrderID string `json:"external_order_id"`
	// EbayOrderID defaults to "0".
	EbayOrderID     string `json:"ebay_order_id"`
	CustomerMessage string `json:"customer_message"`
	StaffNotes      string `json:"staff_notes"`
	PaymentMethod   string `json:"payment_method"`
	// CurrencyCode defaults to USD.
	CurrencyCode string `json:"currency_code"`
	// TaxRateBasisPoints is the tax rate applied to lines (825 = 8.25 %).
	TaxRateBasisPoints int   `json:"tax_rate_basis_points"`
	DiscountCents      int64 `json:"discount_cents"`
	// DateCreated defaults to the sandbox clock.
	DateCreated time.Time `json:"date_created"`
	Billing     Address   `json:"billing_address"`
	// ShippingAddresses are the destinations; their IDs are ignored.
	ShippingAddresses []ShippingAddress `json:"shipping_addresses"`
	Lines             []LineSpec        `json:"lines"`
}

// LineSpec describes one order line of an OrderSpec.
type LineSpec struct {
	ProductID int    `json:"product_id"`
	VariantID int    `json:"variant_id"`
	Name      string `json:"name"`
	SKU       string `json:"sku"`
	UPC       string `json:"upc"`
	// Type is physical (default), digital or giftcertificate.
	Type           string `json:"type"`
	Quantity       int    `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	Weight         string `json:"weight"`
	// AddressIndex indexes OrderSpec.ShippingAddresses (physical lines only).
	AddressIndex int `json:"address_index"`
	// Options are product options; their ids are assigned when zero.
	Options []LineOption `json:"options"`
}

func (sp *OrderSpec) validate() error {
	if len(sp.Lines) == 0 {
		return errors.New("sandbox: order needs at least one line")
	}
	if StatusName(sp.StatusID) == "" {
		return fmt.Errorf("sandbox: unknown status_id %d", sp.StatusID)
	}
	for i, l := range sp.Lines {
		if strings.TrimSpace(l.Name) == "" {
			return fmt.Errorf("sandbox: line %d has no name", i)
		}
		if l.Quantity < 1 {
			return fmt.Errorf("sandbox: line %d has quantity %d", i, l.Quantity)
		}
		if l.UnitPriceCents < 0 {
			return fmt.Errorf("sandbox: line %d has a negative price", i)
		}
		switch l.Type {
		case "", "physical":
			if l.AddressIndex < 0 || l.AddressIndex >= len(sp.ShippingAddresses) {
				return fmt.Errorf("sandbox: physical line %d has address_index %d but the order has %d shipping addresses", i, l.AddressIndex, len(sp.ShippingAddresses))
			}
		case "digital", "giftcertificate":
		default:
			return fmt.Errorf("sandbox: line %d has unknown type %q", i, l.Type)
		}
	}
	return nil
}

// money renders cents as BigCommerce's 4-decimal string: 4320 -> "43.2000".
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d00", sign, cents/100, cents%100)
}

// parseMoneyCents parses "12.5", "12.50", "12.5000" or "12" into cents,
// truncating digits beyond the second decimal.
func parseMoneyCents(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac[:2], 10, 64)
	if err != nil || strings.Trim(frac[2:], "0123456789") != "" {
		return 0, fmt.Errorf("invalid amount %q", s)
	}
	c := w*100 + f
	if neg {
		c = -c
	}
	return c, nil
}

// rfc2822 formats t the way BigCommerce V2 does: "Fri, 21 Nov 2026 17:03:20 +0000".
func rfc2822(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

// parseBCDate parses the RFC-2822 and ISO-8601 forms BigCommerce accepts in
// date filters. A "+" of a zone offset that was not URL-encoded arrives as a
// space and is tolerated.
func parseBCDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	layouts := []string{
		"Mon, 02 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"02 Jan 2006 15:04:05 -0700",
		time.RFC1123,
		time.RFC3339Nano,
		"2006-01-02T15:04:05.000-07:00",
		"2006-01-02T15:04:05-0700",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02",
	}
	try := func(v string) (time.Time, bool) {
		for _, l := range layouts {
			if t, err := time.Parse(l, v); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	if t, ok := try(s); ok {
		return t, nil
	}
	// "…15:04:05 0000" (unencoded "+") or "…T15:04:05 00:00".
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		if t, ok := try(s[:i] + "+" + s[i+1:]); ok {
			return t, nil
		}
		if t, ok := try(s[:i] + s[i:i+1] + "+" + s[i+1:]); ok {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q", s)
}
