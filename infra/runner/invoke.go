package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// ErrTimeout is wrapped by the error of an invocation that ran past its
// function's Timeout.
var ErrTimeout = errors.New("task timed out")

// invoke calls a function's handler as Lambda would: with a request id, the
// invoked ARN and a deadline of the function's Timeout. It does not inherit
// the cancellation of ctx, so a stopping runner lets it finish. A handler
// that ignores its deadline is abandoned (and reported as timed out) when
// the deadline passes; a panic is an error.
func (r *Runner) invoke(ctx context.Context, f *function, source string, payload []byte) (out []byte, requestID string, err error) {
	return r.invokeTimeout(ctx, f, source, payload, f.timeout)
}

func (r *Runner) invokeTimeout(ctx context.Context, f *function, source string, payload []byte, timeout time.Duration) (out []byte, requestID string, err error) {
	requestID = newID()
	f.invocations.Add(1)
	f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	start := time.Now()
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: f.arn})

	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("handler panic: %v", p)}
			}
		}()
		o, e := f.handler.Invoke(ictx, payload)
		done <- result{o, e}
	}()
	select {
	case res := <-done:
		out, err = res.out, res.err
	case <-ictx.Done():
		err = fmt.Errorf("%w after %.2f seconds", ErrTimeout, timeout.Seconds())
	}
	attrs := []any{"function", f.fn.LogicalID, "source", source, "requestId", requestID,
		"durationMs", time.Since(start).Milliseconds(), "payloadBytes", len(payload)}
	if err != nil {
		f.errors.Add(1)
		r.log.Warn("invocation failed", append(attrs, "error", err.Error())...)
	} else {
		r.log.Info("invocation", attrs...)
	}
	return out, requestID, err
}
