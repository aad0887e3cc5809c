// Package webhook holds shiprelay's webhook receivers: plain net/http
// handlers that authenticate, validate, dedupe and enqueue, and do nothing
// else, so that they answer fast and never lose an accepted delivery.
package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// MaxBody is the largest webhook body accepted (BigCommerce's are < 1 KB).
const MaxBody = 256 << 10

// BigCommerceAuth is what the receiver needs to know of one store.
type BigCommerceAuth struct {
	// StoreHash is the store's hash; the payload's producer must be "stores/<hash>".
	StoreHash string
	// Header is the custom header set at subscription (POST /v3/hooks "headers").
	Header string
	// Secret is that header's expected value.
	Secret string
	// SigningSecret, when set, verifies Standard Webhooks signatures
	// (webhook-signature) whenever a delivery carries one.
	SigningSecret string
}

// BigCommerceStores finds a BigCommerce store's webhook credentials. ok is
// false for an unknown or disabled store.
type BigCommerceStores interface {
	BigCommerceAuth(ctx context.Context, storeID string) (auth BigCommerceAuth, ok bool, err error)
}

// BigCommerce receives BigCommerce webhooks on
// POST /webhooks/bigcommerce/{storeId}.
type BigCommerce struct {
	Stores BigCommerceStores
	Claims ledger.Claims
	Ingest queue.Sender
	Log    *slog.Logger
	// DedupeTTL is how long a delivery is remembered.
	DedupeTTL time.Duration
	// SignatureTolerance bounds the age of a signed delivery (default 5 min).
	SignatureTolerance time.Duration
	Now                func() time.Time
}

const bigCommerceRoute = "POST /webhooks/bigcommerce/{storeId}"

// Handler returns the routes of the receiver alone.
func (b *BigCommerce) Handler() http.Handler { return Routes(b, nil) }

func (b *BigCommerce) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func reply(w http.ResponseWriter, code int, status, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	body := map[string]string{"status": status}
	if reason != "" {
		body["reason"] = reason
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (b *BigCommerce) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	storeID := r.PathValue("storeId")
	ctx = obs.With(ctx, "store_id", storeID, "channel", "bigcommerce")
	received := b.now()

	body, ok := readBody(w, r)
	if !ok {
		return
	}

	auth, ok, err := b.Stores.BigCommerceAuth(ctx, storeID)
	if err != nil {
		b.Log.ErrorContext(ctx, "webhook: store credentials unavailable", "error", err.Error())
		reply(w, http.StatusServiceUnavailable, "error", "store credentials unavailable")
		return
	}
	if !ok {
		reply(w, http.StatusNotFound, "rejected", "unknown store")
		return
	}
	if !constantTimeEqual(header(r, auth.Header), auth.Secret) {
		b.Log.WarnContext(ctx, "webhook: bad or missing secret header")
		reply(w, http.StatusUnauthorized, "rejected", "bad or missing secret header")
		return
	}
	if sig := header(r, "webhook-signature"); auth.SigningSecret != "" && sig != "" {
		r.Header.Set("webhook-signature", sig)
		tol := b.SignatureTolerance
		if tol <= 0 {
			tol = 5 * time.Minute
		}
		if err := bigcommerce.VerifyStandardWebhook(r.Header, body, auth.SigningSecret, received, tol); err != nil {
			b.Log.WarnContext(ctx, "webhook: bad signature", "error", err.Error())
			reply(w, http.StatusUnauthorized, "rejected", "bad signature")
			return
		}
	}

	hook, err := bigcommerce.ParseWebhook(body)
	if err != nil {
		reply(w, http.StatusBadRequest, "rejected", err.Error())
		return
	}
	if want := "stores/" + auth.StoreHash; hook.Producer != want {
		reply(w, http.StatusBadRequest, "rejected", "producer does not match this store")
		return
	}
	ctx = obs.With(ctx, "scope", hook.Scope)
	if !strings.HasPrefix(hook.Scope, "store/order/") || hook.Data.Type != "order" {
		// Accepted but not ours to act on (e.g. store/app/uninstalled).
		reply(w, http.StatusOK, "ignored", "")
		return
	}
	orderID := strconv.FormatInt(hook.Data.ID, 10)
	if id, err := order.NewID(order.BigCommerce, storeID, orderID); err == nil {
		ctx = obs.With(ctx, "order_id", string(id))
	}

	// A redelivery of the same event carries the same bytes.
	msg, _ := json.Marshal(queue.Ingest{
		Channel: order.BigCommerce, StoreID: storeID, ChannelOrderID: orderID,
		Source: "webhook", ReceivedAt: received.UTC(),
	})
	intake{b.Claims, b.DedupeTTL, b.Log}.accept(ctx, w, "bigcommerce:"+storeID, body, received, b.Ingest, msg)
}

// header returns a header's whole value. API Gateway's Lambda proxy splits
// headers at commas into several values (a Standard Webhooks signature is
// "v1,<base64>"); joining them restores what the sender sent.
func header(r *http.Request, name string) string {
	return strings.Join(r.Header.Values(name), ",")
}

func constantTimeEqual(got, want string) bool {
	if want == "" {
		return false
	}
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
