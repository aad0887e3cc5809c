package amazon

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Item identifiers an Amazon store can push as the ShipStation SKU.
const (
	ItemIdentifierSKU  = "sku"
	ItemIdentifierASIN = "asin"
)

// Amazon's words the normaliser reads.
const (
	programPrime       = "PRIME"
	programBusiness    = "AMAZON_BUSINESS"
	aliasSellerOrderID = "SELLER_ORDER_ID"
	assocReplacement   = "REPLACEMENT_ORIGINAL_ID"
	assocExchange      = "EXCHANGE_ORIGINAL_ID"
	entityBuyer        = "BUYER"
	requesterBuyer     = "BUYER"
)

// Tags Normalize puts on orders (order.Order.Tags); the push resolves them
// to the ShipStation account's tags of the same name.
const (
	// TagPrime marks a seller-fulfilled Prime order.
	TagPrime = "Prime"
	// TagBusiness marks an Amazon Business order.
	TagBusiness = "Business"
	// TagCancelRequested marks an order held because the buyer asked to
	// cancel it.
	TagCancelRequested = "Cancel requested"
)

// Custom field sources: the order attributes NormalizeOptions.CustomFields
// can put into ShipStation's customField1..3 (the names of
// config.AmazonCustomFieldSources).
const (
	// FieldOrderID is the Amazon order id.
	FieldOrderID = "orderId"
	// FieldSellerOrderID is the seller's own order id (orderAliases
	// SELLER_ORDER_ID).
	FieldSellerOrderID = "sellerOrderId"
	// FieldPurchaseOrderNumber is the PO number a business buyer entered
	// (buyer.buyerPurchaseOrderNumber): business data, not PII.
	FieldPurchaseOrderNumber = "purchaseOrderNumber"
	// FieldMarketplaceID is salesChannel.marketplaceId.
	FieldMarketplaceID = "marketplaceId"
	// FieldServiceLevel is fulfillment.fulfillmentServiceLevel.
	FieldServiceLevel = "serviceLevel"
	// FieldIOSS is the order's IOSS numbers, joined with ", ".
	FieldIOSS = "ioss"
	// FieldReplacementOf is the Amazon id of the order a replacement or
	// exchange order replaces.
	FieldReplacementOf = "replacementOf"
	// FieldDeliverBy is the latest delivery date (YYYY-MM-DD, UTC). When no
	// custom field carries it, it goes into the internal notes.
	FieldDeliverBy = "deliverBy"
)

// TaxKindIOSS is the order.TaxID kind of an Import One-Stop Shop number.
const TaxKindIOSS = "IOSS"

// NormalizeOptions are a store's Amazon import settings.
type NormalizeOptions struct {
	// ImportFBA imports Amazon-fulfilled (FBA/AFN) orders as shipped, without
	// buyer data. Off by default: only merchant-fulfilled orders import.
	ImportFBA bool
	// ItemIdentifier is what becomes the item SKU: "sku" (default, the
	// seller SKU) or "asin".
	ItemIdentifier string
	// ConditionNote adds the seller's condition note to the item options.
	ConditionNote bool
	// CustomFields names, for customField1..3 in turn, the attribute that
	// fills it (one of the Field* sources; "" leaves it empty).
	CustomFields [3]string
	// TaxIDsTo is where the ShipStation order carries tax ids
	// ("internalNotes", "customField1".."customField3"). Normalize does not
	// apply it (buyer tax ids live in order.Personal): it is carried for
	// the push, which passes it on as shipstation.Target.TaxIDsTo.
	TaxIDsTo string
}

