package sandbox

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest webhook destination that records requests and
// answers with the status status(n) for the n-th request (1-based).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	calls  int
	status func(n int) int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	rc := &receiver{status: status}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.calls++
		n := rc.calls
		code := http.StatusOK
		if rc.status != nil {
			code = rc.status(n)
		}
		if code < 300 {
			rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		}
		rc.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) callCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.calls
}

func flush(t *testing.T, sb *Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.FlushWebhooks(ctx); err != nil {
		t.Fatalf("webhooks not flushed: %v", err)
	}
}

func TestWebhookDeliveredWithCustomHeaderAndSignature(t *testing.T) {
	rec := newReceiver(t, nil)
	const secret = "whsec_c2FuZGJveC1zZWNyZXQ=" // base64("sandbox-secret")
	e := newEnv(t, Options{WebhookSigningSecret: secret})
	if _, err := e.sb.AddWebhook(WebhookDestination{URL: rec.srv.URL, Headers: map[string]string{"X-Webhook-Secret": "hunter2"}, Scopes: []string{"store/order/created"}}); err != nil {
		t.Fatal(err)
	}
	o, err := e.sb.CreateOrder(simpleSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("got %d webhooks, want 1", len(got))
	}
	h := got[0].header
	if h.Get("X-Webhook-Secret") != "hunter2" {
		t.Errorf("custom header missing: %v", h)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", h.Get("Content-Type"))
	}
	var p WebhookPayload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Scope != "store/order/created" || p.Producer != "stores/"+DefaultStoreHash || p.StoreID != DefaultStoreID || p.CreatedAt == 0 {
		t.Errorf("payload: %s", got[0].body)
	}
	if string(p.Data) != `{"type":"order","id":`+strconv.Itoa(o.ID)+`}` {
		t.Errorf("data = %s", p.Data)
	}
	sum := sha1.Sum(p.Data)
	if p.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s is not sha1(data)", p.Hash)
	}
	// Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)), key = base64-decoded secret.
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		t.Fatalf("signing headers missing: %v", h)
	}
	if want := StandardWebhookSignature(secret, id, ts, got[0].body); h.Get("webhook-signature") != want {
		t.Errorf("signature %q, want %q", h.Get("webhook-signature"), want)
	}
	if StandardWebhookSignature(secret, id, ts, got[0].body) == StandardWebhookSignature("whsec_b3RoZXI=", id, ts, got[0].body) {
		t.Error("signature does not depend on the secret")
	}
}

func TestWebhookDropAndDuplicateKnobs(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{Webhooks: []WebhookDestination{{URL: rec.srv.URL, Scopes: []string{"store/order/created"}}}})

	e.sb.SetBigCommerceFaults(Faults{WebhookDropRate: 1})
	for range 5 {
		if _, err := e.sb.CreateRandomOrder(); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, e.sb)
	if n := len(rec.all()); n != 0 {
		t.Fatalf("drop rate 1 delivered %d webhooks", n)
	}
	st := e.sb.Stats().BigCommerce.Webhooks
	if st.Dropped != 5 || st.Events != 5 || st.Sent != 0 {
		t.Fatalf("stats after drops: %+v", st)
	}

	// Duplicate knob via the admin endpoint.
	r := e.adminDo(e.bc, "PUT", "/_sandbox/faults", map[string]any{"webhook_drop_rate": 0, "webhook_duplicate_rate": 1})
	if r.status != 200 {
		t.Fatalf("set faults: %d %s", r.status, r.body)
	}
	for range 3 {
		if _, err := e.sb.CreateRandomOrder(); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, e.sb)
	got := rec.all()
	if len(got) != 6 {
		t.Fatalf("duplicate rate 1: %d deliveries, want 6", len(got))
	}
	bodies := map[string]int{}
	ids := map[string]int{}
	for _, g := range got {
		bodies[string(g.body)]++
		ids[g.header.Get("webhook-id")]++
	}
	if len(bodies) != 3 {
		t.Fatalf("want 3 distinct bodies each twice, got %v", bodies)
	}
	for b, n := range bodies {
		if n != 2 {
			t.Errorf("body delivered %d times: %s", n, b)
		}
	}
	st = e.sb.Stats().BigCommerce.Webhooks
	if st.Duplicated != 3 || st.Sent != 6 || st.Events != 8 || st.Pending != 0 {
		t.Fatalf("stats after duplicates: %+v", st)
	}
}

