package order

// amazonStatus is Amazon's order statuses, in both spellings Amazon uses,
// mapped to the canonical status: the Orders API v2026-01-01
// fulfillmentStatus (UPPER_SNAKE, "CANCELLED") and the Orders v0 /
// ORDER_CHANGE OrderStatus (CamelCase, "Canceled"). It is the one table
// both the poll and the notification path normalise through.
var amazonStatus = map[string]struct {
	status Status
	disp   Disposition
}{
	// v2026-01-01 fulfillmentStatus.
	"PENDING_AVAILABILITY": {"", Ignore},               // pre-order, not yet payable
	"PENDING":              {"", Ignore},               // placed, payment not authorised: wait
	"UNSHIPPED":            {AwaitingShipment, Import}, // ready to ship
	"PARTIALLY_SHIPPED":    {AwaitingShipment, Import}, // the rest still ships
	"SHIPPED":              {Shipped, Import},          // all shipped
	"CANCELLED":            {Cancelled, Import},        // will not be fulfilled
	"UNFULFILLABLE":        {"", Ignore},               // Amazon-fulfilled non-retail orders only

	// v0 / ORDER_CHANGE OrderStatus.
	"PendingAvailability": {"", Ignore},
	"Pending":             {"", Ignore},
	"Unshipped":           {AwaitingShipment, Import},
	"PartiallyShipped":    {AwaitingShipment, Import},
	"Shipped":             {Shipped, Import},
	"InvoiceUnconfirmed":  {Shipped, Import}, // shipped; invoice confirmation (BR) still due
	"Canceled":            {Cancelled, Import},
	"Unfulfillable":       {"", Ignore},
}

// AmazonStatus maps an Amazon order status in either spelling (v2026
// "UNSHIPPED" or v0/ORDER_CHANGE "Unshipped"). Unknown values are ignored
// (and reported by the caller), never guessed; the match is exact.
func AmazonStatus(status string) (Status, Disposition, bool) {
	s, ok := amazonStatus[status]
	if !ok {
		return "", Ignore, false
	}
	return s.status, s.disp, true
}

// AmazonFulfilment is who fulfils an Amazon order, normalised from the
// v2026 fulfilledBy and the v0/ORDER_CHANGE FulfillmentChannel/FulfillmentType.
type AmazonFulfilment string

// Amazon fulfilment channels.
const (
	// AmazonByMerchant is a seller-fulfilled (MFN) order: shiprelay ships it.
	AmazonByMerchant AmazonFulfilment = "MERCHANT"
	// AmazonByAmazon is an Amazon-fulfilled (AFN/FBA) order: never pushed.
	AmazonByAmazon AmazonFulfilment = "AMAZON"
)

// amazonFulfilment maps both spellings to the normalised channel.
var amazonFulfilment = map[string]AmazonFulfilment{
	"MERCHANT": AmazonByMerchant, // v2026 fulfilledBy
	"MFN":      AmazonByMerchant, // v0 FulfillmentChannel, ORDER_CHANGE FulfillmentType
	"AMAZON":   AmazonByAmazon,
	"AFN":      AmazonByAmazon,
}

// AmazonFulfilledBy normalises an Amazon fulfilment channel in either
// spelling; ok is false for an unknown value.
func AmazonFulfilledBy(v string) (AmazonFulfilment, bool) {
	f, ok := amazonFulfilment[v]
	return f, ok
}

// AmazonDisposition is what the hub does with an Amazon order: an
// Amazon-fulfilled order is never imported, whatever its status; a
// merchant-fulfilled one follows AmazonStatus. ok is false when either
// value is unknown.
func AmazonDisposition(status, fulfilledBy string) (Status, Disposition, bool) {
	f, okF := AmazonFulfilledBy(fulfilledBy)
	s, d, okS := AmazonStatus(status)
	if !okF || !okS {
		return "", Ignore, false
	}
	if f == AmazonByAmazon {
		return s, Ignore, true
	}
	return s, d, true
}
