package samtemplate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mutation breaks the template in one place; the checker must report a
// problem whose text contains every string of want.
type mutation struct {
	name     string
	old, new string
	want     []string
}

var mutations = []mutation{
	{"type typo",
		"  WebhookFunction:\n    Type: AWS::Serverless::Function\n", "  WebhookFunction:\n    Type: AWS::Serverless::Functoin\n",
		[]string{"Resources.WebhookFunction.Type", `unknown or unsupported resource type "AWS::Serverless::Functoin"`}},
	{"unknown property",
		"      VisibilityTimeout: 180 # 6 x IngestFunction", "      VisibilityTimout: 180 # 6 x IngestFunction",
		[]string{"Resources.IngestQueue.Properties.VisibilityTimout", `unknown property "VisibilityTimout"`}},
	{"dangling GetAtt",
		"Queue: !GetAtt PushQueue.Arn", "Queue: !GetAtt PushQueu.Arn",
		[]string{"Resources.PushFunction.Properties.Events.Push.Properties.Queue", `GetAtt PushQueu.Arn: no resource "PushQueu"`}},
	{"missing ReportBatchItemFailures",
		"Queue: !GetAtt IngestQueue.Arn\n            BatchSize: 10\n            MaximumBatchingWindowInSeconds: 1\n            FunctionResponseTypes: [ReportBatchItemFailures]\n",
		"Queue: !GetAtt IngestQueue.Arn\n            BatchSize: 10\n            MaximumBatchingWindowInSeconds: 1\n",
		[]string{"Resources.IngestFunction.Properties.Events.Ingest.Properties.FunctionResponseTypes", "ReportBatchItemFailures"}},
	{"bad GetAtt attribute",
		"QueueName: !GetAtt IngestQueue.QueueName\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt ShipmentsQueue.QueueName\n        - Statement:\n            # Webhook",
		"QueueName: !GetAtt IngestQueue.Name\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt ShipmentsQueue.QueueName\n        - Statement:\n            # Webhook",
		[]string{"Resources.WebhookFunction.Properties.Policies", `IngestQueue has no attribute "Name"`}},
	{"dangling Sub",
		"secret:${SecretsPrefix}*\"\n\n  PollFunction", "secret:${SecretPrefix}*\"\n\n  PollFunction",
		[]string{"Resources.WebhookFunction.Properties.Policies", `Ref "SecretPrefix" names no parameter`}},
	{"dangling Ref",
		"SHIPRELAY_TABLE: !Ref Table", "SHIPRELAY_TABLE: !Ref Tabel",
		[]string{"Globals.Function.Environment.Variables.SHIPRELAY_TABLE", `Ref "Tabel"`}},
	{"string for an integer",
		"    MemorySize: 256", "    MemorySize: lots",
		[]string{"Globals.Function.MemorySize", `want an integer, got "lots"`}},
	{"CodeUri misspelt",
		"      CodeUri: functions/poll/", "      CodeUrl: functions/poll/",
		[]string{"Resources.PollFunction.Properties.CodeUrl", `unknown property "CodeUrl"`}},
	{"no package main",
		"      CodeUri: functions/poll/", "      CodeUri: functions/nowhere/",
		[]string{"Resources.PollFunction.Properties.CodeUri", "functions/nowhere/"}},
	{"visibility below 6x timeout",
		"      VisibilityTimeout: 360 # 6 x PushFunction", "      VisibilityTimeout: 300 # 6 x PushFunction",
		[]string{"Resources.PushQueue.Properties.VisibilityTimeout", "less than 6x", "(60s)"}},
	{"no dead-letter queue",
		"      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt PushDLQ.Arn\n        maxReceiveCount: 5\n", "",
		[]string{"Resources.PushQueue.Properties", "no RedrivePolicy"}},
	{"maxReceiveCount out of range",
		"deadLetterTargetArn: !GetAtt PushDLQ.Arn\n        maxReceiveCount: 5", "deadLetterTargetArn: !GetAtt PushDLQ.Arn\n        maxReceiveCount: 0",
		[]string{"Resources.PushQueue.Properties.RedrivePolicy.maxReceiveCount", "outside 1..1000"}},
	{"no MaximumConcurrency",
		"            ScalingConfig:\n              MaximumConcurrency: 5\n", "",
		[]string{"Resources.IngestFunction.Properties.Events.Ingest.Properties.ScalingConfig", "MaximumConcurrency"}},
	{"big batch without window",
		"            MaximumBatchingWindowInSeconds: 2\n", "",
		[]string{"Resources.PushFunction.Properties.Events.Push.Properties.MaximumBatchingWindowInSeconds", "above 10"}},
	{"bad schedule",
		"Default: rate(5 minutes)", "Default: rate(5 minute)",
		[]string{"Resources.PollFunction.Properties.Events.Poll.Properties.Schedule", "plural"}},
	{"missing env var",
		"          SHIPRELAY_PUSH_QUEUE_URL: !Ref PushQueue\n          # Its own queue", "          # Its own queue",
		[]string{"Resources.IngestFunction.Properties.Environment.Variables", "must declare SHIPRELAY_PUSH_QUEUE_URL"}},
	{"queue env var not a queue",
		"          SHIPRELAY_INGEST_QUEUE_URL: !Ref IngestQueue\n          SHIPRELAY_SHIPMENTS_QUEUE_URL: !Ref ShipmentsQueue\n      Events:\n        BigCommerce:",
		"          SHIPRELAY_INGEST_QUEUE_URL: !Ref Table\n          SHIPRELAY_SHIPMENTS_QUEUE_URL: !Ref ShipmentsQueue\n      Events:\n        BigCommerce:",
		[]string{"Resources.WebhookFunction.Properties.Environment.Variables.SHIPRELAY_INGEST_QUEUE_URL", "AWS::SQS::Queue"}},
	{"reserved env var",
		"        SHIPRELAY_METRICS_NAMESPACE: shiprelay", "        SHIPRELAY_METRICS_NAMESPACE: shiprelay\n        AWS_REGION: us-east-1",
		[]string{"AWS_REGION is reserved"}},
	{"wildcard action",
		"            - Sid: LedgerDedupe\n              Effect: Allow\n              Action:\n                - dynamodb:GetItem\n",
		"            - Sid: LedgerDedupe\n              Effect: Allow\n              Action:\n                - dynamodb:*\n",
		[]string{"Resources.WebhookFunction.Properties.Policies.2.Statement.0.Action", `wildcard action "dynamodb:*"`}},
	{"star resource",
		"              Resource: !GetAtt Table.Arn", "              Resource: \"*\"",
		[]string{"Resources.WebhookFunction.Properties.Policies.2.Statement.0.Resource", `Resource "*" with dynamodb:GetItem`}},
	{"permission missing for env queue",
		"        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt PushQueue.QueueName\n",
		"        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n",
		[]string{"Resources.IngestFunction.Properties.Policies", "may neither sqs:SendMessage"}},
	{"reader without read permission",
		"        - DynamoDBReadPolicy:\n            TableName: !Ref Table\n", "",
		[]string{"Resources.ReconcileFunction.Properties.Policies", "may not dynamodb:Query"}},
	{"reader granted writes",
		"        - DynamoDBReadPolicy:\n            TableName: !Ref Table\n", "        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n",
		[]string{"Resources.ReconcileFunction.Properties.Policies", "only reads table Table but may dynamodb:PutItem"}},
	{"bad reconcile schedule",
		"Default: rate(15 minutes)", "Default: rate(15 minute)",
		[]string{"Resources.ReconcileFunction.Properties.Events.Reconcile.Properties.Schedule", "plural"}},
	{"unknown policy template",
		"DynamoDBCrudPolicy:\n            TableName: !Ref Table\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt PushQueue",
		"DynamoDBCrudPolicyy:\n            TableName: !Ref Table\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt PushQueue",
		[]string{"Resources.IngestFunction.Properties.Policies.0.DynamoDBCrudPolicyy", "unknown policy template"}},
	{"Globals key SAM does not merge",
		"    Tracing: Active\n", "    Tracing: Active\n    Policies: []\n",
		[]string{"Globals.Function.Policies", "not a property SAM merges"}},
	{"architectures concatenated",
		"      CodeUri: functions/push/\n", "      CodeUri: functions/push/\n      Architectures: [arm64]\n",
		[]string{"Resources.PushFunction.Properties.Architectures", "[arm64 arm64]"}},
	{"runtime overridden",
		"      CodeUri: functions/ingest/\n", "      CodeUri: functions/ingest/\n      Runtime: go1.x\n",
		[]string{"Resources.IngestFunction.Properties.Runtime", "provided.al2023"}},
	{"unused attribute definition",
		"        - { AttributeName: gsi2sk, AttributeType: S }\n", "        - { AttributeName: gsi2sk, AttributeType: S }\n        - { AttributeName: extra, AttributeType: S }\n",
		[]string{"Resources.Table.Properties.AttributeDefinitions", `"extra" is defined but is no key`}},
	{"table not retained",
		"    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode", "    Properties:\n      BillingMode",
		[]string{"Resources.Table", "Retain"}},
	{"undefined condition",
		"      AccessLogSettings: !If\n        - AccessLogEnabled", "      AccessLogSettings: !If\n        - AccessLogOn",
		[]string{"Resources.HttpApi.Properties.AccessLogSettings", `no condition named "AccessLogOn"`}},
	{"parameter default outside AllowedValues",
		"    Default: INFO", "    Default: TRACE",
		[]string{"Parameters.LogLevel.Default", "AllowedValues"}},
	// The shipment relay: shipments and the per-channel notify functions.
	{"webhook without shipments queue",
		"          SHIPRELAY_SHIPMENTS_QUEUE_URL: !Ref ShipmentsQueue\n      Events:\n        BigCommerce:", "      Events:\n        BigCommerce:",
		[]string{"Resources.WebhookFunction.Properties.Environment.Variables", "must declare SHIPRELAY_SHIPMENTS_QUEUE_URL"}},
	{"poll may not send to shipments queue",
		"        - SQSSendMessagePolicy:\n            QueueName: !GetAtt ShipmentsQueue.QueueName\n        - Statement:\n            # Watermarks", "        - Statement:\n            # Watermarks",
		[]string{"Resources.PollFunction.Properties.Policies", "SHIPRELAY_SHIPMENTS_QUEUE_URL names queue ShipmentsQueue but the function may neither"}},
	{"shipments may not send to notify queue",
		"        - SQSSendMessagePolicy:\n            QueueName: !GetAtt NotifyBigCommerceQueue.QueueName\n", "",
		[]string{"Resources.ShipmentsFunction.Properties.Policies", "SHIPRELAY_NOTIFY_BIGCOMMERCE_QUEUE_URL names queue NotifyBigCommerceQueue but the function may neither"}},
	{"shipments without table writes",
		"        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt NotifyBigCommerceQueue",
		"        - DynamoDBReadPolicy:\n            TableName: !Ref Table\n        - SQSSendMessagePolicy:\n            QueueName: !GetAtt NotifyBigCommerceQueue",
		[]string{"Resources.ShipmentsFunction.Properties.Policies", "may not dynamodb:UpdateItem"}},
	{"notify without table reads",
		"        - DynamoDBCrudPolicy:\n            TableName: !Ref Table\n        - Statement:\n            # Backoff: a failed message comes back after the retry policy's delay.\n            # Budget waits re-send the message with a delay instead.\n            - Sid: DeferNotify",
		"        - DynamoDBWritePolicy:\n            TableName: !Ref Table\n        - Statement:\n            # Backoff: a failed message comes back after the retry policy's delay.\n            # Budget waits re-send the message with a delay instead.\n            - Sid: DeferNotify",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Policies", "may not dynamodb:Query"}},
	{"notify may not defer on its queue",
		"                - sqs:SendMessage\n              Resource: !GetAtt NotifyBigCommerceQueue.Arn", "                - sqs:SendMessage\n              Resource: !GetAtt ShipmentsQueue.Arn",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Policies", "SHIPRELAY_NOTIFY_QUEUE_URL names queue NotifyBigCommerceQueue but the function may neither"}},
	{"notify queue visibility below 6x timeout",
		"      VisibilityTimeout: 180 # 6 x NotifyBigCommerceFunction", "      VisibilityTimeout: 150 # 6 x NotifyBigCommerceFunction",
		[]string{"Resources.NotifyBigCommerceQueue.Properties.VisibilityTimeout", "less than 6x", "(30s)"}},
	{"notify queue without dead-letter queue",
		"      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt NotifyBigCommerceDLQ.Arn\n        maxReceiveCount: 8\n", "",
		[]string{"Resources.NotifyBigCommerceQueue.Properties", "no RedrivePolicy"}},
	{"missing notify channel",
		"          SHIPRELAY_NOTIFY_CHANNEL: bigcommerce\n", "",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Environment.Variables", "must declare SHIPRELAY_NOTIFY_CHANNEL"}},
	{"notify channel not a plain value",
		"          SHIPRELAY_NOTIFY_CHANNEL: bigcommerce", "          SHIPRELAY_NOTIFY_CHANNEL: !Ref LogLevel",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Environment.Variables.SHIPRELAY_NOTIFY_CHANNEL", "must be a plain value"}},
	{"notify channel without notifier",
		"          SHIPRELAY_NOTIFY_CHANNEL: bigcommerce", "          SHIPRELAY_NOTIFY_CHANNEL: ebay",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Environment.Variables.SHIPRELAY_NOTIFY_CHANNEL", `"ebay"`, "accepts only bigcommerce, amazon"}},
	{"notify queue env var not a queue",
		"          SHIPRELAY_NOTIFY_QUEUE_URL: !Ref NotifyBigCommerceQueue", "          SHIPRELAY_NOTIFY_QUEUE_URL: !Ref NotifyBigCommerceFunction",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Environment.Variables.SHIPRELAY_NOTIFY_QUEUE_URL", "AWS::SQS::Queue"}},
	{"unknown SHIPRELAY variable",
		"          SHIPRELAY_NOTIFY_CHANNEL: bigcommerce", "          SHIPRELAY_NOTIFY_CHANNEL: bigcommerce\n          SHIPRELAY_NOTIFY_MODE: fast",
		[]string{"Resources.NotifyBigCommerceFunction.Properties.Environment.Variables.SHIPRELAY_NOTIFY_MODE", "unknown variable"}},
	{"local-only variable in the template",
		"        SHIPRELAY_METRICS_NAMESPACE: shiprelay", "        SHIPRELAY_METRICS_NAMESPACE: shiprelay\n        SHIPRELAY_SECRETS_FILE: /tmp/secrets.json",
		[]string{"SHIPRELAY_SECRETS_FILE is set only by the local stack"}},
	{"duplicate ShipStation route",
		"            Path: /webhooks/shipstation/{accountId}/{token}", "            Path: /webhooks/bigcommerce/{storeId}",
		[]string{"Resources.WebhookFunction.Properties.Events", `route "POST /webhooks/bigcommerce/{storeId}" is already served by WebhookFunction`}},
}

func mutate(t *testing.T, src string, m mutation) string {
	t.Helper()
	if strings.Count(src, m.old) != 1 {
		t.Fatalf("mutation %q: %q occurs %d times in the template", m.name, m.old, strings.Count(src, m.old))
	}
	return strings.Replace(src, m.old, m.new, 1)
}

func checkText(t *testing.T, text string) []error {
	t.Helper()
	root := hermeticRoot(t, []byte(text))
	tpl, err := Parse(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Check(tpl, root)
}

func reported(errs []error, want []string) bool {
	for _, e := range errs {
		ok := true
		for _, w := range want {
			if !strings.Contains(e.Error(), w) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func readTemplate(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCheckMutations breaks the template one way at a time.
func TestCheckMutations(t *testing.T) {
	src := readTemplate(t)
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			errs := checkText(t, mutate(t, src, m))
			if !reported(errs, m.want) {
				t.Errorf("no problem containing %q; got:", m.want)
				for _, e := range errs {
					t.Log("  ", e)
				}
			}
		})
	}
}

// TestCheckBrokenCopy is one broken copy with several errors at once: the
// checker reports each of them, with its line.
func TestCheckBrokenCopy(t *testing.T) {
	src := readTemplate(t)
	var broken []mutation
	for _, m := range mutations[:4] {
		broken = append(broken, m)
		src = mutate(t, src, m)
	}
	errs := checkText(t, src)
	for _, m := range broken {
		if !reported(errs, m.want) {
			t.Errorf("%s: not reported (want %q)", m.name, m.want)
		}
	}
	for _, e := range errs {
		p, ok := e.(*Problem)
		if !ok || p.Line == 0 || !strings.HasSuffix(p.File, "template.yaml") {
			t.Errorf("problem without file and line: %v", e)
		}
	}
	if t.Failed() {
		for _, e := range errs {
			t.Log(e)
		}
	}
}

func TestCheckDuplicateRoute(t *testing.T) {
	src := readTemplate(t)
	// Give the poll function the webhook's route as a second event.
	src = mutate(t, src, mutation{name: "dup", old: "      Events:\n        Poll:\n", new: "      Events:\n        Dup:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n            Method: POST\n            Path: /webhooks/bigcommerce/{storeId}\n        Poll:\n"})
	if errs := checkText(t, src); !reported(errs, []string{`route "POST /webhooks/bigcommerce/{storeId}" is already served`}) {
		t.Errorf("duplicate route not reported: %v", errs)
	}
}

func TestParseErrors(t *testing.T) {
	for name, text := range map[string]string{
		"unknown tag":   "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Reff X\n",
		"duplicate key": "Resources:\n  A:\n    Type: AWS::SQS::Queue\n  A:\n    Type: AWS::SQS::Queue\n",
		"bad GetAtt":    "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !GetAtt NoDot\n",
		"no resources":  "Parameters: {}\n",
	} {
		if _, err := ParseBytes([]byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
