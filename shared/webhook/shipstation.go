package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

// ShipStationAuth is what the SHIP_NOTIFY receiver needs of one account.
type ShipStationAuth struct {
	// Token is the unguessable secret in the webhook's target URL
	// (ShipStation V1 webhooks are unsigned).
	Token string
	// BaseURL is the account's configured API base: resource URLs must
	// point there and nowhere else.
	BaseURL string
}

// ShipStationAccounts finds an account's webhook credentials; ok is false
// for an unknown account.
type ShipStationAccounts interface {
	ShipStationAuth(ctx context.Context, accountID string) (auth ShipStationAuth, ok bool, err error)
}

// ShipStation receives SHIP_NOTIFY webhooks on
// POST /webhooks/shipstation/{accountId}/{token}. It never fetches
// anything: it validates and enqueues, so a forged resource URL causes no
// outbound request at all.
type ShipStation struct {
	Accounts  ShipStationAccounts
	Claims    ledger.Claims
	Shipments queue.Sender
	Log       *slog.Logger
	DedupeTTL time.Duration
	Now       func() time.Time
}

const shipStationRoute = "POST /webhooks/shipstation/{accountId}/{token}"

func (s *ShipStation) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *ShipStation) serve(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("accountId")
	ctx := obs.With(r.Context(), "account", account, "channel", "shipstation")
	received := s.now()
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	auth, ok, err := s.Accounts.ShipStationAuth(ctx, account)
	if err != nil {
		s.Log.ErrorContext(ctx, "webhook: account credentials unavailable", "error", err.Error())
		reply(w, http.StatusServiceUnavailable, "error", "account credentials unavailable")
		return
	}
	if !ok {
		reply(w, http.StatusNotFound, "rejected", "unknown account")
		return
	}
	if !constantTimeEqual(r.PathValue("token"), auth.Token) {
		s.Log.WarnContext(ctx, "webhook: bad token")
		reply(w, http.StatusUnauthorized, "rejected", "bad token")
		return
	}
	hook, err := shipstation.ParseWebhook(body)
	if err != nil {
		reply(w, http.StatusBadRequest, "rejected", err.Error())
		return
	}
	if hook.ResourceType != "SHIP_NOTIFY" {
		reply(w, http.StatusOK, "ignored", "")
		return
	}
	u, err := shipstation.ResourceURL(hook.ResourceURL, auth.BaseURL)
	if err != nil {
		s.Log.WarnContext(ctx, "webhook: resource_url rejected", "error", err.Error())
		reply(w, http.StatusBadRequest, "rejected", err.Error())
		return
	}
	msg, _ := json.Marshal(queue.Shipments{Account: account, ResourceURL: u.String(), ReceivedAt: received.UTC()})
	intake{s.Claims, s.DedupeTTL, s.Log}.accept(ctx, w, "shipstation:"+account, body, received, s.Shipments, msg)
}

// Routes serves every receiver that is set (nil ones are left out).
func Routes(bc *BigCommerce, ss *ShipStation) http.Handler {
	mux := http.NewServeMux()
	if bc != nil {
		mux.HandleFunc(bigCommerceRoute, bc.serve)
	}
	if ss != nil {
		mux.HandleFunc(shipStationRoute, ss.serve)
	}
	return mux
}
