package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ssRecord is one stored ShipStation order plus sandbox bookkeeping.
type ssRecord struct {
	order      SSOrder
	createdAt  time.Time
	modifiedAt time.Time
	updates    int
	// shipped is the quantity per orderItemId on labels not voided.
	shipped map[int64]int
	// awaitingSince is when the order last entered awaiting_shipment (zero
	// while it is in another status); the warehouse waits from there.
	awaitingSince time.Time
	// releaseAt is when an on_hold order placed by POST /orders/holduntil
	// returns to awaiting_shipment (Pacific midnight of its holdUntilDate);
	// zero when no such hold applies.
	releaseAt time.Time
}

// shipStation holds the simulated ShipStation account. Every accepted key
// pair sees the same account: orders (indexed by orderId and orderKey),
// shipments (labels), webhook subscriptions and the warehouse's state.
type shipStation struct {
	s  *Sandbox
	mu sync.Mutex

	byKey     map[string]*ssRecord
	byID      map[int64]*ssRecord
	held      map[int64]*ssRecord // orders with a releaseAt, by orderId
	ids       []int64             // ascending orderId
	nextOrder int64
	nextItem  int64
	nextKey   int64
	customers map[string]int64
	nextCust  int64

	created, updated, rejected int64

	// Account tags, in creation order.
	tags    []SSTag
	nextTag int64

	// Shipments, by ascending shipmentId.
	shipments       []*SSShipment
	shipByID        map[int64]*SSShipment
	nextShipment    int64
	nextBatch       int64
	nextBatchNumber int64
	trackingSeen    map[string]bool
	labelRNG        *rand.Rand

	shipmentsCreated, shipmentsVoided, batches int64

	// Webhook subscriptions and the base URL of resource_url.
	hooks       []*SSWebhook
	nextHook    int64
	baseURL     string
	learnedBase atomic.Value // string

	// Warehouse.
	whEnabled bool
	whDelay   time.Duration
	whFaults  WarehouseFaults
	// whBatch labels each warehouse pass as one batch (one SHIP_NOTIFY),
	// as a warehouse printing its labels in batches does; passBatch is
	// that batch while a pass runs.
	whBatch   bool
	passBatch *ssBatch
	whRNG     *rand.Rand
	whEvents  []whEvent
	whPending map[string]bool // orderKey -> a void/relabel is scheduled

	// declaredSources are source keys declared with SetSourceKeyOf, by
	// orderKey (nil until the first declaration).
	declaredSources map[string]string
}

func newShipStation(s *Sandbox) *shipStation {
	return &shipStation{
		s:               s,
		byKey:           map[string]*ssRecord{},
		byID:            map[int64]*ssRecord{},
		held:            map[int64]*ssRecord{},
		nextOrder:       123456001,
		nextItem:        4455001,
		nextKey:         1,
		customers:       map[string]int64{},
		nextCust:        77001,
		shipByID:        map[int64]*SSShipment{},
		nextShipment:    98765001,
		nextBatch:       144015001,
		nextBatchNumber: 100001,
		trackingSeen:    map[string]bool{},
		labelRNG:        rand.New(rand.NewPCG(s.opts.Seed, 0x6c6162656c)), // "label"
		nextHook:        5001,
		baseURL:         strings.TrimRight(s.opts.ShipStationBaseURL, "/"),
		whEnabled:       s.opts.WarehouseEnabled,
		whDelay:         s.opts.WarehouseDelay,
		whFaults:        s.opts.WarehouseFaults,
		whBatch:         s.opts.WarehouseBatches,
		whRNG:           rand.New(rand.NewPCG(s.opts.Seed, 0x7761726568)), // "wareh"
		whPending:       map[string]bool{},
		tags:            DefaultShipStationTags(),
		nextTag:         41101,
	}
}

// upsertResult is one entry of createorders' results.
type upsertResult struct {
	OrderID      int64   `json:"orderId"`
	OrderNumber  *string `json:"orderNumber"`
	OrderKey     *string `json:"orderKey"`
	Success      bool    `json:"success"`
	ErrorMessage *string `json:"errorMessage"`
}

