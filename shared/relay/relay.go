// Package relay is the shipments function: it reads labels from
// ShipStation (the resource a SHIP_NOTIFY webhook named, or a window of the
// scheduled pull), records each label in the ledger by its shipmentId,
// records voids, and plans one notification per (label, destination order)
// — a conditional write, so the intent exists exactly once however often
// the webhook repeats — then queues it for its channel's notify function.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/redaction"
	"github.com/shiprelay/shiprelay/shared/shipment"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

// Source reads labels of one ShipStation account.
type Source interface {
	// Resource reads the labels a SHIP_NOTIFY resource URL names (all pages).
	Resource(ctx context.Context, rawURL string, fn func([]shipment.Shipment) error) error
	// Window reads the labels created in [from, to] (all pages).
	Window(ctx context.Context, from, to time.Time, fn func([]shipment.Shipment) error) error
}

// Ledger is what the relay needs of the ledger.
type Ledger interface {
	ledger.Store
	ledger.Shipments
	ledger.Claims
	ledger.Redactions
	ledger.Identities
}

// Service is the shipments function.
type Service struct {
	Config *config.Config
	Ledger Ledger
	// Source returns the label source of a ShipStation account.
	Source func(ctx context.Context, account string) (Source, error)
	// Notify holds one queue per channel kind.
	Notify map[order.Channel]queue.Sender
	// Ingest, when set, carries the relink of the orders of a dedupe
	// identity whose primary a label may have moved (the label makes its
	// order the one that shipped).
	Ingest  queue.Sender
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

// Handle is the Lambda handler.
func (s *Service) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx = lambdaio.WithRequestID(ctx)
	return lambdaio.EachRecord(ctx, s.Log, ev, s.Retry, func(ctx context.Context, m events.SQSMessage) error {
		var msg queue.Shipments
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil || (msg.Account == "" && msg.Identity == "") {
			return s.exception(ctx, "", errs.Ef(errs.Invalid, "relay", "shipments message is not a valid JSON request"))
		}
		return s.Process(ctx, msg)
	}), nil
}

// Process reads and relays the labels of one message. nil means done; an
// error means retry (every step is idempotent, so a retry redoes only what
// is missing).
func (s *Service) Process(ctx context.Context, msg queue.Shipments) error {
	if msg.Identity != "" {
		return s.replay(ctx, msg.Identity)
	}
	ctx = obs.With(ctx, "account", msg.Account)
	if s.Config.Account(msg.Account) == nil {
		return s.exception(ctx, "", errs.Ef(errs.Invalid, "relay", "shipstation account %q is not configured", msg.Account))
	}
	src, err := s.Source(ctx, msg.Account)
	if err != nil {
		return err
	}
	var failed []error
	each := func(batch []shipment.Shipment) error {
		for _, sh := range batch {
			sh.Account = msg.Account
			if err := s.Label(ctx, sh); err != nil {
				if !errs.Retryable(err) {
					if xerr := s.exception(ctx, "", err, "label", sh.Key()); xerr != nil {
						return xerr
					}
					continue
				}
				failed = append(failed, err)
			}
		}
		return nil
	}
	if msg.ResourceURL != "" {
		err = src.Resource(ctx, msg.ResourceURL, each)
	} else {
		err = src.Window(ctx, msg.From, msg.To, each)
	}
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return s.exception(ctx, "", err)
		}
		return err
	}
	return errors.Join(failed...)
}

// Label records one label and relays it: to its own order and, when that
// order stands for a marketplace order (package dedupe), to the other
// orders of its identity that must hear of it (dedupe.Targets): the
// marketplace's own order and the channel copy, with the label's lines
// mapped onto theirs.
func (s *Service) Label(ctx context.Context, sh shipment.Shipment) error {
	ctx = obs.With(ctx, "shipment", sh.Key())
	now := s.now().UTC()
	if _, err := s.Ledger.RecordShipment(ctx, sh, now); err != nil {
		return fmt.Errorf("record label: %w", err)
	}
	rec, group, err := s.resolve(ctx, sh)
	if errs.Is(err, errs.NotFound) {
		// A label for an order shiprelay never pushed (created in
		// ShipStation by hand, or by another integration): not ours.
		s.Log.InfoContext(ctx, "relay: label for an order shiprelay did not push; ignored")
		return nil
	}
	if err != nil {
		return err
	}
	ctx = obs.With(ctx, "order_id", string(rec.Order.ID))
	stored, err := s.Ledger.Label(ctx, sh.Key())
	if err != nil {
		return fmt.Errorf("read label: %w", err)
	}
	targets, err := s.targets(ctx, rec, group, stored)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := s.relayTo(ctx, stored, rec, t); err != nil {
			return err
		}
	}
	return nil
}

