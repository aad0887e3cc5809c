package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

// DedupeReport says whether every real order of a DedupeTraffic ended as it
// must, from the sandboxes (ShipStation, Amazon, BigCommerce) and the
// ledger's identities. Its texts name orders by id and statuses: no buyer
// data.
type DedupeReport struct {
	// RealOrders of the traffic: Amazon ones (with copies) and eBay ones.
	RealOrders, AmazonOrders, EBayOrders int
	// Copies created (recreations included) and Recreated.
	Copies, Recreated int
	// Cancelled and Shipped real orders (shipped: a live label on one of
	// its ShipStation orders); ShipTimeouts: S found nothing awaiting
	// shipment in time.
	Cancelled, Shipped, ShipTimeouts int
	// Hidden (duplicates hidden) counts the members of identities that are
	// not their primary; Linked (copies linked) the identities of two
	// members or more.
	Hidden, Linked int
	// AmazonConfirmations are packages on the Amazon orders;
	// BCConfirmations shipments on the copies.
	AmazonConfirmations, BCConfirmations int
	// Problems is everything wrong; empty when all is right.
	Problems []string
}

// OK reports whether every real order ended as it must.
func (r DedupeReport) OK() bool { return len(r.Problems) == 0 }

// openStatus reports whether a ShipStation status is one a warehouse may
// still ship (neither shipped nor cancelled).
func openStatus(s string) bool {
	return s != "" && s != "shipped" && s != "cancelled"
}

// CheckDedupe builds the report; run it once the hub is quiet. For every
// real order, with the ShipStation orders of its members (the Amazon
// order's and every copy's orderKey):
//
//   - neither cancelled nor shipped: exactly one of them is open, awaiting
//     shipment: the Amazon order's (Amazon), the live copy's (eBay);
//   - cancelled: none is open;
//   - shipped (a live label on one of them): none is open; the Amazon
//     order has exactly one package on Amazon (amazon-us confirms the
//     first package only), with a live label's tracking; the live copy
//     has exactly one BigCommerce shipment per live label (eBay: the same);
//   - its identity in the ledger holds every member ShipStation has, and
//     names one of them primary: a labelled one when there is a label (the
//     parcel left under it), else the Amazon order, else (eBay) the live
//     copy; a member with a label is recorded so; no two members are
//     pushed with their ShipStation orders open.
//
// Besides, no two live ShipStation orders stand for one real order
// (sandbox.ShipStationDuplicates).
func (e *Env) CheckDedupe(t *DedupeTraffic) DedupeReport {
	var r DedupeReport
	if t == nil {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ss := map[string]sandbox.SSOrder{}
	for _, o := range e.Sandbox.ShipStationOrders() {
		ss[o.OrderKey] = o
	}
	labels := map[string][]sandbox.SSShipment{}
	for _, l := range e.Sandbox.ShipStationShipments() {
		labels[l.OrderKey] = append(labels[l.OrderKey], l)
	}
	orders := t.Orders()
	results := make([]dedupeResult, len(orders))
	// The ledger reads of many orders, a few at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, o := range orders {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = e.checkReal(ctx, o, ss, labels)
		}()
	}
	wg.Wait()
	keys := map[string]bool{}
	for i, o := range orders {
		res := results[i]
		r.RealOrders++
		if o.Plan.Marketplace == order.EBay {
			r.EBayOrders++
		} else {
			r.AmazonOrders++
		}
		r.Copies += len(o.Copies)
		r.Recreated += o.Recreated
		if o.Cancelled {
			r.Cancelled++
		}
		if res.shipped {
			r.Shipped++
		}
		if o.ShipTimedOut {
			r.ShipTimeouts++
		}
		r.Hidden += res.hidden
		if res.members >= 2 {
			r.Linked++
		}
		r.AmazonConfirmations += res.amazonConfirmations
		r.BCConfirmations += res.bcConfirmations
		for _, p := range res.problems {
			r.Problems = append(r.Problems, fmt.Sprintf("%s (%s, ran %s): %s", o.Key(), o.Plan, strings.Join(o.Ran, " "), p))
		}
		for _, k := range o.Keys() {
			keys[k] = true
		}
	}
	for _, g := range e.Sandbox.ShipStationDuplicates().Groups {
		for _, k := range g.OrderKeys {
			if keys[k] {
				r.Problems = append(r.Problems, fmt.Sprintf("duplicate live ShipStation orders (%s %s): %s", g.Kind, g.Key, strings.Join(g.OrderKeys, ", ")))
				break
			}
		}
	}
	r.Problems = append(r.Problems, t.Problems()...)
	sort.Strings(r.Problems)
	return r
}

// dedupeResult is what checkReal found of one real order.
type dedupeResult struct {
	shipped                              bool
	hidden, members                      int
	amazonConfirmations, bcConfirmations int
	problems                             []string
}

