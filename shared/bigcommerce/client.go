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
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
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

func (c *Client) endpoint(version, path string, q url.Values) (string, error) {
	base := c.BaseURL
	if base == "" {
		base = config.DefaultBigCommerceURL
	}
	if c.StoreHash == "" {
		return "", errors.New("no store hash configured")
	}
	u := strings.TrimRight(base, "/") + "/stores/" + url.PathEscape(c.StoreHash) + "/" + version + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

// do sends one request. op names the operation ("bigcommerce.GetOrder") and
// what the object ("order 123"); both appear in every error. It returns the
// HTTP status on success (so callers can tell 204 apart). out may be nil.
func (c *Client) do(ctx context.Context, op, what, method, path string, q url.Values, in, out any) (int, error) {
	return c.doVersion(ctx, "v2", op, what, method, path, q, in, out)
}

// doVersion is do on API version ("v2", "v3").
func (c *Client) doVersion(ctx context.Context, version, op, what, method, path string, q url.Values, in, out any) (int, error) {
	u, err := c.endpoint(version, path, q)
	if err != nil {
		return 0, httpapi.Fail(errs.Invalid, op, what, err)
	}
	if c.AccessToken == "" {
		return 0, httpapi.Fail(errs.Unauthorised, op, what, errors.New("no access token configured"))
	}
	api := httpapi.Caller{
		HTTP:      cmp.Or(c.HTTP, defaultHTTP),
		Budget:    c.Budget,
		BudgetKey: cmp.Or(c.BudgetKey, "bigcommerce:"+c.StoreHash+":*"),
		Limit:     cmp.Or(c.Limit, ratelimit.PerWindow(150, 30*time.Second)),
		MaxWait:   c.MaxWait,
		Authorize: func(r *http.Request) { r.Header.Set("X-Auth-Token", c.AccessToken) },
		Observe:   httpapi.WindowHeaders{Remaining: HeaderRequestsLeft, Reset: HeaderTimeResetMs, Unit: time.Millisecond}.Observe,
		Classify:  classify,
		Message:   vendorMessage,
	}
	return api.Do(ctx, op, what, method, u, in, out)
}

// classify maps a non-2xx response to an error kind and the wait to ask for.
func classify(resp *http.Response) (errs.Kind, time.Duration) {
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		if ms, ok := httpapi.IntHeader(resp.Header, HeaderTimeResetMs); ok {
			return errs.Transient, max(time.Duration(ms)*time.Millisecond, time.Millisecond)
		}
		if _, ok := httpapi.IntHeader(resp.Header, HeaderRequestsLeft); ok {
			return errs.Transient, time.Second
		}
		if d := httpapi.RetryAfter(resp.Header); d > OverloadRetryAfter {
			return errs.Transient, d
		}
		return errs.Transient, OverloadRetryAfter
	case s >= 500:
		return errs.Transient, httpapi.RetryAfter(resp.Header)
	}
	return httpapi.StatusKind(resp.StatusCode), 0
}

// vendorMessage extracts BigCommerce's error text from an error body:
// V2 `[{"status":400,"message":"..."}]` or V3 `{"status":422,"title":"..."}`.
// Anything else (HTML, free text) is not copied: it could echo buyer data.
func vendorMessage(b []byte) string {
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
	return strings.Join(msgs, "; ")
}
