package retry

import (
	"errors"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

func TestBackoffBoundsGrowAndCap(t *testing.T) {
	one := func() float64 { return 0.999999 }
	p := Policy{Base: time.Second, Cap: 10 * time.Second, Rand: one}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		got := p.Backoff(i + 1)
		if got > w || got < w*99/100 {
			t.Errorf("attempt %d: got %v, want ≈%v", i+1, got, w)
		}
	}
	if got := p.Backoff(500); got > 10*time.Second {
		t.Errorf("huge attempt not capped: %v", got)
	}
	zero := Policy{Base: time.Second, Cap: time.Minute, Rand: func() float64 { return 0 }}
	if got := zero.Backoff(3); got != 0 {
		t.Errorf("full jitter lower bound: got %v", got)
	}
}

func TestDelayHonoursRetryAfter(t *testing.T) {
	p := Policy{Base: time.Second, Cap: time.Minute, Rand: func() float64 { return 0 }}
	err := errs.E(errs.Transient, "x", errors.New("429")).WithRetryAfter(7 * time.Second)
	if got := p.Delay(err, 1); got != 7*time.Second {
		t.Fatalf("got %v, want 7s", got)
	}
	long := errs.E(errs.Transient, "x", nil).WithRetryAfter(time.Hour)
	if got := p.Delay(long, 1); got != time.Minute {
		t.Fatalf("cap not applied: %v", got)
	}
}
