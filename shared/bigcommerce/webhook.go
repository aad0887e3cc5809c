package bigcommerce

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// Webhook is a V3 webhook callback. It is light: it names what changed, and
// the receiver fetches the resource.
type Webhook struct {
	// CreatedAt is created_at (epoch seconds) in UTC; zero when absent.
	CreatedAt time.Time
	// StoreID is store_id (numeric text).
	StoreID string
	// Producer is "stores/<hash>"; StoreHash is the <hash> part.
	Producer  string
	StoreHash string
	// Scope is e.g. "store/order/created".
	Scope string
	// Hash is BigCommerce's SHA-1 of the payload data: the same event
	// delivered twice has the same hash (a dedupe key, not a signature).
	Hash string
	Data WebhookData
}

// WebhookData is the payload's data object.
type WebhookData struct {
	// Type is e.g. "order", "shipment", "product", "cart".
	Type string
	// ID is data.id when it is an integer (orders, shipments, products); for
	// store/order/* scopes it is always positive. 0 when absent or not an
	// integer.
	ID int64
	// IDText is data.id as sent, also when it is not an integer (cart
	// UUIDs); "" when absent.
	IDText string
	// OrderID is the order the event concerns: data.id for store/order/*
	// scopes (always positive there), data.orderId for store/shipment/* and
	// store/cart/converted; 0 otherwise.
	OrderID int64
	// Status is set by store/order/statusUpdated.
	Status *StatusChange
}

// StatusChange is the data.status of store/order/statusUpdated.
type StatusChange struct {
	PreviousStatusID int `json:"previous_status_id"`
	NewStatusID      int `json:"new_status_id"`
}

// IsOrderScope reports whether the scope is one of store/order/*.
func (w *Webhook) IsOrderScope() bool { return isOrderScope(w.Scope) }

func isOrderScope(scope string) bool { return strings.HasPrefix(scope, "store/order/") }

// ParseWebhook decodes and checks a V3 webhook body. It is strict about
// what the hub relies on: the body is one JSON object; scope starts with
// "store/"; data is an object with a non-empty type; store/order/* scopes
// carry a positive integer data.id; producer, when present, is
// "stores/<hash>"; created_at, when present, is a non-negative integer.
// Unknown fields are ignored. Errors are errs.Invalid and never echo the body.
func ParseWebhook(body []byte) (Webhook, error) {
	w, err := parseWebhook(body)
	if err != nil {
		return Webhook{}, errs.E(errs.Invalid, "bigcommerce.ParseWebhook", err)
	}
	return w, nil
}

