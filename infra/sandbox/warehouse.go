package sandbox

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// The warehouse ships ShipStation orders on its own, like the people
// printing labels in a real account. It runs as a goroutine when enabled
// (Options.WarehouseEnabled, SetWarehouseEnabled) and can also be stepped
// with WarehouseTick for deterministic tests.
//
// An order is ready once it has been awaiting_shipment for WarehouseDelay
// (on_hold, awaiting_payment, pending_fulfillment, shipped and cancelled
// orders are never shipped). Each pass takes the ready orders by ascending
// orderId; every action below is one batch with its own batchId and fires
// one SHIP_NOTIFY:
//
//   - normally, one label covering everything the order has left;
//   - with probability SplitRate (orders of 2+ units), 2 or 3 packages, each
//     its own shipment with its own tracking number; units are cut into
//     contiguous runs, so one line's quantity may be split across packages;
//   - with probability CombineRate, "one label for several orders": V1
//     shipments belong to one orderId, so this is modelled the way
//     ShipStation reports merged orders — the order and up to two other
//     ready orders of the same store and ship-to address get one shipment
//     each, all in one batch and all sharing one trackingNumber (the first
//     carries the label cost, the others 0);
//   - with probability VoidRate (uncombined actions only), the first label of
//     the action is voided WarehouseDelay/2 later (voided=true, voidDate set,
//     no webhook; the order falls back to awaiting_shipment) and relabelled
//     WarehouseDelay/2 after that: a new shipment for the same items with a
//     new tracking number, in a new batch (one more SHIP_NOTIFY). The
//     warehouse leaves the order alone in between.
//
// Rolls come from a generator seeded from Options.Seed, so a pass over the
// same orders with the same knobs always makes the same shipments.

// WarehouseFaults are the warehouse's knobs, probabilities in [0, 1].
type WarehouseFaults struct {
	// SplitRate is the probability that an order ships in 2-3 packages.
	SplitRate float64 `json:"split_rate"`
	// CombineRate is the probability that an order shares one label with
	// other ready orders to the same address.
	CombineRate float64 `json:"combine_rate"`
	// VoidRate is the probability that a label is voided and replaced.
	VoidRate float64 `json:"void_rate"`
}

// whEvent is a scheduled void or relabel.
type whEvent struct {
	at       time.Time
	relabel  bool
	shipment int64
	orderKey string
}

// warehouseRunner owns the warehouse goroutine.
type warehouseRunner struct {
	mu      sync.Mutex
	started bool
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
}

func (s *Sandbox) startWarehouse() {
	w := s.wh
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started || w.closed {
		return
	}
	w.started = true
	w.wg.Add(1)
	go s.warehouseLoop()
}

func (s *Sandbox) stopWarehouse() {
	w := s.wh
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.done)
	w.mu.Unlock()
	w.wg.Wait()
}

func (s *Sandbox) warehouseLoop() {
	defer s.wh.wg.Done()
	for {
		s.ss.mu.Lock()
		tick := min(max(s.ss.whDelay/4, 2*time.Millisecond), 250*time.Millisecond)
		s.ss.mu.Unlock()
		t := time.NewTimer(tick)
		select {
		case <-s.wh.done:
			t.Stop()
			return
		case <-t.C:
		}
		s.ss.mu.Lock()
		if s.ss.whEnabled {
			s.ss.warehousePass(s.now())
		}
		s.ss.mu.Unlock()
	}
}

// SetWarehouseEnabled starts or pauses the warehouse goroutine's work.
func (s *Sandbox) SetWarehouseEnabled(on bool) {
	s.ss.mu.Lock()
	s.ss.whEnabled = on
	s.ss.mu.Unlock()
	if on {
		s.startWarehouse()
	}
}

// WarehouseEnabled reports whether the warehouse ships on its own.
func (s *Sandbox) WarehouseEnabled() bool {
	s.ss.mu.Lock()
	defer s.ss.mu.Unlock()
	return s.ss.whEnabled
}

// SetWarehouseDelay sets how long an order waits in awaiting_shipment before
// the warehouse ships it (values <= 0 are ignored).
func (s *Sandbox) SetWarehouseDelay(d time.Duration) {
	if d <= 0 {
		return
	}
	s.ss.mu.Lock()
	s.ss.whDelay = d
	s.ss.mu.Unlock()
}

// WarehouseDelay returns the current warehouse delay.
func (s *Sandbox) WarehouseDelay() time.Duration {
	s.ss.mu.Lock()
	defer s.ss.mu.Unlock()
	return s.ss.whDelay
}

// SetWarehouseFaults replaces the warehouse's split/combine/void knobs.
func (s *Sandbox) SetWarehouseFaults(f WarehouseFaults) {
	s.ss.mu.Lock()
	s.ss.whFaults = f
	s.ss.mu.Unlock()
}

// WarehouseFaults returns the warehouse's split/combine/void knobs.
func (s *Sandbox) WarehouseFaults() WarehouseFaults {
	s.ss.mu.Lock()
	defer s.ss.mu.Unlock()
	return s.ss.whFaults
}

