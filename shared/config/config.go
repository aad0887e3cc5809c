// Package config loads and validates shiprelay's one YAML file of stores,
// ShipStation accounts and settings. Credentials are never in the file: it
// names secrets, which a Secrets implementation (AWS Secrets Manager in
// production, a local file in the local stack) resolves.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/rules"
)

// Default external base URLs.
const (
	DefaultBigCommerceURL = "https://api.bigcommerce.com"
	DefaultShipStationURL = "https://ssapi.shipstation.com"
)

// Config is the whole file.
type Config struct {
	Settings    Settings                       `yaml:"settings"`
	ShipStation []ShipStationAccount           `yaml:"shipstation"`
	Stores      []Store                        `yaml:"stores"`
	byStore     map[string]*Store              `yaml:"-"`
	byAccount   map[string]*ShipStationAccount `yaml:"-"`
}

// Settings are the global knobs.
type Settings struct {
	// PollInterval is how often the scheduled pull runs (informational: the
	// template's schedule fires it). Default 5m.
	PollInterval Duration `yaml:"pollInterval"`
	// PollOverlap is subtracted from the watermark so that changes written
	// late on the channel side are not missed. Default 10m.
	PollOverlap Duration `yaml:"pollOverlap"`
	// InitialLookback is how far back the first pull of a new store reaches.
	// Default 24h.
	InitialLookback Duration `yaml:"initialLookback"`
	// WebhookDedupeTTL is how long a webhook payload hash is remembered. Default 72h.
	WebhookDedupeTTL Duration `yaml:"webhookDedupeTTL"`
	// MaxBudgetWait is the longest a function sleeps for rate budget before
	// deferring the work to its queue. Default 20s.
	MaxBudgetWait Duration `yaml:"maxBudgetWait"`
	// ReconcileAfter is how long an order may stay pending in the ledger
	// (since its last ledger write) before the reconcile sweep re-drives its
	// push. It must be longer than a push normally takes, so that the sweep
	// only re-drives work whose message was lost. Default 10m, at least 1m.
	ReconcileAfter Duration `yaml:"reconcileAfter"`
	// LabelPullInterval is how often the scheduled pull reads ShipStation
	// labels (the safety net for lost SHIP_NOTIFY webhooks); polls in
	// between skip it. Default 5m.
	LabelPullInterval Duration `yaml:"labelPullInterval"`
	// VerifyAfter is how long after a confirmation the channel is read back
	// to check it recorded it (Amazon: getOrder packages). Default 2m,
	// at most 15m (an SQS delay).
	VerifyAfter Duration `yaml:"verifyAfter"`
}

// MinReconcileAfter is the smallest settings.reconcileAfter accepted.
const MinReconcileAfter = time.Minute

// ShipStationAccount is one ShipStation API key pair.
type ShipStationAccount struct {
	ID string `yaml:"id"`
	// CredentialsSecret names a secret holding {"apiKey": "...", "apiSecret": "..."}.
	CredentialsSecret string `yaml:"credentialsSecret"`
	BaseURL           string `yaml:"baseURL"`
	// RequestsPerMinute seeds the shared budget; the X-Rate-Limit headers
	// correct it. Default 40.
	RequestsPerMinute int `yaml:"requestsPerMinute"`
	// Rules are the automation rules applied, in order, to every order
	// going to this account (the orders of the stores whose
	// shipstation.account it is) when it is imported. The file's rules key
	// is a list of rules (see package rules for its shape), parsed and
	// validated when the file is loaded: an invalid rule fails the load,
	// naming the account, the rule and the field.
	Rules []rules.Rule `yaml:"-"`

	rulesNode *yaml.Node
}

