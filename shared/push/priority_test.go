package push_test

import (
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

// TestPriorityOrdersGoFirst: the orders a rule marked priority lead their
// account's createorders call (ShipStation numbers a call's orders in the
// order sent), and a rule's hold and warehouse reach ShipStation.
func TestPriorityOrdersGoFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b, c, d := newOrder("701", t0), newOrder("702", t0), newOrder("703", t0), newOrder("704", t0)
	b.Priority, d.Priority = true, true
	end := time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC)
	c.Status, c.HoldUntil, c.WarehouseID = order.OnHold, &end, 40113
	e.pushOK(a, b, c, d)
	if n := e.createCalls(); n != 1 {
		t.Fatalf("createorders called %d times, want 1", n)
	}
	ssID := func(o order.Order) int64 {
		ss, ok := e.sb.ShipStationOrder(shipstation.OrderKey(&o, ""))
		if !ok {
			t.Fatalf("%s not in ShipStation", o.ID)
		}
		return ss.OrderID
	}
	for _, p := range []order.Order{b, d} {
		for _, o := range []order.Order{a, c} {
			if ssID(p) > ssID(o) {
				t.Errorf("priority order %s (ShipStation id %d) sent after %s (%d)", p.ID, ssID(p), o.ID, ssID(o))
			}
		}
	}
	// The hold is placed with POST /orders/holduntil after createorders.
	ss, _ := e.sb.ShipStationOrder(shipstation.OrderKey(&c, ""))
	if ss.OrderStatus != "on_hold" || ss.HoldUntilDate == nil {
		t.Fatalf("held order: status %q holdUntilDate %v", ss.OrderStatus, ss.HoldUntilDate)
	}
	if got, err := shipstation.ParseTime(*ss.HoldUntilDate); err != nil || got.In(shipstation.Pacific()).Format(time.DateOnly) != "2026-11-22" {
		t.Errorf("holdUntilDate %q (%v), want 2026-11-22", *ss.HoldUntilDate, err)
	}
	if n := e.sb.Stats().ShipStation.RequestsByRoute[holdUntil]; n != 1 {
		t.Errorf("holduntil called %d times, want 1 (the held order only)", n)
	}
	if ss.AdvancedOptions == nil || ss.AdvancedOptions.WarehouseID == nil || *ss.AdvancedOptions.WarehouseID != 40113 {
		t.Errorf("advanced options %+v", ss.AdvancedOptions)
	}
	for _, o := range []order.Order{a, b, c, d} {
		e.assertPushed(o)
	}
}
