package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
)

// AmazonKind is one kind of Amazon order the demo makes.
type AmazonKind string

// The kinds of Amazon orders, in the order the summary lists them.
const (
	// AmazonMFN: merchant-fulfilled, UNSHIPPED from the start (Prime,
	// business, multi-item; Japanese addresses on amazon-jp).
	AmazonMFN AmazonKind = "merchant-fulfilled"
	// AmazonPendingLater: PENDING at first, UNSHIPPED a few seconds later.
	AmazonPendingLater AmazonKind = "pending, then unshipped"
	// AmazonFBA: fulfilled by Amazon (imported as shipped on amazon-us only).
	AmazonFBA AmazonKind = "fulfilled by Amazon"
	// AmazonCancelPending: cancelled while still PENDING.
	AmazonCancelPending AmazonKind = "cancelled while pending"
	// AmazonCancelPushed: cancelled once in ShipStation, before the
	// warehouse ships it.
	AmazonCancelPushed AmazonKind = "cancelled after the push"
	// AmazonBuyerCancel: the buyer asks to cancel once it is in
	// ShipStation (it goes on hold), then Amazon cancels it.
	AmazonBuyerCancel AmazonKind = "buyer asked to cancel"
	// AmazonHandSplit: shipped by hand in two packages as soon as it is in
	// ShipStation.
	AmazonHandSplit AmazonKind = "split into packages by hand"
	// AmazonLost: placed (and authorised) three minutes before the run, its
	// ORDER_CHANGE lost: only the scheduled searchOrders poll finds it.
	AmazonLost AmazonKind = "notification lost, polled"
)

// AmazonKinds lists every kind, in summary order.
var AmazonKinds = []AmazonKind{AmazonMFN, AmazonPendingLater, AmazonFBA, AmazonCancelPending, AmazonCancelPushed, AmazonBuyerCancel, AmazonHandSplit, AmazonLost}

// AmazonRunOptions shape a run's Amazon traffic.
type AmazonRunOptions struct {
	// Rounds is how many times the mix is made: per round, on amazon-us
	// ten orders (three merchant-fulfilled, one FBA, one pending then
	// unshipped, one cancelled while pending, one cancelled after the push,
	// one cancellation asked by the buyer, one split by hand, one whose
	// notification was lost) and on amazon-jp eight (the same without the
	// buyer's request and with one merchant-fulfilled fewer). 0 sends no
	// Amazon traffic.
	Rounds int
	// Drop is the fraction of ORDER_CHANGE messages lost while the run's
	// first orders are made. The scheduled searchOrders poll finds such an
	// order only two minutes after its change (Amazon searches up to two
	// minutes ago), so a run with Drop > 0 lasts longer. The orders of kind
	// AmazonLost lose theirs in any case, before the run.
	Drop float64
	// Duplicate and Reorder are the fractions of ORDER_CHANGE messages
	// delivered twice and delivered before the one queued just before them.
	Duplicate, Reorder float64
}

// AmazonPerRound is how many orders one round makes on each store.
var AmazonPerRound = map[string]int{AmazonUSStore: 10, AmazonJPStore: 8}

// amazonPlan is one order to make.
type amazonPlan struct {
	kind AmazonKind
	spec sandbox.AmazonOrderSpec
}

// amazonPlans returns the orders of one round: those placed before the
// run whose notifications were lost, those made while notifications may
// be lost, then those whose later steps wait for ShipStation (made with no
// loss, so that the run stays short).
func amazonPlans() (lost, early, late []amazonPlan) {
	jp := sandbox.AmazonMarketplaceJP
	lost = []amazonPlan{
		{AmazonLost, sandbox.AmazonOrderSpec{Prime: true, Items: 2, Unshipped: true}},
		{AmazonLost, sandbox.AmazonOrderSpec{MarketplaceID: jp, Items: 2, Unshipped: true}},
	}
	early = []amazonPlan{
		{AmazonMFN, sandbox.AmazonOrderSpec{Prime: true, Unshipped: true}},
		{AmazonMFN, sandbox.AmazonOrderSpec{Business: true, Items: 3, Unshipped: true}},
		{AmazonMFN, sandbox.AmazonOrderSpec{Items: 2, Unshipped: true}},
		{AmazonFBA, sandbox.AmazonOrderSpec{FBA: true, Prime: true}},
		{AmazonPendingLater, sandbox.AmazonOrderSpec{}},
		{AmazonCancelPending, sandbox.AmazonOrderSpec{}},
		{AmazonMFN, sandbox.AmazonOrderSpec{MarketplaceID: jp, Items: 2, Unshipped: true}},
		{AmazonMFN, sandbox.AmazonOrderSpec{MarketplaceID: jp, Business: true, Unshipped: true}},
		{AmazonFBA, sandbox.AmazonOrderSpec{MarketplaceID: jp, FBA: true}},
		{AmazonPendingLater, sandbox.AmazonOrderSpec{MarketplaceID: jp, Items: 2}},
		{AmazonCancelPending, sandbox.AmazonOrderSpec{MarketplaceID: jp}},
	}
	late = []amazonPlan{
		{AmazonCancelPushed, sandbox.AmazonOrderSpec{Unshipped: true}},
		{AmazonBuyerCancel, sandbox.AmazonOrderSpec{Items: 2, Unshipped: true}},
		{AmazonHandSplit, sandbox.AmazonOrderSpec{Prime: true, Items: 2, Unshipped: true}},
		{AmazonCancelPushed, sandbox.AmazonOrderSpec{MarketplaceID: jp, Unshipped: true}},
		{AmazonHandSplit, sandbox.AmazonOrderSpec{MarketplaceID: jp, Items: 3, Unshipped: true}},
	}
	return lost, early, late
}

