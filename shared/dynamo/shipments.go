package dynamo

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

var _ ledger.Shipments = (*Ledger)(nil)

// Item layout of the return path (see also doc.go):
//
//	SHIP#<account>:<shipmentId> / SHIP     the label (shipment.Shipment)
//	OKEY#<account>#<orderKey>   / OKEY     orderKey → order id and ship group (written with each push)
//	ORDER#<id>                  / N#<nid>  a notification, in its order's partition
const (
	prefixShip  = "SHIP#"
	skShip      = "SHIP"
	prefixOKey  = "OKEY#"
	skOKey      = "OKEY"
	prefixNote  = "N#"
	attrData    = "data"
	attrOrderID = "orderId"
	attrGroup   = "group"
	attrNState  = "nstate"
)

func orderKeyItem(account, orderKey string, id order.ID, group string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: s(prefixOKey + account + "#" + orderKey), attrSK: s(skOKey),
		attrOrderID: s(string(id)), attrGroup: s(group),
	}
}

// RecordShipment implements ledger.Shipments.
func (l *Ledger) RecordShipment(ctx context.Context, sh shipment.Shipment, now time.Time) (*shipment.Shipment, error) {
	const op = "dynamo.RecordShipment"
	if err := sh.Validate(); err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	key := keyOf(prefixShip+sh.Key(), skShip)
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, classify(op, err)
	}
	var prev *shipment.Shipment
	if out.Item != nil {
		var p shipment.Shipment
		if err := decoder.Decode(out.Item[attrData], &p); err != nil {
			return nil, errs.E(errs.Invalid, op, fmt.Errorf("label %s: %w", sh.Key(), err))
		}
		prev = &p
		if reflect.DeepEqual(normal(p), normal(sh)) {
			return prev, nil
		}
		if p.Voided && !sh.Voided {
			// A void is final in ShipStation; an older read must not undo it.
			return prev, nil
		}
	}
	data, err := encoder.Encode(sh)
	if err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	item := keyOf(prefixShip+sh.Key(), skShip)
	item[attrData] = data
	item[attrUpdatedAt] = s(fmtTime(now))
	if _, err := l.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.Table), Item: item}); err != nil {
		return nil, classify(op, err)
	}
	return prev, nil
}

// Label implements ledger.Shipments.
func (l *Ledger) Label(ctx context.Context, key string) (shipment.Shipment, error) {
	const op = "dynamo.Label"
	var sh shipment.Shipment
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.Table), Key: keyOf(prefixShip+key, skShip), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return sh, classify(op, err)
	}
	if out.Item == nil {
		return sh, errs.Ef(errs.NotFound, op, "label %s is not recorded", key)
	}
	if err := decoder.Decode(out.Item[attrData], &sh); err != nil {
		return sh, errs.E(errs.Invalid, op, fmt.Errorf("label %s: %w", key, err))
	}
	return sh, nil
}

// normal returns a label with its times in UTC, for comparison.
func normal(s shipment.Shipment) shipment.Shipment {
	s.ShipDate, s.CreatedAt, s.VoidedAt = s.ShipDate.UTC(), s.CreatedAt.UTC(), s.VoidedAt.UTC()
	if len(s.Lines) == 0 {
		s.Lines = nil
	}
	return s
}

// ResolveOrderKey implements ledger.Shipments.
func (l *Ledger) ResolveOrderKey(ctx context.Context, account, orderKey string) (order.ID, string, error) {
	const op = "dynamo.ResolveOrderKey"
	out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.Table), Key: keyOf(prefixOKey+account+"#"+orderKey, skOKey), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", "", classify(op, err)
	}
	if out.Item == nil {
		return "", "", errs.Ef(errs.NotFound, op, "orderKey %q was never pushed by account %s", orderKey, account)
	}
	return order.ID(getS(out.Item, attrOrderID)), getS(out.Item, attrGroup), nil
}

func noteSK(id string) string { return prefixNote + id }