// upsert creates or replaces an order keyed on orderKey. On failure it
// returns the field errors (validation) or a message (business rule).
func (ss *shipStation) upsert(in SSOrder) (SSOrder, []fieldError, string) {
	if errs := in.validate(); len(errs) > 0 {
		ss.mu.Lock()
		ss.rejected++
		ss.mu.Unlock()
		return SSOrder{}, errs, ""
	}
	now := ss.s.now()
	stamp := SSTime(now)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.releaseDueLocked(now)

	o := in
	if o.OrderKey == "" {
		// ShipStation generates a key when none is sent.
		o.OrderKey = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", ss.nextKey*2654435761%0xffffffff, ss.nextKey%0xffff, ss.nextKey%0xfff, (ss.nextKey*7)%0xfff, ss.nextKey)
		ss.nextKey++
	}
	prev := ss.byKey[o.OrderKey]
	if prev != nil && (prev.order.OrderStatus == "shipped" || prev.order.OrderStatus == "cancelled") {
		ss.rejected++
		return SSOrder{}, nil, fmt.Sprintf("The order with orderKey '%s' (orderId %d) cannot be updated because its status is '%s'; only open orders (awaiting_payment, awaiting_shipment, pending_fulfillment, on_hold) can be updated.", o.OrderKey, prev.order.OrderID, prev.order.OrderStatus)
	}

	// Read-only fields.
	o.ModifyDate = stamp
	if t, err := ParseSSTime(o.OrderDate); err == nil {
		o.OrderDate = SSTime(t)
	}
	for _, p := range []*string{o.PaymentDate, o.ShipByDate} {
		if p != nil && *p != "" {
			if t, err := ParseSSTime(*p); err == nil {
				*p = SSTime(t)
			}
		}
	}
	if o.AdvancedOptions == nil {
		o.AdvancedOptions = &SSAdvancedOptions{}
	}
	// holdUntilDate is read-only: only POST /orders/holduntil sets it. An
	// update keeps the stored one while the order stays on_hold.
	o.HoldUntilDate = nil
	if prev != nil {
		o.OrderID = prev.order.OrderID
		o.CreateDate = prev.order.CreateDate
		if o.OrderStatus == "on_hold" && prev.order.HoldUntilDate != nil {
			d := *prev.order.HoldUntilDate
			o.HoldUntilDate = &d
		}
		// advancedOptions.storeId can only be set when the order is created.
		sid := prev.order.StoreID()
		o.AdvancedOptions.StoreID = &sid
	} else {
		o.OrderID = ss.nextOrder
		ss.nextOrder++
		o.CreateDate = stamp
		if o.AdvancedOptions.StoreID == nil || *o.AdvancedOptions.StoreID <= 0 {
			sid := ss.s.opts.ShipStationDefaultStoreID
			o.AdvancedOptions.StoreID = &sid
		}
	}
	if o.AdvancedOptions.MergedIDs == nil {
		o.AdvancedOptions.MergedIDs = []int64{}
	}
	o.CustomerID = nil
	if who := firstNonEmpty(o.CustomerUsername, o.CustomerEmail); who != "" {
		id, ok := ss.customers[strings.ToLower(who)]
		if !ok {
			id = ss.nextCust
			ss.nextCust++
			ss.customers[strings.ToLower(who)] = id
		}
		o.CustomerID = &id
	}
	for _, a := range []*SSAddress{o.BillTo, o.ShipTo} {
		if a != nil && a.AddressVerified == nil {
			v := "Address not yet validated"
			a.AddressVerified = &v
		}
	}
	prevItems := map[string]int64{}
	if prev != nil {
		for _, it := range prev.order.Items {
			if it.LineItemKey != nil {
				prevItems[*it.LineItemKey] = it.OrderItemID
			}
		}
	}
	if o.Items == nil {
		o.Items = []SSItem{}
	}
	for i := range o.Items {
		it := &o.Items[i]
		if it.LineItemKey != nil && prevItems[*it.LineItemKey] != 0 {
			it.OrderItemID = prevItems[*it.LineItemKey]
		} else {
			it.OrderItemID = ss.nextItem
			ss.nextItem++
		}
		it.CreateDate, it.ModifyDate = &stamp, &stamp
		if it.UnitPrice == "" {
			it.UnitPrice = "0"
		}
		if it.Weight != nil {
			it.Weight.WeightUnits = weightUnitsCode(it.Weight.Units)
		}
	}
	if o.Weight == nil {
		o.Weight = &SSWeight{Value: "0", Units: "ounces"}
	}
	o.Weight.WeightUnits = weightUnitsCode(o.Weight.Units)
	if o.InsuranceOptions == nil {
		o.InsuranceOptions = &SSInsuranceOptions{InsuredValue: "0"}
	}
	if o.InternationalOptions == nil {
		o.InternationalOptions = &SSInternationalOptions{}
	}
	o.OrderTotal = o.orderTotal()
	o.UserID = nil
	o.ExternallyFulfilled = false

	if prev != nil {
		if o.OrderStatus == "awaiting_shipment" && prev.order.OrderStatus != "awaiting_shipment" {
			prev.awaitingSince = now
		} else if o.OrderStatus != "awaiting_shipment" {
			prev.awaitingSince = time.Time{}
		}
		prev.order = o
		prev.modifiedAt = now
		prev.updates++
		ss.updated++
		ss.endHoldLocked(prev)
	} else {
		rec := &ssRecord{order: o, createdAt: now, modifiedAt: now, shipped: map[int64]int{}}
		if o.OrderStatus == "awaiting_shipment" {
			rec.awaitingSince = now
		}
		ss.byKey[o.OrderKey] = rec
		ss.byID[o.OrderID] = rec
		ss.ids = append(ss.ids, o.OrderID)
		ss.created++
	}
	return o.clone(), nil, ""
}

