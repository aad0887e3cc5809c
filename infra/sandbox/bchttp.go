package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	maxBodyBytes   = 8 << 20
	bcStatusDocURL = "/api-docs/getting-started/api-status-codes"
)

func (b *bigCommerce) handler() http.Handler {
	api := http.NewServeMux()
	const v2, v3 = "/stores/{hash}/v2", "/stores/{hash}/v3"
	api.HandleFunc("GET "+v2+"/orders", b.listOrders)
	api.HandleFunc("GET "+v2+"/orders/count", b.countOrders)
	api.HandleFunc("GET "+v2+"/orders/{id}", b.getOrder)
	api.HandleFunc("PUT "+v2+"/orders/{id}", b.putOrder)
	api.HandleFunc("GET "+v2+"/orders/{id}/products", b.listProducts)
	api.HandleFunc("GET "+v2+"/orders/{id}/products/{pid}", b.getProduct)
	api.HandleFunc("GET "+v2+"/orders/{id}/shipping_addresses", b.listShippingAddresses)
	api.HandleFunc("GET "+v2+"/orders/{id}/shipments", b.listShipments)
	api.HandleFunc("POST "+v2+"/orders/{id}/shipments", b.postShipment)
	api.HandleFunc("GET "+v2+"/orders/{id}/shipments/count", b.countShipments)
	api.HandleFunc("GET "+v2+"/orders/{id}/shipments/{sid}", b.getShipment)
	api.HandleFunc("PUT "+v2+"/orders/{id}/shipments/{sid}", b.putShipment)
	api.HandleFunc("DELETE "+v2+"/orders/{id}/shipments/{sid}", b.deleteShipment)
	api.HandleFunc("DELETE "+v2+"/orders/{id}/shipments", b.deleteAllShipments)
	api.HandleFunc("GET "+v2+"/order_statuses", b.orderStatuses)
	api.HandleFunc("GET "+v3+"/channels", b.listChannels)
	api.HandleFunc("GET "+v3+"/channels/{id}", b.getChannel)
	api.HandleFunc("GET "+v3+"/hooks", b.listHooks)
	api.HandleFunc("POST "+v3+"/hooks", b.createHook)
	api.HandleFunc("GET "+v3+"/hooks/{id}", b.getHook)
	api.HandleFunc("PUT "+v3+"/hooks/{id}", b.updateHook)
	api.HandleFunc("DELETE "+v3+"/hooks/{id}", b.deleteHook)
	api.Handle("/", methodFallback(api,
		func(w http.ResponseWriter, r *http.Request) { bcFail(w, r, errNotFound) },
		func(w http.ResponseWriter, r *http.Request, _ []string) {
			bcFail(w, r, &bcError{status: http.StatusMethodNotAllowed, message: "The requested method is not supported for this resource."})
		}))
	admin := b.adminMux()
	d := b.dialect()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_sandbox" || strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			admin.ServeHTTP(w, r)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/stores/") {
			bcFail(w, r, errNotFound)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		b.s.bcFront.serveAPI(w, r, d, b.s.now(), api)
	})
}

// storeHashOf extracts {hash} from /stores/{hash}/...
func storeHashOf(path string) string {
	rest := strings.TrimPrefix(path, "/stores/")
	h, _, _ := strings.Cut(rest, "/")
	return h
}

func isV3(r *http.Request) bool {
	return strings.Contains(r.URL.Path, "/v3/")
}