// AmazonPlanned is one order the traffic made, with what happened to it.
type AmazonPlanned struct {
	OrderID string
	StoreID string
	Kind    AmazonKind
	// HandSplit: the demo shipped it in two packages itself.
	HandSplit bool
	// Held: a buyer-cancel order was seen on hold in ShipStation.
	Held bool
	// ShippedFirst: a buyer-cancel order the warehouse shipped (and
	// shiprelay confirmed) before the buyer's request reached ShipStation.
	ShippedFirst bool
}

// AmazonTraffic makes the Amazon orders of a run, drives each through its
// life (authorisation, cancellation, hand shipping) and watches
// ShipStation meanwhile for what only shows while it happens (a PENDING
// order must never be there; each order's statuses in turn).
type AmazonTraffic struct {
	env *Env
	rng *rand.Rand

	mu         sync.Mutex
	orders     []*AmazonPlanned
	byID       map[string]*AmazonPlanned
	statuses   map[string][]string // orderKey → ShipStation statuses seen, in turn
	violations []string            // seen while it happened; PII-free
	rngMu      sync.Mutex

	done   chan struct{} // closed when every order has been driven
	stop   context.CancelFunc
	watchW sync.WaitGroup
}

// StartAmazon starts o's traffic; Stop ends its watcher.
func (e *Env) StartAmazon(ctx context.Context, o AmazonRunOptions, seed uint64) *AmazonTraffic {
	ctx, stop := context.WithCancel(ctx)
	t := &AmazonTraffic{
		env: e, rng: rand.New(rand.NewPCG(seed, seed^0xa3a20)),
		byID: map[string]*AmazonPlanned{}, statuses: map[string][]string{},
		done: make(chan struct{}), stop: stop,
	}
	t.watchW.Add(1)
	go t.watch(ctx)
	go t.drive(ctx, o)
	return t
}

// Done is closed once every order has been made and driven.
func (t *AmazonTraffic) Done() <-chan struct{} { return t.done }

// Stop ends the traffic's goroutines.
func (t *AmazonTraffic) Stop() {
	t.stop()
	t.watchW.Wait()
	<-t.done
}

// Orders returns the planned orders.
func (t *AmazonTraffic) Orders() []AmazonPlanned {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]AmazonPlanned, len(t.orders))
	for i, p := range t.orders {
		out[i] = *p
	}
	return out
}

// Kind returns the kind of a planned order ("" when the traffic did not make it).
func (t *AmazonTraffic) Kind(orderID string) AmazonKind {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.byID[orderID]; p != nil {
		return p.Kind
	}
	return ""
}

// Violations returns what went wrong while it happened.
func (t *AmazonTraffic) Violations() []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.violations...)
}

// Statuses returns the ShipStation statuses an orderKey went through.
func (t *AmazonTraffic) Statuses(orderKey string) []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.statuses[orderKey]...)
}

func (t *AmazonTraffic) violate(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.violations = append(t.violations, fmt.Sprintf(format, args...))
}

func (t *AmazonTraffic) jitter(lo, hi time.Duration) time.Duration {
	t.rngMu.Lock()
	defer t.rngMu.Unlock()
	return lo + time.Duration(t.rng.Int64N(int64(hi-lo)+1))
}

