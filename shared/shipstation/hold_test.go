package shipstation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

func TestHoldUntil(t *testing.T) {
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodPost || r.URL.Path != "/orders/holduntil" || r.URL.RawQuery != "" {
			t.Errorf("%s %s", r.Method, r.URL)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		raw, _ := io.ReadAll(r.Body)
		if got := string(raw); got != `{"orderId":123456789,"holdUntilDate":"2026-11-22"}` {
			t.Errorf("body %s", got)
		}
		limitHeaders(w, 38, 50)
		io.WriteString(w, `{"success":true,"message":"Order held successfully."}`)
	})
	if err := c.HoldUntil(context.Background(), 123456789, "2026-11-22"); err != nil {
		t.Fatal(err)
	}
	if len(b.takes) != 1 || b.takes[0] != "shipstation:main:*#1" {
		t.Errorf("takes %v: the hold must use the account's budget", b.takes)
	}
	if len(b.observes) != 1 || b.observes[0].remaining != 38 || b.observes[0].reset != 50*time.Second {
		t.Errorf("observes %+v", b.observes)
	}
}

func TestHoldUntilBadInputSendsNothing(t *testing.T) {
	hits := 0
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	for _, tc := range []struct {
		id   int64
		date string
	}{{0, "2026-11-22"}, {-1, "2026-11-22"}, {1, ""}, {1, "2026-11-22T00:00:00"}, {1, "22/11/2026"}, {1, "2026-02-30"}, {1, "2026-1-2"}} {
		if err := c.HoldUntil(context.Background(), tc.id, tc.date); !errs.Is(err, errs.Invalid) {
			t.Errorf("HoldUntil(%d, %q) = %v, want Invalid", tc.id, tc.date, err)
		}
	}
	if hits != 0 {
		t.Errorf("%d requests sent for bad input", hits)
	}
}

func TestHoldUntilErrorKinds(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		kind    errs.Kind
		retry   time.Duration
		msg     string
	}{
		{"not held", 200, nil, `{"success":false,"message":"Order could not be held."}`, errs.Invalid, 0, "Order could not be held."},
		{"not held, no message", 200, nil, `{"success":false}`, errs.Invalid, 0, "did not hold"},
		{"bad body", 200, nil, `{"success":"yes"}`, errs.Invalid, 0, "decode response"},
		{"unknown order", 404, nil, `{"Message":"Order not found: 5"}`, errs.NotFound, 0, "Order not found: 5"},
		{"closed order", 400, nil, `{"Message":"The order with orderId 5 cannot be placed on hold because its status is 'shipped'"}`, errs.Invalid, 0, "status is 'shipped'"},
		{"bad date", 400, nil, `{"Message":"The request is invalid.","ModelState":{"params.holdUntilDate":["The value 'x' is not valid for holdUntilDate."]}}`,
			errs.Invalid, 0, "params.holdUntilDate: The value 'x' is not valid"},
		{"401", 401, nil, `{"Message":"Authorization has been denied for this request."}`, errs.Unauthorised, 0, "Authorization has been denied"},
		{"429", 429, map[string]string{HeaderRemaining: "0", HeaderReset: "23"}, `{"message":"Too Many Requests"}`, errs.Transient, 23 * time.Second, "Too Many Requests"},
		{"500", 500, nil, `{"Message":"An error has occurred."}`, errs.Transient, 0, "An error has occurred."},
		{"502", 502, nil, `<html>bad gateway</html>`, errs.Transient, 0, "HTTP 502"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits := 0
			c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				hits++
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			err := c.HoldUntil(context.Background(), 5, "2026-11-22")
			if k := errs.KindOf(err); err == nil || k != tc.kind {
				t.Fatalf("kind %v want %v: %v", k, tc.kind, err)
			}
			if d := errs.RetryAfterOf(err); d != tc.retry {
				t.Errorf("retry %v want %v", d, tc.retry)
			}
			if s := err.Error(); !strings.Contains(s, tc.msg) || !strings.Contains(s, "shipstation.HoldUntil: ") || !strings.Contains(s, "order 5") {
				t.Errorf("message %q, want %q", s, tc.msg)
			}
			if hits != 1 {
				t.Errorf("%d requests: a POST is never repeated inside the call", hits)
			}
		})
	}
}

func TestHoldUntilNoContentIsSuccess(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if err := c.HoldUntil(context.Background(), 5, "2026-11-22"); err != nil {
		t.Errorf("204: %v", err)
	}
}

func TestHoldUntilBudgetDeferred(t *testing.T) {
	hits := 0
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	b.wait = 30 * time.Second
	err := c.HoldUntil(context.Background(), 5, "2026-11-22")
	var d *ratelimit.ErrDeferred
	if !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 30*time.Second || !errors.As(err, &d) {
		t.Errorf("%v", err)
	}
	if hits != 0 {
		t.Error("request sent without budget")
	}
}