func (b *bigCommerce) dialect() apiDialect {
	return apiDialect{
		authenticate: func(r *http.Request) (string, bool) {
			hash := storeHashOf(r.URL.Path)
			b.mu.Lock()
			st := b.stores[hash]
			b.mu.Unlock()
			if st == nil {
				return "", false
			}
			tok := r.Header.Get("X-Auth-Token")
			for _, t := range st.cfg.Tokens {
				if tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
					return hash, true
				}
			}
			return "", false
		},
		rateHeaders: func(h http.Header, st rlState) {
			h.Set("X-Rate-Limit-Time-Window-Ms", strconv.FormatInt(st.window.Milliseconds(), 10))
			h.Set("X-Rate-Limit-Time-Reset-Ms", strconv.FormatInt(ceilMillis(st.reset), 10))
			h.Set("X-Rate-Limit-Requests-Quota", strconv.Itoa(st.quota))
			h.Set("X-Rate-Limit-Requests-Left", strconv.Itoa(st.left))
		},
		unauthorized: func(w http.ResponseWriter, r *http.Request) {
			if isV3(r) {
				writeJSON(w, http.StatusUnauthorized, bcV3Error{Status: 401, Title: "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.", Type: bcStatusDocURL, Errors: map[string]string{}})
				return
			}
			writeJSON(w, http.StatusUnauthorized, []bcV2Error{{Status: 401, Message: "You are not authorized to access this resource. The X-Auth-Token header is missing or invalid for this store."}})
		},
		tooMany: func(w http.ResponseWriter, r *http.Request) {
			if isV3(r) {
				writeJSON(w, http.StatusTooManyRequests, bcV3Error{Status: 429, Title: "Too many requests. Wait for X-Rate-Limit-Time-Reset-Ms milliseconds.", Type: bcStatusDocURL, Errors: map[string]string{}})
				return
			}
			writeJSON(w, http.StatusTooManyRequests, []bcV2Error{{Status: 429, Message: "Too many requests. Wait for X-Rate-Limit-Time-Reset-Ms milliseconds."}})
		},
		serverError: func(w http.ResponseWriter, r *http.Request, code int) {
			msg := http.StatusText(code)
			if isV3(r) {
				writeJSON(w, code, bcV3Error{Status: code, Title: msg, Type: bcStatusDocURL, Errors: map[string]string{}})
				return
			}
			writeJSON(w, code, []bcV2Error{{Status: code, Message: msg}})
		},
		routeName: func(p string) string {
			p = strings.Replace(p, "/stores/{hash}", "", 1)
			if p == "" || p == "/" {
				return "unmatched"
			}
			return p
		},
	}
}

