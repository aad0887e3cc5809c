package sandbox

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Default credentials and limits used when Options leaves them empty.
const (
	// DefaultStoreHash is the BigCommerce store hash of the default store.
	DefaultStoreHash = "abc123xyz"
	// DefaultStoreID is the numeric BigCommerce store id sent in webhooks.
	DefaultStoreID = "1001234567"
	// DefaultBigCommerceToken is the X-Auth-Token accepted by the default store.
	DefaultBigCommerceToken = "sandbox-bc-token"
	// DefaultShipStationKey is the ShipStation API key accepted by default.
	DefaultShipStationKey = "sandbox-ss-key"
	// DefaultShipStationSecret is the ShipStation API secret accepted by default.
	DefaultShipStationSecret = "sandbox-ss-secret"
	// DefaultShipStationStoreID is the ShipStation storeId given to orders
	// created without advancedOptions.storeId (ShipStation uses the first
	// manual store).
	DefaultShipStationStoreID int64 = 100001

	// DefaultBigCommerceQuota is BigCommerce's Standard/Plus plan quota per window.
	DefaultBigCommerceQuota = 150
	// DefaultBigCommerceWindow is BigCommerce's rate-limit window.
	DefaultBigCommerceWindow = 30 * time.Second
	// DefaultShipStationQuota is ShipStation V1's quota per key pair and window.
	DefaultShipStationQuota = 40
	// DefaultShipStationWindow is ShipStation V1's rate-limit window.
	DefaultShipStationWindow = 60 * time.Second
)

// StoreConfig describes one simulated BigCommerce store.
type StoreConfig struct {
	// Hash is the store hash used in /stores/{hash}/... paths.
	Hash string `json:"hash"`
	// StoreID is the numeric store id (as a string) sent in webhook payloads.
	StoreID string `json:"store_id"`
	// Tokens are the X-Auth-Token values accepted for this store.
	Tokens []string `json:"tokens"`
}

// KeyPair is one ShipStation API key and secret (HTTP Basic user and password).
type KeyPair struct {
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// Channel is a BigCommerce sales channel as served by GET /v3/channels/{id}.
type Channel struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Platform string `json:"platform"` // bigcommerce, amazon, ebay, ...
	Type     string `json:"type"`     // storefront, marketplace, ...
	Status   string `json:"status"`   // active, connected, ...
}

// DefaultChannels are the channels every store has unless Options.Channels
// replaces them: 1 is the storefront, 3 an Amazon and 4 an eBay marketplace
// (channel 3 is Amazon as in api-contracts §6.1).
func DefaultChannels() []Channel {
	return []Channel{
		{ID: 1, Name: "Sandbox Storefront", Platform: "bigcommerce", Type: "storefront", Status: "active"},
		{ID: 3, Name: "Amazon US", Platform: "amazon", Type: "marketplace", Status: "connected"},
		{ID: 4, Name: "eBay US", Platform: "ebay", Type: "marketplace", Status: "connected"},
	}
}

