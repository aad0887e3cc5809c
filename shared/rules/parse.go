package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Parse reads a YAML list of rules (the value of an account's rules key)
// and validates it. The error joins one *Error per problem, each naming
// the rule (position and name), the field and the line.
func Parse(data []byte) ([]Rule, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return ParseNode(&n)
}

// ParseNode is Parse for a YAML node already decoded, such as the rules
// key of a config file. A nil, empty or null node is no rules. Unknown
// keys are errors, as in the rest of the config file.
func ParseNode(n *yaml.Node) ([]Rule, error) {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		n = n.Content[0]
	}
	n = deref(n)
	if n == nil || n.Kind == 0 || isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, &Error{Index: -1, Msg: "must be a list of rules", Line: n.Line}
	}
	out := make([]Rule, len(n.Content))
	bad := map[int]*shape{}
	var errs []error
	for i, item := range n.Content {
		p := parser{index: i}
		out[i] = p.rule(item)
		if len(p.errs) > 0 {
			bad[i] = &p.bad
			errs = append(errs, p.errs...)
		}
	}
	errs = append(errs, validate(out, bad)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// parser reads one rule, collecting errors about its shape.
type parser struct {
	index int
	name  string
	errs  []error
	bad   shape
}

// shape records which parts of a rule were found malformed while parsing,
// so that validate does not report them a second time.
type shape struct {
	when map[int]bool // conditions, by position
	then bool
}

func (p *parser) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	var i int
	switch {
	case strings.HasPrefix(path, "then"):
		p.bad.then = true
	case strings.HasPrefix(path, "when["):
		if _, err := fmt.Sscanf(path, "when[%d]", &i); err == nil {
			if p.bad.when == nil {
				p.bad.when = map[int]bool{}
			}
			p.bad.when[i] = true
		}
	}
	p.errs = append(p.errs, &Error{Index: p.index, Rule: p.name, Path: path, Msg: fmt.Sprintf(format, args...), Line: line})
}

// entries returns a mapping's key/value pairs, reporting keys not in
// known and keys given twice; ok is false when n is not a mapping.
func (p *parser) entries(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "must be a mapping (%s)", strings.Join(known, ", "))
		return nil, false
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		at := k.Value
		if path != "" {
			at = path + "." + k.Value
		}
		switch {
		case len(known) > 0 && !slices.Contains(known, k.Value):
			p.fail(k, at, "unknown key (known: %s)", strings.Join(known, ", "))
		case out[k.Value] != nil:
			p.fail(k, at, "is given twice")
		default:
			out[k.Value] = v
		}
	}
	return out, true
}

func (p *parser) rule(n *yaml.Node) Rule {
	n = deref(n)
	r := Rule{line: n.Line}
	if n.Kind == yaml.MappingNode {
		// The name first, so that every other error can name the rule.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" {
				r.Name, _ = p.text(v, "name")
				p.name = r.Name
			}
		}
	}
	m, ok := p.entries(n, "", "name", "when", "then", "stop")
	if !ok {
		return r
	}
	if v := m["when"]; v != nil && !isNull(v) {
		if v.Kind != yaml.SequenceNode {
			p.fail(v, "when", "must be a list of conditions")
		} else {
			for i, c := range v.Content {
				r.When = append(r.When, p.condition(c, fmt.Sprintf("when[%d]", i)))
			}
		}
	}
	if v := m["then"]; v == nil || isNull(v) {
		p.fail(n, "then", "is required (the actions)")
	} else {
		r.Then = p.actions(v)
	}
	if v := m["stop"]; v != nil {
		r.Stop, _ = p.bool(v, "stop")
	}
	return r
}

