package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// BigCommerce's Standard/Plus quota, which the confirmation bench drains against.
const (
	confirmQuota  = sandbox.DefaultBigCommerceQuota  // 150
	confirmWindow = sandbox.DefaultBigCommerceWindow // 30 s
)

// ConfirmBenchOptions configure ConfirmBench.
type ConfirmBenchOptions struct {
	// Confirmations is the number of planned notifications drained (default 2000).
	Confirmations int
	// TimeScale divides BigCommerce's 30 s window (default 10: 150 requests
	// per 3 s). 1 runs in real time (2,000 confirmations take ~13 minutes).
	TimeScale float64
	// Timeout bounds the drain (default 3 × the bound + 2 minutes).
	Timeout time.Duration
	// LogWriter receives the functions' logs.
	LogWriter io.Writer
	// Seed makes the orders reproducible (default 11).
	Seed uint64
}

// ConfirmBenchResult is what ConfirmBench measured.
type ConfirmBenchResult struct {
	Confirmations int
	TimeScale     float64
	Quota         int
	Window        time.Duration // the sandbox's window, scaled
	Elapsed       time.Duration
	// Requests are the BigCommerce API requests of the drain, by route.
	Requests int64
	ByRoute  map[string]int64
	// TooMany are the 429s the sandbox answered during the drain.
	TooMany int64
	// Bound is the fastest the quota allows: the first window's quota is
	// free at t=0, every further quota needs one more window.
	Bound time.Duration
	// Lost are orders without a BigCommerce shipment carrying their
	// tracking number; Duplicated are shipments beyond the one expected.
	Lost, Duplicated int
	// Unconfirmed are notifications the ledger does not hold as confirmed
	// with the channel's shipment id; Dead are dead-lettered messages.
	Unconfirmed, Dead int
}

// Ratio is Elapsed / Bound; time scaling changes both alike.
func (r ConfirmBenchResult) Ratio() float64 {
	if r.Bound <= 0 {
		return math.Inf(1)
	}
	return r.Elapsed.Seconds() / r.Bound.Seconds()
}

// Passed says nothing was lost, duplicated, left unconfirmed or dead-lettered.
func (r ConfirmBenchResult) Passed() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Unconfirmed == 0 && r.Dead == 0
}

// ConfirmBound is the theoretical minimum time to serve requests under a
// fixed window of quota requests: max(0, requests − quota) / quota × window
// (the first window's quota is served at t=0).
func ConfirmBound(requests int64, quota int, window time.Duration) time.Duration {
	if quota <= 0 {
		return 0
	}
	extra := max(0, requests-int64(quota))
	return time.Duration(float64(extra) / float64(quota) * float64(window))
}

