// Package notify tells the channels that their orders shipped: one planned
// notification per SQS message, confirmed on the channel exactly once. A
// throttled or failing channel is retried with backoff (one queue per
// channel kind, so one channel's trouble never delays another); a rejected
// confirmation becomes an exception with the channel's message; revoked
// credentials raise one exception and park the work, never a retry storm.
//
// A channel that may accept a confirmation and still lose it (Amazon drops
// a package whose carrier code it does not know, after answering 204) is a
// Verifier: a while after each confirmation the function reads it back
// from the channel, through a delayed message to its own queue, and a
// confirmation the channel did not keep becomes an exception.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// Confirmer tells one channel about one label for one order and returns the
// channel's reference of the confirmation. It must be safe to call again
// after a failure whose outcome is unknown (a lost response).
type Confirmer interface {
	Confirm(ctx context.Context, n shipment.Notification, o order.Order) (ref string, err error)
}

// Skip is returned by a Confirmer to say the channel must not be told of
// this label (Amazon Buy Shipping labels, which Amazon records itself): the
// Service settles the notification Skipped with Reason, raising no
// exception. Reason is PII-free. Check for it with errors.As.
type Skip struct {
	Reason string
}

// Error implements error.
func (s Skip) Error() string { return "notification skipped: " + s.Reason }

// Verifier is implemented by a Confirmer whose channel can accept a
// confirmation and still not record it. Verify reads the confirmation n
// (Confirmed, with its ChannelRef) back from the channel: nil when the
// channel holds it as sent; an errs.Invalid error, with an actionable
// PII-free message, when it does not; other errors keep their class
// (Transient to retry, Unauthorised to pause the store).
type Verifier interface {
	Verify(ctx context.Context, n shipment.Notification, o order.Order) error
}

// DefaultVerifyAfter is how long after a confirmation it is read back when
// Service.VerifyAfter is zero.
const DefaultVerifyAfter = 2 * time.Minute

// Ledger is what notify needs of the ledger.
type Ledger interface {
	ledger.Store
	ledger.Shipments
	ledger.Stores
}

// ErrPaused says the store is paused: the work waits, the channel is not called.
var ErrPaused = errs.Ef(errs.Unauthorised, "notify", "store paused: re-authorisation required")

// Service is a channel's notify function.
type Service struct {
	Config    *config.Config
	Ledger    Ledger
	Confirmer Confirmer
	Retry     *lambdaio.Retrier
	Log       *slog.Logger
	Metrics   *obs.Metrics
	Now       func() time.Time
	// Self is the function's own queue: when the Confirmer is a Verifier,
	// each recorded confirmation sends a Verify message to it. Nil turns
	// verification off.
	Self queue.Sender
	// VerifyAfter delays the read-back after a confirmation, so the
	// channel's own processing has settled; zero (or less) means
	// DefaultVerifyAfter, and it is capped at queue.MaxDelay.
	VerifyAfter time.Duration
}

// verifyAfter is the delay of a verify message.
func (s *Service) verifyAfter() time.Duration {
	d := s.VerifyAfter
	if d <= 0 {
		d = DefaultVerifyAfter
	}
	return min(d, queue.MaxDelay)
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
		var msg queue.Notify
		if err := json.Unmarshal([]byte(m.Body), &msg); err != nil || msg.OrderID == "" || msg.NotificationID == "" {
			return s.exception(ctx, "", "", errs.Ef(errs.Invalid, "notify", "notify message is not a valid JSON notify request"))
		}
		return s.Process(ctx, msg)
	}), nil
}

