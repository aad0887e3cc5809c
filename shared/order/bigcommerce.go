package order

// Disposition says what the hub does with a channel order in a given
// channel status.
type Disposition int

// Dispositions.
const (
	// Import: store it and push it to ShipStation.
	Import Disposition = iota + 1
	// Ignore: do not import (yet); a later status change may import it.
	Ignore
)

// bigCommerceStatus is BigCommerce's fixed status ids (merchants may relabel
// them, but the ids never change) mapped to the canonical status.
var bigCommerceStatus = map[int]struct {
	status Status
	disp   Disposition
}{
	0:  {"", Ignore},               // Incomplete: checkout never finished
	1:  {"", Ignore},               // Pending: not yet paid/approved
	2:  {Shipped, Import},          // Shipped
	3:  {AwaitingShipment, Import}, // Partially Shipped: the rest still ships
	4:  {Cancelled, Import},        // Refunded
	5:  {Cancelled, Import},        // Cancelled
	6:  {Cancelled, Import},        // Declined
	7:  {AwaitingPayment, Import},  // Awaiting Payment
	8:  {AwaitingShipment, Import}, // Awaiting Pickup: still needs fulfilment
	9:  {AwaitingShipment, Import}, // Awaiting Shipment
	10: {Shipped, Import},          // Completed
	11: {AwaitingShipment, Import}, // Awaiting Fulfillment
	12: {OnHold, Import},           // Manual Verification Required
	13: {OnHold, Import},           // Disputed
	14: {AwaitingShipment, Import}, // Partially Refunded: remaining lines still ship
}

// BigCommerceStatus maps a BigCommerce status id. Unknown ids are ignored
// (and reported by the caller), never guessed.
func BigCommerceStatus(statusID int) (Status, Disposition, bool) {
	s, ok := bigCommerceStatus[statusID]
	if !ok {
		return "", Ignore, false
	}
	return s.status, s.disp, true
}
