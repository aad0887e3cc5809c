package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Admin endpoints (both servers unless noted), JSON in and out:
//
//	GET       /_sandbox/stats             Stats of the whole sandbox
//	GET       /_sandbox/faults            this server's fault knobs
//	PUT|POST  /_sandbox/faults            merge knobs: {"rate_429":0.1,"rate_5xx":0,"rate_lost_response":0,
//	                                      "latency_ms":20,"latency_jitter_ms":10,"webhook_drop_rate":0,"webhook_duplicate_rate":0}
//	GET       /_sandbox/ratelimit         {"quota":150,"window_ms":30000}
//	PUT|POST  /_sandbox/ratelimit         set quota and/or window_ms (counters restart)
//	POST      /_sandbox/ratelimit/reset   empty the current windows
//
// BigCommerce server only:
//
//	POST /_sandbox/orders                 {"count":N,"store_hash":""} random orders, or {"spec":{OrderSpec}}
//	GET  /_sandbox/orders?store_hash=     all orders (BCOrder JSON)
//	POST /_sandbox/orders/{id}            {"store_hash":"","status_id":5,"staff_notes":"..","customer_message":".."}
//	GET  /_sandbox/shipments?store_hash=&order_id=
//	GET  /_sandbox/webhooks?store_hash=   registered hooks
//	POST /_sandbox/webhooks               WebhookDestination {"url":..,"headers":{..},"scopes":[..],"signing_secret":..}
//	POST /_sandbox/webhooks/flush?timeout_ms=5000   wait for queued deliveries
//	GET  /_sandbox/webhooks/log           recent deliveries
//	GET  /_sandbox/pii?store_hash=        PII strings of all orders (for log scans)
//
// ShipStation server only:
//
//	GET  /_sandbox/orders                 [{order_key, order_id, order_number, store_id, order_status, created_at, modified_at, updates}]
//	GET  /_sandbox/duplicates             DuplicateReport
//	POST /_sandbox/orders/status          {"order_key":"..","order_status":"shipped"}
//	GET  /_sandbox/shipments?order_key=&batch_id=   labels with items ([]SSShipment)
//	POST /_sandbox/shipments              {"order_key":"..","packages":[[{"order_item_id":1,"line_item_key":"..","quantity":1}]],
//	                                      "carrier_code":"","service_code":""} -> the new shipments (ShipOrder)
//	POST /_sandbox/shipments/combined     {"order_keys":[..],"carrier_code":"","service_code":""} (ShipCombined)
//	POST /_sandbox/shipments/{id}/void    VoidShipment
//	POST /_sandbox/shipments/{id}/relabel Relabel -> the new shipment
//	GET  /_sandbox/warehouse              {"enabled":false,"delay_ms":2000,"split_rate":0,"combine_rate":0,"void_rate":0}
//	PUT|POST /_sandbox/warehouse          merge the same fields
//	POST /_sandbox/warehouse/tick         one warehouse pass now -> the new shipments
//	GET  /_sandbox/webhooks               V1 webhook subscriptions ([]SSWebhook)
//	POST /_sandbox/webhooks               {"target_url":"..","event":"SHIP_NOTIFY"} -> {"id":..}
//	POST /_sandbox/webhooks/flush?timeout_ms=5000   wait for queued SHIP_NOTIFY deliveries
//	GET  /_sandbox/webhooks/log           recent SHIP_NOTIFY deliveries

type faultsView struct {
	Rate429              *float64 `json:"rate_429"`
	Rate5xx              *float64 `json:"rate_5xx"`
	RateLostResponse     *float64 `json:"rate_lost_response"`
	LatencyMS            *float64 `json:"latency_ms"`
	LatencyJitterMS      *float64 `json:"latency_jitter_ms"`
	WebhookDropRate      *float64 `json:"webhook_drop_rate"`
	WebhookDuplicateRate *float64 `json:"webhook_duplicate_rate"`
}

func viewOf(f Faults) faultsView {
	p := func(v float64) *float64 { return &v }
	return faultsView{
		Rate429: p(f.Rate429), Rate5xx: p(f.Rate5xx), RateLostResponse: p(f.RateLostResponse),
		LatencyMS: p(float64(f.Latency) / float64(time.Millisecond)), LatencyJitterMS: p(float64(f.LatencyJitter) / float64(time.Millisecond)),
		WebhookDropRate: p(f.WebhookDropRate), WebhookDuplicateRate: p(f.WebhookDuplicateRate),
	}
}