// drive makes the orders and runs each one's later steps.
func (t *AmazonTraffic) drive(ctx context.Context, o AmazonRunOptions) {
	defer close(t.done)
	e := t.env
	var wg sync.WaitGroup
	make1 := func(p amazonPlan) {
		ao := e.Amazon.GenerateOrder(p.spec)
		pl := &AmazonPlanned{OrderID: ao.OrderID, StoreID: AmazonStoreOf(ao.MarketplaceID), Kind: p.kind}
		t.mu.Lock()
		t.orders = append(t.orders, pl)
		t.byID[pl.OrderID] = pl
		t.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.follow(ctx, pl)
		}()
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	lost, early, late := amazonPlans()
	// Placed three minutes ago, their notifications lost on the way.
	e.Amazon.SetNotifyKnobs(sandbox.AmazonNotifyKnobs{DropRate: 1})
	for range o.Rounds {
		for _, p := range lost {
			make1(p)
		}
	}
	for _, p := range t.Orders() {
		if p.Kind == AmazonLost {
			e.BackdateAmazonOrder(p.OrderID, 3*time.Minute)
		}
	}
	e.Amazon.SetNotifyKnobs(sandbox.AmazonNotifyKnobs{DropRate: o.Drop, DuplicateRate: o.Duplicate, ReorderRate: o.Reorder})
	for range o.Rounds {
		for _, p := range early {
			make1(p)
			if !sleep(50 * time.Millisecond) {
				break
			}
		}
	}
	// Later notifications are not lost: a lost one would only be found
	// by the poll two minutes on (see AmazonRunOptions.Drop).
	e.Amazon.SetNotifyKnobs(sandbox.AmazonNotifyKnobs{DuplicateRate: o.Duplicate, ReorderRate: o.Reorder})
	for range o.Rounds {
		for _, p := range late {
			make1(p)
			if !sleep(50 * time.Millisecond) {
				break
			}
		}
	}
	wg.Wait()
}

// follow runs the later steps of one order.
func (t *AmazonTraffic) follow(ctx context.Context, p *AmazonPlanned) {
	e := t.env
	key := AmazonOrderKey(p.StoreID, p.OrderID)
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	switch p.Kind {
	case AmazonPendingLater:
		if !wait(t.jitter(3*time.Second, 6*time.Second)) {
			return
		}
		if err := e.Amazon.MarkUnshipped(p.OrderID); err != nil {
			t.violate("order %s: MarkUnshipped: %v", p.OrderID, err)
		}
	case AmazonCancelPending:
		if !wait(t.jitter(2*time.Second, 4*time.Second)) {
			return
		}
		if err := e.Amazon.CancelOrder(p.OrderID); err != nil {
			t.violate("order %s: CancelOrder: %v", p.OrderID, err)
		}
	case AmazonCancelPushed:
		if !t.await(ctx, key, "awaiting_shipment", time.Minute) {
			t.violate("order %s (%s) never reached ShipStation awaiting shipment", p.OrderID, p.Kind)
			return
		}
		if err := e.Amazon.CancelOrder(p.OrderID); err != nil {
			t.violate("order %s: CancelOrder: %v", p.OrderID, err)
		}
	case AmazonBuyerCancel:
		if !t.await(ctx, key, "awaiting_shipment", time.Minute) {
			t.violate("order %s (%s) never reached ShipStation awaiting shipment", p.OrderID, p.Kind)
			return
		}
		if err := e.Amazon.RequestCancel(p.OrderID, "Order placed by mistake"); err != nil {
			t.violate("order %s: RequestCancel: %v", p.OrderID, err)
			return
		}
		if t.await(ctx, key, "on_hold", 20*time.Second) {
			ss, _ := e.Sandbox.ShipStationOrder(key)
			if id, ok := amazonTagIDs()["Cancel requested"]; ok && !slices.Contains(ss.TagIDs, id) {
				t.violate("order %s: on hold after the buyer's request but not tagged %q (tagIds %v)", p.OrderID, "Cancel requested", ss.TagIDs)
			}
			t.mu.Lock()
			p.Held = true
			t.mu.Unlock()
		}
		// Amazon grants the buyer's request, unless the order shipped
		// before its hold reached ShipStation (and shiprelay confirmed it).
		if err := e.Amazon.CancelOrder(p.OrderID); err != nil {
			o, _ := e.Amazon.Order(p.OrderID)
			shipped := o.Status == sandbox.AmazonShipped || o.Status == sandbox.AmazonPartiallyShipped
			t.mu.Lock()
			held := p.Held
			p.ShippedFirst = shipped
			t.mu.Unlock()
			if !shipped || held {
				t.violate("order %s: CancelOrder after the buyer's request: %v", p.OrderID, err)
			}
		}
	case AmazonHandSplit:
		if !t.await(ctx, key, "awaiting_shipment", time.Minute) {
			t.violate("order %s (%s) never reached ShipStation awaiting shipment", p.OrderID, p.Kind)
			return
		}
		ss, ok := e.Sandbox.ShipStationOrder(key)
		if !ok {
			return
		}
		if pkgs := splitInTwo(ss.Items); pkgs != nil {
			// The warehouse may have labelled it meanwhile: then it ships as is.
			if _, err := e.Sandbox.ShipOrder(key, pkgs, "", ""); err == nil {
				t.mu.Lock()
				p.HandSplit = true
				t.mu.Unlock()
			}
		}
	}
}