// resolve finds the ledger order and ship group of a label's orderKey:
// through the index each push writes, or, for a label that beat the push's
// ledger write (ShipStation answered, the warehouse labelled, and the
// push has not recorded it yet), from the key itself, which is the order's
// ledger id (shipstation.OrderKey), when the order is in the ledger and
// goes to that account. errs.NotFound means the order is not shiprelay's.
func (s *Service) resolve(ctx context.Context, sh shipment.Shipment) (ledger.Record, string, error) {
	id, group, err := s.Ledger.ResolveOrderKey(ctx, sh.Account, sh.OrderKey)
	if errs.Is(err, errs.NotFound) {
		key, g, _ := strings.Cut(sh.OrderKey, "/")
		if _, _, _, perr := order.ID(key).Parse(); perr != nil {
			return ledger.Record{}, "", err
		}
		id, group = order.ID(key), g
	} else if err != nil {
		return ledger.Record{}, "", fmt.Errorf("resolve orderKey: %w", err)
	}
	rec, err := s.Ledger.Get(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return ledger.Record{}, "", err
	}
	if err != nil {
		return ledger.Record{}, "", fmt.Errorf("read order: %w", err)
	}
	st := s.Config.Store(rec.Order.StoreID)
	if st == nil || st.ShipStation.Account != sh.Account || shipstation.OrderKey(&rec.Order, group) != sh.OrderKey {
		return ledger.Record{}, "", errs.Ef(errs.NotFound, "relay", "orderKey %s is not an order of account %s", sh.OrderKey, sh.Account)
	}
	return rec, group, nil
}

// target is one order a label is relayed to.
type target struct {
	rec   ledger.Record
	group string
	// skip, when set, records the notification as skipped for this reason.
	skip string
}

// targets lists the orders a label of order src (ship group group) is
// relayed to. An order of a dedupe identity records the label on the
// identity first (a labelled member is the one that shipped: the others
// are hidden, so each of them is told to decide its state again).
func (s *Service) targets(ctx context.Context, src ledger.Record, group string, label shipment.Shipment) ([]target, error) {
	self := target{rec: src, group: group}
	key := dedupe.KeyOf(&src.Order)
	if key == "" {
		return []target{self}, nil
	}
	var x dedupe.Identity
	var err error
	if label.Voided {
		x, err = s.Ledger.Identity(ctx, key)
		if errs.Is(err, errs.NotFound) {
			return []target{self}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read identity %s: %w", key, err)
		}
	} else {
		at := label.CreatedAt
		if at.IsZero() {
			at = s.now()
		}
		m := dedupe.MemberOf(&src.Order, s.now())
		var before dedupe.Identity
		before, x, err = s.Ledger.UpdateIdentity(ctx, key, func(x *dedupe.Identity) bool { return x.Label(m, at) })
		if err != nil {
			return nil, fmt.Errorf("label identity %s: %w", key, err)
		}
		if before.Primary != x.Primary {
			s.Log.InfoContext(ctx, "relay: the labelled order is the primary of its identity now", "identity", key, "primary", string(x.Primary))
		}
		if s.Ingest != nil {
			if err := ledger.AnnouncePrimary(ctx, s.Ledger, s.Ingest, x, src.Order.ID, s.now()); err != nil {
				return nil, err
			}
		}
	}
	var out []target
	for _, t := range dedupe.Targets(x, src.Order.ID, s.copySettings) {
		if t.ID == src.Order.ID {
			self.skip = t.Skip
			out = append(out, self)
			continue
		}
		rec, err := s.Ledger.Get(ctx, t.ID)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read linked order: %w", err)
		}
		if len(rec.Order.ShipGroups) != 1 {
			cause := errs.Ef(errs.Invalid, "relay.link", "order %s has %d ship groups: a label of %s cannot be matched to one of them; confirm it on the channel by hand", t.ID, len(rec.Order.ShipGroups), src.Order.ID)
			if err := s.exception(ctx, t.ID, cause, "link", label.Key(), string(t.ID)); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, target{rec: rec, group: rec.Order.ShipGroups[0].Key, skip: t.Skip})
	}
	return out, nil
}

