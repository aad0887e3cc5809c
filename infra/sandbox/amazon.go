package sandbox

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// This file holds the Amazon Selling Partner API simulator: its options,
// state, order model and Go inspection/mutation methods. The wire side is in
// amazonhttp.go (SP-API and the Login with Amazon token endpoint), the
// order generator in amazongen.go and ORDER_CHANGE messages in
// amazonnotify.go. See ../shared/reference/api-contracts.md §2.
//
// An Amazon is independent of Sandbox: it has its own state, clock and
// random generator, and is served by two handlers on their own ports:
//
//	az := sandbox.NewAmazon(sandbox.AmazonOptions{Seed: 7})
//	defer az.Close()
//	lwa := httptest.NewServer(az.LWAHandler()) // token URL: lwa.URL + "/auth/o2/token"
//	sp := httptest.NewServer(az.Handler())     // SP-API endpoint
//
// Everything is simulated: buyer names, e-mails, phones and addresses carry
// a random token (see AmazonOrder.PIIValues) so tests can prove that none of
// them reaches a log.

// Defaults of AmazonOptions.
const (
	// DefaultAmazonClientID is the LWA client_id accepted by default.
	DefaultAmazonClientID = "amzn1.application-oa2-client.sandbox"
	// DefaultAmazonClientSecret is the LWA client_secret accepted by default.
	DefaultAmazonClientSecret = "sandbox-lwa-secret"
	// DefaultAmazonRefreshToken is the seller refresh token accepted by default.
	DefaultAmazonRefreshToken = "Atzr|sandbox-refresh-token"
	// DefaultAmazonSellerID is the merchant token of the simulated seller.
	DefaultAmazonSellerID = "A3TH9S8BH6GOGM"
	// AmazonMarketplaceUS is the amazon.com marketplace id.
	AmazonMarketplaceUS = "ATVPDKIKX0DER"
	// AmazonMarketplaceJP is the amazon.co.jp marketplace id.
	AmazonMarketplaceJP = "A1VC38T7YXB528"
	// AmazonMarketplaceUK is the amazon.co.uk marketplace id.
	AmazonMarketplaceUK = "A1F83G8C2ARO7P"
	// AmazonMarketplaceDE is the amazon.de marketplace id.
	AmazonMarketplaceDE = "A1PA6795UKMFR9"
	// DefaultAmazonTokenTTL is the lifetime of an LWA access token.
	DefaultAmazonTokenTTL = time.Hour
	// DefaultAmazonSearchLag is how far before "now" searchOrders' …Before
	// bound must lie (and its default): Amazon requires at least 2 minutes.
	DefaultAmazonSearchLag = 2 * time.Minute
)

// Fulfillment statuses of Orders v2026-01-01 (FulfillmentStatus enum).
const (
	AmazonPending          = "PENDING"
	AmazonUnshipped        = "UNSHIPPED"
	AmazonPartiallyShipped = "PARTIALLY_SHIPPED"
	AmazonShipped          = "SHIPPED"
	AmazonCancelled        = "CANCELLED"
)

// AmazonRate is one operation's usage plan: a token bucket refilled at Rate
// requests per second holding at most Burst tokens.
type AmazonRate struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// Operation names used for rate limits and statistics.
const (
	AmazonOpSearchOrders    = "searchOrders"
	AmazonOpGetOrder        = "getOrder"
	AmazonOpConfirmShipment = "confirmShipment"
)

// DefaultAmazonRates are Amazon's published default usage plans
// (api-contracts §2.9).
func DefaultAmazonRates() map[string]AmazonRate {
	return map[string]AmazonRate{
		AmazonOpSearchOrders:    {Rate: 0.0056, Burst: 20},
		AmazonOpGetOrder:        {Rate: 0.5, Burst: 30},
		AmazonOpConfirmShipment: {Rate: 2, Burst: 10},
	}
}

