// Package bigcommerce is the adapter for the BigCommerce V2 Orders API: a
// rate-budgeted HTTP client, the wire types, normalisation into the canonical
// order.Order, and parsing/verification of V3 webhook callbacks.
//
// Every error a Client returns is classified once, here, with package errs:
// 429, 5xx, timeouts and connection failures are errs.Transient (429 carries
// the wait from the reset header), 401/403 errs.Unauthorised, 404
// errs.NotFound and any other 4xx errs.Invalid with BigCommerce's own message.
// Response bodies are never copied into errors: they hold buyer data.
package bigcommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// Rate-limit headers BigCommerce sends on every response (case-insensitive).
const (
	HeaderRequestsLeft = "X-Rate-Limit-Requests-Left"
	HeaderTimeResetMs  = "X-Rate-Limit-Time-Reset-Ms"
)

// OverloadRetryAfter is the wait asked of the caller after a 429 that carries
// no rate-limit headers: BigCommerce documents that as platform-level
// overload, not the store's quota, so it backs off longer than a window.
const OverloadRetryAfter = 30 * time.Second

// DefaultTimeout bounds one request when Client.HTTP is nil.
const DefaultTimeout = 30 * time.Second

// maxBody caps a success body we decode; maxErrBody an error body we read.
const (
	maxBody    = 32 << 20
	maxErrBody = 64 << 10
	maxMsg     = 300
)

// defaultHTTP is used when Client.HTTP is nil; http.DefaultClient has no timeout.
var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

// Client calls one BigCommerce store's V2 API. The zero values of the
// optional fields are usable: BaseURL defaults to https://api.bigcommerce.com,
// HTTP to a client with DefaultTimeout, and a nil Budget disables budgeting.
type Client struct {
	// BaseURL is the API host without the /stores/{hash} part.
	BaseURL string
	// StoreHash is the store's permanent hash.
	StoreHash string
	// AccessToken is sent as X-Auth-Token.
	AccessToken string
	// HTTP is the client used for requests.
	HTTP *http.Client
	// Budget is the shared rate budget; nil means no budgeting.
	Budget ratelimit.Budget
	// BudgetKey names the bucket; empty means "bigcommerce:<StoreHash>:*".
	BudgetKey string
	// Limit seeds the bucket; zero means 150 requests per 30 s (Standard plan).
	Limit ratelimit.Limit
	// MaxWait is the longest a request sleeps for budget before it returns a
	// Transient error that carries the wait (zero: never sleep).
	MaxWait time.Duration
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) budgetKey() string {
	if c.BudgetKey != "" {
		return c.BudgetKey
	}
	return "bigcommerce:" + c.StoreHash + ":*"
}

func (c *Client) limit() ratelimit.Limit {
	if c.Limit == (ratelimit.Limit{}) {
		return ratelimit.PerWindow(150, 30*time.Second)
	}
	return c.Limit
}

