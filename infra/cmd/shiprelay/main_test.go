package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/ops"
	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

var t0 = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)

// stack is a fresh table and the template's eight queues, named as the
// local runner names them under a unique prefix.
type stack struct {
	ledger *dynamo.Ledger
	sqs    *awssqs.Client
	table  string
	prefix string
	urls   map[string]string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	client, table := testenv.DynamoDB(t)
	s := &stack{
		ledger: dynamo.New(client, table),
		sqs:    testenv.SQS(t),
		table:  table,
		prefix: testenv.UniqueName(t, "op", 50) + "-",
		urls:   map[string]string{},
	}
	ctx := context.Background()
	for _, id := range ops.QueueIDs() {
		out, err := s.sqs.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(s.prefix + id)})
		if err != nil {
			t.Fatalf("create queue %s: %v", id, err)
		}
		u := aws.ToString(out.QueueUrl)
		s.urls[id] = u
		t.Cleanup(func() {
			if _, err := s.sqs.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
				t.Errorf("delete queue %s: %v", id, err)
			}
		})
	}
	return s
}

// cli runs the CLI on the stack with -local and returns stdout, stderr and
// the exit code.
func (s *stack) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"-local", "-table", s.table, "-prefix", s.prefix}, args...)
	code := run(context.Background(), full, &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs the CLI and fails the test unless it exits 0.
func (s *stack) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := s.cli(t, args...)
	if code != exitOK {
		t.Fatalf("shiprelay %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (s *stack) queue(id string) *sqs.Queue { return &sqs.Queue{Client: s.sqs, URL: s.urls[id]} }

func (s *stack) depth(t *testing.T, id string) int {
	t.Helper()
	v, f, err := s.queue(id).Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v + f
}

// visible waits (up to 5 s) for a queue to show want visible messages and
// none in flight, and returns what it last saw. The emulator applies a
// visibility change to 0 a moment after acknowledging it.
func (s *stack) visible(t *testing.T, id string, want int) (visible, inFlight int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, f, err := s.queue(id).Depth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if (v == want && f == 0) || time.Now().After(deadline) {
			return v, f
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// drain receives every message of a queue (deleting them) and returns the
// bodies.
func (s *stack) drain(t *testing.T, id string) []string {
	t.Helper()
	q := s.queue(id)
	var bodies []string
	for {
		msgs, err := q.Receive(context.Background(), 10, time.Second, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return bodies
		}
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
			if err := q.Delete(context.Background(), m.ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	return v
}

func testOrder(t *testing.T, num string, mod time.Time) order.Order {
	t.Helper()
	id, err := order.NewID(order.BigCommerce, "bc-main", num)
	if err != nil {
		t.Fatal(err)
	}
	paid := mod.Add(-time.Hour)
	return order.Order{
		ID: id, Channel: order.BigCommerce, StoreID: "bc-main", ChannelOrderID: num, OrderNumber: num,
		Status: order.AwaitingShipment, ChannelStatus: "Awaiting Fulfillment",
		OrderDate: mod.Add(-2 * time.Hour), PaymentDate: &paid, ModifiedAt: mod,
		Currency: "USD", Total: order.MustDecimal("20"), AmountPaid: order.MustDecimal("20"),
		TaxAmount: order.MustDecimal("0"), ShippingPaid: order.MustDecimal("5"),
		BillTo:     order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		ShipGroups: []order.ShipGroup{{Key: "", ShipTo: order.Address{City: "Austin", Country: "US"}, ShippingMethod: "Ground", ShippingCost: order.MustDecimal("5")}},
		Items:      []order.Item{{LineID: "1", SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: order.MustDecimal("15")}},
	}
}

func TestExceptionsNewestFirst(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	for i, op := range []string{"ingest", "push", "notify"} {
		e := ledger.Exception{ID: "x" + fmt.Sprint(i), StoreID: "bc-main", Kind: "invalid", Op: op,
			Message: "rejected\tby the\nchannel " + op, At: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.ledger.RecordException(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	text := s.ok(t, "exceptions")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("text listing:\n%s", text)
	}
	for i, want := range []string{"x2", "x1", "x0"} {
		if f := strings.Fields(lines[i+1]); f[1] != want || !strings.HasSuffix(lines[i+1], "rejected by the channel "+f[3]) {
			t.Errorf("line %d = %q, want exception %s with its message on one line", i+1, lines[i+1], want)
		}
	}
	es := decode[[]ledger.Exception](t, s.ok(t, "exceptions", "-json", "-limit", "2"))
	if len(es) != 2 || es[0].ID != "x2" || es[1].ID != "x1" || es[0].Op != "notify" || !es[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("-json -limit 2 = %+v", es)
	}
}

func TestDLQListAndReplay(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var sent []string
	for i := range 3 {
		b, _ := json.Marshal(queue.Push{OrderID: order.ID(fmt.Sprintf("bigcommerce:bc-main:%d", 100+i)), Version: t0})
		sent = append(sent, string(b))
		if err := s.queue("PushDLQ").Send(ctx, queue.Message{Body: b, Attributes: map[string]string{"origin": "test"}}); err != nil {
			t.Fatal(err)
		}
	}

	sts := decode[[]ops.DLQStatus](t, s.ok(t, "dlq", "-json"))
	if len(sts) != len(ops.Redrives) {
		t.Fatalf("dlq listed %d queues, want %d: %+v", len(sts), len(ops.Redrives), sts)
	}
	for _, st := range sts {
		want := 0
		if st.Queue == "PushDLQ" {
			want = 3
		}
		if st.Visible != want || len(st.Messages) != want {
			t.Errorf("%s: visible %d, %d messages; want %d", st.Queue, st.Visible, len(st.Messages), want)
		}
		if st.Queue == "PushDLQ" {
			var bodies []string
			for _, m := range st.Messages {
				bodies = append(bodies, m.Body)
				if m.ID == "" || m.ReceiveCount < 1 || m.Sent.IsZero() {
					t.Errorf("message %+v", m)
				}
			}
			if slices.Sort(bodies); !slices.Equal(bodies, sent) {
				t.Errorf("bodies %q, want %q", bodies, sent)
			}
		}
	}
	if text := s.ok(t, "dlq", "-n", "1"); !strings.Contains(text, "PushDLQ, first 1:") || !strings.Contains(text, "bigcommerce:bc-main:10") {
		t.Errorf("text listing:\n%s", text)
	}
	// Listing moves nothing and leaves the messages visible.
	if v, f := s.visible(t, "PushDLQ", 3); v != 3 || f != 0 {
		t.Fatalf("after listing: PushDLQ visible %d in flight %d, want 3/0", v, f)
	}

	dry := decode[ops.DLQReplay](t, s.ok(t, "replay", "dlq", "PushDLQ", "-dry-run", "-json"))
	if !dry.DryRun || dry.Moved != 0 || len(dry.Messages) != 3 || dry.Source != "PushQueue" {
		t.Errorf("dry run = %+v", dry)
	}
	if v, f := s.visible(t, "PushDLQ", 3); v != 3 || f != 0 || s.depth(t, "PushQueue") != 0 {
		t.Fatalf("dry run moved messages: PushDLQ %d/%d, PushQueue %d", v, f, s.depth(t, "PushQueue"))
	}

	if text := s.ok(t, "replay", "dlq", "PushDLQ", "-max", "2"); !strings.HasPrefix(text, "moved 2 messages from PushDLQ to PushQueue") {
		t.Errorf("replay -max 2:\n%s", text)
	}
	if d, q := s.depth(t, "PushDLQ"), s.depth(t, "PushQueue"); d != 1 || q != 2 {
		t.Errorf("after -max 2: PushDLQ %d, PushQueue %d; want 1, 2", d, q)
	}
	res := decode[ops.DLQReplay](t, s.ok(t, "-json", "replay", "dlq", "pushdlq"))
	if res.Moved != 1 {
		t.Errorf("replay rest = %+v", res)
	}
	if d := s.depth(t, "PushDLQ"); d != 0 {
		t.Errorf("PushDLQ still holds %d", d)
	}
	msgs, err := s.queue("PushQueue").Receive(ctx, 10, time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, m.Body)
		if a := m.MessageAttributes["origin"]; a.StringValue == nil || *a.StringValue != "test" {
			t.Errorf("message attributes not kept: %+v", m.MessageAttributes)
		}
	}
	if slices.Sort(bodies); !slices.Equal(bodies, sent) {
		t.Errorf("PushQueue bodies %q, want %q", bodies, sent)
	}

	if _, errOut, code := s.cli(t, "replay", "dlq", "PushQueue"); code != exitUsage {
		t.Errorf("replay from a source queue: exit %d (%s), want usage", code, errOut)
	}
}

func TestReplayException(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	// An order whose push was rejected: in exception, not in ShipStation.
	o := testOrder(t, "100", t0)
	if _, _, err := s.ledger.Upsert(ctx, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	pushExc := ledger.Exception{ID: "push:" + string(o.ID), OrderID: o.ID, StoreID: "bc-main", Kind: "invalid", Op: "push", Message: "ShipStation rejected it", At: t0.Add(time.Minute)}
	if err := s.ledger.RecordException(ctx, pushExc); err != nil {
		t.Fatal(err)
	}

	res := decode[ops.ExceptionReplay](t, s.ok(t, "replay", "exception", pushExc.ID, "-json"))
	if res.Action != ops.ActionPushed || res.StateBefore != ledger.StateException || res.StateAfter != ledger.StatePending {
		t.Errorf("replay = %+v", res)
	}
	rec, err := s.ledger.Get(ctx, o.ID)
	if err != nil || rec.State != ledger.StatePending {
		t.Fatalf("order state %s (%v), want pending", rec.State, err)
	}
	hist, err := s.ledger.History(ctx, o.ID)
	if err != nil || hist[len(hist)-1].Kind != ops.EventReplayed || !strings.Contains(hist[len(hist)-1].Message, "replayed by operator") {
		t.Errorf("history %+v (%v)", hist, err)
	}
	bodies := s.drain(t, "PushQueue")
	if len(bodies) != 1 {
		t.Fatalf("PushQueue holds %d messages, want exactly 1: %q", len(bodies), bodies)
	}
	if p := decode[queue.Push](t, bodies[0]); p.OrderID != o.ID || !p.Version.Equal(t0) {
		t.Errorf("push message %+v", p)
	}

	// An order in ShipStation at its version whose later confirmation failed:
	// back to pushed, nothing queued.
	o2 := testOrder(t, "101", t0)
	if _, _, err := s.ledger.Upsert(ctx, o2, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ledger.MarkPushed(ctx, o2.ID, ledger.Push{Group: "", OrderKey: "k101", ShipStationOrderID: 9, Account: "main", Version: t0, Status: o2.Status, At: t0}, t0); err != nil {
		t.Fatal(err)
	}
	notifyExc := ledger.Exception{ID: "notify:n1", OrderID: o2.ID, StoreID: "bc-main", Kind: "invalid", Op: "notify", Message: "channel rejected the shipment", At: t0.Add(2 * time.Minute)}
	if err := s.ledger.RecordException(ctx, notifyExc); err != nil {
		t.Fatal(err)
	}
	text := s.ok(t, "replay", "exception", notifyExc.ID)
	if !strings.Contains(text, "exception -> pushed") || !strings.Contains(text, "no push queued") {
		t.Errorf("replay of a post-push exception:\n%s", text)
	}
	if rec, _ := s.ledger.Get(ctx, o2.ID); rec.State != ledger.StatePushed {
		t.Errorf("order 101 is %s, want pushed", rec.State)
	}

	// A store exception names no order: nothing to re-drive.
	storeExc := ledger.Exception{ID: "store:x", StoreID: "bc-main", Kind: "unauthorised", Op: "notify", Message: "token revoked", At: t0.Add(3 * time.Minute)}
	if err := s.ledger.RecordException(ctx, storeExc); err != nil {
		t.Fatal(err)
	}
	if text := s.ok(t, "replay", "exception", storeExc.ID); !strings.Contains(text, "nothing done") || !strings.Contains(text, "stores resume bc-main") {
		t.Errorf("replay of a store exception:\n%s", text)
	}
	if n := len(s.drain(t, "PushQueue")); n != 0 {
		t.Errorf("%d more push messages queued, want none", n)
	}
	if _, _, code := s.cli(t, "replay", "exception", "no-such-id"); code != exitError {
		t.Errorf("unknown exception: exit %d, want 1", code)
	}
}

func TestStoresResume(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	if first, err := s.ledger.PauseStore(ctx, "bc-main", "re-authorisation required: 401", t0); err != nil || !first {
		t.Fatalf("pause: %v %v", first, err)
	}
	conf := filepath.Join(t.TempDir(), "config.yaml")
	yaml := `shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: bc-main
    channel: bigcommerce
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123xyz
    shipstation:
      account: main
      storeId: 22766
`
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	sts := decode[[]ledger.StoreStatus](t, s.ok(t, "stores", "-config", conf, "-store", "bc-other", "-json"))
	if len(sts) != 2 || sts[0].StoreID != "bc-main" || !sts[0].Paused || !sts[0].PausedAt.Equal(t0) || sts[1].Paused {
		t.Errorf("stores = %+v", sts)
	}
	if text := s.ok(t, "stores", "-paused", "-store", "bc-main", "-store", "bc-other"); !strings.Contains(text, "bc-main") || strings.Contains(text, "bc-other") {
		t.Errorf("stores -paused:\n%s", text)
	}
	if text := s.ok(t, "stores", "resume", "bc-main"); !strings.Contains(text, "store bc-main resumed") {
		t.Errorf("resume:\n%s", text)
	}
	if st, err := s.ledger.StoreStatus(ctx, "bc-main"); err != nil || st.Paused {
		t.Errorf("after resume: %+v %v", st, err)
	}
	if text := s.ok(t, "stores", "resume", "bc-main"); !strings.Contains(text, "was not paused") {
		t.Errorf("second resume:\n%s", text)
	}
	if _, _, code := s.cli(t, "stores"); code != exitUsage {
		t.Errorf("stores without ids: exit %d, want 2", code)
	}
}

func TestStoresReimport(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	conf := filepath.Join(t.TempDir(), "config.yaml")
	yaml := `shipstation:
  - {id: main, credentialsSecret: ss}
stores:
  - id: amz-us
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: A3TH9S8BH6GOGM, marketplaceId: ATVPDKIKX0DER}
    shipstation: {account: main}
`
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	key := poll.WatermarkKey(order.Amazon, "amz-us")
	if err := s.ledger.SetWatermark(ctx, key, t0); err != nil {
		t.Fatal(err)
	}
	text := s.ok(t, "stores", "reimport", "amz-us", "-config", conf, "-from", "2026-10-01")
	if !strings.Contains(text, "amz-us (amazon) will re-import orders changed since 2026-10-01") {
		t.Errorf("reimport:\n%s", text)
	}
	if wm, err := s.ledger.Watermark(ctx, key); err != nil || !wm.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("watermark after reimport = %v, %v", wm, err)
	}
	if _, _, code := s.cli(t, "stores", "reimport", "amz-us", "-config", conf, "-from", "last week"); code != exitUsage {
		t.Errorf("bad date: exit %d, want 2", code)
	}
	if _, _, code := s.cli(t, "stores", "reimport", "nope", "-config", conf, "-from", "2026-10-01"); code != exitError {
		t.Errorf("unknown store: exit %d, want 1", code)
	}
}

// TestUsage needs no stack: bad command lines exit 2, help exits 0.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, exitOK},
		{[]string{"help"}, exitOK},
		{[]string{"replay", "-h"}, exitOK},
		{nil, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"exceptions"}, exitUsage}, // no target
		{[]string{"-local", "-stack", "s", "exceptions"}, exitUsage},
		{[]string{"-queue", "PushDLQ=http://x", "dlq"}, exitUsage}, // -queue without -table
		{[]string{"-table", "t", "-prefix", "p-", "dlq"}, exitUsage},
		{[]string{"-table", "t", "exceptions", "-limit", "x"}, exitUsage},
		{[]string{"-table", "t", "replay", "dlq"}, exitUsage},
		{[]string{"-table", "t", "replay", "dlq", "NoSuchDLQ"}, exitUsage},
		{[]string{"-table", "t", "replay", "exception", "x", "-dry-run"}, exitUsage},
		{[]string{"-table", "t", "stores", "pause", "x"}, exitUsage},
		{[]string{"-queue", "bad", "dlq"}, exitUsage},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tc.args, &out, &errb); code != tc.code {
			t.Errorf("shiprelay %q: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errb.String())
		}
	}
}
