package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/notify"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// DefaultAmazonBenchSpeedUp is AmazonConfirmBench's default time scale:
// confirmShipment refills at 80 per second instead of 2, so 5,000
// confirmations take about a minute instead of 42.
const DefaultAmazonBenchSpeedUp = 40

// The queues of the Amazon notify function (template.yaml logical ids).
const (
	notifyAmazonQueue = "NotifyAmazonQueue"
	notifyAmazonDLQ   = "NotifyAmazonDLQ"
)

// amazonBenchIncluded is what the ingest reads of an order (as
// shared/app's getOrder): enough to normalise it.
var amazonBenchIncluded = []string{"BUYER", "RECIPIENT", "FULFILLMENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "PACKAGES", "TAX"}

// AmazonConfirmBenchOptions configure AmazonConfirmBench.
type AmazonConfirmBenchOptions struct {
	// Confirmations is the number of planned notifications drained
	// (default 5000), one per order, all on AmazonUSStore.
	Confirmations int
	// SpeedUp multiplies Amazon's refill rates, the sandbox's and the
	// functions' budget alike (default DefaultAmazonBenchSpeedUp); bursts
	// stay Amazon's. 1 runs in real time (5,000 confirmations then take
	// about 42 minutes).
	SpeedUp float64
	// Timeout bounds the drain (default 3 × the bound + 2 minutes).
	Timeout time.Duration
	// LogWriter receives the functions' logs.
	LogWriter io.Writer
	// Seed makes the orders reproducible (default 13).
	Seed uint64
}

// AmazonConfirmBenchResult is what AmazonConfirmBench measured.
type AmazonConfirmBenchResult struct {
	Confirmations int
	SpeedUp       float64
	// Rate (scaled, per second) and Burst are confirmShipment's usage plan
	// in the sandbox.
	Rate  float64
	Burst int
	// Elapsed runs from the enqueueing of the notify messages to the last
	// of the confirmations: the later of the last package Amazon recorded
	// and the last notification the ledger holds as confirmed.
	Elapsed time.Duration
	// Requests are the SP-API requests of the drain (429s included), by
	// operation.
	Requests    int64
	ByOperation map[string]int64
	// TooMany are the 429s the sandbox answered during the drain (empty
	// buckets and injected ones).
	TooMany int64
	// Bound is the fastest confirmShipment's token bucket allows:
	// max(0, Confirmations − Burst) / Rate.
	Bound time.Duration
	// Lost are orders without exactly one package carrying their tracking
	// number; Duplicated are packages beyond one per order plus packages
	// Amazon edited (a confirmation sent twice).
	Lost, Duplicated int
	// Unconfirmed are notifications the ledger does not hold as confirmed
	// with the reference of the order's package; Dead are messages in
	// NotifyAmazonDLQ.
	Unconfirmed, Dead int
	// VerifyPending are the messages left on NotifyAmazonQueue once the
	// drain is over: the read-backs each confirmation schedules
	// VerifyAfter later (one per confirmation, less those already done,
	// which getOrder counts), not part of the drain.
	VerifyPending int
	VerifyAfter   time.Duration
}

// Ratio is Elapsed / Bound; the time scale changes both alike.
func (r AmazonConfirmBenchResult) Ratio() float64 {
	if r.Bound <= 0 {
		return math.Inf(1)
	}
	return r.Elapsed.Seconds() / r.Bound.Seconds()
}

// Passed says nothing was lost, duplicated, left unconfirmed or dead-lettered.
func (r AmazonConfirmBenchResult) Passed() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Unconfirmed == 0 && r.Dead == 0
}

// AmazonConfirmBound is the theoretical minimum time to make calls requests
// against a token bucket refilled at rate per second holding at most burst
// tokens, full at the start: max(0, calls − burst) / rate.
func AmazonConfirmBound(calls int64, rate float64, burst int) time.Duration {
	if rate <= 0 {
		return 0
	}
	extra := max(0, calls-int64(burst))
	return time.Duration(float64(extra) / rate * float64(time.Second))
}

