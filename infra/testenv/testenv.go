// Package testenv gives tests and benchmarks clients of the real local AWS
// stack (DynamoDB Local and the SQS emulator started by infra/local/stack.sh)
// and fresh, uniquely named tables and queues that are deleted when the test
// ends.
//
// The endpoints come from AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS,
// which `eval "$(infra/local/stack.sh start)"` (and `make test`) sets. When
// the one a test needs is unset the test is skipped, except in CI (env CI
// set), where it fails: CI must never skip silently.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/shared/dynamo"
)

// Environment variables naming the local endpoints.
const (
	EnvDynamoDB = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvSQS      = "AWS_ENDPOINT_URL_SQS"
)

// Region, AccessKeyID and SecretAccessKey are the fake identity every local
// client uses.
const (
	Region          = "us-east-1"
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// setupTimeout bounds creating or deleting one table or queue.
const setupTimeout = 30 * time.Second

// require skips (or, in CI, fails) t unless env names an endpoint.
func require(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		msg := env + " is not set: this test needs the local AWS stack; run make test " +
			`(or eval "$(infra/local/stack.sh start)")`
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return v
}

// RequireStack skips t (or, in CI, fails it) unless the local stack's
// DynamoDB and SQS endpoints are set, for tests that start their own
// clients or a whole Env.
func RequireStack(t testing.TB) {
	t.Helper()
	require(t, "AWS_ENDPOINT_URL_DYNAMODB")
	require(t, "AWS_ENDPOINT_URL_SQS")
}

// AWSConfig returns an SDK configuration for the local stack: region
// us-east-1 and static fake credentials, so a test can never reach a real
// AWS account with real credentials. Service endpoints come from the
// AWS_ENDPOINT_URL_<SERVICE> variables; the service helpers below skip or
// fail when theirs is unset.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
	)
	if err != nil {
		t.Fatalf("testenv: aws config: %v", err)
	}
	return cfg
}

// DynamoDBClient returns a client of DynamoDB Local (with the checksum
// quirk handled, see dynamo.NewClient) without creating a table.
func DynamoDBClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := require(t, EnvDynamoDB)
	return dynamo.NewClient(AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.DisableValidateResponseChecksum = true
	})
}

// DynamoDB returns a DynamoDB Local client and the name of a fresh table
// created with dynamo.CreateTable; the table is deleted when t ends.
func DynamoDB(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	client := DynamoDBClient(t)
	table := UniqueName(t, "shiprelay", 255)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("testenv: create table %s: %v", table, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("testenv: delete table %s: %v", table, err)
		}
	})
	return client, table
}

// SQS returns a client of the local SQS emulator.
func SQS(t testing.TB) *sqs.Client {
	t.Helper()
	endpoint := require(t, EnvSQS)
	return sqs.NewFromConfig(AWSConfig(t), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// Queue creates a queue named after name (made unique; a ".fifo" suffix is
// kept) with the given attributes (e.g. "VisibilityTimeout",
// "RedrivePolicy") and returns its URL. The queue is deleted when t ends.
func Queue(t testing.TB, name string, attrs map[string]string) string {
	t.Helper()
	client := SQS(t)
	base, fifo := strings.CutSuffix(name, ".fifo")
	qname := UniqueName(t, base, 80-len(".fifo"))
	if fifo {
		qname += ".fifo"
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname), Attributes: attrs})
	if err != nil {
		t.Fatalf("testenv: create queue %s: %v", qname, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("testenv: delete queue %s: %v", qname, err)
		}
	})
	return url
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// UniqueName returns "<prefix>-<test name>-<random>" cut to max characters,
// using only characters that table and queue names allow.
func UniqueName(t testing.TB, prefix string, max int) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random: %v", err)
	}
	suffix := "-" + hex.EncodeToString(b[:])
	name := unsafeName.ReplaceAllString(prefix+"-"+t.Name(), "_")
	if len(name) > max-len(suffix) {
		name = name[:max-len(suffix)]
	}
	return name + suffix
}

// SkipIfShort skips a long test under go test -short on a developer
// machine; in CI (CI set) it never skips, so the long tests always run
// there.
func SkipIfShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip(why)
	}
}