// UnmarshalYAML decodes an account strictly (unknown keys are errors, as
// everywhere in the file) and keeps its rules key for validate, which
// parses it with the account's field path in every error.
func (a *ShipStationAccount) UnmarshalYAML(n *yaml.Node) error {
	type plain ShipStationAccount
	var rulesNode *yaml.Node
	if n.Kind == yaml.MappingNode {
		known := yamlKeys(reflect.TypeFor[plain]())
		rest := *n
		rest.Content = nil
		var unknown []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.Value == "rules":
				rulesNode = v
			case !slices.Contains(known, k.Value):
				unknown = append(unknown, fmt.Sprintf("line %d: field %s not found in type config.ShipStationAccount", k.Line, k.Value))
			default:
				rest.Content = append(rest.Content, k, v)
			}
		}
		if len(unknown) > 0 {
			return &yaml.TypeError{Errors: unknown}
		}
		n = &rest
	}
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*a = ShipStationAccount(p)
	a.rulesNode = rulesNode
	return nil
}

// yamlKeys lists the yaml keys of a struct type's fields.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// Store is one channel store (one order source).
type Store struct {
	ID      string        `yaml:"id"`
	Channel order.Channel `yaml:"channel"`
	// Enabled defaults to true.
	Enabled *bool  `yaml:"enabled"`
	BaseURL string `yaml:"baseURL"`
	// CredentialsSecret names a secret. BigCommerce: {"accessToken": "...",
	// "webhookSecret": "...", "clientSecret": "..." (optional, Standard Webhooks)}.
	CredentialsSecret string `yaml:"credentialsSecret"`

	BigCommerce *BigCommerceStore `yaml:"bigcommerce"`
	Amazon      *AmazonStore      `yaml:"amazon"`

	// ShipStation says where this store's orders go.
	ShipStation ShipStationTarget `yaml:"shipstation"`

	// Notify says how shipments are reported back to the channel.
	Notify Notify `yaml:"notify"`
	// Carriers overrides the carrier map for this store (see package carrier).
	Carriers carrier.Overrides `yaml:"carriers"`

	carriers *carrier.Map `yaml:"-"`
}

// Notify is a store's shipment-notification setting.
type Notify struct {
	// Channel turns confirming shipments on the channel on or off
	// (ShipStation's "marketplace notification" flag). Default on.
	Channel *bool `yaml:"channel"`
	// EmailCustomer asks the channel to email the buyer, where the channel's
	// API has such a switch. BigCommerce has none: its store notification
	// settings decide. Default on.
	EmailCustomer *bool `yaml:"emailCustomer"`
}

// Enabled reports whether the channel is told of shipments.
func (n Notify) Enabled() bool { return n.Channel == nil || *n.Channel }

// Emails reports whether the channel should email the buyer.
func (n Notify) Emails() bool { return n.EmailCustomer == nil || *n.EmailCustomer }

// CarrierMap returns the store's carrier map: the defaults with its
// overrides applied.
func (s *Store) CarrierMap() *carrier.Map {
	if s.carriers == nil {
		return carrier.Default()
	}
	return s.carriers
}

// BigCommerceStore holds BigCommerce-specific settings.
type BigCommerceStore struct {
	StoreHash string `yaml:"storeHash"`
	// WebhookHeader is the custom header set on the webhook subscription
	// (POST /v3/hooks "headers"); its value is the credential secret's
	// webhookSecret. Default X-Webhook-Secret.
	WebhookHeader string `yaml:"webhookHeader"`
	// RequestsPer30s seeds the shared budget (Standard/Plus 150, Pro 450).
	RequestsPer30s int `yaml:"requestsPer30s"`
	// Copies says how the store's copies of Amazon and eBay orders (the
	// orders BigCommerce's channel tools import from a marketplace) are
	// recognised and handled; nil means every default (see CopiesSettings).
	Copies *BigCommerceCopies `yaml:"copies"`
}

// Amazon confirmation policies (AmazonStore.Confirm).
const (
	// ConfirmFirstOnly sends one confirmation per order, as ShipStation's
	// own Amazon integration does; later packages are recorded as skipped.
	ConfirmFirstOnly = "first-only"
	// ConfirmEveryPackage relays split shipments package by package.
	ConfirmEveryPackage = "every-package"
)

