// Package shipstation is the adapter for the ShipStation V1 API: a
// rate-budgeted HTTP client for orders, the wire types (money as JSON
// numbers built from decimal text, dates in US Pacific time), and the
// mapping from the canonical order to a ShipStation order per ship group.
//
// Every error a Client returns is classified once, here, with package errs:
// 429, 5xx, timeouts and connection failures are errs.Transient (429 carries
// the wait from X-Rate-Limit-Reset), 401/403 errs.Unauthorised, 404
// errs.NotFound and any other 4xx errs.Invalid with ShipStation's own message.
// Response bodies are never copied into errors: they hold buyer data.
package shipstation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// Rate-limit headers ShipStation V1 sends on every response.
const (
	HeaderRemaining = "X-Rate-Limit-Remaining"
	HeaderReset     = "X-Rate-Limit-Reset" // seconds until the window resets
)

// DefaultRetryAfter is the wait asked for after a 429 without a reset
// header: one full V1 window.
const DefaultRetryAfter = 60 * time.Second

// DefaultTimeout bounds one request when Client.HTTP is nil (createorders
// with 100 orders can be slow).
const DefaultTimeout = 60 * time.Second

const (
	maxBody    = 32 << 20
	maxErrBody = 64 << 10
	maxMsg     = 300
)

var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

// Client calls one ShipStation V1 account. BaseURL defaults to
// https://ssapi.shipstation.com, HTTP to a client with DefaultTimeout, and a
// nil Budget disables budgeting.
type Client struct {
	// BaseURL is the API root, without a trailing slash.
	BaseURL string
	// APIKey and APISecret are sent with HTTP Basic auth.
	APIKey    string
	APISecret string
	// HTTP is the client used for requests.
	HTTP *http.Client
	// Budget is the shared rate budget; nil means no budgeting.
	Budget ratelimit.Budget
	// BudgetKey names the bucket; empty means "shipstation:default:*".
	BudgetKey string
	// Limit seeds the bucket; zero means 40 requests per minute.
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
	return "shipstation:default:*"
}

func (c *Client) limit() ratelimit.Limit {
	if c.Limit == (ratelimit.Limit{}) {
		return ratelimit.PerWindow(40, time.Minute)
	}
	return c.Limit
}

func (c *Client) endpoint(path string, q url.Values) string {
	base := c.BaseURL
	if base == "" {
		base = config.DefaultShipStationURL
	}
	u := strings.TrimRight(base, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// do sends one request; op names the operation, what the object. out may be nil.
func (c *Client) do(ctx context.Context, op, what, method, path string, q url.Values, in, out any) (int, error) {
	fail := func(kind errs.Kind, err error) *errs.Error {
		if what == "" {
			return errs.E(kind, op, err)
		}
		return errs.E(kind, op, fmt.Errorf("%s: %w", what, err))
	}
	if c.APIKey == "" || c.APISecret == "" {
		return 0, fail(errs.Unauthorised, errors.New("no API key/secret configured"))
	}
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fail(errs.Invalid, fmt.Errorf("encode request: %w", err))
		}
		body = b
	}
	if c.Budget != nil {
		if err := ratelimit.Wait(ctx, c.Budget, c.budgetKey(), c.limit(), 1, c.MaxWait); err != nil {
			return 0, budgetError(fail, err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q), rd)
	if err != nil {
		return 0, fail(errs.Invalid, fmt.Errorf("build request: %w", err))
	}
	req.SetBasicAuth(c.APIKey, c.APISecret)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
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

// observe reports the rate-limit headers to the budget; its error is
// dropped, since the request already happened (it may have been a write).
func (c *Client) observe(ctx context.Context, resp *http.Response) {
	if c.Budget == nil {
		return
	}
	remaining, okRem := intHeader(resp.Header, HeaderRemaining)
	resetSec, okReset := intHeader(resp.Header, HeaderReset)
	if !okRem && resp.StatusCode == http.StatusTooManyRequests && okReset {
		remaining, okRem = 0, true
	}
	if !okRem {
		return
	}
	var reset time.Duration
	if okReset {
		reset = time.Duration(resetSec) * time.Second
	}
	_ = c.Budget.Observe(ctx, c.budgetKey(), c.limit(), int(remaining), reset)
}

func classify(resp *http.Response) (errs.Kind, time.Duration) {
	s := resp.StatusCode
	switch {
	case s == http.StatusTooManyRequests:
		if sec, ok := intHeader(resp.Header, HeaderReset); ok {
			return errs.Transient, max(time.Duration(sec)*time.Second, time.Second)
		}
		if sec, ok := intHeader(resp.Header, "Retry-After"); ok && sec > 0 && sec < 24*3600 {
			return errs.Transient, time.Duration(sec) * time.Second
		}
		return errs.Transient, DefaultRetryAfter
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return errs.Unauthorised, 0
	case s == http.StatusNotFound:
		return errs.NotFound, 0
	case s == http.StatusRequestTimeout:
		return errs.Transient, 0
	case s >= 500:
		return errs.Transient, 0
	case s >= 400:
		return errs.Invalid, 0
	}
	return errs.Other, 0
}

func httpError(status int, msg string) error {
	if msg == "" {
		return fmt.Errorf("HTTP %d", status)
	}
	return fmt.Errorf("HTTP %d: %s", status, msg)
}

func budgetError(fail func(errs.Kind, error) *errs.Error, err error) error {
	var d *ratelimit.ErrDeferred
	switch {
	case errors.As(err, &d):
		return fail(errs.Transient, err).WithRetryAfter(d.Wait)
	case errs.KindOf(err) != errs.Other:
		return fail(errs.KindOf(err), fmt.Errorf("rate budget: %w", err))
	}
	return fail(errs.Transient, fmt.Errorf("rate budget: %w", err))
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

func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, maxErrBody)) }

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
	if err := json.NewDecoder(lr).Decode(out); err != nil {
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

// kindOfDecode: a whole body that breaks the contract is Invalid; a body
// cut short may come whole on retry (Transient).
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

// vendorMessage extracts ShipStation's error text. V1 answers with ASP.NET
// bodies: {"Message": "...", "ExceptionMessage": "...", "ModelState":
// {"field": ["..."]}}, sometimes {"message": "..."}. Stack traces and
// non-JSON bodies are never copied.
func vendorMessage(r io.Reader) string {
	b, err := io.ReadAll(io.LimitReader(r, maxErrBody))
	if err != nil || len(b) == 0 {
		return ""
	}
	var body struct {
		Message          string          `json:"Message"`
		ExceptionMessage string          `json:"ExceptionMessage"`
		ModelState       json.RawMessage `json:"ModelState"`
	}
	// encoding/json matches keys case-insensitively, so "message" fits too.
	if json.Unmarshal(b, &body) != nil {
		return ""
	}
	var state map[string][]string
	_ = json.Unmarshal(body.ModelState, &state) // optional; other shapes are skipped
	var parts []string
	for _, s := range []string{body.Message, body.ExceptionMessage} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, m := range state[k] {
			parts = append(parts, k+": "+m)
		}
	}
	return truncate(strings.Join(parts, "; "), maxMsg)
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
