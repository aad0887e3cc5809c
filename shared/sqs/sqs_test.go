package sqs_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func newQueue(t *testing.T, attrs map[string]string) *sqs.Queue {
	return &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "work", attrs)}
}

// drain receives until want messages arrived or a receive comes back empty.
func drain(t *testing.T, q *sqs.Queue, want int, visibility time.Duration) []events.SQSMessage {
	t.Helper()
	var out []events.SQSMessage
	for len(out) < want {
		msgs, err := q.Receive(ctx(t), 10, time.Second, visibility)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		out = append(out, msgs...)
	}
	return out
}

// depthSettles polls Depth for up to a second until it reads want.
func depthSettles(t *testing.T, q *sqs.Queue, wantVisible, wantInFlight int) (int, int, error) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		vis, inflight, err := q.Depth(ctx(t))
		if err != nil || (vis == wantVisible && inflight == wantInFlight) || time.Now().After(deadline) {
			return vis, inflight, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	q := newQueue(t, nil)
	c := ctx(t)
	var msgs []queue.Message
	for i := 0; i < 25; i++ {
		msgs = append(msgs, queue.Message{Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), Attributes: map[string]string{"kind": "push", "n": strconv.Itoa(i)}})
	}
	if err := q.Send(c, msgs...); err != nil {
		t.Fatal(err)
	}
	// The counts are approximate (in SQS and, for a moment, in the emulator).
	if vis, inflight, err := depthSettles(t, q, 25, 0); err != nil || vis != 25 || inflight != 0 {
		t.Errorf("depth after send = %d visible, %d in flight, %v", vis, inflight, err)
	}
	got := drain(t, q, 25, time.Minute)
	if len(got) != 25 {
		t.Fatalf("received %d messages, want 25", len(got))
	}
	arn, err := q.QueueARN(c)
	if err != nil || !strings.HasPrefix(arn, "arn:aws:sqs:us-east-1:") {
		t.Fatalf("QueueARN = %q, %v", arn, err)
	}
	var bodies []string
	var handles []string
	for _, m := range got {
		bodies = append(bodies, m.Body)
		handles = append(handles, m.ReceiptHandle)
		if m.MessageId == "" || m.ReceiptHandle == "" || m.Md5OfBody == "" {
			t.Errorf("message lacks id, handle or md5: %+v", m)
		}
		if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SentTimestamp"] == "" {
			t.Errorf("system attributes = %v", m.Attributes)
		}
		n := m.MessageAttributes["n"]
		if m.MessageAttributes["kind"].DataType != "String" || n.StringValue == nil || m.Body != fmt.Sprintf(`{"n":%s}`, *n.StringValue) {
			t.Errorf("message attributes = %+v for %s", m.MessageAttributes, m.Body)
		}
		if m.EventSource != "aws:sqs" || m.EventSourceARN != arn || m.AWSRegion != "us-east-1" {
			t.Errorf("event source = %q %q %q, want aws:sqs %q us-east-1", m.EventSource, m.EventSourceARN, m.AWSRegion, arn)
		}
	}
	sort.Strings(bodies)
	for i := 1; i < len(bodies); i++ {
		if bodies[i] == bodies[i-1] {
			t.Errorf("message %s received twice", bodies[i])
		}
	}
	if vis, inflight, err := depthSettles(t, q, 0, 25); err != nil || vis != 0 || inflight != 25 {
		t.Errorf("depth while received = %d visible, %d in flight, %v", vis, inflight, err)
	}
	if err := q.Delete(c, handles...); err != nil {
		t.Fatal(err)
	}
	if vis, inflight, err := depthSettles(t, q, 0, 0); err != nil || vis != 0 || inflight != 0 {
		t.Errorf("depth after delete = %d visible, %d in flight, %v", vis, inflight, err)
	}
	if err := q.Delete(c, "not-a-receipt-handle"); !errs.Is(err, errs.Invalid) {
		t.Errorf("delete with a bogus handle: %v", err)
	}
}

func TestSendSplitsLargeBatches(t *testing.T) {
	q := newQueue(t, nil)
	c := ctx(t)
	big := strings.Repeat("y", 60*1024) // 5 of these exceed one 256 KiB batch
	var msgs []queue.Message
	for i := 0; i < 12; i++ {
		msgs = append(msgs, queue.Message{Body: []byte(fmt.Sprint(i, big))})
	}
	if err := q.Send(c, msgs...); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, q, 12, time.Minute); len(got) != 12 {
		t.Errorf("received %d of 12 large messages", len(got))
	}
}

