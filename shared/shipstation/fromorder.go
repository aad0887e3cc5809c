package shipstation

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Target says where in ShipStation an order goes.
type Target struct {
	// StoreID is the ShipStation store (advancedOptions.storeId); 0 leaves
	// it to ShipStation's default (the first manual store).
	StoreID int64
	// Source is advancedOptions.source, e.g. "bigcommerce".
	Source string
	// TaxIDsTo is where the order's tax ids go: TaxIDsToInternalNotes
	// ("" means the same) or TaxIDsToCustomField1..3.
	TaxIDsTo string
}

// Places for tax ids (Target.TaxIDsTo), the words of
// config.AmazonTaxTargets.
const (
	TaxIDsToInternalNotes = "internalNotes"
	TaxIDsToCustomField1  = "customField1"
	TaxIDsToCustomField2  = "customField2"
	TaxIDsToCustomField3  = "customField3"
)

// Redacted stands for buyer data the hub no longer holds.
const Redacted = "REDACTED"

// MaxOrderNumber is ShipStation's limit on orderNumber, in characters.
const MaxOrderNumber = 50

// OrderKey is the ShipStation orderKey of one ship group of o: its ledger
// id, so the same order pushed again upserts instead of duplicating. Each
// order that stands for one marketplace order (the marketplace's own, a
// BigCommerce copy, a recreated copy) has its own ShipStation order, and
// package dedupe decides which of them is open: a key shared between them
// would let a late push of one overwrite another's. When o has more than
// one ship group, "/<group>" is appended.
func OrderKey(o *order.Order, group string) string {
	if o == nil {
		return ""
	}
	key := string(o.ID)
	if len(o.ShipGroups) > 1 {
		key += "/" + group
	}
	return key
}

// FromOrder builds the ShipStation order for one ship group of o.
//
//   - orderKey is OrderKey(o, group); orderNumber is o.OrderNumber, with
//     "-<n>" appended (n the 1-based position of the group) when o has several
//     groups, cut to MaxOrderNumber characters keeping the suffix.
//   - Items are the group's lines, lineItemKey = LineID. The channel's
//     product id is not sent: ShipStation's productId names its own product.
//   - amountPaid, taxAmount and shippingAmount are o's on the first group
//     and 0 on the others, so that totals are not counted twice.
//   - shipTo is the group's address plus o.Personal.ShipTo[group]; billTo is
//     o.BillTo plus o.Personal.BillTo.
//   - When o.Personal is nil the order is redacted: names are the text
//     Redacted, and street lines, company, phone, email, username, notes from
//     the buyer and the gift message are left empty. City, state, postal code
//     and country are always sent.
//   - orderStatus is o.Status as is: the canonical statuses are
//     ShipStation's words, so order.OnHold goes out as "on_hold", with or
//     without o.HoldUntil. holdUntilDate is never sent: it is read-only on
//     a ShipStation order (createorders ignores it). A timed hold (a
//     rule's o.HoldUntil) is placed after the order is created, with
//     Client.HoldUntil and HoldDate(*o.HoldUntil) (package push).
//   - advancedOptions: storeId = t.StoreID (omitted when 0), warehouseId =
//     o.WarehouseID (omitted when 0), source = t.Source, customField1..3 =
//     o.CustomFields. o.Tags are not sent: they are names, and the push
//     resolves them to the account's tag ids.
//   - Tax ids: o.TaxIDs (e.g. Amazon's IOSS number) and, unless the order
//     is redacted, o.Personal.TaxIDs (the buyer's VAT number) are written
//     as one line of text, "IOSS IM1234567890; VAT GB123456789"
//     (order.TaxIDsText), where t.TaxIDsTo says: appended to internalNotes
//     on a line of its own after any notes, or as customFieldN. A custom
//     field that already has a value is never overwritten: the text then
//     goes to internalNotes.
//
// Errors are errs.Invalid: unknown group, non-canonical status, zero order
// date, a group without lines, bad money or weight units, an unknown
// t.TaxIDsTo.
func FromOrder(o *order.Order, group string, t Target) (Order, error) {
	const op = "shipstation.FromOrder"
	if o == nil {
		return Order{}, errs.E(errs.Invalid, op, errors.New("nil order"))
	}
	out, err := fromOrder(o, group, t)
	if err != nil {
		return Order{}, errs.E(errs.Invalid, op, fmt.Errorf("%s group %q: %w", o.ID, group, err))
	}
	return out, nil
}

