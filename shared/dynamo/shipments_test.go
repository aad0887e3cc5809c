package dynamo_test

import (
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

func TestRecordShipmentIdempotentAndVoidIsFinal(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	sh := shipment.Shipment{ID: "98765432", Account: "main", OrderKey: "bigcommerce:s1:1", TrackingNumber: "9400111", CarrierCode: "stamps_com",
		ShipDate: t0, CreatedAt: t0, Lines: []shipment.Line{{LineID: "100", Quantity: 2}}}
	prev, err := l.RecordShipment(c, sh, t0)
	if err != nil || prev != nil {
		t.Fatalf("first record: %v %v", prev, err)
	}
	prev, err = l.RecordShipment(c, sh, t0.Add(time.Minute))
	if err != nil || prev == nil || prev.Voided {
		t.Fatalf("replay: %+v %v", prev, err)
	}
	void := sh
	void.Voided, void.VoidedAt = true, t0.Add(time.Hour)
	if prev, err = l.RecordShipment(c, void, t0.Add(time.Hour)); err != nil || prev.Voided {
		t.Fatalf("void: prev %+v %v", prev, err)
	}
	// A stale read of the label (not voided) must not undo the void.
	if prev, err = l.RecordShipment(c, sh, t0.Add(2*time.Hour)); err != nil || !prev.Voided {
		t.Fatalf("stale unvoid: prev %+v %v", prev, err)
	}
	if prev, err = l.RecordShipment(c, sh, t0.Add(3*time.Hour)); err != nil || !prev.Voided {
		t.Fatalf("void was undone: %+v %v", prev, err)
	}
	if _, err := l.RecordShipment(c, shipment.Shipment{ID: "1"}, t0); !errs.Is(err, errs.Invalid) {
		t.Fatalf("invalid label accepted: %v", err)
	}
}

func TestOrderKeyResolvesAfterPush(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "ok1", t0, "5", "6")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.ResolveOrderKey(c, "main", string(o.ID)+"/6"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unpushed key resolved: %v", err)
	}
	p := ledger.Push{Group: "6", OrderKey: string(o.ID) + "/6", ShipStationOrderID: 9, Account: "main", Version: o.ModifiedAt, Status: o.Status}
	if err := l.MarkPushed(c, o.ID, p, t0); err != nil {
		t.Fatal(err)
	}
	id, group, err := l.ResolveOrderKey(c, "main", string(o.ID)+"/6")
	if err != nil || id != o.ID || group != "6" {
		t.Fatalf("resolve: %q %q %v", id, group, err)
	}
	if _, _, err := l.ResolveOrderKey(c, "other", string(o.ID)+"/6"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("key resolved for another account: %v", err)
	}
}

func TestNotificationPlannedOnceAndConfirmedForGood(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "n1", t0, "")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	n := shipment.Notification{
		ID: shipment.NotificationID("main:1", o.ID, ""), ShipmentKey: "main:1", OrderID: o.ID,
		Channel: order.BigCommerce, StoreID: "s1", Lines: []shipment.Line{{LineID: "100", Quantity: 2}},
		TrackingNumber: "9400", CarrierCode: "stamps_com", State: shipment.Planned, PlannedAt: t0,
	}
	for i := 0; i < 3; i++ {
		created, err := l.PlanNotification(c, n)
		if err != nil || created != (i == 0) {
			t.Fatalf("plan %d: created %v err %v", i, created, err)
		}
	}
	got, err := l.Notifications(c, o.ID)
	if err != nil || len(got) != 1 || got[0].State != shipment.Planned || got[0].Lines[0].Quantity != 2 {
		t.Fatalf("notifications: %+v %v", got, err)
	}
	done, err := l.SettleNotification(c, o.ID, n.ID, shipment.Confirmed, "bc-77", "", t0.Add(time.Minute))
	if err != nil || done.State != shipment.Confirmed || done.ChannelRef != "bc-77" {
		t.Fatalf("confirm: %+v %v", done, err)
	}
	// A late failure report cannot undo a confirmation.
	after, err := l.SettleNotification(c, o.ID, n.ID, shipment.Failed, "", "late 500", t0.Add(2*time.Minute))
	if err != nil || after.State != shipment.Confirmed || after.ChannelRef != "bc-77" {
		t.Fatalf("settle after confirm: %+v %v", after, err)
	}
	if _, err := l.SettleNotification(c, o.ID, "nope", shipment.Confirmed, "", "", t0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown notification: %v", err)
	}
	hist, err := l.History(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[order.EventKind]int{}
	for _, ev := range hist {
		kinds[ev.Kind]++
	}
	if kinds[order.EventShipped] != 1 || kinds[order.EventConfirmed] != 1 {
		t.Fatalf("history: %+v", kinds)
	}
}

func TestPauseStoreOnceAndResume(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	if st, err := l.StoreStatus(c, "bc1"); err != nil || st.Paused {
		t.Fatalf("fresh store: %+v %v", st, err)
	}
	first, err := l.PauseStore(c, "bc1", "re-authorisation required", t0)
	if err != nil || !first {
		t.Fatalf("first pause: %v %v", first, err)
	}
	again, err := l.PauseStore(c, "bc1", "again", t0.Add(time.Minute))
	if err != nil || again {
		t.Fatalf("second pause reported as first: %v %v", again, err)
	}
	st, err := l.StoreStatus(c, "bc1")
	if err != nil || !st.Paused || st.Reason != "re-authorisation required" || !st.PausedAt.Equal(t0) {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := l.ResumeStore(c, "bc1"); err != nil {
		t.Fatal(err)
	}
	if st, _ := l.StoreStatus(c, "bc1"); st.Paused {
		t.Fatal("still paused after resume")
	}
	if first, _ := l.PauseStore(c, "bc1", "again", t0); !first {
		t.Fatal("pause after resume not reported as first")
	}
}
