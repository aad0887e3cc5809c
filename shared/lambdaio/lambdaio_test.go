package lambdaio_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/retry"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

func TestEachRecordReportsExactlyTheFailures(t *testing.T) {
	var logBuf bytes.Buffer
	log := obs.NewLogger(&logBuf, "INFO")
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: "ok"},
		{MessageId: "m2", Body: "fail"},
		{MessageId: "m3", Body: "ok"},
		{MessageId: "m4", Body: "fail"},
		{MessageId: "m5", Body: "ok"},
	}}
	var seen []string
	resp := lambdaio.EachRecord(context.Background(), log, ev, nil, func(ctx context.Context, m events.SQSMessage) error {
		seen = append(seen, m.MessageId)
		// The record's context carries its message id into the logs.
		log.InfoContext(ctx, "processing")
		if m.Body == "fail" {
			return errors.New("boom " + m.MessageId)
		}
		return nil
	})
	if strings.Join(seen, ",") != "m1,m2,m3,m4,m5" {
		t.Errorf("records processed %v, want all, in order", seen)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "m2,m4" {
		t.Errorf("BatchItemFailures = %v, want [m2 m4]", failed)
	}

	var processing, warned int
	for _, line := range strings.Split(strings.TrimSpace(logBuf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line: %v: %s", err, line)
		}
		if rec["message_id"] == nil {
			t.Errorf("log line without message_id: %s", line)
		}
		switch rec["level"] {
		case "INFO":
			processing++
		case "WARN":
			warned++
			if !strings.HasPrefix(rec["error"].(string), "boom ") || rec["error"] != "boom "+rec["message_id"].(string) {
				t.Errorf("failure logged with the wrong record: %s", line)
			}
		}
	}
	if processing != 5 || warned != 2 {
		t.Errorf("logged %d processing and %d failures, want 5 and 2", processing, warned)
	}
}

func TestEachRecordAllSucceed(t *testing.T) {
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a"}, {MessageId: "b"}}}
	resp := lambdaio.EachRecord(context.Background(), obs.NewLogger(io.Discard, "ERROR"), ev, nil,
		func(context.Context, events.SQSMessage) error { return nil })
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %v, want none", resp.BatchItemFailures)
	}
}

// seen is what the wrapped handler observed of a request.
type seen struct {
	method, path, query, host string
	header                    http.Header
	body                      []byte
	logs                      string
}

func recorder(got *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var logBuf bytes.Buffer
		obs.NewLogger(&logBuf, "INFO").InfoContext(r.Context(), "in handler")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		*got = seen{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, host: r.Host, header: r.Header.Clone(), body: body, logs: logBuf.String()}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Order-Count", "3")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"accepted"}`))
	})
}

func v2Request(method, path, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       method + " /webhooks/bigcommerce/{storeId}",
		RawPath:        path,
		RawQueryString: "debug=1&x=a%20b",
		Headers: map[string]string{
			"content-type":     "application/json",
			"x-webhook-secret": "s3cret",
			"user-agent":       "BigCommerce-Webhooks",
		},
		Body:            body,
		IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID:  "req-abc-123",
			DomainName: "api.example.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "203.0.113.9"},
		},
	}
}

func TestHTTPAdapterRequestAndResponse(t *testing.T) {
	var got seen
	h := lambdaio.HTTP(recorder(&got))
	body := `{"scope":"store/order/created","data":{"type":"order","id":101}}`
	resp, err := h(context.Background(), v2Request("POST", "/webhooks/bigcommerce/bc-main", body, false))
	if err != nil {
		t.Fatal(err)
	}
	if got.method != "POST" || got.path != "/webhooks/bigcommerce/bc-main" {
		t.Errorf("handler saw %s %s", got.method, got.path)
	}
	if got.query != "debug=1&x=a%20b" {
		t.Errorf("query = %q", got.query)
	}
	if got.header.Get("X-Webhook-Secret") != "s3cret" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", got.header)
	}
	if string(got.body) != body {
		t.Errorf("body = %q", got.body)
	}
	if !strings.Contains(got.logs, `"request_id":"req-abc-123"`) {
		t.Errorf("handler logs lack the API Gateway request id: %s", got.logs)
	}

	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if resp.Body != `{"status":"accepted"}` || resp.IsBase64Encoded {
		t.Errorf("body = %q (base64 %v)", resp.Body, resp.IsBase64Encoded)
	}
	if resp.Headers["Content-Type"] != "application/json" || resp.Headers["X-Order-Count"] != "3" {
		t.Errorf("response headers = %v", resp.Headers)
	}
}

