package shipstation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// QueryTimeLayout is how date-time filters are written in a V1 query
// string: US Pacific wall-clock time.
const QueryTimeLayout = "2006-01-02 15:04:05"

// ShipmentItem is one line of a label (a shipment's shipmentItems).
// Money fields are JSON numbers held as text.
type ShipmentItem struct {
	OrderItemID int64 `json:"orderItemId,omitempty"`
	// LineItemKey is the channel's line id, as we sent it on the order.
	LineItemKey       string       `json:"lineItemKey,omitempty"`
	SKU               string       `json:"sku,omitempty"`
	Name              string       `json:"name"`
	ImageURL          string       `json:"imageUrl,omitempty"`
	Weight            *Weight      `json:"weight,omitempty"`
	Quantity          int          `json:"quantity"`
	UnitPrice         json.Number  `json:"unitPrice,omitempty"`
	TaxAmount         json.Number  `json:"taxAmount,omitempty"`
	ShippingAmount    json.Number  `json:"shippingAmount,omitempty"`
	WarehouseLocation string       `json:"warehouseLocation,omitempty"`
	Options           []ItemOption `json:"options,omitempty"`
	// ProductID is ShipStation's own product id.
	ProductID      int64  `json:"productId,omitempty"`
	FulfillmentSKU string `json:"fulfillmentSku,omitempty"`
	// Adjustment marks a non-physical line such as a discount.
	Adjustment bool   `json:"adjustment,omitempty"`
	UPC        string `json:"upc,omitempty"`
}

// Shipment is a V1 shipment: one label ShipStation created. A voided label
// stays listed with Voided set. One order can have several shipments
// (packages, re-labels), and one batch several orders.
type Shipment struct {
	ShipmentID int64 `json:"shipmentId"`
	// OrderID is ShipStation's order id; OrderKey is ours.
	OrderID       int64  `json:"orderId"`
	OrderKey      string `json:"orderKey"`
	UserID        string `json:"userId,omitempty"`
	CustomerEmail string `json:"customerEmail,omitempty"`
	OrderNumber   string `json:"orderNumber"`
	CreateDate    Time   `json:"createDate,omitzero"`
	// ShipDate is a date ("2026-11-21"): it decodes to midnight US Pacific.
	ShipDate            Time              `json:"shipDate,omitzero"`
	ShipmentCost        json.Number       `json:"shipmentCost,omitempty"`
	InsuranceCost       json.Number       `json:"insuranceCost,omitempty"`
	TrackingNumber      string            `json:"trackingNumber"`
	IsReturnLabel       bool              `json:"isReturnLabel"`
	BatchNumber         string            `json:"batchNumber,omitempty"`
	CarrierCode         string            `json:"carrierCode"`
	ServiceCode         string            `json:"serviceCode,omitempty"`
	PackageCode         string            `json:"packageCode,omitempty"`
	Confirmation        string            `json:"confirmation,omitempty"`
	WarehouseID         int64             `json:"warehouseId,omitempty"`
	Voided              bool              `json:"voided"`
	VoidDate            Time              `json:"voidDate,omitzero"`
	MarketplaceNotified bool              `json:"marketplaceNotified"`
	NotifyErrorMessage  string            `json:"notifyErrorMessage,omitempty"`
	ShipTo              Address           `json:"shipTo"`
	Weight              *Weight           `json:"weight,omitempty"`
	Dimensions          *Dimensions       `json:"dimensions,omitempty"`
	InsuranceOptions    *InsuranceOptions `json:"insuranceOptions,omitempty"`
	AdvancedOptions     AdvancedOptions   `json:"advancedOptions,omitzero"`
	// ShipmentItems is empty unless includeShipmentItems=True was asked for.
	ShipmentItems []ShipmentItem `json:"shipmentItems"`
	// LabelData and FormData are base64 documents, usually null in lists.
	LabelData string `json:"labelData,omitempty"`
	FormData  string `json:"formData,omitempty"`
}

// ShipmentsPage is one page of GET /shipments.
type ShipmentsPage struct {
	Shipments []Shipment `json:"shipments"`
	Total     int        `json:"total"`
	Page      int        `json:"page"`
	Pages     int        `json:"pages"`
}

