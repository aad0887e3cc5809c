package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// AmazonReport compares the sandbox ShipStation and the sandbox Amazon with
// what every Amazon order requires, derived from the sandbox's own data
// (the order's state on Amazon, its labels in ShipStation) and the stores'
// settings, never from shiprelay's ledger. Its texts name orders by id and
// fields by name: no buyer data.
type AmazonReport struct {
	Orders  int
	ByStore map[string]int
	ByKind  map[AmazonKind]int
	// Expected ShipStation orders; Present: those right (status, tags,
	// address, no buyer data where there must be none).
	Expected, Present int
	// Absent: orders rightly not in ShipStation (pending, cancelled while
	// pending, FBA on a store that does not import them).
	Absent int
	// Shipped merchant orders whose confirmation was checked; Confirmed:
	// those whose Amazon packages are as the store's policy says.
	Shipped, Confirmed int
	// Packages recorded on Amazon, per store.
	Packages map[string]int
	// MultiLabel: shipped orders with more than one live label.
	MultiLabel int
	// CaughtByPoll: orders in ShipStation with no ORDER_CHANGE delivered
	// but their PENDING ones (found by the scheduled searchOrders poll).
	CaughtByPoll int
	// CancelledAfterShipping: cancelled on Amazon after the warehouse had
	// shipped them; each must be an exception for a person.
	CancelledAfterShipping []string
	// ShippedBeforeRequest: orders whose buyer asked to cancel after the
	// warehouse had shipped them (and shiprelay confirmed them): Amazon
	// keeps them shipped.
	ShippedBeforeRequest []string
	// Problems is everything wrong; empty when all is right.
	Problems []string
}

// OK reports whether every Amazon order is as it must be.
func (r AmazonReport) OK() bool { return len(r.Problems) == 0 }

// amazonTagIDs are the sandbox ShipStation's tag ids by name.
func amazonTagIDs() map[string]int64 {
	out := map[string]int64{}
	for _, t := range sandbox.DefaultShipStationTags() {
		out[t.Name] = t.TagID
	}
	return out
}

