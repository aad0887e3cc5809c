package dynamo_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// amazonOrder is testOrder as an order of the Amazon channel itself.
func amazonOrder(store, num string, mod time.Time) order.Order {
	o := testOrder(store, num, mod)
	id, err := order.NewID(order.Amazon, store, num)
	if err != nil {
		panic(err)
	}
	o.ID, o.Channel, o.Origin = id, order.Amazon, nil
	return o
}

// buyer is buyer data whose every personal value holds the marker, so a
// test can tell whether any of it survives.
func buyer(marker string) *order.Personal {
	return &order.Personal{
		BillTo: order.Contact{Name: marker + " Bill", Company: marker + " Ltd", Street1: marker + " 1 Main St",
			Phone: marker + "-555-0100", Email: marker + "@example.com"},
		ShipTo:      map[string]order.Contact{"": {Name: marker + " Ship", Street1: marker + " 2 Side St", Street2: marker + " Apt 4"}},
		Email:       "q7" + strings.ToLower(marker) + "@marketplace.amazon.com",
		Username:    marker + "-user",
		GiftMessage: marker + " happy birthday",
		TaxIDs:      []order.TaxID{{Kind: "VAT", Number: marker + "GB123"}},
	}
}

// rawItem reads an item as stored (nil when absent).
func rawItem(t testing.TB, client *dynamodb.Client, table string, id order.ID, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(ctx(t), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORDER#" + string(id)}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// attrS is a string attribute of an item ("" when absent).
func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// dueIDs lists everything due at or before `before`, page by page.
func dueIDs(t testing.TB, l *dynamo.Ledger, before time.Time, limit int) []ledger.DueRedaction {
	t.Helper()
	var all []ledger.DueRedaction
	var page ledger.Page
	for i := 0; ; i++ {
		got, next, err := l.DueForRedaction(ctx(t), before, limit, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > limit {
			t.Fatalf("page of %d, limit %d", len(got), limit)
		}
		all = append(all, got...)
		if next == "" {
			return all
		}
		if i > 10000 {
			t.Fatal("paging does not end")
		}
		page = next
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func idsOf(ds []ledger.DueRedaction) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, string(d.ID))
	}
	sort.Strings(out)
	return out
}

func TestRedactionDueListedOnlyWhenDue(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	due := t0.Add(14 * 24 * time.Hour)
	var want []string
	for i := range 3 {
		o := amazonOrder("s1", fmt.Sprint("d", i), t0)
		o.Personal = buyer("Ann")
		if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
			t.Fatal(err)
		}
		if err := l.SetRedactionDue(c, o.ID, due.Add(time.Duration(i)*time.Hour), redaction.Grace); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(o.ID))
	}
	// An order without a due time is never listed.
	plain := amazonOrder("s1", "none", t0)
	if _, _, err := l.Upsert(c, plain, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		before time.Time
		n      int
	}{
		{due.Add(-time.Second), 0},
		{due, 1},
		{due.Add(time.Second), 1},
		{due.Add(time.Hour - time.Second), 1},
		{due.Add(time.Hour), 2},
		{due.Add(2*time.Hour + time.Second), 3},
		{due.Add(1000 * 24 * time.Hour), 3},
	} {
		got := dueIDs(t, l, c.before, 100)
		if len(got) != c.n || fmt.Sprint(idsOf(got)) != fmt.Sprint(want[:c.n]) {
			t.Errorf("due before due%+v: %v, want %v", c.before.Sub(due), idsOf(got), want[:c.n])
		}
		for _, d := range got {
			if d.Due.After(c.before) {
				t.Errorf("%s listed with due %s after %s", d.ID, d.Due, c.before)
			}
		}
	}

	// The buyer data item carries the time to live due+grace (rounded up).
	o0 := order.ID(want[0])
	pii := rawItem(t, client, table, o0, "PII")
	if got, w := attrN(pii, dynamo.TTLAttribute), fmt.Sprint(due.Add(redaction.Grace).Unix()); got != w {
		t.Errorf("ttl %s, want %s", got, w)
	}
	// Idempotent: the same due again writes nothing.
	rev := attrN(rawItem(t, client, table, o0, "ORDER"), "rev")
	if err := l.SetRedactionDue(c, o0, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	if got := attrN(rawItem(t, client, table, o0, "ORDER"), "rev"); got != rev {
		t.Errorf("same due rewrote the order: rev %s -> %s", rev, got)
	}
	// A recomputed due moves the entry and the time to live.
	later := due.Add(30 * 24 * time.Hour)
	if err := l.SetRedactionDue(c, o0, later, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, l, due.Add(3*time.Hour), 100); len(got) != 2 {
		t.Errorf("after moving: %v", idsOf(got))
	}
	if got := attrN(rawItem(t, client, table, o0, "PII"), dynamo.TTLAttribute); got != fmt.Sprint(later.Add(time.Hour).Unix()) {
		t.Errorf("moved ttl %s", got)
	}
	rec, err := l.Get(c, o0)
	if err != nil || !rec.RedactionDue.Equal(later) || !rec.RedactedAt.IsZero() {
		t.Errorf("record due %s redacted %s, %v", rec.RedactionDue, rec.RedactedAt, err)
	}
	// A fraction of a second rounds the time to live up, never down.
	if err := l.SetRedactionDue(c, o0, later.Add(time.Millisecond), 0); err != nil {
		t.Fatal(err)
	}
	if got := attrN(rawItem(t, client, table, o0, "PII"), dynamo.TTLAttribute); got != fmt.Sprint(later.Unix()+1) {
		t.Errorf("rounded ttl %s, want %d", got, later.Unix()+1)
	}

	if err := l.SetRedactionDue(c, "amazon:s1:nope", due, 0); !errs.Is(err, errs.NotFound) {
		t.Errorf("missing order: %v", err)
	}
	if err := l.SetRedactionDue(c, o0, time.Time{}, 0); !errs.Is(err, errs.Invalid) {
		t.Errorf("zero due: %v", err)
	}
	if err := l.SetRedactionDue(c, o0, due, -time.Second); !errs.Is(err, errs.Invalid) {
		t.Errorf("negative grace: %v", err)
	}
	if _, _, err := l.DueForRedaction(c, due, 10, "garbage"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestDueForRedactionPagesAcrossShards(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	due := t0.Add(14 * 24 * time.Hour)
	var want []string
	for i := range 41 {
		o := amazonOrder("s1", fmt.Sprint("p", i), t0)
		if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
			t.Fatal(err)
		}
		// Some share a due time: the id breaks the tie.
		if err := l.SetRedactionDue(c, o.ID, due.Add(time.Duration(i%7)*time.Minute), 0); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(o.ID))
	}
	sort.Strings(want)
	for _, limit := range []int{1, 3, 7, 40, 41, 42, 1000} {
		got := idsOf(dueIDs(t, l, due.Add(time.Hour), limit))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("limit %d: %d ids %v", limit, len(got), got)
		}
	}
}