// AmazonCustomFieldSources are the order attributes an Amazon store can map
// into ShipStation's custom fields (AmazonStore.CustomFields).
var AmazonCustomFieldSources = []string{
	"", "orderId", "sellerOrderId", "purchaseOrderNumber", "marketplaceId", "serviceLevel", "ioss", "replacementOf", "deliverBy",
}

// AmazonTaxTargets are where an Amazon store puts IOSS numbers and buyer tax
// registrations in ShipStation (AmazonStore.TaxIDsTo).
var AmazonTaxTargets = []string{"internalNotes", "customField1", "customField2", "customField3"}

// AmazonStore holds the settings of one Amazon marketplace of a seller (one
// order source). Its credentials secret holds {"clientId", "clientSecret",
// "refreshToken"}: the SP-API application's LWA credentials and the
// seller's authorisation.
type AmazonStore struct {
	// SellerID is the seller's merchant token (ORDER_CHANGE SellerId).
	SellerID string `yaml:"sellerId"`
	// MarketplaceID is the marketplace this store imports (ATVPDKIKX0DER
	// for amazon.com); it picks the regional SP-API endpoint.
	MarketplaceID string `yaml:"marketplaceId"`
	// LWAURL overrides the Login with Amazon host (sandbox only).
	LWAURL string `yaml:"lwaURL"`
	// ImportFBA imports Amazon-fulfilled orders as shipped, without buyer
	// data, for record keeping. Default off.
	ImportFBA bool `yaml:"importFBA"`
	// ItemIdentifier is what becomes the ShipStation SKU: sku (default) or asin.
	ItemIdentifier string `yaml:"itemIdentifier"`
	// ConditionNote adds the seller's condition note to the item options.
	ConditionNote bool `yaml:"conditionNote"`
	// CustomFields maps up to three order attributes (see
	// AmazonCustomFieldSources) into customField1..3; "" leaves one empty.
	CustomFields []string `yaml:"customFields"`
	// TaxIDsTo is where IOSS numbers and buyer tax registrations go (see
	// AmazonTaxTargets). Default internalNotes.
	TaxIDsTo string `yaml:"taxIdsTo"`
	// Confirm is the confirmation policy: first-only (default) or every-package.
	Confirm string `yaml:"confirm"`
	// OneTrackingPerOrder stops one tracking number being confirmed on
	// several orders (Amazon's Valid Tracking Rate): a label shared by
	// several orders confirms the first and raises an exception for the
	// others. Default off.
	OneTrackingPerOrder bool `yaml:"oneTrackingPerOrder"`
	// AuthorizedOn is the date (YYYY-MM-DD) the seller last authorised
	// shiprelay; an exception reminds 30 days before the yearly renewal.
	AuthorizedOn string `yaml:"authorizedOn"`
	// CatalogDimensions would read package dimensions from the Catalog
	// Items API for single-item, quantity-one orders. Not supported yet:
	// true is refused, so nobody believes it is on.
	CatalogDimensions bool `yaml:"catalogDimensions"`
}

// Authorized returns AuthorizedOn as a date; ok is false when unset.
func (a *AmazonStore) Authorized() (time.Time, bool) {
	if a == nil || a.AuthorizedOn == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, a.AuthorizedOn)
	return t, err == nil
}

// ShipStationTarget maps a channel store to a ShipStation account and store.
type ShipStationTarget struct {
	Account string `yaml:"account"`
	StoreID int64  `yaml:"storeId"`
}

// IsEnabled reports whether the store is active.
func (s *Store) IsEnabled() bool { return s.Enabled == nil || *s.Enabled }

// Duration is a time.Duration written as "5m", "72h".
type Duration time.Duration

