// Package sweep holds the hourly redaction sweep: it lists the orders whose
// Amazon buyer data is due (ledger.Redactions, a sparse index on due time),
// redacts each (one history event per order), and sends again to
// ShipStation the copies still open there, so ShipStation's copy loses the
// data too. A copy ShipStation has shipped cannot be changed through its V1
// API: those are counted (RedactionsShipStationShipped), not retried.
//
// If the sweep stops running, DynamoDB's time to live on the buyer-data
// item still removes it shortly after its due time, and readers treat an
// expired item as redacted.
package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/redaction"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// PageSize is how many due orders one listing returns.
const PageSize = 200

// Ledger is what the sweep needs of the ledger.
type Ledger interface {
	ledger.Store
	ledger.Shipments
	ledger.Redactions
}

// Redactions is the redaction sweep function.
type Redactions struct {
	Ledger Ledger
	// Push is the push queue (ShipStation's open copies are sent again).
	Push    queue.Sender
	Log     *slog.Logger
	Metrics *obs.Metrics
	// Now is the clock (the local demo runs it fast); nil means time.Now.
	Now func() time.Time
}

// RedactionResult is what one sweep did.
type RedactionResult struct {
	// Due is how many due orders were listed.
	Due int `json:"due"`
	// Redacted is how many were redacted by this sweep.
	Redacted int `json:"redacted"`
	// Overdue is how many of those were more than one sweep late.
	Overdue int `json:"overdue"`
	// Resent is how many open ShipStation copies were queued to be sent
	// again without the data.
	Resent int `json:"resent"`
	// ShipStationShipped is how many had a ShipStation copy that has
	// shipped already, which ShipStation's V1 API cannot change.
	ShipStationShipped int `json:"shipStationShipped"`
	// Failed is how many could not be redacted (retried next sweep).
	Failed int `json:"failed"`
}

func (s *Redactions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handle is the Lambda handler for the hourly EventBridge schedule.
func (s *Redactions) Handle(ctx context.Context, _ events.EventBridgeEvent) (RedactionResult, error) {
	ctx = lambdaio.WithRequestID(ctx)
	return s.Run(ctx)
}

// Run redacts every order due at the sweep's clock. One order's failure does
// not stop the others; it is counted, logged, and picked up by the next
// sweep (the order stays listed until redacted).
func (s *Redactions) Run(ctx context.Context) (RedactionResult, error) {
	now := s.now().UTC()
	var res RedactionResult
	var failures []error
	var page ledger.Page
	for {
		due, next, err := s.Ledger.DueForRedaction(ctx, now, PageSize, page)
		if err != nil {
			return res, fmt.Errorf("list due redactions: %w", err)
		}
		for _, d := range due {
			res.Due++
			if err := s.one(ctx, d, now, &res); err != nil {
				res.Failed++
				failures = append(failures, err)
				s.Log.ErrorContext(obs.With(ctx, "order_id", string(d.ID)), "sweep: redaction failed; retried next sweep", "error", err.Error())
			}
		}
		if next == "" {
			break
		}
		page = next
	}
	dims := map[string]string{"Function": "redact"}
	s.Metrics.Put("RedactionsDone", float64(res.Redacted), obs.Count, dims)
	s.Metrics.Put("RedactionsOverdue", float64(res.Overdue+res.Failed), obs.Count, dims)
	s.Metrics.Put("RedactionsShipStationShipped", float64(res.ShipStationShipped), obs.Count, dims)
	s.Log.InfoContext(ctx, "sweep: redactions done", "due", res.Due, "redacted", res.Redacted, "overdue", res.Overdue,
		"resent", res.Resent, "shipstation_shipped", res.ShipStationShipped, "failed", res.Failed)
	if len(failures) > 0 {
		return res, fmt.Errorf("%d redactions failed: %w", len(failures), errors.Join(failures...))
	}
	return res, nil
}

// one redacts one due order and re-sends its open ShipStation copy.
func (s *Redactions) one(ctx context.Context, d ledger.DueRedaction, now time.Time, res *RedactionResult) error {
	ctx = obs.With(ctx, "order_id", string(d.ID))
	done, err := s.Ledger.Redact(ctx, d.ID, now)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return fmt.Errorf("redact: %w", err)
	}
	if !done {
		return nil // redacted by a concurrent sweep, or gone
	}
	res.Redacted++
	if redaction.Overdue(d.Due, now) {
		res.Overdue++
	}
	rec, err := s.Ledger.Get(ctx, d.ID)
	if err != nil {
		return fmt.Errorf("read redacted order: %w", err)
	}
	if len(rec.Pushes) == 0 {
		return nil // never in ShipStation
	}
	open, err := s.openInShipStation(ctx, rec)
	if err != nil {
		return err
	}
	if !open {
		res.ShipStationShipped++
		return nil
	}
	body, err := json.Marshal(queue.Push{OrderID: d.ID, Version: rec.Order.ModifiedAt, Redacted: true})
	if err != nil {
		return err
	}
	// The redaction is recorded already: a failed enqueue leaves ShipStation's
	// copy with the data until it ships; it is logged, not retried blindly.
	if err := s.Push.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("queue the redacted copy for ShipStation: %w", err)
	}
	res.Resent++
	return nil
}

// openInShipStation says whether ShipStation's copy can still be changed:
// not shipped or cancelled on the channel, and no live label relayed.
func (s *Redactions) openInShipStation(ctx context.Context, rec ledger.Record) (bool, error) {
	if rec.Order.Status == order.Shipped || rec.Order.Status == order.Cancelled {
		return false, nil
	}
	notes, err := s.Ledger.Notifications(ctx, rec.Order.ID)
	if err != nil {
		return false, fmt.Errorf("read notifications: %w", err)
	}
	for _, n := range notes {
		if n.State == shipment.Skipped && n.Reason == shipment.NothingLeft {
			continue
		}
		label, err := s.Ledger.Label(ctx, n.ShipmentKey)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return false, fmt.Errorf("read label: %w", err)
		}
		if err == nil && !label.Voided {
			return false, nil
		}
	}
	return true, nil
}
