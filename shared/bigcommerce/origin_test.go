package bigcommerce

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/order"
)

func TestDetectOrigin(t *testing.T) {
	staffPattern, err := NewPattern("staff_notes", `Amazon order (\d{3}-\d{7}-\d{7})`, order.Amazon)
	if err != nil {
		t.Fatal(err)
	}
	amazonLike := "113-4567890-1234567"
	cases := []struct {
		name     string
		o        Order
		platform string
		patterns []Pattern // nil: DefaultPatterns
		want     string    // Origin.Key(), "" for nil
		review   []string  // substrings of the review; nil: no review
	}{
		{name: "storefront order", o: Order{ChannelID: 1, OrderSource: "www", EbayOrderID: "0"}, platform: "bigcommerce"},
		{name: "storefront order, platform unknown", o: Order{ChannelID: 1, OrderSource: "www"}},
		{name: "channel 0, manual order", o: Order{ChannelID: 0, OrderSource: "manual"}},
		{name: "second storefront of a multi-storefront store", o: Order{ChannelID: 7, OrderSource: "www"}, platform: "BigCommerce"},

		// (a) the channel's platform.
		{name: "amazon channel, external_order_id", o: Order{ChannelID: 3, OrderSource: "external", ExternalOrderID: FlexString(amazonLike)}, platform: "amazon", want: "amazon:" + amazonLike},
		{name: "amazon channel, external_id, any shape", o: Order{ChannelID: 3, ExternalID: " A-1 "}, platform: "Amazon ", want: "amazon:A-1"},
		{name: "ebay channel, ebay_order_id", o: Order{ChannelID: 4, EbayOrderID: "12-34567-89012"}, platform: "ebay", want: "ebay:12-34567-89012"},
		{name: "ebay channel, external_order_id before ebay_order_id", o: Order{ChannelID: 4, ExternalOrderID: "E1", EbayOrderID: "E2"}, platform: "ebay", want: "ebay:E1"},
		{name: "amazon channel, id only in staff notes", o: Order{ChannelID: 3, StaffNotes: "Imported: Amazon order " + amazonLike + "."}, platform: "amazon", want: "amazon:" + amazonLike},
		{name: "amazon channel ignores an eBay pattern", o: Order{ChannelID: 3, StaffNotes: "eBay 12-34567-89012"}, platform: "amazon",
			patterns: []Pattern{mustPattern(t, "staff_notes", `eBay (\S+)`, order.EBay)},
			review:   []string{"channel 3", `"amazon"`, "marketplace channel"}},
		{name: "amazon channel, no id", o: Order{ChannelID: 3, OrderSource: "external", EbayOrderID: "0", CustomerMessage: "call Jane Doe 555-0100", StaffNotes: "nothing here"}, platform: "amazon",
			review: []string{"channel 3", `platform "amazon"`, "no amazon order id"}},
		{name: "ebay channel, no id names ebay_order_id", o: Order{ChannelID: 4, EbayOrderID: "0"}, platform: "ebay",
			review: []string{"channel 4", `"ebay"`, "ebay_order_id"}},
		{name: "conflict: amazon channel, eBay-looking id", o: Order{ChannelID: 3, ExternalOrderID: "12-34567-89012"}, platform: "amazon", want: "amazon:12-34567-89012"},
		{name: "conflict: amazon channel, ebay_order_id set", o: Order{ChannelID: 3, ExternalOrderID: FlexString(amazonLike), EbayOrderID: "12-34567-89012"}, platform: "amazon", want: "amazon:" + amazonLike},

		// (b) ebay_order_id.
		{name: "ebay_order_id on the storefront", o: Order{ChannelID: 1, OrderSource: "www", EbayOrderID: "110123456789-2012345678001"}, want: "ebay:110123456789-2012345678001"},
		{name: "ebay_order_id beats an Amazon-shaped external id", o: Order{ChannelID: 9, ExternalOrderID: FlexString(amazonLike), EbayOrderID: "12-34567-89012"}, want: "ebay:12-34567-89012"},
		{name: "ebay_order_id 0 is none", o: Order{ChannelID: 1, OrderSource: "www", EbayOrderID: " 0 "}},

		// (c) patterns.
		{name: "external_order_id amazon shape", o: Order{ChannelID: 1, OrderSource: "external", ExternalOrderID: FlexString(" " + amazonLike + " ")}, want: "amazon:" + amazonLike},
		{name: "external_id ebay shape", o: Order{ChannelID: 5, ExternalID: "12-34567-89012"}, want: "ebay:12-34567-89012"},
		{name: "external_order_id legacy ebay shape", o: Order{ChannelID: 1, OrderSource: "external", ExternalOrderID: "110123456789-2012345678001"}, want: "ebay:110123456789-2012345678001"},
		{name: "storefront order with an Amazon-shaped external_order_id", o: Order{ChannelID: 1, OrderSource: "www", ExternalOrderID: FlexString(amazonLike)}, want: "amazon:" + amazonLike},
		{name: "staff notes of an API order", o: Order{ChannelID: 1, OrderSource: "external", StaffNotes: "Amazon Order " + amazonLike}, want: "amazon:" + amazonLike},
		{name: "customer message of an API order", o: Order{ChannelID: 1, OrderSource: "external", CustomerMessage: "Order #" + amazonLike}, want: "amazon:" + amazonLike},
		{name: "staff notes of a storefront order are not read", o: Order{ChannelID: 1, OrderSource: "www", StaffNotes: "also has amazon order " + amazonLike}},
		{name: "buyer message on the storefront is not read", o: Order{ChannelID: 1, OrderSource: "www", CustomerMessage: "same as my amazon order " + amazonLike}},
		{name: "id embedded in a longer number is not an id", o: Order{ChannelID: 1, OrderSource: "external", StaffNotes: "ref 9113-4567890-12345678"},
			review: []string{"not a storefront order", `order_source "external"`}},
		{name: "order_source names the marketplace", o: Order{ChannelID: 1, OrderSource: "Amazon Marketplace", ExternalOrderID: "AMZ-42"}, want: "amazon:AMZ-42"},
		{name: "external_source names eBay, id from external_id", o: Order{ChannelID: 1, OrderSource: "external", ExternalSource: "M-EBAY", ExternalID: "777"}, want: "ebay:777"},
		{name: "external_source names eBay but there is no id", o: Order{ChannelID: 1, OrderSource: "external", ExternalSource: "ebay"},
			review: []string{"not a storefront order", "channel 1", "platform unknown"}},
		{name: "configured pattern replaces the defaults", o: Order{ChannelID: 2, StaffNotes: "Amazon order " + amazonLike, ExternalOrderID: "12-34567-89012"}, patterns: []Pattern{staffPattern}, want: "amazon:" + amazonLike},
		{name: "no patterns at all", o: Order{ChannelID: 2, ExternalOrderID: FlexString(amazonLike)}, patterns: []Pattern{},
			review: []string{"channel 2", "platform unknown"}},

		// Not storefront, nothing recognised.
		{name: "walmart channel", o: Order{ChannelID: 6, OrderSource: "external", ExternalOrderID: "108812345678901"}, platform: "walmart",
			review: []string{"channel 6", `platform "walmart"`}},
		{name: "channel 2 without platform", o: Order{ChannelID: 2, OrderSource: "www"}, review: []string{"channel 2", "platform unknown"}},
		{name: "unknown order_source", o: Order{ChannelID: 1, OrderSource: "facebook"}, platform: "bigcommerce", review: []string{`order_source "facebook"`}},

		// Invalid ids are skipped.
		{name: "id too long", o: Order{ChannelID: 3, ExternalOrderID: FlexString(strings.Repeat("1", 65)), ExternalID: "ok"}, platform: "amazon", want: "amazon:ok"},
		{name: "id with a control character", o: Order{ChannelID: 3, ExternalOrderID: "a\x00b"}, platform: "amazon", review: []string{"channel 3"}},
		{name: "blank id", o: Order{ChannelID: 3, ExternalOrderID: "  \t "}, platform: "amazon", review: []string{"channel 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pats := tc.patterns
			if pats == nil {
				pats = DefaultPatterns()
			}
			got, review := DetectOrigin(&tc.o, tc.platform, pats)
			key := ""
			if got != nil {
				key = got.Key()
			}
			if key != tc.want {
				t.Errorf("origin = %q, want %q (review %q)", key, tc.want, review)
			}
			if tc.review == nil && review != "" {
				t.Errorf("unexpected review %q", review)
			}
			if tc.review != nil && review == "" {
				t.Errorf("no review, want one with %q", tc.review)
			}
			for _, w := range tc.review {
				if !strings.Contains(review, w) {
					t.Errorf("review %q does not contain %q", review, w)
				}
			}
			for _, pii := range []string{"Jane", "555-0100", "nothing here", "9113"} {
				if strings.Contains(review, pii) {
					t.Errorf("review %q leaks %q", review, pii)
				}
			}
		})
	}
}

