// Package carrier is the carrier map: what each selling channel calls the
// carrier and service of a ShipStation label, and whether that service tracks
// the package automatically.
//
// The map is data, not code. Defaults live in carriers.yaml (embedded), keyed
// by ShipStation V1 carrierCode with optional per-serviceCode overrides; a
// store can override or add entries (Overrides, Map.With). A carrier the map
// does not know is never dropped: Lookup answers with the channel's
// documented fallback and says so (Resolution.Fallback), so the caller can
// record it on the order.
//
// It imports no AWS SDK and no HTTP client.
package carrier

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Entry is one carrier: a ShipStation carrierCode (the key it is stored
// under) and what every channel calls it.
//
// In an Overrides value an Entry may be partial: see Map.With.
type Entry struct {
	// Name is the display name ("Royal Mail"). It is also the carrierName
	// sent to Amazon when the Amazon code is Other.
	Name string `yaml:"name,omitempty"`
	// Aliases are other ShipStation carrierCodes for the same carrier
	// (endicia and usps for stamps_com).
	Aliases []string `yaml:"aliases,omitempty"`
	// TrackingCapable says the carrier tracks its packages automatically:
	// the tracking number shows scans and delivery without anything else the
	// seller must do. Required on a full entry.
	TrackingCapable *bool `yaml:"trackingCapable,omitempty"`
	// Amazon, EBay and BigCommerce are the channel codes. Required on a full
	// entry.
	Amazon      *Amazon      `yaml:"amazon,omitempty"`
	EBay        *EBay        `yaml:"ebay,omitempty"`
	BigCommerce *BigCommerce `yaml:"bigcommerce,omitempty"`
	// Services holds what differs for one ShipStation serviceCode.
	Services map[string]Service `yaml:"services,omitempty"`
}

// Service is what differs for one ShipStation serviceCode. Any field left
// empty (or nil) is the carrier's.
type Service struct {
	// Name is the service's display name ("Priority Mail"); it is the
	// default shipping method text for every channel.
	Name            string       `yaml:"name,omitempty"`
	TrackingCapable *bool        `yaml:"trackingCapable,omitempty"`
	Amazon          *Amazon      `yaml:"amazon,omitempty"`
	EBay            *EBay        `yaml:"ebay,omitempty"`
	BigCommerce     *BigCommerce `yaml:"bigcommerce,omitempty"`
}

// Amazon is the packageDetail of confirmShipment (SP-API Orders v0).
type Amazon struct {
	// CarrierCode must match Amazon's list exactly (case and spaces), or be
	// Other with a CarrierName.
	CarrierCode string `yaml:"carrierCode,omitempty"`
	// CarrierName is sent with CarrierCode Other; Entry.Name when empty.
	CarrierName string `yaml:"carrierName,omitempty"`
	// ShippingMethod is free text that should match Seller Central's list
	// where possible; the service's Name when empty.
	ShippingMethod string `yaml:"shippingMethod,omitempty"`
	// AutoConfirmed says Amazon learns of these labels by itself (Buy
	// Shipping), so no confirmation is sent.
	AutoConfirmed bool `yaml:"autoConfirmed,omitempty"`
}

// EBay is the createShippingFulfillment carrier (Sell Fulfillment API).
type EBay struct {
	// ShippingCarrierCode is a value of eBay's ShippingCarrierCodeType (as
	// GeteBayDetails returns it), or Other.
	ShippingCarrierCode string `yaml:"shippingCarrierCode,omitempty"`
}

// BigCommerce is the carrier part of POST /v2/orders/{id}/shipments.
type BigCommerce struct {
	// ShippingProvider is "", auspost, canadapost, endicia, usps, fedex,
	// royalmail, ups, upsready, upsonline, shipperhq or carrier_<id>.
	ShippingProvider string `yaml:"shipping_provider"`
	// TrackingCarrier is "" or an AfterShip courier slug.
	TrackingCarrier string `yaml:"tracking_carrier"`
	// ShippingMethod is free text; the service's Name when empty.
	ShippingMethod string `yaml:"shipping_method,omitempty"`
}

// Overrides are a store's changes to the carrier map, keyed by ShipStation
// carrierCode ("royal_mail") or carrierCode/serviceCode
// ("royal_mail/rm_tracked_48"). It is the type a configuration file embeds:
//
//	carriers:
//	  australia_post:
//	    amazon: {carrierCode: Australia Post-ArticleId}
//	  acme_freight:
//	    name: Acme Freight
//	    trackingCapable: true
//	    amazon: {carrierCode: Other}
//	    ebay: {shippingCarrierCode: Other}
//	    bigcommerce: {shipping_provider: "", tracking_carrier: ""}
//	  stamps_com/usps_first_class_mail:
//	    trackingCapable: true
type Overrides map[string]Entry

// file is the shape of carriers.yaml and of an overrides document.
type file struct {
	Carriers map[string]Entry `yaml:"carriers"`
}

//go:embed carriers.yaml
var defaultYAML []byte

// Fallback codes the channels document for a carrier not on their list.
const (
	// AmazonOther is Amazon's code for an unlisted carrier; carrierName is
	// then required.
	AmazonOther = "Other"
	// EBayOther is ShippingCarrierCodeType's "any carrier not listed here".
	EBayOther = "Other"
)

var (
	codeRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	ebayCodeRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	slugRE     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	providerRE = regexp.MustCompile(`^carrier_[A-Za-z0-9_]+$`)
	lineRE     = regexp.MustCompile(`^line (\d+): `)
)

// bigCommerceProviders is the shipping_provider_standard enum of
// BigCommerce's orders.v2 spec ("" included); carrier_<id> is also valid.
var bigCommerceProviders = map[string]bool{
	"": true, "auspost": true, "canadapost": true, "endicia": true, "usps": true,
	"fedex": true, "ups": true, "upsready": true, "upsonline": true,
	"shipperhq": true, "royalmail": true,
}

// ValidBigCommerceProvider reports whether p is a shipping_provider
// BigCommerce accepts.
func ValidBigCommerceProvider(p string) bool {
	return bigCommerceProviders[p] || providerRE.MatchString(p)
}

// Parse reads a full carrier map (the shape of carriers.yaml) strictly:
// unknown fields, duplicate keys and wrong types are errors, and every entry
// is validated. Errors name the carrier and the field.
func Parse(data []byte) (*Map, error) {
	f, err := decode(data)
	if err != nil {
		return nil, err
	}
	if len(f.Carriers) == 0 {
		return nil, errors.New("carrier map: no carriers")
	}
	m := &Map{entries: map[string]Entry{}, alias: map[string]string{}}
	for code, e := range f.Carriers {
		m.entries[code] = e
	}
	if err := errors.Join(m.index(), m.validate()); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseOverrides reads a document of the shape
//
//	carriers:
//	  <carrierCode or carrierCode/serviceCode>: <entry>
//
// strictly. The overrides are checked when they are applied (Map.With).
func ParseOverrides(data []byte) (Overrides, error) {
	f, err := decode(data)
	if err != nil {
		return nil, err
	}
	return Overrides(f.Carriers), nil
}

// decode parses data strictly and, on a decoding error, names the carrier
// entry each message's line belongs to.
func decode(data []byte) (file, error) {
	var f file
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return f, fmt.Errorf("carrier map: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return f, fmt.Errorf("carrier map: %w", err)
		}
		keys := entryLines(&root)
		msgs := make([]string, len(te.Errors))
		for i, msg := range te.Errors {
			msgs[i] = inEntry(keys, msg)
		}
		return f, fmt.Errorf("carrier map: %s", strings.Join(msgs, "; "))
	}
	return f, nil
}

// keyLine is a carrier key and the line it starts on.
type keyLine struct {
	key  string
	line int
}

// entryLines lists the keys of the top-level carriers mapping by line.
func entryLines(root *yaml.Node) []keyLine {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil
	}
	var out []keyLine
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "carriers" || top.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		c := top.Content[i+1].Content
		for j := 0; j+1 < len(c); j += 2 {
			out = append(out, keyLine{c[j].Value, c[j].Line})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out
}

// inEntry prefixes a yaml.v3 "line N: ..." message with the carrier entry
// that holds line N.
func inEntry(keys []keyLine, msg string) string {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	n, _ := strconv.Atoi(m[1])
	name := ""
	for _, k := range keys {
		if k.line > n {
			break
		}
		name = k.key
	}
	if name == "" {
		return msg
	}
	return fmt.Sprintf("carrier %q: %s", name, msg)
}

// validateEntry checks a full entry. code is its key.
func validateEntry(code string, e Entry) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("carrier %q: %s: %s", code, field, fmt.Sprintf(format, args...)))
	}
	if !codeRE.MatchString(code) {
		bad("key", "%q is not a ShipStation carrierCode (lower case letters, digits, _ . -)", code)
	}
	if strings.TrimSpace(e.Name) == "" {
		bad("name", "required")
	}
	for _, a := range e.Aliases {
		if !codeRE.MatchString(a) {
			bad("aliases", "%q is not a ShipStation carrierCode", a)
		}
	}
	if e.TrackingCapable == nil {
		bad("trackingCapable", "required (true or false)")
	}
	if e.Amazon == nil {
		bad("amazon", "required")
	} else {
		if e.Amazon.CarrierCode == "" {
			bad("amazon.carrierCode", "required (a value of Amazon's carrier list, or Other)")
		}
		errs = append(errs, checkAmazon(code, "amazon", e.Amazon)...)
	}
	if e.EBay == nil {
		bad("ebay", "required")
	} else {
		if e.EBay.ShippingCarrierCode == "" {
			bad("ebay.shippingCarrierCode", "required (a ShippingCarrierCodeType value, or Other)")
		}
		errs = append(errs, checkEBay(code, "ebay", e.EBay)...)
	}
	if e.BigCommerce == nil {
		bad("bigcommerce", "required")
	} else {
		errs = append(errs, checkBigCommerce(code, "bigcommerce", e.BigCommerce)...)
	}
	svcs := make([]string, 0, len(e.Services))
	for s := range e.Services {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	for _, s := range svcs {
		errs = append(errs, validateService(code, s, e.Services[s])...)
	}
	return errs
}

