package sandbox

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// WebhookDestination is a webhook subscription, as created with
// POST /v3/hooks: one hook per scope.
type WebhookDestination struct {
	// StoreHash selects the store; "" means the default store.
	StoreHash string `json:"store_hash"`
	// URL is the destination. Unlike BigCommerce (https on port 443 only),
	// the sandbox accepts any http or https URL so loopback servers work.
	URL string `json:"url"`
	// Headers are sent with every delivery (BigCommerce's custom headers,
	// e.g. X-Webhook-Secret).
	Headers map[string]string `json:"headers"`
	// Scopes default to ["store/order/*"].
	Scopes []string `json:"scopes"`
	// SigningSecret overrides Options.WebhookSigningSecret for this
	// destination; deliveries carry Standard Webhooks headers when either is set.
	SigningSecret string `json:"signing_secret"`
}

// Webhook is one registered hook of a store (GET /v3/hooks data item).
type Webhook struct {
	ID          int               `json:"id"`
	ClientID    string            `json:"client_id"`
	StoreHash   string            `json:"store_hash"`
	Scope       string            `json:"scope"`
	Destination string            `json:"destination"`
	Headers     map[string]string `json:"headers"`
	IsActive    bool              `json:"is_active"`
	CreatedAt   int64             `json:"created_at"`
	UpdatedAt   int64             `json:"updated_at"`

	signingSecret string
}

// sandboxClientID is the client_id reported for every hook.
const sandboxClientID = "sandboxclient0000000000000000"

type bcStore struct {
	cfg      StoreConfig
	orders   map[int]*BCOrder
	ids      []int // ascending
	nextID   map[string]int
	shipped  map[int][]*BCShipment
	nShip    int
	hooks    []*Webhook
	eventSeq int
}

func (st *bcStore) next(kind string, first int) int {
	n, ok := st.nextID[kind]
	if !ok {
		n = first
	}
	st.nextID[kind] = n + 1
	return n
}

type bigCommerce struct {
	s        *Sandbox
	mu       sync.Mutex
	stores   map[string]*bcStore
	channels map[int]Channel
}

func newBigCommerce(s *Sandbox) *bigCommerce {
	b := &bigCommerce{s: s, stores: map[string]*bcStore{}, channels: map[int]Channel{}}
	for _, c := range s.opts.Stores {
		b.stores[c.Hash] = &bcStore{cfg: c, orders: map[int]*BCOrder{}, nextID: map[string]int{}, shipped: map[int][]*BCShipment{}}
	}
	for _, c := range s.opts.Channels {
		b.channels[c.ID] = c
	}
	return b
}

func (b *bigCommerce) store(hash string) (*bcStore, error) {
	if hash == "" {
		hash = b.s.DefaultStoreHash()
	}
	st := b.stores[hash]
	if st == nil {
		return nil, fmt.Errorf("sandbox: unknown store hash %q", hash)
	}
	return st, nil
}

func (b *bigCommerce) counts() (orders, shipments int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.stores {
		orders += len(st.orders)
		shipments += st.nShip
	}
	return orders, shipments
}

// nowSecond is the sandbox clock truncated to BigCommerce's 1 s resolution.
func (b *bigCommerce) nowSecond() time.Time {
	return b.s.now().UTC().Truncate(time.Second)
}

// touch advances o.DateModified: to now, but always at least one second
// past the previous value, so successive updates are distinguishable in
// RFC-2822 (second resolution).
func (b *bigCommerce) touch(o *BCOrder) {
	t := b.nowSecond()
	if !t.After(o.DateModified) {
		t = o.DateModified.Add(time.Second)
	}
	o.DateModified = t
}

// CreateOrder creates an order from spec in spec.StoreHash (default store)
// and fires store/order/created.
func (s *Sandbox) CreateOrder(spec OrderSpec) (BCOrder, error) {
	return s.bc.createOrder(spec)
}

