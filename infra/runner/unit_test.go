package runner

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func strictDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, data)
	}
}

func TestRouteMatch(t *testing.T) {
	mk := func(method, path string) *route {
		return &route{method: method, path: path, segments: strings.Split(strings.TrimPrefix(path, "/"), "/")}
	}
	rt := mk("POST", "/webhooks/bigcommerce/{storeId}")
	for _, c := range []struct {
		method, path string
		ok           bool
		store        string
	}{
		{"POST", "/webhooks/bigcommerce/bc-main", true, "bc-main"},
		{"POST", "/webhooks/bigcommerce/bc%20main", true, "bc main"},
		{"GET", "/webhooks/bigcommerce/bc-main", false, ""},
		{"POST", "/webhooks/bigcommerce/", false, ""},
		{"POST", "/webhooks/bigcommerce", false, ""},
		{"POST", "/webhooks/bigcommerce/a/b", false, ""},
		{"POST", "/webhooks/shopify/a", false, ""},
	} {
		p, ok := rt.match(c.method, c.path)
		if ok != c.ok || (ok && p["storeId"] != c.store) {
			t.Errorf("%s %s: %v %v", c.method, c.path, ok, p)
		}
	}
	greedy := mk("ANY", "/files/{proxy+}")
	if p, ok := greedy.match("DELETE", "/files/a/b/c"); !ok || p["proxy"] != "a/b/c" {
		t.Errorf("greedy: %v %v", ok, p)
	}
	if _, ok := greedy.match("GET", "/files/"); ok {
		t.Error("greedy matched an empty rest")
	}
	if greedy.specificity() >= rt.specificity() {
		t.Error("a greedy ANY route must rank below a literal one")
	}
}

func TestBuildHTTPEvent(t *testing.T) {
	req := httptest.NewRequest("POST", "http://127.0.0.1:3000/webhooks/bigcommerce/bc-main?a=1&a=2&b=x%20y", nil)
	req.RemoteAddr = "127.0.0.1:54321"
	req.Header.Set("X-Webhook-Secret", "s3cret")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	req.Header.Set("User-Agent", "test-agent")
	now := time.Date(2026, 11, 21, 17, 3, 21, 0, time.UTC)
	body := []byte(`{"scope":"store/order/created"}`)
	payload, err := BuildHTTPEvent(req, body, "POST /webhooks/bigcommerce/{storeId}", map[string]string{"storeId": "bc-main"}, "123456789012", "req-1=", now)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	strictDecode(t, payload, &ev)
	if ev.Version != "2.0" || ev.RouteKey != "POST /webhooks/bigcommerce/{storeId}" || ev.RawPath != "/webhooks/bigcommerce/bc-main" {
		t.Errorf("head: %+v", ev)
	}
	if ev.RawQueryString != "a=1&a=2&b=x%20y" || ev.QueryStringParameters["a"] != "1,2" || ev.QueryStringParameters["b"] != "x y" {
		t.Errorf("query: %q %v", ev.RawQueryString, ev.QueryStringParameters)
	}
	for k, v := range map[string]string{"x-webhook-secret": "s3cret", "content-type": "application/json", "x-multi": "one,two",
		"host": "127.0.0.1:3000", "x-forwarded-for": "127.0.0.1", "x-forwarded-port": "3000", "x-forwarded-proto": "http", "user-agent": "test-agent"} {
		if ev.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, ev.Headers[k], v)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok || len(ev.Cookies) != 2 || ev.Cookies[0] != "c1=v1" {
		t.Errorf("cookies %v, headers %v", ev.Cookies, ev.Headers)
	}
	if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("trace id %q", ev.Headers["x-amzn-trace-id"])
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower-case", k)
		}
	}
	if ev.PathParameters["storeId"] != "bc-main" || ev.Body != string(body) || ev.IsBase64Encoded {
		t.Errorf("params/body: %v %q %v", ev.PathParameters, ev.Body, ev.IsBase64Encoded)
	}
	rc := ev.RequestContext
	if rc.HTTP.Method != "POST" || rc.HTTP.Path != "/webhooks/bigcommerce/bc-main" || rc.HTTP.SourceIP != "127.0.0.1" ||
		rc.HTTP.UserAgent != "test-agent" || rc.HTTP.Protocol != "HTTP/1.1" || rc.Stage != "$default" || rc.RequestID != "req-1=" ||
		rc.RouteKey != ev.RouteKey || rc.AccountID != "123456789012" || rc.TimeEpoch != now.UnixMilli() ||
		rc.Time != "21/Nov/2026:17:03:21 +0000" || rc.DomainName != "127.0.0.1" {
		t.Errorf("requestContext: %+v", rc)
	}
	// The raw event carries no field API Gateway leaves out.
	var raw map[string]any
	_ = json.Unmarshal(payload, &raw)
	if _, ok := raw["requestContext"].(map[string]any)["authentication"]; ok {
		t.Error("authentication present")
	}

	// Binary body, no query, no path parameters.
	req2 := httptest.NewRequest("POST", "http://localhost/x", nil)
	payload, err = BuildHTTPEvent(req2, []byte{0xff, 0xfe, 0x00}, "POST /x", nil, "1", "r", now)
	if err != nil {
		t.Fatal(err)
	}
	var ev2 events.APIGatewayV2HTTPRequest
	strictDecode(t, payload, &ev2)
	if !ev2.IsBase64Encoded || ev2.Body != "//4A" || ev2.QueryStringParameters != nil || ev2.PathParameters != nil || ev2.RawQueryString != "" {
		t.Errorf("binary: %+v", ev2)
	}
	raw = nil
	_ = json.Unmarshal(payload, &raw)
	for _, k := range []string{"queryStringParameters", "pathParameters", "cookies"} {
		if _, ok := raw[k]; ok {
			t.Errorf("%s present when empty", k)
		}
	}
}

