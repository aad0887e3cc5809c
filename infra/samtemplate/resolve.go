package samtemplate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// NoValue is what `Ref AWS::NoValue` resolves to. Resolve drops it from
// mappings and sequences, as CloudFormation removes the property.
var NoValue = noValue{}

type noValue struct{}

// Resolver supplies the values that intrinsic functions refer to.
type Resolver interface {
	// Ref returns the value of Ref name: a parameter, a pseudo parameter
	// (AWS::Region, ...) or a resource's logical id.
	Ref(name string) (any, error)
	// GetAtt returns the value of Fn::GetAtt [logicalID, attribute].
	GetAtt(logicalID, attribute string) (any, error)
}

// ConditionResolver is implemented by resolvers that can evaluate named
// conditions; Resolve needs one for Fn::If and Condition.
type ConditionResolver interface {
	Condition(name string) (bool, error)
}

// ErrUnresolved is wrapped by the errors a MapResolver returns for a name it
// does not know.
var ErrUnresolved = errors.New("unresolved reference")

// MapResolver is a Resolver backed by maps.
type MapResolver struct {
	// Values holds Ref values: parameters, pseudo parameters and logical ids.
	Values map[string]any
	// Attributes holds GetAtt values keyed "LogicalID.Attribute".
	Attributes map[string]any
	// Conditions holds evaluated conditions.
	Conditions map[string]bool
}

// Ref implements Resolver.
func (m *MapResolver) Ref(name string) (any, error) {
	if v, ok := m.Values[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: %w", name, ErrUnresolved)
}

// GetAtt implements Resolver.
func (m *MapResolver) GetAtt(id, attr string) (any, error) {
	if v, ok := m.Attributes[id+"."+attr]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("GetAtt %s.%s: %w", id, attr, ErrUnresolved)
}

// Condition implements ConditionResolver.
func (m *MapResolver) Condition(name string) (bool, error) {
	if v, ok := m.Conditions[name]; ok {
		return v, nil
	}
	return false, fmt.Errorf("condition %s: %w", name, ErrUnresolved)
}

// PseudoParameters returns values for the CloudFormation pseudo parameters.
func PseudoParameters(region, accountID, stackName string) map[string]any {
	return map[string]any{
		"AWS::Region":           region,
		"AWS::AccountId":        accountID,
		"AWS::Partition":        "aws",
		"AWS::URLSuffix":        "amazonaws.com",
		"AWS::StackName":        stackName,
		"AWS::StackId":          fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", region, accountID, stackName),
		"AWS::NotificationARNs": []any{},
	}
}

// pseudoNames are the pseudo parameters a template may refer to.
var pseudoNames = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// IsPseudoParameter reports whether name is a CloudFormation pseudo parameter.
func IsPseudoParameter(name string) bool { return contains(pseudoNames, name) }

// ParameterValues returns every parameter's value: overrides first, then the
// default. Values are strings, as CloudFormation passes them (a
// CommaDelimitedList or List<...> becomes []any of strings). A parameter
// with neither, an override for an unknown parameter, or a value outside
// AllowedValues is an error.
func (t *Template) ParameterValues(overrides map[string]string) (map[string]any, error) {
	out := map[string]any{}
	var errs []error
	for name := range overrides {
		if _, ok := t.Parameters[name]; !ok {
			errs = append(errs, fmt.Errorf("parameter override %s: no such parameter", name))
		}
	}
	names := make([]string, 0, len(t.Parameters))
	for name := range t.Parameters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := t.Parameters[name]
		var s string
		if o, ok := overrides[name]; ok {
			s = o
		} else if p.HasDefault {
			var err error
			if s, err = ScalarString(p.Default); err != nil {
				errs = append(errs, fmt.Errorf("parameter %s: default: %w", name, err))
				continue
			}
		} else {
			errs = append(errs, fmt.Errorf("parameter %s has no default and no value", name))
			continue
		}
		if len(p.AllowedValues) > 0 {
			ok := false
			for _, a := range p.AllowedValues {
				if as, err := ScalarString(a); err == nil && as == s {
					ok = true
				}
			}
			if !ok {
				errs = append(errs, fmt.Errorf("parameter %s: %q is not one of its AllowedValues", name, s))
			}
		}
		if p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") {
			var l []any
			for _, part := range strings.Split(s, ",") {
				l = append(l, strings.TrimSpace(part))
			}
			out[name] = l
		} else {
			out[name] = s
		}
	}
	return out, errors.Join(errs...)
}

