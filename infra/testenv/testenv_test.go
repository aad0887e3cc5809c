package testenv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
)

func TestTableIsCreatedAndDeleted(t *testing.T) {
	var client *dynamodb.Client
	var table string
	t.Run("inner", func(t *testing.T) {
		client, table = testenv.DynamoDB(t)
		out, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil || out.Table.TableStatus != types.TableStatusActive {
			t.Fatalf("table %s: %v", table, err)
		}
	})
	if client == nil {
		return // skipped
	}
	_, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("table %s still there after the test: %v", table, err)
	}
}

func TestQueueIsCreatedAndDeleted(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		url = testenv.Queue(t, "probe.fifo", map[string]string{"FifoQueue": "true"})
		if !strings.HasSuffix(url, ".fifo") {
			t.Errorf("fifo queue url %s", url)
		}
	})
	if url == "" {
		return
	}
	_, err := testenv.SQS(t).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url)})
	if err == nil {
		t.Errorf("queue %s still there after the test", url)
	}
}

// TestNoChecksumWarnings: error responses of DynamoDB Local carry no CRC32;
// the client from dynamo.NewClient must not log a warning for each.
func TestNoChecksumWarnings(t *testing.T) {
	testenv.DynamoDBClient(t) // skip without the stack
	_, table := testenv.DynamoDB(t)
	var mu sync.Mutex
	var logged bytes.Buffer
	cfg := testenv.AWSConfig(t)
	cfg.Logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&logged, "%s "+format+"\n", append([]any{c}, v...)...)
	})
	client := dynamo.NewClient(cfg)
	l := dynamo.New(client, table)
	for i := 0; i < 3; i++ { // the second and third claims fail their condition
		if _, err := l.Claim(context.Background(), "k", time.Minute, testNow); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(logged.String(), "checksum") {
		t.Errorf("SDK logged checksum warnings:\n%s", logged.String())
	}
}

// TestMissingStack runs this test binary again without the endpoints: the
// helpers skip normally and fail when CI is set.
func TestMissingStack(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") == "1" {
		testenv.DynamoDB(t)
		t.Fatal("DynamoDB returned without an endpoint")
	}
	for _, ci := range []bool{false, true} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingStack$", "-test.v")
		cmd.Env = []string{"TESTENV_HELPER=1", "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
		if ci {
			cmd.Env = append(cmd.Env, "CI=true")
		}
		out, err := cmd.CombinedOutput()
		switch {
		case !ci && (err != nil || !strings.Contains(string(out), "--- SKIP")):
			t.Errorf("without CI: want a skip, got %v:\n%s", err, out)
		case ci && (err == nil || !strings.Contains(string(out), "--- FAIL")):
			t.Errorf("with CI: want a failure, got %v:\n%s", err, out)
		}
		if !strings.Contains(string(out), "make test") {
			t.Errorf("message does not say how to run the stack:\n%s", out)
		}
	}
}

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func TestSharedPathFindsTheSpecs(t *testing.T) {
	p := testenv.SharedPath(t, "specs", "bigcommerce", "orders.v2.oas2.yml")
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		t.Fatalf("SharedPath = %q: %v", p, err)
	}
}
