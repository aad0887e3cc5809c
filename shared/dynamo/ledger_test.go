package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

var t0 = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)

func newLedger(t testing.TB) (*dynamo.Ledger, *dynamodb.Client, string) {
	t.Helper()
	client, table := testenv.DynamoDB(t)
	return dynamo.New(client, table), client, table
}

// testOrder builds a valid order of store with the given ship groups (one
// line each) at version mod.
func testOrder(store, num string, mod time.Time, groups ...string) order.Order {
	if len(groups) == 0 {
		groups = []string{""}
	}
	id, err := order.NewID(order.BigCommerce, store, num)
	if err != nil {
		panic(err)
	}
	paid := mod.Add(-time.Hour)
	res := true
	o := order.Order{
		ID: id, Channel: order.BigCommerce, StoreID: store, ChannelOrderID: num, OrderNumber: num,
		Origin: &order.Origin{Marketplace: order.Amazon, OrderID: "113-" + num},
		Status: order.AwaitingShipment, ChannelStatus: "Awaiting Fulfillment",
		OrderDate: mod.Add(-2 * time.Hour), PaymentDate: &paid, ModifiedAt: mod,
		Currency: "USD", Total: order.MustDecimal("43.20"), AmountPaid: order.MustDecimal("43.2"),
		TaxAmount: order.MustDecimal("3.2"), ShippingPaid: order.MustDecimal("5"),
		BillTo:       order.Address{City: "Austin", State: "TX", PostalCode: "78701", Country: "US"},
		CustomFields: [3]string{"a", "", "c"},
		Tags:         []string{"vip"},
	}
	for i, g := range groups {
		o.ShipGroups = append(o.ShipGroups, order.ShipGroup{
			Key: g, ShipTo: order.Address{City: "Austin", Country: "US", Residential: &res},
			ShippingMethod: "Ground", ShippingCost: order.MustDecimal("5"),
		})
		o.Items = append(o.Items, order.Item{
			LineID: fmt.Sprint(100 + i), SKU: "MUG-" + fmt.Sprint(i), Name: "Mug", Quantity: 2,
			UnitPrice: order.MustDecimal("15.99"), Group: g,
			Weight:  &order.Weight{Value: order.MustDecimal("12.5"), Units: "ounces"},
			Options: []order.Option{{Name: "Color", Value: "Blue"}},
		})
	}
	return o
}

