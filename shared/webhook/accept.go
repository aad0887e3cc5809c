package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// readBody reads at most MaxBody bytes; on failure it has answered already.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		reply(w, http.StatusRequestEntityTooLarge, "rejected", "body larger than 256 KB")
	} else {
		reply(w, http.StatusBadRequest, "rejected", "could not read body")
	}
	return nil, false
}

// intake is the tail every receiver shares: dedupe the delivery by its
// bytes, enqueue its work, answer. A delivery whose enqueue fails is
// un-claimed, so the sender's redelivery is accepted: nothing accepted is
// lost, and a redelivery is never queued twice.
type intake struct {
	claims ledger.Claims
	ttl    time.Duration
	log    *slog.Logger
}

func (in intake) accept(ctx context.Context, w http.ResponseWriter, source string, body []byte, now time.Time, q queue.Sender, msg []byte) {
	sum := sha256.Sum256(body)
	key := "webhook:" + source + ":" + hex.EncodeToString(sum[:])
	first, err := in.claims.Claim(ctx, key, in.ttl, now)
	if err != nil {
		in.log.ErrorContext(ctx, "webhook: dedupe claim failed", "error", err.Error())
		reply(w, http.StatusServiceUnavailable, "error", "try again")
		return
	}
	if !first {
		in.log.InfoContext(ctx, "webhook: duplicate delivery ignored")
		reply(w, http.StatusOK, "duplicate", "")
		return
	}
	if err := q.Send(ctx, queue.Message{Body: msg}); err != nil {
		if rerr := in.claims.Release(ctx, key); rerr != nil {
			in.log.ErrorContext(ctx, "webhook: release claim failed", "error", rerr.Error())
		}
		in.log.ErrorContext(ctx, "webhook: enqueue failed", "error", err.Error(), "kind", errs.KindOf(err).String())
		reply(w, http.StatusServiceUnavailable, "error", "try again")
		return
	}
	in.log.InfoContext(ctx, "webhook: accepted")
	reply(w, http.StatusAccepted, "accepted", "")
}
