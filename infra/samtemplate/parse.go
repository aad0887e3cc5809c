// Package samtemplate reads shiprelay's AWS SAM template (template.yaml):
// it parses the YAML with the CloudFormation short-form tags mapped to their
// long form, resolves intrinsic functions against a Resolver, exposes typed
// views of the functions, queues and tables, and checks the template offline
// (Check), since neither `sam validate` nor AWS cfn-lint can run here.
package samtemplate

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// SAMTransform is the transform every shiprelay template declares.
const SAMTransform = "AWS::Serverless-2016-10-31"

// Template is a parsed SAM template in CloudFormation long form: short-form
// tags such as `!Ref X` are represented as map[string]any{"Ref": "X"}.
// Mappings are map[string]any, sequences []any, and scalars string, int,
// float64, bool or nil.
type Template struct {
	// Path is the file the template was read from ("" for ParseBytes).
	Path string
	// Doc is the whole document.
	Doc map[string]any
	// FormatVersion is AWSTemplateFormatVersion.
	FormatVersion string
	// Transforms lists the Transform section (a single string becomes one entry).
	Transforms []string
	// Globals is the SAM Globals section by resource kind ("Function", "HttpApi", ...).
	Globals map[string]map[string]any
	// Parameters by name.
	Parameters map[string]Parameter
	// Conditions by name (unevaluated condition expressions).
	Conditions map[string]any
	// Mappings is the Mappings section.
	Mappings map[string]any
	// Resources by logical id.
	Resources map[string]Resource
	// Outputs by name.
	Outputs map[string]any

	lines map[string]int
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	// Name is the parameter's name.
	Name string
	// Type is the CloudFormation parameter type (String, Number, ...).
	Type string
	// Default is the default value and HasDefault whether there is one.
	Default    any
	HasDefault bool // see Default
	// AllowedValues lists the allowed values, if constrained.
	AllowedValues []any
	// Props is the raw parameter declaration.
	Props map[string]any
}

// Resource is one entry of the Resources section.
type Resource struct {
	// LogicalID is the resource's key under Resources.
	LogicalID string
	// Type is the resource type ("AWS::SQS::Queue").
	Type string
	// Properties is the Properties map (never nil). Globals are not merged in:
	// Functions() gives the merged view.
	Properties map[string]any
	// Metadata is the resource's Metadata attribute (nil when absent).
	Metadata map[string]any
	// DependsOn lists the DependsOn attribute (a string becomes one entry).
	DependsOn []string
	// Condition is the resource's Condition attribute.
	Condition string
	// Attributes is the raw resource map (Type, Properties, DeletionPolicy, ...).
	Attributes map[string]any
	// Line is the line of the logical id in the file.
	Line int
}

// shortForms maps the CloudFormation short-form YAML tags to their long form.
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!If":           "Fn::If",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Equals":       "Fn::Equals",
	"!Not":          "Fn::Not",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!FindInMap":    "Fn::FindInMap",
	"!ImportValue":  "Fn::ImportValue",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!GetAZs":       "Fn::GetAZs",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// Parse reads and parses the template at path.