// checkReal checks one real order (see CheckDedupe).
func (e *Env) checkReal(ctx context.Context, o DedupeOrder, ss map[string]sandbox.SSOrder, labels map[string][]sandbox.SSShipment) dedupeResult {
	var res dedupeResult
	problem := func(format string, args ...any) { res.problems = append(res.problems, fmt.Sprintf(format, args...)) }
	isAmazon := o.Plan.Marketplace == order.Amazon
	amazonKey := AmazonOrderKey(AmazonUSStore, o.OrderID)

	// Members as the sandboxes know them.
	type member struct {
		id     order.ID
		key    string
		status string // ShipStation's, "" when it has none
		live   []sandbox.SSShipment
	}
	var members []member
	add := func(id order.ID, key string) {
		m := member{id: id, key: key}
		if so, ok := ss[key]; ok {
			m.status = so.OrderStatus
		}
		for _, l := range labels[key] {
			if !l.Voided {
				m.live = append(m.live, l)
			}
		}
		members = append(members, m)
	}
	if isAmazon {
		add(o.LedgerID(), amazonKey)
		if !o.Visible && members[0].status != "" {
			problem("the Amazon order is in ShipStation (%s) though the hub never saw it", members[0].status)
		}
	}
	liveCopy := 0
	bcStatus := map[int]int{}
	for _, id := range o.Copies {
		add(order.ID(CopyKey(id)), CopyKey(id))
		if bo, ok := e.Sandbox.Order(StoreHash, id); ok {
			bcStatus[id] = bo.StatusID
			if bo.StatusID != sandbox.StatusCancelled {
				liveCopy = id
			}
		}
	}
	var open []member
	var live []sandbox.SSShipment
	for _, m := range members {
		if openStatus(m.status) {
			open = append(open, m)
		}
		live = append(live, m.live...)
	}
	res.shipped = len(live) > 0
	openKeys := func() string {
		var ks []string
		for _, m := range open {
			ks = append(ks, m.key+" "+m.status)
		}
		return strings.Join(ks, ", ")
	}

	switch {
	case o.Cancelled && res.shipped:
		problem("cancelled, and yet %d live labels", len(live))
	case o.Cancelled:
		if len(open) > 0 {
			problem("cancelled, but open in ShipStation: %s", openKeys())
		}
	case res.shipped:
		if !o.Shipped && o.ShippedKey == "" && !slices.Contains(o.Ran, string(DedupeShip)) && !e.Sandbox.WarehouseEnabled() {
			problem("%d live labels though nothing shipped it", len(live))
		}
		if len(open) > 0 {
			problem("shipped, but still open in ShipStation: %s", openKeys())
		}
		tracking := map[string]int{}
		for _, l := range live {
			tracking[l.TrackingNumber]++
		}
		if isAmazon {
			pkgs := e.Amazon.Packages(o.OrderID)
			res.amazonConfirmations = len(pkgs)
			switch {
			case len(pkgs) != 1:
				problem("%d packages on Amazon for %d live labels, want 1 (%s confirms the first package)", len(pkgs), len(live), AmazonUSStore)
			case tracking[pkgs[0].TrackingNumber] == 0:
				problem("the Amazon package's tracking is no live label's")
			}
		}
		switch {
		case liveCopy != 0:
			got := map[string]int{}
			for _, sh := range e.Sandbox.Shipments(StoreHash, liveCopy) {
				got[sh.TrackingNumber]++
			}
			for tr := range tracking {
				if got[tr] != 1 {
					problem("the live copy %d has %d BigCommerce shipments with a label's tracking, want 1", liveCopy, got[tr])
				}
			}
			for tr, n := range got {
				if tracking[tr] == 0 {
					problem("the live copy %d has %d BigCommerce shipments with a tracking no live label has", liveCopy, n)
				}
			}
		case len(o.Copies) > 0:
			problem("shipped, but no copy is live (copies %v)", o.Copies)
		}
	default:
		if len(o.Copies) == 0 && !isAmazon {
			break // an eBay order never copied: nothing to ship
		}
		want := amazonKey
		if !isAmazon {
			want = CopyKey(liveCopy)
			if liveCopy == 0 {
				problem("open, but no copy is live (copies %v)", o.Copies)
				break
			}
		}
		if len(open) != 1 || open[0].key != want || open[0].status != "awaiting_shipment" {
			problem("want exactly %s awaiting shipment, open: [%s]", want, openKeys())
		}
	}
	for _, id := range o.Copies {
		if len(e.Sandbox.Shipments(StoreHash, id)) > 0 {
			res.bcConfirmations += len(e.Sandbox.Shipments(StoreHash, id))
			if id != liveCopy {
				problem("copy %d (BigCommerce status %d) has BigCommerce shipments, but is not the live copy", id, bcStatus[id])
			}
		}
	}

	// The identity.
	x, err := e.Ledger.Identity(ctx, o.Key())
	if errs.Is(err, errs.NotFound) {
		if len(members) > 0 && (o.Visible || slices.ContainsFunc(members, func(m member) bool { return m.status != "" })) {
			problem("no identity %s in the ledger", o.Key())
		}
		return res
	}
	if err != nil {
		problem("read identity: %v", err)
		return res
	}
	res.members = len(x.Members)
	for _, m := range x.Members {
		if m.ID != x.Primary {
			res.hidden++
		}
	}
	known := map[order.ID]member{}
	for _, m := range members {
		known[m.id] = m
	}
	for _, m := range x.Members {
		if _, ok := known[m.ID]; !ok {
			problem("identity member %s is none of the real order's", m.ID)
		}
	}
	for _, m := range members {
		xm, ok := x.Member(m.id)
		if !ok {
			if m.status != "" {
				problem("%s is in ShipStation (%s) but no member of identity %s", m.key, m.status, x.Key)
			}
			continue
		}
		if len(m.live) > 0 && !xm.Labelled {
			problem("%s has a live label, but identity %s does not record it labelled", m.id, x.Key)
		}
	}
	primary, ok := x.Member(x.Primary)
	switch {
	case !ok:
		problem("identity %s names primary %q, no member (%d members)", x.Key, x.Primary, len(x.Members))
	case x.Labelled():
		if !primary.Labelled {
			problem("identity %s: primary %s has no label, though a member has one", x.Key, x.Primary)
		}
	case isAmazon:
		if _, member := x.Member(o.LedgerID()); member && x.Primary != o.LedgerID() {
			problem("identity %s: primary %s, want the Amazon order", x.Key, x.Primary)
		}
	case !o.Cancelled && liveCopy != 0 && x.Primary != order.ID(CopyKey(liveCopy)):
		problem("identity %s: primary %s, want the live copy %d", x.Key, x.Primary, liveCopy)
	}
	pushedOpen := 0
	for _, m := range x.Members {
		km := known[m.ID]
		if !openStatus(km.status) {
			continue
		}
		rec, err := e.Ledger.Get(ctx, m.ID)
		if err != nil {
			problem("read %s: %v", m.ID, err)
			continue
		}
		if rec.State == ledger.StatePushed {
			pushedOpen++
		}
		if x.Hidden(m.ID) {
			problem("%s is hidden (primary %s) but %s in ShipStation, ledger state %s", m.ID, x.Primary, km.status, rec.State)
		}
	}
	if pushedOpen > 1 {
		problem("%d members pushed with their ShipStation orders open", pushedOpen)
	}
	return res
}