// copySettings are the linked-notification settings of a copy's store.
func (s *Service) copySettings(id order.ID) dedupe.Settings {
	_, storeID, _, err := id.Parse()
	if err != nil {
		return dedupe.Settings{NotifyCopy: true}
	}
	st := s.Config.Store(storeID)
	if st == nil {
		return dedupe.Settings{NotifyCopy: true}
	}
	return st.CopySettings()
}

// replay relays again every label recorded for the orders of an identity,
// so that an order that joined it after it shipped hears of them; labels
// already relayed plan nothing new.
func (s *Service) replay(ctx context.Context, key string) error {
	ctx = obs.With(ctx, "identity", key)
	x, err := s.Ledger.Identity(ctx, key)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read identity %s: %w", key, err)
	}
	seen := map[string]bool{}
	for _, m := range x.Members {
		notes, err := s.Ledger.Notifications(ctx, m.ID)
		if err != nil {
			return fmt.Errorf("read notifications: %w", err)
		}
		for _, n := range notes {
			if seen[n.ShipmentKey] {
				continue
			}
			seen[n.ShipmentKey] = true
			label, err := s.Ledger.Label(ctx, n.ShipmentKey)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read label %s: %w", n.ShipmentKey, err)
			}
			if err := s.Label(ctx, label); err != nil {
				return err
			}
		}
	}
	return nil
}

// forTarget is a label as its target order must hear of it: the label
// itself for the order it was made for, else a copy with its lines mapped
// onto the target's (dedupe.TranslateLines). src, when not nil, is the
// label's own order, known to the caller.
func (s *Service) forTarget(ctx context.Context, label shipment.Shipment, src *order.Order, to *order.Order) (shipment.Shipment, error) {
	if src == nil {
		rec, _, err := s.resolve(ctx, label)
		if err != nil {
			return label, fmt.Errorf("order of label %s: %w", label.Key(), err)
		}
		src = &rec.Order
	}
	lines, err := dedupe.TranslateLines(label.Lines, src, to)
	if err != nil {
		return label, errs.E(errs.Invalid, "relay.link", err)
	}
	label.Lines = lines
	return label, nil
}