// WarehouseTick runs one warehouse pass now, at the sandbox clock, whether
// or not the warehouse is enabled: due voids and relabels first, then every
// ready order. It returns the shipments created (relabels included).
func (s *Sandbox) WarehouseTick() []SSShipment {
	s.ss.mu.Lock()
	defer s.ss.mu.Unlock()
	return cloneShipments(s.ss.warehousePass(s.now()))
}

// whRoll returns true with probability p. Caller holds ss.mu.
func (ss *shipStation) whRoll(p float64) bool {
	return p > 0 && ss.whRNG.Float64() < p
}

// shipToKey identifies a store and ship-to address for combining labels;
// "" means the order cannot be combined.
func shipToKey(o *SSOrder) string {
	a := o.ShipTo
	if a == nil {
		return ""
	}
	v := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.ToLower(strings.TrimSpace(*p))
	}
	if v(a.Street1) == "" || v(a.Country) == "" {
		return ""
	}
	return strings.Join([]string{strconv.FormatInt(o.StoreID(), 10), v(a.Name), v(a.Company), v(a.Street1), v(a.Street2),
		v(a.City), v(a.State), v(a.PostalCode), v(a.Country)}, "|")
}

// splitUnits cuts an order's remaining units into n contiguous non-empty
// packages (n <= units), so a line's quantity may straddle two packages.
// Caller holds ss.mu.
func (ss *shipStation) splitUnits(rem []shipQty, n int) [][]shipQty {
	var units []int // item index per unit
	for _, r := range rem {
		for range r.qty {
			units = append(units, r.idx)
		}
	}
	// Choose n-1 distinct cut points in 1..len(units)-1.
	cuts := map[int]bool{}
	for len(cuts) < n-1 {
		cuts[1+ss.whRNG.IntN(len(units)-1)] = true
	}
	var pkgs [][]shipQty
	var cur []shipQty
	for i, idx := range units {
		if cuts[i] {
			pkgs = append(pkgs, cur)
			cur = nil
		}
		if len(cur) > 0 && cur[len(cur)-1].idx == idx {
			cur[len(cur)-1].qty++
		} else {
			cur = append(cur, shipQty{idx: idx, qty: 1})
		}
	}
	return append(pkgs, cur)
}

// warehousePass runs due voids and relabels, then ships every ready order.
// It returns the shipments created. Caller holds ss.mu.
func (ss *shipStation) warehousePass(now time.Time) (created []*SSShipment) {
	ss.releaseDueLocked(now) // holds whose date has come are open again
	if ss.whBatch {
		b := ss.newBatch()
		ss.passBatch = &b
		defer func() {
			ss.passBatch = nil
			if len(created) > 0 {
				ss.notifyBatch(b, created)
			}
		}()
	}
	half := max(ss.whDelay/2, time.Millisecond)

	// Due events, in schedule order.
	var later []whEvent
	for _, ev := range ss.whEvents {
		if ev.at.After(now) {
			later = append(later, ev)
			continue
		}
		if !ev.relabel {
			if _, err := ss.voidLocked(ev.shipment, now); err == nil {
				later = append(later, whEvent{at: now.Add(half), relabel: true, shipment: ev.shipment, orderKey: ev.orderKey})
				continue
			}
			// Voided by someone else meanwhile: relabel right away.
		}
		if sh, err := ss.relabelLocked(ev.shipment, now); err == nil {
			created = append(created, sh)
		}
		delete(ss.whPending, ev.orderKey)
	}
	ss.whEvents = later

	// Ready orders by ascending orderId.
	var ready []*ssRecord
	for _, id := range ss.ids {
		rec := ss.byID[id]
		if rec.order.OrderStatus != "awaiting_shipment" || ss.whPending[rec.order.OrderKey] ||
			rec.awaitingSince.IsZero() || now.Sub(rec.awaitingSince) < ss.whDelay || len(rec.remaining()) == 0 {
			continue
		}
		ready = append(ready, rec)
	}
	done := map[*ssRecord]bool{}
	f := ss.whFaults
	for i, rec := range ready {
		if done[rec] {
			continue
		}
		done[rec] = true
		cs := ss.resolveCarrier(rec, "", "")
		if ss.whRoll(f.CombineRate) {
			group := []*ssRecord{rec}
			if key := shipToKey(&rec.order); key != "" {
				for _, other := range ready[i+1:] {
					if len(group) == 3 {
						break
					}
					if !done[other] && shipToKey(&other.order) == key {
						group = append(group, other)
					}
				}
			}
			if len(group) > 1 {
				for _, g := range group {
					done[g] = true
				}
				created = append(created, ss.shipCombined(group, cs, now)...)
				continue
			}
		}
		rem := rec.remaining()
		pkgs := [][]shipQty{rem}
		units := 0
		for _, r := range rem {
			units += r.qty
		}
		if units >= 2 && ss.whRoll(f.SplitRate) {
			n := 2
			if units >= 3 && ss.whRNG.IntN(2) == 1 {
				n = 3
			}
			pkgs = ss.splitUnits(rem, n)
		}
		shipped := ss.shipPackages(rec, pkgs, cs, now)
		created = append(created, shipped...)
		if ss.whRoll(f.VoidRate) {
			ss.whPending[rec.order.OrderKey] = true
			ss.whEvents = append(ss.whEvents, whEvent{at: now.Add(half), shipment: shipped[0].ShipmentID, orderKey: rec.order.OrderKey})
		}
	}
	return created
}