// Process confirms one notification, or with msg.Verify reads a recorded
// confirmation back. nil means done (confirmed, skipped, verified or
// recorded as an exception); an error means retry.
//
// A confirmation, once recorded, is followed by a verify message to Self
// when the Confirmer is a Verifier. If that send fails the message is
// retried, and the replay, finding the notification confirmed, sends the
// verify again without calling the channel.
func (s *Service) Process(ctx context.Context, msg queue.Notify) error {
	ctx = obs.With(ctx, "order_id", string(msg.OrderID), "notification_id", msg.NotificationID)
	if msg.Verify {
		ctx = obs.With(ctx, "verify", true)
	}
	ns, err := s.Ledger.Notifications(ctx, msg.OrderID)
	if err != nil {
		return fmt.Errorf("read notifications: %w", err)
	}
	var n *shipment.Notification
	for i := range ns {
		if ns[i].ID == msg.NotificationID {
			n = &ns[i]
		}
	}
	if n == nil {
		return s.exception(ctx, msg.OrderID, "", errs.Ef(errs.Invalid, "notify", "notification %s is not in the ledger", msg.NotificationID))
	}
	if msg.Verify {
		return s.verify(ctx, *n, ns)
	}
	switch n.State {
	case shipment.Planned:
	case shipment.Confirmed:
		// A replay: the channel is not called again, but the read-back is
		// (re)scheduled, in case the send after the confirmation failed.
		return s.enqueueVerify(ctx, *n)
	default:
		return nil // skipped or failed already: a replay
	}
	store := s.Config.Store(n.StoreID)
	if store == nil || !store.IsEnabled() {
		_, err := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Skipped, "", "store not configured or disabled", s.now())
		return err
	}
	if !store.Notify.Enabled() {
		_, err := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Skipped, "", "channel notification is off for this store", s.now())
		return err
	}
	status, err := s.Ledger.StoreStatus(ctx, n.StoreID)
	if err != nil {
		return fmt.Errorf("read store status: %w", err)
	}
	if status.Paused {
		return ErrPaused // parked for the retry policy's longest delay
	}
	rec, err := s.Ledger.Get(ctx, n.OrderID)
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	ref, err := s.Confirmer.Confirm(ctx, *n, rec.Order)
	var skip Skip
	switch {
	case err == nil:
		settled, err := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Confirmed, ref, "", s.now())
		if err != nil {
			return fmt.Errorf("record confirmation: %w", err)
		}
		s.Metrics.Put("Confirmations", 1, obs.Count, map[string]string{"Channel": string(n.Channel)})
		s.Metrics.Put("ShipmentToConfirmationLatency", float64(s.now().Sub(n.PlannedAt).Milliseconds()), obs.Milliseconds, map[string]string{"Channel": string(n.Channel)})
		s.Log.InfoContext(ctx, "notify: confirmed on the channel", "channel", string(n.Channel), "channel_ref", ref)
		if settled.State != shipment.Confirmed {
			return nil // settled otherwise concurrently: nothing to read back
		}
		return s.enqueueVerify(ctx, settled)
	case errors.As(err, &skip):
		if _, serr := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Skipped, "", skip.Reason, s.now()); serr != nil {
			return fmt.Errorf("record skip: %w", serr)
		}
		s.Metrics.Put("Skipped", 1, obs.Count, map[string]string{"Channel": string(n.Channel)})
		s.Log.InfoContext(ctx, "notify: not sent to the channel", "channel", string(n.Channel), "reason", skip.Reason)
		return nil
	case errs.Is(err, errs.Invalid):
		if _, serr := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Failed, "", err.Error(), s.now()); serr != nil {
			return fmt.Errorf("record failure: %w", serr)
		}
		return s.exception(ctx, n.OrderID, n.StoreID, err, n.ID)
	case errs.Is(err, errs.Unauthorised):
		return s.pause(ctx, n.StoreID, err)
	default:
		return fmt.Errorf("confirm: %w", err)
	}
}

// pause handles an Unauthorised answer of the store's channel: the store is
// paused with exactly one exception, and err is returned so the message is
// parked for the policy's longest delay; the channel is not called again
// until an operator resumes the store (shiprelay stores resume).
func (s *Service) pause(ctx context.Context, storeID string, err error) error {
	if perr := ledger.Pause(ctx, s.Ledger, s.Ledger, s.Log, "notify", storeID, err, s.now()); perr != nil {
		return perr
	}
	return err
}

