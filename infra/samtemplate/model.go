package samtemplate

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Resource types the typed accessors understand.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeHttpApi  = "AWS::Serverless::HttpApi"
	TypeQueue    = "AWS::SQS::Queue"
	TypeTable    = "AWS::DynamoDB::Table"
	TypeLogGroup = "AWS::Logs::LogGroup"
	// TypeQueuePolicy grants another account (Amazon's notifications) access to queues.
	TypeQueuePolicy = "AWS::SQS::QueuePolicy"
	// TypeAlarm is a CloudWatch alarm on one of the functions' metrics.
	TypeAlarm = "AWS::CloudWatch::Alarm"
)

// Value is a template value that may be a literal or an intrinsic function.
// The zero Value is absent.
type Value struct {
	// Raw is the value as written, in long form; nil when absent.
	Raw any
}

// IsSet reports whether the value is present.
func (v Value) IsSet() bool { return v.Raw != nil }

// IsLiteral reports whether the value is present and holds no intrinsic
// function at its top.
func (v Value) IsLiteral() bool {
	_, _, fn := Intrinsic(v.Raw)
	return v.Raw != nil && !fn
}

// Resolve evaluates the value with r (which may be nil for literals).
func (v Value) Resolve(r Resolver) (any, error) {
	if r == nil {
		if _, _, fn := Intrinsic(v.Raw); fn {
			return nil, fmt.Errorf("value %v needs a resolver", v.Raw)
		}
		return v.Raw, nil
	}
	return Resolve(v.Raw, r)
}

// Int resolves the value as an integer (numbers and numeric strings).
func (v Value) Int(r Resolver) (int, error) {
	x, err := v.Resolve(r)
	if err != nil {
		return 0, err
	}
	return toInt(x)
}

// IntOr is Int with a default for an absent value.
func (v Value) IntOr(r Resolver, def int) (int, error) {
	if !v.IsSet() {
		return def, nil
	}
	return v.Int(r)
}

// String resolves the value as a string (scalars are formatted).
func (v Value) String(r Resolver) (string, error) {
	x, err := v.Resolve(r)
	if err != nil {
		return "", err
	}
	return ScalarString(x)
}

// Function is the merged (Globals + resource) view of an
// AWS::Serverless::Function.
type Function struct {
	// LogicalID is the resource's logical id ("WebhookFunction").
	LogicalID string
	// CodeURI is CodeUri as written (a local path for shiprelay).
	CodeURI string
	// Dir is the last element of CodeURI: "webhook", "poll", ... It is the
	// function name the local runner passes to the handler factory.
	Dir string
	// Handler, Runtime and Architectures are the merged literal values.
	Handler       string
	Runtime       string   // see Handler
	Architectures []string // see Handler
	// Timeout and MemorySize may be literals or Refs. Absent means Lambda's
	// defaults (3 s, 128 MB).
	Timeout    Value
	MemorySize Value // see Timeout
	// Environment is the merged Environment.Variables, unresolved.
	Environment map[string]any
	// Events are sorted by name.
	Events []Event
	// Properties is the merged property map.
	Properties map[string]any
	// Resource is the underlying resource.
	Resource Resource
}

// Event is one entry of a function's Events.
type Event struct {
	// Name is the event's key under Events.
	Name string
	// Type is the SAM event type: HttpApi, SQS, Schedule, ...
	Type string
	// Properties is the event's Properties map (never nil).
	Properties map[string]any
	// HttpApi, SQS and Schedule: exactly one is set for the types
	// shiprelay uses, none for other types.
	HttpApi  *HttpApiEvent
	SQS      *SQSEvent      // see HttpApi
	Schedule *ScheduleEvent // see HttpApi
}

// HttpApiEvent is an HttpApi event source.
type HttpApiEvent struct {
	// ApiID is ApiId as written (Ref HttpApi); absent means SAM's implicit API.
	ApiID any
	// Method is upper-cased ("POST"; "ANY" when absent).
	Method string
	// Path is the route path ("/webhooks/bigcommerce/{storeId}").
	Path string
	// PayloadFormatVersion is "2.0" unless written otherwise.
	PayloadFormatVersion string
	// TimeoutInMillis is the integration timeout (API Gateway's default 30000).
	TimeoutInMillis Value
}

// RouteKey returns "METHOD /path", as API Gateway names the route.
func (e *HttpApiEvent) RouteKey() string { return e.Method + " " + e.Path }

