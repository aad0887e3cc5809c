package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Expectation is what ShipStation must hold for one BigCommerce order,
// derived from the sandbox's own data (not from shiprelay's ledger).
type Expectation struct {
	OrderID int
	// Keys are the ShipStation orderKeys the order must have (one per
	// address with physical lines); empty means "must not be there".
	Keys []string
	// Status is the ShipStation status those orders must be in.
	Status order.Status
	// MayBeAbsent: the order was cancelled or shipped, and shiprelay may
	// never have seen it open (then it is rightly not created).
	MayBeAbsent bool
}

// Expect derives the expectation for a sandbox order.
func Expect(o sandbox.BCOrder) Expectation {
	ex := Expectation{OrderID: o.ID}
	status, disp, known := order.BigCommerceStatus(o.StatusID)
	if !known || disp == order.Ignore {
		return ex
	}
	addrs := map[int]bool{}
	for _, l := range o.Lines {
		if l.Type == "physical" && l.Quantity > 0 {
			addrs[l.OrderAddressID] = true
		}
	}
	if len(addrs) == 0 {
		return ex
	}
	base := fmt.Sprintf("bigcommerce:%s:%d", StoreID, o.ID)
	if len(addrs) == 1 {
		ex.Keys = []string{base}
	} else {
		for a := range addrs {
			ex.Keys = append(ex.Keys, base+"/"+strconv.Itoa(a))
		}
		sort.Strings(ex.Keys)
	}
	ex.Status = status
	ex.MayBeAbsent = status == order.Cancelled || status == order.Shipped
	return ex
}

// Report compares the sandbox ShipStation with what every BigCommerce order
// requires.
type Report struct {
	Orders      int // BigCommerce orders generated
	Expected    int // ShipStation orders that must exist
	Present     int // of those, present with the right status
	Missing     []string
	WrongStatus []string
	Unexpected  []string // ShipStation orders no BigCommerce order asks for
	Duplicates  int
	// CancelledAfterShipping are orders cancelled on BigCommerce after
	// ShipStation labelled them: nothing can unship them, so each must be
	// an exception for a person (checked by the caller).
	CancelledAfterShipping []int
}

// OK reports whether ShipStation holds exactly what it should.
func (r Report) OK() bool {
	return len(r.Missing) == 0 && len(r.WrongStatus) == 0 && len(r.Unexpected) == 0 && r.Duplicates == 0
}

// Check builds the report.
func (e *Env) Check() Report {
	ss := map[string]sandbox.SSOrderInfo{}
	for _, i := range e.Sandbox.ShipStationOrderInfos() {
		ss[i.OrderKey] = i
	}
	var r Report
	wanted := map[string]bool{}
	copies := map[int]bool{}
	for _, o := range e.Sandbox.Orders(StoreHash) {
		if isCopy(o) { // a marketplace copy: see CheckDedupe
			copies[o.ID] = true
			continue
		}
		r.Orders++
		ex := Expect(o)
		for _, k := range ex.Keys {
			wanted[k] = true
			got, ok := ss[k]
			switch {
			case ok && ex.Status == order.Cancelled && got.OrderStatus == "shipped":
				r.Expected++
				r.Present++
				r.CancelledAfterShipping = append(r.CancelledAfterShipping, o.ID)
			case !ok && ex.MayBeAbsent:
			case !ok:
				r.Expected++
				r.Missing = append(r.Missing, k)
			case got.OrderStatus != string(ex.Status) && !(got.OrderStatus == "shipped" && o.ItemsShipped() > 0):
				// (ShipStation shipped it and BigCommerce heard of it: the
				// channel may say partially shipped while the labels of one
				// ship group are all out.)
				r.Expected++
				r.WrongStatus = append(r.WrongStatus, fmt.Sprintf("%s is %s, want %s", k, got.OrderStatus, ex.Status))
			default:
				r.Expected++
				r.Present++
			}
		}
	}
	for k := range ss {
		if id, ok := bcOrderOf(k); ok && copies[id] {
			continue
		}
		if !wanted[k] && !strings.HasPrefix(k, "amazon:") { // Amazon's: see CheckAmazon
			r.Unexpected = append(r.Unexpected, k)
		}
	}
	sort.Strings(r.Missing)
	sort.Strings(r.Unexpected)
	r.Duplicates = e.Sandbox.ShipStationDuplicates().Total
	return r
}

// Latencies returns, for every order whose store/order/created webhook was
// delivered, the time from the order's creation (when BigCommerce fired the
// webhook) to its first ShipStation order; and how many orders reached
// ShipStation without a delivered created-webhook (caught by the poll).
func (e *Env) Latencies() (viaWebhook []time.Duration, viaPoll int) {
	delivered := map[int]bool{}
	for _, d := range e.Sandbox.WebhookLog() {
		if d.Scope != "store/order/created" || !d.Delivered {
			continue
		}
		var p struct {
			Data struct {
				ID int `json:"id"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(d.Body), &p) == nil {
			delivered[p.Data.ID] = true
		}
	}
	created := e.Sandbox.ShipStationCreatedAt()
	for _, o := range e.Sandbox.Orders(StoreHash) {
		if isCopy(o) {
			continue
		}
		var first time.Time
		for _, k := range Expect(o).Keys {
			if t, ok := created[k]; ok && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		if first.IsZero() {
			continue
		}
		if delivered[o.ID] {
			viaWebhook = append(viaWebhook, first.Sub(o.DateCreated))
		} else {
			viaPoll++
		}
	}
	return viaWebhook, viaPoll
}

// Percentile returns the p-th percentile (0–100) of ds by nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(p/100*float64(len(s))+0.999999) - 1
	idx = max(0, min(idx, len(s)-1))
	return s[idx]
}

// Queues returns the visible+in-flight messages of the work queues and of
// the dead-letter queues.
func (e *Env) Queues(ctx context.Context) (inFlight, dead int, err error) {
	st, err := e.Runner.Status(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, q := range st.Queues {
		n := q.Visible + q.InFlight + q.Delayed
		if len(q.DeadLetterFor) > 0 {
			dead += n
		} else {
			inFlight += n
		}
	}
	return inFlight, dead, nil
}
