// Package order is the domain model of shiprelay: the canonical order every
// channel is normalised into, its identity, its status, and the buyer data
// that is held apart so it can be redacted on its own.
//
// It imports no AWS SDK and no HTTP client.
package order

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Channel is a selling channel (or ShipStation, for shipments).
type Channel string

// The channels shiprelay speaks to.
const (
	BigCommerce Channel = "bigcommerce"
	Amazon      Channel = "amazon"
	EBay        Channel = "ebay"
	ShipStation Channel = "shipstation"
)

// Valid reports whether c is a known selling channel.
func (c Channel) Valid() bool {
	switch c {
	case BigCommerce, Amazon, EBay:
		return true
	}
	return false
}

// ID identifies an order: "<channel>:<storeId>:<channelOrderId>". It is
// deterministic, so replays of the same webhook or poll land on the same item.
type ID string

// NewID builds an order identity. None of the parts may be empty; the store id
// may not contain ':' (the channel order id may, e.g. eBay ids never do, but
// the split in Parse keeps everything after the second ':' as the order id).
func NewID(ch Channel, storeID, channelOrderID string) (ID, error) {
	if !ch.Valid() {
		return "", fmt.Errorf("order id: unknown channel %q", ch)
	}
	if storeID == "" || strings.Contains(storeID, ":") {
		return "", fmt.Errorf("order id: bad store id %q", storeID)
	}
	if channelOrderID == "" {
		return "", errors.New("order id: empty channel order id")
	}
	return ID(string(ch) + ":" + storeID + ":" + channelOrderID), nil
}

// Parse splits an ID into its parts.
func (id ID) Parse() (ch Channel, storeID, channelOrderID string, err error) {
	parts := strings.SplitN(string(id), ":", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" || !Channel(parts[0]).Valid() {
		return "", "", "", fmt.Errorf("order id: malformed %q", string(id))
	}
	return Channel(parts[0]), parts[1], parts[2], nil
}

// Status is the canonical order status, the same words ShipStation uses.
type Status string

// Canonical statuses.
const (
	AwaitingPayment  Status = "awaiting_payment"
	AwaitingShipment Status = "awaiting_shipment"
	OnHold           Status = "on_hold"
	Shipped          Status = "shipped"
	Cancelled        Status = "cancelled"
)

// Valid reports whether s is a canonical status.
func (s Status) Valid() bool {
	switch s {
	case AwaitingPayment, AwaitingShipment, OnHold, Shipped, Cancelled:
		return true
	}
	return false
}

// Origin is the marketplace order a channel order mirrors: a BigCommerce copy
// of Amazon order 113-4567890-1234567 has Origin{Amazon, "113-4567890-1234567"}.
// Dedupe keys on the origin, never on the copy's own id.
type Origin struct {
	Marketplace Channel `json:"marketplace"`
	OrderID     string  `json:"orderId"`
}

// Key is the origin identity, "amazon:113-4567890-1234567".
func (o Origin) Key() string { return string(o.Marketplace) + ":" + o.OrderID }

// Address is the non-personal part of an address: it stays with the order
// after redaction.
type Address struct {
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	// Country is ISO 3166-1 alpha-2.
	Country     string `json:"country,omitempty"`
	Residential *bool  `json:"residential,omitempty"`
}

