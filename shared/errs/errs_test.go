package errs_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

func TestKindOfThroughWrapping(t *testing.T) {
	base := errs.E(errs.Invalid, "bigcommerce.GetOrder", io.ErrUnexpectedEOF)
	cases := []struct {
		name string
		err  error
		want errs.Kind
	}{
		{"nil", nil, errs.Other},
		{"unclassified", io.EOF, errs.Other},
		{"direct", base, errs.Invalid},
		{"fmt %w once", fmt.Errorf("fetch: %w", base), errs.Invalid},
		{"fmt %w twice", fmt.Errorf("ingest: %w", fmt.Errorf("fetch: %w", base)), errs.Invalid},
		{"fmt %v loses the kind", fmt.Errorf("fetch: %v", base), errs.Other},
		{"outermost classified wins", errs.E(errs.Transient, "push", fmt.Errorf("x: %w", base)), errs.Transient},
		{"Ef", errs.Ef(errs.NotFound, "op", "order %d", 7), errs.NotFound},
		{"conflict wrapped", fmt.Errorf("w: %w", errs.E(errs.Conflict, "dynamo", nil)), errs.Conflict},
		{"unauthorised wrapped", fmt.Errorf("w: %w", errs.E(errs.Unauthorised, "ss", nil)), errs.Unauthorised},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := errs.KindOf(c.err); got != c.want {
				t.Errorf("KindOf = %v, want %v", got, c.want)
			}
			if c.err != nil && !errs.Is(c.err, c.want) {
				t.Errorf("Is(err, %v) = false", c.want)
			}
		})
	}
	if errs.Is(nil, errs.Other) {
		t.Error("Is(nil, Other) = true; a nil error is of no kind")
	}
	// The underlying error stays reachable through the classification.
	if !errors.Is(fmt.Errorf("w: %w", base), io.ErrUnexpectedEOF) {
		t.Error("errors.Is cannot reach the wrapped cause")
	}
}

func TestRetryAfterOfPicksLongest(t *testing.T) {
	inner := errs.E(errs.Transient, "shipstation", errors.New("HTTP 429")).WithRetryAfter(45 * time.Second)
	mid := fmt.Errorf("createorders: %w", inner)
	outer := errs.E(errs.Transient, "push", mid).WithRetryAfter(2 * time.Second)
	if got := errs.RetryAfterOf(outer); got != 45*time.Second {
		t.Errorf("RetryAfterOf(outer 2s, inner 45s) = %v, want 45s", got)
	}
	outer2 := errs.E(errs.Transient, "push", mid).WithRetryAfter(time.Minute)
	if got := errs.RetryAfterOf(fmt.Errorf("wrapped: %w", outer2)); got != time.Minute {
		t.Errorf("RetryAfterOf(outer 1m, inner 45s) = %v, want 1m", got)
	}
	if got := errs.RetryAfterOf(errs.E(errs.Transient, "x", io.EOF)); got != 0 {
		t.Errorf("RetryAfterOf without a wait = %v, want 0", got)
	}
	if got := errs.RetryAfterOf(nil); got != 0 {
		t.Errorf("RetryAfterOf(nil) = %v", got)
	}
	if got := errs.RetryAfterOf(io.EOF); got != 0 {
		t.Errorf("RetryAfterOf(unclassified) = %v", got)
	}
}

func TestWithRetryAfterCopies(t *testing.T) {
	e := errs.E(errs.Transient, "op", nil)
	c := e.WithRetryAfter(time.Second)
	if e.RetryAfter != 0 {
		t.Errorf("WithRetryAfter changed the original: %v", e.RetryAfter)
	}
	if c.RetryAfter != time.Second || c.Kind != errs.Transient || c.Op != "op" {
		t.Errorf("copy = %+v", *c)
	}
}

func TestRetryablePerKind(t *testing.T) {
	want := map[errs.Kind]bool{
		errs.Other:        true, // unknown failures must not lose work
		errs.Transient:    true,
		errs.Conflict:     true,
		errs.Invalid:      false,
		errs.Unauthorised: false,
		errs.NotFound:     false,
	}
	for k, w := range want {
		err := fmt.Errorf("wrapped: %w", errs.E(k, "op", io.EOF))
		if k == errs.Other {
			err = fmt.Errorf("wrapped: %w", io.EOF)
		}
		if got := errs.Retryable(err); got != w {
			t.Errorf("Retryable(%v) = %v, want %v", k, got, w)
		}
	}
}

func TestKindStringAndError(t *testing.T) {
	names := map[errs.Kind]string{
		errs.Other: "other", errs.Transient: "transient", errs.Invalid: "invalid",
		errs.Unauthorised: "unauthorised", errs.NotFound: "not_found", errs.Conflict: "conflict",
		errs.Kind(99): "other",
	}
	for k, n := range names {
		if k.String() != n {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), n)
		}
	}
	if got := errs.E(errs.Invalid, "push", errors.New("bad weight")).Error(); got != "push: invalid: bad weight" {
		t.Errorf("Error() = %q", got)
	}
	if got := errs.E(errs.Unauthorised, "ss", nil).Error(); got != "ss: unauthorised" {
		t.Errorf("Error() without cause = %q", got)
	}
	if got := errs.Ef(errs.NotFound, "op", "order %d", 42).Error(); !strings.Contains(got, "order 42") {
		t.Errorf("Ef message lost: %q", got)
	}
}