// apply merges the non-nil fields of v into f.
func (v faultsView) apply(f Faults) (Faults, error) {
	rates := []struct {
		name string
		src  *float64
		dst  *float64
	}{
		{"rate_429", v.Rate429, &f.Rate429}, {"rate_5xx", v.Rate5xx, &f.Rate5xx}, {"rate_lost_response", v.RateLostResponse, &f.RateLostResponse},
		{"webhook_drop_rate", v.WebhookDropRate, &f.WebhookDropRate}, {"webhook_duplicate_rate", v.WebhookDuplicateRate, &f.WebhookDuplicateRate},
	}
	for _, r := range rates {
		if r.src == nil {
			continue
		}
		if *r.src < 0 || *r.src > 1 {
			return f, fmt.Errorf("%s must be between 0 and 1", r.name)
		}
		*r.dst = *r.src
	}
	for _, d := range []struct {
		name string
		src  *float64
		dst  *time.Duration
	}{{"latency_ms", v.LatencyMS, &f.Latency}, {"latency_jitter_ms", v.LatencyJitterMS, &f.LatencyJitter}} {
		if d.src == nil {
			continue
		}
		if *d.src < 0 || *d.src > 600000 {
			return f, fmt.Errorf("%s must be between 0 and 600000", d.name)
		}
		*d.dst = time.Duration(*d.src * float64(time.Millisecond))
	}
	return f, nil
}

func adminError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// decodeAdmin decodes an optional JSON body into v.
func decodeAdmin(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("cannot read body: %w", err)
	}
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// commonAdmin registers the endpoints both servers share.
func (s *Sandbox) commonAdmin(mux *http.ServeMux, f *front) {
	mux.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, viewOf(f.getFaults()))
	})
	setFaults := func(w http.ResponseWriter, r *http.Request) {
		var v faultsView
		if err := decodeAdmin(r, &v); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		nf, err := v.apply(f.getFaults())
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		f.setFaults(nf)
		writeJSON(w, http.StatusOK, viewOf(nf))
	}
	mux.HandleFunc("PUT /_sandbox/faults", setFaults)
	mux.HandleFunc("POST /_sandbox/faults", setFaults)
	type rlView struct {
		Quota    int   `json:"quota"`
		WindowMS int64 `json:"window_ms"`
	}
	mux.HandleFunc("GET /_sandbox/ratelimit", func(w http.ResponseWriter, r *http.Request) {
		q, win := f.limiter.settings()
		writeJSON(w, http.StatusOK, rlView{Quota: q, WindowMS: win.Milliseconds()})
	})
	setRL := func(w http.ResponseWriter, r *http.Request) {
		var v rlView
		if err := decodeAdmin(r, &v); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if v.Quota < 0 || v.WindowMS < 0 {
			adminError(w, http.StatusBadRequest, fmt.Errorf("quota and window_ms must not be negative"))
			return
		}
		f.limiter.configure(v.Quota, time.Duration(v.WindowMS)*time.Millisecond)
		q, win := f.limiter.settings()
		writeJSON(w, http.StatusOK, rlView{Quota: q, WindowMS: win.Milliseconds()})
	}
	mux.HandleFunc("PUT /_sandbox/ratelimit", setRL)
	mux.HandleFunc("POST /_sandbox/ratelimit", setRL)
	mux.HandleFunc("POST /_sandbox/ratelimit/reset", func(w http.ResponseWriter, r *http.Request) {
		f.limiter.reset()
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	})
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, fmt.Errorf("no sandbox admin endpoint %s %s", r.Method, r.URL.Path))
	})
}

