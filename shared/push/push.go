// Package push sends ledger orders to ShipStation: batches of up to 100
// orders per createorders call, one shared rate budget per ShipStation
// account, per-order results written back to the ledger. A rejected order
// becomes an exception with ShipStation's message; a throttled or failed
// call puts its messages back on the queue with backoff, so nothing is lost.
//
// A rule's timed hold (order.Order.HoldUntil) cannot travel in createorders,
// where holdUntilDate is read-only: the order is created on_hold, then held
// until shipstation.HoldDate(HoldUntil) with POST /orders/holduntil, and
// only then is the push recorded. A hold that fails retries the whole job:
// createorders upserts on orderKey and holding again with the same date
// changes nothing, so the retry repeats both calls harmlessly.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

// MaxPerCall is ShipStation's createorders limit.
const MaxPerCall = 100

// Creator creates or updates ShipStation orders, holds them until a date
// and reads the account's tags (shipstation.Client).
type Creator interface {
	CreateOrders(ctx context.Context, orders []shipstation.Order) (shipstation.CreateOrdersResult, error)
	HoldUntil(ctx context.Context, orderID int64, date string) error
	ListTags(ctx context.Context) ([]shipstation.Tag, error)
}

// TagCacheTTL is how long the push trusts an account's tag list before it
// reads it again. A tag name not in the list makes it read the list once
// more at once (a tag the merchant just created is found), then that name
// is taken as missing until the next regular refresh.
const TagCacheTTL = 5 * time.Minute

// Service is the push function.
type Service struct {
	Config *config.Config
	Ledger ledger.Store
	// Account returns the client of a ShipStation account.
	Account func(ctx context.Context, id string) (Creator, error)
	// Identities, when set, makes the push follow each order's role in its
	// dedupe identity: the primary goes to ShipStation as its channel
	// says; any other member is never created there, and one ShipStation
	// has is hidden (dedupe.HiddenStatus). After a push the identity is
	// read again: when it changed meanwhile, the order is pushed once more
	// through Self (this function's queue), forced, so that a push that
	// raced with the change never has the last word.
	Identities ledger.Identities
	Self       queue.Sender
	// Retry schedules the redelivery of messages whose push failed.
	Retry   *lambdaio.Retrier
	Log     *slog.Logger
	Metrics *obs.Metrics
	Now     func() time.Time

	// tags caches each account's tags for the life of the process.
	tagsMu sync.Mutex
	tags   map[string]*tagCache
}

// tagCache is one account's tag list.
type tagCache struct {
	// byName maps lower-cased tag names to tag ids.
	byName  map[string]int64
	fetched time.Time
	// missing are lower-cased names still absent after a refresh made for
	// them; they cause no further refresh until the list expires.
	missing map[string]bool
	// raised are lower-cased names whose exception this process recorded.
	raised map[string]bool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// job is one SQS record on its way to ShipStation.
type job struct {
	msg events.SQSMessage
	// also are further messages of the same order in this batch: they share
	// the job's fate, so one order is never sent twice in one call.
	also   []events.SQSMessage
	rec    ledger.Record
	wire   []shipstation.Order
	groups []string
	// holds are, per wire order, the date to hold it until after it is
	// created ("" for no timed hold).
	holds []string
	store *config.Store
	// status is the status the push records: the order's, or the hidden
	// status of a member that is not its identity's primary (hidden).
	status order.Status
	hidden bool
	// ident is the order's dedupe identity as read before the push (nil
	// when it has none).
	ident *dedupe.Identity
}

// Handle is the Lambda handler.
func (s *Service) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx = lambdaio.WithRequestID(ctx)
	var resp events.SQSEventResponse
	fail := func(m events.SQSMessage) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
	}
	byAccount := map[string][]*job{}
	byOrder := map[order.ID]*job{}
	var accounts []string
	for _, m := range ev.Records {
		if first := byOrder[orderOf(m)]; first != nil {
			first.also = append(first.also, m)
			continue
		}
		j, err := s.prepare(ctx, m)
		if err != nil {
			d, requeued := s.Retry.Defer(ctx, m, err)
			if !requeued {
				s.Log.WarnContext(ctx, "push: record failed; redelivered later", "message_id", m.MessageId, "error", err.Error(), "retry_in_ms", d.Milliseconds())
				fail(m)
			}
			continue
		}
		if j == nil {
			continue // done: already pushed, skipped, or recorded as exception
		}
		byOrder[j.rec.Order.ID] = j
		acct := j.store.ShipStation.Account
		if _, ok := byAccount[acct]; !ok {
			accounts = append(accounts, acct)
		}
		byAccount[acct] = append(byAccount[acct], j)
	}
	for _, acct := range accounts {
		for _, chunk := range chunks(priorityFirst(byAccount[acct])) {
			for _, j := range s.send(ctx, acct, chunk) {
				fail(j.msg)
				for _, m := range j.also {
					fail(m)
				}
			}
		}
	}
	return resp, nil
}

