package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// pageSize is the largest page the ledger serves.
const pageSize = 1000

// EventReplayed is the history event an operator's replay appends.
const EventReplayed order.EventKind = "replayed"

// Exceptions lists up to limit exception records, newest first (limit <= 0:
// all of them).
func (t *Target) Exceptions(ctx context.Context, limit int) ([]ledger.Exception, error) {
	var out []ledger.Exception
	var page ledger.Page
	for {
		n := pageSize
		if limit > 0 {
			n = min(pageSize, limit-len(out))
		}
		es, next, err := t.Ledger.Exceptions(ctx, n, page)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if next == "" || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		page = next
	}
}

// Exception finds one exception record by id (errs.NotFound when there is
// none). The ledger lists exceptions by time only, so it walks the listing.
func (t *Target) Exception(ctx context.Context, id string) (ledger.Exception, error) {
	var page ledger.Page
	for {
		es, next, err := t.Ledger.Exceptions(ctx, pageSize, page)
		if err != nil {
			return ledger.Exception{}, err
		}
		for _, e := range es {
			if e.ID == id {
				return e, nil
			}
		}
		if next == "" {
			return ledger.Exception{}, errs.Ef(errs.NotFound, "ops.Exception", "no exception %q", id)
		}
		page = next
	}
}

// Replay actions.
const (
	// ActionPushed: the order was set back to pending (when it was in
	// exception) and one push message was queued.
	ActionPushed = "push-enqueued"
	// ActionRestored: the order is in ShipStation at its current version
	// already; an exception raised after the push (a shipment relay or a
	// channel confirmation) had moved it to exception, so its state was set
	// back to pushed. Nothing was queued.
	ActionRestored = "state-restored"
	// ActionNone: nothing is meaningful to re-drive; Note says why.
	ActionNone = "nothing"
)

// ExceptionReplay says what ReplayException did.
type ExceptionReplay struct {
	Exception ledger.Exception `json:"exception"`
	Action    string           `json:"action"`
	OrderID   order.ID         `json:"orderId,omitempty"`
	// StateBefore and StateAfter are the order's pipeline state.
	StateBefore ledger.State `json:"stateBefore,omitempty"`
	StateAfter  ledger.State `json:"stateAfter,omitempty"`
	// Version is the order version of the queued push.
	Version time.Time `json:"version,omitzero"`
	Note    string    `json:"note,omitempty"`
}

// ReplayException re-drives the work behind one exception where that is
// meaningful, and says what it did:
//
//   - no order id (a store or message exception): nothing; a store that
//     needs re-authorisation is resumed with ResumeStore instead;
//   - an order in exception that is not in ShipStation at its current
//     version: SetState pending with a "replayed" history event, then one
//     queue.Push of the ledger's current version (state first: a push only
//     sends pending orders; if the enqueue fails, the reconcile sweep
//     re-drives the pending order later);
//   - an order in exception that is in ShipStation at its current version
//     (the exception came after the push): SetState pushed, nothing queued;
//   - an order still pending: a "replayed" history event and one push;
//   - an order pushed or skipped: nothing.
//
// A push re-reads the ledger and upserts by orderKey, so a replay never
// creates a second ShipStation order.
func (t *Target) ReplayException(ctx context.Context, id string) (ExceptionReplay, error) {
	e, err := t.Exception(ctx, id)
	if err != nil {
		return ExceptionReplay{}, err
	}
	r := ExceptionReplay{Exception: e, Action: ActionNone, OrderID: e.OrderID}
	if e.OrderID == "" {
		r.Note = "the exception names no order: nothing to re-drive"
		if e.StoreID != "" && e.Kind == errs.Unauthorised.String() {
			r.Note += fmt.Sprintf("; once the store is re-authorised, run: shiprelay stores resume %s", e.StoreID)
		}
		return r, nil
	}
	rec, err := t.Ledger.Get(ctx, e.OrderID)
	if err != nil {
		return r, fmt.Errorf("order %s: %w", e.OrderID, err)
	}
	r.StateBefore, r.StateAfter = rec.State, rec.State
	ev := order.Event{Kind: EventReplayed, Message: "replayed by operator (exception " + e.ID + ")"}
	switch {
	case rec.State == ledger.StateException && rec.PushedVersion():
		ev.Message += ": already in ShipStation at the current version"
		if err := t.Ledger.SetState(ctx, e.OrderID, ledger.StatePushed, ev, t.now()); err != nil {
			return r, fmt.Errorf("order %s: set state: %w", e.OrderID, err)
		}
		r.Action, r.StateAfter = ActionRestored, ledger.StatePushed
		r.Note = "the order is in ShipStation at its current version: state set back to pushed, no push queued"
		return r, nil
	case rec.State == ledger.StateException:
		if err := t.Ledger.SetState(ctx, e.OrderID, ledger.StatePending, ev, t.now()); err != nil {
			return r, fmt.Errorf("order %s: set state: %w", e.OrderID, err)
		}
		r.StateAfter = ledger.StatePending
	case rec.State == ledger.StatePending:
		if err := t.Ledger.AppendEvent(ctx, e.OrderID, ev); err != nil {
			return r, fmt.Errorf("order %s: history: %w", e.OrderID, err)
		}
	default:
		r.Note = fmt.Sprintf("the order is %s: nothing to re-drive", rec.State)
		return r, nil
	}
	if err := t.enqueuePush(ctx, rec); err != nil {
		r.Note = "the order is pending; the reconcile sweep will re-drive it"
		return r, err
	}
	r.Action, r.Version = ActionPushed, rec.Order.ModifiedAt
	return r, nil
}

func (t *Target) enqueuePush(ctx context.Context, rec ledger.Record) error {
	q, err := t.Queue("PushQueue")
	if err != nil {
		return err
	}
	body, err := jsonBody(queue.Push{OrderID: rec.Order.ID, Version: rec.Order.ModifiedAt})
	if err != nil {
		return err
	}
	if err := q.Send(ctx, queue.Message{Body: body}); err != nil {
		return fmt.Errorf("enqueue push: %w", err)
	}
	return nil
}
