// Package errs classifies failures once, at the adapter edge, into the kinds
// that decide what happens next: retry (Transient), record an exception and
// stop (Invalid), pause the store (Unauthorised).
//
// Adapters wrap every error they return with E; the rest of the code asks
// KindOf and never inspects HTTP status codes or SDK error types itself.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the class of a failure.
type Kind int

// The kinds of failure. Other means "not classified": it is treated as
// transient by the retry policy, since an unknown failure must not lose work.
const (
	Other        Kind = iota // unclassified; retried like Transient
	Transient                // 429, 5xx, timeouts, connection errors: retry with backoff
	Invalid                  // the remote side rejected the data: exception, no retry
	Unauthorised             // credentials revoked or expired: pause the store
	NotFound                 // the thing asked for does not exist
	Conflict                 // a conditional write lost; the caller re-reads
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Invalid:
		return "invalid"
	case Unauthorised:
		return "unauthorised"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	}
	return "other"
}

// Error is a classified error with the operation that failed.
type Error struct {
	Kind Kind
	// Op names the operation, e.g. "bigcommerce.GetOrder".
	Op string
	// RetryAfter, when positive, is how long the remote side asked us to wait.
	RetryAfter time.Duration
	// Err is the underlying error.
	Err error
}

// E builds a classified error. err may be nil when msg says it all.
func E(kind Kind, op string, err error) *Error {
	return &Error{Kind: kind, Op: op, Err: err}
}

// Ef builds a classified error from a format string.
func Ef(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Err: fmt.Errorf(format, args...)}
}

// WithRetryAfter returns a copy of e that carries the wait the remote asked for.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s", e.Op, e.Kind)
	}
	return fmt.Sprintf("%s: %s: %v", e.Op, e.Kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the outermost classified error in err's chain,
// or Other when none is classified.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Is reports whether err is classified as kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// RetryAfterOf returns the longest wait requested anywhere in err's chain.
func RetryAfterOf(err error) time.Duration {
	var best time.Duration
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			break
		}
		if e.RetryAfter > best {
			best = e.RetryAfter
		}
		err = e.Err
	}
	return best
}

// Retryable reports whether the retry policy should try err again.
func Retryable(err error) bool {
	switch KindOf(err) {
	case Transient, Other, Conflict:
		return true
	}
	return false
}
