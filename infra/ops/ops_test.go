package ops_test

import (
	"maps"
	"testing"

	"github.com/shiprelay/shiprelay/infra/ops"
	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// TestRedrivesMatchTemplate: the redrive pairs are exactly the template's,
// and every queue has a <LogicalId>Url output for -stack to find.
func TestRedrivesMatchTemplate(t *testing.T) {
	tpl, err := samtemplate.Parse("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := tpl.Queues()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	all := map[string]bool{}
	for _, q := range qs {
		all[q.LogicalID] = true
		if q.Redrive != nil {
			got[q.Redrive.DeadLetterQueue] = q.LogicalID
		}
	}
	want := map[string]string{}
	for _, r := range ops.Redrives {
		want[r.DLQ] = r.Source
	}
	if !maps.Equal(got, want) {
		t.Errorf("template redrives %v, ops.Redrives %v", got, want)
	}
	ids := map[string]bool{}
	for _, id := range ops.QueueIDs() {
		ids[id] = true
		if _, ok := tpl.Outputs[id+"Url"]; !ok {
			t.Errorf("template has no output %sUrl", id)
		}
	}
	if !maps.Equal(all, ids) {
		t.Errorf("template queues %v, ops.QueueIDs %v", all, ids)
	}
	if _, ok := tpl.Outputs["TableName"]; !ok {
		t.Error("template has no TableName output")
	}
}

func TestLocalNamesMatchRunner(t *testing.T) {
	if ops.LocalTable != runner.DefaultTableName || ops.LocalQueuePrefix != runner.DefaultQueuePrefix {
		t.Errorf("ops local names %q/%q, runner %q/%q", ops.LocalTable, ops.LocalQueuePrefix, runner.DefaultTableName, runner.DefaultQueuePrefix)
	}
}

func TestParseOutputs(t *testing.T) {
	table, queues := ops.ParseOutputs(map[string]string{
		"TableName":               "shiprelay-Table-1",
		"WebhookUrl":              "https://x/webhooks/bigcommerce/<storeId>",
		"ShipStationWebhookUrl":   "https://x/webhooks/shipstation/<accountId>/<token>",
		"PushQueueUrl":            "https://sqs/1/push",
		"PushDLQUrl":              "https://sqs/1/push-dlq",
		"NotifyBigCommerceDLQUrl": "https://sqs/1/n-dlq",
	})
	want := map[string]string{"PushQueue": "https://sqs/1/push", "PushDLQ": "https://sqs/1/push-dlq", "NotifyBigCommerceDLQ": "https://sqs/1/n-dlq"}
	if table != "shiprelay-Table-1" || !maps.Equal(queues, want) {
		t.Errorf("ParseOutputs = %q, %v", table, queues)
	}
}
