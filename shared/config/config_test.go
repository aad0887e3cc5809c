package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

const good = `
settings:
  pollOverlap: 15m
shipstation:
  - id: main
    credentialsSecret: shiprelay/shipstation/main
stores:
  - id: bc-main
    channel: bigcommerce
    credentialsSecret: shiprelay/bigcommerce/bc-main
    bigcommerce:
      storeHash: abc123
    shipstation:
      account: main
      storeId: 22766
  - id: bc-off
    channel: bigcommerce
    enabled: false
    baseURL: http://127.0.0.1:4010
    credentialsSecret: x
    bigcommerce: {storeHash: def456, requestsPer30s: 450, webhookHeader: X-Hub-Secret}
    shipstation: {account: main}
`

func TestParseGoodConfigAppliesDefaults(t *testing.T) {
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Settings.PollOverlap.D(); got != 15*time.Minute {
		t.Errorf("pollOverlap = %v", got)
	}
	if got := c.Settings.PollInterval.D(); got != 5*time.Minute {
		t.Errorf("pollInterval default = %v", got)
	}
	if got := c.Settings.ReconcileAfter.D(); got != 10*time.Minute {
		t.Errorf("reconcileAfter default = %v", got)
	}
	a := c.Account("main")
	if a == nil || a.BaseURL != DefaultShipStationURL || a.RequestsPerMinute != 40 {
		t.Fatalf("account defaults: %+v", a)
	}
	if lim := a.Limit(); lim.Burst != 40 || lim.Rate < 0.66 || lim.Rate > 0.67 {
		t.Errorf("limit = %+v", lim)
	}
	s := c.Store("bc-main")
	if s == nil || s.BaseURL != DefaultBigCommerceURL || s.BigCommerce.RequestsPer30s != 150 || s.BigCommerce.WebhookHeader != "X-Webhook-Secret" {
		t.Fatalf("store defaults: %+v %+v", s, s.BigCommerce)
	}
	if off := c.Store("bc-off"); off.IsEnabled() || off.BaseURL != "http://127.0.0.1:4010" || off.BigCommerce.WebhookHeader != "X-Hub-Secret" {
		t.Errorf("bc-off: %+v", off)
	}
	if got := c.StoresOf(order.BigCommerce); len(got) != 1 || got[0].ID != "bc-main" {
		t.Errorf("StoresOf = %v", got)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown field", "stores: []\nbogus: 1\n", "field bogus not found"},
		{"no stores", "shipstation: []\n", "stores: at least one store"},
		{"bad duration", "settings: {pollOverlap: soon}\nstores: []\n", `"soon" is not a duration`},
		{"reconcile grace too short", "settings: {reconcileAfter: 30s}\nstores: []\n", `settings.reconcileAfter: 30s is shorter than 1m0s`},
		{"negative reconcile grace", "settings: {reconcileAfter: -5m}\nstores: []\n", `settings.reconcileAfter: -5m0s is shorter`},
		{"unknown account", `
shipstation: [{id: main, credentialsSecret: s}]
stores: [{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: nope}}]`,
			`stores[0].shipstation.account: "nope" is not a declared shipstation account`},
		{"missing hash", `
shipstation: [{id: main, credentialsSecret: s}]
stores: [{id: a, channel: bigcommerce, credentialsSecret: s, shipstation: {account: main}}]`,
			"stores[0].bigcommerce.storeHash: is required"},
		{"bad channel", `
shipstation: [{id: main, credentialsSecret: s}]
stores: [{id: a, channel: etsy, credentialsSecret: s, shipstation: {account: main}}]`,
			`stores[0].channel: "etsy" is not one of`},
		{"duplicate store", `
shipstation: [{id: main, credentialsSecret: s}]
stores:
  - {id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}
  - {id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}`,
			`stores[1].id: "a" is declared twice`},
		{"bad url", `
shipstation: [{id: main, credentialsSecret: s, baseURL: "ftp://x"}]
stores: [{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}]`,
			`shipstation[0].baseURL: "ftp://x" must be http(s)`},
		{"userinfo url", `
shipstation: [{id: main, credentialsSecret: s}]
stores: [{id: a, channel: bigcommerce, baseURL: "https://u:p@x.example", credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}]`,
			`stores[0].baseURL`},
		{"missing secret", `
shipstation: [{id: main}]
stores: [{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}]`,
			"shipstation[0].credentialsSecret: is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStoreNotifyAndCarrierOverrides(t *testing.T) {
	c, err := Parse([]byte(`
shipstation: [{id: main, credentialsSecret: s}]
stores:
  - id: a
    channel: bigcommerce
    credentialsSecret: s
    bigcommerce: {storeHash: h}
    shipstation: {account: main}
    notify: {channel: false}
    carriers:
      acme_freight:
        name: Acme Freight
        trackingCapable: true
        amazon: {carrierCode: Other}
        ebay: {shippingCarrierCode: Other}
        bigcommerce: {shipping_provider: "", tracking_carrier: ""}
  - id: b
    channel: bigcommerce
    credentialsSecret: s
    bigcommerce: {storeHash: h2}
    shipstation: {account: main}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := c.Store("a"), c.Store("b")
	if a.Notify.Enabled() || !a.Notify.Emails() || !b.Notify.Enabled() {
		t.Fatalf("notify settings: a %+v b %+v", a.Notify, b.Notify)
	}
	if r := a.CarrierMap().Lookup(order.Amazon, "acme_freight", ""); !r.Known || r.Name != "Acme Freight" {
		t.Fatalf("override not applied: %+v", r)
	}
	if r := b.CarrierMap().Lookup(order.Amazon, "acme_freight", ""); r.Known {
		t.Fatalf("override leaked to another store: %+v", r)
	}
	_, err = Parse([]byte(`
shipstation: [{id: main, credentialsSecret: s}]
stores:
  - id: a
    channel: bigcommerce
    credentialsSecret: s
    bigcommerce: {storeHash: h}
    shipstation: {account: main}
    carriers:
      ups:
        bigcommerce: {shipping_provider: dhl}
`))
	if err == nil || !strings.Contains(err.Error(), "stores[0].carriers") {
		t.Fatalf("bad override: %v", err)
	}
}

func TestAccountRulesAreParsedAtLoad(t *testing.T) {
	c, err := Parse([]byte(`
shipstation:
  - id: main
    credentialsSecret: s
    rules:
      - name: Do not import marketplace copies
        when:
          - {field: marketplace, op: equals, value: BigCommerce}
          - {field: source, op: in, values: [eBay, Amazon]}
        then: {doNotImport: true}
      - name: Main store only
        when: [{field: store, op: equals, value: a}]
        then: {tags: [Main]}
  - id: other
    credentialsSecret: s
stores:
  - {id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if rs := c.Account("main").Rules; len(rs) != 2 || rs[0].Name != "Do not import marketplace copies" || !rs[0].Then.DoNotImport || len(rs[0].When) != 2 {
		t.Errorf("main rules = %+v", rs)
	}
	if rs := c.Account("other").Rules; len(rs) != 0 {
		t.Errorf("other rules = %+v", rs)
	}
	data, err := os.ReadFile("../rules/testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ex, err := Parse(data); err != nil || len(ex.Account("main").Rules) < 5 {
		t.Errorf("the example config: %v", err)
	}
}

func TestInvalidRuleFailsTheLoadNamingIt(t *testing.T) {
	const stores = `
stores:
  - {id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}
  - {id: b, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h2}, shipstation: {account: other}}
`
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", `
shipstation:
  - id: other
    credentialsSecret: s
  - id: main
    credentialsSecret: s
    rules:
      - name: expedite
        when: [{field: shipto, op: equals, value: US}]
        then: {priority: true}
`, []string{`config: shipstation[1].rules[0] "expedite": when[0].field: unknown field "shipto" (known: marketplace,`, "(line 9)"}},
		{"bad hold and duplicate", `
shipstation:
  - id: main
    credentialsSecret: s
    rules:
      - {name: hold, then: {hold: {for: soon}}}
      - {name: HOLD, then: {tags: [x]}}
  - {id: other, credentialsSecret: s}
`, []string{`config: shipstation[0].rules[0] "hold": then.hold.for: "soon" is not a positive duration`,
			`config: shipstation[0].rules[1] "HOLD": name: is the name of rules[0] too`}},
		{"rules not a list", `
shipstation:
  - {id: main, credentialsSecret: s, rules: {name: x}}
  - {id: other, credentialsSecret: s}
`, []string{`config: shipstation[0].rules: must be a list of rules`}},
		{"unknown account key", `
shipstation:
  - {id: main, credentialsSecret: s, rule: []}
  - {id: other, credentialsSecret: s}
`, []string{`field rule not found in type config.ShipStationAccount`}},
		{"undeclared store", `
shipstation:
  - id: main
    credentialsSecret: s
    rules:
      - {name: r, when: [{field: store, op: notIn, values: [a, zz]}], then: {tags: [x]}}
  - {id: other, credentialsSecret: s}
`, []string{`config: shipstation[0].rules[0] "r": when[0]: store "zz" is not a declared store`}},
		{"store of another account", `
shipstation:
  - id: main
    credentialsSecret: s
    rules:
      - {name: r, when: [{field: store, op: equals, value: b}], then: {tags: [x]}}
  - {id: other, credentialsSecret: s}
`, []string{`config: shipstation[0].rules[0] "r": when[0]: store "b" sends its orders to shipstation account "other", not "main"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml + stores))
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
		})
	}
}
