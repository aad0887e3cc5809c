// Package ingest turns "something changed on a channel" into a ledger
// order: it fetches the order from its channel, normalises it, applies the
// automation rules of the ShipStation account it goes to (package rules),
// writes the ledger (never letting an older version overwrite a newer one)
// and, when the order must reach ShipStation, enqueues a push. Every step is
// idempotent, so a redelivered message re-drives work a crash left half
// done.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	"github.com/shiprelay/shiprelay/shared/redaction"
	"github.com/shiprelay/shiprelay/shared/rules"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// ErrPaused says the store is paused: the work waits, the channel is not called.
var ErrPaused = errs.Ef(errs.Unauthorised, "ingest", "store paused: re-authorisation required")

// Fetcher reads one order from a channel and normalises it.
type Fetcher interface {
	Fetch(ctx context.Context, storeID, channelOrderID string) (order.Order, order.Disposition, error)
}

// Service is the ingest function.
type Service struct {
	Config *config.Config
	Ledger ledger.Store
	Fetch  map[order.Channel]Fetcher
	Push   queue.Sender
	// Stores, when set, pauses a store whose channel refuses its
	// credentials (one exception, the work parked) and keeps paused stores'
	// work waiting instead of calling the channel.
	Stores ledger.Stores
	// Redactions, when set, (re)computes when each order's buyer data is
	// due for redaction, whenever a new version is written.
	Redactions redaction.Ledger
	// Identities, when set, links every order that stands for a
	// marketplace order (the marketplace's own, its copies on BigCommerce)
	// to one identity that decides which of them ShipStation ships
	// (package dedupe). Self (this function's own queue) then carries the
	// relink of the other members, and Shipments the replay of labels
	// already made for the identity to an order that joins it late.
	Identities ledger.Identities
	Self       queue.Sender
	Shipments  queue.Sender
	// Retry schedules the redelivery of a failed message (nil: the queue's
	// visibility timeout).
	Retry   *lambdaio.Retrier
	Log     *slog.Logger
	Metrics *obs.Metrics
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handle is the Lambda handler: one ingest message per SQS record, partial
// batch failures reported.
func (s *Service) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx = lambdaio.WithRequestID(ctx)
	return lambdaio.EachRecord(ctx, s.Log, ev, s.Retry, func(ctx context.Context, m events.SQSMessage) error {
		var msg queue.Ingest
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil {
			return s.reject(ctx, "", "", fmt.Errorf("ingest message is not JSON: %w", err))
		}
		return s.Process(ctx, msg)
	}), nil
}

// reject records a message that can never succeed as an exception, so it
// is seen and replayable rather than retried forever or dropped.
func (s *Service) reject(ctx context.Context, storeID string, id order.ID, cause error) error {
	if err := ledger.Raise(ctx, s.Ledger, s.Log, "ingest", id, storeID, cause, s.now()); err != nil {
		return err
	}
	s.Metrics.Put("IngestExceptions", 1, obs.Count, map[string]string{"Function": "ingest"})
	return nil
}

