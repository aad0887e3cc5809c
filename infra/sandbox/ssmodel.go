package sandbox

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
	_ "time/tzdata" // ShipStation V1 speaks US Pacific time; do not depend on the host's zoneinfo.
)

// pacific is ShipStation V1's time zone.
var pacific = func() *time.Location {
	l, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return l
}()

// ssLayout is ShipStation V1's timestamp format: "2026-11-21T09:15:02.1230000".
const ssLayout = "2006-01-02T15:04:05.0000000"

// SSTime formats t as ShipStation V1 does (US Pacific, 7 fractional digits).
func SSTime(t time.Time) string { return t.In(pacific).Format(ssLayout) }

// ParseSSTime parses a ShipStation V1 date: "2026-11-21T09:15:02.1230000",
// "2026-11-21 09:15:02" or "2026-11-21" are read as US Pacific time; RFC 3339
// with a zone is honoured.
func ParseSSTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, pacific); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q", s)
}

// SSAddress is a ShipStation V1 address (billTo, shipTo).
type SSAddress struct {
	Name            *string `json:"name"`
	Company         *string `json:"company"`
	Street1         *string `json:"street1"`
	Street2         *string `json:"street2"`
	Street3         *string `json:"street3"`
	City            *string `json:"city"`
	State           *string `json:"state"`
	PostalCode      *string `json:"postalCode"`
	Country         *string `json:"country"`
	Phone           *string `json:"phone"`
	Residential     *bool   `json:"residential"`
	AddressVerified *string `json:"addressVerified"`
}

// SSWeight is a ShipStation weight.
type SSWeight struct {
	Value       json.Number `json:"value"`
	Units       string      `json:"units"`
	WeightUnits int         `json:"WeightUnits"`
}

// SSDimensions are package dimensions.
type SSDimensions struct {
	Units  string      `json:"units"`
	Length json.Number `json:"length"`
	Width  json.Number `json:"width"`
	Height json.Number `json:"height"`
}

// SSInsuranceOptions are insurance settings.
type SSInsuranceOptions struct {
	Provider       *string     `json:"provider"`
	InsureShipment bool        `json:"insureShipment"`
	InsuredValue   json.Number `json:"insuredValue"`
}

// SSCustomsItem is one customs declaration line.
type SSCustomsItem struct {
	CustomsItemID        *int64      `json:"customsItemId"`
	Description          *string     `json:"description"`
	Quantity             int         `json:"quantity"`
	Value                json.Number `json:"value"`
	HarmonizedTariffCode *string     `json:"harmonizedTariffCode"`
	CountryOfOrigin      *string     `json:"countryOfOrigin"`
}

// SSInternationalOptions are customs settings.
type SSInternationalOptions struct {
	Contents     *string         `json:"contents"`
	CustomsItems []SSCustomsItem `json:"customsItems"`
	NonDelivery  *string         `json:"nonDelivery"`
}

// SSAdvancedOptions are ShipStation's advanced order options.
type SSAdvancedOptions struct {
	WarehouseID          *int64          `json:"warehouseId"`
	NonMachinable        bool            `json:"nonMachinable"`
	SaturdayDelivery     bool            `json:"saturdayDelivery"`
	ContainsAlcohol      bool            `json:"containsAlcohol"`
	MergedOrSplit        bool            `json:"mergedOrSplit"`
	MergedIDs            []int64         `json:"mergedIds"`
	ParentID             *int64          `json:"parentId"`
	StoreID              *int64          `json:"storeId"`
	CustomField1         *string         `json:"customField1"`
	CustomField2         *string         `json:"customField2"`
	CustomField3         *string         `json:"customField3"`
	Source               *string         `json:"source"`
	BillToParty          *string         `json:"billToParty"`
	BillToAccount        *string         `json:"billToAccount"`
	BillToPostalCode     *string         `json:"billToPostalCode"`
	BillToCountryCode    *string         `json:"billToCountryCode"`
	BillToMyOtherAccount json.RawMessage `json:"billToMyOtherAccount"`
}