// CheckAmazon builds the report. t (may be nil) says what kind each order
// is and what was seen while it happened; exceptions are the ledger's.
func (e *Env) CheckAmazon(t *AmazonTraffic, exceptions []ledger.Exception) AmazonReport {
	r := AmazonReport{ByStore: map[string]int{}, ByKind: map[AmazonKind]int{}, Packages: map[string]int{}}
	ss := map[string]sandbox.SSOrder{}
	for _, o := range e.Sandbox.ShipStationOrders() {
		if strings.HasPrefix(o.OrderKey, "amazon:") {
			ss[o.OrderKey] = o
		}
	}
	labels := map[string][]sandbox.SSShipment{}
	for _, l := range e.Sandbox.ShipStationShipments() {
		if strings.HasPrefix(l.OrderKey, "amazon:") {
			labels[l.OrderKey] = append(labels[l.OrderKey], l)
		}
	}
	tags := amazonTagIDs()
	created := e.Sandbox.ShipStationCreatedAt()
	known := map[string]bool{}
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }

	for _, o := range e.Amazon.Orders() {
		store := AmazonStoreOf(o.MarketplaceID)
		setup := AmazonStore(store)
		if setup == nil {
			continue // a marketplace the demo has no store for
		}
		if e.isDedupeAmazon(o.OrderID) {
			known[AmazonOrderKey(store, o.OrderID)] = true
			continue // an order with copies: see CheckDedupe
		}
		r.Orders++
		r.ByStore[store]++
		kind := t.Kind(o.OrderID)
		if kind != "" {
			r.ByKind[kind]++
		}
		key := AmazonOrderKey(store, o.OrderID)
		known[key] = true
		got, inSS := ss[key]
		seen := t.Statuses(key)
		name := store + " " + o.OrderID
		r.Packages[store] += len(o.Packages)
		if len(o.Packages) > 0 && (o.FulfilledBy != "MERCHANT" || o.Status == sandbox.AmazonCancelled || o.Status == sandbox.AmazonPending) {
			problem("%s (%s, %s): %d packages confirmed on Amazon, want none", name, o.FulfilledBy, o.Status, len(o.Packages))
		}
		present := func() {
			r.Present++
			if !e.notifiedBy(o.OrderID, created[key]) {
				r.CaughtByPoll++
			}
		}

		switch {
		case o.FulfilledBy != "MERCHANT":
			if !setup.ImportFBA {
				if inSS {
					problem("%s: FBA order in ShipStation, but %s does not import them", name, store)
				} else {
					r.Absent++
				}
				continue
			}
			r.Expected++
			switch {
			case !inSS:
				problem("%s: FBA order missing from ShipStation (%s imports them as shipped)", name, store)
			case got.OrderStatus != "shipped":
				problem("%s: FBA order is %s in ShipStation, want shipped", name, got.OrderStatus)
			case len(seen) > 0 && seen[0] != "shipped":
				problem("%s: FBA order went through %v in ShipStation, want shipped from the start", name, seen)
			default:
				if leaks := buyerData(got, o); len(leaks) > 0 {
					problem("%s: FBA order carries buyer data in ShipStation (%s)", name, strings.Join(leaks, ", "))
					continue
				}
				present()
			}

		case o.Status == sandbox.AmazonPending:
			if inSS {
				problem("%s: still PENDING on Amazon but in ShipStation (%s)", name, got.OrderStatus)
			} else {
				r.Absent++
			}

		case o.Status == sandbox.AmazonCancelled:
			mustBeThere := kind == AmazonCancelPushed || kind == AmazonBuyerCancel
			if !inSS {
				if mustBeThere {
					r.Expected++
					problem("%s (%s): missing from ShipStation", name, kind)
				} else {
					r.Absent++
				}
				continue
			}
			if kind == AmazonCancelPending {
				problem("%s (%s): in ShipStation (%s), want never created", name, kind, got.OrderStatus)
				continue
			}
			r.Expected++
			switch got.OrderStatus {
			case "cancelled":
				if kind == AmazonBuyerCancel {
					if p := planned(t, o.OrderID); p != nil && !p.Held {
						problem("%s (%s): never on hold in ShipStation, tagged %q, before Amazon cancelled it", name, kind, "Cancel requested")
						continue
					}
					if !hasException(exceptions, o.OrderID) {
						problem("%s (%s): no exception for the buyer's request", name, kind)
						continue
					}
				}
				present()
			case "shipped":
				r.CancelledAfterShipping = append(r.CancelledAfterShipping, name)
				if !hasException(exceptions, o.OrderID) {
					problem("%s: cancelled on Amazon after the warehouse shipped it, and no exception says so", name)
					continue
				}
				r.Present++
			default:
				problem("%s (%s): %s in ShipStation, want cancelled", name, kind, got.OrderStatus)
			}

		default: // UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED
			r.Expected++
			if kind == AmazonBuyerCancel {
				r.ShippedBeforeRequest = append(r.ShippedBeforeRequest, name)
			}
			if !inSS {
				problem("%s (%s): missing from ShipStation", name, o.Status)
				continue
			}
			bad := len(r.Problems)
			if got.OrderStatus != "shipped" {
				problem("%s: %s in ShipStation, want shipped by the warehouse", name, got.OrderStatus)
			} else if t != nil && !slices.Contains(seen, "awaiting_shipment") {
				problem("%s: went through %v in ShipStation, never awaiting shipment", name, seen)
			}
			for _, tg := range []struct{ program, tag string }{{"PRIME", "Prime"}, {"AMAZON_BUSINESS", "Business"}} {
				if id, ok := tags[tg.tag]; ok && slices.Contains(o.Programs, tg.program) && !slices.Contains(got.TagIDs, id) {
					problem("%s: %s order not tagged %q (tagIds %v)", name, tg.program, tg.tag, got.TagIDs)
				}
			}
			if o.Address.CountryCode == "JP" {
				if diff := shipToDiff(o.Address, got.ShipTo); len(diff) > 0 {
					problem("%s: Japanese ship-to address changed on the way (%s)", name, strings.Join(diff, ", "))
				}
			}
			if len(r.Problems) == bad {
				present()
			}
			if got.OrderStatus != "shipped" {
				continue
			}
			r.Shipped++
			live := 0
			for _, l := range labels[key] {
				if !l.Voided {
					live++
				}
			}
			if live > 1 {
				r.MultiLabel++
			}
			if ps := checkAmazonPackages(o, labels[key], setup.Confirm); len(ps) > 0 {
				for _, p := range ps {
					problem("%s: %s", name, p)
				}
			} else {
				r.Confirmed++
			}
		}
	}
	for key, o := range ss {
		if !known[key] {
			problem("%s: in ShipStation (%s) but no such Amazon order", key, o.OrderStatus)
		}
	}
	if n := e.Amazon.Stats().UnknownCarrierDropped; n > 0 {
		problem("%d confirmations sent with a carrierCode Amazon does not know (not recorded)", n)
	}
	r.Problems = append(r.Problems, t.Violations()...)
	sort.Strings(r.Problems)
	return r
}

