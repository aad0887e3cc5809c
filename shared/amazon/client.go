package amazon

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
)

// Operation names, used in errors and as keys of Limits.
const (
	OpSearchOrders    = "amazon.SearchOrders"
	OpGetOrder        = "amazon.GetOrder"
	OpConfirmShipment = "amazon.ConfirmShipment"
)

// Limits is Amazon's published default usage plan (rate per second, burst)
// of each operation the client calls. A 429 carries no Retry-After, so the
// wait asked for is derived from these rates.
var Limits = map[string]ratelimit.Limit{
	OpSearchOrders:    {Rate: 0.0056, Burst: 20}, // Orders v2026-01-01 searchOrders
	OpGetOrder:        {Rate: 0.5, Burst: 30},    // Orders v2026-01-01 getOrder
	OpConfirmShipment: {Rate: 2, Burst: 10},      // Orders v0 confirmShipment
}

// Regional SP-API endpoints.
const (
	EndpointNA = "https://sellingpartnerapi-na.amazon.com"
	EndpointEU = "https://sellingpartnerapi-eu.amazon.com"
	EndpointFE = "https://sellingpartnerapi-fe.amazon.com"
)

// marketplaceEndpoint maps the marketplace ids we know to their region.
var marketplaceEndpoint = map[string]string{
	"ATVPDKIKX0DER":  EndpointNA, // US
	"A2EUQ1WTGCTBG2": EndpointNA, // CA
	"A1AM78C64UM0Y8": EndpointNA, // MX
	"A2Q3Y263D00KWC": EndpointNA, // BR
	"A1F83G8C2ARO7P": EndpointEU, // UK
	"A1PA6795UKMFR9": EndpointEU, // DE
	"A13V1IB3VIYZZH": EndpointEU, // FR
	"APJ6JRA9NG5V4":  EndpointEU, // IT
	"A1RKKUPIHCS9HS": EndpointEU, // ES
	"A1VC38T7YXB528": EndpointFE, // JP
	"A39IBJ37TRP1C6": EndpointFE, // AU
}

// EndpointFor returns the regional SP-API host of a marketplace; ok is false
// for a marketplace not in the table.
func EndpointFor(marketplaceID string) (string, bool) {
	e, ok := marketplaceEndpoint[marketplaceID]
	return e, ok
}

// TokenSource supplies access tokens; *LWA is one.
type TokenSource interface {
	// Token returns a valid access token.
	Token(ctx context.Context) (string, error)
	// Invalidate drops token from any cache after the API rejected it.
	Invalidate(token string)
}

// Client calls the SP-API for one seller. Tokens and MarketplaceID are
// required; the rest is optional.
type Client struct {
	// MarketplaceID is the seller's home marketplace: it picks the regional
	// endpoint and is the default marketplace of calls.
	MarketplaceID string
	// BaseURL overrides the regional endpoint (sandbox, tests).
	BaseURL string
	// Tokens supplies the x-amz-access-token.
	Tokens TokenSource
	// HTTP is the client used; nil means one with DefaultTimeout.
	HTTP *http.Client
	// Budget is the shared rate budget; nil means no budgeting.
	Budget ratelimit.Budget
	// BudgetKey prefixes the per-operation bucket names
	// ("<BudgetKey>:<operation>"); empty means "amazon:<MarketplaceID>".
	BudgetKey string
	// MaxWait is the longest a request sleeps for budget.
	MaxWait time.Duration
	// Limits overrides the usage plan of some operations (a sandbox sped
	// up for demos); operations not in it keep the published Limits.
	Limits map[string]ratelimit.Limit
}

// limit returns op's usage plan: the override, else the published one.
func (c *Client) limit(op string) ratelimit.Limit {
	if l, ok := c.Limits[op]; ok {
		return l
	}
	return Limits[op]
}

func (c *Client) base() (string, error) {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/"), nil
	}
	if e, ok := EndpointFor(c.MarketplaceID); ok {
		return e, nil
	}
	return "", errors.New("unknown marketplace: no SP-API endpoint for it")
}

