package rules_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/rules"
)

var (
	placed = time.Date(2026, 11, 21, 17, 0, 0, 0, time.UTC)
	now    = placed.Add(10 * time.Minute)
)

// newOrder is a valid order of a channel: one ship group to Austin, TX,
// one line of two units, total 43.20.
func newOrder(ch order.Channel, store string) order.Order {
	id, err := order.NewID(ch, store, "1001")
	if err != nil {
		panic(err)
	}
	return order.Order{
		ID: id, Channel: ch, StoreID: store, ChannelOrderID: "1001", OrderNumber: "1001",
		Status: order.AwaitingShipment, OrderDate: placed, ModifiedAt: placed,
		Currency: "USD", Total: order.MustDecimal("43.20"),
		ShipGroups:       []order.ShipGroup{{ShipTo: order.Address{City: "Austin", State: "TX", Country: "US"}, ShippingMethod: "Standard"}},
		Items:            []order.Item{{LineID: "1", SKU: "MUG-1", Name: "Mug", Quantity: 2, UnitPrice: "15.99"}},
		RequestedService: "Standard",
	}
}

func exampleRules(t *testing.T) []rules.Rule {
	t.Helper()
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(data)
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	return c.Account("main").Rules
}

// TestShipStationDoNotImportExample is the acceptance test: ShipStation's
// "Marketplace equals BigCommerce and Source in {eBay, Amazon} → do not
// import", loaded from the example config, behaves as ShipStation's does.
func TestShipStationDoNotImportExample(t *testing.T) {
	rs := exampleRules(t)
	const dni = "Do not import marketplace copies"
	if len(rs) == 0 || rs[0].Name != dni {
		t.Fatalf("first rule = %+v", rs)
	}

	for _, mp := range []order.Channel{order.Amazon, order.EBay} {
		copyOf := newOrder(order.BigCommerce, "bc-main")
		copyOf.Origin = &order.Origin{Marketplace: mp, OrderID: "113-4567890-1234567"}
		copyOf.ShipGroups[0].ShipTo.State = "California" // would match the west warehouse rule
		before := copyOf
		d, lines := rules.Apply(rs, &copyOf, now)
		if d.DoNotImport != dni || !slices.Equal(d.Matched, []string{dni}) {
			t.Errorf("BigCommerce copy of a %s order: decision %+v, want do not import by %q", mp, d, dni)
		}
		if want := []string{`rule "Do not import marketplace copies": do not import`}; !slices.Equal(lines, want) {
			t.Errorf("history lines %q, want %q", lines, want)
		}
		if copyOf.WarehouseID != 0 || copyOf.Status != before.Status || len(copyOf.Tags) != 0 {
			t.Errorf("rules after do-not-import still applied: %+v", copyOf)
		}
	}

	plain := newOrder(order.BigCommerce, "bc-main")
	plain.ShipGroups[0].ShipTo.State = "California"
	d, lines := rules.Apply(rs, &plain, now)
	if d.DoNotImport != "" {
		t.Errorf("a plain BigCommerce order is not imported: %+v", d)
	}
	if plain.WarehouseID != 40112 {
		t.Errorf("plain BigCommerce order to California: warehouse %d, want 40112 (lines %q)", plain.WarehouseID, lines)
	}

	amz := newOrder(order.Amazon, "amz-us")
	amz.RequestedService = "NextDay"
	amz.Tags = []string{"Prime"}
	d, _ = rules.Apply(rs, &amz, now)
	if d.DoNotImport != "" || !amz.Priority || !slices.Contains(amz.Tags, rules.TagPriority) {
		t.Errorf("Amazon order: decision %+v, priority %v, tags %v", d, amz.Priority, amz.Tags)
	}
	if amz.WarehouseID != 40113 {
		t.Errorf("Amazon order to Texas: warehouse %d, want the east warehouse 40113", amz.WarehouseID)
	}

	// An Amazon order that (oddly) names an origin is still no BigCommerce copy.
	odd := newOrder(order.Amazon, "amz-us")
	odd.Origin = &order.Origin{Marketplace: order.EBay, OrderID: "12-34567-89012"}
	if d, _ := rules.Apply(rs, &odd, now); d.DoNotImport != "" {
		t.Errorf("Amazon order with an origin skipped: %+v", d)
	}

	// The same example written as a bare rules list parses the same way.
	bare, err := rules.Parse([]byte(`
- name: Do not import marketplace copies
  when:
    - {field: marketplace, op: equals, value: BigCommerce}
    - {field: source, op: in, values: [eBay, Amazon]}
  then: {doNotImport: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	cp := newOrder(order.BigCommerce, "bc-main")
	cp.Origin = &order.Origin{Marketplace: order.EBay, OrderID: "12-34567-89012"}
	if d, _ := rules.Apply(bare, &cp, now); d.DoNotImport != dni {
		t.Errorf("bare list: %+v", d)
	}
}

func TestTagPrimeIsTheAmazonTag(t *testing.T) {
	if rules.TagPrime != amazon.TagPrime {
		t.Errorf("rules.TagPrime %q, amazon.TagPrime %q", rules.TagPrime, amazon.TagPrime)
	}
}

// matches builds a one-condition rule, validates it and reports whether it
// matches o (o itself is not changed).
func matches(t *testing.T, o order.Order, f rules.Field, op rules.Op, values ...string) bool {
	t.Helper()
	rs := []rules.Rule{{Name: "r", When: []rules.Condition{{Field: f, Op: op, Values: values}}, Then: rules.Actions{Tags: []string{"hit"}}}}
	if err := rules.Validate(rs); err != nil {
		t.Fatalf("%s %s %q: %v", f, op, values, err)
	}
	d, _ := rules.Apply(rs, &o, now)
	return len(d.Matched) == 1
}

func TestEveryOperatorOnEveryFieldType(t *testing.T) {
	bc := newOrder(order.BigCommerce, "bc-main")
	bc.Origin = &order.Origin{Marketplace: order.Amazon, OrderID: "113-4567890-1234567"}
	multi := newOrder(order.BigCommerce, "bc-main")
	multi.ShipGroups = []order.ShipGroup{
		{Key: "1", ShipTo: order.Address{State: "Texas", Country: "US"}},
		{Key: "2", ShipTo: order.Address{State: "Ontario", Country: "CA"}},
	}
	multi.Items = []order.Item{
		{LineID: "1", SKU: "MUG-1", Quantity: 2, Group: "1"},
		{LineID: "2", SKU: "tee-blue-L", Quantity: 1, Group: "2"},
	}
	multi.Tags = []string{"Gift", "Prime"}
	amz := newOrder(order.Amazon, "amz-us")
	amz.Business = true
	amz.Total = "100.00"
	amz.RequestedService = "Expedited"

	cases := []struct {
		name   string
		o      order.Order
		field  rules.Field
		op     rules.Op
		values []string
		want   bool
	}{
		// Text, one value: marketplace, source, store, requestedService, serviceLevel.
		{"marketplace equals, any case", bc, rules.FieldMarketplace, rules.OpEquals, []string{"BigCommerce"}, true},
		{"marketplace equals other", bc, rules.FieldMarketplace, rules.OpEquals, []string{"amazon"}, false},
		{"marketplace notEquals", bc, rules.FieldMarketplace, rules.OpNotEquals, []string{"amazon"}, true},
		{"marketplace notEquals same", bc, rules.FieldMarketplace, rules.OpNotEquals, []string{" bigcommerce "}, false},
		{"marketplace in", amz, rules.FieldMarketplace, rules.OpIn, []string{"eBay", "Amazon"}, true},
		{"marketplace in, not there", bc, rules.FieldMarketplace, rules.OpIn, []string{"eBay", "Amazon"}, false},
		{"marketplace notIn", bc, rules.FieldMarketplace, rules.OpNotIn, []string{"eBay", "Amazon"}, true},
		{"marketplace notIn, there", amz, rules.FieldMarketplace, rules.OpNotIn, []string{"eBay", "Amazon"}, false},
		{"marketplace contains", bc, rules.FieldMarketplace, rules.OpContains, []string{"COMMERCE"}, true},
		{"marketplace contains, not", amz, rules.FieldMarketplace, rules.OpContains, []string{"commerce"}, false},
		{"marketplace notContains", amz, rules.FieldMarketplace, rules.OpNotContains, []string{"commerce"}, true},
		{"marketplace notContains, contained", bc, rules.FieldMarketplace, rules.OpNotContains, []string{"commerce"}, false},
		{"source of a copy", bc, rules.FieldSource, rules.OpIn, []string{"eBay", "Amazon"}, true},
		{"source of no copy", amz, rules.FieldSource, rules.OpIn, []string{"eBay", "Amazon"}, false},
		{"source of no copy is empty", amz, rules.FieldSource, rules.OpEquals, []string{""}, true},
		{"source of a copy is not empty", bc, rules.FieldSource, rules.OpEquals, []string{""}, false},
		{"source notEquals empty", bc, rules.FieldSource, rules.OpNotEquals, []string{""}, true},
		{"store equals", bc, rules.FieldStore, rules.OpEquals, []string{"BC-MAIN"}, true},
		{"store notIn", bc, rules.FieldStore, rules.OpNotIn, []string{"amz-us"}, true},
		{"requestedService equals", amz, rules.FieldRequestedService, rules.OpEquals, []string{"expedited"}, true},
		{"requestedService contains", amz, rules.FieldRequestedService, rules.OpContains, []string{"pedit"}, true},
		{"serviceLevel in", amz, rules.FieldServiceLevel, rules.OpIn, []string{"NextDay", "Expedited"}, true},
		{"serviceLevel notIn", amz, rules.FieldServiceLevel, rules.OpNotIn, []string{"NextDay", "Expedited"}, false},

		// Text, several values: any satisfies the positive ops, none the negative.
		{"shipToCountry equals one group", multi, rules.FieldShipToCountry, rules.OpEquals, []string{"ca"}, true},
		{"shipToCountry notEquals, one group is", multi, rules.FieldShipToCountry, rules.OpNotEquals, []string{"CA"}, false},
		{"shipToCountry notEquals, none is", multi, rules.FieldShipToCountry, rules.OpNotEquals, []string{"GB"}, true},
		{"shipToCountry in", bc, rules.FieldShipToCountry, rules.OpIn, []string{"CA", "US"}, true},
		{"shipToCountry notIn", bc, rules.FieldShipToCountry, rules.OpNotIn, []string{"CA", "MX"}, true},
		{"shipToState in", multi, rules.FieldShipToState, rules.OpIn, []string{"TX", "Texas"}, true},
		{"shipToState contains", multi, rules.FieldShipToState, rules.OpContains, []string{"tario"}, true},
		{"shipToState notContains", multi, rules.FieldShipToState, rules.OpNotContains, []string{"tario"}, false},
		{"sku equals any line", multi, rules.FieldSKU, rules.OpEquals, []string{"TEE-BLUE-L"}, true},
		{"sku contains", multi, rules.FieldSKU, rules.OpContains, []string{"blue"}, true},
		{"sku notContains", multi, rules.FieldSKU, rules.OpNotContains, []string{"red"}, true},
		{"sku notEquals, one line is", multi, rules.FieldSKU, rules.OpNotEquals, []string{"MUG-1"}, false},
		{"sku in", bc, rules.FieldSKU, rules.OpIn, []string{"MUG-1", "MUG-2"}, true},
		{"sku notIn", bc, rules.FieldSKU, rules.OpNotIn, []string{"MUG-2"}, true},
		{"tag equals", multi, rules.FieldTag, rules.OpEquals, []string{"gift"}, true},
		{"tag notEquals, no tags", bc, rules.FieldTag, rules.OpNotEquals, []string{"Gift"}, true},
		{"tag equals, no tags", bc, rules.FieldTag, rules.OpEquals, []string{"Gift"}, false},
		{"tag in", multi, rules.FieldTag, rules.OpIn, []string{"Fragile", "Prime"}, true},
		{"tag notIn", multi, rules.FieldTag, rules.OpNotIn, []string{"Fragile", "Prime"}, false},
		{"tag contains", multi, rules.FieldTag, rules.OpContains, []string{"rim"}, true},

		// Integer: units, not lines. bc has 2 units, multi 3.
		{"itemCount equals", multi, rules.FieldItemCount, rules.OpEquals, []string{"3"}, true},
		{"itemCount equals lines", multi, rules.FieldItemCount, rules.OpEquals, []string{"2"}, false},
		{"itemCount notEquals", multi, rules.FieldItemCount, rules.OpNotEquals, []string{"3"}, false},
		{"itemCount in", bc, rules.FieldItemCount, rules.OpIn, []string{"1", "2"}, true},
		{"itemCount notIn", bc, rules.FieldItemCount, rules.OpNotIn, []string{"1", "2"}, false},
		{"itemCount greater below", multi, rules.FieldItemCount, rules.OpGreater, []string{"2"}, true},
		{"itemCount greater at boundary", multi, rules.FieldItemCount, rules.OpGreater, []string{"3"}, false},
		{"itemCount less at boundary", multi, rules.FieldItemCount, rules.OpLess, []string{"3"}, false},
		{"itemCount less above", multi, rules.FieldItemCount, rules.OpLess, []string{"4"}, true},

		// Decimal: exact, whatever the scale. amz's total is 100.00.
		{"orderTotal equals other scale", amz, rules.FieldOrderTotal, rules.OpEquals, []string{"100"}, true},
		{"orderTotal equals a cent off", amz, rules.FieldOrderTotal, rules.OpEquals, []string{"100.01"}, false},
		{"orderTotal notEquals", amz, rules.FieldOrderTotal, rules.OpNotEquals, []string{"100.001"}, true},
		{"orderTotal in", amz, rules.FieldOrderTotal, rules.OpIn, []string{"5", "100.0"}, true},
		{"orderTotal notIn", amz, rules.FieldOrderTotal, rules.OpNotIn, []string{"5", "100.0"}, false},
		{"orderTotal greater a cent below", amz, rules.FieldOrderTotal, rules.OpGreater, []string{"99.99"}, true},
		{"orderTotal greater at boundary", amz, rules.FieldOrderTotal, rules.OpGreater, []string{"100"}, false},
		{"orderTotal less at boundary", amz, rules.FieldOrderTotal, rules.OpLess, []string{"100.000"}, false},
		{"orderTotal less a cent above", amz, rules.FieldOrderTotal, rules.OpLess, []string{"100.01"}, true},
		{"orderTotal beyond float precision", amz, rules.FieldOrderTotal, rules.OpLess, []string{"100.0000000000000000001"}, true},

		// Boolean.
		{"prime equals true", multi, rules.FieldPrime, rules.OpEquals, []string{"true"}, true},
		{"prime equals true, not tagged", bc, rules.FieldPrime, rules.OpEquals, []string{"true"}, false},
		{"prime equals false", bc, rules.FieldPrime, rules.OpEquals, []string{"FALSE"}, true},
		{"prime notEquals true", multi, rules.FieldPrime, rules.OpNotEquals, []string{"true"}, false},
		{"business equals true", amz, rules.FieldBusiness, rules.OpEquals, []string{"true"}, true},
		{"business notEquals true", bc, rules.FieldBusiness, rules.OpNotEquals, []string{"true"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(t, tc.o, tc.field, tc.op, tc.values...); got != tc.want {
				t.Errorf("%s %s %q on %s = %v, want %v", tc.field, tc.op, tc.values, tc.o.ID, got, tc.want)
			}
		})
	}

	// No condition: every order.
	rs := []rules.Rule{{Name: "all", Then: rules.Actions{Tags: []string{"x"}}}}
	if err := rules.Validate(rs); err != nil {
		t.Fatal(err)
	}
	if d, _ := rules.Apply(rs, &bc, now); len(d.Matched) != 1 {
		t.Errorf("a rule without conditions did not match")
	}
	// All conditions must hold.
	both := []rules.Rule{{Name: "both", When: []rules.Condition{
		{Field: rules.FieldMarketplace, Op: rules.OpEquals, Values: []string{"bigcommerce"}},
		{Field: rules.FieldItemCount, Op: rules.OpGreater, Values: []string{"5"}},
	}, Then: rules.Actions{Tags: []string{"x"}}}}
	if err := rules.Validate(both); err != nil {
		t.Fatal(err)
	}
	if d, _ := rules.Apply(both, &bc, now); len(d.Matched) != 0 {
		t.Errorf("a rule matched with one of two conditions false")
	}
}

func TestActionsChangeTheOrderInTurn(t *testing.T) {
	rs, err := rules.Parse([]byte(`
- name: gift
  when: [{field: sku, op: contains, value: mug}]
  then: {tags: [Gift, gift, Fragile]}
- name: sees the gift tag
  when: [{field: tag, op: equals, value: GIFT}]
  then:
    requestedService: UPS Ground
    customField: {2: wrap, 3: ""}
    warehouse: 7
- name: level unchanged
  when:
    - {field: serviceLevel, op: equals, value: Standard}
    - {field: requestedService, op: equals, value: ups ground}
  then: {priority: true}
  stop: true
- name: never reached
  then: {tags: [Late]}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := newOrder(order.BigCommerce, "bc-main")
	o.Tags = []string{"Prime"}
	o.CustomFields = [3]string{"a", "b", "c"}
	orig := o
	origTags := slices.Clone(o.Tags)
	d, lines := rules.Apply(rs, &o, now)
	want := []string{
		`rule "gift": tag "Gift"`,
		`rule "gift": tag "gift"`,
		`rule "gift": tag "Fragile"`,
		`rule "sees the gift tag": warehouse 7`,
		`rule "sees the gift tag": requested service "UPS Ground"`,
		`rule "sees the gift tag": customField2 "wrap"`,
		`rule "sees the gift tag": customField3 ""`,
		`rule "level unchanged": priority (tag "Priority", pushed first)`,
		`rule "level unchanged": stop`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(d.Matched, []string{"gift", "sees the gift tag", "level unchanged"}) || d.DoNotImport != "" {
		t.Errorf("decision %+v", d)
	}
	if got := o.Tags; !slices.Equal(got, []string{"Prime", "Gift", "Fragile", "Priority"}) {
		t.Errorf("tags %q", got)
	}
	if o.RequestedService != "UPS Ground" || o.ShipGroups[0].ShippingMethod != "UPS Ground" || o.WarehouseID != 7 || !o.Priority {
		t.Errorf("order after rules: %+v", o)
	}
	if o.CustomFields != [3]string{"a", "wrap", ""} {
		t.Errorf("custom fields %q", o.CustomFields)
	}
	// The caller's copy is untouched: no shared backing arrays written.
	if !slices.Equal(orig.Tags, origTags) || orig.ShipGroups[0].ShippingMethod != "Standard" || orig.Priority {
		t.Errorf("Apply wrote through to a copy of the order: %+v", orig)
	}
}

func TestHold(t *testing.T) {
	rs, err := rules.Parse([]byte(`
- name: window
  then: {hold: {for: 2h}}
- name: big
  when: [{field: orderTotal, op: greater, value: 40}]
  then: {hold: {until: "2026-11-21T18:30:00Z"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := newOrder(order.BigCommerce, "bc-main")
	_, lines := rules.Apply(rs, &o, now)
	end := placed.Add(2 * time.Hour)
	if o.Status != order.OnHold || o.HoldUntil == nil || !o.HoldUntil.Equal(end) {
		t.Fatalf("held order: status %s until %v, want on_hold until %v", o.Status, o.HoldUntil, end)
	}
	want := []string{`rule "window": hold until 2026-11-21T19:00:00Z`, `rule "big": hold until 2026-11-21T19:00:00Z`}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q (the later end wins)", lines, want)
	}

	// Once the window has passed, a version is not held.
	late := newOrder(order.BigCommerce, "bc-main")
	_, lines = rules.Apply(rs[:1], &late, end)
	if late.Status != order.AwaitingShipment || late.HoldUntil != nil {
		t.Errorf("after the window: status %s until %v", late.Status, late.HoldUntil)
	}
	if want := `rule "window": hold until 2026-11-21T19:00:00Z: ended already`; len(lines) != 1 || lines[0] != want {
		t.Errorf("lines %q", lines)
	}
	// One nanosecond before the end it still holds.
	edge := newOrder(order.BigCommerce, "bc-main")
	if _, _ = rules.Apply(rs[:1], &edge, end.Add(-time.Nanosecond)); edge.Status != order.OnHold {
		t.Errorf("just before the end: %s", edge.Status)
	}

	// Cancelled, shipped, unpaid and channel-held orders are not touched.
	for _, st := range []order.Status{order.Cancelled, order.Shipped, order.AwaitingPayment, order.OnHold} {
		x := newOrder(order.BigCommerce, "bc-main")
		x.Status = st
		_, lines := rules.Apply(rs[:1], &x, now)
		if x.Status != st || x.HoldUntil != nil {
			t.Errorf("%s order: status %s until %v", st, x.Status, x.HoldUntil)
		}
		if want := `rule "window": hold not applied: the order is ` + string(st); len(lines) != 1 || lines[0] != want {
			t.Errorf("%s order: lines %q", st, lines)
		}
	}
}

func TestApplyImportedIgnoresDoNotImport(t *testing.T) {
	rs, err := rules.Parse([]byte(`
- name: skip big
  when: [{field: itemCount, op: greater, value: 1}]
  then: {doNotImport: true}
- name: tag
  then: {tags: [Seen]}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := newOrder(order.BigCommerce, "bc-main")
	d, lines := rules.ApplyImported(rs, &o, now)
	if d.DoNotImport != "" || !slices.Equal(d.Matched, []string{"skip big", "tag"}) {
		t.Errorf("decision %+v", d)
	}
	want := []string{`rule "skip big": do not import ignored: the order is in ShipStation already`, `rule "tag": tag "Seen"`}
	if !slices.Equal(lines, want) {
		t.Errorf("lines %q", lines)
	}
	fresh := newOrder(order.BigCommerce, "bc-main")
	if d, _ := rules.Apply(rs, &fresh, now); d.DoNotImport != "skip big" || len(fresh.Tags) != 0 {
		t.Errorf("Apply: %+v, tags %q", d, fresh.Tags)
	}
}

func TestValidationErrorsNameTheRuleAndField(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", `
- name: ok
  then: {tags: [a]}
- name: ok2
  then: {tags: [a]}
- name: expedite
  when: [{field: shipto, op: equals, value: US}]
  then: {priority: true}`,
			[]string{`rules[2] "expedite": when[0].field: unknown field "shipto" (known: marketplace, source, store, shipToCountry,`, "(line 7)"}},
		{"unknown op", `
- name: r
  when: [{field: sku, op: startsWith, value: MUG}]
  then: {tags: [a]}`,
			[]string{`rules[0] "r": when[0].op: unknown op "startsWith" (known: equals, notEquals, in, notIn, contains, notContains, greater, less)`}},
		{"numeric op on a text field", `
- name: r
  when: [{field: shipToState, op: greater, value: CA}]
  then: {tags: [a]}`,
			[]string{`rules[0] "r": when[0].op: greater does not apply to shipToState, a text field (use equals, notEquals, in, notIn, contains, notContains)`}},
		{"contains on a number", `
- name: r
  when: [{field: orderTotal, op: contains, value: "9"}]
  then: {tags: [a]}`,
			[]string{`when[0].op: contains does not apply to orderTotal, a decimal field`}},
		{"greater on a boolean", `
- name: r
  when: [{field: prime, op: greater, value: true}]
  then: {tags: [a]}`,
			[]string{`when[0].op: greater does not apply to prime, a true/false field (use equals, notEquals)`}},
		{"bad number", `
- name: r
  when: [{field: itemCount, op: greater, value: two}]
  then: {tags: [a]}`,
			[]string{`rules[0] "r": when[0].value: "two" is not a whole number of units`}},
		{"bad decimal", `
- name: r
  when: [{field: orderTotal, op: less, value: $10}]
  then: {tags: [a]}`,
			[]string{`when[0].value: "$10" is not a decimal amount`}},
		{"bad boolean", `
- name: r
  when: [{field: business, op: equals, value: yes}]
  then: {tags: [a]}`,
			[]string{`when[0].value: "yes" is not true or false`}},
		{"bad marketplace", `
- name: r
  when: [{field: source, op: in, values: [ebay, Amazn]}]
  then: {doNotImport: true}`,
			[]string{`when[0].values[1]: "Amazn" is not a marketplace`}},
		{"bad country", `
- name: r
  when: [{field: shipToCountry, op: equals, value: USA}]
  then: {tags: [a]}`,
			[]string{`when[0].value: "USA" is not a two-letter country code`}},
		{"in with one value", `
- name: r
  when: [{field: sku, op: in, value: MUG}]
  then: {tags: [a]}`,
			[]string{`when[0].value: in takes a list: values: [a, b]`}},
		{"equals with a list", `
- name: r
  when: [{field: sku, op: equals, values: [MUG]}]
  then: {tags: [a]}`,
			[]string{`when[0].values: equals takes one value: value: x`}},
		{"no value", `
- name: r
  when: [{field: sku, op: equals}]
  then: {tags: [a]}`,
			[]string{`when[0].value: equals takes exactly one value, not 0`}},
		{"bad hold duration", `
- name: late cancel
  then: {hold: {for: 2 hours}}`,
			[]string{`rules[0] "late cancel": then.hold.for: "2 hours" is not a positive duration (e.g. 30m, 2h, 48h) (line 3)`}},
		{"negative hold", `
- name: r
  then: {hold: {for: -1h}}`,
			[]string{`then.hold.for: "-1h" is not a positive duration`}},
		{"hold both", `
- name: r
  then: {hold: {for: 1h, until: 2026-12-01}}`,
			[]string{`rules[0] "r": then.hold: takes either for or until, not both`}},
		{"hold neither", `
- name: r
  then: {hold: {}}`,
			[]string{`then.hold: needs for (a duration, e.g. 2h) or until`}},
		{"bad hold time", `
- name: r
  then: {hold: {until: tomorrow}}`,
			[]string{`then.hold.until: "tomorrow" is not a time`}},
		{"unknown hold key", `
- name: r
  then: {hold: {during: 1h}}`,
			[]string{`then.hold.during: unknown key (known: for, until)`}},
		{"empty name", `
- name: fine
  then: {tags: [a]}
- name: "  "
  then: {tags: [a]}`,
			[]string{`rules[1]: name: is required`}},
		{"no name", `
- then: {tags: [a]}`,
			[]string{`rules[0]: name: is required`}},
		{"duplicate names", `
- name: Expedite
  then: {tags: [a]}
- name: expedite
  then: {tags: [b]}`,
			[]string{`rules[1] "expedite": name: is the name of rules[0] too (names must be unique)`}},
		{"no action", `
- name: r
  when: [{field: sku, op: equals, value: MUG}]
  then: {priority: false}`,
			[]string{`rules[0] "r": then: no action`}},
		{"no then", `
- name: r
  when: [{field: sku, op: equals, value: MUG}]`,
			[]string{`rules[0] "r": then: is required (the actions)`}},
		{"do not import and more", `
- name: r
  then: {doNotImport: true, tags: [a]}`,
			[]string{`rules[0] "r": then.doNotImport: cannot be combined with other actions`}},
		{"bad warehouse", `
- name: r
  then: {warehouse: east}`,
			[]string{`rules[0] "r": then.warehouse: "east" is not a ShipStation warehouseId (a positive integer)`}},
		{"zero warehouse", `
- name: r
  then: {warehouse: 0}`,
			[]string{`then.warehouse: "0" is not a ShipStation warehouseId`}},
		{"bad custom field", `
- name: r
  then: {customField: {4: x}}`,
			[]string{`rules[0] "r": then.customField.4: unknown key (known: 1, 2, 3 for customField1..3)`}},
		{"unknown action", `
- name: r
  then: {tag: [a]}`,
			[]string{`rules[0] "r": then.tag: unknown key (known: doNotImport, tags, hold, warehouse, requestedService, customField, priority)`}},
		{"unknown rule key", `
- name: r
  if: [{field: sku, op: equals, value: MUG}]
  then: {tags: [a]}`,
			[]string{`rules[0] "r": if: unknown key (known: name, when, then, stop)`}},
		{"bad stop", `
- name: r
  then: {tags: [a]}
  stop: maybe`,
			[]string{`rules[0] "r": stop: "maybe" is not true or false`}},
		{"not a list", `name: r`, []string{`rules: must be a list of rules (line 1)`}},
		{"several errors at once", `
- name: a
  when: [{field: shipto, op: equals, value: US}]
  then: {tags: [x]}
- name: b
  then: {hold: {for: soon}}`,
			[]string{`rules[0] "a": when[0].field`, `rules[1] "b": then.hold.for`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := rules.Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse = %+v, nil; want an error", rs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
		})
	}
}

func TestValidateGoRules(t *testing.T) {
	rs := []rules.Rule{
		{Name: "a", When: []rules.Condition{{Field: "shipto", Op: rules.OpEquals, Values: []string{"US"}}}, Then: rules.Actions{Tags: []string{"x"}}},
		{Name: "b", Then: rules.Actions{Hold: &rules.Hold{}}},
		{Name: "c", Then: rules.Actions{CustomFields: map[int]string{0: "x"}}},
	}
	err := rules.Validate(rs)
	for _, w := range []string{
		`rules[0] "a": when[0].field: unknown field "shipto"`,
		`rules[1] "b": then.hold: needs for`,
		`rules[2] "c": then.customField: key 0 is not 1, 2 or 3`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate = %v, want %q", err, w)
		}
	}
	// An invalid condition never holds, even unvalidated.
	o := newOrder(order.BigCommerce, "bc-main")
	if d, _ := rules.Apply(rs[:1], &o, now); len(d.Matched) != 0 {
		t.Errorf("an invalid condition matched")
	}
	if empty, err := rules.Parse([]byte("")); err != nil || len(empty) != 0 {
		t.Errorf("empty input: %v, %v", empty, err)
	}
}

func TestYAMLAnchorsNameAListOnce(t *testing.T) {
	rs, err := rules.Parse([]byte(`
- name: west
  when:
    - {field: shipToState, op: in, values: &west [CA, California, OR, Oregon]}
  then: {warehouse: 1}
- name: not west
  when:
    - {field: shipToState, op: notIn, values: *west}
  then: {warehouse: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	o := newOrder(order.BigCommerce, "bc-main")
	o.ShipGroups[0].ShipTo.State = "oregon"
	if d, _ := rules.Apply(rs, &o, now); !slices.Equal(d.Matched, []string{"west"}) || o.WarehouseID != 1 {
		t.Errorf("Oregon: %+v warehouse %d", d, o.WarehouseID)
	}
}
