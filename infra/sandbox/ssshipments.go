package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// DefaultShipStationWarehouseID is the warehouseId (ship-from location) of
// labels whose order names no advancedOptions.warehouseId.
const DefaultShipStationWarehouseID int64 = 55555

// SSShipmentAdvancedOptions are the advancedOptions of a shipment: the
// order's store, custom fields, source and third-party billing.
type SSShipmentAdvancedOptions struct {
	StoreID           *int64  `json:"storeId"`
	CustomField1      *string `json:"customField1"`
	CustomField2      *string `json:"customField2"`
	CustomField3      *string `json:"customField3"`
	Source            *string `json:"source"`
	BillToParty       *string `json:"billToParty"`
	BillToAccount     *string `json:"billToAccount"`
	BillToPostalCode  *string `json:"billToPostalCode"`
	BillToCountryCode *string `json:"billToCountryCode"`
}

// SSShipment is a ShipStation V1 shipment (one label), as returned by
// GET /shipments (api-contracts §1.4 and §6.2). shipmentItems uses the order
// item shape (SSItem) with the quantity in this package; it is null unless
// includeShipmentItems is true. createDate and voidDate are US Pacific
// ShipStation timestamps, shipDate a Pacific date ("2026-11-21").
type SSShipment struct {
	ShipmentID          int64                      `json:"shipmentId"`
	OrderID             int64                      `json:"orderId"`
	OrderKey            string                     `json:"orderKey"`
	UserID              *string                    `json:"userId"`
	CustomerEmail       *string                    `json:"customerEmail"`
	OrderNumber         string                     `json:"orderNumber"`
	CreateDate          string                     `json:"createDate"`
	ShipDate            string                     `json:"shipDate"`
	ShipmentCost        json.Number                `json:"shipmentCost"`
	InsuranceCost       json.Number                `json:"insuranceCost"`
	TrackingNumber      string                     `json:"trackingNumber"`
	IsReturnLabel       bool                       `json:"isReturnLabel"`
	BatchNumber         *string                    `json:"batchNumber"`
	CarrierCode         string                     `json:"carrierCode"`
	ServiceCode         string                     `json:"serviceCode"`
	PackageCode         string                     `json:"packageCode"`
	Confirmation        *string                    `json:"confirmation"`
	WarehouseID         *int64                     `json:"warehouseId"`
	Voided              bool                       `json:"voided"`
	VoidDate            *string                    `json:"voidDate"`
	MarketplaceNotified bool                       `json:"marketplaceNotified"`
	NotifyErrorMessage  *string                    `json:"notifyErrorMessage"`
	ShipTo              *SSAddress                 `json:"shipTo"`
	Weight              *SSWeight                  `json:"weight"`
	Dimensions          *SSDimensions              `json:"dimensions"`
	InsuranceOptions    *SSInsuranceOptions        `json:"insuranceOptions"`
	AdvancedOptions     *SSShipmentAdvancedOptions `json:"advancedOptions"`
	ShipmentItems       []SSItem                   `json:"shipmentItems"`
	LabelData           *string                    `json:"labelData"`
	FormData            *string                    `json:"formData"`

	// BatchID is the id of the batch the label was created in, the value
	// SHIP_NOTIFY's resource_url filters on (GET /shipments?batchId=). It is
	// sandbox bookkeeping and not part of ShipStation's shipment JSON.
	BatchID int64 `json:"-"`
}

// clone copies s. Pointed-to values are never mutated after a shipment is
// built (fields are replaced, not written through), so sharing them is safe;
// the item slice is copied.
func (s *SSShipment) clone(withItems bool) SSShipment {
	c := *s
	c.ShipmentItems = nil
	if withItems {
		c.ShipmentItems = make([]SSItem, len(s.ShipmentItems))
		copy(c.ShipmentItems, s.ShipmentItems)
	}
	return c
}

