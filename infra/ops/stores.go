package ops

import (
	"context"
	"errors"

	"github.com/shiprelay/shiprelay/shared/ledger"
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
