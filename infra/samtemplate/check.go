package samtemplate

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shiprelay/shiprelay/infra/runner/schedule"
)

// Problem is one finding of Check.
type Problem struct {
	// File is the template file ("" for an in-memory template).
	File string
	// Line is the line in the file (0 when unknown).
	Line int
	// Path is the dotted path of the offending value, e.g.
	// "Resources.IngestQueue.Properties.VisibilityTimeout".
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error: "template.yaml:12: Resources.X.Properties.Y: msg".
func (p *Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
		if p.Line > 0 {
			b.WriteString(strconv.Itoa(p.Line))
			b.WriteString(":")
		}
		b.WriteString(" ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

type checker struct {
	t     *Template
	root  string
	probs []*Problem
	res   *MapResolver
	fns   []Function
	// generated are SAM-generated logical ids that templates may refer to,
	// with their GetAtt attributes.
	generated map[string][]string
	// routes maps a route key to the function that serves it.
	routes map[string]string
}

// Check validates a SAM template offline and returns every problem found
// (each a *Problem), sorted by line. repoRoot is the directory CodeUri paths
// are relative to (the directory of template.yaml). It checks:
//
//   - the sections, Transform and format version; parameter declarations
//     (types, defaults inside AllowedValues/AllowedPattern/MinValue..MaxValue);
//     conditions (condition functions only, referring to parameters only);
//   - Globals: known sections and only the keys SAM merges, typed;
//   - every resource: known type, known resource attributes, DeletionPolicy
//     values, Condition and DependsOn targets; properties against an
//     allowlist with types, ranges and required properties (SAM Function and
//     HttpApi, their HttpApi/SQS/Schedule events, and the CloudFormation
//     DynamoDB table, SQS queue and log group);
//   - referential integrity: every Ref, Fn::GetAtt (with a valid attribute),
//     ${X} and ${X.Attr} in Fn::Sub, Fn::If condition and DependsOn names a
//     parameter, pseudo parameter, resource or SAM-generated resource;
//   - functions: Runtime provided.al2023, Handler bootstrap, Architectures
//     [arm64], Metadata BuildMethod, a Timeout, CodeUri a directory holding a
//     `package main` Go file; HttpApi routes unique with payload 2.0 and an
//     ApiId of the template; SQS events on a queue of the template with
//     FunctionResponseTypes [ReportBatchItemFailures], a MaximumConcurrency,
//     and a batching window when BatchSize > 10; Schedule expressions that
//     parse (rate or six-field cron);
//   - queues: every queue a function consumes or sends to has a
//     RedrivePolicy to a DLQ of the template (maxReceiveCount 1..1000) whose
//     retention is at least the queue's; VisibilityTimeout at least 6x the
//     consuming function's Timeout;
//   - environment: valid, unreserved names; GlobalEnv and RequiredEnv
//     declared; *_QUEUE_URL a Ref to a queue and SHIPRELAY_TABLE a Ref to a
//     table; a PlainEnv variable (SHIPRELAY_NOTIFY_CHANNEL) a literal of
//     its listed values; no other SHIPRELAY_* name apart from GlobalEnv
//     (LocalOnlyEnv never); every SHIPRELAY_* name in the function's Go
//     source declared;
//   - IAM: known policy templates with their parameter; inline statements
//     with Effect, no wildcard actions, Resource "*" only for the actions
//     AWS cannot scope (starResourceActions); each function may send to the
//     queues and use the table its environment names and read its secrets;
//   - tables: key schemas and attribute definitions consistent, unique
//     indexes, billing mode vs throughput, TTL, point-in-time recovery, SSE
//     and DeletionPolicy/UpdateReplacePolicy Retain.
func Check(t *Template, repoRoot string) []error {
	c := &checker{t: t, root: repoRoot, generated: map[string][]string{}, routes: map[string]string{}}
	c.buildResolver()
	c.checkTopLevel()
	c.checkParameters()
	c.checkConditions()
	c.checkGlobals()
	c.checkResources()
	c.walkRefs(t.Doc["Conditions"], "Conditions")
	c.walkRefs(t.Doc["Globals"], "Globals")
	c.walkRefs(t.Doc["Resources"], "Resources")
	c.walkRefs(t.Doc["Outputs"], "Outputs")
	c.checkOutputs()
	fns, err := t.Functions()
	if err != nil {
		c.add("Resources", "%v", err)
	}
	c.fns = fns
	for i := range c.fns {
		c.checkFunction(&c.fns[i])
	}
	c.checkQueues()
	c.checkTables()
	c.checkSharedEnv()
	sort.SliceStable(c.probs, func(i, j int) bool { return c.probs[i].Line < c.probs[j].Line })
	out := make([]error, len(c.probs))
	for i, p := range c.probs {
		out[i] = p
	}
	return out
}

func (c *checker) add(path, format string, args ...any) {
	c.probs = append(c.probs, &Problem{File: c.t.Path, Line: c.t.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// buildResolver resolves parameters to their defaults and resources to
// placeholders, so that numbers and schedules written as Refs can be checked.
func (c *checker) buildResolver() {
	for _, id := range c.t.ResourceIDs(TypeFunction) {
		if _, hasRole := c.t.Resources[id].Properties["Role"]; !hasRole {
			c.generated[id+"Role"] = []string{"Arn", "RoleId"}
		}
		evs, _ := c.t.Resources[id].Properties["Events"].(map[string]any)
		for name := range evs {
			c.generated[id+name] = []string{"Arn"}
		}
	}
	for _, id := range c.t.ResourceIDs(TypeHttpApi) {
		c.generated[id+"ApiGatewayDefaultStage"] = nil
	}
	o := ResolverOptions{
		Pseudo:     PseudoParameters("us-east-1", "123456789012", "shiprelay"),
		Resources:  map[string]any{},
		Attributes: map[string]any{},
	}
	for id, r := range c.t.Resources {
		o.Resources[id] = "<" + id + ">"
		for _, a := range c.attrsOf(r.Type) {
			o.Attributes[id+"."+a] = "<" + id + "." + a + ">"
		}
	}
	r, err := c.t.Resolver(o)
	if err != nil {
		// Reported by checkParameters/checkConditions; go on without conditions.
		params, _ := c.t.ParameterValues(nil)
		r = &MapResolver{Values: map[string]any{}, Attributes: o.Attributes, Conditions: map[string]bool{}}
		for k, v := range o.Pseudo {
			r.Values[k] = v
		}
		for k, v := range o.Resources {
			r.Values[k] = v
		}
		for k, v := range params {
			r.Values[k] = v
		}
	}
	c.res = r
}

func (c *checker) attrsOf(typ string) []string {
	if s, ok := cfnSchemas[typ]; ok {
		return s.attrs
	}
	if s, ok := samSchemas[typ]; ok {
		return s.attrs
	}
	return nil
}

// ---- sections ---------------------------------------------------------------

func (c *checker) checkTopLevel() {
	for k := range c.t.Doc {
		if !contains(topLevelKeys, k) {
			c.add(k, "unknown top-level section %q", k)
		}
	}
	if v, ok := c.t.Doc["AWSTemplateFormatVersion"]; ok && fmt.Sprint(v) != "2010-09-09" {
		c.add("AWSTemplateFormatVersion", "must be \"2010-09-09\", not %q", fmt.Sprint(v))
	}
	if !contains(c.t.Transforms, SAMTransform) {
		c.add("Transform", "must include %s", SAMTransform)
	}
	if len(c.t.Resources) == 0 {
		c.add("Resources", "no resources")
	}
}

var logicalIDRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)

func (c *checker) checkParameters() {
	for _, name := range sortedKeys(c.t.Parameters) {
		p := c.t.Parameters[name]
		path := "Parameters." + name
		if !logicalIDRE.MatchString(name) {
			c.add(path, "parameter names are alphanumeric")
		}
		if p.Props == nil {
			c.add(path, "not a mapping")
			continue
		}
		for k := range p.Props {
			if !contains(parameterKeys, k) {
				c.add(path+"."+k, "unknown parameter attribute %q", k)
			}
		}
		if !contains(parameterTypes, p.Type) && !strings.HasPrefix(p.Type, "AWS::") {
			c.add(path+".Type", "unknown parameter type %q", p.Type)
		}
		if !p.HasDefault {
			// Every parameter has a default so that `sam deploy` and the
			// local runner work without overrides.
			c.add(path, "has no Default")
			continue
		}
		def, err := ScalarString(p.Default)
		if err != nil {
			c.add(path+".Default", "%v", err)
			continue
		}
		c.checkParameterValue(name, def, path+".Default")
	}
}

// checkParameterValue checks a value against the parameter's constraints.
func (c *checker) checkParameterValue(name, v, path string) {
	p := c.t.Parameters[name]
	if len(p.AllowedValues) > 0 {
		ok := false
		for _, a := range p.AllowedValues {
			if as, err := ScalarString(a); err == nil && as == v {
				ok = true
			}
		}
		if !ok {
			c.add(path, "%q is not in AllowedValues", v)
		}
	}
	if pat, ok := p.Props["AllowedPattern"].(string); ok {
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			c.add("Parameters."+name+".AllowedPattern", "bad pattern: %v", err)
		} else if !re.MatchString(v) {
			c.add(path, "%q does not match AllowedPattern", v)
		}
	}
	if p.Type == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			c.add(path, "%q is not a number", v)
			return
		}
		if mn, ok := p.Props["MinValue"]; ok {
			if m, err := toFloat(mn); err == nil && f < m {
				c.add(path, "%v is below MinValue %v", f, m)
			}
		}
		if mx, ok := p.Props["MaxValue"]; ok {
			if m, err := toFloat(mx); err == nil && f > m {
				c.add(path, "%v is above MaxValue %v", f, m)
			}
		}
	}
}

func toFloat(v any) (float64, error) {
	s, err := ScalarString(v)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(s, 64)
}

var conditionFns = []string{"Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"}

func (c *checker) checkConditions() {
	for _, name := range sortedKeys(c.t.Conditions) {
		path := "Conditions." + name
		fn, _, ok := Intrinsic(c.t.Conditions[name])
		if !ok || !contains(conditionFns, fn) {
			c.add(path, "a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
		}
	}
}

func (c *checker) checkGlobals() {
	raw, ok := c.t.Doc["Globals"]
	if !ok {
		return
	}
	g, ok := raw.(map[string]any)
	if !ok {
		c.add("Globals", "not a mapping")
		return
	}
	for _, sec := range sortedKeys(g) {
		path := "Globals." + sec
		if !contains(globalsSections, sec) {
			c.add(path, "unknown Globals section %q (SAM knows %s)", sec, strings.Join(globalsSections, ", "))
			continue
		}
		m, ok := g[sec].(map[string]any)
		if !ok {
			c.add(path, "not a mapping")
			continue
		}
		var allowed []string
		var types map[string]*propType
		switch sec {
		case "Function":
			allowed, types = globalsFunctionKeys, functionProps
		case "HttpApi":
			allowed, types = globalsHttpApiKeys, httpApiProps
		default:
			continue
		}
		for _, k := range sortedKeys(m) {
			if !contains(allowed, k) {
				c.add(path+"."+k, "%q is not a property SAM merges from Globals.%s", k, sec)
				continue
			}
			c.checkType(m[k], types[k], path+"."+k)
		}
	}
}

// ---- resources --------------------------------------------------------------

var policyValues = []string{"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"}

func (c *checker) checkResources() {
	for _, id := range c.t.ResourceIDs() {
		r := c.t.Resources[id]
		path := "Resources." + id
		if !logicalIDRE.MatchString(id) {
			c.add(path, "logical ids are alphanumeric")
		}
		for k := range r.Attributes {
			if !contains(resourceAttributeKeys, k) {
				c.add(path+"."+k, "unknown resource attribute %q", k)
			}
		}
		for _, k := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if v, ok := r.Attributes[k]; ok && !contains(policyValues, fmt.Sprint(v)) {
				c.add(path+"."+k, "%q is not one of %s", fmt.Sprint(v), strings.Join(policyValues, ", "))
			}
		}
		if r.Condition != "" {
			if _, ok := c.t.Conditions[r.Condition]; !ok {
				c.add(path+".Condition", "no condition named %q", r.Condition)
			}
		}
		for _, d := range r.DependsOn {
			if _, ok := c.t.Resources[d]; !ok || d == id {
				c.add(path+".DependsOn", "DependsOn %q is not another resource of the template", d)
			}
		}
		if _, ok := r.Attributes["Properties"]; ok {
			if _, isMap := r.Attributes["Properties"].(map[string]any); !isMap {
				c.add(path+".Properties", "not a mapping")
				continue
			}
		}
		schema, known := cfnSchemas[r.Type]
		if !known {
			schema, known = samSchemas[r.Type]
		}
		if !known {
			c.add(path+".Type", "unknown or unsupported resource type %q", r.Type)
			continue
		}
		c.checkType(r.Properties, schema.props, path+".Properties")
	}
}

// checkType checks v against t. Intrinsic functions are accepted where they
// can stand (their references are checked by walkRefs); a Ref to a
// parameter is checked through the parameter's default and allowed values,
// and both arms of a Fn::If are checked.
func (c *checker) checkType(v any, t *propType, path string) {
	if t == nil || t.kind == kAny {
		return
	}
	if fn, arg, ok := Intrinsic(v); ok {
		switch fn {
		case "Fn::If":
			if a, ok := arg.([]any); ok && len(a) == 3 {
				for _, branch := range a[1:] {
					if n, x, ok := Intrinsic(branch); ok && n == "Ref" && x == "AWS::NoValue" {
						continue
					}
					c.checkType(branch, t, path)
				}
			}
		case "Ref":
			name, _ := arg.(string)
			if p, ok := c.t.Parameters[name]; ok && t.kind != kList && t.kind != kStruct && t.kind != kMap {
				vals := p.AllowedValues
				if len(vals) == 0 && p.HasDefault {
					vals = []any{p.Default}
				}
				for _, pv := range vals {
					c.checkType(pv, t, path+" (parameter "+name+")")
				}
			}
		}
		return
	}
	switch t.kind {
	case kString:
		s, err := ScalarString(v)
		if err != nil {
			c.add(path, "want a string, got %s", describe(v))
			return
		}
		if len(t.enum) > 0 && !contains(t.enum, s) {
			c.add(path, "%q is not one of %s", s, strings.Join(t.enum, ", "))
		}
	case kInteger:
		n, err := toInt(v)
		if _, isBool := v.(bool); err != nil || isBool {
			c.add(path, "want an integer, got %s", describe(v))
			return
		}
		if t.min != nil && t.max != nil && (n < *t.min || n > *t.max) {
			c.add(path, "%d is outside %d..%d", n, *t.min, *t.max)
		}
	case kDouble:
		if _, err := toFloat(v); err != nil {
			c.add(path, "want a number, got %s", describe(v))
		} else if _, isBool := v.(bool); isBool {
			c.add(path, "want a number, got %s", describe(v))
		}
	case kBoolean:
		switch x := v.(type) {
		case bool:
		case string:
			if x != "true" && x != "false" {
				c.add(path, "want a boolean, got %q", x)
			}
		default:
			c.add(path, "want a boolean, got %s", describe(v))
		}
	case kJSON:
		switch x := v.(type) {
		case map[string]any:
		case string:
			var m map[string]any
			if json.Unmarshal([]byte(x), &m) != nil {
				c.add(path, "want a JSON object")
			}
		default:
			c.add(path, "want a JSON object, got %s", describe(v))
		}
	case kList:
		l, ok := v.([]any)
		if !ok {
			c.add(path, "want a list, got %s", describe(v))
			return
		}
		for i, x := range l {
			c.checkType(x, t.elem, path+"."+strconv.Itoa(i))
		}
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			c.add(path, "want a mapping, got %s", describe(v))
			return
		}
		for _, k := range sortedKeys(m) {
			c.checkType(m[k], t.elem, path+"."+k)
		}
	case kStruct:
		m, ok := v.(map[string]any)
		if !ok {
			c.add(path, "want a mapping, got %s", describe(v))
			return
		}
		for _, k := range sortedKeys(m) {
			f, ok := t.fields[k]
			if !ok {
				c.add(path+"."+k, "unknown property %q", k)
				continue
			}
			c.checkType(m[k], f.t, path+"."+k)
		}
		for _, k := range sortedKeys(t.fields) {
			if t.fields[k].required {
				if _, ok := m[k]; !ok {
					c.add(path, "missing required property %q", k)
				}
			}
		}
	}
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

// ---- references -------------------------------------------------------------

var knownFns = []string{"Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select",
	"Fn::Split", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::FindInMap", "Fn::ImportValue",
	"Fn::Base64", "Fn::Cidr", "Fn::GetAZs", "Fn::Transform", "Fn::Length", "Fn::ToJsonString"}

func (c *checker) walkRefs(v any, path string) {
	if fn, arg, ok := Intrinsic(v); ok {
		c.checkFn(fn, arg, path)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if strings.HasPrefix(k, "Fn::") {
				c.add(path+"."+k, "intrinsic function %s must be the only key of its mapping", k)
			}
			c.walkRefs(x[k], path+"."+k)
		}
	case []any:
		for i, e := range x {
			c.walkRefs(e, path+"."+strconv.Itoa(i))
		}
	}
}

func (c *checker) checkFn(fn string, arg any, path string) {
	if !contains(knownFns, fn) {
		c.add(path, "unknown intrinsic function %s", fn)
		return
	}
	inConditions := strings.HasPrefix(path, "Conditions.")
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			c.add(path, "Ref needs a name")
			return
		}
		c.checkRefName(name, path, inConditions)
	case "Fn::GetAtt":
		id, attr, err := getAttArgs(arg)
		if err != nil {
			c.add(path, "%v", err)
			return
		}
		c.checkGetAtt(id, attr, path)
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			tmpl = a
		case []any:
			if len(a) == 2 {
				tmpl, _ = a[0].(string)
				vars, _ = a[1].(map[string]any)
				for k, v := range vars {
					c.walkRefs(v, path+"."+k)
				}
			}
		}
		if tmpl == "" {
			c.add(path, "Fn::Sub needs a string or [string, variables]")
			return
		}
		for _, name := range SubNames(tmpl) {
			if _, ok := vars[name]; ok {
				continue
			}
			if id, attr, ok := strings.Cut(name, "."); ok {
				c.checkGetAtt(id, attr, path)
			} else {
				c.checkRefName(name, path, inConditions)
			}
		}
	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			c.add(path, "Fn::If needs [condition, then, else]")
			return
		}
		name, _ := a[0].(string)
		if _, ok := c.t.Conditions[name]; !ok {
			c.add(path, "Fn::If: no condition named %q", name)
		}
		c.walkRefs(a[1], path)
		c.walkRefs(a[2], path)
	case "Condition":
		name, _ := arg.(string)
		if _, ok := c.t.Conditions[name]; !ok {
			c.add(path, "no condition named %q", name)
		}
	case "Fn::FindInMap":
		a, ok := arg.([]any)
		if !ok || len(a) < 3 {
			c.add(path, "Fn::FindInMap needs [map, key, key]")
			return
		}
		if name, ok := a[0].(string); ok {
			if _, found := c.t.Mappings[name]; !found {
				c.add(path, "no mapping named %q", name)
			}
		}
		c.walkRefs(a, path)
	default:
		c.walkRefs(arg, path)
	}
}

