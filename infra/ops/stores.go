package ops

import (
	"context"
	"errors"
	"time"

	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
)

// StoreStatuses reads the hub's status of each store, in the order given.
// The ledger keeps a status only for stores that were ever paused, so the
// caller names the stores (from the configuration, or by hand).
func (t *Target) StoreStatuses(ctx context.Context, ids []string) ([]ledger.StoreStatus, error) {
	out := make([]ledger.StoreStatus, 0, len(ids))
	for _, id := range ids {
		st, err := t.Ledger.StoreStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// ResumeStore clears a store's pause (ledger.Stores.ResumeStore) and returns
// its status from before. Resuming a store that is not paused is harmless.
// Notifications parked while it was paused are retried by the notify
// function's backoff; one whose message reached the dead-letter queue
// meanwhile comes back with ReplayDLQ("NotifyBigCommerceDLQ").
func (t *Target) ResumeStore(ctx context.Context, id string) (before ledger.StoreStatus, err error) {
	if id == "" {
		return ledger.StoreStatus{}, errors.New("empty store id")
	}
	before, err = t.Ledger.StoreStatus(ctx, id)
	if err != nil {
		return before, err
	}
	return before, t.Ledger.ResumeStore(ctx, id)
}

// Reimport moves a store's poll watermark to from ("reset import date"):
// the next scheduled poll lists every order changed since then and queues
// it for ingest, which skips the ones the ledger already holds at that
// version. It returns the watermark from before.
func (t *Target) Reimport(ctx context.Context, ch order.Channel, storeID string, from time.Time) (before time.Time, err error) {
	if storeID == "" || from.IsZero() {
		return time.Time{}, errors.New("empty store id or date")
	}
	key := poll.WatermarkKey(ch, storeID)
	if before, err = t.Ledger.Watermark(ctx, key); err != nil {
		return before, err
	}
	return before, t.Ledger.ResetWatermark(ctx, key, from.UTC())
}
