package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Ledger is the order ledger (ledger.Store), the delivery claims
// (ledger.Claims) and the pull watermarks (ledger.Watermarks) on one
// DynamoDB table laid out as the package documentation describes.
type Ledger struct {
	// Client is the DynamoDB client; see NewClient.
	Client *dynamodb.Client
	// Table is the table name.
	Table string
	// Now is the clock of the reads that take no time from their caller
	// (Get decides with it whether buyer data has expired); nil is
	// time.Now.
	Now func() time.Time
}

var (
	_ ledger.Store      = (*Ledger)(nil)
	_ ledger.Claims     = (*Ledger)(nil)
	_ ledger.Watermarks = (*Ledger)(nil)
	_ ledger.Redactions = (*Ledger)(nil)
)

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// New returns the ledger on table.
func New(client *dynamodb.Client, table string) *Ledger {
	return &Ledger{Client: client, Table: table}
}

const (
	// maxAttempts bounds the read-decide-write loops that lost a race.
	maxAttempts = 16
	// defaultLimit and maxLimit bound a listing page.
	defaultLimit = 100
	maxLimit     = 1000
	// maxMessage bounds a history message.
	maxMessage = 500
	// maxDays bounds the day partitions one UpdatedBetween walks.
	maxDays = 400
)

// read returns the order item and the buyer data item of id with one
// strongly consistent Query (sk between "ORDER" and "PII" selects exactly
// those two items). cur is nil when the order is not in the ledger. The
// buyer data is as stored: callers hand out only its view.
func (l *Ledger) read(ctx context.Context, op string, id order.ID) (*stored, pii, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(orderPK(id))).
		And(expression.Key(attrSK).Between(expression.Value(skOrder), expression.Value(skPII)))
	ex, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, pii{}, errs.E(errs.Invalid, op, err)
	}
	out, err := l.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(l.Table),
		KeyConditionExpression:    ex.KeyCondition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, pii{}, classify(op, fmt.Errorf("read order %s: %w", id, err))
	}
	var cur *stored
	var personal pii
	for _, item := range out.Items {
		switch getS(item, attrSK) {
		case skOrder:
			st, err := decodeOrderItem(item)
			if err != nil {
				return nil, pii{}, errs.E(errs.Other, op, err)
			}
			cur = &st
		case skPII:
			if personal, err = decodePII(item); err != nil {
				return nil, pii{}, errs.E(errs.Other, op, err)
			}
		}
	}
	return cur, personal, nil
}

// getOrder reads the order item alone (strongly consistent).
func (l *Ledger) getOrder(ctx context.Context, op string, id order.ID) (*stored, error) {
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.Table),
		Key:            keyOf(orderPK(id), skOrder),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(op, fmt.Errorf("read order %s: %w", id, err))
	}
	if out.Item == nil {
		return nil, nil
	}
	st, err := decodeOrderItem(out.Item)
	if err != nil {
		return nil, errs.E(errs.Other, op, err)
	}
	return &st, nil
}

