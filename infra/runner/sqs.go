package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// The event source mapping talks to SQS through the SDK directly rather
// than shared/sqs: it needs Lambda's poller semantics (batching window,
// receipt-handle bookkeeping, partial deletes) and two quirks of the
// local-aws-sqs emulator: it honours only the deprecated AttributeNames
// field, and a long poll that outlives a message's visibility timeout can
// return that message twice (collect keeps one copy). The emulator applies
// the queues' RedrivePolicy itself (TestSQSDeadLetter checks it).

// mapping is an SQS event source mapping.
type mapping struct {
	fn             *function
	event          string
	queueID        string
	queue          *localQueue
	batchSize      int
	window         time.Duration
	maxConcurrency int
	reportFailures bool
}

func (r *Runner) newMapping(fn *function, ev samtemplate.Event, res samtemplate.Resolver) (*mapping, error) {
	s := ev.SQS
	if s.Enabled.IsSet() {
		on, err := s.Enabled.String(res)
		if err != nil {
			return nil, fmt.Errorf("property Enabled: %w", err)
		}
		if on == "false" {
			r.log.Info("event source mapping disabled", "function", fn.fn.LogicalID, "event", ev.Name)
			return nil, nil
		}
	}
	if _, ok := r.queues[s.QueueLogicalID]; !ok {
		return nil, errors.New("property Queue does not name a queue of the template")
	}
	batch, err := s.BatchSize.IntOr(res, 10)
	if err != nil {
		return nil, fmt.Errorf("BatchSize: %w", err)
	}
	window, err := s.MaximumBatchingWindowInSeconds.IntOr(res, 0)
	if err != nil {
		return nil, fmt.Errorf("MaximumBatchingWindowInSeconds: %w", err)
	}
	conc, err := s.MaximumConcurrency.IntOr(res, DefaultMaxConcurrency)
	if err != nil {
		return nil, fmt.Errorf("MaximumConcurrency: %w", err)
	}
	if batch < 1 || conc < 1 || window < 0 {
		return nil, fmt.Errorf("BatchSize %d, MaximumConcurrency %d, window %d: out of range", batch, conc, window)
	}
	return &mapping{
		fn: fn, event: ev.Name, queueID: s.QueueLogicalID,
		batchSize: batch, window: time.Duration(window) * time.Second, maxConcurrency: conc,
		reportFailures: s.ReportsBatchItemFailures(),
	}, nil
}

// runMapping polls the queue until ctx is cancelled, with at most
// maxConcurrency batches in flight.
func (r *Runner) runMapping(ctx context.Context, m *mapping) {
	sem := make(chan struct{}, m.maxConcurrency)
	log := r.log.With("function", m.fn.fn.LogicalID, "queue", m.queueID)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch, err := r.collect(ctx, m)
		if err != nil && ctx.Err() == nil {
			log.Warn("receive failed", "error", err.Error())
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			// Stopping: hand back what was received but not yet invoked.
			r.release(m, batch)
			<-sem
			return
		}
		if len(batch) == 0 {
			<-sem
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-sem }()
			r.processBatch(m, batch)
		}()
	}
}

// collect gathers up to batchSize messages: it long-polls until a first
// message arrives, then keeps receiving until the batch is full or the
// batching window has passed. A message received twice (its visibility
// timeout ran out meanwhile) is kept once, with its latest receipt handle.
func (r *Runner) collect(ctx context.Context, m *mapping) ([]sqstypes.Message, error) {
	var msgs []sqstypes.Message
	index := map[string]int{}
	var deadline time.Time
	for len(msgs) < m.batchSize {
		wait := r.cfg.ReceiveWait
		if len(msgs) > 0 {
			wait = time.Until(deadline)
			if wait <= 0 {
				break
			}
		}
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(m.queue.url),
			MaxNumberOfMessages: int32(min(10, m.batchSize-len(msgs))),
			WaitTimeSeconds:     int32(min(wait, 20*time.Second) / time.Second),
			// The emulator honours only the deprecated AttributeNames;
			// SQS itself wants MessageSystemAttributeNames.
			//lint:ignore SA1019 local-aws-sqs reads AttributeNames, not MessageSystemAttributeNames
			AttributeNames:              []sqstypes.QueueAttributeName{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return msgs, err
		}
		for _, msg := range out.Messages {
			id := aws.ToString(msg.MessageId)
			if i, dup := index[id]; dup {
				msgs[i] = msg
				continue
			}
			index[id] = len(msgs)
			msgs = append(msgs, msg)
		}
		if len(msgs) > 0 && deadline.IsZero() {
			if m.window <= 0 {
				break
			}
			deadline = time.Now().Add(m.window)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return msgs, nil
}

// release makes received messages visible again at once.
func (r *Runner) release(m *mapping, msgs []sqstypes.Message) {
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, msg := range msgs {
		_, _ = r.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(m.queue.url), ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 0,
		})
	}
}

