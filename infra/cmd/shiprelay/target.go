package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/ops"
	"github.com/shiprelay/shiprelay/shared/dynamo"
)

// Local endpoints, as infra/local/stack.sh exports them.
const (
	envDynamoDB = "AWS_ENDPOINT_URL_DYNAMODB"
	envSQS      = "AWS_ENDPOINT_URL_SQS"
	localRegion = "us-east-1"
)

// queueFlag is the repeatable -queue LogicalId=URL flag.
type queueFlag map[string]string

// String implements flag.Value.
func (m queueFlag) String() string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// Set implements flag.Value.
func (m queueFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want LogicalId=URL (PushDLQ=https://sqs...), got %q", s)
	}
	m[k] = v
	return nil
}

// options are the flags every command accepts: the target and the output.
type options struct {
	stack, region, profile string
	local                  bool
	table, prefix          string
	queues                 queueFlag
	json                   bool
}

// register adds the common flags to fs with the current values as defaults,
// so that flags given before the command survive the command's own parse.
func (o *options) register(fs *flag.FlagSet) {
	fs.StringVar(&o.stack, "stack", o.stack, "CloudFormation `stack` to read TableName and the queue URLs from (its Outputs)")
	fs.StringVar(&o.region, "region", o.region, "AWS `region` (default: from the AWS configuration)")
	fs.StringVar(&o.profile, "profile", o.profile, "AWS shared config `profile` (default: the default credential chain)")
	fs.BoolVar(&o.local, "local", o.local, "use the local stack ("+envDynamoDB+", "+envSQS+") as the local runner names it")
	fs.StringVar(&o.table, "table", o.table, "ledger `table` (overrides the stack's; -local default "+ops.LocalTable+")")
	fs.StringVar(&o.prefix, "prefix", o.prefix, "with -local, the queue name `prefix` before each logical id (default "+ops.LocalQueuePrefix+")")
	fs.Var(o.queues, "queue", "queue URL by logical id, `LogicalId=URL` (repeatable; overrides the stack's or the local one)")
	fs.BoolVar(&o.json, "json", o.json, "print JSON instead of aligned text")
}

// target builds the ops.Target the flags select. needQueues resolves the
// queue URLs too (a stack's outputs always carry them).
func (o *options) target(ctx context.Context, needQueues bool) (*ops.Target, error) {
	explicit := o.table != "" || len(o.queues) > 0
	switch {
	case o.local && o.stack != "":
		return nil, usagef("-local and -stack exclude each other")
	case !o.local && o.stack == "" && !explicit:
		return nil, usagef("choose a target: -stack NAME, -local, or -table TABLE -queue LogicalId=URL ...")
	case !o.local && o.stack == "" && o.table == "":
		return nil, usagef("-queue needs -table (or -stack, or -local)")
	case !o.local && o.prefix != "":
		return nil, usagef("-prefix applies to -local only")
	}
	if o.local {
		return o.localTarget(ctx, needQueues)
	}
	var opts []func(*awsconfig.LoadOptions) error
	if o.region != "" {
		opts = append(opts, awsconfig.WithRegion(o.region))
	}
	if o.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	table, queues := o.table, map[string]string{}
	if o.stack != "" {
		t, q, err := ops.StackOutputs(ctx, cloudformation.NewFromConfig(cfg), o.stack)
		if err != nil {
			return nil, err
		}
		queues = q
		if table == "" {
			table = t
		}
	}
	for k, v := range o.queues {
		queues[k] = v
	}
	return &ops.Target{
		Ledger: dynamo.New(dynamo.NewClient(cfg), table),
		SQS:    awssqs.NewFromConfig(cfg),
		Queues: queues,
	}, nil
}

// localTarget is the local stack: fake static credentials (a local target
// never signs with real ones), the endpoints from the environment, the
// local runner's table and queue names.
func (o *options) localTarget(ctx context.Context, needQueues bool) (*ops.Target, error) {
	ddbURL, sqsURL := os.Getenv(envDynamoDB), os.Getenv(envSQS)
	if ddbURL == "" || sqsURL == "" {
		return nil, fmt.Errorf("-local needs %s and %s: run eval \"$(infra/local/stack.sh start)\"", envDynamoDB, envSQS)
	}
	region := o.region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = localRegion
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
	)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	ddb := dynamo.NewClient(cfg, func(opt *dynamodb.Options) {
		opt.BaseEndpoint = aws.String(ddbURL)
		opt.DisableValidateResponseChecksum = true
	})
	sqsClient := awssqs.NewFromConfig(cfg, func(opt *awssqs.Options) { opt.BaseEndpoint = aws.String(sqsURL) })
	table, prefix := o.table, o.prefix
	if table == "" {
		table = ops.LocalTable
	}
	if prefix == "" {
		prefix = ops.LocalQueuePrefix
	}
	queues := map[string]string{}
	if needQueues {
		if queues, err = ops.LocalQueues(ctx, sqsClient, prefix); err != nil {
			return nil, err
		}
		if len(queues) == 0 && len(o.queues) == 0 {
			return nil, fmt.Errorf("no queue named %s<LogicalId> on %s: start the local runner (make run ARGS=-keep) or set -prefix", prefix, sqsURL)
		}
	}
	for k, v := range o.queues {
		queues[k] = v
	}
	return &ops.Target{Ledger: dynamo.New(ddb, table), SQS: sqsClient, Queues: queues}, nil
}
