package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Error is one problem with one rule. Its text names the rule by position
// and name, then the field: `rules[2] "expedite": when[0].field: unknown
// field "shipto" (known: marketplace, …) (line 14)`.
type Error struct {
	// Index is the rule's position in its list; -1 for the list itself.
	Index int
	// Rule is the rule's name, "" when it has none (yet).
	Rule string
	// Path is the field within the rule, e.g. "when[0].field", "then.hold".
	Path string
	// Msg says what is wrong.
	Msg string
	// Line is the line in the YAML source; 0 when unknown.
	Line int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Index < 0 {
		b.WriteString("rules")
	} else {
		fmt.Fprintf(&b, "rules[%d]", e.Index)
		if e.Rule != "" {
			fmt.Fprintf(&b, " %q", e.Rule)
		}
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// problem is an error within one rule, before it is placed.
type problem struct {
	path string
	msg  string
	line int
}

// Validate checks rules built in Go (Parse does it for rules read from
// YAML) and prepares their conditions for Apply, which is why it takes the
// slice itself: it writes into its elements. The error joins one *Error
// per problem, each naming the rule and the field.
func Validate(rules []Rule) error {
	return errors.Join(validate(rules, nil)...)
}

// validate checks every rule, apart from the parts parsing found
// malformed (bad, by rule position), and the uniqueness of all names.
func validate(rules []Rule, bad map[int]*shape) []error {
	var errs []error
	seen := map[string]int{}
	for i := range rules {
		r := &rules[i]
		name := strings.TrimSpace(r.Name)
		if name == "" {
			errs = append(errs, &Error{Index: i, Path: "name", Msg: "is required", Line: r.line})
		} else if j, dup := seen[strings.ToLower(name)]; dup {
			errs = append(errs, &Error{Index: i, Rule: r.Name, Path: "name", Msg: fmt.Sprintf("is the name of rules[%d] too (names must be unique)", j), Line: r.line})
		} else {
			seen[strings.ToLower(name)] = i
		}
		for _, p := range r.check(bad[i]) {
			line := p.line
			if line == 0 {
				line = r.line
			}
			errs = append(errs, &Error{Index: i, Rule: r.Name, Path: p.path, Msg: p.msg, Line: line})
		}
	}
	return errs
}

// check validates one rule and compiles its conditions; bad (nil for
// none) are the parts already reported as malformed.
func (r *Rule) check(bad *shape) []problem {
	if bad == nil {
		bad = &shape{}
	}
	var probs []problem
	for i := range r.When {
		c := &r.When[i]
		cc, ps := compile(c)
		c.c = cc
		if bad.when[i] {
			continue
		}
		for _, p := range ps {
			p.path = fmt.Sprintf("when[%d].%s", i, p.path)
			if p.line == 0 {
				p.line = c.line
			}
			probs = append(probs, p)
		}
	}
	if bad.then {
		return probs
	}
	return append(probs, r.Then.check()...)
}

// check validates the actions.
func (a *Actions) check() []problem {
	var probs []problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, problem{path: path, msg: fmt.Sprintf(format, args...)})
	}
	if a.empty() {
		bad("then", "no action (doNotImport, tags, hold, warehouse, requestedService, customField or priority)")
		return probs
	}
	if a.DoNotImport {
		other := *a
		other.DoNotImport = false
		if !other.empty() {
			bad("then.doNotImport", "cannot be combined with other actions (the order is not imported)")
		}
	}
	for i, t := range a.Tags {
		if strings.TrimSpace(t) == "" {
			bad(fmt.Sprintf("then.tags[%d]", i), "is empty")
		}
	}
	if h := a.Hold; h != nil {
		switch {
		case h.For != 0 && !h.Until.IsZero():
			bad("then.hold", "takes either for or until, not both")
		case h.For < 0:
			bad("then.hold.for", "%s is negative", h.For)
		case h.For == 0 && h.Until.IsZero():
			bad("then.hold", "needs for (a duration, e.g. 2h) or until (a time, e.g. 2026-12-01T00:00:00Z)")
		}
	}
	if a.Warehouse < 0 {
		bad("then.warehouse", "%d is not a ShipStation warehouseId (a positive integer)", a.Warehouse)
	}
	for k := range a.CustomFields {
		if k < 1 || k > 3 {
			bad("then.customField", "key %d is not 1, 2 or 3 (ShipStation has customField1..3)", k)
		}
	}
	return probs
}

// compile checks a condition and parses its operands.
func compile(c *Condition) (compiled, []problem) {
	var probs []problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, problem{path: path, msg: fmt.Sprintf(format, args...)})
	}
	info, known := fieldInfos[c.Field]
	if !known {
		bad("field", "unknown field %q (known: %s)", c.Field, join(Fields))
	}
	if !isOp(c.Op) {
		bad("op", "unknown op %q (known: %s)", c.Op, join(Ops))
	} else if known && !isOpOf(info.kind, c.Op) {
		bad("op", "%s does not apply to %s, %s (use %s)", c.Op, c.Field, info.kind, join(opsOf[info.kind]))
	}
	list := c.Op == OpIn || c.Op == OpNotIn
	switch {
	case list && len(c.Values) == 0:
		bad("values", "%s needs a list of one or more values", c.Op)
	case !list && len(c.Values) != 1 && isOp(c.Op):
		bad("value", "%s takes exactly one value, not %d", c.Op, len(c.Values))
	}
	if len(probs) > 0 {
		return compiled{}, probs
	}
	var cc compiled
	for i, v := range c.Values {
		path := "value"
		if list {
			path = fmt.Sprintf("values[%d]", i)
		}
		v = strings.TrimSpace(v)
		switch info.kind {
		case kindInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				bad(path, "%q is not a whole number of units", v)
			}
			cc.ints = append(cc.ints, n)
		case kindDecimal:
			d, err := order.ParseDecimal(v)
			if err != nil || v == "" {
				bad(path, "%q is not a decimal amount (e.g. 100 or 49.99)", v)
			}
			cc.decs = append(cc.decs, d)
		case kindBool:
			switch strings.ToLower(v) {
			case "true":
				cc.bools = append(cc.bools, true)
			case "false":
				cc.bools = append(cc.bools, false)
			default:
				bad(path, "%q is not true or false", v)
			}
		default:
			if msg := checkText(c.Field, c.Op, v); msg != "" {
				bad(path, "%s", msg)
			}
			cc.text = append(cc.text, v)
		}
	}
	cc.ok = len(probs) == 0
	return cc, probs
}

// checkText validates one text operand of a field; "" when it is fine.
func checkText(f Field, op Op, v string) string {
	if op == OpContains || op == OpNotContains {
		if v == "" {
			return `"" is contained in everything`
		}
		return ""
	}
	switch f {
	case FieldMarketplace, FieldSource:
		if order.Channel(strings.ToLower(v)).Valid() || (f == FieldSource && v == "") {
			return ""
		}
		if f == FieldSource {
			return fmt.Sprintf(`%q is not a marketplace (bigcommerce, amazon, ebay, or "" for an order that mirrors none)`, v)
		}
		return fmt.Sprintf("%q is not a marketplace (bigcommerce, amazon, ebay)", v)
	case FieldShipToCountry:
		if len(v) != 2 || !isLetters(v) {
			return fmt.Sprintf("%q is not a two-letter country code (ISO 3166-1 alpha-2, e.g. US)", v)
		}
	}
	return ""
}

func isLetters(s string) bool {
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

func isOp(op Op) bool { return slices.Contains(Ops, op) }

func isOpOf(k kind, op Op) bool { return slices.Contains(opsOf[k], op) }

func join[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