// do sends one call; on 401/403 it drops the token and retries once with a
// fresh one.
func (c *Client) do(ctx context.Context, op, what, method, path string, q url.Values, in, out any) (int, error) {
	if c.Tokens == nil {
		return 0, httpapi.Fail(errs.Unauthorised, op, what, errors.New("no token source configured"))
	}
	base, err := c.base()
	if err != nil {
		return 0, httpapi.Fail(errs.Invalid, op, what, err)
	}
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for attempt := 1; ; attempt++ {
		tok, err := c.Tokens.Token(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		status, err := c.caller(op, tok).Do(ctx, op, what, method, u, in, out)
		if err == nil || (status != http.StatusUnauthorized && status != http.StatusForbidden) {
			return status, err
		}
		c.Tokens.Invalidate(tok)
		if attempt == 2 {
			return status, err
		}
	}
}

func (c *Client) caller(op, tok string) *httpapi.Caller {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	key := cmp.Or(c.BudgetKey, "amazon:"+c.MarketplaceID) + ":" + op
	return &httpapi.Caller{
		HTTP:      hc,
		Budget:    c.Budget,
		BudgetKey: key,
		Limit:     c.limit(op),
		MaxWait:   c.MaxWait,
		Authorize: func(r *http.Request) { r.Header.Set("x-amz-access-token", tok) },
		Classify:  classifier(c.limit(op)),
		Message:   vendorMessage,
	}
}

// classifier classifies a non-2xx response of an operation with usage plan
// lim: a 429 (QuotaExceeded, no Retry-After) asks for one token's worth of
// the operation's rate.
func classifier(lim ratelimit.Limit) func(*http.Response) (errs.Kind, time.Duration) {
	return func(resp *http.Response) (errs.Kind, time.Duration) {
		if resp.StatusCode == http.StatusTooManyRequests {
			if d := httpapi.RetryAfter(resp.Header); d > 0 {
				return errs.Transient, d
			}
			return errs.Transient, throttleWait(lim)
		}
		return httpapi.StatusKind(resp.StatusCode), 0
	}
}

// ThrottleWait is how long to wait after a 429 of op: the time its bucket
// takes to refill one request.
func ThrottleWait(op string) time.Duration { return throttleWait(Limits[op]) }

func throttleWait(lim ratelimit.Limit) time.Duration {
	if lim.Rate <= 0 {
		return time.Minute
	}
	return time.Duration(float64(time.Second) / lim.Rate)
}

// vendorMessage reads {"errors":[{"code","message","details"}]}, keeping
// only the first error's code and message.
func vendorMessage(b []byte) string {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &body) != nil || len(body.Errors) == 0 {
		return ""
	}
	e := body.Errors[0]
	if e.Code == "" {
		return e.Message
	}
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// orderIDPattern bounds an order id put into a path.
var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// Order is the part of a v2026-01-01 order shiprelay reads.
type Order struct {
	OrderID string `json:"orderId"`
	// OrderAliases are other ids of the order (SELLER_ORDER_ID).
	OrderAliases    []OrderAlias `json:"orderAliases,omitempty"`
	CreatedTime     time.Time    `json:"createdTime"`
	LastUpdatedTime time.Time    `json:"lastUpdatedTime"`
	Programs        []string     `json:"programs,omitempty"`
	// AssociatedOrders names the order a replacement or exchange replaces.
	AssociatedOrders []AssociatedOrder `json:"associatedOrders,omitempty"`
	SalesChannel     SalesChannel      `json:"salesChannel"`
	Buyer            *Buyer            `json:"buyer,omitempty"`     // includedData=BUYER; see wire_extra.go
	Recipient        *Recipient        `json:"recipient,omitempty"` // includedData=RECIPIENT
	Proceeds         *OrderProceeds    `json:"proceeds,omitempty"`  // includedData=PROCEEDS
	Tax              *OrderTax         `json:"tax,omitempty"`       // includedData=TAX
	Fulfillment      *Fulfillment      `json:"fulfillment,omitempty"`
	OrderItems       []OrderItem       `json:"orderItems"`
	Packages         []OrderPackage    `json:"packages,omitempty"`
}

// SalesChannel is where the order was placed.
type SalesChannel struct {
	ChannelName     string `json:"channelName"`
	MarketplaceID   string `json:"marketplaceId,omitempty"`
	MarketplaceName string `json:"marketplaceName,omitempty"`
}

// Fulfillment is an order's fulfilment status and windows.
type Fulfillment struct {
	FulfillmentStatus       string         `json:"fulfillmentStatus"`
	FulfilledBy             string         `json:"fulfilledBy,omitempty"`
	FulfillmentServiceLevel string         `json:"fulfillmentServiceLevel,omitempty"`
	ShipByWindow            *DateTimeRange `json:"shipByWindow,omitempty"`
	DeliverByWindow         *DateTimeRange `json:"deliverByWindow,omitempty"`
}

// DateTimeRange is a time window.
type DateTimeRange struct {
	EarliestDateTime *time.Time `json:"earliestDateTime,omitempty"`
	LatestDateTime   *time.Time `json:"latestDateTime,omitempty"`
}

// OrderItem is one order line.
type OrderItem struct {
	OrderItemID     string `json:"orderItemId"`
	QuantityOrdered int    `json:"quantityOrdered"`
	// AssociatedOrderItems lists lines bought with this one (a
	// VALUE_ADD_SERVICE line, e.g. an installation, is not physical).
	AssociatedOrderItems []AssociatedOrderItem `json:"associatedOrderItems,omitempty"`
	Product              ItemProduct           `json:"product"`
	// Cancellation is a cancellation asked for or done (includedData=CANCELLATION).
	Cancellation *ItemCancellation `json:"cancellation,omitempty"`
	Fulfillment  *ItemFulfillment  `json:"fulfillment,omitempty"`
}

// ItemProduct is the product of a line.
type ItemProduct struct {
	ASIN      string         `json:"asin,omitempty"`
	Title     string         `json:"title,omitempty"`
	SellerSKU string         `json:"sellerSku,omitempty"`
	Condition *ItemCondition `json:"condition,omitempty"`
	Price     *ItemPrice     `json:"price,omitempty"`
}

// ItemPrice is a line's unit price.
type ItemPrice struct {
	UnitPrice *Money `json:"unitPrice,omitempty"`
}

// Money is an exact decimal amount in a currency.
type Money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// ItemFulfillment is how much of a line has shipped and how it ships.
type ItemFulfillment struct {
	QuantityFulfilled   int `json:"quantityFulfilled"`
	QuantityUnfulfilled int `json:"quantityUnfulfilled"`
	// Shipping carries the line's IOSS number (includedData=FULFILLMENT).
	Shipping *ItemShipping `json:"shipping,omitempty"`
}

// OrderPackage is a package already confirmed on a merchant-fulfilled order.
type OrderPackage struct {
	PackageReferenceID string `json:"packageReferenceId"`
	TrackingNumber     string `json:"trackingNumber,omitempty"`
}

// GetOrder reads one order (v2026-01-01 getOrder) with the extra
// includedData sections asked for (BUYER, RECIPIENT, FULFILLMENT, PACKAGES, …).
func (c *Client) GetOrder(ctx context.Context, orderID string, includedData []string) (Order, error) {
	what := "order " + orderID
	if !orderIDPattern.MatchString(orderID) {
		return Order{}, httpapi.Fail(errs.Invalid, OpGetOrder, "", errors.New("malformed order id"))
	}
	q := url.Values{}
	if len(includedData) > 0 {
		q.Set("includedData", strings.Join(includedData, ","))
	}
	var out struct {
		Order *Order `json:"order"`
	}
	if _, err := c.do(ctx, OpGetOrder, what, http.MethodGet, "/orders/2026-01-01/orders/"+url.PathEscape(orderID), q, nil, &out); err != nil {
		return Order{}, err
	}
	if out.Order == nil {
		return Order{}, httpapi.Fail(errs.Invalid, OpGetOrder, what, errors.New("response has no order"))
	}
	return *out.Order, nil
}

// SearchQuery is a searchOrders filter. Exactly one of CreatedAfter and
// LastUpdatedAfter is required unless PaginationToken is set.
type SearchQuery struct {
	// CreatedAfter selects orders created after it.
	CreatedAfter time.Time
	// LastUpdatedAfter selects orders updated after it (the poll watermark).
	LastUpdatedAfter time.Time
	// LastUpdatedBefore bounds the window (at least 2 minutes before now).
	LastUpdatedBefore time.Time
	// MarketplaceIDs limits the marketplaces (≤ 50); empty means the client's.
	MarketplaceIDs []string
	// FulfillmentStatuses filters by v2026 status (UNSHIPPED, …).
	FulfillmentStatuses []string
	// FulfilledBy filters by MERCHANT or AMAZON.
	FulfilledBy []string
	// MaxResultsPerPage is 1–100; zero leaves Amazon's default.
	MaxResultsPerPage int
	// PaginationToken continues a previous search (valid 24 h).
	PaginationToken string
	// IncludedData asks for extra sections.
	IncludedData []string
}

// SearchResult is one page of searchOrders.
type SearchResult struct {
	Orders []Order `json:"orders"`
	// NextToken continues the search; empty on the last page.
	NextToken string `json:"-"`
	// LastUpdatedBefore is the end of the window searched: the next watermark.
	LastUpdatedBefore *time.Time `json:"lastUpdatedBefore,omitempty"`
	// Pagination is the wire form of NextToken.
	Pagination *struct {
		NextToken string `json:"nextToken,omitempty"`
	} `json:"pagination,omitempty"`
}

func (q SearchQuery) values(home string) (url.Values, error) {
	v := url.Values{}
	if q.CreatedAfter.IsZero() == q.LastUpdatedAfter.IsZero() && q.PaginationToken == "" {
		return nil, errors.New("exactly one of CreatedAfter and LastUpdatedAfter is required")
	}
	if !q.CreatedAfter.IsZero() {
		v.Set("createdAfter", q.CreatedAfter.UTC().Format(time.RFC3339))
	}
	if !q.LastUpdatedAfter.IsZero() {
		v.Set("lastUpdatedAfter", q.LastUpdatedAfter.UTC().Format(time.RFC3339))
	}
	if !q.LastUpdatedBefore.IsZero() {
		v.Set("lastUpdatedBefore", q.LastUpdatedBefore.UTC().Format(time.RFC3339))
	}
	ids := q.MarketplaceIDs
	if len(ids) == 0 && home != "" {
		ids = []string{home}
	}
	if len(ids) > 50 {
		return nil, errors.New("more than 50 marketplace ids")
	}
	if len(ids) > 0 {
		v.Set("marketplaceIds", strings.Join(ids, ","))
	}
	if len(q.FulfillmentStatuses) > 0 {
		v.Set("fulfillmentStatuses", strings.Join(q.FulfillmentStatuses, ","))
	}
	if len(q.FulfilledBy) > 0 {
		v.Set("fulfilledBy", strings.Join(q.FulfilledBy, ","))
	}
	if q.MaxResultsPerPage != 0 {
		if q.MaxResultsPerPage < 1 || q.MaxResultsPerPage > 100 {
			return nil, errors.New("MaxResultsPerPage must be 1–100")
		}
		v.Set("maxResultsPerPage", strconv.Itoa(q.MaxResultsPerPage))
	}
	if q.PaginationToken != "" {
		v.Set("paginationToken", q.PaginationToken)
	}
	if len(q.IncludedData) > 0 {
		v.Set("includedData", strings.Join(q.IncludedData, ","))
	}
	return v, nil
}

// SearchOrders reads one page of orders (v2026-01-01 searchOrders). It is
// limited to about one call every three minutes: poll incrementally.
func (c *Client) SearchOrders(ctx context.Context, q SearchQuery) (SearchResult, error) {
	v, err := q.values(c.MarketplaceID)
	if err != nil {
		return SearchResult{}, httpapi.Fail(errs.Invalid, OpSearchOrders, "", err)
	}
	var out SearchResult
	if _, err := c.do(ctx, OpSearchOrders, "", http.MethodGet, "/orders/2026-01-01/orders", v, nil, &out); err != nil {
		return SearchResult{}, err
	}
	if out.Orders == nil {
		return SearchResult{}, httpapi.Fail(errs.Invalid, OpSearchOrders, "", errors.New("response has no orders"))
	}
	if out.Pagination != nil {
		out.NextToken = out.Pagination.NextToken
	}
	return out, nil
}

// ConfirmShipmentRequest is the v0 confirmShipment body.
type ConfirmShipmentRequest struct {
	// MarketplaceID is the order's marketplace; empty means the client's.
	MarketplaceID string        `json:"marketplaceId"`
	PackageDetail PackageDetail `json:"packageDetail"`
}

// PackageDetail is one package of a shipment confirmation.
type PackageDetail struct {
	// PackageReferenceID identifies the package within the order: a
	// positive integer, sent as a JSON string.
	PackageReferenceID string `json:"packageReferenceId"`
	// CarrierCode must match Amazon's list exactly, or be "Other".
	CarrierCode string `json:"carrierCode"`
	// CarrierName is required when CarrierCode is "Other".
	CarrierName    string `json:"carrierName,omitempty"`
	ShippingMethod string `json:"shippingMethod,omitempty"`
	TrackingNumber string `json:"trackingNumber"`
	// ShipDate is sent in ISO 8601 (UTC).
	ShipDate   time.Time             `json:"shipDate"`
	OrderItems []ConfirmShipmentItem `json:"orderItems"`
}

// ConfirmShipmentItem is a line and the quantity in the package.
type ConfirmShipmentItem struct {
	OrderItemID string `json:"orderItemId"`
	Quantity    int    `json:"quantity"`
}

// validate checks what Amazon would otherwise reject with an opaque 400.
func (r ConfirmShipmentRequest) validate() error {
	p := r.PackageDetail
	n, err := strconv.ParseUint(p.PackageReferenceID, 10, 63)
	switch {
	case r.MarketplaceID == "":
		return errors.New("marketplaceId is required")
	case err != nil || n == 0 || strconv.FormatUint(n, 10) != p.PackageReferenceID:
		return errors.New("packageReferenceId must be a positive integer")
	case p.CarrierCode == "":
		return errors.New("carrierCode is required")
	case p.CarrierCode == "Other" && p.CarrierName == "":
		return errors.New(`carrierName is required with carrierCode "Other"`)
	case p.TrackingNumber == "":
		return errors.New("trackingNumber is required")
	case p.ShipDate.IsZero():
		return errors.New("shipDate is required")
	case len(p.OrderItems) == 0:
		return errors.New("orderItems is required")
	}
	for i, it := range p.OrderItems {
		if it.OrderItemID == "" || it.Quantity < 1 {
			return fmt.Errorf("orderItems[%d] needs an orderItemId and a positive quantity", i)
		}
	}
	return nil
}

// ConfirmShipment confirms one package of a merchant-fulfilled order (v0
// confirmShipment; 204 on success). Re-sending the same packageReferenceId
// edits that package.
func (c *Client) ConfirmShipment(ctx context.Context, orderID string, req ConfirmShipmentRequest) error {
	what := "order " + orderID
	if !orderIDPattern.MatchString(orderID) {
		return httpapi.Fail(errs.Invalid, OpConfirmShipment, "", errors.New("malformed order id"))
	}
	req.MarketplaceID = cmp.Or(req.MarketplaceID, c.MarketplaceID)
	req.PackageDetail.ShipDate = req.PackageDetail.ShipDate.UTC()
	if err := req.validate(); err != nil {
		return httpapi.Fail(errs.Invalid, OpConfirmShipment, what, err)
	}
	_, err := c.do(ctx, OpConfirmShipment, what, http.MethodPost,
		"/orders/v0/orders/"+url.PathEscape(orderID)+"/shipmentConfirmation", nil, req, nil)
	return err
}