// AmazonOptions configures an Amazon simulator. The zero value is usable.
type AmazonOptions struct {
	// Seed seeds the order generator and fault rolls; 0 means 1.
	Seed uint64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClientID and ClientSecret are the accepted LWA client credentials
	// (defaults DefaultAmazonClientID / DefaultAmazonClientSecret).
	ClientID, ClientSecret string
	// RefreshTokens are the accepted seller refresh tokens; empty means
	// DefaultAmazonRefreshToken.
	RefreshTokens []string
	// TokenTTL is the access-token lifetime (default 1 h); tests use a
	// short one to exercise refresh.
	TokenTTL time.Duration
	// SellerID is the seller's merchant token (default DefaultAmazonSellerID).
	SellerID string
	// Rates overrides the usage plans per operation; missing operations
	// keep DefaultAmazonRates.
	Rates map[string]AmazonRate
	// SpeedUp > 1 multiplies every refill rate (for demos: SpeedUp 100 makes
	// searchOrders refill every ~1.8 s instead of 3 min). Bursts are kept.
	SpeedUp float64
	// SearchLag is the minimum distance of searchOrders' …Before bound from
	// now, and its default; 0 means DefaultAmazonSearchLag, negative none.
	SearchLag time.Duration
	// Faults are the initial fault knobs; only Rate429, Rate5xx, Latency and
	// LatencyJitter apply to the SP-API.
	Faults Faults
}

// AmazonBuyer is the buyer of an order (restricted data).
type AmazonBuyer struct {
	Name          string `json:"buyerName"`
	Email         string `json:"buyerEmail"`
	CompanyName   string `json:"buyerCompanyName,omitempty"`
	PurchaseOrder string `json:"buyerPurchaseOrderNumber,omitempty"`
}

// AmazonAddress is a delivery address (CustomerAddress).
type AmazonAddress struct {
	Name             string `json:"name,omitempty"`
	CompanyName      string `json:"companyName,omitempty"`
	AddressLine1     string `json:"addressLine1,omitempty"`
	AddressLine2     string `json:"addressLine2,omitempty"`
	City             string `json:"city,omitempty"`
	DistrictOrCounty string `json:"districtOrCounty,omitempty"`
	StateOrRegion    string `json:"stateOrRegion,omitempty"`
	PostalCode       string `json:"postalCode,omitempty"`
	CountryCode      string `json:"countryCode,omitempty"`
	Phone            string `json:"phone,omitempty"`
	AddressType      string `json:"addressType,omitempty"`
}

// Item condition types and subtypes of Orders v2026-01-01 (ItemCondition;
// the spec lists more, these are the ones the generator uses).
const (
	AmazonConditionNew      = "NEW"
	AmazonConditionUsed     = "USED"
	AmazonConditionVeryGood = "VERY_GOOD"
	AmazonConditionGood     = "GOOD"
)

// Parties of ItemCancellationRequest.requester and
// ItemCancellationExecution.cancelledBy.
const (
	AmazonCancelByBuyer    = "BUYER"
	AmazonCancelByMerchant = "MERCHANT"
	AmazonCancelByAmazon   = "AMAZON"
)

// AmazonOrderItem is one line of an order.
type AmazonOrderItem struct {
	OrderItemID string
	ASIN        string
	SellerSKU   string
	Title       string
	Quantity    int
	// UnitPrice is a decimal string in the order's currency.
	UnitPrice string
	// Shipped is the quantity confirmed in recorded packages.
	Shipped int
	// ConditionType and ConditionSubtype are the item condition
	// (AmazonConditionNew, AmazonConditionUsed, ...); empty means NEW/NEW.
	// ConditionNote is the seller's free-text note (never PII).
	ConditionType, ConditionSubtype, ConditionNote string
	// CancelRequester is AmazonCancelByBuyer once the buyer asked to cancel
	// the line (RequestCancel); CancelRequestReason is the buyer's reason.
	CancelRequester, CancelRequestReason string
}

