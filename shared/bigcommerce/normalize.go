package bigcommerce

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// DefaultWeightUnit is the unit assumed for product weights. BigCommerce
// reports weight in the store's own unit (a store setting the Orders API
// does not return); shiprelay takes pounds until stores can configure it.
const DefaultWeightUnit = "pounds"

// Line types that never ship.
const (
	TypeDigital         = "digital"
	TypeGiftCertificate = "giftcertificate"
)

// Normalize builds the canonical order from a BigCommerce order, its lines
// and its shipping addresses.
//
//   - The disposition comes from order.BigCommerceStatus. For Ignore
//     (Incomplete, Pending) the order is still built, with an empty Status;
//     the caller does not import it. An unknown status_id is an error.
//   - Only physical lines are kept (digital and gift-certificate lines are
//     dropped, as are lines with no quantity). An order left without a
//     physical line is not Pushable; the caller skips it.
//   - A single shipping address makes one ShipGroup with Key "". Several make
//     one group per address that has a physical line, keyed by the address
//     id and sorted by it; each line goes to the group of its
//     order_address_id. With no shipping address at all (digital or pickup
//     orders) the billing address stands in as the only group.
//   - Buyer PII (names, company, street lines, phones, emails, the customer
//     message) goes to Personal; order.Address keeps city, state, postal code
//     and ISO country only. Personal.Username is the billing email.
//   - AmountPaid is total_inc_tax − refunded_amount (never below zero);
//     PaymentDate is left nil (the V2 order has no payment time).
//   - Item UnitPrice is price_inc_tax; Item.Tax is left empty (the order's
//     TaxAmount carries the tax once). Weights are in DefaultWeightUnit.
//   - Origin and OriginReview are left empty: the caller sets them with
//     DetectOrigin, which needs the channel's platform (Client.Channel).
//
// Bad data (unparseable money, dates, quantities) is an error naming the
// field; Normalize never panics.
func Normalize(storeID string, o *Order, products []Product, addrs []ShippingAddress) (order.Order, order.Disposition, error) {
	if o == nil {
		return order.Order{}, order.Ignore, errors.New("bigcommerce.Normalize: nil order")
	}
	n := normalizer{orderID: o.ID}
	out, disp := n.build(storeID, o, products, addrs)
	if err := errors.Join(n.errs...); err != nil {
		return order.Order{}, order.Ignore, fmt.Errorf("bigcommerce.Normalize order %d: %w", o.ID, err)
	}
	return out, disp, nil
}

type normalizer struct {
	orderID int64
	errs    []error
}

func (n *normalizer) fail(field, format string, args ...any) {
	n.errs = append(n.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func (n *normalizer) money(field string, v FlexString) order.Decimal {
	d, err := order.ParseDecimal(strings.TrimSpace(string(v)))
	if err != nil {
		n.fail(field, "not a decimal amount")
		return "0"
	}
	return d
}

// count parses a quantity that the spec types as "number".
func (n *normalizer) count(field string, v FlexString) int {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return 0
	}
	d, err := order.ParseDecimal(s)
	if err == nil {
		if i, err2 := strconv.Atoi(string(d)); err2 == nil && i >= 0 {
			return i
		}
	}
	n.fail(field, "not a whole non-negative number")
	return 0
}

func (n *normalizer) date(field, s string, required bool) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			n.fail(field, "is empty")
		}
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		n.fail(field, "not an RFC-2822 or ISO-8601 date")
		return time.Time{}
	}
	return t
}

// ParseTime parses a BigCommerce date (RFC-2822, as V2 writes it, or
// ISO-8601) into UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{RFC2822, "Mon, 2 Jan 2006 15:04:05 -0700", time.RFC1123, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is neither RFC-2822 nor ISO-8601", s)
}

