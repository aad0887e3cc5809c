// Package shipment is the domain of the return path: a ShipStation label
// (a V1 "shipment"), and the notifications that tell each channel order it
// covers that it shipped. Planning is pure: which orders hear of a label,
// with which lines, is decided here from the ledger's view of the orders;
// the ledger makes each notification exist exactly once.
//
// It imports no AWS SDK and no HTTP client.
package shipment

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Line is a quantity of one order line in a package.
type Line struct {
	// LineID is the channel's line id (ShipStation lineItemKey).
	LineID   string `json:"lineId"`
	SKU      string `json:"sku,omitempty"`
	Quantity int    `json:"quantity"`
}

// Shipment is one ShipStation label.
type Shipment struct {
	// ID is ShipStation's shipmentId, as text.
	ID string `json:"id"`
	// Account is the ShipStation account (config id) it belongs to.
	Account            string    `json:"account"`
	OrderKey           string    `json:"orderKey"`
	ShipStationOrderID int64     `json:"shipStationOrderId"`
	TrackingNumber     string    `json:"trackingNumber"`
	CarrierCode        string    `json:"carrierCode"`
	ServiceCode        string    `json:"serviceCode,omitempty"`
	ShipDate           time.Time `json:"shipDate"`
	CreatedAt          time.Time `json:"createdAt"`
	Voided             bool      `json:"voided,omitempty"`
	VoidedAt           time.Time `json:"voidedAt,omitzero"`
	Lines              []Line    `json:"lines"`
}

// Key is the shipment's identity in the ledger.
func (s *Shipment) Key() string { return s.Account + ":" + s.ID }

// Validate checks what every recorded shipment holds.
func (s *Shipment) Validate() error {
	var errs []error
	if s.ID == "" || s.Account == "" {
		errs = append(errs, errors.New("shipment: empty id or account"))
	}
	if s.OrderKey == "" {
		errs = append(errs, errors.New("shipment: empty orderKey"))
	}
	if !s.Voided && s.TrackingNumber == "" {
		errs = append(errs, errors.New("shipment: no tracking number"))
	}
	for i, l := range s.Lines {
		if l.LineID == "" || l.Quantity <= 0 {
			errs = append(errs, fmt.Errorf("shipment: line %d: id %q quantity %d", i, l.LineID, l.Quantity))
		}
	}
	return errors.Join(errs...)
}

// State is where a notification stands.
type State string

// Notification states.
const (
	// Planned: the intent exists; the channel has not confirmed yet.
	Planned State = "planned"
	// Confirmed: the channel accepted it (ChannelRef holds its id).
	Confirmed State = "confirmed"
	// Skipped: deliberately not sent (store setting off, voided label,
	// policy); Reason says why.
	Skipped State = "skipped"
	// Failed: the channel rejected it; an exception record holds the message.
	Failed State = "failed"
)

// Notification is the intent to tell one channel order about one label.
type Notification struct {
	// ID is "<shipment key>:<order id>[:<group>]": one per (label,
	// destination order), so replays of the same label plan nothing new.
	ID          string        `json:"id"`
	ShipmentKey string        `json:"shipmentKey"`
	OrderID     order.ID      `json:"orderId"`
	Group       string        `json:"group,omitempty"`
	Channel     order.Channel `json:"channel"`
	StoreID     string        `json:"storeId"`
	Lines       []Line        `json:"lines"`

	TrackingNumber string    `json:"trackingNumber"`
	CarrierCode    string    `json:"carrierCode"`
	ServiceCode    string    `json:"serviceCode,omitempty"`
	ShipDate       time.Time `json:"shipDate"`

	// Replaces is the channel reference of a confirmation made for a label
	// that was voided since: the channel's record is updated with this
	// label's tracking instead of a second shipment being created.
	Replaces string `json:"replaces,omitempty"`

	State       State     `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	ChannelRef  string    `json:"channelRef,omitempty"`
	PlannedAt   time.Time `json:"plannedAt"`
	ConfirmedAt time.Time `json:"confirmedAt,omitzero"`
}

// NotificationID names the notification of a label for one order group.
func NotificationID(shipmentKey string, id order.ID, group string) string {
	if group == "" {
		return shipmentKey + ":" + string(id)
	}
	return shipmentKey + ":" + string(id) + ":" + group
}

// NothingLeft is the reason of a notification planned for a label whose
// lines earlier labels already carry (a re-label seen before its void).
const NothingLeft = "nothing left to ship on the order for this label"

// Target is one order a label must be reported to, with the lines of that
// order the label carries.
type Target struct {
	Order order.Order
	Group string
}

// Plan builds the notifications of a live (not voided) label for the
// orders it covers. Lines the order does not have are dropped (and reported
// in the error, which the caller records as an exception: a label for lines
// the channel never sold must not be relayed blindly). Quantities are capped
// at what the order line still has unshipped, given what earlier
// notifications already carried (shippedBefore, by line id).
func Plan(s Shipment, t Target, shippedBefore map[string]int, now time.Time) (Notification, error) {
	n := Notification{
		ID:          NotificationID(s.Key(), t.Order.ID, t.Group),
		ShipmentKey: s.Key(), OrderID: t.Order.ID, Group: t.Group,
		Channel: t.Order.Channel, StoreID: t.Order.StoreID,
		TrackingNumber: s.TrackingNumber, CarrierCode: s.CarrierCode, ServiceCode: s.ServiceCode,
		ShipDate: s.ShipDate, State: Planned, PlannedAt: now,
	}
	lines := map[string]order.Item{}
	for _, it := range t.Order.ItemsOf(t.Group) {
		lines[it.LineID] = it
	}
	var unknown []string
	want := map[string]int{}
	for _, l := range s.Lines {
		if _, ok := lines[l.LineID]; !ok {
			unknown = append(unknown, l.LineID)
			continue
		}
		want[l.LineID] += l.Quantity
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		left := lines[id].Quantity - shippedBefore[id]
		q := min(want[id], left)
		if q > 0 {
			n.Lines = append(n.Lines, Line{LineID: id, SKU: lines[id].SKU, Quantity: q})
		}
	}
	if len(n.Lines) == 0 {
		n.State, n.Reason = Skipped, NothingLeft
	}
	if len(unknown) > 0 {
		return n, fmt.Errorf("label %s carries lines %s that order %s does not have", s.ID, strings.Join(unknown, ","), t.Order.ID)
	}
	return n, nil
}