// Contact is the personal part of an address (buyer PII).
type Contact struct {
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
	Street1 string `json:"street1,omitempty"`
	Street2 string `json:"street2,omitempty"`
	Street3 string `json:"street3,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
}

// Personal is all buyer PII of an order, stored apart from the order so that it
// can be redacted or deleted on its own.
type Personal struct {
	BillTo Contact `json:"billTo"`
	// ShipTo holds one contact per ship group, keyed by ShipGroup.Key.
	ShipTo        map[string]Contact `json:"shipTo,omitempty"`
	Email         string             `json:"email,omitempty"`
	Username      string             `json:"username,omitempty"`
	GiftMessage   string             `json:"giftMessage,omitempty"`
	CustomerNotes string             `json:"customerNotes,omitempty"`
	// TaxIDs are the buyer's own tax registrations (a business buyer's VAT
	// number, a Brazilian CPF/CNPJ): buyer data, redacted with the rest.
	TaxIDs []TaxID `json:"taxIds,omitempty"`
	// Redacted is set once the data has been replaced by redaction text.
	Redacted bool `json:"redacted,omitempty"`
}

// TaxID is one tax registration number that goes with an order, such as
// Amazon's IOSS number for EU imports or a buyer's VAT number.
type TaxID struct {
	// Kind names the scheme: "IOSS", "VAT", "BUSINESS", "CPF", "CNPJ", "CST".
	Kind   string `json:"kind"`
	Number string `json:"number"`
}

// String renders the id as "IOSS IM1234567890" (just the number when Kind
// is empty).
func (t TaxID) String() string {
	if t.Kind == "" {
		return t.Number
	}
	return t.Kind + " " + t.Number
}

// TaxIDsText renders tax ids as one line, "IOSS IM1234567890; VAT
// GB123456789", in the order given, skipping ids without a number and
// repeats of the same kind and number. It is "" when nothing is left.
func TaxIDsText(ids ...TaxID) string {
	var parts []string
	seen := map[TaxID]bool{}
	for _, id := range ids {
		id.Kind, id.Number = strings.TrimSpace(id.Kind), strings.TrimSpace(id.Number)
		if id.Number == "" || seen[id] {
			continue
		}
		seen[id] = true
		parts = append(parts, id.String())
	}
	return strings.Join(parts, "; ")
}

// Weight of an item or package.
type Weight struct {
	Value Decimal `json:"value"`
	// Units is "pounds", "ounces" or "grams" (ShipStation's words).
	Units string `json:"units"`
}

// Option is a product option shown on the pick list ("Size": "L").
type Option struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Item is one physical order line.
type Item struct {
	// LineID is the channel's own line id (BigCommerce order_product_id,
	// Amazon OrderItemId); it becomes ShipStation's lineItemKey.
	LineID          string   `json:"lineId"`
	SKU             string   `json:"sku,omitempty"`
	Name            string   `json:"name"`
	Quantity        int      `json:"quantity"`
	QuantityShipped int      `json:"quantityShipped,omitempty"`
	UnitPrice       Decimal  `json:"unitPrice"`
	Tax             Decimal  `json:"tax,omitempty"`
	Weight          *Weight  `json:"weight,omitempty"`
	ImageURL        string   `json:"imageUrl,omitempty"`
	ProductID       string   `json:"productId,omitempty"`
	UPC             string   `json:"upc,omitempty"`
	Options         []Option `json:"options,omitempty"`
	// Group is the ShipGroup.Key this line ships to.
	Group string `json:"group,omitempty"`
}

// ShipGroup is one destination of an order. Most orders have one; a
// BigCommerce order with several shipping addresses has one per address, and
// each group becomes its own ShipStation order.
type ShipGroup struct {
	// Key is stable for the group ("" for the only group of a single-address
	// order, else the channel's address id).
	Key string `json:"key"`
	// ChannelRef is the channel's own id of the destination (BigCommerce
	// order_address_id), which shipment confirmations must name.
	ChannelRef     string  `json:"channelRef,omitempty"`
	ShipTo         Address `json:"shipTo"`
	ShippingMethod string  `json:"shippingMethod,omitempty"`
	ShippingCost   Decimal `json:"shippingCost,omitempty"`
}

// Order is the canonical order.
type Order struct {
	ID             ID      `json:"id"`
	Channel        Channel `json:"channel"`
	StoreID        string  `json:"storeId"`
	ChannelOrderID string  `json:"channelOrderId"`
	// OrderNumber is what people see (ShipStation orderNumber, ≤50 chars).
	OrderNumber string  `json:"orderNumber"`
	Origin      *Origin `json:"origin,omitempty"`
	// OriginReview says why an order that is not a storefront order (a
	// BigCommerce order on a marketplace channel, or one an app created)
	// has no Origin: nothing recognised the marketplace order it may
	// mirror, so a person should look. It names channel ids and platforms,
	// never buyer data. Empty for storefront orders and orders with an
	// Origin.
	OriginReview string `json:"originReview,omitempty"`
	// ReplacementOf is the ledger id of the order this one replaces (an
	// Amazon replacement or exchange order); empty for an ordinary order.
	ReplacementOf ID `json:"replacementOf,omitempty"`
	// Business marks an order placed by a business buyer (Amazon Business).
	Business bool `json:"business,omitempty"`
	// FulfilledByChannel marks an order the channel ships itself (Amazon
	// FBA), imported for record keeping only: it goes to ShipStation as
	// shipped, without buyer data, and no label is ever relayed for it.
	FulfilledByChannel bool `json:"fulfilledByChannel,omitempty"`

	Status Status `json:"status"`
	// CancelRequested is set when the buyer asked the channel to cancel an
	// order that is neither shipped nor cancelled: the order is held
	// (Status OnHold) until a person decides.
	CancelRequested bool `json:"cancelRequested,omitempty"`
	// ChannelStatus is the channel's own status word, kept for the ops view.
	ChannelStatus string `json:"channelStatus,omitempty"`

	OrderDate   time.Time  `json:"orderDate"`
	PaymentDate *time.Time `json:"paymentDate,omitempty"`
	// ModifiedAt is the channel's modification time: an older version never
	// overwrites a newer one.
	ModifiedAt time.Time  `json:"modifiedAt"`
	ShipBy     *time.Time `json:"shipBy,omitempty"`
	DeliverBy  *time.Time `json:"deliverBy,omitempty"`

	Currency     string  `json:"currency"`
	Total        Decimal `json:"total"`
	AmountPaid   Decimal `json:"amountPaid"`
	TaxAmount    Decimal `json:"taxAmount"`
	ShippingPaid Decimal `json:"shippingPaid"`

	Items      []Item      `json:"items"`
	ShipGroups []ShipGroup `json:"shipGroups"`
	BillTo     Address     `json:"billTo"`

	InternalNotes    string `json:"internalNotes,omitempty"`
	Gift             bool   `json:"gift,omitempty"`
	RequestedService string `json:"requestedService,omitempty"`
	PaymentMethod    string `json:"paymentMethod,omitempty"`
	// TaxIDs are tax numbers of the seller or the marketplace that the
	// shipment needs (Amazon's IOSS number); they are not buyer data. The
	// buyer's own tax registrations are in Personal.TaxIDs.
	TaxIDs []TaxID `json:"taxIds,omitempty"`
	// CustomFields are ShipStation's customField1..3.
	CustomFields [3]string `json:"customFields"`
	Tags         []string  `json:"tags,omitempty"`

	// HoldUntil is when a hold an automation rule placed ends (package
	// rules): the order is OnHold until then, and ShipStation releases it
	// to awaiting shipment by itself. Nil for every other hold, which
	// lasts until a person or the channel ends it.
	HoldUntil *time.Time `json:"holdUntil,omitempty"`
	// WarehouseID is the ShipStation warehouse to ship from
	// (advancedOptions.warehouseId), set by a rule; 0 leaves ShipStation's
	// default.
	WarehouseID int64 `json:"warehouseId,omitempty"`
	// Priority is set by a rule for orders to push first (it goes with the
	// tag "Priority").
	Priority bool `json:"priority,omitempty"`

	// Personal is the buyer data; nil when not loaded, expired or deleted,
	// which readers must show as redacted.
	Personal *Personal `json:"-"`
}

// Validate checks the invariants every stored order holds.
func (o *Order) Validate() error {
	var errs []error
	want, err := NewID(o.Channel, o.StoreID, o.ChannelOrderID)
	if err != nil {
		errs = append(errs, err)
	} else if want != o.ID {
		errs = append(errs, fmt.Errorf("id %q does not match channel/store/order %q", o.ID, want))
	}
	if !o.Status.Valid() {
		errs = append(errs, fmt.Errorf("status %q is not canonical", o.Status))
	}
	if o.ModifiedAt.IsZero() {
		errs = append(errs, errors.New("modifiedAt is zero"))
	}
	if o.OrderNumber == "" {
		errs = append(errs, errors.New("orderNumber is empty"))
	}
	if o.ReplacementOf != "" {
		if _, _, _, err := o.ReplacementOf.Parse(); err != nil {
			errs = append(errs, fmt.Errorf("replacementOf: %w", err))
		}
	}
	for i, t := range o.TaxIDs {
		if strings.TrimSpace(t.Number) == "" {
			errs = append(errs, fmt.Errorf("tax id %d: empty number", i))
		}
	}
	if len(o.ShipGroups) == 0 {
		errs = append(errs, errors.New("no ship group"))
	}
	groups := map[string]bool{}
	for _, g := range o.ShipGroups {
		if groups[g.Key] {
			errs = append(errs, fmt.Errorf("ship group %q twice", g.Key))
		}
		groups[g.Key] = true
	}
	for i, it := range o.Items {
		if it.LineID == "" {
			errs = append(errs, fmt.Errorf("item %d: empty line id", i))
		}
		if it.Quantity <= 0 {
			errs = append(errs, fmt.Errorf("item %d: quantity %d", i, it.Quantity))
		}
		if !groups[it.Group] {
			errs = append(errs, fmt.Errorf("item %d: unknown ship group %q", i, it.Group))
		}
	}
	return errors.Join(errs...)
}

// ItemsOf returns the lines of one ship group.
func (o *Order) ItemsOf(group string) []Item {
	var out []Item
	for _, it := range o.Items {
		if it.Group == group {
			out = append(out, it)
		}
	}
	return out
}

// Pushable reports whether the order should exist in ShipStation at all: it
// has physical lines. Status decides only how it is pushed.
func (o *Order) Pushable() bool { return len(o.Items) > 0 }
