package sandbox

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Marketplace copies.
//
// A merchant who lists on Amazon or eBay through BigCommerce's channel tools
// sees every marketplace order twice: once at the marketplace (which the hub
// imports directly, e.g. from the SP-API) and once as a *copy* in the
// BigCommerce store, on the marketplace's sales channel. The functions below
// create such copies in the simulated store:
//
//   - MirrorAmazonOrder copies an AmazonOrder of the Amazon simulator;
//     MirrorMarketplaceOrder copies any MarketplaceOrder (GenerateEBayOrder
//     makes eBay ones, a marketplace the hub does not import yet).
//   - RecreateCopy and RecreateCopyCreateFirst simulate the channel tools
//     cancelling a copy and creating it again under a new BigCommerce id
//     (same external ids), in either order of the two events.
//   - CancelCopies cancels the copies when the marketplace order is
//     cancelled; CopiesOf lists the copies of a marketplace order.
//   - Mirror plans and runs all of this for a stream of Amazon orders, for a
//     demo: copy before or after the hub hears of the marketplace order,
//     recreate some copies later.
//
// What a copy looks like is the sandbox's own simulation: BigCommerce does
// not document the values its connectors (Channel Manager, Feedonomics,
// third-party listers) write into order_source, external_source or
// staff_notes (api-contracts §4.3). The sandbox writes:
//
//	channel_id         the store's channel whose platform is the marketplace
//	                   (3 for Amazon, 4 for eBay with DefaultChannels)
//	order_source       "external" (CopyOrderSource)
//	external_source    the platform, "amazon" or "ebay"
//	external_id,
//	external_order_id  the marketplace order id
//	ebay_order_id      the eBay order id on eBay copies, else "0"
//	staff_notes        "Amazon Order <id>" / "eBay Order <id>"
//	payment_method     "Amazon" / "eBay"
//	status_id          11 (Awaiting Fulfillment)
//
// and the marketplace order's SKUs, titles, quantities, unit prices (tax
// and shipping are the marketplace's business: no tax, shipping as the
// marketplace order says), currency and ship-to address. The billing
// address is the ship-to address with the buyer's name and e-mail, as
// marketplaces give no billing address. A hub must find copies by
// channel_id / external_order_id / ebay_order_id, never by these strings.

// CopyOrderSource is the order_source of every copy the sandbox makes.
const CopyOrderSource = "external"

// ErrNotACopy is returned by RecreateCopy for an order that cannot be
// recreated (no external order id, cancelled, shipped, ...).
var ErrNotACopy = errors.New("sandbox: not a recreatable marketplace copy")

// MarketplaceItem is one line of a MarketplaceOrder.
type MarketplaceItem struct {
	SKU   string `json:"sku"`
	Title string `json:"title"`
	// Quantity is at least 1.
	Quantity int `json:"quantity"`
	// UnitPriceCents is the unit price in hundredths of the order's
	// currency, also for currencies without minor units (JPY 1500 is
	// 150000), as BigCommerce renders every amount with 4 decimals.
	UnitPriceCents int64 `json:"unit_price_cents"`
}

// MarketplaceOrder is a marketplace order as a channel connector copies it
// into BigCommerce: enough to build the copy, nothing more.
type MarketplaceOrder struct {
	// Platform is the channel platform: "amazon", "ebay" (any Platform of
	// the store's Channels).
	Platform string `json:"platform"`
	// OrderID is the marketplace's order id: "113-4567890-1234567" on
	// Amazon, "12-34567-89012" on eBay.
	OrderID string `json:"order_id"`
	// Currency is an ISO 4217 code; "" means USD.
	Currency string `json:"currency"`
	// BuyerName and BuyerEmail go to the billing address; empty ones are
	// taken from ShipTo.
	BuyerName  string `json:"buyer_name"`
	BuyerEmail string `json:"buyer_email"`
	// ShipTo is the delivery address (names, street, phone are PII).
	ShipTo            Address           `json:"ship_to"`
	ShippingMethod    string            `json:"shipping_method"`
	ShippingCostCents int64             `json:"shipping_cost_cents"`
	Items             []MarketplaceItem `json:"items"`
}

