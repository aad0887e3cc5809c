package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Marketplace copies, end to end. A merchant who sells on Amazon through
// BigCommerce's channel tools gets every Amazon order twice: the Amazon
// order itself (shiprelay imports it from the SP-API) and a BigCommerce
// copy of it, which the channel tools may cancel and create again under a
// new id. shiprelay links them into one identity whose primary alone stays
// open in ShipStation. eBay is not connected: its copies are ordinary
// orders ("Method A"), confirmed on BigCommerce only.
//
// DedupeTraffic plays both sides for many real orders at once, each with
// its own random interleaving of the events below, small random gaps
// between them, so that they race with the hub's own processing:
//
//	M  the marketplace order becomes visible to the hub (Amazon only): it
//	   is added to the sandbox Amazon and its ORDER_CHANGE delivered
//	C  its copy is created in the sandbox BigCommerce store
//	R  the channel tools recreate the copy (RecreateCopy, or
//	   RecreateCopyCreateFirst), only after C
//	X  the order is cancelled: on Amazon, and every live copy
//	S  the order ships: from S's turn on, a warehouse worker labels the
//	   first ShipStation order of it found awaiting shipment (waiting for
//	   one up to DedupeOptions.ShipWait, while the order's other events go
//	   on: S may come before there is anything to ship)
//
// A few events cannot follow others, as on the real channels: once X has
// happened, S and C are dropped (nothing ships or is copied once
// cancelled); once S has labelled, X and R are dropped (a shipped order is
// neither cancelled nor copied again by the channel tools); R needs a live
// copy. X, R and S's labelling take turns on one lock per order, so at
// most one of X and S happens, never both.

// DedupeEvent is one step of a real order's life (see the file comment).
type DedupeEvent string

// The events of a real order.
const (
	DedupeMarketplace DedupeEvent = "M"
	DedupeCopy        DedupeEvent = "C"
	DedupeRecreate    DedupeEvent = "R"
	DedupeCancel      DedupeEvent = "X"
	DedupeShip        DedupeEvent = "S"
)

// DedupeOptions shape a DedupeTraffic.
type DedupeOptions struct {
	// Amazon real orders have an Amazon order (M) and BigCommerce copies;
	// EBay ones copies only.
	Amazon, EBay int
	// RecreateShare, CancelShare and ShipShare are the fractions of real
	// orders whose plan has R, X and S.
	RecreateShare, CancelShare, ShipShare float64
	// MaxGap bounds the random pause before each event of an order
	// (default 300 ms).
	MaxGap time.Duration
	// Spread staggers the real orders' starts evenly over this long (0:
	// all at once).
	Spread time.Duration
	// ShipWait bounds how long S waits for an order awaiting shipment
	// (default 20 s).
	ShipWait time.Duration
	// Seed makes the plans reproducible (0 means 1).
	Seed uint64
}

// DefaultDedupe is the demo's copy traffic: 20 Amazon orders with copies
// and 4 eBay copies.
var DefaultDedupe = DedupeOptions{
	Amazon: 20, EBay: 4, RecreateShare: 0.4, CancelShare: 0.15, ShipShare: 0.6,
	MaxGap: 300 * time.Millisecond, Spread: 5 * time.Second, ShipWait: 20 * time.Second,
}

// DedupePlan is one real order's plan.
type DedupePlan struct {
	// Marketplace is order.Amazon or order.EBay.
	Marketplace order.Channel
	// Events in the order they happen: M exactly once for Amazon (never
	// for eBay), C once, R at most once and after C, X and S at most once.
	Events []DedupeEvent
	// Gaps[i] is the pause before Events[i].
	Gaps []time.Duration
	// Start is when the order's first event is due, from the traffic's start.
	Start time.Duration
	// CreateFirst: R creates the new copy before cancelling the old one.
	CreateFirst bool
}

// String writes the plan as "C→M→S".
func (p DedupePlan) String() string {
	s := make([]string, len(p.Events))
	for i, ev := range p.Events {
		s[i] = string(ev)
	}
	out := strings.Join(s, "→")
	if p.CreateFirst && strings.Contains(out, "R") {
		out = strings.Replace(out, "R", "R'", 1)
	}
	return out
}

