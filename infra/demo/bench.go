package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// BenchOptions configure BenchWith.
type BenchOptions struct {
	// Confirmations drained by the BigCommerce confirmation bench (default 2000).
	Confirmations int
	// ConfirmTimeScale divides BigCommerce's 30 s window in that bench
	// (default 10; 1 is real time, about 13 minutes for 2,000).
	ConfirmTimeScale float64
}

// Bench is BenchWith with the default options.
func Bench(ctx context.Context, logs, out io.Writer) error {
	return BenchWith(ctx, logs, out, BenchOptions{})
}

// BenchWith measures, in one run against the local stack: raw DynamoDB Local
// PutItem/s, ingest orders/s through the real ingest function, the
// webhook→ShipStation latency at 10 orders/s, and (in a second Env, at
// BigCommerce's 150 requests per 30 s) the time to drain 2,000 BigCommerce
// confirmations as a ratio to the quota's bound; then (in a third Env) the
// time to drain 5,000 Amazon confirmations against confirmShipment's 2 rps,
// burst 10, as a ratio to that bound.
func BenchWith(ctx context.Context, logs, out io.Writer, o BenchOptions) error {
	if err := benchIngest(ctx, logs, out); err != nil {
		return err
	}
	r, err := ConfirmBench(ctx, ConfirmBenchOptions{Confirmations: o.Confirmations, TimeScale: o.ConfirmTimeScale, LogWriter: logs})
	if err != nil {
		return err
	}
	r.Print(out)
	if !r.Passed() {
		return fmt.Errorf("confirmation drain: %d lost, %d duplicated, %d unconfirmed, %d dead letters", r.Lost, r.Duplicated, r.Unconfirmed, r.Dead)
	}
	a, err := AmazonConfirmBench(ctx, AmazonConfirmBenchOptions{LogWriter: logs})
	if err != nil {
		return err
	}
	a.Print(out)
	if !a.Passed() {
		return fmt.Errorf("amazon confirmation drain: %d lost, %d duplicated, %d unconfirmed, %d dead letters", a.Lost, a.Duplicated, a.Unconfirmed, a.Dead)
	}
	return nil
}

// benchIngest runs the first three measurements in an Env it stops after.
func benchIngest(ctx context.Context, logs, out io.Writer) error {
	// An Enterprise-plan quota (100 requests/s), declared to shiprelay too,
	// so that BigCommerce's limit is not what is measured.
	env, err := Up(ctx, EnvOptions{HTTPAddr: "127.0.0.1:0", PollEvery: 10 * time.Second, LogWriter: logs, BigCommerceQuota: 3000})
	if err != nil {
		return err
	}
	defer env.Down()

	// 1. Raw PutItem/s: 2 KB items, sequential, as the ledger's baseline.
	const puts = 2000
	payload := make([]byte, 1000)
	_, _ = rand.Read(payload)
	blob := hex.EncodeToString(payload) // 2 KB of text
	t0 := time.Now()
	for i := range puts {
		_, err := env.Ledger.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &env.Ledger.Table,
			Item: map[string]types.AttributeValue{
				"pk":   &types.AttributeValueMemberS{Value: "BENCH#" + strconv.Itoa(i)},
				"sk":   &types.AttributeValueMemberS{Value: "BENCH"},
				"blob": &types.AttributeValueMemberS{Value: blob},
			},
		})
		if err != nil {
			return fmt.Errorf("raw put: %w", err)
		}
	}
	rawRate := puts / time.Since(t0).Seconds()

	// 2. Ingest orders/s: orders exist in BigCommerce (no webhooks), ingest
	// messages are enqueued at once, the clock stops when all are in the ledger.
	env.Sandbox.SetBigCommerceFaults(sandbox.Faults{WebhookDropRate: 1})
	const n = 500
	orders, err := env.Sandbox.CreateRandomOrders(StoreHash, n)
	if err != nil {
		return err
	}
	importable := 0
	var msgs []queue.Message
	for _, o := range orders {
		if _, disp, ok := order.BigCommerceStatus(o.StatusID); ok && disp == order.Import {
			importable++
		}
		b, _ := json.Marshal(queue.Ingest{Channel: order.BigCommerce, StoreID: StoreID, ChannelOrderID: strconv.Itoa(o.ID), Source: "bench", ReceivedAt: time.Now().UTC()})
		msgs = append(msgs, queue.Message{Body: b})
	}
	q := &sqs.Queue{Client: env.sqsClient(), URL: env.Runner.QueueURL("IngestQueue")}
	t1 := time.Now()
	if err := q.Send(ctx, msgs...); err != nil {
		return err
	}
	for {
		got, err := env.countOrders(ctx)
		if err != nil {
			return err
		}
		if got >= importable {
			break
		}
		if time.Since(t1) > 3*time.Minute {
			return fmt.Errorf("ingest bench: %d of %d orders after 3 minutes", got, importable)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ingestRate := float64(importable) / time.Since(t1).Seconds()

	// 3. Latency at 10 orders/s for 30 s with every webhook delivered.
	env.Sandbox.SetBigCommerceFaults(sandbox.Faults{})
	before := len(env.Sandbox.Orders(StoreHash))
	sum, err := env.Run(ctx, RunOptions{SteadyOrders: 300, SteadyRate: 10, Timeout: 3 * time.Minute, Seed: 7})
	if err != nil {
		return err
	}
	lat, _ := env.Latencies()
	fmt.Fprintf(out, "raw DynamoDB Local PutItem (2 KB, sequential)   %8.0f puts/s\n", rawRate)
	fmt.Fprintf(out, "ingest (SQS → BigCommerce fetch ×3 → ledger)      %8.1f orders/s (%d orders)\n", ingestRate, importable)
	fmt.Fprintf(out, "webhook→ShipStation latency at 10 orders/s        p50 %v  p99 %v  (n=%d, %d orders)\n",
		Percentile(lat, 50).Round(time.Millisecond), Percentile(lat, 99).Round(time.Millisecond), len(lat), len(env.Sandbox.Orders(StoreHash))-before)
	if !sum.Passed() {
		return fmt.Errorf("latency run did not settle: %d missing, %d wrong, %d duplicates", len(sum.Missing), len(sum.WrongStatus), sum.Duplicates)
	}
	return nil
}
