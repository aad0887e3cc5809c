// Package notify tells the channels that their orders shipped: one planned
// notification per SQS message, confirmed on the channel exactly once. A
// throttled or failing channel is retried with backoff (one queue per
// channel kind, so one channel's trouble never delays another); a rejected
// confirmation becomes an exception with the channel's message; revoked
// credentials raise one exception and park the work, never a retry storm.
package notify

import (
	"context"
	"encoding/json"
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

// Process confirms one notification. nil means done (confirmed, skipped or
// recorded as an exception); an error means retry.
func (s *Service) Process(ctx context.Context, msg queue.Notify) error {
	ctx = obs.With(ctx, "order_id", string(msg.OrderID), "notification_id", msg.NotificationID)
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
	if n.State != shipment.Planned {
		return nil // confirmed, skipped or failed already: a replay
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
	switch {
	case err == nil:
		if _, err := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Confirmed, ref, "", s.now()); err != nil {
			return fmt.Errorf("record confirmation: %w", err)
		}
		s.Metrics.Put("Confirmations", 1, obs.Count, map[string]string{"Channel": string(n.Channel)})
		s.Metrics.Put("ShipmentToConfirmationLatency", float64(s.now().Sub(n.PlannedAt).Milliseconds()), obs.Milliseconds, map[string]string{"Channel": string(n.Channel)})
		s.Log.InfoContext(ctx, "notify: confirmed on the channel", "channel", string(n.Channel), "channel_ref", ref)
		return nil
	case errs.Is(err, errs.Invalid):
		if _, serr := s.Ledger.SettleNotification(ctx, n.OrderID, n.ID, shipment.Failed, "", err.Error(), s.now()); serr != nil {
			return fmt.Errorf("record failure: %w", serr)
		}
		return s.exception(ctx, n.OrderID, n.StoreID, err, n.ID)
	case errs.Is(err, errs.Unauthorised):
		// The store is paused: exactly one exception, the message parked for
		// the policy's longest delay, and no call to the channel until an
		// operator resumes the store (shiprelay stores resume).
		first, perr := s.Ledger.PauseStore(ctx, n.StoreID, "re-authorisation required: "+err.Error(), s.now())
		if perr != nil {
			return fmt.Errorf("pause store: %w", perr)
		}
		if first {
			if xerr := s.exception(ctx, "", n.StoreID, errs.E(errs.Unauthorised, "notify", fmt.Errorf("store paused, re-authorisation required: %w", err)),
				"paused", n.StoreID, s.now().UTC().Format(time.RFC3339Nano)); xerr != nil {
				return xerr
			}
		}
		return err
	default:
		return fmt.Errorf("confirm: %w", err)
	}
}

func (s *Service) exception(ctx context.Context, id order.ID, storeID string, cause error, key ...string) error {
	return ledger.Raise(ctx, s.Ledger, s.Log, "notify", id, storeID, cause, s.now(), key...)
}
