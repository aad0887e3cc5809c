package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
)

var _ ledger.Stores = (*Ledger)(nil)

// Store status, pk=STORESTATUS#<id> sk=STORE: paused (BOOL), reason, pausedAt.
const (
	prefixStoreStatus = "STORESTATUS#"
	skStore           = "STORE"
	attrPaused        = "paused"
	attrReason        = "reason"
	attrPausedA       = "pausedAt"
)

// PauseStore implements ledger.Stores.
func (l *Ledger) PauseStore(ctx context.Context, storeID, reason string, now time.Time) (bool, error) {
	const op = "dynamo.PauseStore"
	upd := expression.Set(expression.Name(attrPaused), expression.Value(true)).
		Set(expression.Name(attrReason), expression.Value(clip(reason))).
		Set(expression.Name(attrPausedA), expression.Value(fmtTime(now)))
	cond := expression.Or(expression.AttributeNotExists(expression.Name(attrPaused)), expression.Name(attrPaused).Equal(expression.Value(false)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, errs.E(errs.Invalid, op, err)
	}
	_, err = l.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.Table), Key: keyOf(prefixStoreStatus+storeID, skStore),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err == nil {
		return true, nil
	}
	if raced(err) {
		return false, nil // paused already
	}
	return false, classify(op, err)
}

// ResumeStore implements ledger.Stores.
func (l *Ledger) ResumeStore(ctx context.Context, storeID string) error {
	const op = "dynamo.ResumeStore"
	upd := expression.Set(expression.Name(attrPaused), expression.Value(false))
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return errs.E(errs.Invalid, op, err)
	}
	_, err = l.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.Table), Key: keyOf(prefixStoreStatus+storeID, skStore),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	return classify(op, err)
}

// StoreStatus implements ledger.Stores.
func (l *Ledger) StoreStatus(ctx context.Context, storeID string) (ledger.StoreStatus, error) {
	const op = "dynamo.StoreStatus"
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: keyOf(prefixStoreStatus+storeID, skStore), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ledger.StoreStatus{}, classify(op, err)
	}
	st := ledger.StoreStatus{StoreID: storeID}
	if out.Item == nil {
		return st, nil
	}
	var paused bool
	if av, ok := out.Item[attrPaused]; ok {
		_ = decoder.Decode(av, &paused)
	}
	st.Paused, st.Reason = paused, getS(out.Item, attrReason)
	if t, err := parseTime(getS(out.Item, attrPausedA)); err == nil {
		st.PausedAt = t
	}
	return st, nil
}
