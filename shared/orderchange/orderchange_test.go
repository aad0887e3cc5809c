package orderchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/orderchange"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const cfgYAML = `
shipstation:
  - {id: main, credentialsSecret: ss}
stores:
  - id: amz-us
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: SELLER, marketplaceId: ATVPDKIKX0DER, importFBA: true}
    shipstation: {account: main}
  - id: amz-jp
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: SELLER, marketplaceId: A1VC38T7YXB528}
    shipstation: {account: main}
`

type env struct {
	t      *testing.T
	amz    *sandbox.Amazon
	ledger *dynamo.Ledger
	ingest *sqs.Queue
	svc    *orderchange.Service
	logs   *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(cfgYAML, "SELLER", sandbox.DefaultAmazonSellerID)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	e := &env{
		t: t, amz: sandbox.NewAmazon(sandbox.AmazonOptions{Seed: 7}), ledger: dynamo.New(client, table),
		ingest: &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "ingest", nil)},
		logs:   &bytes.Buffer{},
	}
	e.svc = &orderchange.Service{Config: cfg, Ledger: e.ledger, Ingest: e.ingest, Log: obs.NewLogger(e.logs, "DEBUG")}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// changes returns the ORDER_CHANGE bodies the sandbox queued since the last call.
func (e *env) changes() [][]byte {
	return e.amz.DrainOrderChanges()
}

// ingested drains the ingest queue.
func (e *env) ingested() []queue.Ingest {
	e.t.Helper()
	var out []queue.Ingest
	for {
		msgs, err := e.ingest.Receive(ctx(e.t), 10, 0, time.Minute)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			var in queue.Ingest
			if err := json.Unmarshal([]byte(m.Body), &in); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, in)
			if err := e.ingest.Delete(ctx(e.t), m.ReceiptHandle); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

func (e *env) process(body []byte) orderchange.Outcome {
	e.t.Helper()
	out, err := e.svc.Process(ctx(e.t), body, "m-"+strings.Repeat("1", 4))
	if err != nil {
		e.t.Fatalf("Process: %v", err)
	}
	return out
}

func TestForwardsAnImportableChangeOnceWithItsChangeTime(t *testing.T) {
	e := newEnv(t)
	o := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true, Prime: true})
	bodies := e.changes()
	if len(bodies) != 1 {
		t.Fatalf("%d notifications, want 1", len(bodies))
	}
	if got := e.process(bodies[0]); got != orderchange.Forwarded {
		t.Fatalf("first delivery: %s", got)
	}
	// The same delivery again (at-least-once) is a duplicate.
	if got := e.process(bodies[0]); got != orderchange.Duplicate {
		t.Fatalf("redelivery: %s", got)
	}
	in := e.ingested()
	if len(in) != 1 {
		t.Fatalf("%d ingest messages, want 1: %+v", len(in), in)
	}
	m := in[0]
	if m.Channel != order.Amazon || m.StoreID != "amz-us" || m.ChannelOrderID != o.OrderID || m.Source != "notification" {
		t.Errorf("ingest message %+v", m)
	}
	if !m.ModifiedAt.Equal(o.LastUpdated.Truncate(time.Millisecond)) {
		t.Errorf("ModifiedAt %v, want the order's change time %v", m.ModifiedAt, o.LastUpdated)
	}
}

func TestRoutesByMarketplaceAndIgnoresWhatCannotImport(t *testing.T) {
	e := newEnv(t)
	jp := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Japan: true, Unshipped: true})
	pending := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{})
	fbaJP := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{FBA: true, Japan: true})
	fbaUS := e.amz.GenerateOrder(sandbox.AmazonOrderSpec{FBA: true})
	bodies := e.changes()
	if len(bodies) != 4 {
		t.Fatalf("%d notifications, want 4", len(bodies))
	}
	want := []orderchange.Outcome{orderchange.Forwarded, orderchange.Ignored, orderchange.Ignored, orderchange.Forwarded}
	for i, b := range bodies {
		if got := e.process(b); got != want[i] {
			t.Errorf("notification %d: %s, want %s", i, got, want[i])
		}
	}
	got := map[string]string{}
	for _, m := range e.ingested() {
		got[m.ChannelOrderID] = m.StoreID
	}
	if len(got) != 2 || got[jp.OrderID] != "amz-jp" || got[fbaUS.OrderID] != "amz-us" {
		t.Errorf("forwarded %v; want the JP order to amz-jp and the US FBA order to amz-us (importFBA on)", got)
	}
	if _, ok := got[pending.OrderID]; ok {
		t.Error("a pending order was forwarded")
	}
	if _, ok := got[fbaJP.OrderID]; ok {
		t.Error("an FBA order of a store not importing FBA was forwarded")
	}
	// Pending → unshipped is forwarded.
	if err := e.amz.MarkUnshipped(pending.OrderID); err != nil {
		t.Fatal(err)
	}
	for _, b := range e.changes() {
		if got := e.process(b); got != orderchange.Forwarded {
			t.Errorf("unshipped: %s", got)
		}
	}
}

func TestUnknownSellerOrMarketplaceIsIgnored(t *testing.T) {
	e := newEnv(t)
	e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	b := e.changes()[0]
	other := bytes.Replace(b, []byte(sandbox.DefaultAmazonSellerID), []byte("A9OTHERSELLER"), 1)
	if got := e.process(other); got != orderchange.Ignored {
		t.Errorf("another seller's notification: %s", got)
	}
	uk := bytes.Replace(b, []byte(`"MarketplaceId":"ATVPDKIKX0DER"`), []byte(`"MarketplaceId":"A1F83G8C2ARO7P"`), 1)
	if bytes.Equal(uk, b) {
		t.Fatal("marketplace not found in the body")
	}
	if got := e.process(uk); got != orderchange.Ignored {
		t.Errorf("unconfigured marketplace: %s", got)
	}
	if n := len(e.ingested()); n != 0 {
		t.Errorf("%d ingest messages", n)
	}
}

func TestInvalidNotificationBecomesOneException(t *testing.T) {
	e := newEnv(t)
	for _, body := range [][]byte{[]byte(`{"NotificationType":"ORDER_CHANGE"`), []byte(`{"NotificationType":"ORDER_CHANGE"`)} {
		out, err := e.svc.Process(ctx(t), body, "msg-42")
		if err != nil || out != orderchange.Rejected {
			t.Fatalf("Process = %s, %v", out, err)
		}
	}
	exs, _, err := e.ledger.Exceptions(ctx(t), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1 || exs[0].Kind != errs.Invalid.String() || !strings.Contains(exs[0].Message, "decode") {
		t.Fatalf("exceptions %+v, want one invalid record naming the problem", exs)
	}
}

// failing fails every send.
type failing struct{}

func (failing) Send(context.Context, ...queue.Message) error {
	return errs.E(errs.Transient, "test.send", errors.New("queue unavailable"))
}

func TestFailedEnqueueReleasesTheClaim(t *testing.T) {
	e := newEnv(t)
	e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	b := e.changes()[0]
	real := e.svc.Ingest
	e.svc.Ingest = failing{}
	if _, err := e.svc.Process(ctx(t), b, "m1"); err == nil || !errs.Retryable(err) {
		t.Fatalf("Process with a failing queue = %v, want a retryable error", err)
	}
	e.svc.Ingest = real
	// The redelivery is accepted, not taken for a duplicate.
	if got := e.process(b); got != orderchange.Forwarded {
		t.Fatalf("redelivery after a failed enqueue: %s", got)
	}
	if n := len(e.ingested()); n != 1 {
		t.Errorf("%d ingest messages, want 1", n)
	}
}

func TestHandleReportsOnlyFailedRecords(t *testing.T) {
	e := newEnv(t)
	e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	e.amz.GenerateOrder(sandbox.AmazonOrderSpec{Unshipped: true})
	bs := e.changes()
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "a", Body: string(bs[0])},
		{MessageId: "b", Body: "not json"},
		{MessageId: "c", Body: string(bs[1])},
	}}
	resp, err := e.svc.Handle(ctx(t), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; the invalid record is an exception, not a failure", resp, err)
	}
	if n := len(e.ingested()); n != 2 {
		t.Errorf("%d ingest messages, want 2", n)
	}
	if strings.Contains(e.logs.String(), "Buyer ") || strings.Contains(e.logs.String(), "@marketplace.amazon.com") {
		t.Error("buyer data in the logs")
	}
}