// Process ingests one message. A nil error means done (including "recorded
// as an exception"); an error means retry.
func (s *Service) Process(ctx context.Context, msg queue.Ingest) error {
	store := s.Config.Store(msg.StoreID)
	if store == nil || !store.IsEnabled() || store.Channel != msg.Channel {
		return s.reject(ctx, msg.StoreID, "", errs.Ef(errs.Invalid, "ingest", "store %q is not a configured, enabled %s store", msg.StoreID, msg.Channel))
	}
	id, err := order.NewID(msg.Channel, msg.StoreID, msg.ChannelOrderID)
	if err != nil {
		return s.reject(ctx, msg.StoreID, "", errs.E(errs.Invalid, "ingest", err))
	}
	ctx = obs.With(ctx, "order_id", string(id), "store_id", msg.StoreID)
	if msg.Relink {
		return s.relink(ctx, id)
	}
	fetcher := s.Fetch[msg.Channel]
	if fetcher == nil {
		return s.reject(ctx, msg.StoreID, id, errs.Ef(errs.Invalid, "ingest", "no fetcher for channel %s", msg.Channel))
	}

	prev, err := s.Ledger.Get(ctx, id)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return fmt.Errorf("ledger get: %w", err)
	}
	if !msg.ModifiedAt.IsZero() && err == nil && !prev.Order.ModifiedAt.Before(msg.ModifiedAt) {
		// The ledger already has this version: no need to ask the channel.
		return s.redrive(ctx, prev)
	}

	if s.Stores != nil {
		status, err := s.Stores.StoreStatus(ctx, msg.StoreID)
		if err != nil {
			return fmt.Errorf("read store status: %w", err)
		}
		if status.Paused {
			return ErrPaused
		}
	}
	o, disp, err := fetcher.Fetch(ctx, msg.StoreID, msg.ChannelOrderID)
	switch {
	case err == nil:
	case errs.Retryable(err):
		return fmt.Errorf("fetch: %w", err)
	case errs.Is(err, errs.Unauthorised) && s.Stores != nil:
		if perr := ledger.Pause(ctx, s.Ledger, s.Stores, s.Log, "ingest", msg.StoreID, err, s.now()); perr != nil {
			return perr
		}
		return fmt.Errorf("fetch: %w", err)
	case errs.Is(err, errs.NotFound):
		s.Log.InfoContext(ctx, "ingest: order no longer exists on the channel")
		return nil
	default:
		return s.reject(ctx, msg.StoreID, id, err)
	}
	if disp == order.Ignore {
		s.Log.InfoContext(ctx, "ingest: not importable in this status", "channel_status", o.ChannelStatus)
		return nil
	}
	if o.ID != id {
		return s.reject(ctx, msg.StoreID, id, errs.Ef(errs.Invalid, "ingest", "channel returned order %q", o.ID))
	}
	if err := o.Validate(); err != nil {
		return s.reject(ctx, msg.StoreID, id, errs.E(errs.Invalid, "ingest.validate", err))
	}

	decision, ruleLines := s.applyRules(store, &o, len(prev.Pushes) > 0)
	if len(decision.Matched) > 0 {
		s.Log.InfoContext(ctx, "ingest: rules matched", "rules", decision.Matched)
	}
	state, reason := ledger.StateSkipped, fmt.Sprintf("rule %q: do not import", decision.DoNotImport)
	var ident *dedupe.Identity
	if decision.DoNotImport == "" {
		// An order a rule keeps out of ShipStation never joins an
		// identity, so it can never become the one that ships.
		if ident, err = s.link(ctx, &o); err != nil {
			return err
		}
	}
	// An order never pushed has no labels of its own; one that stands for
	// a marketplace order may still hear of its twins' labels.
	notes, err := s.notifications(ctx, id, len(prev.Pushes) > 0 || (ident != nil && ident.Labelled()))
	if err != nil {
		return err
	}
	if decision.DoNotImport == "" {
		own := ownLabels(ident, id, notes)
		state, reason = Decide(&o, prev.Pushes, own)
		if ident != nil && ident.Hidden(id) {
			state, reason = hidden(state, reason, prev.Pushes, own, ident)
		}
	}
	firstSeen := msg.ReceivedAt
	if firstSeen.IsZero() {
		firstSeen = s.now()
	}
	res, rec, err := s.Ledger.Upsert(ctx, o, state, firstSeen, s.now().UTC())
	if err != nil {
		return fmt.Errorf("ledger upsert: %w", err)
	}
	s.Log.InfoContext(ctx, "ingest: ledger written", "result", res.String(), "state", string(rec.State), "status", string(o.Status))
	if s.Redactions != nil && (res == ledger.Created || res == ledger.Updated) {
		if _, err := redaction.Schedule(ctx, s.Redactions, rec, notes, store.CarrierMap().TrackingCapable); err != nil {
			return err
		}
	}
	if o.CancelRequested && res != ledger.Stale {
		// The buyer asked to cancel: the order goes to ShipStation held
		// (and tagged), and a person decides. One record per order.
		cause := errs.Ef(errs.Invalid, "ingest.cancelrequested",
			"the buyer asked to cancel order %s: it is on hold in ShipStation, tagged %q; cancel it on the channel (or ship it and tell the buyer)", o.OrderNumber, "Cancel requested")
		// Raised against the store, not the order: an order exception would
		// stop the push that puts the hold on ShipStation's copy.
		if err := ledger.Raise(ctx, s.Ledger, s.Log, "ingest", "", msg.StoreID, fmt.Errorf("order %s: %w", id, cause), s.now(), "cancel-requested", string(id)); err != nil {
			return err
		}
	}
	switch res {
	case ledger.Created, ledger.Updated:
		s.Metrics.Put("OrdersImported", 1, obs.Count, map[string]string{"Channel": string(msg.Channel)})
		// The version's history after the ledger's imported/updated
		// event: the rules' decisions, then the skip. A nanosecond apart,
		// so that they sort in this order whatever the clock.
		at := s.now().UTC()
		var events []order.Event
		for _, line := range ruleLines {
			events = append(events, order.Event{Kind: order.EventRuleDecide, Message: line})
		}
		if state == ledger.StateSkipped {
			events = append(events, order.Event{Kind: order.EventSkipped, Message: reason})
		}
		for i, ev := range events {
			ev.At = at.Add(time.Duration(i+1) * time.Nanosecond)
			if err := s.Ledger.AppendEvent(ctx, id, ev); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		}
	}
	if o.OriginReview != "" && res == ledger.Created {
		// A marketplace-channel order without a recognisable marketplace
		// order id: imported as an ordinary order, listed for a person.
		cause := errs.Ef(errs.Invalid, "ingest.origin",
			"order %s looks like a marketplace copy but its marketplace order was not recognised (%s): it is imported as an ordinary order; check ShipStation for a duplicate and add a pattern under bigcommerce.copies.patterns", o.OrderNumber, o.OriginReview)
		if err := ledger.Raise(ctx, s.Ledger, s.Log, "ingest", "", msg.StoreID, fmt.Errorf("order %s: %w", id, cause), s.now(), "origin-review", string(id)); err != nil {
			return err
		}
	}
	if ident != nil && res != ledger.Stale {
		if err := s.fanOut(ctx, id, ident, notes); err != nil {
			return err
		}
	}
	return s.redrive(ctx, rec)
}