func (c *checker) checkRefName(name, path string, inConditions bool) {
	if IsPseudoParameter(name) {
		return
	}
	if _, ok := c.t.Parameters[name]; ok {
		return
	}
	if _, ok := c.t.Resources[name]; ok {
		if inConditions {
			c.add(path, "conditions may refer to parameters only, not resource %q", name)
		}
		return
	}
	if _, ok := c.generated[name]; ok {
		return
	}
	c.add(path, "Ref %q names no parameter, pseudo parameter or resource", name)
}

func (c *checker) checkGetAtt(id, attr, path string) {
	var attrs []string
	if r, ok := c.t.Resources[id]; ok {
		attrs = c.attrsOf(r.Type)
		if r.Type == TypeTable && attr == "StreamArn" {
			if _, ok := r.Properties["StreamSpecification"]; !ok {
				c.add(path, "GetAtt %s.StreamArn: the table has no StreamSpecification", id)
				return
			}
		}
	} else if g, ok := c.generated[id]; ok {
		attrs = g
	} else {
		c.add(path, "GetAtt %s.%s: no resource %q", id, attr, id)
		return
	}
	if !contains(attrs, attr) {
		c.add(path, "GetAtt %s.%s: %s has no attribute %q (it has %s)", id, attr, id, attr, strings.Join(attrs, ", "))
	}
}

