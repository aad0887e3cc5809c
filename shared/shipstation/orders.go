package shipstation

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// MaxCreateOrders is the most orders one createorders call accepts.
const MaxCreateOrders = 100

// MaxPageSize is the largest pageSize GET /orders accepts.
const MaxPageSize = 500

// CreateOrders creates or updates up to MaxCreateOrders orders in one call
// (POST /orders/createorders), upserting on each orderKey. More than
// MaxCreateOrders is an errs.Invalid error before anything is sent; an
// empty slice sends nothing. Per-order failures come back in the result,
// not as an error.
func (c *Client) CreateOrders(ctx context.Context, orders []Order) (CreateOrdersResult, error) {
	const op = "shipstation.CreateOrders"
	what := strconv.Itoa(len(orders)) + " orders"
	if len(orders) > MaxCreateOrders {
		return CreateOrdersResult{}, errs.Ef(errs.Invalid, op, "%s: at most %d per call", what, MaxCreateOrders)
	}
	if len(orders) == 0 {
		return CreateOrdersResult{}, nil
	}
	var res CreateOrdersResult
	if _, err := c.do(ctx, op, what, http.MethodPost, "/orders/createorders", nil, orders, &res); err != nil {
		return CreateOrdersResult{}, err
	}
	return res, nil
}

// ListOrdersQuery filters GET /orders. Zero fields are not sent.
type ListOrdersQuery struct {
	// OrderNumber matches orders whose number starts with it.
	OrderNumber string
	OrderStatus string
	StoreID     int64
	// Page is 1-based; PageSize defaults to 100 and is at most MaxPageSize.
	Page     int
	PageSize int
}

func (q ListOrdersQuery) values() (url.Values, error) {
	if q.Page < 0 || q.PageSize < 0 || q.StoreID < 0 {
		return nil, errors.New("page, pageSize and storeId must not be negative")
	}
	if q.PageSize > MaxPageSize {
		return nil, errors.New("pageSize must be at most " + strconv.Itoa(MaxPageSize))
	}
	v := url.Values{}
	if q.OrderNumber != "" {
		v.Set("orderNumber", q.OrderNumber)
	}
	if q.OrderStatus != "" {
		v.Set("orderStatus", q.OrderStatus)
	}
	if q.StoreID > 0 {
		v.Set("storeId", strconv.FormatInt(q.StoreID, 10))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PageSize > 0 {
		v.Set("pageSize", strconv.Itoa(q.PageSize))
	}
	return v, nil
}

// ListOrders returns one page of orders (GET /orders).
func (c *Client) ListOrders(ctx context.Context, q ListOrdersQuery) (OrdersPage, error) {
	const op = "shipstation.ListOrders"
	what := "page " + strconv.Itoa(max(q.Page, 1))
	v, err := q.values()
	if err != nil {
		return OrdersPage{}, errs.E(errs.Invalid, op, err)
	}
	var page OrdersPage
	if _, err := c.do(ctx, op, what, http.MethodGet, "/orders", v, nil, &page); err != nil {
		return OrdersPage{}, err
	}
	return page, nil
}

// GetOrder returns one order by ShipStation's orderId (GET /orders/{id}).
// A missing order is errs.NotFound.
func (c *Client) GetOrder(ctx context.Context, id int64) (*Order, error) {
	const op = "shipstation.GetOrder"
	what := "order " + strconv.FormatInt(id, 10)
	if id <= 0 {
		return nil, errs.Ef(errs.Invalid, op, "%s: order id must be positive", what)
	}
	var o Order
	status, err := c.do(ctx, op, what, http.MethodGet, "/orders/"+strconv.FormatInt(id, 10), nil, nil, &o)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent {
		return nil, errs.Ef(errs.NotFound, op, "%s: HTTP 204", what)
	}
	if o.OrderID != id {
		return nil, errs.Ef(errs.Invalid, op, "%s: response is for order %d", what, o.OrderID)
	}
	return &o, nil
}

// HoldResult is ShipStation's answer to POST /orders/holduntil.
type HoldResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// HoldUntil puts an open order on hold until date (POST /orders/holduntil):
// ShipStation sets orderStatus on_hold and holdUntilDate, and moves the
// order back to awaiting_shipment on that date by itself. date is
// yyyy-mm-dd in US Pacific time (HoldDate gives it for an instant).
// holdUntilDate on an order sent to createorder(s) is read-only and
// ignored: this call is the only way to hold until a date. Holding again
// with the same date changes nothing, so the call is safe to repeat.
//
// A bad id or date is errs.Invalid before anything is sent; an unknown
// order is errs.NotFound; a refusal (the order is shipped or cancelled) is
// errs.Invalid with ShipStation's message, as is an answer with success
// false.
func (c *Client) HoldUntil(ctx context.Context, orderID int64, date string) error {
	const op = "shipstation.HoldUntil"
	what := "order " + strconv.FormatInt(orderID, 10)
	if orderID <= 0 {
		return errs.Ef(errs.Invalid, op, "%s: order id must be positive", what)
	}
	if d, err := time.Parse(time.DateOnly, date); err != nil || d.Format(time.DateOnly) != date {
		return errs.Ef(errs.Invalid, op, "%s: hold date %q is not yyyy-mm-dd", what, date)
	}
	in := struct {
		OrderID       int64  `json:"orderId"`
		HoldUntilDate string `json:"holdUntilDate"`
	}{orderID, date}
	var res HoldResult
	status, err := c.do(ctx, op, what, http.MethodPost, "/orders/holduntil", nil, in, &res)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent && !res.Success {
		msg := strings.TrimSpace(res.Message)
		if msg == "" {
			msg = "ShipStation did not hold the order"
		}
		return errs.Ef(errs.Invalid, op, "%s: %s", what, cut(msg, 200))
	}
	return nil
}
