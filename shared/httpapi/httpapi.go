// Package httpapi is the request plumbing the vendor adapters share: one
// rate-budgeted JSON call over net/http whose every error is classified with
// package errs. An adapter (bigcommerce, shipstation, …) supplies only what
// is its own: URLs, auth headers, how to read its rate-limit headers, how to
// classify a non-2xx response and how to find its error message.
//
// Transport failures (timeouts, refused connections, resets, cancelled
// contexts) are errs.Transient; a budget with no room is errs.Transient with
// the wait as RetryAfter. Response bodies are never copied into errors, only
// the message the adapter's Message picks out: they hold buyer data.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/retry"
)

// maxBody caps a success body we decode, maxErrBody an error body we read,
// maxMsg (in runes) the vendor message copied into an error.
const (
	maxBody    = 32 << 20
	maxErrBody = 64 << 10
	maxMsg     = 300
)

// Caller sends requests to one vendor API on behalf of one account. HTTP is
// required; the other fields are optional.
type Caller struct {
	// HTTP is the client used for requests.
	HTTP *http.Client
	// Budget is the shared rate budget; nil means no budgeting (and Observe
	// is not called).
	Budget ratelimit.Budget
	// BudgetKey names the bucket every request draws one token from.
	BudgetKey string
	// Limit seeds the bucket.
	Limit ratelimit.Limit
	// MaxWait is the longest a request sleeps for budget before it returns a
	// Transient error that carries the wait (zero: never sleep).
	MaxWait time.Duration
	// Authorize adds the vendor's credentials to a request.
	Authorize func(*http.Request)
	// Observe reads the rate-limit headers of a response: requests remaining
	// in the window and the time until it resets; ok false when the response
	// says nothing. What it reads is reported to Budget.
	Observe func(*http.Response) (remaining int, reset time.Duration, ok bool)
	// Classify maps a non-2xx response to an error kind and the wait to ask
	// for; nil means StatusKind and no wait.
	Classify func(*http.Response) (errs.Kind, time.Duration)
	// Message extracts the vendor's error text from a non-2xx body (at most
	// 64 KiB); "" when there is none. It must not return buyer data: copy
	// only the vendor's own message fields. The result is truncated to 300
	// runes with whitespace collapsed. Nil means no message.
	Message func(body []byte) string
}

// Do sends one request with in (when not nil) as its JSON body and decodes a
// 2xx JSON response into out (when not nil). op names the operation
// ("bigcommerce.GetOrder") and what the object ("order 123", may be empty);
// both appear in every error, formatted as by Fail. It returns the HTTP
// status whenever a response arrived, so callers can tell 204 apart; a 204
// leaves out untouched. A non-2xx response is an error of the kind Classify
// gives, with text "HTTP <status>" or "HTTP <status>: <message>".
func (c *Caller) Do(ctx context.Context, op, what, method, url string, in, out any) (int, error) {
	status, err := c.do(ctx, op, what, method, url, in, out)
	// A read is safe to repeat: a passing fault (5xx, timeout, reset) is
	// retried here a couple of times, by the one retry policy, before the
	// whole message is put back on its queue. A throttle (RetryAfter) or a
	// budget wait is not: those wait as long as they were told.
	for attempt := 1; attempt <= readRetries && method == http.MethodGet && errs.Is(err, errs.Transient) && errs.RetryAfterOf(err) == 0; attempt++ {
		t := time.NewTimer(readRetry.Backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return status, err
		case <-t.C:
		}
		status, err = c.do(ctx, op, what, method, url, in, out)
	}
	return status, err
}

// readRetries and readRetry bound the in-call retries of a failed read.
const readRetries = 2

var readRetry = retry.Policy{Base: 200 * time.Millisecond, Cap: 2 * time.Second}

