package redaction

import (
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

var (
	imported = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	labelAt  = imported.Add(26 * time.Hour)
	shipDay  = imported.Add(2 * day)
)

// checkDue asserts that f is due exactly at want for the rule named by
// why, and checks the boundary: not due one second before, due at the
// time and one second after.
func checkDue(t *testing.T, name string, f Facts, want time.Time, why string) {
	t.Helper()
	got, reason := Due(f)
	if !got.Equal(want) {
		t.Errorf("%s: due %s, want %s (%s)", name, got, want, reason)
	}
	if !strings.Contains(reason, why) {
		t.Errorf("%s: reason %q, want it to name %q", name, reason, why)
	}
	if IsDue(got, want.Add(-time.Second)) {
		t.Errorf("%s: due one second before %s", name, want)
	}
	if !IsDue(got, want) || !IsDue(got, want.Add(time.Second)) {
		t.Errorf("%s: not due at or one second after %s", name, want)
	}
}

func TestDueNotShipped(t *testing.T) {
	checkDue(t, "not shipped", Facts{ImportedAt: imported}, imported.Add(14*day), "not shipped: imported + 14 days")
	// Label and ship times do not count while the order is not shipped
	// (FactsOf never sets them without Shipped; a caller might).
	checkDue(t, "not shipped, stray times", Facts{ImportedAt: imported, ShipDate: shipDay, TrackingCapable: true},
		imported.Add(14*day), "not shipped")
	// A non-UTC input comes back in UTC.
	ny, _ := time.LoadLocation("America/New_York")
	if d, _ := Due(Facts{ImportedAt: imported.In(ny)}); d.Location() != time.UTC || !d.Equal(imported.Add(14*day)) {
		t.Errorf("due %v, want UTC %v", d, imported.Add(14*day))
	}
}

func TestDueTrackedEarliestOfThree(t *testing.T) {
	base := Facts{ImportedAt: imported, Shipped: true, TrackingCapable: true}

	f := base
	f.LabelCreatedAt, f.ShipDate = labelAt, shipDay
	// ship+30 = import+32d, label+44 = import+45d2h: ship date wins.
	checkDue(t, "ship date", f, shipDay.Add(30*day), "ship date + 30 days")

	f.DeliveredAt = shipDay.Add(3 * day)
	// delivery+30 = import+35d: ship date still earliest.
	checkDue(t, "delivered later", f, shipDay.Add(30*day), "ship date + 30 days")

	// Delivery known, earlier than the ship date (a back-dated ship date
	// fixed later): delivery wins.
	f.DeliveredAt = shipDay.Add(-time.Hour)
	checkDue(t, "delivered earliest", f, f.DeliveredAt.Add(30*day), "delivered + 30 days")

	// A ship date long after label creation: label + 44 days wins.
	f = base
	f.LabelCreatedAt, f.ShipDate = labelAt, labelAt.Add(20*day)
	checkDue(t, "label", f, labelAt.Add(44*day), "label created + 44 days")

	// The crossing point: ship date exactly 14 days after the label makes
	// both rules meet; one second either side decides which rule applies.
	f.ShipDate = labelAt.Add(14*day - time.Second)
	checkDue(t, "ship date 1s before crossing", f, f.ShipDate.Add(30*day), "ship date + 30 days")
	f.ShipDate = labelAt.Add(14*day + time.Second)
	checkDue(t, "ship date 1s after crossing", f, labelAt.Add(44*day), "label created + 44 days")
	f.ShipDate = labelAt.Add(14 * day)
	if d, _ := Due(f); !d.Equal(labelAt.Add(44 * day)) {
		t.Errorf("tie: due %s, want %s", d, labelAt.Add(44*day))
	}

	// Only one time known.
	f = base
	f.DeliveredAt = shipDay
	checkDue(t, "delivery only", f, shipDay.Add(30*day), "delivered + 30 days")
	f = base
	f.LabelCreatedAt = labelAt
	checkDue(t, "label only", f, labelAt.Add(44*day), "label created + 44 days")
	f = base
	f.ShipDate = shipDay
	checkDue(t, "ship date only", f, shipDay.Add(30*day), "ship date + 30 days")
}

func TestDueUntracked(t *testing.T) {
	f := Facts{ImportedAt: imported, Shipped: true, ShipmentCreatedAt: labelAt, LabelCreatedAt: labelAt,
		ShipDate: shipDay, DeliveredAt: shipDay.Add(day)}
	// Delivery and ship date do not count without automatic tracking.
	checkDue(t, "untracked", f, labelAt.Add(30*day), "untracked: shipment created + 30 days")
	f.ShipmentCreatedAt = time.Time{}
	checkDue(t, "untracked, label time", f, labelAt.Add(30*day), "untracked: label created + 30 days")
	f.LabelCreatedAt = time.Time{}
	checkDue(t, "untracked, ship date", f, shipDay.Add(30*day), "untracked: ship date + 30 days")
}

func TestDueShippedWithoutTimes(t *testing.T) {
	for _, tracked := range []bool{true, false} {
		f := Facts{ImportedAt: imported, Shipped: true, TrackingCapable: tracked}
		checkDue(t, "shipped outside the hub", f, imported.Add(14*day), "no shipment time known: imported + 14 days")
	}
	if d, why := Due(Facts{Shipped: true}); !d.IsZero() || !strings.Contains(why, "at once") {
		t.Errorf("nothing known: %v %q", d, why)
	}
	if d, why := Due(Facts{}); !d.IsZero() || !strings.Contains(why, "at once") {
		t.Errorf("nothing known: %v %q", d, why)
	}
}

func TestOverdue(t *testing.T) {
	due := imported
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{due.Add(-time.Second), false},
		{due, false},
		{due.Add(SweepInterval - time.Second), false},
		{due.Add(SweepInterval), false},
		{due.Add(SweepInterval + time.Second), true},
	} {
		if got := Overdue(due, c.at); got != c.want {
			t.Errorf("Overdue(due, due%+v) = %v", c.at.Sub(due), got)
		}
	}
}