// Print writes the result as `make bench` shows it.
func (r AmazonConfirmBenchResult) Print(w io.Writer) {
	per := 0.0
	if r.Confirmations > 0 {
		per = float64(r.Requests) / float64(r.Confirmations)
	}
	ops := make([]string, 0, len(r.ByOperation))
	for k, v := range r.ByOperation {
		ops = append(ops, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(ops)
	if len(ops) == 0 {
		ops = []string{"none"}
	}
	base := r.Rate
	if r.SpeedUp > 0 {
		base = r.Rate / r.SpeedUp
	}
	fmt.Fprintf(w, "Amazon confirmations drained: %d in %.1fs; %d requests (%.2f per confirmation); bound %.1fs at %g/s burst %d ×%g; ratio %.2f; lost %d, duplicated %d\n",
		r.Confirmations, r.Elapsed.Seconds(), r.Requests, per, r.Bound.Seconds(), base, r.Burst, r.SpeedUp, r.Ratio(), r.Lost, r.Duplicated)
	fmt.Fprintf(w, "  requests: %s; 429s %d; unconfirmed %d; dead letters %d; verify messages pending %d (read-backs due %v after each confirmation, not part of the drain)\n",
		strings.Join(ops, ", "), r.TooMany, r.Unconfirmed, r.Dead, r.VerifyPending, r.VerifyAfter)
	if r.SpeedUp != 1 {
		fmt.Fprintf(w, "  time scaled ×%g: confirmShipment refills at %g/s (Amazon: %g/s), burst %d, in the sandbox and in the functions' budget; bound = max(0, %d−%d)/%g/s; unscaled: %.0fs vs bound %.0fs\n",
			r.SpeedUp, r.Rate, base, r.Burst, r.Confirmations, r.Burst, r.Rate, r.Elapsed.Seconds()*r.SpeedUp, r.Bound.Seconds()*r.SpeedUp)
	} else {
		fmt.Fprintf(w, "  bound = max(0, %d−%d)/%g/s\n", r.Confirmations, r.Burst, r.Rate)
	}
}

// amazonBenchOrder is one order of the bench and what it must end with.
type amazonBenchOrder struct {
	OrderID        string   // Amazon's order id
	ID             order.ID // the ledger's
	NotificationID string
	TrackingNumber string
	// PackageRef is the packageReferenceId the confirmation must use (the
	// label's ShipStation shipment id).
	PackageRef string
}

// AmazonConfirmBench measures how fast the Amazon notify function drains
// planned confirmations against confirmShipment's usage plan (2 per second,
// burst 10, scaled by SpeedUp). It starts its own Env (own table and
// queues, no schedules, no ORDER_CHANGE pump), creates one single-line
// UNSHIPPED merchant order per confirmation in the sandbox's Amazon,
// writes each to the ledger as the ingest would (normalised from getOrder
// on an unthrottled copy of the sandbox, so the setup spends none of the
// measured budget) with one label and one planned notification, and only
// then enqueues every notify message and starts the clock. The clock stops
// when every order has its package on Amazon and every notification is
// confirmed in the ledger; the read-backs the function schedules after
// each confirmation (settings.verifyAfter; 2 minutes by default) are
// counted, not waited for: any that fall due during the drain compete
// with it, as they would in production.
func AmazonConfirmBench(ctx context.Context, o AmazonConfirmBenchOptions) (AmazonConfirmBenchResult, error) {
	return amazonConfirmBench(ctx, o, nil)
}

// amazonConfirmBench is AmazonConfirmBench; inspect, if not nil, is called
// with the Env and the orders once the result is complete, before the Env
// goes down.
func amazonConfirmBench(ctx context.Context, o AmazonConfirmBenchOptions, inspect func(*Env, []amazonBenchOrder)) (AmazonConfirmBenchResult, error) {
	if o.Confirmations <= 0 {
		o.Confirmations = 5000
	}
	if o.SpeedUp <= 0 {
		o.SpeedUp = DefaultAmazonBenchSpeedUp
	}
	if o.Seed == 0 {
		o.Seed = 13
	}
	n := o.Confirmations
	plan := sandbox.DefaultAmazonRates()[sandbox.AmazonOpConfirmShipment]
	res := AmazonConfirmBenchResult{Confirmations: n, SpeedUp: o.SpeedUp, Rate: plan.Rate * o.SpeedUp, Burst: plan.Burst}
	res.Bound = AmazonConfirmBound(int64(n), res.Rate, res.Burst)
	if o.Timeout <= 0 {
		o.Timeout = 3*res.Bound + 2*time.Minute
	}
	setup := AmazonStore(AmazonUSStore)
	if setup == nil {
		return res, fmt.Errorf("amazon bench: no demo store %s", AmazonUSStore)
	}

	// No schedules (the poll would spend the seller's budget) and no
	// ORDER_CHANGE pump: nothing but notify runs.
	env, err := Up(ctx, EnvOptions{
		HTTPAddr: "127.0.0.1:0", DisableSchedules: true, NoOrderChangePump: true,
		LogWriter: o.LogWriter, Seed: o.Seed, AmazonSpeedUp: o.SpeedUp,
	})
	if err != nil {
		return res, err
	}
	// Its table and queues go once it is down: the local stack keeps them
	// in memory, and thousands of orders slow every later run.
	drop, err := amazonBenchDropper(ctx, env)
	if err != nil {
		env.Down()
		return res, err
	}
	defer drop()
	defer env.Down()
	res.VerifyAfter = amazonBenchVerifyAfter(env)

	// The orders: generated in-process (no SP-API call) and copied to a
	// private, unthrottled simulator the setup reads them from, so the
	// Env's buckets and counters are untouched until the clock starts.
	mirror := sandbox.NewAmazon(sandbox.AmazonOptions{
		Seed:      o.Seed,
		SearchLag: -1,
		Rates:     map[string]sandbox.AmazonRate{sandbox.AmazonOpGetOrder: {Rate: 1e9, Burst: math.MaxInt32}},
	})
	defer mirror.Close()
	sp, spURL, err := serve(mirror.Handler())
	if err != nil {
		return res, err
	}
	defer stopAmazonBenchServer(sp)
	lwa, lwaURL, err := serve(mirror.LWAHandler())
	if err != nil {
		return res, err
	}
	defer stopAmazonBenchServer(lwa)
	client := &amazon.Client{
		MarketplaceID: setup.MarketplaceID, BaseURL: spURL,
		Tokens: &amazon.LWA{
			BaseURL: lwaURL, ClientID: sandbox.DefaultAmazonClientID,
			ClientSecret: sandbox.DefaultAmazonClientSecret, RefreshToken: sandbox.DefaultAmazonRefreshToken,
		},
	}
	orders := make([]amazonBenchOrder, n)
	for i := range orders {
		ao := env.Amazon.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, MarketplaceID: setup.MarketplaceID})
		mirror.AddOrder(ao)
		orders[i].OrderID = ao.OrderID
	}

	// Each order in the ledger as the ingest writes it, with one label
	// and the notification the relay plans for it.
	msgs := make([]queue.Message, n)
	err = parallel(ctx, 16, n, func(ctx context.Context, i int) error {
		bo := &orders[i]
		wire, err := client.GetOrder(ctx, bo.OrderID, amazonBenchIncluded)
		if err != nil {
			return err
		}
		ord, disp, err := amazon.Normalize(setup.ID, &wire, amazon.NormalizeOptions{ImportFBA: setup.ImportFBA})
		if err != nil {
			return err
		}
		items := ord.ItemsOf("")
		if disp != order.Import || len(items) != 1 {
			return fmt.Errorf("order %s: disposition %v, %d lines: not a single-line importable order", bo.OrderID, disp, len(items))
		}
		now := time.Now().UTC()
		if _, _, err := env.Ledger.Upsert(ctx, ord, ledger.StatePushed, now, now); err != nil {
			return fmt.Errorf("order %s: ledger: %w", bo.OrderID, err)
		}
		sh := shipment.Shipment{
			ID: strconv.Itoa(310000000 + i), Account: shipStationAcc,
			OrderKey: AmazonOrderKey(setup.ID, bo.OrderID), ShipStationOrderID: int64(410000000 + i),
			TrackingNumber: fmt.Sprintf("1Z4A7B0E03%08d", i),
			CarrierCode:    "ups", ServiceCode: "ups_ground",
			ShipDate: now, CreatedAt: now,
			Lines: []shipment.Line{{LineID: items[0].LineID, SKU: items[0].SKU, Quantity: items[0].Quantity}},
		}
		if prev, err := env.Ledger.RecordShipment(ctx, sh, now); err != nil || prev != nil {
			return fmt.Errorf("order %s: record label (recorded before: %v): %v", bo.OrderID, prev != nil, err)
		}
		nt, err := shipment.Plan(sh, shipment.Target{Order: ord}, nil, now)
		if err != nil || nt.State != shipment.Planned || len(nt.Lines) != 1 {
			return fmt.Errorf("order %s: plan notification (%s, %d lines): %v", bo.OrderID, nt.State, len(nt.Lines), err)
		}
		if ok, err := env.Ledger.PlanNotification(ctx, nt); err != nil || !ok {
			return fmt.Errorf("order %s: plan notification (new %v): %v", bo.OrderID, ok, err)
		}
		body, err := json.Marshal(queue.Notify{OrderID: ord.ID, NotificationID: nt.ID})
		if err != nil {
			return err
		}
		bo.ID, bo.NotificationID, bo.TrackingNumber, bo.PackageRef = ord.ID, nt.ID, nt.TrackingNumber, sh.ID
		msgs[i] = queue.Message{Body: body}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("amazon bench setup: %w", err)
	}

	// The clock.
	before := env.Amazon.Stats()
	q := &sqs.Queue{Client: env.sqsClient(), URL: env.Runner.QueueURL(notifyAmazonQueue)}
	t0 := time.Now()
	if err := q.Send(ctx, msgs...); err != nil {
		return res, err
	}
	deadline := t0.Add(o.Timeout)
	for env.Amazon.Stats().PackagesRecorded-before.PackagesRecorded < int64(n) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if time.Now().After(deadline) {
			got := env.Amazon.Stats().PackagesRecorded - before.PackagesRecorded
			return res, fmt.Errorf("amazon bench: %d of %d packages recorded after %v", got, n, o.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Every package is on Amazon: the SP-API requests of the drain are
	// all made (a later confirmShipment would be a duplicate, which the
	// packages show); getOrder counts the read-backs already done.
	drained := env.Amazon.Stats()
	res.ByOperation = map[string]int64{}
	for k, v := range drained.Requests {
		if d := v - before.Requests[k]; d > 0 {
			res.ByOperation[k] = d
			res.Requests += d
		}
	}
	for k, v := range drained.Throttled {
		res.TooMany += v - before.Throttled[k]
	}
	res.TooMany += drained.Injected429 - before.Injected429

	// The ledger records each confirmation just after Amazon's 204, and
	// the function then schedules its read-back: once the ledger holds
	// them all, what is left on the queue are read-backs.
	confirmedAt, notes, err := awaitAmazonBenchConfirmations(ctx, env, orders, deadline)
	if err != nil {
		return res, err
	}
	res.VerifyPending, res.Dead, err = amazonBenchQueues(ctx, env)
	if err != nil {
		return res, err
	}

	// The end of the drain: the last package or confirmation, by the
	// times the sandbox and the function stamped them.
	end := confirmedAt
	pkgs := make([][]sandbox.AmazonPackage, n)
	for i, bo := range orders {
		pkgs[i] = env.Amazon.Packages(bo.OrderID)
		for _, p := range pkgs[i] {
			if p.Created.After(end) {
				end = p.Created
			}
		}
	}
	if len(notes) < n {
		end = time.Now() // some never confirmed: the drain is as long as the wait
	}
	res.Elapsed = end.Sub(t0)

	// Exactly one package per order with its tracking number, under the
	// label's reference; the ledger holds the notification as confirmed
	// with that reference. Edits (a confirmation sent again) count as
	// duplicates whenever they happened.
	res.Duplicated += int(env.Amazon.Stats().PackagesEdited - before.PackagesEdited)
	for i, bo := range orders {
		match := 0
		for _, p := range pkgs[i] {
			if p.TrackingNumber == bo.TrackingNumber {
				match++
			}
		}
		if match != 1 {
			res.Lost++
		}
		res.Duplicated += max(0, len(pkgs[i])-1)
		nt, ok := notes[i]
		ok = ok && nt.ChannelRef == bo.PackageRef
		if ok {
			ok = false
			for _, p := range pkgs[i] {
				if p.PackageReferenceID == nt.ChannelRef {
					ok = true
				}
			}
		}
		if !ok {
			res.Unconfirmed++
		}
	}
	if inspect != nil {
		inspect(env, orders)
	}
	return res, nil
}

// awaitAmazonBenchConfirmations reads the orders' notifications until each is
// confirmed or the deadline passes. It returns the latest ConfirmedAt and
// the confirmed notifications by order index.
func awaitAmazonBenchConfirmations(ctx context.Context, e *Env, orders []amazonBenchOrder, deadline time.Time) (time.Time, map[int]shipment.Notification, error) {
	var (
		mu   sync.Mutex
		last time.Time
	)
	done := make(map[int]shipment.Notification, len(orders))
	pending := make([]int, len(orders))
	for i := range pending {
		pending[i] = i
	}
	for {
		err := parallel(ctx, 16, len(pending), func(ctx context.Context, k int) error {
			i := pending[k]
			ns, err := e.Ledger.Notifications(ctx, orders[i].ID)
			if err != nil {
				return err
			}
			for _, nt := range ns {
				if nt.ID == orders[i].NotificationID && nt.State == shipment.Confirmed {
					mu.Lock()
					done[i] = nt
					if nt.ConfirmedAt.After(last) {
						last = nt.ConfirmedAt
					}
					mu.Unlock()
				}
			}
			return nil
		})
		if err != nil {
			return last, done, err
		}
		left := pending[:0]
		for _, i := range pending {
			if _, ok := done[i]; !ok {
				left = append(left, i)
			}
		}
		pending = left
		if len(pending) == 0 || time.Now().After(deadline) {
			return last, done, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// amazonBenchQueues returns the messages on the Amazon notify queue
// (visible, in flight or delayed) and on its dead-letter queue.
func amazonBenchQueues(ctx context.Context, e *Env) (left, dead int, err error) {
	st, err := e.Runner.Status(ctx)
	if err != nil {
		return 0, 0, err
	}
	nq, ok := st.Queues[notifyAmazonQueue]
	if !ok {
		return 0, 0, fmt.Errorf("no queue %s in the runner", notifyAmazonQueue)
	}
	dq := st.Queues[notifyAmazonDLQ]
	return nq.Visible + nq.InFlight + nq.Delayed, dq.Visible + dq.InFlight + dq.Delayed, nil
}

// amazonBenchVerifyAfter is the read-back delay of env's configuration
// (settings.verifyAfter), or the default when it cannot be read.
func amazonBenchVerifyAfter(env *Env) time.Duration {
	data, err := os.ReadFile(filepath.Join(env.Dir, "shiprelay.yaml"))
	if err != nil {
		return notify.DefaultVerifyAfter
	}
	cfg, err := config.Parse(data)
	if err != nil || cfg.Settings.VerifyAfter <= 0 {
		return notify.DefaultVerifyAfter
	}
	return cfg.Settings.VerifyAfter.D()
}

// amazonBenchDropper returns a func that deletes env's table and queues
// (best effort), to be called once env is down.
func amazonBenchDropper(ctx context.Context, env *Env) (func(), error) {
	st, err := env.Runner.Status(ctx)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, q := range st.Queues {
		if q.URL != "" {
			urls = append(urls, q.URL)
		}
	}
	table := env.Runner.TableName("Table")
	ddb, sq := env.Ledger.Client, env.sqsClient()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if table != "" {
			_, _ = ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		}
		for _, u := range urls {
			_, _ = sq.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	}, nil
}

// stopAmazonBenchServer stops a server serve started.
func stopAmazonBenchServer(s *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}