func (c *Caller) do(ctx context.Context, op, what, method, url string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, Fail(errs.Invalid, op, what, fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	if c.Budget != nil {
		if err := ratelimit.Wait(ctx, c.Budget, c.BudgetKey, c.Limit, 1, c.MaxWait); err != nil {
			return 0, budgetError(op, what, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, Fail(errs.Invalid, op, what, fmt.Errorf("build request: %w", err))
	}
	if c.Authorize != nil {
		c.Authorize(req)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, Fail(errs.Transient, op, what, err)
	}
	defer resp.Body.Close()
	c.observe(ctx, resp)

	switch s := resp.StatusCode; {
	case s == http.StatusNoContent:
		drain(resp.Body)
		return s, nil
	case s >= 200 && s < 300:
		if err := decodeBody(resp.Body, out); err != nil {
			return s, Fail(kindOfDecode(err), op, what, fmt.Errorf("HTTP %d: decode response: %w", s, err))
		}
		return s, nil
	default:
		msg := c.message(resp.Body)
		kind, retry := StatusKind(s), time.Duration(0)
		if c.Classify != nil {
			kind, retry = c.Classify(resp)
		}
		e := Fail(kind, op, what, httpError(s, msg))
		if retry > 0 {
			e = e.WithRetryAfter(retry)
		}
		return s, e
	}
}

// Fail builds the error of operation op on the object what, in the form
// Do's errors have: "<op>: <kind>: <what>: <err>" (without "<what>: " when
// what is empty). Adapters use it for checks made before calling Do.
func Fail(kind errs.Kind, op, what string, err error) *errs.Error {
	if what == "" {
		return errs.E(kind, op, err)
	}
	return errs.E(kind, op, fmt.Errorf("%s: %w", what, err))
}

// observe reports the rate-limit headers to the budget. A failure to record
// them must not fail a request that already happened (it may have been a
// write), so the budget's error is dropped: the next response corrects it.
func (c *Caller) observe(ctx context.Context, resp *http.Response) {
	if c.Budget == nil || c.Observe == nil {
		return
	}
	if remaining, reset, ok := c.Observe(resp); ok {
		_ = c.Budget.Observe(ctx, c.BudgetKey, c.Limit, remaining, reset)
	}
}

// message reads an error body and returns the vendor's message, truncated.
func (c *Caller) message(r io.Reader) string {
	if c.Message == nil {
		drain(r)
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(r, maxErrBody))
	if err != nil || len(b) == 0 {
		return ""
	}
	return truncate(c.Message(b), maxMsg)
}

// budgetError classifies a failure to get a token from the shared budget.
func budgetError(op, what string, err error) error {
	var d *ratelimit.ErrDeferred
	switch {
	case errors.As(err, &d):
		return Fail(errs.Transient, op, what, err).WithRetryAfter(d.Wait)
	case errs.KindOf(err) != errs.Other:
		return Fail(errs.KindOf(err), op, what, fmt.Errorf("rate budget: %w", err))
	}
	return Fail(errs.Transient, op, what, fmt.Errorf("rate budget: %w", err))
}

func httpError(status int, msg string) error {
	if msg == "" {
		return fmt.Errorf("HTTP %d", status)
	}
	return fmt.Errorf("HTTP %d: %s", status, msg)
}

// StatusKind is the error kind of a non-2xx status that needs no vendor
// knowledge: 401/403 Unauthorised, 404 NotFound, 408, 429 and 5xx
// Transient, any other 4xx Invalid, and Other for a 1xx/3xx the HTTP client
// did not resolve.
func StatusKind(status int) errs.Kind {
	switch s := status; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return errs.Unauthorised
	case s == http.StatusNotFound:
		return errs.NotFound
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return errs.Transient
	case s >= 400:
		return errs.Invalid
	}
	return errs.Other
}

// WindowHeaders names a vendor's pair of rate-limit headers: the requests
// left in the current window and the time until it resets, both
// non-negative integers, the latter counted in Unit.
type WindowHeaders struct {
	// Remaining is the header with the requests left.
	Remaining string
	// Reset is the header with the time until the window resets.
	Reset string
	// Unit is what one unit of Reset is worth (time.Second, time.Millisecond).
	Unit time.Duration
}

// Observe reads the headers for Caller.Observe. A 429 that carries Reset but
// not Remaining counts as none remaining; without a Remaining it says nothing.
func (w WindowHeaders) Observe(resp *http.Response) (remaining int, reset time.Duration, ok bool) {
	left, okLeft := IntHeader(resp.Header, w.Remaining)
	n, okReset := IntHeader(resp.Header, w.Reset)
	if !okLeft && resp.StatusCode == http.StatusTooManyRequests && okReset {
		left, okLeft = 0, true
	}
	if !okLeft {
		return 0, 0, false
	}
	if okReset {
		reset = time.Duration(n) * w.Unit
	}
	return int(left), reset, true
}

// IntHeader reads header name as a non-negative integer; ok is false when it
// is missing, malformed or negative.
func IntHeader(h http.Header, name string) (n int64, ok bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// RetryAfter reads a standard Retry-After in seconds; 0 when it is missing,
// malformed, an HTTP date or longer than a day.
func RetryAfter(h http.Header) time.Duration {
	n, ok := IntHeader(h, "Retry-After")
	if !ok || n > 24*3600 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// FieldError is a decode error raised by an adapter's own JSON types (an
// UnmarshalJSON that rejects a value). Its text must never contain the value.
// Do classifies it as errs.Invalid, like JSON syntax and type errors.
type FieldError string

// Error returns the message.
func (e FieldError) Error() string { return string(e) }

func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, maxErrBody)) }

// ErrEmptyBody is in the chain of Do's error (errs.Invalid) when a 2xx
// response other than 204 has no body but out asked for one; an adapter for
// which that means "nothing" tests for it with errors.Is.
var ErrEmptyBody = errors.New("empty body")

// errBodyTooLarge is decodeBody's error for a body over maxBody.
var errBodyTooLarge = fmt.Errorf("body larger than %d bytes", maxBody)

func decodeBody(r io.Reader, out any) error {
	if out == nil {
		drain(r)
		return nil
	}
	lr := &io.LimitedReader{R: r, N: maxBody + 1}
	if err := json.NewDecoder(lr).Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmptyBody
		}
		if lr.N <= 0 {
			return errBodyTooLarge
		}
		return err
	}
	drain(r)
	return nil
}

// kindOfDecode: a body that arrived whole but does not match the contract
// will not get better on retry (Invalid); a body cut short (connection reset,
// unexpected EOF) may (Transient).
func kindOfDecode(err error) errs.Kind {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.Transient
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var fe FieldError
	if errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &fe) ||
		errors.Is(err, ErrEmptyBody) || errors.Is(err, errBodyTooLarge) {
		return errs.Invalid
	}
	return errs.Transient
}

// truncate collapses whitespace and cuts s to n runes.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