func TestWriteHTTPResponse(t *testing.T) {
	rec := httptest.NewRecorder()
	out, _ := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 202, Headers: map[string]string{"Content-Type": "application/json", "X-A": "1"},
		MultiValueHeaders: map[string][]string{"X-M": {"1", "2"}}, Body: `{"ok":true}`, Cookies: []string{"a=b"},
	})
	if err := WriteHTTPResponse(rec, out); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 202 || rec.Body.String() != `{"ok":true}` || rec.Header().Get("X-A") != "1" ||
		len(rec.Header().Values("X-M")) != 2 || rec.Header().Get("Set-Cookie") != "a=b" {
		t.Errorf("structured: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	out, _ = json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "aGk=", IsBase64Encoded: true})
	if err := WriteHTTPResponse(rec, out); err != nil || rec.Body.String() != "hi" {
		t.Errorf("base64: %v %q", err, rec.Body)
	}
	rec = httptest.NewRecorder()
	if err := WriteHTTPResponse(rec, []byte(`{"hello":"world"}`)); err != nil || rec.Code != 200 ||
		rec.Body.String() != `{"hello":"world"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("plain JSON: %v %d %q", err, rec.Code, rec.Body)
	}
	for _, bad := range []string{`not json`, `{"statusCode":"x"}`, `{"statusCode":42}`, `{"statusCode":200,"body":"%%","isBase64Encoded":true}`} {
		if err := WriteHTTPResponse(httptest.NewRecorder(), []byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func msgs(ids ...string) []sqstypes.Message {
	var out []sqstypes.Message
	for _, id := range ids {
		out = append(out, sqstypes.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String("b-" + id)})
	}
	return out
}

func TestBatchFailures(t *testing.T) {
	batch := msgs("m1", "m2", "m3")
	for _, c := range []struct {
		out    string
		failed []string
		err    bool
	}{
		{``, nil, false},
		{`null`, nil, false},
		{`{}`, nil, false},
		{`{"batchItemFailures":[]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, []string{"m2"}, false},
		{`{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m3"}]}`, []string{"m1", "m3"}, false},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, true},
		{`{"batchItemFailures":[{"itemIdentifier":"nope"}]}`, nil, true},
		{`"garbage"`, nil, true},
	} {
		got, err := batchFailures([]byte(c.out), batch)
		if (err != nil) != c.err {
			t.Errorf("%s: err %v", c.out, err)
			continue
		}
		if err == nil && len(got) != len(c.failed) {
			t.Errorf("%s: failed %v, want %v", c.out, got, c.failed)
		}
		for _, id := range c.failed {
			if !got[id] {
				t.Errorf("%s: %s not failed", c.out, id)
			}
		}
	}
}