// PlanNotification implements ledger.Shipments.
func (l *Ledger) PlanNotification(ctx context.Context, n shipment.Notification) (bool, error) {
	const op = "dynamo.PlanNotification"
	if n.ID == "" || n.OrderID == "" || n.State == "" {
		return false, errs.Ef(errs.Invalid, op, "notification needs an id, an order and a state")
	}
	data, err := encoder.Encode(n)
	if err != nil {
		return false, errs.E(errs.Invalid, op, err)
	}
	item := keyOf(orderPK(n.OrderID), noteSK(n.ID))
	item[attrData] = data
	item[attrNState] = s(string(n.State))
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return false, errs.E(errs.Invalid, op, err)
	}
	var lines []string
	for _, ln := range n.Lines {
		lines = append(lines, fmt.Sprintf("%s×%d", ln.LineID, ln.Quantity))
	}
	ev := order.Event{At: n.PlannedAt.UTC(), Kind: order.EventShipped, Message: clip(fmt.Sprintf(
		"label %s (%s) planned for %s: lines %s, state %s", n.ShipmentKey, n.CarrierCode, n.Channel, strings.Join(lines, " "), n.State))}
	err = l.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(l.Table), Item: item, ConditionExpression: cond.Condition(),
			ExpressionAttributeNames: cond.Names(),
		}},
		{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(n.OrderID, ev)}},
	})
	if err == nil {
		return true, nil
	}
	if raced(err) {
		// Planned before (a replayed webhook or pull): nothing new.
		return false, nil
	}
	return false, classify(op, fmt.Errorf("notification %s: %w", n.ID, err))
}

// Notifications implements ledger.Shipments.
func (l *Ledger) Notifications(ctx context.Context, id order.ID) ([]shipment.Notification, error) {
	const op = "dynamo.Notifications"
	kc := expression.Key(attrPK).Equal(expression.Value(orderPK(id))).And(expression.Key(attrSK).BeginsWith(prefixNote))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	var out []shipment.Notification
	p := dynamodb.NewQueryPaginator(l.Client, &dynamodb.QueryInput{
		TableName: aws.String(l.Table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(op, err)
		}
		for _, it := range page.Items {
			var n shipment.Notification
			if err := decoder.Decode(it[attrData], &n); err != nil {
				return nil, errs.E(errs.Invalid, op, fmt.Errorf("notification %s: %w", getS(it, attrSK), err))
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// SettleNotification implements ledger.Shipments.
func (l *Ledger) SettleNotification(ctx context.Context, id order.ID, nid string, st shipment.State, ref, reason string, now time.Time) (shipment.Notification, error) {
	const op = "dynamo.SettleNotification"
	for attempt := 0; ; attempt++ {
		out, err := l.Client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(l.Table), Key: keyOf(orderPK(id), noteSK(nid)), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return shipment.Notification{}, classify(op, err)
		}
		if out.Item == nil {
			return shipment.Notification{}, errs.Ef(errs.NotFound, op, "notification %s of order %s", nid, id)
		}
		var n shipment.Notification
		if err := decoder.Decode(out.Item[attrData], &n); err != nil {
			return n, errs.E(errs.Invalid, op, err)
		}
		if n.State == shipment.Confirmed || (n.State == st && n.ChannelRef == ref) {
			return n, nil
		}
		prevState := n.State
		n.State, n.Reason = st, clip(reason)
		if ref != "" {
			n.ChannelRef = ref
		}
		if st == shipment.Confirmed {
			n.ConfirmedAt = now.UTC()
		}
		data, err := encoder.Encode(n)
		if err != nil {
			return n, errs.E(errs.Invalid, op, err)
		}
		upd := expression.Set(expression.Name(attrData), expression.Value(data)).
			Set(expression.Name(attrNState), expression.Value(string(st)))
		cond := expression.Name(attrNState).Equal(expression.Value(string(prevState)))
		u, err := l.update(orderPK(id), noteSK(nid), upd, cond)
		if err != nil {
			return n, errs.E(errs.Invalid, op, err)
		}
		ev := order.Event{At: now.UTC(), Kind: order.EventConfirmed, Message: clip(fmt.Sprintf("label %s on %s: %s %s", n.ShipmentKey, n.Channel, st, reason))}
		if st != shipment.Confirmed {
			ev.Kind = order.EventSkipped
		}
		err = l.transact(ctx, []types.TransactWriteItem{
			{Update: u},
			{Put: &types.Put{TableName: aws.String(l.Table), Item: historyItem(id, ev)}},
		})
		if err == nil {
			return n, nil
		}
		if !raced(err) || attempt == maxAttempts {
			return n, classify(op, fmt.Errorf("notification %s: %w", nid, err))
		}
		if err := pause(ctx, attempt); err != nil {
			return n, errs.E(errs.Transient, op, err)
		}
	}
}
