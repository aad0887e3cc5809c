package bigcommerce

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/order"
)

// Pattern is one configurable origin rule: a regular expression over one
// order field (config.OriginFields) and the marketplace a match means. With
// one capture group the group is the marketplace order id; with none, a
// match only names the marketplace and the id comes from external_order_id,
// else external_id. A pattern with more than one group, a nil Match or a
// marketplace other than amazon or ebay is ignored (config refuses them).
//
// It is config.OriginPattern: package config validates the patterns of the
// file and cannot import this package (this package imports config).
type Pattern = config.OriginPattern

// NewPattern compiles and checks one origin rule (see Pattern).
func NewPattern(field, match string, marketplace order.Channel) (Pattern, error) {
	return config.NewOriginPattern(field, match, marketplace)
}

// MaxOriginIDLen is the longest marketplace order id DetectOrigin accepts.
const MaxOriginIDLen = 64

// Marketplace order id shapes of the default patterns.
const (
	amazonIDExpr     = `\d{3}-\d{7}-\d{7}`            // 113-4567890-1234567
	ebayIDExpr       = `\d{2}-\d{5}-\d{5}`            // 12-34567-89012 (current format)
	ebayLegacyIDExpr = `\d{9,12}-\d{9,13}`            // <item id>-<transaction id> (legacy)
	wholeField       = `^\s*(%s)\s*$`                 // the field is the id
	inText           = `(?:^|[^\d-])(%s)(?:$|[^\d-])` // the id somewhere in free text
)

var defaultPatterns = func() []Pattern {
	must := func(field, match string, m order.Channel) Pattern {
		p, err := NewPattern(field, match, m)
		if err != nil {
			panic(err) // a bug in the constants above; the tests catch it
		}
		return p
	}
	var ps []Pattern
	for _, f := range []string{config.OriginExternalOrderID, config.OriginExternalID} {
		ps = append(ps,
			must(f, fmt.Sprintf(wholeField, amazonIDExpr), order.Amazon),
			must(f, fmt.Sprintf(wholeField, ebayIDExpr), order.EBay),
			must(f, fmt.Sprintf(wholeField, ebayLegacyIDExpr), order.EBay),
		)
	}
	for _, f := range []string{config.OriginStaffNotes, config.OriginCustomerMessage} {
		ps = append(ps, must(f, fmt.Sprintf(inText, amazonIDExpr), order.Amazon))
	}
	for _, f := range []string{config.OriginOrderSource, config.OriginExternalSource} {
		ps = append(ps, must(f, `(?i)amazon`, order.Amazon), must(f, `(?i)ebay`, order.EBay))
	}
	return ps
}()

// DefaultPatterns returns the origin patterns used when a store configures
// none, in the order they are tried:
//
//  1. external_order_id, then external_id, that is exactly an Amazon order id
//     (\d{3}-\d{7}-\d{7}), an eBay order id (\d{2}-\d{5}-\d{5}) or a legacy
//     eBay order id (\d{9,12}-\d{9,13}): that id;
//  2. an Amazon order id inside staff_notes, then customer_message (some
//     connectors write it there);
//  3. order_source, then external_source, containing "amazon" or "ebay"
//     (any case): that marketplace, with the id from external_order_id, else
//     external_id.
//
// BigCommerce does not document what its own Amazon and eBay channel
// connectors, Feedonomics or third-party listers write into these fields, so
// these are shiprelay's defaults, not a vendor contract: stores whose copies
// look different configure their own (copies.patterns). The slice is new on
// every call; the patterns are shared and safe for concurrent use.
func DefaultPatterns() []Pattern { return slices.Clone(defaultPatterns) }

// storefrontSources are the order_source values of orders placed on the
// store itself: "" (not set), "www" (storefront checkout), "manual" (control
// panel), "checkout_api" (headless checkout) and "buy_button" (BigCommerce's
// buy buttons). Everything else, notably "external" (orders created through
// the Orders API, which is how connectors write copies), is not.
var storefrontSources = []string{"", "www", "manual", "checkout_api", "buy_button"}

// IsStorefront reports whether o is a storefront order, given its channel's
// platform (as DetectOrigin takes it): the platform is bigcommerce, or
// unknown ("") with channel_id 0 or 1, and order_source is a storefront
// source ("", www, manual, checkout_api, buy_button; any case). A known
// bigcommerce platform counts whatever the channel id, so the extra
// storefronts of a multi-storefront store are storefronts too.
func IsStorefront(o *Order, platform string) bool {
	if o == nil {
		return false
	}
	switch p := normPlatform(platform); {
	case p == PlatformBigCommerce:
	case p == "" && o.ChannelID <= StorefrontChannelID:
	default:
		return false
	}
	return slices.Contains(storefrontSources, strings.ToLower(strings.TrimSpace(o.OrderSource)))
}