// relayTo plans (once) and queues the notification of label for one
// target order.
func (s *Service) relayTo(ctx context.Context, stored shipment.Shipment, src ledger.Record, t target) error {
	rec, group, id := t.rec, t.group, t.rec.Order.ID
	ctx = obs.With(ctx, "target_order_id", string(id))
	now := s.now().UTC()
	notes, err := s.Ledger.Notifications(ctx, id)
	if err != nil {
		return fmt.Errorf("read notifications: %w", err)
	}
	nid := shipment.NotificationID(stored.Key(), id, group)
	tr := func(l shipment.Shipment) (shipment.Shipment, error) { return s.forTarget(ctx, l, nil, &rec.Order) }
	if stored.Voided {
		if err := s.voided(ctx, stored, notes, rec.Order, group, tr); err != nil {
			return err
		}
		return s.reschedule(ctx, rec, notes)
	}
	for _, n := range notes {
		if n.ID == nid {
			// Seen before. Still planned long after it was planned means its
			// notify message was lost: re-drive it. A recent one is in flight.
			if now.Sub(n.PlannedAt) >= s.Config.Settings.ReconcileAfter.D() {
				return s.enqueue(ctx, n)
			}
			return nil
		}
	}
	label, err := s.forTarget(ctx, stored, &src.Order, &rec.Order)
	if err != nil {
		return s.exception(ctx, id, err, "link", nid)
	}
	shipped, replaces, err := s.history(ctx, notes, group)
	if err != nil {
		return err
	}
	n, perr := shipment.Plan(label, shipment.Target{Order: rec.Order, Group: group}, shipped, now)
	if perr != nil {
		if xerr := s.exception(ctx, id, errs.E(errs.Invalid, "relay.plan", perr), "plan", nid); xerr != nil {
			return xerr
		}
	}
	if n.State == shipment.Planned && replaces != "" {
		n.Replaces = replaces
	}
	reason, err := s.policy(ctx, n, notes, s.Config.Store(n.StoreID))
	if err != nil {
		return err
	}
	if reason == "" {
		reason = t.skip
	}
	if reason != "" && n.State == shipment.Planned {
		n.State, n.Reason = shipment.Skipped, reason
	}
	created, err := s.Ledger.PlanNotification(ctx, n)
	if err != nil {
		return fmt.Errorf("plan notification: %w", err)
	}
	if err := s.reschedule(ctx, rec, append(notes, n)); err != nil {
		return err
	}
	if created {
		s.Metrics.Put("NotificationsPlanned", 1, obs.Count, map[string]string{"Channel": string(n.Channel)})
		if id != src.Order.ID {
			s.Metrics.Put("NotificationsLinked", 1, obs.Count, map[string]string{"Channel": string(n.Channel)})
		}
		s.Log.InfoContext(ctx, "relay: notification planned", "channel", string(n.Channel), "state", string(n.State), "lines", len(n.Lines), "linked", id != src.Order.ID)
		if n.State == shipment.Planned {
			for _, l := range n.Lines {
				shipped[l.LineID] += l.Quantity
			}
			if err := s.Ledger.AppendEvent(ctx, id, order.Event{At: now, Kind: order.EventShipped, Message: fulfilment(rec.Order, group, shipped)}); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		}
	}
	return s.enqueue(ctx, n)
}

// reschedule recomputes the redaction due time of an order whose labels
// changed (Amazon buyer data goes 30 or 44 days after shipping), from the
// notifications the relay holds already.
func (s *Service) reschedule(ctx context.Context, rec ledger.Record, notes []shipment.Notification) error {
	tracking := carrier.Default().TrackingCapable
	if st := s.Config.Store(rec.Order.StoreID); st != nil {
		tracking = st.CarrierMap().TrackingCapable
	}
	_, err := redaction.Schedule(ctx, s.Ledger, rec, notes, tracking)
	return err
}

// fulfilment says, by quantity, how far a ship group has shipped.
func fulfilment(o order.Order, group string, shipped map[string]int) string {
	units, done := 0, 0
	for _, it := range o.ItemsOf(group) {
		units += it.Quantity
		done += min(shipped[it.LineID], it.Quantity)
	}
	if done >= units {
		return fmt.Sprintf("shipped: all %d units of ship group %q labelled", units, group)
	}
	return fmt.Sprintf("partially shipped: %d of %d units of ship group %q labelled", done, units, group)
}

// history sums what the order's live notifications of this group already
// carry, and finds a confirmation made for a since-voided label that a new
// label should replace on the channel.
func (s *Service) history(ctx context.Context, notes []shipment.Notification, group string) (map[string]int, string, error) {
	shipped := map[string]int{}
	replaced := map[string]bool{}
	for _, n := range notes {
		if n.Replaces != "" {
			replaced[n.Replaces] = true
		}
	}
	replaces := ""
	for _, n := range notes {
		if n.Group != group || (n.State != shipment.Planned && n.State != shipment.Confirmed) {
			continue
		}
		label, err := s.Ledger.Label(ctx, n.ShipmentKey)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, "", fmt.Errorf("read label %s: %w", n.ShipmentKey, err)
		}
		if label.Voided {
			if n.State == shipment.Confirmed && n.ChannelRef != "" && !replaced[n.ChannelRef] && replaces == "" {
				replaces = n.ChannelRef
			}
			continue
		}
		for _, l := range n.Lines {
			shipped[l.LineID] += l.Quantity
		}
	}
	return shipped, replaces, nil
}