func TestSQSEventShape(t *testing.T) {
	m := msgs("m1")[0]
	m.MD5OfBody = aws.String("md5")
	m.Attributes = map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1795291688524", "ApproximateFirstReceiveTimestamp": "1795291688536"}
	m.MessageAttributes = map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("ingest")}}
	payload, err := json.Marshal(SQSEvent([]sqstypes.Message{m}, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	strictDecode(t, payload, &ev)
	r := ev.Records[0]
	if r.MessageId != "m1" || r.ReceiptHandle != "rh-m1" || r.Body != "b-m1" || r.Md5OfBody != "md5" || r.EventSource != "aws:sqs" ||
		r.EventSourceARN != "arn:aws:sqs:us-east-1:123456789012:q" || r.AWSRegion != "us-east-1" ||
		r.Attributes["ApproximateReceiveCount"] != "1" || *r.MessageAttributes["kind"].StringValue != "ingest" ||
		r.MessageAttributes["kind"].DataType != "String" || r.MessageAttributes["kind"].StringListValues == nil {
		t.Errorf("record: %+v", r)
	}
}

func TestScheduledEventShape(t *testing.T) {
	at := time.Date(2026, 11, 21, 17, 5, 0, 123, time.UTC)
	payload, _ := json.Marshal(ScheduledEvent("id-1", at, "123456789012", "us-east-1", "arn:aws:events:us-east-1:123456789012:rule/x"))
	var ev events.EventBridgeEvent
	strictDecode(t, payload, &ev)
	if ev.Version != "0" || ev.ID != "id-1" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" ||
		ev.AccountID != "123456789012" || ev.Region != "us-east-1" || len(ev.Resources) != 1 || string(ev.Detail) != "{}" ||
		!ev.Time.Equal(at.Truncate(time.Second)) {
		t.Errorf("%+v", ev)
	}
	if !bytes.Contains(payload, []byte(`"time":"2026-11-21T17:05:00Z"`)) {
		t.Errorf("time format: %s", payload)
	}
}

func fakeFactory(handlers map[string]lambda.Handler) HandlerFactory {
	return func(name string, _ func(string) string) (lambda.Handler, error) {
		if h, ok := handlers[name]; ok {
			return h, nil
		}
		return lambda.NewHandler(func() error { return nil }), nil
	}
}

// TestNewPlansTheTemplate reads the real template without touching the network.
func TestNewPlansTheTemplate(t *testing.T) {
	r, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), Logger: testLogger(t),
		ScheduleEvery: map[string]time.Duration{"Poll": 10 * time.Second}, Parameters: map[string]string{"PushMaxConcurrency": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]string{}
	for _, rt := range r.routes {
		routes[rt.routeKey] = rt.fn.name + " " + rt.timeout.String()
	}
	if len(r.routes) != 2 || routes["POST /webhooks/bigcommerce/{storeId}"] != "webhook 10s" ||
		routes["POST /webhooks/shipstation/{accountId}/{token}"] != "webhook 10s" {
		t.Errorf("routes: %v", routes)
	}
	got := map[string]string{}
	for _, m := range r.mappings {
		got[m.fn.fn.LogicalID] = strings.Join([]string{m.queueID, itoa(m.batchSize), m.window.String(), itoa(m.maxConcurrency)}, " ")
		if !m.reportFailures {
			t.Errorf("%s: no ReportBatchItemFailures", m.fn.name)
		}
	}
	if got["IngestFunction"] != "IngestQueue 10 1s 5" || got["PushFunction"] != "PushQueue 100 2s 3" || got["ShipmentsFunction"] != "ShipmentsQueue 10 1s 2" ||
		got["NotifyBigCommerceFunction"] != "NotifyBigCommerceQueue 10 1s 2" || got["NotifyAmazonFunction"] != "NotifyAmazonQueue 10 1s 2" ||
		got["OrderChangeFunction"] != "OrderChangeQueue 10 1s 2" || len(got) != 6 {
		t.Errorf("mappings: %v", got)
	}
	scheds := map[string]string{}
	for _, s := range r.schedules {
		scheds[s.fn.name] = s.sched.Every.String() + " every " + s.every.String()
	}
	if len(scheds) != 3 || scheds["poll"] != "5m0s every 10s" || scheds["reconcile"] != "15m0s every 0s" || scheds["redact"] != "1h0m0s every 0s" {
		t.Errorf("schedules: %v", scheds)
	}
	for _, key := range []string{"PollFunction", "Poll", "poll", "pollfunction"} {
		if f := r.lookup(key); f == nil || f.name != "poll" {
			t.Errorf("lookup %s: %v", key, f)
		}
	}
	if _, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), Parameters: map[string]string{"Nope": "1"}}); err == nil {
		t.Error("unknown parameter override accepted")
	}
	if _, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), Parameters: map[string]string{"LogLevel": "LOUD"}}); err == nil {
		t.Error("parameter outside AllowedValues accepted")
	}
	if _, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), ScheduleEvery: map[string]time.Duration{"Nope": time.Second}}); err == nil {
		t.Error("-schedule-every for an unknown function accepted")
	}
	if _, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), Parameters: map[string]string{"PollSchedule": "rate(5 minute)"}}); err == nil {
		t.Error("bad schedule accepted")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestServeHTTPWithoutStack exercises the HTTP side with a planned but not
// set-up runner: unknown routes, the payload limit, errors and timeouts.
func TestServeHTTPWithoutStack(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	handlers := map[string]lambda.Handler{
		"webhook": lambda.NewHandler(func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			got = ev
			switch ev.PathParameters["storeId"] {
			case "fail":
				return events.APIGatewayV2HTTPResponse{}, errTest
			case "slow":
				time.Sleep(300 * time.Millisecond)
			}
			return events.APIGatewayV2HTTPResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"accepted":1}`}, nil
		}),
	}
	r, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(handlers), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.functions {
		f.handler, _ = r.cfg.Factory(f.name, r.getenv(f))
	}
	do := func(method, path string, body []byte) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(method, path, bytes.NewReader(body)))
		return rec
	}
	if rec := do("POST", "/webhooks/bigcommerce/bc-main", bytes.Repeat([]byte("x"), MaxPayloadBytes)); rec.Code != 202 {
		t.Errorf("exactly 10 MB: %d", rec.Code)
	}
	r.routes[0].timeout = 100 * time.Millisecond
	if rec := do("POST", "/webhooks/bigcommerce/bc-main", []byte(`{}`)); rec.Code != 202 || rec.Body.String() != `{"accepted":1}` ||
		rec.Header().Get("Apigw-Requestid") == "" || got.RawPath != "/webhooks/bigcommerce/bc-main" {
		t.Errorf("ok: %d %q %+v", rec.Code, rec.Body, got)
	}
	for _, c := range []struct {
		method, path string
		body         []byte
		code         int
		msg          string
	}{
		{"POST", "/nope", nil, 404, `{"message":"Not Found"}`},
		{"GET", "/webhooks/bigcommerce/bc-main", nil, 404, `{"message":"Not Found"}`},
		{"POST", "/webhooks/bigcommerce/fail", []byte(`{}`), 500, `{"message":"Internal Server Error"}`},
		{"POST", "/webhooks/bigcommerce/slow", []byte(`{}`), 503, `{"message":"Service Unavailable"}`},
		{"POST", "/webhooks/bigcommerce/bc-main", bytes.Repeat([]byte("x"), MaxPayloadBytes+1), 413, `{"message":"Request Entity Too Large"}`},
		{"GET", "/_runner/nope", nil, 404, `{"message":"Not Found"}`},
		{"POST", "/_runner/schedules/WebhookFunction", nil, 404, ""},
	} {
		rec := do(c.method, c.path, c.body)
		if rec.Code != c.code || (c.msg != "" && rec.Body.String() != c.msg) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, rec.Code, rec.Body, c.code, c.msg)
		}
	}
	if f := r.lookup("webhook"); f.errors.Load() != 2 || f.invocations.Load() != 4 {
		t.Errorf("counters: %d invocations, %d errors", f.invocations.Load(), f.errors.Load())
	}
	_ = http.StatusOK
}

// testLogger sends the runner's logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewJSONHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("boom")
