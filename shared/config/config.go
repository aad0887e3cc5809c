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
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
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
		case order.Amazon, order.EBay:
			bad(f+".channel", "%q is not supported yet", s.Channel)
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
	return errors.Join(errs...)
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
