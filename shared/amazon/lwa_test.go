package amazon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

const (
	testSecret  = "amzn1.oa2-cs.v1.SECRETSECRET"
	testRefresh = "Atzr|REFRESHREFRESH"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lwaServer issues "tok-<n>" for the n-th request, checking the form.
func lwaServer(t *testing.T, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/auth/o2/token" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("client_id") != "app-id" ||
			r.PostForm.Get("client_secret") != testSecret || r.PostForm.Get("refresh_token") != testRefresh {
			t.Errorf("form %v", r.PostForm)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"Atza|tok-%d","refresh_token":"x","token_type":"bearer","expires_in":3600}`, n)
	}))
}

func newLWA(url string, clk *fakeClock) *LWA {
	return &LWA{BaseURL: url, ClientID: "app-id", ClientSecret: testSecret, RefreshToken: testRefresh, Now: clk.Now}
}

func TestLWACachesUntilMarginBeforeExpiry(t *testing.T) {
	var calls atomic.Int32
	srv := lwaServer(t, &calls)
	defer srv.Close()
	clk := &fakeClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	l := newLWA(srv.URL, clk)
	ctx := context.Background()

	tok, err := l.Token(ctx)
	if err != nil || tok != "Atza|tok-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	clk.Add(3600*time.Second - tokenMargin - time.Second)
	if tok, _ := l.Token(ctx); tok != "Atza|tok-1" || calls.Load() != 1 {
		t.Fatalf("not cached: %q after %d calls", tok, calls.Load())
	}
	clk.Add(time.Second)
	if tok, _ := l.Token(ctx); tok != "Atza|tok-2" {
		t.Fatalf("not refreshed at expiry-60s: %q", tok)
	}
	l.Invalidate("Atza|tok-1") // stale: keeps tok-2
	if tok, _ := l.Token(ctx); tok != "Atza|tok-2" {
		t.Fatalf("stale Invalidate dropped the fresh token: %q", tok)
	}
	l.Invalidate("Atza|tok-2")
	if tok, _ := l.Token(ctx); tok != "Atza|tok-3" {
		t.Fatalf("Invalidate did not force a refresh: %q", tok)
	}
}

func TestLWAConcurrentCallersShareOneRefresh(t *testing.T) {
	var calls atomic.Int32
	srv := lwaServer(t, &calls)
	defer srv.Close()
	l := newLWA(srv.URL, &fakeClock{t: time.Now()})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := l.Token(context.Background()); err != nil || tok != "Atza|tok-1" {
				t.Errorf("Token = %q, %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d refreshes", n)
	}
}

func TestLWAErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		kind   errs.Kind
		want   string
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}`, errs.Unauthorised, ReauthoriseMessage},
		{"unauthorized_client", 400, `{"error":"unauthorized_client","error_description":"Not authorized for requested operation"}`, errs.Unauthorised, "re-authorise shiprelay in Seller Central"},
		{"invalid_client", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`, errs.Unauthorised, "client id or secret"},
		{"server error", 500, `{"error":"server_error"}`, errs.Transient, "HTTP 500: server_error"},
		{"unavailable html", 503, `<html>down</html>`, errs.Transient, "HTTP 503"},
		{"throttled", 429, ``, errs.Transient, "HTTP 429"},
		{"invalid_request", 400, `{"error":"invalid_request","error_description":"echo ` + testSecret + `"}`, errs.Invalid, "invalid_request"},
		{"200 without token", 200, `{"token_type":"bearer"}`, errs.Invalid, "no access token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			_, err := newLWA(srv.URL, &fakeClock{t: time.Now()}).Token(context.Background())
			if !errs.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want %v containing %q", err, c.kind, c.want)
			}
			noSecrets(t, err)
		})
	}
}

func TestLWATimeoutIsTransient(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	l := newLWA(srv.URL, &fakeClock{t: time.Now()})
	l.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	_, err := l.Token(context.Background())
	if !errs.Is(err, errs.Transient) {
		t.Fatalf("err = %v", err)
	}
	noSecrets(t, err)
}

func TestLWANotConfigured(t *testing.T) {
	_, err := (&LWA{ClientID: "x"}).Token(context.Background())
	if !errs.Is(err, errs.Unauthorised) {
		t.Fatalf("err = %v", err)
	}
}

func noSecrets(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{testSecret, testRefresh, "SECRET", "REFRESH", "Atza|"} {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
	}
}