func ceilMillis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(float64(d) / float64(time.Millisecond)))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code, body = http.StatusInternalServerError, []byte(`{"message":"sandbox: cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func noContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// bcFail writes a BigCommerce error: V2 `[{"status":..,"message":..}]`,
// V3 `{"status":..,"title":..,"type":..,"errors":{}}`.
func bcFail(w http.ResponseWriter, r *http.Request, e *bcError) {
	if isV3(r) {
		writeJSON(w, e.status, bcV3Error{Status: e.status, Title: e.message, Type: bcStatusDocURL, Errors: map[string]string{}})
		return
	}
	writeJSON(w, e.status, []bcV2Error{{Status: e.status, Message: e.message}})
}

// apiBase is the V2 root of the request's store, e.g. http://host/stores/abc/v2.
func apiBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return fmt.Sprintf("%s://%s/stores/%s/v2", scheme, r.Host, r.PathValue("hash"))
}

// pageParams reads page (default 1) and limit (default 50, at most 250).
func pageParams(q url.Values) (page, limit int, err *bcError) {
	page, limit = 1, 50
	if v := q.Get("page"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil {
			return 0, 0, badRequest("The field 'page' is invalid: %q is not an integer.", v)
		}
		if n > 1 {
			page = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil {
			return 0, 0, badRequest("The field 'limit' is invalid: %q is not an integer.", v)
		}
		if n > 0 {
			limit = min(n, 250)
		}
	}
	return page, limit, nil
}

func paginate[T any](xs []T, page, limit int) []T {
	start := (page - 1) * limit
	if start >= len(xs) {
		return nil
	}
	return xs[start:min(start+limit, len(xs))]
}

// lookupOrder finds the order of the request. Caller holds b.mu.
func (b *bigCommerce) lookupOrder(r *http.Request) (*bcStore, *BCOrder, *bcError) {
	st := b.stores[r.PathValue("hash")]
	if st == nil {
		return nil, nil, errNotFound
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		return st, nil, errNotFound
	}
	o := st.orders[id]
	if o == nil || o.IsDeleted {
		return st, nil, errNotFound
	}
	return st, o, nil
}

type orderFilter struct {
	minID, maxID             *int
	statusID, customerID     *int
	channelID                *int
	minTotal, maxTotal       *int64
	email, externalOrderID   string
	minCreated, maxCreated   *time.Time
	minModified, maxModified *time.Time
}

func parseOrderFilter(q url.Values) (orderFilter, *bcError) {
	var f orderFilter
	ints := []struct {
		name string
		dst  **int
	}{{"min_id", &f.minID}, {"max_id", &f.maxID}, {"status_id", &f.statusID}, {"customer_id", &f.customerID}, {"channel_id", &f.channelID}}
	for _, p := range ints {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return f, badRequest("The filter '%s' is invalid: %q is not an integer.", p.name, v)
			}
			*p.dst = &n
		}
	}
	totals := []struct {
		name string
		dst  **int64
	}{{"min_total", &f.minTotal}, {"max_total", &f.maxTotal}}
	for _, p := range totals {
		if v := q.Get(p.name); v != "" {
			c, err := parseMoneyCents(v)
			if err != nil {
				return f, badRequest("The filter '%s' is invalid: %q is not a number.", p.name, v)
			}
			*p.dst = &c
		}
	}
	dates := []struct {
		name string
		dst  **time.Time
	}{{"min_date_created", &f.minCreated}, {"max_date_created", &f.maxCreated}, {"min_date_modified", &f.minModified}, {"max_date_modified", &f.maxModified}}
	for _, p := range dates {
		if v := q.Get(p.name); v != "" {
			t, err := parseBCDate(v)
			if err != nil {
				return f, badRequest("The filter '%s' is invalid: %q is not an RFC-2822 or ISO-8601 date.", p.name, v)
			}
			*p.dst = &t
		}
	}
	f.email = q.Get("email")
	f.externalOrderID = q.Get("external_order_id")
	return f, nil
}

func (f *orderFilter) match(o *BCOrder) bool {
	switch {
	case o.IsDeleted,
		f.minID != nil && o.ID < *f.minID,
		f.maxID != nil && o.ID > *f.maxID,
		f.statusID != nil && o.StatusID != *f.statusID,
		f.customerID != nil && o.CustomerID != *f.customerID,
		f.channelID != nil && o.ChannelID != *f.channelID,
		f.minTotal != nil && o.TotalIncTaxCents() < *f.minTotal,
		f.maxTotal != nil && o.TotalIncTaxCents() > *f.maxTotal,
		f.email != "" && !strings.EqualFold(f.email, o.Billing.Email),
		f.externalOrderID != "" && f.externalOrderID != o.ExternalOrderID,
		f.minCreated != nil && o.DateCreated.Before(*f.minCreated),
		f.maxCreated != nil && o.DateCreated.After(*f.maxCreated),
		f.minModified != nil && o.DateModified.Before(*f.minModified),
		f.maxModified != nil && o.DateModified.After(*f.maxModified):
		return false
	}
	return true
}

var orderSortKeys = map[string]func(a, b *BCOrder) int{
	"id":            func(a, b *BCOrder) int { return cmpInt(a.ID, b.ID) },
	"customer_id":   func(a, b *BCOrder) int { return cmpInt(a.CustomerID, b.CustomerID) },
	"date_created":  func(a, b *BCOrder) int { return a.DateCreated.Compare(b.DateCreated) },
	"date_modified": func(a, b *BCOrder) int { return a.DateModified.Compare(b.DateModified) },
	"status_id":     func(a, b *BCOrder) int { return cmpInt(a.StatusID, b.StatusID) },
	"channel_id":    func(a, b *BCOrder) int { return cmpInt(a.ChannelID, b.ChannelID) },
	"external_id":   func(a, b *BCOrder) int { return strings.Compare(a.ExternalID, b.ExternalID) },
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (b *bigCommerce) filteredOrders(r *http.Request) ([]*BCOrder, *bcError) {
	q := r.URL.Query()
	f, e := parseOrderFilter(q)
	if e != nil {
		return nil, e
	}
	st := b.stores[r.PathValue("hash")]
	if st == nil {
		return nil, errNotFound
	}
	var out []*BCOrder
	for _, id := range st.ids {
		if o := st.orders[id]; f.match(o) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (b *bigCommerce) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, limit, e := pageParams(q)
	if e != nil {
		bcFail(w, r, e)
		return
	}
	cmp := orderSortKeys["id"]
	desc := false
	if v := q.Get("sort"); v != "" {
		field, dir, _ := strings.Cut(v, ":")
		c, ok := orderSortKeys[field]
		if !ok || (dir != "" && dir != "asc" && dir != "desc") {
			bcFail(w, r, badRequest("The field 'sort' is invalid: %q.", v))
			return
		}
		cmp, desc = c, dir == "desc"
	}
	b.mu.Lock()
	orders, e := b.filteredOrders(r)
	if e != nil {
		b.mu.Unlock()
		bcFail(w, r, e)
		return
	}
	sort.SliceStable(orders, func(i, j int) bool {
		c := cmp(orders[i], orders[j])
		if c == 0 {
			c = cmpInt(orders[i].ID, orders[j].ID)
			return c < 0
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
	base := apiBase(r)
	pageOrders := paginate(orders, page, limit)
	out := make([]bcOrderWire, 0, len(pageOrders))
	for _, o := range pageOrders {
		out = append(out, orderWire(o, base))
	}
	b.mu.Unlock()
	if len(out) == 0 {
		noContent(w)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (b *bigCommerce) countOrders(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	orders, e := b.filteredOrders(r)
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	counts := make([]int, len(bcStatusNames))
	for _, o := range orders {
		if o.StatusID >= 0 && o.StatusID < len(counts) {
			counts[o.StatusID]++
		}
	}
	type resp struct {
		Statuses []bcStatusWire `json:"statuses"`
		Count    int            `json:"count"`
	}
	out := resp{Count: len(orders)}
	for _, sw := range statusList() {
		n := counts[sw.ID]
		sw.Count = &n
		out.Statuses = append(out.Statuses, sw)
	}
	writeJSON(w, http.StatusOK, out)
}

func statusList() []bcStatusWire {
	out := make([]bcStatusWire, 0, len(bcStatusNames))
	for id, name := range bcStatusNames {
		out = append(out, bcStatusWire{ID: id, Name: name, SystemLabel: name, CustomLabel: name, SystemDescription: name + ".", SortOrder: id})
	}
	return out
}

func (b *bigCommerce) orderStatuses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusList())
}

func (b *bigCommerce) getOrder(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	_, o, e := b.lookupOrder(r)
	var out bcOrderWire
	if e == nil {
		out = orderWire(o, apiBase(r))
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// orderPut is the subset of PUT /v2/orders/{id} the sandbox applies.
type orderPut struct {
	StatusID        *int    `json:"status_id"`
	StaffNotes      *string `json:"staff_notes"`
	CustomerMessage *string `json:"customer_message"`
	ExternalOrderID *string `json:"external_order_id"`
}

func (b *bigCommerce) putOrder(w http.ResponseWriter, r *http.Request) {
	var req orderPut
	if e := decodeBody(r, &req); e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	if e == nil && req.StatusID != nil && StatusName(*req.StatusID) == "" {
		e = badRequest("The field 'status_id' is invalid: %d is not an order status.", *req.StatusID)
	}
	var out bcOrderWire
	if e == nil {
		c := o.clone()
		if req.StatusID != nil {
			c.StatusID = *req.StatusID
		}
		if req.StaffNotes != nil {
			c.StaffNotes = *req.StaffNotes
		}
		if req.CustomerMessage != nil {
			c.CustomerMessage = *req.CustomerMessage
		}
		if req.ExternalOrderID != nil {
			c.ExternalOrderID = *req.ExternalOrderID
		}
		b.applyUpdate(st, o, c)
		out = orderWire(o, apiBase(r))
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeBody decodes a JSON request body, reporting why it is invalid.
func decodeBody(r *http.Request, v any) *bcError {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &bcError{status: http.StatusRequestEntityTooLarge, message: "The request body is too large."}
		}
		return badRequest("The request body could not be read: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("The request body is empty; a JSON object is required.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("The request body is not valid JSON for this resource: %v", err)
	}
	return nil
}

func (b *bigCommerce) listProducts(w http.ResponseWriter, r *http.Request) {
	page, limit, e := pageParams(r.URL.Query())
	if e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	_, o, e := b.lookupOrder(r)
	var out []bcProductWire
	if e == nil {
		all := make([]bcProductWire, 0, len(o.Lines))
		for i := range o.Lines {
			all = append(all, productWire(o, &o.Lines[i]))
		}
		out = paginate(all, page, limit)
	}
	b.mu.Unlock()
	switch {
	case e != nil:
		bcFail(w, r, e)
	case len(out) == 0:
		noContent(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func (b *bigCommerce) getProduct(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	_, o, e := b.lookupOrder(r)
	var out bcProductWire
	if e == nil {
		pid, err := strconv.Atoi(r.PathValue("pid"))
		line, ok := o.Line(pid)
		if err != nil || !ok {
			e = errNotFound
		} else {
			out = productWire(o, line)
		}
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (b *bigCommerce) listShippingAddresses(w http.ResponseWriter, r *http.Request) {
	page, limit, e := pageParams(r.URL.Query())
	if e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	_, o, e := b.lookupOrder(r)
	var out []bcShippingAddressWire
	if e == nil {
		base := apiBase(r)
		all := make([]bcShippingAddressWire, 0, len(o.ShippingAddresses))
		for i := range o.ShippingAddresses {
			all = append(all, shippingAddressWire(o, &o.ShippingAddresses[i], base))
		}
		out = paginate(all, page, limit)
	}
	b.mu.Unlock()
	switch {
	case e != nil:
		bcFail(w, r, e)
	case len(out) == 0:
		noContent(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func (b *bigCommerce) listShipments(w http.ResponseWriter, r *http.Request) {
	page, limit, e := pageParams(r.URL.Query())
	if e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	var out []bcShipmentWire
	if e == nil {
		var all []bcShipmentWire
		for _, sh := range st.shipped[o.ID] {
			all = append(all, shipmentWire(o, sh))
		}
		out = paginate(all, page, limit)
	}
	b.mu.Unlock()
	switch {
	case e != nil:
		bcFail(w, r, e)
	case len(out) == 0:
		noContent(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func (b *bigCommerce) countShipments(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	n := 0
	if e == nil {
		n = len(st.shipped[o.ID])
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

func (b *bigCommerce) getShipment(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	var out *bcShipmentWire
	if e == nil {
		sid, _ := strconv.Atoi(r.PathValue("sid"))
		for _, sh := range st.shipped[o.ID] {
			if sh.ID == sid {
				x := shipmentWire(o, sh)
				out = &x
			}
		}
		if out == nil {
			e = errNotFound
		}
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (b *bigCommerce) postShipment(w http.ResponseWriter, r *http.Request) {
	var req shipmentPost
	if e := decodeBody(r, &req); e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	var out bcShipmentWire
	if e == nil {
		var sh *BCShipment
		sh, e = b.createShipment(st, o.ID, req)
		if e == nil {
			out = shipmentWire(o, sh)
		}
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (b *bigCommerce) putShipment(w http.ResponseWriter, r *http.Request) {
	var req shipmentPut
	if e := decodeBody(r, &req); e != nil {
		bcFail(w, r, e)
		return
	}
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	var out bcShipmentWire
	if e == nil {
		sid, err := strconv.Atoi(r.PathValue("sid"))
		if err != nil {
			e = errNotFound
		} else {
			var sh *BCShipment
			if sh, e = b.updateShipment(st, o, sid, req); e == nil {
				out = shipmentWire(o, sh)
			}
		}
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (b *bigCommerce) deleteShipment(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	if e == nil {
		sid, err := strconv.Atoi(r.PathValue("sid"))
		if err != nil || sid <= 0 {
			e = errNotFound
		} else {
			e = b.deleteShipments(st, o, sid)
		}
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	noContent(w)
}

func (b *bigCommerce) deleteAllShipments(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	st, o, e := b.lookupOrder(r)
	if e == nil {
		e = b.deleteShipments(st, o, 0)
	}
	b.mu.Unlock()
	if e != nil {
		bcFail(w, r, e)
		return
	}
	noContent(w)
}

func (b *bigCommerce) channelWire(c Channel) bcChannelWire {
	created := "2026-01-05T14:54:51Z"
	return bcChannelWire{
		ID: c.ID, ExternalID: "", IsListableFromUI: true, IsEnabled: c.Status != "inactive" && c.Status != "disconnected",
		IsVisible: true, Status: c.Status, Name: c.Name, Type: c.Type, Platform: c.Platform,
		DateCreated: created, DateModified: created,
		IconURL: "https://storage.googleapis.com/bigcommerce-production-dev-center/images/" + c.Platform + "_icon.svg",
	}
}

func (b *bigCommerce) getChannel(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	b.mu.Lock()
	c, ok := b.channels[id]
	b.mu.Unlock()
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, bcV3Error{Status: 404, Title: "Not found", Type: bcStatusDocURL, Errors: map[string]string{}})
		return
	}
	cw := b.channelWire(c)
	cw.EnabledCurrencies, cw.DefaultCurrency = []string{"USD"}, "USD"
	writeJSON(w, http.StatusOK, map[string]any{"data": cw, "meta": map[string]any{}})
}

func (b *bigCommerce) listChannels(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	ids := make([]int, 0, len(b.channels))
	for id := range b.channels {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]bcChannelWire, 0, len(ids))
	for _, id := range ids {
		out = append(out, b.channelWire(b.channels[id]))
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}

// hookBody is the body of POST/PUT /v3/hooks.
type hookBody struct {
	Scope       *string           `json:"scope"`
	Destination *string           `json:"destination"`
	IsActive    *bool             `json:"is_active"`
	Headers     map[string]string `json:"headers"`
}

func hookWireOf(h *Webhook) Webhook {
	c := *h
	c.Headers = copyHeaders(h.Headers)
	return c
}

func validDestination(d string) bool {
	u, err := url.Parse(d)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func hook422(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, bcV3Error{Status: 422, Title: "JSON data is missing or invalid", Type: bcStatusDocURL, Errors: map[string]string{field: msg}})
}

func (b *bigCommerce) createHook(w http.ResponseWriter, r *http.Request) {
	var req hookBody
	if e := decodeBody(r, &req); e != nil {
		writeJSON(w, http.StatusBadRequest, bcV3Error{Status: 400, Title: "Input is invalid. " + e.message, Type: bcStatusDocURL, Errors: map[string]string{}})
		return
	}
	switch {
	case req.Scope == nil || *req.Scope == "":
		hook422(w, "scope", "error.path.missing")
		return
	case !strings.HasPrefix(*req.Scope, "store/"):
		hook422(w, "scope", "error.scope.invalid")
		return
	case req.Destination == nil || *req.Destination == "":
		hook422(w, "destination", "error.path.missing")
		return
	case !validDestination(*req.Destination):
		// BigCommerce only accepts https on port 443; the sandbox also
		// accepts http so that loopback test servers can subscribe.
		hook422(w, "destination", "error.url.invalid")
		return
	}
	active := true
	if req.IsActive != nil {
		active = *req.IsActive
	}
	b.mu.Lock()
	st := b.stores[r.PathValue("hash")]
	h := b.addHook(st, *req.Scope, *req.Destination, req.Headers, active)
	out := hookWireOf(h)
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}

func (b *bigCommerce) listHooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, limit, e := pageParams(q)
	if e != nil {
		writeJSON(w, http.StatusBadRequest, bcV3Error{Status: 400, Title: e.message, Type: bcStatusDocURL, Errors: map[string]string{}})
		return
	}
	b.mu.Lock()
	st := b.stores[r.PathValue("hash")]
	var all []Webhook
	for _, h := range st.hooks {
		if v := q.Get("is_active"); v != "" && strconv.FormatBool(h.IsActive) != v {
			continue
		}
		if v := q.Get("scope"); v != "" && h.Scope != v {
			continue
		}
		if v := q.Get("destination"); v != "" && h.Destination != v {
			continue
		}
		all = append(all, hookWireOf(h))
	}
	b.mu.Unlock()
	out := paginate(all, page, limit)
	if out == nil {
		out = []Webhook{}
	}
	pages := (len(all) + limit - 1) / limit
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{"pagination": map[string]any{
		"total": len(all), "count": len(out), "per_page": limit, "current_page": page, "total_pages": pages, "links": map[string]any{},
	}}})
}

func (b *bigCommerce) findHook(r *http.Request) (*bcStore, *Webhook) {
	st := b.stores[r.PathValue("hash")]
	id, err := strconv.Atoi(r.PathValue("id"))
	if st == nil || err != nil {
		return st, nil
	}
	for _, h := range st.hooks {
		if h.ID == id {
			return st, h
		}
	}
	return st, nil
}

func hook404(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, bcV3Error{Status: 404, Title: fmt.Sprintf("Webhook with id [%s] not found", r.PathValue("id")), Type: bcStatusDocURL, Errors: map[string]string{}})
}

func (b *bigCommerce) getHook(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	_, h := b.findHook(r)
	var out Webhook
	if h != nil {
		out = hookWireOf(h)
	}
	b.mu.Unlock()
	if h == nil {
		hook404(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}

func (b *bigCommerce) updateHook(w http.ResponseWriter, r *http.Request) {
	var req hookBody
	if e := decodeBody(r, &req); e != nil {
		writeJSON(w, http.StatusBadRequest, bcV3Error{Status: 400, Title: "Input is invalid. " + e.message, Type: bcStatusDocURL, Errors: map[string]string{}})
		return
	}
	if req.Destination != nil && !validDestination(*req.Destination) {
		hook422(w, "destination", "error.url.invalid")
		return
	}
	if req.Scope != nil && !strings.HasPrefix(*req.Scope, "store/") {
		hook422(w, "scope", "error.scope.invalid")
		return
	}
	b.mu.Lock()
	_, h := b.findHook(r)
	var out Webhook
	if h != nil {
		if req.Scope != nil {
			h.Scope = *req.Scope
		}
		if req.Destination != nil {
			h.Destination = *req.Destination
		}
		if req.IsActive != nil {
			h.IsActive = *req.IsActive
		}
		if req.Headers != nil {
			h.Headers = copyHeaders(req.Headers)
		}
		h.UpdatedAt = b.s.now().Unix()
		out = hookWireOf(h)
	}
	b.mu.Unlock()
	if h == nil {
		hook404(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}

func (b *bigCommerce) deleteHook(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	st, h := b.findHook(r)
	var out Webhook
	if h != nil {
		out = hookWireOf(h)
		for i, x := range st.hooks {
			if x == h {
				st.hooks = append(st.hooks[:i], st.hooks[i+1:]...)
				break
			}
		}
	}
	b.mu.Unlock()
	if h == nil {
		hook404(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}
