package relay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

const amazonStores = `
  - id: amz-first
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: A3TH9S8BH6GOGM, marketplaceId: ATVPDKIKX0DER}
    shipstation: {account: main, storeId: 3001}
  - id: amz-every
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: A3TH9S8BH6GOGM, marketplaceId: A1VC38T7YXB528, confirm: every-package, oneTrackingPerOrder: true}
    shipstation: {account: main, storeId: 3002}
`

// newAmazonEnv is the relay env with two Amazon stores: first-only (the
// default) and every-package with one tracking number per order.
func newAmazonEnv(t *testing.T) *env {
	e := newEnv(t)
	cfg, err := config.Parse([]byte(strings.NewReplacer("SSURL", e.ssURL, "BCURL", "http://127.0.0.1:1").Replace(cfgYAML) + amazonStores))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Config = cfg
	e.svc.Notify[order.Amazon] = e.notify
	return e
}

var amazonSeq int

// amazonPushed writes an Amazon order with two lines (2 + 1 units) to the
// ledger and pushes it to the sandbox ShipStation; it returns the order and
// its orderKey.
func (e *env) amazonPushed(storeID string) (order.Order, string) {
	e.t.Helper()
	c := ctx(e.t)
	amazonSeq++
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := "113-0000000-" + strings.Repeat("0", 6) + string(rune('0'+amazonSeq%10))
	oid, _ := order.NewID(order.Amazon, storeID, id)
	o := order.Order{
		ID: oid, Channel: order.Amazon, StoreID: storeID, ChannelOrderID: id, OrderNumber: id,
		Status: order.AwaitingShipment, OrderDate: now, ModifiedAt: now, Currency: "USD",
		Total: "30.00", AmountPaid: "30.00", TaxAmount: "0", ShippingPaid: "0",
		Items: []order.Item{
			{LineID: "10000000000001", SKU: "MUG", Name: "Mug", Quantity: 2, UnitPrice: "10.00"},
			{LineID: "10000000000002", SKU: "CAP", Name: "Cap", Quantity: 1, UnitPrice: "10.00"},
		},
		ShipGroups: []order.ShipGroup{{Key: "", ShipTo: order.Address{City: "Seattle", State: "WA", PostalCode: "98101", Country: "US"}}},
		BillTo:     order.Address{City: "Seattle", State: "WA", PostalCode: "98101", Country: "US"},
	}
	if _, _, err := e.ledger.Upsert(c, o, ledger.StatePending, now, now); err != nil {
		e.t.Fatal(err)
	}
	so, err := shipstation.FromOrder(&o, "", shipstation.Target{StoreID: 3001, Source: "amazon"})
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.ss.CreateOrders(c, []shipstation.Order{so})
	if err != nil || res.HasErrors || len(res.Results) != 1 {
		e.t.Fatalf("createorders: %v %+v", err, res)
	}
	p := ledger.Push{Group: "", OrderKey: so.OrderKey, ShipStationOrderID: res.Results[0].OrderID, Account: account, Version: o.ModifiedAt, Status: o.Status, At: now}
	if err := e.ledger.MarkPushed(c, o.ID, p, now); err != nil {
		e.t.Fatal(err)
	}
	return o, so.OrderKey
}

// split labels the order in two packages: the mugs, then the cap.
func (e *env) split(orderKey string) []sandbox.SSShipment {
	e.t.Helper()
	labels, err := e.sb.ShipOrder(orderKey, [][]sandbox.ShipLine{
		{{LineItemKey: "10000000000001", Quantity: 2}},
		{{LineItemKey: "10000000000002", Quantity: 1}},
	}, "ups", "")
	if err != nil || len(labels) != 2 {
		e.t.Fatalf("split %s: %v, %d labels", orderKey, err, len(labels))
	}
	return labels
}

func TestAmazonFirstOnlyConfirmsTheFirstPackageAndSkipsTheRest(t *testing.T) {
	e := newAmazonEnv(t)
	o, key := e.amazonPushed("amz-first")
	e.split(key)
	e.window()
	e.window() // a replay plans nothing new
	ns := e.notes(o.ID)
	if len(ns) != 2 {
		t.Fatalf("%d notifications, want 2: %+v", len(ns), ns)
	}
	planned, skipped := 0, 0
	for _, n := range ns {
		switch n.State {
		case shipment.Planned:
			planned++
		case shipment.Skipped:
			skipped++
			if !strings.Contains(n.Reason, "first-only") {
				t.Errorf("skip reason %q", n.Reason)
			}
		}
	}
	if planned != 1 || skipped != 1 {
		t.Fatalf("planned %d, skipped %d; want 1 and 1", planned, skipped)
	}
	if got := e.drain(); len(got) != 1 {
		t.Errorf("%d notify messages, want 1", len(got))
	}
}

func TestAmazonEveryPackageConfirmsEachPackage(t *testing.T) {
	e := newAmazonEnv(t)
	o, key := e.amazonPushed("amz-every")
	e.split(key)
	e.window()
	ns := e.notes(o.ID)
	units := 0
	for _, n := range ns {
		if n.State != shipment.Planned {
			t.Errorf("notification %s is %s (%s)", n.ID, n.State, n.Reason)
		}
		for _, l := range n.Lines {
			units += l.Quantity
		}
	}
	if len(ns) != 2 || units != 3 {
		t.Fatalf("%d notifications carrying %d units; want 2 carrying all 3", len(ns), units)
	}
	if got := e.drain(); len(got) != 2 {
		t.Errorf("%d notify messages, want 2", len(got))
	}
}

func TestAmazonOneTrackingPerOrderConfirmsACombinedLabelOnce(t *testing.T) {
	e := newAmazonEnv(t)
	a, keyA := e.amazonPushed("amz-every")
	b, keyB := e.amazonPushed("amz-every")
	labels, err := e.sb.ShipCombined([]string{keyA, keyB}, "usps", "")
	if err != nil || len(labels) != 2 || labels[0].TrackingNumber != labels[1].TrackingNumber {
		t.Fatalf("combined: %v %+v", err, labels)
	}
	e.window()
	e.window()
	states := map[order.ID]shipment.State{}
	for _, id := range []order.ID{a.ID, b.ID} {
		ns := e.notes(id)
		if len(ns) != 1 {
			t.Fatalf("order %s: %d notifications", id, len(ns))
		}
		states[id] = ns[0].State
	}
	count := map[shipment.State]int{}
	for _, st := range states {
		count[st]++
	}
	if count[shipment.Planned] != 1 || count[shipment.Skipped] != 1 {
		t.Fatalf("states %v: want one order confirmed and the other skipped", states)
	}
	exs := e.exceptions()
	if len(exs) != 1 || !strings.Contains(exs[0].Message, "oneTrackingPerOrder") || !strings.Contains(exs[0].Message, labels[0].TrackingNumber) {
		t.Fatalf("exceptions %+v, want one naming the setting and the tracking number", exs)
	}
}
