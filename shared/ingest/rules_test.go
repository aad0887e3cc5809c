package ingest_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/ingest"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

// dniRules is ShipStation's Do-Not-Import example plus two rules that act
// on the orders it lets through.
const dniRules = `
      - name: Do not import marketplace copies
        when:
          - {field: marketplace, op: equals, value: BigCommerce}
          - {field: source, op: in, values: [eBay, Amazon]}
        then: {doNotImport: true}
      - name: Mugs are fragile
        when: [{field: sku, op: equals, value: MUG-1}]
        then: {tags: [Fragile]}
      - name: Texas warehouse
        when: [{field: shipToState, op: in, values: [TX, Texas]}]
        then: {warehouse: 40113}
`

// withRules puts rules under the main ShipStation account of a config.
func withRules(t *testing.T, cfg, rules string) *config.Config {
	t.Helper()
	const anchor = "    credentialsSecret: shiprelay/shipstation/main\n"
	if !strings.Contains(cfg, anchor) {
		t.Fatal("config has no main account")
	}
	c, err := config.Parse([]byte(strings.Replace(cfg, anchor, anchor+"    rules:\n"+rules, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// originFetcher stands in for marketplace-copy detection: it gives the
// orders it knows an origin.
type originFetcher struct {
	ingest.Fetcher
	origins map[string]*order.Origin // by channel order id
}

func (f originFetcher) Fetch(ctx context.Context, store, id string) (order.Order, order.Disposition, error) {
	o, d, err := f.Fetcher.Fetch(ctx, store, id)
	if err == nil {
		o.Origin = f.origins[id]
	}
	return o, d, err
}

// newRulesEnv is the BigCommerce ingest env with rules on the account and
// an origin for the orders named in the returned map.
func newRulesEnv(t *testing.T, rules string) (*env, map[string]*order.Origin) {
	e := newEnv(t)
	e.svc.Config = withRules(t, strings.ReplaceAll(cfgYAML, "BCURL", "http://127.0.0.1:1"), rules)
	origins := map[string]*order.Origin{}
	e.svc.Fetch[order.BigCommerce] = originFetcher{Fetcher: e.svc.Fetch[order.BigCommerce], origins: origins}
	return e, origins
}

func messages(h []order.Event, kind order.EventKind) []string {
	var out []string
	for _, ev := range h {
		if ev.Kind == kind {
			out = append(out, ev.Message)
		}
	}
	return out
}

func TestRulesKeepMarketplaceCopiesOut(t *testing.T) {
	t.Parallel()
	e, origins := newRulesEnv(t, dniRules)
	c := ctx(t)
	cp := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	origins[strconv.Itoa(cp.ID)] = &order.Origin{Marketplace: order.Amazon, OrderID: "113-4567890-1234567"}
	ebayCopy := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	origins[strconv.Itoa(ebayCopy.ID)] = &order.Origin{Marketplace: order.EBay, OrderID: "12-34567-89012"}
	plain := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	for _, o := range []sandbox.BCOrder{cp, ebayCopy, plain} {
		if err := e.svc.Process(c, msgFor(o)); err != nil {
			t.Fatal(err)
		}
	}

	const skip = `rule "Do not import marketplace copies": do not import`
	for _, o := range []sandbox.BCOrder{cp, ebayCopy} {
		rec, err := e.ledger.Get(c, idOf(o))
		if err != nil || rec.State != ledger.StateSkipped {
			t.Fatalf("marketplace copy %d: state %s, %v; want skipped", o.ID, rec.State, err)
		}
		h := e.history(idOf(o))
		if k := kinds(h); k != "imported,rule,skipped" || h[1].Message != skip || h[2].Message != skip {
			t.Errorf("copy %d: history %+v", o.ID, h)
		}
	}

	rec, err := e.ledger.Get(c, idOf(plain))
	if err != nil || rec.State != ledger.StatePending {
		t.Fatalf("plain order: state %s, %v; want pending", rec.State, err)
	}
	if !slices.Equal(rec.Order.Tags, []string{"Fragile"}) || rec.Order.WarehouseID != 40113 {
		t.Errorf("plain order after rules: tags %q warehouse %d", rec.Order.Tags, rec.Order.WarehouseID)
	}
	h := e.history(idOf(plain))
	want := []string{`rule "Mugs are fragile": tag "Fragile"`, `rule "Texas warehouse": warehouse 40113`}
	if k := kinds(h); k != "imported,rule,rule" || !slices.Equal(messages(h, order.EventRuleDecide), want) {
		t.Errorf("plain order history %+v", h)
	}
	if p := e.pushes(); len(p) != 1 || p[0].OrderID != idOf(plain) {
		t.Errorf("push messages %+v, want only the plain order's", p)
	}

	// A replay changes nothing and writes no history.
	if err := e.svc.Process(c, msgFor(cp)); err != nil {
		t.Fatal(err)
	}
	if k := kinds(e.history(idOf(cp))); k != "imported,rule,skipped" {
		t.Errorf("history after a replay: %s", k)
	}
	if p := e.pushes(); len(p) != 0 {
		t.Errorf("a replay of a skipped copy pushed: %+v", p)
	}

	// A later version that is no copy any more is imported normally.
	delete(origins, strconv.Itoa(cp.ID))
	if _, err := e.sb.SetOrderStatus("", cp.ID, sandbox.StatusAwaitingShipment); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(c, msgFor(cp)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.ledger.Get(c, idOf(cp)); rec.State != ledger.StatePending {
		t.Errorf("later version: state %s, want pending", rec.State)
	}
	if k := kinds(e.history(idOf(cp))); k != "imported,rule,skipped,updated,rule,rule" {
		t.Errorf("later version history: %s", k)
	}
	if p := e.pushes(); len(p) != 1 || p[0].OrderID != idOf(cp) {
		t.Errorf("later version: push messages %+v", p)
	}
	for _, pii := range []string{"Lovelace", "1 Main St", "ada@example.com"} {
		if strings.Contains(e.logs.String(), pii) {
			t.Errorf("buyer PII %q in the logs", pii)
		}
	}
}

func TestDoNotImportDoesNotTakeBackAnOrderInShipStation(t *testing.T) {
	t.Parallel()
	e, origins := newRulesEnv(t, dniRules)
	c := ctx(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	if err := e.svc.Process(c, msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.ledger.Get(c, idOf(o))
	if err := e.ledger.MarkPushed(c, idOf(o), ledger.Push{OrderKey: string(idOf(o)), ShipStationOrderID: 1, Account: "main",
		Version: rec.Order.ModifiedAt, Status: rec.Order.Status}, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.pushes()

	// The order turns out to be a copy, and is then cancelled: the
	// cancellation must still reach ShipStation's order.
	origins[strconv.Itoa(o.ID)] = &order.Origin{Marketplace: order.Amazon, OrderID: "113-4567890-1234567"}
	if _, err := e.sb.SetOrderStatus("", o.ID, sandbox.StatusCancelled); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(c, msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, _ = e.ledger.Get(c, idOf(o))
	if rec.State != ledger.StatePending || rec.Order.Status != order.Cancelled {
		t.Errorf("state %s status %s, want the cancellation pending", rec.State, rec.Order.Status)
	}
	h := e.history(idOf(o))
	if msgs := messages(h, order.EventRuleDecide); len(msgs) != 5 ||
		msgs[2] != `rule "Do not import marketplace copies": do not import ignored: the order is in ShipStation already` {
		t.Errorf("history %+v", h)
	}
	if p := e.pushes(); len(p) != 1 {
		t.Errorf("%d push messages, want the cancellation", len(p))
	}
}

func TestRuleHoldIsTimedAndEnds(t *testing.T) {
	t.Parallel()
	e, _ := newRulesEnv(t, `
      - name: Cancellation window
        then: {hold: {for: 2h}}
`)
	c := ctx(t)
	o := e.bcOrder(sandbox.StatusAwaitingFulfillment, mug)
	now := o.DateCreated.Add(10 * time.Minute)
	e.svc.Now = func() time.Time { return now }
	if err := e.svc.Process(c, msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, err := e.ledger.Get(c, idOf(o))
	if err != nil {
		t.Fatal(err)
	}
	end := rec.Order.OrderDate.Add(2 * time.Hour)
	if rec.State != ledger.StatePending || rec.Order.Status != order.OnHold || rec.Order.HoldUntil == nil || !rec.Order.HoldUntil.Equal(end) {
		t.Fatalf("held order: state %s status %s until %v; want pending, on_hold until %v", rec.State, rec.Order.Status, rec.Order.HoldUntil, end)
	}
	h := e.history(idOf(o))
	if k := kinds(h); k != "imported,rule" || h[1].Message != `rule "Cancellation window": hold until `+end.Format(time.RFC3339) {
		t.Errorf("history %+v", h)
	}
	if p := e.pushes(); len(p) != 1 {
		t.Errorf("%d push messages, want the held order pushed (on hold)", len(p))
	}

	// A replay within the window changes nothing.
	if err := e.svc.Process(c, msgFor(o)); err != nil {
		t.Fatal(err)
	}
	if k := kinds(e.history(idOf(o))); k != "imported,rule" {
		t.Errorf("history after a replay: %s", k)
	}
	e.pushes()

	// The order's next version, after the window, goes out awaiting shipment.
	now = end.Add(time.Minute)
	if _, err := e.sb.SetOrderStatus("", o.ID, sandbox.StatusAwaitingShipment); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Process(c, msgFor(o)); err != nil {
		t.Fatal(err)
	}
	rec, _ = e.ledger.Get(c, idOf(o))
	if rec.Order.Status != order.AwaitingShipment || rec.Order.HoldUntil != nil || rec.State != ledger.StatePending {
		t.Errorf("after the window: state %s status %s until %v", rec.State, rec.Order.Status, rec.Order.HoldUntil)
	}
	if msgs := messages(e.history(idOf(o)), order.EventRuleDecide); len(msgs) != 2 || !strings.HasSuffix(msgs[1], "ended already") {
		t.Errorf("rule history %q", msgs)
	}
	if p := e.pushes(); len(p) != 1 {
		t.Errorf("%d push messages after the window", len(p))
	}
}

func TestRulesOnAmazonOrders(t *testing.T) {
	e, amz := newAmazonEnv(t)
	e.svc.Config = withRules(t, strings.ReplaceAll(cfgYAML, "BCURL", "http://127.0.0.1:1")+amazonStore, dniRules+`
      - name: Prime first
        when: [{field: prime, op: equals, value: true}]
        then: {priority: true}
`)
	c := ctx(t)
	prime := amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Prime: true})
	plain := amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	for _, o := range []sandbox.AmazonOrder{prime, plain} {
		if err := e.svc.Process(c, amazonMsg(o)); err != nil {
			t.Fatal(err)
		}
	}
	id := func(o sandbox.AmazonOrder) order.ID { return order.ID("amazon:amz-us:" + o.OrderID) }
	rec, err := e.ledger.Get(c, id(prime))
	if err != nil || rec.State != ledger.StatePending {
		t.Fatalf("Prime order: %s, %v; want imported, pending", rec.State, err)
	}
	if !rec.Order.Priority || !slices.Contains(rec.Order.Tags, "Prime") || !slices.Contains(rec.Order.Tags, "Priority") {
		t.Errorf("Prime order: priority %v tags %q", rec.Order.Priority, rec.Order.Tags)
	}
	if msgs := messages(e.history(id(prime)), order.EventRuleDecide); !slices.Contains(msgs, `rule "Prime first": priority (tag "Priority", pushed first)`) {
		t.Errorf("Prime order history %q", msgs)
	}
	rec, err = e.ledger.Get(c, id(plain))
	if err != nil || rec.State != ledger.StatePending || rec.Order.Priority {
		t.Errorf("plain Amazon order: %s priority %v, %v", rec.State, rec.Order.Priority, err)
	}
	if p := e.pushes(); len(p) != 2 {
		t.Errorf("%d push messages, want both Amazon orders", len(p))
	}
}
