package redaction

import (
	"context"
	"fmt"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// Ledger is what scheduling a redaction needs of the ledger.
type Ledger interface {
	ledger.Shipments
	ledger.Redactions
}

// Schedule recomputes when an order's buyer data is due for redaction,
// from its record and the labels its notifications name, and stores it
// (ledger.Redactions.SetRedactionDue with Grace). notes are the order's
// notifications when the caller holds them already (nil: read them). An
// order this schedule does not apply to, or one already redacted, is left
// alone. Call it whenever the order's history changes: import, label, void.
func Schedule(ctx context.Context, l Ledger, rec ledger.Record, notes []shipment.Notification, tracking TrackingFunc) (time.Time, error) {
	if !Applies(rec.Order) || !rec.RedactedAt.IsZero() {
		return time.Time{}, nil
	}
	if notes == nil {
		var err error
		if notes, err = l.Notifications(ctx, rec.Order.ID); err != nil {
			return time.Time{}, fmt.Errorf("redaction: read notifications: %w", err)
		}
	}
	var labels []shipment.Shipment
	seen := map[string]bool{}
	for _, n := range notes {
		if seen[n.ShipmentKey] {
			continue
		}
		seen[n.ShipmentKey] = true
		lb, err := l.Label(ctx, n.ShipmentKey)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("redaction: read label %s: %w", n.ShipmentKey, err)
		}
		labels = append(labels, lb)
	}
	imported := rec.ImportedAt
	if imported.IsZero() {
		imported = rec.Order.OrderDate
	}
	due, _ := Due(FactsOf(rec.Order, imported, labels, tracking))
	if due.IsZero() {
		due = imported // nothing known: due at once
	}
	if err := l.SetRedactionDue(ctx, rec.Order.ID, due, Grace); err != nil {
		return time.Time{}, fmt.Errorf("redaction: set due: %w", err)
	}
	return due, nil
}