func fromOrder(o *order.Order, group string, t Target) (Order, error) {
	gi := -1
	for i, g := range o.ShipGroups {
		if g.Key == group {
			gi = i
			break
		}
	}
	if gi < 0 {
		return Order{}, errors.New("no such ship group")
	}
	g := o.ShipGroups[gi]
	if !o.Status.Valid() {
		return Order{}, fmt.Errorf("status %q is not canonical", o.Status)
	}
	if o.OrderDate.IsZero() {
		return Order{}, errors.New("order date is zero")
	}
	lines := o.ItemsOf(group)
	if len(lines) == 0 {
		return Order{}, errors.New("ship group has no lines")
	}

	number := o.OrderNumber
	if len(o.ShipGroups) > 1 {
		number = withSuffix(number, fmt.Sprintf("-%d", gi+1))
	} else {
		number = cut(number, MaxOrderNumber)
	}

	p := o.Personal
	redacted := p == nil
	if redacted {
		p = &order.Personal{}
	}
	out := Order{
		OrderNumber:              number,
		OrderKey:                 OrderKey(o, group),
		OrderDate:                Time{o.OrderDate},
		PaymentDate:              At(o.PaymentDate),
		ShipByDate:               At(o.ShipBy),
		OrderStatus:              string(o.Status),
		CustomerUsername:         p.Username,
		CustomerEmail:            firstNonEmpty(p.Email, p.BillTo.Email),
		BillTo:                   address(o.BillTo, p.BillTo, redacted),
		ShipTo:                   address(g.ShipTo, p.ShipTo[group], redacted),
		CustomerNotes:            p.CustomerNotes,
		InternalNotes:            o.InternalNotes,
		Gift:                     o.Gift,
		GiftMessage:              p.GiftMessage,
		PaymentMethod:            o.PaymentMethod,
		RequestedShippingService: firstNonEmpty(g.ShippingMethod, o.RequestedService),
		AdvancedOptions: AdvancedOptions{
			WarehouseID:  o.WarehouseID,
			StoreID:      t.StoreID,
			Source:       t.Source,
			CustomField1: o.CustomFields[0],
			CustomField2: o.CustomFields[1],
			CustomField3: o.CustomFields[2],
		},
	}
	ids := o.TaxIDs
	if !redacted && !p.Redacted {
		ids = append(slices.Clone(ids), p.TaxIDs...)
	}
	if err := placeTaxIDs(&out, t.TaxIDsTo, order.TaxIDsText(ids...)); err != nil {
		return Order{}, err
	}
	var err error
	if gi == 0 {
		if out.AmountPaid, err = decimalField("amountPaid", o.AmountPaid); err != nil {
			return Order{}, err
		}
		if out.TaxAmount, err = decimalField("taxAmount", o.TaxAmount); err != nil {
			return Order{}, err
		}
		if out.ShippingAmount, err = decimalField("shippingAmount", o.ShippingPaid); err != nil {
			return Order{}, err
		}
	} else {
		out.AmountPaid, out.TaxAmount, out.ShippingAmount = "0", "0", "0"
	}
	for i, it := range lines {
		item, err := fromItem(it)
		if err != nil {
			return Order{}, fmt.Errorf("item %d (line %s): %w", i, it.LineID, err)
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// HoldDate is the holdUntilDate for a hold that ends at t, as
// Client.HoldUntil sends it: ShipStation holds orders until a date
// (yyyy-mm-dd, US Pacific) and releases them on it, so the date is the
// first one whose start is at or after t. A hold therefore never ends
// early; one that ends during a day lasts until the next Pacific midnight.
func HoldDate(t time.Time) string {
	p := t.In(pacific)
	day := time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, pacific)
	if day.Before(p) {
		day = time.Date(p.Year(), p.Month(), p.Day()+1, 0, 0, 0, 0, pacific)
	}
	return day.Format(time.DateOnly)
}

// placeTaxIDs writes the tax id text where to says; an empty text
// changes nothing.
func placeTaxIDs(out *Order, to, text string) error {
	var field *string
	switch to {
	case "", TaxIDsToInternalNotes:
	case TaxIDsToCustomField1:
		field = &out.AdvancedOptions.CustomField1
	case TaxIDsToCustomField2:
		field = &out.AdvancedOptions.CustomField2
	case TaxIDsToCustomField3:
		field = &out.AdvancedOptions.CustomField3
	default:
		return fmt.Errorf("tax ids target %q (want %s, %s, %s or %s)", to,
			TaxIDsToInternalNotes, TaxIDsToCustomField1, TaxIDsToCustomField2, TaxIDsToCustomField3)
	}
	if text == "" {
		return nil
	}
	if field != nil && *field == "" {
		*field = text
		return nil
	}
	if out.InternalNotes != "" {
		out.InternalNotes += "\n"
	}
	out.InternalNotes += text
	return nil
}

func fromItem(it order.Item) (Item, error) {
	if it.Quantity <= 0 {
		return Item{}, fmt.Errorf("quantity %d", it.Quantity)
	}
	out := Item{
		LineItemKey: it.LineID,
		SKU:         it.SKU,
		Name:        firstNonEmpty(it.Name, it.SKU, "Item "+it.LineID),
		ImageURL:    it.ImageURL,
		Quantity:    it.Quantity,
		UPC:         it.UPC,
	}
	var err error
	if out.UnitPrice, err = decimalField("unitPrice", it.UnitPrice); err != nil {
		return Item{}, err
	}
	if it.Tax != "" {
		if out.TaxAmount, err = decimalField("taxAmount", it.Tax); err != nil {
			return Item{}, err
		}
	}
	if it.Weight != nil {
		switch it.Weight.Units {
		case "pounds", "ounces", "grams":
		default:
			return Item{}, fmt.Errorf("weight units %q (want pounds, ounces or grams)", it.Weight.Units)
		}
		v, err := decimalField("weight.value", it.Weight.Value)
		if err != nil {
			return Item{}, err
		}
		out.Weight = &Weight{Value: v, Units: it.Weight.Units}
	}
	for _, op := range it.Options {
		out.Options = append(out.Options, ItemOption{Name: op.Name, Value: op.Value})
	}
	return out, nil
}

// Number converts exact decimal text to a JSON number without float64:
// the canonical decimal text is already valid JSON number syntax. The
// empty Decimal is 0.
func Number(d order.Decimal) (json.Number, error) {
	c, err := order.ParseDecimal(string(d))
	if err != nil {
		return "", err
	}
	return json.Number(c.String()), nil
}

func decimalField(field string, d order.Decimal) (json.Number, error) {
	n, err := Number(d)
	if err != nil {
		return "", fmt.Errorf("%s is not a decimal amount", field)
	}
	return n, nil
}

func address(a order.Address, c order.Contact, redacted bool) Address {
	out := Address{
		City:        a.City,
		State:       a.State,
		PostalCode:  a.PostalCode,
		Country:     a.Country,
		Residential: a.Residential,
	}
	if redacted {
		out.Name = Redacted
		return out
	}
	out.Name = c.Name
	out.Company = c.Company
	out.Street1 = c.Street1
	out.Street2 = c.Street2
	out.Street3 = c.Street3
	out.Phone = c.Phone
	return out
}

// withSuffix appends suffix, cutting s so that the result has at most
// MaxOrderNumber characters and the suffix survives.
func withSuffix(s, suffix string) string {
	return cut(s, MaxOrderNumber-utf8.RuneCountInString(suffix)) + suffix
}

func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