func (c *checker) checkOutputs() {
	for _, name := range sortedKeys(c.t.Outputs) {
		path := "Outputs." + name
		m, ok := c.t.Outputs[name].(map[string]any)
		if !ok {
			c.add(path, "not a mapping")
			continue
		}
		for k := range m {
			if !contains(outputKeys, k) {
				c.add(path+"."+k, "unknown output attribute %q", k)
			}
		}
		if _, ok := m["Value"]; !ok {
			c.add(path, "missing Value")
		}
		if cond, ok := m["Condition"].(string); ok {
			if _, found := c.t.Conditions[cond]; !found {
				c.add(path+".Condition", "no condition named %q", cond)
			}
		}
	}
}

// ---- functions --------------------------------------------------------------

var envNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

func (c *checker) checkFunction(f *Function) {
	path := "Resources." + f.LogicalID
	props := path + ".Properties"
	if f.Runtime != "provided.al2023" {
		c.add(props+".Runtime", "Runtime must be provided.al2023 (directly or via Globals), got %q", f.Runtime)
	}
	if f.Handler != "bootstrap" {
		c.add(props+".Handler", "Handler must be bootstrap, got %q", f.Handler)
	}
	if len(f.Architectures) != 1 || f.Architectures[0] != "arm64" {
		c.add(props+".Architectures", "Architectures must be [arm64] (SAM concatenates Globals and function lists), got %v", f.Architectures)
	}
	if pt, ok := f.Properties["PackageType"]; ok && pt != "Zip" {
		c.add(props+".PackageType", "PackageType must be Zip")
	}
	bm, _ := f.Resource.Metadata["BuildMethod"].(string)
	if !contains(buildMethods, bm) {
		c.add(path+".Metadata.BuildMethod", "Metadata.BuildMethod must be one of %s, got %q", strings.Join(buildMethods, ", "), bm)
	}
	for k := range f.Resource.Metadata {
		if k != "BuildMethod" && k != "BuildProperties" {
			c.add(path+".Metadata."+k, "unknown function Metadata key %q", k)
		}
	}
	if bp, ok := f.Resource.Metadata["BuildProperties"]; ok {
		c.checkType(bp, obj(map[string]*propType{"TrimGoPath": boolean()}), path+".Metadata.BuildProperties")
	}
	timeout := 0
	if !f.Timeout.IsSet() {
		c.add(props, "no Timeout (set one per function)")
	} else if n, err := f.Timeout.Int(c.res); err != nil {
		c.add(props+".Timeout", "%v", err)
	} else {
		timeout = n
	}
	c.checkCodeURI(f, props+".CodeUri")
	evPath := props + ".Events"
	for _, ev := range f.Events {
		c.checkEvent(f, ev, evPath+"."+ev.Name, timeout)
	}
	c.checkEnv(f, props+".Environment.Variables")
	c.checkPolicies(f, props+".Policies")
}