// splitInTwo cuts an order's items into two packages: the first line
// alone (or its first unit) and the rest; nil when there is one unit.
func splitInTwo(items []sandbox.SSItem) [][]sandbox.ShipLine {
	var all []sandbox.ShipLine
	for _, it := range items {
		if it.Quantity > 0 {
			all = append(all, sandbox.ShipLine{OrderItemID: it.OrderItemID, Quantity: it.Quantity})
		}
	}
	switch {
	case len(all) >= 2:
		return [][]sandbox.ShipLine{all[:1], all[1:]}
	case len(all) == 1 && all[0].Quantity >= 2:
		first := sandbox.ShipLine{OrderItemID: all[0].OrderItemID, Quantity: 1}
		rest := sandbox.ShipLine{OrderItemID: all[0].OrderItemID, Quantity: all[0].Quantity - 1}
		return [][]sandbox.ShipLine{{first}, {rest}}
	}
	return nil
}

// await waits until the watcher has seen orderKey in status.
func (t *AmazonTraffic) await(ctx context.Context, orderKey, status string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		seen := t.statuses[orderKey]
		t.mu.Unlock()
		for _, s := range seen {
			if s == status {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// watch samples ShipStation's Amazon orders every 100 ms: it records each
// order's statuses in turn and flags an order that is there while Amazon
// still has it PENDING.
func (t *AmazonTraffic) watch(ctx context.Context) {
	defer t.watchW.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, info := range t.env.Sandbox.ShipStationOrderInfos() {
			if !strings.HasPrefix(info.OrderKey, "amazon:") {
				continue
			}
			t.mu.Lock()
			seen := t.statuses[info.OrderKey]
			if len(seen) == 0 || seen[len(seen)-1] != info.OrderStatus {
				t.statuses[info.OrderKey] = append(seen, info.OrderStatus)
			}
			t.mu.Unlock()
			if len(seen) > 0 {
				continue
			}
			// New in ShipStation. Amazon is read after ShipStation: a
			// PENDING status now was PENDING when ShipStation had the order
			// (an order never goes back to PENDING).
			if _, id, ok := SplitAmazonOrderKey(info.OrderKey); ok {
				if o, ok := t.env.Amazon.Order(id); ok && o.Status == sandbox.AmazonPending {
					t.violate("order %s is in ShipStation while still PENDING on Amazon", id)
				}
			}
		}
	}
}

// BackdateAmazonOrder moves an order's times d into the past, as if it had
// been placed (and last changed) then; it queues no notification.
// searchOrders lists only changes at least two minutes old, so this is how
// an order whose notification was lost reaches the poll at once.
func (e *Env) BackdateAmazonOrder(orderID string, d time.Duration) {
	o, ok := e.Amazon.Order(orderID)
	if !ok {
		return
	}
	o.Created, o.LastUpdated = o.Created.Add(-d), o.LastUpdated.Add(-d)
	o.ShipBy, o.DeliverBy = o.ShipBy.Add(-d), o.DeliverBy.Add(-d)
	e.Amazon.AddOrder(o)
}

// AmazonStoreOf is the demo's store of a marketplace ("" for others).
func AmazonStoreOf(marketplaceID string) string {
	switch marketplaceID {
	case sandbox.AmazonMarketplaceUS:
		return AmazonUSStore
	case sandbox.AmazonMarketplaceJP:
		return AmazonJPStore
	}
	return ""
}

// AmazonOrderKey is the ShipStation orderKey of an Amazon order.
func AmazonOrderKey(storeID, orderID string) string {
	return "amazon:" + storeID + ":" + orderID
}

// SplitAmazonOrderKey reads the store and order id out of an orderKey.
func SplitAmazonOrderKey(key string) (storeID, orderID string, ok bool) {
	rest, ok := strings.CutPrefix(key, "amazon:")
	if !ok {
		return "", "", false
	}
	storeID, orderID, ok = strings.Cut(rest, ":")
	if i := strings.IndexByte(orderID, '/'); i >= 0 {
		orderID = orderID[:i]
	}
	return storeID, orderID, ok && storeID != "" && orderID != ""
}
