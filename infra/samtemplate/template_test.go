package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/app"
	"github.com/shiprelay/shiprelay/shared/dynamo"
)

const templatePath = "../../template.yaml"
const repoRoot = "../.."

func loadTemplate(t *testing.T) *Template {
	t.Helper()
	tpl, err := Parse(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestTemplate is the offline `sam validate`: the real template against the
// real repository (so a CodeUri without its package main fails here).
func TestTemplate(t *testing.T) {
	for _, err := range Check(loadTemplate(t), repoRoot) {
		t.Error(err)
	}
}

// hermeticRoot writes the template into a temporary repository root with a
// stub `package main` in every functions/<name>/, so that the template's
// own validity is checked whatever state the function code is in.
func hermeticRoot(t *testing.T, template []byte) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"webhook", "poll", "ingest", "push", "reconcile", "shipments", "notify", "orderchange", "redact"} {
		d := filepath.Join(root, "functions", dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "template.yaml"), template, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestTemplateHermetic(t *testing.T) {
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	root := hermeticRoot(t, data)
	tpl, err := Parse(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range Check(tpl, root) {
		t.Error(err)
	}
}

// TestTemplateShape pins what the rest of the project relies on.
func TestTemplateShape(t *testing.T) {
	tpl := loadTemplate(t)
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Resolver(ResolverOptions{
		Pseudo: PseudoParameters("us-east-1", "123456789012", "shiprelay"),
		Resources: map[string]any{"Table": "tbl", "IngestQueue": "iq-url", "PushQueue": "pq-url", "ShipmentsQueue": "sq-url",
			"NotifyBigCommerceQueue": "nbq-url", "NotifyAmazonQueue": "naq-url", "OrderChangeQueue": "ocq-url"},
	})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		dir     string
		timeout int
		env     map[string]string
		events  []string // sorted by event name
	}
	wants := map[string]want{
		"WebhookFunction": {"webhook", 10, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_INGEST_QUEUE_URL": "iq-url", "SHIPRELAY_SHIPMENTS_QUEUE_URL": "sq-url"},
			[]string{"HttpApi POST /webhooks/bigcommerce/{storeId}", "HttpApi POST /webhooks/shipstation/{accountId}/{token}"}},
		"PollFunction": {"poll", 120, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_INGEST_QUEUE_URL": "iq-url", "SHIPRELAY_SHIPMENTS_QUEUE_URL": "sq-url"},
			[]string{"Schedule rate(5 minutes)"}},
		"IngestFunction": {"ingest", 30, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_PUSH_QUEUE_URL": "pq-url", "SHIPRELAY_INGEST_QUEUE_URL": "iq-url", "SHIPRELAY_SHIPMENTS_QUEUE_URL": "sq-url"},
			[]string{"SQS IngestQueue 10 1 5"}},
		"PushFunction": {"push", 60, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_PUSH_QUEUE_URL": "pq-url"},
			[]string{"SQS PushQueue 100 2 2"}},
		"RedactFunction": {"redact", 300, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_PUSH_QUEUE_URL": "pq-url"},
			[]string{"Schedule rate(1 hour)"}},
		"ReconcileFunction": {"reconcile", 120, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_PUSH_QUEUE_URL": "pq-url"},
			[]string{"Schedule rate(15 minutes)"}},
		"ShipmentsFunction": {"shipments", 60, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_SHIPMENTS_QUEUE_URL": "sq-url", "SHIPRELAY_NOTIFY_BIGCOMMERCE_QUEUE_URL": "nbq-url", "SHIPRELAY_NOTIFY_AMAZON_QUEUE_URL": "naq-url", "SHIPRELAY_INGEST_QUEUE_URL": "iq-url"},
			[]string{"SQS ShipmentsQueue 10 1 2"}},
		"NotifyBigCommerceFunction": {"notify", 30, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_NOTIFY_CHANNEL": "bigcommerce", "SHIPRELAY_NOTIFY_QUEUE_URL": "nbq-url"},
			[]string{"SQS NotifyBigCommerceQueue 10 1 2"}},
		"NotifyAmazonFunction": {"notify", 30, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_NOTIFY_CHANNEL": "amazon", "SHIPRELAY_NOTIFY_QUEUE_URL": "naq-url"},
			[]string{"SQS NotifyAmazonQueue 10 1 2"}},
		"OrderChangeFunction": {"orderchange", 30, map[string]string{"SHIPRELAY_TABLE": "tbl", "SHIPRELAY_INGEST_QUEUE_URL": "iq-url", "SHIPRELAY_ORDER_CHANGE_QUEUE_URL": "ocq-url"},
			[]string{"SQS OrderChangeQueue 10 1 2"}},
	}
	if len(fns) != len(wants) {
		t.Fatalf("%d functions, want %d", len(fns), len(wants))
	}
	for _, f := range fns {
		w, ok := wants[f.LogicalID]
		if !ok {
			t.Errorf("unexpected function %s", f.LogicalID)
			continue
		}
		if f.Dir != w.dir {
			t.Errorf("%s: dir %q, want %q", f.LogicalID, f.Dir, w.dir)
		}
		if n, _ := f.Timeout.Int(res); n != w.timeout {
			t.Errorf("%s: timeout %d, want %d", f.LogicalID, n, w.timeout)
		}
		env, err := Resolve(f.Environment, res)
		if err != nil {
			t.Fatalf("%s: %v", f.LogicalID, err)
		}
		m := env.(map[string]any)
		w.env["SHIPRELAY_CONFIG"] = "shiprelay/config"
		w.env["SHIPRELAY_LOG_LEVEL"] = "INFO"
		w.env["SHIPRELAY_METRICS_NAMESPACE"] = "shiprelay"
		if len(m) != len(w.env) {
			t.Errorf("%s: env %v, want %v", f.LogicalID, m, w.env)
		}
		for k, v := range w.env {
			if m[k] != v {
				t.Errorf("%s: %s=%v, want %s", f.LogicalID, k, m[k], v)
			}
		}
		var got []string
		for _, ev := range f.Events {
			switch {
			case ev.HttpApi != nil:
				got = append(got, "HttpApi "+ev.HttpApi.RouteKey())
			case ev.Schedule != nil:
				s, _ := ev.Schedule.Schedule.String(res)
				got = append(got, "Schedule "+s)
			case ev.SQS != nil:
				b, _ := ev.SQS.BatchSize.Int(res)
				w, _ := ev.SQS.MaximumBatchingWindowInSeconds.Int(res)
				mc, _ := ev.SQS.MaximumConcurrency.Int(res)
				got = append(got, strings.Join([]string{"SQS", ev.SQS.QueueLogicalID, itoa(b), itoa(w), itoa(mc)}, " "))
			default:
				got = append(got, "? "+ev.Name)
			}
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", w.events) {
			t.Errorf("%s: events %q, want %q", f.LogicalID, got, w.events)
		}
	}
	queues, err := tpl.Queues()
	if err != nil {
		t.Fatal(err)
	}
	type wantQueue struct {
		visibility, retention int
		dlq                   string
		maxReceive            int // 0 for a queue without RedrivePolicy
	}
	wantQ := map[string]wantQueue{
		"IngestQueue":            {180, 345600, "IngestDLQ", 5},
		"IngestDLQ":              {30, 1209600, "", 0},
		"PushQueue":              {360, 345600, "PushDLQ", 5},
		"PushDLQ":                {30, 1209600, "", 0},
		"ShipmentsQueue":         {360, 345600, "ShipmentsDLQ", 5},
		"ShipmentsDLQ":           {30, 1209600, "", 0},
		"NotifyBigCommerceQueue": {180, 345600, "NotifyBigCommerceDLQ", 8},
		"NotifyBigCommerceDLQ":   {30, 1209600, "", 0},
		"NotifyAmazonQueue":      {180, 345600, "NotifyAmazonDLQ", 8},
		"NotifyAmazonDLQ":        {30, 1209600, "", 0},
		"OrderChangeQueue":       {180, 345600, "OrderChangeDLQ", 5},
		"OrderChangeDLQ":         {30, 1209600, "", 0},
	}
	if len(queues) != len(wantQ) {
		t.Fatalf("%d queues, want %d", len(queues), len(wantQ))
	}
	for _, q := range queues {
		w, ok := wantQ[q.LogicalID]
		if !ok {
			t.Errorf("unexpected queue %s", q.LogicalID)
			continue
		}
		var got wantQueue
		got.visibility, _ = q.VisibilityTimeout.IntOr(nil, DefaultVisibilityTimeout)
		got.retention, _ = q.MessageRetentionPeriod.IntOr(nil, DefaultMessageRetentionPeriod)
		if q.Redrive != nil {
			got.dlq = q.Redrive.DeadLetterQueue
			got.maxReceive, _ = q.Redrive.MaxReceiveCount.Int(nil)
		}
		if got != w {
			t.Errorf("%s: %+v, want %+v", q.LogicalID, got, w)
		}
	}
	tables, err := tpl.Tables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 || tables[0].LogicalID != "Table" {
		t.Fatalf("tables: %+v", tables)
	}
}

func itoa(n int) string {
	s, _ := ScalarString(n)
	return s
}

// TestTableMatchesDynamoSchema: the template's table is exactly what
// shared/dynamo creates locally (key schema, attribute types, GSIs,
// projection, billing mode, TTL attribute).
func TestTableMatchesDynamoSchema(t *testing.T) {
	tables, err := loadTemplate(t).Tables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 {
		t.Fatalf("%d tables, want 1", len(tables))
	}
	tb := tables[0]
	want := dynamo.Schema("x")
	if string(want.BillingMode) != tb.BillingMode {
		t.Errorf("BillingMode %q, shared/dynamo %q", tb.BillingMode, want.BillingMode)
	}
	keys := func(ks []types.KeySchemaElement) []KeyElement {
		var out []KeyElement
		for _, k := range ks {
			out = append(out, KeyElement{AttributeName: *k.AttributeName, KeyType: string(k.KeyType)})
		}
		return out
	}
	if got, w := fmt.Sprint(tb.KeySchema), fmt.Sprint(keys(want.KeySchema)); got != w {
		t.Errorf("KeySchema %s, shared/dynamo %s", got, w)
	}
	var wantAttrs, gotAttrs []string
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, *a.AttributeName+":"+string(a.AttributeType))
	}
	for _, a := range tb.AttributeDefinitions {
		gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
	}
	sort.Strings(wantAttrs)
	sort.Strings(gotAttrs)
	if fmt.Sprint(gotAttrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("AttributeDefinitions %v, shared/dynamo %v", gotAttrs, wantAttrs)
	}
	var wantIx, gotIx []string
	for _, g := range want.GlobalSecondaryIndexes {
		wantIx = append(wantIx, fmt.Sprint(*g.IndexName, keys(g.KeySchema), g.Projection.ProjectionType, g.Projection.NonKeyAttributes))
	}
	for _, g := range tb.GlobalSecondaryIndexes {
		var nk []string
		nk = append(nk, g.NonKeyAttributes...)
		gotIx = append(gotIx, fmt.Sprint(g.IndexName, g.KeySchema, g.ProjectionType, nk))
	}
	sort.Strings(wantIx)
	sort.Strings(gotIx)
	if fmt.Sprint(gotIx) != fmt.Sprint(wantIx) {
		t.Errorf("GlobalSecondaryIndexes\n  template     %v\n  shared/dynamo %v", gotIx, wantIx)
	}
	if len(want.LocalSecondaryIndexes) != len(tb.LocalSecondaryIndexes) {
		t.Errorf("LocalSecondaryIndexes: template %d, shared/dynamo %d", len(tb.LocalSecondaryIndexes), len(want.LocalSecondaryIndexes))
	}
	if tb.TTLAttribute != dynamo.TTLAttribute || !tb.TTLEnabled {
		t.Errorf("TTL attribute %q (enabled %v), shared/dynamo %q", tb.TTLAttribute, tb.TTLEnabled, dynamo.TTLAttribute)
	}
	if (want.StreamSpecification != nil) != (tb.StreamViewType != "") {
		t.Errorf("stream: template %q, shared/dynamo %+v", tb.StreamViewType, want.StreamSpecification)
	}
}

// The functions record an exception on the last receive before the
// dead-letter queue (shared/app.MaxReceives): that count must be the
// queue's maxReceiveCount, or the exception comes too early or never.
func TestMaxReceivesMatchTheRedrivePolicies(t *testing.T) {
	tpl := loadTemplate(t)
	queues, err := tpl.Queues()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Queue{}
	for _, q := range queues {
		byID[q.LogicalID] = q
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range fns {
		for _, ev := range f.Events {
			if ev.SQS == nil {
				continue
			}
			q, ok := byID[ev.SQS.QueueLogicalID]
			if !ok || q.Redrive == nil {
				t.Fatalf("%s: queue %q has no redrive policy", f.LogicalID, ev.SQS.QueueLogicalID)
			}
			n, err := q.Redrive.MaxReceiveCount.Int(nil)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := app.MaxReceives[f.Dir]
			if !ok || want != n {
				t.Errorf("%s consumes %s (maxReceiveCount %d) but app.MaxReceives[%q] = %d", f.LogicalID, q.LogicalID, n, f.Dir, want)
			}
			checked++
		}
	}
	if checked < 4 {
		t.Fatalf("only %d SQS consumers checked", checked)
	}
}
