// Package schedule parses Amazon EventBridge schedule expressions,
// rate(N unit) and the six-field cron(minutes hours day-of-month month
// day-of-week year), and computes their next firing time in UTC.
package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule struct {
	// Expr is the expression as given.
	Expr string
	// Every is the period of a rate expression (0 for cron).
	Every time.Duration
	cron  *cronSpec
}

// IsRate reports whether the schedule is a rate expression.
func (s *Schedule) IsRate() bool { return s.cron == nil }

var rateRE = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$`)

// Parse parses rate(...) or cron(...). As EventBridge does, it wants the
// singular unit for a value of 1 and the plural otherwise, and in a cron
// expression exactly one of day-of-month and day-of-week must be "?".
func Parse(expr string) (*Schedule, error) {
	e := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(e, "rate("):
		m := rateRE.FindStringSubmatch(e)
		if m == nil {
			return nil, fmt.Errorf("schedule %q: want rate(N minute|minutes|hour|hours|day|days)", expr)
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("schedule %q: the rate must be a positive integer", expr)
		}
		unit := m[2]
		plural := strings.HasSuffix(unit, "s")
		if n == 1 && plural {
			return nil, fmt.Errorf("schedule %q: use the singular unit for 1 (rate(1 %s))", expr, strings.TrimSuffix(unit, "s"))
		}
		if n != 1 && !plural {
			return nil, fmt.Errorf("schedule %q: use the plural unit for %d (rate(%d %ss))", expr, n, n, unit)
		}
		d := time.Minute
		switch strings.TrimSuffix(unit, "s") {
		case "hour":
			d = time.Hour
		case "day":
			d = 24 * time.Hour
		}
		return &Schedule{Expr: expr, Every: time.Duration(n) * d}, nil
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		c, err := parseCron(e[len("cron(") : len(e)-1])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", expr, err)
		}
		return &Schedule{Expr: expr, cron: c}, nil
	}
	return nil, fmt.Errorf("schedule %q: want rate(...) or cron(...)", expr)
}

// Next returns the first firing time strictly after t: t+Every for a rate
// expression, the next matching minute (UTC) for cron. It returns the zero
// time when a cron expression never fires again (its years are past).
func (s *Schedule) Next(t time.Time) time.Time {
	if s.cron == nil {
		return t.Add(s.Every)
	}
	return s.cron.next(t)
}

// ---- cron -------------------------------------------------------------------

const (
	minYear = 1970
	maxYear = 2199
)

type cronSpec struct {
	minutes, hours, months, years []bool
	dom                           domSpec
	dow                           dowSpec
}

type domSpec struct {
	any         bool
	days        []bool // 1..31
	last        bool   // L
	lastWeekday bool   // LW
	nearest     []int  // nW
}

type dowSpec struct {
	any  bool
	days []bool // 0..6, Sunday = 0
	last []int  // nL: last <weekday> of the month (0..6)
	nth  [][2]int
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cronSpec{}
	var err error
	if c.minutes, err = parseField(f[0], 0, 59, nil, "minutes"); err != nil {
		return nil, err
	}
	if c.hours, err = parseField(f[1], 0, 23, nil, "hours"); err != nil {
		return nil, err
	}
	if c.months, err = parseField(f[3], 1, 12, monthNames, "month"); err != nil {
		return nil, err
	}
	if c.years, err = parseField(f[5], minYear, maxYear, nil, "year"); err != nil {
		return nil, err
	}
	domQ, dowQ := f[2] == "?", f[4] == "?"
	if domQ == dowQ {
		return nil, fmt.Errorf("exactly one of day-of-month (%q) and day-of-week (%q) must be ?", f[2], f[4])
	}
	if domQ {
		c.dom.any = true
		c.dow, err = parseDow(f[4])
	} else {
		c.dow.any = true
		c.dom, err = parseDom(f[2])
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseField parses a list of *, N, N-M, with optional /step, into a set
// indexed by value.
func parseField(s string, lo, hi int, names map[string]int, what string) ([]bool, error) {
	set := make([]bool, hi+1)
	for _, part := range strings.Split(s, ",") {
		if err := addRange(set, part, lo, hi, names, what); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func addRange(set []bool, part string, lo, hi int, names map[string]int, what string) error {
	if part == "" {
		return fmt.Errorf("%s: empty list element", what)
	}
	rng, stepS, hasStep := strings.Cut(part, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepS)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: bad step %q", what, stepS)
		}
		step = n
	}
	from, to := lo, hi
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if from, err = value(a, lo, hi, names, what); err != nil {
			return err
		}
		if to, err = value(b, lo, hi, names, what); err != nil {
			return err
		}
		if from > to {
			return fmt.Errorf("%s: range %q runs backwards", what, rng)
		}
	default:
		v, err := value(rng, lo, hi, names, what)
		if err != nil {
			return err
		}
		from = v
		if !hasStep {
			to = v
		}
	}
	for v := from; v <= to; v += step {
		set[v] = true
	}
	return nil
}

func value(s string, lo, hi int, names map[string]int, what string) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number", what, s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s: %d is outside %d-%d", what, v, lo, hi)
	}
	return v, nil
}

func parseDom(s string) (domSpec, error) {
	d := domSpec{days: make([]bool, 32)}
	if s == "*" {
		d.any = true
		return d, nil
	}
	for _, part := range strings.Split(s, ",") {
		switch {
		case part == "L":
			d.last = true
		case part == "LW":
			d.lastWeekday = true
		case strings.HasSuffix(part, "W"):
			v, err := value(strings.TrimSuffix(part, "W"), 1, 31, nil, "day-of-month")
			if err != nil {
				return d, err
			}
			d.nearest = append(d.nearest, v)
		default:
			if err := addRange(d.days, part, 1, 31, nil, "day-of-month"); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

func parseDow(s string) (dowSpec, error) {
	d := dowSpec{days: make([]bool, 7)}
	if s == "*" {
		d.any = true
		return d, nil
	}
	set := make([]bool, 8)
	for _, part := range strings.Split(s, ",") {
		switch {
		case part == "L":
			set[7] = true // Saturday, as in Quartz
		case strings.HasSuffix(part, "L"):
			v, err := value(strings.TrimSuffix(part, "L"), 1, 7, dayNames, "day-of-week")
			if err != nil {
				return d, err
			}
			d.last = append(d.last, v-1)
		case strings.Contains(part, "#"):
			a, b, _ := strings.Cut(part, "#")
			v, err := value(a, 1, 7, dayNames, "day-of-week")
			if err != nil {
				return d, err
			}
			n, err := strconv.Atoi(b)
			if err != nil || n < 1 || n > 5 {
				return d, fmt.Errorf("day-of-week: %q: the occurrence after # must be 1-5", part)
			}
			d.nth = append(d.nth, [2]int{v - 1, n})
		default:
			if err := addRange(set, part, 1, 7, dayNames, "day-of-week"); err != nil {
				return d, err
			}
		}
	}
	for i := 1; i <= 7; i++ {
		d.days[i-1] = set[i]
	}
	return d, nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (d *domSpec) match(t time.Time) bool {
	if d.any {
		return true
	}
	day, n := t.Day(), daysIn(t.Year(), t.Month())
	if d.days[day] || (d.last && day == n) {
		return true
	}
	wd := t.Weekday()
	weekday := wd != time.Saturday && wd != time.Sunday
	if d.lastWeekday && weekday {
		// The last weekday: no weekday follows it in this month.
		lastWD := n
		for {
			w := time.Date(t.Year(), t.Month(), lastWD, 0, 0, 0, 0, time.UTC).Weekday()
			if w != time.Saturday && w != time.Sunday {
				break
			}
			lastWD--
		}
		if day == lastWD {
			return true
		}
	}
	for _, target := range d.nearest {
		if target > n {
			continue
		}
		if day == nearestWeekday(t.Year(), t.Month(), target, n) {
			return true
		}
	}
	return false
}

// nearestWeekday is the weekday nearest to day target, within the month.
func nearestWeekday(year int, month time.Month, target, n int) int {
	switch time.Date(year, month, target, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if target == 1 {
			return 3 // Monday the 3rd
		}
		return target - 1
	case time.Sunday:
		if target == n {
			return target - 2 // Friday
		}
		return target + 1
	}
	return target
}

func (d *dowSpec) match(t time.Time) bool {
	if d.any {
		return true
	}
	wd := int(t.Weekday())
	if d.days[wd] {
		return true
	}
	n := daysIn(t.Year(), t.Month())
	for _, l := range d.last {
		if wd == l && t.Day()+7 > n {
			return true
		}
	}
	for _, nth := range d.nth {
		if wd == nth[0] && (t.Day()-1)/7+1 == nth[1] {
			return true
		}
	}
	return false
}

func (c *cronSpec) next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for day.Year() <= maxYear {
		y := day.Year()
		if y < minYear || !c.years[y] {
			day = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.months[int(day.Month())] {
			day = time.Date(y, day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.dom.match(day) && c.dow.match(day) {
			for h := 0; h < 24; h++ {
				if !c.hours[h] {
					continue
				}
				for m := 0; m < 60; m++ {
					if !c.minutes[m] {
						continue
					}
					cand := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
					if !cand.Before(t) {
						return cand
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}
