package dynamo

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// Budget is the shared rate budget (ratelimit.Budget) on the ledger table:
// one item per bucket (pk RATE#<key>, sk RATE) holding ratelimit.Bucket and
// a revision. Take and Observe read the bucket, apply the ratelimit.Bucket
// arithmetic and write it back conditioned on the revision they read
// (optimistic concurrency), retrying a bounded number of times when another
// invocation wrote first. A bucket is never granted twice: every grant is a
// distinct revision.
type Budget struct {
	// Client is the DynamoDB client; see NewClient.
	Client *dynamodb.Client
	// Table is the ledger table.
	Table string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ ratelimit.Budget = (*Budget)(nil)
	_ ratelimit.Budget = (*Ledger)(nil)
)

// NewBudget returns the rate budget on table.
func NewBudget(client *dynamodb.Client, table string) *Budget {
	return &Budget{Client: client, Table: table}
}

const (
	// budgetAttempts bounds the read-compute-write loop under contention.
	budgetAttempts = 32
	// bucketTTL lets DynamoDB delete a bucket unused this long; a bucket
	// that is gone starts full, as an idle bucket would be anyway.
	bucketTTL = 7 * 24 * time.Hour
)

// Take implements ratelimit.Budget. When it loses the race for the bucket
// budgetAttempts times it takes nothing and asks the caller to wait a few
// milliseconds (ratelimit.Wait then simply tries again).
func (b *Budget) Take(ctx context.Context, key string, lim ratelimit.Limit, n int) (time.Duration, error) {
	const op = "dynamo.Budget.Take"
	if n <= 0 {
		return 0, nil
	}
	for attempt := 0; attempt < budgetAttempts; attempt++ {
		cur, rev, err := b.read(ctx, op, key)
		if err != nil {
			return 0, err
		}
		next, wait := cur.Take(lim, float64(n), b.now())
		if wait > 0 {
			return wait, nil
		}
		err = b.write(ctx, key, next, rev)
		if err == nil {
			return 0, nil
		}
		if !raced(err) {
			return 0, classify(op, fmt.Errorf("bucket %q: %w", key, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return 0, errs.E(errs.Transient, op, err)
		}
	}
	return 5*time.Millisecond + mrand.N(20*time.Millisecond), nil
}

// Observe implements ratelimit.Budget.
func (b *Budget) Observe(ctx context.Context, key string, lim ratelimit.Limit, remaining int, reset time.Duration) error {
	const op = "dynamo.Budget.Observe"
	for attempt := 0; attempt < budgetAttempts; attempt++ {
		cur, rev, err := b.read(ctx, op, key)
		if err != nil {
			return err
		}
		now := b.now()
		next := cur.Observe(lim, remaining, reset, now)
		if refilled := cur.Refill(lim, now); next.Tokens == refilled.Tokens && next.BlockedUntil.Equal(refilled.BlockedUntil) {
			// The API agrees with the bucket: nothing to correct, and no
			// write to contend with every other caller's Take.
			return nil
		}
		err = b.write(ctx, key, next, rev)
		if err == nil {
			return nil
		}
		if !raced(err) {
			return classify(op, fmt.Errorf("bucket %q: %w", key, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return errs.E(errs.Transient, op, err)
		}
	}
	return errs.Ef(errs.Conflict, op, "bucket %q: still racing after %d attempts", key, budgetAttempts)
}

// Take implements ratelimit.Budget on the ledger's table (see Budget).
func (l *Ledger) Take(ctx context.Context, key string, lim ratelimit.Limit, n int) (time.Duration, error) {
	return NewBudget(l.Client, l.Table).Take(ctx, key, lim, n)
}

// Observe implements ratelimit.Budget on the ledger's table (see Budget).
func (l *Ledger) Observe(ctx context.Context, key string, lim ratelimit.Limit, remaining int, reset time.Duration) error {
	return NewBudget(l.Client, l.Table).Observe(ctx, key, lim, remaining, reset)
}

func (b *Budget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// read returns the stored bucket (zero when absent: ratelimit starts it
// full) and its revision (0 when absent).
func (b *Budget) read(ctx context.Context, op, key string) (ratelimit.Bucket, int64, error) {
	out, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(b.Table),
		Key:            keyOf(prefixRate+key, skRate),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ratelimit.Bucket{}, 0, classify(op, fmt.Errorf("bucket %q: %w", key, err))
	}
	if out.Item == nil {
		return ratelimit.Bucket{}, 0, nil
	}
	var bk ratelimit.Bucket
	var rev int64
	if bk.Tokens, err = getN(out.Item, attrTokens); err == nil {
		if bk.Updated, err = getTime(out.Item, attrUpdatedAt); err == nil {
			if bk.BlockedUntil, err = getTime(out.Item, attrBlocked); err == nil {
				rev, err = getInt(out.Item, attrRev)
			}
		}
	}
	if err != nil {
		return ratelimit.Bucket{}, 0, errs.E(errs.Other, op, fmt.Errorf("bucket %q: %w", key, err))
	}
	return bk, rev, nil
}

// write stores bk as revision rev+1 if the item is still at revision rev.
func (b *Budget) write(ctx context.Context, key string, bk ratelimit.Bucket, rev int64) error {
	item := keyOf(prefixRate+key, skRate)
	item[attrTokens] = nf(bk.Tokens)
	item[attrUpdatedAt] = s(fmtTime(bk.Updated))
	if !bk.BlockedUntil.IsZero() {
		item[attrBlocked] = s(fmtTime(bk.BlockedUntil))
	}
	item[attrRev] = n(rev + 1)
	item[TTLAttribute] = n(ceilUnix(bk.Updated.Add(bucketTTL)))
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if rev > 0 {
		cond = expression.Name(attrRev).Equal(expression.Value(rev))
	}
	ex, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = b.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(b.Table),
		Item:                      item,
		ConditionExpression:       ex.Condition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
	})
	return err
}