// SSItemOption is one option of an order item.
type SSItemOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SSItem is one ShipStation order item.
type SSItem struct {
	OrderItemID       int64          `json:"orderItemId"`
	LineItemKey       *string        `json:"lineItemKey"`
	SKU               *string        `json:"sku"`
	Name              *string        `json:"name"`
	ImageURL          *string        `json:"imageUrl"`
	Weight            *SSWeight      `json:"weight"`
	Quantity          int            `json:"quantity"`
	UnitPrice         json.Number    `json:"unitPrice"`
	TaxAmount         *json.Number   `json:"taxAmount"`
	ShippingAmount    *json.Number   `json:"shippingAmount"`
	WarehouseLocation *string        `json:"warehouseLocation"`
	Options           []SSItemOption `json:"options"`
	ProductID         *int64         `json:"productId"`
	FulfillmentSKU    *string        `json:"fulfillmentSku"`
	Adjustment        bool           `json:"adjustment"`
	UPC               *string        `json:"upc"`
	CreateDate        *string        `json:"createDate"`
	ModifyDate        *string        `json:"modifyDate"`
}

// SSOrder is a ShipStation V1 order, as accepted by createorder(s) and
// returned by GET /orders. Read-only fields (orderId, createDate,
// modifyDate, orderTotal, customerId, holdUntilDate, ...) are set by the
// sandbox: holdUntilDate only by POST /orders/holduntil.
type SSOrder struct {
	OrderID                   int64                   `json:"orderId"`
	OrderNumber               string                  `json:"orderNumber"`
	OrderKey                  string                  `json:"orderKey"`
	OrderDate                 string                  `json:"orderDate"`
	CreateDate                string                  `json:"createDate"`
	ModifyDate                string                  `json:"modifyDate"`
	PaymentDate               *string                 `json:"paymentDate"`
	ShipByDate                *string                 `json:"shipByDate"`
	OrderStatus               string                  `json:"orderStatus"`
	CustomerID                *int64                  `json:"customerId"`
	CustomerUsername          *string                 `json:"customerUsername"`
	CustomerEmail             *string                 `json:"customerEmail"`
	BillTo                    *SSAddress              `json:"billTo"`
	ShipTo                    *SSAddress              `json:"shipTo"`
	Items                     []SSItem                `json:"items"`
	OrderTotal                json.Number             `json:"orderTotal"`
	AmountPaid                json.Number             `json:"amountPaid"`
	TaxAmount                 json.Number             `json:"taxAmount"`
	ShippingAmount            json.Number             `json:"shippingAmount"`
	CustomerNotes             *string                 `json:"customerNotes"`
	InternalNotes             *string                 `json:"internalNotes"`
	Gift                      bool                    `json:"gift"`
	GiftMessage               *string                 `json:"giftMessage"`
	PaymentMethod             *string                 `json:"paymentMethod"`
	RequestedShippingService  *string                 `json:"requestedShippingService"`
	CarrierCode               *string                 `json:"carrierCode"`
	ServiceCode               *string                 `json:"serviceCode"`
	PackageCode               *string                 `json:"packageCode"`
	Confirmation              *string                 `json:"confirmation"`
	ShipDate                  *string                 `json:"shipDate"`
	HoldUntilDate             *string                 `json:"holdUntilDate"`
	Weight                    *SSWeight               `json:"weight"`
	Dimensions                *SSDimensions           `json:"dimensions"`
	InsuranceOptions          *SSInsuranceOptions     `json:"insuranceOptions"`
	InternationalOptions      *SSInternationalOptions `json:"internationalOptions"`
	AdvancedOptions           *SSAdvancedOptions      `json:"advancedOptions"`
	TagIDs                    []int64                 `json:"tagIds"`
	UserID                    *string                 `json:"userId"`
	ExternallyFulfilled       bool                    `json:"externallyFulfilled"`
	ExternallyFulfilledBy     *string                 `json:"externallyFulfilledBy"`
	ExternallyFulfilledByID   *int64                  `json:"externallyFulfilledById"`
	ExternallyFulfilledByName *string                 `json:"externallyFulfilledByName"`
	LabelMessages             *string                 `json:"labelMessages"`
}

