package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// Claim implements ledger.Claims with one conditional PutItem: it succeeds
// when no claim exists or the existing one has expired. Expiry is checked on
// the exact "until" time; the ttl attribute (whole seconds, rounded up) only
// lets DynamoDB delete old claims.
func (l *Ledger) Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error) {
	const op = "dynamo.Claim"
	if key == "" || ttl <= 0 {
		return false, errs.Ef(errs.Invalid, op, "claim %q: empty key or ttl %v", key, ttl)
	}
	until := now.Add(ttl)
	item := keyOf(prefixClaim+key, skClaim)
	item[attrUntil] = s(fmtTime(until))
	item[TTLAttribute] = n(ceilUnix(until))
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrUntil).LessThanEqual(expression.Value(fmtTime(now))))
	ex, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, errs.E(errs.Invalid, op, err)
	}
	_, err = l.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(l.Table),
		Item:                      item,
		ConditionExpression:       ex.Condition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, classify(op, fmt.Errorf("claim %q: %w", key, err))
	}
	return true, nil
}

// Watermark implements ledger.Watermarks.
func (l *Ledger) Watermark(ctx context.Context, key string) (time.Time, error) {
	const op = "dynamo.Watermark"
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.Table),
		Key:            keyOf(prefixWM+key, skWM),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return time.Time{}, classify(op, fmt.Errorf("watermark %q: %w", key, err))
	}
	if out.Item == nil {
		return time.Time{}, nil
	}
	t, err := getTime(out.Item, attrAt)
	if err != nil {
		return time.Time{}, errs.E(errs.Other, op, fmt.Errorf("watermark %q: %w", key, err))
	}
	return t, nil
}

// SetWatermark implements ledger.Watermarks with a conditional write that
// only moves the mark forward; an older or equal t is a silent no-op.
func (l *Ledger) SetWatermark(ctx context.Context, key string, t time.Time) error {
	const op = "dynamo.SetWatermark"
	if key == "" {
		return errs.Ef(errs.Invalid, op, "empty watermark key")
	}
	if t.IsZero() {
		return nil
	}
	at := fmtTime(t)
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrAt).LessThan(expression.Value(at)))
	ex, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrAt), expression.Value(at))).
		WithCondition(cond).Build()
	if err != nil {
		return errs.E(errs.Invalid, op, err)
	}
	_, err = l.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       keyOf(prefixWM+key, skWM),
		UpdateExpression:          ex.Update(),
		ConditionExpression:       ex.Condition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	return classify(op, err)
}

// ceilUnix is t in epoch seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// Release implements ledger.Claims: it deletes the claim, so the next Claim
// of key wins. Releasing a key that is not claimed is not an error.
func (l *Ledger) Release(ctx context.Context, key string) error {
	const op = "dynamo.Release"
	if key == "" {
		return errs.Ef(errs.Invalid, op, "empty claim key")
	}
	_, err := l.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(l.Table),
		Key:       keyOf(prefixClaim+key, skClaim),
	})
	if err != nil {
		return classify(op, fmt.Errorf("claim %q: %w", key, err))
	}
	return nil
}

// attrOwner is the holder of an owned claim.
const attrOwner = "owner"

// ClaimFor implements ledger.Claims' owned form: the first owner to claim
// key (within ttl) holds it, and claiming again as that owner still
// succeeds, so a retried step is not refused by its own earlier claim. It
// returns the holder: owner when the claim is owner's.
func (l *Ledger) ClaimFor(ctx context.Context, key, owner string, ttl time.Duration, now time.Time) (string, error) {
	const op = "dynamo.ClaimFor"
	if key == "" || owner == "" || ttl <= 0 {
		return "", errs.Ef(errs.Invalid, op, "claim %q: empty key or owner, or ttl %v", key, ttl)
	}
	until := now.Add(ttl)
	item := keyOf(prefixClaim+key, skClaim)
	item[attrUntil] = s(fmtTime(until))
	item[attrOwner] = s(owner)
	item[TTLAttribute] = n(ceilUnix(until))
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrUntil).LessThanEqual(expression.Value(fmtTime(now)))).
		Or(expression.Name(attrOwner).Equal(expression.Value(owner)))
	ex, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return "", errs.E(errs.Invalid, op, err)
	}
	_, err = l.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(l.Table),
		Item:                                item,
		ConditionExpression:                 ex.Condition(),
		ExpressionAttributeNames:            ex.Names(),
		ExpressionAttributeValues:           ex.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if v, ok := ccf.Item[attrOwner].(*types.AttributeValueMemberS); ok {
			return v.Value, nil
		}
		// Old items are not returned by every DynamoDB implementation.
		out, gerr := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(l.Table), Key: keyOf(prefixClaim+key, skClaim), ConsistentRead: aws.Bool(true),
		})
		if gerr != nil {
			return "", classify(op, fmt.Errorf("claim %q: %w", key, gerr))
		}
		if v, ok := out.Item[attrOwner].(*types.AttributeValueMemberS); ok {
			return v.Value, nil
		}
		return "", errs.Ef(errs.Transient, op, "claim %q is held by an unnamed owner", key)
	}
	if err != nil {
		return "", classify(op, fmt.Errorf("claim %q: %w", key, err))
	}
	return owner, nil
}

// ResetWatermark implements ledger.Watermarks' reset: it sets key to t,
// earlier or later (an operator re-importing from a date).
func (l *Ledger) ResetWatermark(ctx context.Context, key string, t time.Time) error {
	const op = "dynamo.ResetWatermark"
	if key == "" || t.IsZero() {
		return errs.Ef(errs.Invalid, op, "empty watermark key or time")
	}
	item := keyOf(prefixWM+key, skWM)
	item[attrAt] = s(fmtTime(t))
	_, err := l.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.Table), Item: item})
	return classify(op, err)
}