// AmazonTaxRegistration is one entry of the v2026 order's
// tax.taxRegistrations (OrderTaxRegistration).
type AmazonTaxRegistration struct {
	// EntityType is BUYER, MERCHANT or MARKETPLACE.
	EntityType string
	// LegalName is the registered name (PII for a BUYER).
	LegalName string
	// Type is the taxRegistrationType: BUSINESS, VAT, CST, CPF or CNPJ.
	Type string
	// Number is the taxRegistrationNumber (PII for a BUYER).
	Number string
}

// AmazonPackageItem is one item line of a confirmed package.
type AmazonPackageItem struct {
	OrderItemID string `json:"orderItemId"`
	Quantity    int    `json:"quantity"`
}

// AmazonPackage is a package recorded by confirmShipment.
type AmazonPackage struct {
	PackageReferenceID string
	CarrierCode        string
	CarrierName        string
	ShippingMethod     string
	TrackingNumber     string
	ShipDate           time.Time
	Created            time.Time
	Items              []AmazonPackageItem
}

// AmazonOrder is a simulated order as the sandbox stores it.
type AmazonOrder struct {
	OrderID       string
	SellerOrderID string
	MarketplaceID string
	Currency      string
	Created       time.Time
	LastUpdated   time.Time
	// Status is the v2026 fulfillment status (AmazonPending, ...).
	Status string
	// FulfilledBy is MERCHANT or AMAZON.
	FulfilledBy  string
	Programs     []string
	ServiceLevel string
	ShipBy       time.Time
	DeliverBy    time.Time
	Buyer        AmazonBuyer
	Address      AmazonAddress
	Items        []AmazonOrderItem
	Packages     []AmazonPackage
	// ReplacementOf is the id of the order this one replaces (rendered as
	// associatedOrders REPLACEMENT_ORIGINAL_ID; ORDER_CHANGE program
	// "Replacement").
	ReplacementOf string
	// IOSSNumber is Amazon's Import One-Stop Shop number, set on every line
	// (fulfillment.shipping.internationalShipping.iossNumber) of a
	// merchant order shipped into the EU from outside it with an intrinsic
	// value of at most EUR 150.
	IOSSNumber string
	// TaxRegistrations are rendered as tax.taxRegistrations (includedData
	// TAX); business orders shipped to Europe carry the buyer's VAT number.
	TaxRegistrations []AmazonTaxRegistration
	// CancelledBy (BUYER, MERCHANT or AMAZON) and CancelReason describe
	// the cancellation of a CANCELLED order (cancellationExecution).
	CancelledBy, CancelReason string
}