// StoreID returns advancedOptions.storeId (0 if unset).
func (o *SSOrder) StoreID() int64 {
	if o.AdvancedOptions == nil || o.AdvancedOptions.StoreID == nil {
		return 0
	}
	return *o.AdvancedOptions.StoreID
}

func (o *SSOrder) clone() SSOrder {
	// A JSON round trip is the simplest deep copy of this pointer-rich type.
	var c SSOrder
	b, err := json.Marshal(o)
	if err == nil && json.Unmarshal(b, &c) == nil {
		return c
	}
	return *o
}

// DefaultSourceKey identifies the source order of a ShipStation order:
//
//   - An orderKey that names a marketplace order, "<marketplace>:<orderId>"
//     (Origin.Key in shiprelay, api-contracts §6.2's "amazon:113-…") or
//     "<marketplace>:<store>:<orderId>" (shiprelay's order identity of a
//     marketplace import, "amazon:amazon-us:113-…"), gives
//     "<marketplace>:<orderId>" (marketplace lower-cased; amazon or ebay).
//     A ship-group suffix ("/<group>") stays part of the order id. So the
//     marketplace's own import and a BigCommerce copy that the hub pushed
//     under the copy's origin have the same key, whatever their stores.
//   - Otherwise "<advancedOptions.source>:<advancedOptions.customField1>"
//     (lower-cased source), the convention of api-contracts §6.2
//     ("bigcommerce:105", "amazon:113-…").
//   - "" when neither applies.
//
// A copy the hub pushed as a plain BigCommerce order ("bigcommerce:…"
// orderKey) cannot be related to its marketplace order from the
// ShipStation order alone; the duplicate report relates it through the
// sandbox's BigCommerce state (see DuplicateReport).
func DefaultSourceKey(o *SSOrder) string {
	if k := marketplaceKeyOf(o.OrderKey); k != "" {
		return k
	}
	a := o.AdvancedOptions
	if a == nil || a.Source == nil || a.CustomField1 == nil || *a.Source == "" || *a.CustomField1 == "" {
		return ""
	}
	return strings.ToLower(*a.Source) + ":" + *a.CustomField1
}

// sourceMarketplaces are the orderKey prefixes DefaultSourceKey reads as
// marketplace orders.
var sourceMarketplaces = map[string]bool{"amazon": true, "ebay": true}

// marketplaceKeyOf returns "<marketplace>:<orderId>" for an orderKey
// "<marketplace>:<orderId>" or "<marketplace>:<store>:<orderId>", else "".
func marketplaceKeyOf(orderKey string) string {
	parts := strings.Split(orderKey, ":")
	mkt := strings.ToLower(parts[0])
	if !sourceMarketplaces[mkt] {
		return ""
	}
	var id string
	switch len(parts) {
	case 2:
		id = parts[1]
	case 3:
		if parts[1] == "" {
			return ""
		}
		id = parts[2]
	default:
		return ""
	}
	if id == "" || strings.HasPrefix(id, "/") {
		return ""
	}
	return mkt + ":" + id
}

// ssOrderStatuses are the values orderStatus may take.
var ssOrderStatuses = map[string]bool{
	"awaiting_payment": true, "awaiting_shipment": true, "pending_fulfillment": true,
	"shipped": true, "on_hold": true, "cancelled": true,
}

// fieldError is one validation failure (ShipStation ModelState entry).
type fieldError struct {
	field string
	msg   string
}

