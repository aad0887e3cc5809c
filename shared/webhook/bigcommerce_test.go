package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
	"github.com/shiprelay/shiprelay/shared/webhook"
)

const (
	storeID   = "bc-main"
	storeHash = sandbox.DefaultStoreHash
	header    = "X-Webhook-Secret"
	secret    = "hook-secret-0d9f8e7a"
)

var (
	// signingKey is a Standard Webhooks secret in its whsec_ form.
	signingKey = "whsec_" + base64.StdEncoding.EncodeToString([]byte("client-secret-for-signatures"))
	t0         = time.Date(2026, 11, 21, 17, 3, 20, 0, time.UTC)
)

// stores is the test's webhook.BigCommerceStores: fixed credentials per store id.
type stores map[string]webhook.BigCommerceAuth

func (s stores) BigCommerceAuth(_ context.Context, id string) (webhook.BigCommerceAuth, bool, error) {
	a, ok := s[id]
	return a, ok, nil
}

var defaultStores = stores{
	storeID:     {StoreHash: storeHash, Header: header, Secret: secret},
	"bc-signed": {StoreHash: storeHash, Header: header, Secret: secret, SigningSecret: signingKey},
}

// env is a receiver on a real ledger (claims) and a real ingest queue,
// served over HTTP.
type env struct {
	t      *testing.T
	ledger *dynamo.Ledger
	queue  *sqs.Queue
	recv   *webhook.BigCommerce
	srv    *httptest.Server
	logs   *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	client, table := testenv.DynamoDB(t)
	e := &env{t: t, ledger: dynamo.New(client, table), logs: &bytes.Buffer{}}
	e.queue = &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "ingest", nil)}
	e.recv = e.receiver(e.queue)
	e.srv = httptest.NewServer(e.recv.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// receiver builds a receiver on e's ledger that enqueues to q.
func (e *env) receiver(q queue.Sender) *webhook.BigCommerce {
	return &webhook.BigCommerce{
		Stores: defaultStores, Claims: e.ledger, Ingest: q,
		Log:       obs.NewLogger(e.logs, "DEBUG"),
		DedupeTTL: 72 * time.Hour,
		Now:       func() time.Time { return t0 },
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// payload is a BigCommerce V3 webhook body.
func payload(scope string, id int64, createdAt int64) []byte {
	typ := strings.Split(scope, "/")[1]
	b, _ := json.Marshal(map[string]any{
		"created_at": createdAt,
		"store_id":   sandbox.DefaultStoreID,
		"producer":   "stores/" + storeHash,
		"scope":      scope,
		"hash":       fmt.Sprintf("%040x", id),
		"data":       map[string]any{"type": typ, "id": id},
	})
	return b
}

type answer struct {
	code   int
	Status string `json:"status"`
	Reason string `json:"reason"`
	header http.Header
}

func (e *env) post(srvURL, store string, body []byte, hdr map[string]string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, srvURL+"/webhooks/bigcommerce/"+store, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{code: res.StatusCode, header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a); err != nil {
			e.t.Fatalf("answer is not JSON: %v: %s", err, raw)
		}
	}
	return a
}

func authed() map[string]string { return map[string]string{header: secret} }

// messages receives everything on q (until a receive comes back empty).
func messages(t *testing.T, q *sqs.Queue) []events.SQSMessage {
	t.Helper()
	var out []events.SQSMessage
	for {
		msgs, err := q.Receive(ctx(t), 10, 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			vis, _, err := q.Depth(ctx(t))
			if err != nil || vis != 0 {
				t.Fatalf("receive came back empty but %d messages are visible (%v)", vis, err)
			}
			return out
		}
		out = append(out, msgs...)
	}
}

// assertEmpty checks that nothing at all (visible or in flight) is on q.
func assertEmpty(t *testing.T, q *sqs.Queue) {
	t.Helper()
	vis, inflight, err := q.Depth(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if vis != 0 || inflight != 0 {
		t.Errorf("queue holds %d visible + %d in-flight messages, want none", vis, inflight)
	}
}

func ingestOf(t *testing.T, m events.SQSMessage) queue.Ingest {
	t.Helper()
	var in queue.Ingest
	if err := json.Unmarshal([]byte(m.Body), &in); err != nil {
		t.Fatalf("message body is not a queue.Ingest: %v: %s", err, m.Body)
	}
	return in
}

func TestValidDeliveryEnqueuesOneIngestMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post(e.srv.URL, storeID, payload("store/order/created", 101, t0.Unix()), authed())
	if a.code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("answer = %d %+v, want 202 accepted", a.code, a)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages enqueued, want 1", len(msgs))
	}
	got := ingestOf(t, msgs[0])
	want := queue.Ingest{Channel: order.BigCommerce, StoreID: storeID, ChannelOrderID: "101", Source: "webhook", ReceivedAt: t0}
	if got != want {
		t.Errorf("message = %+v, want %+v", got, want)
	}
	// The wire shape the ingest function reads.
	var wire map[string]any
	_ = json.Unmarshal([]byte(msgs[0].Body), &wire)
	if wire["channel"] != "bigcommerce" || wire["storeId"] != storeID || wire["channelOrderId"] != "101" || wire["source"] != "webhook" {
		t.Errorf("wire body = %s", msgs[0].Body)
	}
	if _, ok := wire["modifiedAt"]; ok {
		t.Errorf("a webhook does not know the modification time, yet modifiedAt is set: %s", msgs[0].Body)
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Errorf("the webhook secret was logged")
	}
}

func TestRedeliveryIsDeduped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := payload("store/order/updated", 202, t0.Unix())
	want := []struct {
		code   int
		status string
	}{{202, "accepted"}, {200, "duplicate"}, {200, "duplicate"}}
	for i, w := range want {
		a := e.post(e.srv.URL, storeID, body, authed())
		if a.code != w.code || a.Status != w.status {
			t.Errorf("delivery %d: %d %q, want %d %q", i+1, a.code, a.Status, w.code, w.status)
		}
	}
	if msgs := messages(t, e.queue); len(msgs) != 1 {
		t.Errorf("%d messages for three identical deliveries, want 1", len(msgs))
	}
}