// Options configures a Sandbox. The zero value is usable: one store
// (DefaultStoreHash / DefaultBigCommerceToken), one ShipStation key pair,
// the vendors' published rate limits and no faults.
type Options struct {
	// Seed seeds the random generators (order generator and fault rolls).
	// 0 means 1.
	Seed uint64
	// Now is the clock; nil means time.Now. Rate-limit windows, order dates
	// and created-at timestamps all use it.
	Now func() time.Time
	// TimeScale > 1 shortens the default rate-limit windows and webhook retry
	// delays by that factor (TimeScale 60 turns ShipStation's 60 s window into
	// 1 s). Explicit window options are not scaled.
	TimeScale float64

	// Stores are the BigCommerce stores; empty means one default store.
	Stores []StoreConfig
	// Channels are the sales channels of every store; nil means DefaultChannels.
	Channels []Channel
	// BigCommerceQuota is the number of requests per window and store (default 150).
	BigCommerceQuota int
	// BigCommerceWindow is the fixed window length (default 30 s / TimeScale).
	BigCommerceWindow time.Duration
	// BigCommerceFaults are the initial fault knobs of the BigCommerce server.
	BigCommerceFaults Faults

	// Webhooks are destinations registered at start (as if created with
	// POST /v3/hooks).
	Webhooks []WebhookDestination
	// WebhookSigningSecret, when set, makes every webhook carry Standard
	// Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)
	// unless the destination has its own SigningSecret.
	WebhookSigningSecret string
	// WebhookMaxAttempts bounds delivery attempts per webhook (default 4).
	WebhookMaxAttempts int
	// WebhookRetryDelay is the delay before the first retry, doubled for each
	// further retry (default 100 ms / TimeScale).
	WebhookRetryDelay time.Duration
	// WebhookTimeout is the HTTP timeout of one delivery (default 5 s).
	WebhookTimeout time.Duration
	// WebhookWorkers is the number of delivery goroutines (default 4).
	WebhookWorkers int

	// ShipStationKeys are the accepted key pairs; empty means the default pair.
	ShipStationKeys []KeyPair
	// ShipStationQuota is the number of requests per window and key pair (default 40).
	ShipStationQuota int
	// ShipStationWindow is the fixed window length (default 60 s / TimeScale).
	ShipStationWindow time.Duration
	// ShipStationFaults are the initial fault knobs of the ShipStation server.
	ShipStationFaults Faults
	// ShipStationDefaultStoreID is the storeId of orders created without one.
	ShipStationDefaultStoreID int64
	// SourceKey names the source order of a ShipStation order for duplicate
	// detection; "" means unknown. Nil means DefaultSourceKey. A key
	// declared with SetSourceKeyOf, and the link of a BigCommerce copy to
	// its marketplace order (its external_order_id), take precedence.
	SourceKey func(o *SSOrder) string
	// ShipStationBaseURL is the base URL of the ShipStation server as its
	// clients reach it (e.g. "http://127.0.0.1:4020"), used in SHIP_NOTIFY
	// resource_url. Empty means: learn it from the Host of the requests the
	// server receives (see SetShipStationBaseURL).
	ShipStationBaseURL string

	// WarehouseEnabled starts the warehouse goroutine, which ships orders
	// that have been awaiting_shipment for WarehouseDelay (see
	// SetWarehouseEnabled and WarehouseTick). Off by default.
	WarehouseEnabled bool
	// WarehouseDelay is how long an order waits in awaiting_shipment before
	// the warehouse ships it (default 2 s / TimeScale).
	WarehouseDelay time.Duration
	// WarehouseFaults are the warehouse's split/combine/void knobs.
	WarehouseFaults WarehouseFaults
	// WarehouseBatches labels everything one warehouse pass ships as one
	// batch with one SHIP_NOTIFY, as a warehouse printing labels in batches
	// does (default: one batch per order).
	WarehouseBatches bool
}

// Sandbox holds the simulated BigCommerce and ShipStation state. All methods
// are safe for concurrent use.
type Sandbox struct {
	opts Options
	now  func() time.Time

	genMu  sync.Mutex
	genRNG *rand.Rand

	bcFront *front
	ssFront *front
	bc      *bigCommerce
	ss      *shipStation
	hooks   *dispatcher // BigCommerce webhooks
	ssHooks *dispatcher // ShipStation webhooks (SHIP_NOTIFY)
	wh      *warehouseRunner

	bcHandler http.Handler
	ssHandler http.Handler

	closeOnce sync.Once
}