func (n *normalizer) build(storeID string, o *Order, products []Product, addrs []ShippingAddress) (order.Order, order.Disposition) {
	chOrderID := itoa(o.ID)
	if o.ID <= 0 {
		n.fail("id", "must be positive")
	}
	id, err := order.NewID(order.BigCommerce, storeID, chOrderID)
	if err != nil {
		n.errs = append(n.errs, err)
	}
	status, disp, ok := order.BigCommerceStatus(o.StatusID)
	if !ok {
		n.fail("status_id", "unknown status id %d", o.StatusID)
	}
	channelStatus := o.Status
	if channelStatus == "" {
		channelStatus = "status_id " + strconv.Itoa(o.StatusID)
	}

	total := n.money("total_inc_tax", o.TotalIncTax)
	refunded := n.money("refunded_amount", o.RefundedAmount)
	paid := total.Add(refunded.Mul(-1))
	if paid.Cmp("0") < 0 {
		paid = "0"
	}

	out := order.Order{
		ID:             id,
		Channel:        order.BigCommerce,
		StoreID:        storeID,
		ChannelOrderID: chOrderID,
		OrderNumber:    chOrderID,
		Status:         status,
		ChannelStatus:  channelStatus,
		OrderDate:      n.date("date_created", o.DateCreated, true),
		ModifiedAt:     n.date("date_modified", o.DateModified, true),
		Currency:       o.CurrencyCode,
		Total:          total,
		AmountPaid:     paid,
		TaxAmount:      n.money("total_tax", o.TotalTax),
		ShippingPaid:   n.money("shipping_cost_inc_tax", o.ShippingCostIncTax),
		BillTo:         billAddress(o.BillingAddress),
		InternalNotes:  o.StaffNotes,
		PaymentMethod:  o.PaymentMethod,
	}
	b := o.BillingAddress
	personal := &order.Personal{
		BillTo: order.Contact{
			Name:    fullName(b.FirstName, b.LastName),
			Company: b.Company,
			Street1: b.Street1,
			Street2: b.Street2,
			Phone:   b.Phone,
			Email:   b.Email,
		},
		ShipTo:        map[string]order.Contact{},
		Email:         b.Email,
		Username:      b.Email,
		CustomerNotes: o.CustomerMessage,
	}
	out.Personal = personal

	// Lines: physical only.
	type line struct {
		item   order.Item
		addrID int64
		index  int
	}
	var lines []line
	for i, p := range products {
		f := func(name string) string { return fmt.Sprintf("products[%d].%s", i, name) }
		switch strings.ToLower(strings.TrimSpace(p.Type)) {
		case TypeDigital, TypeGiftCertificate:
			continue
		}
		if p.Quantity <= 0 {
			continue
		}
		if p.ID <= 0 {
			n.fail(f("id"), "must be positive")
			continue
		}
		it := order.Item{
			LineID:          itoa(p.ID),
			SKU:             p.SKU,
			Name:            firstNonEmpty(p.Name, p.NameCustomer, p.NameMerchant, p.SKU, "Item "+itoa(p.ID)),
			Quantity:        p.Quantity,
			QuantityShipped: n.count(f("quantity_shipped"), p.QuantityShipped),
			UnitPrice:       n.money(f("price_inc_tax"), p.PriceIncTax),
			UPC:             p.UPC,
		}
		if p.ProductID > 0 {
			it.ProductID = itoa(p.ProductID)
		}
		if w := n.money(f("weight"), p.Weight); !w.IsZero() {
			it.Weight = &order.Weight{Value: w, Units: DefaultWeightUnit}
		}
		for _, po := range p.ProductOptions {
			name := firstNonEmpty(po.DisplayName, po.DisplayNameCustomer, po.Name)
			value := firstNonEmpty(po.DisplayValue, po.DisplayValueCustomer)
			if name == "" && value == "" {
				continue
			}
			it.Options = append(it.Options, order.Option{Name: name, Value: value})
		}
		lines = append(lines, line{it, p.OrderAddressID, i})
	}

	// Ship groups.
	sorted := slices.Clone(addrs)
	slices.SortStableFunc(sorted, func(a, b ShippingAddress) int { return cmp.Compare(a.ID, b.ID) })
	group := func(a ShippingAddress, key, field string) order.ShipGroup {
		personal.ShipTo[key] = order.Contact{
			Name:    fullName(a.FirstName, a.LastName),
			Company: a.Company,
			Street1: a.Street1,
			Street2: a.Street2,
			Phone:   a.Phone,
			Email:   a.Email,
		}
		ref := ""
		if a.ID > 0 {
			ref = itoa(a.ID)
		}
		return order.ShipGroup{
			Key:            key,
			ChannelRef:     ref,
			ShipTo:         order.Address{City: a.City, State: a.State, PostalCode: a.Zip, Country: a.CountryISO2},
			ShippingMethod: a.ShippingMethod,
			ShippingCost:   n.money(field+".cost_inc_tax", a.CostIncTax),
		}
	}
	switch len(sorted) {
	case 0:
		// Digital or pickup order: the billing address stands in.
		out.ShipGroups = []order.ShipGroup{group(ShippingAddress{
			FirstName: b.FirstName, LastName: b.LastName, Company: b.Company,
			Street1: b.Street1, Street2: b.Street2, City: b.City, State: b.State,
			Zip: b.Zip, CountryISO2: b.CountryISO2, Phone: b.Phone, Email: b.Email,
		}, "", "billing_address")}
		for _, l := range lines {
			out.Items = append(out.Items, l.item)
		}
	case 1:
		out.ShipGroups = []order.ShipGroup{group(sorted[0], "", "shipping_addresses[0]")}
		for _, l := range lines {
			out.Items = append(out.Items, l.item)
		}
	default:
		used := map[int64]bool{}
		known := map[int64]bool{}
		for _, a := range sorted {
			if known[a.ID] {
				n.fail("shipping_addresses", "address id %d appears twice", a.ID)
			}
			known[a.ID] = true
		}
		for i, l := range lines {
			if !known[l.addrID] {
				n.fail(fmt.Sprintf("products[%d].order_address_id", l.index), "%d is not one of the order's shipping addresses", l.addrID)
				continue
			}
			used[l.addrID] = true
			lines[i].item.Group = itoa(l.addrID)
			out.Items = append(out.Items, lines[i].item)
		}
		for i, a := range sorted {
			if used[a.ID] {
				out.ShipGroups = append(out.ShipGroups, group(a, itoa(a.ID), fmt.Sprintf("shipping_addresses[%d]", i)))
			}
		}
		if len(out.ShipGroups) == 0 {
			// No physical line anywhere: keep the first address so the order
			// is still well formed (it is not Pushable).
			out.ShipGroups = []order.ShipGroup{group(sorted[0], itoa(sorted[0].ID), "shipping_addresses[0]")}
		}
	}
	if len(out.ShipGroups) > 0 {
		out.RequestedService = out.ShipGroups[0].ShippingMethod
	}
	return out, disp
}

func billAddress(b BillingAddress) order.Address {
	return order.Address{City: b.City, State: b.State, PostalCode: b.Zip, Country: b.CountryISO2}
}

func fullName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