func parseWebhook(body []byte) (Webhook, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return Webhook{}, errors.New("body is not a JSON object")
	}
	var w Webhook
	str := func(key string, required bool) (string, error) {
		raw, ok := top[key]
		if !ok || isNull(raw) {
			if required {
				return "", fmt.Errorf("%s is missing", key)
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%s must be a string", key)
		}
		return s, nil
	}
	var err error
	if w.Scope, err = str("scope", true); err != nil {
		return Webhook{}, err
	}
	if !strings.HasPrefix(w.Scope, "store/") || len(w.Scope) == len("store/") {
		return Webhook{}, errors.New(`scope must start with "store/"`)
	}
	if w.Hash, err = str("hash", false); err != nil {
		return Webhook{}, err
	}
	if w.Producer, err = str("producer", false); err != nil {
		return Webhook{}, err
	}
	if w.Producer != "" {
		h, ok := strings.CutPrefix(w.Producer, "stores/")
		if !ok || h == "" || strings.Contains(h, "/") {
			return Webhook{}, errors.New(`producer must be "stores/<store_hash>"`)
		}
		w.StoreHash = h
	}
	if raw, ok := top["store_id"]; ok && !isNull(raw) {
		var id FlexString
		if err := json.Unmarshal(raw, &id); err != nil {
			return Webhook{}, errors.New("store_id must be a string or a number")
		}
		w.StoreID = string(id)
	}
	if raw, ok := top["created_at"]; ok && !isNull(raw) {
		n, err := positiveInt(raw, true)
		if err != nil {
			return Webhook{}, fmt.Errorf("created_at %v", err)
		}
		w.CreatedAt = time.Unix(n, 0).UTC()
	}

	rawData, ok := top["data"]
	if !ok || isNull(rawData) {
		return Webhook{}, errors.New("data is missing")
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(rawData, &data); err != nil {
		return Webhook{}, errors.New("data must be an object")
	}
	if raw, ok := data["type"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &w.Data.Type); err != nil {
			return Webhook{}, errors.New("data.type must be a string")
		}
	}
	if strings.TrimSpace(w.Data.Type) == "" {
		return Webhook{}, errors.New("data.type is missing")
	}
	if raw, ok := data["id"]; ok && !isNull(raw) {
		var id FlexString
		if err := json.Unmarshal(raw, &id); err != nil {
			return Webhook{}, errors.New("data.id must be a string or a number")
		}
		w.Data.IDText = string(id)
		if n, err := positiveInt(raw, true); err == nil {
			w.Data.ID = n
		}
	}
	if isOrderScope(w.Scope) {
		raw, ok := data["id"]
		if !ok || isNull(raw) {
			return Webhook{}, fmt.Errorf("data.id is missing (required for %s)", "store/order/* scopes")
		}
		n, err := positiveInt(raw, false)
		if err != nil {
			return Webhook{}, fmt.Errorf("data.id %v", err)
		}
		w.Data.OrderID = n
		w.Data.ID = n
	} else if raw, ok := data["orderId"]; ok && !isNull(raw) {
		n, err := positiveInt(raw, false)
		if err != nil {
			return Webhook{}, fmt.Errorf("data.orderId %v", err)
		}
		w.Data.OrderID = n
	}
	if raw, ok := data["status"]; ok && !isNull(raw) {
		var st StatusChange
		if err := json.Unmarshal(raw, &st); err != nil {
			return Webhook{}, errors.New("data.status must be {previous_status_id, new_status_id}")
		}
		w.Data.Status = &st
	}
	return w, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// positiveInt reads a JSON integer literal (no quotes, fraction or exponent)
// that is > 0, or ≥ 0 when zeroOK.
func positiveInt(raw json.RawMessage, zeroOK bool) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || strings.ContainsAny(s, `".eE+`) {
		return 0, errors.New("must be an integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("must be an integer")
	}
	if n < 0 || (n == 0 && !zeroOK) {
		return 0, errors.New("must be positive")
	}
	return n, nil
}

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultWebhookTolerance is the replay window used when the tolerance
// passed to VerifyStandardWebhook is not positive.
const DefaultWebhookTolerance = 5 * time.Minute

// ErrSignature is wrapped by every verification failure, so a receiver can
// answer 401 with errors.Is(err, ErrSignature).
var ErrSignature = errors.New("webhook not authentic")

// VerifyStandardWebhook checks a Standard Webhooks signature: the
// webhook-signature header holds space-separated "v1,<base64>" entries, each
// an HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>". secret is
// either "whsec_<base64 key>" or the raw key (for BigCommerce, the app's or
// API account's client secret). The timestamp (epoch seconds) must be within
// tolerance of now. Comparison is constant-time. Errors are errs.Invalid
// wrapping ErrSignature and never contain the secret or the body.
func VerifyStandardWebhook(h http.Header, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	fail := func(format string, args ...any) error {
		return errs.E(errs.Invalid, "bigcommerce.VerifyStandardWebhook",
			fmt.Errorf("%w: %s", ErrSignature, fmt.Sprintf(format, args...)))
	}
	key, err := webhookKey(secret)
	if err != nil {
		return fail("%v", err)
	}
	id := h.Get(HeaderWebhookID)
	ts := h.Get(HeaderWebhookTimestamp)
	sigs := h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return fail("missing %s, %s or %s header", HeaderWebhookID, HeaderWebhookTimestamp, HeaderWebhookSignature)
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil || sec < 0 {
		return fail("%s is not epoch seconds", HeaderWebhookTimestamp)
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	// Compare in seconds so that absurd timestamps cannot overflow.
	tolSec := int64(tolerance / time.Second)
	if d := now.Unix() - sec; d > tolSec || d < -tolSec {
		return fail("timestamp outside the %s tolerance", tolerance)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strings.TrimSpace(ts)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	want := mac.Sum(nil)
	match := 0
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		match |= subtle.ConstantTimeCompare(got, want)
	}
	if match == 0 {
		return fail("no matching v1 signature")
	}
	return nil
}

func webhookKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("no webhook secret configured")
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(k) == 0 {
			return nil, errors.New("webhook secret: whsec_ value is not base64")
		}
		return k, nil
	}
	return []byte(secret), nil
}

// VerifyHeaderSecret checks the custom header set at subscription (e.g.
// X-Hub-Secret) against the expected value in constant time. Errors are
// errs.Invalid wrapping ErrSignature.
func VerifyHeaderSecret(h http.Header, name, want string) error {
	got := h.Get(name)
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errs.E(errs.Invalid, "bigcommerce.VerifyHeaderSecret",
			fmt.Errorf("%w: header %s missing or wrong", ErrSignature, name))
	}
	return nil
}
