// Package poll is the scheduled safety net: per store, it lists the orders
// modified since the last watermark (minus an overlap, so late writes on the
// channel side are not missed) and enqueues them for ingest. The watermark
// moves only after every page was enqueued, so a failed run is simply
// repeated by the next one.
package poll

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
)

// Change is one order the channel reports as modified.
type Change struct {
	ChannelOrderID string
	ModifiedAt     time.Time
}

// Lister lists a store's orders modified in [from, to], calling page for
// each page in order. An error from page stops the listing. It returns the
// end of the window it actually covered, which becomes the watermark: to,
// or earlier when the channel bounds the window (Amazon's searchOrders ends
// it at least two minutes before now and says where).
type Lister interface {
	ModifiedBetween(ctx context.Context, storeID string, from, to time.Time, page func([]Change) error) (time.Time, error)
}

// Service is the poll function.
type Service struct {
	Config     *config.Config
	Watermarks ledger.Watermarks
	Listers    map[order.Channel]Lister
	Ingest     queue.Sender
	// Shipments, when set, receives one pull window per ShipStation
	// account: the safety net for SHIP_NOTIFY webhooks that never came.
	Shipments queue.Sender
	// Ledger, when set, lets the poll leave paused stores alone (their
	// watermark waits, so the first poll after a resume catches up) and
	// raise the yearly re-authorisation reminders.
	Ledger  Ledger
	Log     *slog.Logger
	Metrics *obs.Metrics
	Now     func() time.Time
}

// Ledger is what the poll needs of the ledger beyond watermarks.
type Ledger interface {
	ledger.Store
	ledger.Stores
	ledger.Claims
}