func (c *checker) checkCodeURI(f *Function, path string) {
	if f.CodeURI == "" {
		c.add(path, "CodeUri must be a local directory (functions/<name>/)")
		return
	}
	if filepath.IsAbs(f.CodeURI) || strings.Contains(f.CodeURI, "://") || strings.HasPrefix(filepath.Clean(f.CodeURI), "..") {
		c.add(path, "CodeUri %q must be a directory inside the repository", f.CodeURI)
		return
	}
	dir := filepath.Join(c.root, filepath.FromSlash(f.CodeURI))
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.add(path, "CodeUri %q: %v", f.CodeURI, err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly)
		if err == nil && pf.Name.Name == "main" {
			return
		}
	}
	c.add(path, "CodeUri %q holds no `package main` Go file", f.CodeURI)
}

func (c *checker) checkEvent(f *Function, ev Event, path string, timeout int) {
	raw, _ := f.Properties["Events"].(map[string]any)
	if m, ok := raw[ev.Name].(map[string]any); ok {
		for k := range m {
			if k != "Type" && k != "Properties" {
				c.add(path+"."+k, "unknown event key %q", k)
			}
		}
	}
	schema, ok := eventProps[ev.Type]
	if !ok {
		c.add(path+".Type", "event type %q is not one the project uses (%s)", ev.Type, strings.Join(sortedKeys(eventProps), ", "))
		return
	}
	pp := path + ".Properties"
	c.checkType(ev.Properties, schema, pp)
	switch {
	case ev.HttpApi != nil:
		h := ev.HttpApi
		if id, ok := RefTarget(h.ApiID); !ok || c.t.Resources[id].Type != TypeHttpApi {
			c.add(pp+".ApiId", "ApiId must be a Ref to an AWS::Serverless::HttpApi of the template")
		}
		if !strings.HasPrefix(h.Path, "/") {
			c.add(pp+".Path", "Path must start with /")
		}
		if h.PayloadFormatVersion != "2.0" {
			c.add(pp+".PayloadFormatVersion", "the functions and the local runner speak payload format 2.0")
		}
		if prev, dup := c.routes[h.RouteKey()]; dup {
			c.add(pp, "route %q is already served by %s", h.RouteKey(), prev)
		}
		c.routes[h.RouteKey()] = f.LogicalID
	case ev.SQS != nil:
		s := ev.SQS
		q, isQueue := c.t.Resources[s.QueueLogicalID]
		if fn, arg, _ := Intrinsic(s.Queue); fn != "Fn::GetAtt" || !isQueue || q.Type != TypeQueue {
			c.add(pp+".Queue", "Queue must be !GetAtt <Queue>.Arn of an AWS::SQS::Queue of the template")
		} else if _, attr, _ := getAttArgs(arg); attr != "Arn" {
			c.add(pp+".Queue", "Queue must be the queue's Arn")
		}
		if !s.ReportsBatchItemFailures() {
			c.add(pp+".FunctionResponseTypes", "SQS events must have FunctionResponseTypes: [ReportBatchItemFailures]")
		}
		if !s.MaximumConcurrency.IsSet() {
			c.add(pp+".ScalingConfig", "SQS events must set ScalingConfig.MaximumConcurrency")
		} else if n, err := s.MaximumConcurrency.Int(c.res); err != nil {
			c.add(pp+".ScalingConfig.MaximumConcurrency", "%v", err)
		} else if n < 2 || n > 1000 {
			c.add(pp+".ScalingConfig.MaximumConcurrency", "%d is outside 2..1000", n)
		}
		batch, err := s.BatchSize.IntOr(c.res, 10)
		if err != nil {
			c.add(pp+".BatchSize", "%v", err)
		}
		window, err := s.MaximumBatchingWindowInSeconds.IntOr(c.res, 0)
		if err != nil {
			c.add(pp+".MaximumBatchingWindowInSeconds", "%v", err)
		}
		if batch > 10 && window < 1 {
			c.add(pp+".MaximumBatchingWindowInSeconds", "a BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1")
		}
		if isQueue && q.Properties["FifoQueue"] == true && batch > 10 {
			c.add(pp+".BatchSize", "a FIFO queue allows a BatchSize of at most 10")
		}
	case ev.Schedule != nil:
		expr, err := ev.Schedule.Schedule.String(c.res)
		if err != nil {
			c.add(pp+".Schedule", "%v", err)
		} else if _, err := schedule.Parse(expr); err != nil {
			c.add(pp+".Schedule", "%v", err)
		}
	}
}