// ShipLine is one order item and quantity in a package given to
// Sandbox.ShipOrder.
type ShipLine struct {
	// OrderItemID selects the item by orderItemId when non-zero; otherwise
	// LineItemKey selects it by lineItemKey.
	OrderItemID int64  `json:"order_item_id"`
	LineItemKey string `json:"line_item_key"`
	// Quantity is at least 1; the package's lines together may not exceed
	// the item's unshipped quantity.
	Quantity int `json:"quantity"`
}

// Errors returned by the Go shipping methods.
var (
	// ErrNoSuchOrder means no ShipStation order has the given orderKey.
	ErrNoSuchOrder = errors.New("sandbox: no such ShipStation order")
	// ErrNoSuchShipment means no shipment has the given shipmentId.
	ErrNoSuchShipment = errors.New("sandbox: no such ShipStation shipment")
	// ErrNotShippable means the order is not awaiting_shipment or has
	// nothing (left) to ship.
	ErrNotShippable = errors.New("sandbox: order cannot be shipped")
)

// shipQty is a quantity of one order item (index into order.Items).
type shipQty struct {
	idx int
	qty int
}

// carrierService is a carrierCode/serviceCode pair.
type carrierService struct{ carrier, service string }

// defaultServices is the service used when only a carrier is named; it also
// lists the realistic carrier codes of ShipStation V1 (local_courier stands
// for a carrier code a client does not know).
var defaultServices = map[string]string{
	"stamps_com":            "usps_ground_advantage",
	"ups_walleted":          "ups_ground",
	"fedex":                 "fedex_ground",
	"dhl_express_worldwide": "dhl_express_worldwide",
	"canada_post":           "expedited_parcel",
	"royal_mail":            "royal_mail_tracked_48",
	"australia_post":        "aus_parcel_post",
	"local_courier":         "local_courier_same_day",
}

// pickCarrier chooses a realistic carrier and service for a destination.
func pickCarrier(rng *rand.Rand, country string) carrierService {
	x := rng.Float64()
	switch strings.ToUpper(country) {
	case "", "US":
		switch {
		case x < 0.45:
			return carrierService{"stamps_com", "usps_ground_advantage"}
		case x < 0.55:
			return carrierService{"stamps_com", "usps_priority_mail"}
		case x < 0.75:
			return carrierService{"ups_walleted", "ups_ground"}
		case x < 0.80:
			return carrierService{"ups_walleted", "ups_2nd_day_air"}
		case x < 0.95:
			return carrierService{"fedex", "fedex_ground"}
		default:
			return carrierService{"local_courier", "local_courier_same_day"}
		}
	case "CA":
		if x < 0.8 {
			return carrierService{"canada_post", "expedited_parcel"}
		}
	case "GB":
		if x < 0.9 {
			return carrierService{"royal_mail", "royal_mail_tracked_48"}
		}
	case "AU":
		if x < 0.9 {
			return carrierService{"australia_post", "aus_parcel_post"}
		}
	}
	return carrierService{"dhl_express_worldwide", "dhl_express_worldwide"}
}

func randDigits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

// uspsCheck is the USPS IMpb mod-10 check digit (weights 3,1 from the right).
func uspsCheck(body string) byte {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// upsCheck is the check digit of a 1Z number over the 15 characters after "1Z".
func upsCheck(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v int
		if c >= '0' && c <= '9' {
			v = int(c - '0')
		} else {
			v = (int(c) - 63) % 10
		}
		if i%2 == 1 {
			v *= 2
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}

// fedexCheck is the check digit of a 12-digit FedEx Express/Ground number
// (weights 1,3,7 from the right, mod 11, mod 10).
func fedexCheck(body string) byte {
	w := []int{1, 3, 7}
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		sum += int(body[i]-'0') * w[(len(body)-1-i)%3]
	}
	return byte('0' + sum%11%10)
}

// s10Check is the UPU S10 check digit over 8 serial digits.
func s10Check(serial string) byte {
	w := []int{8, 6, 4, 2, 3, 5, 9, 7}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(serial[i]-'0') * w[i]
	}
	c := 11 - sum%11
	switch c {
	case 10:
		c = 0
	case 11:
		c = 5
	}
	return byte('0' + c)
}

