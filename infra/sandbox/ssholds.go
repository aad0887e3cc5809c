package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Holds (api-contracts §1.3). holdUntilDate is read-only on an order:
// createorder(s) ignore it. POST /orders/holduntil {orderId, holdUntilDate}
// puts an open order on_hold until a date (yyyy-mm-dd, US Pacific), and
// ShipStation moves it back to awaiting_shipment on that date. The sandbox
// has no timer for that: every read or write of orders first releases the
// holds that are due at the sandbox clock (releaseDueLocked), so the
// release is seen exactly as if it had happened at Pacific midnight.

// openStatuses are the statuses an order may be changed in (updated by
// createorder(s), held).
var openStatuses = map[string]bool{
	"awaiting_payment": true, "awaiting_shipment": true, "pending_fulfillment": true, "on_hold": true,
}

// holdRequest is the body of POST /orders/holduntil. OrderID is raw so
// that a string or a fraction can be reported as ShipStation's model
// binder does.
type holdRequest struct {
	OrderID       json.RawMessage `json:"orderId"`
	HoldUntilDate *string         `json:"holdUntilDate"`
}

// holdResponse is ShipStation's answer to holduntil (and restorefromhold).
type holdResponse struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// holdDay reads a holdUntilDate: a date (or a timestamp, of which the US
// Pacific date counts) and returns the Pacific midnight that starts it.
func holdDay(s string) (time.Time, bool) {
	t, err := ParseSSTime(s)
	if err != nil {
		return time.Time{}, false
	}
	p := t.In(pacific)
	return time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, pacific), true
}

// holdUntil serves POST /orders/holduntil.
func (ss *shipStation) holdUntil(w http.ResponseWriter, r *http.Request) {
	invalid := func(field, msg string) {
		key := "params"
		if field != "" {
			key += "." + field
		}
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{key: {msg}}})
	}
	body, msg := readBody(r)
	if msg != "" {
		invalid("", msg)
		return
	}
	var req holdRequest
	if err := json.Unmarshal(body, &req); err != nil {
		invalid("", "The request could not be read: "+err.Error())
		return
	}
	var id int64
	raw := bytes.TrimSpace(req.OrderID)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		invalid("orderId", "The orderId field is required.")
		return
	case json.Unmarshal(raw, &id) != nil || id <= 0:
		invalid("orderId", fmt.Sprintf("The value '%s' is not valid for orderId.", strings.Trim(string(raw), `"`)))
		return
	}
	if req.HoldUntilDate == nil || strings.TrimSpace(*req.HoldUntilDate) == "" {
		invalid("holdUntilDate", "The holdUntilDate field is required.")
		return
	}
	day, ok := holdDay(*req.HoldUntilDate)
	if !ok {
		invalid("holdUntilDate", fmt.Sprintf("The value '%s' is not valid for holdUntilDate.", *req.HoldUntilDate))
		return
	}

	now := ss.s.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.releaseDueLocked(now)
	rec := ss.byID[id]
	if rec == nil {
		writeJSON(w, http.StatusNotFound, ssMessage{Message: fmt.Sprintf("Order not found: %d", id)})
		return
	}
	if st := rec.order.OrderStatus; !openStatuses[st] {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: fmt.Sprintf("The order with orderId %d cannot be placed on hold because its status is '%s'; only open orders (awaiting_payment, awaiting_shipment, pending_fulfillment, on_hold) can be placed on hold.", id, st)})
		return
	}
	stamp := SSTime(day)
	rec.order.OrderStatus = "on_hold"
	rec.order.HoldUntilDate = &stamp
	rec.order.ModifyDate = SSTime(now)
	rec.awaitingSince = time.Time{}
	rec.releaseAt = day
	ss.held[id] = rec
	// A date already reached releases the order at once, as ShipStation's
	// daily release would.
	ss.releaseDueLocked(now)
	writeJSON(w, http.StatusOK, holdResponse{Success: true, Message: "Order held successfully."})
}

// releaseDueLocked moves every held order whose hold date has come (Pacific
// midnight at or before now) back to awaiting_shipment, stamped with the
// instant of the release, and forgets holds that no longer apply. Caller
// holds ss.mu.
func (ss *shipStation) releaseDueLocked(now time.Time) {
	for id, rec := range ss.held {
		if rec.order.OrderStatus != "on_hold" || rec.releaseAt.IsZero() {
			rec.releaseAt = time.Time{}
			delete(ss.held, id)
			continue
		}
		if now.Before(rec.releaseAt) {
			continue
		}
		rec.order.OrderStatus = "awaiting_shipment"
		rec.order.HoldUntilDate = nil
		rec.order.ModifyDate = SSTime(rec.releaseAt)
		rec.awaitingSince = rec.releaseAt
		rec.releaseAt = time.Time{}
		delete(ss.held, id)
	}
}

// endHoldLocked forgets rec's hold date when its status leaves on_hold by
// other means than the release (an update, the admin status knob). Caller
// holds ss.mu.
func (ss *shipStation) endHoldLocked(rec *ssRecord) {
	if rec.order.OrderStatus == "on_hold" {
		return
	}
	rec.order.HoldUntilDate = nil
	rec.releaseAt = time.Time{}
	delete(ss.held, rec.order.OrderID)
}
