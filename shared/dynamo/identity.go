package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

var _ ledger.Identities = (*Ledger)(nil)

// Identity item (see also doc.go), pk=IDENT#<key> sk=IDENT:
//
//	members  S  the identity's []dedupe.Member as JSON, in the order they joined
//	primary  S  dedupe.Identity.Primary; absent while there is no member
//	announced S dedupe.Identity.Announced; absent until a primary is announced
//	rev      N  dedupe.Identity.Version: 1 when created, +1 on every write;
//	            every write is conditioned on the rev it read
const (
	prefixIdentity = "IDENT#"
	skIdentity     = "IDENT"
	attrMembers    = "members"
	attrPrimary    = "primary"
	attrAnnounced  = "announced"
)

// identityAttempts bounds the writes of one UpdateIdentity. A write only
// loses to another call's write that succeeded after its read, so a call
// runs out of attempts only when that many other writes of the same
// identity succeed while it runs.
const identityAttempts = 20

// Identity implements ledger.Identities with a strongly consistent read.
// An unknown key is errs.NotFound; an empty one errs.Invalid.
func (l *Ledger) Identity(ctx context.Context, key string) (dedupe.Identity, error) {
	const op = "dynamo.Identity"
	if key == "" {
		return dedupe.Identity{}, errs.Ef(errs.Invalid, op, "empty identity key")
	}
	x, err := l.readIdentity(ctx, op, key)
	if err != nil {
		return dedupe.Identity{}, err
	}
	if x.Version == 0 {
		return dedupe.Identity{}, errs.Ef(errs.NotFound, op, "identity %q is not in the ledger", key)
	}
	return x, nil
}

// UpdateIdentity implements ledger.Identities. It reads the identity
// (strongly consistent; a new one has Key set, no member and Version 0),
// applies fn to a copy and, when fn reports a change, puts the item
// conditioned on the version read (on its absence for Version 0) with
// Version one more. A lost race reads again and applies fn again, up to
// identityAttempts writes; after that the error is errs.Transient. before
// is the identity as read by the attempt that returned; when fn reports
// no change, nothing is written and after is before. fn cannot change the
// key or the version: both are set by UpdateIdentity. An empty key or a
// nil fn is errs.Invalid.
func (l *Ledger) UpdateIdentity(ctx context.Context, key string, fn func(*dedupe.Identity) bool) (before, after dedupe.Identity, err error) {
	const op = "dynamo.UpdateIdentity"
	if key == "" || fn == nil {
		return dedupe.Identity{}, dedupe.Identity{}, errs.Ef(errs.Invalid, op, "identity %q: empty key or nil fn", key)
	}
	for attempt := 1; ; attempt++ {
		cur, err := l.readIdentity(ctx, op, key)
		if err != nil {
			return dedupe.Identity{}, dedupe.Identity{}, err
		}
		next := cloneIdentity(cur)
		if !fn(&next) {
			return cur, cloneIdentity(cur), nil
		}
		next.Key, next.Version = key, cur.Version+1
		item, err := identityItem(next)
		if err != nil {
			return dedupe.Identity{}, dedupe.Identity{}, errs.E(errs.Invalid, op, fmt.Errorf("identity %q: %w", key, err))
		}
		cond := expression.AttributeNotExists(expression.Name(attrPK))
		if cur.Version > 0 {
			cond = expression.Name(attrRev).Equal(expression.Value(cur.Version))
		}
		ex, err := expression.NewBuilder().WithCondition(cond).Build()
		if err != nil {
			return dedupe.Identity{}, dedupe.Identity{}, errs.E(errs.Invalid, op, err)
		}
		_, err = l.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(l.Table),
			Item:                      item,
			ConditionExpression:       ex.Condition(),
			ExpressionAttributeNames:  ex.Names(),
			ExpressionAttributeValues: ex.Values(),
		})
		if err == nil {
			return cur, next, nil
		}
		if !raced(err) {
			return dedupe.Identity{}, dedupe.Identity{}, classify(op, fmt.Errorf("identity %q: %w", key, err))
		}
		if attempt == identityAttempts {
			return dedupe.Identity{}, dedupe.Identity{}, errs.Ef(errs.Transient, op, "identity %q: still racing after %d attempts", key, attempt)
		}
		if err := pause(ctx, attempt); err != nil {
			return dedupe.Identity{}, dedupe.Identity{}, errs.E(errs.Transient, op, err)
		}
	}
}

// readIdentity reads the identity of key (strongly consistent); an absent
// item is an identity with Key set, no member and Version 0.
func (l *Ledger) readIdentity(ctx context.Context, op, key string) (dedupe.Identity, error) {
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.Table),
		Key:            keyOf(prefixIdentity+key, skIdentity),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return dedupe.Identity{}, classify(op, fmt.Errorf("read identity %q: %w", key, err))
	}
	if out.Item == nil {
		return dedupe.Identity{Key: key}, nil
	}
	x, err := decodeIdentity(key, out.Item)
	if err != nil {
		return dedupe.Identity{}, errs.E(errs.Other, op, err)
	}
	return x, nil
}

func identityItem(x dedupe.Identity) (map[string]types.AttributeValue, error) {
	members := x.Members
	if members == nil {
		members = []dedupe.Member{}
	}
	raw, err := json.Marshal(members)
	if err != nil {
		return nil, fmt.Errorf("encode members: %w", err)
	}
	item := keyOf(prefixIdentity+x.Key, skIdentity)
	item[attrMembers] = s(string(raw))
	if x.Primary != "" {
		item[attrPrimary] = s(string(x.Primary))
	}
	if x.Announced != "" {
		item[attrAnnounced] = s(string(x.Announced))
	}
	item[attrRev] = n(x.Version)
	return item, nil
}

func decodeIdentity(key string, item map[string]types.AttributeValue) (dedupe.Identity, error) {
	x := dedupe.Identity{Key: key, Primary: order.ID(getS(item, attrPrimary)), Announced: order.ID(getS(item, attrAnnounced))}
	var err error
	if x.Version, err = getInt(item, attrRev); err != nil {
		return dedupe.Identity{}, fmt.Errorf("identity item %q: %w", key, err)
	}
	if x.Version < 1 {
		return dedupe.Identity{}, fmt.Errorf("identity item %q: no version", key)
	}
	if raw := getS(item, attrMembers); raw != "" {
		if err := json.Unmarshal([]byte(raw), &x.Members); err != nil {
			return dedupe.Identity{}, fmt.Errorf("identity item %q: members: %w", key, err)
		}
	}
	if len(x.Members) == 0 {
		x.Members = nil
	}
	return x, nil
}

// cloneIdentity copies x so that fn's changes do not reach the identity
// as read.
func cloneIdentity(x dedupe.Identity) dedupe.Identity {
	x.Members = slices.Clone(x.Members)
	return x
}
