package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Values of copies.hide: what the ShipStation order of a BigCommerce copy
// becomes when the marketplace's own order takes over.
const (
	// CopiesHideCancel cancels the copy's ShipStation order (the default).
	CopiesHideCancel = "cancel"
	// CopiesHideHold puts the copy's ShipStation order on hold.
	CopiesHideHold = "hold"
)

// BigCommerceCopies is the copies section of a BigCommerce store: how the
// store's copies of Amazon and eBay orders are recognised and handled. A
// BigCommerce store that lists on Amazon or eBay through BigCommerce's
// channel tools receives a BigCommerce order for every marketplace order;
// shiprelay imports the marketplace order itself and treats the BigCommerce
// order as its copy. Every field is optional; read the effective values with
// BigCommerceStore.CopiesSettings.
type BigCommerceCopies struct {
	// Notify confirms the BigCommerce copy when its marketplace order ships
	// (a linked notification). Default true.
	Notify *bool `yaml:"notify"`
	// ChannelRelays says BigCommerce itself relays the shipments of copies
	// to the marketplace, so shiprelay must not confirm the marketplace order
	// too (a loop guard). Default false.
	ChannelRelays *bool `yaml:"channelRelays"`
	// Hide is what a copy's ShipStation order becomes when the marketplace's
	// own order takes over: cancel (default) or hold.
	Hide string `yaml:"hide"`
	// Channels resolves an order's channel_id through the Channels API
	// (GET /v3/channels/{id}) to learn its platform. Default true.
	Channels *bool `yaml:"channels"`
	// Patterns replace the default origin patterns (bigcommerce.DefaultPatterns)
	// when given; an empty list turns pattern matching off. They are compiled
	// and checked when the file is loaded.
	Patterns []CopyPattern `yaml:"patterns"`

	compiled []OriginPattern
}

// CopyPattern is one origin pattern as the file writes it.
type CopyPattern struct {
	// Field is the BigCommerce order field read (one of OriginFields).
	Field string `yaml:"field"`
	// Match is a Go regular expression (RE2 syntax) with at most one
	// capture group (see OriginPattern.Match).
	Match string `yaml:"match"`
	// Marketplace is amazon or ebay.
	Marketplace order.Channel `yaml:"marketplace"`
}

// CopiesSettings are the effective copies settings of a store, with the
// defaults applied.
type CopiesSettings struct {
	// Notify: confirm the BigCommerce copy when its marketplace order ships.
	Notify bool
	// ChannelRelays: BigCommerce relays copies' shipments to the marketplace
	// itself, so shiprelay does not confirm the marketplace order.
	ChannelRelays bool
	// Hide is CopiesHideCancel or CopiesHideHold.
	Hide string
	// UseChannels: resolve channel_id through the Channels API.
	UseChannels bool
	// Patterns are the configured origin patterns, compiled; nil when the
	// file gives none, meaning bigcommerce.DefaultPatterns. A non-nil empty
	// slice means no patterns at all.
	Patterns []OriginPattern
}

// CopiesSettings returns the store's effective copies settings. It is safe
// on a nil store and on a store without a copies section (all defaults).
func (b *BigCommerceStore) CopiesSettings() CopiesSettings {
	out := CopiesSettings{Notify: true, Hide: CopiesHideCancel, UseChannels: true}
	if b == nil || b.Copies == nil {
		return out
	}
	c := b.Copies
	if c.Notify != nil {
		out.Notify = *c.Notify
	}
	if c.ChannelRelays != nil {
		out.ChannelRelays = *c.ChannelRelays
	}
	if c.Hide != "" {
		out.Hide = c.Hide
	}
	if c.Channels != nil {
		out.UseChannels = *c.Channels
	}
	if c.Patterns != nil {
		out.Patterns = slices.Clone(c.compiled)
		if out.Patterns == nil {
			out.Patterns = []OriginPattern{}
		}
	}
	return out
}