// prepare loads the order and builds its wire orders. It returns nil, nil
// when nothing is left to do for the message.
func (s *Service) prepare(ctx context.Context, m events.SQSMessage) (*job, error) {
	var msg queue.Push
	if err := json.Unmarshal([]byte(m.Body), &msg); err != nil || msg.OrderID == "" {
		return nil, s.exception(ctx, "", "", errs.Ef(errs.Invalid, "push", "push message is not a valid JSON push request"))
	}
	ctx = obs.With(ctx, "order_id", string(msg.OrderID))
	rec, err := s.Ledger.Get(ctx, msg.OrderID)
	if errs.Is(err, errs.NotFound) {
		return nil, s.exception(ctx, msg.OrderID, "", errs.Ef(errs.Invalid, "push", "order is not in the ledger"))
	}
	if err != nil {
		return nil, fmt.Errorf("ledger get: %w", err)
	}
	ident, err := s.identity(ctx, &rec.Order)
	if err != nil {
		return nil, err
	}
	resend := msg.Redacted && !rec.RedactedAt.IsZero()
	hidden := ident != nil && ident.Hidden(rec.Order.ID)
	switch {
	case resend || hidden:
	case msg.Relink:
		if rec.State != ledger.StatePending && rec.State != ledger.StatePushed {
			return nil, nil
		}
	case rec.State != ledger.StatePending || rec.PushedVersion():
		return nil, nil
	}
	store := s.Config.Store(rec.Order.StoreID)
	if store == nil {
		return nil, s.exception(ctx, msg.OrderID, rec.Order.StoreID, errs.Ef(errs.Invalid, "push", "store %q is no longer configured", rec.Order.StoreID))
	}
	j := &job{msg: m, rec: rec, store: store, status: rec.Order.Status, ident: ident}
	if hidden {
		return s.prepareHidden(ctx, j, resend || msg.Relink)
	}
	force := resend || msg.Relink
	hold, ended := holdOf(&rec.Order, s.now())
	target := shipstation.Target{StoreID: store.ShipStation.StoreID, Source: string(rec.Order.Channel)}
	if store.Amazon != nil {
		target.TaxIDsTo = store.Amazon.TaxIDsTo
	}
	for _, g := range rec.Order.ShipGroups {
		p, pushed := rec.Pushes[g.Key]
		switch {
		case resend && !pushed:
			continue // a redaction only rewrites what ShipStation has
		case !force && pushed && !p.Version.Before(rec.Order.ModifiedAt) && p.Status == rec.Order.Status:
			continue
		}
		w, err := shipstation.FromOrder(&rec.Order, g.Key, target)
		if err != nil {
			return nil, s.exception(ctx, msg.OrderID, store.ID, errs.E(errs.Invalid, "push.build", err))
		}
		if ended {
			// The rule's hold is over: ShipStation would have released the
			// order by now, so it goes out awaiting shipment.
			w.OrderStatus = string(order.AwaitingShipment)
		}
		j.wire = append(j.wire, w)
		j.groups = append(j.groups, g.Key)
		j.holds = append(j.holds, hold)
	}
	if len(j.wire) == 0 {
		return nil, nil
	}
	return j, nil
}

