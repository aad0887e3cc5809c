package relay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

// bcCopy writes to the ledger the BigCommerce copy of Amazon order m: same
// SKUs and quantities, BigCommerce's own line ids.
func (e *env) bcCopy(m order.Order, num string) order.Order {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	id, _ := order.NewID(order.BigCommerce, storeID, num)
	c := order.Order{
		ID: id, Channel: order.BigCommerce, StoreID: storeID, ChannelOrderID: num, OrderNumber: num,
		Origin: &order.Origin{Marketplace: order.Amazon, OrderID: m.ChannelOrderID},
		Status: order.AwaitingShipment, OrderDate: now, ModifiedAt: now, Currency: "USD",
		Total: "30.00", AmountPaid: "30.00", TaxAmount: "0", ShippingPaid: "0",
		Items: []order.Item{
			{LineID: "77", SKU: "mug", Name: "Mug", Quantity: 2, UnitPrice: "10.00"},
			{LineID: "78", SKU: "CAP", Name: "Cap", Quantity: 1, UnitPrice: "10.00"},
		},
		ShipGroups: []order.ShipGroup{{Key: "", ChannelRef: "9", ShipTo: order.Address{City: "Seattle", State: "WA", PostalCode: "98101", Country: "US"}}},
		BillTo:     order.Address{City: "Seattle", State: "WA", PostalCode: "98101", Country: "US"},
	}
	if _, _, err := e.ledger.Upsert(ctx(e.t), c, ledger.StateSkipped, now, now); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) link(key string, ms ...dedupe.Member) {
	e.t.Helper()
	for _, m := range ms {
		if _, _, err := e.ledger.UpdateIdentity(ctx(e.t), key, func(x *dedupe.Identity) bool { return x.Observe(m) }); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) setCopies(c config.BigCommerceCopies) {
	e.svc.Config.Store(storeID).BigCommerce.Copies = &c
}

func one(t *testing.T, ns []shipment.Notification) shipment.Notification {
	t.Helper()
	if len(ns) != 1 {
		t.Fatalf("%d notifications, want 1: %+v", len(ns), ns)
	}
	return ns[0]
}

// Shipping the marketplace's order confirms it on Amazon and its hidden
// BigCommerce copy on BigCommerce, the label's lines mapped by SKU.
func TestLinkedNotificationConfirmsMarketplaceAndCopy(t *testing.T) {
	e := newAmazonEnv(t)
	m, key := e.amazonPushed("amz-first")
	c := e.bcCopy(m, "5001")
	e.link("amazon:"+m.ChannelOrderID, dedupe.Member{ID: m.ID, Version: m.ModifiedAt}, dedupe.Member{ID: c.ID, Copy: true, Version: c.ModifiedAt})
	e.ship(key)
	e.window()
	if n := one(t, e.notes(m.ID)); n.State != shipment.Planned || n.Channel != order.Amazon {
		t.Fatalf("marketplace: %+v", n)
	}
	n := one(t, e.notes(c.ID))
	if n.State != shipment.Planned || n.Channel != order.BigCommerce || len(n.Lines) != 2 {
		t.Fatalf("copy: %+v", n)
	}
	got := map[string]int{}
	for _, l := range n.Lines {
		got[l.LineID] = l.Quantity
	}
	if got["77"] != 2 || got["78"] != 1 {
		t.Fatalf("copy lines %v, want 77:2 78:1", got)
	}
	if q := e.drain(); len(q) != 2 {
		t.Fatalf("%d notify messages, want 2", len(q))
	}
	// The same label again plans nothing new.
	e.window()
	if len(e.notes(m.ID)) != 1 || len(e.notes(c.ID)) != 1 {
		t.Fatal("a replayed label planned again")
	}
}

// copies.notify: false leaves the copy to BigCommerce; channelRelays: true
// (the loop guard) leaves the marketplace to BigCommerce.
func TestLinkedNotificationSettings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		copies     config.BigCommerceCopies
		mkt, cp    shipment.State
		skipReason string
	}{
		{"notify off", config.BigCommerceCopies{Notify: new(false)}, shipment.Planned, shipment.Skipped, "copies.notify"},
		{"loop guard", config.BigCommerceCopies{ChannelRelays: new(true)}, shipment.Skipped, shipment.Planned, "loop guard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAmazonEnv(t)
			e.setCopies(tc.copies)
			m, key := e.amazonPushed("amz-first")
			c := e.bcCopy(m, "5002")
			e.link("amazon:"+m.ChannelOrderID, dedupe.Member{ID: m.ID, Version: m.ModifiedAt}, dedupe.Member{ID: c.ID, Copy: true, Version: c.ModifiedAt})
			e.ship(key)
			e.window()
			mn, cn := one(t, e.notes(m.ID)), one(t, e.notes(c.ID))
			if mn.State != tc.mkt || cn.State != tc.cp {
				t.Fatalf("marketplace %s, copy %s", mn.State, cn.State)
			}
			if !strings.Contains(mn.Reason+cn.Reason, tc.skipReason) {
				t.Fatalf("reasons %q %q", mn.Reason, cn.Reason)
			}
		})
	}
}

