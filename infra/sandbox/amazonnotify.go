package sandbox

import (
	"encoding/json"
	"fmt"
	"time"
)

// ORDER_CHANGE notifications (api-contracts §2.8, schema
// OrderChangeNotification.json). Amazon delivers them to an SQS queue; the
// sandbox only produces the message bodies. Every status change the
// simulator makes (GenerateOrder, MarkUnshipped, CancelOrder, a
// confirmShipment that changes the status) queues one OrderStatusChange
// message, and RequestCancel one BuyerRequestedChange; DrainOrderChanges
// hands the queued bodies to the caller (a test or the demo pushes them to
// its own queue). AmazonNotifyKnobs make the stream as unreliable as the
// real one: lost, duplicated (same NotificationId) and out-of-order messages.

// AmazonNotifyKnobs are the ORDER_CHANGE fault knobs, probabilities in
// [0, 1] rolled per message with the simulator's seeded generator.
type AmazonNotifyKnobs struct {
	// DropRate is the probability that a message is never queued.
	DropRate float64 `json:"drop_rate"`
	// DuplicateRate is the probability that a message is queued twice with
	// the identical body.
	DuplicateRate float64 `json:"duplicate_rate"`
	// ReorderRate is the probability that a message is queued before the
	// message queued just before it.
	ReorderRate float64 `json:"reorder_rate"`
}

// SetNotifyKnobs replaces the ORDER_CHANGE fault knobs.
func (a *Amazon) SetNotifyKnobs(k AmazonNotifyKnobs) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notifyKnobs = k
}

// DrainOrderChanges returns the queued ORDER_CHANGE message bodies, oldest
// first, and empties the queue.
func (a *Amazon) DrainOrderChanges() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.outbox
	a.outbox = nil
	return out
}

// OrderChangeMessage builds (without queuing) an ORDER_CHANGE body for the
// order's current state. changeType is OrderStatusChange,
// BuyerRequestedChange or DeliveryTipChange.
func (a *Amazon) OrderChangeMessage(orderID, changeType, reason string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.orders[orderID]
	if o == nil {
		return nil, fmt.Errorf("sandbox: no Amazon order %s", orderID)
	}
	return a.orderChangeLocked(o, changeType, reason), nil
}

// amazonV0Status maps v2026 fulfillment statuses to the v0 spellings used
// in ORDER_CHANGE summaries.
var amazonV0Status = map[string]string{
	AmazonPending: "Pending", AmazonUnshipped: "Unshipped", AmazonPartiallyShipped: "PartiallyShipped",
	AmazonShipped: "Shipped", AmazonCancelled: "Canceled",
}

// queueStatusChange queues an OrderStatusChange for o, applying the knobs.
// Caller holds a.mu.
func (a *Amazon) queueStatusChange(o *AmazonOrder) { a.queueChange(o, "", "") }

// queueChange queues an ORDER_CHANGE of changeType for o, applying the
// knobs; "" means OrderStatusChange with the standard reason. Caller holds
// a.mu.
func (a *Amazon) queueChange(o *AmazonOrder, changeType, reason string) {
	if changeType == "" {
		changeType, reason = "OrderStatusChange", "Order status changed to "+amazonV0Status[o.Status]
	}
	k := a.notifyKnobs
	if k.DropRate > 0 && a.rng.Float64() < k.DropRate {
		a.stats.NotificationsDropped++
		return
	}
	body := a.orderChangeLocked(o, changeType, reason)
	n := 1
	if k.DuplicateRate > 0 && a.rng.Float64() < k.DuplicateRate {
		n = 2
	}
	for range n {
		a.outbox = append(a.outbox, body)
		if l := len(a.outbox); l > 1 && k.ReorderRate > 0 && a.rng.Float64() < k.ReorderRate {
			a.outbox[l-1], a.outbox[l-2] = a.outbox[l-2], a.outbox[l-1]
		}
	}
	a.stats.NotificationsQueued += int64(n)
}

