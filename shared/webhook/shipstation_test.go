package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
	"github.com/shiprelay/shiprelay/shared/webhook"
)

const (
	ssAccount = "main"
	ssToken   = "ss-hook-token-5c1d9a"
	// ssBase is the production API root; ssLocal a local sandbox on http.
	ssBase  = "https://ssapi.shipstation.com"
	ssLocal = "http://127.0.0.1:4020"
)

// accounts is the test's webhook.ShipStationAccounts.
type accounts map[string]webhook.ShipStationAuth

func (a accounts) ShipStationAuth(_ context.Context, id string) (webhook.ShipStationAuth, bool, error) {
	auth, ok := a[id]
	return auth, ok, nil
}

var defaultAccounts = accounts{
	ssAccount: {Token: ssToken, BaseURL: ssBase},
	"local":   {Token: ssToken, BaseURL: ssLocal},
}

// ssEnv is a SHIP_NOTIFY receiver on a real ledger (claims) and a real
// shipments queue, served over HTTP.
type ssEnv struct {
	t      *testing.T
	ledger *dynamo.Ledger
	queue  *sqs.Queue
	srv    *httptest.Server
	logs   *bytes.Buffer
}

func newSSEnv(t *testing.T) *ssEnv {
	t.Helper()
	client, table := testenv.DynamoDB(t)
	e := &ssEnv{t: t, ledger: dynamo.New(client, table), logs: &bytes.Buffer{}}
	e.queue = &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "shipments", nil)}
	e.srv = httptest.NewServer(webhook.Routes(nil, &webhook.ShipStation{
		Accounts: defaultAccounts, Claims: e.ledger, Shipments: e.queue,
		Log: obs.NewLogger(e.logs, "DEBUG"), DedupeTTL: 72 * time.Hour,
		Now: func() time.Time { return t0 },
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// shipNotify is a V1 webhook body.
func shipNotify(resourceURL, typ string) []byte {
	b, _ := json.Marshal(map[string]string{"resource_url": resourceURL, "resource_type": typ})
	return b
}

// post delivers body to /webhooks/shipstation/{account}/{token}.
func (e *ssEnv) post(account, token string, body []byte) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/webhooks/shipstation/"+account+"/"+token, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return (&env{t: e.t}).do(req)
}

func shipmentsOf(t *testing.T, m events.SQSMessage) queue.Shipments {
	t.Helper()
	var s queue.Shipments
	if err := json.Unmarshal([]byte(m.Body), &s); err != nil {
		t.Fatalf("message body is not a queue.Shipments: %v: %s", err, m.Body)
	}
	return s
}

func TestShipNotifyEnqueuesTheValidatedURL(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	a := e.post(ssAccount, ssToken, shipNotify(ssBase+"/shipments?batchId=12345678&includeShipmentItems=False", "SHIP_NOTIFY"))
	if a.code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("answer = %d %+v, want 202 accepted", a.code, a)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages enqueued, want 1", len(msgs))
	}
	got := shipmentsOf(t, msgs[0])
	if got.Account != ssAccount || !got.ReceivedAt.Equal(t0) || !got.From.IsZero() || !got.To.IsZero() {
		t.Errorf("message = %+v", got)
	}
	u, err := url.Parse(got.ResourceURL)
	if err != nil {
		t.Fatalf("resourceUrl %q: %v", got.ResourceURL, err)
	}
	if u.Scheme != "https" || u.Host != "ssapi.shipstation.com" || u.Path != "/shipments" || u.User != nil {
		t.Errorf("resourceUrl %q does not point at the configured API root", got.ResourceURL)
	}
	q := u.Query()
	if q.Get("batchId") != "12345678" || q.Get("includeShipmentItems") != "True" || len(q) != 2 {
		t.Errorf("resourceUrl query = %v, want batchId=12345678 and includeShipmentItems=True only", q)
	}
	if strings.Contains(e.logs.String(), ssToken) {
		t.Error("the webhook token was logged")
	}
}

func TestShipNotifyOnAnHTTPSandboxBase(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	a := e.post("local", ssToken, shipNotify(ssLocal+"/shipments?batchId=7&includeShipmentItems=False", "SHIP_NOTIFY"))
	if a.code != http.StatusAccepted {
		t.Fatalf("http resource on an http base: %d %+v, want 202", a.code, a)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if got := shipmentsOf(t, msgs[0]); got.ResourceURL != ssLocal+"/shipments?batchId=7&includeShipmentItems=True" {
		t.Errorf("resourceUrl = %q", got.ResourceURL)
	}
}

func TestShipNotifyDuplicatesEnqueueOnce(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	body := shipNotify(ssBase+"/shipments?batchId=999&includeShipmentItems=False", "SHIP_NOTIFY")
	want := []struct {
		code   int
		status string
	}{{202, "accepted"}, {200, "duplicate"}, {200, "duplicate"}}
	for i, w := range want {
		if a := e.post(ssAccount, ssToken, body); a.code != w.code || a.Status != w.status {
			t.Errorf("delivery %d: %d %q, want %d %q", i+1, a.code, a.Status, w.code, w.status)
		}
	}
	// Another batch is another message.
	if a := e.post(ssAccount, ssToken, shipNotify(ssBase+"/shipments?batchId=1000&includeShipmentItems=False", "SHIP_NOTIFY")); a.code != http.StatusAccepted {
		t.Errorf("another batch: %d %q, want 202", a.code, a.Status)
	}
	msgs := messages(t, e.queue)
	if len(msgs) != 2 {
		t.Fatalf("%d messages for three identical deliveries and one other, want 2", len(msgs))
	}
	batches := map[string]bool{}
	for _, m := range msgs {
		u, _ := url.Parse(shipmentsOf(t, m).ResourceURL)
		batches[u.Query().Get("batchId")] = true
	}
	if !batches["999"] || !batches["1000"] {
		t.Errorf("batches enqueued = %v, want 999 and 1000", batches)
	}
}

func TestShipNotifyAuthAndTypes(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	good := shipNotify(ssBase+"/shipments?batchId=1&includeShipmentItems=False", "SHIP_NOTIFY")
	cases := []struct {
		name, account, token string
		body                 []byte
		code                 int
		status               string
	}{
		{"bad token", ssAccount, ssToken + "x", good, 401, "rejected"},
		{"token of another length", ssAccount, "t", good, 401, "rejected"},
		{"unknown account", "nope", ssToken, good, 404, "rejected"},
		{"order notify is ignored", ssAccount, ssToken, shipNotify(ssBase+"/orders?importBatch=1", "ORDER_NOTIFY"), 200, "ignored"},
		{"fulfillment shipped is ignored", ssAccount, ssToken, shipNotify(ssBase+"/fulfillments?batchId=1", "FULFILLMENT_SHIPPED"), 200, "ignored"},
		{"unknown type", ssAccount, ssToken, shipNotify(ssBase+"/shipments?batchId=1", "SOMETHING_ELSE"), 400, "rejected"},
		{"not JSON", ssAccount, ssToken, []byte(`{"resource_url":`), 400, "rejected"},
	}
	for _, c := range cases {
		if a := e.post(c.account, c.token, c.body); a.code != c.code || a.Status != c.status {
			t.Errorf("%s: %d %q (%s), want %d %s", c.name, a.code, a.Status, a.Reason, c.code, c.status)
		}
	}
	assertEmpty(t, e.queue)
	// Nothing was claimed by the rejects: the genuine delivery is accepted.
	if a := e.post(ssAccount, ssToken, good); a.code != http.StatusAccepted {
		t.Errorf("genuine delivery after the rejects: %d %q", a.code, a.Status)
	}
}

func TestShipNotifyForgedResourceURLIsRejected(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	cases := []struct {
		name, account, url, reason string
	}{
		{"other host", ssAccount, "https://evil.example.com/shipments?batchId=1", "host"},
		{"host suffix", ssAccount, "https://ssapi.shipstation.com.evil.example/shipments?batchId=1", "host"},
		{"http on an https base", ssAccount, "http://ssapi.shipstation.com/shipments?batchId=1", "scheme"},
		{"https on an http base", "local", "https://127.0.0.1:4020/shipments?batchId=1", "scheme"},
		{"other port", ssAccount, "https://ssapi.shipstation.com:8443/shipments?batchId=1", "port"},
		{"userinfo", ssAccount, "https://user:pw@ssapi.shipstation.com/shipments?batchId=1", "userinfo"},
		{"userinfo on the sandbox", "local", "http://x@127.0.0.1:4020/shipments?batchId=1", "userinfo"},
		{"other path", ssAccount, "https://ssapi.shipstation.com/orders?batchId=1", "path"},
		{"dot segments", ssAccount, "https://ssapi.shipstation.com/x/../shipments?batchId=1", "path"},
		{"unknown query key", ssAccount, "https://ssapi.shipstation.com/shipments?batchId=1&callback=http://evil", "not allowed"},
		{"fragment", ssAccount, "https://ssapi.shipstation.com/shipments?batchId=1#x", "fragment"},
	}
	for _, c := range cases {
		a := e.post(c.account, ssToken, shipNotify(c.url, "SHIP_NOTIFY"))
		if a.code != http.StatusBadRequest || a.Status != "rejected" {
			t.Errorf("%s: %d %q, want 400 rejected", c.name, a.code, a.Status)
		}
		if !strings.Contains(a.Reason, c.reason) {
			t.Errorf("%s: reason %q does not mention %q", c.name, a.Reason, c.reason)
		}
	}
	assertEmpty(t, e.queue)
}

func TestShipNotifyBodyLimit(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	over := append(bytes.Repeat([]byte(" "), webhook.MaxBody), shipNotify(ssBase+"/shipments?batchId=1", "SHIP_NOTIFY")...)
	a := e.post(ssAccount, ssToken, over)
	if a.code != http.StatusRequestEntityTooLarge || a.Status != "rejected" {
		t.Errorf("body over 256 KB: %d %+v, want 413", a.code, a)
	}
	// Too big before anything else: an unknown account with a bad token
	// still gets 413, not 404 or 401.
	if a := e.post("nope", "bad", over); a.code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body to an unknown account: %d, want 413", a.code)
	}
	assertEmpty(t, e.queue)
}

// Only POST /webhooks/shipstation/{accountId}/{token} is served.
func TestShipNotifyRouteShape(t *testing.T) {
	t.Parallel()
	e := newSSEnv(t)
	for _, path := range []string{"/webhooks/shipstation/" + ssAccount, "/webhooks/shipstation/" + ssAccount + "/" + ssToken + "/extra"} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(shipNotify(ssBase+"/shipments?batchId=1", "SHIP_NOTIFY")))
		if a := (&env{t: t}).do(req); a.code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, a.code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/webhooks/shipstation/"+ssAccount+"/"+ssToken, nil)
	if a := (&env{t: t}).do(req); a.code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", a.code)
	}
	assertEmpty(t, e.queue)
}