func isISO2(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// validate checks the fields api-contracts §1.3 marks required.
func (o *SSOrder) validate() []fieldError {
	var errs []fieldError
	add := func(f, m string) { errs = append(errs, fieldError{f, m}) }
	switch n := len([]rune(o.OrderNumber)); {
	case strings.TrimSpace(o.OrderNumber) == "":
		add("orderNumber", "The orderNumber field is required.")
	case n > 50:
		add("orderNumber", "The field orderNumber must be a string with a maximum length of 50.")
	}
	if strings.TrimSpace(o.OrderDate) == "" {
		add("orderDate", "The orderDate field is required.")
	} else if _, err := ParseSSTime(o.OrderDate); err != nil {
		add("orderDate", fmt.Sprintf("The value '%s' is not valid for orderDate.", o.OrderDate))
	}
	for _, d := range []struct {
		name string
		v    *string
	}{{"paymentDate", o.PaymentDate}, {"shipByDate", o.ShipByDate}, {"holdUntilDate", o.HoldUntilDate}, {"shipDate", o.ShipDate}} {
		if d.v != nil && *d.v != "" {
			if _, err := ParseSSTime(*d.v); err != nil {
				add(d.name, fmt.Sprintf("The value '%s' is not valid for %s.", *d.v, d.name))
			}
		}
	}
	if o.OrderStatus == "" {
		add("orderStatus", "The orderStatus field is required.")
	} else if !ssOrderStatuses[o.OrderStatus] {
		add("orderStatus", fmt.Sprintf("'%s' is not a valid orderStatus. Allowed: awaiting_payment, awaiting_shipment, pending_fulfillment, shipped, on_hold, cancelled.", o.OrderStatus))
	}
	if o.BillTo == nil {
		add("billTo", "The billTo field is required.")
	}
	if o.ShipTo == nil {
		add("shipTo", "The shipTo field is required.")
	} else if o.ShipTo.Country == nil || *o.ShipTo.Country == "" {
		add("shipTo.country", "The country field is required.")
	} else if !isISO2(*o.ShipTo.Country) {
		add("shipTo.country", fmt.Sprintf("'%s' is not a valid two-letter ISO country code.", *o.ShipTo.Country))
	}
	if o.BillTo != nil && o.BillTo.Country != nil && *o.BillTo.Country != "" && !isISO2(*o.BillTo.Country) {
		add("billTo.country", fmt.Sprintf("'%s' is not a valid two-letter ISO country code.", *o.BillTo.Country))
	}
	for i, it := range o.Items {
		if it.Name == nil || strings.TrimSpace(*it.Name) == "" {
			add(fmt.Sprintf("items[%d].name", i), "The name field is required.")
		}
		if it.Quantity < 1 {
			add(fmt.Sprintf("items[%d].quantity", i), "The field quantity must be at least 1.")
		}
		if it.UnitPrice != "" {
			if _, ok := new(big.Rat).SetString(string(it.UnitPrice)); !ok {
				add(fmt.Sprintf("items[%d].unitPrice", i), "The unitPrice field must be a number.")
			}
		}
	}
	if o.Weight != nil && o.Weight.Units != "" && o.Weight.Units != "pounds" && o.Weight.Units != "ounces" && o.Weight.Units != "grams" {
		add("weight.units", "The units field must be one of pounds, ounces, grams.")
	}
	return errs
}

// orderTotal is sum(unitPrice*quantity) + shippingAmount + taxAmount.
func (o *SSOrder) orderTotal() json.Number {
	total := new(big.Rat)
	rat := func(n json.Number) *big.Rat {
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return new(big.Rat)
		}
		return r
	}
	for _, it := range o.Items {
		total.Add(total, new(big.Rat).Mul(rat(it.UnitPrice), big.NewRat(int64(it.Quantity), 1)))
	}
	total.Add(total, rat(o.ShippingAmount))
	total.Add(total, rat(o.TaxAmount))
	s := total.FloatString(2)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		s = "0"
	}
	return json.Number(s)
}

func weightUnitsCode(units string) int {
	switch units {
	case "pounds":
		return 2
	case "grams":
		return 3
	default:
		return 1
	}
}

// SSTag is a ShipStation V1 account tag, as GET /accounts/listtags
// returns it. Orders name their tags by TagID (tagIds).
type SSTag struct {
	TagID int64  `json:"tagId"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

// DefaultShipStationTags are the tags a sandbox account starts with: the
// ones shiprelay puts on Amazon orders ("Prime", "Business", "Cancel
// requested"). Their ids are fixed, so tests and demos can rely on them.
func DefaultShipStationTags() []SSTag {
	return []SSTag{
		{TagID: 41001, Name: "Prime", Color: "#00A8E1"},
		{TagID: 41002, Name: "Business", Color: "#232F3E"},
		{TagID: 41003, Name: "Cancel requested", Color: "#D0021B"},
	}
}
