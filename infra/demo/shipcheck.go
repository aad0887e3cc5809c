package demo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
)

// ShipReport compares the sandbox warehouse's labels with the shipments
// BigCommerce received: every live label of a BigCommerce order must be
// there exactly once (by tracking number), and no voided label at all.
type ShipReport struct {
	Labels      int // live labels of BigCommerce orders
	Voided      int // voided labels
	Confirmed   int // live labels present on BigCommerce exactly once
	Missing     []string
	Duplicated  []string
	VoidRelayed []string // voided tracking numbers found on BigCommerce
	// Latency is, per confirmed label, label creation → BigCommerce shipment.
	Latency []time.Duration
}

// ShipOK reports whether every label reached BigCommerce exactly once.
func (r ShipReport) ShipOK() bool {
	return len(r.Missing) == 0 && len(r.Duplicated) == 0 && len(r.VoidRelayed) == 0
}

// CheckShipments builds the report.
func (e *Env) CheckShipments() ShipReport {
	var r ShipReport
	type bcKey struct {
		order    int
		tracking string
	}
	bcCount := map[bcKey]int{}
	bcAt := map[bcKey]time.Time{}
	for _, o := range e.Sandbox.Orders(StoreHash) {
		for _, sh := range e.Sandbox.Shipments(StoreHash, o.ID) {
			k := bcKey{o.ID, sh.TrackingNumber}
			bcCount[k]++
			if t, ok := bcAt[k]; !ok || sh.DateCreated.Before(t) {
				bcAt[k] = sh.DateCreated
			}
		}
	}
	// Skipped: cancelled orders, and marketplace copies (see CheckDedupe).
	skip := map[int]bool{}
	for _, o := range e.Sandbox.Orders(StoreHash) {
		if isCopy(o) || o.StatusID == sandbox.StatusCancelled || o.StatusID == sandbox.StatusDeclined || o.StatusID == sandbox.StatusRefunded {
			skip[o.ID] = true
		}
	}
	for _, l := range e.Sandbox.ShipStationShipments() {
		id, ok := bcOrderOf(l.OrderKey)
		if !ok || skip[id] {
			// BigCommerce takes no shipment for a cancelled order: shiprelay
			// raises an exception instead (see Report.CancelledAfterShipping).
			continue
		}
		k := bcKey{id, l.TrackingNumber}
		if l.Voided {
			r.Voided++
			// A re-label reuses nothing: its tracking replaced the voided one.
			if bcCount[k] > 0 && !e.liveElsewhere(l) {
				r.VoidRelayed = append(r.VoidRelayed, fmt.Sprintf("order %d: voided tracking %s is on BigCommerce", id, l.TrackingNumber))
			}
			continue
		}
		r.Labels++
		switch n := bcCount[k]; {
		case n == 0:
			r.Missing = append(r.Missing, fmt.Sprintf("order %d: label %d (%s)", id, l.ShipmentID, l.TrackingNumber))
		case n > 1:
			r.Duplicated = append(r.Duplicated, fmt.Sprintf("order %d: tracking %s on %d BigCommerce shipments", id, l.TrackingNumber, n))
		default:
			r.Confirmed++
			if created, err := sandbox.ParseSSTime(l.CreateDate); err == nil {
				r.Latency = append(r.Latency, bcAt[k].Sub(created))
			}
		}
	}
	sort.Strings(r.Missing)
	return r
}

// liveElsewhere reports whether a voided label's tracking number is also on
// a live label (a combined label shares one number across orders).
func (e *Env) liveElsewhere(v sandbox.SSShipment) bool {
	for _, l := range e.Sandbox.ShipStationShipments() {
		if !l.Voided && l.TrackingNumber == v.TrackingNumber && l.OrderKey == v.OrderKey {
			return true
		}
	}
	return false
}

// bcOrderOf reads the BigCommerce order id out of an orderKey shiprelay
// pushed ("bigcommerce:<store>:<id>[/<address>]").
func bcOrderOf(orderKey string) (int, bool) {
	rest, ok := strings.CutPrefix(orderKey, "bigcommerce:"+StoreID+":")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, "/")
	id, err := strconv.Atoi(rest)
	return id, err == nil
}