func TestDetectOriginNilAndBadPatterns(t *testing.T) {
	if o, r := DetectOrigin(nil, "amazon", DefaultPatterns()); o != nil || r != "" {
		t.Errorf("nil order: %v %q", o, r)
	}
	o := &Order{ChannelID: 1, OrderSource: "external", StaffNotes: "x 113-4567890-1234567 y"}
	bad := []Pattern{
		{Field: "staff_notes", Match: nil, Marketplace: order.Amazon},
		{Field: "staff_notes", Match: regexp.MustCompile(`(\d+)-(\d+)`), Marketplace: order.Amazon},
		{Field: "staff_notes", Match: regexp.MustCompile(`(\S+)`), Marketplace: order.BigCommerce},
		{Field: "no_such_field", Match: regexp.MustCompile(`(.*)`), Marketplace: order.Amazon},
	}
	if got, review := DetectOrigin(o, "", bad); got != nil || review == "" {
		t.Errorf("bad patterns were used: %v %q", got, review)
	}
}

func TestDefaultPatternsAreValidAndFresh(t *testing.T) {
	a, b := DefaultPatterns(), DefaultPatterns()
	if len(a) == 0 {
		t.Fatal("no default patterns")
	}
	a[0].Field = "changed"
	if b[0].Field == "changed" || DefaultPatterns()[0].Field == "changed" {
		t.Error("DefaultPatterns shares its slice")
	}
	for i, p := range b {
		if _, err := NewPattern(p.Field, p.Match.String(), p.Marketplace); err != nil {
			t.Errorf("default %d: %v", i, err)
		}
	}
	if _, err := NewPattern("staff_notes", `(a)(b)`, order.Amazon); err == nil {
		t.Error("two capture groups accepted")
	}
}

