// Package ratelimit holds the token-bucket arithmetic of the shared rate
// budget. Every concurrent invocation that calls the same (API, account,
// operation) draws from one bucket, stored in DynamoDB by package dynamo;
// this package is the pure math, with no I/O.
package ratelimit

import (
	"context"
	"math"
	"time"
)

// Limit is a token bucket's refill rate and capacity.
type Limit struct {
	// Rate is tokens added per second.
	Rate float64 `json:"rate" yaml:"rate"`
	// Burst is the bucket's capacity.
	Burst float64 `json:"burst" yaml:"burst"`
}

// PerWindow builds the Limit of an API that allows n requests per window.
func PerWindow(n int, window time.Duration) Limit {
	return Limit{Rate: float64(n) / window.Seconds(), Burst: float64(n)}
}

// Bucket is the stored state of one bucket.
type Bucket struct {
	Tokens  float64   `json:"tokens"`
	Updated time.Time `json:"updated"`
	// BlockedUntil is set when the API said it is exhausted (a 429 or
	// Remaining 0): no token is handed out before it.
	BlockedUntil time.Time `json:"blockedUntil"`
}

// Refill returns b advanced to now under lim. A new bucket (zero Updated)
// starts full.
func (b Bucket) Refill(lim Limit, now time.Time) Bucket {
	if b.Updated.IsZero() {
		return Bucket{Tokens: lim.Burst, Updated: now, BlockedUntil: b.BlockedUntil}
	}
	if now.After(b.Updated) {
		b.Tokens = math.Min(lim.Burst, b.Tokens+now.Sub(b.Updated).Seconds()*lim.Rate)
		b.Updated = now
	}
	return b
}

// Take tries to take n tokens at now. It returns the new bucket and zero
// when granted; otherwise the bucket unchanged (but refilled) and how long
// until n tokens will be there.
func (b Bucket) Take(lim Limit, n float64, now time.Time) (Bucket, time.Duration) {
	b = b.Refill(lim, now)
	if now.Before(b.BlockedUntil) {
		wait := b.BlockedUntil.Sub(now)
		if b.Tokens < n && lim.Rate > 0 {
			wait = max(wait, time.Duration((n-b.Tokens)/lim.Rate*float64(time.Second)))
		}
		return b, wait
	}
	if b.Tokens >= n {
		b.Tokens -= n
		return b, 0
	}
	if lim.Rate <= 0 {
		return b, time.Hour
	}
	return b, time.Duration(math.Ceil((n - b.Tokens) / lim.Rate * float64(time.Second)))
}

// Observe corrects b from what the API reported: remaining requests in the
// current window and the time until it resets. The bucket never holds more
// than the API says remain; with none remaining it is blocked until reset.
func (b Bucket) Observe(lim Limit, remaining int, reset time.Duration, now time.Time) Bucket {
	b = b.Refill(lim, now)
	if remaining >= 0 && float64(remaining) < b.Tokens {
		b.Tokens = float64(remaining)
	}
	if remaining <= 0 && reset > 0 {
		until := now.Add(reset)
		if until.After(b.BlockedUntil) {
			b.BlockedUntil = until
		}
		b.Tokens = 0
	}
	return b
}

// Budget is the shared rate budget. Keys name (API, account, operation),
// e.g. "shipstation:main:*".
type Budget interface {
	// Take takes n tokens from key's bucket. It returns 0 when granted, else
	// how long to wait before trying again (nothing taken).
	Take(ctx context.Context, key string, lim Limit, n int) (time.Duration, error)
	// Observe corrects key's bucket from the API's rate-limit headers.
	Observe(ctx context.Context, key string, lim Limit, remaining int, reset time.Duration) error
}

// Wait takes n tokens from key, sleeping while the wait is short. When the
// wait would exceed maxWait it returns an ErrDeferred carrying the wait, so
// the caller can put the work back on its queue instead of holding a Lambda.
func Wait(ctx context.Context, b Budget, key string, lim Limit, n int, maxWait time.Duration) error {
	deadline := time.Now().Add(maxWait)
	for {
		wait, err := b.Take(ctx, key, lim, n)
		if err != nil {
			return err
		}
		if wait <= 0 {
			return nil
		}
		if time.Now().Add(wait).After(deadline) {
			return &ErrDeferred{Key: key, Wait: wait}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ErrDeferred says the budget has no room now; try again after Wait.
type ErrDeferred struct {
	Key  string
	Wait time.Duration
}

func (e *ErrDeferred) Error() string {
	return "rate budget " + e.Key + " exhausted; retry in " + e.Wait.Round(time.Millisecond).String()
}