// Upsert implements ledger.Store. It reads the stored version, decides, and
// writes in one transaction the order item (conditioned on the revision it
// read and on the stored ModifiedAt being older), the buyer data item (when
// o.Personal is not nil) and a history event. A lost race re-reads and
// decides again, at most maxAttempts times. A replay of the stored version is
// Unchanged and an older version Stale; neither writes anything.
//
// The buyer data item keeps the time to live SetRedactionDue gave it. Once
// the order is redacted, its buyer data is never written again: a later
// version's o.Personal is dropped and the record returned holds the
// redacted text. The returned record's Personal is what Get would show at
// now.
func (l *Ledger) Upsert(ctx context.Context, o order.Order, state ledger.State, firstSeen, now time.Time) (ledger.Result, ledger.Record, error) {
	const op = "dynamo.Upsert"
	if err := o.Validate(); err != nil {
		return 0, ledger.Record{}, errs.E(errs.Invalid, op, fmt.Errorf("order %s: %w", o.ID, err))
	}
	if state == "" {
		return 0, ledger.Record{}, errs.Ef(errs.Invalid, op, "order %s: empty state", o.ID)
	}
	if firstSeen.IsZero() {
		firstSeen = now
	}
	now, firstSeen = now.UTC(), firstSeen.UTC()
	personal := o.Personal
	o.Personal = nil
	orderAV, err := encoder.Encode(o)
	if err != nil {
		return 0, ledger.Record{}, errs.E(errs.Invalid, op, fmt.Errorf("order %s: encode: %w", o.ID, err))
	}
	var personalJSON string
	if personal != nil {
		raw, err := json.Marshal(personal)
		if err != nil {
			return 0, ledger.Record{}, errs.E(errs.Invalid, op, fmt.Errorf("order %s: encode personal: %w", o.ID, err))
		}
		personalJSON = string(raw)
	}
	version := fmtTime(o.ModifiedAt)

	for attempt := 0; ; attempt++ {
		cur, curPII, err := l.read(ctx, op, o.ID)
		if err != nil {
			return 0, ledger.Record{}, err
		}
		if cur != nil {
			switch stored := fmtTime(cur.rec.Order.ModifiedAt); {
			case stored == version && sameContent(cur.rec.Order, o):
				rec := cur.rec
				rec.Order.Personal = curPII.view(now, cur.redacted())
				return ledger.Unchanged, rec, nil
			case stored > version:
				rec := cur.rec
				rec.Order.Personal = curPII.view(now, cur.redacted())
				return ledger.Stale, rec, nil
			}
		}
		if attempt == maxAttempts {
			return 0, ledger.Record{}, errs.Ef(errs.Conflict, op, "order %s: still racing after %d attempts", o.ID, attempt)
		}

		rec := ledger.Record{Order: o, State: state, UpdatedAt: now, ImportedAt: now, FirstSeenAt: firstSeen}
		result, kind := ledger.Created, order.EventImported
		cond := expression.AttributeNotExists(expression.Name(attrPK))
		var rev int64 = 1
		if cur != nil {
			result, kind = ledger.Updated, order.EventUpdated
			rec.ImportedAt, rec.FirstSeenAt = cur.rec.ImportedAt, cur.rec.FirstSeenAt
			rec.Pushes, rec.LastError = cur.rec.Pushes, cur.rec.LastError
			rec.RedactionDue, rec.RedactedAt = cur.rec.RedactionDue, cur.rec.RedactedAt
			rev = cur.rev + 1
			// The same version with other content is a change made within
			// the channel's timestamp resolution (Amazon's lastUpdatedTime
			// has whole seconds): the later read is the current state.
			cond = revIs(cur.rev).And(expression.Name(attrModifiedAt).LessThanEqual(expression.Value(version)))
		}
		// The buyer data item written, if any: never over redacted data,
		// and with the time to live of the redaction schedule.
		var personalItem map[string]types.AttributeValue
		newPII := curPII
		if personal != nil && !cur.redacted() {
			personalItem = keyOf(orderPK(o.ID), skPII)
			personalItem[attrPersonal] = s(personalJSON)
			newPII = pii{present: true, data: personal}
			if cur != nil && cur.piiTTL > 0 {
				personalItem[TTLAttribute] = n(cur.piiTTL)
				newPII.ttl = cur.piiTTL
			}
		}
		rec.Order.Personal = newPII.view(now, cur.redacted())
		upd := listingKeys(o.ID, o.StoreID, state, now).
			Set(expression.Name(attrOrder), expression.Value(orderAV)).
			Set(expression.Name(attrState), expression.Value(string(state))).
			Set(expression.Name(attrModifiedAt), expression.Value(version)).
			Set(expression.Name(attrUpdatedAt), expression.Value(fmtTime(now))).
			Set(expression.Name(attrImportedAt), expression.Value(fmtTime(rec.ImportedAt))).
			Set(expression.Name(attrFirstSeenAt), expression.Value(fmtTime(rec.FirstSeenAt))).
			Set(expression.Name(attrRev), expression.Value(rev))
		orderUpdate, err := l.update(orderPK(o.ID), skOrder, upd, cond)
		if err != nil {
			return 0, ledger.Record{}, errs.E(errs.Invalid, op, err)
		}
		items := []types.TransactWriteItem{{Update: orderUpdate}}
		if personalItem != nil {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(l.Table), Item: personalItem}})
		}
		ev := order.Event{At: now, Kind: kind, Message: clip(fmt.Sprintf("status %s, state %s, version %s", o.Status, state, version))}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(o.ID, ev)}})

		err = l.transact(ctx, items)
		if err == nil {
			return result, rec, nil
		}
		if !raced(err) {
			return 0, ledger.Record{}, classify(op, fmt.Errorf("order %s: %w", o.ID, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return 0, ledger.Record{}, errs.E(errs.Transient, op, err)
		}
	}
}