func (c *checker) checkEnv(f *Function, path string) {
	for _, name := range sortedKeys(f.Environment) {
		p := path + "." + name
		if !envNameRE.MatchString(name) {
			c.add(p, "invalid environment variable name %q", name)
		}
		if contains(reservedEnv, name) {
			c.add(p, "%s is reserved by Lambda", name)
		}
		v := f.Environment[name]
		id, isRef := RefTarget(v)
		fn, _, _ := Intrinsic(v)
		switch {
		case strings.HasSuffix(name, "_QUEUE_URL"):
			if fn != "Ref" || c.t.Resources[id].Type != TypeQueue {
				c.add(p, "%s must be !Ref to an AWS::SQS::Queue (Ref gives the queue URL)", name)
			}
		case name == "SHIPRELAY_TABLE":
			if fn != "Ref" || c.t.Resources[id].Type != TypeTable {
				c.add(p, "SHIPRELAY_TABLE must be !Ref to an AWS::DynamoDB::Table")
			}
		case PlainEnv[name] != nil:
			if s, err := ScalarString(v); isRef || fn != "" || err != nil {
				c.add(p, "%s must be a plain value (one of %s), not an intrinsic", name, strings.Join(PlainEnv[name], ", "))
			} else if !contains(PlainEnv[name], s) {
				c.add(p, "%s=%q: the code accepts only %s", name, s, strings.Join(PlainEnv[name], ", "))
			}
		case contains(LocalOnlyEnv, name):
			c.add(p, "%s is set only by the local stack, never by the template", name)
		case strings.HasPrefix(name, "SHIPRELAY_") && !contains(GlobalEnv, name):
			c.add(p, "unknown variable %s: a SHIPRELAY_* variable is a GlobalEnv one, SHIPRELAY_TABLE, a *_QUEUE_URL or listed in PlainEnv", name)
		}
		if !isRef {
			if _, err := ScalarString(v); err != nil && fn == "" {
				c.add(p, "environment values must be scalars")
			}
		}
	}
	need := append(append([]string{}, GlobalEnv...), RequiredEnv[f.Dir]...)
	for _, name := range need {
		if _, ok := f.Environment[name]; !ok {
			c.add(path, "%s (%s) must declare %s", f.LogicalID, f.Dir, name)
		}
	}
	if f.CodeURI == "" {
		return
	}
	for _, name := range envNamesIn(filepath.Join(c.root, filepath.FromSlash(f.CodeURI))) {
		if _, ok := f.Environment[name]; !ok && !contains(LocalOnlyEnv, name) {
			c.add(path, "the code in %s reads %s, which the function does not declare", f.CodeURI, name)
		}
	}
}