// Copy first, shipped, marketplace later: the copy stays the primary, and
// its label reaches the marketplace's order when that joins (the replay).
func TestShippedCopyIsRelayedToTheMarketplaceThatJoinsLater(t *testing.T) {
	e := newAmazonEnv(t)
	m, _ := e.amazonPushed("amz-first") // only to have it in the ledger
	c := e.bcCopy(m, "5003")
	key := "amazon:" + m.ChannelOrderID
	e.link(key, dedupe.Member{ID: c.ID, Copy: true, Version: c.ModifiedAt})
	so, err := shipstation.FromOrder(&c, "", shipstation.Target{StoreID: ssStoreID, Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.ss.CreateOrders(ctx(t), []shipstation.Order{so})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("createorders: %v", err)
	}
	now := time.Now().UTC()
	if err := e.ledger.MarkPushed(ctx(t), c.ID, ledger.Push{OrderKey: so.OrderKey, ShipStationOrderID: res.Results[0].OrderID, Account: account, Version: c.ModifiedAt, Status: c.Status, At: now}, now); err != nil {
		t.Fatal(err)
	}
	e.ship(so.OrderKey)
	e.window()
	if n := one(t, e.notes(c.ID)); n.State != shipment.Planned {
		t.Fatalf("method A copy: %+v", n)
	}
	if len(e.notes(m.ID)) != 0 {
		t.Fatal("the marketplace order was told before it joined")
	}
	e.link(key, dedupe.Member{ID: m.ID, Version: m.ModifiedAt})
	x, err := e.ledger.Identity(ctx(t), key)
	if err != nil || x.Primary != c.ID {
		t.Fatalf("the shipped copy must stay the primary: %q %v", x.Primary, err)
	}
	if err := e.svc.Process(ctx(t), queue.Shipments{Identity: key}); err != nil {
		t.Fatal(err)
	}
	n := one(t, e.notes(m.ID))
	if n.State != shipment.Planned || n.Channel != order.Amazon || len(n.Lines) != 2 {
		t.Fatalf("marketplace after the replay: %+v", n)
	}
	if len(e.notes(c.ID)) != 1 {
		t.Fatal("the replay planned the copy again")
	}
}

// A label that beats the push's ledger write (ShipStation answered, the
// warehouse labelled at once, the push has not recorded the orderKey
// yet) is resolved from its orderKey, the order's ledger id: it is not
// dropped until the next pull.
func TestLabelBeforeThePushIsRecordedIsRelayed(t *testing.T) {
	e := newAmazonEnv(t)
	m, _ := e.amazonPushed("amz-first")
	c := e.bcCopy(m, "5004")
	so, err := shipstation.FromOrder(&c, "", shipstation.Target{StoreID: ssStoreID, Source: "bigcommerce"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ss.CreateOrders(ctx(t), []shipstation.Order{so}); err != nil {
		t.Fatal(err)
	}
	e.ship(so.OrderKey) // no MarkPushed: the index has no entry yet
	e.window()
	if n := one(t, e.notes(c.ID)); n.State != shipment.Planned {
		t.Fatalf("notification %+v", n)
	}
	// A key that merely looks like an order id of another account is not ours.
	other := shipment.Shipment{ID: "1", Account: "elsewhere", OrderKey: string(c.ID), TrackingNumber: "1Z", Lines: nil}
	if err := e.svc.Label(ctx(t), other); err != nil {
		t.Fatal(err)
	}
	if len(e.notes(c.ID)) != 1 {
		t.Fatal("a label of another account was relayed")
	}
}
