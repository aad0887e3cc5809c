package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ShipStation V1 webhooks (api-contracts §1.5). They are unsigned: the body
// is only {"resource_url", "resource_type"} and the secret, if any, lives in
// the target URL. The sandbox fires SHIP_NOTIFY and ITEM_SHIP_NOTIFY, one
// per batch of labels; the other events can be subscribed but never fire.
//
// resource_url is "<base>/shipments?batchId=<id>&includeShipmentItems=False"
// (True for ITEM_SHIP_NOTIFY), where <base> is, in this order:
// Options.ShipStationBaseURL or SetShipStationBaseURL when set; otherwise
// the scheme and Host of the most recent request the ShipStation server
// received (so the URL points back at the sandbox server the client talks
// to); otherwise https://ssapi.shipstation.com.

// ssWebhookEvents are the V1 webhook event types.
var ssWebhookEvents = map[string]bool{
	"ORDER_NOTIFY": true, "ITEM_ORDER_NOTIFY": true, "SHIP_NOTIFY": true, "ITEM_SHIP_NOTIFY": true,
	"FULFILLMENT_SHIPPED": true, "FULFILLMENT_REJECTED": true,
}

// ssSellerID is the SellerID reported for every webhook.
const ssSellerID int64 = 100000

// SSWebhook is one ShipStation webhook subscription as listed by
// GET /webhooks (ShipStation's PascalCase shape).
type SSWebhook struct {
	IsLabelAPIHook   bool    `json:"IsLabelAPIHook"`
	WebHookID        int64   `json:"WebHookID"`
	SellerID         int64   `json:"SellerID"`
	StoreID          *int64  `json:"StoreID"`
	HookType         string  `json:"HookType"`
	MessageFormat    string  `json:"MessageFormat"`
	URL              string  `json:"Url"`
	Name             *string `json:"Name"`
	BulkCopyBatchID  *int64  `json:"BulkCopyBatchID"`
	BulkCopyRecordID *int64  `json:"BulkCopyRecordID"`
	Active           bool    `json:"Active"`
	WebhookLogs      []any   `json:"WebhookLogs"`
	Seller           *string `json:"Seller"`
	Store            *string `json:"Store"`
}

// SSWebhookPayload is the body ShipStation POSTs to a webhook target.
type SSWebhookPayload struct {
	ResourceURL  string `json:"resource_url"`
	ResourceType string `json:"resource_type"`
}

func validTargetURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// addHookLocked stores a subscription. Caller holds ss.mu.
func (ss *shipStation) addHookLocked(target, event string, storeID *int64, name string) *SSWebhook {
	h := &SSWebhook{
		WebHookID: ss.nextHook, SellerID: ssSellerID, StoreID: storeID, HookType: event,
		MessageFormat: "Json", URL: target, Active: true, WebhookLogs: []any{},
	}
	if name != "" {
		h.Name = &name
	}
	ss.nextHook++
	ss.hooks = append(ss.hooks, h)
	return h
}

// AddShipStationWebhook subscribes targetURL to a V1 webhook event
// (SHIP_NOTIFY, ITEM_SHIP_NOTIFY, ...), as POST /webhooks/subscribe does,
// and returns the webhook id.
func (s *Sandbox) AddShipStationWebhook(targetURL, event string) (int64, error) {
	if !validTargetURL(targetURL) {
		return 0, fmt.Errorf("sandbox: invalid webhook target URL %q", targetURL)
	}
	if !ssWebhookEvents[event] {
		return 0, fmt.Errorf("sandbox: unknown ShipStation webhook event %q", event)
	}
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.addHookLocked(targetURL, event, nil, "").WebHookID, nil
}

// RemoveShipStationWebhook deletes a subscription; false if there was none.
func (s *Sandbox) RemoveShipStationWebhook(id int64) bool {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.removeHookLocked(id)
}

func (ss *shipStation) removeHookLocked(id int64) bool {
	for i, h := range ss.hooks {
		if h.WebHookID == id {
			ss.hooks = append(ss.hooks[:i], ss.hooks[i+1:]...)
			return true
		}
	}
	return false
}

// ShipStationWebhooks returns the subscriptions, oldest first.
func (s *Sandbox) ShipStationWebhooks() []SSWebhook {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.hooksLocked()
}

func (ss *shipStation) hooksLocked() []SSWebhook {
	out := make([]SSWebhook, 0, len(ss.hooks))
	for _, h := range ss.hooks {
		c := *h
		c.WebhookLogs = []any{}
		out = append(out, c)
	}
	return out
}

// SetShipStationBaseURL sets the base URL used in SHIP_NOTIFY resource_url
// (e.g. the httptest server's URL); "" reverts to the request-learned one.
func (s *Sandbox) SetShipStationBaseURL(base string) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.baseURL = strings.TrimRight(base, "/")
}

// ShipStationBaseURL returns the base URL SHIP_NOTIFY resource_urls use now.
func (s *Sandbox) ShipStationBaseURL() string {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.baseLocked()
}

func (ss *shipStation) baseLocked() string {
	if ss.baseURL != "" {
		return ss.baseURL
	}
	if v, ok := ss.learnedBase.Load().(string); ok && v != "" {
		return v
	}
	return "https://ssapi.shipstation.com"
}