func firstNonEmpty(ps ...*string) string {
	for _, p := range ps {
		if p != nil && strings.TrimSpace(*p) != "" {
			return *p
		}
	}
	return ""
}

func joinFieldErrors(errs []fieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.msg
	}
	return strings.Join(parts, " ")
}

// ShipStationOrders returns copies of all stored orders by ascending
// orderId, after releasing the holds due at the sandbox clock.
func (s *Sandbox) ShipStationOrders() []SSOrder {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.releaseDueLocked(s.now())
	out := make([]SSOrder, 0, len(ss.ids))
	for _, id := range ss.ids {
		out = append(out, ss.byID[id].order.clone())
	}
	return out
}

// ShipStationOrder returns the order stored under orderKey, after
// releasing the holds due at the sandbox clock.
func (s *Sandbox) ShipStationOrder(orderKey string) (SSOrder, bool) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.releaseDueLocked(s.now())
	rec := ss.byKey[orderKey]
	if rec == nil {
		return SSOrder{}, false
	}
	return rec.order.clone(), true
}

// ShipStationCreatedAt returns, per orderKey, when the order was first
// created (sandbox clock), so callers can measure end-to-end latency.
func (s *Sandbox) ShipStationCreatedAt() map[string]time.Time {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make(map[string]time.Time, len(ss.byKey))
	for k, rec := range ss.byKey {
		out[k] = rec.createdAt
	}
	return out
}

// SetShipStationOrderStatus changes a stored order's orderStatus (e.g. to
// "shipped" to test that shipped orders refuse updates). A status other
// than on_hold ends a hold placed with POST /orders/holduntil.
func (s *Sandbox) SetShipStationOrderStatus(orderKey, status string) error {
	if !ssOrderStatuses[status] {
		return fmt.Errorf("sandbox: invalid orderStatus %q", status)
	}
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := s.now()
	ss.releaseDueLocked(now)
	rec := ss.byKey[orderKey]
	if rec == nil {
		return fmt.Errorf("sandbox: no ShipStation order with orderKey %q", orderKey)
	}
	if status == "awaiting_shipment" && rec.order.OrderStatus != "awaiting_shipment" {
		rec.awaitingSince = now
	} else if status != "awaiting_shipment" {
		rec.awaitingSince = time.Time{}
	}
	rec.order.OrderStatus = status
	rec.order.ModifyDate = SSTime(now)
	ss.endHoldLocked(rec)
	return nil
}

