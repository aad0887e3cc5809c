package bigcommerce

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/shiprelay/shiprelay/shared/httpapi"
)

// FlexString is a field the spec types loosely ("Float, Float-As-String,
// Integer", or string-or-number ids): it decodes a JSON string, a JSON number
// or null, and keeps the text exactly as sent, so money never passes through
// float64. null decodes to "". It encodes as a JSON string.
type FlexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return httpapi.FieldError("empty value")
	case string(b) == "null":
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return httpapi.FieldError("malformed string")
		}
		*f = FlexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return httpapi.FieldError("malformed number")
		}
		*f = FlexString(n)
		return nil
	}
	return httpapi.FieldError("expected a string, a number or null")
}

// MarshalJSON encodes the text as a JSON string.
func (f FlexString) MarshalJSON() ([]byte, error) { return json.Marshal(string(f)) }

// String returns the text.
func (f FlexString) String() string { return string(f) }

// Resource is a link to a sub-resource (`products`, `shipping_addresses`).
type Resource struct {
	URL      string `json:"url"`
	Resource string `json:"resource"`
}

// BillingAddress is an order's billing_address.
type BillingAddress struct {
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

// Order is a V2 order as GET /v2/orders[/{id}] returns it. Money fields are
// decimal text ("43.2000"); dates are RFC-2822 text in UTC. Fields the hub
// does not use are not declared and are ignored on decode.
type Order struct {
	ID           int64      `json:"id"`
	CustomerID   FlexString `json:"customer_id"`
	DateCreated  string     `json:"date_created"`
	DateModified string     `json:"date_modified"`
	DateShipped  string     `json:"date_shipped"`
	StatusID     int        `json:"status_id"`
	Status       string     `json:"status"`
	CustomStatus string     `json:"custom_status"`

	SubtotalExTax      FlexString `json:"subtotal_ex_tax"`
	SubtotalIncTax     FlexString `json:"subtotal_inc_tax"`
	SubtotalTax        FlexString `json:"subtotal_tax"`
	BaseShippingCost   FlexString `json:"base_shipping_cost"`
	ShippingCostExTax  FlexString `json:"shipping_cost_ex_tax"`
	ShippingCostIncTax FlexString `json:"shipping_cost_inc_tax"`
	ShippingCostTax    FlexString `json:"shipping_cost_tax"`
	HandlingCostExTax  FlexString `json:"handling_cost_ex_tax"`
	HandlingCostIncTax FlexString `json:"handling_cost_inc_tax"`
	WrappingCostExTax  FlexString `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax FlexString `json:"wrapping_cost_inc_tax"`
	TotalExTax         FlexString `json:"total_ex_tax"`
	TotalIncTax        FlexString `json:"total_inc_tax"`
	TotalTax           FlexString `json:"total_tax"`
	DiscountAmount     FlexString `json:"discount_amount"`
	CouponDiscount     FlexString `json:"coupon_discount"`
	RefundedAmount     FlexString `json:"refunded_amount"`
	StoreCreditAmount  FlexString `json:"store_credit_amount"`
	GiftCertAmount     FlexString `json:"gift_certificate_amount"`

	ItemsTotal           FlexString `json:"items_total"`
	ItemsShipped         FlexString `json:"items_shipped"`
	PaymentMethod        string     `json:"payment_method"`
	PaymentProviderID    FlexString `json:"payment_provider_id"`
	PaymentStatus        string     `json:"payment_status"`
	OrderIsDigital       bool       `json:"order_is_digital"`
	CurrencyCode         string     `json:"currency_code"`
	DefaultCurrencyCode  string     `json:"default_currency_code"`
	StaffNotes           string     `json:"staff_notes"`
	CustomerMessage      string     `json:"customer_message"`
	ShippingAddressCount FlexString `json:"shipping_address_count"`
	IsDeleted            bool       `json:"is_deleted"`
	CustomerLocale       string     `json:"customer_locale"`
	GeoIPCountryISO2     string     `json:"geoip_country_iso2"`

	// Where the order came from (used to detect marketplace copies).
	ChannelID          int64      `json:"channel_id"`
	OrderSource        string     `json:"order_source"`
	ExternalSource     string     `json:"external_source"`
	ExternalID         FlexString `json:"external_id"`
	ExternalOrderID    FlexString `json:"external_order_id"`
	ExternalMerchantID FlexString `json:"external_merchant_id"`
	EbayOrderID        FlexString `json:"ebay_order_id"`

	BillingAddress    BillingAddress `json:"billing_address"`
	Products          Resource       `json:"products"`
	ShippingAddresses Resource       `json:"shipping_addresses"`
}

// ProductOption is one entry of an order product's product_options.
type ProductOption struct {
	ID                   int64  `json:"id"`
	OptionID             int64  `json:"option_id"`
	OrderProductID       int64  `json:"order_product_id"`
	ProductOptionID      int64  `json:"product_option_id"`
	DisplayName          string `json:"display_name"`
	DisplayValue         string `json:"display_value"`
	Value                string `json:"value"`
	Type                 string `json:"type"`
	Name                 string `json:"name"`
	DisplayNameCustomer  string `json:"display_name_customer"`
	DisplayValueCustomer string `json:"display_value_customer"`
}

// Product is one line of an order, GET /v2/orders/{id}/products. Its ID is
// the order_product_id that shipments refer to.
type Product struct {
	ID                   int64           `json:"id"`
	OrderID              int64           `json:"order_id"`
	ProductID            int64           `json:"product_id"`
	VariantID            int64           `json:"variant_id"`
	OrderAddressID       int64           `json:"order_address_id"`
	OrderPickupMethodID  int64           `json:"order_pickup_method_id"`
	Name                 string          `json:"name"`
	NameCustomer         string          `json:"name_customer"`
	NameMerchant         string          `json:"name_merchant"`
	SKU                  string          `json:"sku"`
	UPC                  string          `json:"upc"`
	Type                 string          `json:"type"`
	BasePrice            FlexString      `json:"base_price"`
	PriceExTax           FlexString      `json:"price_ex_tax"`
	PriceIncTax          FlexString      `json:"price_inc_tax"`
	PriceTax             FlexString      `json:"price_tax"`
	TotalExTax           FlexString      `json:"total_ex_tax"`
	TotalIncTax          FlexString      `json:"total_inc_tax"`
	TotalTax             FlexString      `json:"total_tax"`
	DiscountedTotalInc   FlexString      `json:"discounted_total_inc_tax"`
	Weight               FlexString      `json:"weight"`
	Width                FlexString      `json:"width"`
	Height               FlexString      `json:"height"`
	Depth                FlexString      `json:"depth"`
	Quantity             int             `json:"quantity"`
	QuantityShipped      FlexString      `json:"quantity_shipped"`
	QuantityRefunded     FlexString      `json:"quantity_refunded"`
	IsRefunded           bool            `json:"is_refunded"`
	IsBundledProduct     bool            `json:"is_bundled_product"`
	ParentOrderProductID *int64          `json:"parent_order_product_id"`
	BinPickingNumber     string          `json:"bin_picking_number"`
	WrappingMessage      string          `json:"wrapping_message"`
	EbayItemID           FlexString      `json:"ebay_item_id"`
	EbayTransactionID    FlexString      `json:"ebay_transaction_id"`
	ExternalID           FlexString      `json:"external_id"`
	Brand                string          `json:"brand"`
	ProductOptions       []ProductOption `json:"product_options"`
}

// ShippingAddress is one destination of an order,
// GET /v2/orders/{id}/shipping_addresses. Its ID is the order_address_id.
type ShippingAddress struct {
	ID               int64      `json:"id"`
	OrderID          int64      `json:"order_id"`
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Company          string     `json:"company"`
	Street1          string     `json:"street_1"`
	Street2          string     `json:"street_2"`
	City             string     `json:"city"`
	State            string     `json:"state"`
	Zip              string     `json:"zip"`
	Country          string     `json:"country"`
	CountryISO2      string     `json:"country_iso2"`
	Phone            string     `json:"phone"`
	Email            string     `json:"email"`
	ItemsTotal       FlexString `json:"items_total"`
	ItemsShipped     FlexString `json:"items_shipped"`
	ShippingMethod   string     `json:"shipping_method"`
	BaseCost         FlexString `json:"base_cost"`
	CostExTax        FlexString `json:"cost_ex_tax"`
	CostIncTax       FlexString `json:"cost_inc_tax"`
	CostTax          FlexString `json:"cost_tax"`
	ShippingZoneID   FlexString `json:"shipping_zone_id"`
	ShippingZoneName string     `json:"shipping_zone_name"`
}

// ShipmentItem is one line of a shipment: which order product, how many.
type ShipmentItem struct {
	OrderProductID int64 `json:"order_product_id"`
	// ProductID is read-only (responses only).
	ProductID int64 `json:"product_id,omitempty"`
	Quantity  int   `json:"quantity"`
}

// ShipmentRequest is the body of POST /v2/orders/{id}/shipments.
// OrderAddressID and Items are required. Creating a shipment emails the
// customer unless the store's notification settings say otherwise.
type ShipmentRequest struct {
	OrderAddressID int64          `json:"order_address_id"`
	Items          []ShipmentItem `json:"items"`
	TrackingNumber string         `json:"tracking_number,omitempty"`
	// ShippingProvider is "", auspost, canadapost, endicia, usps, fedex,
	// royalmail, ups, upsready, shipperhq or carrier_<id>.
	ShippingProvider string `json:"shipping_provider,omitempty"`
	// TrackingCarrier is "" or an AfterShip courier slug (usps, ups, dhl, …).
	TrackingCarrier string `json:"tracking_carrier,omitempty"`
	TrackingLink    string `json:"tracking_link,omitempty"`
	ShippingMethod  string `json:"shipping_method,omitempty"`
	Comments        string `json:"comments,omitempty"`
}

// Shipment is a shipment as BigCommerce returns it.
type Shipment struct {
	ID                          int64          `json:"id"`
	OrderID                     int64          `json:"order_id"`
	CustomerID                  FlexString     `json:"customer_id"`
	OrderAddressID              int64          `json:"order_address_id"`
	DateCreated                 string         `json:"date_created"`
	TrackingNumber              string         `json:"tracking_number"`
	MerchantShippingCost        FlexString     `json:"merchant_shipping_cost"`
	ShippingMethod              string         `json:"shipping_method"`
	ShippingProvider            string         `json:"shipping_provider"`
	TrackingCarrier             string         `json:"tracking_carrier"`
	TrackingLink                string         `json:"tracking_link"`
	Comments                    string         `json:"comments"`
	Items                       []ShipmentItem `json:"items"`
	ShippingProviderDisplayName string         `json:"shipping_provider_display_name"`
	GeneratedTrackingLink       string         `json:"generated_tracking_link"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
