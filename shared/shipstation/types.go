package shipstation

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
	_ "time/tzdata" // America/Los_Angeles must load in a Lambda without zoneinfo

	"github.com/shiprelay/shiprelay/shared/httpapi"
)

// TimeLayout is how ShipStation V1 writes timestamps: US Pacific wall-clock
// time with seven fractional digits and no offset.
const TimeLayout = "2006-01-02T15:04:05.0000000"

// pacific is US Pacific time; the embedded tzdata makes the load succeed
// everywhere. The fixed-offset fallback only guards against a broken build.
var pacific = func() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return loc
}()

// Pacific returns the US Pacific location ShipStation V1 speaks.
func Pacific() *time.Location { return pacific }

// FormatTime writes t as ShipStation V1 expects: converted to US Pacific
// (PST or PDT as the date requires) and formatted with TimeLayout.
func FormatTime(t time.Time) string { return t.In(pacific).Format(TimeLayout) }

// ParseTime reads a ShipStation V1 timestamp ("2026-11-21T09:15:02.1230000",
// "2026-11-21 09:15:02", or a date "2026-11-21") as US Pacific time and
// returns it in UTC. Text with an explicit offset (RFC 3339) is honoured.
// A wall-clock time that occurs twice (the autumn DST change) resolves to
// one of the two instants; ShipStation gives no way to tell which.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, pacific); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, errors.New("not a ShipStation timestamp")
}

// Time is a ShipStation V1 timestamp. It holds the instant (use .UTC());
// on the wire it is Pacific wall-clock text. The zero Time encodes as null
// (and is omitted by omitzero); null and "" decode to the zero Time.
type Time struct{ time.Time }

// MarshalJSON writes FormatTime's text, or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(FormatTime(t.Time))
}

// UnmarshalJSON reads ParseTime's formats, null or "".
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return httpapi.FieldError("timestamp must be a string")
	}
	if strings.TrimSpace(s) == "" {
		*t = Time{}
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return httpapi.FieldError("timestamp is not in ShipStation's format")
	}
	*t = Time{v}
	return nil
}

// At wraps a time for a wire field; a nil pointer gives the zero Time.
func At(t *time.Time) Time {
	if t == nil {
		return Time{}
	}
	return Time{*t}
}

// Address is billTo/shipTo. Country is ISO 3166-1 alpha-2 (required by
// ShipStation on shipTo).
type Address struct {
	Name        string `json:"name"`
	Company     string `json:"company,omitempty"`
	Street1     string `json:"street1,omitempty"`
	Street2     string `json:"street2,omitempty"`
	Street3     string `json:"street3,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	PostalCode  string `json:"postalCode,omitempty"`
	Country     string `json:"country,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Residential *bool  `json:"residential,omitempty"`
	// AddressVerified is read-only (responses only).
	AddressVerified string `json:"addressVerified,omitempty"`
}

// Weight is a weight; Units is "pounds", "ounces" or "grams".
type Weight struct {
	Value json.Number `json:"value"`
	Units string      `json:"units"`
}

// Dimensions of a package; Units is "inches" or "centimeters".
type Dimensions struct {
	Length json.Number `json:"length"`
	Width  json.Number `json:"width"`
	Height json.Number `json:"height"`
	Units  string      `json:"units"`
}

// ItemOption is a product option shown on the pick list.
type ItemOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Item is one order line. Money fields are JSON numbers held as text.
type Item struct {
	// OrderItemID is read-only (responses only).
	OrderItemID int64 `json:"orderItemId,omitempty"`
	// LineItemKey is our line id (the channel's line id).
	LineItemKey       string       `json:"lineItemKey,omitempty"`
	SKU               string       `json:"sku,omitempty"`
	Name              string       `json:"name"`
	ImageURL          string       `json:"imageUrl,omitempty"`
	Weight            *Weight      `json:"weight,omitempty"`
	Quantity          int          `json:"quantity"`
	UnitPrice         json.Number  `json:"unitPrice,omitempty"`
	TaxAmount         json.Number  `json:"taxAmount,omitempty"`
	ShippingAmount    json.Number  `json:"shippingAmount,omitempty"`
	WarehouseLocation string       `json:"warehouseLocation,omitempty"`
	Options           []ItemOption `json:"options,omitempty"`
	// ProductID is ShipStation's own product id, not the channel's.
	ProductID      int64  `json:"productId,omitempty"`
	FulfillmentSKU string `json:"fulfillmentSku,omitempty"`
	// Adjustment marks a non-physical line such as a discount.
	Adjustment bool   `json:"adjustment,omitempty"`
	UPC        string `json:"upc,omitempty"`
	// CreateDate and ModifyDate are read-only.
	CreateDate Time `json:"createDate,omitzero"`
	ModifyDate Time `json:"modifyDate,omitzero"`
}

// InsuranceOptions of an order.
type InsuranceOptions struct {
	Provider       string      `json:"provider,omitempty"`
	InsureShipment bool        `json:"insureShipment"`
	InsuredValue   json.Number `json:"insuredValue,omitempty"`
}

// CustomsItem is one customs declaration line.
type CustomsItem struct {
	CustomsItemID        int64       `json:"customsItemId,omitempty"`
	Description          string      `json:"description,omitempty"`
	Quantity             int         `json:"quantity"`
	Value                json.Number `json:"value,omitempty"`
	HarmonizedTariffCode string      `json:"harmonizedTariffCode,omitempty"`
	CountryOfOrigin      string      `json:"countryOfOrigin,omitempty"`
}

// InternationalOptions of an order.
type InternationalOptions struct {
	Contents     string        `json:"contents,omitempty"`
	CustomsItems []CustomsItem `json:"customsItems,omitempty"`
	NonDelivery  string        `json:"nonDelivery,omitempty"`
}