// SQSEvent is an SQS event source mapping.
type SQSEvent struct {
	// Queue is Queue as written (GetAtt X.Arn).
	Queue any
	// QueueLogicalID is the logical id Queue refers to ("" when it is not a
	// Ref/GetAtt of a resource).
	QueueLogicalID string
	// BatchSize (default 10), MaximumBatchingWindowInSeconds (default 0),
	// MaximumConcurrency (ScalingConfig; absent means unlimited) and Enabled.
	BatchSize                      Value
	MaximumBatchingWindowInSeconds Value // see BatchSize
	MaximumConcurrency             Value // see BatchSize
	Enabled                        Value // see BatchSize
	// FunctionResponseTypes lists the response types ("ReportBatchItemFailures").
	FunctionResponseTypes []string
}

// ReportsBatchItemFailures reports whether FunctionResponseTypes holds
// ReportBatchItemFailures.
func (e *SQSEvent) ReportsBatchItemFailures() bool {
	return contains(e.FunctionResponseTypes, "ReportBatchItemFailures")
}

// ScheduleEvent is a Schedule (EventBridge rule) event source.
type ScheduleEvent struct {
	// Schedule is the rate(...) or cron(...) expression, possibly a Ref.
	Schedule Value
	// Enabled is the event's Enabled (absent means enabled).
	Enabled Value
	// Input is the constant JSON input, when set (the scheduled event otherwise).
	Input Value
}

// Functions returns every AWS::Serverless::Function with the Globals
// Function section merged in as SAM merges it (maps recursively, lists
// concatenated, scalars and intrinsics replaced), sorted by logical id.
func (t *Template) Functions() ([]Function, error) {
	var out []Function
	for _, id := range t.ResourceIDs(TypeFunction) {
		r := t.Resources[id]
		props := r.Properties
		if g := t.Globals["Function"]; g != nil {
			merged, _ := mergeGlobals(g, r.Properties).(map[string]any)
			props = merged
		}
		f := Function{LogicalID: id, Properties: props, Resource: r}
		f.CodeURI, _ = props["CodeUri"].(string)
		f.Dir = path.Base(strings.TrimRight(f.CodeURI, "/"))
		if f.CodeURI == "" {
			f.Dir = ""
		}
		f.Handler, _ = props["Handler"].(string)
		f.Runtime, _ = props["Runtime"].(string)
		if as, ok := props["Architectures"].([]any); ok {
			for _, a := range as {
				f.Architectures = append(f.Architectures, fmt.Sprint(a))
			}
		}
		f.Timeout = Value{props["Timeout"]}
		f.MemorySize = Value{props["MemorySize"]}
		f.Environment = map[string]any{}
		if env, ok := props["Environment"].(map[string]any); ok {
			if vars, ok := env["Variables"].(map[string]any); ok {
				f.Environment = vars
			}
		}
		evs, _ := props["Events"].(map[string]any)
		names := make([]string, 0, len(evs))
		for n := range evs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			m, ok := evs[n].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: event %s is not a mapping", id, n)
			}
			ev := Event{Name: n}
			ev.Type, _ = m["Type"].(string)
			ev.Properties, _ = m["Properties"].(map[string]any)
			if ev.Properties == nil {
				ev.Properties = map[string]any{}
			}
			p := ev.Properties
			switch ev.Type {
			case "HttpApi":
				h := &HttpApiEvent{ApiID: p["ApiId"], PayloadFormatVersion: "2.0", TimeoutInMillis: Value{p["TimeoutInMillis"]}}
				h.Method, _ = p["Method"].(string)
				h.Method = strings.ToUpper(h.Method)
				if h.Method == "" {
					h.Method = "ANY"
				}
				h.Path, _ = p["Path"].(string)
				if pf, ok := p["PayloadFormatVersion"]; ok {
					h.PayloadFormatVersion = fmt.Sprint(pf)
				}
				ev.HttpApi = h
			case "SQS":
				s := &SQSEvent{
					Queue:                          p["Queue"],
					BatchSize:                      Value{p["BatchSize"]},
					MaximumBatchingWindowInSeconds: Value{p["MaximumBatchingWindowInSeconds"]},
					Enabled:                        Value{p["Enabled"]},
				}
				s.QueueLogicalID, _ = RefTarget(p["Queue"])
				if sc, ok := p["ScalingConfig"].(map[string]any); ok {
					s.MaximumConcurrency = Value{sc["MaximumConcurrency"]}
				}
				if frt, ok := p["FunctionResponseTypes"].([]any); ok {
					for _, x := range frt {
						s.FunctionResponseTypes = append(s.FunctionResponseTypes, fmt.Sprint(x))
					}
				}
				ev.SQS = s
			case "Schedule":
				ev.Schedule = &ScheduleEvent{Schedule: Value{p["Schedule"]}, Enabled: Value{p["Enabled"]}, Input: Value{p["Input"]}}
			}
			f.Events = append(f.Events, ev)
		}
		out = append(out, f)
	}
	return out, nil
}