// LogCounts are counts read from the functions' logs and metrics as they
// are written (the demo's only cheap source for them).
type LogCounts struct {
	// RuleDecisions: automation rules that matched an order at import
	// (each is an order.EventRuleDecide in the order's history; the demo's
	// configuration has no rules, so 0 unless a test adds some).
	RuleDecisions int64
	// PrimaryDecisions: an identity's primary decided or moved (ingest's
	// "identity primary decided", relay's "the labelled order is the
	// primary of its identity now").
	PrimaryDecisions int64
	// DuplicatesHidden: members the push recorded hidden (metric
	// DuplicatesHidden; members never sent are skipped by ingest and not
	// counted here).
	DuplicatesHidden int64
	// LinkedNotifications: notifications planned for another member than
	// the labelled one (metric NotificationsLinked).
	LinkedNotifications int64
	// LabelsIgnored: labels the relay ignored as not shiprelay's (their
	// orderKey unknown to the ledger when they came); the label pull reads
	// them again.
	LabelsIgnored int64
}

// LogCounts returns the counts so far.
func (e *Env) LogCounts() LogCounts {
	if e.tap == nil {
		return LogCounts{}
	}
	return LogCounts{
		RuleDecisions: e.tap.rules.Load(), PrimaryDecisions: e.tap.primary.Load(),
		DuplicatesHidden: e.tap.hidden.Load(), LinkedNotifications: e.tap.linked.Load(),
		LabelsIgnored: e.tap.ignored.Load(),
	}
}

// logTap passes the functions' log and metric lines on, counting a few
// kinds of them. Each Write is one record (slog and the EMF writer write
// a record at a time).
type logTap struct {
	w                                       io.Writer
	rules, primary, hidden, linked, ignored atomic.Int64
}

var (
	tapRules    = []byte(`"msg":"ingest: rules matched"`)
	tapPrimary  = []byte(`"msg":"ingest: identity primary decided"`)
	tapRelayPri = []byte(`"msg":"relay: the labelled order is the primary of its identity now"`)
	tapHidden   = []byte(`"DuplicatesHidden":`)
	tapLinked   = []byte(`"NotificationsLinked":`)
	tapIgnored  = []byte(`"msg":"relay: label for an order shiprelay did not push; ignored"`)
)

func (l *logTap) Write(p []byte) (int, error) {
	switch {
	case bytes.Contains(p, tapRules):
		var rec struct {
			Rules []json.RawMessage `json:"rules"`
		}
		if json.Unmarshal(bytes.TrimSpace(p), &rec) == nil && len(rec.Rules) > 0 {
			l.rules.Add(int64(len(rec.Rules)))
		} else {
			l.rules.Add(1)
		}
	case bytes.Contains(p, tapPrimary), bytes.Contains(p, tapRelayPri):
		l.primary.Add(1)
	case bytes.Contains(p, tapHidden):
		l.hidden.Add(1)
	case bytes.Contains(p, tapLinked):
		l.linked.Add(1)
	case bytes.Contains(p, tapIgnored):
		l.ignored.Add(1)
	}
	return l.w.Write(p)
}
