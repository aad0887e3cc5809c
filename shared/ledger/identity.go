package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// AnnouncePrimary tells the members of identity x, all but self (the
// order whose processing changed it, which decides its own state), to
// decide their state again when its primary has not been announced yet:
// a relink message each on the ingest queue. Then it marks the primary
// announced on the stored identity. The mark comes after the sends, like
// an outbox: a crash in between leaves it unannounced, and the next reader
// (the redelivered message) sends again; the receivers are idempotent. A
// primary that changed again meanwhile stays unannounced, for the writer
// that changed it.
func AnnouncePrimary(ctx context.Context, ids Identities, ingest queue.Sender, x dedupe.Identity, self order.ID, now time.Time) error {
	if !x.Unannounced() || ingest == nil || len(x.Members) < 2 {
		// Nobody else to tell (yet): the mark waits for a second member,
		// whose arrival announces the primary then.
		return nil
	}
	var msgs []queue.Message
	for _, m := range x.Members {
		ch, store, oid, err := m.ID.Parse()
		if m.ID == self || err != nil {
			continue
		}
		body, err := json.Marshal(queue.Ingest{Channel: ch, StoreID: store, ChannelOrderID: oid, Source: "relink", ReceivedAt: now.UTC(), Relink: true})
		if err != nil {
			return err
		}
		msgs = append(msgs, queue.Message{Body: body})
	}
	if len(msgs) > 0 {
		if err := ingest.Send(ctx, msgs...); err != nil {
			return fmt.Errorf("enqueue relink: %w", err)
		}
	}
	if _, _, err := ids.UpdateIdentity(ctx, x.Key, func(y *dedupe.Identity) bool { return y.Announce(x.Primary) }); err != nil {
		return fmt.Errorf("announce primary of %s: %w", x.Key, err)
	}
	return nil
}