// platformLabels are the display names of marketplace platforms.
var platformLabels = map[string]string{"amazon": "Amazon", "ebay": "eBay", "walmart": "Walmart"}

func platformLabel(p string) string {
	if l, ok := platformLabels[p]; ok {
		return l
	}
	if p == "" {
		return ""
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// countryNames are BigCommerce's country names of the ISO codes the
// simulators produce.
var countryNames = map[string]string{
	"US": "United States", "CA": "Canada", "GB": "United Kingdom", "IE": "Ireland", "DE": "Germany",
	"FR": "France", "AT": "Austria", "JP": "Japan", "AU": "Australia",
}

// MarketplaceOrderFromAmazon converts an Amazon order to the form a copy is
// made from: SellerSKU, Title, Quantity and UnitPrice of each item; the
// delivery address (name split at its first space into first and last
// name, companyName, address lines, city, stateOrRegion, postalCode,
// countryCode, phone); the buyer's name and e-mail; the currency; the
// service level as shipping method ("SECOND_DAY" → "Second Day"), no
// shipping cost (the order model has none). An unparseable unit price is
// an error.
func MarketplaceOrderFromAmazon(o AmazonOrder) (MarketplaceOrder, error) {
	m := MarketplaceOrder{
		Platform:       "amazon",
		OrderID:        o.OrderID,
		Currency:       o.Currency,
		BuyerName:      o.Buyer.Name,
		BuyerEmail:     o.Buyer.Email,
		ShipTo:         amazonToBCAddress(o.Address),
		ShippingMethod: serviceLevelName(o.ServiceLevel),
	}
	m.ShipTo.Email = o.Buyer.Email
	for i, it := range o.Items {
		price := strings.TrimSpace(it.UnitPrice)
		if price == "" {
			price = "0"
		}
		cents, err := parseMoneyCents(price)
		if err != nil || cents < 0 {
			return MarketplaceOrder{}, fmt.Errorf("sandbox: Amazon order %s item %d: bad unit price %q", o.OrderID, i, it.UnitPrice)
		}
		title := it.Title
		if strings.TrimSpace(title) == "" {
			title = it.SellerSKU
		}
		m.Items = append(m.Items, MarketplaceItem{SKU: it.SellerSKU, Title: title, Quantity: it.Quantity, UnitPriceCents: cents})
	}
	return m, nil
}

func amazonToBCAddress(a AmazonAddress) Address {
	first, last, _ := strings.Cut(strings.TrimSpace(a.Name), " ")
	name := countryNames[a.CountryCode]
	if name == "" {
		name = a.CountryCode
	}
	return Address{
		FirstName: first, LastName: last, Company: a.CompanyName,
		Street1: a.AddressLine1, Street2: a.AddressLine2, City: a.City, State: a.StateOrRegion,
		Zip: a.PostalCode, Country: name, CountryISO2: a.CountryCode, Phone: a.Phone,
	}
}

// serviceLevelName turns "SECOND_DAY" into "Second Day".
func serviceLevelName(level string) string {
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(level, "_", " ")))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return "Standard"
	}
	return strings.Join(words, " ")
}

// MirrorAmazonOrder creates in the store storeHash ("" for the default
// store) the BigCommerce copy of an Amazon order (see the file comment for
// the fields; channel: the store's "amazon" channel, 3 by default) and
// fires store/order/created. The copy is made as the order is given: call
// it with the order's current state (Amazon.Order). A CANCELLED order is
// not copied (an error): connectors do not import cancelled orders.
func (s *Sandbox) MirrorAmazonOrder(storeHash string, o AmazonOrder) (BCOrder, error) {
	if o.Status == AmazonCancelled {
		return BCOrder{}, fmt.Errorf("sandbox: Amazon order %s is cancelled; no copy", o.OrderID)
	}
	m, err := MarketplaceOrderFromAmazon(o)
	if err != nil {
		return BCOrder{}, err
	}
	return s.MirrorMarketplaceOrder(storeHash, m)
}