// ShipStationTags returns the account's tags in creation order (GET
// /accounts/listtags shows the same list).
func (s *Sandbox) ShipStationTags() []SSTag {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]SSTag{}, ss.tags...)
}

// AddShipStationTag creates an account tag, as a person does in
// ShipStation's Settings → Tags. Names are unique regardless of case; an
// empty color gets a default.
func (s *Sandbox) AddShipStationTag(name, color string) (SSTag, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return SSTag{}, errors.New("sandbox: empty tag name")
	}
	if color == "" {
		color = "#999999"
	}
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, t := range ss.tags {
		if strings.EqualFold(t.Name, name) {
			return SSTag{}, fmt.Errorf("sandbox: a tag named %q exists (id %d)", t.Name, t.TagID)
		}
	}
	t := SSTag{TagID: ss.nextTag, Name: name, Color: color}
	ss.nextTag++
	ss.tags = append(ss.tags, t)
	return t, nil
}

// RemoveShipStationTag deletes the account tag named name (any case); it
// reports whether there was one. Orders keep the tag ids they carry.
func (s *Sandbox) RemoveShipStationTag(name string) bool {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i, t := range ss.tags {
		if strings.EqualFold(t.Name, strings.TrimSpace(name)) {
			ss.tags = append(ss.tags[:i], ss.tags[i+1:]...)
			return true
		}
	}
	return false
}

// DuplicateGroup is a set of live ShipStation orders that represent the
// same order: same orderNumber and storeId, or same source order.
type DuplicateGroup struct {
	// Kind is "order_number" or "source".
	Kind string `json:"kind"`
	// Key is "<storeId>/<orderNumber>" or the source key.
	Key string `json:"key"`
	// OrderKeys are the orderKeys of the orders in the group.
	OrderKeys []string `json:"order_keys"`
}

// DuplicateReport lists duplicate ShipStation orders; all counts must stay
// 0 in a correct system.
//
// Only live orders count: an order whose orderStatus is "cancelled" is in
// no group, neither by orderNumber nor by source. A warehouse never picks a
// cancelled order, so a copy the hub cancelled in ShipStation (a hidden
// marketplace copy) or an order it replaced and cancelled is not a
// duplicate anyone can ship twice. Two live orders stay duplicates
// whatever their other statuses (shipped included).
//
// The source of an order (its source key) is, in this order of precedence:
//
//  1. the key declared for its orderKey with SetSourceKeyOf;
//  2. for an order made from a BigCommerce marketplace copy that the
//     sandbox can identify (see below), the copy's marketplace origin
//     "<platform>:<external_order_id>", e.g. "amazon:113-4567890-1234567",
//     the key the marketplace's own import has under DefaultSourceKey;
//  3. Options.SourceKey (DefaultSourceKey unless replaced).
//
// The sandbox identifies the BigCommerce order behind a ShipStation order
// by its orderKey "bigcommerce:<store>:<orderId>[/<group>]" (shiprelay's
// order identity) or, failing that, by advancedOptions.source
// "bigcommerce" with customField1 = the order id (api-contracts §6.2).
// <store> must be a store hash or store id of the sandbox; any value is
// accepted when the sandbox has a single store (shiprelay's store ids,
// such as "bc-main", are its own names). A copy is an order on a channel
// whose platform is not bigcommerce with an external_order_id (or an
// ebay_order_id). When a test's ShipStation orders cannot be related this
// way (several stores, other key conventions), it declares the relation
// with SetSourceKeyOf.
type DuplicateReport struct {
	ByOrderNumber int              `json:"duplicates_by_order_number"`
	BySource      int              `json:"duplicates_by_source"`
	Total         int              `json:"duplicates"`
	Groups        []DuplicateGroup `json:"groups"`
}

// ShipStationDuplicates computes the duplicate report.
func (s *Sandbox) ShipStationDuplicates() DuplicateReport {
	copies := s.bc.copyIndex()
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.duplicates(copies)
}