func (p *parser) condition(n *yaml.Node, path string) Condition {
	n = deref(n)
	c := Condition{line: n.Line}
	m, ok := p.entries(n, path, "field", "op", "value", "values")
	if !ok {
		return c
	}
	if v := m["field"]; v == nil {
		p.fail(n, path+".field", "is required (known: %s)", join(Fields))
	} else if s, ok := p.text(v, path+".field"); ok {
		c.Field = Field(s)
	}
	if v := m["op"]; v == nil {
		p.fail(n, path+".op", "is required (known: %s)", join(Ops))
	} else if s, ok := p.text(v, path+".op"); ok {
		c.Op = Op(s)
	}
	list := c.Op == OpIn || c.Op == OpNotIn
	value, values := m["value"], m["values"]
	switch {
	case value != nil && values != nil:
		p.fail(n, path, "takes value or values, not both")
	case list && value != nil:
		p.fail(value, path+".value", "%s takes a list: values: [a, b]", c.Op)
	case !list && values != nil && c.Op != "":
		p.fail(values, path+".values", "%s takes one value: value: x", c.Op)
	case value != nil:
		if s, ok := p.text(value, path+".value"); ok {
			c.Values = []string{s}
		}
	case values != nil:
		if values.Kind != yaml.SequenceNode {
			p.fail(values, path+".values", "must be a list")
			break
		}
		for i, v := range values.Content {
			if s, ok := p.text(v, fmt.Sprintf("%s.values[%d]", path, i)); ok {
				c.Values = append(c.Values, s)
			}
		}
	}
	return c
}

func (p *parser) actions(n *yaml.Node) Actions {
	var a Actions
	m, ok := p.entries(n, "then", "doNotImport", "tags", "hold", "warehouse", "requestedService", "customField", "priority")
	if !ok {
		return a
	}
	if v := m["doNotImport"]; v != nil {
		a.DoNotImport, _ = p.bool(v, "then.doNotImport")
	}
	if v := m["tags"]; v != nil {
		if v.Kind != yaml.SequenceNode {
			p.fail(v, "then.tags", "must be a list of tag names")
		} else {
			for i, t := range v.Content {
				if s, ok := p.text(t, fmt.Sprintf("then.tags[%d]", i)); ok {
					a.Tags = append(a.Tags, s)
				}
			}
		}
	}
	if v := m["hold"]; v != nil {
		a.Hold = p.hold(v)
	}
	if v := m["warehouse"]; v != nil {
		if s, ok := p.text(v, "then.warehouse"); ok {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				p.fail(v, "then.warehouse", "%q is not a ShipStation warehouseId (a positive integer)", s)
			}
			a.Warehouse = id
		}
	}
	if v := m["requestedService"]; v != nil {
		if s, ok := p.text(v, "then.requestedService"); ok {
			if strings.TrimSpace(s) == "" {
				p.fail(v, "then.requestedService", "is empty")
			}
			a.RequestedService = s
		}
	}
	if v := m["customField"]; v != nil {
		if _, ok := p.entries(v, "then.customField"); ok {
			v = deref(v)
			a.CustomFields = map[int]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, fv := v.Content[i], v.Content[i+1]
				path := "then.customField." + k.Value
				n, err := strconv.Atoi(k.Value)
				if err != nil || n < 1 || n > 3 {
					p.fail(k, path, "unknown key (known: 1, 2, 3 for customField1..3)")
					continue
				}
				if s, ok := p.text(fv, path); ok {
					a.CustomFields[n] = s
				}
			}
		}
	}
	if v := m["priority"]; v != nil {
		a.Priority, _ = p.bool(v, "then.priority")
	}
	return a
}

func (p *parser) hold(n *yaml.Node) *Hold {
	m, ok := p.entries(n, "then.hold", "for", "until")
	if !ok {
		return nil
	}
	var h Hold
	if v := m["for"]; v != nil {
		if s, ok := p.text(v, "then.hold.for"); ok {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || d <= 0 {
				p.fail(v, "then.hold.for", "%q is not a positive duration (e.g. 30m, 2h, 48h)", s)
			}
			h.For = d
		}
	}
	if v := m["until"]; v != nil {
		if s, ok := p.text(v, "then.hold.until"); ok {
			t, err := parseTime(strings.TrimSpace(s))
			if err != nil {
				p.fail(v, "then.hold.until", "%q is not a time (RFC 3339, e.g. 2026-12-01T00:00:00Z, or a date, 2026-12-01)", s)
			}
			h.Until = t
		}
	}
	return &h
}

// parseTime reads RFC 3339 or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, s)
}

// text reads a scalar as text (numbers and booleans as written).
func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.fail(n, path, "must be a single value")
		return "", false
	}
	return n.Value, true
}

func (p *parser) bool(n *yaml.Node, path string) (bool, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.fail(n, path, "%q is not true or false", s)
	return false, false
}

// deref follows a YAML alias (*name) to its anchor, so that a list of
// states can be written once and named in several rules.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