func (c *Client) endpoint(path string, q url.Values) (string, error) {
	base := c.BaseURL
	if base == "" {
		base = config.DefaultBigCommerceURL
	}
	if c.StoreHash == "" {
		return "", errors.New("no store hash configured")
	}
	u := strings.TrimRight(base, "/") + "/stores/" + url.PathEscape(c.StoreHash) + "/v2" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

// do sends one request. op names the operation ("bigcommerce.GetOrder") and
// what the object ("order 123"); both appear in every error. It returns the
// HTTP status on success (so callers can tell 204 apart). out may be nil.
func (c *Client) do(ctx context.Context, op, what, method, path string, q url.Values, in, out any) (int, error) {
	fail := func(kind errs.Kind, err error) *errs.Error {
		return errs.E(kind, op, fmt.Errorf("%s: %w", what, err))
	}
	u, err := c.endpoint(path, q)
	if err != nil {
		return 0, fail(errs.Invalid, err)
	}
	if c.AccessToken == "" {
		return 0, fail(errs.Unauthorised, errors.New("no access token configured"))
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fail(errs.Invalid, fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	if c.Budget != nil {
		if err := ratelimit.Wait(ctx, c.Budget, c.budgetKey(), c.limit(), 1, c.MaxWait); err != nil {
			return 0, budgetError(op, what, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fail(errs.Invalid, fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("X-Auth-Token", c.AccessToken)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// Timeouts, refused connections, resets, cancelled contexts.
		return 0, fail(errs.Transient, err)
	}
	defer resp.Body.Close()
	c.observe(ctx, resp)

	switch s := resp.StatusCode; {
	case s == http.StatusNoContent:
		drain(resp.Body)
		return s, nil
	case s >= 200 && s < 300:
		if err := decodeBody(resp.Body, out); err != nil {
			return s, fail(kindOfDecode(err), fmt.Errorf("HTTP %d: decode response: %w", s, err))
		}
		return s, nil
	default:
		msg := vendorMessage(resp.Body)
		kind, retry := classify(resp)
		e := fail(kind, httpError(s, msg))
		if retry > 0 {
			e = e.WithRetryAfter(retry)
		}
		return s, e
	}
}

// observe reports the rate-limit headers to the budget. A failure to record
// them must not fail a request that already happened (it may have been a
// write), so the budget's error is dropped: the next response corrects it.
func (c *Client) observe(ctx context.Context, resp *http.Response) {
	if c.Budget == nil {
		return
	}
	left, okLeft := intHeader(resp.Header, HeaderRequestsLeft)
	resetMs, okReset := intHeader(resp.Header, HeaderTimeResetMs)
	if !okLeft && resp.StatusCode == http.StatusTooManyRequests && okReset {
		left, okLeft = 0, true
	}
	if !okLeft {
		return
	}
	var reset time.Duration
	if okReset && resetMs > 0 {
		reset = time.Duration(resetMs) * time.Millisecond
	}
	_ = c.Budget.Observe(ctx, c.budgetKey(), c.limit(), int(left), reset)
}

// classify maps a non-2xx response to an error kind and the wait to ask for.
func classify(resp *http.Response) (errs.Kind, time.Duration) {
	s := resp.StatusCode
	switch {
	case s == http.StatusTooManyRequests:
		if ms, ok := intHeader(resp.Header, HeaderTimeResetMs); ok {
			return errs.Transient, max(time.Duration(ms)*time.Millisecond, time.Millisecond)
		}
		if _, ok := intHeader(resp.Header, HeaderRequestsLeft); ok {
			return errs.Transient, time.Second
		}
		if d := retryAfterHeader(resp.Header); d > OverloadRetryAfter {
			return errs.Transient, d
		}
		return errs.Transient, OverloadRetryAfter
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return errs.Unauthorised, 0
	case s == http.StatusNotFound:
		return errs.NotFound, 0
	case s == http.StatusRequestTimeout:
		return errs.Transient, 0
	case s >= 500:
		return errs.Transient, retryAfterHeader(resp.Header)
	case s >= 400:
		return errs.Invalid, 0
	}
	// 1xx/3xx that the HTTP client did not resolve: not understood.
	return errs.Other, 0
}

func httpError(status int, msg string) error {
	if msg == "" {
		return fmt.Errorf("HTTP %d", status)
	}
	return fmt.Errorf("HTTP %d: %s", status, msg)
}

// budgetError classifies a failure to get a token from the shared budget.
func budgetError(op, what string, err error) error {
	var d *ratelimit.ErrDeferred
	switch {
	case errors.As(err, &d):
		return errs.E(errs.Transient, op, fmt.Errorf("%s: %w", what, err)).WithRetryAfter(d.Wait)
	case errs.KindOf(err) != errs.Other:
		return errs.E(errs.KindOf(err), op, fmt.Errorf("%s: rate budget: %w", what, err))
	}
	return errs.E(errs.Transient, op, fmt.Errorf("%s: rate budget: %w", what, err))
}

func intHeader(h http.Header, name string) (int64, bool) {
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

// retryAfterHeader reads a standard Retry-After in seconds (dates ignored).
func retryAfterHeader(h http.Header) time.Duration {
	n, ok := intHeader(h, "Retry-After")
	if !ok || n > 24*3600 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, maxErrBody)) }

// Errors of decodeBody that a retry will not cure.
var (
	errEmptyBody    = errors.New("empty body")
	errBodyTooLarge = fmt.Errorf("body larger than %d bytes", maxBody)
)

func decodeBody(r io.Reader, out any) error {
	if out == nil {
		drain(r)
		return nil
	}
	lr := &io.LimitedReader{R: r, N: maxBody + 1}
	dec := json.NewDecoder(lr)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return errEmptyBody
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
	var fe *fieldError
	if errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &fe) ||
		errors.Is(err, errEmptyBody) || errors.Is(err, errBodyTooLarge) {
		return errs.Invalid
	}
	return errs.Transient
}

// vendorMessage extracts BigCommerce's error text from an error body:
// V2 `[{"status":400,"message":"..."}]` or V3 `{"status":422,"title":"..."}`.
// Anything else (HTML, free text) is not copied: it could echo buyer data.
func vendorMessage(r io.Reader) string {
	b, err := io.ReadAll(io.LimitReader(r, maxErrBody))
	if err != nil || len(b) == 0 {
		return ""
	}
	type item struct {
		Message string `json:"message"`
		Title   string `json:"title"`
		Error   string `json:"error"`
		Detail  string `json:"detail"`
	}
	pick := func(it item) string {
		for _, s := range []string{it.Message, it.Title, it.Error, it.Detail} {
			if s = strings.TrimSpace(s); s != "" {
				return s
			}
		}
		return ""
	}
	var msgs []string
	var list []item
	var one item
	switch {
	case json.Unmarshal(b, &list) == nil:
		for _, it := range list {
			if m := pick(it); m != "" {
				msgs = append(msgs, m)
			}
		}
	case json.Unmarshal(b, &one) == nil:
		if m := pick(one); m != "" {
			msgs = append(msgs, m)
		}
	}
	return truncate(strings.Join(msgs, "; "), maxMsg)
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