// upsShipper is the 6-character UPS account number used in 1Z numbers.
const upsShipper = "V8W471"

// trackingNumber makes a tracking number in the carrier's real format:
// USPS 22 digits starting 94 (IMpb check digit), UPS 1Z + 16 (check
// digit), FedEx 12 digits (check digit), DHL Express 10 digits (mod 7),
// Canada Post 16 digits, Royal Mail and Australia Post UPU S10, anything
// else "LC" + 10 digits.
func trackingNumber(rng *rand.Rand, carrier, service string) string {
	switch {
	case carrier == "stamps_com" || carrier == "endicia" || strings.HasPrefix(carrier, "usps"):
		body := "9400111" + randDigits(rng, 14)
		return body + string(uspsCheck(body))
	case strings.HasPrefix(carrier, "ups"):
		svc := "03"
		switch service {
		case "ups_2nd_day_air":
			svc = "02"
		case "ups_next_day_air":
			svc = "01"
		}
		body := upsShipper + svc + randDigits(rng, 7)
		return "1Z" + body + string(upsCheck(body))
	case strings.HasPrefix(carrier, "fedex"):
		body := strconv.Itoa(1+rng.IntN(9)) + randDigits(rng, 10)
		return body + string(fedexCheck(body))
	case strings.HasPrefix(carrier, "dhl"):
		n := 1_000_000_00 + rng.Int64N(9_000_000_00)
		return strconv.FormatInt(n, 10) + strconv.FormatInt(n%7, 10)
	case carrier == "canada_post":
		return "7023" + randDigits(rng, 12)
	case carrier == "royal_mail":
		serial := randDigits(rng, 8)
		return "TT" + serial + string(s10Check(serial)) + "GB"
	case carrier == "australia_post":
		serial := randDigits(rng, 8)
		return "CX" + serial + string(s10Check(serial)) + "AU"
	default:
		return "LC" + randDigits(rng, 10)
	}
}

// baseCostCents is the label price before weight, per carrier.
var baseCostCents = map[string]int64{
	"stamps_com": 450, "ups_walleted": 910, "fedex": 875, "dhl_express_worldwide": 3200,
	"canada_post": 1420, "royal_mail": 640, "australia_post": 1130,
}

