package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/runner/schedule"
	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// scheduleEntry is one Schedule event.
type scheduleEntry struct {
	fn      *function
	event   string
	sched   *schedule.Schedule
	every   time.Duration // override of the period (0: the expression's)
	enabled bool
	input   string // constant input; "" sends the scheduled event
	ruleARN string
}

func (r *Runner) newSchedule(fn *function, ev samtemplate.Event, res samtemplate.Resolver) (*scheduleEntry, error) {
	expr, err := ev.Schedule.Schedule.String(res)
	if err != nil {
		return nil, fmt.Errorf("property Schedule: %w", err)
	}
	sched, err := schedule.Parse(expr)
	if err != nil {
		return nil, err
	}
	s := &scheduleEntry{
		fn: fn, event: ev.Name, sched: sched, enabled: true,
		ruleARN: fmt.Sprintf("arn:aws:events:%s:%s:rule/%s-%s%s", r.cfg.Region, r.cfg.AccountID, r.cfg.StackName, fn.fn.LogicalID, ev.Name),
	}
	if ev.Schedule.Enabled.IsSet() {
		on, err := ev.Schedule.Enabled.String(res)
		if err != nil {
			return nil, fmt.Errorf("property Enabled: %w", err)
		}
		s.enabled = on != "false"
	}
	if ev.Schedule.Input.IsSet() {
		if s.input, err = ev.Schedule.Input.String(res); err != nil {
			return nil, fmt.Errorf("property Input: %w", err)
		}
		if !json.Valid([]byte(s.input)) {
			return nil, errors.New("property Input is not JSON")
		}
	}
	for key, d := range r.cfg.ScheduleEvery {
		if r.lookup(key) == fn {
			if d <= 0 {
				return nil, fmt.Errorf("-schedule-every %s=%s: the period must be positive", key, d)
			}
			s.every = d
		}
	}
	return s, nil
}

func (s *scheduleEntry) describe() string {
	d := s.sched.Expr
	if s.every > 0 {
		d += fmt.Sprintf(" [every %s]", s.every)
	}
	if !s.enabled {
		d += " [disabled]"
	}
	return d
}

// next returns the firing time after t.
func (s *scheduleEntry) next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every)
	}
	return s.sched.Next(t)
}

// runSchedule fires the function on its schedule until ctx is cancelled. A
// firing does not wait for the previous one (EventBridge does not either).
func (r *Runner) runSchedule(ctx context.Context, s *scheduleEntry) {
	if !s.enabled {
		return
	}
	next := s.next(time.Now())
	for !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		fired := next
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			_, _ = r.fire(r.base, s, fired, "schedule")
		}()
		next = s.next(fired)
		if now := time.Now(); next.Before(now) {
			next = s.next(now) // skip firings missed while the process slept
		}
	}
}

// ScheduledEvent builds the EventBridge "Scheduled Event" a rule sends.
func ScheduledEvent(id string, at time.Time, account, region, ruleARN string) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         id,
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  account,
		Time:       at.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{ruleARN},
		Detail:     json.RawMessage("{}"),
	}
}

// FireResult reports one on-demand firing.
type FireResult struct {
	// Function is the logical id fired, Event its Schedule event.
	Function string `json:"function"`
	Event    string `json:"event"` // see Function
	// RequestID is the invocation's request id and DurationMs its duration.
	RequestID  string `json:"requestId"`
	DurationMs int64  `json:"durationMs"` // see RequestID
	// Response is the function's JSON response, if any.
	Response json.RawMessage `json:"response,omitempty"`
	// Error is the function's error, if it failed.
	Error string `json:"error,omitempty"`
}

// ErrNoSchedule is returned by FireSchedule for a function that does not
// exist or has no Schedule event.
var ErrNoSchedule = errors.New("no scheduled function")

// FireSchedule invokes a scheduled function now, with the event its first
// Schedule event would send, and waits for it. function is its logical id
// ("PollFunction"), that without "Function" ("Poll") or its CodeUri
// directory ("poll"). A function error is returned along with the result.
func (r *Runner) FireSchedule(ctx context.Context, function string) (*FireResult, error) {
	f := r.lookup(function)
	if f == nil {
		return nil, fmt.Errorf("%w %q", ErrNoSchedule, function)
	}
	for _, s := range r.schedules {
		if s.fn == f {
			return r.fire(ctx, s, time.Now(), "on demand")
		}
	}
	return nil, fmt.Errorf("%w: %s has no Schedule event", ErrNoSchedule, f.fn.LogicalID)
}

func (r *Runner) fire(ctx context.Context, s *scheduleEntry, at time.Time, why string) (*FireResult, error) {
	if s.fn.handler == nil {
		return nil, errors.New("runner: not set up")
	}
	payload := []byte(s.input)
	if s.input == "" {
		var err error
		payload, err = json.Marshal(ScheduledEvent(newID(), at, r.cfg.AccountID, r.cfg.Region, s.ruleARN))
		if err != nil {
			return nil, err
		}
	}
	start := time.Now()
	out, reqID, err := r.invoke(ctx, s.fn, "schedule "+s.event+" ("+why+")", payload)
	res := &FireResult{Function: s.fn.fn.LogicalID, Event: s.event, RequestID: reqID, DurationMs: time.Since(start).Milliseconds()}
	if err != nil {
		res.Error = err.Error()
		return res, err
	}
	if trimmed := strings.TrimSpace(string(out)); trimmed != "" && json.Valid([]byte(trimmed)) {
		res.Response = json.RawMessage(trimmed)
	}
	return res, nil
}