// notifications reads an order's notifications when read is set (none
// otherwise).
func (s *Service) notifications(ctx context.Context, id order.ID, read bool) ([]shipment.Notification, error) {
	ls, ok := s.Ledger.(ledger.Shipments)
	if !ok || !read {
		return []shipment.Notification{}, nil
	}
	notes, err := ls.Notifications(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return notes, nil
}

// ownLabels reports whether ShipStation's order of id has a label: for a
// member of a dedupe identity, what the identity says (its notifications
// may come from a twin's label, which leaves its own ShipStation order
// open); for any other order, whether it has notifications.
func ownLabels(x *dedupe.Identity, id order.ID, notes []shipment.Notification) bool {
	if x != nil {
		m, ok := x.Member(id)
		return ok && m.Labelled
	}
	return len(notes) > 0
}

// link joins o to its dedupe identity with the facts of this version and
// returns the identity as stored after; nil when o stands for no
// marketplace order or dedupe is off.
func (s *Service) link(ctx context.Context, o *order.Order) (*dedupe.Identity, error) {
	key := dedupe.KeyOf(o)
	if key == "" || s.Identities == nil {
		return nil, nil
	}
	m := dedupe.MemberOf(o, s.now())
	before, after, err := s.Identities.UpdateIdentity(ctx, key, func(x *dedupe.Identity) bool { return x.Observe(m) })
	if err != nil {
		return nil, fmt.Errorf("link identity %s: %w", key, err)
	}
	if before.Primary != after.Primary {
		s.Log.InfoContext(ctx, "ingest: identity primary decided", "identity", key, "primary", string(after.Primary), "members", len(after.Members))
		if err := s.Ledger.AppendEvent(ctx, o.ID, order.Event{At: s.now().UTC(), Kind: order.EventLinked, Message: linkMessage(&after, o.ID)}); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, fmt.Errorf("history: %w", err)
		}
	}
	return &after, nil
}

