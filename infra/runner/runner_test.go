package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/shiprelay/shiprelay/infra/testenv"
)

// requireStack skips (or, under CI, fails) a test that needs the local
// stack.
func requireStack(t *testing.T) { testenv.RequireStack(t) }

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startRunner starts a runner on a free port with table and queue names of
// its own, and stops it (waiting for in-flight work) and removes them at
// the end of the test.
func startRunner(t *testing.T, cfg Config) *Runner {
	t.Helper()
	requireStack(t)
	id := randomID()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.TableName = "t-" + id
	cfg.QueuePrefix = "t" + id + "-"
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Wait(); err != nil {
			t.Errorf("runner stopped with %v", err)
		}
		bg := context.Background()
		for _, q := range r.queues {
			_, _ = r.sqs.DeleteQueue(bg, &sqs.DeleteQueueInput{QueueUrl: aws.String(q.url)})
		}
		for _, name := range r.tables {
			_, _ = r.ddb.DeleteTable(bg, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	return r
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealTemplate runs template.yaml with fake handlers: setup, the
// webhook route, environments, status and on-demand firing.
func TestRealTemplate(t *testing.T) {
	var mu sync.Mutex
	var got []events.APIGatewayV2HTTPRequest
	var fired []events.EventBridgeEvent
	envs := map[string]func(string) string{}
	handlers := map[string]lambda.Handler{
		"webhook": lambda.NewHandler(func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return events.APIGatewayV2HTTPResponse{
				StatusCode: 202,
				Headers:    map[string]string{"Content-Type": "application/json", "X-Store": ev.PathParameters["storeId"]},
				Body:       `{"status":"accepted"}`,
				Cookies:    []string{"seen=1"},
			}, nil
		}),
		"poll": lambda.NewHandler(func(ev events.EventBridgeEvent) (map[string]int, error) {
			mu.Lock()
			fired = append(fired, ev)
			mu.Unlock()
			return map[string]int{"queued": 3}, nil
		}),
	}
	factory := func(name string, getenv func(string) string) (lambda.Handler, error) {
		envs[name] = getenv
		return fakeFactory(handlers)(name, getenv)
	}
	processEnv := map[string]string{"SHIPRELAY_SECRETS_FILE": "/tmp/secrets.json", "SHIPRELAY_TABLE": "from-process"}
	r := startRunner(t, Config{
		TemplatePath: "../../template.yaml", Factory: factory, DisableSchedules: true,
		Getenv: func(k string) string { return processEnv[k] },
	})
	base := r.URL()

	// Environments: template values resolved to the local resources, then
	// the process environment.
	if len(envs) != 9 { // one per CodeUri: the two notify functions share one
		t.Fatalf("factory called for %v", envs)
	}
	for name, want := range map[string]map[string]string{
		"webhook":   {"SHIPRELAY_INGEST_QUEUE_URL": r.QueueURL("IngestQueue"), "SHIPRELAY_SHIPMENTS_QUEUE_URL": r.QueueURL("ShipmentsQueue")},
		"poll":      {"SHIPRELAY_INGEST_QUEUE_URL": r.QueueURL("IngestQueue"), "SHIPRELAY_SHIPMENTS_QUEUE_URL": r.QueueURL("ShipmentsQueue")},
		"ingest":    {"SHIPRELAY_PUSH_QUEUE_URL": r.QueueURL("PushQueue"), "SHIPRELAY_INGEST_QUEUE_URL": r.QueueURL("IngestQueue")},
		"push":      {"SHIPRELAY_PUSH_QUEUE_URL": r.QueueURL("PushQueue")},
		"reconcile": {"SHIPRELAY_PUSH_QUEUE_URL": r.QueueURL("PushQueue")},
		"shipments": {"SHIPRELAY_SHIPMENTS_QUEUE_URL": r.QueueURL("ShipmentsQueue"),
			"SHIPRELAY_NOTIFY_BIGCOMMERCE_QUEUE_URL": r.QueueURL("NotifyBigCommerceQueue")},
		"notify": {"SHIPRELAY_NOTIFY_CHANNEL": "bigcommerce", "SHIPRELAY_NOTIFY_QUEUE_URL": r.QueueURL("NotifyBigCommerceQueue")},
	} {
		want["SHIPRELAY_TABLE"] = r.TableName("Table")
		want["SHIPRELAY_CONFIG"] = "shiprelay/config"
		want["SHIPRELAY_LOG_LEVEL"] = "INFO"
		want["SHIPRELAY_METRICS_NAMESPACE"] = "shiprelay"
		want["SHIPRELAY_SECRETS_FILE"] = "/tmp/secrets.json"
		for k, v := range want {
			if g := envs[name](k); g != v || v == "" {
				t.Errorf("%s: %s=%q, want %q", name, k, g, v)
			}
		}
	}
	if u := r.QueueURL("IngestQueue"); !strings.HasPrefix(u, os.Getenv("AWS_ENDPOINT_URL_SQS")) {
		t.Errorf("queue url %q", u)
	}

	// Setup is idempotent: a second runner on the same names reuses them.
	r2, err := New(Config{TemplatePath: "../../template.yaml", Factory: fakeFactory(nil), TableName: r.cfg.TableName,
		QueuePrefix: r.cfg.QueuePrefix, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Setup(context.Background()); err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if r2.QueueURL("PushDLQ") != r.QueueURL("PushDLQ") {
		t.Errorf("second setup: %s vs %s", r2.QueueURL("PushDLQ"), r.QueueURL("PushDLQ"))
	}
	desc, err := r.ddb.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(r.TableName("Table"))})
	if err != nil || len(desc.Table.GlobalSecondaryIndexes) != 3 || len(desc.Table.KeySchema) != 2 {
		t.Errorf("table: %v %+v", err, desc)
	}
	attrs, err := r.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(r.QueueURL("PushQueue")), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["VisibilityTimeout"] != "360" || !strings.Contains(attrs.Attributes["RedrivePolicy"], "PushDLQ") ||
		!strings.Contains(attrs.Attributes["RedrivePolicy"], `"maxReceiveCount":5`) {
		t.Errorf("push queue: %v %v", err, attrs.Attributes)
	}
	attrs, err = r.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(r.QueueURL("NotifyBigCommerceQueue")), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["VisibilityTimeout"] != "180" || !strings.Contains(attrs.Attributes["RedrivePolicy"], "NotifyBigCommerceDLQ") ||
		!strings.Contains(attrs.Attributes["RedrivePolicy"], `"maxReceiveCount":8`) {
		t.Errorf("notify queue: %v %v", err, attrs.Attributes)
	}

	// The webhook route.
	body := `{"created_at":1763741000,"store_id":"1001234567","scope":"store/order/created","data":{"type":"order","id":10452}}`
	req, _ := http.NewRequest("POST", base+"/webhooks/bigcommerce/bc-main?replay=1", strings.NewReader(body))
	req.Header.Set("X-Webhook-Secret", "s3cret")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(rb) != `{"status":"accepted"}` || resp.Header.Get("X-Store") != "bc-main" ||
		resp.Header.Get("Set-Cookie") != "seen=1" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response %d %q %v", resp.StatusCode, rb, resp.Header)
	}
	mu.Lock()
	if len(got) != 1 {
		t.Fatalf("%d webhook invocations", len(got))
	}
	ev := got[0]
	mu.Unlock()
	if ev.Version != "2.0" || ev.RouteKey != "POST /webhooks/bigcommerce/{storeId}" || ev.RawPath != "/webhooks/bigcommerce/bc-main" ||
		ev.RawQueryString != "replay=1" || ev.QueryStringParameters["replay"] != "1" || ev.PathParameters["storeId"] != "bc-main" ||
		ev.Headers["x-webhook-secret"] != "s3cret" || ev.Headers["content-type"] != "application/json" || ev.Body != body ||
		ev.IsBase64Encoded || ev.RequestContext.HTTP.Method != "POST" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" ||
		ev.RequestContext.Stage != "$default" || ev.RequestContext.RequestID == "" ||
		time.Since(time.UnixMilli(ev.RequestContext.TimeEpoch)) > time.Minute {
		t.Errorf("event: %+v", ev)
	}
	resp, err = http.Post(base+"/webhooks/unknown", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	rb, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(rb) != `{"message":"Not Found"}` {
		t.Errorf("unknown route: %d %q", resp.StatusCode, rb)
	}

	// The ShipStation route: two path parameters, the token in the path.
	ssBody := `{"resource_url":"https://ssapi.shipstation.com/shipments?batchId=1","resource_type":"SHIP_NOTIFY"}`
	resp, err = http.Post(base+"/webhooks/shipstation/main/tok-123", "application/json", strings.NewReader(ssBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	if len(got) != 2 {
		t.Fatalf("%d webhook invocations", len(got))
	}
	ev = got[1]
	mu.Unlock()
	if resp.StatusCode != 202 || ev.RouteKey != "POST /webhooks/shipstation/{accountId}/{token}" || ev.RawPath != "/webhooks/shipstation/main/tok-123" ||
		len(ev.PathParameters) != 2 || ev.PathParameters["accountId"] != "main" || ev.PathParameters["token"] != "tok-123" || ev.Body != ssBody {
		t.Errorf("shipstation route: %d %+v", resp.StatusCode, ev)
	}

	// On-demand firing, over HTTP and with the client the CLI uses.
	resp, err = http.Post(base+"/_runner/schedules/PollFunction", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var fr FireResult
	_ = json.NewDecoder(resp.Body).Decode(&fr)
	resp.Body.Close()
	var compact bytes.Buffer
	_ = json.Compact(&compact, fr.Response)
	if resp.StatusCode != 200 || fr.Function != "PollFunction" || fr.Event != "Poll" || compact.String() != `{"queued":3}` || fr.RequestID == "" {
		t.Errorf("fire: %d %+v", resp.StatusCode, fr)
	}
	res, err := RemoteFire(context.Background(), base, "poll")
	if err != nil || res.Function != "PollFunction" {
		t.Errorf("RemoteFire: %v %+v", err, res)
	}
	if _, err := RemoteFire(context.Background(), base, "IngestFunction"); err == nil || !strings.Contains(err.Error(), "no Schedule event") {
		t.Errorf("RemoteFire of a function without schedule: %v", err)
	}
	mu.Lock()
	if len(fired) != 2 || fired[0].DetailType != "Scheduled Event" || fired[0].Source != "aws.events" ||
		len(fired[0].Resources) != 1 || !strings.Contains(fired[0].Resources[0], ":rule/") || string(fired[0].Detail) != "{}" {
		t.Errorf("scheduled events: %+v", fired)
	}
	mu.Unlock()

	// Status.
	st, err := RemoteStatus(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Queues) != 12 || st.Queues["IngestQueue"].DeadLetterQueue != "IngestDLQ" || len(st.Queues["PushDLQ"].DeadLetterFor) != 1 ||
		st.Queues["ShipmentsQueue"].DeadLetterQueue != "ShipmentsDLQ" || st.Queues["NotifyBigCommerceQueue"].DeadLetterQueue != "NotifyBigCommerceDLQ" {
		t.Errorf("status queues: %+v", st.Queues)
	}
	if len(st.Functions) != 10 {
		t.Errorf("status functions: %+v", st.Functions)
	}
	if w := st.Functions["WebhookFunction"]; w.Invocations != 2 || w.Errors != 0 || w.Name != "webhook" || len(w.Triggers) != 2 {
		t.Errorf("status webhook: %+v", w)
	}
	if p := st.Functions["PollFunction"]; p.Invocations != 2 {
		t.Errorf("status poll: %+v", p)
	}
}

// testTemplate is a small template with short visibility timeouts, so that
// redelivery and dead-lettering happen within seconds.
const testTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Every:
    Type: String
    Default: rate(1 minute)
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Architectures: [arm64]
    Timeout: 5
    Environment:
      Variables:
        TABLE: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 3
      RedrivePolicy: {deadLetterTargetArn: !GetAtt WorkDLQ.Arn, maxReceiveCount: 3}
  WorkDLQ:
    Type: AWS::SQS::Queue
  PoisonQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 2
      RedrivePolicy: {deadLetterTargetArn: !GetAtt PoisonDLQ.Arn, maxReceiveCount: 2}
  PoisonDLQ:
    Type: AWS::SQS::Queue
  SlowQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 10
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/work/
      Environment:
        Variables:
          QUEUE_URL: !Ref WorkQueue
          QUEUE_ARN: !GetAtt WorkQueue.Arn
          JOINED: !Join ["/", [!Ref AWS::Region, !Sub "${AWS::StackName}-x"]]
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 2}
  PoisonFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/poison/
      Events:
        Poison:
          Type: SQS
          Properties:
            Queue: !GetAtt PoisonQueue.Arn
            BatchSize: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 2}
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/slow/
      Events:
        Slow:
          Type: SQS
          Properties:
            Queue: !GetAtt SlowQueue.Arn
            BatchSize: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 2}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/tick/
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: !Ref Every
`

func writeTestTemplate(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(p, []byte(testTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func send(t *testing.T, r *Runner, queue string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := r.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(r.QueueURL(queue)), MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("test")}},
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func depth(t *testing.T, r *Runner, queue string) (visible, inFlight int) {
	t.Helper()
	v, f, _, err := r.depth(context.Background(), r.QueueURL(queue))
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

// seen records every record a fake SQS handler got.
type seen struct {
	mu      sync.Mutex
	records []events.SQSMessage
}

func (s *seen) add(recs []events.SQSMessage) {
	s.mu.Lock()
	s.records = append(s.records, recs...)
	s.mu.Unlock()
}

func (s *seen) byBody() map[string][]events.SQSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]events.SQSMessage{}
	for _, r := range s.records {
		out[r.Body] = append(out[r.Body], r)
	}
	return out
}

// TestSQSBatchItemFailure: the message listed in batchItemFailures comes
// back (with ApproximateReceiveCount 2), the others are deleted at once.
func TestSQSBatchItemFailure(t *testing.T) {
	var work seen
	handlers := map[string]lambda.Handler{
		"work": lambda.NewHandler(func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			work.add(ev.Records)
			var resp events.SQSEventResponse
			for _, r := range ev.Records {
				if r.Body == "fail-once" && r.Attributes["ApproximateReceiveCount"] == "1" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
				}
			}
			return resp, nil
		}),
	}
	var workEnv func(string) string
	factory := func(name string, getenv func(string) string) (lambda.Handler, error) {
		if name == "work" {
			workEnv = getenv
		}
		return fakeFactory(handlers)(name, getenv)
	}
	r := startRunner(t, Config{TemplatePath: writeTestTemplate(t), Factory: factory, DisableSchedules: true})
	if workEnv("QUEUE_URL") != r.QueueURL("WorkQueue") || !strings.HasPrefix(workEnv("QUEUE_ARN"), "arn:aws:sqs:") ||
		workEnv("TABLE") != r.TableName("Table") || workEnv("JOINED") != r.cfg.Region+"/"+DefaultStackName+"-x" {
		t.Errorf("env: %q %q %q %q", workEnv("QUEUE_URL"), workEnv("QUEUE_ARN"), workEnv("TABLE"), workEnv("JOINED"))
	}
	send(t, r, "WorkQueue", "a", "b", "fail-once")
	eventually(t, 20*time.Second, "the failed message to come back", func() bool { return len(work.byBody()["fail-once"]) >= 2 })
	eventually(t, 10*time.Second, "the queue to empty", func() bool { v, f := depth(t, r, "WorkQueue"); return v == 0 && f == 0 })
	got := work.byBody()
	if len(got["a"]) != 1 || len(got["b"]) != 1 {
		t.Errorf("a and b delivered %d and %d times, want once", len(got["a"]), len(got["b"]))
	}
	if f := got["fail-once"]; len(f) != 2 || f[1].Attributes["ApproximateReceiveCount"] != "2" || f[0].MessageId != f[1].MessageId {
		t.Errorf("fail-once deliveries: %+v", f)
	}
	rec := got["a"][0]
	if rec.EventSource != "aws:sqs" || !strings.HasSuffix(rec.EventSourceARN, r.cfg.QueuePrefix+"WorkQueue") || rec.AWSRegion == "" ||
		rec.Attributes["SentTimestamp"] == "" || rec.Attributes["ApproximateFirstReceiveTimestamp"] == "" ||
		rec.MessageAttributes["kind"].StringValue == nil || rec.Md5OfBody == "" || rec.ReceiptHandle == "" {
		t.Errorf("record: %+v", rec)
	}
	if v, f := depth(t, r, "WorkDLQ"); v+f != 0 {
		t.Errorf("WorkDLQ holds %d messages", v+f)
	}
}

// TestSQSDeadLetter: a message whose function always fails is received
// maxReceiveCount times, then the queue's RedrivePolicy moves it to the DLQ
// (the emulator implements the redrive; the runner never deletes it).
func TestSQSDeadLetter(t *testing.T) {
	var poison seen
	handlers := map[string]lambda.Handler{
		"poison": lambda.NewHandler(func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			poison.add(ev.Records)
			return events.SQSEventResponse{}, errors.New("always fails")
		}),
	}
	r := startRunner(t, Config{TemplatePath: writeTestTemplate(t), Factory: fakeFactory(handlers), DisableSchedules: true})
	send(t, r, "PoisonQueue", "poison-pill")
	eventually(t, 30*time.Second, "the message in the DLQ", func() bool { v, _ := depth(t, r, "PoisonDLQ"); return v >= 1 })
	out, err := r.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.QueueURL("PoisonDLQ")), WaitTimeSeconds: 0})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "poison-pill" {
		t.Fatalf("DLQ: %v %+v", err, out)
	}
	if v, f := depth(t, r, "PoisonQueue"); v+f != 0 {
		t.Errorf("PoisonQueue still holds %d messages", v+f)
	}
	if n := len(poison.byBody()["poison-pill"]); n != 2 {
		t.Errorf("delivered %d times, want maxReceiveCount (2)", n)
	}
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Functions["PoisonFunction"]; p.Errors != 2 || p.Invocations != 2 {
		t.Errorf("status: %+v", p)
	}
}

// TestSQSMaximumConcurrency: at most MaximumConcurrency batches run at once.
func TestSQSMaximumConcurrency(t *testing.T) {
	var cur, peak, done atomic.Int32
	handlers := map[string]lambda.Handler{
		"slow": lambda.NewHandler(func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(400 * time.Millisecond)
			cur.Add(-1)
			done.Add(int32(len(ev.Records)))
			return events.SQSEventResponse{}, nil
		}),
	}
	r := startRunner(t, Config{TemplatePath: writeTestTemplate(t), Factory: fakeFactory(handlers), DisableSchedules: true})
	send(t, r, "SlowQueue", "1", "2", "3", "4", "5", "6")
	eventually(t, 30*time.Second, "six messages processed", func() bool { return done.Load() >= 6 })
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want MaximumConcurrency 2", p)
	}
}

// TestSchedules: a rate schedule shortened with ScheduleEvery fires
// repeatedly with a Scheduled Event.
func TestSchedules(t *testing.T) {
	var mu sync.Mutex
	var ticks []events.EventBridgeEvent
	handlers := map[string]lambda.Handler{
		"tick": lambda.NewHandler(func(ev events.EventBridgeEvent) error {
			mu.Lock()
			ticks = append(ticks, ev)
			mu.Unlock()
			return nil
		}),
	}
	start := time.Now()
	r := startRunner(t, Config{TemplatePath: writeTestTemplate(t), Factory: fakeFactory(handlers),
		ScheduleEvery: map[string]time.Duration{"Tick": 200 * time.Millisecond}})
	_ = r
	eventually(t, 10*time.Second, "three ticks", func() bool { mu.Lock(); defer mu.Unlock(); return len(ticks) >= 3 })
	mu.Lock()
	defer mu.Unlock()
	ids := map[string]bool{}
	for _, ev := range ticks {
		if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Region == "" || ev.AccountID == "" ||
			len(ev.Resources) != 1 || !strings.HasSuffix(ev.Resources[0], "rule/"+DefaultStackName+"-TickFunctionTick") ||
			ev.Time.Before(start.Truncate(time.Second)) || string(ev.Detail) != "{}" {
			t.Errorf("event: %+v", ev)
		}
		ids[ev.ID] = true
	}
	if len(ids) != len(ticks) {
		t.Errorf("event ids are not unique: %d for %d events", len(ids), len(ticks))
	}
}

// TestShutdownWaitsForInvocations: cancelling the runner's context stops
// polling but lets the running invocation finish before Wait returns.
func TestShutdownWaitsForInvocations(t *testing.T) {
	requireStack(t)
	var started, finished atomic.Bool
	handlers := map[string]lambda.Handler{
		"slow": lambda.NewHandler(func(ev events.SQSEvent) (events.SQSEventResponse, error) {
			started.Store(true)
			time.Sleep(700 * time.Millisecond)
			finished.Store(true)
			return events.SQSEventResponse{}, nil
		}),
	}
	id := randomID()
	r, err := New(Config{TemplatePath: writeTestTemplate(t), Factory: fakeFactory(handlers), DisableSchedules: true,
		HTTPAddr: "127.0.0.1:0", TableName: "t-" + id, QueuePrefix: "t" + id + "-", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	send(t, r, "SlowQueue", "x")
	eventually(t, 10*time.Second, "the invocation to start", started.Load)
	cancel()
	if err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Wait returned before the in-flight invocation finished")
	}
	if _, err := http.Get(r.URL() + "/_runner/status"); err == nil {
		t.Error("the HTTP server still answers")
	}
	var buf bytes.Buffer
	r.PrintEndpoints(&buf)
	for _, want := range []string{"sqs       SlowQueue -> SlowFunction", "schedule  TickFunction.Tick rate(1 minute)", "queue     WorkDLQ", "table     Table"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("endpoints lack %q:\n%s", want, buf.String())
		}
	}
}