// planned returns the traffic's record of an order (nil without one).
func planned(t *AmazonTraffic, orderID string) *AmazonPlanned {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.byID[orderID]; p != nil {
		c := *p
		return &c
	}
	return nil
}

// hasException reports whether an exception names the Amazon order.
func hasException(exc []ledger.Exception, orderID string) bool {
	for _, x := range exc {
		if strings.HasSuffix(string(x.OrderID), ":"+orderID) || strings.Contains(x.Message, orderID) || strings.Contains(x.ID, orderID) {
			return true
		}
	}
	return false
}

// buyerData names the buyer fields present in a ShipStation order, and
// says whether any of the Amazon order's buyer values is anywhere in it.
// It returns field names only.
func buyerData(ss sandbox.SSOrder, o sandbox.AmazonOrder) []string {
	var out []string
	set := func(p *string) bool { return p != nil && *p != "" }
	named := func(p *string) bool { return set(p) && *p != "REDACTED" }
	if set(ss.CustomerEmail) {
		out = append(out, "customerEmail")
	}
	if set(ss.CustomerUsername) {
		out = append(out, "customerUsername")
	}
	for _, a := range []struct {
		name string
		addr *sandbox.SSAddress
	}{{"shipTo", ss.ShipTo}, {"billTo", ss.BillTo}} {
		if a.addr == nil {
			continue
		}
		if named(a.addr.Name) {
			out = append(out, a.name+".name")
		}
		for _, f := range []struct {
			name string
			v    *string
		}{{"company", a.addr.Company}, {"street1", a.addr.Street1}, {"street2", a.addr.Street2}, {"street3", a.addr.Street3}, {"phone", a.addr.Phone}} {
			if set(f.v) {
				out = append(out, a.name+"."+f.name)
			}
		}
	}
	raw, _ := json.Marshal(ss)
	for _, v := range o.PIIValues() {
		if strings.Contains(string(raw), v) {
			out = append(out, "a buyer value elsewhere in the order")
			break
		}
	}
	return out
}

// addressDiff names the ship-to fields that differ from Amazon's address.
func addressDiff(a sandbox.AmazonAddress, s *sandbox.SSAddress) []string {
	if s == nil {
		return []string{"shipTo missing"}
	}
	v := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	var out []string
	for _, f := range []struct{ name, want, got string }{
		{"name", a.Name, v(s.Name)}, {"company", a.CompanyName, v(s.Company)},
		{"street1", a.AddressLine1, v(s.Street1)}, {"street2", a.AddressLine2, v(s.Street2)},
		{"city", a.City, v(s.City)}, {"state", a.StateOrRegion, v(s.State)},
		{"postalCode", a.PostalCode, v(s.PostalCode)}, {"country", a.CountryCode, v(s.Country)},
		{"phone", a.Phone, v(s.Phone)},
	} {
		if f.want != f.got {
			out = append(out, f.name)
		}
	}
	return out
}

// shipToDiff is addressDiff, but for a copy the redaction sweep sent again
// (its name reads redaction.Redacted): then only the fields that are not
// buyer data (city, state, postal code, country) must be Amazon's, and the
// others must not be.
func shipToDiff(a sandbox.AmazonAddress, s *sandbox.SSAddress) []string {
	if s == nil || s.Name == nil || *s.Name != redaction.Redacted {
		return addressDiff(a, s)
	}
	kept := a
	kept.Name, kept.CompanyName, kept.AddressLine1, kept.AddressLine2, kept.Phone = "", "", "", "", ""
	unset := func(p *string) *string {
		if p == nil || *p == "" || *p == redaction.Redacted {
			return nil
		}
		return p
	}
	c := *s
	c.Name, c.Company, c.Street1, c.Street2, c.Phone = unset(c.Name), unset(c.Company), unset(c.Street1), unset(c.Street2), unset(c.Phone)
	var out []string
	for _, d := range addressDiff(kept, &c) {
		out = append(out, d+" (redacted copy)")
	}
	return out
}

