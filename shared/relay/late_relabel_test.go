package relay_test

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// A label voided and re-labelled long after it was created: the pull finds
// the void by void date, and the re-label replaces the confirmed tracking.
func TestLateVoidIsFoundByThePull(t *testing.T) {
	clk := &clock{t: time.Now().Add(-3 * time.Hour)}
	e := newEnvWith(t, sandbox.Options{Now: clk.now})
	shipQ := &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "shipments", nil)}
	p := &poll.Service{Config: e.svc.Config, Watermarks: e.ledger, Shipments: shipQ, Log: obs.NewLogger(&bytes.Buffer{}, "DEBUG"), Metrics: obs.NewMetrics(&bytes.Buffer{}, "x"), Now: clk.now}
	pull := func() {
		if err := p.Run(ctx(t)); err != nil {
			t.Fatal(err)
		}
		msgs, err := shipQ.Receive(ctx(t), 10, 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var s queue.Shipments
			_ = json.Unmarshal([]byte(m.Body), &s)
			if err := e.svc.Process(ctx(t), s); err != nil {
				t.Fatal(err)
			}
			_ = shipQ.Delete(ctx(t), m.ReceiptHandle)
		}
	}
	o, key := e.pushed(mugs(1), nil)
	old := e.ship(key)
	e.resource(old.BatchID)
	ns := e.notes(o.ID)
	e.confirm(ns[0], "4711")
	clk.add(time.Minute)
	pull() // first pull
	clk.add(20 * time.Minute)
	pull() // a routine pull, long after the label
	clk.add(time.Hour)
	fresh, err := e.sb.Relabel(old.ShipmentID)
	if err != nil {
		t.Fatal(err)
	}
	e.resource(fresh.BatchID)
	clk.add(6 * time.Minute)
	pull()
	clk.add(6 * time.Minute)
	pull()
	for _, n := range e.notes(o.ID) {
		if n.State == shipment.Planned && n.Replaces == "4711" {
			return
		}
	}
	lbl, _ := e.ledger.Label(ctx(t), labelKey(old))
	t.Fatalf("no replacement planned; old label voided in ledger: %v", lbl.Voided)
}
