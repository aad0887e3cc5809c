// Package redaction is the domain of Amazon buyer-data redaction: which
// orders it applies to (Applies), when an order's buyer data is due for
// redaction under Amazon's Data Protection Policy (Facts, Due), and what a
// redacted order keeps (Redact).
//
// The mechanism lives in the ledger (ledger.Redactions): the due time is
// stored on the order as the key of a sparse index that an hourly sweep
// reads, and the buyer data item carries a DynamoDB time to live at due
// time plus Grace, so that it goes even if the sweep fails. Every time is
// passed in by the caller: the clock is injectable.
//
// It imports no AWS SDK and no HTTP client.
package redaction

import (
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Redacted is the text that replaces each redacted value.
const Redacted = "REDACTED (Amazon)"

// SweepInterval is how often the redaction sweep runs. A redaction made
// more than SweepInterval after its due time is overdue (see Overdue).
const SweepInterval = time.Hour

// Grace is the default time between an order's due time and the time to
// live of its buyer data item: the sweep redacts on time and records it;
// the time to live is the safety net that removes the data even when the
// sweep has not run (readers treat an expired item as redacted at once,
// DynamoDB deletes it later). Two sweep intervals let a sweep that missed
// one run still do the redaction itself.
const Grace = 2 * SweepInterval

// Applies reports whether Amazon's redaction schedule applies to o: an
// order of the Amazon channel, or a copy of an Amazon marketplace order in
// another channel (o.Origin names Amazon, e.g. a BigCommerce copy made by
// Channel Manager).
func Applies(o order.Order) bool {
	return o.Channel == order.Amazon || (o.Origin != nil && o.Origin.Marketplace == order.Amazon)
}

// IsDue reports whether buyer data due at due must be redacted at now:
// from the due time on (due <= now), never a moment before.
func IsDue(due, now time.Time) bool { return !now.Before(due) }

// Overdue reports whether a redaction done at `at` of buyer data due at
// due is late: more than SweepInterval after the due time (a sweep missed
// it). The sweep counts these as a metric.
func Overdue(due, at time.Time) bool { return at.Sub(due) > SweepInterval }

// Redact returns the redacted copy of p (p is not changed): the buyer and
// recipient names (always set, so that a label still has a name line),
// companies, street lines, phones, e-mail addresses (unless they are
// Amazon's anonymised relay addresses, see IsRelayEmail), the username,
// the gift message, the buyer's notes and the numbers of the buyer's tax
// registrations are replaced by Redacted; a value that was empty stays
// empty. The result has Redacted set. City, state, postal code and country
// are not buyer data: they live in the order (order.Address), which this
// does not touch. Redact is idempotent; a nil p (no buyer data stored, as
// for an FBA order) is nil.
func Redact(p *order.Personal) *order.Personal {
	if p == nil {
		return nil
	}
	out := &order.Personal{
		BillTo:        redactContact(p.BillTo),
		Email:         redactEmail(p.Email),
		Username:      redactValue(p.Username),
		GiftMessage:   redactValue(p.GiftMessage),
		CustomerNotes: redactValue(p.CustomerNotes),
		Redacted:      true,
	}
	if p.ShipTo != nil {
		out.ShipTo = make(map[string]order.Contact, len(p.ShipTo))
		for k, c := range p.ShipTo {
			out.ShipTo[k] = redactContact(c)
		}
	}
	for _, t := range p.TaxIDs {
		out.TaxIDs = append(out.TaxIDs, order.TaxID{Kind: t.Kind, Number: redactValue(t.Number)})
	}
	return out
}

func redactContact(c order.Contact) order.Contact {
	return order.Contact{
		Name:    Redacted,
		Company: redactValue(c.Company),
		Street1: redactValue(c.Street1),
		Street2: redactValue(c.Street2),
		Street3: redactValue(c.Street3),
		Phone:   redactValue(c.Phone),
		Email:   redactEmail(c.Email),
	}
}

func redactValue(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	return Redacted
}

func redactEmail(v string) string {
	if IsRelayEmail(v) {
		return strings.TrimSpace(v)
	}
	return redactValue(v)
}

// IsRelayEmail reports whether addr is one of Amazon's anonymised buyer
// relay addresses, "<token>@marketplace.amazon.<tld>" (com, de, co.uk,
// com.au, …): the address Amazon gives instead of the buyer's own, which
// may be kept. Anything else, including a display-name form
// ("Jane <x@marketplace.amazon.com>") or a look-alike domain
// ("marketplace.amazon.com.example.org"), is not.
func IsRelayEmail(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t<>\"(),;:[]\\") || strings.Contains(domain, "@") {
		return false
	}
	tld, ok := strings.CutPrefix(domain, "marketplace.amazon.")
	if !ok {
		return false
	}
	labels := strings.Split(tld, ".")
	switch len(labels) {
	case 1:
		return isTLD(labels[0])
	case 2:
		return (labels[0] == "co" || labels[0] == "com") && isTLD(labels[1])
	}
	return false
}

// isTLD: two or three ASCII letters (a country code or com).
func isTLD(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