// MirrorMarketplaceOrder creates in the store storeHash ("" for the
// default store) the BigCommerce copy of a marketplace order, on the
// store's channel whose platform is m.Platform (an error if there is
// none), and fires store/order/created. See the file comment for the
// fields written.
func (s *Sandbox) MirrorMarketplaceOrder(storeHash string, m MarketplaceOrder) (BCOrder, error) {
	spec, err := s.copySpec(storeHash, m)
	if err != nil {
		return BCOrder{}, err
	}
	return s.CreateOrder(spec)
}

// marketplaceChannel returns the channel of a platform: the first channel
// of that platform of type marketplace, else the first of that platform.
func (s *Sandbox) marketplaceChannel(platform string) (Channel, bool) {
	var found *Channel
	for i, c := range s.opts.Channels {
		if !strings.EqualFold(c.Platform, platform) {
			continue
		}
		if c.Type == "marketplace" {
			return c, true
		}
		if found == nil {
			found = &s.opts.Channels[i]
		}
	}
	if found != nil {
		return *found, true
	}
	return Channel{}, false
}

func (s *Sandbox) copySpec(storeHash string, m MarketplaceOrder) (OrderSpec, error) {
	platform := strings.ToLower(strings.TrimSpace(m.Platform))
	if platform == "" || platform == "bigcommerce" {
		return OrderSpec{}, fmt.Errorf("sandbox: marketplace copy needs a marketplace platform, not %q", m.Platform)
	}
	if strings.TrimSpace(m.OrderID) == "" {
		return OrderSpec{}, errors.New("sandbox: marketplace copy needs an order id")
	}
	if len(m.Items) == 0 {
		return OrderSpec{}, fmt.Errorf("sandbox: %s order %s has no items", platform, m.OrderID)
	}
	ch, ok := s.marketplaceChannel(platform)
	if !ok {
		return OrderSpec{}, fmt.Errorf("sandbox: the store has no %s channel", platform)
	}
	label := platformLabel(platform)
	billing := m.ShipTo
	if name := strings.TrimSpace(m.BuyerName); name != "" {
		billing.FirstName, billing.LastName, _ = strings.Cut(name, " ")
	}
	if m.BuyerEmail != "" {
		billing.Email = m.BuyerEmail
	}
	method := m.ShippingMethod
	if method == "" {
		method = "Standard"
	}
	spec := OrderSpec{
		StoreHash:         storeHash,
		StatusID:          StatusAwaitingFulfillment,
		ChannelID:         ch.ID,
		OrderSource:       CopyOrderSource,
		ExternalSource:    platform,
		ExternalID:        m.OrderID,
		ExternalOrderID:   m.OrderID,
		EbayOrderID:       "0",
		StaffNotes:        label + " Order " + m.OrderID,
		PaymentMethod:     label,
		CurrencyCode:      m.Currency,
		Billing:           billing,
		ShippingAddresses: []ShippingAddress{{Address: m.ShipTo, ShippingMethod: method, ShippingCostCents: m.ShippingCostCents}},
	}
	if platform == "ebay" {
		spec.EbayOrderID = m.OrderID
	}
	for _, it := range m.Items {
		name := it.Title
		if strings.TrimSpace(name) == "" {
			name = it.SKU
		}
		spec.Lines = append(spec.Lines, LineSpec{Name: name, SKU: it.SKU, Type: "physical", Quantity: it.Quantity, UnitPriceCents: it.UnitPriceCents})
	}
	return spec, nil
}

// GenerateEBayOrder makes a random eBay order with the sandbox's seeded
// generator (it does not store anything: pass it to
// MirrorMarketplaceOrder). The order id has eBay's "12-34567-89012" form;
// one to three catalog items; a US ship-to address whose names, street,
// phone and e-mail carry a PII token, as GenerateOrder's do; USD.
func (s *Sandbox) GenerateEBayOrder() MarketplaceOrder {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return generateEBayOrder(s.genRNG)
}

