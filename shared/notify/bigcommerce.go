package notify

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// BigCommerce confirms labels as BigCommerce shipments
// (POST /v2/orders/{id}/shipments).
type BigCommerce struct {
	// Client returns the store's client.
	Client func(ctx context.Context, storeID string) (*bigcommerce.Client, error)
	// Carriers returns the store's carrier map.
	Carriers func(storeID string) *carrier.Map
}

// Confirm implements Confirmer. BigCommerce's shipment creation is not
// idempotent, so a shipment already there with the same tracking number
// for the same destination (a lost response earlier) is adopted instead of
// created twice.
func (b *BigCommerce) Confirm(ctx context.Context, n shipment.Notification, o order.Order) (string, error) {
	const op = "notify.BigCommerce"
	id, err := strconv.ParseInt(o.ChannelOrderID, 10, 64)
	if err != nil {
		return "", errs.Ef(errs.Invalid, op, "order id %q is not a BigCommerce id", o.ChannelOrderID)
	}
	var addr int64
	for _, g := range o.ShipGroups {
		if g.Key == n.Group {
			addr, _ = strconv.ParseInt(g.ChannelRef, 10, 64)
		}
	}
	if addr <= 0 {
		return "", errs.Ef(errs.Invalid, op, "order %s has no BigCommerce address id for ship group %q", o.ID, n.Group)
	}
	client, err := b.Client(ctx, n.StoreID)
	if err != nil {
		return "", err
	}
	res := b.Carriers(n.StoreID).Lookup(order.BigCommerce, n.CarrierCode, n.ServiceCode)
	if n.Replaces != "" {
		// A re-label after a void: the shipment already on BigCommerce gets
		// the new tracking (its quantities stay shipped, as they are).
		sid, err := strconv.ParseInt(n.Replaces, 10, 64)
		if err != nil {
			return "", errs.Ef(errs.Invalid, op, "replaced shipment %q is not a BigCommerce id", n.Replaces)
		}
		u := bigcommerce.ShipmentUpdate{TrackingNumber: n.TrackingNumber, ShippingProvider: res.Code, TrackingCarrier: res.TrackingCarrier, ShippingMethod: res.Method}
		if _, err := client.UpdateShipment(ctx, id, sid, u); err != nil {
			return "", fmt.Errorf("order %s: %w", o.ID, err)
		}
		return n.Replaces, nil
	}
	existing, err := client.Shipments(ctx, id)
	if err != nil {
		return "", err
	}
	for _, sh := range existing {
		if sh.TrackingNumber == n.TrackingNumber && sh.OrderAddressID == addr {
			return strconv.FormatInt(sh.ID, 10), nil
		}
	}
	req := bigcommerce.ShipmentRequest{OrderAddressID: addr, TrackingNumber: n.TrackingNumber}
	for _, l := range n.Lines {
		pid, err := strconv.ParseInt(l.LineID, 10, 64)
		if err != nil {
			return "", errs.Ef(errs.Invalid, op, "line %q is not a BigCommerce order_product_id", l.LineID)
		}
		req.Items = append(req.Items, bigcommerce.ShipmentItem{OrderProductID: pid, Quantity: l.Quantity})
	}
	req.ShippingProvider, req.TrackingCarrier, req.ShippingMethod = res.Code, res.TrackingCarrier, res.Method
	if res.Fallback {
		req.Comments = res.Reason
	}
	sh, err := client.CreateShipment(ctx, id, req)
	if err != nil {
		return "", fmt.Errorf("order %s: %w", o.ID, err)
	}
	return strconv.FormatInt(sh.ID, 10), nil
}