func (a *Amazon) amzUUID() string {
	x, y := a.rng.Uint64(), a.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", x>>32, (x>>16)&0xffff, x&0xfff, 0x8000|(y>>48)&0x3fff, y&0xffffffffffff)
}

func amzMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// orderChangeLocked renders one message body. Caller holds a.mu.
func (a *Amazon) orderChangeLocked(o *AmazonOrder, changeType, reason string) []byte {
	now := a.now()
	items := make([]map[string]any, 0, len(o.Items))
	shipped, unshipped := 0, 0
	for _, it := range o.Items {
		st := "Unshipped"
		if it.Shipped >= it.Quantity {
			st = "Shipped"
		}
		shipped += it.Shipped
		if o.Status != AmazonCancelled {
			unshipped += it.Quantity - it.Shipped
		}
		items = append(items, map[string]any{
			"OrderItemId": it.OrderItemID, "SellerSKU": it.SellerSKU, "SupplySourceId": nil,
			"OrderItemStatus": st, "Quantity": it.Quantity, "QuantityShipped": it.Shipped,
			"IsBuyerRequestedCancel": it.CancelRequester == AmazonCancelByBuyer,
		})
	}
	// v0 OrderPrograms spellings; a replacement order is flagged by the
	// "Replacement" program (OrderType has no replacement value).
	programs := []string{}
	for _, p := range o.Programs {
		switch p {
		case "PRIME":
			programs = append(programs, "Prime")
		case "AMAZON_BUSINESS":
			programs = append(programs, "Business")
		case "PREMIUM":
			programs = append(programs, "Premium")
		}
	}
	if o.ReplacementOf != "" {
		programs = append(programs, "Replacement")
	}
	fulfillment := "MFN"
	if o.FulfilledBy == "AMAZON" {
		fulfillment = "AFN"
	}
	summary := map[string]any{
		"MarketplaceId":          o.MarketplaceID,
		"OrderStatus":            amazonV0Status[o.Status],
		"PurchaseDate":           amzMillis(o.Created),
		"DestinationPostalCode":  o.Address.PostalCode,
		"FulfillmentType":        fulfillment,
		"OrderType":              "StandardOrder",
		"NumberOfItemsShipped":   shipped,
		"NumberOfItemsUnshipped": unshipped,
		"OrderPrograms":          programs,
		"ShippingPrograms":       []string{},
		"OrderItems":             items,
	}
	if fulfillment == "MFN" {
		summary["LatestShipDate"] = amzMillis(o.ShipBy)
		// "Returned only for seller-fulfilled orders that do not have a
		// PendingAvailability, Pending, or Canceled status."
		if o.Status != AmazonPending && o.Status != AmazonCancelled {
			summary["LatestDeliveryDate"] = amzMillis(o.DeliverBy)
		}
	}
	msg := map[string]any{
		"NotificationVersion": "1.0",
		"NotificationType":    "ORDER_CHANGE",
		"PayloadVersion":      "1.0",
		"EventTime":           amzMillis(now),
		"Payload": map[string]any{"OrderChangeNotification": map[string]any{
			"NotificationLevel":  "OrderLevel",
			"SellerId":           a.opts.SellerID,
			"AmazonOrderId":      o.OrderID,
			"OrderChangeType":    changeType,
			"OrderChangeTrigger": map[string]any{"TimeOfOrderChange": amzMillis(o.LastUpdated), "ChangeReason": reason},
			"Summary":            summary,
		}},
		"NotificationMetadata": map[string]any{
			"ApplicationId":  "amzn1.sp.solution.sandbox",
			"SubscriptionId": "sandbox-order-change-subscription",
			"PublishTime":    amzMillis(now),
			"NotificationId": a.amzUUID(),
		},
	}
	raw, _ := json.Marshal(msg)
	return raw
}