// Get implements ledger.Store. Buyer data that has passed its time to live
// at l's clock (Now), or of an order marked redacted, is returned redacted
// (redaction.Redact of what the item holds); no item at all is nil.
func (l *Ledger) Get(ctx context.Context, id order.ID) (ledger.Record, error) {
	const op = "dynamo.Get"
	cur, personal, err := l.read(ctx, op, id)
	if err != nil {
		return ledger.Record{}, err
	}
	if cur == nil {
		return ledger.Record{}, errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
	}
	rec := cur.rec
	rec.Order.Personal = personal.view(l.now(), cur.redacted())
	return rec, nil
}

// MarkPushed implements ledger.Store. It reads the order, merges p into its
// pushes unless the stored push of p.Group is of a newer version (or is the
// same push: a replay writes nothing), sets StatePushed when every ship
// group is pushed at the current version (ledger.Record.PushedVersion), and
// writes the order item (conditioned on the revision read) and a history
// event in one transaction.
func (l *Ledger) MarkPushed(ctx context.Context, id order.ID, p ledger.Push, now time.Time) error {
	const op = "dynamo.MarkPushed"
	if p.Version.IsZero() {
		return errs.Ef(errs.Invalid, op, "order %s: push of group %q has no version", id, p.Group)
	}
	now = now.UTC()
	if p.At.IsZero() {
		p.At = now
	}
	p.Version, p.At = p.Version.UTC(), p.At.UTC()
	for attempt := 0; ; attempt++ {
		cur, err := l.getOrder(ctx, op, id)
		if err != nil {
			return err
		}
		if cur == nil {
			return errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
		}
		if old, ok := cur.rec.Pushes[p.Group]; ok && (old.Version.After(p.Version) || samePush(old, p)) {
			return nil
		}
		if attempt == maxAttempts {
			return errs.Ef(errs.Conflict, op, "order %s: still racing after %d attempts", id, attempt)
		}
		rec := cur.rec
		rec.Pushes = make(map[string]ledger.Push, len(cur.rec.Pushes)+1)
		for g, old := range cur.rec.Pushes {
			rec.Pushes[g] = old
		}
		rec.Pushes[p.Group] = p
		if rec.PushedVersion() {
			rec.State = ledger.StatePushed
		}
		// The whole list is written: the condition on the revision read makes
		// that safe, and it works whether or not the list exists yet.
		pushes, err := encoder.Encode(pushList(rec.Pushes))
		if err != nil {
			return errs.E(errs.Invalid, op, err)
		}
		upd := listingKeys(id, rec.Order.StoreID, rec.State, now).
			Set(expression.Name(attrPushes), expression.Value(pushes)).
			Set(expression.Name(attrState), expression.Value(string(rec.State))).
			Set(expression.Name(attrUpdatedAt), expression.Value(fmtTime(now))).
			Set(expression.Name(attrRev), expression.Value(cur.rev+1))
		orderUpdate, err := l.update(orderPK(id), skOrder, upd, revIs(cur.rev))
		if err != nil {
			return errs.E(errs.Invalid, op, err)
		}
		ev := order.Event{At: now, Kind: order.EventPushed, Message: clip(fmt.Sprintf(
			"group %q pushed as ShipStation order %d (account %s, orderKey %s, version %s, status %s)",
			p.Group, p.ShipStationOrderID, p.Account, p.OrderKey, fmtTime(p.Version), p.Status))}
		items := []types.TransactWriteItem{
			{Update: orderUpdate},
			{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(id, ev)}},
		}
		if p.OrderKey != "" && p.Account != "" {
			// Labels name their order by orderKey: remember where it leads.
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(l.Table), Item: orderKeyItem(p.Account, p.OrderKey, id, p.Group),
			}})
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

func samePush(a, b ledger.Push) bool {
	return a.Version.Equal(b.Version) && a.Status == b.Status && a.OrderKey == b.OrderKey &&
		a.ShipStationOrderID == b.ShipStationOrderID && a.Account == b.Account
}