// ResolverOptions configures Template.Resolver.
type ResolverOptions struct {
	// Parameters overrides parameter defaults.
	Parameters map[string]string
	// Pseudo holds pseudo parameter values (see PseudoParameters).
	Pseudo map[string]any
	// Resources holds the Ref value of each logical id.
	Resources map[string]any
	// Attributes holds GetAtt values keyed "LogicalID.Attribute".
	Attributes map[string]any
}

// Resolver builds a MapResolver from the template's parameters (defaults and
// overrides), the given pseudo parameters and resource values, and evaluates
// the Conditions section with it.
func (t *Template) Resolver(o ResolverOptions) (*MapResolver, error) {
	params, err := t.ParameterValues(o.Parameters)
	if err != nil {
		return nil, err
	}
	r := &MapResolver{Values: map[string]any{}, Attributes: map[string]any{}, Conditions: map[string]bool{}}
	for k, v := range o.Pseudo {
		r.Values[k] = v
	}
	for k, v := range o.Resources {
		r.Values[k] = v
	}
	for k, v := range params {
		r.Values[k] = v
	}
	for k, v := range o.Attributes {
		r.Attributes[k] = v
	}
	// Conditions may refer to each other: evaluate until nothing changes.
	pending := map[string]any{}
	for k, v := range t.Conditions {
		pending[k] = v
	}
	for len(pending) > 0 {
		progress := false
		var lastErr error
		for name, expr := range pending {
			v, err := Resolve(expr, r)
			if err != nil {
				lastErr = fmt.Errorf("condition %s: %w", name, err)
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("condition %s does not evaluate to a boolean", name)
			}
			r.Conditions[name] = b
			delete(pending, name)
			progress = true
		}
		if !progress {
			return nil, lastErr
		}
	}
	return r, nil
}