// PIIValues are the buyer and recipient values of o that must never reach
// a log. Each name, e-mail, phone and address line carries the order's
// distinctive random token; a buyer's tax registration number is random
// and unique to the order.
func (o AmazonOrder) PIIValues() []string {
	vals := []string{o.Buyer.Name, o.Buyer.Email, o.Buyer.CompanyName, o.Address.Name,
		o.Address.CompanyName, o.Address.AddressLine1, o.Address.AddressLine2, o.Address.Phone}
	for _, r := range o.TaxRegistrations {
		if r.EntityType == "BUYER" {
			vals = append(vals, r.LegalName, r.Number)
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range vals {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// CancelRequested reports whether the buyer asked to cancel any line.
func (o AmazonOrder) CancelRequested() bool {
	for _, it := range o.Items {
		if it.CancelRequester != "" {
			return true
		}
	}
	return false
}

func (o *AmazonOrder) clone() AmazonOrder {
	c := *o
	c.Programs = append([]string(nil), o.Programs...)
	c.Items = append([]AmazonOrderItem(nil), o.Items...)
	c.TaxRegistrations = append([]AmazonTaxRegistration(nil), o.TaxRegistrations...)
	c.Packages = make([]AmazonPackage, len(o.Packages))
	for i, p := range o.Packages {
		p.Items = append([]AmazonPackageItem(nil), p.Items...)
		c.Packages[i] = p
	}
	return c
}

// AmazonStats are the SP-API and LWA counters.
type AmazonStats struct {
	// Requests counts SP-API requests per operation (admin excluded).
	Requests map[string]int64 `json:"requests"`
	// Throttled counts 429s per operation from exhausted buckets.
	Throttled map[string]int64 `json:"throttled_429"`
	// Injected429 and Injected5xx count answers forced by the fault knobs.
	Injected429 int64 `json:"injected_429"`
	Injected5xx int64 `json:"injected_5xx"`
	// Unauthorized counts 403 Unauthorized answers (missing/expired token).
	Unauthorized int64 `json:"unauthorized_403"`
	// TokensIssued counts successful LWA token grants; TokenErrors failed ones.
	TokensIssued int64 `json:"tokens_issued"`
	TokenErrors  int64 `json:"token_errors"`
	// PackagesRecorded counts new packages stored by confirmShipment;
	// PackagesEdited counts confirmations that replaced a package with the
	// same packageReferenceId (an edit).
	PackagesRecorded int64 `json:"packages_recorded"`
	PackagesEdited   int64 `json:"packages_edited"`
	// UnknownCarrierDropped counts confirmations answered 204 but not
	// recorded because carrierCode is not in AmazonCarrierCodes.
	UnknownCarrierDropped int64 `json:"unknown_carrier_dropped"`
	// NotificationsQueued counts ORDER_CHANGE bodies queued (duplicates
	// included); NotificationsDropped those lost by AmazonNotifyKnobs.
	NotificationsQueued  int64 `json:"notifications_queued"`
	NotificationsDropped int64 `json:"notifications_dropped"`
}

type amzToken struct {
	refresh string
	expires time.Time
}

type amzBucket struct {
	rate   float64 // tokens per second (already sped up)
	burst  float64
	tokens float64
	last   time.Time
}

func (b *amzBucket) take(now time.Time) bool {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

type amzPage struct {
	ids         []string
	offset, max int
	included    map[string]bool
	before      string // "lastUpdatedBefore" or "createdBefore"
	beforeVal   time.Time
	expires     time.Time
}

// Amazon is the simulated Selling Partner API with its LWA token endpoint.
// All methods are safe for concurrent use.
type Amazon struct {
	opts AmazonOptions
	now  func() time.Time

	mu       sync.Mutex
	rng      *rand.Rand
	faults   Faults
	refresh  map[string]bool // refresh token → still valid
	access   map[string]amzToken
	orders   map[string]*AmazonOrder
	buckets  map[string]*amzBucket
	rates    map[string]AmazonRate
	pages    map[string]*amzPage
	stats    AmazonStats
	seq      int
	tokenSeq int

	notifyKnobs AmazonNotifyKnobs
	outbox      [][]byte

	handler    http.Handler
	lwaHandler http.Handler
}

// NewAmazon builds an Amazon simulator from opts, filling in defaults.
func NewAmazon(opts AmazonOptions) *Amazon {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultAmazonClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultAmazonClientSecret
	}
	if len(opts.RefreshTokens) == 0 {
		opts.RefreshTokens = []string{DefaultAmazonRefreshToken}
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultAmazonTokenTTL
	}
	if opts.SellerID == "" {
		opts.SellerID = DefaultAmazonSellerID
	}
	if opts.SpeedUp <= 0 {
		opts.SpeedUp = 1
	}
	if opts.SearchLag == 0 {
		opts.SearchLag = DefaultAmazonSearchLag
	} else if opts.SearchLag < 0 {
		opts.SearchLag = 0
	}
	rates := DefaultAmazonRates()
	for k, v := range opts.Rates {
		rates[k] = v
	}
	a := &Amazon{
		opts:    opts,
		now:     opts.Now,
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x616d617a6f6e)), // "amazon"
		faults:  opts.Faults,
		refresh: map[string]bool{},
		access:  map[string]amzToken{},
		orders:  map[string]*AmazonOrder{},
		buckets: map[string]*amzBucket{},
		rates:   rates,
		pages:   map[string]*amzPage{},
		stats:   AmazonStats{Requests: map[string]int64{}, Throttled: map[string]int64{}},
	}
	for _, t := range opts.RefreshTokens {
		a.refresh[t] = true
	}
	a.handler = a.buildHandler()
	a.lwaHandler = a.buildLWAHandler()
	return a
}

// Handler serves the SP-API (Orders v2026-01-01 reads, v0 confirmShipment)
// and the admin endpoints under /_sandbox/.
func (a *Amazon) Handler() http.Handler { return a.handler }

// LWAHandler serves the Login with Amazon token endpoint POST /auth/o2/token.
func (a *Amazon) LWAHandler() http.Handler { return a.lwaHandler }

// Close releases the simulator. It starts no goroutines, so Close only
// exists for symmetry with Sandbox and future background work.
func (a *Amazon) Close() {}

// SellerID is the simulated seller's merchant token.
func (a *Amazon) SellerID() string { return a.opts.SellerID }

// SetFaults replaces the fault knobs.
func (a *Amazon) SetFaults(f Faults) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = f
}

// AddRefreshToken makes token an accepted refresh token (a new seller
// authorization).
func (a *Amazon) AddRefreshToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refresh[token] = true
}