// centsNumber renders cents as a JSON number without trailing zeros (851 -> 8.51, 800 -> 8).
func centsNumber(c int64) json.Number {
	s := fmt.Sprintf("%d.%02d", c/100, c%100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return json.Number(s)
}

// itemOunces is one unit's weight in ounces (8 oz when unknown).
func itemOunces(it *SSItem) float64 {
	if it.Weight == nil {
		return 8
	}
	v, err := strconv.ParseFloat(string(it.Weight.Value), 64)
	if err != nil || v <= 0 {
		return 8
	}
	switch it.Weight.Units {
	case "pounds":
		return v * 16
	case "grams":
		return v / 28.349523125
	}
	return v
}

// remaining lists the unshipped quantities of an order's physical items.
// Caller holds ss.mu.
func (rec *ssRecord) remaining() []shipQty {
	var out []shipQty
	for i := range rec.order.Items {
		it := &rec.order.Items[i]
		if it.Adjustment {
			continue
		}
		if left := it.Quantity - rec.shipped[it.OrderItemID]; left > 0 {
			out = append(out, shipQty{idx: i, qty: left})
		}
	}
	return out
}

// fullyShipped reports whether every physical item is shipped. Caller holds ss.mu.
func (rec *ssRecord) fullyShipped() bool {
	physical := false
	for _, it := range rec.order.Items {
		if !it.Adjustment {
			physical = true
		}
	}
	return physical && len(rec.remaining()) == 0
}

// ssBatch is one batch of labels created together.
type ssBatch struct {
	id     int64
	number string
}

// newBatch allocates a batch. Caller holds ss.mu.
func (ss *shipStation) newBatch() ssBatch {
	if ss.passBatch != nil {
		return *ss.passBatch
	}
	b := ssBatch{id: ss.nextBatch, number: strconv.FormatInt(ss.nextBatchNumber, 10)}
	ss.nextBatch++
	ss.nextBatchNumber++
	ss.batches++
	return b
}

// newTracking makes a tracking number not used before. Caller holds ss.mu.
func (ss *shipStation) newTracking(carrier, service string) string {
	for {
		t := trackingNumber(ss.labelRNG, carrier, service)
		if !ss.trackingSeen[t] {
			ss.trackingSeen[t] = true
			return t
		}
	}
}

// resolveCarrier fills in a missing carrier (the order's requested one, or a
// realistic pick for the destination) and service. Caller holds ss.mu.
func (ss *shipStation) resolveCarrier(rec *ssRecord, carrier, service string) carrierService {
	if carrier == "" && rec.order.CarrierCode != nil && *rec.order.CarrierCode != "" {
		carrier = *rec.order.CarrierCode
		if service == "" && rec.order.ServiceCode != nil {
			service = *rec.order.ServiceCode
		}
	}
	if carrier == "" {
		country := ""
		if rec.order.ShipTo != nil && rec.order.ShipTo.Country != nil {
			country = *rec.order.ShipTo.Country
		}
		cs := pickCarrier(ss.labelRNG, country)
		carrier = cs.carrier
		if service == "" {
			service = cs.service
		}
	}
	if service == "" {
		service = defaultServices[carrier]
		if service == "" {
			service = carrier + "_standard"
		}
	}
	return carrierService{carrier, service}
}

// buildShipment creates and stores one label for lines of rec, without
// firing anything. costCents < 0 means "price the label". Caller holds ss.mu.
func (ss *shipStation) buildShipment(rec *ssRecord, lines []shipQty, cs carrierService, tracking string, b ssBatch, costCents int64, now time.Time) *SSShipment {
	o := &rec.order
	stamp := SSTime(now)
	shipDate := now.In(pacific).Format("2006-01-02")
	sh := &SSShipment{
		ShipmentID:     ss.nextShipment,
		OrderID:        o.OrderID,
		OrderKey:       o.OrderKey,
		CustomerEmail:  o.CustomerEmail,
		OrderNumber:    o.OrderNumber,
		CreateDate:     stamp,
		ShipDate:       shipDate,
		InsuranceCost:  "0",
		TrackingNumber: tracking,
		BatchNumber:    &b.number,
		CarrierCode:    cs.carrier,
		ServiceCode:    cs.service,
		PackageCode:    "package",
		BatchID:        b.id,
	}
	ss.nextShipment++
	if o.PackageCode != nil && *o.PackageCode != "" {
		sh.PackageCode = *o.PackageCode
	}
	conf := "delivery"
	if o.Confirmation != nil && *o.Confirmation != "" {
		conf = *o.Confirmation
	}
	sh.Confirmation = &conf
	wh := DefaultShipStationWarehouseID
	if o.AdvancedOptions != nil && o.AdvancedOptions.WarehouseID != nil && *o.AdvancedOptions.WarehouseID > 0 {
		wh = *o.AdvancedOptions.WarehouseID
	}
	sh.WarehouseID = &wh
	if o.ShipTo != nil {
		a := *o.ShipTo
		sh.ShipTo = &a
	}
	ounces := 0.0
	units := 0
	for _, l := range lines {
		it := o.Items[l.idx]
		it.Quantity = l.qty
		it.Options = append([]SSItemOption(nil), it.Options...)
		if it.Options == nil {
			it.Options = []SSItemOption{}
		}
		sh.ShipmentItems = append(sh.ShipmentItems, it)
		ounces += itemOunces(&o.Items[l.idx]) * float64(l.qty)
		units += l.qty
		rec.shipped[it.OrderItemID] += l.qty
	}
	ounces = math.Round(ounces*100) / 100
	sh.Weight = &SSWeight{Value: json.Number(strconv.FormatFloat(ounces, 'f', -1, 64)), Units: "ounces", WeightUnits: 1}
	if o.Dimensions != nil && o.Dimensions.Length != "" {
		d := *o.Dimensions
		sh.Dimensions = &d
	} else {
		switch {
		case units <= 2:
			sh.Dimensions = &SSDimensions{Units: "inches", Length: "9", Width: "6", Height: "2"}
		case units <= 6:
			sh.Dimensions = &SSDimensions{Units: "inches", Length: "12", Width: "9", Height: "6"}
		default:
			sh.Dimensions = &SSDimensions{Units: "inches", Length: "18", Width: "14", Height: "10"}
		}
	}
	ins := SSInsuranceOptions{InsuredValue: "0"}
	if o.InsuranceOptions != nil {
		ins = *o.InsuranceOptions
		if ins.InsuredValue == "" {
			ins.InsuredValue = "0"
		}
	}
	sh.InsuranceOptions = &ins
	if a := o.AdvancedOptions; a != nil {
		sh.AdvancedOptions = &SSShipmentAdvancedOptions{
			StoreID: a.StoreID, CustomField1: a.CustomField1, CustomField2: a.CustomField2, CustomField3: a.CustomField3,
			Source: a.Source, BillToParty: a.BillToParty, BillToAccount: a.BillToAccount,
			BillToPostalCode: a.BillToPostalCode, BillToCountryCode: a.BillToCountryCode,
		}
	} else {
		sh.AdvancedOptions = &SSShipmentAdvancedOptions{}
	}
	if costCents < 0 {
		base, ok := baseCostCents[cs.carrier]
		if !ok {
			base = 700
		}
		costCents = base + int64(math.Ceil(ounces))*12
	}
	sh.ShipmentCost = centsNumber(costCents)

	ss.shipments = append(ss.shipments, sh)
	ss.shipByID[sh.ShipmentID] = sh
	ss.shipmentsCreated++
	if rec.fullyShipped() && o.OrderStatus != "shipped" {
		o.OrderStatus = "shipped"
		o.ShipDate = &shipDate
		o.ModifyDate = stamp
	}
	return sh
}

// resolveLines turns ShipLines into item quantities and checks them against
// what is left to ship. Caller holds ss.mu.
func (rec *ssRecord) resolveLines(packages [][]ShipLine) ([][]shipQty, error) {
	if len(packages) == 0 {
		rem := rec.remaining()
		if len(rem) == 0 {
			return nil, fmt.Errorf("%w: order %q has nothing left to ship", ErrNotShippable, rec.order.OrderKey)
		}
		return [][]shipQty{rem}, nil
	}
	used := map[int]int{}
	out := make([][]shipQty, 0, len(packages))
	for p, pkg := range packages {
		if len(pkg) == 0 {
			return nil, fmt.Errorf("sandbox: package %d is empty", p)
		}
		var lines []shipQty
		for _, l := range pkg {
			idx := -1
			for i := range rec.order.Items {
				it := &rec.order.Items[i]
				if (l.OrderItemID != 0 && it.OrderItemID == l.OrderItemID) ||
					(l.OrderItemID == 0 && l.LineItemKey != "" && it.LineItemKey != nil && *it.LineItemKey == l.LineItemKey) {
					idx = i
					break
				}
			}
			if idx < 0 {
				return nil, fmt.Errorf("sandbox: order %q has no item %d/%q", rec.order.OrderKey, l.OrderItemID, l.LineItemKey)
			}
			it := &rec.order.Items[idx]
			if it.Adjustment {
				return nil, fmt.Errorf("sandbox: item %d is an adjustment and cannot be shipped", it.OrderItemID)
			}
			if l.Quantity < 1 {
				return nil, fmt.Errorf("sandbox: item %d: quantity %d", it.OrderItemID, l.Quantity)
			}
			used[idx] += l.Quantity
			if left := it.Quantity - rec.shipped[it.OrderItemID]; used[idx] > left {
				return nil, fmt.Errorf("%w: item %d: %d requested, %d left to ship", ErrNotShippable, it.OrderItemID, used[idx], left)
			}
			lines = append(lines, shipQty{idx: idx, qty: l.Quantity})
		}
		out = append(out, lines)
	}
	return out, nil
}

// shipPackages labels each package of rec in one new batch and fires
// SHIP_NOTIFY. Caller holds ss.mu.
func (ss *shipStation) shipPackages(rec *ssRecord, pkgs [][]shipQty, cs carrierService, now time.Time) []*SSShipment {
	b := ss.newBatch()
	out := make([]*SSShipment, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, ss.buildShipment(rec, p, cs, ss.newTracking(cs.carrier, cs.service), b, -1, now))
	}
	if ss.passBatch == nil {
		ss.notifyBatch(b, out)
	}
	return out
}

