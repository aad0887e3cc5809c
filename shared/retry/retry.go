// Package retry is shiprelay's one retry policy: exponential backoff with
// full jitter, capped, never shorter than what the remote side asked for.
// SQS consumers turn the delay into the message's visibility timeout, so a
// retry holds no Lambda and loses nothing.
package retry

import (
	"math/rand/v2"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// Policy holds the backoff parameters.
type Policy struct {
	// Base is the first attempt's upper bound (default 2 s).
	Base time.Duration
	// Cap bounds every delay (default 15 min).
	Cap time.Duration
	// Rand returns a value in [0, 1); nil means math/rand/v2.
	Rand func() float64
}

// Default is the policy every consumer uses unless a test overrides it.
var Default = Policy{Base: 2 * time.Second, Cap: 15 * time.Minute}

// Backoff returns the delay before attempt (1-based): a uniformly random
// duration in [0, min(Cap, Base·2^(attempt-1))] ("full jitter").
func (p Policy) Backoff(attempt int) time.Duration {
	base, limit := p.Base, p.Cap
	if base <= 0 {
		base = 2 * time.Second
	}
	if limit <= 0 {
		limit = 15 * time.Minute
	}
	if attempt < 1 {
		attempt = 1
	}
	ceil := limit
	if attempt < 40 {
		if d := base << (attempt - 1); d > 0 && d < limit {
			ceil = d
		}
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return time.Duration(r() * float64(ceil))
}

// Max is the longest delay the policy gives.
func (p Policy) Max() time.Duration {
	if p.Cap <= 0 {
		return 15 * time.Minute
	}
	return p.Cap
}

// Delay returns how long to wait before retrying err at attempt: the
// backoff, but never less than the remote's requested wait, and never more
// than Cap.
func (p Policy) Delay(err error, attempt int) time.Duration {
	d := p.Backoff(attempt)
	if ra := errs.RetryAfterOf(err); ra > d {
		d = ra
	}
	return min(d, p.Max())
}