// AdvancedOptions of an order. StoreID can only be set when the order is
// created; Source is free text naming the original channel.
type AdvancedOptions struct {
	WarehouseID       int64  `json:"warehouseId,omitempty"`
	NonMachinable     bool   `json:"nonMachinable,omitempty"`
	SaturdayDelivery  bool   `json:"saturdayDelivery,omitempty"`
	ContainsAlcohol   bool   `json:"containsAlcohol,omitempty"`
	StoreID           int64  `json:"storeId,omitempty"`
	CustomField1      string `json:"customField1,omitempty"`
	CustomField2      string `json:"customField2,omitempty"`
	CustomField3      string `json:"customField3,omitempty"`
	Source            string `json:"source,omitempty"`
	BillToParty       string `json:"billToParty,omitempty"`
	BillToAccount     string `json:"billToAccount,omitempty"`
	BillToPostalCode  string `json:"billToPostalCode,omitempty"`
	BillToCountryCode string `json:"billToCountryCode,omitempty"`
	// Read-only.
	MergedOrSplit bool    `json:"mergedOrSplit,omitempty"`
	MergedIDs     []int64 `json:"mergedIds,omitempty"`
	ParentID      int64   `json:"parentId,omitempty"`
}

// Order is a V1 order, as sent to createorder(s) and as returned by the
// order endpoints. createorder is an upsert keyed on OrderKey and a full
// replace. Read-only fields are omitted when zero, so a decoded order can
// be sent back.
type Order struct {
	// OrderID is ShipStation's id (read-only except for split-order updates).
	OrderID          int64   `json:"orderId,omitempty"`
	OrderNumber      string  `json:"orderNumber"`
	OrderKey         string  `json:"orderKey,omitempty"`
	OrderDate        Time    `json:"orderDate,omitzero"`
	CreateDate       Time    `json:"createDate,omitzero"`
	ModifyDate       Time    `json:"modifyDate,omitzero"`
	PaymentDate      Time    `json:"paymentDate,omitzero"`
	ShipByDate       Time    `json:"shipByDate,omitzero"`
	OrderStatus      string  `json:"orderStatus"`
	CustomerID       int64   `json:"customerId,omitempty"`
	CustomerUsername string  `json:"customerUsername,omitempty"`
	CustomerEmail    string  `json:"customerEmail,omitempty"`
	BillTo           Address `json:"billTo"`
	ShipTo           Address `json:"shipTo"`
	Items            []Item  `json:"items"`
	// OrderTotal is read-only (ShipStation computes it).
	OrderTotal               json.Number `json:"orderTotal,omitempty"`
	AmountPaid               json.Number `json:"amountPaid,omitempty"`
	TaxAmount                json.Number `json:"taxAmount,omitempty"`
	ShippingAmount           json.Number `json:"shippingAmount,omitempty"`
	CustomerNotes            string      `json:"customerNotes,omitempty"`
	InternalNotes            string      `json:"internalNotes,omitempty"`
	Gift                     bool        `json:"gift,omitempty"`
	GiftMessage              string      `json:"giftMessage,omitempty"`
	PaymentMethod            string      `json:"paymentMethod,omitempty"`
	RequestedShippingService string      `json:"requestedShippingService,omitempty"`
	CarrierCode              string      `json:"carrierCode,omitempty"`
	ServiceCode              string      `json:"serviceCode,omitempty"`
	PackageCode              string      `json:"packageCode,omitempty"`
	Confirmation             string      `json:"confirmation,omitempty"`
	ShipDate                 string      `json:"shipDate,omitempty"` // yyyy-mm-dd
	// HoldUntilDate is read-only (createorder(s) ignore it): the date an
	// on_hold order returns to awaiting_shipment, set by Client.HoldUntil.
	HoldUntilDate        string                `json:"holdUntilDate,omitempty"`
	Weight               *Weight               `json:"weight,omitempty"`
	Dimensions           *Dimensions           `json:"dimensions,omitempty"`
	InsuranceOptions     *InsuranceOptions     `json:"insuranceOptions,omitempty"`
	InternationalOptions *InternationalOptions `json:"internationalOptions,omitempty"`
	AdvancedOptions      AdvancedOptions       `json:"advancedOptions,omitzero"`
	TagIDs               []int64               `json:"tagIds,omitempty"`
	// Read-only.
	UserID                string `json:"userId,omitempty"`
	ExternallyFulfilled   bool   `json:"externallyFulfilled,omitempty"`
	ExternallyFulfilledBy string `json:"externallyFulfilledBy,omitempty"`
}

// CreateOrderResult is one entry of a createorders response.
type CreateOrderResult struct {
	OrderID     int64  `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	OrderKey    string `json:"orderKey"`
	Success     bool   `json:"success"`
	// ErrorMessage is null (nil) on success.
	ErrorMessage *string `json:"errorMessage"`
}

// CreateOrdersResult is the createorders response: HTTP 200 even when some
// orders failed, so check HasErrors and each result.
type CreateOrdersResult struct {
	HasErrors bool                `json:"hasErrors"`
	Results   []CreateOrderResult `json:"results"`
}

// OrdersPage is one page of GET /orders.
type OrdersPage struct {
	Orders []Order `json:"orders"`
	Total  int     `json:"total"`
	Page   int     `json:"page"`
	Pages  int     `json:"pages"`
}

// Tag is one of the account's order tags (GET /accounts/listtags). Orders
// carry tags by TagID; people see the Name.
type Tag struct {
	TagID int64  `json:"tagId"`
	Name  string `json:"name"`
	// Color is the tag's colour as "#RRGGBB".
	Color string `json:"color,omitempty"`
}
