// Package sqs is the SQS adapter: a Queue sends outbound work
// (queue.Sender), lets a consumer back off by changing a message's
// visibility (queue.Visibility), and receives, deletes and counts messages
// for the local runner, which emulates Lambda's SQS event source mapping.
// Errors are classified into errs kinds here, at the edge.
package sqs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// Queue is one SQS queue.
type Queue struct {
	// Client is the SQS client.
	Client *sqs.Client
	// URL is the queue URL.
	URL string
}

var (
	_ queue.Sender     = (*Queue)(nil)
	_ queue.Visibility = (*Queue)(nil)
)

// Limits of SQS.
const (
	// MaxBatch is the most entries one batch request may carry.
	MaxBatch = 10
	// MaxBatchBytes is the most payload (bodies and attributes) one batch
	// request may carry. AWS has allowed 1 MiB since 2025; the classic 256
	// KiB is used, which every SQS implementation accepts.
	MaxBatchBytes = 256 * 1024
	// MaxVisibility is the longest visibility timeout.
	MaxVisibility = 12 * time.Hour
	// MaxDelay is the longest message delay.
	MaxDelay = 15 * time.Minute
	// MaxWait is the longest long-poll wait.
	MaxWait = 20 * time.Second
)

// batchRetries is how many times the failed entries of a batch are retried.
const batchRetries = 3

// Send implements queue.Sender with SendMessageBatch in chunks of at most
// MaxBatch messages and MaxBatchBytes. Entries that fail through no fault of
// the sender are retried, batchRetries times at most; if any message is still
// not sent, Send returns an error and the caller must resend all of msgs
// (some may then arrive twice: every consumer is idempotent).
func (q *Queue) Send(ctx context.Context, msgs ...queue.Message) error {
	const op = "sqs.Send"
	for len(msgs) > 0 {
		k, size := 0, 0
		for k < len(msgs) && k < MaxBatch {
			sz := msgSize(msgs[k])
			if k > 0 && size+sz > MaxBatchBytes {
				break
			}
			size += sz
			k++
		}
		if err := q.sendBatch(ctx, op, msgs[:k]); err != nil {
			return err
		}
		msgs = msgs[k:]
	}
	return nil
}

func msgSize(m queue.Message) int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len(v) + len("String")
	}
	return n
}

func (q *Queue) sendBatch(ctx context.Context, op string, msgs []queue.Message) error {
	pending := make(map[string]types.SendMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		e := types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(i)),
			MessageBody: aws.String(string(m.Body)),
		}
		if m.Delay > 0 {
			e.DelaySeconds = int32(math.Ceil(min(m.Delay, MaxDelay).Seconds()))
		}
		if len(m.Attributes) > 0 {
			e.MessageAttributes = make(map[string]types.MessageAttributeValue, len(m.Attributes))
			for k, v := range m.Attributes {
				e.MessageAttributes[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
		}
		pending[*e.Id] = e
	}
	for attempt := 0; ; attempt++ {
		entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
		for _, e := range pending {
			entries = append(entries, e)
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
		}
		for _, ok := range out.Successful {
			delete(pending, aws.ToString(ok.Id))
		}
		if len(pending) == 0 {
			return nil
		}
		if err := batchFailure(op, "send to "+q.name(), out.Failed, len(pending), attempt); err != nil {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return errs.E(errs.Transient, op, err)
		}
	}
}

// batchFailure decides what the failed entries of a batch mean: nil to retry
// them, or the error to return (a sender fault is Invalid at once; after
// batchRetries the rest is Transient).
func batchFailure(op, what string, failed []types.BatchResultErrorEntry, pending, attempt int) error {
	var first string
	for _, f := range failed {
		msg := aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
		if first == "" {
			first = msg
		}
		if f.SenderFault {
			return errs.Ef(errs.Invalid, op, "%s: entry %s rejected: %s", what, aws.ToString(f.Id), msg)
		}
	}
	if attempt >= batchRetries {
		return errs.Ef(errs.Transient, op, "%s: %d entries still failing after %d retries (%s)", what, pending, batchRetries, first)
	}
	return nil
}