// checkSharedEnv checks that every SHIPRELAY_* name the function wiring in
// shared/app reads is declared by some function (or is local-only).
func (c *checker) checkSharedEnv() {
	declared := map[string]bool{}
	for _, f := range c.fns {
		for k := range f.Environment {
			declared[k] = true
		}
	}
	for _, name := range envNamesIn(filepath.Join(c.root, "shared", "app")) {
		if !declared[name] && !contains(LocalOnlyEnv, name) {
			c.add("Globals.Function.Environment.Variables", "shared/app reads %s, which no function declares", name)
		}
	}
}

var envRefRE = regexp.MustCompile(`"(SHIPRELAY_[A-Z0-9_]+)"`)

// envNamesIn returns the SHIPRELAY_* string literals in the non-test Go
// files of dir (none when dir does not exist).
func envNamesIn(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		for _, m := range envRefRE.FindAllStringSubmatch(string(data), -1) {
			seen[m[1]] = true
		}
	}
	return sortedKeys(seen)
}

// grant is one (action, resource) pair a function's policies allow.
type grant struct {
	action string
	// target is "id" for a resource of the template, "param:Name" for a
	// parameter named in a Sub, or "" when unknown.
	targets []string
}

func (c *checker) checkPolicies(f *Function, path string) {
	raw, ok := f.Properties["Policies"]
	if _, hasRole := f.Properties["Role"]; hasRole {
		if ok {
			c.add(path, "Policies are ignored when Role is set")
		}
		return
	}
	if !ok {
		c.add(path, "no Policies: give each function the least privilege it needs")
		return
	}
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	default:
		items = []any{x}
	}
	var grants []grant
	for i, item := range items {
		p := path + "." + strconv.Itoa(i)
		switch x := item.(type) {
		case string:
			c.add(p, "managed policy %q: prefer policy templates or inline statements scoped to resources", x)
		case map[string]any:
			if len(x) != 1 {
				c.add(p, "a policy entry is one policy template or one {Statement: [...]}")
				continue
			}
			for name, v := range x {
				if name == "Statement" {
					grants = append(grants, c.checkStatements(v, p+".Statement")...)
					continue
				}
				if name == "Version" {
					continue
				}
				tpl, known := policyTemplates[name]
				if !known {
					c.add(p+"."+name, "unknown policy template %q", name)
					continue
				}
				args, _ := v.(map[string]any)
				for k := range args {
					if k != tpl.param {
						c.add(p+"."+name+"."+k, "policy template %s takes %s, not %s", name, tpl.param, k)
					}
				}
				arg, ok := args[tpl.param]
				if !ok {
					c.add(p+"."+name, "policy template %s needs %s", name, tpl.param)
					continue
				}
				target, _ := RefTarget(arg)
				for _, a := range tpl.actions {
					grants = append(grants, grant{action: a, targets: []string{target}})
				}
			}
		default:
			c.add(p, "a policy entry is a policy template or a {Statement: [...]} mapping")
		}
	}
	allows := func(action, target string) bool {
		for _, g := range grants {
			if !actionMatches(g.action, action) {
				continue
			}
			if contains(g.targets, target) {
				return true
			}
		}
		return false
	}
	for _, name := range sortedKeys(f.Environment) {
		id, ok := RefTarget(f.Environment[name])
		if !ok {
			continue
		}
		switch c.t.Resources[id].Type {
		case TypeQueue:
			// A queue a function names is one it sends to, or (its own
			// event source) one whose messages it defers.
			if !allows("sqs:SendMessage", id) && !allows("sqs:ChangeMessageVisibility", id) {
				c.add(path, "%s names queue %s but the function may neither sqs:SendMessage to it nor sqs:ChangeMessageVisibility on it", name, id)
			}
		case TypeTable:
			need, listed := TableActions[f.Dir]
			if !listed {
				need = DefaultTableActions
			}
			for _, a := range need {
				if !allows(a, id) {
					c.add(path, "%s names table %s but the function may not %s on it", name, id, a)
				}
			}
			if listed && !containsAny(need, tableWriteActions) {
				// A reader stays a reader: least privilege.
				for _, a := range tableWriteActions {
					if allows(a, id) {
						c.add(path, "%s (%s) only reads table %s but may %s on it", f.LogicalID, f.Dir, id, a)
					}
				}
			}
		}
	}
	if _, ok := f.Environment["SHIPRELAY_CONFIG"]; ok {
		for _, param := range []string{"ConfigSecretName", "SecretsPrefix"} {
			if _, declared := c.t.Parameters[param]; declared && !allows("secretsmanager:GetSecretValue", "param:"+param) {
				c.add(path, "the function reads its configuration but may not secretsmanager:GetSecretValue on ${%s}", param)
			}
		}
	}
}

var statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "NotPrincipal"}