func Parse(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// ParseBytes parses a template held in memory.
func ParseBytes(data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if root.Kind == 0 {
		return nil, fmt.Errorf("empty template")
	}
	lines := map[string]int{}
	v, err := convert(&root, "", lines)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	t := &Template{
		Doc:        doc,
		Globals:    map[string]map[string]any{},
		Parameters: map[string]Parameter{},
		Conditions: map[string]any{},
		Mappings:   map[string]any{},
		Resources:  map[string]Resource{},
		Outputs:    map[string]any{},
		lines:      lines,
	}
	if s, ok := doc["AWSTemplateFormatVersion"]; ok {
		t.FormatVersion = fmt.Sprint(s)
	}
	switch tr := doc["Transform"].(type) {
	case string:
		t.Transforms = []string{tr}
	case []any:
		for _, x := range tr {
			t.Transforms = append(t.Transforms, fmt.Sprint(x))
		}
	}
	if g, ok := doc["Globals"].(map[string]any); ok {
		for kind, v := range g {
			m, _ := v.(map[string]any)
			t.Globals[kind] = m
		}
	}
	if ps, ok := doc["Parameters"].(map[string]any); ok {
		for name, v := range ps {
			m, _ := v.(map[string]any)
			p := Parameter{Name: name, Props: m}
			if m != nil {
				p.Type, _ = m["Type"].(string)
				p.Default, p.HasDefault = m["Default"]
				p.AllowedValues, _ = m["AllowedValues"].([]any)
			}
			t.Parameters[name] = p
		}
	}
	if cs, ok := doc["Conditions"].(map[string]any); ok {
		t.Conditions = cs
	}
	if ms, ok := doc["Mappings"].(map[string]any); ok {
		t.Mappings = ms
	}
	if outs, ok := doc["Outputs"].(map[string]any); ok {
		t.Outputs = outs
	}
	rs, ok := doc["Resources"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template has no Resources mapping")
	}
	for id, v := range rs {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("line %d: Resources.%s is not a mapping", lines["Resources."+id], id)
		}
		r := Resource{LogicalID: id, Attributes: m, Line: lines["Resources."+id]}
		r.Type, _ = m["Type"].(string)
		r.Properties, _ = m["Properties"].(map[string]any)
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		r.Metadata, _ = m["Metadata"].(map[string]any)
		r.Condition, _ = m["Condition"].(string)
		switch d := m["DependsOn"].(type) {
		case string:
			r.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				r.DependsOn = append(r.DependsOn, fmt.Sprint(x))
			}
		}
		t.Resources[id] = r
	}
	return t, nil
}

// Line returns the line where the value at a dotted path (for example
// "Resources.Table.Properties.KeySchema") starts, or 0 when unknown.
func (t *Template) Line(path string) int {
	for p := path; p != ""; {
		if l, ok := t.lines[p]; ok {
			return l
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// ResourceIDs returns the logical ids of the resources of the given types
// (all resources when none is given), sorted.
func (t *Template) ResourceIDs(types ...string) []string {
	var ids []string
	for id, r := range t.Resources {
		if len(types) == 0 || contains(types, r.Type) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// convert turns a yaml.Node into plain Go values, mapping short-form tags to
// long-form intrinsic maps and recording the line of every mapping key.
func convert(n *yaml.Node, path string, lines map[string]int) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0], path, lines)
	case yaml.AliasNode:
		return convert(n.Alias, path, lines)
	}
	long, isShort := "", false
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		var ok bool
		long, ok = shortForms[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		isShort = true
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported by CloudFormation", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			lines[p] = k.Line
			cv, err := convert(val, p, lines)
			if err != nil {
				return nil, err
			}
			m[k.Value] = cv
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			cv, err := convert(c, path+"."+strconv.Itoa(i), lines)
			if err != nil {
				return nil, err
			}
			s = append(s, cv)
		}
		v = s
	case yaml.ScalarNode:
		if isShort {
			v = n.Value
			break
		}
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			v = n.Value
		case "!!null":
			v = nil
		case "!!int":
			var i int
			if err := n.Decode(&i); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			v = i
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			v = f
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			v = b
		default:
			return nil, fmt.Errorf("line %d: unsupported YAML tag %s", n.Line, n.ShortTag())
		}
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	if !isShort {
		return v, nil
	}
	if long == "Fn::GetAtt" {
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{long: v}, nil
}

// Intrinsic reports whether v is a long-form intrinsic function (a mapping
// with the single key Ref, Condition or Fn::*), and returns its name and
// argument.
func Intrinsic(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// RefTarget returns the logical id (or parameter name) that v refers to when
// v is a Ref, a GetAtt or a Sub consisting of exactly one ${X} or ${X.Attr};
// ok is false otherwise.
func RefTarget(v any) (id string, ok bool) {
	name, arg, isFn := Intrinsic(v)
	if !isFn {
		return "", false
	}
	switch name {
	case "Ref":
		s, isStr := arg.(string)
		return s, isStr
	case "Fn::GetAtt":
		if l, isList := arg.([]any); isList && len(l) == 2 {
			s, isStr := l[0].(string)
			return s, isStr
		}
		if s, isStr := arg.(string); isStr {
			res, _, _ := strings.Cut(s, ".")
			return res, true
		}
	case "Fn::Sub":
		s, isStr := arg.(string)
		if !isStr || !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") || strings.Count(s, "${") != 1 {
			return "", false
		}
		inner := s[2 : len(s)-1]
		res, _, _ := strings.Cut(inner, ".")
		return res, true
	}
	return "", false
}