// Function returns the function with the given logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	fs, err := t.Functions()
	if err != nil {
		return Function{}, false
	}
	for _, f := range fs {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// mergeGlobals merges a Globals section into resource properties as SAM's
// GlobalProperties does.
func mergeGlobals(global, local any) any {
	gk, lk := mergeKind(global), mergeKind(local)
	switch {
	case gk != lk || gk == "primitive":
		return local
	case gk == "dict":
		out := map[string]any{}
		for k, v := range global.(map[string]any) {
			out[k] = v
		}
		for k, v := range local.(map[string]any) {
			if g, ok := out[k]; ok {
				out[k] = mergeGlobals(g, v)
			} else {
				out[k] = v
			}
		}
		return out
	default: // list
		out := append([]any{}, global.([]any)...)
		return append(out, local.([]any)...)
	}
}

func mergeKind(v any) string {
	switch v.(type) {
	case map[string]any:
		if _, _, fn := Intrinsic(v); fn {
			return "primitive"
		}
		return "dict"
	case []any:
		return "list"
	}
	return "primitive"
}

// Queue is an AWS::SQS::Queue.
type Queue struct {
	// LogicalID is the queue's logical id.
	LogicalID string
	// QueueName is the QueueName property (usually absent: CloudFormation names it).
	QueueName Value
	// FIFO is FifoQueue.
	FIFO bool
	// VisibilityTimeout (default 30), MessageRetentionPeriod (default
	// 345600), DelaySeconds, ReceiveMessageWaitTimeSeconds, MaximumMessageSize.
	VisibilityTimeout             Value
	MessageRetentionPeriod        Value // see VisibilityTimeout
	DelaySeconds                  Value // see VisibilityTimeout
	ReceiveMessageWaitTimeSeconds Value // see VisibilityTimeout
	MaximumMessageSize            Value // see VisibilityTimeout
	// Redrive is the RedrivePolicy, nil when absent.
	Redrive *Redrive
	// Properties is the raw property map.
	Properties map[string]any
}

// Redrive is a queue's RedrivePolicy.
type Redrive struct {
	// DeadLetterTargetArn as written (GetAtt DLQ.Arn).
	DeadLetterTargetArn any
	// DeadLetterQueue is the logical id of the dead-letter queue ("" when the
	// ARN does not name a resource of the template).
	DeadLetterQueue string
	// MaxReceiveCount is maxReceiveCount.
	MaxReceiveCount Value
}

// SQS queue defaults.
const (
	DefaultVisibilityTimeout      = 30
	DefaultMessageRetentionPeriod = 345600
)

// Queues returns every AWS::SQS::Queue, sorted by logical id.
func (t *Template) Queues() ([]Queue, error) {
	var out []Queue
	for _, id := range t.ResourceIDs(TypeQueue) {
		p := t.Resources[id].Properties
		q := Queue{
			LogicalID:                     id,
			Properties:                    p,
			QueueName:                     Value{p["QueueName"]},
			VisibilityTimeout:             Value{p["VisibilityTimeout"]},
			MessageRetentionPeriod:        Value{p["MessageRetentionPeriod"]},
			DelaySeconds:                  Value{p["DelaySeconds"]},
			ReceiveMessageWaitTimeSeconds: Value{p["ReceiveMessageWaitTimeSeconds"]},
			MaximumMessageSize:            Value{p["MaximumMessageSize"]},
		}
		switch f := p["FifoQueue"].(type) {
		case bool:
			q.FIFO = f
		case string:
			q.FIFO = f == "true"
		}
		if rp, ok := p["RedrivePolicy"]; ok {
			m, err := jsonObject(rp)
			if err != nil {
				return nil, fmt.Errorf("%s: RedrivePolicy: %w", id, err)
			}
			rd := &Redrive{DeadLetterTargetArn: m["deadLetterTargetArn"], MaxReceiveCount: Value{m["maxReceiveCount"]}}
			rd.DeadLetterQueue, _ = RefTarget(m["deadLetterTargetArn"])
			q.Redrive = rd
		}
		out = append(out, q)
	}
	return out, nil
}

// jsonObject accepts a CloudFormation Json value: a mapping or a JSON string.
func jsonObject(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("not a JSON object")
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	// LogicalID is the table's logical id.
	LogicalID string
	// TableName is the TableName property (usually absent).
	TableName Value
	// BillingMode is PAY_PER_REQUEST or PROVISIONED ("" means PROVISIONED).
	BillingMode string
	// KeySchema, AttributeDefinitions and the indexes mirror the properties.
	KeySchema              []KeyElement
	AttributeDefinitions   []AttributeDefinition // see KeySchema
	GlobalSecondaryIndexes []Index               // see KeySchema
	LocalSecondaryIndexes  []Index               // see KeySchema
	// TTLAttribute is TimeToLiveSpecification.AttributeName and TTLEnabled
	// its Enabled.
	TTLAttribute string
	TTLEnabled   bool // see TTLAttribute
	// StreamViewType is StreamSpecification.StreamViewType ("" for no stream).
	StreamViewType string
	// Properties is the raw property map.
	Properties map[string]any
}

// KeyElement is one entry of a key schema.
type KeyElement struct {
	// AttributeName names the key attribute.
	AttributeName string
	// KeyType is HASH or RANGE.
	KeyType string
}

// AttributeDefinition is one attribute definition.
type AttributeDefinition struct {
	// AttributeName names the attribute.
	AttributeName string
	// AttributeType is S, N or B.
	AttributeType string
}

// Index is a global or local secondary index.
type Index struct {
	// IndexName names the index.
	IndexName string
	// KeySchema is the index's key.
	KeySchema []KeyElement
	// ProjectionType is ALL, KEYS_ONLY or INCLUDE, with NonKeyAttributes for INCLUDE.
	ProjectionType   string
	NonKeyAttributes []string // see ProjectionType
}

// Tables returns every AWS::DynamoDB::Table, sorted by logical id.
func (t *Template) Tables() ([]Table, error) {
	var out []Table
	for _, id := range t.ResourceIDs(TypeTable) {
		p := t.Resources[id].Properties
		tb := Table{LogicalID: id, Properties: p, TableName: Value{p["TableName"]}}
		tb.BillingMode, _ = p["BillingMode"].(string)
		tb.KeySchema = keySchema(p["KeySchema"])
		if ads, ok := p["AttributeDefinitions"].([]any); ok {
			for _, a := range ads {
				m, _ := a.(map[string]any)
				var ad AttributeDefinition
				ad.AttributeName, _ = m["AttributeName"].(string)
				ad.AttributeType, _ = m["AttributeType"].(string)
				tb.AttributeDefinitions = append(tb.AttributeDefinitions, ad)
			}
		}
		tb.GlobalSecondaryIndexes = indexes(p["GlobalSecondaryIndexes"])
		tb.LocalSecondaryIndexes = indexes(p["LocalSecondaryIndexes"])
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok {
			tb.TTLAttribute, _ = ttl["AttributeName"].(string)
			switch e := ttl["Enabled"].(type) {
			case bool:
				tb.TTLEnabled = e
			case string:
				tb.TTLEnabled = e == "true"
			}
		}
		if ss, ok := p["StreamSpecification"].(map[string]any); ok {
			tb.StreamViewType, _ = ss["StreamViewType"].(string)
		}
		out = append(out, tb)
	}
	return out, nil
}

func keySchema(v any) []KeyElement {
	var out []KeyElement
	l, _ := v.([]any)
	for _, x := range l {
		m, _ := x.(map[string]any)
		var k KeyElement
		k.AttributeName, _ = m["AttributeName"].(string)
		k.KeyType, _ = m["KeyType"].(string)
		out = append(out, k)
	}
	return out
}

func indexes(v any) []Index {
	var out []Index
	l, _ := v.([]any)
	for _, x := range l {
		m, _ := x.(map[string]any)
		var ix Index
		ix.IndexName, _ = m["IndexName"].(string)
		ix.KeySchema = keySchema(m["KeySchema"])
		if pr, ok := m["Projection"].(map[string]any); ok {
			ix.ProjectionType, _ = pr["ProjectionType"].(string)
			if nk, ok := pr["NonKeyAttributes"].([]any); ok {
				for _, a := range nk {
					ix.NonKeyAttributes = append(ix.NonKeyAttributes, fmt.Sprint(a))
				}
			}
		}
		out = append(out, ix)
	}
	return out
}