func TestDifferentEventsOfOneOrderEnqueueTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Two store/order/updated events of one order differ only in created_at.
	for _, at := range []int64{t0.Unix(), t0.Unix() + 7} {
		if a := e.post(e.srv.URL, storeID, payload("store/order/updated", 303, at), authed()); a.code != http.StatusAccepted {
			t.Fatalf("created_at %d: %d %+v", at, a.code, a)
		}
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		if in := ingestOf(t, m); in.ChannelOrderID != "303" {
			t.Errorf("message for order %q", in.ChannelOrderID)
		}
	}
}

func TestDedupeTTLExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := payload("store/order/created", 404, t0.Unix())
	if a := e.post(e.srv.URL, storeID, body, authed()); a.code != http.StatusAccepted {
		t.Fatalf("first: %d", a.code)
	}
	later := e.receiver(e.queue)
	later.Now = func() time.Time { return t0.Add(72*time.Hour + time.Second) }
	srv := httptest.NewServer(later.Handler())
	defer srv.Close()
	if a := e.post(srv.URL, storeID, body, authed()); a.code != http.StatusAccepted {
		t.Errorf("after the dedupe TTL: %d %q, want 202", a.code, a.Status)
	}
	if msgs := messages(t, e.queue); len(msgs) != 2 {
		t.Errorf("%d messages, want 2", len(msgs))
	}
}

func TestRejectedDeliveriesEnqueueNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := payload("store/order/created", 505, t0.Unix())
	otherProducer := bytes.Replace(good, []byte("stores/"+storeHash), []byte("stores/zzz999"), 1)
	noProducer, _ := json.Marshal(map[string]any{"scope": "store/order/created", "data": map[string]any{"type": "order", "id": 505}})
	cases := []struct {
		name   string
		store  string
		body   []byte
		hdr    map[string]string
		code   int
		reason string // substring
	}{
		{"bad JSON", storeID, []byte(`{"scope": "store/order/created", "data": {`), authed(), 400, "JSON"},
		{"not an object", storeID, []byte(`[1,2,3]`), authed(), 400, "JSON object"},
		{"order without id", storeID, []byte(`{"scope":"store/order/created","producer":"stores/` + storeHash + `","data":{"type":"order"}}`), authed(), 400, "data.id"},
		{"unknown store", "bc-nope", good, authed(), 404, "unknown store"},
		{"wrong secret", storeID, good, map[string]string{header: secret + "x"}, 401, "secret"},
		{"secret in another header", storeID, good, map[string]string{"X-Other": secret}, 401, "secret"},
		{"missing secret", storeID, good, nil, 401, "secret"},
		{"producer mismatch", storeID, otherProducer, authed(), 400, "producer"},
		{"producer missing", storeID, noProducer, authed(), 400, "producer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.post(e.srv.URL, c.store, c.body, c.hdr)
			if a.code != c.code || a.Status != "rejected" {
				t.Errorf("answer %d %q, want %d rejected", a.code, a.Status, c.code)
			}
			if !strings.Contains(a.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", a.Reason, c.reason)
			}
			if strings.Contains(a.Reason, secret) {
				t.Errorf("reason echoes the secret: %q", a.Reason)
			}
		})
	}
	assertEmpty(t, e.queue)
	// A rejected delivery claims nothing: the genuine one is still accepted.
	if a := e.post(e.srv.URL, storeID, good, authed()); a.code != http.StatusAccepted {
		t.Errorf("genuine delivery after the rejects: %d %q", a.code, a.Status)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := payload("store/order/created", 606, t0.Unix())
	// Pad a valid body with whitespace to exactly MaxBody bytes: accepted.
	exact := append(append([]byte{}, base[:len(base)-1]...), bytes.Repeat([]byte(" "), webhook.MaxBody-len(base))...)
	exact = append(exact, '}')
	if len(exact) != webhook.MaxBody {
		t.Fatalf("built %d bytes", len(exact))
	}
	if a := e.post(e.srv.URL, storeID, exact, authed()); a.code != http.StatusAccepted {
		t.Errorf("body of exactly MaxBody: %d %q %q, want 202", a.code, a.Status, a.Reason)
	}
	over := append(append([]byte{}, exact[:len(exact)-1]...), ' ', '}')
	other := bytes.Replace(over, []byte(`"id":606`), []byte(`"id":607`), 1)
	a := e.post(e.srv.URL, storeID, other, authed())
	if a.code != http.StatusRequestEntityTooLarge || a.Status != "rejected" || !strings.Contains(a.Reason, "256 KB") {
		t.Errorf("body of MaxBody+1: %d %+v, want 413", a.code, a)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 || ingestOf(t, msgs[0]).ChannelOrderID != "606" {
		t.Errorf("enqueued %d messages, want only order 606's", len(msgs))
	}
}

func TestOversizedBodyIsRejectedBeforeAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	huge := bytes.Repeat([]byte("x"), 1<<20)
	a := e.post(e.srv.URL, storeID, huge, nil)
	if a.code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB unauthenticated body: %d, want 413", a.code)
	}
	assertEmpty(t, e.queue)
}

func TestWrongMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, e.srv.URL+"/webhooks/bigcommerce/"+storeID, nil)
		req.Header.Set(header, secret)
		a := e.do(req)
		if a.code != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 405", m, a.code)
		}
		if !strings.Contains(a.header.Get("Allow"), "POST") {
			t.Errorf("%s: Allow = %q", m, a.header.Get("Allow"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhooks/shopify/"+storeID, bytes.NewReader(payload("store/order/created", 1, t0.Unix())))
	req.Header.Set(header, secret)
	if a := e.do(req); a.code != http.StatusNotFound {
		t.Errorf("unknown route: %d, want 404", a.code)
	}
	assertEmpty(t, e.queue)
}

func TestNonOrderScopesAreIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, scope := range []string{"store/product/updated", "store/customer/created", "store/shipment/created"} {
		a := e.post(e.srv.URL, storeID, payload(scope, 77, t0.Unix()), authed())
		if a.code != http.StatusOK || a.Status != "ignored" {
			t.Errorf("%s: %d %q, want 200 ignored", scope, a.code, a.Status)
		}
	}
	// An order scope whose data is not an order is not acted on either.
	odd, _ := json.Marshal(map[string]any{"scope": "store/order/created", "producer": "stores/" + storeHash, "data": map[string]any{"type": "cart", "id": 5}})
	if a := e.post(e.srv.URL, storeID, odd, authed()); a.code != http.StatusOK || a.Status != "ignored" {
		t.Errorf("order scope with cart data: %d %q", a.code, a.Status)
	}
	assertEmpty(t, e.queue)
}

// signed returns the headers of a Standard Webhooks delivery of body at ts.
func signed(body []byte, ts time.Time) map[string]string {
	id := "msg_2b8c1e"
	stamp := strconv.FormatInt(ts.Unix(), 10)
	h := authed()
	h["webhook-id"] = id
	h["webhook-timestamp"] = stamp
	h["webhook-signature"] = sandbox.StandardWebhookSignature(signingKey, id, stamp, body)
	return h
}

func TestStandardWebhookSignature(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := payload("store/order/created", 808, t0.Unix())

	tampered := bytes.Replace(body, []byte(`"id":808`), []byte(`"id":809`), 1)
	if a := e.post(e.srv.URL, "bc-signed", tampered, signed(body, t0)); a.code != http.StatusUnauthorized || a.Reason != "bad signature" {
		t.Errorf("tampered body: %d %+v, want 401 bad signature", a.code, a)
	}
	stale := signed(body, t0.Add(-10*time.Minute))
	if a := e.post(e.srv.URL, "bc-signed", body, stale); a.code != http.StatusUnauthorized {
		t.Errorf("signature older than the tolerance: %d, want 401", a.code)
	}
	wrongKey := signed(body, t0)
	wrongKey["webhook-signature"] = sandbox.StandardWebhookSignature("whsec_"+base64.StdEncoding.EncodeToString([]byte("other")), "msg_2b8c1e", strconv.FormatInt(t0.Unix(), 10), body)
	if a := e.post(e.srv.URL, "bc-signed", body, wrongKey); a.code != http.StatusUnauthorized {
		t.Errorf("signature with another key: %d, want 401", a.code)
	}
	badHeaderGoodSig := signed(body, t0)
	badHeaderGoodSig[header] = "nope"
	if a := e.post(e.srv.URL, "bc-signed", body, badHeaderGoodSig); a.code != http.StatusUnauthorized {
		t.Errorf("valid signature but wrong header secret: %d, want 401", a.code)
	}
	assertEmpty(t, e.queue)

	if a := e.post(e.srv.URL, "bc-signed", body, signed(body, t0)); a.code != http.StatusAccepted {
		t.Fatalf("valid signature: %d %+v, want 202", a.code, a)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 || ingestOf(t, msgs[0]).ChannelOrderID != "808" || ingestOf(t, msgs[0]).StoreID != "bc-signed" {
		t.Errorf("messages after the valid delivery: %v", msgs)
	}
}

// The sandbox's own deliveries (custom header and Standard Webhooks
// signature, as BigCommerce sends them) are accepted and enqueued.
func TestSandboxDeliveriesAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The receiver checks signatures against the real clock here.
	live := e.receiver(e.queue)
	live.Now = nil
	srv := httptest.NewServer(live.Handler())
	defer srv.Close()

	sb := sandbox.New(sandbox.Options{})
	defer sb.Close()
	if _, err := sb.AddWebhook(sandbox.WebhookDestination{
		URL: srv.URL + "/webhooks/bigcommerce/bc-signed", Headers: map[string]string{header: secret},
		SigningSecret: signingKey,
	}); err != nil {
		t.Fatal(err)
	}
	o, err := sb.CreateOrder(sandbox.OrderSpec{
		StatusID: sandbox.StatusAwaitingFulfillment,
		ShippingAddresses: []sandbox.ShippingAddress{{Address: sandbox.Address{
			FirstName: "Ada", LastName: "L", Street1: "1 Main", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US",
		}}},
		Lines: []sandbox.LineSpec{{Name: "Mug", SKU: "MUG", Quantity: 1, UnitPriceCents: 1599}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sb.FlushWebhooks(fctx); err != nil {
		t.Fatal(err)
	}
	log := sb.WebhookLog()
	if len(log) != 1 || log[0].LastStatus != http.StatusAccepted || log[0].Attempts != 1 {
		t.Fatalf("sandbox delivery log = %+v, want one 202", log)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if in := ingestOf(t, msgs[0]); in.ChannelOrderID != strconv.Itoa(o.ID) || in.StoreID != "bc-signed" || in.Source != "webhook" {
		t.Errorf("message = %+v for order %d", in, o.ID)
	}
}

func TestEnqueueFailureReleasesTheClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A queue URL that does not exist (on the real emulator).
	broken := &sqs.Queue{Client: e.queue.Client, URL: e.queue.URL[:strings.LastIndexByte(e.queue.URL, '/')+1] + "shiprelay-no-such-queue"}
	down := httptest.NewServer(e.receiver(broken).Handler())
	defer down.Close()

	body := payload("store/order/created", 909, t0.Unix())
	a := e.post(down.URL, storeID, body, authed())
	if a.code != http.StatusServiceUnavailable || a.Status != "error" {
		t.Fatalf("enqueue failure: %d %+v, want 503", a.code, a)
	}
	assertEmpty(t, e.queue)

	// BigCommerce redelivers the same bytes once the queue works again.
	a = e.post(e.srv.URL, storeID, body, authed())
	if a.code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("redelivery after the failure: %d %q, want 202 accepted (the claim must have been released)", a.code, a.Status)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 || ingestOf(t, msgs[0]).ChannelOrderID != "909" {
		t.Errorf("messages = %d, want order 909's one", len(msgs))
	}
	if a := e.post(e.srv.URL, storeID, body, authed()); a.code != http.StatusOK || a.Status != "duplicate" {
		t.Errorf("third delivery: %d %q, want 200 duplicate", a.code, a.Status)
	}
}

func TestClaimFailureIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.receiver(e.queue)
	r.Claims = dynamo.New(e.ledger.Client, "shiprelay-no-such-table")
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	a := e.post(srv.URL, storeID, payload("store/order/created", 1001, t0.Unix()), authed())
	if a.code != http.StatusServiceUnavailable {
		t.Errorf("claim failure: %d %+v, want 503", a.code, a)
	}
	assertEmpty(t, e.queue)
}

// brokenStores fails every lookup, as when Secrets Manager is unreachable.
type brokenStores struct{}

func (brokenStores) BigCommerceAuth(context.Context, string) (webhook.BigCommerceAuth, bool, error) {
	return webhook.BigCommerceAuth{}, false, fmt.Errorf("secrets unavailable")
}

func TestStoreLookupFailureIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.receiver(e.queue)
	r.Stores = brokenStores{}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	a := e.post(srv.URL, storeID, payload("store/order/created", 1002, t0.Unix()), authed())
	if a.code != http.StatusServiceUnavailable {
		t.Errorf("store lookup failure: %d, want 503 (BigCommerce retries)", a.code)
	}
	assertEmpty(t, e.queue)
}

// API Gateway's Lambda proxy splits headers at commas; a Standard Webhooks
// signature ("v1,<base64>") must survive that.
func TestSignedDeliveryThroughLambdaAdapter(t *testing.T) {
	e := newEnv(t)
	body := payload("store/order/created", 4242, t0.Unix())
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range signed(body, t0) {
		headers[k] = v
	}
	path := "/webhooks/bigcommerce/bc-signed"
	resp, err := lambdaio.HTTP(e.recv.Handler())(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Headers: headers, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r1", DomainName: "x.execute-api.us-east-1.amazonaws.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("signed delivery via lambdaio.HTTP: %d %s, want 202", resp.StatusCode, resp.Body)
	}
}
