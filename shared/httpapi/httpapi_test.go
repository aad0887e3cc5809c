package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// budget is a ratelimit.Budget whose Take answers wait and err; it records
// the keys taken from and what it was told. Do calls it on the test's
// goroutine, so it needs no lock.
type budget struct {
	wait     time.Duration
	err      error
	takes    []string
	observes []observation
}

type observation struct {
	key       string
	remaining int
	reset     time.Duration
}

func (b *budget) Take(_ context.Context, key string, _ ratelimit.Limit, n int) (time.Duration, error) {
	b.takes = append(b.takes, key+"#"+strconv.Itoa(n))
	return b.wait, b.err
}

// Observe records the call and fails, which Do must ignore.
func (b *budget) Observe(_ context.Context, key string, _ ratelimit.Limit, remaining int, reset time.Duration) error {
	b.observes = append(b.observes, observation{key, remaining, reset})
	return errors.New("dropped")
}

const (
	hdrLeft  = "X-Left"
	hdrReset = "X-Reset-Ms"
)

// newCaller starts a server running h and returns a Caller for it with every
// hook set, and the server's URL.
func newCaller(t *testing.T, h http.HandlerFunc) (*Caller, *budget, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b := &budget{}
	return &Caller{
		HTTP:      srv.Client(),
		Budget:    b,
		BudgetKey: "v:acct:*",
		Limit:     ratelimit.PerWindow(10, time.Second),
		MaxWait:   time.Second,
		Authorize: func(r *http.Request) { r.Header.Set("X-Token", "tok") },
		Observe:   WindowHeaders{Remaining: hdrLeft, Reset: hdrReset, Unit: time.Millisecond}.Observe,
		Classify: func(r *http.Response) (errs.Kind, time.Duration) {
			if r.StatusCode == http.StatusTooManyRequests {
				return errs.Transient, 7 * time.Second
			}
			return StatusKind(r.StatusCode), 0
		},
		Message: func(b []byte) string {
			var m struct{ Message string }
			_ = json.Unmarshal(b, &m)
			return m.Message
		},
	}, b, srv.URL
}

func TestDoSendsAndDecodes(t *testing.T) {
	c, b, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/things" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		for k, want := range map[string]string{"X-Token": "tok", "Accept": "application/json", "Content-Type": "application/json"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if body, _ := io.ReadAll(r.Body); string(body) != `{"n":1}` {
			t.Errorf("body = %s", body)
		}
		w.Header().Set(hdrLeft, "9")
		w.Header().Set(hdrReset, "1500")
		io.WriteString(w, `{"id":42}`)
	})
	var out struct{ ID int }
	status, err := c.Do(context.Background(), "v.Create", "thing", http.MethodPost, url+"/things", map[string]int{"n": 1}, &out)
	if err != nil || status != 200 || out.ID != 42 {
		t.Fatalf("status %d, out %+v, err %v", status, out, err)
	}
	if want := []string{"v:acct:*#1"}; !slices.Equal(b.takes, want) {
		t.Errorf("takes = %v, want %v", b.takes, want)
	}
	if want := []observation{{"v:acct:*", 9, 1500 * time.Millisecond}}; !slices.Equal(b.observes, want) {
		t.Errorf("observes = %+v, want %+v", b.observes, want)
	}
}

