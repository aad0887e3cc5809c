package bigcommerce

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

func channelServer(t *testing.T, calls *atomic.Int64, status func(id string) int) *Client {
	t.Helper()
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		calls.Add(1)
		id, ok := strings.CutPrefix(r.URL.Path, "/stores/"+testHash+"/v3/channels/")
		if !ok || r.Method != http.MethodGet {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		rateHeaders(w, 100, 1000)
		switch s := status(id); s {
		case http.StatusOK:
			platform := map[string]string{"3": "amazon", "4": "ebay"}[id]
			_, _ = w.Write([]byte(`{"data":{"id":` + id + `,"name":"Chan","platform":"` + platform + `","type":"marketplace","status":"connected","icon_url":"x"},"meta":{}}`))
		case http.StatusNotFound:
			w.WriteHeader(s)
			_, _ = w.Write([]byte(`{"status":404,"title":"Not found","type":"https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes","errors":{}}`))
		default:
			w.WriteHeader(s)
		}
	})
	return c
}

func TestClientChannel(t *testing.T) {
	var calls atomic.Int64
	c := channelServer(t, &calls, func(id string) int {
		switch id {
		case "3", "4":
			return http.StatusOK
		case "5":
			return http.StatusForbidden
		case "6":
			return http.StatusServiceUnavailable
		}
		return http.StatusNotFound
	})
	ctx := context.Background()
	ch, err := c.Channel(ctx, 3)
	if err != nil || ch != (Channel{ID: 3, Name: "Chan", Platform: "amazon", Type: "marketplace", Status: "connected"}) {
		t.Fatalf("channel 3: %+v %v", ch, err)
	}
	budget := c.Budget.(*fakeBudget)
	if len(budget.takes) != 1 || budget.takes[0] != "bigcommerce:s1:*#1" {
		t.Errorf("budget takes %v: the V3 call must draw on the store's one bucket", budget.takes)
	}
	if _, err := c.Channel(ctx, 99); !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "channel 99") {
		t.Errorf("404: %v", err)
	}
	if _, err := c.Channel(ctx, 5); !errs.Is(err, errs.Unauthorised) {
		t.Errorf("403: %v", err)
	}
	if _, err := c.Channel(ctx, 6); !errs.Is(err, errs.Transient) {
		t.Errorf("503: %v", err)
	}
	n := calls.Load()
	if _, err := c.Channel(ctx, 0); !errs.Is(err, errs.Invalid) || calls.Load() != n {
		t.Errorf("id 0: %v (calls %d → %d)", err, n, calls.Load())
	}
}

func TestClientChannelRejectsAnotherChannelsAnswer(t *testing.T) {
	c, _, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":{"id":8,"platform":"amazon"}}`))
	})
	if _, err := c.Channel(context.Background(), 3); !errs.Is(err, errs.Invalid) {
		t.Errorf("mismatched id: %v", err)
	}
	c, _, _ = newClient(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"meta":{}}`)) })
	if _, err := c.Channel(context.Background(), 3); !errs.Is(err, errs.Invalid) {
		t.Errorf("no data: %v", err)
	}
}

func TestChannelCache(t *testing.T) {
	var calls atomic.Int64
	var fail atomic.Bool
	c := channelServer(t, &calls, func(id string) int {
		if fail.Load() {
			return http.StatusBadGateway
		}
		if id == "3" || id == "4" {
			return http.StatusOK
		}
		return http.StatusNotFound
	})
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	cc := &ChannelCache{Now: func() time.Time { return now }}
	ctx := context.Background()

	for _, id := range []int64{0, 1} {
		ch, err := cc.Lookup(ctx, c, id)
		if err != nil || ch.OriginPlatform() != PlatformBigCommerce {
			t.Errorf("channel %d: %+v %v", id, ch, err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("storefront looked up: %d calls", calls.Load())
	}
	if _, err := cc.Lookup(ctx, c, -2); !errs.Is(err, errs.Invalid) || calls.Load() != 0 {
		t.Errorf("negative id: %v", err)
	}

	// Many concurrent lookups of one channel: one request.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if ch, err := cc.Lookup(ctx, c, 3); err != nil || ch.Platform != "amazon" {
				t.Errorf("lookup 3: %+v %v", ch, err)
			}
		})
	}
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Errorf("20 lookups of channel 3 made %d calls, want 1", got)
	}
	// A 404 is remembered as well.
	for range 3 {
		if _, err := cc.Lookup(ctx, c, 42); !errs.Is(err, errs.NotFound) {
			t.Errorf("lookup 42: %v", err)
		}
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("calls = %d, want 2 (the 404 remembered)", got)
	}
	// A transient failure is not remembered.
	fail.Store(true)
	for range 2 {
		if _, err := cc.Lookup(ctx, c, 4); !errs.Is(err, errs.Transient) {
			t.Errorf("lookup 4 during an outage: %v", err)
		}
	}
	if got := calls.Load(); got < 4 {
		t.Errorf("calls = %d: a transient failure was remembered", got)
	}
	fail.Store(false)
	if ch, err := cc.Lookup(ctx, c, 4); err != nil || ch.Platform != "ebay" {
		t.Errorf("lookup 4 after the outage: %+v %v", ch, err)
	}
	// Answers expire after the TTL.
	before := calls.Load()
	now = now.Add(DefaultChannelTTL - time.Second)
	if _, err := cc.Lookup(ctx, c, 3); err != nil || calls.Load() != before {
		t.Errorf("within the TTL: %v, %d calls", err, calls.Load()-before)
	}
	now = now.Add(2 * time.Second)
	if _, err := cc.Lookup(ctx, c, 3); err != nil || calls.Load() != before+1 {
		t.Errorf("after the TTL: %v, %d calls", err, calls.Load()-before)
	}
}