func TestHTTPAdapterBase64Body(t *testing.T) {
	var got seen
	h := lambdaio.HTTP(recorder(&got))
	raw := []byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 'x', 0x00}
	resp, err := h(context.Background(), v2Request("POST", "/bin", base64.StdEncoding.EncodeToString(raw), true))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.body, raw) {
		t.Errorf("handler saw body %x, want the decoded %x", got.body, raw)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestHTTPAdapterPathFromContext(t *testing.T) {
	var got seen
	h := lambdaio.HTTP(recorder(&got))
	req := v2Request("GET", "/webhooks/bigcommerce/bc-2", "", false)
	req.RawPath = "" // payload without rawPath: the context's path is used
	if _, err := h(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got.method != "GET" || got.path != "/webhooks/bigcommerce/bc-2" {
		t.Errorf("handler saw %s %q", got.method, got.path)
	}
}

func TestHTTPAdapterBinaryResponse(t *testing.T) {
	h := lambdaio.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0xff, 0x00, 0xfe})
	}))
	resp, err := h(context.Background(), v2Request("GET", "/x", "", false))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := base64.StdEncoding.DecodeString(resp.Body)
	if !resp.IsBase64Encoded || err != nil || !bytes.Equal(dec, []byte{0xff, 0x00, 0xfe}) {
		t.Errorf("binary response = %q (base64 %v)", resp.Body, resp.IsBase64Encoded)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want the implicit 200", resp.StatusCode)
	}
}

func TestRequestID(t *testing.T) {
	if id := lambdaio.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID without Lambda context = %q", id)
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-9"})
	if id := lambdaio.RequestID(ctx); id != "lambda-req-9" {
		t.Errorf("RequestID = %q", id)
	}
	var buf bytes.Buffer
	obs.NewLogger(&buf, "INFO").InfoContext(lambdaio.WithRequestID(ctx), "x")
	if !strings.Contains(buf.String(), `"request_id":"lambda-req-9"`) {
		t.Errorf("WithRequestID did not add the id: %s", buf.String())
	}
	buf.Reset()
	obs.NewLogger(&buf, "INFO").InfoContext(lambdaio.WithRequestID(context.Background()), "x")
	if strings.Contains(buf.String(), "request_id") {
		t.Errorf("WithRequestID without an id added one: %s", buf.String())
	}
}