// ChangeVisibility implements queue.Visibility; timeout is cut to
// [0, MaxVisibility] and rounded up to whole seconds.
func (q *Queue) ChangeVisibility(ctx context.Context, receiptHandle string, timeout time.Duration) error {
	const op = "sqs.ChangeVisibility"
	secs := int32(math.Ceil(max(0, min(timeout, MaxVisibility)).Seconds()))
	_, err := q.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.URL),
		ReceiptHandle:     aws.String(receiptHandle),
		VisibilityTimeout: secs,
	})
	if err != nil {
		return classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
	}
	return nil
}

// Receive long-polls for up to maxMessages messages (1..10), waiting up to wait
// (cut to MaxWait) and hiding them for visibility (0: the queue's default).
// The messages are what Lambda's SQS event source hands a function: system
// attributes (ApproximateReceiveCount, SentTimestamp, …), string message
// attributes, EventSource "aws:sqs", the region and an EventSourceARN built
// from the queue URL (QueueARN asks SQS instead).
func (q *Queue) Receive(ctx context.Context, maxMessages int, wait, visibility time.Duration) ([]events.SQSMessage, error) {
	const op = "sqs.Receive"
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(q.URL),
		MaxNumberOfMessages: int32(min(MaxBatch, max(1, maxMessages))),
		WaitTimeSeconds:     int32(math.Ceil(min(MaxWait, wait).Seconds())),
		// Both fields: the local emulator honours only the deprecated one.
		//lint:ignore SA1019 local-aws-sqs reads AttributeNames, not MessageSystemAttributeNames
		AttributeNames:              []types.QueueAttributeName{types.QueueAttributeNameAll},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if visibility > 0 {
		in.VisibilityTimeout = int32(math.Ceil(min(visibility, MaxVisibility).Seconds()))
	}
	out, err := q.Client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
	}
	region := q.Client.Options().Region
	arn := arnFromURL(q.URL, region)
	msgs := make([]events.SQSMessage, 0, len(out.Messages))
	for _, m := range out.Messages {
		em := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			EventSource:            "aws:sqs",
			EventSourceARN:         arn,
			AWSRegion:              region,
		}
		if em.Attributes == nil {
			em.Attributes = map[string]string{}
		}
		if len(m.MessageAttributes) > 0 {
			em.MessageAttributes = make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
			for k, v := range m.MessageAttributes {
				em.MessageAttributes[k] = events.SQSMessageAttribute{
					DataType:         aws.ToString(v.DataType),
					StringValue:      v.StringValue,
					BinaryValue:      v.BinaryValue,
					StringListValues: v.StringListValues,
					BinaryListValues: v.BinaryListValues,
				}
			}
		}
		msgs = append(msgs, em)
	}
	return msgs, nil
}

// Delete deletes messages by receipt handle with DeleteMessageBatch in
// chunks of MaxBatch, retrying entries that failed through no fault of the
// sender; an entry SQS rejects (e.g. an expired handle) is an Invalid error
// after the rest were deleted.
func (q *Queue) Delete(ctx context.Context, receiptHandles ...string) error {
	const op = "sqs.Delete"
	var rejected error
	for len(receiptHandles) > 0 {
		k := min(MaxBatch, len(receiptHandles))
		if err := q.deleteBatch(ctx, op, receiptHandles[:k]); err != nil {
			if !errs.Is(err, errs.Invalid) {
				return err
			}
			rejected = cmp.Or(rejected, err)
		}
		receiptHandles = receiptHandles[k:]
	}
	return rejected
}

func (q *Queue) deleteBatch(ctx context.Context, op string, handles []string) error {
	pending := make(map[string]types.DeleteMessageBatchRequestEntry, len(handles))
	for i, h := range handles {
		id := strconv.Itoa(i)
		pending[id] = types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String(h)}
	}
	var rejected error
	for attempt := 0; ; attempt++ {
		entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(pending))
		for _, e := range pending {
			entries = append(entries, e)
		}
		out, err := q.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
		}
		for _, ok := range out.Successful {
			delete(pending, aws.ToString(ok.Id))
		}
		var retry []types.BatchResultErrorEntry
		for _, f := range out.Failed {
			if f.SenderFault {
				delete(pending, aws.ToString(f.Id))
				rejected = cmp.Or[error](rejected, errs.Ef(errs.Invalid, op, "delete from %s: entry rejected: %s: %s",
					q.name(), aws.ToString(f.Code), aws.ToString(f.Message)))
				continue
			}
			retry = append(retry, f)
		}
		if len(pending) == 0 {
			return rejected
		}
		if err := batchFailure(op, "delete from "+q.name(), retry, len(pending), attempt); err != nil {
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return errs.E(errs.Transient, op, err)
		}
	}
}