// validateService checks one service of carrier code.
func validateService(code, svc string, s Service) []error {
	var errs []error
	prefix := fmt.Sprintf("services.%s", svc)
	if !codeRE.MatchString(svc) {
		errs = append(errs, fmt.Errorf("carrier %q: %s: %q is not a ShipStation serviceCode", code, prefix, svc))
	}
	if s.Amazon != nil {
		errs = append(errs, checkAmazon(code, prefix+".amazon", s.Amazon)...)
	}
	if s.EBay != nil {
		errs = append(errs, checkEBay(code, prefix+".ebay", s.EBay)...)
	}
	if s.BigCommerce != nil {
		errs = append(errs, checkBigCommerce(code, prefix+".bigcommerce", s.BigCommerce)...)
	}
	return errs
}

func checkAmazon(code, field string, a *Amazon) []error {
	if a.CarrierCode != strings.TrimSpace(a.CarrierCode) {
		return []error{fmt.Errorf("carrier %q: %s.carrierCode: %q has leading or trailing spaces (Amazon matches it exactly)", code, field, a.CarrierCode)}
	}
	return nil
}

func checkEBay(code, field string, e *EBay) []error {
	if e.ShippingCarrierCode != "" && !ebayCodeRE.MatchString(e.ShippingCarrierCode) {
		return []error{fmt.Errorf("carrier %q: %s.shippingCarrierCode: %q is not an eBay carrier code (letters and digits only)", code, field, e.ShippingCarrierCode)}
	}
	return nil
}

func checkBigCommerce(code, field string, b *BigCommerce) []error {
	var errs []error
	if !ValidBigCommerceProvider(b.ShippingProvider) {
		errs = append(errs, fmt.Errorf("carrier %q: %s.shipping_provider: %q is not one of \"\", auspost, canadapost, endicia, usps, fedex, royalmail, ups, upsready, upsonline, shipperhq, carrier_<id>", code, field, b.ShippingProvider))
	}
	if b.TrackingCarrier != "" && !slugRE.MatchString(b.TrackingCarrier) {
		errs = append(errs, fmt.Errorf("carrier %q: %s.tracking_carrier: %q is not an AfterShip courier slug", code, field, b.TrackingCarrier))
	}
	return errs
}