// Normalize builds the canonical order from an Orders API v2026-01-01 order
// (getOrder/searchOrders, with includedData FULFILLMENT and, for buyer data,
// BUYER and RECIPIENT).
//
//   - Identity: order.NewID(Amazon, storeID, orderId); OrderNumber is the
//     Amazon order id; OrderDate is createdTime, ModifiedAt lastUpdatedTime
//     (both UTC, both required).
//   - Status and disposition come from order.AmazonDisposition. A
//     merchant-fulfilled order follows its fulfillmentStatus (PENDING and
//     other waiting states are Ignore). An Amazon-fulfilled order is Ignore
//     unless opts.ImportFBA; then it is imported as shipped (cancelled if
//     Amazon cancelled it, still Ignore while pending) and never carries
//     buyer data. For Ignore the order is still built; the caller skips it.
//   - Items: physical lines only (lines with no quantity and lines that are
//     another line's VALUE_ADD_SERVICE are dropped). LineID is orderItemId;
//     SKU is the seller SKU or the ASIN per opts.ItemIdentifier (falling
//     back to the other when the chosen one is empty); ProductID is the
//     ASIN. The condition is an item option, plus its note when
//     opts.ConditionNote. UnitPrice is product.price.unitPrice (zero when
//     Amazon sends none, as for pending orders).
//   - Money is parsed with order.ParseDecimal and stays in the marketplace
//     currency; all amounts must share one currency. Total is
//     proceeds.grandTotal when present, else the sum of the lines.
//   - Tags: TagPrime for PRIME, TagBusiness for AMAZON_BUSINESS (which
//     also sets Business). ShipBy and DeliverBy are the latest
//     ship/delivery times.
//   - Replacement and exchange orders (associatedOrders
//     REPLACEMENT_ORIGINAL_ID or EXCHANGE_ORIGINAL_ID): ReplacementOf is
//     the ledger id of the original order, order.NewID(Amazon, storeID,
//     originalId), and InternalNotes says "Replacement for Amazon order
//     <originalId>" (with " (exchange)" for an exchange).
//   - Buyer cancellation requests: when any line carries a
//     cancellation.cancellationRequest from the BUYER and the order is
//     imported and neither shipped nor cancelled, the order is held:
//     CancelRequested is set, Status is order.OnHold and it is tagged
//     TagCancelRequested. (Needs includedData=CANCELLATION.)
//   - Tax ids: the lines' IOSS numbers
//     (fulfillment.shipping.internationalShipping.iossNumber, Amazon's own
//     registration, not buyer data) become TaxIDs of kind TaxKindIOSS, once
//     each. The buyer's tax registrations (tax.taxRegistrations with
//     entityType BUYER, includedData=TAX) are buyer data: they go to
//     Personal.TaxIDs with their taxRegistrationType as kind, never for
//     Amazon-fulfilled orders. Merchant and marketplace registrations are
//     not kept. opts.TaxIDsTo is not applied here.
//   - CustomFields[i] is filled from the source opts.CustomFields[i] names
//     (see the Field* constants); an attribute the order lacks leaves it
//     empty and an unknown source name is an error. ShipStation documents
//     no length limit for customField1..3, so values are not cut.
//   - One ship group (Key ""): city, state, postal code, ISO country and
//     residential flag in order.Address (also used as BillTo, which Amazon
//     does not send); name, company, street lines and phone in Personal,
//     with the buyer's (anonymised relay) email. Address text is passed
//     through unchanged (Japanese addresses are neither transliterated nor
//     reordered). No buyer and no recipient data means Personal is nil.
//
// Bad data is an error naming the field (never its value, so no PII);
// Normalize never panics.
func Normalize(storeID string, o *Order, opts NormalizeOptions) (order.Order, order.Disposition, error) {
	if o == nil {
		return order.Order{}, order.Ignore, errors.New("amazon.Normalize: nil order")
	}
	n := &normalizer{}
	out, disp := n.build(storeID, o, opts)
	if err := errors.Join(n.errs...); err != nil {
		// The order id names no person; it is safe in logs.
		return order.Order{}, order.Ignore, fmt.Errorf("amazon.Normalize order %q: %w", o.OrderID, err)
	}
	return out, disp, nil
}

type normalizer struct {
	errs     []error
	currency string
}

