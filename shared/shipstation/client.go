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
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
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

// base is the configured API root, or the default one.
func (c *Client) base() string { return cmp.Or(c.BaseURL, config.DefaultShipStationURL) }

func (c *Client) endpoint(path string, q url.Values) string {
	u := strings.TrimRight(c.base(), "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// do sends one request; op names the operation, what the object. out may be nil.
func (c *Client) do(ctx context.Context, op, what, method, path string, q url.Values, in, out any) (int, error) {
	return c.doURL(ctx, op, what, method, c.endpoint(path, q), in, out)
}

// doURL is do for a complete URL, which the caller has checked points at
// this account's API root (the credentials go with it).
func (c *Client) doURL(ctx context.Context, op, what, method, rawURL string, in, out any) (int, error) {
	if c.APIKey == "" || c.APISecret == "" {
		return 0, httpapi.Fail(errs.Unauthorised, op, what, errors.New("no API key/secret configured"))
	}
	api := httpapi.Caller{
		HTTP:      cmp.Or(c.HTTP, defaultHTTP),
		Budget:    c.Budget,
		BudgetKey: cmp.Or(c.BudgetKey, "shipstation:default:*"),
		Limit:     cmp.Or(c.Limit, ratelimit.PerWindow(40, time.Minute)),
		MaxWait:   c.MaxWait,
		Authorize: func(r *http.Request) { r.SetBasicAuth(c.APIKey, c.APISecret) },
		Observe:   httpapi.WindowHeaders{Remaining: HeaderRemaining, Reset: HeaderReset, Unit: time.Second}.Observe,
		Classify:  classify,
		Message:   vendorMessage,
	}
	return api.Do(ctx, op, what, method, rawURL, in, out)
}

// classify maps a non-2xx response to an error kind and the wait to ask for.
func classify(resp *http.Response) (errs.Kind, time.Duration) {
	if resp.StatusCode == http.StatusTooManyRequests {
		if sec, ok := httpapi.IntHeader(resp.Header, HeaderReset); ok {
			return errs.Transient, max(time.Duration(sec)*time.Second, time.Second)
		}
		if d := httpapi.RetryAfter(resp.Header); d > 0 && d < 24*time.Hour {
			return errs.Transient, d
		}
		return errs.Transient, DefaultRetryAfter
	}
	return httpapi.StatusKind(resp.StatusCode), 0
}

// vendorMessage extracts ShipStation's error text. V1 answers with ASP.NET
// bodies: {"Message": "...", "ExceptionMessage": "...", "ModelState":
// {"field": ["..."]}}, sometimes {"message": "..."}. Stack traces and
// non-JSON bodies are never copied.
func vendorMessage(b []byte) string {
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
	return strings.Join(parts, "; ")
}

// ListTags returns the account's order tags (GET /accounts/listtags).
// An account without tags gives an empty list.
func (c *Client) ListTags(ctx context.Context) ([]Tag, error) {
	const op = "shipstation.ListTags"
	var tags []Tag
	if _, err := c.do(ctx, op, "tags", http.MethodGet, "/accounts/listtags", nil, nil, &tags); err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []Tag{}
	}
	return tags, nil
}