// Print writes the result as `make bench` shows it.
func (r ConfirmBenchResult) Print(w io.Writer) {
	per := 0.0
	if r.Confirmations > 0 {
		per = float64(r.Requests) / float64(r.Confirmations)
	}
	routes := make([]string, 0, len(r.ByRoute))
	for k, v := range r.ByRoute {
		routes = append(routes, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(routes)
	fmt.Fprintf(w, "BigCommerce confirmations drained: %d in %.1fs; %d requests (%.2f per confirmation); bound %.1fs at %d/%v; ratio %.1f/%.1f = %.2f; lost %d, duplicated %d\n",
		r.Confirmations, r.Elapsed.Seconds(), r.Requests, per, r.Bound.Seconds(), r.Quota, r.Window,
		r.Elapsed.Seconds(), r.Bound.Seconds(), r.Ratio(), r.Lost, r.Duplicated)
	fmt.Fprintf(w, "  requests: %s; 429s %d; unconfirmed %d; dead letters %d\n", strings.Join(routes, ", "), r.TooMany, r.Unconfirmed, r.Dead)
	if r.TimeScale != 1 {
		fmt.Fprintf(w, "  time scaled ×%g: the sandbox allows %d per %v (BigCommerce: %d per %v) and the store is declared at requestsPer30s: %d, the same rate;\n",
			r.TimeScale, r.Quota, r.Window, confirmQuota, confirmWindow, scaledQuota(r.TimeScale))
		fmt.Fprintf(w, "  bound = max(0, requests−%d)/%d × %v; the ratio is scale-free as long as the notify function outpaces the quota (unscaled: %.0fs vs bound %.0fs)\n",
			r.Quota, r.Quota, r.Window, r.Elapsed.Seconds()*r.TimeScale, r.Bound.Seconds()*r.TimeScale)
	} else {
		fmt.Fprintf(w, "  bound = max(0, requests−%d)/%d × %v\n", r.Quota, r.Quota, r.Window)
	}
}

// scaledQuota is the requestsPer30s that declares quota per (30 s / scale):
// the config only speaks of 30 s windows, so a scaled window is declared as
// the same rate over 30 s.
func scaledQuota(scale float64) int { return int(math.Round(confirmQuota * scale)) }

// ConfirmBench measures how fast the BigCommerce notify function drains
// planned confirmations against BigCommerce's 150 requests per 30 s. It
// starts its own Env (own table and queues), creates one single-line
// awaiting-fulfilment order per confirmation in the sandbox, writes each to
// the ledger with one planned notification, and only then enqueues every
// notify message and starts the clock. The clock stops when every order has
// its BigCommerce shipment and every queue is empty.
func ConfirmBench(ctx context.Context, o ConfirmBenchOptions) (ConfirmBenchResult, error) {
	if o.Confirmations <= 0 {
		o.Confirmations = 2000
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 10
	}
	if o.Seed == 0 {
		o.Seed = 11
	}
	n := o.Confirmations
	window := time.Duration(float64(confirmWindow) / o.TimeScale)
	res := ConfirmBenchResult{Confirmations: n, TimeScale: o.TimeScale, Quota: confirmQuota, Window: window}
	if o.Timeout <= 0 {
		o.Timeout = 3*ConfirmBound(int64(2*n), confirmQuota, window) + 2*time.Minute
	}

	// No schedules: the poll and the label pull would spend the same
	// BigCommerce budget, and nothing but notify is measured.
	env, err := Up(ctx, EnvOptions{HTTPAddr: "127.0.0.1:0", DisableSchedules: true, LogWriter: o.LogWriter, BigCommerceQuota: scaledQuota(o.TimeScale)})
	if err != nil {
		return res, err
	}
	defer env.Down()
	// The setup is not rate-limited (it is not what is measured).
	env.Sandbox.SetBigCommerceRateLimit(math.MaxInt32, window)
	// The store's webhook subscription goes: a shipment fires
	// store/order/statusUpdated, whose re-import would share the budget.
	if err := env.deleteBigCommerceHooks(ctx); err != nil {
		return res, err
	}

	// Orders in BigCommerce, then in the ledger as the ingest writes them
	// (normalised from the wire), each with one planned notification.
	rng := rand.New(rand.NewPCG(o.Seed, 0x636f6e66)) // "conf"
	ids := make([]int, 0, n)
	for len(ids) < n {
		spec := sandbox.GenerateOrder(rng)
		if len(spec.ShippingAddresses) == 0 {
			continue // digital only
		}
		var line *sandbox.LineSpec
		for i := range spec.Lines {
			if spec.Lines[i].Type == "" || spec.Lines[i].Type == "physical" {
				line = &spec.Lines[i]
				break
			}
		}
		if line == nil {
			continue
		}
		l := *line
		l.AddressIndex = 0
		spec.StatusID = sandbox.StatusAwaitingFulfillment
		spec.ShippingAddresses = spec.ShippingAddresses[:1]
		spec.Lines = []sandbox.LineSpec{l}
		bo, err := env.Sandbox.CreateOrder(spec)
		if err != nil {
			return res, err
		}
		ids = append(ids, bo.ID)
	}
	client := &bigcommerce.Client{BaseURL: env.BCURL, StoreHash: StoreHash, AccessToken: bcToken}
	tracking := make(map[int]string, n)
	msgs := make([]queue.Message, n)
	var mu sync.Mutex
	err = parallel(ctx, 8, len(ids), func(ctx context.Context, i int) error {
		id := ids[i]
		ord, err := fetchNormalized(ctx, client, int64(id))
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if _, _, err := env.Ledger.Upsert(ctx, ord, ledger.StatePushed, now, now); err != nil {
			return fmt.Errorf("order %d: ledger: %w", id, err)
		}
		key := shipStationAcc + ":" + strconv.Itoa(800000+i)
		nt := shipment.Notification{
			ID:          shipment.NotificationID(key, ord.ID, ""),
			ShipmentKey: key, OrderID: ord.ID, Channel: order.BigCommerce, StoreID: StoreID,
			TrackingNumber: fmt.Sprintf("9400111899%012d", 560000000+i),
			CarrierCode:    "stamps_com", ServiceCode: "usps_first_class_mail",
			ShipDate: now, State: shipment.Planned, PlannedAt: now,
		}
		for _, it := range ord.ItemsOf("") {
			nt.Lines = append(nt.Lines, shipment.Line{LineID: it.LineID, SKU: it.SKU, Quantity: it.Quantity})
		}
		if len(nt.Lines) != 1 {
			return fmt.Errorf("order %d: %d lines in the ledger, want 1", id, len(nt.Lines))
		}
		if ok, err := env.Ledger.PlanNotification(ctx, nt); err != nil || !ok {
			return fmt.Errorf("order %d: plan notification (new %v): %v", id, ok, err)
		}
		body, _ := json.Marshal(queue.Notify{OrderID: ord.ID, NotificationID: nt.ID})
		mu.Lock()
		tracking[id] = nt.TrackingNumber
		msgs[i] = queue.Message{Body: body}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("confirm bench setup: %w", err)
	}

	// BigCommerce's quota from here on (the counters restart), and the clock.
	env.Sandbox.SetBigCommerceRateLimit(confirmQuota, window)
	before := env.Sandbox.Stats().BigCommerce
	q := &sqs.Queue{Client: env.sqsClient(), URL: env.Runner.QueueURL("NotifyBigCommerceQueue")}
	t0 := time.Now()
	if err := q.Send(ctx, msgs...); err != nil {
		return res, err
	}
	for {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if env.Sandbox.Stats().BigCommerce.Shipments-before.Shipments >= n {
			inFlight, dead, err := env.Queues(ctx)
			if err != nil {
				return res, err
			}
			if inFlight == 0 {
				res.Dead = dead
				break
			}
		}
		if time.Since(t0) > o.Timeout {
			got := env.Sandbox.Stats().BigCommerce.Shipments - before.Shipments
			return res, fmt.Errorf("confirm bench: %d of %d BigCommerce shipments after %v", got, n, o.Timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.Elapsed = time.Since(t0)
	after := env.Sandbox.Stats().BigCommerce

	res.Requests = after.Requests - before.Requests
	res.ByRoute = map[string]int64{}
	for k, v := range after.RequestsByRoute {
		if d := v - before.RequestsByRoute[k]; d > 0 {
			res.ByRoute[k] = d
		}
	}
	res.TooMany = after.Total429 - before.Total429
	res.Bound = ConfirmBound(res.Requests, confirmQuota, window)

	// Exactly one shipment per order, with its tracking number, on the
	// order's address and line; the ledger holds each notification as
	// confirmed with that shipment's id.
	for _, id := range ids {
		shs := env.Sandbox.Shipments(StoreHash, id)
		match := 0
		for _, sh := range shs {
			if sh.TrackingNumber == tracking[id] {
				match++
			}
		}
		if match == 0 {
			res.Lost++
		}
		res.Duplicated += max(0, len(shs)-1)
	}
	res.Unconfirmed, err = env.unconfirmed(ctx, ids)
	return res, err
}

// fetchNormalized reads an order as the ingest does (order, lines,
// addresses) and normalises it.
func fetchNormalized(ctx context.Context, c *bigcommerce.Client, id int64) (order.Order, error) {
	bo, err := c.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, err
	}
	products, err := c.Products(ctx, id)
	if err != nil {
		return order.Order{}, err
	}
	addrs, err := c.ShippingAddresses(ctx, id)
	if err != nil {
		return order.Order{}, err
	}
	o, disp, err := bigcommerce.Normalize(StoreID, bo, products, addrs)
	if err != nil {
		return order.Order{}, err
	}
	if disp != order.Import || len(o.ShipGroups) != 1 || o.ShipGroups[0].ChannelRef == "" {
		return order.Order{}, fmt.Errorf("order %d: disposition %v, %d ship groups: not a single-destination importable order", id, disp, len(o.ShipGroups))
	}
	return o, nil
}

// unconfirmed counts the orders whose notification is not confirmed in the
// ledger with the id of a BigCommerce shipment of the order.
func (e *Env) unconfirmed(ctx context.Context, ids []int) (int, error) {
	var mu sync.Mutex
	bad := 0
	err := parallel(ctx, 8, len(ids), func(ctx context.Context, i int) error {
		id := ids[i]
		oid, err := order.NewID(order.BigCommerce, StoreID, strconv.Itoa(id))
		if err != nil {
			return err
		}
		ns, err := e.Ledger.Notifications(ctx, oid)
		if err != nil {
			return err
		}
		ok := len(ns) == 1 && ns[0].State == shipment.Confirmed
		if ok {
			ok = false
			for _, sh := range e.Sandbox.Shipments(StoreHash, id) {
				if strconv.Itoa(sh.ID) == ns[0].ChannelRef {
					ok = true
				}
			}
		}
		if !ok {
			mu.Lock()
			bad++
			mu.Unlock()
		}
		return nil
	})
	return bad, err
}

// deleteBigCommerceHooks removes the store's webhook subscriptions through
// the BigCommerce API (DELETE /v3/hooks/{id}).
func (e *Env) deleteBigCommerceHooks(ctx context.Context) error {
	for _, h := range e.Sandbox.Webhooks(StoreHash) {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, fmt.Sprintf("%s/stores/%s/v3/hooks/%d", e.BCURL, StoreHash, h.ID), nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Auth-Token", bcToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("delete BigCommerce hook %d: %s", h.ID, resp.Status)
		}
	}
	if left := len(e.Sandbox.Webhooks(StoreHash)); left != 0 {
		return fmt.Errorf("%d BigCommerce hooks left after deleting them", left)
	}
	return nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errc)
	var errsOut []error
	for err := range errc {
		errsOut = append(errsOut, err)
	}
	if len(errsOut) > 0 {
		return errsOut[0]
	}
	return ctx.Err()
}
