// Package reconcile is the scheduled sweep that re-drives work left half
// done. Every hop is at-least-once, yet a push message can still be lost for
// good: it reached the push dead-letter queue after its last receive, or a
// crash between the ledger write and the enqueue happened on the last
// delivery. The ledger still says "pending", so the sweep lists, per enabled
// store, the pending orders whose ledger record has not moved for longer than
// settings.reconcileAfter and enqueues their push again. A push is an upsert
// by orderKey and re-reads the ledger, so a re-driven order whose original
// message was merely slow is still pushed at most once per version.
//
// The sweep also reports how many exception records are open, so that an
// alarm can watch them.
package reconcile

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
	"github.com/shiprelay/shiprelay/shared/queue"
)

// DefaultPageSize is how many pending orders one ledger listing returns.
const DefaultPageSize = 100

// MaxExceptions caps the exception listing behind ExceptionsOpen: past it
// the metric says "at least MaxExceptions".
const MaxExceptions = 1000

// Service is the reconcile function.
type Service struct {
	Config *config.Config
	Ledger ledger.Store
	// Push is the push queue.
	Push    queue.Sender
	Log     *slog.Logger
	Metrics *obs.Metrics
	Now     func() time.Time
	// PageSize is the ledger listing's page size (0: DefaultPageSize).
	PageSize int
}

// Result is what one sweep did.
type Result struct {
	// Stores is how many enabled stores were swept (failed ones included).
	Stores int `json:"stores"`
	// Pending is how many pending orders were looked at.
	Pending int `json:"pending"`
	// Redriven is how many pushes were enqueued again.
	Redriven int `json:"redriven"`
	// ExceptionsOpen is the number of exception records, at most
	// MaxExceptions (then ExceptionsCapped is set).
	ExceptionsOpen   int  `json:"exceptionsOpen"`
	ExceptionsCapped bool `json:"exceptionsCapped,omitempty"` // see ExceptionsOpen
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handle is the Lambda handler for the EventBridge schedule.
func (s *Service) Handle(ctx context.Context, _ events.EventBridgeEvent) error {
	ctx = lambdaio.WithRequestID(ctx)
	_, err := s.Run(ctx)
	return err
}

// Run sweeps every enabled store, then counts the open exceptions. One
// store's failure does not stop the others; the joined error makes the
// invocation fail visibly, and the next run simply repeats the sweep.
func (s *Service) Run(ctx context.Context) (Result, error) {
	var res Result
	var errs []error
	cutoff := s.now().UTC().Add(-s.Config.Settings.ReconcileAfter.D())
	for i := range s.Config.Stores {
		st := &s.Config.Stores[i]
		if !st.IsEnabled() {
			continue
		}
		res.Stores++
		sctx := obs.With(ctx, "store_id", st.ID, "channel", string(st.Channel))
		pending, redriven, err := s.Store(sctx, st.ID, cutoff)
		res.Pending += pending
		res.Redriven += redriven
		if err != nil {
			s.Log.ErrorContext(sctx, "reconcile: store failed", "error", err.Error(), "redriven", redriven)
			errs = append(errs, fmt.Errorf("store %s: %w", st.ID, err))
		}
	}
	s.Metrics.Put("ReconcileRedriven", float64(res.Redriven), obs.Count, map[string]string{"Function": "reconcile"})

	exc, next, err := s.Ledger.Exceptions(ctx, MaxExceptions, "")
	if err != nil {
		s.Log.ErrorContext(ctx, "reconcile: listing exceptions failed", "error", err.Error())
		errs = append(errs, fmt.Errorf("exceptions: %w", err))
	} else {
		res.ExceptionsOpen, res.ExceptionsCapped = len(exc), next != ""
		s.Metrics.Put("ExceptionsOpen", float64(res.ExceptionsOpen), obs.Count, map[string]string{"Function": "reconcile"})
	}

	s.Log.InfoContext(ctx, "reconcile: done",
		"stores", res.Stores, "pending", res.Pending, "redriven", res.Redriven,
		"exceptions_open", res.ExceptionsOpen, "exceptions_capped", res.ExceptionsCapped,
		"grace", s.Config.Settings.ReconcileAfter.D().String(), "failed", len(errs))
	return res, errors.Join(errs...)
}

// Store re-drives one store's pending orders last written at or before
// cutoff that are not pushed at their current version. It returns how many
// pending orders it saw and how many pushes it enqueued. Each page's pushes
// are sent in one batched Send; a failed Send stops the store.
func (s *Service) Store(ctx context.Context, storeID string, cutoff time.Time) (pending, redriven int, err error) {
	size := s.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	var page ledger.Page
	for {
		recs, next, err := s.Ledger.ByState(ctx, storeID, ledger.StatePending, size, page)
		if err != nil {
			return pending, redriven, fmt.Errorf("list pending: %w", err)
		}
		pending += len(recs)
		var msgs []queue.Message
		var due []*ledger.Record
		for i := range recs {
			rec := &recs[i]
			if !Due(rec, cutoff) {
				continue
			}
			body, err := json.Marshal(queue.Push{OrderID: rec.Order.ID, Version: rec.Order.ModifiedAt})
			if err != nil {
				return pending, redriven, fmt.Errorf("order %s: %w", rec.Order.ID, err)
			}
			msgs = append(msgs, queue.Message{Body: body})
			due = append(due, rec)
		}
		if len(msgs) > 0 {
			if err := s.Push.Send(ctx, msgs...); err != nil {
				return pending, redriven, fmt.Errorf("enqueue push: %w", err)
			}
			redriven += len(msgs)
			now := s.now().UTC()
			for _, rec := range due {
				s.Log.InfoContext(obs.With(ctx, "order_id", string(rec.Order.ID)), "reconcile: push re-driven",
					"pending_for", now.Sub(rec.UpdatedAt).Round(time.Second).String())
			}
		}
		if next == "" {
			return pending, redriven, nil
		}
		page = next
	}
}

// Due reports whether a ledger record is work to re-drive: pending, not
// pushed at its current version, and last written at or before cutoff.
func Due(rec *ledger.Record, cutoff time.Time) bool {
	return rec.State == ledger.StatePending && !rec.PushedVersion() && !rec.UpdatedAt.After(cutoff)
}
