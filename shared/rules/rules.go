package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Field is what a condition looks at.
type Field string

// The fields a condition can test (see the package documentation).
const (
	FieldMarketplace      Field = "marketplace"
	FieldSource           Field = "source"
	FieldStore            Field = "store"
	FieldShipToCountry    Field = "shipToCountry"
	FieldShipToState      Field = "shipToState"
	FieldSKU              Field = "sku"
	FieldItemCount        Field = "itemCount"
	FieldOrderTotal       Field = "orderTotal"
	FieldRequestedService Field = "requestedService"
	FieldServiceLevel     Field = "serviceLevel"
	FieldPrime            Field = "prime"
	FieldBusiness         Field = "business"
	FieldTag              Field = "tag"
)

// Op is how a condition compares.
type Op string

// The comparison operators.
const (
	OpEquals      Op = "equals"
	OpNotEquals   Op = "notEquals"
	OpIn          Op = "in"
	OpNotIn       Op = "notIn"
	OpContains    Op = "contains"
	OpNotContains Op = "notContains"
	OpGreater     Op = "greater"
	OpLess        Op = "less"
)

// TagPriority is the tag the priority action adds.
const TagPriority = "Priority"

// TagPrime is the tag the prime field looks for; the Amazon normaliser
// tags Prime orders with it (amazon.TagPrime).
const TagPrime = "Prime"

// kind is the type of a field's values.
type kind int

const (
	kindText kind = iota
	kindInt
	kindDecimal
	kindBool
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "an integer field"
	case kindDecimal:
		return "a decimal field"
	case kindBool:
		return "a true/false field"
	}
	return "a text field"
}

// fieldInfo describes a field: the type of its values and whether an order
// can have several.
type fieldInfo struct {
	kind  kind
	multi bool
}

var fieldInfos = map[Field]fieldInfo{
	FieldMarketplace:      {kindText, false},
	FieldSource:           {kindText, false},
	FieldStore:            {kindText, false},
	FieldShipToCountry:    {kindText, true},
	FieldShipToState:      {kindText, true},
	FieldSKU:              {kindText, true},
	FieldItemCount:        {kindInt, false},
	FieldOrderTotal:       {kindDecimal, false},
	FieldRequestedService: {kindText, false},
	FieldServiceLevel:     {kindText, false},
	FieldPrime:            {kindBool, false},
	FieldBusiness:         {kindBool, false},
	FieldTag:              {kindText, true},
}

// Fields lists the known fields, in the documentation's order.
var Fields = []Field{
	FieldMarketplace, FieldSource, FieldStore, FieldShipToCountry, FieldShipToState, FieldSKU,
	FieldItemCount, FieldOrderTotal, FieldRequestedService, FieldServiceLevel, FieldPrime, FieldBusiness, FieldTag,
}

// Ops lists the known operators.
var Ops = []Op{OpEquals, OpNotEquals, OpIn, OpNotIn, OpContains, OpNotContains, OpGreater, OpLess}

// opsOf are the operators each kind of field takes.
var opsOf = map[kind][]Op{
	kindText:    {OpEquals, OpNotEquals, OpIn, OpNotIn, OpContains, OpNotContains},
	kindInt:     {OpEquals, OpNotEquals, OpIn, OpNotIn, OpGreater, OpLess},
	kindDecimal: {OpEquals, OpNotEquals, OpIn, OpNotIn, OpGreater, OpLess},
	kindBool:    {OpEquals, OpNotEquals},
}

// negated maps each negative operator to the positive one it denies.
var negated = map[Op]Op{OpNotEquals: OpEquals, OpNotIn: OpIn, OpNotContains: OpContains}

// Rule is one automation rule: when every condition holds, its actions
// apply; Stop then ends the evaluation.
type Rule struct {
	// Name names the rule in errors and in the order's history; it is
	// required and unique within its list (case-insensitively).
	Name string
	// When are the conditions, all of which must hold; none matches every
	// order.
	When []Condition
	// Then are the actions.
	Then Actions
	// Stop ends the evaluation after this rule when it matches.
	Stop bool

	line int // in the YAML source, for errors; 0 when built in Go
}

// Condition tests one field of an order.
type Condition struct {
	Field Field
	Op    Op
	// Values are the operands as written: exactly one for every operator
	// but in and notIn, which take one or more.
	Values []string

	line int
	c    compiled
}

// compiled are a condition's operands parsed for its field's kind.
type compiled struct {
	ok    bool
	text  []string
	ints  []int64
	decs  []order.Decimal
	bools []bool
}

// Hold is the hold action: exactly one of For and Until is set.
type Hold struct {
	// For holds the order until this long after it was placed (its
	// OrderDate), so that every version of the order computes the same end.
	For time.Duration
	// Until holds the order until this instant.
	Until time.Time
}