func generateEBayOrder(rng *rand.Rand) MarketplaceOrder {
	tok := piiToken(rng)
	var us []place
	for _, p := range places {
		if p.iso2 == "US" {
			us = append(us, p)
		}
	}
	addr := fakeAddress(rng, tok, pick(rng, us))
	addr.Company = ""
	m := MarketplaceOrder{
		Platform:          "ebay",
		OrderID:           fmt.Sprintf("%02d-%05d-%05d", 10+rng.IntN(90), rng.IntN(100000), rng.IntN(100000)),
		Currency:          "USD",
		BuyerName:         addr.FirstName + " " + addr.LastName,
		BuyerEmail:        addr.Email,
		ShipTo:            addr,
		ShippingMethod:    pick(rng, []string{"USPS Ground Advantage", "UPS Ground", "eBay Standard Envelope"}),
		ShippingCostCents: pick(rng, []int64{0, 499, 799}),
	}
	physical := catalog[:len(catalog)-2]
	n := 1 + rng.IntN(3)
	for range n {
		item := pick(rng, physical)
		m.Items = append(m.Items, MarketplaceItem{SKU: item.sku, Title: item.name, Quantity: 1 + rng.IntN(2), UnitPriceCents: item.price})
	}
	return m
}

// RecreateCopy simulates BigCommerce's channel tools re-importing a copy:
// order id is cancelled (status_id 5, firing store/order/updated and
// store/order/statusUpdated as SetOrderStatus does), then a new order with
// the same content is created (new id, new order address and order
// product ids, date_created now; same channel, external ids, staff notes,
// lines, prices, addresses and status as the old order had before the
// cancellation) and store/order/created fires. Both happen under one lock,
// so nobody sees a state in between, but the webhooks are the two
// events in that order: cancel first, then create. RecreateCopyCreateFirst
// is the other order. The new order is returned.
//
// Only a live copy can be recreated: one with an external_order_id (or an
// ebay_order_id), not deleted, not Cancelled, Refunded or Declined, with
// nothing shipped; anything else is ErrNotACopy.
func (s *Sandbox) RecreateCopy(storeHash string, id int) (BCOrder, error) {
	return s.recreateCopy(storeHash, id, false)
}

// RecreateCopyCreateFirst is RecreateCopy with the two events the other way
// round: the new copy is created (store/order/created) before the old one
// is cancelled (store/order/updated, store/order/statusUpdated). A hub then
// briefly sees two live copies of one marketplace order.
func (s *Sandbox) RecreateCopyCreateFirst(storeHash string, id int) (BCOrder, error) {
	return s.recreateCopy(storeHash, id, true)
}

func (s *Sandbox) recreateCopy(storeHash string, id int, createFirst bool) (BCOrder, error) {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, o, err := b.orderLocked(storeHash, id)
	if err != nil {
		return BCOrder{}, err
	}
	switch {
	case o.ExternalOrderID == "" && (o.EbayOrderID == "" || o.EbayOrderID == "0"):
		return BCOrder{}, fmt.Errorf("%w: order %d has no external order id", ErrNotACopy, id)
	case o.IsDeleted:
		return BCOrder{}, fmt.Errorf("%w: order %d is deleted", ErrNotACopy, id)
	case o.StatusID == StatusCancelled || o.StatusID == StatusRefunded || o.StatusID == StatusDeclined:
		return BCOrder{}, fmt.Errorf("%w: order %d is %s", ErrNotACopy, id, o.StatusName())
	case o.ItemsShipped() > 0 || len(st.shipped[id]) > 0:
		return BCOrder{}, fmt.Errorf("%w: order %d has shipments", ErrNotACopy, id)
	}
	src := o.clone()
	cancel := func() {
		c := o.clone()
		c.StatusID = StatusCancelled
		b.applyUpdate(st, o, c)
	}
	var n *BCOrder
	if createFirst {
		n = b.insertCopy(st, src)
		cancel()
	} else {
		cancel()
		n = b.insertCopy(st, src)
	}
	return n.clone(), nil
}

