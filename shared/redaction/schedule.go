package redaction

import (
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

const day = 24 * time.Hour

// The periods of Amazon's schedule.
const (
	// NotShippedAfter: an order not shipped is due this long after import.
	NotShippedAfter = 14 * day
	// DeliveredAfter: a tracked shipment is due at the latest this long
	// after delivery.
	DeliveredAfter = 30 * day
	// ShipDateAfter: a tracked shipment is due at the latest this long
	// after its ship date.
	ShipDateAfter = 30 * day
	// LabelCreatedAfter: a tracked shipment is due at the latest this long
	// after its label was created.
	LabelCreatedAfter = 44 * day
	// UntrackedAfter: a shipment with a service without automatic tracking
	// is due this long after the shipment was created.
	UntrackedAfter = 30 * day
)

// Facts is what the schedule needs to know of an order. A zero time is
// unknown.
type Facts struct {
	// ImportedAt is when the hub first stored the order.
	ImportedAt time.Time
	// Shipped says the order has shipped (a live label, or the channel
	// says so).
	Shipped bool
	// ShipDate is the ship date of the shipment.
	ShipDate time.Time
	// LabelCreatedAt is when the shipment's label was created.
	LabelCreatedAt time.Time
	// ShipmentCreatedAt is when the shipment was created (for a
	// ShipStation label, its creation time).
	ShipmentCreatedAt time.Time
	// DeliveredAt is when the carrier delivered the shipment.
	DeliveredAt time.Time
	// TrackingCapable says the shipment's service tracks automatically
	// (carrier.Map.TrackingCapable).
	TrackingCapable bool
}

// Due returns when the order's buyer data must be redacted and a PII-free
// reason naming the rule that decided it:
//
//   - not shipped: ImportedAt + NotShippedAfter (14 days);
//   - shipped with a service that tracks automatically: the earliest of
//     DeliveredAt + 30 days, ShipDate + 30 days and LabelCreatedAt + 44
//     days, among those known;
//   - shipped with a service without automatic tracking: 30 days after
//     ShipmentCreatedAt (LabelCreatedAt, then ShipDate, stand in for an
//     unknown ShipmentCreatedAt: they are the same event or the nearest
//     one);
//   - shipped with no shipment time known at all (shipped outside the hub):
//     the not-shipped rule, the earliest the order could be due.
//
// A zero result (no time known, not even ImportedAt) means "due at once".
// Recompute it whenever the order's history changes.
func Due(f Facts) (time.Time, string) {
	if f.Shipped {
		if f.TrackingCapable {
			var due time.Time
			var why string
			for _, c := range []struct {
				at    time.Time
				after time.Duration
				why   string
			}{
				{f.DeliveredAt, DeliveredAfter, "shipped, tracked: delivered + 30 days"},
				{f.ShipDate, ShipDateAfter, "shipped, tracked: ship date + 30 days"},
				{f.LabelCreatedAt, LabelCreatedAfter, "shipped, tracked: label created + 44 days"},
			} {
				if c.at.IsZero() {
					continue
				}
				if d := c.at.Add(c.after); due.IsZero() || d.Before(due) {
					due, why = d, c.why
				}
			}
			if !due.IsZero() {
				return due.UTC(), why
			}
		} else {
			for _, c := range []struct {
				at  time.Time
				why string
			}{
				{f.ShipmentCreatedAt, "shipped, untracked: shipment created + 30 days"},
				{f.LabelCreatedAt, "shipped, untracked: label created + 30 days"},
				{f.ShipDate, "shipped, untracked: ship date + 30 days"},
			} {
				if !c.at.IsZero() {
					return c.at.Add(UntrackedAfter).UTC(), c.why
				}
			}
		}
		if f.ImportedAt.IsZero() {
			return time.Time{}, "shipped, no time known: due at once"
		}
		return f.ImportedAt.Add(NotShippedAfter).UTC(), "shipped, no shipment time known: imported + 14 days"
	}
	if f.ImportedAt.IsZero() {
		return time.Time{}, "not shipped, no import time known: due at once"
	}
	return f.ImportedAt.Add(NotShippedAfter).UTC(), "not shipped: imported + 14 days"
}

// TrackingFunc says whether a ShipStation carrier's service tracks
// automatically; carrier.Map's TrackingCapable method is one.
type TrackingFunc func(carrierCode, serviceCode string) bool

// FactsOf gathers the schedule's facts of order o, imported into the
// ledger at importedAt (ledger.Record.ImportedAt), from the ShipStation
// labels recorded for it (those its shipment notifications name). The
// earliest live label (by creation time, ship date when that is unknown)
// defines the ship date, the label and shipment creation times and, through
// tracking, whether the service tracks automatically; voided labels do not
// count. The order is shipped when it has a live label or its status is
// order.Shipped (an order shipped outside the hub, or by the channel, has
// no shipment time: see Due). A nil tracking knows no service. Delivery is
// not in the ledger's labels: set Facts.DeliveredAt when it is known.
func FactsOf(o order.Order, importedAt time.Time, labels []shipment.Shipment, tracking TrackingFunc) Facts {
	f := Facts{ImportedAt: importedAt, Shipped: o.Status == order.Shipped}
	var first *shipment.Shipment
	for i := range labels {
		l := &labels[i]
		if l.Voided {
			continue
		}
		if first == nil || before(l, first) {
			first = l
		}
	}
	if first == nil {
		return f
	}
	f.Shipped = true
	f.ShipDate = first.ShipDate
	f.LabelCreatedAt = first.CreatedAt
	f.ShipmentCreatedAt = first.CreatedAt
	if tracking != nil {
		f.TrackingCapable = tracking(first.CarrierCode, first.ServiceCode)
	}
	return f
}

// before orders labels by creation time (ship date when unknown), then id.
func before(a, b *shipment.Shipment) bool {
	ta, tb := a.CreatedAt, b.CreatedAt
	if ta.IsZero() {
		ta = a.ShipDate
	}
	if tb.IsZero() {
		tb = b.ShipDate
	}
	switch {
	case ta.IsZero() != tb.IsZero():
		return !ta.IsZero() // a known time comes first
	case !ta.Equal(tb):
		return ta.Before(tb)
	}
	return a.Key() < b.Key()
}
