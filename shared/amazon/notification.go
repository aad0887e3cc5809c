// Package amazon is the Amazon Selling Partner API adapter: the
// ORDER_CHANGE notification parser, the Login with Amazon token client and
// the SP-API client (Orders v2026-01-01 reads, v0 confirmShipment).
//
// Like the other adapters, every error it returns is classified with package
// errs, and no error carries a token, a secret or buyer data.
package amazon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

// opParse names ParseOrderChange in errors.
const opParse = "amazon.ParseOrderChange"

// maxNotification caps the SQS message body we accept (SQS itself caps 256 KiB).
const maxNotification = 256 << 10

// OrderChange is a validated ORDER_CHANGE notification, with the statuses
// already normalised. It holds no buyer PII: Amazon puts none in it.
type OrderChange struct {
	// NotificationID is Amazon's id of the notification: the idempotency key
	// (deliveries can be duplicated).
	NotificationID string
	// EventTime is when Amazon published the event; deliveries can arrive
	// out of order, so compare it before applying a change.
	EventTime time.Time
	// SellerID is the selling partner the order belongs to.
	SellerID string
	// AmazonOrderID is the order's id (3-7-7 digits for retail orders).
	AmazonOrderID string
	// ChangeType is OrderStatusChange, BuyerRequestedChange or DeliveryTipChange.
	ChangeType string
	// ChangeReason is Amazon's free-text reason for the change.
	ChangeReason string
	// ChangedAt is when the order changed.
	ChangedAt time.Time
	// MarketplaceID is the marketplace the order was placed in.
	MarketplaceID string
	// OrderStatus is the status as Amazon spelt it (v0 spelling, "Canceled").
	OrderStatus string
	// Status and Disposition are OrderStatus and FulfilledBy normalised by
	// order.AmazonDisposition; an Amazon-fulfilled order is always Ignore.
	Status order.Status
	// Disposition says whether the hub imports the order in this state.
	Disposition order.Disposition
	// FulfilledBy is the normalised fulfilment channel.
	FulfilledBy order.AmazonFulfilment
	// OrderType is StandardOrder, Preorder, … as Amazon spelt it.
	OrderType string
	// OrderPrograms holds Business, Prime, Premium, IBA, Replacement.
	OrderPrograms []string
	// Items are the order's lines as summarised in the notification.
	Items []OrderChangeItem
}

// OrderChangeItem is one line of an ORDER_CHANGE summary.
type OrderChangeItem struct {
	// OrderItemID is Amazon's line id, the one confirmShipment takes.
	OrderItemID string
	// SellerSKU is the seller's SKU.
	SellerSKU string
	// Quantity is the quantity ordered.
	Quantity int
	// QuantityShipped is the quantity shipped so far.
	QuantityShipped int
	// BuyerRequestedCancel is set when the buyer asked to cancel the line.
	BuyerRequestedCancel bool
}

// Prime reports whether the order is a seller-fulfilled Prime order.
func (c OrderChange) Prime() bool {
	for _, p := range c.OrderPrograms {
		if p == "Prime" {
			return true
		}
	}
	return false
}

// CancelRequested reports whether the buyer asked to cancel any line.
func (c OrderChange) CancelRequested() bool {
	for _, it := range c.Items {
		if it.BuyerRequestedCancel {
			return true
		}
	}
	return false
}

// wire types of the notification (schema OrderChangeNotification.json).
type wireNotification struct {
	NotificationVersion string `json:"NotificationVersion"`
	NotificationType    string `json:"NotificationType"`
	PayloadVersion      string `json:"PayloadVersion"`
	EventTime           string `json:"EventTime"`
	Payload             *struct {
		OrderChangeNotification *wireOrderChange `json:"OrderChangeNotification"`
	} `json:"Payload"`
	NotificationMetadata *struct {
		ApplicationID  string `json:"ApplicationId"`
		SubscriptionID string `json:"SubscriptionId"`
		PublishTime    string `json:"PublishTime"`
		NotificationID string `json:"NotificationId"`
	} `json:"NotificationMetadata"`
}

type wireOrderChange struct {
	NotificationLevel  string `json:"NotificationLevel"`
	SellerID           string `json:"SellerId"`
	AmazonOrderID      string `json:"AmazonOrderId"`
	OrderChangeType    string `json:"OrderChangeType"`
	OrderChangeTrigger *struct {
		TimeOfOrderChange string `json:"TimeOfOrderChange"`
		ChangeReason      string `json:"ChangeReason"`
	} `json:"OrderChangeTrigger"`
	Summary *struct {
		MarketplaceID   string   `json:"MarketplaceId"`
		OrderStatus     string   `json:"OrderStatus"`
		FulfillmentType string   `json:"FulfillmentType"`
		OrderType       string   `json:"OrderType"`
		OrderPrograms   []string `json:"OrderPrograms"`
		OrderItems      []struct {
			OrderItemID            string `json:"OrderItemId"`
			SellerSKU              string `json:"SellerSKU"`
			Quantity               *int   `json:"Quantity"`
			QuantityShipped        int    `json:"QuantityShipped"`
			IsBuyerRequestedCancel bool   `json:"IsBuyerRequestedCancel"`
		} `json:"OrderItems"`
	} `json:"Summary"`
}

