package dynamo_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

// itemBytes is the size of the orders the benchmarks write.
const itemBytes = 2048

// bigOrder is a valid order whose JSON is about itemBytes long.
func bigOrder(num string, mod time.Time) order.Order {
	o := testOrder("bench", num, mod)
	raw, _ := json.Marshal(o)
	if pad := itemBytes - len(raw); pad > 0 {
		o.InternalNotes = strings.Repeat("x", pad)
	}
	return o
}

// BenchmarkUpsert measures ledger upserts of new ~2 KB orders (a consistent
// read, then one transaction: order item, buyer data, history event).
func BenchmarkUpsert(b *testing.B) {
	l, _, _ := newLedger(b)
	c := ctx(b)
	orders := make([]order.Order, b.N)
	for i := range orders {
		orders[i] = bigOrder(fmt.Sprint("u", i), t0)
		orders[i].Personal = personal("Bench Buyer")
	}
	b.ResetTimer()
	for i := range orders {
		if _, _, err := l.Upsert(c, orders[i], ledger.StatePending, t0, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
}

// BenchmarkUpsertReplay measures the replay path (one read, no write).
func BenchmarkUpsertReplay(b *testing.B) {
	l, _, _ := newLedger(b)
	c := ctx(b)
	o := bigOrder("replay", t0)
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil || res != ledger.Unchanged {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replays/s")
}

// BenchmarkRawPutItem is the baseline: plain PutItem of 2 KB items.
func BenchmarkRawPutItem(b *testing.B) {
	_, client, table := newLedger(b)
	c := ctx(b)
	payload := strings.Repeat("x", itemBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := client.PutItem(c, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"pk":   &types.AttributeValueMemberS{Value: fmt.Sprint("RAW#", i)},
				"sk":   &types.AttributeValueMemberS{Value: "RAW"},
				"data": &types.AttributeValueMemberS{Value: payload},
			},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}