func personal(name string) *order.Personal {
	return &order.Personal{
		BillTo: order.Contact{Name: name, Street1: "1 Main St", Phone: "555-0100", Email: "buyer@example.com"},
		ShipTo: map[string]order.Contact{"": {Name: name, Street1: "1 Main St"}},
		Email:  "buyer@example.com", GiftMessage: "Happy birthday",
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestSchemaMatchesTable(t *testing.T) {
	_, client, table := newLedger(t)
	c := ctx(t)
	out, err := client.DescribeTable(c, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	want := dynamo.Schema(table)
	d := out.Table
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing = %+v", d.BillingModeSummary)
	}
	if fmt.Sprint(keys(d.KeySchema)) != fmt.Sprint(keys(want.KeySchema)) {
		t.Errorf("key schema %v, want %v", keys(d.KeySchema), keys(want.KeySchema))
	}
	if len(d.GlobalSecondaryIndexes) != len(want.GlobalSecondaryIndexes) {
		t.Fatalf("GSIs: %d", len(d.GlobalSecondaryIndexes))
	}
	got := map[string]string{}
	for _, g := range d.GlobalSecondaryIndexes {
		got[aws.ToString(g.IndexName)] = fmt.Sprint(keys(g.KeySchema), g.Projection.ProjectionType)
	}
	for _, g := range want.GlobalSecondaryIndexes {
		if w := fmt.Sprint(keys(g.KeySchema), g.Projection.ProjectionType); got[aws.ToString(g.IndexName)] != w {
			t.Errorf("GSI %s = %s, want %s", aws.ToString(g.IndexName), got[aws.ToString(g.IndexName)], w)
		}
	}
	ttl, err := client.DescribeTimeToLive(c, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if s := ttl.TimeToLiveDescription; s.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(s.AttributeName) != dynamo.TTLAttribute {
		t.Errorf("ttl = %s on %q", s.TimeToLiveStatus, aws.ToString(s.AttributeName))
	}
}

func keys(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	return out
}

func TestUpsertReplayIsIdempotent(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "1001", t0)
	o.Personal = personal("Ada Lovelace")
	seen := t0.Add(-time.Minute)
	var first ledger.Record
	for i, want := range []ledger.Result{ledger.Created, ledger.Unchanged, ledger.Unchanged} {
		res, rec, err := l.Upsert(c, o, ledger.StatePending, seen, t0.Add(time.Duration(i)*time.Second))
		if err != nil || res != want {
			t.Fatalf("upsert %d = %v, %v; want %v", i, res, err, want)
		}
		if i == 0 {
			first = rec
		} else if !reflect.DeepEqual(rec, first) {
			t.Errorf("replay %d returned\n%+v\nwant\n%+v", i, rec, first)
		}
	}
	got, err := l.Get(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("Get =\n%+v\nwant\n%+v", got, first)
	}
	if !reflect.DeepEqual(got.Order, o) {
		t.Errorf("order did not round-trip:\n%+v\n%+v", got.Order, o)
	}
	if got.State != ledger.StatePending || !got.ImportedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) || !got.FirstSeenAt.Equal(seen) {
		t.Errorf("record = %+v", got)
	}
	h, err := l.History(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Kind != order.EventImported {
		t.Errorf("history = %+v, want one imported event", h)
	}
	// Exactly one order item and one PII item besides the history.
	all, err := client.Scan(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 3 {
		t.Errorf("table holds %d items, want order + PII + 1 history", len(all.Items))
	}
	// The order item carries no PII.
	for _, item := range all.Items {
		if sk := item["sk"].(*types.AttributeValueMemberS).Value; sk == "PII" {
			continue
		}
		raw, _ := json.Marshal(item)
		for _, pii := range []string{"Ada Lovelace", "1 Main St", "555-0100", "buyer@example.com", "Happy birthday"} {
			if strings.Contains(string(raw), pii) {
				t.Errorf("item %s holds PII %q", item["sk"], pii)
			}
		}
	}
}

func TestUpsertOlderVersionIsStale(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	v1, v2, v3 := testOrder("s1", "7", t0), testOrder("s1", "7", t0.Add(time.Minute)), testOrder("s1", "7", t0.Add(2*time.Minute))
	v2.Status = order.OnHold
	if res, _, err := l.Upsert(c, v2, ledger.StatePending, t0, t0); err != nil || res != ledger.Created {
		t.Fatalf("v2: %v %v", res, err)
	}
	res, rec, err := l.Upsert(c, v1, ledger.StatePending, t0, t0.Add(time.Hour))
	if err != nil || res != ledger.Stale {
		t.Fatalf("v1 after v2: %v %v", res, err)
	}
	if !rec.Order.ModifiedAt.Equal(v2.ModifiedAt) || rec.Order.Status != order.OnHold {
		t.Errorf("stale upsert returned %v %s", rec.Order.ModifiedAt, rec.Order.Status)
	}
	got, _ := l.Get(c, v1.ID)
	if !got.Order.ModifiedAt.Equal(v2.ModifiedAt) || !got.UpdatedAt.Equal(t0) {
		t.Errorf("stored version %v updated %v after a stale upsert", got.Order.ModifiedAt, got.UpdatedAt)
	}
	later := t0.Add(2 * time.Hour)
	res, rec, err = l.Upsert(c, v3, ledger.StateSkipped, later, later)
	if err != nil || res != ledger.Updated {
		t.Fatalf("v3: %v %v", res, err)
	}
	if !rec.ImportedAt.Equal(t0) || !rec.FirstSeenAt.Equal(t0) || !rec.UpdatedAt.Equal(later) || rec.State != ledger.StateSkipped {
		t.Errorf("v3 record = %+v", rec)
	}
	h, _ := l.History(c, v1.ID)
	if len(h) != 2 || h[0].Kind != order.EventImported || h[1].Kind != order.EventUpdated {
		t.Errorf("history = %+v", h)
	}
}

func TestUpsertConcurrentVersions(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const versions = 10
	for round := 0; round < 3; round++ {
		num := fmt.Sprint("race-", round)
		perm := rand.Perm(versions)
		results := make([]ledger.Result, versions)
		errsSeen := make([]error, versions)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, v := range perm {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				o := testOrder("s1", num, t0.Add(time.Duration(v+1)*time.Minute))
				results[i], _, errsSeen[i] = l.Upsert(c, o, ledger.StatePending, t0, time.Now())
			}()
		}
		close(start)
		wg.Wait()
		count := map[ledger.Result]int{}
		for i, err := range errsSeen {
			if err != nil {
				t.Fatalf("round %d: upsert of v%d: %v", round, perm[i]+1, err)
			}
			count[results[i]]++
		}
		if count[ledger.Created] != 1 || count[ledger.Unchanged] != 0 {
			t.Errorf("round %d: results %v", round, count)
		}
		id, _ := order.NewID(order.BigCommerce, "s1", num)
		got, err := l.Get(c, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(versions * time.Minute); !got.Order.ModifiedAt.Equal(want) {
			t.Errorf("round %d: stored version %v, want v10 %v", round, got.Order.ModifiedAt, want)
		}
		h, _ := l.History(c, id)
		if len(h) != count[ledger.Created]+count[ledger.Updated] {
			t.Errorf("round %d: %d history events for %v", round, len(h), count)
		}
	}
}

func TestPersonalStoredApart(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	now := time.Now().UTC()
	o := testOrder("s1", "p1", t0)
	o.Personal = personal("Grace Hopper")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, now, now); err != nil {
		t.Fatal(err)
	}
	got, err := l.Get(c, o.ID)
	if err != nil || !reflect.DeepEqual(got.Order.Personal, o.Personal) {
		t.Fatalf("Get personal = %+v, %v", got.Order.Personal, err)
	}
	// A newer version without buyer data keeps the stored buyer data.
	o2 := testOrder("s1", "p1", t0.Add(time.Minute))
	_, rec, err := l.Upsert(c, o2, ledger.StatePending, now, now)
	if err != nil || !reflect.DeepEqual(rec.Order.Personal, o.Personal) {
		t.Fatalf("upsert without personal returned %+v, %v", rec.Order.Personal, err)
	}
	if got, _ := l.Get(c, o.ID); !reflect.DeepEqual(got.Order.Personal, o.Personal) {
		t.Errorf("personal lost: %+v", got.Order.Personal)
	}
	// PII whose ttl has passed reads as redacted even before DynamoDB
	// deletes it: the redacted text of what it holds, never the data.
	_, err = client.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORDER#" + string(o.ID)}, "sk": &types.AttributeValueMemberS{Value: "PII"}},
		UpdateExpression:          aws.String("SET #ttl = :t"),
		ExpressionAttributeNames:  map[string]string{"#ttl": dynamo.TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(-time.Second).Unix())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l.Get(c, o.ID); err != nil || !reflect.DeepEqual(got.Order.Personal, redaction.Redact(o.Personal)) {
		t.Errorf("expired PII: personal = %+v, %v", got.Order.Personal, err)
	}
	// An order stored without buyer data has none.
	bare := testOrder("s1", "p2", t0)
	if _, rec, err := l.Upsert(c, bare, ledger.StatePending, now, now); err != nil || rec.Order.Personal != nil {
		t.Fatalf("bare upsert: %+v %v", rec.Order.Personal, err)
	}
	if got, err := l.Get(c, bare.ID); err != nil || got.Order.Personal != nil {
		t.Errorf("missing PII: personal = %+v, %v", got.Order.Personal, err)
	}
	if _, err := l.Get(c, "bigcommerce:s1:nope"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get of a missing order: %v", err)
	}
}

func TestMarkPushedOrdering(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	v1 := testOrder("s1", "m1", t0, "a", "b")
	if _, _, err := l.Upsert(c, v1, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	push := func(group string, version time.Time, status order.Status, ssid int64) {
		t.Helper()
		p := ledger.Push{Group: group, OrderKey: "k-" + group, ShipStationOrderID: ssid, Account: "main", Version: version, Status: status}
		if err := l.MarkPushed(c, v1.ID, p, t0.Add(time.Hour)); err != nil {
			t.Fatalf("MarkPushed %s: %v", group, err)
		}
	}
	state := func(want ledger.State) ledger.Record {
		t.Helper()
		rec, err := l.Get(c, v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != want {
			t.Errorf("state = %s, want %s (pushes %+v)", rec.State, want, rec.Pushes)
		}
		return rec
	}
	push("a", t0, order.AwaitingShipment, 1)
	state(ledger.StatePending)
	push("b", t0, order.AwaitingShipment, 2)
	state(ledger.StatePushed)
	hist := func() int { h, _ := l.History(c, v1.ID); return len(h) }
	n := hist()
	push("b", t0, order.AwaitingShipment, 2) // replay: nothing written
	if hist() != n {
		t.Errorf("replayed push appended history")
	}

	v2 := testOrder("s1", "m1", t0.Add(time.Minute), "a", "b")
	v2.Status = order.OnHold
	if res, _, err := l.Upsert(c, v2, ledger.StatePending, t0, t0.Add(time.Minute)); err != nil || res != ledger.Updated {
		t.Fatal(res, err)
	}
	rec := state(ledger.StatePending)
	if len(rec.Pushes) != 2 {
		t.Errorf("upsert lost the pushes: %+v", rec.Pushes)
	}
	push("a", v2.ModifiedAt, order.OnHold, 11)
	push("a", t0, order.AwaitingShipment, 1) // older: never replaces the newer push
	rec = state(ledger.StatePending)
	if p := rec.Pushes["a"]; !p.Version.Equal(v2.ModifiedAt) || p.ShipStationOrderID != 11 {
		t.Errorf("push a = %+v, want the v2 push", p)
	}
	push("b", v2.ModifiedAt, order.AwaitingShipment, 12) // current version, wrong status
	state(ledger.StatePending)
	push("b", v2.ModifiedAt, order.OnHold, 12)
	state(ledger.StatePushed)

	if err := l.MarkPushed(c, "bigcommerce:s1:none", ledger.Push{Group: "", Version: t0}, t0); !errs.Is(err, errs.NotFound) {
		t.Errorf("MarkPushed of a missing order: %v", err)
	}
	h, _ := l.History(c, v1.ID)
	pushed := 0
	for _, e := range h {
		if e.Kind == order.EventPushed {
			pushed++
		}
	}
	if pushed != 5 {
		t.Errorf("%d pushed events, want 5: %+v", pushed, h)
	}
}

func TestMarkPushedConcurrentGroups(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	groups := []string{"g0", "g1", "g2", "g3", "g4", "g5"}
	o := testOrder("s1", "cg", t0, groups...)
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := ledger.Push{Group: g, ShipStationOrderID: int64(i), Version: t0, Status: o.Status}
			if err := l.MarkPushed(c, o.ID, p, time.Now()); err != nil {
				t.Errorf("MarkPushed %s: %v", g, err)
			}
		}()
	}
	wg.Wait()
	rec, err := l.Get(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Pushes) != len(groups) || rec.State != ledger.StatePushed {
		t.Errorf("after concurrent pushes: state %s, %d pushes", rec.State, len(rec.Pushes))
	}
}

func TestByStateAndUpdatedBetweenPaging(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	// 25 orders of store s1, updated one every 10 minutes from 22:00 on day 1
	// into day 2; 5 of store s2; s1's odd ones skipped.
	base := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var pending, all []order.ID
	for i := 0; i < 25; i++ {
		o := testOrder("s1", fmt.Sprintf("o%02d", i), t0)
		st := ledger.StatePending
		if i%2 == 1 {
			st = ledger.StateSkipped
		} else {
			pending = append(pending, o.ID)
		}
		at := base.Add(time.Duration(i) * 10 * time.Minute)
		if _, _, err := l.Upsert(c, o, st, at, at); err != nil {
			t.Fatal(err)
		}
		all = append(all, o.ID)
	}
	for i := 0; i < 5; i++ {
		o := testOrder("s2", fmt.Sprintf("x%d", i), t0)
		if _, _, err := l.Upsert(c, o, ledger.StatePending, base, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	// ByState: newest first, pages of 5, no overlap, empty cursor at the end.
	var got []order.ID
	var page ledger.Page
	pages := 0
	for {
		recs, next, err := l.ByState(c, "s1", ledger.StatePending, 5, page)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range recs {
			got = append(got, r.Order.ID)
		}
		if next == "" {
			break
		}
		page = next
	}
	want := reverse(pending)
	if !reflect.DeepEqual(got, want) || pages != 3 {
		t.Errorf("ByState in %d pages = %v, want %v", pages, got, want)
	}

	// UpdatedBetween [22:30 day 1, 01:40 day 2): i = 3..21, oldest first,
	// across the day boundary, pages of 4.
	from, to := base.Add(30*time.Minute), base.Add(220*time.Minute)
	got, page, pages = nil, "", 0
	for {
		recs, next, err := l.UpdatedBetween(c, from, to, 4, page)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range recs {
			if r.UpdatedAt.Before(from) || !r.UpdatedAt.Before(to) {
				t.Errorf("%s updated %v outside the range", r.Order.ID, r.UpdatedAt)
			}
			got = append(got, r.Order.ID)
		}
		if next == "" {
			break
		}
		page = next
	}
	if want := all[3:22]; !reflect.DeepEqual(got, want) || pages != 5 {
		t.Errorf("UpdatedBetween in %d pages = %v, want %v", pages, got, want)
	}
	if _, _, err := l.UpdatedBetween(c, from, to, 4, "garbage!"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}
	if _, _, err := l.UpdatedBetween(c, time.Time{}, to, 4, ""); !errs.Is(err, errs.Invalid) {
		t.Errorf("range from the zero time: %v", err)
	}
}

func reverse[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestSetStateExceptionsAndHistory(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "e1", t0)
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.SetState(c, o.ID, ledger.StateSkipped, order.Event{Kind: order.EventSkipped, Message: "digital only"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if recs, _, _ := l.ByState(c, "s1", ledger.StateSkipped, 10, ""); len(recs) != 1 {
		t.Errorf("skipped listing: %d", len(recs))
	}
	if recs, _, _ := l.ByState(c, "s1", ledger.StatePending, 10, ""); len(recs) != 0 {
		t.Errorf("pending listing still holds the order")
	}
	if err := l.SetState(c, "bigcommerce:s1:none", ledger.StateSkipped, order.Event{Kind: order.EventSkipped}, t0); !errs.Is(err, errs.NotFound) {
		t.Errorf("SetState of a missing order: %v", err)
	}
	if err := l.AppendEvent(c, o.ID, order.Event{At: t0.Add(2 * time.Minute), Kind: order.EventHeld, Message: "on hold"}); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendEvent(c, "bigcommerce:s1:none", order.Event{Kind: order.EventHeld}); !errs.Is(err, errs.NotFound) {
		t.Errorf("AppendEvent of a missing order: %v", err)
	}

	for i := 0; i < 5; i++ {
		e := ledger.Exception{ID: fmt.Sprint("x", i), StoreID: "s1", Kind: "invalid", Op: "shipstation.createorders",
			Message: fmt.Sprint("rejected ", i), At: t0.Add(time.Duration(10+i) * time.Minute)}
		if i == 4 {
			e.OrderID = o.ID
		}
		if i == 3 {
			e.OrderID = "bigcommerce:s1:not-in-ledger"
		}
		if err := l.RecordException(c, e); err != nil {
			t.Fatal(err)
		}
	}
	// Replaying an exception changes nothing.
	if err := l.RecordException(c, ledger.Exception{ID: "x4", OrderID: o.ID, Kind: "invalid", Message: "again", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var page ledger.Page
	for {
		exs, next, err := l.Exceptions(c, 2, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exs {
			ids = append(ids, e.ID)
		}
		if next == "" {
			break
		}
		page = next
	}
	if want := []string{"x4", "x3", "x2", "x1", "x0"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("exceptions = %v, want %v", ids, want)
	}
	rec, _ := l.Get(c, o.ID)
	if rec.State != ledger.StateException || rec.LastError != "rejected 4" {
		t.Errorf("after exception: state %s, lastError %q", rec.State, rec.LastError)
	}
	h, err := l.History(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []order.EventKind
	for i, e := range h {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.At.Before(h[i-1].At) {
			t.Errorf("history not oldest first: %+v", h)
		}
	}
	if want := []order.EventKind{order.EventImported, order.EventSkipped, order.EventHeld, order.EventException}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("history kinds = %v, want %v", kinds, want)
	}
}

func TestClaimOnce(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := l.Claim(c, "webhook:abc", time.Minute, t0)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent claims won", wins)
	}
	if ok, _ := l.Claim(c, "webhook:abc", time.Minute, t0.Add(59*time.Second)); ok {
		t.Error("claimed again within the ttl")
	}
	if ok, _ := l.Claim(c, "webhook:abc", time.Minute, t0.Add(time.Minute)); !ok {
		t.Error("expired claim not granted")
	}
	if err := l.Release(c, "webhook:abc"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Claim(c, "webhook:abc", time.Minute, t0.Add(time.Minute)); !ok {
		t.Error("released claim not granted")
	}
	if err := l.Release(c, "never-claimed"); err != nil {
		t.Errorf("release of an unclaimed key: %v", err)
	}
}

func TestWatermarkOnlyMovesForward(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	if wm, err := l.Watermark(c, "bc:s1"); err != nil || !wm.IsZero() {
		t.Fatalf("fresh watermark = %v, %v", wm, err)
	}
	steps := []struct{ set, want time.Time }{
		{t0, t0},
		{t0.Add(time.Second), t0.Add(time.Second)},
		{t0, t0.Add(time.Second)},
		{t0.Add(time.Nanosecond), t0.Add(time.Second)},
		{t0.Add(time.Hour + time.Millisecond), t0.Add(time.Hour + time.Millisecond)},
	}
	for i, s := range steps {
		if err := l.SetWatermark(c, "bc:s1", s.set); err != nil {
			t.Fatal(err)
		}
		if wm, err := l.Watermark(c, "bc:s1"); err != nil || !wm.Equal(s.want) {
			t.Errorf("step %d: watermark = %v, %v; want %v", i, wm, err, s.want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	bad := testOrder("s1", "b", t0)
	bad.Status = "paid"
	if _, _, err := l.Upsert(c, bad, ledger.StatePending, t0, t0); !errs.Is(err, errs.Invalid) {
		t.Errorf("invalid order: %v", err)
	}
	if _, _, err := l.ByState(c, "s1", ledger.StatePending, 5, "bm90LWpzb24"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}
	missing := dynamo.New(l.Client, "no-such-table")
	if _, err := missing.Get(c, "bigcommerce:s1:1"); err == nil || errs.Is(err, errs.NotFound) {
		t.Errorf("missing table: %v", err)
	}
}

// The only ship group of a single-address order has the key "", which a
// DynamoDB map cannot hold as a key: the push must still be recorded.
func TestMarkPushedSingleGroupOrder(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "single", t0, "")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	p := ledger.Push{Group: "", OrderKey: string(o.ID), ShipStationOrderID: 77, Account: "main", Version: o.ModifiedAt, Status: o.Status}
	if err := l.MarkPushed(c, o.ID, p, t0.Add(time.Minute)); err != nil {
		t.Fatalf("MarkPushed: %v", err)
	}
	rec, err := l.Get(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != ledger.StatePushed || !rec.PushedVersion() || rec.Pushes[""].ShipStationOrderID != 77 {
		t.Fatalf("after push: state %s, pushes %+v", rec.State, rec.Pushes)
	}
}

func TestClaimForKeepsItsOwner(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	holders := make([]string, 6)
	var wg sync.WaitGroup
	for i := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := l.ClaimFor(c, "tracking:1Z", fmt.Sprintf("order-%d", i), time.Hour, t0)
			if err != nil {
				t.Error(err)
			}
			holders[i] = h
		}()
	}
	wg.Wait()
	won := 0
	for i, h := range holders {
		if h == fmt.Sprintf("order-%d", i) {
			won++
		}
		if h != holders[0] {
			t.Errorf("claimants see different holders: %v", holders)
		}
	}
	if won != 1 {
		t.Fatalf("%d owners won the claim: %v", won, holders)
	}
	// The holder claiming again (a retried step) still holds it.
	if h, err := l.ClaimFor(c, "tracking:1Z", holders[0], time.Hour, t0.Add(time.Minute)); err != nil || h != holders[0] {
		t.Errorf("re-claim by the holder = %q, %v", h, err)
	}
	// Another owner is refused until the claim expires.
	if h, _ := l.ClaimFor(c, "tracking:1Z", "someone-else", time.Hour, t0.Add(59*time.Minute)); h != holders[0] {
		t.Errorf("claim taken over within the ttl by %q", h)
	}
	if h, _ := l.ClaimFor(c, "tracking:1Z", "someone-else", time.Hour, t0.Add(2*time.Hour)); h != "someone-else" {
		t.Errorf("expired claim not granted: holder %q", h)
	}
}

func TestResetWatermarkMovesBack(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	if err := l.SetWatermark(c, "poll:amazon:s", t0); err != nil {
		t.Fatal(err)
	}
	back := t0.Add(-30 * 24 * time.Hour)
	if err := l.ResetWatermark(c, "poll:amazon:s", back); err != nil {
		t.Fatal(err)
	}
	if wm, err := l.Watermark(c, "poll:amazon:s"); err != nil || !wm.Equal(back) {
		t.Fatalf("watermark after reset = %v, %v; want %v", wm, err, back)
	}
	// And it moves forward again as usual.
	if err := l.SetWatermark(c, "poll:amazon:s", t0); err != nil {
		t.Fatal(err)
	}
	if wm, _ := l.Watermark(c, "poll:amazon:s"); !wm.Equal(t0) {
		t.Fatalf("watermark = %v, want %v", wm, t0)
	}
}

func TestUpsertSameVersionWithOtherContentIsAChange(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "77", t0)
	if res, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil || res != ledger.Created {
		t.Fatalf("create: %v %v", res, err)
	}
	// The same read again writes nothing.
	if res, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil || res != ledger.Unchanged {
		t.Fatalf("replay: %v %v", res, err)
	}
	// A change within the channel's timestamp resolution (same second).
	held := o
	held.Status = order.OnHold
	held.Tags = []string{"Cancel requested"}
	res, rec, err := l.Upsert(c, held, ledger.StatePending, t0, t0.Add(time.Second))
	if err != nil || res != ledger.Updated || rec.Order.Status != order.OnHold {
		t.Fatalf("same-version change: %v %v %+v", res, err, rec.Order.Status)
	}
	// An older version is still stale, whatever it holds.
	old := o
	old.ModifiedAt = t0.Add(-time.Second)
	if res, rec, _ := l.Upsert(c, old, ledger.StatePending, t0, t0); res != ledger.Stale || rec.Order.Status != order.OnHold {
		t.Fatalf("older version: %v, stored %s", res, rec.Order.Status)
	}
}