// DedupeOrder is a real order of the traffic: its plan and what became of it.
type DedupeOrder struct {
	Plan DedupePlan
	// OrderID is the marketplace order id (Amazon's or eBay's).
	OrderID string
	// Ran lists the planned events as carried out, in the order they
	// completed (S when it labelled or gave up): the event, or the event
	// followed by "-" when it was dropped (Notes says why).
	Ran []string
	// Copies are the BigCommerce ids of its copies, in creation order.
	Copies []int
	// Recreated counts the recreations carried out.
	Recreated int
	// Visible: M ran (the hub can see the Amazon order).
	Visible bool
	// Cancelled: X ran. Shipped: S labelled ShippedKey.
	Cancelled, Shipped bool
	ShippedKey         string
	// ShipTimedOut: at S's turn no ShipStation order of it was awaiting
	// shipment within ShipWait.
	ShipTimedOut bool
	// Notes say why events were dropped, and what failed; PII-free.
	Notes []string
}

// Key is the order's dedupe identity key ("amazon:<id>", "ebay:<id>").
func (o DedupeOrder) Key() string { return string(o.Plan.Marketplace) + ":" + o.OrderID }

// LedgerID is the ledger id of the marketplace's own order ("" for eBay,
// which shiprelay does not import).
func (o DedupeOrder) LedgerID() order.ID {
	if o.Plan.Marketplace != order.Amazon {
		return ""
	}
	id, _ := order.NewID(order.Amazon, AmazonUSStore, o.OrderID)
	return id
}

// CopyKey is the ShipStation orderKey (and ledger id) of copy bcID.
func CopyKey(bcID int) string { return "bigcommerce:" + StoreID + ":" + strconv.Itoa(bcID) }

// Keys are the ShipStation orderKeys the order's members may have: the
// Amazon order's (when visible) and every copy's.
func (o DedupeOrder) Keys() []string {
	var keys []string
	if o.Plan.Marketplace == order.Amazon && o.Visible {
		keys = append(keys, AmazonOrderKey(AmazonUSStore, o.OrderID))
	}
	for _, id := range o.Copies {
		keys = append(keys, CopyKey(id))
	}
	return keys
}

// dedupeOrder is a real order while it runs.
type dedupeOrder struct {
	// act serialises the events that exclude each other (X, R and S's
	// label); mu guards rec.
	act sync.Mutex
	mu  sync.Mutex
	rec DedupeOrder
	// amazon is the Amazon order as made, before it is visible (then the
	// sandbox Amazon has it); ebay the eBay order.
	amazon sandbox.AmazonOrder
	ebay   sandbox.MarketplaceOrder
}

// DedupeTraffic drives real orders through their plans (see the file
// comment). Make one with NewDedupeTraffic (random plans) or
// NewDedupeTrafficOf (given plans), then Start it, or Step its orders by
// hand.
type DedupeTraffic struct {
	env      *Env
	opts     DedupeOptions
	orders   []*dedupeOrder
	started  sync.Once
	done     chan struct{}
	mu       sync.Mutex
	problems []string
}