// SetState implements ledger.Store. The store id comes from the order id, so
// no read is needed; the order must exist (else errs.NotFound). ev.At
// defaults to now.
func (l *Ledger) SetState(ctx context.Context, id order.ID, st ledger.State, ev order.Event, now time.Time) error {
	const op = "dynamo.SetState"
	_, storeID, _, err := id.Parse()
	if err != nil {
		return errs.E(errs.Invalid, op, err)
	}
	if st == "" || ev.Kind == "" {
		return errs.Ef(errs.Invalid, op, "order %s: empty state or event kind", id)
	}
	now = now.UTC()
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.Message = clip(ev.Message)
	upd := listingKeys(id, storeID, st, now).
		Set(expression.Name(attrState), expression.Value(string(st))).
		Set(expression.Name(attrUpdatedAt), expression.Value(fmtTime(now))).
		Add(expression.Name(attrRev), expression.Value(1))
	orderUpdate, err := l.update(orderPK(id), skOrder, upd, expression.AttributeExists(expression.Name(attrPK)))
	if err != nil {
		return errs.E(errs.Invalid, op, err)
	}
	err = l.transact(ctx, []types.TransactWriteItem{
		{Update: orderUpdate},
		{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(id, ev)}},
	})
	if failedAt(err, 0) {
		return errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
	}
	if err != nil {
		return classify(op, fmt.Errorf("order %s: %w", id, err))
	}
	return nil
}

// RecordException implements ledger.Store. An empty e.ID gets a random one
// and a zero e.At the current time. Recording the same ID again is a no-op.
// When e.OrderID names an order that is not in the ledger, the exception is
// stored on its own (nothing is dropped).
func (l *Ledger) RecordException(ctx context.Context, e ledger.Exception) error {
	const op = "dynamo.RecordException"
	if e.ID == "" {
		e.ID = randomID()
	}
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.At = e.At.UTC()
	item, err := exceptionItem(e)
	if err != nil {
		return errs.E(errs.Invalid, op, err)
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(l.Table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	}}
	items := []types.TransactWriteItem{put}
	if e.OrderID != "" {
		if _, storeID, _, perr := e.OrderID.Parse(); perr == nil {
			upd := listingKeys(e.OrderID, storeID, ledger.StateException, e.At).
				Set(expression.Name(attrState), expression.Value(string(ledger.StateException))).
				Set(expression.Name(attrLastError), expression.Value(clip(e.Message))).
				Set(expression.Name(attrUpdatedAt), expression.Value(fmtTime(e.At))).
				Add(expression.Name(attrRev), expression.Value(1))
			orderUpdate, err := l.update(orderPK(e.OrderID), skOrder, upd, expression.AttributeExists(expression.Name(attrPK)))
			if err != nil {
				return errs.E(errs.Invalid, op, err)
			}
			ev := order.Event{At: e.At, Kind: order.EventException, Message: clip(fmt.Sprintf("%s: %s: %s", e.Op, e.Kind, e.Message))}
			items = append(items,
				types.TransactWriteItem{Update: orderUpdate},
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(e.OrderID, ev)}})
		}
	}
	err = l.transact(ctx, items)
	switch {
	case err == nil:
		return nil
	case failedAt(err, 0):
		return nil // already recorded
	case len(items) > 1 && failedAt(err, 1):
		// The order is not in the ledger: keep the exception on its own.
		err = l.transact(ctx, items[:1])
		if err == nil || failedAt(err, 0) {
			return nil
		}
	}
	return classify(op, fmt.Errorf("exception %s: %w", e.ID, err))
}

// Exceptions implements ledger.Store (newest first).
func (l *Ledger) Exceptions(ctx context.Context, limit int, from ledger.Page) ([]ledger.Exception, ledger.Page, error) {
	const op = "dynamo.Exceptions"
	kc := expression.Key(attrGSI2PK).Equal(expression.Value(gsi2Exceptions))
	items, next, err := l.queryPage(ctx, op, GSI2, kc, false, limit, from, attrGSI2PK, attrGSI2SK)
	if err != nil {
		return nil, "", err
	}
	out := make([]ledger.Exception, 0, len(items))
	for _, item := range items {
		e, err := decodeException(item)
		if err != nil {
			return nil, "", errs.E(errs.Other, op, err)
		}
		out = append(out, e)
	}
	return out, next, nil
}

// AppendEvent implements ledger.Store. The order must exist (else
// errs.NotFound); a zero ev.At is the current time.
func (l *Ledger) AppendEvent(ctx context.Context, id order.ID, ev order.Event) error {
	const op = "dynamo.AppendEvent"
	if ev.Kind == "" {
		return errs.Ef(errs.Invalid, op, "order %s: empty event kind", id)
	}
	if ev.At.IsZero() {
		ev.At = l.now()
	}
	ev.Message = clip(ev.Message)
	err := l.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                aws.String(l.Table),
			Key:                      keyOf(orderPK(id), skOrder),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		}},
		{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(id, ev)}},
	})
	if failedAt(err, 0) {
		return errs.Ef(errs.NotFound, op, "order %s is not in the ledger", id)
	}
	return classify(op, err)
}