// RevokeRefreshToken revokes a refresh token, as when the seller removes the
// app's authorization: further grants with it fail with invalid_grant.
// Access tokens already issued stay valid until they expire, as with LWA.
func (a *Amazon) RevokeRefreshToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.refresh[token]; ok {
		a.refresh[token] = false
	}
}

// ExpireAccessTokens makes every access token issued so far invalid.
func (a *Amazon) ExpireAccessTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access = map[string]amzToken{}
}

// Stats returns a copy of the counters.
func (a *Amazon) Stats() AmazonStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.stats
	out.Requests = make(map[string]int64, len(a.stats.Requests))
	for k, v := range a.stats.Requests {
		out.Requests[k] = v
	}
	out.Throttled = make(map[string]int64, len(a.stats.Throttled))
	for k, v := range a.stats.Throttled {
		out.Throttled[k] = v
	}
	return out
}

// Order returns a copy of the order with the given id.
func (a *Amazon) Order(id string) (AmazonOrder, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[id]
	if !ok {
		return AmazonOrder{}, false
	}
	return o.clone(), true
}

// Orders returns copies of all orders, oldest first.
func (a *Amazon) Orders() []AmazonOrder {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AmazonOrder, 0, len(a.orders))
	for _, o := range a.orders {
		out = append(out, o.clone())
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].OrderID < out[j].OrderID
	})
	return out
}

// Packages returns the packages recorded for an order.
func (a *Amazon) Packages(orderID string) []AmazonPackage {
	o, _ := a.Order(orderID)
	return o.Packages
}

// ErrAmazonTransition is returned by status changes the order's state forbids.
var ErrAmazonTransition = errors.New("sandbox: invalid Amazon order transition")

// MarkUnshipped moves a PENDING order to UNSHIPPED (payment authorized).
func (a *Amazon) MarkUnshipped(orderID string) error {
	return a.transition(orderID, func(o *AmazonOrder) error {
		if o.Status != AmazonPending {
			return fmt.Errorf("%w: %s is %s, not PENDING", ErrAmazonTransition, orderID, o.Status)
		}
		o.Status = AmazonUnshipped
		return nil
	})
}

// CancelOrder cancels an order that has not shipped anything yet. The
// cancellation is the buyer's (cancelledBy BUYER, with the buyer's reason)
// when the buyer requested it with RequestCancel, else Amazon's; see
// CancelOrderBy.
func (a *Amazon) CancelOrder(orderID string) error {
	return a.CancelOrderBy(orderID, "", "")
}