// shipCombined labels several orders with one label (see the warehouse
// comment): one shipment per order, one shared tracking number, one batch.
// Caller holds ss.mu.
func (ss *shipStation) shipCombined(recs []*ssRecord, cs carrierService, now time.Time) []*SSShipment {
	b := ss.newBatch()
	tracking := ss.newTracking(cs.carrier, cs.service)
	out := make([]*SSShipment, 0, len(recs))
	for i, rec := range recs {
		cost := int64(-1)
		if i > 0 {
			cost = 0 // the label was bought once; the first shipment carries its cost
		}
		out = append(out, ss.buildShipment(rec, rec.remaining(), cs, tracking, b, cost, now))
	}
	if ss.passBatch == nil {
		ss.notifyBatch(b, out)
	}
	return out
}

func cloneShipments(list []*SSShipment) []SSShipment {
	out := make([]SSShipment, len(list))
	for i, sh := range list {
		out[i] = sh.clone(true)
	}
	return out
}

// openForShipping checks that rec can get a label. Caller holds ss.mu.
func (rec *ssRecord) openForShipping() error {
	if rec.order.OrderStatus != "awaiting_shipment" {
		return fmt.Errorf("%w: order %q is %s, not awaiting_shipment", ErrNotShippable, rec.order.OrderKey, rec.order.OrderStatus)
	}
	return nil
}