// New builds a Sandbox from opts, filling in defaults, and starts its webhook
// delivery goroutines (stop them with Close).
func New(opts Options) *Sandbox {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	scale := opts.TimeScale
	if scale <= 0 {
		scale = 1
	}
	scaled := func(d time.Duration) time.Duration {
		s := time.Duration(float64(d) / scale)
		if s < time.Millisecond {
			s = time.Millisecond
		}
		return s
	}
	if len(opts.Stores) == 0 {
		opts.Stores = []StoreConfig{{Hash: DefaultStoreHash, StoreID: DefaultStoreID, Tokens: []string{DefaultBigCommerceToken}}}
	}
	if opts.Channels == nil {
		opts.Channels = DefaultChannels()
	}
	if opts.BigCommerceQuota <= 0 {
		opts.BigCommerceQuota = DefaultBigCommerceQuota
	}
	if opts.BigCommerceWindow <= 0 {
		opts.BigCommerceWindow = scaled(DefaultBigCommerceWindow)
	}
	if opts.WebhookMaxAttempts <= 0 {
		opts.WebhookMaxAttempts = 4
	}
	if opts.WebhookRetryDelay <= 0 {
		opts.WebhookRetryDelay = scaled(100 * time.Millisecond)
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 5 * time.Second
	}
	if opts.WebhookWorkers <= 0 {
		opts.WebhookWorkers = 4
	}
	if len(opts.ShipStationKeys) == 0 {
		opts.ShipStationKeys = []KeyPair{{Key: DefaultShipStationKey, Secret: DefaultShipStationSecret}}
	}
	if opts.ShipStationQuota <= 0 {
		opts.ShipStationQuota = DefaultShipStationQuota
	}
	if opts.ShipStationWindow <= 0 {
		opts.ShipStationWindow = scaled(DefaultShipStationWindow)
	}
	if opts.ShipStationDefaultStoreID <= 0 {
		opts.ShipStationDefaultStoreID = DefaultShipStationStoreID
	}
	if opts.SourceKey == nil {
		opts.SourceKey = DefaultSourceKey
	}
	if opts.WarehouseDelay <= 0 {
		opts.WarehouseDelay = scaled(2 * time.Second)
	}

	s := &Sandbox{
		opts:   opts,
		now:    opts.Now,
		genRNG: rand.New(rand.NewPCG(opts.Seed, 0x6f72646572)), // "order"
	}
	s.bcFront = newFront("bigcommerce", opts.BigCommerceFaults, opts.Seed^0xbc, opts.BigCommerceQuota, opts.BigCommerceWindow)
	s.ssFront = newFront("shipstation", opts.ShipStationFaults, opts.Seed^0x55, opts.ShipStationQuota, opts.ShipStationWindow)
	s.hooks = newDispatcher(opts.WebhookWorkers, opts.WebhookMaxAttempts, opts.WebhookRetryDelay, opts.WebhookTimeout)
	s.ssHooks = newDispatcher(opts.WebhookWorkers, opts.WebhookMaxAttempts, opts.WebhookRetryDelay, opts.WebhookTimeout)
	s.wh = &warehouseRunner{done: make(chan struct{})}
	s.bc = newBigCommerce(s)
	s.ss = newShipStation(s)
	for _, d := range opts.Webhooks {
		// Invalid destinations in Options are a programming error of the
		// caller; they are skipped rather than panicking.
		_, _ = s.AddWebhook(d)
	}
	s.bcHandler = s.bc.handler()
	s.ssHandler = s.ss.handler()
	if opts.WarehouseEnabled {
		s.startWarehouse()
	}
	return s
}

// BigCommerce returns the handler of the simulated BigCommerce API
// (/stores/{hash}/v2/..., /stores/{hash}/v3/... and /_sandbox/...).
func (s *Sandbox) BigCommerce() http.Handler { return s.bcHandler }

// ShipStation returns the handler of the simulated ShipStation V1 API
// (/orders/..., /shipments, /webhooks/... and /_sandbox/...).
func (s *Sandbox) ShipStation() http.Handler { return s.ssHandler }

// Close stops the warehouse and the webhook delivery goroutines; queued
// webhooks are abandoned. It is safe to call more than once.
func (s *Sandbox) Close() {
	s.closeOnce.Do(func() {
		s.stopWarehouse()
		s.hooks.close()
		s.ssHooks.close()
	})
}

// DefaultStoreHash returns the hash of the first configured BigCommerce store.
func (s *Sandbox) DefaultStoreHash() string { return s.opts.Stores[0].Hash }

// Stores returns the configured BigCommerce stores.
func (s *Sandbox) Stores() []StoreConfig {
	out := make([]StoreConfig, len(s.opts.Stores))
	copy(out, s.opts.Stores)
	return out
}

// ShipStationKeys returns the accepted ShipStation key pairs.
func (s *Sandbox) ShipStationKeys() []KeyPair {
	out := make([]KeyPair, len(s.opts.ShipStationKeys))
	copy(out, s.opts.ShipStationKeys)
	return out
}

// SetBigCommerceFaults replaces the fault knobs of the BigCommerce server
// (including webhook drop/duplicate rates).
func (s *Sandbox) SetBigCommerceFaults(f Faults) { s.bcFront.setFaults(f) }