// CreateRandomOrder creates one order made by GenerateOrder with the
// sandbox's seeded generator, in the default store.
func (s *Sandbox) CreateRandomOrder() (BCOrder, error) {
	s.genMu.Lock()
	spec := GenerateOrder(s.genRNG)
	s.genMu.Unlock()
	return s.CreateOrder(spec)
}

// CreateRandomOrders creates n random orders in the store storeHash ("" for
// the default store).
func (s *Sandbox) CreateRandomOrders(storeHash string, n int) ([]BCOrder, error) {
	out := make([]BCOrder, 0, n)
	for range n {
		s.genMu.Lock()
		spec := GenerateOrder(s.genRNG)
		s.genMu.Unlock()
		spec.StoreHash = storeHash
		o, err := s.CreateOrder(spec)
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (b *bigCommerce) createOrder(spec OrderSpec) (BCOrder, error) {
	if err := spec.validate(); err != nil {
		return BCOrder{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(spec.StoreHash)
	if err != nil {
		return BCOrder{}, err
	}
	created := spec.DateCreated.UTC().Truncate(time.Second)
	if spec.DateCreated.IsZero() {
		created = b.nowSecond()
	}
	o := &BCOrder{
		ID:              st.next("order", 100),
		StoreHash:       st.cfg.Hash,
		CustomerID:      spec.CustomerID,
		StatusID:        spec.StatusID,
		DateCreated:     created,
		DateModified:    created,
		ChannelID:       spec.ChannelID,
		OrderSource:     spec.OrderSource,
		ExternalSource:  spec.ExternalSource,
		ExternalID:      spec.ExternalID,
		ExternalOrderID: spec.ExternalOrderID,
		EbayOrderID:     spec.EbayOrderID,
		CustomerMessage: spec.CustomerMessage,
		StaffNotes:      spec.StaffNotes,
		PaymentMethod:   spec.PaymentMethod,
		CurrencyCode:    spec.CurrencyCode,
		DiscountCents:   spec.DiscountCents,
		Billing:         spec.Billing,
	}
	if o.ChannelID == 0 {
		o.ChannelID = 1
	}
	if o.OrderSource == "" {
		o.OrderSource = "www"
	}
	if o.EbayOrderID == "" {
		o.EbayOrderID = "0"
	}
	if o.CurrencyCode == "" {
		o.CurrencyCode = "USD"
	}
	if o.PaymentMethod == "" {
		o.PaymentMethod = "Credit Card"
	}
	switch o.StatusID {
	case StatusIncomplete:
		o.PaymentStatus = ""
	case StatusAwaitingPayment, StatusPending:
		o.PaymentStatus = "pending"
	default:
		o.PaymentStatus = "captured"
	}
	o.CartID = fmt.Sprintf("5a1e%04x-7c3b-4d2e-9f10-%012x", o.ID%0xffff, o.ID)
	o.IPAddress = fmt.Sprintf("203.0.113.%d", o.ID%250+1)
	for _, a := range spec.ShippingAddresses {
		a.ID = st.next("address", 1)
		o.ShippingAddresses = append(o.ShippingAddresses, a)
	}
	for _, ls := range spec.Lines {
		li := LineItem{
			ID:             st.next("product", 1),
			ProductID:      ls.ProductID,
			VariantID:      ls.VariantID,
			Name:           ls.Name,
			SKU:            ls.SKU,
			UPC:            ls.UPC,
			Type:           ls.Type,
			Quantity:       ls.Quantity,
			UnitPriceCents: ls.UnitPriceCents,
			UnitTaxCents:   (ls.UnitPriceCents*int64(spec.TaxRateBasisPoints) + 5000) / 10000,
			Weight:         ls.Weight,
		}
		if li.Type == "" {
			li.Type = "physical"
		}
		if li.Weight == "" {
			li.Weight = "0.0000"
		}
		if li.Type == "physical" {
			li.OrderAddressID = o.ShippingAddresses[ls.AddressIndex].ID
		}
		for _, opt := range ls.Options {
			if opt.ID == 0 {
				opt.ID = st.next("option", 1)
			}
			li.Options = append(li.Options, opt)
		}
		o.Lines = append(o.Lines, li)
	}
	st.orders[o.ID] = o
	st.ids = append(st.ids, o.ID)
	b.emit(st, "store/order/created", orderEvent{Type: "order", ID: o.ID})
	return o.clone(), nil
}

// orderLocked finds order id of a store; caller holds b.mu.
func (b *bigCommerce) orderLocked(storeHash string, id int) (*bcStore, *BCOrder, error) {
	st, err := b.store(storeHash)
	if err != nil {
		return nil, nil, err
	}
	o := st.orders[id]
	if o == nil {
		return nil, nil, fmt.Errorf("sandbox: order %d not found in store %s", id, st.cfg.Hash)
	}
	return st, o, nil
}

// UpdateOrder applies mutate to a copy of the order, stores it, advances
// date_modified by at least one second and fires store/order/updated (and
// store/order/statusUpdated when status_id changed). id, store hash and
// date_created cannot be changed.
func (s *Sandbox) UpdateOrder(storeHash string, id int, mutate func(o *BCOrder)) (BCOrder, error) {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, o, err := b.orderLocked(storeHash, id)
	if err != nil {
		return BCOrder{}, err
	}
	c := o.clone()
	if mutate != nil {
		mutate(&c)
	}
	c.ID, c.StoreHash, c.DateCreated, c.DateModified = o.ID, o.StoreHash, o.DateCreated, o.DateModified
	if StatusName(c.StatusID) == "" {
		return BCOrder{}, fmt.Errorf("sandbox: unknown status_id %d", c.StatusID)
	}
	for _, l := range c.Lines {
		if l.Quantity < 1 || l.QuantityShipped < 0 || l.QuantityShipped > l.Quantity {
			return BCOrder{}, fmt.Errorf("sandbox: line %d has inconsistent quantities", l.ID)
		}
	}
	b.applyUpdate(st, o, c)
	return o.clone(), nil
}

// applyUpdate stores c over o and fires the webhooks. Caller holds b.mu.
func (b *bigCommerce) applyUpdate(st *bcStore, o *BCOrder, c BCOrder) {
	prev := o.StatusID
	*o = c
	b.touch(o)
	b.emit(st, "store/order/updated", orderEvent{Type: "order", ID: o.ID})
	if o.StatusID != prev {
		b.emit(st, "store/order/statusUpdated", orderEvent{Type: "order", ID: o.ID, Status: &statusChange{Previous: prev, New: o.StatusID}})
	}
}

// SetOrderStatus changes an order's status (firing the webhooks).
func (s *Sandbox) SetOrderStatus(storeHash string, id, statusID int) (BCOrder, error) {
	return s.UpdateOrder(storeHash, id, func(o *BCOrder) { o.StatusID = statusID })
}

// Order returns a copy of an order.
func (s *Sandbox) Order(storeHash string, id int) (BCOrder, bool) {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil || st.orders[id] == nil {
		return BCOrder{}, false
	}
	return st.orders[id].clone(), true
}

// Orders returns copies of all orders of a store, by ascending id.
func (s *Sandbox) Orders(storeHash string) []BCOrder {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil {
		return nil
	}
	out := make([]BCOrder, 0, len(st.ids))
	for _, id := range st.ids {
		out = append(out, st.orders[id].clone())
	}
	return out
}

// Shipments returns the shipments of one order (orderID > 0) or of the
// whole store (orderID == 0), by ascending id.
func (s *Sandbox) Shipments(storeHash string, orderID int) []BCShipment {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil {
		return nil
	}
	var out []BCShipment
	add := func(list []*BCShipment) {
		for _, sh := range list {
			c := *sh
			c.Items = append([]ShipmentItem(nil), sh.Items...)
			out = append(out, c)
		}
	}
	if orderID > 0 {
		add(st.shipped[orderID])
	} else {
		for _, id := range st.ids {
			add(st.shipped[id])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PIIValues returns the personal data of every order of a store (see
// BCOrder.PIIValues), for scanning logs.
func (s *Sandbox) PIIValues(storeHash string) []string {
	var out []string
	for _, o := range s.Orders(storeHash) {
		out = append(out, o.PIIValues()...)
	}
	return out
}

// AddWebhook registers a destination (one hook per scope) and returns the
// hook ids.
func (s *Sandbox) AddWebhook(d WebhookDestination) ([]int, error) {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sandbox: invalid webhook URL %q", d.URL)
	}
	scopes := d.Scopes
	if len(scopes) == 0 {
		scopes = []string{"store/order/*"}
	}
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(d.StoreHash)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, sc := range scopes {
		if !strings.HasPrefix(sc, "store/") {
			return ids, fmt.Errorf("sandbox: invalid webhook scope %q", sc)
		}
		h := b.addHook(st, sc, d.URL, d.Headers, true)
		h.signingSecret = d.SigningSecret
		ids = append(ids, h.ID)
	}
	return ids, nil
}

// addHook registers a hook. Caller holds b.mu.
func (b *bigCommerce) addHook(st *bcStore, scope, dest string, headers map[string]string, active bool) *Webhook {
	now := b.s.now().Unix()
	h := &Webhook{
		ID:          st.next("hook", 18048287),
		ClientID:    sandboxClientID,
		StoreHash:   st.cfg.Hash,
		Scope:       scope,
		Destination: dest,
		Headers:     copyHeaders(headers),
		IsActive:    active,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	st.hooks = append(st.hooks, h)
	return h
}

func copyHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// Webhooks returns the hooks of a store.
func (s *Sandbox) Webhooks(storeHash string) []Webhook {
	b := s.bc
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.store(storeHash)
	if err != nil {
		return nil
	}
	out := make([]Webhook, 0, len(st.hooks))
	for _, h := range st.hooks {
		c := *h
		c.Headers = copyHeaders(h.Headers)
		out = append(out, c)
	}
	return out
}

// FlushWebhooks waits until every queued webhook of both servers has been
// delivered or abandoned, or ctx ends.
func (s *Sandbox) FlushWebhooks(ctx context.Context) error {
	if err := s.hooks.flush(ctx); err != nil {
		return err
	}
	return s.ssHooks.flush(ctx)
}

// WebhookLog returns the most recent BigCommerce webhook deliveries (up to
// 10,000); ShipStationWebhookLog has ShipStation's.
func (s *Sandbox) WebhookLog() []WebhookDelivery { return s.hooks.deliveries() }

// orderEvent is the data of store/order/* webhooks.
type orderEvent struct {
	Type   string        `json:"type"`
	ID     int           `json:"id"`
	Status *statusChange `json:"status,omitempty"`
}

type statusChange struct {
	Previous int `json:"previous_status_id"`
	New      int `json:"new_status_id"`
}

// shipmentEvent is the data of store/shipment/* webhooks.
type shipmentEvent struct {
	Type    string `json:"type"`
	ID      int    `json:"id"`
	OrderID int    `json:"orderId"`
}

// WebhookPayload is the body BigCommerce POSTs to a hook's destination
// (api-contracts §6.1). Hash is the SHA-1 hex of the JSON of Data only, so
// two store/order/updated events of one order carry the same hash; only
// created_at differs.
type WebhookPayload struct {
	CreatedAt int64           `json:"created_at"`
	StoreID   string          `json:"store_id"`
	Producer  string          `json:"producer"`
	Scope     string          `json:"scope"`
	Hash      string          `json:"hash"`
	Data      json.RawMessage `json:"data"`
}

func scopeMatches(hookScope, scope string) bool {
	if hookScope == scope {
		return true
	}
	if prefix, ok := strings.CutSuffix(hookScope, "*"); ok {
		return strings.HasPrefix(scope, prefix)
	}
	return false
}

// emit queues scope's webhook to every matching active hook. Caller holds b.mu.
func (b *bigCommerce) emit(st *bcStore, scope string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	sum := sha1.Sum(raw)
	body, err := json.Marshal(WebhookPayload{
		CreatedAt: b.s.now().Unix(),
		StoreID:   st.cfg.StoreID,
		Producer:  "stores/" + st.cfg.Hash,
		Scope:     scope,
		Hash:      hex.EncodeToString(sum[:]),
		Data:      raw,
	})
	if err != nil {
		return
	}
	faults := b.s.bcFront.getFaults()
	for _, h := range st.hooks {
		if !h.IsActive || !scopeMatches(h.Scope, scope) {
			continue
		}
		st.eventSeq++
		secret := h.signingSecret
		if secret == "" {
			secret = b.s.opts.WebhookSigningSecret
		}
		o := &outbound{
			msgID:     fmt.Sprintf("msg_%s_%d", st.cfg.Hash, st.eventSeq),
			timestamp: b.s.now().Unix(),
			scope:     scope,
			url:       h.Destination,
			headers:   copyHeaders(h.Headers),
			secret:    secret,
			body:      body,
		}
		drop := b.s.bcFront.roll(faults.WebhookDropRate)
		dup := !drop && b.s.bcFront.roll(faults.WebhookDuplicateRate)
		b.s.hooks.enqueue(o, drop, dup)
	}
}

// bcError is a BigCommerce API error: an HTTP status and a message.
type bcError struct {
	status  int
	message string
}

func (e *bcError) Error() string { return e.message }

func badRequest(format string, args ...any) *bcError {
	return &bcError{status: 400, message: fmt.Sprintf(format, args...)}
}

// shipmentPost is the body of POST /v2/orders/{id}/shipments.
type shipmentPost struct {
	OrderAddressID       *int            `json:"order_address_id"`
	TrackingNumber       string          `json:"tracking_number"`
	TrackingLink         string          `json:"tracking_link"`
	MerchantShippingCost json.RawMessage `json:"merchant_shipping_cost"`
	ShippingMethod       string          `json:"shipping_method"`
	ShippingProvider     string          `json:"shipping_provider"`
	TrackingCarrier      string          `json:"tracking_carrier"`
	Comments             string          `json:"comments"`
	Items                []struct {
		OrderProductID *int `json:"order_product_id"`
		Quantity       *int `json:"quantity"`
	} `json:"items"`
}

var errNotFound = &bcError{status: 404, message: "The requested resource was not found."}

// createShipment validates and applies a shipment. Caller holds b.mu.
func (b *bigCommerce) createShipment(st *bcStore, orderID int, req shipmentPost) (*BCShipment, *bcError) {
	o := st.orders[orderID]
	if o == nil || o.IsDeleted {
		return nil, errNotFound
	}
	switch o.StatusID {
	case StatusIncomplete, StatusRefunded, StatusCancelled, StatusDeclined:
		return nil, badRequest("Shipments cannot be created for an order with status %q.", o.StatusName())
	}
	if req.OrderAddressID == nil {
		return nil, badRequest("The field 'order_address_id' cannot be blank.")
	}
	addr, ok := o.ShippingAddress(*req.OrderAddressID)
	if !ok {
		return nil, badRequest("The field 'order_address_id' is invalid: order address %d does not belong to order %d.", *req.OrderAddressID, orderID)
	}
	if len(req.Items) == 0 {
		return nil, badRequest("The field 'items' cannot be blank.")
	}
	if len(req.TrackingNumber) > 50 {
		return nil, badRequest("The field 'tracking_number' must be at most 50 characters.")
	}
	if len(req.TrackingLink) > 500 {
		return nil, badRequest("The field 'tracking_link' must be at most 500 characters.")
	}
	cost := "0.0000"
	if len(req.MerchantShippingCost) > 0 && string(req.MerchantShippingCost) != "null" {
		var v string
		if err := json.Unmarshal(req.MerchantShippingCost, &v); err != nil {
			v = string(req.MerchantShippingCost)
		}
		c, err := parseMoneyCents(v)
		if err != nil || c < 0 {
			return nil, badRequest("The field 'merchant_shipping_cost' is invalid.")
		}
		cost = money(c)
	}
	want := map[int]int{}
	var order []int
	for i, it := range req.Items {
		if it.OrderProductID == nil {
			return nil, badRequest("The field 'items[%d].order_product_id' cannot be blank.", i)
		}
		if it.Quantity == nil || *it.Quantity < 1 {
			return nil, badRequest("The field 'items[%d].quantity' must be a positive integer.", i)
		}
		line, ok := o.Line(*it.OrderProductID)
		if !ok {
			return nil, badRequest("Order product %d does not belong to order %d.", *it.OrderProductID, orderID)
		}
		if line.Type != "physical" {
			return nil, badRequest("Order product %d is a %s item and cannot be shipped.", line.ID, line.Type)
		}
		if line.OrderAddressID != addr.ID {
			return nil, badRequest("Order product %d is not shipped to order address %d.", line.ID, addr.ID)
		}
		if _, seen := want[line.ID]; !seen {
			order = append(order, line.ID)
		}
		want[line.ID] += *it.Quantity
	}
	for _, id := range order {
		line, _ := o.Line(id)
		if left := line.Quantity - line.QuantityShipped; want[id] > left {
			return nil, badRequest("The quantity specified for order product %d (%d) is greater than the quantity remaining to be shipped (%d).", id, want[id], left)
		}
	}

	c := o.clone()
	sh := &BCShipment{
		ID:                   st.next("shipment", 1),
		StoreHash:            st.cfg.Hash,
		OrderID:              orderID,
		CustomerID:           o.CustomerID,
		OrderAddressID:       addr.ID,
		DateCreated:          b.nowSecond(),
		TrackingNumber:       req.TrackingNumber,
		ShippingProvider:     req.ShippingProvider,
		TrackingCarrier:      req.TrackingCarrier,
		TrackingLink:         req.TrackingLink,
		ShippingMethod:       req.ShippingMethod,
		MerchantShippingCost: cost,
		Comments:             req.Comments,
	}
	for _, id := range order {
		line, _ := c.Line(id)
		line.QuantityShipped += want[id]
		sh.Items = append(sh.Items, ShipmentItem{OrderProductID: id, ProductID: line.ProductID, Quantity: want[id]})
	}
	all := true
	for _, l := range c.Lines {
		if l.Type == "physical" && l.QuantityShipped < l.Quantity {
			all = false
		}
	}
	if all {
		c.StatusID = StatusShipped
		c.DateShipped = b.nowSecond()
	} else {
		c.StatusID = StatusPartiallyShipped
	}
	st.shipped[orderID] = append(st.shipped[orderID], sh)
	st.nShip++
	b.emit(st, "store/shipment/created", shipmentEvent{Type: "shipment", ID: sh.ID, OrderID: orderID})
	b.applyUpdate(st, o, c)
	return sh, nil
}

// shipmentPut is the body of PUT /v2/orders/{id}/shipments/{shipment_id}
// (orderShipment_Put: items cannot be changed).
type shipmentPut struct {
	OrderAddressID       *int            `json:"order_address_id"`
	TrackingNumber       *string         `json:"tracking_number"`
	TrackingLink         *string         `json:"tracking_link"`
	MerchantShippingCost json.RawMessage `json:"merchant_shipping_cost"`
	ShippingMethod       *string         `json:"shipping_method"`
	ShippingProvider     *string         `json:"shipping_provider"`
	TrackingCarrier      *string         `json:"tracking_carrier"`
	Comments             *string         `json:"comments"`
}

// findShipment returns the shipment sid of order orderID. Caller holds b.mu.
func (st *bcStore) findShipment(orderID, sid int) (int, *BCShipment) {
	for i, sh := range st.shipped[orderID] {
		if sh.ID == sid {
			return i, sh
		}
	}
	return -1, nil
}

// updateShipment applies a PUT and fires store/shipment/updated. Caller holds b.mu.
func (b *bigCommerce) updateShipment(st *bcStore, o *BCOrder, sid int, req shipmentPut) (*BCShipment, *bcError) {
	_, sh := st.findShipment(o.ID, sid)
	if sh == nil {
		return nil, errNotFound
	}
	c := *sh
	if req.OrderAddressID != nil {
		addr, ok := o.ShippingAddress(*req.OrderAddressID)
		if !ok {
			return nil, badRequest("The field 'order_address_id' is invalid: order address %d does not belong to order %d.", *req.OrderAddressID, o.ID)
		}
		for _, it := range sh.Items {
			if line, ok := o.Line(it.OrderProductID); ok && line.OrderAddressID != addr.ID {
				return nil, badRequest("Order product %d is not shipped to order address %d.", line.ID, addr.ID)
			}
		}
		c.OrderAddressID = addr.ID
	}
	if req.TrackingNumber != nil {
		if len(*req.TrackingNumber) > 50 {
			return nil, badRequest("The field 'tracking_number' must be at most 50 characters.")
		}
		c.TrackingNumber = *req.TrackingNumber
	}
	if req.TrackingLink != nil {
		if len(*req.TrackingLink) > 500 {
			return nil, badRequest("The field 'tracking_link' must be at most 500 characters.")
		}
		c.TrackingLink = *req.TrackingLink
	}
	if len(req.MerchantShippingCost) > 0 && string(req.MerchantShippingCost) != "null" {
		var v string
		if err := json.Unmarshal(req.MerchantShippingCost, &v); err != nil {
			v = string(req.MerchantShippingCost)
		}
		cents, err := parseMoneyCents(v)
		if err != nil || cents < 0 {
			return nil, badRequest("The field 'merchant_shipping_cost' is invalid.")
		}
		c.MerchantShippingCost = money(cents)
	}
	for _, f := range []struct {
		src *string
		dst *string
	}{{req.ShippingMethod, &c.ShippingMethod}, {req.ShippingProvider, &c.ShippingProvider}, {req.TrackingCarrier, &c.TrackingCarrier}, {req.Comments, &c.Comments}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	*sh = c
	b.emit(st, "store/shipment/updated", shipmentEvent{Type: "shipment", ID: sh.ID, OrderID: o.ID})
	return sh, nil
}

// deleteShipments removes one shipment (sid > 0) or all of an order's
// (sid == 0). The shipped quantities are released, so the items can be
// shipped again, but the order's status is left as it is: BigCommerce does
// not revert Shipped when a shipment is deleted. Fires
// store/shipment/deleted per shipment and store/order/updated. Caller holds b.mu.
func (b *bigCommerce) deleteShipments(st *bcStore, o *BCOrder, sid int) *bcError {
	var gone []*BCShipment
	if sid > 0 {
		i, sh := st.findShipment(o.ID, sid)
		if sh == nil {
			return errNotFound
		}
		list := st.shipped[o.ID]
		st.shipped[o.ID] = append(list[:i:i], list[i+1:]...)
		gone = []*BCShipment{sh}
	} else {
		gone = st.shipped[o.ID]
		delete(st.shipped, o.ID)
	}
	if len(gone) == 0 {
		return nil
	}
	for _, sh := range gone {
		for _, it := range sh.Items {
			if line, ok := o.Line(it.OrderProductID); ok {
				line.QuantityShipped = max(0, line.QuantityShipped-it.Quantity)
			}
		}
		st.nShip--
		b.emit(st, "store/shipment/deleted", shipmentEvent{Type: "shipment", ID: sh.ID, OrderID: o.ID})
	}
	b.touch(o)
	b.emit(st, "store/order/updated", orderEvent{Type: "order", ID: o.ID})
	return nil
}