// NewDedupeTraffic plans o.Amazon+o.EBay real orders: which are eBay,
// each one's events, their order and gaps, drawn from o.Seed; the orders
// themselves are made now (Amazon's by a private simulator seeded from
// o.Seed, not visible to the hub until M; eBay's by the sandbox's
// generator), so the plans depend on the seeds only.
func NewDedupeTraffic(e *Env, o DedupeOptions) *DedupeTraffic {
	o = o.withDefaults()
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xdedce))
	n := o.Amazon + o.EBay
	ebay := make([]bool, n)
	for i := range o.EBay {
		ebay[i] = true
	}
	rng.Shuffle(n, func(i, j int) { ebay[i], ebay[j] = ebay[j], ebay[i] })
	plans := make([]DedupePlan, n)
	for i := range plans {
		p := DedupePlan{Marketplace: order.Amazon}
		if ebay[i] {
			p.Marketplace = order.EBay
		}
		evs := []DedupeEvent{DedupeCopy}
		if !ebay[i] {
			evs = append(evs, DedupeMarketplace)
		}
		if rng.Float64() < o.RecreateShare {
			evs = append(evs, DedupeRecreate)
		}
		if rng.Float64() < o.CancelShare {
			evs = append(evs, DedupeCancel)
		}
		if rng.Float64() < o.ShipShare {
			evs = append(evs, DedupeShip)
		}
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		// R after C: swap them when drawn the other way round.
		ci, ri := indexOf(evs, DedupeCopy), indexOf(evs, DedupeRecreate)
		if ri >= 0 && ri < ci {
			evs[ci], evs[ri] = evs[ri], evs[ci]
		}
		p.Events = evs
		for range evs {
			p.Gaps = append(p.Gaps, time.Duration(rng.Int64N(int64(o.MaxGap)+1)))
		}
		if n > 1 {
			p.Start = o.Spread * time.Duration(i) / time.Duration(n-1)
		}
		p.CreateFirst = rng.IntN(2) == 0
		plans[i] = p
	}
	return newDedupeTraffic(e, o, plans)
}

// NewDedupeTrafficOf makes a traffic of the given plans (their orders
// made as NewDedupeTraffic makes them); o gives the seed, ShipWait and
// defaults.
func NewDedupeTrafficOf(e *Env, o DedupeOptions, plans ...DedupePlan) *DedupeTraffic {
	return newDedupeTraffic(e, o.withDefaults(), plans)
}

func (o DedupeOptions) withDefaults() DedupeOptions {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MaxGap <= 0 {
		o.MaxGap = 300 * time.Millisecond
	}
	if o.ShipWait <= 0 {
		o.ShipWait = 20 * time.Second
	}
	return o
}

func indexOf(evs []DedupeEvent, ev DedupeEvent) int {
	for i, e := range evs {
		if e == ev {
			return i
		}
	}
	return -1
}

func newDedupeTraffic(e *Env, o DedupeOptions, plans []DedupePlan) *DedupeTraffic {
	t := &DedupeTraffic{env: e, opts: o, done: make(chan struct{})}
	// Amazon orders are made by a simulator of their own: the hub sees
	// one only once it is added to the sandbox Amazon (M).
	scratch := sandbox.NewAmazon(sandbox.AmazonOptions{Seed: o.Seed ^ 0x5c7a7c4})
	specRNG := rand.New(rand.NewPCG(o.Seed, 0xa11ce))
	for _, p := range plans {
		d := &dedupeOrder{rec: DedupeOrder{Plan: p}}
		if p.Marketplace == order.EBay {
			d.ebay = e.Sandbox.GenerateEBayOrder()
			d.rec.OrderID = d.ebay.OrderID
		} else {
			d.amazon = scratch.GenerateOrder(sandbox.AmazonOrderSpec{
				Unshipped: true, Items: 1 + specRNG.IntN(3), Prime: specRNG.IntN(3) == 0,
			})
			d.rec.OrderID = d.amazon.OrderID
		}
		t.orders = append(t.orders, d)
	}
	e.registerDedupe(t)
	return t
}

// Start runs every real order's plan, all at once (each from its Start);
// Done is closed when all have run.
func (t *DedupeTraffic) Start(ctx context.Context) {
	t.started.Do(func() {
		var wg sync.WaitGroup
		for _, d := range t.orders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if !sleepCtx(ctx, d.rec.Plan.Start) {
					return
				}
				for i, ev := range d.rec.Plan.Events {
					if !sleepCtx(ctx, d.rec.Plan.Gaps[i]) {
						return
					}
					if ev == DedupeShip {
						// The worker waits for something to ship while
						// the order's other events go on.
						wg.Add(1)
						go func() {
							defer wg.Done()
							t.run(ctx, d, ev)
						}()
						continue
					}
					t.run(ctx, d, ev)
				}
			}()
		}
		go func() {
			wg.Wait()
			close(t.done)
		}()
	})
}

