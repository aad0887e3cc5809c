package ratelimit

import (
	"testing"
	"time"
)

func TestBucketStartsFullRefillsAndWaits(t *testing.T) {
	lim := PerWindow(40, time.Minute) // 0.667/s, burst 40
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var b Bucket
	for i := 0; i < 40; i++ {
		var w time.Duration
		b, w = b.Take(lim, 1, t0)
		if w != 0 {
			t.Fatalf("take %d refused (wait %v)", i, w)
		}
	}
	b2, w := b.Take(lim, 1, t0)
	if w <= 0 || w > 1500*time.Millisecond {
		t.Fatalf("41st take: wait %v, want ≈1.5s", w)
	}
	if b2.Tokens != b.Tokens {
		t.Fatal("a refused take consumed tokens")
	}
	b, w = b.Take(lim, 1, t0.Add(1500*time.Millisecond))
	if w != 0 {
		t.Fatalf("after refill: wait %v", w)
	}
	// Never more than the burst, however long idle.
	b = b.Refill(lim, t0.Add(24*time.Hour))
	if b.Tokens != 40 {
		t.Fatalf("tokens after idle = %v", b.Tokens)
	}
}

func TestObserveCorrectsFromHeaders(t *testing.T) {
	lim := PerWindow(40, time.Minute)
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	b := Bucket{}.Refill(lim, t0)
	b = b.Observe(lim, 5, 30*time.Second, t0)
	if b.Tokens != 5 {
		t.Fatalf("tokens = %v, want 5 (the API's Remaining)", b.Tokens)
	}
	b = b.Observe(lim, 0, 30*time.Second, t0)
	_, w := b.Take(lim, 1, t0.Add(10*time.Second))
	if w < 20*time.Second {
		t.Fatalf("blocked bucket gave wait %v, want ≥20s until reset", w)
	}
	if _, w := b.Take(lim, 1, t0.Add(31*time.Second)); w != 0 {
		t.Fatalf("after reset: wait %v", w)
	}
	// Observe never raises the bucket above what it holds.
	b = Bucket{Tokens: 3, Updated: t0}
	if got := b.Observe(lim, 39, time.Second, t0).Tokens; got != 3 {
		t.Fatalf("observe raised tokens to %v", got)
	}
}