// enqueueVerify schedules the read-back of confirmation n, when the
// Confirmer is a Verifier and the Service has its own queue. An error
// means retry the message being processed: its replay finds n confirmed
// and comes back here.
func (s *Service) enqueueVerify(ctx context.Context, n shipment.Notification) error {
	if _, ok := s.Confirmer.(Verifier); !ok || s.Self == nil {
		return nil
	}
	body, err := json.Marshal(queue.Notify{OrderID: n.OrderID, NotificationID: n.ID, Verify: true})
	if err != nil {
		return fmt.Errorf("encode verify message: %w", err)
	}
	d := s.verifyAfter()
	if err := s.Self.Send(ctx, queue.Message{Body: body, Delay: d}); err != nil {
		return fmt.Errorf("enqueue verify (the confirmation is recorded): %w", err)
	}
	s.Log.DebugContext(ctx, "notify: read-back scheduled", "channel", string(n.Channel), "channel_ref", n.ChannelRef, "after_ms", d.Milliseconds())
	return nil
}

// verify reads confirmation n back from the channel. It never schedules
// another verify. A notification that is not confirmed has nothing to read
// back, nor has one a re-label replaces (all of the order's notifications
// are in ns): the channel's record now carries the re-label's tracking,
// which the re-label's own read-back checks. A mismatch is one exception
// per notification (keyed by its id, so redeliveries add none) and leaves
// the notification confirmed.
func (s *Service) verify(ctx context.Context, n shipment.Notification, ns []shipment.Notification) error {
	v, ok := s.Confirmer.(Verifier)
	if !ok || n.State != shipment.Confirmed {
		return nil
	}
	for _, m := range ns {
		if m.ID != n.ID && m.Replaces != "" && m.Replaces == n.ChannelRef && (m.State == shipment.Planned || m.State == shipment.Confirmed) {
			s.Log.InfoContext(ctx, "notify: read-back not done: a re-label replaces the confirmation", "channel", string(n.Channel), "channel_ref", n.ChannelRef)
			return nil
		}
	}
	store := s.Config.Store(n.StoreID)
	if store == nil || !store.IsEnabled() {
		s.Log.InfoContext(ctx, "notify: read-back not done: store not configured or disabled", "channel", string(n.Channel))
		return nil
	}
	status, err := s.Ledger.StoreStatus(ctx, n.StoreID)
	if err != nil {
		return fmt.Errorf("read store status: %w", err)
	}
	if status.Paused {
		return ErrPaused
	}
	rec, err := s.Ledger.Get(ctx, n.OrderID)
	if err != nil {
		return fmt.Errorf("read order: %w", err)
	}
	dims := map[string]string{"Channel": string(n.Channel)}
	err = v.Verify(ctx, n, rec.Order)
	switch {
	case err == nil:
		s.Metrics.Put("Verified", 1, obs.Count, dims)
		s.Log.InfoContext(ctx, "notify: confirmation verified on the channel", "channel", string(n.Channel), "channel_ref", n.ChannelRef)
		return nil
	case errs.Is(err, errs.Invalid):
		s.Metrics.Put("VerificationFailed", 1, obs.Count, dims)
		return s.exception(ctx, n.OrderID, n.StoreID, err, "verify", n.ID)
	case errs.Is(err, errs.Unauthorised):
		return s.pause(ctx, n.StoreID, err)
	default:
		return fmt.Errorf("verify: %w", err)
	}
}

func (s *Service) exception(ctx context.Context, id order.ID, storeID string, cause error, key ...string) error {
	return ledger.Raise(ctx, s.Ledger, s.Log, "notify", id, storeID, cause, s.now(), key...)
}
