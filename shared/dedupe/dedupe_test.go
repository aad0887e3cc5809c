package dedupe

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

const (
	mkt   order.ID = "amazon:amazon-us:113-4567890-1234567"
	copy1 order.ID = "bigcommerce:bc:101"
	copy2 order.ID = "bigcommerce:bc:102"
)

func TestKeyOf(t *testing.T) {
	cases := []struct {
		o    order.Order
		want string
	}{
		{order.Order{Channel: order.Amazon, ChannelOrderID: "113-4567890-1234567"}, "amazon:113-4567890-1234567"},
		{order.Order{Channel: order.EBay, ChannelOrderID: "12-34567-89012"}, "ebay:12-34567-89012"},
		{order.Order{Channel: order.BigCommerce, ChannelOrderID: "101", Origin: &order.Origin{Marketplace: order.Amazon, OrderID: "113-4567890-1234567"}}, "amazon:113-4567890-1234567"},
		{order.Order{Channel: order.BigCommerce, ChannelOrderID: "101"}, ""},
		{order.Order{Channel: order.BigCommerce, ChannelOrderID: "101", Origin: &order.Origin{Marketplace: "walmart", OrderID: "x"}}, ""},
	}
	for _, c := range cases {
		if got := KeyOf(&c.o); got != c.want {
			t.Errorf("KeyOf(%s %s) = %q, want %q", c.o.Channel, c.o.ChannelOrderID, got, c.want)
		}
	}
	if KeyOf(nil) != "" {
		t.Error("KeyOf(nil) not empty")
	}
}

func TestDecide(t *testing.T) {
	x := Identity{Key: "amazon:1"}
	// Copy first: it is the primary until the marketplace order arrives.
	x.Observe(Member{ID: copy1, Copy: true, Version: t0, JoinedAt: t0})
	if x.Primary != copy1 {
		t.Fatalf("copy alone: primary %q", x.Primary)
	}
	// A recreated copy while the first is live: the first stays.
	x.Observe(Member{ID: copy2, Copy: true, Version: t0, JoinedAt: t0.Add(time.Minute)})
	if x.Primary != copy1 {
		t.Fatalf("second copy: primary %q", x.Primary)
	}
	// The first copy cancelled: the live one takes over.
	x.Observe(Member{ID: copy1, Copy: true, Cancelled: true, Version: t0.Add(time.Second)})
	if x.Primary != copy2 {
		t.Fatalf("first copy cancelled: primary %q", x.Primary)
	}
	// An older version of copy1 never undoes its cancellation.
	if x.Observe(Member{ID: copy1, Copy: true, Version: t0}) {
		t.Fatal("older version changed the identity")
	}
	// The marketplace order arrives: it is the primary.
	x.Observe(Member{ID: mkt, Version: t0, JoinedAt: t0.Add(2 * time.Minute)})
	if x.Primary != mkt || !x.Hidden(copy2) || x.Hidden(mkt) {
		t.Fatalf("marketplace: primary %q", x.Primary)
	}
	// Even cancelled, the marketplace order stays the primary: its
	// copies must not ship.
	x.Observe(Member{ID: mkt, Cancelled: true, Version: t0.Add(time.Hour)})
	if x.Primary != mkt {
		t.Fatalf("marketplace cancelled: primary %q", x.Primary)
	}
}

func TestLabelledMemberWins(t *testing.T) {
	x := Identity{Key: "amazon:1"}
	x.Observe(Member{ID: copy1, Copy: true, Version: t0, JoinedAt: t0})
	x.Label(Member{ID: copy1, Copy: true}, t0.Add(time.Minute))
	x.Observe(Member{ID: mkt, Version: t0, JoinedAt: t0.Add(2 * time.Minute)})
	if x.Primary != copy1 {
		t.Fatalf("shipped copy must stay the primary, got %q", x.Primary)
	}
	// Both labelled (the warehouse shipped twice): the first label wins.
	x.Label(Member{ID: mkt}, t0.Add(3*time.Minute))
	if x.Primary != copy1 {
		t.Fatalf("first label must win, got %q", x.Primary)
	}
	// Labelled is never undone by a later version.
	x.Observe(Member{ID: copy1, Copy: true, Cancelled: true, Version: t0.Add(time.Hour)})
	if m, _ := x.Member(copy1); !m.Labelled || x.Primary != copy1 {
		t.Fatalf("label lost: %+v primary %q", m, x.Primary)
	}
	if x.Label(Member{ID: copy1}, t0.Add(5*time.Hour)) {
		t.Fatal("a second label of the same member changed the identity")
	}
}