func (c *checker) checkStatements(v any, path string) []grant {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var grants []grant
	for i, s := range list {
		p := path + "." + strconv.Itoa(i)
		st, ok := s.(map[string]any)
		if !ok {
			c.add(p, "a statement is a mapping")
			continue
		}
		for k := range st {
			if !contains(statementKeys, k) {
				c.add(p+"."+k, "unknown statement key %q", k)
			}
		}
		effect, _ := st["Effect"].(string)
		if effect != "Allow" && effect != "Deny" {
			c.add(p+".Effect", "Effect must be Allow or Deny")
		}
		if _, ok := st["NotAction"]; ok {
			c.add(p+".NotAction", "NotAction grants everything else: list actions instead")
		}
		if _, ok := st["NotResource"]; ok {
			c.add(p+".NotResource", "NotResource grants everything else: list resources instead")
		}
		actions := stringList(st["Action"])
		if len(actions) == 0 {
			c.add(p+".Action", "no Action")
		}
		for _, a := range actions {
			if strings.Contains(a, "*") {
				c.add(p+".Action", "wildcard action %q: list the actions", a)
			} else if !strings.Contains(a, ":") {
				c.add(p+".Action", "action %q is not service:Action", a)
			}
		}
		resources, ok := st["Resource"].([]any)
		if !ok {
			resources = []any{st["Resource"]}
		}
		var targets []string
		for _, r := range resources {
			if r == nil {
				c.add(p+".Resource", "no Resource")
				continue
			}
			if s, isStr := r.(string); isStr {
				if s == "*" {
					for _, a := range actions {
						if !contains(starResourceActions, a) {
							c.add(p+".Resource", "Resource \"*\" with %s: AWS allows \"*\" only for actions that cannot be scoped (%s)", a, strings.Join(starResourceActions, ", "))
						}
					}
				}
				continue
			}
			targets = append(targets, statementTargets(r)...)
		}
		if effect == "Allow" {
			for _, a := range actions {
				grants = append(grants, grant{action: a, targets: targets})
			}
		}
	}
	return grants
}