// BigCommerceFaults returns the current fault knobs of the BigCommerce server.
func (s *Sandbox) BigCommerceFaults() Faults { return s.bcFront.getFaults() }

// SetShipStationFaults replaces the fault knobs of the ShipStation server.
func (s *Sandbox) SetShipStationFaults(f Faults) { s.ssFront.setFaults(f) }

// ShipStationFaults returns the current fault knobs of the ShipStation server.
func (s *Sandbox) ShipStationFaults() Faults { return s.ssFront.getFaults() }

// SetBigCommerceRateLimit changes the per-store quota and window; counters restart.
func (s *Sandbox) SetBigCommerceRateLimit(quota int, window time.Duration) {
	s.bcFront.limiter.configure(quota, window)
}

// SetShipStationRateLimit changes the per-key-pair quota and window; counters restart.
func (s *Sandbox) SetShipStationRateLimit(quota int, window time.Duration) {
	s.ssFront.limiter.configure(quota, window)
}

// ResetRateLimits empties every rate-limit window of both servers.
func (s *Sandbox) ResetRateLimits() {
	s.bcFront.limiter.reset()
	s.ssFront.limiter.reset()
}

// Stats is the snapshot returned by Sandbox.Stats and GET /_sandbox/stats.
type Stats struct {
	BigCommerce BigCommerceStats `json:"bigcommerce"`
	ShipStation ShipStationStats `json:"shipstation"`
}

// BigCommerceStats are the counters of the BigCommerce server.
type BigCommerceStats struct {
	ServerStats
	// Orders is the number of orders in all stores.
	Orders int `json:"orders"`
	// Shipments is the number of shipments created through the API.
	Shipments int `json:"shipments"`
	// Webhooks counts webhook deliveries.
	Webhooks WebhookStats `json:"webhooks"`
}

// ShipStationStats are the counters of the ShipStation server.
type ShipStationStats struct {
	ServerStats
	// Orders is the number of orders stored (one per orderKey).
	Orders int `json:"orders"`
	// Created counts orders created by createorder(s).
	Created int64 `json:"created"`
	// Updated counts successful upserts of an existing orderKey.
	Updated int64 `json:"updated"`
	// Rejected counts orders refused with success:false or a 400.
	Rejected int64 `json:"rejected"`
	// Duplicates is DuplicatesByOrderNumber + DuplicatesBySource; it must stay
	// 0 in a correct system.
	Duplicates int `json:"duplicates"`
	// DuplicatesByOrderNumber counts orders sharing orderNumber and storeId
	// with an earlier order; cancelled orders do not count (the warehouse
	// never ships them).
	DuplicatesByOrderNumber int `json:"duplicates_by_order_number"`
	// DuplicatesBySource counts orders sharing a source order (SourceKey:
	// a marketplace order and its BigCommerce copies) with an earlier
	// order; cancelled orders do not count.
	DuplicatesBySource int `json:"duplicates_by_source"`
	// Shipments is the number of labels stored, voided ones included.
	Shipments int `json:"shipments"`
	// ShipmentsCreated counts labels created (relabels included).
	ShipmentsCreated int64 `json:"shipments_created"`
	// ShipmentsVoided counts labels voided.
	ShipmentsVoided int64 `json:"shipments_voided"`
	// Batches counts label batches (one SHIP_NOTIFY per subscription each).
	Batches int64 `json:"batches"`
	// WebhookSubscriptions is the number of V1 webhook subscriptions.
	WebhookSubscriptions int `json:"webhook_subscriptions"`
	// Webhooks counts SHIP_NOTIFY / ITEM_SHIP_NOTIFY deliveries: sent,
	// dropped and duplicated by the fault knobs, failed, pending.
	Webhooks WebhookStats `json:"webhooks"`
}

// Stats returns a snapshot of all counters.
func (s *Sandbox) Stats() Stats {
	var st Stats
	st.BigCommerce.ServerStats = s.bcFront.stats()
	st.BigCommerce.Orders, st.BigCommerce.Shipments = s.bc.counts()
	st.BigCommerce.Webhooks = s.hooks.snapshot()
	st.ShipStation.ServerStats = s.ssFront.stats()
	s.ss.fillStats(&st.ShipStation)
	st.ShipStation.Webhooks = s.ssHooks.snapshot()
	return st
}