// TestDecideIgnoresArrivalOrder: whatever order the facts arrive in, the
// identity ends with the same primary.
func TestDecideIgnoresArrivalOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 2000 {
		var facts []func(*Identity)
		hasM := rng.IntN(2) == 0
		if hasM {
			facts = append(facts, func(x *Identity) { x.Observe(Member{ID: mkt, Version: t0, JoinedAt: t0}) })
		}
		copies := 1 + rng.IntN(3)
		for i := range copies {
			id := order.ID("bigcommerce:bc:" + string(rune('a'+i)))
			facts = append(facts, func(x *Identity) { x.Observe(Member{ID: id, Copy: true, Version: t0, JoinedAt: t0}) })
			if i < copies-1 { // every copy but the last was recreated
				facts = append(facts, func(x *Identity) {
					x.Observe(Member{ID: id, Copy: true, Cancelled: true, Version: t0.Add(time.Hour), JoinedAt: t0})
				})
			}
		}
		rng.Shuffle(len(facts), func(i, j int) { facts[i], facts[j] = facts[j], facts[i] })
		x := Identity{Key: "amazon:1"}
		for _, f := range facts {
			f(&x)
		}
		want := order.ID("bigcommerce:bc:" + string(rune('a'+copies-1)))
		if hasM {
			want = mkt
		}
		if x.Primary != want {
			t.Fatalf("primary %q, want %q (members %+v)", x.Primary, want, x.Members)
		}
	}
}

func TestTargets(t *testing.T) {
	on := func(order.ID) Settings { return Settings{NotifyCopy: true} }
	off := func(order.ID) Settings { return Settings{} }
	guard := func(order.ID) Settings { return Settings{NotifyCopy: true, ChannelRelays: true} }
	x := Identity{Key: "amazon:1"}
	x.Observe(Member{ID: copy1, Copy: true, Version: t0, JoinedAt: t0})

	// Method A: only the copy, told whatever the setting.
	if got := Targets(x, copy1, off); len(got) != 1 || got[0].ID != copy1 || got[0].Skip != "" {
		t.Fatalf("method A: %+v", got)
	}
	x.Observe(Member{ID: mkt, Version: t0, JoinedAt: t0})
	got := Targets(x, mkt, on)
	if len(got) != 2 || got[0].ID != copy1 || got[0].Skip != "" || got[1].ID != mkt || got[1].Skip != "" {
		t.Fatalf("linked: %+v", got)
	}
	got = Targets(x, mkt, off)
	if len(got) != 2 || !strings.Contains(got[0].Skip, "copies.notify") || got[1].Skip != "" {
		t.Fatalf("linked off: %+v", got)
	}
	got = Targets(x, mkt, guard)
	if len(got) != 2 || got[0].Skip != "" || !strings.Contains(got[1].Skip, "loop guard") {
		t.Fatalf("loop guard: %+v", got)
	}
	// A recreated copy: the live one is told, not the cancelled one.
	x.Observe(Member{ID: copy1, Copy: true, Cancelled: true, Version: t0.Add(time.Hour)})
	x.Observe(Member{ID: copy2, Copy: true, Version: t0, JoinedAt: t0.Add(time.Hour)})
	got = Targets(x, mkt, on)
	if len(got) != 2 || got[0].ID != copy2 || got[1].ID != mkt {
		t.Fatalf("recreated: %+v", got)
	}
	// A label on a member that is no target is still listed.
	got = Targets(x, copy1, on)
	if got[len(got)-1].ID != copy1 && got[0].ID != copy1 {
		t.Fatalf("labelled member missing: %+v", got)
	}
}