// ShipOrder creates labels for the order orderKey, one shipment (with its
// own tracking number) per package, all in one batch, and fires SHIP_NOTIFY
// for that batch. packages nil ships everything left in one package. An
// empty carrier picks a realistic one for the destination; an empty service
// uses the carrier's usual service. The order must be awaiting_shipment; it
// becomes shipped once all its items are shipped.
func (s *Sandbox) ShipOrder(orderKey string, packages [][]ShipLine, carrier, service string) ([]SSShipment, error) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	rec := ss.byKey[orderKey]
	if rec == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchOrder, orderKey)
	}
	if err := rec.openForShipping(); err != nil {
		return nil, err
	}
	pkgs, err := rec.resolveLines(packages)
	if err != nil {
		return nil, err
	}
	cs := ss.resolveCarrier(rec, carrier, service)
	return cloneShipments(ss.shipPackages(rec, pkgs, cs, s.now())), nil
}

// ShipCombined ships several open orders under one label, the way
// ShipStation reports merged orders: one shipment per order, all sharing
// one tracking number, in one batch (one SHIP_NOTIFY). Each order ships
// everything it has left.
func (s *Sandbox) ShipCombined(orderKeys []string, carrier, service string) ([]SSShipment, error) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(orderKeys) == 0 {
		return nil, errors.New("sandbox: no orders to combine")
	}
	var recs []*ssRecord
	seen := map[string]bool{}
	for _, k := range orderKeys {
		rec := ss.byKey[k]
		if rec == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchOrder, k)
		}
		if seen[k] {
			return nil, fmt.Errorf("sandbox: order %q listed twice", k)
		}
		seen[k] = true
		if err := rec.openForShipping(); err != nil {
			return nil, err
		}
		if len(rec.remaining()) == 0 {
			return nil, fmt.Errorf("%w: order %q has nothing left to ship", ErrNotShippable, k)
		}
		recs = append(recs, rec)
	}
	cs := ss.resolveCarrier(recs[0], carrier, service)
	return cloneShipments(ss.shipCombined(recs, cs, s.now())), nil
}

