package dedupe

import (
	"fmt"
	"strings"

	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// Settings are the linked-notification settings of a copy's store.
type Settings struct {
	// NotifyCopy confirms the copy on its own channel when the real order
	// ships under the marketplace's order (ShipStation's "notify the
	// hidden BigCommerce order"). Default on.
	NotifyCopy bool
	// ChannelRelays says the copy's channel relays the shipments of its
	// copies to the marketplace by itself (BigCommerce's channel tools do
	// when set to): the hub then does not confirm the marketplace as well,
	// which would send the marketplace a second confirmation.
	ChannelRelays bool
}

// Target is one order that hears of a label.
type Target struct {
	ID order.ID
	// Skip says why the order is not told ("" to tell it).
	Skip string
}

// Targets lists the orders of identity x that hear of a label made for
// member labelled (the order whose ShipStation order was shipped):
//
//   - the copy: labelled itself when it is a copy that is not cancelled,
//     else the newest copy that is not cancelled, else labelled when it
//     is a cancelled copy (there is no other). While the marketplace's own
//     order is not a member (Method A: the marketplace is not connected),
//     the copy is an ordinary order and is always told; else only when
//     its store's settings say NotifyCopy;
//   - the marketplace's own order, when it is a member, unless the copy
//     is told and its channel relays to the marketplace by itself
//     (ChannelRelays, the loop guard).
//
// settingsOf gives the settings of a copy's store. labelled is always
// among the targets (told or skipped with a reason).
func Targets(x Identity, labelled order.ID, settingsOf func(copy order.ID) Settings) []Target {
	mk, hasM := x.Marketplace()
	copyID := order.ID("")
	if m, ok := x.Member(labelled); ok && m.Copy && !m.Cancelled {
		copyID = m.ID
	} else if lc, ok := x.LiveCopy(); ok {
		copyID = lc.ID
	} else if ok && m.Copy {
		copyID = m.ID
	}
	var out []Target
	copyTold := false
	if copyID != "" {
		t := Target{ID: copyID}
		if hasM && !settingsOf(copyID).NotifyCopy {
			t.Skip = fmt.Sprintf("linked notification off for the copy's store (copies.notify: false): %s is told by its channel, not by shiprelay", mk.ID)
		}
		copyTold = t.Skip == ""
		out = append(out, t)
	}
	if hasM {
		t := Target{ID: mk.ID}
		if copyTold && settingsOf(copyID).ChannelRelays {
			t.Skip = fmt.Sprintf("loop guard: the copy %s is confirmed and its channel relays shipments to the marketplace (copies.channelRelays: true)", copyID)
		}
		out = append(out, t)
	}
	for _, t := range out {
		if t.ID == labelled {
			return out
		}
	}
	return append(out, Target{ID: labelled})
}

// TranslateLines maps the lines of a label made for order from onto the
// lines of order to, another member of the same identity, by SKU
// (compared without regard to case or surrounding space): each quantity
// goes to to's lines with that SKU in order, up to their quantity, the
// rest to the last of them. When a SKU has no line on to (an Amazon store
// that sends ASINs as SKUs, say) and the label carries every unit of from,
// the answer is every line of to in full: the whole order left in that one
// parcel. Anything else that cannot be mapped is an error naming the line.
// A label for to itself is returned unchanged.
func TranslateLines(lines []shipment.Line, from, to *order.Order) ([]shipment.Line, error) {
	if from.ID == to.ID {
		return lines, nil
	}
	skuOf := map[string]string{}
	for _, it := range from.Items {
		skuOf[it.LineID] = it.SKU
	}
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	bySKU := map[string][]order.Item{}
	for _, it := range to.Items {
		if k := norm(it.SKU); k != "" {
			bySKU[k] = append(bySKU[k], it)
		}
	}
	var out []shipment.Line
	add := func(it order.Item, q int) {
		for i := range out {
			if out[i].LineID == it.LineID {
				out[i].Quantity += q
				return
			}
		}
		out = append(out, shipment.Line{LineID: it.LineID, SKU: it.SKU, Quantity: q})
	}
	used := map[string]int{}
	var unmapped []string
	for _, l := range lines {
		sku := skuOf[l.LineID]
		if sku == "" {
			sku = l.SKU
		}
		cands := bySKU[norm(sku)]
		if len(cands) == 0 {
			unmapped = append(unmapped, fmt.Sprintf("%s (SKU %q)", l.LineID, sku))
			continue
		}
		q := l.Quantity
		for i, it := range cands {
			take := min(q, it.Quantity-used[it.LineID])
			if i == len(cands)-1 {
				take = q
			}
			if take > 0 {
				add(it, take)
				used[it.LineID] += take
				q -= take
			}
		}
	}
	if len(unmapped) == 0 {
		return out, nil
	}
	if coversAll(lines, from) {
		out = out[:0]
		for _, it := range to.Items {
			out = append(out, shipment.Line{LineID: it.LineID, SKU: it.SKU, Quantity: it.Quantity})
		}
		return out, nil
	}
	return nil, fmt.Errorf("label lines %s of order %s have no line with that SKU on order %s, and the label does not carry the whole order", strings.Join(unmapped, ", "), from.ID, to.ID)
}

// coversAll reports whether lines carry every unit of o.
func coversAll(lines []shipment.Line, o *order.Order) bool {
	got := map[string]int{}
	for _, l := range lines {
		got[l.LineID] += l.Quantity
	}
	for _, it := range o.Items {
		if got[it.LineID] < it.Quantity {
			return false
		}
	}
	return len(o.Items) > 0
}