// identity reads the dedupe identity of an order (nil when it has none,
// or dedupe is off).
func (s *Service) identity(ctx context.Context, o *order.Order) (*dedupe.Identity, error) {
	key := dedupe.KeyOf(o)
	if key == "" || s.Identities == nil {
		return nil, nil
	}
	x, err := s.Identities.Identity(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read identity %s: %w", key, err)
	}
	return &x, nil
}

// prepareHidden builds the wire orders of a member that is not its
// identity's primary: each ShipStation order already created for it is
// sent again with the hidden status (unless the ledger records it so, and
// force is off); nothing is ever created. With nothing to send, the order
// is recorded as skipped, a duplicate.
func (s *Service) prepareHidden(ctx context.Context, j *job, force bool) (*job, error) {
	o := &j.rec.Order
	j.hidden = true
	j.status = dedupe.HiddenStatus(o, j.store.HideCopies())
	target := shipstation.Target{StoreID: j.store.ShipStation.StoreID, Source: string(o.Channel)}
	if j.store.Amazon != nil {
		target.TaxIDsTo = j.store.Amazon.TaxIDsTo
	}
	for _, g := range o.ShipGroups {
		p, pushed := j.rec.Pushes[g.Key]
		if !pushed || (!force && p.Status == j.status) {
			continue
		}
		w, err := shipstation.FromOrder(o, g.Key, target)
		if err != nil {
			return nil, s.exception(ctx, o.ID, j.store.ID, errs.E(errs.Invalid, "push.build", err))
		}
		w.OrderStatus = string(j.status)
		j.wire = append(j.wire, w)
		j.groups = append(j.groups, g.Key)
		j.holds = append(j.holds, "")
	}
	if len(j.wire) > 0 {
		return j, nil
	}
	return nil, s.hidden(ctx, j)
}

// hidden records a member that is not its identity's primary as skipped,
// once, with the reason in its history.
func (s *Service) hidden(ctx context.Context, j *job) error {
	if j.rec.State == ledger.StateSkipped {
		return nil
	}
	now := s.now().UTC()
	msg := fmt.Sprintf("%s: hidden in ShipStation (%s)", j.ident.DuplicateOf(), j.status)
	if len(j.rec.Pushes) == 0 {
		msg = j.ident.DuplicateOf() + ": not sent to ShipStation"
	}
	if err := s.Ledger.SetState(ctx, j.rec.Order.ID, ledger.StateSkipped, order.Event{At: now, Kind: order.EventLinked, Message: msg}, now); err != nil {
		return fmt.Errorf("ledger state: %w", err)
	}
	s.Metrics.Put("DuplicatesHidden", 1, obs.Count, map[string]string{"Function": "push"})
	return nil
}

// recheck reads an order's identity again after its push: when it changed
// since the push read it, the push may have sent a role that is no longer
// the order's, so the order is pushed once more, forced.
func (s *Service) recheck(ctx context.Context, j *job) error {
	if j.ident == nil || s.Self == nil {
		return nil
	}
	now, err := s.identity(ctx, &j.rec.Order)
	if err != nil {
		return err
	}
	if now == nil || now.Version == j.ident.Version {
		return nil
	}
	s.Log.InfoContext(ctx, "push: identity changed during the push; pushed again", "identity", now.Key)
	body, err := json.Marshal(queue.Push{OrderID: j.rec.Order.ID, Version: j.rec.Order.ModifiedAt, Relink: true})
	if err != nil {
		return err
	}
	return s.Self.Send(ctx, queue.Message{Body: body})
}

// holdOf reads an order's timed hold at now: the date to hold it until in
// ShipStation while the hold lasts (shipstation.HoldDate of its end), or
// ended when the hold an automation rule placed is over. An order without
// a timed hold gives "", false.
func holdOf(o *order.Order, now time.Time) (date string, ended bool) {
	if o.Status != order.OnHold || o.HoldUntil == nil {
		return "", false
	}
	if !o.HoldUntil.After(now) {
		return "", true
	}
	return shipstation.HoldDate(*o.HoldUntil), false
}

// orderOf peeks at a message's order id ("" when unreadable).
func orderOf(m events.SQSMessage) order.ID {
	var msg queue.Push
	if json.Unmarshal([]byte(m.Body), &msg) != nil {
		return ""
	}
	return msg.OrderID
}