// end returns when the hold of o ends.
func (h Hold) end(o *order.Order) time.Time {
	if h.For > 0 {
		return o.OrderDate.Add(h.For).UTC()
	}
	return h.Until.UTC()
}

// Actions are what a matching rule does. Zero values mean "not set".
type Actions struct {
	// DoNotImport keeps the order out of ShipStation (recorded as skipped).
	DoNotImport bool
	// Tags are added to the order's tags (names; no duplicates, ignoring case).
	Tags []string
	// Hold puts the order on hold until a time.
	Hold *Hold
	// Warehouse is the ShipStation warehouseId to ship from.
	Warehouse int64
	// RequestedService replaces the requested shipping service.
	RequestedService string
	// CustomFields sets ShipStation's customField1..3, keyed 1 to 3.
	CustomFields map[int]string
	// Priority tags the order TagPriority and has the push send it first.
	Priority bool
}

// empty reports whether no action is set.
func (a *Actions) empty() bool {
	return !a.DoNotImport && len(a.Tags) == 0 && a.Hold == nil && a.Warehouse == 0 &&
		a.RequestedService == "" && len(a.CustomFields) == 0 && !a.Priority
}

// Decision is the outcome of evaluating rules against one order.
type Decision struct {
	// DoNotImport is the name of the rule that keeps the order out of
	// ShipStation; "" when none does.
	DoNotImport string
	// Matched are the names of the rules that matched, in order.
	Matched []string
}

// Apply evaluates rules, in order, against o, which it changes as the
// matching rules' actions say, and returns the decision and the history
// lines: one per action of each matching rule, naming the rule and the
// action, never buyer data. A doNotImport rule ends the evaluation (the
// order stays out of ShipStation). now decides whether a hold has already
// ended. Rules are expected to have been validated (Parse, Validate); a
// condition that is not valid never holds.
func Apply(rules []Rule, o *order.Order, now time.Time) (Decision, []string) {
	return apply(rules, o, now, false)
}

// ApplyImported is Apply for an order that ShipStation already has (an
// earlier version was pushed): a doNotImport rule cannot take it back, so
// its match is noted in the history and the evaluation goes on as if the
// rule had not matched (unless it says stop). Every other version of the
// order must reach ShipStation, so that changes and cancellations do.
func ApplyImported(rules []Rule, o *order.Order, now time.Time) (Decision, []string) {
	return apply(rules, o, now, true)
}

func apply(rules []Rule, o *order.Order, now time.Time, imported bool) (Decision, []string) {
	var d Decision
	var lines []string
	if o == nil {
		return d, nil
	}
	level := o.RequestedService
	for i := range rules {
		r := &rules[i]
		if !r.matches(o, level) {
			continue
		}
		d.Matched = append(d.Matched, r.Name)
		if r.Then.DoNotImport {
			if !imported {
				d.DoNotImport = r.Name
				return d, append(lines, fmt.Sprintf("rule %q: do not import", r.Name))
			}
			lines = append(lines, fmt.Sprintf("rule %q: do not import ignored: the order is in ShipStation already", r.Name))
		}
		lines = append(lines, r.Then.apply(r.Name, o, now)...)
		if r.Stop {
			lines = append(lines, fmt.Sprintf("rule %q: stop", r.Name))
			break
		}
	}
	return d, lines
}

// matches reports whether every condition of r holds for o; level is the
// service level as the channel sent it.
func (r *Rule) matches(o *order.Order, level string) bool {
	for i := range r.When {
		if !r.When[i].holds(o, level) {
			return false
		}
	}
	return true
}