func (b *bigCommerce) adminMux() *http.ServeMux {
	s := b.s
	mux := http.NewServeMux()
	s.commonAdmin(mux, s.bcFront)
	mux.HandleFunc("POST /_sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Count     int             `json:"count"`
			StoreHash string          `json:"store_hash"`
			Spec      json.RawMessage `json:"spec"`
		}
		req.Count = 1
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if len(req.Spec) > 0 && string(req.Spec) != "null" {
			// A missing status_id means Awaiting Fulfillment here, not Incomplete.
			spec := OrderSpec{StatusID: StatusAwaitingFulfillment, StoreHash: req.StoreHash}
			if err := json.Unmarshal(req.Spec, &spec); err != nil {
				adminError(w, http.StatusBadRequest, fmt.Errorf("invalid spec: %w", err))
				return
			}
			o, err := s.CreateOrder(spec)
			if err != nil {
				adminError(w, http.StatusBadRequest, err)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]any{"orders": []BCOrder{o}})
			return
		}
		if req.Count < 1 || req.Count > 100000 {
			adminError(w, http.StatusBadRequest, fmt.Errorf("count must be between 1 and 100000"))
			return
		}
		orders, err := s.CreateRandomOrders(req.StoreHash, req.Count)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"orders": orders})
	})
	mux.HandleFunc("GET /_sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		out := s.Orders(r.URL.Query().Get("store_hash"))
		if out == nil {
			out = []BCOrder{}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /_sandbox/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("invalid order id"))
			return
		}
		var req struct {
			StoreHash       string  `json:"store_hash"`
			StatusID        *int    `json:"status_id"`
			StaffNotes      *string `json:"staff_notes"`
			CustomerMessage *string `json:"customer_message"`
		}
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		o, err := s.UpdateOrder(req.StoreHash, id, func(o *BCOrder) {
			if req.StatusID != nil {
				o.StatusID = *req.StatusID
			}
			if req.StaffNotes != nil {
				o.StaffNotes = *req.StaffNotes
			}
			if req.CustomerMessage != nil {
				o.CustomerMessage = *req.CustomerMessage
			}
		})
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, o)
	})
	mux.HandleFunc("GET /_sandbox/shipments", func(w http.ResponseWriter, r *http.Request) {
		oid, _ := strconv.Atoi(r.URL.Query().Get("order_id"))
		out := s.Shipments(r.URL.Query().Get("store_hash"), oid)
		if out == nil {
			out = []BCShipment{}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		out := s.Webhooks(r.URL.Query().Get("store_hash"))
		if out == nil {
			out = []Webhook{}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var d WebhookDestination
		if err := decodeAdmin(r, &d); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		ids, err := s.AddWebhook(d)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"ids": ids})
	})
	mux.HandleFunc("POST /_sandbox/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		timeout := 5 * time.Second
		if v := r.URL.Query().Get("timeout_ms"); v != "" {
			if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
				timeout = time.Duration(ms) * time.Millisecond
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := s.FlushWebhooks(ctx); err != nil {
			adminError(w, http.StatusGatewayTimeout, fmt.Errorf("webhooks still pending: %w", err))
			return
		}
		writeJSON(w, http.StatusOK, s.hooks.snapshot())
	})
	mux.HandleFunc("GET /_sandbox/webhooks/log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.WebhookLog())
	})
	mux.HandleFunc("GET /_sandbox/pii", func(w http.ResponseWriter, r *http.Request) {
		out := s.PIIValues(r.URL.Query().Get("store_hash"))
		if out == nil {
			out = []string{}
		}
		writeJSON(w, http.StatusOK, out)
	})
	return mux
}

// SSOrderInfo is the sandbox's bookkeeping of one ShipStation order.
type SSOrderInfo struct {
	OrderKey    string    `json:"order_key"`
	OrderID     int64     `json:"order_id"`
	OrderNumber string    `json:"order_number"`
	StoreID     int64     `json:"store_id"`
	OrderStatus string    `json:"order_status"`
	CreatedAt   time.Time `json:"created_at"`
	ModifiedAt  time.Time `json:"modified_at"`
	Updates     int       `json:"updates"`
}

// ShipStationOrderInfos returns the bookkeeping of every stored order, by
// ascending orderId: first-created time, last upsert time, upsert count.
func (s *Sandbox) ShipStationOrderInfos() []SSOrderInfo {
	ss := s.ss
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]SSOrderInfo, 0, len(ss.ids))
	for _, id := range ss.ids {
		rec := ss.byID[id]
		out = append(out, SSOrderInfo{
			OrderKey: rec.order.OrderKey, OrderID: rec.order.OrderID, OrderNumber: rec.order.OrderNumber,
			StoreID: rec.order.StoreID(), OrderStatus: rec.order.OrderStatus,
			CreatedAt: rec.createdAt, ModifiedAt: rec.modifiedAt, Updates: rec.updates,
		})
	}
	return out
}

func (ss *shipStation) adminMux() *http.ServeMux {
	s := ss.s
	mux := http.NewServeMux()
	s.commonAdmin(mux, s.ssFront)
	mux.HandleFunc("GET /_sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ShipStationOrderInfos())
	})
	mux.HandleFunc("GET /_sandbox/duplicates", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ShipStationDuplicates())
	})
	ss.shipmentAdmin(mux)
	mux.HandleFunc("POST /_sandbox/orders/status", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OrderKey    string `json:"order_key"`
			OrderStatus string `json:"order_status"`
		}
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.SetShipStationOrderStatus(req.OrderKey, req.OrderStatus); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"order_key": req.OrderKey, "order_status": req.OrderStatus})
	})
	return mux
}

// warehouseView is the admin JSON of the warehouse settings.
type warehouseView struct {
	Enabled     *bool    `json:"enabled"`
	DelayMS     *float64 `json:"delay_ms"`
	SplitRate   *float64 `json:"split_rate"`
	CombineRate *float64 `json:"combine_rate"`
	VoidRate    *float64 `json:"void_rate"`
}

func (s *Sandbox) warehouseView() warehouseView {
	on := s.WarehouseEnabled()
	ms := float64(s.WarehouseDelay()) / float64(time.Millisecond)
	f := s.WarehouseFaults()
	return warehouseView{Enabled: &on, DelayMS: &ms, SplitRate: &f.SplitRate, CombineRate: &f.CombineRate, VoidRate: &f.VoidRate}
}