// History implements ledger.Store (oldest first).
func (l *Ledger) History(ctx context.Context, id order.ID) ([]order.Event, error) {
	const op = "dynamo.History"
	kc := expression.Key(attrPK).Equal(expression.Value(orderPK(id))).
		And(expression.Key(attrSK).BeginsWith(prefixHistory))
	ex, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	p := dynamodb.NewQueryPaginator(l.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(l.Table),
		KeyConditionExpression:    ex.KeyCondition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	var out []order.Event
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(op, fmt.Errorf("order %s: %w", id, err))
		}
		for _, item := range page.Items {
			ev, err := decodeEvent(item)
			if err != nil {
				return nil, errs.E(errs.Other, op, err)
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// ByState implements ledger.Store: a store's orders in state s, most recently
// updated first. Records in listings carry no Personal data; use Get.
func (l *Ledger) ByState(ctx context.Context, storeID string, st ledger.State, limit int, from ledger.Page) ([]ledger.Record, ledger.Page, error) {
	const op = "dynamo.ByState"
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(gsi1PK(storeID, st)))
	items, next, err := l.queryPage(ctx, op, GSI1, kc, false, limit, from, attrGSI1PK, attrGSI1SK)
	if err != nil {
		return nil, "", err
	}
	recs, err := decodeRecords(op, items)
	return recs, next, err
}

// UpdatedBetween implements ledger.Store: orders whose UpdatedAt is in
// [from, to), oldest first. It walks gsi2's day partitions from from's day
// (UTC) to to's, one Query per day at least, so a range of many quiet days
// costs a Query each; a range over maxDays (400) days is errs.Invalid.
// Records carry no Personal data; use Get.
func (l *Ledger) UpdatedBetween(ctx context.Context, from, to time.Time, limit int, page ledger.Page) ([]ledger.Record, ledger.Page, error) {
	const op = "dynamo.UpdatedBetween"
	limit = clampLimit(limit)
	if !from.Before(to) {
		return nil, "", nil
	}
	start, err := decodePage(op, page, pageKeys(attrGSI2PK, attrGSI2SK)...)
	if err != nil {
		return nil, "", err
	}
	lo, hi := fmtTime(from), fmtTime(to.Add(-time.Nanosecond))+"$" // '$' sorts after '#'
	firstDay := from.UTC().Truncate(24 * time.Hour)
	lastDay := to.Add(-time.Nanosecond).UTC().Truncate(24 * time.Hour)
	if lastDay.Sub(firstDay) > maxDays*24*time.Hour {
		return nil, "", errs.Ef(errs.Invalid, op, "range [%s, %s) spans more than %d days; page through shorter windows", lo, fmtTime(to), maxDays)
	}
	day := firstDay
	if start != nil {
		pk := getS(start, attrGSI2PK)
		d, err := time.Parse(dayLayout, pk[min(len(pk), len(prefixUpdated)):])
		if err != nil || pk != dayPK(d) || d.Before(firstDay) || d.After(lastDay) {
			return nil, "", errs.Ef(errs.Invalid, op, "bad page cursor: day %q outside [%s, %s)", pk, lo, fmtTime(to))
		}
		day = d
	}
	var items []map[string]types.AttributeValue
	for ; !day.After(lastDay) && len(items) <= limit; day = day.Add(24 * time.Hour) {
		kc := expression.Key(attrGSI2PK).Equal(expression.Value(dayPK(day))).
			And(expression.Key(attrGSI2SK).Between(expression.Value(lo), expression.Value(hi)))
		got, err := l.queryUpTo(ctx, op, GSI2, kc, true, limit+1-len(items), start)
		if err != nil {
			return nil, "", err
		}
		items = append(items, got...)
		start = nil
	}
	items, next, err := cut(items, limit, attrGSI2PK, attrGSI2SK)
	if err != nil {
		return nil, "", errs.E(errs.Other, op, err)
	}
	recs, err := decodeRecords(op, items)
	return recs, next, err
}

func decodeRecords(op string, items []map[string]types.AttributeValue) ([]ledger.Record, error) {
	out := make([]ledger.Record, 0, len(items))
	for _, item := range items {
		st, err := decodeOrderItem(item)
		if err != nil {
			return nil, errs.E(errs.Other, op, err)
		}
		out = append(out, st.rec)
	}
	return out, nil
}

// pageKeys lists the attributes of an index's cursor: the table key and the
// index key.
func pageKeys(indexKeys ...string) []string {
	return append([]string{attrPK, attrSK}, indexKeys...)
}

func clampLimit(limit int) int {
	if limit <= 0 {
		return defaultLimit
	}
	return min(limit, maxLimit)
}

// queryPage returns up to limit items of one index partition from the
// cursor on, and a cursor to the next page, empty when there is none (it
// reads one item ahead to know).
func (l *Ledger) queryPage(ctx context.Context, op, index string, kc expression.KeyConditionBuilder, forward bool, limit int, from ledger.Page, indexKeys ...string) ([]map[string]types.AttributeValue, ledger.Page, error) {
	limit = clampLimit(limit)
	start, err := decodePage(op, from, pageKeys(indexKeys...)...)
	if err != nil {
		return nil, "", err
	}
	items, err := l.queryUpTo(ctx, op, index, kc, forward, limit+1, start)
	if err != nil {
		return nil, "", err
	}
	items, next, err := cut(items, limit, indexKeys...)
	if err != nil {
		return nil, "", errs.E(errs.Other, op, err)
	}
	return items, next, nil
}

// cut keeps limit items and makes the cursor of the last one kept when
// there were more.
func cut(items []map[string]types.AttributeValue, limit int, indexKeys ...string) ([]map[string]types.AttributeValue, ledger.Page, error) {
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	next, err := encodePage(items[limit-1], pageKeys(indexKeys...)...)
	return items, next, err
}

// queryUpTo queries an index until it has n items or the partition ends.
func (l *Ledger) queryUpTo(ctx context.Context, op, index string, kc expression.KeyConditionBuilder, forward bool, n int, start map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	ex, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	var items []map[string]types.AttributeValue
	for len(items) < n {
		out, err := l.Client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(l.Table),
			IndexName:                 aws.String(index),
			KeyConditionExpression:    ex.KeyCondition(),
			ExpressionAttributeNames:  ex.Names(),
			ExpressionAttributeValues: ex.Values(),
			ScanIndexForward:          aws.Bool(forward),
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(n - len(items))),
		})
		if err != nil {
			return nil, classify(op, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	return items, nil
}

// listingKeys sets the gsi1 (store, state) and gsi2 (update day) keys of an
// order item.
func listingKeys(id order.ID, storeID string, st ledger.State, updated time.Time) expression.UpdateBuilder {
	return expression.Set(expression.Name(attrGSI1PK), expression.Value(gsi1PK(storeID, st))).
		Set(expression.Name(attrGSI1SK), expression.Value(timeID(updated, string(id)))).
		Set(expression.Name(attrGSI2PK), expression.Value(dayPK(updated))).
		Set(expression.Name(attrGSI2SK), expression.Value(timeID(updated, string(id))))
}

// revIs is the condition "the item is still at revision rev".
func revIs(rev int64) expression.ConditionBuilder {
	if rev == 0 {
		return expression.AttributeExists(expression.Name(attrPK)).
			And(expression.AttributeNotExists(expression.Name(attrRev)))
	}
	return expression.Name(attrRev).Equal(expression.Value(rev))
}

func (l *Ledger) update(pk, sk string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (*types.Update, error) {
	ex, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{
		TableName:                 aws.String(l.Table),
		Key:                       keyOf(pk, sk),
		UpdateExpression:          ex.Update(),
		ConditionExpression:       ex.Condition(),
		ExpressionAttributeNames:  ex.Names(),
		ExpressionAttributeValues: ex.Values(),
	}, nil
}

// transact runs one transaction. Its client request token makes an SDK
// retry of a transaction that did commit a no-op instead of a failure.
func (l *Ledger) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := l.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      items,
		ClientRequestToken: aws.String(randomID()),
	})
	return err
}

// failedAt reports whether err is a cancelled transaction whose item i
// failed its condition.
func failedAt(err error, i int) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || i >= len(tce.CancellationReasons) {
		return false
	}
	return aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

// pause waits a little, more after each lost race, with full jitter.
func pause(ctx context.Context, attempt int) error {
	ceiling := min(time.Millisecond<<min(attempt, 6), 50*time.Millisecond)
	t := time.NewTimer(mrand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// clip bounds a history or error message.
func clip(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && msg[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return msg[:cut] + "…"
}

// sameContent reports whether two versions of an order (buyer data apart)
// are identical.
func sameContent(a, b order.Order) bool {
	a.Personal, b.Personal = nil, nil
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