// Depth returns the approximate number of visible messages and of messages
// in flight (received, not yet deleted or visible again). Delayed messages
// are in neither.
func (q *Queue) Depth(ctx context.Context) (visible, inFlight int, err error) {
	const op = "sqs.Depth"
	out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.URL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, 0, classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
	}
	visible, err1 := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, err2 := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, errs.E(errs.Other, op, fmt.Errorf("queue %s: attributes %v: %w", q.name(), out.Attributes, err))
	}
	return visible, inFlight, nil
}

// QueueARN asks SQS for the queue's ARN.
func (q *Queue) QueueARN(ctx context.Context) (string, error) {
	const op = "sqs.QueueARN"
	out, err := q.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.URL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", classify(op, fmt.Errorf("queue %s: %w", q.name(), err))
	}
	arn := out.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", errs.Ef(errs.Other, op, "queue %s: no QueueArn attribute", q.name())
	}
	return arn, nil
}

// name is the queue's name, the last segment of its URL.
func (q *Queue) name() string {
	return q.URL[strings.LastIndexByte(q.URL, '/')+1:]
}

// arnFromURL builds arn:<partition>:sqs:<region>:<account>:<name> from a
// queue URL of the form <endpoint>/<account>/<name>, as AWS and the local
// emulator both use. It returns "" for another form.
func arnFromURL(rawURL, region string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || region == "" {
		return ""
	}
	partition := "aws"
	switch {
	case strings.HasPrefix(region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		partition = "aws-us-gov"
	}
	return "arn:" + partition + ":sqs:" + region + ":" + parts[0] + ":" + parts[1]
}

// pause waits a little before a retry, more each attempt, with jitter.
func pause(ctx context.Context, attempt int) error {
	d := time.Duration(25<<min(attempt, 4))*time.Millisecond + mrand.N(25*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// classify wraps an SQS client error with its errs kind.
func classify(op string, err error) error {
	if err == nil || errs.KindOf(err) != errs.Other {
		return err
	}
	return errs.E(kindOf(err), op, err)
}

func kindOf(err error) errs.Kind {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "RequestThrottled", "ThrottlingException", "Throttling", "OverLimit", "KmsThrottled",
			"InternalError", "InternalFailure", "ServiceUnavailable", "KmsUnavailable":
			return errs.Transient
		case "ReceiptHandleIsInvalid", "InvalidParameterValue", "InvalidParameterValueException",
			"InvalidMessageContents", "MessageNotInflight", "InvalidBatchEntryId",
			"BatchEntryIdsNotDistinct", "TooManyEntriesInBatchRequest", "EmptyBatchRequest",
			"BatchRequestTooLong", "InvalidAttributeName", "InvalidAttributeValue",
			"UnsupportedOperation", "ValidationException", "MissingParameter", "InvalidAddress",
			"InvalidIdFormat", "InvalidSecurity", "KmsInvalidState", "KmsInvalidKeyUsage",
			"KmsDisabled", "KmsNotFound", "KmsOptInRequired", "KmsAccessDenied":
			return errs.Invalid
		case "AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
			"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
			"MissingAuthenticationToken", "IncompleteSignature":
			return errs.Unauthorised
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch c := status.HTTPStatusCode(); {
		case c == 429 || c >= 500:
			return errs.Transient
		case c == 401 || c == 403:
			return errs.Unauthorised
		}
	}
	var canceled *aws.RequestCanceledError
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &canceled) || errors.As(err, &netErr) {
		return errs.Transient
	}
	return errs.Other
}