func TestTranslateLines(t *testing.T) {
	from := &order.Order{ID: mkt, Items: []order.Item{
		{LineID: "A1", SKU: "MUG-1", Quantity: 2}, {LineID: "A2", SKU: "tee-2", Quantity: 1},
	}}
	to := &order.Order{ID: copy1, Items: []order.Item{
		{LineID: "77", SKU: "mug-1 ", Quantity: 2}, {LineID: "78", SKU: "TEE-2", Quantity: 1},
	}}
	got, err := TranslateLines([]shipment.Line{{LineID: "A1", Quantity: 1}}, from, to)
	if err != nil || len(got) != 1 || got[0].LineID != "77" || got[0].Quantity != 1 {
		t.Fatalf("by SKU: %+v %v", got, err)
	}
	same, err := TranslateLines([]shipment.Line{{LineID: "A1", Quantity: 1}}, from, from)
	if err != nil || same[0].LineID != "A1" {
		t.Fatalf("self: %+v %v", same, err)
	}
	// SKUs that differ (ASINs on one side): a label with the whole order
	// ships the whole copy; a partial one cannot be mapped.
	asin := &order.Order{ID: mkt, Items: []order.Item{{LineID: "A1", SKU: "B00X", Quantity: 2}, {LineID: "A2", SKU: "B00Y", Quantity: 1}}}
	got, err = TranslateLines([]shipment.Line{{LineID: "A1", Quantity: 2}, {LineID: "A2", Quantity: 1}}, asin, to)
	if err != nil || len(got) != 2 || got[0].Quantity+got[1].Quantity != 3 {
		t.Fatalf("whole order: %+v %v", got, err)
	}
	if _, err = TranslateLines([]shipment.Line{{LineID: "A1", Quantity: 1}}, asin, to); err == nil || !strings.Contains(err.Error(), "A1") {
		t.Fatalf("partial unmappable: %v", err)
	}
	// Two lines with one SKU: quantities fill them in order.
	two := &order.Order{ID: copy2, Items: []order.Item{{LineID: "1", SKU: "MUG-1", Quantity: 1}, {LineID: "2", SKU: "MUG-1", Quantity: 1}}}
	got, err = TranslateLines([]shipment.Line{{LineID: "A1", Quantity: 2}}, from, two)
	if err != nil || len(got) != 2 || got[0].Quantity != 1 || got[1].Quantity != 1 {
		t.Fatalf("split SKU: %+v %v", got, err)
	}
}

func TestHiddenStatus(t *testing.T) {
	o := &order.Order{Status: order.AwaitingShipment}
	if HiddenStatus(o, HideCancel) != order.Cancelled || HiddenStatus(o, HideHold) != order.OnHold || HiddenStatus(o, "") != order.Cancelled {
		t.Fatal("hidden status")
	}
	o.Status = order.Cancelled
	if HiddenStatus(o, HideHold) != order.Cancelled {
		t.Fatal("a cancelled order is never held")
	}
}

func TestAnnounce(t *testing.T) {
	x := Identity{Key: "amazon:1"}
	x.Observe(Member{ID: copy1, Copy: true, Version: t0, JoinedAt: t0})
	if !x.Unannounced() || !x.Announce(copy1) || x.Unannounced() || x.Announce(copy1) {
		t.Fatal("first primary: announce once")
	}
	x.Observe(Member{ID: mkt, Version: t0, JoinedAt: t0})
	if !x.Unannounced() {
		t.Fatal("a new primary must be announced")
	}
	// A writer that announced the previous primary does not mark the new one.
	if x.Announce(copy1) || !x.Unannounced() {
		t.Fatal("a stale announcement marked the new primary")
	}
	if !x.Announce(mkt) || x.Unannounced() {
		t.Fatal("announce the new primary")
	}
}
