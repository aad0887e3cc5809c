package sweep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/redaction"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/sqs"
	"github.com/shiprelay/shiprelay/shared/sweep"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func amazonOrder(n int) order.Order {
	num := fmt.Sprintf("113-0000000-%07d", n)
	id, _ := order.NewID(order.Amazon, "amz-us", num)
	return order.Order{
		ID: id, Channel: order.Amazon, StoreID: "amz-us", ChannelOrderID: num, OrderNumber: num,
		Status: order.AwaitingShipment, OrderDate: t0, ModifiedAt: t0, Currency: "USD",
		Total: "10", AmountPaid: "10", TaxAmount: "0", ShippingPaid: "0",
		Items:      []order.Item{{LineID: "1", SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: "10"}},
		ShipGroups: []order.ShipGroup{{Key: "", ShipTo: order.Address{City: "Seattle", Country: "US"}}},
		Personal: &order.Personal{
			Email:  "buyer" + fmt.Sprint(n) + "@example.com",
			ShipTo: map[string]order.Contact{"": {Name: "Ada Buyer", Street1: "1 Secret St", Phone: "555-0100"}},
		},
	}
}

func TestSweepRedactsDueOrdersAndResendsOpenShipStationCopies(t *testing.T) {
	client, table := testenv.DynamoDB(t)
	led := dynamo.New(client, table)
	push := &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "push", nil)}
	c := context.Background()

	// a: due, never pushed. b: due, pushed, still open. c: due, pushed and
	// labelled (shipped in ShipStation). d: not yet due.
	orders := map[string]order.Order{"a": amazonOrder(1), "b": amazonOrder(2), "c": amazonOrder(3), "d": amazonOrder(4)}
	for k, o := range orders {
		if _, _, err := led.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
			t.Fatal(err)
		}
		due := t0.Add(redaction.NotShippedAfter)
		if k == "d" {
			due = due.Add(48 * time.Hour)
		}
		if err := led.SetRedactionDue(c, o.ID, due, redaction.Grace); err != nil {
			t.Fatal(err)
		}
		if k == "b" || k == "c" {
			p := ledger.Push{Group: "", OrderKey: "key-" + k, ShipStationOrderID: 7, Account: "main", Version: o.ModifiedAt, Status: o.Status, At: t0}
			if err := led.MarkPushed(c, o.ID, p, t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	label := shipment.Shipment{ID: "9001", Account: "main", OrderKey: "key-c", TrackingNumber: "1Z1", CarrierCode: "ups", ShipDate: t0, CreatedAt: t0,
		Lines: []shipment.Line{{LineID: "1", Quantity: 1}}}
	if _, err := led.RecordShipment(c, label, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := led.PlanNotification(c, shipment.Notification{ID: shipment.NotificationID(label.Key(), orders["c"].ID, ""), ShipmentKey: label.Key(),
		OrderID: orders["c"].ID, Channel: order.Amazon, StoreID: "amz-us", Lines: label.Lines, TrackingNumber: "1Z1", State: shipment.Planned, PlannedAt: t0}); err != nil {
		t.Fatal(err)
	}

	logs := &bytes.Buffer{}
	now := t0.Add(redaction.NotShippedAfter + 30*time.Minute)
	led.Now = func() time.Time { return now } // the buyer data's time to live is read on this clock
	s := &sweep.Redactions{Ledger: led, Push: push, Log: obs.NewLogger(logs, "DEBUG"), Metrics: obs.NewMetrics(&bytes.Buffer{}, "shiprelay"), Now: func() time.Time { return now }}
	res, err := s.Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Due != 3 || res.Redacted != 3 || res.Overdue != 0 || res.Resent != 1 || res.ShipStationShipped != 1 || res.Failed != 0 {
		t.Fatalf("sweep result %+v", res)
	}
	for k, o := range orders {
		rec, err := led.Get(c, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		name := rec.Order.Personal.ShipTo[""].Name
		switch k {
		case "d":
			if !rec.RedactedAt.IsZero() || name != "Ada Buyer" {
				t.Errorf("order %s redacted before its due time", k)
			}
		default:
			if rec.RedactedAt.IsZero() || name != redaction.Redacted || rec.Order.Personal.ShipTo[""].Street1 != redaction.Redacted {
				t.Errorf("order %s not redacted: %+v", k, rec.Order.Personal)
			}
		}
	}
	msgs, err := push.Receive(c, 10, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d push messages, want 1 (the open copy)", len(msgs))
	}
	var p queue.Push
	if err := json.Unmarshal([]byte(msgs[0].Body), &p); err != nil || p.OrderID != orders["b"].ID || !p.Redacted {
		t.Fatalf("push message %+v (%v)", p, err)
	}
	// A second sweep finds nothing due.
	if res, err := s.Run(c); err != nil || res.Due != 0 {
		t.Fatalf("second sweep %+v, %v", res, err)
	}
	if strings.Contains(logs.String(), "Ada Buyer") || strings.Contains(logs.String(), "Secret St") {
		t.Error("buyer data in the logs")
	}
}

func TestSweepCountsLateRedactionsAsOverdue(t *testing.T) {
	client, table := testenv.DynamoDB(t)
	led := dynamo.New(client, table)
	c := context.Background()
	o := amazonOrder(9)
	if _, _, err := led.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(redaction.NotShippedAfter)
	if err := led.SetRedactionDue(c, o.ID, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{due.Add(-time.Second), 0}, {due.Add(3 * time.Hour), 1}} {
		now := tc.at
		s := &sweep.Redactions{Ledger: led, Log: obs.NewLogger(&bytes.Buffer{}, "ERROR"), Metrics: obs.NewMetrics(&bytes.Buffer{}, "x"), Now: func() time.Time { return now }}
		res, err := s.Run(c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Redacted != tc.want || res.Overdue != tc.want {
			t.Errorf("at due%+v: %+v", tc.at.Sub(due), res)
		}
	}
}