// UnmarshalYAML parses Go duration text.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 5m, 72h)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Parse decodes and validates a config file. Unknown fields are errors, and
// every validation error names its field.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	s := &c.Settings
	if s.PollInterval == 0 {
		s.PollInterval = Duration(5 * time.Minute)
	}
	if s.PollOverlap == 0 {
		s.PollOverlap = Duration(10 * time.Minute)
	}
	if s.InitialLookback == 0 {
		s.InitialLookback = Duration(24 * time.Hour)
	}
	if s.WebhookDedupeTTL == 0 {
		s.WebhookDedupeTTL = Duration(72 * time.Hour)
	}
	if s.MaxBudgetWait == 0 {
		s.MaxBudgetWait = Duration(20 * time.Second)
	}
	if s.LabelPullInterval == 0 {
		s.LabelPullInterval = Duration(5 * time.Minute)
	}
	if s.ReconcileAfter == 0 {
		s.ReconcileAfter = Duration(10 * time.Minute)
	}
	if s.VerifyAfter == 0 {
		s.VerifyAfter = Duration(2 * time.Minute)
	}
	for i := range c.ShipStation {
		a := &c.ShipStation[i]
		if a.BaseURL == "" {
			a.BaseURL = DefaultShipStationURL
		}
		if a.RequestsPerMinute == 0 {
			a.RequestsPerMinute = 40
		}
	}
	for i := range c.Stores {
		st := &c.Stores[i]
		if a := st.Amazon; st.Channel == order.Amazon && a != nil {
			if a.ItemIdentifier == "" {
				a.ItemIdentifier = "sku"
			}
			if a.TaxIDsTo == "" {
				a.TaxIDsTo = "internalNotes"
			}
			if a.Confirm == "" {
				a.Confirm = ConfirmFirstOnly
			}
		}
		if st.Channel == order.BigCommerce {
			if st.BaseURL == "" {
				st.BaseURL = DefaultBigCommerceURL
			}
			if st.BigCommerce != nil && st.BigCommerce.RequestsPer30s == 0 {
				st.BigCommerce.RequestsPer30s = 150
			}
			if st.BigCommerce != nil && st.BigCommerce.WebhookHeader == "" {
				st.BigCommerce.WebhookHeader = "X-Webhook-Secret"
			}
		}
	}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

func (c *Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Settings.PollOverlap < 0 {
		bad("settings.pollOverlap", "must not be negative")
	}
	if c.Settings.ReconcileAfter < Duration(MinReconcileAfter) {
		bad("settings.reconcileAfter", "%s is shorter than %s (a shorter grace re-drives pushes still in flight)", c.Settings.ReconcileAfter.D(), MinReconcileAfter)
	}
	if v := c.Settings.VerifyAfter; v < 0 || v > Duration(15*time.Minute) {
		bad("settings.verifyAfter", "%s is not between 0 and 15m", v.D())
	}
	c.byAccount = map[string]*ShipStationAccount{}
	for i := range c.ShipStation {
		a := &c.ShipStation[i]
		f := fmt.Sprintf("shipstation[%d]", i)
		if !idRE.MatchString(a.ID) {
			bad(f+".id", "%q must be 1-64 letters, digits, '-' or '_'", a.ID)
		} else if c.byAccount[a.ID] != nil {
			bad(f+".id", "%q is declared twice", a.ID)
		}
		c.byAccount[a.ID] = a
		if a.CredentialsSecret == "" {
			bad(f+".credentialsSecret", "is required (the name of a secret with apiKey and apiSecret)")
		}
		if err := checkURL(a.BaseURL); err != nil {
			bad(f+".baseURL", "%v", err)
		}
		if a.RequestsPerMinute < 0 {
			bad(f+".requestsPerMinute", "must be positive")
		}
		rs, err := rules.ParseNode(a.rulesNode)
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("config: %s.%w", f, e))
		}
		a.Rules = rs
	}
	c.byStore = map[string]*Store{}
	for i := range c.Stores {
		s := &c.Stores[i]
		f := fmt.Sprintf("stores[%d]", i)
		if !idRE.MatchString(s.ID) {
			bad(f+".id", "%q must be 1-64 letters, digits, '-' or '_'", s.ID)
		} else if c.byStore[s.ID] != nil {
			bad(f+".id", "%q is declared twice", s.ID)
		}
		c.byStore[s.ID] = s
		if !s.Channel.Valid() {
			bad(f+".channel", "%q is not one of bigcommerce, amazon, ebay", s.Channel)
		}
		if s.CredentialsSecret == "" {
			bad(f+".credentialsSecret", "is required")
		}
		if s.BaseURL != "" {
			if err := checkURL(s.BaseURL); err != nil {
				bad(f+".baseURL", "%v", err)
			}
		}
		switch s.Channel {
		case order.BigCommerce:
			if s.BigCommerce == nil || s.BigCommerce.StoreHash == "" {
				bad(f+".bigcommerce.storeHash", "is required for a bigcommerce store")
			} else if s.BigCommerce.RequestsPer30s < 0 {
				bad(f+".bigcommerce.requestsPer30s", "must be positive")
			}
			if s.BigCommerce != nil {
				s.BigCommerce.Copies.validate(f+".bigcommerce.copies", bad)
			}
		case order.Amazon:
			c.validateAmazon(f+".amazon", s.Amazon, bad)
		case order.EBay:
			bad(f+".channel", "%q is not supported yet", s.Channel)
		}
		if s.Amazon != nil && s.Channel != order.Amazon {
			bad(f+".amazon", "only an amazon store takes amazon settings")
		}
		if s.BigCommerce != nil && s.BigCommerce.Copies != nil && s.Channel != order.BigCommerce {
			bad(f+".bigcommerce.copies", "only a bigcommerce store takes copies settings")
		}
		if s.ShipStation.Account == "" {
			bad(f+".shipstation.account", "is required")
		} else if c.byAccount[s.ShipStation.Account] == nil {
			bad(f+".shipstation.account", "%q is not a declared shipstation account", s.ShipStation.Account)
		}
		if len(s.Carriers) > 0 {
			m, err := carrier.Default().With(s.Carriers)
			if err != nil {
				bad(f+".carriers", "%v", err)
			}
			s.carriers = m
		}
		if s.ShipStation.StoreID < 0 {
			bad(f+".shipstation.storeId", "must be positive")
		}
	}
	if len(c.Stores) == 0 {
		bad("stores", "at least one store is required")
	}
	c.validateRuleStores(bad)
	return errors.Join(errs...)
}