// apply validates v and applies its non-nil fields.
func (v warehouseView) apply(s *Sandbox) error {
	f := s.WarehouseFaults()
	for _, r := range []struct {
		name string
		src  *float64
		dst  *float64
	}{{"split_rate", v.SplitRate, &f.SplitRate}, {"combine_rate", v.CombineRate, &f.CombineRate}, {"void_rate", v.VoidRate, &f.VoidRate}} {
		if r.src == nil {
			continue
		}
		if *r.src < 0 || *r.src > 1 {
			return fmt.Errorf("%s must be between 0 and 1", r.name)
		}
		*r.dst = *r.src
	}
	if v.DelayMS != nil && (*v.DelayMS <= 0 || *v.DelayMS > 86400000) {
		return fmt.Errorf("delay_ms must be between 0 (excluded) and 86400000")
	}
	s.SetWarehouseFaults(f)
	if v.DelayMS != nil {
		s.SetWarehouseDelay(time.Duration(*v.DelayMS * float64(time.Millisecond)))
	}
	if v.Enabled != nil {
		s.SetWarehouseEnabled(*v.Enabled)
	}
	return nil
}

func nonNilShipments(x []SSShipment) []SSShipment {
	if x == nil {
		return []SSShipment{}
	}
	return x
}

// shipmentAdmin registers the ShipStation shipment, warehouse and webhook
// admin endpoints.
func (ss *shipStation) shipmentAdmin(mux *http.ServeMux) {
	s := ss.s
	mux.HandleFunc("GET /_sandbox/shipments", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("order_key")
		batch, _ := strconv.ParseInt(r.URL.Query().Get("batch_id"), 10, 64)
		var out []SSShipment
		for _, sh := range s.ShipStationShipments() {
			if (key == "" || sh.OrderKey == key) && (batch == 0 || sh.BatchID == batch) {
				out = append(out, sh)
			}
		}
		writeJSON(w, http.StatusOK, nonNilShipments(out))
	})
	mux.HandleFunc("POST /_sandbox/shipments", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OrderKey    string       `json:"order_key"`
			Packages    [][]ShipLine `json:"packages"`
			CarrierCode string       `json:"carrier_code"`
			ServiceCode string       `json:"service_code"`
		}
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		out, err := s.ShipOrder(req.OrderKey, req.Packages, req.CarrierCode, req.ServiceCode)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	})
	mux.HandleFunc("POST /_sandbox/shipments/combined", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OrderKeys   []string `json:"order_keys"`
			CarrierCode string   `json:"carrier_code"`
			ServiceCode string   `json:"service_code"`
		}
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		out, err := s.ShipCombined(req.OrderKeys, req.CarrierCode, req.ServiceCode)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	})
	mux.HandleFunc("POST /_sandbox/shipments/{id}/void", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err := s.VoidShipment(id); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"shipment_id": id, "voided": true})
	})
	mux.HandleFunc("POST /_sandbox/shipments/{id}/relabel", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		sh, err := s.Relabel(id)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, sh)
	})
	mux.HandleFunc("GET /_sandbox/warehouse", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.warehouseView())
	})
	setWarehouse := func(w http.ResponseWriter, r *http.Request) {
		var v warehouseView
		if err := decodeAdmin(r, &v); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if err := v.apply(s); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, s.warehouseView())
	}
	mux.HandleFunc("PUT /_sandbox/warehouse", setWarehouse)
	mux.HandleFunc("POST /_sandbox/warehouse", setWarehouse)
	mux.HandleFunc("POST /_sandbox/warehouse/tick", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, nonNilShipments(s.WarehouseTick()))
	})
	mux.HandleFunc("GET /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ShipStationWebhooks())
	})
	mux.HandleFunc("POST /_sandbox/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			TargetURL string `json:"target_url"`
			Event     string `json:"event"`
		}
		if err := decodeAdmin(r, &req); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		if req.Event == "" {
			req.Event = "SHIP_NOTIFY"
		}
		id, err := s.AddShipStationWebhook(req.TargetURL, req.Event)
		if err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
	})
	mux.HandleFunc("POST /_sandbox/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		timeout := 5 * time.Second
		if v := r.URL.Query().Get("timeout_ms"); v != "" {
			if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
				timeout = time.Duration(ms) * time.Millisecond
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := s.FlushShipStationWebhooks(ctx); err != nil {
			adminError(w, http.StatusGatewayTimeout, fmt.Errorf("webhooks still pending: %w", err))
			return
		}
		writeJSON(w, http.StatusOK, s.ssHooks.snapshot())
	})
	mux.HandleFunc("GET /_sandbox/webhooks/log", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ShipStationWebhookLog())
	})
}