// voided settles the still-planned notifications of a voided label: a
// voided label is never relayed. A confirmation already made for it stays on
// the channel until a re-label replaces its tracking: if the re-label was
// seen first (and planned nothing, the voided label still counting as
// shipped), it is planned again now, as the replacement.
func (s *Service) voided(ctx context.Context, label shipment.Shipment, notes []shipment.Notification, o order.Order, group string, tr func(shipment.Shipment) (shipment.Shipment, error)) error {
	replaced := map[string]bool{}
	for _, n := range notes {
		if n.Replaces != "" {
			replaced[n.Replaces] = true
		}
	}
	for _, n := range notes {
		if n.ShipmentKey != label.Key() {
			continue
		}
		switch {
		case n.State == shipment.Planned:
			settled, err := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Skipped, "", "label voided", s.now())
			if err != nil {
				return fmt.Errorf("skip voided: %w", err)
			}
			// Never relayed: a re-label seen earlier planned nothing
			// because this label still counted; it is planned now, fresh.
			replaces := ""
			if settled.State == shipment.Confirmed { // the channel had it meanwhile
				replaces = settled.ChannelRef
			}
			if err := s.replan(ctx, n, replaces, notes, o, group, tr); err != nil {
				return err
			}
		case n.State == shipment.Confirmed && n.ChannelRef != "" && !replaced[n.ChannelRef]:
			if err := s.replan(ctx, n, n.ChannelRef, notes, o, group, tr); err != nil {
				return err
			}
		}
	}
	s.Log.InfoContext(ctx, "relay: label voided")
	return nil
}

// replan plans again, for the notification of a voided label, the live
// label of the same order and group that planned nothing before (the
// re-label): as a replacement of the channel's record when the voided label
// was confirmed (replaces is its reference), else as a fresh notification.
func (s *Service) replan(ctx context.Context, gone shipment.Notification, replaces string, notes []shipment.Notification, o order.Order, group string, tr func(shipment.Shipment) (shipment.Shipment, error)) error {
	shipped, _, err := s.history(ctx, notes, group)
	if err != nil {
		return err
	}
	// The voided label's own lines no longer count (history reads it as
	// voided already, the label being recorded so).
	for _, n := range notes {
		if n.Group != group || n.State != shipment.Skipped || n.Reason != shipment.NothingLeft || n.ShipmentKey == gone.ShipmentKey {
			continue
		}
		live, err := s.Ledger.Label(ctx, n.ShipmentKey)
		if err != nil || live.Voided {
			continue
		}
		if live, err = tr(live); err != nil {
			continue
		}
		r, _ := shipment.Plan(live, shipment.Target{Order: o, Group: group}, shipped, s.now().UTC())
		if r.State != shipment.Planned {
			continue
		}
		r.ID, r.Replaces = n.ID+"~"+gone.ShipmentKey, replaces
		if _, err := s.Ledger.PlanNotification(ctx, r); err != nil {
			return fmt.Errorf("plan replacement: %w", err)
		}
		return s.enqueue(ctx, r)
	}
	return nil
}

// enqueue hands a planned notification to its channel's queue.
func (s *Service) enqueue(ctx context.Context, n shipment.Notification) error {
	if n.State != shipment.Planned {
		return nil
	}
	q := s.Notify[n.Channel]
	if q == nil {
		return s.exception(ctx, n.OrderID, errs.Ef(errs.Invalid, "relay", "no notify queue for channel %s", n.Channel), "noqueue", n.ID)
	}
	body, err := json.Marshal(queue.Notify{OrderID: n.OrderID, NotificationID: n.ID})
	if err != nil {
		return err
	}
	if err := q.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue notify: %w", err)
	}
	return nil
}

func (s *Service) exception(ctx context.Context, id order.ID, cause error, key ...string) error {
	return ledger.Raise(ctx, s.Ledger, s.Log, "relay", id, "", cause, s.now(), key...)
}