// CancelOrderBy cancels an order that has not shipped anything yet,
// recording who executed the cancellation (AmazonCancelByBuyer,
// AmazonCancelByMerchant or AmazonCancelByAmazon; "" picks BUYER after a
// RequestCancel, else AMAZON) and why ("": the buyer's reason, if any). It
// queues an OrderStatusChange (Canceled).
func (a *Amazon) CancelOrderBy(orderID, cancelledBy, reason string) error {
	switch cancelledBy {
	case "", AmazonCancelByBuyer, AmazonCancelByMerchant, AmazonCancelByAmazon:
	default:
		return fmt.Errorf("sandbox: unknown Amazon cancelledBy %q", cancelledBy)
	}
	return a.transition(orderID, func(o *AmazonOrder) error {
		if o.Status != AmazonPending && o.Status != AmazonUnshipped {
			return fmt.Errorf("%w: %s is %s", ErrAmazonTransition, orderID, o.Status)
		}
		requested, requestReason := false, ""
		for _, it := range o.Items {
			if it.CancelRequester != "" {
				requested, requestReason = true, it.CancelRequestReason
				break
			}
		}
		if cancelledBy == "" {
			cancelledBy = AmazonCancelByAmazon
			if requested {
				cancelledBy = AmazonCancelByBuyer
			}
		}
		if reason == "" && requested && cancelledBy == AmazonCancelByBuyer {
			reason = requestReason
		}
		o.Status = AmazonCancelled
		o.CancelledBy, o.CancelReason = cancelledBy, reason
		return nil
	})
}

// RequestCancel records a buyer's cancellation request on a PENDING or
// UNSHIPPED merchant-fulfilled order: every line gets
// cancellation.cancellationRequest{requester: BUYER, cancelReason: reason}
// (getOrder with includedData CANCELLATION), lastUpdatedTime moves, and a
// BuyerRequestedChange ORDER_CHANGE whose items carry
// IsBuyerRequestedCancel true is queued. The order keeps its status: the
// seller is expected to stop shipping and Amazon (CancelOrder) to cancel.
// A second request for the same order fails with ErrAmazonTransition.
func (a *Amazon) RequestCancel(orderID, reason string) error {
	return a.change(orderID, "BuyerRequestedChange", "Buyer Requested Cancel", func(o *AmazonOrder) error {
		switch {
		case o.FulfilledBy != "MERCHANT":
			return fmt.Errorf("%w: %s is fulfilled by %s", ErrAmazonTransition, orderID, o.FulfilledBy)
		case o.Status != AmazonPending && o.Status != AmazonUnshipped:
			return fmt.Errorf("%w: %s is %s", ErrAmazonTransition, orderID, o.Status)
		case o.CancelRequested():
			return fmt.Errorf("%w: %s already has a cancellation request", ErrAmazonTransition, orderID)
		}
		for i := range o.Items {
			o.Items[i].CancelRequester = AmazonCancelByBuyer
			o.Items[i].CancelRequestReason = reason
		}
		return nil
	})
}

// transition applies a status change and queues an OrderStatusChange.
func (a *Amazon) transition(orderID string, fn func(o *AmazonOrder) error) error {
	return a.change(orderID, "", "", fn)
}

// change applies fn to the order, touches it and queues an ORDER_CHANGE of
// changeType ("" = OrderStatusChange with the standard reason).
func (a *Amazon) change(orderID, changeType, reason string, fn func(o *AmazonOrder) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[orderID]
	if !ok {
		return fmt.Errorf("sandbox: no Amazon order %s", orderID)
	}
	if err := fn(o); err != nil {
		return err
	}
	a.touch(o)
	a.queueChange(o, changeType, reason)
	return nil
}

// touch sets LastUpdated to now, strictly after the previous value.
func (a *Amazon) touch(o *AmazonOrder) {
	now := a.now().UTC()
	if !now.After(o.LastUpdated) {
		now = o.LastUpdated.Add(time.Millisecond)
	}
	o.LastUpdated = now
}

// AddOrder stores o as given (OrderID required), replacing any order with
// the same id. Created and LastUpdated default to now.
func (a *Amazon) AddOrder(o AmazonOrder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now().UTC()
	if o.Created.IsZero() {
		o.Created = now
	}
	if o.LastUpdated.IsZero() {
		o.LastUpdated = o.Created
	}
	c := o.clone()
	a.orders[o.OrderID] = &c
}