// noteBase remembers the base URL a request arrived on.
func (ss *shipStation) noteBase(r *http.Request) {
	if r.Host == "" {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	b := scheme + "://" + r.Host
	if v, _ := ss.learnedBase.Load().(string); v != b {
		ss.learnedBase.Store(b)
	}
}

// notifyBatch queues SHIP_NOTIFY / ITEM_SHIP_NOTIFY for a new batch to every
// matching subscription, rolling the ShipStation server's webhook drop and
// duplicate knobs. Caller holds ss.mu.
func (ss *shipStation) notifyBatch(b ssBatch, shipments []*SSShipment) {
	if len(ss.hooks) == 0 {
		return
	}
	stores := map[int64]bool{}
	for _, sh := range shipments {
		if sh.AdvancedOptions != nil && sh.AdvancedOptions.StoreID != nil {
			stores[*sh.AdvancedOptions.StoreID] = true
		}
	}
	base := ss.baseLocked()
	faults := ss.s.ssFront.getFaults()
	for _, h := range ss.hooks {
		items := "False"
		switch h.HookType {
		case "SHIP_NOTIFY":
		case "ITEM_SHIP_NOTIFY":
			items = "True"
		default:
			continue
		}
		if !h.Active || (h.StoreID != nil && !stores[*h.StoreID]) {
			continue
		}
		// Encoded without HTML escaping: the "&" stays literal, as ShipStation sends it.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(SSWebhookPayload{
			ResourceURL:  fmt.Sprintf("%s/shipments?batchId=%d&includeShipmentItems=%s", base, b.id, items),
			ResourceType: h.HookType,
		}); err != nil {
			continue
		}
		body := bytes.TrimRight(buf.Bytes(), "\n")
		o := &outbound{
			msgID:     fmt.Sprintf("ss_batch_%d_hook_%d", b.id, h.WebHookID),
			timestamp: ss.s.now().Unix(),
			scope:     h.HookType,
			url:       h.URL,
			body:      body,
		}
		drop := ss.s.ssFront.roll(faults.WebhookDropRate)
		dup := !drop && ss.s.ssFront.roll(faults.WebhookDuplicateRate)
		ss.s.ssHooks.enqueue(o, drop, dup)
	}
}

// ShipStationWebhookLog returns the most recent ShipStation webhook
// deliveries (up to 10,000); WebhookLog holds BigCommerce's.
func (s *Sandbox) ShipStationWebhookLog() []WebhookDelivery { return s.ssHooks.deliveries() }

// FlushShipStationWebhooks waits until every queued ShipStation webhook has
// been delivered or abandoned, or ctx ends.
func (s *Sandbox) FlushShipStationWebhooks(ctx context.Context) error { return s.ssHooks.flush(ctx) }

// ---- HTTP: /webhooks ----

// subscribeBody is the body of POST /webhooks/subscribe.
type subscribeBody struct {
	TargetURL    *string         `json:"target_url"`
	Event        *string         `json:"event"`
	StoreID      json.RawMessage `json:"store_id"`
	FriendlyName *string         `json:"friendly_name"`
}

func ssInvalid(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{field: {msg}}})
}

func (ss *shipStation) subscribeHook(w http.ResponseWriter, r *http.Request) {
	body, msg := readBody(r)
	if msg != "" {
		ssInvalid(w, "subscribeRequest", msg)
		return
	}
	var req subscribeBody
	if err := json.Unmarshal(body, &req); err != nil {
		ssInvalid(w, "subscribeRequest", "The request could not be read: "+err.Error())
		return
	}
	switch {
	case req.TargetURL == nil || strings.TrimSpace(*req.TargetURL) == "":
		ssInvalid(w, "subscribeRequest.target_url", "The target_url field is required.")
		return
	case !validTargetURL(*req.TargetURL):
		ssInvalid(w, "subscribeRequest.target_url", fmt.Sprintf("'%s' is not a valid absolute http or https URL.", *req.TargetURL))
		return
	case req.Event == nil || *req.Event == "":
		ssInvalid(w, "subscribeRequest.event", "The event field is required.")
		return
	case !ssWebhookEvents[*req.Event]:
		ssInvalid(w, "subscribeRequest.event", fmt.Sprintf("'%s' is not a valid event. Allowed: ORDER_NOTIFY, ITEM_ORDER_NOTIFY, SHIP_NOTIFY, ITEM_SHIP_NOTIFY, FULFILLMENT_SHIPPED, FULFILLMENT_REJECTED.", *req.Event))
		return
	}
	var storeID *int64
	if raw := strings.TrimSpace(string(req.StoreID)); raw != "" && raw != "null" {
		raw = strings.Trim(raw, `"`)
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			ssInvalid(w, "subscribeRequest.store_id", fmt.Sprintf("The value '%s' is not valid for store_id.", raw))
			return
		}
		storeID = &n
	}
	name := ""
	if req.FriendlyName != nil {
		name = *req.FriendlyName
	}
	ss.mu.Lock()
	h := ss.addHookLocked(*req.TargetURL, *req.Event, storeID, name)
	ss.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]int64{"id": h.WebHookID})
}

func (ss *shipStation) listHooks(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	out := ss.hooksLocked()
	ss.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]SSWebhook{"webhooks": out})
}

func (ss *shipStation) deleteHook(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("webhookId"), 10, 64)
	ok := false
	if err == nil {
		ss.mu.Lock()
		ok = ss.removeHookLocked(id)
		ss.mu.Unlock()
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, ssMessage{Message: fmt.Sprintf("Webhook not found: %s", r.PathValue("webhookId"))})
		return
	}
	w.WriteHeader(http.StatusOK)
}