// linkMessage says, PII-free, where an order stands in its identity.
func linkMessage(x *dedupe.Identity, id order.ID) string {
	if x.Hidden(id) {
		return fmt.Sprintf("%s, %d orders linked: hidden in ShipStation", x.DuplicateOf(), len(x.Members))
	}
	return fmt.Sprintf("primary of marketplace order %s (%d orders linked): the one ShipStation ships", x.Key, len(x.Members))
}

// hidden is the pipeline state of a member that is not its identity's
// primary. One ShipStation has, and has not labelled, is pending, for the
// push to hide it (or to find it hidden), whatever Decide says: the
// channel may report it shipped because its twin's label was confirmed
// on it, and its own ShipStation order must still close. Otherwise what
// Decide skips stays skipped, and one never sent to ShipStation is not
// sent (skipped, as a duplicate).
func hidden(state ledger.State, reason string, pushes map[string]ledger.Push, ownLabels bool, x *dedupe.Identity) (ledger.State, string) {
	switch {
	case len(pushes) > 0 && !ownLabels:
		return ledger.StatePending, ""
	case state == ledger.StateSkipped:
		return state, reason
	case len(pushes) == 0:
		return ledger.StateSkipped, x.DuplicateOf() + ": not sent to ShipStation"
	}
	return ledger.StatePending, ""
}

// fanOut tells the other members of an order's identity to decide their
// state again when its primary changed (ledger.AnnouncePrimary), and
// replays to the order the labels its identity already has when it has
// heard of none (it joined after the real order shipped). Both are
// repeated by a redelivery that follows a crash; the receivers are
// idempotent.
func (s *Service) fanOut(ctx context.Context, id order.ID, x *dedupe.Identity, notes []shipment.Notification) error {
	if s.Self != nil {
		if err := ledger.AnnouncePrimary(ctx, s.Identities, s.Self, *x, id, s.now()); err != nil {
			return err
		}
	}
	if !x.Labelled() || s.Shipments == nil || len(notes) > 0 {
		return nil
	}
	body, err := json.Marshal(queue.Shipments{Identity: x.Key, ReceivedAt: s.now().UTC()})
	if err != nil {
		return err
	}
	if err := s.Shipments.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue label replay: %w", err)
	}
	return nil
}

// relink decides an order's pipeline state again after its identity
// changed, from the ledger alone, and re-drives its push when ShipStation
// must hear of it: a member that became the primary is sent as its
// channel says, one that lost it is hidden by the push. It never fans out
// further.
func (s *Service) relink(ctx context.Context, id order.ID) error {
	rec, err := s.Ledger.Get(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger get: %w", err)
	}
	key := dedupe.KeyOf(&rec.Order)
	if key == "" || s.Identities == nil || rec.State == ledger.StateException {
		return nil // nothing to link, or a person decides first
	}
	x, err := s.Identities.Identity(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read identity %s: %w", key, err)
	}
	if _, member := x.Member(id); !member {
		return nil // kept out by a rule: never linked
	}
	own := ownLabels(&x, id, nil)
	state, reason := Decide(&rec.Order, rec.Pushes, own)
	if x.Hidden(id) {
		state, reason = hidden(state, reason, rec.Pushes, own, &x)
	}
	now := s.now().UTC()
	switch {
	case state == ledger.StateSkipped:
		if rec.State == ledger.StateSkipped {
			return nil
		}
		return s.Ledger.SetState(ctx, id, ledger.StateSkipped, order.Event{At: now, Kind: order.EventLinked, Message: linkMessage(&x, id) + ": " + reason}, now)
	case !x.Hidden(id) && rec.State == ledger.StatePushed && rec.PushedVersion():
		return nil // the primary already, and ShipStation has it so
	case !x.Hidden(id) && rec.State != ledger.StatePending && rec.State != ledger.StatePushed:
		if err := s.Ledger.SetState(ctx, id, ledger.StatePending, order.Event{At: now, Kind: order.EventLinked, Message: linkMessage(&x, id)}, now); err != nil {
			return err
		}
	}
	// A plain push: it sends what the ledger says ShipStation lacks (a
	// hidden member's order not hidden yet, a new primary not sent as its
	// channel says); only a push that raced with a change forces a resend.
	body, err := json.Marshal(queue.Push{OrderID: id, Version: rec.Order.ModifiedAt})
	if err != nil {
		return err
	}
	if err := s.Push.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue push: %w", err)
	}
	return nil
}

