// Package dedupe decides which of the orders that stand for one real
// marketplace order is the one ShipStation ships: the marketplace's own
// order (Amazon, eBay) and the copies other channels make of it (a
// BigCommerce order created by its Amazon or eBay channel, perhaps
// cancelled and recreated under a new id).
//
// All of them are members of one Identity, keyed by the marketplace order
// ("amazon:113-4567890-1234567"). The ledger holds the identity as one item
// written with conditional writes, so every decision is made on the latest
// facts and a race between two invocations cannot yield two primaries.
// The primary is a pure function of the members' facts (Decide), so the
// decision does not depend on the order in which the members arrived:
//
//   - a member whose ShipStation order has a label stays (or becomes) the
//     primary: the real parcel left under it;
//   - else the marketplace's own order, once it is a member (it is the
//     true source, whatever its status: if the marketplace cancelled it, the
//     copies must not ship);
//   - else (the marketplace is not connected, or its order has not arrived
//     yet) the current primary while it is not cancelled, else the newest
//     copy that is not cancelled.
//
// Which orders hear of a shipment (the linked notification) is Targets.
//
// It imports no AWS SDK and no HTTP client.
package dedupe

import (
	"fmt"
	"slices"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// KeyOf is the identity key of an order: its origin for a copy
// ("amazon:113-4567890-1234567"), its own marketplace order id for an
// Amazon or eBay order, "" for an order that mirrors nothing (a storefront
// order).
func KeyOf(o *order.Order) string {
	if o == nil {
		return ""
	}
	if o.Origin != nil && o.Origin.Marketplace.Valid() && o.Origin.OrderID != "" {
		return o.Origin.Key()
	}
	switch o.Channel {
	case order.Amazon, order.EBay:
		if o.ChannelOrderID != "" {
			return order.Origin{Marketplace: o.Channel, OrderID: o.ChannelOrderID}.Key()
		}
	}
	return ""
}

// Member is what an identity knows of one of its orders.
type Member struct {
	ID order.ID `json:"id"`
	// Copy is true for a copy made by another channel (a BigCommerce order
	// of an Amazon order), false for the marketplace's own order.
	Copy bool `json:"copy,omitempty"`
	// Cancelled is the order's channel status being cancelled.
	Cancelled bool `json:"cancelled,omitempty"`
	// Labelled is set once a ShipStation label was seen for the order's
	// ShipStation order; it never goes back.
	Labelled   bool      `json:"labelled,omitempty"`
	LabelledAt time.Time `json:"labelledAt,omitzero"`
	// Version is the order version (ModifiedAt) Cancelled was read from: an
	// older version never overwrites the facts of a newer one.
	Version time.Time `json:"version,omitzero"`
	// JoinedAt is when the order joined the identity.
	JoinedAt time.Time `json:"joinedAt"`
}

// MemberOf is the facts of one version of order o, joining (if new) at now.
func MemberOf(o *order.Order, now time.Time) Member {
	return Member{
		ID: o.ID, Copy: o.Origin != nil, Cancelled: o.Status == order.Cancelled,
		Version: o.ModifiedAt.UTC(), JoinedAt: now.UTC(),
	}
}

// Identity is one real marketplace order and the orders that stand for it.
type Identity struct {
	// Key is "<marketplace>:<marketplace order id>".
	Key string `json:"key"`
	// Primary is the member whose ShipStation order ships; "" only while
	// the identity has no member.
	Primary order.ID `json:"primary,omitempty"`
	// Members in the order they joined.
	Members []Member `json:"members"`
	// Announced is the primary the other members were last told of (an
	// outbox mark): while it differs from Primary, whoever reads the
	// identity tells the members to decide their state again, then marks
	// the primary announced (Announce), so a crash in between only
	// repeats the telling.
	Announced order.ID `json:"announced,omitempty"`
	// Version is the ledger's write counter (optimistic concurrency); 0 for
	// an identity not stored yet.
	Version int64 `json:"version"`
}

// Member returns the member with id.
func (x *Identity) Member(id order.ID) (Member, bool) {
	for _, m := range x.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// Marketplace returns the marketplace's own order, when it is a member.
func (x *Identity) Marketplace() (Member, bool) {
	for _, m := range x.Members {
		if !m.Copy {
			return m, true
		}
	}
	return Member{}, false
}

// Copies lists the copies, in the order they joined.
func (x *Identity) Copies() []Member {
	var out []Member
	for _, m := range x.Members {
		if m.Copy {
			out = append(out, m)
		}
	}
	return out
}

// LiveCopy returns the newest copy that is not cancelled.
func (x *Identity) LiveCopy() (Member, bool) {
	for i := len(x.Members) - 1; i >= 0; i-- {
		if m := x.Members[i]; m.Copy && !m.Cancelled {
			return m, true
		}
	}
	return Member{}, false
}

// Observe merges the facts of one order version into the identity: a new
// member joins (at m.JoinedAt); a known one takes m's Cancelled when m's
// Version is not older than the stored one. Labelled is only ever set
// (Label). The primary is decided again. Observe reports whether anything
// changed.
func (x *Identity) Observe(m Member) bool {
	before := x.clone()
	i := slices.IndexFunc(x.Members, func(o Member) bool { return o.ID == m.ID })
	if i < 0 {
		m.Labelled, m.LabelledAt = false, time.Time{}
		x.Members = append(x.Members, m)
	} else if cur := &x.Members[i]; !m.Version.Before(cur.Version) {
		cur.Cancelled, cur.Version, cur.Copy = m.Cancelled, m.Version, m.Copy
	}
	x.Primary = Decide(*x)
	return !before.equal(x)
}

// Label records that a label was seen for member id (at at) and decides
// the primary again; it reports whether anything changed. A member not
// known yet joins with the given facts first.
func (x *Identity) Label(m Member, at time.Time) bool {
	before := x.clone()
	i := slices.IndexFunc(x.Members, func(o Member) bool { return o.ID == m.ID })
	if i < 0 {
		x.Members = append(x.Members, m)
		i = len(x.Members) - 1
	}
	if cur := &x.Members[i]; !cur.Labelled {
		cur.Labelled, cur.LabelledAt = true, at.UTC()
	}
	x.Primary = Decide(*x)
	return !before.equal(x)
}

// Decide returns the primary of an identity (see the package comment).
func Decide(x Identity) order.ID {
	if len(x.Members) == 0 {
		return ""
	}
	if cur, ok := x.Member(x.Primary); ok && cur.Labelled {
		return cur.ID
	}
	var first *Member
	for i := range x.Members {
		m := &x.Members[i]
		if m.Labelled && (first == nil || m.LabelledAt.Before(first.LabelledAt)) {
			first = m
		}
	}
	if first != nil {
		return first.ID
	}
	if m, ok := x.Marketplace(); ok {
		return m.ID
	}
	if cur, ok := x.Member(x.Primary); ok && !cur.Cancelled {
		return cur.ID
	}
	if m, ok := x.LiveCopy(); ok {
		return m.ID
	}
	if _, ok := x.Member(x.Primary); ok {
		return x.Primary
	}
	return x.Members[len(x.Members)-1].ID
}

func (x *Identity) clone() Identity {
	c := *x
	c.Members = slices.Clone(x.Members)
	return c
}

// Unannounced reports whether the members have not been told of the
// current primary yet.
func (x *Identity) Unannounced() bool { return x.Primary != "" && x.Primary != x.Announced }

// Announce marks primary as told to the members, when it is still the
// primary; it reports whether anything changed.
func (x *Identity) Announce(primary order.ID) bool {
	if x.Primary != primary || x.Announced == primary {
		return false
	}
	x.Announced = primary
	return true
}

func (x *Identity) equal(y *Identity) bool {
	return x.Key == y.Key && x.Primary == y.Primary && x.Announced == y.Announced && slices.EqualFunc(x.Members, y.Members, func(a, b Member) bool {
		return a.ID == b.ID && a.Copy == b.Copy && a.Cancelled == b.Cancelled && a.Labelled == b.Labelled &&
			a.LabelledAt.Equal(b.LabelledAt) && a.Version.Equal(b.Version) && a.JoinedAt.Equal(b.JoinedAt)
	})
}

// What a hidden member's ShipStation order becomes (a copy store's
// copies.hide setting).
const (
	// HideCancel cancels it in ShipStation (the default).
	HideCancel = "cancel"
	// HideHold puts it on hold, for merchants who prefer to see it.
	HideHold = "hold"
)

// HiddenStatus is the ShipStation status of a member's order while
// another member is the primary: on hold with HideHold (unless the
// channel cancelled it), else cancelled.
func HiddenStatus(o *order.Order, hide string) order.Status {
	if hide == HideHold && o.Status != order.Cancelled {
		return order.OnHold
	}
	return order.Cancelled
}

// Hidden reports whether order id is a member of x that is not its primary.
func (x *Identity) Hidden(id order.ID) bool {
	_, member := x.Member(id)
	return member && x.Primary != "" && x.Primary != id
}

// DuplicateOf says, PII-free, whose duplicate a hidden member is:
// "duplicate of <primary> (marketplace order <key>)".
func (x *Identity) DuplicateOf() string {
	return fmt.Sprintf("duplicate of %s (marketplace order %s)", x.Primary, x.Key)
}

// Labelled reports whether a member of x has a label.
func (x *Identity) Labelled() bool {
	for _, m := range x.Members {
		if m.Labelled {
			return true
		}
	}
	return false
}