// Order fields an OriginPattern can read.
const (
	OriginExternalOrderID = "external_order_id"
	OriginExternalID      = "external_id"
	OriginEbayOrderID     = "ebay_order_id"
	OriginStaffNotes      = "staff_notes"
	OriginCustomerMessage = "customer_message"
	OriginOrderSource     = "order_source"
	OriginExternalSource  = "external_source"
)

// OriginFields are the order fields an OriginPattern can read.
var OriginFields = []string{
	OriginExternalOrderID, OriginExternalID, OriginEbayOrderID, OriginStaffNotes,
	OriginCustomerMessage, OriginOrderSource, OriginExternalSource,
}

// OriginPattern is one compiled rule for recognising the marketplace order
// a BigCommerce order mirrors. Package bigcommerce uses it as
// bigcommerce.Pattern; it is declared here because bigcommerce imports
// config, so config cannot import bigcommerce to validate the file.
type OriginPattern struct {
	// Field is the order field read (one of OriginFields).
	Field string
	// Match is matched against the field. With one capture group, the group
	// is the marketplace order id. With none, a match only names the
	// marketplace and the id comes from external_order_id, else external_id.
	Match *regexp.Regexp
	// Marketplace is order.Amazon or order.EBay.
	Marketplace order.Channel
}

// NewOriginPattern compiles and checks one origin pattern: a known field, a
// regular expression with at most one capture group and a marketplace of
// amazon or ebay. The error names the part that is wrong.
func NewOriginPattern(field, match string, marketplace order.Channel) (OriginPattern, error) {
	p, probs := compileOriginPattern(field, match, marketplace)
	var errs []string
	for _, pr := range probs {
		errs = append(errs, pr.field+": "+pr.msg)
	}
	if len(errs) > 0 {
		return OriginPattern{}, fmt.Errorf("origin pattern: %s", strings.Join(errs, "; "))
	}
	return p, nil
}

type patternProblem struct{ field, msg string }

func compileOriginPattern(field, match string, marketplace order.Channel) (OriginPattern, []patternProblem) {
	var probs []patternProblem
	if !slices.Contains(OriginFields, field) {
		probs = append(probs, patternProblem{"field", fmt.Sprintf("%q is not one of %s", field, strings.Join(OriginFields, ", "))})
	}
	var re *regexp.Regexp
	switch {
	case strings.TrimSpace(match) == "":
		probs = append(probs, patternProblem{"match", "is required (a regular expression)"})
	default:
		var err error
		if re, err = regexp.Compile(match); err != nil {
			probs = append(probs, patternProblem{"match", fmt.Sprintf("%q is not a regular expression: %v", match, err)})
		} else if n := re.NumSubexp(); n > 1 {
			probs = append(probs, patternProblem{"match", fmt.Sprintf("%q has %d capture groups; at most one (the marketplace order id; write (?:...) for the others)", match, n)})
		}
	}
	if marketplace != order.Amazon && marketplace != order.EBay {
		probs = append(probs, patternProblem{"marketplace", fmt.Sprintf("%q is not amazon or ebay", marketplace)})
	}
	if len(probs) > 0 {
		return OriginPattern{}, probs
	}
	return OriginPattern{Field: field, Match: re, Marketplace: marketplace}, nil
}

// validate checks the section (nil is fine) and compiles its patterns.
func (c *BigCommerceCopies) validate(f string, bad func(field, format string, args ...any)) {
	if c == nil {
		return
	}
	if c.Hide != "" && c.Hide != CopiesHideCancel && c.Hide != CopiesHideHold {
		bad(f+".hide", "%q must be %s or %s", c.Hide, CopiesHideCancel, CopiesHideHold)
	}
	c.compiled = nil
	for i, cp := range c.Patterns {
		p, probs := compileOriginPattern(cp.Field, cp.Match, cp.Marketplace)
		for _, pr := range probs {
			bad(fmt.Sprintf("%s.patterns[%d].%s", f, i, pr.field), "%s", pr.msg)
		}
		if len(probs) == 0 {
			c.compiled = append(c.compiled, p)
		}
	}
}