func TestChannelOriginPlatform(t *testing.T) {
	for _, tc := range []struct {
		ch   Channel
		want string
	}{
		{Channel{Platform: "Amazon", Type: "marketplace"}, "amazon"},
		{Channel{Platform: "wordpress", Type: "storefront"}, "bigcommerce"},
		{Channel{Platform: "facebook by meta", Type: "marketplace"}, "facebook by meta"},
	} {
		if got := tc.ch.OriginPlatform(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.ch, got, tc.want)
		}
	}
}

func mustPattern(t *testing.T, field, match string, m order.Channel) Pattern {
	t.Helper()
	p, err := NewPattern(field, match, m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func FuzzDetectOrigin(f *testing.F) {
	f.Add(int64(3), "amazon", "external", "", "113-4567890-1234567", "", "0", "", "")
	f.Add(int64(1), "bigcommerce", "www", "", "", "", "0", "Amazon order 113-4567890-1234567", "hi")
	f.Add(int64(4), "ebay", "external", "M-EBAY", "", "12-34567-89012", "110123456789-2012345678001", "", "")
	f.Add(int64(-1), "", "", "amazon", "\x00", " ", "", "", "113-4567890-1234567")
	f.Add(int64(9), "walmart", "external", "", strings.Repeat("9", 70), "", "", "", "")
	pats := DefaultPatterns()
	custom := append(DefaultPatterns(), mustPatternF(f, "customer_message", `(?i)ebay\s*#?\s*(\S+)`, order.EBay),
		mustPatternF(f, "external_source", `.`, order.Amazon))
	f.Fuzz(func(t *testing.T, channelID int64, platform, source, extSource, extOrderID, extID, ebayID, notes, message string) {
		o := &Order{
			ChannelID: channelID, OrderSource: source, ExternalSource: extSource,
			ExternalOrderID: FlexString(extOrderID), ExternalID: FlexString(extID), EbayOrderID: FlexString(ebayID),
			StaffNotes: "PII:" + notes, CustomerMessage: "PII:" + message,
		}
		for _, ps := range [][]Pattern{pats, custom, nil} {
			got, review := DetectOrigin(o, platform, ps)
			if got != nil {
				if review != "" {
					t.Fatalf("origin %v and review %q", got, review)
				}
				if got.Marketplace != order.Amazon && got.Marketplace != order.EBay {
					t.Fatalf("marketplace %q", got.Marketplace)
				}
				id := got.OrderID
				if id == "" || id != strings.TrimSpace(id) || len(id) > MaxOriginIDLen || id == "0" || strings.ContainsFunc(id, unicode.IsControl) {
					t.Fatalf("bad order id %q", id)
				}
				if m, ok := platformMarketplace(normPlatform(platform)); ok && got.Marketplace != m {
					t.Fatalf("platform %q but origin %v", platform, got)
				}
				continue
			}
			if IsStorefront(o, platform) && review != "" {
				t.Fatalf("storefront order with review %q", review)
			}
			if !IsStorefront(o, platform) && review == "" {
				t.Fatalf("non-storefront order without origin or review")
			}
			if strings.Contains(review, "PII:") && !strings.Contains(platform+source, "PII:") {
				t.Fatalf("review leaks a free-text field: %q", review)
			}
		}
	})
}

func mustPatternF(f *testing.F, field, match string, m order.Channel) Pattern {
	p, err := config.NewOriginPattern(field, match, m)
	if err != nil {
		f.Fatal(err)
	}
	return p
}
