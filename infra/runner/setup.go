package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// createTables creates every AWS::DynamoDB::Table of the template from its
// properties, and enables its time to live. An existing table is kept.
func (r *Runner) createTables(ctx context.Context) error {
	tables, err := r.tpl.Tables()
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	res, err := r.tpl.Resolver(samtemplate.ResolverOptions{Parameters: r.cfg.Parameters,
		Pseudo: samtemplate.PseudoParameters(r.cfg.Region, r.cfg.AccountID, r.cfg.StackName)})
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	for _, t := range tables {
		name := r.tables[t.LogicalID]
		in, err := createTableInput(t, name, res)
		if err != nil {
			return fmt.Errorf("runner: table %s: %w", t.LogicalID, err)
		}
		_, err = r.ddb.CreateTable(ctx, in)
		var inUse *ddbtypes.ResourceInUseException
		switch {
		case errors.As(err, &inUse):
			r.log.Info("table exists", "table", t.LogicalID, "name", name)
		case err != nil:
			return fmt.Errorf("runner: create table %s (%s): %w", t.LogicalID, name, err)
		default:
			r.log.Info("table created", "table", t.LogicalID, "name", name)
		}
		if t.TTLEnabled && t.TTLAttribute != "" {
			d, err := r.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("runner: table %s: describe ttl: %w", name, err)
			}
			if ttl := d.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == t.TTLAttribute &&
				(ttl.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
				continue
			}
			_, err = r.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
					AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true),
				},
			})
			if err != nil {
				return fmt.Errorf("runner: table %s: enable ttl: %w", name, err)
			}
		}
	}
	return nil
}

// createTableInput translates the template's table properties.
func createTableInput(t samtemplate.Table, name string, res samtemplate.Resolver) (*dynamodb.CreateTableInput, error) {
	keys := func(ks []samtemplate.KeyElement) []ddbtypes.KeySchemaElement {
		var out []ddbtypes.KeySchemaElement
		for _, k := range ks {
			out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
		}
		return out
	}
	projection := func(ix samtemplate.Index) *ddbtypes.Projection {
		p := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(ix.ProjectionType)}
		if len(ix.NonKeyAttributes) > 0 {
			p.NonKeyAttributes = ix.NonKeyAttributes
		}
		return p
	}
	throughput := func(v any) (*ddbtypes.ProvisionedThroughput, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil
		}
		rv, err := samtemplate.Value{Raw: m["ReadCapacityUnits"]}.Int(res)
		if err != nil {
			return nil, err
		}
		wv, err := samtemplate.Value{Raw: m["WriteCapacityUnits"]}.Int(res)
		if err != nil {
			return nil, err
		}
		return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(rv)), WriteCapacityUnits: aws.Int64(int64(wv))}, nil
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), KeySchema: keys(t.KeySchema)}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	provisioned := t.BillingMode != "PAY_PER_REQUEST"
	if provisioned {
		in.BillingMode = ddbtypes.BillingModeProvisioned
		pt, err := throughput(t.Properties["ProvisionedThroughput"])
		if err != nil {
			return nil, err
		}
		in.ProvisionedThroughput = pt
	} else {
		in.BillingMode = ddbtypes.BillingModePayPerRequest
	}
	rawGSIs, _ := t.Properties["GlobalSecondaryIndexes"].([]any)
	for i, g := range t.GlobalSecondaryIndexes {
		gsi := ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName), KeySchema: keys(g.KeySchema), Projection: projection(g)}
		if provisioned && i < len(rawGSIs) {
			m, _ := rawGSIs[i].(map[string]any)
			pt, err := throughput(m["ProvisionedThroughput"])
			if err != nil {
				return nil, err
			}
			gsi.ProvisionedThroughput = pt
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for _, l := range t.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName: aws.String(l.IndexName), KeySchema: keys(l.KeySchema), Projection: projection(l),
		})
	}
	if t.StreamViewType != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(t.StreamViewType)}
	}
	return in, nil
}

// queueAttributes are the CloudFormation queue properties that map to SQS
// queue attributes of the same name.
var queueAttributes = []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
	"ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "ContentBasedDeduplication",
	"DeduplicationScope", "FifoThroughputLimit"}

// createQueues creates every AWS::SQS::Queue, dead-letter queues before the
// queues that redrive to them. An existing queue gets the template's
// attributes set again.
func (r *Runner) createQueues(ctx context.Context) error {
	res, err := r.tpl.Resolver(samtemplate.ResolverOptions{Parameters: r.cfg.Parameters,
		Pseudo: samtemplate.PseudoParameters(r.cfg.Region, r.cfg.AccountID, r.cfg.StackName)})
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	pending := append([]string{}, r.queueIDs...)
	for len(pending) > 0 {
		var next []string
		for _, id := range pending {
			q := r.queues[id]
			var dlq *localQueue
			if q.q.Redrive != nil {
				dlq = r.queues[q.q.Redrive.DeadLetterQueue]
				if dlq.arn == "" {
					next = append(next, id)
					continue
				}
			}
			if err := r.createQueue(ctx, q, dlq, res); err != nil {
				return fmt.Errorf("runner: queue %s: %w", id, err)
			}
		}
		if len(next) == len(pending) {
			return fmt.Errorf("runner: queues %v redrive to each other in a cycle", next)
		}
		pending = next
	}
	return nil
}

func (r *Runner) createQueue(ctx context.Context, q *localQueue, dlq *localQueue, res samtemplate.Resolver) error {
	name := r.cfg.QueuePrefix + q.q.LogicalID
	attrs := map[string]string{}
	if q.q.FIFO {
		name += ".fifo"
		attrs["FifoQueue"] = "true"
	}
	for _, a := range queueAttributes {
		v, ok := q.q.Properties[a]
		if !ok {
			continue
		}
		rv, err := samtemplate.Resolve(v, res)
		if err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
		s, err := samtemplate.ScalarString(rv)
		if err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
		attrs[a] = s
	}
	if dlq != nil {
		n, err := q.q.Redrive.MaxReceiveCount.Int(res)
		if err != nil {
			return fmt.Errorf("RedrivePolicy.maxReceiveCount: %w", err)
		}
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq.arn, "maxReceiveCount": n})
		attrs["RedrivePolicy"] = string(b)
	}
	out, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var url string
	var exists *sqstypes.QueueNameExists
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &exists) || (errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorCode(), "QueueAlreadyExists")):
		got, gerr := r.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return gerr
		}
		url = aws.ToString(got.QueueUrl)
		delete(attrs, "FifoQueue")
		if _, serr := r.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); serr != nil {
			return fmt.Errorf("update attributes: %w", serr)
		}
		r.log.Info("queue updated", "queue", q.q.LogicalID, "url", url)
	case err != nil:
		return err
	default:
		url = aws.ToString(out.QueueUrl)
		r.log.Info("queue ready", "queue", q.q.LogicalID, "url", url)
	}
	ga, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("queue arn: %w", err)
	}
	q.url, q.arn = url, ga.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if q.arn == "" {
		return errors.New("the emulator returned no QueueArn")
	}
	return nil
}

// depth reads a queue's approximate message counts.
func (r *Runner) depth(ctx context.Context, url string) (visible, inFlight, delayed int, err error) {
	out, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, 0, 0, err
	}
	n := func(k sqstypes.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		return v
	}
	return n(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
		n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed), nil
}
