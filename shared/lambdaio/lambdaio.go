// Package lambdaio connects shiprelay's plain handlers to Lambda's event
// shapes: net/http handlers behind API Gateway HTTP API (payload v2), and
// per-record SQS processing that reports partial batch failures.
package lambdaio

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"net/http"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/retry"
)

// HTTP adapts an http.Handler to an API Gateway HTTP API (v2) Lambda handler.
func HTTP(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	a := httpadapter.NewV2(h)
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ctx = obs.With(ctx, "request_id", req.RequestContext.RequestID)
		return a.ProxyWithContext(ctx, req)
	}
}

// RequestID returns the Lambda request id of ctx, or "".
func RequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// Record processes one SQS message. A nil error deletes the message; an
// error leaves it for redelivery (and, after the queue's maxReceiveCount,
// the dead-letter queue).
type Record func(ctx context.Context, m events.SQSMessage) error

// EachRecord runs fn on every record of ev in order and reports the failed
// ones, so that only those are redelivered; r (optional) schedules each
// redelivery by the retry policy.
func EachRecord(ctx context.Context, log *slog.Logger, ev events.SQSEvent, r *Retrier, fn Record) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		rctx := obs.With(ctx, "message_id", m.MessageId)
		if err := fn(rctx, m); err != nil {
			d, requeued := r.Defer(rctx, m, err)
			if requeued {
				log.InfoContext(rctx, "record deferred: rate budget spent", "retry_in_ms", d.Milliseconds())
				continue
			}
			log.WarnContext(rctx, "record failed; redelivered later", "error", err.Error(), "retry_in_ms", d.Milliseconds())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// Retrier turns the retry policy into SQS visibility: a failed message
// comes back after the policy's delay for its receive count instead of the
// queue's whole visibility timeout, and holds no Lambda meanwhile.
//
// Waiting for the shared rate budget is not a failure: with Requeue set, a
// message deferred for budget is sent again with a delay and acknowledged,
// so waiting never counts towards the queue's maxReceiveCount.
type Retrier struct {
	Visibility queue.Visibility
	Policy     retry.Policy
	// Requeue is the message's own queue (optional).
	Requeue queue.Sender
	// MaxReceives is the queue's maxReceiveCount; on the last receive's
	// failure GiveUp is told, as the message is about to go to the
	// dead-letter queue (so an exception can be recorded).
	MaxReceives int
	GiveUp      func(ctx context.Context, m events.SQSMessage, err error)
	Log         *slog.Logger
}

// Defer schedules m's redelivery for err and returns the delay. requeued
// says a fresh copy was sent instead (the caller acknowledges m). A nil
// Retrier, or a message without a receipt handle, leaves the queue's
// visibility timeout in charge and returns 0.
func (r *Retrier) Defer(ctx context.Context, m events.SQSMessage, err error) (d time.Duration, requeued bool) {
	if r == nil {
		return 0, false
	}
	var wait *ratelimit.ErrDeferred
	if r.Requeue != nil && errors.As(err, &wait) {
		d = min(wait.Wait+r.Policy.Backoff(1)/4, queue.MaxDelay)
		if serr := r.Requeue.Send(ctx, queue.Message{Body: []byte(m.Body), Delay: d}); serr == nil {
			return d, true
		} else if r.Log != nil {
			r.Log.WarnContext(ctx, "could not requeue a deferred message; its visibility is stretched instead", "error", serr.Error())
		}
	}
	if r.Visibility == nil || m.ReceiptHandle == "" {
		return 0, false
	}
	attempt, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if r.GiveUp != nil && r.MaxReceives > 0 && attempt >= r.MaxReceives {
		r.GiveUp(ctx, m, err)
	}
	d = r.Policy.Delay(err, attempt)
	if errs.Is(err, errs.Unauthorised) {
		d = r.Policy.Max()
	}
	if verr := r.Visibility.ChangeVisibility(ctx, m.ReceiptHandle, d); verr != nil && r.Log != nil {
		r.Log.WarnContext(ctx, "could not defer message; it returns after the visibility timeout", "error", verr.Error())
	}
	return d, false
}

// WithRequestID returns ctx whose log records carry the Lambda request id.
func WithRequestID(ctx context.Context) context.Context {
	if id := RequestID(ctx); id != "" {
		return obs.With(ctx, "request_id", id)
	}
	return ctx
}
