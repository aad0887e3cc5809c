package schedule

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)":    time.Minute,
		"rate(5 minutes)":   5 * time.Minute,
		"rate(1 hour)":      time.Hour,
		"rate(12 hours)":    12 * time.Hour,
		"rate(1 day)":       24 * time.Hour,
		"rate(7 days)":      7 * 24 * time.Hour,
		" rate(10 minutes)": 10 * time.Minute,
	} {
		s, err := Parse(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if !s.IsRate() || s.Every != want {
			t.Errorf("%s: every %s, want %s", expr, s.Every, want)
		}
		now := at("2026-11-21 17:03")
		if got := s.Next(now); !got.Equal(now.Add(want)) {
			t.Errorf("%s: next %s", expr, got)
		}
	}
	for _, bad := range []string{"rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)",
		"rate(5 seconds)", "rate(5)", "rate(minutes)", "rate(1.5 hours)", "every 5 minutes", "rate(5 minutes"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestCronNext(t *testing.T) {
	for _, c := range []struct {
		expr, from string
		want       []string
	}{
		{"cron(0/15 * * * ? *)", "2026-11-21 17:03", []string{"2026-11-21 17:15", "2026-11-21 17:30", "2026-11-21 17:45", "2026-11-21 18:00"}},
		{"cron(0 10 * * ? *)", "2026-11-21 17:03", []string{"2026-11-22 10:00", "2026-11-23 10:00"}},
		{"cron(15 12 * * ? *)", "2026-11-21 12:15", []string{"2026-11-22 12:15"}},
		// Weekdays at 18:00 (1 = SUN): 2026-11-21 is a Saturday.
		{"cron(0 18 ? * MON-FRI *)", "2026-11-21 17:03", []string{"2026-11-23 18:00", "2026-11-24 18:00"}},
		{"cron(0 18 ? * 2-6 *)", "2026-11-27 18:00", []string{"2026-11-30 18:00"}},
		{"cron(0 8 1 * ? *)", "2026-11-21 17:03", []string{"2026-12-01 08:00", "2027-01-01 08:00"}},
		{"cron(0,30 9-10 ? * SUN *)", "2026-11-21 17:03", []string{"2026-11-22 09:00", "2026-11-22 09:30", "2026-11-22 10:00", "2026-11-22 10:30", "2026-11-29 09:00"}},
		{"cron(0 0 L * ? *)", "2026-02-01 00:00", []string{"2026-02-28 00:00", "2026-03-31 00:00"}},
		{"cron(0 0 ? * 6L *)", "2026-11-01 00:00", []string{"2026-11-27 00:00", "2026-12-25 00:00"}},
		{"cron(0 0 ? * 2#1 *)", "2026-11-21 00:00", []string{"2026-12-07 00:00", "2027-01-04 00:00"}},
		// 15W: 2026-08-15 is a Saturday, so the Friday before.
		{"cron(0 0 15W * ? *)", "2026-08-01 00:00", []string{"2026-08-14 00:00", "2026-09-15 00:00"}},
		{"cron(0 12 * JAN,JUL ? 2027)", "2026-11-21 17:03", []string{"2027-01-01 12:00", "2027-01-02 12:00"}},
		{"cron(0 0 29 2 ? *)", "2026-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"cron(5/20 * * * ? *)", "2026-11-21 17:03", []string{"2026-11-21 17:05", "2026-11-21 17:25", "2026-11-21 17:45", "2026-11-21 18:05"}},
	} {
		s, err := Parse(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if s.IsRate() {
			t.Errorf("%s: parsed as a rate", c.expr)
		}
		cur := at(c.from)
		for _, w := range c.want {
			cur = s.Next(cur)
			if !cur.Equal(at(w)) {
				t.Errorf("%s: got %s, want %s", c.expr, cur.Format("2006-01-02 15:04 Mon"), w)
				break
			}
		}
	}
}

func TestCronPastYear(t *testing.T) {
	s, err := Parse("cron(0 0 1 1 ? 2020)")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(at("2026-01-01 00:00")); !got.IsZero() {
		t.Errorf("next = %s, want none", got)
	}
}

func TestCronErrors(t *testing.T) {
	for _, bad := range []string{
		"cron(0 10 * * *)",         // five fields
		"cron(0 10 * * * *)",       // neither day field is ?
		"cron(0 10 ? * ? *)",       // both are ?
		"cron(60 10 * * ? *)",      // minute out of range
		"cron(0 24 * * ? *)",       // hour out of range
		"cron(0 10 32 * ? *)",      // day out of range
		"cron(0 10 * 13 ? *)",      // month out of range
		"cron(0 10 ? * 8 *)",       // weekday out of range
		"cron(0 10 * * ? 1969)",    // year out of range
		"cron(0 10 * FOO ? *)",     // bad name
		"cron(10-5 10 * * ? *)",    // backwards range
		"cron(0/0 10 * * ? *)",     // zero step
		"cron(0 10 * * ? *",        // unclosed
		"cron(0,,5 10 * * ? *)",    // empty element
		"cron(0 10 ? * MON#6 *)",   // occurrence out of range
		"cron(a b c d e f)",        // garbage
		"cron(0 10 * * ? *) extra", // trailing text
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
