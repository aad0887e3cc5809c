package carrier

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/shiprelay/shiprelay/shared/order"
)

// Map is a validated carrier map. It is immutable, so one Map is safe for
// concurrent use; With returns a new one.
type Map struct {
	// entries holds every full entry by its own carrierCode.
	entries map[string]Entry
	// alias maps an alias carrierCode to the entry it belongs to.
	alias map[string]string
}

var (
	defaultOnce sync.Once
	defaultMap  *Map
)

// Default is the embedded carriers.yaml, parsed once. The file is checked by
// the package's tests, so a parse error here is a build defect and panics.
func Default() *Map {
	defaultOnce.Do(func() {
		m, err := Parse(defaultYAML)
		if err != nil {
			panic("carrier: embedded carriers.yaml: " + err.Error())
		}
		defaultMap = m
	})
	return defaultMap
}

// Resolution is what one channel should be told about a ShipStation label.
type Resolution struct {
	// Code is the channel's carrier code: Amazon carrierCode, eBay
	// shippingCarrierCode, or BigCommerce shipping_provider.
	Code string
	// TrackingCarrier is BigCommerce's tracking_carrier (an AfterShip
	// slug); empty for the other channels.
	TrackingCarrier string
	// Name is the human carrier name; for Amazon it is the carrierName to
	// send when Code is Other.
	Name string
	// Method is the shipping method text (Amazon shippingMethod, BigCommerce
	// shipping_method); empty when the map has none.
	Method string
	// TrackingCapable says the service tracks automatically. False for an
	// unknown carrier: it is not known to. The tracking number is sent
	// either way.
	TrackingCapable bool
	// AutoConfirmed says the channel learns of the label by itself (Amazon
	// Buy Shipping): send no confirmation.
	AutoConfirmed bool
	// Known says the carrier is in the map.
	Known bool
	// Fallback says the channel gets its documented fallback instead of a
	// carrier it recognises (Amazon Other + carrierName, eBay Other,
	// BigCommerce no provider and no tracking carrier). The caller records
	// it on the order (Reason says why); the shipment is never dropped.
	Fallback bool
	// Reason explains Fallback or AutoConfirmed, PII-free; empty otherwise.
	Reason string
}

// Lookup resolves a ShipStation carrierCode and serviceCode for a channel.
//
// A known carrier gets its entry, with the service's values where the map
// has them. An unknown carrier gets the channel's documented fallback:
//   - Amazon: carrierCode Other with carrierName derived from the ShipStation
//     code ("acme_freight" → "Acme Freight"), as Amazon's confirmShipment
//     requires for an unlisted carrier.
//   - eBay: shippingCarrierCode Other, ShippingCarrierCodeType's value for
//     "any carrier not listed". eBay requires a carrier code whenever a
//     tracking number is sent, so Other keeps the tracking number rather
//     than dropping it; eBay can then neither validate nor link it.
//   - BigCommerce: shipping_provider "" and tracking_carrier "" with the
//     tracking number kept: BigCommerce stores and shows the number, with
//     no generated tracking link.
//
// For a channel other than Amazon, eBay or BigCommerce, Code is empty and
// Fallback is set.
func (m *Map) Lookup(ch order.Channel, carrierCode, serviceCode string) Resolution {
	code := normalize(carrierCode)
	svc := normalize(serviceCode)
	e, ok := m.entry(code)
	if !ok {
		return unknown(ch, code)
	}
	s, hasSvc := e.Services[svc]
	r := Resolution{Known: true, Name: e.Name, TrackingCapable: *e.TrackingCapable}
	if hasSvc && s.TrackingCapable != nil {
		r.TrackingCapable = *s.TrackingCapable
	}
	method := ""
	if hasSvc {
		method = s.Name
	}
	switch ch {
	case order.Amazon:
		a := *e.Amazon
		if hasSvc && s.Amazon != nil {
			a = mergeAmazon(a, *s.Amazon)
		}
		r.Code = a.CarrierCode
		if a.CarrierName != "" {
			r.Name = a.CarrierName
		}
		r.Method = first(a.ShippingMethod, method)
		r.AutoConfirmed = a.AutoConfirmed
		switch {
		case a.AutoConfirmed:
			r.Reason = fmt.Sprintf("amazon: %s labels are confirmed by Amazon itself", e.Name)
		case a.CarrierCode == AmazonOther:
			r.Fallback = true
			r.Reason = fmt.Sprintf("amazon: no carrier code for %s; sent Other with carrierName %q", e.Name, r.Name)
		}
	case order.EBay:
		b := *e.EBay
		if hasSvc && s.EBay != nil && s.EBay.ShippingCarrierCode != "" {
			b = *s.EBay
		}
		r.Code = b.ShippingCarrierCode
		r.Method = method
		if b.ShippingCarrierCode == EBayOther {
			r.Fallback = true
			r.Reason = fmt.Sprintf("ebay: no carrier code for %s; sent Other", e.Name)
		}
	case order.BigCommerce:
		b := *e.BigCommerce
		if hasSvc && s.BigCommerce != nil {
			b = mergeBigCommerce(b, *s.BigCommerce)
		}
		r.Code = b.ShippingProvider
		r.TrackingCarrier = b.TrackingCarrier
		r.Method = first(b.ShippingMethod, method)
		if b.ShippingProvider == "" && b.TrackingCarrier == "" {
			r.Fallback = true
			r.Reason = fmt.Sprintf("bigcommerce: no provider or tracking carrier for %s; tracking number sent without a link", e.Name)
		}
	default:
		r.Fallback = true
		r.Reason = fmt.Sprintf("channel %q has no carrier codes", ch)
	}
	return r
}

