package bigcommerce

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
)

// PageLimit is the page size used when a method fetches every page.
const PageLimit = 250

// maxPages stops a paging loop against a server that ignores `page`.
const maxPages = 400

// RFC2822 is the date layout BigCommerce V2 writes and that the client
// sends in date filters ("Tue, 20 Nov 2012 00:00:00 +0000").
const RFC2822 = "Mon, 02 Jan 2006 15:04:05 -0700"

// ListOrdersQuery filters GET /v2/orders. Zero fields are not sent.
type ListOrdersQuery struct {
	// MinDateModified and MaxDateModified bound date_modified (inclusive).
	MinDateModified time.Time
	MaxDateModified time.Time
	// Page is 1-based; Limit defaults to 50 on BigCommerce's side.
	Page  int
	Limit int
	// Sort is e.g. "date_modified:asc" or "id".
	Sort string
}

func (q ListOrdersQuery) values() (url.Values, error) {
	v := url.Values{}
	if q.Page < 0 || q.Limit < 0 {
		return nil, errors.New("page and limit must not be negative")
	}
	if !q.MinDateModified.IsZero() {
		v.Set("min_date_modified", q.MinDateModified.UTC().Format(RFC2822))
	}
	if !q.MaxDateModified.IsZero() {
		v.Set("max_date_modified", q.MaxDateModified.UTC().Format(RFC2822))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	return v, nil
}

// ListOrders returns one page of orders. BigCommerce answers 204 No Content
// when nothing matches; that is an empty result, not an error.
func (c *Client) ListOrders(ctx context.Context, q ListOrdersQuery) ([]Order, error) {
	const op = "bigcommerce.ListOrders"
	what := "page " + strconv.Itoa(max(q.Page, 1))
	v, err := q.values()
	if err != nil {
		return nil, errs.E(errs.Invalid, op, err)
	}
	var out []Order
	if _, err := c.do(ctx, op, what, http.MethodGet, "/orders", v, nil, &out); err != nil {
		if errors.Is(err, httpapi.ErrEmptyBody) {
			return nil, nil
		}
		return nil, err
	}
	return out, nil
}

// GetOrder returns one order. A missing order is errs.NotFound.
func (c *Client) GetOrder(ctx context.Context, id int64) (*Order, error) {
	const op = "bigcommerce.GetOrder"
	what := "order " + itoa(id)
	if id <= 0 {
		return nil, errs.Ef(errs.Invalid, op, "%s: order id must be positive", what)
	}
	var o Order
	status, err := c.do(ctx, op, what, http.MethodGet, "/orders/"+itoa(id), nil, nil, &o)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent {
		return nil, errs.Ef(errs.NotFound, op, "%s: HTTP 204", what)
	}
	if o.ID != id {
		return nil, errs.Ef(errs.Invalid, op, "%s: response is for order %d", what, o.ID)
	}
	return &o, nil
}

// Products returns every line of an order, fetching all pages (PageLimit per
// page) until a 204, an empty page or a short page.
func (c *Client) Products(ctx context.Context, orderID int64) ([]Product, error) {
	return fetchAll[Product](ctx, c, "bigcommerce.Products", orderID, "/products")
}

// ShippingAddresses returns every shipping address of an order (all pages).
// A digital-only order has none.
func (c *Client) ShippingAddresses(ctx context.Context, orderID int64) ([]ShippingAddress, error) {
	return fetchAll[ShippingAddress](ctx, c, "bigcommerce.ShippingAddresses", orderID, "/shipping_addresses")
}

// Shipments returns every shipment already recorded on an order (all
// pages), so a caller can avoid creating the same shipment twice.
func (c *Client) Shipments(ctx context.Context, orderID int64) ([]Shipment, error) {
	return fetchAll[Shipment](ctx, c, "bigcommerce.Shipments", orderID, "/shipments")
}

func fetchAll[T any](ctx context.Context, c *Client, op string, orderID int64, sub string) ([]T, error) {
	if orderID <= 0 {
		return nil, errs.Ef(errs.Invalid, op, "order %d: order id must be positive", orderID)
	}
	var all []T
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, errs.Ef(errs.Invalid, op, "order %d: more than %d pages", orderID, maxPages)
		}
		what := "order " + itoa(orderID) + " page " + strconv.Itoa(page)
		v := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(PageLimit)}}
		var batch []T
		status, err := c.do(ctx, op, what, http.MethodGet, "/orders/"+itoa(orderID)+sub, v, nil, &batch)
		if err != nil {
			if errors.Is(err, httpapi.ErrEmptyBody) {
				break
			}
			return nil, err
		}
		all = append(all, batch...)
		if status == http.StatusNoContent || len(batch) < PageLimit {
			break
		}
	}
	return all, nil
}

// CreateShipment records a shipment on an order. It is not idempotent: a
// Transient error after the request was sent may mean the shipment exists;
// check Shipments before retrying.
func (c *Client) CreateShipment(ctx context.Context, orderID int64, r ShipmentRequest) (*Shipment, error) {
	const op = "bigcommerce.CreateShipment"
	what := "order " + itoa(orderID)
	switch {
	case orderID <= 0:
		return nil, errs.Ef(errs.Invalid, op, "%s: order id must be positive", what)
	case r.OrderAddressID <= 0:
		return nil, errs.Ef(errs.Invalid, op, "%s: order_address_id is required", what)
	case len(r.Items) == 0:
		return nil, errs.Ef(errs.Invalid, op, "%s: items are required", what)
	}
	items := make([]ShipmentItem, len(r.Items))
	for i, it := range r.Items {
		if it.OrderProductID <= 0 || it.Quantity <= 0 {
			return nil, errs.Ef(errs.Invalid, op, "%s: items[%d]: order_product_id and quantity must be positive", what, i)
		}
		items[i] = ShipmentItem{OrderProductID: it.OrderProductID, Quantity: it.Quantity} // product_id is read-only
	}
	r.Items = items
	var s Shipment
	if _, err := c.do(ctx, op, what, http.MethodPost, "/orders/"+itoa(orderID)+"/shipments", nil, r, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ShipmentUpdate changes the tracking of a recorded shipment (a re-label
// after a void): only the fields set are sent.
type ShipmentUpdate struct {
	TrackingNumber   string `json:"tracking_number,omitempty"`
	ShippingProvider string `json:"shipping_provider,omitempty"`
	TrackingCarrier  string `json:"tracking_carrier,omitempty"`
	ShippingMethod   string `json:"shipping_method,omitempty"`
	Comments         string `json:"comments,omitempty"`
}

// UpdateShipment changes a shipment's tracking
// (PUT /v2/orders/{id}/shipments/{shipment_id}). It is idempotent.
func (c *Client) UpdateShipment(ctx context.Context, orderID, shipmentID int64, u ShipmentUpdate) (*Shipment, error) {
	const op = "bigcommerce.UpdateShipment"
	what := "order " + itoa(orderID) + " shipment " + itoa(shipmentID)
	if orderID <= 0 || shipmentID <= 0 {
		return nil, errs.Ef(errs.Invalid, op, "%s: ids must be positive", what)
	}
	var s Shipment
	if _, err := c.do(ctx, op, what, http.MethodPut, "/orders/"+itoa(orderID)+"/shipments/"+itoa(shipmentID), nil, u, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