func amazonOrder(status order.Status) order.Order {
	return order.Order{ID: "amazon:us:113-1", Channel: order.Amazon, StoreID: "us", ChannelOrderID: "113-1", Status: status}
}

func TestFactsOf(t *testing.T) {
	m := carrier.Default()
	tracked := shipment.Shipment{ID: "2", Account: "a", CarrierCode: "ups", ServiceCode: "ups_ground",
		TrackingNumber: "1Z", CreatedAt: labelAt, ShipDate: shipDay}
	untracked := shipment.Shipment{ID: "3", Account: "a", CarrierCode: "stamps_com", ServiceCode: "usps_first_class_mail",
		TrackingNumber: "94", CreatedAt: labelAt.Add(time.Hour), ShipDate: shipDay.Add(day)}
	voided := shipment.Shipment{ID: "1", Account: "a", CarrierCode: "stamps_com", ServiceCode: "usps_first_class_mail",
		CreatedAt: labelAt.Add(-time.Hour), ShipDate: shipDay, Voided: true}

	// No label: not shipped.
	f := FactsOf(amazonOrder(order.AwaitingShipment), imported, nil, m.TrackingCapable)
	if f != (Facts{ImportedAt: imported}) {
		t.Errorf("no label: %+v", f)
	}
	// Only a voided label: still not shipped.
	if f := FactsOf(amazonOrder(order.AwaitingShipment), imported, []shipment.Shipment{voided}, m.TrackingCapable); f.Shipped {
		t.Errorf("voided label counted: %+v", f)
	}
	// The earliest live label decides; the earlier voided one does not.
	f = FactsOf(amazonOrder(order.Shipped), imported, []shipment.Shipment{untracked, voided, tracked}, m.TrackingCapable)
	want := Facts{ImportedAt: imported, Shipped: true, ShipDate: shipDay, LabelCreatedAt: labelAt, ShipmentCreatedAt: labelAt, TrackingCapable: true}
	if f != want {
		t.Errorf("facts %+v, want %+v", f, want)
	}
	if d, _ := Due(f); !d.Equal(shipDay.Add(30 * day)) {
		t.Errorf("due %s", d)
	}
	// An untracked service (data of the carrier map).
	f = FactsOf(amazonOrder(order.Shipped), imported, []shipment.Shipment{untracked}, m.TrackingCapable)
	if f.TrackingCapable || !f.Shipped || !f.ShipmentCreatedAt.Equal(untracked.CreatedAt) {
		t.Errorf("untracked facts %+v", f)
	}
	if d, _ := Due(f); !d.Equal(untracked.CreatedAt.Add(30 * day)) {
		t.Errorf("untracked due %s", d)
	}
	// A label without a creation time sorts by ship date, after a label
	// whose creation time is known only when that is earlier.
	noCreate := tracked
	noCreate.ID, noCreate.CreatedAt, noCreate.ShipDate = "4", time.Time{}, labelAt.Add(-2*time.Hour)
	f = FactsOf(amazonOrder(order.Shipped), imported, []shipment.Shipment{tracked, noCreate}, m.TrackingCapable)
	if !f.ShipDate.Equal(noCreate.ShipDate) || !f.LabelCreatedAt.IsZero() {
		t.Errorf("ship-date ordering: %+v", f)
	}
	// Shipped by status without a label (outside the hub); nil tracking.
	f = FactsOf(amazonOrder(order.Shipped), imported, nil, nil)
	if !f.Shipped || f.TrackingCapable {
		t.Errorf("status shipped: %+v", f)
	}
	if _, why := Due(f); !strings.Contains(why, "no shipment time known") {
		t.Errorf("status shipped reason %q", why)
	}
	// An unknown carrier is not known to track.
	odd := tracked
	odd.CarrierCode = "acme_freight"
	if f := FactsOf(amazonOrder(order.Shipped), imported, []shipment.Shipment{odd}, m.TrackingCapable); f.TrackingCapable {
		t.Errorf("unknown carrier tracks: %+v", f)
	}
}

func TestApplies(t *testing.T) {
	for _, c := range []struct {
		o    order.Order
		want bool
	}{
		{order.Order{Channel: order.Amazon}, true},
		{order.Order{Channel: order.Amazon, FulfilledByChannel: true}, true},
		{order.Order{Channel: order.BigCommerce, Origin: &order.Origin{Marketplace: order.Amazon, OrderID: "113-1"}}, true},
		{order.Order{Channel: order.BigCommerce, Origin: &order.Origin{Marketplace: order.EBay, OrderID: "12-1"}}, false},
		{order.Order{Channel: order.BigCommerce}, false},
		{order.Order{Channel: order.EBay}, false},
	} {
		if got := Applies(c.o); got != c.want {
			t.Errorf("Applies(%s, origin %v) = %v", c.o.Channel, c.o.Origin, got)
		}
	}
}