// SetSourceKeyOf declares the source key of the ShipStation order orderKey
// for the duplicate report, overriding what the sandbox would derive (see
// DuplicateReport): orders with the same source key are duplicates. Tests
// use it to relate an order to its marketplace order when the sandbox
// cannot, e.g. SetSourceKeyOf("bigcommerce:bc-2:105",
// "amazon:113-4567890-1234567"). The order need not exist yet. An empty
// key removes the declaration.
func (s *Sandbox) SetSourceKeyOf(orderKey, key string) {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if key == "" {
		delete(ss.declaredSources, orderKey)
		return
	}
	if ss.declaredSources == nil {
		ss.declaredSources = map[string]string{}
	}
	ss.declaredSources[orderKey] = key
}

// sourceKey is the source key of o (see DuplicateReport). Caller holds ss.mu.
func (ss *shipStation) sourceKey(o *SSOrder, copies copyIndex) string {
	if k, ok := ss.declaredSources[o.OrderKey]; ok {
		return k
	}
	if k := copies.sourceOf(o); k != "" {
		return k
	}
	return ss.s.opts.SourceKey(o)
}

// duplicates groups the live orders. copies is a snapshot of the
// BigCommerce copies, taken before ss.mu. Caller holds ss.mu.
func (ss *shipStation) duplicates(copies copyIndex) DuplicateReport {
	byNum := map[string][]string{}
	bySrc := map[string][]string{}
	var numKeys, srcKeys []string
	for _, id := range ss.ids {
		o := &ss.byID[id].order
		if o.OrderStatus == "cancelled" {
			continue
		}
		k := fmt.Sprintf("%d/%s", o.StoreID(), o.OrderNumber)
		if byNum[k] == nil {
			numKeys = append(numKeys, k)
		}
		byNum[k] = append(byNum[k], o.OrderKey)
		if src := ss.sourceKey(o, copies); src != "" {
			if bySrc[src] == nil {
				srcKeys = append(srcKeys, src)
			}
			bySrc[src] = append(bySrc[src], o.OrderKey)
		}
	}
	rep := DuplicateReport{Groups: []DuplicateGroup{}}
	for _, k := range numKeys {
		if n := len(byNum[k]); n > 1 {
			rep.ByOrderNumber += n - 1
			rep.Groups = append(rep.Groups, DuplicateGroup{Kind: "order_number", Key: k, OrderKeys: byNum[k]})
		}
	}
	for _, k := range srcKeys {
		if n := len(bySrc[k]); n > 1 {
			rep.BySource += n - 1
			rep.Groups = append(rep.Groups, DuplicateGroup{Kind: "source", Key: k, OrderKeys: bySrc[k]})
		}
	}
	rep.Total = rep.ByOrderNumber + rep.BySource
	return rep
}

func (ss *shipStation) fillStats(st *ShipStationStats) {
	copies := ss.s.bc.copyIndex()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	st.Orders = len(ss.byKey)
	st.Created, st.Updated, st.Rejected = ss.created, ss.updated, ss.rejected
	rep := ss.duplicates(copies)
	st.Duplicates, st.DuplicatesByOrderNumber, st.DuplicatesBySource = rep.Total, rep.ByOrderNumber, rep.BySource
	st.Shipments = len(ss.shipments)
	st.ShipmentsCreated, st.ShipmentsVoided, st.Batches = ss.shipmentsCreated, ss.shipmentsVoided, ss.batches
	st.WebhookSubscriptions = len(ss.hooks)
}

// ---- HTTP ----

// ssMessage is ShipStation's (ASP.NET Web API) error body.
type ssMessage struct {
	Message    string              `json:"Message"`
	ModelState map[string][]string `json:"ModelState,omitempty"`
}