func TestRedactRecordsHidesAndIsIdempotent(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := amazonOrder("s1", "r1", t0)
	o.Personal = buyer("Zelda")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(14 * 24 * time.Hour)
	if err := l.SetRedactionDue(c, o.ID, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	// Before the due time (and a second before the ttl) the data is there.
	l.Now = func() time.Time { return due.Add(redaction.Grace - time.Second) }
	if rec, err := l.Get(c, o.ID); err != nil || !reflect.DeepEqual(rec.Order.Personal, o.Personal) {
		t.Fatalf("before: %+v %v", rec.Order.Personal, err)
	}
	at := due.Add(20 * time.Minute)
	done, err := l.Redact(c, o.ID, at)
	if err != nil || !done {
		t.Fatalf("Redact = %v, %v", done, err)
	}
	rec, err := l.Get(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := redaction.Redact(o.Personal)
	if !reflect.DeepEqual(rec.Order.Personal, want) || !rec.Order.Personal.Redacted {
		t.Errorf("redacted personal = %+v, want %+v", rec.Order.Personal, want)
	}
	if rec.Order.Personal.BillTo.Name != redaction.Redacted || rec.Order.Personal.Email != o.Personal.Email {
		t.Errorf("bill-to name %q, relay email %q", rec.Order.Personal.BillTo.Name, rec.Order.Personal.Email)
	}
	if !rec.RedactedAt.Equal(at) || !rec.RedactionDue.Equal(due) {
		t.Errorf("redactedAt %s due %s", rec.RedactedAt, rec.RedactionDue)
	}
	// Nothing personal is stored any more, and nothing expires.
	pii := rawItem(t, client, table, o.ID, "PII")
	if raw := attrS(pii, "personal"); raw == "" || strings.Contains(raw, "Zelda") {
		t.Errorf("PII item still holds buyer data: %s", raw)
	}
	if _, ok := pii[dynamo.TTLAttribute]; ok {
		t.Error("redacted PII item keeps a ttl")
	}
	orderItem := rawItem(t, client, table, o.ID, "ORDER")
	for _, a := range []string{"gsi3pk", "gsi3sk", "piiTTL"} {
		if _, ok := orderItem[a]; ok {
			t.Errorf("order item keeps %s", a)
		}
	}
	if got := dueIDs(t, l, due.Add(1000*24*time.Hour), 100); len(got) != 0 {
		t.Errorf("still listed: %v", idsOf(got))
	}
	hist, err := l.History(c, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Kind != order.EventRedacted || !last.At.Equal(at) || !strings.Contains(last.Message, "lateness 20m0s") || strings.Contains(last.Message, "Zelda") {
		t.Errorf("history event %+v", last)
	}

	// A second call is a no-op.
	done, err = l.Redact(c, o.ID, at.Add(time.Hour))
	if err != nil || done {
		t.Errorf("second Redact = %v, %v", done, err)
	}
	if h2, _ := l.History(c, o.ID); len(h2) != len(hist) {
		t.Errorf("second Redact added history: %d -> %d", len(hist), len(h2))
	}
	// So is a recomputed due: a redacted order is left alone.
	if err := l.SetRedactionDue(c, o.ID, due.Add(48*time.Hour), redaction.Grace); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, l, due.Add(1000*24*time.Hour), 100); len(got) != 0 {
		t.Errorf("listed again: %v", idsOf(got))
	}
	if _, ok := rawItem(t, client, table, o.ID, "PII")[dynamo.TTLAttribute]; ok {
		t.Error("ttl set again on a redacted order")
	}

	if _, err := l.Redact(c, "amazon:s1:nope", at); !errs.Is(err, errs.NotFound) {
		t.Errorf("missing order: %v", err)
	}
}

func TestUpsertAfterRedactionDoesNotResurrect(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := testOrder("s1", "u1", t0) // a BigCommerce copy of an Amazon order
	o.Personal = buyer("Yuri")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(time.Hour)
	if err := l.SetRedactionDue(c, o.ID, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.Redact(c, o.ID, due); err != nil || !ok {
		t.Fatal(ok, err)
	}
	// The channel sends a newer version, with fresh buyer data.
	o2 := testOrder("s1", "u1", t0.Add(2*time.Hour))
	o2.Personal = buyer("Yuri")
	res, rec, err := l.Upsert(c, o2, ledger.StatePending, t0, t0.Add(3*time.Hour))
	if err != nil || res != ledger.Updated {
		t.Fatalf("upsert: %v %v", res, err)
	}
	if !reflect.DeepEqual(rec.Order.Personal, redaction.Redact(o.Personal)) || rec.RedactedAt.IsZero() {
		t.Errorf("upsert returned %+v (redactedAt %s)", rec.Order.Personal, rec.RedactedAt)
	}
	if raw := attrS(rawItem(t, client, table, o.ID, "PII"), "personal"); strings.Contains(raw, "Yuri") {
		t.Errorf("buyer data resurrected: %s", raw)
	}
	got, err := l.Get(c, o.ID)
	if err != nil || !got.Order.Personal.Redacted || got.Order.Personal.BillTo.Name != redaction.Redacted || got.RedactedAt.IsZero() {
		t.Errorf("Get after upsert: %+v %v", got.Order.Personal, err)
	}
	// A replay of it is Unchanged and shows the redacted data too.
	if res, rec, err := l.Upsert(c, o2, ledger.StatePending, t0, t0.Add(4*time.Hour)); err != nil || res != ledger.Unchanged || !rec.Order.Personal.Redacted {
		t.Errorf("replay: %v %+v %v", res, rec.Order.Personal, err)
	}
}

func TestUpsertKeepsTheTimeToLive(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := amazonOrder("s1", "k1", t0)
	o.Personal = buyer("Xena")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(14 * 24 * time.Hour)
	if err := l.SetRedactionDue(c, o.ID, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	o2 := amazonOrder("s1", "k1", t0.Add(time.Minute))
	o2.Personal = buyer("Xavier")
	if _, _, err := l.Upsert(c, o2, ledger.StatePending, t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pii := rawItem(t, client, table, o.ID, "PII")
	if got, w := attrN(pii, dynamo.TTLAttribute), fmt.Sprint(due.Add(redaction.Grace).Unix()); got != w || !strings.Contains(attrS(pii, "personal"), "Xavier") {
		t.Errorf("rewritten PII item: ttl %s (want %s): %v", got, w, pii)
	}
	// Written after its ttl (the sweep has not run), fresh data reads as
	// redacted at once.
	late := due.Add(redaction.Grace + time.Second)
	o3 := amazonOrder("s1", "k1", late)
	o3.Personal = buyer("Wanda")
	_, rec, err := l.Upsert(c, o3, ledger.StatePending, t0, late)
	if err != nil || !reflect.DeepEqual(rec.Order.Personal, redaction.Redact(o3.Personal)) {
		t.Errorf("upsert after ttl returned %+v, %v", rec.Order.Personal, err)
	}
}

// A reader given an expired PII item, or an order whose PII item is gone,
// shows the order as redacted.
func TestReaderShowsExpiredOrDeletedPIIAsRedacted(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := amazonOrder("s1", "e1", t0)
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	// Write the PII item directly, with a ttl of its own.
	p := buyer("Vera")
	raw, _ := json.Marshal(p)
	ttl := time.Now().Add(time.Hour).Truncate(time.Second)
	_, err := client.PutItem(c, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk":                &types.AttributeValueMemberS{Value: "ORDER#" + string(o.ID)},
		"sk":                &types.AttributeValueMemberS{Value: "PII"},
		"personal":          &types.AttributeValueMemberS{Value: string(raw)},
		dynamo.TTLAttribute: &types.AttributeValueMemberN{Value: fmt.Sprint(ttl.Unix())},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c2 := range []struct {
		now      time.Time
		redacted bool
	}{
		{ttl.Add(-time.Second), false},
		{ttl, true},
		{ttl.Add(time.Second), true},
	} {
		l.Now = func() time.Time { return c2.now }
		rec, err := l.Get(c, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := p
		if c2.redacted {
			want = redaction.Redact(p)
		}
		if !reflect.DeepEqual(rec.Order.Personal, want) {
			t.Errorf("at ttl%+v: personal %+v, want %+v", c2.now.Sub(ttl), rec.Order.Personal, want)
		}
	}
	// The real clock: a ttl in the past.
	l.Now = nil
	_, err = client.UpdateItem(c, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "ORDER#" + string(o.ID)}, "sk": &types.AttributeValueMemberS{Value: "PII"}},
		UpdateExpression:          aws.String("SET #ttl = :t"),
		ExpressionAttributeNames:  map[string]string{"#ttl": dynamo.TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(-time.Minute).Unix())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := l.Get(c, o.ID); err != nil || rec.Order.Personal == nil || !rec.Order.Personal.Redacted || strings.Contains(jsonOf(rec.Order.Personal), "Vera") {
		t.Errorf("expired: %+v %v", rec.Order.Personal, err)
	}
	// The sweep comes late: it redacts what the expired item held.
	if ok, err := l.Redact(c, o.ID, time.Now()); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if raw := attrS(rawItem(t, client, table, o.ID, "PII"), "personal"); strings.Contains(raw, "Vera") {
		t.Errorf("expired item not redacted: %s", raw)
	}
	// DynamoDB deletes the item (of a redacted order): nil, shown redacted.
	if _, err := client.DeleteItem(c, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "ORDER#" + string(o.ID)}, "sk": &types.AttributeValueMemberS{Value: "PII"},
	}}); err != nil {
		t.Fatal(err)
	}
	rec, err := l.Get(c, o.ID)
	if err != nil || rec.Order.Personal != nil || rec.RedactedAt.IsZero() {
		t.Errorf("deleted: %+v redactedAt %s, %v", rec.Order.Personal, rec.RedactedAt, err)
	}
	// A later version does not bring it back.
	o2 := amazonOrder("s1", "e1", t0.Add(time.Hour))
	o2.Personal = buyer("Vera")
	if _, rec, err := l.Upsert(c, o2, ledger.StatePending, t0, t0.Add(time.Hour)); err != nil || rec.Order.Personal != nil {
		t.Errorf("upsert after deletion: %+v %v", rec.Order.Personal, err)
	}
	if item := rawItem(t, client, table, o.ID, "PII"); item != nil {
		t.Errorf("PII item written again: %v", item)
	}
}

// TTL deleted the data before the sweep came, or there never was any (an
// FBA order): Redact marks the order all the same; no error.
func TestRedactWithoutBuyerData(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	fba := amazonOrder("s1", "fba1", t0)
	fba.FulfilledByChannel, fba.Status = true, order.Shipped
	if _, _, err := l.Upsert(c, fba, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	due := t0.Add(14 * 24 * time.Hour)
	if err := l.SetRedactionDue(c, fba.ID, due, redaction.Grace); err != nil {
		t.Fatal(err)
	}
	if item := rawItem(t, client, table, fba.ID, "PII"); item != nil {
		t.Errorf("SetRedactionDue created a PII item: %v", item)
	}
	if got := dueIDs(t, l, due, 10); len(got) != 1 {
		t.Errorf("FBA order not listed: %v", got)
	}
	if ok, err := l.Redact(c, fba.ID, due); err != nil || !ok {
		t.Fatalf("Redact FBA = %v, %v", ok, err)
	}
	rec, err := l.Get(c, fba.ID)
	if err != nil || rec.Order.Personal != nil || !rec.RedactedAt.Equal(due) {
		t.Errorf("FBA after redaction: %+v %s %v", rec.Order.Personal, rec.RedactedAt, err)
	}
	hist, _ := l.History(c, fba.ID)
	if last := hist[len(hist)-1]; last.Kind != order.EventRedacted || !strings.Contains(last.Message, "no buyer data held") {
		t.Errorf("FBA history %+v", last)
	}
}

// Upserts of new buyer data racing a redaction never leave buyer data
// behind.
func TestRedactRacingUpserts(t *testing.T) {
	l, client, table := newLedger(t)
	c := ctx(t)
	o := amazonOrder("s1", "race", t0)
	o.Personal = buyer("Quinn")
	if _, _, err := l.Upsert(c, o, ledger.StatePending, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := l.SetRedactionDue(c, o.ID, t0.Add(time.Hour), redaction.Grace); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 40)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := amazonOrder("s1", "race", t0.Add(time.Duration(i+1)*time.Second))
			v.Personal = buyer("Quinn")
			_, _, err := l.Upsert(c, v, ledger.StatePending, t0, t0.Add(time.Hour))
			errc <- err
		}()
		if i == 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := l.Redact(c, o.ID, t0.Add(time.Hour))
				errc <- err
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if raw := attrS(rawItem(t, client, table, o.ID, "PII"), "personal"); strings.Contains(raw, "Quinn") {
		t.Errorf("buyer data left behind: %s", raw)
	}
	if rec, err := l.Get(c, o.ID); err != nil || !rec.Order.Personal.Redacted {
		t.Errorf("Get: %+v %v", rec.Order.Personal, err)
	}
}