// TrackingCapable says whether the service tracks automatically; false for a
// carrier the map does not know.
func (m *Map) TrackingCapable(carrierCode, serviceCode string) bool {
	e, ok := m.entry(normalize(carrierCode))
	if !ok {
		return false
	}
	if s, ok := e.Services[normalize(serviceCode)]; ok && s.TrackingCapable != nil {
		return *s.TrackingCapable
	}
	return *e.TrackingCapable
}

// Known reports whether carrierCode (or one of its aliases) is in the map.
func (m *Map) Known(carrierCode string) bool {
	_, ok := m.entry(normalize(carrierCode))
	return ok
}

// Codes lists the map's carrierCodes (entries, not aliases), sorted.
func (m *Map) Codes() []string {
	out := make([]string, 0, len(m.entries))
	for c := range m.entries {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Entry returns a copy of the entry for carrierCode (or an alias of it).
func (m *Map) Entry(carrierCode string) (Entry, bool) {
	e, ok := m.entry(normalize(carrierCode))
	if !ok {
		return Entry{}, false
	}
	return cloneEntry(e), true
}

// With returns the map with a store's overrides applied; m is unchanged.
//
//   - A key that is a carrierCode of the map changes that entry (and so its
//     aliases): each field the override sets replaces the default's; a
//     channel block (amazon, ebay, bigcommerce) replaces the whole block; a
//     service replaces the service of the same code; aliases are added.
//   - A key that is an alias gets an entry of its own, copied from the one
//     it aliased and then changed as above; the other codes keep the
//     default.
//   - A new key adds a carrier, which must then be complete.
//   - A key "carrierCode/serviceCode" changes one service of a carrier of
//     the map or of the overrides: name and trackingCapable replace, a
//     channel block replaces the service's block.
//
// The result is validated like a parsed map; errors name the key and field.
func (m *Map) With(o Overrides) (*Map, error) {
	n := m.clone()
	var carriers, services []string
	for k := range o {
		if strings.Contains(k, "/") {
			services = append(services, k)
		} else {
			carriers = append(carriers, k)
		}
	}
	sort.Strings(carriers)
	sort.Strings(services)
	var errs []error
	for _, k := range carriers {
		code := normalize(k)
		if code != k {
			errs = append(errs, fmt.Errorf("carrier %q: key: must be lower case without spaces", k))
			continue
		}
		ov := o[k]
		base, ok := n.entries[code]
		if !ok {
			if _, isAlias := n.alias[code]; isAlias {
				base = n.detach(code)
				ok = true
			}
		}
		if !ok {
			n.entries[code] = cloneEntry(ov)
			continue
		}
		n.entries[code] = mergeEntry(base, ov)
	}
	for _, k := range services {
		code, svc, _ := strings.Cut(k, "/")
		if normalize(code) != code || normalize(svc) != svc || svc == "" || strings.Contains(svc, "/") {
			errs = append(errs, fmt.Errorf("carrier %q: key: want carrierCode/serviceCode in lower case", k))
			continue
		}
		ov := o[k]
		if len(ov.Aliases) > 0 || len(ov.Services) > 0 {
			errs = append(errs, fmt.Errorf("carrier %q: a service override takes no aliases or services", k))
			continue
		}
		e, ok := n.entries[code]
		if !ok {
			if _, isAlias := n.alias[code]; !isAlias {
				errs = append(errs, fmt.Errorf("carrier %q: no carrier %q to override a service of", k, code))
				continue
			}
			e = n.detach(code)
		}
		if e.Services == nil {
			e.Services = map[string]Service{}
		}
		e.Services[svc] = mergeService(e.Services[svc], ov)
		n.entries[code] = e
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	n.alias = map[string]string{}
	if err := errors.Join(n.index(), n.validate()); err != nil {
		return nil, err
	}
	return n, nil
}

// WithYAML parses overrides (see ParseOverrides) and applies them (With).
func (m *Map) WithYAML(data []byte) (*Map, error) {
	o, err := ParseOverrides(data)
	if err != nil {
		return nil, err
	}
	return m.With(o)
}

// entry finds code among the entries, then the aliases.
func (m *Map) entry(code string) (Entry, bool) {
	if e, ok := m.entries[code]; ok {
		return e, true
	}
	if t, ok := m.alias[code]; ok {
		e, ok := m.entries[t]
		return e, ok
	}
	return Entry{}, false
}

// detach turns alias code into an entry of its own, a copy of the entry it
// aliased, and returns it.
func (m *Map) detach(code string) Entry {
	target := m.alias[code]
	t := m.entries[target]
	kept := t.Aliases[:0:0]
	for _, a := range t.Aliases {
		if a != code {
			kept = append(kept, a)
		}
	}
	t.Aliases = kept
	m.entries[target] = t
	delete(m.alias, code)
	e := cloneEntry(t)
	e.Aliases = nil
	m.entries[code] = e
	return e
}

// index rebuilds the alias index from the entries.
func (m *Map) index() error {
	var errs []error
	codes := m.Codes()
	for _, c := range codes {
		for _, a := range m.entries[c].Aliases {
			switch {
			case a == c:
				errs = append(errs, fmt.Errorf("carrier %q: aliases: lists its own code", c))
			case hasKey(m.entries, a):
				errs = append(errs, fmt.Errorf("carrier %q: aliases: %q is also a carrier of its own", c, a))
			case m.alias[a] != "":
				errs = append(errs, fmt.Errorf("carrier %q: aliases: %q is already an alias of %q", c, a, m.alias[a]))
			default:
				m.alias[a] = c
			}
		}
	}
	return errors.Join(errs...)
}

// validate checks every entry.
func (m *Map) validate() error {
	var errs []error
	for _, c := range m.Codes() {
		errs = append(errs, validateEntry(c, m.entries[c])...)
	}
	return errors.Join(errs...)
}

// clone deep-copies the map.
func (m *Map) clone() *Map {
	n := &Map{entries: make(map[string]Entry, len(m.entries)), alias: make(map[string]string, len(m.alias))}
	for c, e := range m.entries {
		n.entries[c] = cloneEntry(e)
	}
	for a, c := range m.alias {
		n.alias[a] = c
	}
	return n
}

// unknown is the fallback for a carrier the map does not know.
func unknown(ch order.Channel, code string) Resolution {
	name := humanName(code)
	r := Resolution{Name: name, Fallback: true}
	switch ch {
	case order.Amazon:
		r.Code = AmazonOther
		r.Reason = fmt.Sprintf("amazon: carrier %q not in the carrier map; sent Other with carrierName %q", code, name)
	case order.EBay:
		r.Code = EBayOther
		r.Reason = fmt.Sprintf("ebay: carrier %q not in the carrier map; sent Other", code)
	case order.BigCommerce:
		r.Reason = fmt.Sprintf("bigcommerce: carrier %q not in the carrier map; tracking number sent without a provider or link", code)
	default:
		r.Reason = fmt.Sprintf("channel %q has no carrier codes", ch)
	}
	return r
}

// humanName derives a display name from a ShipStation code:
// "acme_freight" → "Acme Freight".
func humanName(code string) string {
	words := strings.FieldsFunc(code, func(r rune) bool { return r == '_' || r == '-' || r == '.' || unicode.IsSpace(r) })
	for i, w := range words {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		words[i] = string(rs)
	}
	if len(words) == 0 {
		return "Unknown carrier"
	}
	return strings.Join(words, " ")
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hasKey(m map[string]Entry, k string) bool {
	_, ok := m[k]
	return ok
}

// mergeEntry applies a carrier-level override to base.
func mergeEntry(base, ov Entry) Entry {
	e := cloneEntry(base)
	if ov.Name != "" {
		e.Name = ov.Name
	}
	if ov.TrackingCapable != nil {
		v := *ov.TrackingCapable
		e.TrackingCapable = &v
	}
	if ov.Amazon != nil {
		v := *ov.Amazon
		e.Amazon = &v
	}
	if ov.EBay != nil {
		v := *ov.EBay
		e.EBay = &v
	}
	if ov.BigCommerce != nil {
		v := *ov.BigCommerce
		e.BigCommerce = &v
	}
	e.Aliases = append(e.Aliases, ov.Aliases...)
	if len(ov.Services) > 0 && e.Services == nil {
		e.Services = map[string]Service{}
	}
	for s, v := range ov.Services {
		e.Services[s] = cloneService(v)
	}
	return e
}

// mergeService applies a carrierCode/serviceCode override to a service.
func mergeService(base Service, ov Entry) Service {
	s := cloneService(base)
	if ov.Name != "" {
		s.Name = ov.Name
	}
	if ov.TrackingCapable != nil {
		v := *ov.TrackingCapable
		s.TrackingCapable = &v
	}
	if ov.Amazon != nil {
		v := *ov.Amazon
		s.Amazon = &v
	}
	if ov.EBay != nil {
		v := *ov.EBay
		s.EBay = &v
	}
	if ov.BigCommerce != nil {
		v := *ov.BigCommerce
		s.BigCommerce = &v
	}
	return s
}

// mergeAmazon lays a service's non-empty Amazon fields over the carrier's.
func mergeAmazon(a, s Amazon) Amazon {
	a.CarrierCode = first(s.CarrierCode, a.CarrierCode)
	a.CarrierName = first(s.CarrierName, a.CarrierName)
	a.ShippingMethod = first(s.ShippingMethod, a.ShippingMethod)
	a.AutoConfirmed = a.AutoConfirmed || s.AutoConfirmed
	return a
}

// mergeBigCommerce lays a service's non-empty BigCommerce fields over the
// carrier's.
func mergeBigCommerce(b, s BigCommerce) BigCommerce {
	b.ShippingProvider = first(s.ShippingProvider, b.ShippingProvider)
	b.TrackingCarrier = first(s.TrackingCarrier, b.TrackingCarrier)
	b.ShippingMethod = first(s.ShippingMethod, b.ShippingMethod)
	return b
}

func cloneEntry(e Entry) Entry {
	out := e
	if e.TrackingCapable != nil {
		v := *e.TrackingCapable
		out.TrackingCapable = &v
	}
	if e.Amazon != nil {
		v := *e.Amazon
		out.Amazon = &v
	}
	if e.EBay != nil {
		v := *e.EBay
		out.EBay = &v
	}
	if e.BigCommerce != nil {
		v := *e.BigCommerce
		out.BigCommerce = &v
	}
	if e.Aliases != nil {
		out.Aliases = append([]string(nil), e.Aliases...)
	}
	if e.Services != nil {
		out.Services = make(map[string]Service, len(e.Services))
		for k, s := range e.Services {
			out.Services[k] = cloneService(s)
		}
	}
	return out
}

func cloneService(s Service) Service {
	out := s
	if s.TrackingCapable != nil {
		v := *s.TrackingCapable
		out.TrackingCapable = &v
	}
	if s.Amazon != nil {
		v := *s.Amazon
		out.Amazon = &v
	}
	if s.EBay != nil {
		v := *s.EBay
		out.EBay = &v
	}
	if s.BigCommerce != nil {
		v := *s.BigCommerce
		out.BigCommerce = &v
	}
	return out
}
