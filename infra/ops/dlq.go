package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

const (
	// peekHide is how long a peeked message is hidden before it is made
	// visible again (it reappears by itself if the CLI dies meanwhile).
	peekHide = 30 * time.Second
	// moveHide is how long a message being moved stays hidden in its DLQ.
	moveHide = 2 * time.Minute
	// pollWait is the long-poll wait of each receive: long enough that SQS
	// answers from all its servers, so an empty answer means an empty queue.
	pollWait = time.Second
)

// Message is a dead letter as the CLI shows it. Bodies carry ids only (the
// queue messages of package queue hold no buyer data).
type Message struct {
	ID string `json:"id"`
	// ReceiveCount is SQS's ApproximateReceiveCount; a listing's own
	// receive is counted too.
	ReceiveCount  int       `json:"receiveCount"`
	FirstReceived time.Time `json:"firstReceived,omitzero"`
	Sent          time.Time `json:"sent,omitzero"`
	Body          string    `json:"body"`
}

// DLQStatus is one dead-letter queue: its depth and its first messages.
type DLQStatus struct {
	Queue    string    `json:"queue"`
	Source   string    `json:"source"`
	URL      string    `json:"url"`
	Visible  int       `json:"visible"`
	InFlight int       `json:"inFlight"`
	Messages []Message `json:"messages"`
}

// DLQs reports every dead-letter queue of the target: depth and up to peek
// messages each (peek 0: depth only). Peeking receives the messages and
// makes them visible again at once; it moves nothing.
func (t *Target) DLQs(ctx context.Context, peek int) ([]DLQStatus, error) {
	var out []DLQStatus
	for _, r := range Redrives {
		if t.Queues[r.DLQ] == "" {
			continue
		}
		q, err := t.Queue(r.DLQ)
		if err != nil {
			return nil, err
		}
		st := DLQStatus{Queue: r.DLQ, Source: r.Source, URL: q.URL, Messages: []Message{}}
		if st.Visible, st.InFlight, err = q.Depth(ctx); err != nil {
			return nil, err
		}
		if peek > 0 && st.Visible > 0 {
			if st.Messages, err = Peek(ctx, q, peek); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dead-letter queue on this target (known queues: %v)", t.knownQueues())
	}
	return out, nil
}

// Peek receives up to n messages of q (n <= 0: all) and makes each visible
// again, so it moves nothing (each peek counts as a receive in SQS).
func Peek(ctx context.Context, q *sqs.Queue, n int) ([]Message, error) {
	var out []Message
	var handles []string
	defer func() {
		release(context.WithoutCancel(ctx), q, handles)
	}()
	for n <= 0 || len(out) < n {
		want := sqs.MaxBatch
		if n > 0 {
			want = min(want, n-len(out))
		}
		msgs, err := q.Receive(ctx, want, pollWait, peekHide)
		if err != nil {
			return out, err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			handles = append(handles, m.ReceiptHandle)
			out = append(out, toMessage(m))
		}
	}
	return out, nil
}

// release makes received messages visible again.
func release(ctx context.Context, q *sqs.Queue, handles []string) {
	for _, h := range handles {
		_ = q.ChangeVisibility(ctx, h, 0) // a failure only delays the message by peekHide
	}
}

func toMessage(m events.SQSMessage) Message {
	msg := Message{ID: m.MessageId, Body: m.Body}
	msg.ReceiveCount, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	msg.FirstReceived = epochMillis(m.Attributes["ApproximateFirstReceiveTimestamp"])
	msg.Sent = epochMillis(m.Attributes["SentTimestamp"])
	return msg
}

func epochMillis(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// DLQReplay says what ReplayDLQ did.
type DLQReplay struct {
	DLQ    string `json:"dlq"`
	Source string `json:"source"`
	DryRun bool   `json:"dryRun"`
	// Moved counts the messages sent to the source queue and deleted from
	// the DLQ (0 in a dry run).
	Moved int `json:"moved"`
	// NotDeleted counts messages sent to the source queue whose delete from
	// the DLQ failed: they reappear in the DLQ and a later replay sends them
	// again (a duplicate the idempotent consumers absorb).
	NotDeleted int `json:"notDeleted,omitempty"`
	// Messages are the messages moved (or, in a dry run, that would be).
	Messages []Message `json:"messages"`
}

// ReplayDLQ moves up to limit messages (limit <= 0: until the DLQ is empty)
// from a dead-letter queue back to its source queue, per the template's
// redrive pairs. Each batch is sent to the source first and deleted from the
// DLQ after, so a message is never lost but can arrive twice (a crash
// between the two steps): every consumer is idempotent. With dryRun it only
// peeks at the messages it would move.
func (t *Target) ReplayDLQ(ctx context.Context, dlq string, limit int, dryRun bool) (DLQReplay, error) {
	r, ok := LookupDLQ(dlq)
	if !ok {
		return DLQReplay{}, fmt.Errorf("%q is not a dead-letter queue (one of %v)", dlq, dlqNames())
	}
	res := DLQReplay{DLQ: r.DLQ, Source: r.Source, DryRun: dryRun, Messages: []Message{}}
	from, err := t.Queue(r.DLQ)
	if err != nil {
		return res, err
	}
	to, err := t.Queue(r.Source)
	if err != nil {
		return res, err
	}
	if dryRun {
		msgs, err := Peek(ctx, from, limit)
		res.Messages = append(res.Messages, msgs...)
		return res, err
	}
	for limit <= 0 || res.Moved < limit {
		want := sqs.MaxBatch
		if limit > 0 {
			want = min(want, limit-res.Moved)
		}
		msgs, err := from.Receive(ctx, want, pollWait, moveHide)
		if err != nil {
			return res, err
		}
		if len(msgs) == 0 {
			break
		}
		out := make([]queue.Message, len(msgs))
		handles := make([]string, len(msgs))
		for i, m := range msgs {
			out[i] = queue.Message{Body: []byte(m.Body), Attributes: stringAttributes(m)}
			handles[i] = m.ReceiptHandle
		}
		if err := to.Send(ctx, out...); err != nil {
			// None counts as sent: leave them all in the DLQ.
			release(context.WithoutCancel(ctx), from, handles)
			return res, fmt.Errorf("send to %s: %w", r.Source, err)
		}
		if err := from.Delete(ctx, handles...); err != nil {
			res.NotDeleted += len(msgs)
			return res, fmt.Errorf("sent %d messages to %s but could not delete them from %s "+
				"(they will be replayed again; the consumers are idempotent): %w", len(msgs), r.Source, r.DLQ, err)
		}
		res.Moved += len(msgs)
		for _, m := range msgs {
			res.Messages = append(res.Messages, toMessage(m))
		}
	}
	return res, nil
}

// stringAttributes keeps a message's string message attributes.
func stringAttributes(m events.SQSMessage) map[string]string {
	var out map[string]string
	for k, v := range m.MessageAttributes {
		if v.StringValue == nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = *v.StringValue
	}
	return out
}

func dlqNames() []string {
	names := make([]string, len(Redrives))
	for i, r := range Redrives {
		names[i] = r.DLQ
	}
	return names
}

func jsonBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errors.New("encode message: " + err.Error())
	}
	return b, nil
}
