// Package ops is what the shiprelay operator CLI (infra/cmd/shiprelay) does
// to a deployment: list the exception records and the dead letters, move
// dead letters back to their source queues, re-drive the work behind one
// exception, and list and resume paused stores. It works through the same
// adapters as the functions (the DynamoDB ledger and the SQS queues), with
// the operator's own AWS credentials or on the local stack.
//
// Everything it reads and prints is PII-free by construction: exception
// records carry no buyer data, and queue messages carry ids only.
package ops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// Defaults of the local runner (infra/runner): the table and the prefix it
// puts before each queue's logical id.
const (
	LocalTable       = "shiprelay-local"
	LocalQueuePrefix = "shiprelay-local-"
)

// Redrive is one source queue of template.yaml and the dead-letter queue its
// RedrivePolicy names, by logical id.
type Redrive struct {
	DLQ    string `json:"dlq"`
	Source string `json:"source"`
}

// Redrives are the template's redrive pairs, in the template's order.
var Redrives = []Redrive{
	{DLQ: "IngestDLQ", Source: "IngestQueue"},
	{DLQ: "PushDLQ", Source: "PushQueue"},
	{DLQ: "ShipmentsDLQ", Source: "ShipmentsQueue"},
	{DLQ: "NotifyBigCommerceDLQ", Source: "NotifyBigCommerceQueue"},
	{DLQ: "NotifyAmazonDLQ", Source: "NotifyAmazonQueue"},
	{DLQ: "OrderChangeDLQ", Source: "OrderChangeQueue"},
}

// QueueIDs lists the logical ids of every queue of the template.
func QueueIDs() []string {
	ids := make([]string, 0, 2*len(Redrives))
	for _, r := range Redrives {
		ids = append(ids, r.Source, r.DLQ)
	}
	return ids
}

// LookupDLQ finds the redrive pair of a dead-letter queue by logical id,
// ignoring case; ok is false for a name that is not a DLQ of the template.
func LookupDLQ(name string) (Redrive, bool) {
	for _, r := range Redrives {
		if strings.EqualFold(r.DLQ, name) {
			return r, true
		}
	}
	return Redrive{}, false
}

// Target is one shiprelay deployment: its ledger and its queues.
type Target struct {
	// Ledger is the DynamoDB ledger.
	Ledger *dynamo.Ledger
	// SQS is the SQS client of the queues.
	SQS *awssqs.Client
	// Queues maps a queue's logical id (PushQueue, PushDLQ, ...) to its URL.
	Queues map[string]string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (t *Target) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// Queue returns the queue with the given logical id.
func (t *Target) Queue(id string) (*sqs.Queue, error) {
	u := t.Queues[id]
	if u == "" {
		return nil, fmt.Errorf("queue %s: no URL for it on this target (known: %s)", id, strings.Join(t.knownQueues(), ", "))
	}
	if t.SQS == nil {
		return nil, errors.New("no SQS client")
	}
	return &sqs.Queue{Client: t.SQS, URL: u}, nil
}

func (t *Target) knownQueues() []string {
	ids := make([]string, 0, len(t.Queues))
	for id := range t.Queues {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return []string{"none"}
	}
	return ids
}

// StackOutputs reads a CloudFormation stack's Outputs as the template
// declares them: TableName, and one <LogicalId>Url per queue (IngestQueueUrl,
// IngestDLQUrl, ...). Other outputs (the webhook URLs) are ignored.
func StackOutputs(ctx context.Context, client *cloudformation.Client, stack string) (table string, queues map[string]string, err error) {
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return "", nil, fmt.Errorf("stack %s: not found", stack)
	}
	outputs := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	table, queues = ParseOutputs(outputs)
	if table == "" {
		return "", nil, fmt.Errorf("stack %s: no TableName output (is it a shiprelay stack?)", stack)
	}
	return table, queues, nil
}

// ParseOutputs picks the table name and the queue URLs out of a stack's
// outputs (key → value): TableName, and every <LogicalId>Url whose logical
// id ends in Queue or DLQ.
func ParseOutputs(outputs map[string]string) (table string, queues map[string]string) {
	queues = map[string]string{}
	for k, v := range outputs {
		if k == "TableName" {
			table = v
			continue
		}
		id, ok := strings.CutSuffix(k, "Url")
		if ok && v != "" && (strings.HasSuffix(id, "Queue") || strings.HasSuffix(id, "DLQ")) {
			queues[id] = v
		}
	}
	return table, queues
}

// LocalQueues resolves the queues as the local runner names them,
// <prefix><LogicalId>, with GetQueueUrl. A queue that does not exist is left
// out; any other error is returned.
func LocalQueues(ctx context.Context, client *awssqs.Client, prefix string) (map[string]string, error) {
	queues := map[string]string{}
	for _, id := range QueueIDs() {
		out, err := client.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(prefix + id)})
		var missing *sqstypes.QueueDoesNotExist
		switch {
		case errors.As(err, &missing) || isNonExistent(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("queue %s%s: %w", prefix, id, err)
		}
		queues[id] = aws.ToString(out.QueueUrl)
	}
	return queues, nil
}

// isNonExistent recognises the Query-protocol name of a missing queue,
// which some SQS implementations still send.
func isNonExistent(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "NonExistentQueue") || strings.Contains(err.Error(), "QueueDoesNotExist"))
}