// apply carries out the actions on o and returns their history lines.
func (a *Actions) apply(rule string, o *order.Order, now time.Time) []string {
	var lines []string
	line := func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf("rule %q: ", rule)+fmt.Sprintf(format, args...))
	}
	for _, t := range a.Tags {
		if t = strings.TrimSpace(t); t != "" {
			addTag(o, t)
			line("tag %q", t)
		}
	}
	if a.Priority {
		o.Priority = true
		addTag(o, TagPriority)
		line("priority (tag %q, pushed first)", TagPriority)
	}
	if a.Warehouse > 0 {
		o.WarehouseID = a.Warehouse
		line("warehouse %d", a.Warehouse)
	}
	if s := strings.TrimSpace(a.RequestedService); s != "" {
		o.RequestedService = s
		// FromOrder sends a group's own shipping method first: the
		// override replaces it in every group.
		groups := slices.Clone(o.ShipGroups)
		for i := range groups {
			groups[i].ShippingMethod = s
		}
		o.ShipGroups = groups
		line("requested service %q", s)
	}
	for _, k := range slices.Sorted(maps.Keys(a.CustomFields)) {
		if k < 1 || k > len(o.CustomFields) {
			continue
		}
		v := a.CustomFields[k]
		o.CustomFields[k-1] = v
		line("customField%d %q", k, v)
	}
	if h := a.Hold; h != nil && (h.For > 0 || !h.Until.IsZero()) {
		end := h.end(o)
		switch {
		case o.Status == order.OnHold && o.HoldUntil != nil:
			// Held by an earlier rule: the later end wins.
			if end.After(*o.HoldUntil) {
				o.HoldUntil = &end
			}
			line("hold until %s", o.HoldUntil.Format(time.RFC3339))
		case o.Status != order.AwaitingShipment:
			line("hold not applied: the order is %s", o.Status)
		case !end.After(now):
			line("hold until %s: ended already", end.Format(time.RFC3339))
		default:
			o.Status = order.OnHold
			o.HoldUntil = &end
			line("hold until %s", end.Format(time.RFC3339))
		}
	}
	return lines
}

// addTag adds t to o's tags unless a tag of that name (ignoring case) is
// there; it never writes into a backing array o shares with a copy.
func addTag(o *order.Order, t string) {
	if hasFold(o.Tags, t) {
		return
	}
	o.Tags = append(slices.Clip(o.Tags), t)
}

func hasFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// holds evaluates the condition against o.
func (c *Condition) holds(o *order.Order, level string) bool {
	cc := c.c
	if !cc.ok {
		var probs []problem
		if cc, probs = compile(c); len(probs) > 0 {
			return false
		}
	}
	info := fieldInfos[c.Field]
	if pos, neg := negated[c.Op]; neg {
		return !cc.test(info.kind, pos, o, c.Field, level)
	}
	return cc.test(info.kind, c.Op, o, c.Field, level)
}

// test evaluates a positive operator (equals, in, contains, greater,
// less): for a field with several values, true when any value satisfies it.
func (cc *compiled) test(k kind, op Op, o *order.Order, f Field, level string) bool {
	switch k {
	case kindInt:
		n := itemCount(o)
		return slices.ContainsFunc(cc.ints, func(x int64) bool { return cmpOp(op, cmpInt(n, x)) })
	case kindDecimal:
		total := o.Total
		if total == "" {
			total = "0"
		}
		return slices.ContainsFunc(cc.decs, func(x order.Decimal) bool { return cmpOp(op, total.Cmp(x)) })
	case kindBool:
		v := boolOf(o, f)
		return slices.Contains(cc.bools, v)
	}
	for _, v := range textOf(o, f, level) {
		v = strings.TrimSpace(v)
		for _, x := range cc.text {
			switch op {
			case OpEquals, OpIn:
				if strings.EqualFold(v, x) {
					return true
				}
			case OpContains:
				if strings.Contains(strings.ToLower(v), strings.ToLower(x)) {
					return true
				}
			}
		}
	}
	return false
}

// cmpOp applies equals/in, greater or less to a comparison result.
func cmpOp(op Op, c int) bool {
	switch op {
	case OpEquals, OpIn:
		return c == 0
	case OpGreater:
		return c > 0
	case OpLess:
		return c < 0
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// itemCount is the number of units of o.
func itemCount(o *order.Order) int64 {
	var n int64
	for _, it := range o.Items {
		n += int64(it.Quantity)
	}
	return n
}

func boolOf(o *order.Order, f Field) bool {
	switch f {
	case FieldPrime:
		return hasFold(o.Tags, TagPrime)
	case FieldBusiness:
		return o.Business
	}
	return false
}

// textOf returns the values of a text field of o.
func textOf(o *order.Order, f Field, level string) []string {
	switch f {
	case FieldMarketplace:
		return []string{string(o.Channel)}
	case FieldSource:
		if o.Origin == nil {
			return []string{""}
		}
		return []string{string(o.Origin.Marketplace)}
	case FieldStore:
		return []string{o.StoreID}
	case FieldShipToCountry, FieldShipToState:
		out := make([]string, 0, len(o.ShipGroups))
		for _, g := range o.ShipGroups {
			if f == FieldShipToCountry {
				out = append(out, g.ShipTo.Country)
			} else {
				out = append(out, g.ShipTo.State)
			}
		}
		return out
	case FieldSKU:
		out := make([]string, 0, len(o.Items))
		for _, it := range o.Items {
			out = append(out, it.SKU)
		}
		return out
	case FieldRequestedService:
		return []string{o.RequestedService}
	case FieldServiceLevel:
		return []string{level}
	case FieldTag:
		return o.Tags
	}
	return nil
}