// voidLocked voids a label: voided=true, voidDate set, its quantities are
// unshipped again and a shipped order returns to awaiting_shipment. Voids
// fire no webhook (ShipStation V1 has none for them). Caller holds ss.mu.
func (ss *shipStation) voidLocked(id int64, now time.Time) (*SSShipment, error) {
	sh := ss.shipByID[id]
	if sh == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoSuchShipment, id)
	}
	if sh.Voided {
		return sh, fmt.Errorf("sandbox: shipment %d is already voided", id)
	}
	stamp := SSTime(now)
	sh.Voided = true
	sh.VoidDate = &stamp
	ss.shipmentsVoided++
	if rec := ss.byID[sh.OrderID]; rec != nil {
		for _, it := range sh.ShipmentItems {
			rec.shipped[it.OrderItemID] -= it.Quantity
			if rec.shipped[it.OrderItemID] <= 0 {
				delete(rec.shipped, it.OrderItemID)
			}
		}
		if rec.order.OrderStatus == "shipped" && !rec.fullyShipped() {
			rec.order.OrderStatus = "awaiting_shipment"
			rec.order.ShipDate = nil
			rec.order.ModifyDate = stamp
			rec.awaitingSince = now
		}
	}
	return sh, nil
}

// VoidShipment voids a label (voided=true, voidDate set). Its items become
// unshipped again and a shipped order returns to awaiting_shipment. No
// webhook fires.
func (s *Sandbox) VoidShipment(shipmentID int64) error {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, err := ss.voidLocked(shipmentID, s.now())
	return err
}

// relabelLocked voids shipment id if needed and labels the same items again
// with the same carrier and service, a new tracking number and a new batch
// (which fires SHIP_NOTIFY). Caller holds ss.mu.
func (ss *shipStation) relabelLocked(id int64, now time.Time) (*SSShipment, error) {
	old := ss.shipByID[id]
	if old == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoSuchShipment, id)
	}
	if !old.Voided {
		if _, err := ss.voidLocked(id, now); err != nil {
			return nil, err
		}
	}
	rec := ss.byID[old.OrderID]
	if rec == nil {
		return nil, fmt.Errorf("%w: orderId %d", ErrNoSuchOrder, old.OrderID)
	}
	if err := rec.openForShipping(); err != nil {
		return nil, err
	}
	var lines []ShipLine
	for _, it := range old.ShipmentItems {
		lines = append(lines, ShipLine{OrderItemID: it.OrderItemID, Quantity: it.Quantity})
	}
	pkgs, err := rec.resolveLines([][]ShipLine{lines})
	if err != nil {
		return nil, err
	}
	return ss.shipPackages(rec, pkgs, carrierService{old.CarrierCode, old.ServiceCode}, now)[0], nil
}

// Relabel replaces a label: the shipment is voided (if it is not already)
// and a new shipment for the same items, carrier and service is created
// with a new tracking number in a new batch, which fires SHIP_NOTIFY.
func (s *Sandbox) Relabel(shipmentID int64) (SSShipment, error) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sh, err := ss.relabelLocked(shipmentID, s.now())
	if err != nil {
		return SSShipment{}, err
	}
	return sh.clone(true), nil
}

// ShipStationShipments returns every label (voided ones included) with its
// items, by ascending shipmentId.
func (s *Sandbox) ShipStationShipments() []SSShipment {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return cloneShipments(ss.shipments)
}