func TestDoWithoutBodyOrHooks(t *testing.T) {
	c, _, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "" || r.Header.Get("X-Token") != "" {
			t.Errorf("headers = %v", r.Header)
		}
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"message":"taken"}`)
	})
	c.Budget, c.Authorize, c.Classify, c.Message = nil, nil, nil, nil
	c.Observe = func(*http.Response) (int, time.Duration, bool) {
		t.Error("Observe called without a Budget")
		return 0, 0, false
	}
	status, err := c.Do(context.Background(), "v.Get", "", http.MethodGet, url, nil, nil)
	if status != http.StatusConflict || !errs.Is(err, errs.Invalid) || err.Error() != "v.Get: invalid: HTTP 409" {
		t.Fatalf("status %d, err %v", status, err)
	}
}

func TestObserve(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		want   []observation
	}{
		{"both", 200, http.Header{hdrLeft: {"3"}, hdrReset: {"250"}}, []observation{{"v:acct:*", 3, 250 * time.Millisecond}}},
		{"left only", 200, http.Header{hdrLeft: {" 3 "}}, []observation{{"v:acct:*", 3, 0}}},
		{"429 reset only", 429, http.Header{hdrReset: {"4200"}}, []observation{{"v:acct:*", 0, 4200 * time.Millisecond}}},
		{"reset only", 200, http.Header{hdrReset: {"4200"}}, nil},
		{"malformed", 200, http.Header{hdrLeft: {"-1"}, hdrReset: {"x"}}, nil},
		{"none", 500, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, b, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) {
				maps.Copy(w.Header(), tc.header)
				w.WriteHeader(tc.status)
			})
			c.Do(context.Background(), "v.Get", "x", http.MethodGet, url, nil, nil)
			if !slices.Equal(b.observes, tc.want) {
				t.Errorf("observes = %+v, want %+v", b.observes, tc.want)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	hits := 0
	c, b, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	c.MaxWait = 0

	b.wait = 5 * time.Second
	_, err := c.Do(context.Background(), "v.Get", "order 1", http.MethodGet, url, nil, nil)
	var d *ratelimit.ErrDeferred
	if !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 5*time.Second || !errors.As(err, &d) {
		t.Errorf("deferred: %v (retry %v)", err, errs.RetryAfterOf(err))
	}

	b.wait, b.err = 0, errs.E(errs.Unauthorised, "dynamo.Take", errors.New("denied"))
	_, err = c.Do(context.Background(), "v.Get", "order 1", http.MethodGet, url, nil, nil)
	if !errs.Is(err, errs.Unauthorised) || !strings.HasPrefix(err.Error(), "v.Get: unauthorised: order 1: rate budget: ") {
		t.Errorf("classified budget error: %v", err)
	}

	b.err = errors.New("boom")
	_, err = c.Do(context.Background(), "v.Get", "order 1", http.MethodGet, url, nil, nil)
	if !errs.Is(err, errs.Transient) || err.Error() != "v.Get: transient: order 1: rate budget: boom" {
		t.Errorf("unclassified budget error: %v", err)
	}
	if hits != 0 {
		t.Errorf("%d requests sent without budget", hits)
	}
}

func TestNoContent(t *testing.T) {
	c, b, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hdrLeft, "1")
		w.WriteHeader(http.StatusNoContent)
	})
	out := struct{ ID int }{ID: 5}
	status, err := c.Do(context.Background(), "v.Get", "x", http.MethodGet, url, nil, &out)
	if err != nil || status != http.StatusNoContent || out.ID != 5 || len(b.observes) != 1 {
		t.Fatalf("status %d, out %+v, err %v, observes %v", status, out, err, b.observes)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		body string
		kind errs.Kind
	}{
		{"cut short", `{"id":`, errs.Transient},
		{"syntax", `{"id":}`, errs.Invalid},
		{"type", `{"id":"x"}`, errs.Invalid},
		{"field", `{"id":1,"f":1}`, errs.Invalid},
		{"empty", ``, errs.Invalid},
		{"too large", `"` + strings.Repeat("x", maxBody) + `"`, errs.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) })
			var out struct {
				ID int
				F  strictField
			}
			status, err := c.Do(context.Background(), "v.Get", "x", http.MethodGet, url, nil, &out)
			if status != 200 || errs.KindOf(err) != tc.kind || !strings.HasPrefix(text(err), "v.Get: ") || !strings.Contains(text(err), ": x: HTTP 200: decode response: ") {
				t.Errorf("status %d, kind %v, err %v", status, errs.KindOf(err), err)
			}
			if got := errors.Is(err, ErrEmptyBody); got != (tc.name == "empty") {
				t.Errorf("ErrEmptyBody in chain = %v", got)
			}
		})
	}
}

// strictField rejects every value with a FieldError.
type strictField struct{}

func (*strictField) UnmarshalJSON([]byte) error { return FieldError("not wanted") }

// text returns err's text, or "" for nil.
func text(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestTransportAndRequestErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Caller{HTTP: &http.Client{}}
	if _, err := c.Do(context.Background(), "v.Get", "x", http.MethodGet, url, nil, nil); !errs.Is(err, errs.Transient) {
		t.Errorf("refused: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Do(ctx, "v.Get", "x", http.MethodGet, url, nil, nil); !errs.Is(err, errs.Transient) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := c.Do(context.Background(), "v.Get", "x", "BAD METHOD", url, nil, nil); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "build request") {
		t.Errorf("bad method: %v", err)
	}
	b := &budget{}
	c.Budget = b
	if _, err := c.Do(context.Background(), "v.Get", "x", http.MethodPost, url, func() {}, nil); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "encode request") {
		t.Errorf("unencodable body: %v", err)
	}
	if len(b.takes) != 0 {
		t.Errorf("budget taken for a request never sent: %v", b.takes)
	}
}

func TestErrorResponses(t *testing.T) {
	long := strings.Repeat("word\n ", 200)
	cases := []struct {
		name   string
		status int
		body   string
		kind   errs.Kind
		retry  time.Duration
		text   string
	}{
		{"message", 400, `{"message":"  bad\tfield  "}`, errs.Invalid, 0, "v.Get: invalid: order 1: HTTP 400: bad field"},
		{"no message", 404, `<html>jane@example.com</html>`, errs.NotFound, 0, "v.Get: not_found: order 1: HTTP 404"},
		{"retry", 429, ``, errs.Transient, 7 * time.Second, "v.Get: transient: order 1: HTTP 429"},
		{"truncated", 500, `{"message":"` + strings.ReplaceAll(long, "\n", `\n`) + `"}`, errs.Transient, 0,
			"v.Get: transient: order 1: HTTP 500: " + strings.Repeat("word ", 60) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, url := newCaller(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			status, err := c.Do(context.Background(), "v.Get", "order 1", http.MethodGet, url, nil, nil)
			if status != tc.status || errs.KindOf(err) != tc.kind || errs.RetryAfterOf(err) != tc.retry {
				t.Errorf("status %d, kind %v, retry %v: %v", status, errs.KindOf(err), errs.RetryAfterOf(err), err)
			}
			if text(err) != tc.text {
				t.Errorf("text\n got %q\nwant %q", text(err), tc.text)
			}
		})
	}
}

func TestStatusKind(t *testing.T) {
	for status, want := range map[int]errs.Kind{
		301: errs.Other, 400: errs.Invalid, 401: errs.Unauthorised, 403: errs.Unauthorised,
		404: errs.NotFound, 408: errs.Transient, 409: errs.Invalid, 422: errs.Invalid,
		429: errs.Transient, 500: errs.Transient, 503: errs.Transient,
	} {
		if got := StatusKind(status); got != want {
			t.Errorf("StatusKind(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "12": 12 * time.Second, "86400": 24 * time.Hour, "86401": 0,
		"-3": 0, "1.5": 0, "Wed, 21 Oct 2026 07:28:00 GMT": 0,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := RetryAfter(h); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestReadsRetryPassingFaultsWritesDoNot(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := &Caller{HTTP: srv.Client()}
	var out struct{ OK bool }
	if _, err := c.Do(context.Background(), "op", "x", http.MethodGet, srv.URL, nil, &out); err != nil || !out.OK {
		t.Fatalf("GET after two 502s: %v %+v", err, out)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("GET made %d requests, want 3", n)
	}
	calls.Store(0)
	if _, err := c.Do(context.Background(), "op", "x", http.MethodPost, srv.URL, map[string]int{"a": 1}, &out); !errs.Is(err, errs.Transient) {
		t.Fatalf("POST after a 502: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("POST made %d requests, want 1 (writes are not repeated here)", n)
	}
}
