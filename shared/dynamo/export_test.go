package dynamo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/ledger"
)

// BulkLoadForTest writes new orders (each with its buyer data item when
// o.Personal is set) as Upsert would have created them at rec.ImportedAt,
// in batches of 25 items and without history events: fast seeding for
// tests that need thousands of orders on DynamoDB Local. Upsert is tested
// on its own.
func (l *Ledger) BulkLoadForTest(ctx context.Context, recs []ledger.Record) error {
	var items []map[string]types.AttributeValue
	for _, rec := range recs {
		o := rec.Order
		personal := o.Personal
		o.Personal = nil
		av, err := encoder.Encode(o)
		if err != nil {
			return err
		}
		at := fmtTime(rec.ImportedAt)
		item := keyOf(orderPK(o.ID), skOrder)
		item[attrOrder] = av
		item[attrState] = s(string(rec.State))
		item[attrModifiedAt] = s(fmtTime(o.ModifiedAt))
		item[attrImportedAt] = s(at)
		item[attrFirstSeenAt] = s(at)
		item[attrUpdatedAt] = s(at)
		item[attrRev] = n(1)
		item[attrGSI1PK] = s(gsi1PK(o.StoreID, rec.State))
		item[attrGSI1SK] = s(timeID(rec.ImportedAt, string(o.ID)))
		item[attrGSI2PK] = s(dayPK(rec.ImportedAt))
		item[attrGSI2SK] = s(timeID(rec.ImportedAt, string(o.ID)))
		items = append(items, item)
		if personal != nil {
			raw, err := json.Marshal(personal)
			if err != nil {
				return err
			}
			p := keyOf(orderPK(o.ID), skPII)
			p[attrPersonal] = s(string(raw))
			items = append(items, p)
		}
	}
	for len(items) > 0 {
		batch := items[:min(25, len(items))]
		items = items[len(batch):]
		reqs := make([]types.WriteRequest, 0, len(batch))
		for _, it := range batch {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{l.Table: reqs}
		for try := 0; len(pending) > 0; try++ {
			if try > 20 {
				return fmt.Errorf("bulk load: unprocessed items after %d tries", try)
			}
			out, err := l.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