// validateRuleStores checks that the store conditions of each account's
// rules name declared stores, and, where they ask for a store (equals,
// in), one whose orders go to that account: else the rule could never
// match.
func (c *Config) validateRuleStores(bad func(field, format string, args ...any)) {
	for i := range c.ShipStation {
		a := &c.ShipStation[i]
		for ri, r := range a.Rules {
			for ci, cond := range r.When {
				if cond.Field != rules.FieldStore || cond.Op == rules.OpContains || cond.Op == rules.OpNotContains {
					continue
				}
				for _, v := range cond.Values {
					f := fmt.Sprintf("shipstation[%d].rules[%d] %q: when[%d]", i, ri, r.Name, ci)
					var st *Store
					for si := range c.Stores {
						if strings.EqualFold(c.Stores[si].ID, strings.TrimSpace(v)) {
							st = &c.Stores[si]
						}
					}
					switch {
					case st == nil:
						bad(f, "store %q is not a declared store", v)
					case (cond.Op == rules.OpEquals || cond.Op == rules.OpIn) && st.ShipStation.Account != a.ID:
						bad(f, "store %q sends its orders to shipstation account %q, not %q: this rule never sees them", st.ID, st.ShipStation.Account, a.ID)
					}
				}
			}
		}
	}
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return []error{err}
}

var (
	sellerIDRE      = regexp.MustCompile(`^[A-Z0-9]{8,20}$`)
	marketplaceIDRE = regexp.MustCompile(`^[A-Z0-9]{8,20}$`)
)