func TestWebhookRetriesThenGivesUp(t *testing.T) {
	// First two attempts fail, then 200.
	rec := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	e := newEnv(t, Options{WebhookRetryDelay: time.Millisecond, WebhookMaxAttempts: 3,
		Webhooks: []WebhookDestination{{URL: rec.srv.URL, Scopes: []string{"store/order/created"}}}})
	if _, err := e.sb.CreateRandomOrder(); err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	if len(rec.all()) != 1 || rec.callCount() != 3 {
		t.Fatalf("delivered %d after %d calls, want 1 after 3", len(rec.all()), rec.callCount())
	}
	st := e.sb.Stats().BigCommerce.Webhooks
	if st.Sent != 1 || st.Attempts != 3 || st.Failed != 0 {
		t.Fatalf("stats: %+v", st)
	}

	// A destination that always fails is abandoned after MaxAttempts.
	bad := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	if _, err := e.sb.AddWebhook(WebhookDestination{URL: bad.srv.URL, Scopes: []string{"store/order/created"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.CreateRandomOrder(); err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	if bad.callCount() != 3 {
		t.Fatalf("failing destination called %d times, want 3", bad.callCount())
	}
	if st := e.sb.Stats().BigCommerce.Webhooks; st.Failed != 1 {
		t.Fatalf("failed = %d", st.Failed)
	}
	log := e.sb.WebhookLog()
	if last := log[len(log)-1]; last.Delivered || last.Attempts != 3 || last.LastStatus != 500 {
		t.Fatalf("log entry: %+v", last)
	}
}

func TestWebhookRegisteredThroughV3Hooks(t *testing.T) {
	rec := newReceiver(t, nil)
	e := newEnv(t, Options{})
	r := e.bcDo("POST", "/v3/hooks", map[string]any{
		"scope": "store/order/statusUpdated", "destination": rec.srv.URL, "is_active": true,
		"headers": map[string]string{"X-Hub-Secret": "abc"},
	})
	if r.status != 200 {
		t.Fatalf("create hook: %d %s", r.status, r.body)
	}
	var created struct {
		Data Webhook `json:"data"`
	}
	r.json(t, &created)
	if created.Data.ID == 0 || created.Data.Headers["X-Hub-Secret"] != "abc" || created.Data.StoreHash != DefaultStoreHash {
		t.Fatalf("created hook: %s", r.body)
	}
	o, err := e.sb.CreateOrder(simpleSpec(1))
	if err != nil {
		t.Fatal(err)
	}
	// Two updates in the same second: date_modified must still advance by ≥1 s.
	o1, err := e.sb.SetOrderStatus("", o.ID, StatusAwaitingShipment)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := e.sb.UpdateOrder("", o.ID, func(x *BCOrder) { x.StaffNotes = "checked" })
	if err != nil {
		t.Fatal(err)
	}
	if !o1.DateModified.After(o.DateModified) || o2.DateModified.Sub(o1.DateModified) < time.Second {
		t.Fatalf("date_modified not strictly increasing by ≥1s: %v %v %v", o.DateModified, o1.DateModified, o2.DateModified)
	}
	if rfc2822(o1.DateModified) == rfc2822(o2.DateModified) {
		t.Fatal("successive updates share an RFC-2822 date_modified")
	}
	flush(t, e.sb)
	got := rec.all()
	if len(got) != 1 {
		t.Fatalf("statusUpdated hook got %d webhooks, want 1", len(got))
	}
	if got[0].header.Get("X-Hub-Secret") != "abc" {
		t.Errorf("custom header missing")
	}
	if !bytes.Contains(got[0].body, []byte(`"status":{"previous_status_id":11,"new_status_id":9}`)) {
		t.Errorf("statusUpdated body: %s", got[0].body)
	}

	// Deactivate: no more deliveries.
	r = e.bcDo("PUT", "/v3/hooks/"+strconv.Itoa(created.Data.ID), map[string]any{"is_active": false})
	if r.status != 200 {
		t.Fatalf("update hook: %d %s", r.status, r.body)
	}
	if _, err := e.sb.SetOrderStatus("", o.ID, StatusCancelled); err != nil {
		t.Fatal(err)
	}
	flush(t, e.sb)
	if len(rec.all()) != 1 {
		t.Fatal("inactive hook still receives webhooks")
	}
	r = e.bcDo("GET", "/v3/hooks/424242", nil)
	if r.status != 404 {
		t.Fatalf("missing hook: %d", r.status)
	}
	r = e.bcDo("DELETE", "/v3/hooks/"+strconv.Itoa(created.Data.ID), nil)
	if r.status != 200 || len(e.sb.Webhooks("")) != 0 {
		t.Fatalf("delete hook: %d %s", r.status, r.body)
	}
}

func TestCloseStopsDelivery(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-block
	}))
	defer srv.Close()
	defer close(block)
	sb := New(Options{Webhooks: []WebhookDestination{{URL: srv.URL}}})
	for range 3 {
		if _, err := sb.CreateRandomOrder(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { sb.Close(); sb.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a delivery was in flight")
	}
}