func (n *normalizer) fail(field, format string, args ...any) {
	n.errs = append(n.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// money parses a Money; nil is zero. Every amount must share one currency.
func (n *normalizer) money(field string, m *Money) order.Decimal {
	if m == nil {
		return "0"
	}
	d, err := order.ParseDecimal(strings.TrimSpace(m.Amount))
	if err != nil {
		n.fail(field+".amount", "not a decimal amount")
		return "0"
	}
	cur := strings.TrimSpace(m.CurrencyCode)
	switch {
	case cur == "" && d.IsZero():
	case len(cur) != 3:
		n.fail(field+".currencyCode", "not an ISO 4217 code")
	case n.currency == "":
		n.currency = cur
	case cur != n.currency:
		n.fail(field+".currencyCode", "%s differs from the order currency %s", cur, n.currency)
	}
	return d
}

func (n *normalizer) date(field string, t time.Time) time.Time {
	if t.IsZero() {
		n.fail(field, "is missing")
		return time.Time{}
	}
	return t.UTC()
}

func latest(r *DateTimeRange) *time.Time {
	if r == nil || r.LatestDateTime == nil || r.LatestDateTime.IsZero() {
		return nil
	}
	t := r.LatestDateTime.UTC()
	return &t
}

func (n *normalizer) build(storeID string, o *Order, opts NormalizeOptions) (order.Order, order.Disposition) {
	ident := strings.ToLower(strings.TrimSpace(opts.ItemIdentifier))
	switch ident {
	case "":
		ident = ItemIdentifierSKU
	case ItemIdentifierSKU, ItemIdentifierASIN:
	default:
		n.fail("opts.ItemIdentifier", "must be %q or %q", ItemIdentifierSKU, ItemIdentifierASIN)
	}

	if o.OrderID == "" {
		n.fail("orderId", "is empty")
	} else if !orderIDPattern.MatchString(o.OrderID) {
		n.fail("orderId", "is malformed")
	}
	id, err := order.NewID(order.Amazon, storeID, o.OrderID)
	if err != nil && o.OrderID != "" {
		n.errs = append(n.errs, err)
	}

	// Status and disposition.
	var (
		status        order.Status
		disp          = order.Ignore
		channelStatus string
		byAmazon      bool
	)
	if f := o.Fulfillment; f == nil {
		n.fail("fulfillment", "is missing (request includedData=FULFILLMENT)")
	} else {
		channelStatus = f.FulfillmentStatus
		by, okBy := order.AmazonFulfilledBy(f.FulfilledBy)
		if !okBy {
			n.fail("fulfillment.fulfilledBy", "unknown value %q", f.FulfilledBy)
		}
		s, d, okS := order.AmazonDisposition(f.FulfillmentStatus, f.FulfilledBy)
		if _, _, known := order.AmazonStatus(f.FulfillmentStatus); !known {
			n.fail("fulfillment.fulfillmentStatus", "unknown value %q", f.FulfillmentStatus)
		}
		byAmazon = by == order.AmazonByAmazon
		switch {
		case !okS:
		case !byAmazon:
			status, disp = s, d
		default:
			// FBA: Amazon ships it. Import only when the store asks, as
			// shipped (or cancelled), once Amazon has accepted it.
			status = s
			if _, md, _ := order.AmazonStatus(f.FulfillmentStatus); opts.ImportFBA && md == order.Import {
				disp = order.Import
				if s != order.Cancelled {
					status = order.Shipped
				}
			}
		}
	}

	out := order.Order{
		ID:             id,
		Channel:        order.Amazon,
		StoreID:        storeID,
		ChannelOrderID: o.OrderID,
		OrderNumber:    o.OrderID,
		Status:         status,
		ChannelStatus:  channelStatus,
		OrderDate:      n.date("createdTime", o.CreatedTime),
		ModifiedAt:     n.date("lastUpdatedTime", o.LastUpdatedTime),
		Total:          "0",
		AmountPaid:     "0",
		TaxAmount:      "0",
		ShippingPaid:   "0",
	}
	if f := o.Fulfillment; f != nil {
		out.ShipBy = latest(f.ShipByWindow)
		out.DeliverBy = latest(f.DeliverByWindow)
		out.RequestedService = f.FulfillmentServiceLevel
	}
	if slices.Contains(o.Programs, programPrime) {
		out.Tags = append(out.Tags, TagPrime)
	}
	if slices.Contains(o.Programs, programBusiness) {
		out.Business = true
		out.Tags = append(out.Tags, TagBusiness)
	}
	if byAmazon {
		out.FulfilledByChannel = true
	}

	// Replacement or exchange of another order: the first one named wins.
	var replaced string
	for i, a := range o.AssociatedOrders {
		if a.AssociationType != assocReplacement && a.AssociationType != assocExchange {
			continue
		}
		field := fmt.Sprintf("associatedOrders[%d].orderId", i)
		switch {
		case replaced != "":
		case a.OrderID == "":
			n.fail(field, "is empty")
		case !orderIDPattern.MatchString(a.OrderID):
			n.fail(field, "is malformed")
		default:
			replaced = a.OrderID
			if rid, err := order.NewID(order.Amazon, storeID, replaced); err == nil {
				out.ReplacementOf = rid
			}
			out.InternalNotes = "Replacement for Amazon order " + replaced
			if a.AssociationType == assocExchange {
				out.InternalNotes += " (exchange)"
			}
		}
	}

	// A buyer's cancellation request holds an open order.
	if disp == order.Import && status != order.Shipped && status != order.Cancelled && buyerAskedToCancel(o) {
		out.CancelRequested = true
		out.Status = order.OnHold
		out.Tags = append(out.Tags, TagCancelRequested)
	}

	// IOSS numbers (Amazon's, not the buyer's), once each.
	var ioss []string
	for _, li := range o.OrderItems {
		if lf := li.Fulfillment; lf != nil && lf.Shipping != nil && lf.Shipping.InternationalShipping != nil {
			if v := strings.TrimSpace(lf.Shipping.InternationalShipping.IossNumber); v != "" && !slices.Contains(ioss, v) {
				ioss = append(ioss, v)
				out.TaxIDs = append(out.TaxIDs, order.TaxID{Kind: TaxKindIOSS, Number: v})
			}
		}
	}

	// Lines: physical only.
	services := map[string]bool{}
	for _, it := range o.OrderItems {
		for _, a := range it.AssociatedOrderItems {
			if a.AssociationType == "VALUE_ADD_SERVICE" && a.OrderItemID != "" {
				services[a.OrderItemID] = true
			}
		}
	}
	sum := order.Decimal("0")
	seen := map[string]bool{}
	for i, li := range o.OrderItems {
		f := func(name string) string { return fmt.Sprintf("orderItems[%d].%s", i, name) }
		if li.QuantityOrdered < 0 {
			n.fail(f("quantityOrdered"), "is negative")
			continue
		}
		if li.QuantityOrdered == 0 || services[li.OrderItemID] {
			continue
		}
		if li.OrderItemID == "" {
			n.fail(f("orderItemId"), "is empty")
			continue
		}
		if seen[li.OrderItemID] {
			n.fail(f("orderItemId"), "appears twice")
			continue
		}
		seen[li.OrderItemID] = true
		p := li.Product
		var unit *Money
		if p.Price != nil {
			unit = p.Price.UnitPrice
		}
		it := order.Item{
			LineID:    li.OrderItemID,
			SKU:       pick(ident, p.SellerSKU, p.ASIN),
			Name:      firstNonEmpty(p.Title, p.SellerSKU, p.ASIN, "Item "+li.OrderItemID),
			Quantity:  li.QuantityOrdered,
			UnitPrice: n.money(f("product.price.unitPrice"), unit),
			ProductID: p.ASIN,
		}
		if lf := li.Fulfillment; lf != nil {
			if lf.QuantityFulfilled < 0 {
				n.fail(f("fulfillment.quantityFulfilled"), "is negative")
			} else {
				it.QuantityShipped = lf.QuantityFulfilled
			}
		}
		if c := p.Condition; c != nil {
			if v := conditionText(c.ConditionType, c.ConditionSubtype); v != "" {
				it.Options = append(it.Options, order.Option{Name: "Condition", Value: v})
			}
			if note := strings.TrimSpace(c.ConditionNote); opts.ConditionNote && note != "" {
				it.Options = append(it.Options, order.Option{Name: "Condition note", Value: note})
			}
		}
		sum = sum.Add(it.UnitPrice.Mul(it.Quantity))
		out.Items = append(out.Items, it)
	}
	out.Total = sum
	if o.Proceeds != nil && o.Proceeds.GrandTotal != nil {
		out.Total = n.money("proceeds.grandTotal", o.Proceeds.GrandTotal)
	}
	out.AmountPaid = out.Total
	out.Currency = n.currency

	// Ship-to. Address text passes through as Amazon sends it.
	var addr *CustomerAddress
	if o.Recipient != nil {
		addr = o.Recipient.DeliveryAddress
	}
	group := order.ShipGroup{Key: "", ShippingMethod: out.RequestedService}
	if addr != nil {
		group.ShipTo = order.Address{
			City:       firstNonEmpty(addr.City, addr.Municipality, addr.DistrictOrCounty),
			State:      addr.StateOrRegion,
			PostalCode: addr.PostalCode,
			Country:    strings.ToUpper(strings.TrimSpace(addr.CountryCode)),
		}
		if c := group.ShipTo.Country; c != "" && !isAlpha2(c) {
			n.fail("recipient.deliveryAddress.countryCode", "not an ISO 3166-1 alpha-2 code")
		}
		switch addr.AddressType {
		case "RESIDENTIAL":
			group.ShipTo.Residential = ptr(true)
		case "COMMERCIAL":
			group.ShipTo.Residential = ptr(false)
		}
	}
	out.ShipGroups = []order.ShipGroup{group}
	out.BillTo = group.ShipTo
	out.BillTo.Residential = nil

	// Custom fields.
	for i, src := range opts.CustomFields {
		v, ok := customField(o, src, replaced, ioss)
		if !ok {
			n.fail(fmt.Sprintf("opts.CustomFields[%d]", i), "unknown source %q", src)
			continue
		}
		out.CustomFields[i] = v
	}
	// ShipStation V1 has no deliver-by field: a custom field or the notes.
	if out.DeliverBy != nil && !slices.Contains(opts.CustomFields[:], FieldDeliverBy) {
		line := "Deliver by " + out.DeliverBy.Format(time.DateOnly)
		if out.InternalNotes != "" {
			line = out.InternalNotes + "\n" + line
		}
		out.InternalNotes = line
	}

	// Buyer data: never for FBA; absent data is not an error.
	buyerTax := buyerTaxIDs(o.Tax)
	if !byAmazon && (o.Buyer != nil || addr != nil || len(buyerTax) > 0) {
		p := &order.Personal{TaxIDs: buyerTax}
		if b := o.Buyer; b != nil {
			p.BillTo = order.Contact{Name: b.BuyerName, Company: b.BuyerCompanyName, Email: b.BuyerEmail}
			p.Email = b.BuyerEmail
		}
		if addr != nil {
			p.ShipTo = map[string]order.Contact{"": {
				Name:    addr.Name,
				Company: addr.CompanyName,
				Street1: addr.AddressLine1,
				Street2: addr.AddressLine2,
				Street3: addr.AddressLine3,
				Phone:   addr.Phone,
				Email:   p.Email,
			}}
		}
		out.Personal = p
	}
	return out, disp
}

// customField returns the value of a custom field source; ok is false for
// an unknown source.
func customField(o *Order, src, replaced string, ioss []string) (string, bool) {
	switch src {
	case "":
		return "", true
	case FieldOrderID:
		return o.OrderID, true
	case FieldSellerOrderID:
		for _, a := range o.OrderAliases {
			if a.AliasType == aliasSellerOrderID {
				if v := strings.TrimSpace(a.AliasID); v != "" {
					return v, true
				}
			}
		}
		return "", true
	case FieldPurchaseOrderNumber:
		if o.Buyer == nil {
			return "", true
		}
		return strings.TrimSpace(o.Buyer.BuyerPurchaseOrderNumber), true
	case FieldMarketplaceID:
		return o.SalesChannel.MarketplaceID, true
	case FieldServiceLevel:
		if o.Fulfillment == nil {
			return "", true
		}
		return o.Fulfillment.FulfillmentServiceLevel, true
	case FieldIOSS:
		return strings.Join(ioss, ", "), true
	case FieldReplacementOf:
		return replaced, true
	case FieldDeliverBy:
		if o.Fulfillment == nil {
			return "", true
		}
		if t := latest(o.Fulfillment.DeliverByWindow); t != nil {
			return t.Format(time.DateOnly), true
		}
		return "", true
	}
	return "", false
}

// buyerAskedToCancel reports whether any line carries a buyer's
// cancellation request.
func buyerAskedToCancel(o *Order) bool {
	for _, li := range o.OrderItems {
		if c := li.Cancellation; c != nil && c.CancellationRequest != nil &&
			strings.EqualFold(strings.TrimSpace(c.CancellationRequest.Requester), requesterBuyer) {
			return true
		}
	}
	return false
}

// buyerTaxIDs returns the buyer's tax registrations (buyer data), once each.
func buyerTaxIDs(t *OrderTax) []order.TaxID {
	if t == nil {
		return nil
	}
	var out []order.TaxID
	for _, r := range t.TaxRegistrations {
		num := strings.TrimSpace(r.TaxRegistrationNumber)
		if r.EntityType != entityBuyer || num == "" {
			continue
		}
		id := order.TaxID{Kind: firstNonEmpty(r.TaxRegistrationType, "Tax ID"), Number: num}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// pick returns the identifier chosen by ident, falling back to the other.
func pick(ident, sku, asin string) string {
	if ident == ItemIdentifierASIN {
		return firstNonEmpty(asin, sku)
	}
	return firstNonEmpty(sku, asin)
}

// conditionText renders "USED"/"VERY_GOOD" as "Used - Very Good" and
// "NEW"/"NEW" as "New".
func conditionText(typ, sub string) string {
	t, s := humanise(typ), humanise(sub)
	switch {
	case t == "":
		return s
	case s == "" || strings.EqualFold(s, t):
		return t
	}
	return t + " - " + s
}

func humanise(v string) string {
	words := strings.Fields(strings.ReplaceAll(strings.TrimSpace(v), "_", " "))
	for i, w := range words {
		w = strings.ToLower(w)
		if w == "oem" {
			words[i] = "OEM"
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

func isAlpha2(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

func ptr[T any](v T) *T { return &v }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