func (c *Config) validateAmazon(f string, a *AmazonStore, bad func(field, format string, args ...any)) {
	if a == nil {
		bad(f, "is required for an amazon store (sellerId, marketplaceId)")
		return
	}
	if !sellerIDRE.MatchString(a.SellerID) {
		bad(f+".sellerId", "%q is not a merchant token (Seller Central → Settings → Account Info → Merchant Token)", a.SellerID)
	}
	if !marketplaceIDRE.MatchString(a.MarketplaceID) {
		bad(f+".marketplaceId", "%q is not a marketplace id (e.g. ATVPDKIKX0DER)", a.MarketplaceID)
	} else {
		for i := range c.Stores {
			o := &c.Stores[i]
			if o.Amazon != a && o.Channel == order.Amazon && o.Amazon != nil && o.Amazon.SellerID == a.SellerID && o.Amazon.MarketplaceID == a.MarketplaceID {
				bad(f+".marketplaceId", "seller %s has marketplace %s in store %q already (one store per marketplace)", a.SellerID, a.MarketplaceID, o.ID)
				break
			}
		}
	}
	if a.LWAURL != "" {
		if err := checkURL(a.LWAURL); err != nil {
			bad(f+".lwaURL", "%v", err)
		}
	}
	if a.ItemIdentifier != "sku" && a.ItemIdentifier != "asin" {
		bad(f+".itemIdentifier", "%q must be sku or asin", a.ItemIdentifier)
	}
	if len(a.CustomFields) > 3 {
		bad(f+".customFields", "at most 3 (ShipStation has customField1..3)")
	}
	for i, cf := range a.CustomFields {
		if !slices.Contains(AmazonCustomFieldSources, cf) {
			bad(fmt.Sprintf("%s.customFields[%d]", f, i), "%q is not one of %s", cf, strings.Join(AmazonCustomFieldSources[1:], ", "))
		}
	}
	if !slices.Contains(AmazonTaxTargets, a.TaxIDsTo) {
		bad(f+".taxIdsTo", "%q is not one of %s", a.TaxIDsTo, strings.Join(AmazonTaxTargets, ", "))
	} else if n, ok := strings.CutPrefix(a.TaxIDsTo, "customField"); ok {
		if i := int(n[0] - '1'); i < len(a.CustomFields) && a.CustomFields[i] != "" {
			bad(f+".taxIdsTo", "%s is already mapped by customFields[%d]", a.TaxIDsTo, i)
		}
	}
	if a.Confirm != ConfirmFirstOnly && a.Confirm != ConfirmEveryPackage {
		bad(f+".confirm", "%q must be %s or %s", a.Confirm, ConfirmFirstOnly, ConfirmEveryPackage)
	}
	if a.CatalogDimensions {
		bad(f+".catalogDimensions", "is not supported yet (package dimensions from the Catalog Items API); leave it off")
	}
	if a.AuthorizedOn != "" {
		if _, ok := a.Authorized(); !ok {
			bad(f+".authorizedOn", "%q is not a date (YYYY-MM-DD)", a.AuthorizedOn)
		}
	}
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q must be http(s)", raw)
	}
	if u.Host == "" || u.User != nil {
		return fmt.Errorf("%q must have a host and no user info", raw)
	}
	if strings.HasSuffix(u.Path, "/") && u.Path != "/" {
		return fmt.Errorf("%q must not end in /", raw)
	}
	return nil
}

// Store returns the store with id, or nil.
func (c *Config) Store(id string) *Store { return c.byStore[id] }

// Account returns the ShipStation account with id, or nil.
func (c *Config) Account(id string) *ShipStationAccount { return c.byAccount[id] }

// StoresOf returns the enabled stores of a channel.
func (c *Config) StoresOf(ch order.Channel) []*Store {
	var out []*Store
	for i := range c.Stores {
		if s := &c.Stores[i]; s.Channel == ch && s.IsEnabled() {
			out = append(out, s)
		}
	}
	return out
}

// Limit returns the seeded ShipStation budget of an account.
func (a *ShipStationAccount) Limit() ratelimit.Limit {
	return ratelimit.PerWindow(a.RequestsPerMinute, time.Minute)
}

// Secrets resolves secret names to their values.
type Secrets interface {
	// Get returns the secret's string (usually JSON). A missing secret is an
	// error that names it but never shows a value.
	Get(ctx context.Context, name string) (string, error)
}