// Resolve evaluates the intrinsic functions in value (Ref, Fn::GetAtt,
// Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::Base64, and, when r is also
// a ConditionResolver, Fn::If, Condition and the condition functions
// Fn::Equals, Fn::Not, Fn::And, Fn::Or) and returns a copy without them.
func Resolve(value any, r Resolver) (any, error) {
	if name, arg, ok := Intrinsic(value); ok {
		return resolveFn(name, arg, r)
	}
	switch v := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			rx, err := Resolve(x, r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rx != NoValue {
				out[k] = rx
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, x := range v {
			rx, err := Resolve(x, r)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if rx != NoValue {
				out = append(out, rx)
			}
		}
		return out, nil
	}
	return value, nil
}

func resolveFn(name string, arg any, r Resolver) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref needs a name")
		}
		if s == "AWS::NoValue" {
			return NoValue, nil
		}
		return r.Ref(s)
	case "Fn::GetAtt":
		id, attr, err := getAttArgs(arg)
		if err != nil {
			return nil, err
		}
		return r.GetAtt(id, attr)
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			tmpl = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub needs [template, variables]")
			}
			s, ok := a[0].(string)
			m, ok2 := a[1].(map[string]any)
			if !ok || !ok2 {
				return nil, fmt.Errorf("Fn::Sub needs [template, variables]")
			}
			tmpl = s
			for k, v := range m {
				rv, err := Resolve(v, r)
				if err != nil {
					return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
				}
				vars[k] = rv
			}
		default:
			return nil, fmt.Errorf("Fn::Sub needs a string or [template, variables]")
		}
		return substitute(tmpl, vars, r)
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join needs [delimiter, list]")
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join delimiter is not a string")
		}
		lv, err := Resolve(a[1], r)
		if err != nil {
			return nil, err
		}
		l, ok := lv.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Join needs a list")
		}
		parts := make([]string, 0, len(l))
		for _, x := range l {
			s, err := ScalarString(x)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Select needs [index, list]")
		}
		iv, err := Resolve(a[0], r)
		if err != nil {
			return nil, err
		}
		i, err := toInt(iv)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index: %w", err)
		}
		lv, err := Resolve(a[1], r)
		if err != nil {
			return nil, err
		}
		l, ok := lv.([]any)
		if !ok {
			return nil, fmt.Errorf("Fn::Select needs a list")
		}
		if i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select index %d out of range (%d items)", i, len(l))
		}
		return l[i], nil
	case "Fn::Split":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Split needs [delimiter, string]")
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Split delimiter is not a string")
		}
		sv, err := Resolve(a[1], r)
		if err != nil {
			return nil, err
		}
		s, err := ScalarString(sv)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Base64":
		sv, err := Resolve(arg, r)
		if err != nil {
			return nil, err
		}
		s, err := ScalarString(sv)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	}
	cr, ok := r.(ConditionResolver)
	if !ok {
		return nil, fmt.Errorf("%s needs a resolver that evaluates conditions", name)
	}
	switch name {
	case "Condition":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Condition needs a name")
		}
		return cr.Condition(s)
	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			return nil, fmt.Errorf("Fn::If needs [condition, then, else]")
		}
		cond, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::If condition is not a name")
		}
		b, err := cr.Condition(cond)
		if err != nil {
			return nil, err
		}
		if b {
			return Resolve(a[1], r)
		}
		return Resolve(a[2], r)
	case "Fn::Equals":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("Fn::Equals needs two values")
		}
		x, err := Resolve(a[0], r)
		if err != nil {
			return nil, err
		}
		y, err := Resolve(a[1], r)
		if err != nil {
			return nil, err
		}
		xs, err1 := ScalarString(x)
		ys, err2 := ScalarString(y)
		if err1 != nil || err2 != nil {
			return fmt.Sprint(x) == fmt.Sprint(y), nil
		}
		return xs == ys, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		a, ok := arg.([]any)
		if !ok || len(a) == 0 || (name == "Fn::Not" && len(a) != 1) {
			return nil, fmt.Errorf("%s needs a list of conditions", name)
		}
		vals := make([]bool, 0, len(a))
		for _, x := range a {
			v, err := Resolve(x, r)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("%s operand is not a condition", name)
			}
			vals = append(vals, b)
		}
		switch name {
		case "Fn::Not":
			return !vals[0], nil
		case "Fn::And":
			for _, b := range vals {
				if !b {
					return false, nil
				}
			}
			return true, nil
		default:
			for _, b := range vals {
				if b {
					return true, nil
				}
			}
			return false, nil
		}
	}
	return nil, fmt.Errorf("%s is not supported by the resolver", name)
}

func getAttArgs(arg any) (id, attr string, err error) {
	switch a := arg.(type) {
	case []any:
		if len(a) == 2 {
			id, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			if ok1 && ok2 {
				return id, attr, nil
			}
		}
	case string:
		if id, attr, ok := strings.Cut(a, "."); ok {
			return id, attr, nil
		}
	}
	return "", "", fmt.Errorf("Fn::GetAtt needs [LogicalId, Attribute]")
}

// SubNames returns the names referenced by ${...} in a Fn::Sub template, in
// order, without ${!Literal} escapes.
func SubNames(tmpl string) []string {
	var names []string
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			return names
		}
		rest := tmpl[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return names
		}
		if name := rest[:j]; !strings.HasPrefix(name, "!") {
			names = append(names, strings.TrimSpace(name))
		}
		tmpl = rest[j+1:]
	}
}

func substitute(tmpl string, vars map[string]any, r Resolver) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		b.WriteString(tmpl[:i])
		rest := tmpl[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			b.WriteString(tmpl[i:])
			return b.String(), nil
		}
		name := rest[:j]
		tmpl = rest[j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		var v any
		var err error
		if x, ok := vars[name]; ok {
			v = x
		} else if id, attr, ok := strings.Cut(name, "."); ok {
			v, err = r.GetAtt(id, attr)
		} else {
			v, err = r.Ref(name)
		}
		if err != nil {
			return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := ScalarString(v)
		if err != nil {
			return "", fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
}

// ScalarString formats a resolved scalar as CloudFormation would in a string.
func ScalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("value %v (%T) is not a scalar", v, v)
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case uint64:
		return int(x), nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}