// idPattern bounds the ids we accept: Amazon's are short ASCII tokens.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)

// changeTypes is the schema's OrderChangeType enum.
var changeTypes = map[string]bool{"OrderStatusChange": true, "BuyerRequestedChange": true, "DeliveryTipChange": true}

// ParseOrderChange parses and validates an ORDER_CHANGE SQS message body.
// Every failure is errs.Invalid (a malformed message will not get better on
// redelivery) and names the offending field, never its value.
func ParseOrderChange(body []byte) (OrderChange, error) {
	var c OrderChange
	if len(body) > maxNotification {
		return c, invalid("message larger than %d bytes", maxNotification)
	}
	var w wireNotification
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return c, errs.E(errs.Invalid, opParse, fmt.Errorf("decode: %w", jsonErr(err)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return c, invalid("trailing data after the notification")
	}
	switch {
	case w.NotificationType != "ORDER_CHANGE":
		return c, invalid("NotificationType is not ORDER_CHANGE")
	case w.PayloadVersion != "1.0":
		return c, invalid("unsupported PayloadVersion")
	case w.NotificationMetadata == nil:
		return c, invalid("NotificationMetadata missing")
	case !idPattern.MatchString(w.NotificationMetadata.NotificationID):
		return c, invalid("NotificationMetadata.NotificationId missing or malformed")
	case w.Payload == nil || w.Payload.OrderChangeNotification == nil:
		return c, invalid("Payload.OrderChangeNotification missing")
	}
	t, err := parseTime(w.EventTime)
	if err != nil {
		return c, invalid("EventTime missing or not ISO 8601")
	}
	p := w.Payload.OrderChangeNotification
	switch {
	case !idPattern.MatchString(p.SellerID):
		return c, invalid("SellerId missing or malformed")
	case !idPattern.MatchString(p.AmazonOrderID):
		return c, invalid("AmazonOrderId missing or malformed")
	case !changeTypes[p.OrderChangeType]:
		return c, invalid("OrderChangeType missing or unknown")
	case p.OrderChangeTrigger == nil:
		return c, invalid("OrderChangeTrigger missing")
	case p.Summary == nil:
		return c, invalid("Summary missing")
	}
	changed, err := parseTime(p.OrderChangeTrigger.TimeOfOrderChange)
	if err != nil {
		return c, invalid("OrderChangeTrigger.TimeOfOrderChange missing or not ISO 8601")
	}
	s := p.Summary
	if !idPattern.MatchString(s.MarketplaceID) {
		return c, invalid("Summary.MarketplaceId missing or malformed")
	}
	if _, _, ok := order.AmazonStatus(s.OrderStatus); !ok {
		return c, invalid("Summary.OrderStatus missing or unknown")
	}
	by, ok := order.AmazonFulfilledBy(s.FulfillmentType)
	if !ok || (s.FulfillmentType != "MFN" && s.FulfillmentType != "AFN") {
		return c, invalid("Summary.FulfillmentType is not MFN or AFN")
	}
	status, disp, _ := order.AmazonDisposition(s.OrderStatus, s.FulfillmentType)
	if s.OrderItems == nil {
		return c, invalid("Summary.OrderItems missing")
	}
	items := make([]OrderChangeItem, 0, len(s.OrderItems))
	for i, it := range s.OrderItems {
		switch {
		case !idPattern.MatchString(it.OrderItemID):
			return c, invalid("Summary.OrderItems[%d].OrderItemId missing or malformed", i)
		case it.Quantity == nil || *it.Quantity < 0:
			return c, invalid("Summary.OrderItems[%d].Quantity missing or negative", i)
		case it.QuantityShipped < 0 || it.QuantityShipped > *it.Quantity:
			return c, invalid("Summary.OrderItems[%d].QuantityShipped out of range", i)
		}
		items = append(items, OrderChangeItem{
			OrderItemID:          it.OrderItemID,
			SellerSKU:            it.SellerSKU,
			Quantity:             *it.Quantity,
			QuantityShipped:      it.QuantityShipped,
			BuyerRequestedCancel: it.IsBuyerRequestedCancel,
		})
	}
	return OrderChange{
		NotificationID: w.NotificationMetadata.NotificationID,
		EventTime:      t,
		SellerID:       p.SellerID,
		AmazonOrderID:  p.AmazonOrderID,
		ChangeType:     p.OrderChangeType,
		ChangeReason:   p.OrderChangeTrigger.ChangeReason,
		ChangedAt:      changed,
		MarketplaceID:  s.MarketplaceID,
		OrderStatus:    s.OrderStatus,
		Status:         status,
		Disposition:    disp,
		FulfilledBy:    by,
		OrderType:      s.OrderType,
		OrderPrograms:  s.OrderPrograms,
		Items:          items,
	}, nil
}

func invalid(format string, args ...any) error {
	return errs.Ef(errs.Invalid, opParse, format, args...)
}

// parseTime reads an ISO 8601 timestamp with a zone (fractional seconds allowed).
func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// jsonErr drops anything from a JSON error that could quote the input:
// syntax errors keep only their offset, type errors only the field path.
func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %s has the wrong type", te.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("empty or truncated body")
	}
	return errors.New("invalid JSON")
}