// labelItems is a label's quantities by Amazon order item id (the
// ShipStation lineItemKey shiprelay pushed).
func labelItems(l sandbox.SSShipment) map[string]int {
	out := map[string]int{}
	for _, it := range l.ShipmentItems {
		k := ""
		if it.LineItemKey != nil {
			k = *it.LineItemKey
		}
		out[k] += it.Quantity
	}
	return out
}

func packageItems(p sandbox.AmazonPackage) map[string]int {
	out := map[string]int{}
	for _, it := range p.Items {
		out[it.OrderItemID] += it.Quantity
	}
	return out
}

func sameQuantities(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkAmazonPackages says what is wrong with a shipped merchant order's
// Amazon packages, given all its ShipStation labels (voided ones too, by
// ascending shipmentId) and its store's confirmation policy:
//
//   - first-only: exactly one package, with the first label's tracking and
//     items (or, when that label was voided, those of its re-label);
//   - every-package: one package per live label, with the same tracking
//     numbers, and the packages' quantities per item adding up to what the
//     live labels shipped, which is everything ordered;
//   - every package's carrierCode is one Amazon knows, and "Other" comes
//     with a carrierName.
func checkAmazonPackages(o sandbox.AmazonOrder, labels []sandbox.SSShipment, policy string) []string {
	var out []string
	var live []sandbox.SSShipment
	for _, l := range labels {
		if !l.Voided {
			live = append(live, l)
		}
	}
	if len(live) == 0 {
		return []string{"shipped in ShipStation without a live label"}
	}
	for _, p := range o.Packages {
		if !sandbox.AmazonCarrierCodes[p.CarrierCode] {
			out = append(out, fmt.Sprintf("package %s has carrierCode %q, not one Amazon knows", p.PackageReferenceID, p.CarrierCode))
		} else if p.CarrierCode == "Other" && p.CarrierName == "" {
			out = append(out, fmt.Sprintf("package %s is carrier Other without a carrierName", p.PackageReferenceID))
		}
	}
	switch policy {
	case config.ConfirmEveryPackage:
		if len(o.Packages) != len(live) {
			out = append(out, fmt.Sprintf("%d packages on Amazon for %d live labels (every-package)", len(o.Packages), len(live)))
		}
		want, got := map[string]int{}, map[string]int{}
		for _, l := range live {
			want[l.TrackingNumber]++
		}
		for _, p := range o.Packages {
			got[p.TrackingNumber]++
		}
		if !sameQuantities(want, got) {
			out = append(out, "the packages' tracking numbers are not the live labels'")
		}
		shipped, confirmed, ordered := map[string]int{}, map[string]int{}, map[string]int{}
		for _, l := range live {
			for k, q := range labelItems(l) {
				shipped[k] += q
			}
		}
		for _, p := range o.Packages {
			for k, q := range packageItems(p) {
				confirmed[k] += q
			}
		}
		for _, it := range o.Items {
			ordered[it.OrderItemID] = it.Quantity
		}
		if !sameQuantities(confirmed, shipped) {
			out = append(out, fmt.Sprintf("packages confirm %v, the labels shipped %v", confirmed, shipped))
		} else if !sameQuantities(confirmed, ordered) {
			out = append(out, fmt.Sprintf("packages confirm %v of %v ordered", confirmed, ordered))
		}
	default: // first-only
		if len(o.Packages) != 1 {
			out = append(out, fmt.Sprintf("%d packages on Amazon, want 1 (first-only)", len(o.Packages)))
			break
		}
		first := labels[0]
		ok := []sandbox.SSShipment{first}
		if first.Voided {
			ok = nil
			for _, l := range live {
				if l.ShipmentID > first.ShipmentID && sameQuantities(labelItems(l), labelItems(first)) {
					ok = append(ok, l)
				}
			}
		}
		p := o.Packages[0]
		match := false
		for _, l := range ok {
			if l.TrackingNumber == p.TrackingNumber {
				match = true
				if !sameQuantities(packageItems(p), labelItems(l)) {
					out = append(out, fmt.Sprintf("the package confirms %v, the first label shipped %v", packageItems(p), labelItems(l)))
				}
			}
		}
		if !match {
			out = append(out, "the package's tracking is not the first label's")
		}
	}
	return out
}
