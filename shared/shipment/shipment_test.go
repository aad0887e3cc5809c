package shipment

import (
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

var now = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

func twoLineOrder() order.Order {
	return order.Order{
		ID: "bigcommerce:s:1", Channel: order.BigCommerce, StoreID: "s", ChannelOrderID: "1", OrderNumber: "1",
		Status: order.AwaitingShipment, ModifiedAt: now, ShipGroups: []order.ShipGroup{{Key: ""}},
		Items: []order.Item{
			{LineID: "10", SKU: "MUG", Name: "Mug", Quantity: 3},
			{LineID: "11", SKU: "CAP", Name: "Cap", Quantity: 1},
		},
	}
}

func label(id string, lines ...Line) Shipment {
	return Shipment{ID: id, Account: "main", OrderKey: "bigcommerce:s:1", TrackingNumber: "9400" + id, CarrierCode: "stamps_com", Lines: lines}
}

func TestPlanSplitShipmentCapsByWhatIsLeft(t *testing.T) {
	o := twoLineOrder()
	n1, err := Plan(label("a", Line{LineID: "10", Quantity: 2}), Target{Order: o}, nil, now)
	if err != nil || n1.State != Planned || len(n1.Lines) != 1 || n1.Lines[0].Quantity != 2 {
		t.Fatalf("first package: %+v %v", n1, err)
	}
	if n1.ID != "main:a:bigcommerce:s:1" || n1.TrackingNumber != "9400a" {
		t.Fatalf("identity: %q %q", n1.ID, n1.TrackingNumber)
	}
	// The second package claims 2 more mugs, but only 1 is left.
	n2, err := Plan(label("b", Line{LineID: "10", Quantity: 2}, Line{LineID: "11", Quantity: 1}), Target{Order: o}, map[string]int{"10": 2}, now)
	if err != nil || len(n2.Lines) != 2 || n2.Lines[0] != (Line{LineID: "10", SKU: "MUG", Quantity: 1}) || n2.Lines[1].Quantity != 1 {
		t.Fatalf("second package: %+v %v", n2.Lines, err)
	}
	// A third label for an order already fully shipped plans nothing.
	n3, err := Plan(label("c", Line{LineID: "11", Quantity: 1}), Target{Order: o}, map[string]int{"10": 3, "11": 1}, now)
	if err != nil || n3.State != Skipped || len(n3.Lines) != 0 {
		t.Fatalf("third package: %+v %v", n3, err)
	}
}

func TestPlanReportsUnknownLines(t *testing.T) {
	n, err := Plan(label("a", Line{LineID: "10", Quantity: 1}, Line{LineID: "99", Quantity: 1}), Target{Order: twoLineOrder()}, nil, now)
	if err == nil || !strings.Contains(err.Error(), "99") {
		t.Fatalf("unknown line not reported: %v", err)
	}
	if len(n.Lines) != 1 || n.Lines[0].LineID != "10" {
		t.Fatalf("known lines still planned: %+v", n.Lines)
	}
}

func TestPlanGroupsAndValidate(t *testing.T) {
	o := twoLineOrder()
	o.ShipGroups = []order.ShipGroup{{Key: "5"}, {Key: "6"}}
	o.Items[0].Group, o.Items[1].Group = "5", "6"
	n, err := Plan(label("a", Line{LineID: "11", Quantity: 1}), Target{Order: o, Group: "6"}, nil, now)
	if err != nil || n.ID != "main:a:bigcommerce:s:1:6" || len(n.Lines) != 1 {
		t.Fatalf("group plan: %+v %v", n, err)
	}
	if _, err := Plan(label("a", Line{LineID: "11", Quantity: 1}), Target{Order: o, Group: "5"}, nil, now); err == nil {
		t.Fatal("line of another group accepted")
	}
	bad := Shipment{Lines: []Line{{LineID: "", Quantity: 0}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "empty id") || !strings.Contains(err.Error(), "tracking") {
		t.Fatalf("validate: %v", err)
	}
	if s := label("a", Line{LineID: "10", Quantity: 1}); s.Validate() != nil || s.Key() != "main:a" {
		t.Fatalf("valid label rejected: %v", s.Validate())
	}
}
