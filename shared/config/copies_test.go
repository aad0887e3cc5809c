package config

import (
	"strings"
	"testing"

	"github.com/shiprelay/shiprelay/shared/order"
)

const copiesHead = `
shipstation: [{id: main, credentialsSecret: s}]
stores:
`

func TestCopiesDefaults(t *testing.T) {
	c, err := Parse([]byte(copiesHead + `
  - {id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h}, shipstation: {account: main}}
  - {id: b, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h2, copies: {}}, shipstation: {account: main}}
  - {id: c, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h3, copies: {patterns: }}, shipstation: {account: main}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := CopiesSettings{Notify: true, ChannelRelays: false, Hide: CopiesHideCancel, UseChannels: true}
	for _, id := range []string{"a", "b", "c"} {
		got := c.Store(id).BigCommerce.CopiesSettings()
		if got.Notify != want.Notify || got.ChannelRelays != want.ChannelRelays || got.Hide != want.Hide || got.UseChannels != want.UseChannels || got.Patterns != nil {
			t.Errorf("store %s: %+v, want %+v", id, got, want)
		}
	}
	var nilStore *BigCommerceStore
	if got := nilStore.CopiesSettings(); got.Hide != CopiesHideCancel || !got.Notify || !got.UseChannels || got.Patterns != nil {
		t.Errorf("nil store: %+v", got)
	}
}

func TestCopiesSettingsAreRead(t *testing.T) {
	c, err := Parse([]byte(copiesHead + `
  - id: a
    channel: bigcommerce
    credentialsSecret: s
    shipstation: {account: main}
    bigcommerce:
      storeHash: h
      copies:
        notify: false
        channelRelays: true
        hide: hold
        channels: false
        patterns:
          - field: staff_notes
            match: 'Amazon order (\d{3}-\d{7}-\d{7})'
            marketplace: amazon
          - {field: external_source, match: '(?i)^m-ebay$', marketplace: ebay}
  - {id: b, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h2, copies: {patterns: []}}, shipstation: {account: main}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Store("a").BigCommerce.CopiesSettings()
	if got.Notify || !got.ChannelRelays || got.Hide != CopiesHideHold || got.UseChannels {
		t.Errorf("settings: %+v", got)
	}
	if len(got.Patterns) != 2 {
		t.Fatalf("patterns: %+v", got.Patterns)
	}
	p := got.Patterns[0]
	if p.Field != OriginStaffNotes || p.Marketplace != order.Amazon || p.Match.FindStringSubmatch("Amazon order 113-4567890-1234567")[1] != "113-4567890-1234567" {
		t.Errorf("pattern 0: %+v", p)
	}
	if q := got.Patterns[1]; q.Field != OriginExternalSource || q.Marketplace != order.EBay || !q.Match.MatchString("M-EBAY") || q.Match.NumSubexp() != 0 {
		t.Errorf("pattern 1: %+v", q)
	}
	got.Patterns[0].Field = "changed"
	if c.Store("a").BigCommerce.CopiesSettings().Patterns[0].Field != OriginStaffNotes {
		t.Error("CopiesSettings shares its patterns slice")
	}
	if b := c.Store("b").BigCommerce.CopiesSettings(); b.Patterns == nil || len(b.Patterns) != 0 {
		t.Errorf("patterns: [] must mean no patterns (non-nil, empty): %#v", b.Patterns)
	}
}

func TestCopiesErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, store string
		want        []string
	}{
		{"bad hide", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {hide: delete}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies.hide: "delete" must be cancel or hold`}},
		{"unknown key", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {notfy: true}}, shipstation: {account: main}}`,
			[]string{"field notfy not found"}},
		{"bad regexp", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {patterns: [{field: staff_notes, match: 'Amazon (\d+', marketplace: amazon}]}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies.patterns[0].match: "Amazon (\\d+" is not a regular expression`}},
		{"two groups", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {patterns: [{field: staff_notes, match: 'ok', marketplace: amazon}, {field: staff_notes, match: '(\d+)-(\d+)', marketplace: amazon}]}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies.patterns[1].match: "(\\d+)-(\\d+)" has 2 capture groups; at most one`}},
		{"unknown field and marketplace", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {patterns: [{field: notes, match: '(\S+)', marketplace: walmart}]}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies.patterns[0].field: "notes" is not one of external_order_id, external_id`,
				`config: stores[0].bigcommerce.copies.patterns[0].marketplace: "walmart" is not amazon or ebay`}},
		{"empty match", `{id: a, channel: bigcommerce, credentialsSecret: s, bigcommerce: {storeHash: h, copies: {patterns: [{field: staff_notes, marketplace: ebay}]}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies.patterns[0].match: is required`}},
		{"copies on an amazon store", `{id: a, channel: amazon, credentialsSecret: s, amazon: {sellerId: A1B2C3D4E5, marketplaceId: ATVPDKIKX0DER}, bigcommerce: {copies: {notify: false}}, shipstation: {account: main}}`,
			[]string{`config: stores[0].bigcommerce.copies: only a bigcommerce store takes copies settings`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(copiesHead + "  - " + tc.store + "\n"))
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, w)
				}
			}
		})
	}
}

func TestNewOriginPattern(t *testing.T) {
	p, err := NewOriginPattern(OriginExternalOrderID, `^(\d{3}-\d{7}-\d{7})$`, order.Amazon)
	if err != nil || p.Match == nil || p.Field != OriginExternalOrderID {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := NewOriginPattern("x", "(", "etsy"); err == nil || !strings.Contains(err.Error(), "field:") || !strings.Contains(err.Error(), "match:") || !strings.Contains(err.Error(), "marketplace:") {
		t.Errorf("every problem named: %v", err)
	}
}