// ShipmentsQuery filters GET /shipments. Zero fields are not sent; times
// are sent as US Pacific wall-clock time (QueryTimeLayout).
type ShipmentsQuery struct {
	BatchID                        string
	OrderID                        int64
	CreateDateStart, CreateDateEnd time.Time
	ShipDateStart, ShipDateEnd     time.Time
	// VoidDateStart and VoidDateEnd select labels voided in a window: a void
	// fires no webhook, so the pull asks for them by void date.
	VoidDateStart, VoidDateEnd time.Time
	StoreID                    int64
	// IncludeShipmentItems asks for the lines of each label.
	IncludeShipmentItems bool
	// SortBy is "ShipDate" or "CreateDate"; SortDir "ASC" or "DESC".
	SortBy, SortDir string
	// Page is 1-based; PageSize defaults to 100 and is at most MaxPageSize.
	Page, PageSize int
}

func (q ShipmentsQuery) values() (url.Values, error) {
	if q.Page < 0 || q.PageSize < 0 || q.StoreID < 0 || q.OrderID < 0 {
		return nil, errors.New("page, pageSize, storeId and orderId must not be negative")
	}
	if q.PageSize > MaxPageSize {
		return nil, errors.New("pageSize must be at most " + strconv.Itoa(MaxPageSize))
	}
	if q.SortBy != "" && q.SortBy != "ShipDate" && q.SortBy != "CreateDate" {
		return nil, errors.New("sortBy must be ShipDate or CreateDate")
	}
	if q.SortDir != "" && q.SortDir != "ASC" && q.SortDir != "DESC" {
		return nil, errors.New("sortDir must be ASC or DESC")
	}
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(n int64) string {
		if n <= 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(pacific).Format(QueryTimeLayout)
	}
	set("batchId", q.BatchID)
	set("orderId", num(q.OrderID))
	set("createDateStart", at(q.CreateDateStart))
	set("createDateEnd", at(q.CreateDateEnd))
	set("shipDateStart", at(q.ShipDateStart))
	set("shipDateEnd", at(q.ShipDateEnd))
	set("voidDateStart", at(q.VoidDateStart))
	set("voidDateEnd", at(q.VoidDateEnd))
	set("storeId", num(q.StoreID))
	if q.IncludeShipmentItems {
		v.Set("includeShipmentItems", "True")
	}
	set("sortBy", q.SortBy)
	set("sortDir", q.SortDir)
	set("page", num(int64(q.Page)))
	set("pageSize", num(int64(q.PageSize)))
	return v, nil
}

// ListShipments returns one page of labels (GET /shipments).
func (c *Client) ListShipments(ctx context.Context, q ShipmentsQuery) (ShipmentsPage, error) {
	const op = "shipstation.ListShipments"
	what := "page " + strconv.Itoa(max(q.Page, 1))
	v, err := q.values()
	if err != nil {
		return ShipmentsPage{}, httpapi.Fail(errs.Invalid, op, what, err)
	}
	var page ShipmentsPage
	if _, err := c.do(ctx, op, what, http.MethodGet, "/shipments", v, nil, &page); err != nil {
		return ShipmentsPage{}, err
	}
	return page, nil
}

// GetResource GETs the shipments resource a SHIP_NOTIFY webhook named, with
// this account's credentials, budget and error classification. u is checked
// again with ResourceURL against c.BaseURL before anything is sent (the
// credentials must only ever go to the configured API root), which also
// makes sure includeShipmentItems=True; a URL that fails is errs.Invalid.
func (c *Client) GetResource(ctx context.Context, u *url.URL) (ShipmentsPage, error) {
	const op = "shipstation.GetResource"
	if u == nil {
		return ShipmentsPage{}, errs.Ef(errs.Invalid, op, "no resource URL")
	}
	checked, err := ResourceURL(u.String(), c.base())
	if err != nil {
		return ShipmentsPage{}, errs.E(errs.Invalid, op, err)
	}
	what := "shipments resource page " + cmp.Or(checked.Query().Get("page"), "1")
	var page ShipmentsPage
	if _, err := c.doURL(ctx, op, what, http.MethodGet, checked.String(), nil, &page); err != nil {
		return ShipmentsPage{}, err
	}
	return page, nil
}