func (ss *shipStation) handler() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST /orders/createorder", ss.createOrder)
	api.HandleFunc("POST /orders/createorders", ss.createOrders)
	api.HandleFunc("GET /orders", ss.listOrders)
	api.HandleFunc("GET /orders/{orderId}", ss.getOrder)
	api.HandleFunc("POST /orders/holduntil", ss.holdUntil)
	api.HandleFunc("GET /accounts/listtags", ss.listTags)
	api.HandleFunc("GET /shipments", ss.listShipments)
	api.HandleFunc("POST /webhooks/subscribe", ss.subscribeHook)
	api.HandleFunc("GET /webhooks", ss.listHooks)
	api.HandleFunc("DELETE /webhooks/{webhookId}", ss.deleteHook)
	api.Handle("/", methodFallback(api,
		func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, ssMessage{Message: fmt.Sprintf("No HTTP resource was found that matches the request URI '%s'.", r.URL.RequestURI())})
		},
		func(w http.ResponseWriter, r *http.Request, _ []string) {
			writeJSON(w, http.StatusMethodNotAllowed, ssMessage{Message: fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method)})
		}))
	admin := ss.adminMux()
	d := ss.dialect()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_sandbox" || strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			admin.ServeHTTP(w, r)
			return
		}
		ss.noteBase(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		ss.s.ssFront.serveAPI(w, r, d, ss.s.now(), api)
	})
}

func (ss *shipStation) dialect() apiDialect {
	return apiDialect{
		authenticate: func(r *http.Request) (string, bool) {
			k, sec, ok := r.BasicAuth()
			if !ok {
				return "", false
			}
			for _, p := range ss.s.opts.ShipStationKeys {
				if subtle.ConstantTimeCompare([]byte(k), []byte(p.Key)) == 1 && subtle.ConstantTimeCompare([]byte(sec), []byte(p.Secret)) == 1 {
					return p.Key + ":" + p.Secret, true
				}
			}
			return "", false
		},
		rateHeaders: func(h http.Header, st rlState) {
			h.Set("X-Rate-Limit-Limit", strconv.Itoa(st.quota))
			h.Set("X-Rate-Limit-Remaining", strconv.Itoa(st.left))
			h.Set("X-Rate-Limit-Reset", strconv.FormatInt(int64(math.Ceil(st.reset.Seconds())), 10))
		},
		unauthorized: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ShipStation"`)
			writeJSON(w, http.StatusUnauthorized, ssMessage{Message: "Authorization has been denied for this request."})
		},
		tooMany: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Requests"})
		},
		serverError: func(w http.ResponseWriter, r *http.Request, code int) {
			writeJSON(w, code, ssMessage{Message: "An error has occurred."})
		},
		routeName: func(p string) string {
			if p == "" || p == "/" {
				return "unmatched"
			}
			return p
		},
	}
}

// readBody reads a JSON body or explains why it cannot.
func readBody(r *http.Request) ([]byte, string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "The request body is too large."
		}
		return nil, "The request body could not be read."
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, "The request body is empty."
	}
	return body, ""
}

func (ss *shipStation) createOrder(w http.ResponseWriter, r *http.Request) {
	body, msg := readBody(r)
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{"apiOrder": {msg}}})
		return
	}
	var in SSOrder
	if err := json.Unmarshal(body, &in); err != nil {
		ss.countRejected()
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{"apiOrder": {"The order could not be read: " + err.Error()}}})
		return
	}
	out, errs, refusal := ss.upsert(in)
	switch {
	case len(errs) > 0:
		ms := map[string][]string{}
		for _, e := range errs {
			ms["apiOrder."+e.field] = append(ms["apiOrder."+e.field], e.msg)
		}
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: ms})
	case refusal != "":
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: refusal})
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func (ss *shipStation) countRejected() {
	ss.mu.Lock()
	ss.rejected++
	ss.mu.Unlock()
}

// maxCreateOrders is createorders' batch limit.
const maxCreateOrders = 100

