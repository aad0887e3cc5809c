package notify

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// maxPackageReferenceID bounds packageReferenceIds (exclusive): 2^53, so
// that the number survives any JSON reader that turns it into a float.
const maxPackageReferenceID = 1 << 53

// Amazon confirms labels as packages of Amazon orders (SP-API Orders v0
// confirmShipment), one package per label, and reads them back (Orders
// v2026-01-01 getOrder with includedData PACKAGES): Amazon answers 204 to a
// package whose carrierCode is not on its list and may not keep it.
type Amazon struct {
	// Client returns the store's client (its marketplace is the one the
	// confirmation is sent for).
	Client func(ctx context.Context, storeID string) (*amazon.Client, error)
	// Carriers returns the store's carrier map.
	Carriers func(storeID string) *carrier.Map
}

// PackageReferenceID is the packageReferenceId a notification is confirmed
// under: a positive integer in [1, 2^53), as text, the same on every retry
// of the notification and distinct between the labels of one order, so a
// repeated confirmation edits the package instead of adding one.
//
//   - A re-label (n.Replaces set) re-uses the reference of the confirmed
//     package it replaces: Amazon then edits that package's tracking.
//   - Otherwise it is the ShipStation shipmentId (the part of ShipmentKey
//     after the last ':') when that is such an integer in canonical form,
//     else a hash of ShipmentKey into the same range.
func PackageReferenceID(n shipment.Notification) string {
	if n.Replaces != "" {
		return n.Replaces
	}
	id := n.ShipmentKey[strings.LastIndex(n.ShipmentKey, ":")+1:]
	if v, err := strconv.ParseUint(id, 10, 64); err == nil && v > 0 && v < maxPackageReferenceID && strconv.FormatUint(v, 10) == id {
		return id
	}
	sum := sha256.Sum256([]byte(n.ShipmentKey))
	v := binary.BigEndian.Uint64(sum[:8])%(maxPackageReferenceID-1) + 1
	return strconv.FormatUint(v, 10)
}

// amazonOrderID is the Amazon order id of o.
func amazonOrderID(op string, n shipment.Notification, o order.Order) (string, error) {
	if o.ChannelOrderID != "" {
		return o.ChannelOrderID, nil
	}
	if _, _, id, err := n.OrderID.Parse(); err == nil {
		return id, nil
	}
	return "", errs.Ef(errs.Invalid, op, "order %s has no Amazon order id", o.ID)
}

// request builds the confirmShipment request of n for carrier resolution
// res. The marketplace is left empty: the client sends its own (the
// store's).
func (a *Amazon) request(n shipment.Notification, res carrier.Resolution) amazon.ConfirmShipmentRequest {
	shipDate := n.ShipDate
	if shipDate.IsZero() {
		shipDate = n.PlannedAt
	}
	p := amazon.PackageDetail{
		PackageReferenceID: PackageReferenceID(n),
		CarrierCode:        res.Code,
		ShippingMethod:     res.Method,
		TrackingNumber:     n.TrackingNumber,
		ShipDate:           shipDate.UTC().Truncate(time.Second),
	}
	if res.Code == carrier.AmazonOther {
		p.CarrierName = res.Name
	}
	for _, l := range n.Lines {
		p.OrderItems = append(p.OrderItems, amazon.ConfirmShipmentItem{OrderItemID: l.LineID, Quantity: l.Quantity})
	}
	return amazon.ConfirmShipmentRequest{PackageDetail: p}
}

// Confirm implements Confirmer. The reference returned is the package's
// packageReferenceId (see PackageReferenceID); confirming again after a
// lost response sends the same one, which edits the same package. A label
// Amazon confirms itself (Buy Shipping) is a Skip and calls nothing.
func (a *Amazon) Confirm(ctx context.Context, n shipment.Notification, o order.Order) (string, error) {
	const op = "notify.Amazon"
	res := a.Carriers(n.StoreID).Lookup(order.Amazon, n.CarrierCode, n.ServiceCode)
	if res.AutoConfirmed {
		return "", Skip{Reason: res.Reason}
	}
	id, err := amazonOrderID(op, n, o)
	if err != nil {
		return "", err
	}
	client, err := a.Client(ctx, n.StoreID)
	if err != nil {
		return "", err
	}
	req := a.request(n, res)
	if err := client.ConfirmShipment(ctx, id, req); err != nil {
		return "", fmt.Errorf("order %s package %s: %w", o.ID, req.PackageDetail.PackageReferenceID, err)
	}
	return req.PackageDetail.PackageReferenceID, nil
}

// Verify implements Verifier: it reads the order's packages back and
// checks that the package n was confirmed as (n.ChannelRef) is there with
// n's tracking number. A missing package or another tracking number is an
// errs.Invalid error (op "notify.Amazon.verify") saying what to do; errors
// of getOrder are returned unchanged.
func (a *Amazon) Verify(ctx context.Context, n shipment.Notification, o order.Order) error {
	const op = "notify.Amazon.verify"
	if n.ChannelRef == "" {
		return errs.Ef(errs.Invalid, op, "order %s: notification %s has no package reference to verify", o.ID, n.ID)
	}
	id, err := amazonOrderID(op, n, o)
	if err != nil {
		return err
	}
	client, err := a.Client(ctx, n.StoreID)
	if err != nil {
		return err
	}
	got, err := client.GetOrder(ctx, id, []string{"PACKAGES"})
	if err != nil {
		return err
	}
	other := ""
	for _, p := range got.Packages {
		if p.PackageReferenceID != n.ChannelRef {
			continue
		}
		if p.TrackingNumber == n.TrackingNumber {
			return nil
		}
		other = p.TrackingNumber
	}
	res := a.Carriers(n.StoreID).Lookup(order.Amazon, n.CarrierCode, n.ServiceCode)
	msg := fmt.Sprintf("order %s: Amazon accepted the confirmation (204) but did not record package %s with tracking %s (carrier code %q, ShipStation carrier %q)",
		o.ID, n.ChannelRef, n.TrackingNumber, res.Code, n.CarrierCode)
	if other != "" {
		msg += fmt.Sprintf("; the package has tracking %s", other)
	}
	return errs.Ef(errs.Invalid, op, "%s: confirm it in Seller Central or fix the carrier map", msg)
}
