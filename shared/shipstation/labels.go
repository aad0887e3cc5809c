package shipstation

import (
	"context"
	"time"

	"github.com/shiprelay/shiprelay/shared/shipment"
)

// Labels reads one account's labels as domain shipments: the label source
// of the shipments function.
type Labels struct {
	Client  *Client
	Account string
}

func (l Labels) convert(fn func([]shipment.Shipment) error) func([]Shipment) error {
	return func(page []Shipment) error {
		out := make([]shipment.Shipment, 0, len(page))
		for _, s := range page {
			d, err := ToDomain(s, l.Account)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return fn(out)
	}
}

// Resource reads every page of a SHIP_NOTIFY resource URL, after checking
// it against the client's base URL.
func (l Labels) Resource(ctx context.Context, raw string, fn func([]shipment.Shipment) error) error {
	u, err := ResourceURL(raw, l.Client.BaseURL)
	if err != nil {
		return err
	}
	return l.Client.AllResourceShipments(ctx, u, l.convert(fn))
}

// Window reads the labels created in [from, to], then those voided in it:
// ShipStation sends no webhook for a void, and a label may be voided long
// after it was created.
func (l Labels) Window(ctx context.Context, from, to time.Time, fn func([]shipment.Shipment) error) error {
	if err := l.Client.AllShipments(ctx, ShipmentsQuery{
		CreateDateStart: from, CreateDateEnd: to, IncludeShipmentItems: true, SortBy: "CreateDate", SortDir: "ASC",
	}, l.convert(fn)); err != nil {
		return err
	}
	return l.Client.AllShipments(ctx, ShipmentsQuery{
		VoidDateStart: from, VoidDateEnd: to, IncludeShipmentItems: true, SortBy: "CreateDate", SortDir: "ASC",
	}, l.convert(fn))
}
