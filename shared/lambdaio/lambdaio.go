// Package lambdaio connects shiprelay's plain handlers to Lambda's event
// shapes: net/http handlers behind API Gateway HTTP API (payload v2), and
// per-record SQS processing that reports partial batch failures.
package lambdaio

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"net/http"

	"github.com/shiprelay/shiprelay/shared/obs"
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
// ones, so that only those are redelivered.
func EachRecord(ctx context.Context, log *slog.Logger, ev events.SQSEvent, fn Record) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		rctx := obs.With(ctx, "message_id", m.MessageId)
		if err := fn(rctx, m); err != nil {
			log.WarnContext(rctx, "record failed; left for redelivery", "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

// WithRequestID returns ctx whose log records carry the Lambda request id.
func WithRequestID(ctx context.Context) context.Context {
	if id := RequestID(ctx); id != "" {
		return obs.With(ctx, "request_id", id)
	}
	return ctx
}