// priorityFirst orders an account's jobs for sending: the orders an
// automation rule marked priority (order.Order.Priority) first, the rest
// after them, each group in the order received. This is what "pushed
// first" means: ahead of the others of the same batch, in the first
// createorders call of the account.
func priorityFirst(jobs []*job) []*job {
	slices.SortStableFunc(jobs, func(a, b *job) int {
		switch {
		case a.rec.Order.Priority == b.rec.Order.Priority:
			return 0
		case a.rec.Order.Priority:
			return -1
		}
		return 1
	})
	return jobs
}

// chunks splits jobs so that no call carries more than MaxPerCall orders.
func chunks(jobs []*job) [][]*job {
	var out [][]*job
	var cur []*job
	n := 0
	for _, j := range jobs {
		if n+len(j.wire) > MaxPerCall && len(cur) > 0 {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, j)
		n += len(j.wire)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send pushes one chunk and returns the jobs to retry.
func (s *Service) send(ctx context.Context, acct string, jobs []*job) []*job {
	ctx = obs.With(ctx, "account", acct)
	client, err := s.Account(ctx, acct)
	if err == nil {
		err = s.tagOrders(ctx, acct, client, jobs)
	}
	if err == nil {
		var wire []shipstation.Order
		for _, j := range jobs {
			wire = append(wire, j.wire...)
		}
		var res shipstation.CreateOrdersResult
		res, err = client.CreateOrders(ctx, wire)
		if err == nil {
			return s.record(ctx, acct, client, jobs, res)
		}
	}
	err = budgetWait(err)
	switch errs.KindOf(err) {
	case errs.Invalid:
		// The whole request was refused: every order in it is an exception.
		// One whose exception could not be stored is retried, not dropped.
		var retryJobs []*job
		for _, j := range jobs {
			if xerr := s.exception(ctx, j.rec.Order.ID, j.store.ID, err); xerr != nil && !s.deferJob(ctx, j, xerr) {
				retryJobs = append(retryJobs, j)
			}
		}
		return retryJobs
	case errs.Unauthorised:
		// No retry storm: one exception for the account, messages parked
		// for the longest backoff until the credentials are fixed.
		_ = s.exception(ctx, "", "", errs.E(errs.Unauthorised, "shipstation account "+acct, err))
	}
	if errs.Is(err, errs.Transient) && errs.RetryAfterOf(err) > 0 {
		s.Metrics.Put("ShipStation429", 1, obs.Count, map[string]string{"Function": "push"})
	}
	s.Log.WarnContext(ctx, "push: call failed; messages deferred", "error", err.Error(), "kind", errs.KindOf(err).String(), "orders", len(jobs))
	var retryJobs []*job
	for _, j := range jobs {
		if !s.deferJob(ctx, j, err) {
			retryJobs = append(retryJobs, j)
		}
	}
	return retryJobs
}

// tagOrders sets the tagIds of the jobs' wire orders from their orders' tag
// names, matched to the account's tags without regard to case. A name the
// account lacks is left out, and recorded once per account and name as an
// exception that tells the merchant to create the tag: the order itself is
// pushed. An error reading the tags that a retry may cure (throttling,
// credentials) is returned, so the chunk is deferred; one that it cannot
// (ShipStation refused the call) is an exception for the account and the
// orders go out untagged.
func (s *Service) tagOrders(ctx context.Context, acct string, client Creator, jobs []*job) error {
	var names []string
	for _, j := range jobs {
		for _, n := range j.rec.Order.Tags {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	ids, missing, err := s.resolveTags(ctx, acct, client, names)
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Invalid, errs.NotFound:
			s.Log.WarnContext(ctx, "push: tags unreadable; orders pushed untagged", "error", err.Error())
			_ = s.exception(ctx, "", "", errs.E(errs.Invalid, "shipstation account "+acct+" tags", err), "tags", acct)
			return nil
		}
		return err
	}
	for _, n := range missing {
		s.missingTag(ctx, acct, n)
	}
	for _, j := range jobs {
		var tagIDs []int64
		for _, n := range j.rec.Order.Tags {
			if id, ok := ids[strings.ToLower(strings.TrimSpace(n))]; ok && !slices.Contains(tagIDs, id) {
				tagIDs = append(tagIDs, id)
			}
		}
		for i := range j.wire {
			j.wire[i].TagIDs = tagIDs
		}
	}
	return nil
}

// resolveTags maps tag names to the account's tag ids (keyed by lower-cased
// name) and lists the names the account lacks. The account's list is read
// when the cache is empty or older than TagCacheTTL, and once more when a
// name is missing that has not been missing since the last regular read.
func (s *Service) resolveTags(ctx context.Context, acct string, client Creator, names []string) (map[string]int64, []string, error) {
	now := s.now()
	s.tagsMu.Lock()
	c := s.tags[acct]
	stale := c == nil || now.Sub(c.fetched) >= TagCacheTTL || now.Before(c.fetched)
	s.tagsMu.Unlock()

	refreshed := false
	if stale {
		byName, err := s.readTags(ctx, client)
		if err != nil {
			return nil, nil, err
		}
		c = s.storeTags(acct, byName, now, true)
		refreshed = true
	}
	missing, retry := s.lookupTags(c, names)
	if len(retry) > 0 && !refreshed {
		byName, err := s.readTags(ctx, client)
		if err != nil {
			return nil, nil, err
		}
		c = s.storeTags(acct, byName, now, false)
		missing, _ = s.lookupTags(c, names)
	}
	s.tagsMu.Lock()
	defer s.tagsMu.Unlock()
	ids := map[string]int64{}
	for _, n := range names {
		k := strings.ToLower(n)
		if id, ok := c.byName[k]; ok {
			ids[k] = id
		}
	}
	for _, n := range missing {
		c.missing[strings.ToLower(n)] = true
	}
	return ids, missing, nil
}

// readTags reads an account's tags, keyed by lower-cased name (the first
// of two tags whose names differ only in case wins).
func (s *Service) readTags(ctx context.Context, client Creator) (map[string]int64, error) {
	tags, err := client.ListTags(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]int64, len(tags))
	for _, t := range tags {
		k := strings.ToLower(strings.TrimSpace(t.Name))
		if _, dup := byName[k]; k != "" && !dup {
			byName[k] = t.TagID
		}
	}
	return byName, nil
}

// storeTags caches a freshly read tag list. A regular read (full) starts a
// new period: the missing names are forgotten; a read for a missing name
// keeps the fetch time and drops from missing only the names now found.
func (s *Service) storeTags(acct string, byName map[string]int64, now time.Time, full bool) *tagCache {
	s.tagsMu.Lock()
	defer s.tagsMu.Unlock()
	if s.tags == nil {
		s.tags = map[string]*tagCache{}
	}
	c := s.tags[acct]
	if c == nil {
		c = &tagCache{raised: map[string]bool{}}
		s.tags[acct] = c
	}
	c.byName = byName
	if full || c.missing == nil {
		c.fetched = now
		c.missing = map[string]bool{}
	}
	for k := range c.missing {
		if _, ok := byName[k]; ok {
			delete(c.missing, k)
		}
	}
	return c
}

// lookupTags returns the names not in c and, of those, the ones that were
// not already missing (which justify reading the list again).
func (s *Service) lookupTags(c *tagCache, names []string) (missing, retry []string) {
	s.tagsMu.Lock()
	defer s.tagsMu.Unlock()
	for _, n := range names {
		k := strings.ToLower(n)
		if _, ok := c.byName[k]; ok {
			continue
		}
		missing = append(missing, n)
		if !c.missing[k] {
			retry = append(retry, n)
		}
	}
	return missing, retry
}

// missingTag records, once per account and tag name, that the account has
// no such tag. The exception id is derived from both, so other processes
// recording it again change nothing.
func (s *Service) missingTag(ctx context.Context, acct, name string) {
	k := strings.ToLower(name)
	s.tagsMu.Lock()
	c := s.tags[acct]
	done := c != nil && c.raised[k]
	s.tagsMu.Unlock()
	if done {
		return
	}
	cause := errs.Ef(errs.Invalid, "push", "ShipStation account %q has no tag %q: create a tag named %q in ShipStation (Settings → Tags) to tag orders with it", acct, name, name)
	if err := s.exception(ctx, "", "", cause, "tag", acct, k); err != nil {
		s.Log.WarnContext(ctx, "push: missing tag not recorded; recorded on a later push", "error", err.Error())
		return
	}
	s.tagsMu.Lock()
	if c != nil {
		c.raised[k] = true
	}
	s.tagsMu.Unlock()
}

// deferJob schedules the next delivery of a job's messages by the retry
// policy. It reports true when every message was requeued (budget waits),
// so none of them is a batch failure.
func (s *Service) deferJob(ctx context.Context, j *job, cause error) bool {
	_, all := s.Retry.Defer(ctx, j.msg, cause)
	for _, m := range j.also {
		if _, ok := s.Retry.Defer(ctx, m, cause); !ok {
			all = false
		}
	}
	return all
}

// budgetWait makes a budget deferral that is not yet classified a
// Transient error carrying its wait.
func budgetWait(err error) error {
	var deferred *ratelimit.ErrDeferred
	if errors.As(err, &deferred) {
		return errs.E(errs.Transient, "push", err).WithRetryAfter(deferred.Wait)
	}
	return err
}

// record writes per-order results and places the timed holds; it returns
// the jobs to retry.
func (s *Service) record(ctx context.Context, acct string, client Creator, jobs []*job, res shipstation.CreateOrdersResult) []*job {
	byKey := map[string]shipstation.CreateOrderResult{}
	for _, r := range res.Results {
		byKey[r.OrderKey] = r
	}
	now := s.now().UTC()
	var retryJobs []*job
	// blocked is a hold failure that will fail every further hold of this
	// call too (throttled, out of budget, refused credentials): those are
	// not tried, their jobs are retried with it.
	var blocked error
	for _, j := range jobs {
		jctx := obs.With(ctx, "order_id", string(j.rec.Order.ID))
		ok := true
		var cause error
		for i, w := range j.wire {
			r, found := byKey[w.OrderKey]
			if !found {
				s.Log.WarnContext(jctx, "push: no result for order; retried")
				ok = false
				continue
			}
			if !r.Success && s.pushedMeanwhile(jctx, j.rec.Order.ID) {
				// A concurrent invocation pushed this version first (and,
				// for a cancellation, closed the order): nothing to report.
				continue
			}
			if !r.Success && (j.hidden || s.hiddenNow(jctx, j)) {
				// ShipStation refused to change a duplicate's order: it is
				// closed already (shipped: its label makes it the primary
				// when the relay sees it; cancelled: hidden for good).
				// Nothing for a person.
				if err := s.Ledger.AppendEvent(jctx, j.rec.Order.ID, order.Event{At: now, Kind: order.EventLinked,
					Message: fmt.Sprintf("ShipStation kept order %s as it is (%s); the order is a duplicate within marketplace order %s", w.OrderKey, errMessage(r), j.ident.Key)}); err != nil {
					ok = false
				}
				continue
			}
			if !r.Success {
				if err := s.exception(jctx, j.rec.Order.ID, j.store.ID, errs.Ef(errs.Invalid, "shipstation.createorders", "%s", errMessage(r)),
					string(j.rec.Order.ID), w.OrderKey, j.rec.Order.ModifiedAt.Format(time.RFC3339Nano)); err != nil {
					ok = false
				}
				continue
			}
			if date := j.holds[i]; date != "" {
				if blocked != nil {
					ok, cause = false, blocked
					continue
				}
				herr := s.hold(jctx, client, w.OrderKey, r.OrderID, date)
				switch {
				case herr == nil:
				case errs.Is(herr, errs.Invalid):
					// Refused: the order is in ShipStation on hold without an
					// end date. A person decides; a retry would be refused too.
					if err := s.exception(jctx, j.rec.Order.ID, j.store.ID, herr,
						string(j.rec.Order.ID), w.OrderKey, j.rec.Order.ModifiedAt.Format(time.RFC3339Nano), "hold"); err != nil {
						ok = false
					}
					continue
				default:
					ok, cause = false, herr
					if errs.RetryAfterOf(herr) > 0 || errs.Is(herr, errs.Unauthorised) {
						blocked = herr
					}
					continue
				}
			}
			p := ledger.Push{
				Group: j.groups[i], OrderKey: w.OrderKey, ShipStationOrderID: r.OrderID, Account: acct,
				Version: j.rec.Order.ModifiedAt, Status: j.status, At: now,
			}
			if err := s.Ledger.MarkPushed(jctx, j.rec.Order.ID, p, now); err != nil {
				s.Log.WarnContext(jctx, "push: ledger write failed; retried", "error", err.Error())
				ok = false
				continue
			}
			s.Metrics.Put("OrdersPushed", 1, obs.Count, map[string]string{"Function": "push"})
			if !j.rec.FirstSeenAt.IsZero() {
				s.Metrics.Put("WebhookToShipStationLatency", float64(now.Sub(j.rec.FirstSeenAt).Milliseconds()), obs.Milliseconds, map[string]string{"Function": "push"})
			}
			s.Log.InfoContext(jctx, "push: in ShipStation", "shipstation_order_id", r.OrderID, "status", string(j.rec.Order.Status))
		}
		if ok && j.hidden {
			if err := s.hidden(jctx, j); err != nil {
				ok, cause = false, err
			}
		}
		if ok {
			if err := s.recheck(jctx, j); err != nil {
				ok, cause = false, err
			}
		}
		if ok {
			continue
		}
		if cause == nil {
			cause = errs.Ef(errs.Transient, "push", "result not recorded")
		}
		if !s.deferJob(jctx, j, cause) {
			retryJobs = append(retryJobs, j)
		}
	}
	return retryJobs
}

// hold holds one created order until date (POST /orders/holduntil) on the
// account's client, and so its budget. A failure is returned classified:
// errs.Invalid when ShipStation refused the hold, anything else is to be
// retried (a budget wait carries it).
func (s *Service) hold(ctx context.Context, client Creator, orderKey string, ssID int64, date string) error {
	err := budgetWait(client.HoldUntil(ctx, ssID, date))
	if err == nil {
		s.Log.InfoContext(ctx, "push: held in ShipStation", "shipstation_order_id", ssID, "hold_until", date)
		return nil
	}
	if errs.Is(err, errs.Invalid) {
		s.Log.WarnContext(ctx, "push: hold refused; recorded as an exception", "shipstation_order_id", ssID, "hold_until", date, "error", err.Error())
		return errs.E(errs.Invalid, "push.hold", fmt.Errorf("ShipStation holds %s on_hold with no end date: holding it until %s was refused: %w", orderKey, date, err))
	}
	if errs.Is(err, errs.Transient) && errs.RetryAfterOf(err) > 0 {
		s.Metrics.Put("ShipStation429", 1, obs.Count, map[string]string{"Function": "push"})
	}
	s.Log.WarnContext(ctx, "push: hold failed; order retried", "shipstation_order_id", ssID, "hold_until", date,
		"error", err.Error(), "kind", errs.KindOf(err).String())
	return err
}

// errMessage is ShipStation's reason for refusing one order.
func errMessage(r shipstation.CreateOrderResult) string {
	if r.ErrorMessage != nil && *r.ErrorMessage != "" {
		return *r.ErrorMessage
	}
	return "ShipStation rejected the order"
}

// hiddenNow re-reads the identity of a job's order: true when the order
// is no longer its primary (a push that raced with the change).
func (s *Service) hiddenNow(ctx context.Context, j *job) bool {
	if j.ident == nil {
		return false
	}
	x, err := s.identity(ctx, &j.rec.Order)
	return err == nil && x != nil && x.Hidden(j.rec.Order.ID)
}

// pushedMeanwhile re-reads the ledger: true when the order's current version
// is recorded as pushed.
func (s *Service) pushedMeanwhile(ctx context.Context, id order.ID) bool {
	rec, err := s.Ledger.Get(ctx, id)
	return err == nil && rec.PushedVersion()
}

func (s *Service) exception(ctx context.Context, id order.ID, storeID string, cause error, key ...string) error {
	return ledger.Raise(ctx, s.Ledger, s.Log, "push", id, storeID, cause, s.now(), key...)
}
