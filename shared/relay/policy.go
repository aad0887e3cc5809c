package relay

import (
	"context"
	"fmt"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// TrackingClaimTTL is how long a tracking number stays bound to the first
// Amazon order it was confirmed on (oneTrackingPerOrder): well past any
// label's life.
const TrackingClaimTTL = 180 * 24 * time.Hour

// policy applies a store's confirmation policy to a notification about to
// be planned, returning why it must be skipped instead ("" to send it).
//
//   - Amazon first-only (the default, as ShipStation's own integration): one
//     confirmation per order; a later package of a split shipment is
//     recorded as skipped. A re-label after a void (n.Replaces) is not a
//     second package: it edits the first.
//   - Amazon oneTrackingPerOrder: a tracking number already bound to another
//     order (a label shared by combined orders) is not confirmed again; an
//     exception asks a person to confirm that order by hand.
func (s *Service) policy(ctx context.Context, n shipment.Notification, notes []shipment.Notification, st *config.Store) (string, error) {
	if st == nil || st.Channel != order.Amazon || st.Amazon == nil || n.State != shipment.Planned {
		return "", nil
	}
	a := st.Amazon
	if a.Confirm == config.ConfirmFirstOnly && n.Replaces == "" {
		for _, o := range notes {
			if o.ID == n.ID || (o.State != shipment.Planned && o.State != shipment.Confirmed) {
				continue
			}
			label, err := s.Ledger.Label(ctx, o.ShipmentKey)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return "", fmt.Errorf("read label %s: %w", o.ShipmentKey, err)
			}
			if label.Voided {
				continue
			}
			return fmt.Sprintf("first-only policy: Amazon has this order's first package already (label %s); set amazon.confirm: every-package to confirm each package", o.ShipmentKey), nil
		}
	}
	if a.OneTrackingPerOrder {
		key := "tracking:amazon:" + a.SellerID + ":" + n.TrackingNumber
		holder, err := s.Ledger.ClaimFor(ctx, key, string(n.OrderID), TrackingClaimTTL, s.now())
		if err != nil {
			return "", fmt.Errorf("tracking claim: %w", err)
		}
		if holder != string(n.OrderID) {
			reason := fmt.Sprintf("oneTrackingPerOrder: tracking %s is confirmed on order %s already; Amazon counts a tracking number reused on several orders against the Valid Tracking Rate, so confirm this order by hand (or turn the setting off)", n.TrackingNumber, holder)
			if err := s.exception(ctx, n.OrderID, errs.Ef(errs.Invalid, "relay.policy", "%s", reason), "tracking", n.ID); err != nil {
				return "", err
			}
			return reason, nil
		}
	}
	return "", nil
}