// insertCopy stores a new order with src's content under new ids and fires
// store/order/created. Caller holds b.mu.
func (b *bigCommerce) insertCopy(st *bcStore, src BCOrder) *BCOrder {
	n := src.clone()
	now := b.nowSecond()
	n.ID = st.next("order", 100)
	n.DateCreated, n.DateModified, n.DateShipped = now, now, time.Time{}
	n.IsDeleted = false
	n.CartID = fmt.Sprintf("5a1e%04x-7c3b-4d2e-9f10-%012x", n.ID%0xffff, n.ID)
	n.IPAddress = fmt.Sprintf("203.0.113.%d", n.ID%250+1)
	addrIDs := map[int]int{}
	for i := range n.ShippingAddresses {
		nid := st.next("address", 1)
		addrIDs[n.ShippingAddresses[i].ID] = nid
		n.ShippingAddresses[i].ID = nid
	}
	for i := range n.Lines {
		l := &n.Lines[i]
		l.ID = st.next("product", 1)
		if l.OrderAddressID != 0 {
			l.OrderAddressID = addrIDs[l.OrderAddressID]
		}
		l.QuantityShipped, l.QuantityRefunded = 0, 0
		for j := range l.Options {
			l.Options[j].ID = st.next("option", 1)
		}
	}
	st.orders[n.ID] = &n
	st.ids = append(st.ids, n.ID)
	b.emit(st, "store/order/created", orderEvent{Type: "order", ID: n.ID})
	return &n
}

// CopiesOf returns the orders of the store storeHash ("" for the default
// store) whose external_order_id is marketplaceOrderID: every copy,
// cancelled and recreated ones included, by ascending id (so the live copy,
// if any, is normally the last).
func (s *Sandbox) CopiesOf(storeHash, marketplaceOrderID string) []BCOrder {
	if marketplaceOrderID == "" {
		return nil
	}
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil {
		return nil
	}
	var out []BCOrder
	for _, id := range st.ids {
		if o := st.orders[id]; o.ExternalOrderID == marketplaceOrderID {
			out = append(out, o.clone())
		}
	}
	return out
}

// CancelCopies cancels (status_id 5, with the usual webhooks) every copy of
// a marketplace order that is not cancelled yet, as the channel tools do
// when the marketplace order is cancelled, and returns the cancelled
// copies. Copies that have shipped something are left alone.
func (s *Sandbox) CancelCopies(storeHash, marketplaceOrderID string) ([]BCOrder, error) {
	if marketplaceOrderID == "" {
		return nil, errors.New("sandbox: CancelCopies needs a marketplace order id")
	}
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil {
		return nil, err
	}
	var out []BCOrder
	for _, id := range st.ids {
		o := st.orders[id]
		if o.ExternalOrderID != marketplaceOrderID || o.IsDeleted || o.StatusID == StatusCancelled || o.ItemsShipped() > 0 {
			continue
		}
		c := o.clone()
		c.StatusID = StatusCancelled
		b.applyUpdate(st, o, c)
		out = append(out, o.clone())
	}
	return out, nil
}

// ---- Duplicate detection: the origin of copies ----

// copyIndex is a snapshot of the marketplace origin of every BigCommerce
// copy, for ShipStation's duplicate report.
type copyIndex struct {
	// keys maps store hash → order id → "<platform>:<marketplace order id>".
	keys map[string]map[int]string
	// stores maps store hashes and store ids to store hashes.
	stores map[string]string
	// only is the store hash when the sandbox has exactly one store.
	only string
}