// DetectOrigin returns the marketplace order a BigCommerce order mirrors, or
// nil. platform is the platform of the order's channel from the Channels
// API (Channel.OriginPlatform), "" when unknown. The evidence, strongest
// first:
//
//  1. platform amazon or ebay: that marketplace, whatever else the order
//     says; the id is external_order_id, else external_id, else (eBay)
//     ebay_order_id, else the first pattern of that marketplace with a
//     capture group that matches. A channel is BigCommerce's own statement,
//     so it beats the shape of an id: an Amazon channel order whose
//     external_order_id looks like an eBay id is that Amazon order.
//  2. ebay_order_id, other than "" and "0": eBay, that id.
//  3. patterns, in order: the first that matches and yields a valid id.
//
// Free-text fields (staff_notes, customer_message) are read only for orders
// that are not storefront orders (IsStorefront): on a storefront order a
// buyer's message or a merchant's note that mentions a marketplace order id
// must not turn a real sale into a copy.
//
// A returned OrderID is trimmed, non-empty, not "0", at most MaxOriginIDLen
// bytes of valid UTF-8 and free of control characters; a candidate that is
// not is skipped and the next evidence is tried.
//
// review is empty unless the order is not a storefront order and no origin
// was recognised; it then says why, naming the channel id, its platform and
// order_source but no field that can hold buyer data, so it can be stored
// and shown as is. DetectOrigin never panics; a nil order has no origin.
func DetectOrigin(o *Order, platform string, patterns []Pattern) (origin *order.Origin, review string) {
	if o == nil {
		return nil, ""
	}
	p := normPlatform(platform)
	storefront := IsStorefront(o, p)
	found := func(m order.Channel, id string) (*order.Origin, string) {
		return &order.Origin{Marketplace: m, OrderID: id}, ""
	}
	if m, ok := platformMarketplace(p); ok {
		if id, ok := externalID(o); ok {
			return found(m, id)
		}
		if id, ok := cleanID(string(o.EbayOrderID)); ok && m == order.EBay {
			return found(m, id)
		}
		if _, id, ok := matchPatterns(o, patterns, m, storefront); ok {
			return found(m, id)
		}
		fields := "external_order_id, external_id"
		if m == order.EBay {
			fields += ", ebay_order_id"
		}
		return nil, fmt.Sprintf("channel %d (platform %s) is a marketplace channel, but the order names no %s order id (%s and the origin patterns gave none)",
			o.ChannelID, quoteShort(p), m, fields)
	}
	if id, ok := cleanID(string(o.EbayOrderID)); ok {
		return found(order.EBay, id)
	}
	if m, id, ok := matchPatterns(o, patterns, "", storefront); ok {
		return found(m, id)
	}
	if storefront {
		return nil, ""
	}
	return nil, fmt.Sprintf("not a storefront order (channel %d, platform %s, order_source %s) and no marketplace origin was recognised",
		o.ChannelID, quoteShort(p), quoteShort(o.OrderSource))
}

func normPlatform(p string) string { return strings.ToLower(strings.TrimSpace(p)) }

func platformMarketplace(p string) (order.Channel, bool) {
	switch p {
	case PlatformAmazon:
		return order.Amazon, true
	case PlatformEBay:
		return order.EBay, true
	}
	return "", false
}

// externalID is the order's external_order_id, else its external_id.
func externalID(o *Order) (string, bool) {
	if id, ok := cleanID(string(o.ExternalOrderID)); ok {
		return id, true
	}
	return cleanID(string(o.ExternalID))
}

// matchPatterns tries the patterns in order (only those of marketplace want,
// unless want is "") and returns the first marketplace and valid id found.
func matchPatterns(o *Order, patterns []Pattern, want order.Channel, storefront bool) (order.Channel, string, bool) {
	for _, p := range patterns {
		if p.Match == nil || (p.Marketplace != order.Amazon && p.Marketplace != order.EBay) || (want != "" && p.Marketplace != want) {
			continue
		}
		if storefront && (p.Field == config.OriginStaffNotes || p.Field == config.OriginCustomerMessage) {
			continue
		}
		v, ok := fieldValue(o, p.Field)
		if !ok || v == "" {
			continue
		}
		switch p.Match.NumSubexp() {
		case 0:
			if !p.Match.MatchString(v) {
				continue
			}
			if id, ok := externalID(o); ok {
				return p.Marketplace, id, true
			}
		case 1:
			if m := p.Match.FindStringSubmatch(v); m != nil {
				if id, ok := cleanID(m[1]); ok {
					return p.Marketplace, id, true
				}
			}
		}
	}
	return "", "", false
}

// fieldValue returns the order field a pattern reads; ok is false for a
// field name that is not one of config.OriginFields.
func fieldValue(o *Order, field string) (string, bool) {
	switch field {
	case config.OriginExternalOrderID:
		return string(o.ExternalOrderID), true
	case config.OriginExternalID:
		return string(o.ExternalID), true
	case config.OriginEbayOrderID:
		return string(o.EbayOrderID), true
	case config.OriginStaffNotes:
		return o.StaffNotes, true
	case config.OriginCustomerMessage:
		return o.CustomerMessage, true
	case config.OriginOrderSource:
		return o.OrderSource, true
	case config.OriginExternalSource:
		return o.ExternalSource, true
	}
	return "", false
}

// cleanID trims a candidate marketplace order id and reports whether it is
// usable: non-empty, not "0" (BigCommerce's "none"), at most MaxOriginIDLen
// bytes, valid UTF-8, no control characters.
func cleanID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || len(s) > MaxOriginIDLen || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", false
		}
	}
	return s, true
}

// quoteShort renders a platform or order_source for a review reason:
// "unknown" when empty, else quoted (control characters escaped) and cut
// to 40 runes.
func quoteShort(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "unknown"
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