func (ss *shipStation) createOrders(w http.ResponseWriter, r *http.Request) {
	body, msg := readBody(r)
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{"apiOrders": {msg}}})
		return
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: map[string][]string{"apiOrders": {"The body must be a JSON array of orders: " + err.Error()}}})
		return
	}
	if len(raws) > maxCreateOrders {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: fmt.Sprintf("A maximum of %d orders can be created or updated in a single request; %d were sent.", maxCreateOrders, len(raws))})
		return
	}
	type resp struct {
		HasErrors bool           `json:"hasErrors"`
		Results   []upsertResult `json:"results"`
	}
	out := resp{Results: make([]upsertResult, 0, len(raws))}
	for _, raw := range raws {
		var in SSOrder
		res := upsertResult{}
		if err := json.Unmarshal(raw, &in); err != nil {
			// Echo what can be read of the identity fields.
			var ident struct {
				OrderNumber any `json:"orderNumber"`
				OrderKey    any `json:"orderKey"`
			}
			_ = json.Unmarshal(raw, &ident)
			if s, ok := ident.OrderNumber.(string); ok {
				res.OrderNumber = &s
			}
			if s, ok := ident.OrderKey.(string); ok {
				res.OrderKey = &s
			}
			m := "The order could not be read: " + err.Error()
			res.ErrorMessage = &m
			ss.countRejected()
		} else {
			o, errs, refusal := ss.upsert(in)
			switch {
			case len(errs) > 0:
				m := joinFieldErrors(errs)
				res.ErrorMessage = &m
				res.OrderNumber, res.OrderKey = strPtrOrNil(in.OrderNumber), strPtrOrNil(in.OrderKey)
			case refusal != "":
				res.ErrorMessage = &refusal
				res.OrderNumber, res.OrderKey = strPtrOrNil(in.OrderNumber), strPtrOrNil(in.OrderKey)
			default:
				res.Success = true
				res.OrderID = o.OrderID
				res.OrderNumber, res.OrderKey = &o.OrderNumber, &o.OrderKey
			}
		}
		if !res.Success {
			out.HasErrors = true
		}
		out.Results = append(out.Results, res)
	}
	writeJSON(w, http.StatusOK, out)
}

