package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
)

// piiLeak is one buyer value found in a log line: whose and which line,
// never the value itself.
type piiLeak struct {
	Order string
	Line  int
}

// buyerValue is one sandbox buyer value and the order it belongs to.
type buyerValue struct{ order, value string }

// leaksIn returns every (order, line) where a log line holds one of the
// values, as written or JSON-escaped (a log line is JSON).
func leaksIn(logs string, values []buyerValue) []piiLeak {
	var out []piiLeak
	lines := strings.Split(logs, "\n")
	for _, v := range values {
		forms := []string{v.value}
		if b, err := json.Marshal(v.value); err == nil {
			if esc := strings.Trim(string(b), `"`); esc != v.value {
				forms = append(forms, esc)
			}
		}
		for i, l := range lines {
			for _, f := range forms {
				if strings.Contains(l, f) {
					out = append(out, piiLeak{Order: v.order, Line: i + 1})
				}
			}
		}
	}
	return out
}

// sandboxBuyerValues lists every buyer value the sandbox generated: the
// BigCommerce orders' names, street lines, phones, e-mails, companies and
// messages, and the Amazon orders' PIIValues.
func sandboxBuyerValues(env *Env) []buyerValue {
	var out []buyerValue
	for _, o := range env.Sandbox.Orders(StoreHash) {
		for _, v := range o.PIIValues() {
			out = append(out, buyerValue{order: fmt.Sprintf("bigcommerce %d", o.ID), value: v})
		}
	}
	for _, o := range env.Amazon.Orders() {
		for _, v := range o.PIIValues() {
			out = append(out, buyerValue{order: "amazon " + o.OrderID, value: v})
		}
	}
	return out
}

// TestFullRunLogsNoBuyerData runs the local demo end to end, reduced but
// complete (BigCommerce steady stream and burst with webhooks dropped and
// duplicated, one Amazon round of every kind, the warehouse shipping, the
// redaction sweep on an accelerated clock), with every function's and the
// runner's log captured, and asserts that no buyer name, street line,
// phone, e-mail, company or message the sandbox generated appears in any
// log line.
//
// The clock makes 14 days pass in 30 s and the warehouse waits 35 s, so
// that the Amazon orders still open are redacted, and sent again to
// ShipStation without their buyer data, before they ship.
func TestFullRunLogsNoBuyerData(t *testing.T) {
	needStack(t)
	testenv.SkipIfShort(t, "a full demo run (about a minute and a half)")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	sw := &syncWriter{w: &logs}
	env, err := Up(ctx, EnvOptions{
		HTTPAddr: "127.0.0.1:0", Seed: 7, PollEvery: 10 * time.Second, LogWriter: sw,
		BigCommerceFaults: sandbox.Faults{WebhookDropRate: 0.1, WebhookDuplicateRate: 0.1, Rate5xx: 0.05},
		ShipStationFaults: sandbox.Faults{WebhookDuplicateRate: 0.1},
		Warehouse:         true, WarehouseDelay: 35 * time.Second,
		WarehouseFaults: sandbox.WarehouseFaults{SplitRate: 0.2},
		ClockSpeedUp:    14 * 24 * 3600 / 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	down := sync.OnceFunc(env.Down)
	defer down()
	sum, err := env.Run(ctx, RunOptions{
		SteadyOrders: 12, SteadyRate: 4, BurstOrders: 12, BurstAfter: 2 * time.Second,
		UpdateFraction: 0.2, Timeout: 150 * time.Second, Seed: 7,
		Amazon: AmazonRunOptions{Rounds: 1, Duplicate: 0.2, Reorder: 0.2},
	})
	var out bytes.Buffer
	sum.Print(&out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !sum.Passed() {
		t.Fatalf("the run failed:\n%s", out.String())
	}
	r := sum.Redaction
	if r.Done == 0 || r.Resent == 0 || r.LedgerChecked == 0 {
		t.Fatalf("the run redacted %d orders (%d re-sent to ShipStation, %d checked in the ledger); want some of each:\n%s",
			r.Done, r.Resent, r.LedgerChecked, out.String())
	}
	values := sandboxBuyerValues(env)
	down() // every function stopped: the log is complete
	captured := logs.String()
	// The log is the functions' and holds the orders (by id), and the scan
	// finds a buyer value when a line holds one.
	for _, want := range []string{"ingest: ledger written", "sweep: redactions done", `"function":"RedactFunction"`,
		"bigcommerce:" + StoreID + ":", "amazon:" + AmazonUSStore + ":", "amazon:" + AmazonJPStore + ":"} {
		if !strings.Contains(captured, want) {
			t.Fatalf("the captured log (%d bytes) has no %q: it is not every function's log", len(captured), want)
		}
	}
	if len(values) < 100 || sum.Orders == 0 || sum.Amazon.Orders == 0 {
		t.Fatalf("%d buyer values from %d BigCommerce and %d Amazon orders: the sandbox made too few", len(values), sum.Orders, sum.Amazon.Orders)
	}
	for _, v := range []buyerValue{values[0], values[len(values)-1]} {
		planted := captured + `{"level":"INFO","msg":"planted","name":` + mustJSON(v.value) + "}\n"
		if got := leaksIn(planted, []buyerValue{v}); len(got) == 0 {
			t.Fatalf("the scan misses a buyer value of %s planted in the log", v.order)
		}
	}

	leaks := leaksIn(captured, values)
	for i, l := range leaks {
		if i == 20 {
			t.Errorf("… and %d more", len(leaks)-20)
			break
		}
		t.Errorf("a buyer value of %s is in log line %d", l.Order, l.Line)
	}
	t.Log("\n" + out.String())
	t.Logf("%d log lines scanned for %d buyer values of %d BigCommerce and %d Amazon orders; %d redacted (%d re-sent to ShipStation)",
		strings.Count(captured, "\n"), len(values), sum.Orders, sum.Amazon.Orders, r.Done, r.Resent)
}

func mustJSON(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