func TestDelayedMessage(t *testing.T) {
	q := newQueue(t, nil)
	c := ctx(t)
	if err := q.Send(c, queue.Message{Body: []byte("later"), Delay: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if msgs, err := q.Receive(c, 10, 0, 0); err != nil || len(msgs) != 0 {
		t.Fatalf("delayed message visible at once: %d, %v", len(msgs), err)
	}
	msgs, err := q.Receive(c, 10, 5*time.Second, 0)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "later" {
		t.Fatalf("delayed message: %+v, %v", msgs, err)
	}
}

// TestLongPollReturnsOnArrival checks SQS long-poll semantics (which the
// local emulator needs a patch for): a receive waiting up to 10 s returns
// the message that arrives during the wait, not at the end of it.
func TestLongPollReturnsOnArrival(t *testing.T) {
	q := newQueue(t, nil)
	c := ctx(t)
	go func() {
		time.Sleep(200 * time.Millisecond)
		if err := q.Send(c, queue.Message{Body: []byte("soon")}); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	msgs, err := q.Receive(c, 10, 10*time.Second, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d messages, %v", len(msgs), err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("long poll held the message for %v", waited)
	}
}

func TestChangeVisibility(t *testing.T) {
	q := newQueue(t, map[string]string{"VisibilityTimeout": "30"})
	c := ctx(t)
	if err := q.Send(c, queue.Message{Body: []byte("retry me")}); err != nil {
		t.Fatal(err)
	}
	first := drain(t, q, 1, 0)
	if len(first) != 1 {
		t.Fatalf("received %d", len(first))
	}
	if msgs, _ := q.Receive(c, 10, 0, 0); len(msgs) != 0 {
		t.Fatal("message visible while in flight")
	}
	if err := q.ChangeVisibility(c, first[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	again := drain(t, q, 1, 0)
	if len(again) != 1 || again[0].MessageId != first[0].MessageId || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after visibility 0: %+v", again)
	}
	// A timeout over 12 h is cut to the maximum, not rejected.
	if err := q.ChangeVisibility(c, again[0].ReceiptHandle, 48*time.Hour); err != nil {
		t.Errorf("visibility 48h: %v", err)
	}
	if msgs, _ := q.Receive(c, 10, 0, 0); len(msgs) != 0 {
		t.Error("message visible after a 12 h visibility")
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	client := testenv.SQS(t)
	dlq := &sqs.Queue{Client: client, URL: testenv.Queue(t, "dlq", nil)}
	c := ctx(t)
	dlqARN, err := dlq.QueueARN(c)
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, map[string]string{
		"VisibilityTimeout": "30",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN),
	})
	if err := q.Send(c, queue.Message{Body: []byte("poison")}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		msgs := drain(t, q, 1, 0)
		if len(msgs) != 1 || msgs[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: %+v", i, msgs)
		}
		if err := q.ChangeVisibility(c, msgs[0].ReceiptHandle, 0); err != nil {
			t.Fatal(err)
		}
	}
	if msgs, err := q.Receive(c, 10, time.Second, 0); err != nil || len(msgs) != 0 {
		t.Fatalf("third receive from the source queue: %+v, %v", msgs, err)
	}
	dead := drain(t, dlq, 1, 0)
	if len(dead) != 1 || dead[0].Body != "poison" {
		t.Fatalf("dead-letter queue holds %+v", dead)
	}
}

func TestMissingQueueIsAnError(t *testing.T) {
	down := awssqs.NewFromConfig(testenv.AWSConfig(t), func(o *awssqs.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1") // nothing listens there
		o.RetryMaxAttempts = 1
	})
	q := &sqs.Queue{Client: down, URL: "http://127.0.0.1:1/000000000000/none"}
	c := ctx(t)
	if err := q.Send(c, queue.Message{Body: []byte("x")}); err == nil || errs.KindOf(err) != errs.Transient {
		t.Errorf("send to an unreachable endpoint: %v (kind %v), want transient", err, errs.KindOf(err))
	}
	q = newQueue(t, nil)
	q.URL += "-gone"
	if err := q.Send(c, queue.Message{Body: []byte("x")}); err == nil {
		t.Error("send to a missing queue succeeded")
	}
}