// listTags serves GET /accounts/listtags: a bare JSON array of
// {tagId, name, color}, [] when the account has none.
func (ss *shipStation) listTags(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	out := append([]SSTag{}, ss.tags...)
	ss.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func strPtrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (ss *shipStation) getOrder(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("orderId"), 10, 64)
	now := ss.s.now()
	ss.mu.Lock()
	ss.releaseDueLocked(now)
	var rec *ssRecord
	if err == nil {
		rec = ss.byID[id]
	}
	var out SSOrder
	if rec != nil {
		out = rec.order.clone()
	}
	ss.mu.Unlock()
	if rec == nil {
		writeJSON(w, http.StatusNotFound, ssMessage{Message: fmt.Sprintf("Order not found: %s", r.PathValue("orderId"))})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type ssListFilter struct {
	orderNumber, orderStatus, customerName string
	storeID                                *int64
	ranges                                 []ssDateRange
}

type ssDateRange struct {
	field    func(o *SSOrder) string
	from, to *time.Time
}

func parseSSListFilter(q url.Values) (ssListFilter, map[string][]string) {
	f := ssListFilter{orderNumber: q.Get("orderNumber"), orderStatus: q.Get("orderStatus"), customerName: q.Get("customerName")}
	bad := map[string][]string{}
	if f.orderStatus != "" && !ssOrderStatuses[f.orderStatus] {
		bad["orderStatus"] = []string{fmt.Sprintf("The value '%s' is not valid for orderStatus.", f.orderStatus)}
	}
	if v := q.Get("storeId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad["storeId"] = []string{fmt.Sprintf("The value '%s' is not valid for storeId.", v)}
		} else {
			f.storeID = &n
		}
	}
	dateFields := []struct {
		prefix string
		field  func(o *SSOrder) string
	}{
		{"createDate", func(o *SSOrder) string { return o.CreateDate }},
		{"modifyDate", func(o *SSOrder) string { return o.ModifyDate }},
		{"orderDate", func(o *SSOrder) string { return o.OrderDate }},
		{"paymentDate", func(o *SSOrder) string {
			if o.PaymentDate == nil {
				return ""
			}
			return *o.PaymentDate
		}},
	}
	for _, df := range dateFields {
		rg := ssDateRange{field: df.field}
		for _, end := range []string{"Start", "End"} {
			v := q.Get(df.prefix + end)
			if v == "" {
				continue
			}
			t, err := ParseSSTime(v)
			if err != nil {
				bad[df.prefix+end] = []string{fmt.Sprintf("The value '%s' is not valid for %s%s.", v, df.prefix, end)}
				continue
			}
			if end == "Start" {
				rg.from = &t
			} else {
				rg.to = &t
			}
		}
		if rg.from != nil || rg.to != nil {
			f.ranges = append(f.ranges, rg)
		}
	}
	return f, bad
}

func (f *ssListFilter) match(o *SSOrder) bool {
	if f.orderNumber != "" && !strings.HasPrefix(strings.ToLower(o.OrderNumber), strings.ToLower(f.orderNumber)) {
		return false
	}
	if f.orderStatus != "" && o.OrderStatus != f.orderStatus {
		return false
	}
	if f.storeID != nil && o.StoreID() != *f.storeID {
		return false
	}
	if f.customerName != "" {
		n := strings.ToLower(f.customerName)
		found := false
		for _, a := range []*SSAddress{o.BillTo, o.ShipTo} {
			if a != nil && a.Name != nil && strings.Contains(strings.ToLower(*a.Name), n) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	for _, rg := range f.ranges {
		t, err := ParseSSTime(rg.field(o))
		if err != nil || (rg.from != nil && t.Before(*rg.from)) || (rg.to != nil && t.After(*rg.to)) {
			return false
		}
	}
	return true
}

func (ss *shipStation) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, bad := parseSSListFilter(q)
	page, pageSize := 1, 100
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad["page"] = []string{fmt.Sprintf("The value '%s' is not valid for page.", v)}
		} else {
			page = n
		}
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad["pageSize"] = []string{fmt.Sprintf("The value '%s' is not valid for pageSize; it must be between 1 and 500.", v)}
		} else {
			pageSize = n
		}
	}
	sortBy, sortDir := q.Get("sortBy"), strings.ToUpper(q.Get("sortDir"))
	if sortBy != "" && sortBy != "OrderDate" && sortBy != "ModifyDate" && sortBy != "CreateDate" {
		bad["sortBy"] = []string{fmt.Sprintf("The value '%s' is not valid for sortBy.", sortBy)}
	}
	if sortDir != "" && sortDir != "ASC" && sortDir != "DESC" {
		bad["sortDir"] = []string{fmt.Sprintf("The value '%s' is not valid for sortDir.", q.Get("sortDir"))}
	}
	if len(bad) > 0 {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: bad})
		return
	}
	now := ss.s.now()
	ss.mu.Lock()
	ss.releaseDueLocked(now)
	var all []SSOrder
	for _, id := range ss.ids {
		if o := &ss.byID[id].order; f.match(o) {
			all = append(all, o.clone())
		}
	}
	ss.mu.Unlock()
	if sortBy != "" {
		key := map[string]func(o *SSOrder) string{
			"OrderDate":  func(o *SSOrder) string { return o.OrderDate },
			"ModifyDate": func(o *SSOrder) string { return o.ModifyDate },
			"CreateDate": func(o *SSOrder) string { return o.CreateDate },
		}[sortBy]
		sort.SliceStable(all, func(i, j int) bool {
			ti, _ := ParseSSTime(key(&all[i]))
			tj, _ := ParseSSTime(key(&all[j]))
			if sortDir == "DESC" {
				return ti.After(tj)
			}
			return ti.Before(tj)
		})
	}
	type resp struct {
		Orders []SSOrder `json:"orders"`
		Total  int       `json:"total"`
		Page   int       `json:"page"`
		Pages  int       `json:"pages"`
	}
	out := resp{Orders: paginate(all, page, pageSize), Total: len(all), Page: page, Pages: (len(all) + pageSize - 1) / pageSize}
	if out.Orders == nil {
		out.Orders = []SSOrder{}
	}
	writeJSON(w, http.StatusOK, out)
}
