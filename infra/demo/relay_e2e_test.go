package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// The return path end to end: the sandbox ShipStation is driven by hand
// (ShipOrder, ShipCombined, Relabel), SHIP_NOTIFY and the label pull carry
// the labels to the shipments function, and the notify function confirms
// them on the sandbox BigCommerce.

// shipSettle is settle that also waits for the ShipStation webhooks.
func shipSettle(t *testing.T, ctx context.Context, env *Env, what string, cond func() bool) {
	t.Helper()
	settle(t, ctx, env, what, func() bool {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := env.Sandbox.FlushShipStationWebhooks(fctx); err != nil {
			t.Fatal(err)
		}
		return cond()
	})
}

// newOrder creates an awaiting-fulfillment BigCommerce order with lines
// and returns it with the ShipStation orderKey it will be pushed under.
func newOrder(t *testing.T, env *Env, lines ...sandbox.LineSpec) (sandbox.BCOrder, string) {
	t.Helper()
	addr := sandbox.Address{FirstName: "Ada", LastName: "Tester", Street1: "1 Test St", City: "Austin", State: "Texas", Zip: "78701", Country: "United States", CountryISO2: "US"}
	bill := addr
	bill.Email = "ada@example.com"
	o, err := env.Sandbox.CreateOrder(sandbox.OrderSpec{
		StoreHash: StoreHash, StatusID: sandbox.StatusAwaitingFulfillment, Billing: bill,
		ShippingAddresses: []sandbox.ShippingAddress{{Address: addr, ShippingMethod: "Ground"}},
		Lines:             lines,
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, fmt.Sprintf("bigcommerce:%s:%d", StoreID, o.ID)
}

// waitPushed waits until every orderKey is in ShipStation, ready to ship,
// and the pushes are recorded (the queues are empty).
func waitPushed(t *testing.T, ctx context.Context, env *Env, keys ...string) {
	t.Helper()
	settle(t, ctx, env, "the orders in ShipStation", func() bool {
		for _, k := range keys {
			if ss, ok := env.Sandbox.ShipStationOrder(k); !ok || ss.OrderStatus != "awaiting_shipment" {
				return false
			}
		}
		return true
	})
}

func mug(qty int) sandbox.LineSpec {
	return sandbox.LineSpec{Name: "Black Mug", SKU: "MUG-BLK", Quantity: qty, UnitPriceCents: 1599, Weight: "0.75"}
}

func ledgerID(o sandbox.BCOrder) order.ID {
	id, _ := order.NewID(order.BigCommerce, StoreID, strconv.Itoa(o.ID))
	return id
}

func notesOf(t *testing.T, ctx context.Context, env *Env, o sandbox.BCOrder) []shipment.Notification {
	t.Helper()
	ns, err := env.Ledger.Notifications(ctx, ledgerID(o))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func bcShipments(env *Env, o sandbox.BCOrder) []sandbox.BCShipment {
	return env.Sandbox.Shipments(StoreHash, o.ID)
}

// withTracking returns the BigCommerce shipments of o carrying tracking.
func withTracking(env *Env, o sandbox.BCOrder, tracking string) []sandbox.BCShipment {
	var out []sandbox.BCShipment
	for _, s := range bcShipments(env, o) {
		if s.TrackingNumber == tracking {
			out = append(out, s)
		}
	}
	return out
}

// confirmed reports whether every notification of o is settled and at least
// n of them are confirmed.
func confirmed(t *testing.T, ctx context.Context, env *Env, o sandbox.BCOrder, n int) bool {
	t.Helper()
	got := 0
	for _, x := range notesOf(t, ctx, env, o) {
		switch x.State {
		case shipment.Planned:
			return false
		case shipment.Confirmed:
			got++
		}
	}
	return got >= n
}

func ship(t *testing.T, env *Env, key string, packages [][]sandbox.ShipLine) []sandbox.SSShipment {
	t.Helper()
	labels, err := env.Sandbox.ShipOrder(key, packages, "stamps_com", "")
	if err != nil {
		t.Fatal(err)
	}
	return labels
}

// firePoll runs the poll. The label pull's window ends at the poll's time,
// sent to ShipStation to the second: a label created in that same second
// is left to the next pull (the overlap covers it), so the poll waits until
// the labels made just before are a second old.
func firePoll(t *testing.T, ctx context.Context, env *Env) {
	t.Helper()
	time.Sleep(1100 * time.Millisecond)
	res, err := env.Runner.FireSchedule(ctx, "PollFunction")
	if err != nil || res.Error != "" {
		t.Fatalf("poll: %v %+v", err, res)
	}
}

func shipHookURL(env *Env) string {
	return env.Runner.URL() + "/webhooks/shipstation/" + shipStationAcc + "/" + ssToken
}

func postShipHook(t *testing.T, ctx context.Context, env *Env, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, shipHookURL(env), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReturnPath drives every label scenario of the acceptance list through
// one Env (an Env's orders take seconds to reach ShipStation, so they share
// that wait): each subtest checks one scenario.
func TestReturnPath(t *testing.T) {
	t.Parallel()
	env, ctx := up(t, sandbox.Faults{})
	base := env.SSURL // http://127.0.0.1:<port>
	host := strings.TrimPrefix(base, "http://")
	_, port, _ := strings.Cut(host, ":")

	// Forged SHIP_NOTIFYs first, while nothing else talks to ShipStation.
	forged := map[string]string{
		"other host":         "http://evil.example.com:" + port + "/shipments?batchId=1",
		"localhost spelling": "http://localhost:" + port + "/shipments?batchId=1",
		"https on http base": "https://" + host + "/shipments?batchId=1",
		"userinfo":           "http://user:pw@" + host + "/shipments?batchId=1",
		"other path":         base + "/orders?batchId=1",
		"other port":         "http://127.0.0.1:1/shipments?batchId=1",
	}
	forgedCodes := map[string]string{}
	for name, u := range forged {
		body, _ := json.Marshal(map[string]string{"resource_url": u, "resource_type": "SHIP_NOTIFY"})
		code, reply := postShipHook(t, ctx, env, string(body))
		forgedCodes[name] = fmt.Sprintf("%d %s", code, reply)
	}

	// The orders of every scenario, pushed to ShipStation together.
	tee := sandbox.LineSpec{Name: "Grey Tee", SKU: "TEE-GRY", Quantity: 3, UnitPriceCents: 2200, Weight: "0.4"}
	type created struct {
		o   sandbox.BCOrder
		key string
	}
	var keys []string
	add := func(lines ...sandbox.LineSpec) *created {
		o, key := newOrder(t, env, lines...)
		keys = append(keys, key)
		return &created{o, key}
	}
	dup := add(mug(2))        // SHIP_NOTIFY delivered three times
	relabel := add(mug(2))    // re-labelled after its confirmation
	split := add(mug(2), tee) // two packages
	combA := add(mug(1))      // one label with combB
	combB := add(tee)
	lost := add(mug(1))  // SHIP_NOTIFY lost
	early := add(mug(1)) // voided and re-labelled before the relay saw it
	waitPushed(t, ctx, env, keys...)

	t.Run("forged resource_url: 400, nothing queued, no ShipStation request", func(t *testing.T) {
		for name, got := range forgedCodes {
			if !strings.HasPrefix(got, "400 ") || !strings.Contains(got, "rejected") {
				t.Errorf("%s: %s, want 400 rejected", name, got)
			}
		}
		st, err := env.Runner.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f := st.Functions["ShipmentsFunction"]; f.Invocations != 0 {
			t.Errorf("shipments function ran %d times after forged webhooks", f.Invocations)
		}
		if q := st.Queues["ShipmentsQueue"]; q.Visible+q.InFlight+q.Delayed != 0 {
			t.Errorf("shipments queue after forged webhooks: %+v", q)
		}
		// Every ShipStation request so far is a push.
		ss := env.Sandbox.Stats().ShipStation
		if other := ss.Requests - ss.RequestsByRoute["POST /orders/createorders"]; other != 0 {
			t.Errorf("%d ShipStation requests besides the pushes: %v", other, ss.RequestsByRoute)
		}
	})

	// Labels whose SHIP_NOTIFY is delivered twice by the sandbox.
	env.Sandbox.SetShipStationFaults(sandbox.Faults{WebhookDuplicateRate: 1})
	dupLabel := ship(t, env, dup.key, nil)[0]
	relabelOld := ship(t, env, relabel.key, nil)[0]
	mugKey, teeKey := strconv.Itoa(split.o.Lines[0].ID), strconv.Itoa(split.o.Lines[1].ID)
	pkgs := ship(t, env, split.key, [][]sandbox.ShipLine{
		{{LineItemKey: mugKey, Quantity: 1}, {LineItemKey: teeKey, Quantity: 3}},
		{{LineItemKey: mugKey, Quantity: 1}},
	})
	comb, err := env.Sandbox.ShipCombined([]string{combA.key, combB.key}, "ups_walleted", "")
	if err != nil {
		t.Fatal(err)
	}
	// Labels whose SHIP_NOTIFY is lost.
	env.Sandbox.SetShipStationFaults(sandbox.Faults{WebhookDropRate: 1})
	lostLabel := ship(t, env, lost.key, nil)[0]
	earlyOld := ship(t, env, early.key, nil)[0]
	earlyNew := relabelled(t, env, earlyOld)
	env.Sandbox.SetShipStationFaults(sandbox.Faults{})

	shipSettle(t, ctx, env, "the delivered labels confirmed", func() bool {
		return confirmed(t, ctx, env, dup.o, 1) && confirmed(t, ctx, env, relabel.o, 1) &&
			confirmed(t, ctx, env, split.o, 2) && confirmed(t, ctx, env, combA.o, 1) && confirmed(t, ctx, env, combB.o, 1)
	})

	t.Run("same SHIP_NOTIFY three times: one confirmation", func(t *testing.T) {
		var body string
		var statuses []int
		for _, d := range env.Sandbox.ShipStationWebhookLog() {
			if d.Delivered && strings.Contains(d.Body, fmt.Sprintf("batchId=%d&", dupLabel.BatchID)) {
				body = d.Body
				statuses = append(statuses, d.LastStatus)
			}
		}
		if len(statuses) != 2 || statuses[0]+statuses[1] != http.StatusAccepted+http.StatusOK {
			t.Fatalf("sandbox deliveries answered %v, want one 202 and one 200 (duplicate)", statuses)
		}
		if code, reply := postShipHook(t, ctx, env, body); code != http.StatusOK || !strings.Contains(reply, "duplicate") {
			t.Fatalf("third delivery: %d %s, want 200 duplicate", code, reply)
		}
		shipSettle(t, ctx, env, "queues drained", func() bool { return true })
		got := withTracking(env, dup.o, dupLabel.TrackingNumber)
		if len(got) != 1 || len(bcShipments(env, dup.o)) != 1 {
			t.Fatalf("BigCommerce shipments %+v, want exactly one with tracking %s", bcShipments(env, dup.o), dupLabel.TrackingNumber)
		}
		if len(got[0].Items) != 1 || got[0].Items[0].OrderProductID != dup.o.Lines[0].ID || got[0].Items[0].Quantity != 2 {
			t.Errorf("shipment items %+v, want line %d ×2", got[0].Items, dup.o.Lines[0].ID)
		}
		ns := notesOf(t, ctx, env, dup.o)
		if len(ns) != 1 || ns[0].State != shipment.Confirmed || ns[0].ChannelRef != strconv.Itoa(got[0].ID) {
			t.Fatalf("ledger notifications %+v, want one confirmed as shipment %d", ns, got[0].ID)
		}
	})

	t.Run("split shipment: two BigCommerce shipments with their quantities", func(t *testing.T) {
		if s := bcShipments(env, split.o); len(s) != 2 {
			t.Fatalf("%d BigCommerce shipments, want 2: %+v", len(s), s)
		}
		one, two := withTracking(env, split.o, pkgs[0].TrackingNumber), withTracking(env, split.o, pkgs[1].TrackingNumber)
		if len(one) != 1 || len(two) != 1 {
			t.Fatalf("shipments by tracking %+v / %+v", one, two)
		}
		if q := quantities(one[0]); len(q) != 2 || q[mugKey] != 1 || q[teeKey] != 3 {
			t.Errorf("first box %v, want mug ×1 and tee ×3", q)
		}
		if q := quantities(two[0]); len(q) != 1 || q[mugKey] != 1 {
			t.Errorf("second box %v, want mug ×1", q)
		}
	})

	t.Run("combined label: each order confirmed with its own items", func(t *testing.T) {
		if len(comb) != 2 || comb[0].TrackingNumber != comb[1].TrackingNumber {
			t.Fatalf("combined labels %+v, want two sharing one tracking number", comb)
		}
		for _, x := range []struct {
			c *created
			n int
		}{{combA, 1}, {combB, 3}} {
			s := bcShipments(env, x.c.o)
			if len(s) != 1 || s[0].TrackingNumber != comb[0].TrackingNumber {
				t.Errorf("order %d: shipments %+v, want one with the shared tracking %s", x.c.o.ID, s, comb[0].TrackingNumber)
				continue
			}
			if q := quantities(s[0]); len(q) != 1 || q[strconv.Itoa(x.c.o.Lines[0].ID)] != x.n {
				t.Errorf("order %d: items %v, want its own line ×%d", x.c.o.ID, q, x.n)
			}
		}
	})

	t.Run("lost SHIP_NOTIFY: nothing before the pull", func(t *testing.T) {
		for _, c := range []*created{lost, early} {
			if s := bcShipments(env, c.o); len(s) != 0 {
				t.Errorf("order %d: BigCommerce shipments %+v before the pull", c.o.ID, s)
			}
			if ns := notesOf(t, ctx, env, c.o); len(ns) != 0 {
				t.Errorf("order %d: notifications %+v before the pull", c.o.ID, ns)
			}
		}
		if st := env.Sandbox.Stats().ShipStation.Webhooks; st.Dropped != 3 {
			t.Errorf("SHIP_NOTIFY dropped %d, want 3: %+v", st.Dropped, st)
		}
	})

	// A re-label after the confirmation: its SHIP_NOTIFY comes, but
	// ShipStation sends nothing for the void; the label pull finds it.
	relabelFirst := withTracking(env, relabel.o, relabelOld.TrackingNumber)
	relabelNew := relabelled(t, env, relabelOld)
	shipSettle(t, ctx, env, "the re-label's SHIP_NOTIFY relayed", func() bool { return true })
	firePoll(t, ctx, env)
	shipSettle(t, ctx, env, "the pulled labels confirmed", func() bool {
		return confirmed(t, ctx, env, lost.o, 1) && confirmed(t, ctx, env, early.o, 1) &&
			len(withTracking(env, relabel.o, relabelNew.TrackingNumber)) == 1
	})

	t.Run("lost SHIP_NOTIFY: caught by the pull, confirmed once", func(t *testing.T) {
		if got := withTracking(env, lost.o, lostLabel.TrackingNumber); len(got) != 1 || len(bcShipments(env, lost.o)) != 1 {
			t.Fatalf("BigCommerce shipments %+v, want one with tracking %s", bcShipments(env, lost.o), lostLabel.TrackingNumber)
		}
		if ns := notesOf(t, ctx, env, lost.o); len(ns) != 1 || ns[0].State != shipment.Confirmed {
			t.Fatalf("notifications %+v, want one confirmed", ns)
		}
	})

	t.Run("re-label after confirmation: the shipment gets the new tracking", func(t *testing.T) {
		got := bcShipments(env, relabel.o)
		if len(relabelFirst) != 1 || len(got) != 1 || got[0].ID != relabelFirst[0].ID || got[0].TrackingNumber != relabelNew.TrackingNumber {
			t.Fatalf("BigCommerce shipments %+v (first %+v), want that shipment updated to %s", got, relabelFirst, relabelNew.TrackingNumber)
		}
		if len(got[0].Items) != 1 || got[0].Items[0].Quantity != 2 {
			t.Errorf("items %+v, want the 2 mugs still", got[0].Items)
		}
		for _, n := range notesOf(t, ctx, env, relabel.o) {
			if n.State == shipment.Planned || n.State == shipment.Failed {
				t.Errorf("notification left %s: %+v", n.State, n)
			}
		}
	})

	t.Run("void and re-label before the relay: only the new tracking", func(t *testing.T) {
		got := bcShipments(env, early.o)
		if len(got) != 1 || got[0].TrackingNumber != earlyNew.TrackingNumber {
			t.Fatalf("BigCommerce shipments %+v, want exactly one with %s", got, earlyNew.TrackingNumber)
		}
		for _, n := range notesOf(t, ctx, env, early.o) {
			if n.TrackingNumber == earlyOld.TrackingNumber && n.State == shipment.Confirmed {
				t.Errorf("the voided label was confirmed: %+v", n)
			}
		}
	})

	// Every live label on BigCommerce exactly once, no voided tracking.
	if r := env.CheckShipments(); !r.ShipOK() || r.Labels != 8 || r.Confirmed != 8 || r.Voided != 2 {
		t.Errorf("check: %+v", r)
	}
	if exc, _, err := env.Ledger.Exceptions(ctx, 100, ""); err != nil || len(exc) != 0 {
		t.Errorf("exceptions: %v %+v", err, exc)
	}
}

// relabelled re-labels old and returns the new label.
func relabelled(t *testing.T, env *Env, old sandbox.SSShipment) sandbox.SSShipment {
	t.Helper()
	fresh, err := env.Sandbox.Relabel(old.ShipmentID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.TrackingNumber == old.TrackingNumber || fresh.Voided {
		t.Fatalf("re-label %+v of %+v", fresh, old)
	}
	return fresh
}

func quantities(s sandbox.BCShipment) map[string]int {
	m := map[string]int{}
	for _, it := range s.Items {
		m[strconv.Itoa(it.OrderProductID)] += it.Quantity
	}
	return m
}

// revokeBigCommerceToken rewrites the store's secret with a token the
// sandbox does not accept, as when the merchant revokes shiprelay's API
// account. Functions that built their client earlier keep the old one, so
// only a function that has not called BigCommerce yet sees the change.
func revokeBigCommerceToken(t *testing.T, env *Env) {
	t.Helper()
	path := filepath.Join(env.Dir, "secrets.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sec map[string]map[string]string
	if err := json.Unmarshal(raw, &sec); err != nil {
		t.Fatal(err)
	}
	sec["shiprelay/bigcommerce/"+StoreID]["accessToken"] = "revoked-token"
	out, _ := json.Marshal(sec)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // readers never see half a file
		t.Fatal(err)
	}
}

func TestUnauthorisedChannelPausesTheStoreWithoutARetryStorm(t *testing.T) {
	t.Parallel()
	env, ctx := up(t, sandbox.Faults{})
	o, key := newOrder(t, env, mug(2))
	waitPushed(t, ctx, env, key)
	if st, err := env.Runner.Status(ctx); err != nil || st.Functions["NotifyBigCommerceFunction"].Invocations != 0 {
		t.Fatalf("the notify function ran already (its client would hold the good token): %v", err)
	}
	revokeBigCommerceToken(t, env)
	line := strconv.Itoa(o.Lines[0].ID) // the ShipStation lineItemKey
	ship(t, env, key, [][]sandbox.ShipLine{{{LineItemKey: line, Quantity: 1}}, {{LineItemKey: line, Quantity: 1}}})

	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := env.Sandbox.FlushShipStationWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := env.Ledger.StoreStatus(ctx, StoreID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Paused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store was never paused")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// No retry storm: the 401s stop at once.
	time.Sleep(time.Second)
	s1 := env.Sandbox.Stats().BigCommerce
	time.Sleep(3 * time.Second)
	s2 := env.Sandbox.Stats().BigCommerce
	if s2.Unauthorized != s1.Unauthorized || s2.Requests != s1.Requests {
		t.Errorf("BigCommerce calls kept coming while paused: 401s %d → %d, requests %d → %d", s1.Unauthorized, s2.Unauthorized, s1.Requests, s2.Requests)
	}
	// One call per notify batch at most: the second notification finds the
	// store paused (or ran concurrently with the first).
	if s1.Unauthorized < 1 || s1.Unauthorized > 2 {
		t.Errorf("%d requests answered 401, want 1 or 2", s1.Unauthorized)
	}
	for _, route := range []string{"POST /v2/orders/{id}/shipments", "GET /v2/orders/{id}/shipments"} {
		if n := s2.RequestsByRoute[route]; n != 0 {
			t.Errorf("%s succeeded %d times with a revoked token", route, n)
		}
	}
	exc, _, err := env.Ledger.Exceptions(ctx, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var unauth []string
	for _, x := range exc {
		if x.Kind == "unauthorised" {
			unauth = append(unauth, x.StoreID)
		}
	}
	if len(unauth) != 1 || unauth[0] != StoreID {
		t.Fatalf("unauthorised exceptions for stores %v, want exactly one for %s (all: %+v)", unauth, StoreID, exc)
	}
	ns := notesOf(t, ctx, env, o)
	if len(ns) != 2 {
		t.Fatalf("notifications %+v, want 2 (one per package)", ns)
	}
	for _, n := range ns {
		if n.State != shipment.Planned {
			t.Errorf("notification %s is %s, want still planned (parked)", n.ID, n.State)
		}
	}
	if s := bcShipments(env, o); len(s) != 0 {
		t.Errorf("BigCommerce shipments %+v with a revoked token", s)
	}
	if _, dead, err := env.Queues(ctx); err != nil || dead != 0 {
		t.Errorf("dead letters: %d (%v)", dead, err)
	}
}