// ReauthorisationPeriod is how long a seller's authorisation of the app
// lasts on Amazon; ReminderLead is how long before its end the reminder
// exception is raised.
const (
	ReauthorisationPeriod = 365 * 24 * time.Hour
	ReminderLead          = 30 * 24 * time.Hour
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// WatermarkKey is the watermark of one store's pull.
func WatermarkKey(ch order.Channel, storeID string) string {
	return "poll:" + string(ch) + ":" + storeID
}

// Handle is the Lambda handler for the EventBridge schedule.
func (s *Service) Handle(ctx context.Context, _ events.EventBridgeEvent) error {
	ctx = lambdaio.WithRequestID(ctx)
	return s.Run(ctx)
}

// Run polls every enabled store with a lister. One store's failure does not
// stop the others; the joined error makes the invocation fail visibly.
func (s *Service) Run(ctx context.Context) error {
	var failed []error
	for i := range s.Config.Stores {
		st := &s.Config.Stores[i]
		l := s.Listers[st.Channel]
		if !st.IsEnabled() || l == nil {
			continue
		}
		sctx := obs.With(ctx, "store_id", st.ID, "channel", string(st.Channel))
		if s.Ledger != nil {
			if err := s.remind(sctx, st); err != nil {
				failed = append(failed, fmt.Errorf("store %s: %w", st.ID, err))
			}
			status, err := s.Ledger.StoreStatus(ctx, st.ID)
			if err != nil {
				failed = append(failed, fmt.Errorf("store %s: %w", st.ID, err))
				continue
			}
			if status.Paused {
				s.Log.InfoContext(sctx, "poll: store paused; skipped until it is resumed")
				continue
			}
		}
		n, err := s.Store(ctx, st, l)
		if err != nil && s.Ledger != nil && errs.Is(err, errs.Unauthorised) {
			// Refused credentials: pause the store (one exception) rather
			// than failing the same way every tick.
			if perr := ledger.Pause(ctx, s.Ledger, s.Ledger, s.Log, "poll", st.ID, err, s.now()); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		if err != nil {
			s.Log.ErrorContext(sctx, "poll: store failed; watermark kept", "error", err.Error())
			failed = append(failed, fmt.Errorf("store %s: %w", st.ID, err))
			continue
		}
		s.Log.InfoContext(sctx, "poll: done", "enqueued", n)
		s.Metrics.Put("PollEnqueued", float64(n), obs.Count, map[string]string{"Channel": string(st.Channel)})
	}
	if s.Shipments != nil {
		for i := range s.Config.ShipStation {
			a := &s.Config.ShipStation[i]
			actx := obs.With(ctx, "account", a.ID)
			if err := s.pullLabels(ctx, a.ID); err != nil {
				s.Log.ErrorContext(actx, "poll: label pull failed; watermark kept", "error", err.Error())
				failed = append(failed, fmt.Errorf("shipstation %s: %w", a.ID, err))
			}
		}
	}
	return errors.Join(failed...)
}

// remind raises, once per due date, the exception that reminds the
// operator to renew a seller's yearly Amazon authorisation 30 days ahead.
func (s *Service) remind(ctx context.Context, st *config.Store) error {
	authorised, ok := st.Amazon.Authorized()
	if !ok {
		return nil
	}
	due := authorised.Add(ReauthorisationPeriod)
	now := s.now().UTC()
	if now.Before(due.Add(-ReminderLead)) {
		return nil
	}
	day := due.Format(time.DateOnly)
	// Every poll in the window would write the same record again: claim the
	// reminder, so it is raised (and logged) once per due date.
	first, err := s.Ledger.Claim(ctx, "reminder:reauthorise:"+st.ID+":"+day, ReminderLead+ReauthorisationPeriod, now)
	if err != nil || !first {
		return err
	}
	cause := errs.Ef(errs.Unauthorised, "amazon.reauthorise",
		"store %s: the seller's authorisation of shiprelay ends on %s; before then re-authorise shiprelay in Seller Central → Apps and Services → Manage Your Apps, store the new refresh token in the store's secret and set amazon.authorizedOn to the new date",
		st.ID, day)
	if err := ledger.Raise(ctx, s.Ledger, s.Log, "amazon.reauthorise", "", st.ID, cause, now, "reminder", st.ID, day); err != nil {
		_ = s.Ledger.Release(ctx, "reminder:reauthorise:"+st.ID+":"+day) // raised by the next poll
		return err
	}
	return nil
}

// pullLabels enqueues the window of labels created since the account's
// watermark (minus the overlap) and moves the watermark.
func (s *Service) pullLabels(ctx context.Context, account string) error {
	key := "poll:shipstation:" + account
	wm, err := s.Watermarks.Watermark(ctx, key)
	if err != nil {
		return fmt.Errorf("read watermark: %w", err)
	}
	until := s.now().UTC()
	if !wm.IsZero() && until.Sub(wm) < s.Config.Settings.LabelPullInterval.D() {
		return nil // pulled recently enough; webhooks carry the rest
	}
	from := wm.Add(-s.Config.Settings.PollOverlap.D())
	if wm.IsZero() {
		from = until.Add(-s.Config.Settings.InitialLookback.D())
	}
	body, err := json.Marshal(queue.Shipments{Account: account, From: from, To: until, ReceivedAt: until})
	if err != nil {
		return err
	}
	if err := s.Shipments.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return s.Watermarks.SetWatermark(ctx, key, until)
}

// Store polls one store and returns how many changes it enqueued.
func (s *Service) Store(ctx context.Context, st *config.Store, l Lister) (int, error) {
	key := WatermarkKey(st.Channel, st.ID)
	wm, err := s.Watermarks.Watermark(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("read watermark: %w", err)
	}
	until := s.now().UTC()
	from := wm.Add(-s.Config.Settings.PollOverlap.D())
	if wm.IsZero() {
		from = until.Add(-s.Config.Settings.InitialLookback.D())
	}
	n := 0
	covered, err := l.ModifiedBetween(ctx, st.ID, from, until, func(changes []Change) error {
		msgs := make([]queue.Message, 0, len(changes))
		for _, c := range changes {
			body, err := json.Marshal(queue.Ingest{
				Channel: st.Channel, StoreID: st.ID, ChannelOrderID: c.ChannelOrderID,
				Source: "poll", ReceivedAt: until, ModifiedAt: c.ModifiedAt,
			})
			if err != nil {
				return err
			}
			msgs = append(msgs, queue.Message{Body: body})
		}
		if err := s.Ingest.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		n += len(msgs)
		return nil
	})
	if err != nil {
		return n, err
	}
	if covered.IsZero() || covered.After(until) {
		covered = until
	}
	if err := s.Watermarks.SetWatermark(ctx, key, covered); err != nil {
		return n, fmt.Errorf("advance watermark: %w", err)
	}
	return n, nil
}