// AllShipments calls fn with the shipments of every page of q, from q.Page
// (or 1) until the page the response counts as the last (pages) or an empty
// page. It stops at the first error, from the API or from fn.
func (c *Client) AllShipments(ctx context.Context, q ShipmentsQuery, fn func([]Shipment) error) error {
	return eachPage(ctx, max(q.Page, 1), func(n int) (ShipmentsPage, error) {
		q.Page = n
		return c.ListShipments(ctx, q)
	}, fn)
}

// AllResourceShipments is AllShipments for a SHIP_NOTIFY resource URL (see
// GetResource): the first page is u as given, each later page is u with
// page=N set.
func (c *Client) AllResourceShipments(ctx context.Context, u *url.URL, fn func([]Shipment) error) error {
	if u == nil {
		return errs.Ef(errs.Invalid, "shipstation.AllResourceShipments", "no resource URL")
	}
	first := 1
	if p := u.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return errs.Ef(errs.Invalid, "shipstation.AllResourceShipments", "page must be a positive integer")
		}
		first = n
	}
	return eachPage(ctx, first, func(n int) (ShipmentsPage, error) {
		if n == first {
			return c.GetResource(ctx, u)
		}
		next := *u
		q := next.Query()
		q.Set("page", strconv.Itoa(n))
		next.RawQuery = q.Encode()
		return c.GetResource(ctx, &next)
	}, fn)
}

// eachPage fetches pages first, first+1, … and hands each non-empty one to fn.
func eachPage(ctx context.Context, first int, get func(int) (ShipmentsPage, error), fn func([]Shipment) error) error {
	for n := first; ; n++ {
		if err := ctx.Err(); err != nil {
			return errs.E(errs.Transient, "shipstation.AllShipments", err)
		}
		page, err := get(n)
		if err != nil {
			return err
		}
		if len(page.Shipments) == 0 {
			return nil
		}
		if err := fn(page.Shipments); err != nil {
			return err
		}
		if n >= page.Pages {
			return nil
		}
	}
}

// ToDomain turns a label into the domain's shipment of account (the
// ShipStation account's config id). Times are in UTC; ShipDate, a date on
// the wire, is midnight US Pacific of that day. Lines come from
// ShipmentItems in order; adjustment lines (discounts, not goods) and lines
// without a lineItemKey (added in ShipStation, not sold by a channel) are
// skipped, as nothing can be reported for them. A missing shipmentId or
// orderKey, an empty account, or a line with a quantity below 1 is
// errs.Invalid naming the field.
func ToDomain(s Shipment, account string) (shipment.Shipment, error) {
	const op = "shipstation.ToDomain"
	switch {
	case s.ShipmentID <= 0:
		return shipment.Shipment{}, errs.Ef(errs.Invalid, op, "shipmentId is missing")
	case s.OrderKey == "":
		return shipment.Shipment{}, errs.Ef(errs.Invalid, op, "shipment %d: orderKey is missing", s.ShipmentID)
	case account == "":
		return shipment.Shipment{}, errs.Ef(errs.Invalid, op, "shipment %d: account is empty", s.ShipmentID)
	}
	out := shipment.Shipment{
		ID:                 strconv.FormatInt(s.ShipmentID, 10),
		Account:            account,
		OrderKey:           s.OrderKey,
		ShipStationOrderID: s.OrderID,
		TrackingNumber:     s.TrackingNumber,
		CarrierCode:        s.CarrierCode,
		ServiceCode:        s.ServiceCode,
		ShipDate:           s.ShipDate.UTC(),
		CreatedAt:          s.CreateDate.UTC(),
		Voided:             s.Voided,
		VoidedAt:           s.VoidDate.UTC(),
		Lines:              []shipment.Line{},
	}
	for i, it := range s.ShipmentItems {
		if it.Adjustment || it.LineItemKey == "" {
			continue
		}
		if it.Quantity < 1 {
			return shipment.Shipment{}, errs.E(errs.Invalid, op,
				fmt.Errorf("shipment %d: shipmentItems[%d].quantity is %d", s.ShipmentID, i, it.Quantity))
		}
		out.Lines = append(out.Lines, shipment.Line{LineID: it.LineItemKey, SKU: it.SKU, Quantity: it.Quantity})
	}
	return out, nil
}