// retryQueue is a real SQS queue (local emulator) for Retrier tests.
func retryQueue(t *testing.T) *sqs.Queue {
	t.Helper()
	return &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "retry", nil)}
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// receiveAll sends n messages and receives them with a 1 s visibility.
func receiveAll(t *testing.T, q *sqs.Queue, n int) []events.SQSMessage {
	t.Helper()
	var msgs []queue.Message
	for i := range n {
		msgs = append(msgs, queue.Message{Body: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := q.Send(tctx(t), msgs...); err != nil {
		t.Fatal(err)
	}
	var out []events.SQSMessage
	for len(out) < n {
		got, err := q.Receive(tctx(t), 10, time.Second, time.Second)
		if err != nil || len(got) == 0 {
			t.Fatalf("received %d of %d: %v", len(out), n, err)
		}
		out = append(out, got...)
	}
	return out
}

func TestEachRecordDefersOnlyTheFailures(t *testing.T) {
	t.Parallel()
	q := retryQueue(t)
	recs := receiveAll(t, q, 3)
	r := &lambdaio.Retrier{Visibility: q, Policy: retry.Policy{Base: time.Second, Cap: time.Hour, Rand: func() float64 { return 0 }}}
	var logBuf bytes.Buffer
	failID := recs[1].MessageId
	resp := lambdaio.EachRecord(context.Background(), obs.NewLogger(&logBuf, "INFO"), events.SQSEvent{Records: recs}, r,
		func(_ context.Context, m events.SQSMessage) error {
			if m.MessageId == failID {
				return errs.E(errs.Transient, "test", errors.New("HTTP 429")).WithRetryAfter(30 * time.Second)
			}
			return nil
		})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != failID {
		t.Fatalf("failures = %+v", resp.BatchItemFailures)
	}
	if !strings.Contains(logBuf.String(), `"retry_in_ms":30000`) {
		t.Errorf("the deferral is not logged with the 30 s wait: %s", logBuf.String())
	}
	// Lambda deletes the successes; here they just time out after 1 s.
	time.Sleep(1500 * time.Millisecond)
	var back []string
	for {
		got, err := q.Receive(tctx(t), 10, 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, m := range got {
			back = append(back, m.MessageId)
		}
	}
	if len(back) != 2 {
		t.Fatalf("%d messages visible after 1.5 s, want the 2 successes", len(back))
	}
	for _, id := range back {
		if id == failID {
			t.Errorf("the failed message came back within 1.5 s although it was deferred 30 s")
		}
	}
}

func TestRetrierDelays(t *testing.T) {
	t.Parallel()
	q := retryQueue(t)
	recs := receiveAll(t, q, 3)
	pol := retry.Policy{Base: 2 * time.Second, Cap: 10 * time.Minute, Rand: func() float64 { return 1 }}
	r := &lambdaio.Retrier{Visibility: q, Policy: pol}
	ctx := context.Background()

	if d, _ := r.Defer(ctx, recs[0], errs.E(errs.Transient, "x", nil).WithRetryAfter(45*time.Second)); d != 45*time.Second {
		t.Errorf("transient with Retry-After 45 s: delay %v", d)
	}
	if d, _ := r.Defer(ctx, recs[1], errs.E(errs.Unauthorised, "x", nil)); d != 10*time.Minute {
		t.Errorf("unauthorised: delay %v, want the policy's maximum", d)
	}
	m := recs[2]
	m.Attributes = map[string]string{"ApproximateReceiveCount": "3"}
	if d, _ := r.Defer(ctx, m, errors.New("boom")); d != 8*time.Second {
		t.Errorf("third receive: delay %v, want Base·2² = 8 s", d)
	}
	if vis, inflight, err := q.Depth(tctx(t)); err != nil || vis != 0 || inflight != 3 {
		t.Errorf("depth %d/%d (%v): deferred messages must stay hidden", vis, inflight, err)
	}

	var nilR *lambdaio.Retrier
	if d, _ := nilR.Defer(ctx, recs[0], errors.New("x")); d != 0 {
		t.Errorf("nil Retrier returned %v", d)
	}
	if d, _ := r.Defer(ctx, events.SQSMessage{MessageId: "no-handle"}, errors.New("x")); d != 0 {
		t.Errorf("message without receipt handle: %v", d)
	}
	// A handle SQS rejects is logged, not fatal.
	var logBuf bytes.Buffer
	bad := &lambdaio.Retrier{Visibility: q, Policy: pol, Log: obs.NewLogger(&logBuf, "INFO")}
	bad.Defer(ctx, events.SQSMessage{MessageId: "x", ReceiptHandle: "not-a-handle"}, errors.New("x"))
	if !strings.Contains(logBuf.String(), "could not defer") {
		t.Errorf("a failed ChangeVisibility is not logged: %q", logBuf.String())
	}
}

// A budget wait is not a failure: the message is sent again with a delay
// and the original acknowledged, so waiting never burns a receive.
func TestRetrierRequeuesBudgetWaits(t *testing.T) {
	t.Parallel()
	q := retryQueue(t)
	recs := receiveAll(t, q, 1)
	r := &lambdaio.Retrier{Visibility: q, Requeue: q, Policy: retry.Policy{Base: time.Second, Cap: time.Minute, Rand: func() float64 { return 0 }}}
	wait := errs.E(errs.Transient, "x", &ratelimit.ErrDeferred{Key: "k", Wait: 2 * time.Second})
	d, requeued := r.Defer(context.Background(), recs[0], wait)
	if !requeued || d != 2*time.Second {
		t.Fatalf("budget wait: delay %v requeued %v, want 2s true", d, requeued)
	}
	// The copy arrives after the delay, with the same body.
	time.Sleep(2200 * time.Millisecond)
	got, err := q.Receive(tctx(t), 10, time.Second, time.Minute)
	copies := 0
	for _, m := range got {
		if m.MessageId != recs[0].MessageId && m.Body == recs[0].Body && m.Attributes["ApproximateReceiveCount"] == "1" {
			copies++
		}
	}
	if err != nil || copies != 1 {
		t.Fatalf("delayed copy: %d found in %d messages (%v)", copies, len(got), err)
	}
	// A real failure still stretches visibility instead.
	if _, requeued := r.Defer(context.Background(), recs[0], errors.New("boom")); requeued {
		t.Fatal("a failure was requeued")
	}
}

// The last receive's failure is reported before the message moves to the
// dead-letter queue; earlier ones are not.
func TestRetrierGivesUpOnTheLastReceive(t *testing.T) {
	t.Parallel()
	q := retryQueue(t)
	recs := receiveAll(t, q, 2)
	var gaveUp []string
	r := &lambdaio.Retrier{Visibility: q, Policy: retry.Policy{Base: time.Second, Cap: time.Minute}, MaxReceives: 3,
		GiveUp: func(_ context.Context, m events.SQSMessage, _ error) { gaveUp = append(gaveUp, m.MessageId) }}
	early, last := recs[0], recs[1]
	early.Attributes = map[string]string{"ApproximateReceiveCount": "2"}
	last.Attributes = map[string]string{"ApproximateReceiveCount": "3"}
	r.Defer(context.Background(), early, errors.New("boom"))
	r.Defer(context.Background(), last, errors.New("boom"))
	if len(gaveUp) != 1 || gaveUp[0] != last.MessageId {
		t.Fatalf("gave up on %v, want only %s", gaveUp, last.MessageId)
	}
}