// copyIndex snapshots the copies: orders on a channel whose platform is
// not bigcommerce, with an external_order_id (or an ebay_order_id).
func (b *bigCommerce) copyIndex() copyIndex {
	b.mu.Lock()
	defer b.mu.Unlock()
	ix := copyIndex{keys: map[string]map[int]string{}, stores: map[string]string{}}
	for hash, st := range b.stores {
		ix.stores[hash] = hash
		if st.cfg.StoreID != "" {
			ix.stores[st.cfg.StoreID] = hash
		}
		for _, o := range st.orders {
			platform := strings.ToLower(b.channels[o.ChannelID].Platform)
			if platform == "" || platform == "bigcommerce" {
				continue
			}
			id := o.ExternalOrderID
			if id == "" && o.EbayOrderID != "0" {
				id = o.EbayOrderID
			}
			if id == "" {
				continue
			}
			if ix.keys[hash] == nil {
				ix.keys[hash] = map[int]string{}
			}
			ix.keys[hash][o.ID] = platform + ":" + id
		}
	}
	if len(b.stores) == 1 {
		for hash := range b.stores {
			ix.only = hash
		}
	}
	return ix
}

// sourceOf returns the marketplace origin of a ShipStation order made from
// a BigCommerce copy, "" if o is not one. The BigCommerce order is named
// by orderKey "bigcommerce:<store>:<orderId>[/<group>]" (shiprelay's
// order identity), else by advancedOptions.source "bigcommerce" with
// customField1 = the order id (api-contracts §6.2). <store> is resolved
// as a store hash or store id, else, when the sandbox has one store only,
// as that store; a ship-group suffix is kept ("amazon:<id>/<group>").
func (ix copyIndex) sourceOf(o *SSOrder) string {
	if len(ix.keys) == 0 {
		return ""
	}
	var store, ref, group string
	if rest, ok := cutPrefixFold(o.OrderKey, "bigcommerce:"); ok {
		if s, r, ok := strings.Cut(rest, ":"); ok {
			store, ref = s, r
		} else {
			ref = rest
		}
		ref, group, _ = strings.Cut(ref, "/")
	} else if a := o.AdvancedOptions; a != nil && a.Source != nil && strings.EqualFold(*a.Source, "bigcommerce") && a.CustomField1 != nil {
		ref = *a.CustomField1
	} else {
		return ""
	}
	id, err := strconv.Atoi(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	hash, ok := ix.stores[store]
	if !ok {
		hash = ix.only
	}
	key := ix.keys[hash][id]
	if key != "" && group != "" {
		key += "/" + group
	}
	return key
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// ---- Mirror: copies for a stream of Amazon orders ----

// MirrorOptions configure a Mirror.
type MirrorOptions struct {
	// StoreHash is the BigCommerce store that receives the copies; ""
	// means the default store.
	StoreHash string
	// CopyBeforeShare is the fraction of orders whose copy is created
	// before the marketplace order is made visible to the hub (0 to 1);
	// the others get theirs after.
	CopyBeforeShare float64
	// RecreateShare is the fraction of copies that the channel tools
	// later cancel and create again under a new id.
	RecreateShare float64
	// CreateFirstShare is the fraction of those recreations that create
	// the new copy before cancelling the old one
	// (RecreateCopyCreateFirst); the others cancel first (RecreateCopy).
	CreateFirstShare float64
	// Seed seeds the plans; 0 means 1.
	Seed uint64
}

// MirrorPlan is what a Mirror does with one marketplace order.
type MirrorPlan struct {
	OrderID string `json:"order_id"`
	// CopyBefore: the copy is created before the marketplace order is
	// made visible to the hub (Mirror.BeforeVisible), else after it
	// (Mirror.AfterVisible).
	CopyBefore bool `json:"copy_before"`
	// Recreate: the copy is later cancelled and created again
	// (Mirror.Recreate).
	Recreate bool `json:"recreate"`
	// CreateFirst: the recreation creates the new copy before cancelling
	// the old one. Only meaningful with Recreate.
	CreateFirst bool `json:"create_first"`
}

// MirrorStats count what a Mirror did.
type MirrorStats struct {
	// Copies counts copies created (recreations not included).
	Copies int `json:"copies"`
	// Recreated counts copies cancelled and created again.
	Recreated int `json:"recreated"`
	// Cancelled counts copies cancelled because their marketplace order was.
	Cancelled int `json:"cancelled"`
	// Skipped counts orders not copied because they were cancelled before
	// their copy was due.
	Skipped int `json:"skipped"`
}

type mirrorState struct {
	copied, recreated, skipped, cancelled bool
}

// Mirror plays BigCommerce's channel tools for the orders of an Amazon
// simulator: it copies each Amazon order into a BigCommerce store of a
// Sandbox, sometimes before and sometimes after the hub learns of the
// Amazon order, recreates some copies later, and cancels the copies of
// cancelled Amazon orders. It decides nothing about time: a demo calls its
// steps at the right moments.
//
// Intended use, for each Amazon order a demo creates:
//
//	ao := az.GenerateOrder(spec)    // its ORDER_CHANGE is queued, not delivered yet
//	plan, err := m.BeforeVisible(ao) // copy now if plan.CopyBefore
//	... deliver the order's notification to the hub (DrainOrderChanges / the pump)
//	err = m.AfterVisible(ao.OrderID) // copy now if not copied yet
//	... some time later, if plan.Recreate:
//	_, _, err = m.Recreate(ao.OrderID)
//	... after az.CancelOrder(ao.OrderID), or periodically:
//	_, err = m.SyncCancellations()
//
// "Before" only holds if BeforeVisible runs before the notification is
// delivered: with a pump that drains the queue on its own, the copy races
// the pump (a demo that needs the order strictly drains by hand). Amazon's
// poll cannot see an order for its first two minutes (SearchLag), so it
// does not spoil the order.
//
// Plans are a function of the seed and the order id only (each order's
// draws come from a generator seeded with Seed and a hash of its id), so a
// run is reproducible whatever the order and concurrency of the calls. All
// methods are safe for concurrent use.
type Mirror struct {
	sb   *Sandbox
	az   *Amazon
	opts MirrorOptions

	mu    sync.Mutex
	state map[string]*mirrorState
	stats MirrorStats
}

// NewMirror returns a Mirror copying az's orders into sb's store
// opts.StoreHash. az may be nil if only BeforeVisible and Plan are used.
func NewMirror(sb *Sandbox, az *Amazon, opts MirrorOptions) *Mirror {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	return &Mirror{sb: sb, az: az, opts: opts, state: map[string]*mirrorState{}}
}

// Plan says what the Mirror does with o: a pure function of the seed and
// o.OrderID.
func (m *Mirror) Plan(o AmazonOrder) MirrorPlan { return m.planFor(o.OrderID) }

func (m *Mirror) planFor(orderID string) MirrorPlan {
	h := fnv.New64a()
	_, _ = h.Write([]byte(orderID))
	rng := rand.New(rand.NewPCG(m.opts.Seed, h.Sum64()))
	before, recreate, createFirst := rng.Float64(), rng.Float64(), rng.Float64()
	p := MirrorPlan{
		OrderID:    orderID,
		CopyBefore: before < m.opts.CopyBeforeShare,
		Recreate:   recreate < m.opts.RecreateShare,
	}
	p.CreateFirst = p.Recreate && createFirst < m.opts.CreateFirstShare
	return p
}

func (m *Mirror) stateOf(orderID string) *mirrorState {
	st := m.state[orderID]
	if st == nil {
		st = &mirrorState{}
		m.state[orderID] = st
	}
	return st
}

// Copy creates o's copy unless the Mirror made one already, and returns
// the copy (the live one, or the latest if all are cancelled). A CANCELLED
// order is not copied: it is counted as skipped and the result is the
// zero BCOrder with ok false.
func (m *Mirror) Copy(o AmazonOrder) (BCOrder, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.copyLocked(o)
}

func (m *Mirror) copyLocked(o AmazonOrder) (BCOrder, bool, error) {
	st := m.stateOf(o.OrderID)
	if st.copied {
		c, ok := m.latestCopy(o.OrderID)
		return c, ok, nil
	}
	if o.Status == AmazonCancelled {
		if !st.skipped {
			st.skipped = true
			m.stats.Skipped++
		}
		return BCOrder{}, false, nil
	}
	c, err := m.sb.MirrorAmazonOrder(m.opts.StoreHash, o)
	if err != nil {
		return BCOrder{}, false, err
	}
	st.copied = true
	m.stats.Copies++
	return c, true, nil
}

// latestCopy is the live copy of an order, else its newest copy.
func (m *Mirror) latestCopy(orderID string) (BCOrder, bool) {
	copies := m.sb.CopiesOf(m.opts.StoreHash, orderID)
	for i := len(copies) - 1; i >= 0; i-- {
		if copies[i].StatusID != StatusCancelled {
			return copies[i], true
		}
	}
	if len(copies) > 0 {
		return copies[len(copies)-1], true
	}
	return BCOrder{}, false
}

// BeforeVisible is the step run right after the Amazon order o is created,
// before the hub can learn of it: it returns o's plan and, when the plan
// says CopyBefore, creates the copy.
func (m *Mirror) BeforeVisible(o AmazonOrder) (MirrorPlan, error) {
	p := m.planFor(o.OrderID)
	if !p.CopyBefore {
		return p, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _, err := m.copyLocked(o)
	return p, err
}

// AfterVisible is the step run once the hub has been told of the Amazon
// order (its notification delivered): it creates the copy from the order's
// current state in the Amazon simulator unless it exists already (plans
// with CopyBefore) or the order has been cancelled meanwhile (skipped). It
// returns the order's plan; it never recreates (see Recreate).
func (m *Mirror) AfterVisible(orderID string) (MirrorPlan, error) {
	p := m.planFor(orderID)
	if m.az == nil {
		return p, errors.New("sandbox: Mirror has no Amazon simulator")
	}
	o, ok := m.az.Order(orderID)
	if !ok {
		return p, fmt.Errorf("sandbox: no Amazon order %s", orderID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _, err := m.copyLocked(o)
	return p, err
}

// Recreate carries out the recreation of the order's plan, once: its live
// copy is cancelled and created again (RecreateCopy, or
// RecreateCopyCreateFirst when the plan says CreateFirst). It returns the
// new copy and true, or false without error when there is nothing to do:
// the plan has no Recreate, the copy was recreated already, the order has
// no live copy, or the Amazon order is cancelled.
func (m *Mirror) Recreate(orderID string) (BCOrder, bool, error) {
	p := m.planFor(orderID)
	if !p.Recreate {
		return BCOrder{}, false, nil
	}
	if m.az != nil {
		if o, ok := m.az.Order(orderID); ok && o.Status == AmazonCancelled {
			return BCOrder{}, false, nil
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stateOf(orderID)
	if st.recreated || !st.copied {
		return BCOrder{}, false, nil
	}
	live, ok := m.latestCopy(orderID)
	if !ok || live.StatusID == StatusCancelled {
		return BCOrder{}, false, nil
	}
	recreate := m.sb.RecreateCopy
	if p.CreateFirst {
		recreate = m.sb.RecreateCopyCreateFirst
	}
	n, err := recreate(m.opts.StoreHash, live.ID)
	if err != nil {
		return BCOrder{}, false, err
	}
	st.recreated = true
	m.stats.Recreated++
	return n, true, nil
}

// SyncCancellations cancels the live copies of every Amazon order that is
// CANCELLED in the simulator (CancelCopies) and returns them: the channel
// tools follow a marketplace cancellation. Run it after Amazon.CancelOrder
// or periodically.
func (m *Mirror) SyncCancellations() ([]BCOrder, error) {
	if m.az == nil {
		return nil, errors.New("sandbox: Mirror has no Amazon simulator")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []BCOrder
	var errs []error
	ids := make([]string, 0, len(m.state))
	for id, st := range m.state {
		if st.copied && !st.cancelled {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		o, ok := m.az.Order(id)
		if !ok || o.Status != AmazonCancelled {
			continue
		}
		c, err := m.sb.CancelCopies(m.opts.StoreHash, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.state[id].cancelled = true
		m.stats.Cancelled += len(c)
		out = append(out, c...)
	}
	return out, errors.Join(errs...)
}

// Stats returns what the Mirror did so far.
func (m *Mirror) Stats() MirrorStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}
