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
// each page in order. An error from page stops the listing.
type Lister interface {
	ModifiedBetween(ctx context.Context, storeID string, from, to time.Time, page func([]Change) error) error
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
	var errs []error
	for i := range s.Config.Stores {
		st := &s.Config.Stores[i]
		l := s.Listers[st.Channel]
		if !st.IsEnabled() || l == nil {
			continue
		}
		n, err := s.Store(ctx, st, l)
		sctx := obs.With(ctx, "store_id", st.ID, "channel", string(st.Channel))
		if err != nil {
			s.Log.ErrorContext(sctx, "poll: store failed; watermark kept", "error", err.Error())
			errs = append(errs, fmt.Errorf("store %s: %w", st.ID, err))
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
				errs = append(errs, fmt.Errorf("shipstation %s: %w", a.ID, err))
			}
		}
	}
	return errors.Join(errs...)
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
	err = l.ModifiedBetween(ctx, st.ID, from, until, func(changes []Change) error {
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
	if err := s.Watermarks.SetWatermark(ctx, key, until); err != nil {
		return n, fmt.Errorf("advance watermark: %w", err)
	}
	return n, nil
}