// statementTargets names what a Resource entry points at: the logical id of
// a Ref/GetAtt X.Arn or a Sub of exactly "${X.Arn}", and "param:Name" for
// each parameter a Sub interpolates (secret ARNs built from a name).
func statementTargets(r any) []string {
	fn, arg, ok := Intrinsic(r)
	if !ok {
		return nil
	}
	switch fn {
	case "Ref":
		s, _ := arg.(string)
		return []string{s}
	case "Fn::GetAtt":
		id, _, err := getAttArgs(arg)
		if err == nil {
			return []string{id}
		}
	case "Fn::Sub":
		tmpl, _ := arg.(string)
		if l, ok := arg.([]any); ok && len(l) > 0 {
			tmpl, _ = l[0].(string)
		}
		var out []string
		if id, ok := RefTarget(r); ok && strings.HasSuffix(tmpl, ".Arn}") {
			out = append(out, id)
		}
		for _, name := range SubNames(tmpl) {
			if !strings.Contains(name, ".") && !IsPseudoParameter(name) {
				out = append(out, "param:"+name)
			}
		}
		return out
	}
	return nil
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// actionMatches reports whether an IAM action pattern (which may end in *)
// covers action.
// containsAny reports whether list holds any of want.
func containsAny(list, want []string) bool {
	for _, w := range want {
		if contains(list, w) {
			return true
		}
	}
	return false
}

func actionMatches(pattern, action string) bool {
	if strings.HasSuffix(pattern, "*") {
		return strings.HasPrefix(strings.ToLower(action), strings.ToLower(strings.TrimSuffix(pattern, "*")))
	}
	return strings.EqualFold(pattern, action)
}

// ---- queues -----------------------------------------------------------------

func (c *checker) checkQueues() {
	queues, err := c.t.Queues()
	if err != nil {
		c.add("Resources", "%v", err)
		return
	}
	byID := map[string]Queue{}
	for _, q := range queues {
		byID[q.LogicalID] = q
		path := "Resources." + q.LogicalID + ".Properties"
		if q.FIFO {
			if name, err := q.QueueName.String(c.res); err == nil && q.QueueName.IsLiteral() && !strings.HasSuffix(name, ".fifo") {
				c.add(path+".QueueName", "a FIFO queue's name must end in .fifo")
			}
		}
		if q.Redrive != nil {
			c.checkType(q.Properties["RedrivePolicy"], redrivePolicySchema, path+".RedrivePolicy")
		}
	}
	// Queues the functions consume, with the consumer's timeout, and the
	// queues they send to.
	used := map[string]string{}
	consumerTimeout := map[string][]int{}
	for _, f := range c.fns {
		for _, ev := range f.Events {
			if ev.SQS != nil && ev.SQS.QueueLogicalID != "" {
				used[ev.SQS.QueueLogicalID] = f.LogicalID
				if n, err := f.Timeout.Int(c.res); err == nil {
					consumerTimeout[ev.SQS.QueueLogicalID] = append(consumerTimeout[ev.SQS.QueueLogicalID], n)
				}
			}
		}
		for _, v := range f.Environment {
			if id, ok := RefTarget(v); ok && c.t.Resources[id].Type == TypeQueue {
				if _, seen := used[id]; !seen {
					used[id] = f.LogicalID
				}
			}
		}
	}
	for _, id := range sortedKeys(used) {
		q, ok := byID[id]
		if !ok {
			continue
		}
		path := "Resources." + id + ".Properties"
		if q.Redrive == nil {
			c.add(path, "queue %s is used by %s but has no RedrivePolicy to a dead-letter queue", id, used[id])
			continue
		}
		dlq, ok := byID[q.Redrive.DeadLetterQueue]
		if !ok {
			c.add(path+".RedrivePolicy.deadLetterTargetArn", "must be !GetAtt <DLQ>.Arn of an AWS::SQS::Queue of the template")
		} else {
			if dlq.LogicalID == id {
				c.add(path+".RedrivePolicy.deadLetterTargetArn", "a queue cannot be its own dead-letter queue")
			}
			if dlq.FIFO != q.FIFO {
				c.add(path+".RedrivePolicy.deadLetterTargetArn", "the dead-letter queue of a FIFO queue must be FIFO (and of a standard queue standard)")
			}
			qr, err1 := q.MessageRetentionPeriod.IntOr(c.res, DefaultMessageRetentionPeriod)
			dr, err2 := dlq.MessageRetentionPeriod.IntOr(c.res, DefaultMessageRetentionPeriod)
			if err1 == nil && err2 == nil && dr < qr {
				c.add("Resources."+dlq.LogicalID+".Properties.MessageRetentionPeriod", "the dead-letter queue keeps messages %ds, less than %s's %ds (SQS keeps the original enqueue time)", dr, id, qr)
			}
		}
		if n, err := q.Redrive.MaxReceiveCount.Int(c.res); err != nil {
			c.add(path+".RedrivePolicy.maxReceiveCount", "%v", err)
		} else if n < 1 || n > 1000 {
			c.add(path+".RedrivePolicy.maxReceiveCount", "%d is outside 1..1000", n)
		}
		vis, err := q.VisibilityTimeout.IntOr(c.res, DefaultVisibilityTimeout)
		if err != nil {
			c.add(path+".VisibilityTimeout", "%v", err)
			continue
		}
		for _, t := range consumerTimeout[id] {
			if vis < 6*t {
				c.add(path+".VisibilityTimeout", "%ds is less than 6x the consuming function's Timeout (%ds): set at least %d", vis, t, 6*t)
			}
		}
	}
}

// ---- tables -----------------------------------------------------------------

func (c *checker) checkTables() {
	tables, err := c.t.Tables()
	if err != nil {
		c.add("Resources", "%v", err)
		return
	}
	for _, tb := range tables {
		r := c.t.Resources[tb.LogicalID]
		path := "Resources." + tb.LogicalID
		pp := path + ".Properties"
		if r.Attributes["DeletionPolicy"] != "Retain" || r.Attributes["UpdateReplacePolicy"] != "Retain" {
			c.add(path, "the ledger table must have DeletionPolicy and UpdateReplacePolicy Retain")
		}
		defined := map[string]bool{}
		for _, ad := range tb.AttributeDefinitions {
			if defined[ad.AttributeName] {
				c.add(pp+".AttributeDefinitions", "attribute %q is defined twice", ad.AttributeName)
			}
			defined[ad.AttributeName] = true
		}
		usedAttr := map[string]bool{}
		checkKeys := func(keys []KeyElement, p string) {
			if len(keys) == 0 || len(keys) > 2 || keys[0].KeyType != "HASH" || (len(keys) == 2 && keys[1].KeyType != "RANGE") {
				c.add(p, "a key schema is one HASH key, optionally followed by one RANGE key")
			}
			for _, k := range keys {
				usedAttr[k.AttributeName] = true
				if !defined[k.AttributeName] {
					c.add(p, "key attribute %q has no AttributeDefinition", k.AttributeName)
				}
			}
		}
		checkKeys(tb.KeySchema, pp+".KeySchema")
		names := map[string]bool{}
		for i, ix := range append(append([]Index{}, tb.GlobalSecondaryIndexes...), tb.LocalSecondaryIndexes...) {
			p := pp + ".GlobalSecondaryIndexes." + strconv.Itoa(i)
			if i >= len(tb.GlobalSecondaryIndexes) {
				p = pp + ".LocalSecondaryIndexes." + strconv.Itoa(i-len(tb.GlobalSecondaryIndexes))
			}
			if names[ix.IndexName] {
				c.add(p+".IndexName", "index name %q is used twice", ix.IndexName)
			}
			names[ix.IndexName] = true
			checkKeys(ix.KeySchema, p+".KeySchema")
			if ix.ProjectionType == "INCLUDE" && len(ix.NonKeyAttributes) == 0 {
				c.add(p+".Projection", "INCLUDE needs NonKeyAttributes")
			}
		}
		for _, ad := range tb.AttributeDefinitions {
			if !usedAttr[ad.AttributeName] {
				c.add(pp+".AttributeDefinitions", "attribute %q is defined but is no key of the table or an index (CloudFormation rejects that)", ad.AttributeName)
			}
		}
		_, hasPT := tb.Properties["ProvisionedThroughput"]
		switch tb.BillingMode {
		case "PAY_PER_REQUEST":
			if hasPT {
				c.add(pp+".ProvisionedThroughput", "PAY_PER_REQUEST tables take no ProvisionedThroughput")
			}
			gsis, _ := tb.Properties["GlobalSecondaryIndexes"].([]any)
			for i, g := range gsis {
				if m, ok := g.(map[string]any); ok {
					if _, ok := m["ProvisionedThroughput"]; ok {
						c.add(pp+".GlobalSecondaryIndexes."+strconv.Itoa(i)+".ProvisionedThroughput", "PAY_PER_REQUEST tables take no ProvisionedThroughput")
					}
				}
			}
		case "", "PROVISIONED":
			if !hasPT {
				c.add(pp+".ProvisionedThroughput", "a PROVISIONED table needs ProvisionedThroughput (or use BillingMode PAY_PER_REQUEST)")
			}
		}
		if !tb.TTLEnabled || tb.TTLAttribute == "" {
			c.add(pp+".TimeToLiveSpecification", "TTL must be enabled on an attribute")
		} else if usedAttr[tb.TTLAttribute] {
			c.add(pp+".TimeToLiveSpecification", "the TTL attribute %q must not be a key attribute", tb.TTLAttribute)
		}
		if pitr, _ := tb.Properties["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != true {
			c.add(pp+".PointInTimeRecoverySpecification", "point-in-time recovery must be enabled")
		}
		if sse, _ := tb.Properties["SSESpecification"].(map[string]any); sse["SSEEnabled"] != true {
			c.add(pp+".SSESpecification", "SSESpecification.SSEEnabled must be true")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
