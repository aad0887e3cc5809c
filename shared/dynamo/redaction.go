package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// redactShards is the number of gsi3 partitions the due orders are spread
// over (by a hash of the order id), so that no one index partition takes
// every write. DueForRedaction reads them one after the other. Changing it
// strands the entries of the shards that go away: only ever add shards
// together with a re-index.
const redactShards = 4

func redactShard(id order.ID) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % redactShards)
}

func redactPK(shard int) string { return prefixRedact + strconv.Itoa(shard) }

// ttlOf is t in epoch seconds, rounded up: an item never expires before t.
func ttlOf(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

// SetRedactionDue implements ledger.Redactions. It reads the order and its
// buyer data item and writes in one transaction, conditioned on the
// revision read: the order item's redactDue, piiTTL (the time to live, in
// epoch seconds rounded up, of due+grace) and gsi3 keys, and the buyer data
// item's ttl when the item exists (no item is created: an FBA order has
// none). It bumps the revision, so that an Upsert that read before it
// re-reads and writes its buyer data with the time to live. Nothing is
// written when everything is already so, or when the order is redacted.
func (l *Ledger) SetRedactionDue(ctx context.Context, id order.ID, due time.Time, grace time.Duration) error {
	const op = "dynamo.SetRedactionDue"
	if due.IsZero() || grace < 0 {
		return errs.Ef(errs.Invalid, op, "order %s: due %s, grace %s", id, fmtTime(due), grace)
	}
	due = due.UTC()
	ttl := ttlOf(due.Add(grace))
	for attempt := 0; ; attempt++ {
		cur, p, err := l.read(ctx, op, id)
		if err != nil {
			return err
		}
		if cur == nil {
			return errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
		}
		if cur.redacted() {
			return nil
		}
		if cur.rec.RedactionDue.Equal(due) && cur.piiTTL == ttl && (!p.present || p.ttl == ttl) {
			return nil
		}
		if attempt == maxAttempts {
			return errs.Ef(errs.Conflict, op, "order %s: still racing after %d attempts", id, attempt)
		}
		upd := expression.Set(expression.Name(attrRedactDue), expression.Value(fmtTime(due))).
			Set(expression.Name(attrPIITTL), expression.Value(ttl)).
			Set(expression.Name(attrGSI3PK), expression.Value(redactPK(redactShard(id)))).
			Set(expression.Name(attrGSI3SK), expression.Value(timeID(due, string(id)))).
			Set(expression.Name(attrRev), expression.Value(cur.rev+1))
		orderUpdate, err := l.update(orderPK(id), skOrder, upd, revIs(cur.rev))
		if err != nil {
			return errs.E(errs.Invalid, op, err)
		}
		items := []types.TransactWriteItem{{Update: orderUpdate}}
		if p.present {
			piiUpdate, err := l.update(orderPK(id), skPII,
				expression.Set(expression.Name(TTLAttribute), expression.Value(ttl)),
				expression.AttributeExists(expression.Name(attrPK)))
			if err != nil {
				return errs.E(errs.Invalid, op, err)
			}
			items = append(items, types.TransactWriteItem{Update: piiUpdate})
		}
		err = l.transact(ctx, items)
		if err == nil {
			return nil
		}
		if !raced(err) {
			return classify(op, fmt.Errorf("order %s: %w", id, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return errs.E(errs.Transient, op, err)
		}
	}
}

// DueForRedaction implements ledger.Redactions. It reads gsi3's shards one
// after the other, each in due order, for entries due at or before before;
// the page cursor names the shard and the entry it stopped at. The index is
// eventually consistent in AWS: an order redacted a moment ago may still be
// listed (Redact then returns false).
func (l *Ledger) DueForRedaction(ctx context.Context, before time.Time, limit int, page ledger.Page) ([]ledger.DueRedaction, ledger.Page, error) {
	const op = "dynamo.DueForRedaction"
	limit = clampLimit(limit)
	start, err := decodePage(op, page, pageKeys(attrGSI3PK, attrGSI3SK)...)
	if err != nil {
		return nil, "", err
	}
	shard := 0
	if start != nil {
		pk := getS(start, attrGSI3PK)
		n, err := strconv.Atoi(strings.TrimPrefix(pk, prefixRedact))
		if err != nil || n < 0 || n >= redactShards || pk != redactPK(n) {
			return nil, "", errs.Ef(errs.Invalid, op, "bad page cursor: shard %q", pk)
		}
		shard = n
	}
	hi := fmtTime(before) + "$" // '$' sorts after '#': every id due at before
	var items []map[string]types.AttributeValue
	for ; shard < redactShards && len(items) <= limit; shard++ {
		kc := expression.Key(attrGSI3PK).Equal(expression.Value(redactPK(shard))).
			And(expression.Key(attrGSI3SK).LessThanEqual(expression.Value(hi)))
		got, err := l.queryUpTo(ctx, op, GSI3, kc, true, limit+1-len(items), start)
		if err != nil {
			return nil, "", err
		}
		items = append(items, got...)
		start = nil
	}
	items, next, err := cut(items, limit, attrGSI3PK, attrGSI3SK)
	if err != nil {
		return nil, "", errs.E(errs.Other, op, err)
	}
	out := make([]ledger.DueRedaction, 0, len(items))
	for _, item := range items {
		at, id, ok := strings.Cut(getS(item, attrGSI3SK), "#")
		due, err := parseTime(at)
		if !ok || err != nil || id == "" || orderPK(order.ID(id)) != getS(item, attrPK) {
			return nil, "", errs.Ef(errs.Other, op, "gsi3 entry %q of %q is malformed", getS(item, attrGSI3SK), getS(item, attrPK))
		}
		out = append(out, ledger.DueRedaction{ID: order.ID(id), Due: due})
	}
	return out, next, nil
}

// Redact implements ledger.Redactions. It reads the order and its buyer
// data item (raw, expired or not) and writes in one transaction,
// conditioned on the revision read: the order item's redactedAt (its
// redactDue stays, for the record) without the gsi3 keys and piiTTL; the
// buyer data item replaced by redaction.Redact of it, without a time to
// live (it holds nothing personal any more); and an order.EventRedacted
// history event naming the due time and how late it came (PII-free). An
// order without a buyer data item is marked all the same.
func (l *Ledger) Redact(ctx context.Context, id order.ID, now time.Time) (bool, error) {
	const op = "dynamo.Redact"
	now = now.UTC()
	for attempt := 0; ; attempt++ {
		cur, p, err := l.read(ctx, op, id)
		if err != nil {
			return false, err
		}
		if cur == nil {
			return false, errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
		}
		if cur.redacted() {
			return false, nil
		}
		if attempt == maxAttempts {
			return false, errs.Ef(errs.Conflict, op, "order %s: still racing after %d attempts", id, attempt)
		}
		upd := expression.Set(expression.Name(attrRedactedAt), expression.Value(fmtTime(now))).
			Set(expression.Name(attrRev), expression.Value(cur.rev+1)).
			Remove(expression.Name(attrGSI3PK)).
			Remove(expression.Name(attrGSI3SK)).
			Remove(expression.Name(attrPIITTL))
		orderUpdate, err := l.update(orderPK(id), skOrder, upd, revIs(cur.rev))
		if err != nil {
			return false, errs.E(errs.Invalid, op, err)
		}
		items := []types.TransactWriteItem{{Update: orderUpdate}}
		what := "no buyer data held"
		switch {
		case p.data != nil:
			raw, err := json.Marshal(redaction.Redact(p.data))
			if err != nil {
				return false, errs.E(errs.Invalid, op, fmt.Errorf("order %s: encode redacted: %w", id, err))
			}
			item := keyOf(orderPK(id), skPII)
			item[attrPersonal] = s(string(raw))
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(l.Table), Item: item}})
			what = "buyer data redacted"
			if p.expired(now) {
				what += " (its time to live had passed)"
			}
		case p.present:
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(l.Table), Key: keyOf(orderPK(id), skPII)}})
		}
		msg := what + " on Amazon's schedule"
		if due := cur.rec.RedactionDue; !due.IsZero() {
			msg += fmt.Sprintf("; due %s, lateness %s", fmtTime(due), lateness(now.Sub(due)))
		}
		ev := order.Event{At: now, Kind: order.EventRedacted, Message: clip(msg)}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(id, ev)}})
		err = l.transact(ctx, items)
		if err == nil {
			return true, nil
		}
		if !raced(err) {
			return false, classify(op, fmt.Errorf("order %s: %w", id, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return false, errs.E(errs.Transient, op, err)
		}
	}
}

// lateness renders a redaction's delay after its due time, to the second
// ("-3s" when early, which only an explicit Redact before the due time
// makes).
func lateness(d time.Duration) string {
	if d > -time.Second && d < time.Second {
		return d.String()
	}
	return d.Truncate(time.Second).String()
}