// SQSEvent builds the Lambda event for messages received from a queue.
func SQSEvent(msgs []sqstypes.Message, queueARN, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, msg := range msgs {
		rec := events.SQSMessage{
			MessageId:         aws.ToString(msg.MessageId),
			ReceiptHandle:     aws.ToString(msg.ReceiptHandle),
			Body:              aws.ToString(msg.Body),
			Md5OfBody:         aws.ToString(msg.MD5OfBody),
			Attributes:        map[string]string{},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource:       "aws:sqs",
			EventSourceARN:    queueARN,
			AWSRegion:         region,
		}
		if msg.MD5OfMessageAttributes != nil {
			rec.Md5OfMessageAttributes = *msg.MD5OfMessageAttributes
		}
		for k, v := range msg.Attributes {
			rec.Attributes[k] = v
		}
		for k, v := range msg.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
				DataType:         aws.ToString(v.DataType),
			}
			if a.StringListValues == nil {
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			rec.MessageAttributes[k] = a
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// processBatch invokes the function with one batch and deletes what it
// processed: everything on success, nothing on a function error, all but
// the batchItemFailures with ReportBatchItemFailures. As Lambda does, a
// response that cannot be read, or that names an empty or unknown message
// id, fails the whole batch.
func (r *Runner) processBatch(m *mapping, msgs []sqstypes.Message) {
	log := r.log.With("function", m.fn.fn.LogicalID, "queue", m.queueID)
	payload, err := json.Marshal(SQSEvent(msgs, m.queue.arn, r.cfg.Region))
	if err != nil {
		log.Error("cannot build the SQS event", "error", err.Error())
		return
	}
	out, requestID, err := r.invoke(r.base, m.fn, "sqs "+m.queueID, payload)
	if err != nil {
		log.Warn("batch failed: messages stay until their visibility timeout", "requestId", requestID, "messages", len(msgs))
		return
	}
	failed := map[string]bool{}
	if m.reportFailures {
		failed, err = batchFailures(out, msgs)
		if err != nil {
			log.Warn("batch failed: "+err.Error(), "requestId", requestID, "messages", len(msgs))
			return
		}
	}
	var handles []string
	for _, msg := range msgs {
		if !failed[aws.ToString(msg.MessageId)] {
			handles = append(handles, aws.ToString(msg.ReceiptHandle))
		}
	}
	if err := r.deleteMessages(m.queue.url, handles); err != nil {
		log.Warn("delete failed", "requestId", requestID, "error", err.Error())
	}
	if len(failed) > 0 {
		log.Info("partial batch failure", "requestId", requestID, "messages", len(msgs), "failed", len(failed))
	}
}

// batchFailures reads an events.SQSEventResponse.
func batchFailures(out []byte, msgs []sqstypes.Message) (map[string]bool, error) {
	failed := map[string]bool{}
	out = bytes.TrimSpace(out)
	if len(out) == 0 || string(out) == "null" {
		return failed, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, errors.New("the response is not an SQSEventResponse")
	}
	ids := map[string]bool{}
	for _, msg := range msgs {
		ids[aws.ToString(msg.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" || !ids[f.ItemIdentifier] {
			return nil, errors.New("batchItemFailures names an empty or unknown itemIdentifier")
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (r *Runner) deleteMessages(url string, handles []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for start := 0; start < len(handles); start += 10 {
		end := min(start+10, len(handles))
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for i, h := range handles[start:end] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)})
		}
		out, err := r.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}