// Done is closed once every plan has run (after Start).
func (t *DedupeTraffic) Done() <-chan struct{} { return t.done }

// Step carries out one event of real order i now, S included (it returns
// once S has labelled, or given up), for tests that drive plans by hand;
// do not mix with Start.
func (t *DedupeTraffic) Step(ctx context.Context, i int, ev DedupeEvent) {
	t.run(ctx, t.orders[i], ev)
}

// Len is the number of real orders.
func (t *DedupeTraffic) Len() int { return len(t.orders) }

// Orders returns the real orders as they stand.
func (t *DedupeTraffic) Orders() []DedupeOrder {
	out := make([]DedupeOrder, len(t.orders))
	for i, d := range t.orders {
		d.mu.Lock()
		out[i] = d.rec
		out[i].Ran = append([]string(nil), d.rec.Ran...)
		out[i].Copies = append([]int(nil), d.rec.Copies...)
		out[i].Notes = append([]string(nil), d.rec.Notes...)
		d.mu.Unlock()
	}
	return out
}

// Problems are the failures of the traffic itself (a sandbox call that
// failed where it must not); PII-free.
func (t *DedupeTraffic) Problems() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.problems...)
}

func (t *DedupeTraffic) problem(d *dedupeOrder, format string, args ...any) {
	msg := fmt.Sprintf("%s (%s): ", d.rec.Key(), d.rec.Plan) + fmt.Sprintf(format, args...)
	t.mu.Lock()
	t.problems = append(t.problems, msg)
	t.mu.Unlock()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// run carries out one event. An order's events run one after the other,
// but for S's worker, which waits beside them; X and R hold the order's
// act lock, as S's worker does around each label it tries.
func (t *DedupeTraffic) run(ctx context.Context, d *dedupeOrder, ev DedupeEvent) {
	if ev == DedupeCancel || ev == DedupeRecreate {
		d.act.Lock()
		defer d.act.Unlock()
	}
	d.mu.Lock()
	rec := d.rec
	d.mu.Unlock()
	ran, note := string(ev), ""
	drop := func(why string) { ran, note = string(ev)+"-", why }
	e := t.env
	switch ev {
	case DedupeMarketplace:
		if rec.Plan.Marketplace != order.Amazon || rec.Visible {
			drop("no marketplace order to show")
			break
		}
		if err := t.showAmazon(ctx, d); err != nil {
			t.problem(d, "M: %v", err)
			drop("failed")
		}
	case DedupeCopy:
		switch {
		case rec.Cancelled:
			drop("cancelled before the copy was due: connectors copy no cancelled order")
		case len(rec.Copies) > 0:
			drop("copied already")
		default:
			bo, err := t.copyOf(d)
			if err != nil {
				t.problem(d, "C: %v", err)
				drop("failed")
				break
			}
			d.mu.Lock()
			d.rec.Copies = append(d.rec.Copies, bo.ID)
			d.mu.Unlock()
		}
	case DedupeRecreate:
		switch {
		case rec.Shipped:
			drop("shipped: the channel tools recreate no shipped copy")
		case rec.Cancelled:
			drop("cancelled: no live copy")
		case len(rec.Copies) == 0:
			drop("no copy yet")
		default:
			live, ok := t.liveCopy(rec)
			if !ok {
				drop("no live copy")
				break
			}
			recreate := e.Sandbox.RecreateCopy
			if rec.Plan.CreateFirst {
				recreate = e.Sandbox.RecreateCopyCreateFirst
			}
			bo, err := recreate(StoreHash, live)
			if errors.Is(err, sandbox.ErrNotACopy) {
				drop("not recreatable: " + err.Error())
				break
			}
			if err != nil {
				t.problem(d, "R: %v", err)
				drop("failed")
				break
			}
			d.mu.Lock()
			d.rec.Copies = append(d.rec.Copies, bo.ID)
			d.rec.Recreated++
			d.mu.Unlock()
		}
	case DedupeCancel:
		if rec.Shipped || t.labelled(rec) {
			drop("shipped: too late to cancel")
			break
		}
		if why, err := t.cancel(d); err != nil {
			t.problem(d, "X: %v", err)
			drop("failed")
		} else if why != "" {
			drop(why)
		}
	case DedupeShip:
		if rec.Cancelled {
			drop("cancelled before it shipped")
			break
		}
		if why := t.ship(ctx, d); why != "" {
			drop(why)
		}
	default:
		drop("unknown event")
	}
	d.mu.Lock()
	d.rec.Ran = append(d.rec.Ran, ran)
	if note != "" {
		d.rec.Notes = append(d.rec.Notes, ran+": "+note)
	}
	d.mu.Unlock()
}

// showAmazon adds the Amazon order to the sandbox Amazon, as placed now
// (cancelled, if X came first), and delivers its ORDER_CHANGE.
func (t *DedupeTraffic) showAmazon(ctx context.Context, d *dedupeOrder) error {
	e := t.env
	d.mu.Lock()
	o := d.amazon
	d.mu.Unlock()
	shift := time.Now().UTC().Sub(o.Created)
	o.Created, o.LastUpdated = o.Created.Add(shift), o.LastUpdated.Add(shift)
	o.ShipBy, o.DeliverBy = o.ShipBy.Add(shift), o.DeliverBy.Add(shift)
	e.Amazon.AddOrder(o)
	d.mu.Lock()
	d.rec.Visible = true
	d.mu.Unlock()
	return t.notify(ctx, o.OrderID)
}

// notify delivers an ORDER_CHANGE for the Amazon order's current state
// straight to the OrderChangeQueue: an order added with AddOrder queues
// none in the sandbox's outbox.
func (t *DedupeTraffic) notify(ctx context.Context, orderID string) error {
	e := t.env
	o, ok := e.Amazon.Order(orderID)
	if !ok {
		return fmt.Errorf("no Amazon order %s", orderID)
	}
	status := map[string]string{sandbox.AmazonUnshipped: "Unshipped", sandbox.AmazonCancelled: "Canceled",
		sandbox.AmazonShipped: "Shipped", sandbox.AmazonPending: "Pending", sandbox.AmazonPartiallyShipped: "PartiallyShipped"}[o.Status]
	body, err := e.Amazon.OrderChangeMessage(orderID, "OrderStatusChange", "Order status changed to "+status)
	if err != nil {
		return err
	}
	return e.DeliverOrderChanges(ctx, body)
}

// copyOf creates the order's copy in the sandbox store.
func (t *DedupeTraffic) copyOf(d *dedupeOrder) (sandbox.BCOrder, error) {
	e := t.env
	d.mu.Lock()
	rec, ao, m := d.rec, d.amazon, d.ebay
	d.mu.Unlock()
	if rec.Plan.Marketplace == order.EBay {
		return e.Sandbox.MirrorMarketplaceOrder(StoreHash, m)
	}
	if rec.Visible {
		if cur, ok := e.Amazon.Order(ao.OrderID); ok {
			ao = cur
		}
	}
	return e.Sandbox.MirrorAmazonOrder(StoreHash, ao)
}

// liveCopy is the newest copy that is not cancelled.
func (t *DedupeTraffic) liveCopy(rec DedupeOrder) (int, bool) {
	for i := len(rec.Copies) - 1; i >= 0; i-- {
		if o, ok := t.env.Sandbox.Order(StoreHash, rec.Copies[i]); ok && o.StatusID != sandbox.StatusCancelled {
			return o.ID, true
		}
	}
	return 0, false
}

// labelled reports whether a ShipStation order of the real order is
// shipped (the warehouse may ship on its own).
func (t *DedupeTraffic) labelled(rec DedupeOrder) bool {
	for _, k := range rec.Keys() {
		if o, ok := t.env.Sandbox.ShipStationOrder(k); ok && o.OrderStatus == "shipped" {
			return true
		}
	}
	return false
}

// cancel cancels the marketplace order (Amazon: in the sandbox Amazon once
// visible, else the order as it will show) and every live copy. It
// returns why it did nothing, "" when it cancelled.
func (t *DedupeTraffic) cancel(d *dedupeOrder) (string, error) {
	e := t.env
	d.mu.Lock()
	rec := d.rec
	d.mu.Unlock()
	if rec.Plan.Marketplace == order.Amazon {
		if rec.Visible {
			// Its ORDER_CHANGE goes through the sandbox's outbox and the
			// pump, as every change Amazon makes.
			if err := e.Amazon.CancelOrder(rec.OrderID); err != nil {
				if errors.Is(err, sandbox.ErrAmazonTransition) {
					return "Amazon refused: " + err.Error(), nil // shipped meanwhile
				}
				return "", err
			}
		} else {
			d.mu.Lock()
			d.amazon.Status = sandbox.AmazonCancelled
			d.amazon.CancelledBy, d.amazon.CancelReason = sandbox.AmazonCancelByAmazon, ""
			d.mu.Unlock()
		}
	}
	d.mu.Lock()
	d.rec.Cancelled = true
	d.mu.Unlock()
	if _, err := e.Sandbox.CancelCopies(StoreHash, rec.OrderID); err != nil {
		return "", err
	}
	return "", nil
}

// ship labels the real order's ShipStation order that is awaiting
// shipment, waiting up to ShipWait for one. Each try holds the order's act
// lock: a cancellation (X) comes before or after it, never during. It
// returns why it labelled nothing ("" when it did).
func (t *DedupeTraffic) ship(ctx context.Context, d *dedupeOrder) string {
	e := t.env
	deadline := time.Now().Add(t.opts.ShipWait)
	try := func() (done bool, why string) {
		d.act.Lock()
		defer d.act.Unlock()
		d.mu.Lock()
		rec := d.rec
		d.mu.Unlock()
		if rec.Cancelled {
			return true, "cancelled before it shipped"
		}
		for _, k := range rec.Keys() {
			o, ok := e.Sandbox.ShipStationOrder(k)
			if !ok {
				continue
			}
			if o.OrderStatus == "shipped" {
				return true, "shipped already (by the warehouse)"
			}
			if o.OrderStatus != "awaiting_shipment" {
				continue
			}
			// It may change under us (hidden this very moment): then the
			// sandbox refuses and the wait goes on.
			if _, err := e.Sandbox.ShipOrder(k, nil, "", ""); err == nil {
				d.mu.Lock()
				d.rec.Shipped, d.rec.ShippedKey = true, k
				d.mu.Unlock()
				return true, ""
			}
		}
		return false, ""
	}
	for {
		if done, why := try(); done {
			return why
		}
		if time.Now().After(deadline) {
			d.mu.Lock()
			d.rec.ShipTimedOut = true
			d.mu.Unlock()
			return fmt.Sprintf("nothing awaiting shipment within %v", t.opts.ShipWait)
		}
		if !sleepCtx(ctx, 150*time.Millisecond) {
			return ctx.Err().Error()
		}
	}
}

// registerDedupe records a traffic's orders, so that the other checks
// leave them to CheckDedupe.
func (e *Env) registerDedupe(t *DedupeTraffic) {
	e.dedupeMu.Lock()
	defer e.dedupeMu.Unlock()
	if e.dedupeAmazon == nil {
		e.dedupeAmazon = map[string]bool{}
	}
	for _, d := range t.orders {
		if d.rec.Plan.Marketplace == order.Amazon {
			e.dedupeAmazon[d.rec.OrderID] = true
		}
	}
}

// isDedupeAmazon reports whether an Amazon order belongs to a DedupeTraffic.
func (e *Env) isDedupeAmazon(orderID string) bool {
	e.dedupeMu.Lock()
	defer e.dedupeMu.Unlock()
	return e.dedupeAmazon[orderID]
}

// isCopy reports whether a BigCommerce order is a marketplace copy (it
// names a marketplace order): DedupeTraffic makes them, CheckDedupe checks
// them.
func isCopy(o sandbox.BCOrder) bool {
	return o.ExternalOrderID != "" || (o.EbayOrderID != "" && o.EbayOrderID != "0")
}