// applyRules applies the automation rules of the ShipStation account the
// store sends its orders to (package rules). For an order ShipStation
// already has (pushed before), a doNotImport rule is noted and ignored.
func (s *Service) applyRules(store *config.Store, o *order.Order, inShipStation bool) (rules.Decision, []string) {
	acct := s.Config.Account(store.ShipStation.Account)
	if acct == nil || len(acct.Rules) == 0 {
		return rules.Decision{}, nil
	}
	if inShipStation {
		return rules.ApplyImported(acct.Rules, o, s.now().UTC())
	}
	return rules.Apply(acct.Rules, o, s.now().UTC())
}

// redrive enqueues the push of a pending record. Replays land here too, and
// so re-drive a push that a crash between ledger write and enqueue lost; a
// pushed or skipped version needs nothing.
func (s *Service) redrive(ctx context.Context, rec ledger.Record) error {
	if rec.State != ledger.StatePending || rec.PushedVersion() {
		return nil
	}
	body, err := json.Marshal(queue.Push{OrderID: rec.Order.ID, Version: rec.Order.ModifiedAt})
	if err != nil {
		return err
	}
	if err := s.Push.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue push: %w", err)
	}
	return nil
}

// Decide says whether an order goes to ShipStation, given the pushes made
// of earlier versions: an order without physical lines never does; an
// order the channel fulfils itself (FBA) goes once, as shipped, for the
// record; an order
// that ShipStation has never seen is not created there when it is already
// shipped or cancelled on the channel (there is nothing to ship); a version
// that reports fulfilment, or that changes an order ShipStation has already
// labelled, is not pushed back (ShipStation cannot take it); every other
// version is pushed, so that cancellations and holds reach ShipStation —
// where an order already shipped refuses them, which is an exception for a
// person. (A timed hold placed by an automation rule, Order.HoldUntil, is
// not such a hold: on an order ShipStation has labelled it is skipped like
// any other change.)
func Decide(o *order.Order, pushes map[string]ledger.Push, labelled bool) (ledger.State, string) {
	if !o.Pushable() {
		return ledger.StateSkipped, "no physical items to ship"
	}
	if o.FulfilledByChannel {
		// Shipped by the channel (Amazon FBA): ShipStation gets it once, as
		// shipped, for the record; later versions change nothing there.
		if len(pushes) == 0 && o.Status == order.Shipped {
			return ledger.StatePending, ""
		}
		return ledger.StateSkipped, "fulfilled by the channel: in ShipStation for the record only"
	}
	if len(pushes) == 0 && (o.Status == order.Shipped || o.Status == order.Cancelled) {
		return ledger.StateSkipped, "already " + string(o.Status) + " on the channel before import"
	}
	// A hold by the channel or the buyer (no end time) must still reach
	// ShipStation; a rule's timed hold on an order ShipStation has
	// labelled already is too late to matter.
	channelHold := o.Status == order.OnHold && o.HoldUntil == nil
	if len(pushes) > 0 && o.Status != order.Cancelled && !channelHold && (o.Status == order.Shipped || shippedAny(o) || labelled) {
		// The channel reports fulfilment, which comes from ShipStation's own
		// labels: its copy is shipped (or shipping) already and cannot take
		// a full replace. A cancellation still goes through.
		return ledger.StateSkipped, "fulfilment reported by the channel; ShipStation's order is closed by its labels"
	}
	return ledger.StatePending, ""
}

func shippedAny(o *order.Order) bool {
	for _, it := range o.Items {
		if it.QuantityShipped > 0 {
			return true
		}
	}
	return false
}
