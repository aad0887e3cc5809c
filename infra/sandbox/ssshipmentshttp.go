package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ciQuery reads query parameters case-insensitively, as ASP.NET binds them
// (ShipStation accepts storeId and storeID alike).
type ciQuery map[string]string

func newCIQuery(q url.Values) ciQuery {
	out := ciQuery{}
	for k, v := range q {
		if len(v) > 0 {
			if _, dup := out[strings.ToLower(k)]; !dup {
				out[strings.ToLower(k)] = v[0]
			}
		}
	}
	return out
}

func (q ciQuery) get(name string) string { return q[strings.ToLower(name)] }

// shipmentFilter is GET /shipments' query (api-contracts §1.4, plus batchId).
type shipmentFilter struct {
	batchID, orderID, storeID                    *int64
	orderNumber, trackingNumber, carrier         string
	service, recipientName, recipientCountryCode string
	createFrom, createTo, voidFrom, voidTo       *time.Time
	shipFrom, shipTo                             string // Pacific dates "2006-01-02"
	items                                        bool
	sortBy, sortDir                              string
	page, pageSize                               int
}

func parseShipmentFilter(q url.Values) (shipmentFilter, map[string][]string) {
	cq := newCIQuery(q)
	f := shipmentFilter{
		orderNumber: cq.get("orderNumber"), trackingNumber: cq.get("trackingNumber"),
		carrier: cq.get("carrierCode"), service: cq.get("serviceCode"),
		recipientName: cq.get("recipientName"), recipientCountryCode: cq.get("recipientCountryCode"),
		page: 1, pageSize: 100,
	}
	bad := map[string][]string{}
	invalid := func(name, v string) {
		bad[name] = []string{fmt.Sprintf("The value '%s' is not valid for %s.", v, name)}
	}
	for _, p := range []struct {
		name string
		dst  **int64
	}{{"batchId", &f.batchID}, {"orderId", &f.orderID}, {"storeId", &f.storeID}} {
		if v := cq.get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				invalid(p.name, v)
				continue
			}
			*p.dst = &n
		}
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"createDateStart", &f.createFrom}, {"createDateEnd", &f.createTo}, {"voidDateStart", &f.voidFrom}, {"voidDateEnd", &f.voidTo}} {
		if v := cq.get(p.name); v != "" {
			t, err := ParseSSTime(v)
			if err != nil {
				invalid(p.name, v)
				continue
			}
			*p.dst = &t
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"shipDateStart", &f.shipFrom}, {"shipDateEnd", &f.shipTo}} {
		if v := cq.get(p.name); v != "" {
			t, err := ParseSSTime(v)
			if err != nil {
				invalid(p.name, v)
				continue
			}
			*p.dst = t.In(pacific).Format("2006-01-02")
		}
	}
	if v := cq.get("includeShipmentItems"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			invalid("includeShipmentItems", v)
		}
		f.items = b
	}
	if v := cq.get("sortBy"); v != "" {
		switch strings.ToLower(v) {
		case "shipdate":
			f.sortBy = "ShipDate"
		case "createdate":
			f.sortBy = "CreateDate"
		default:
			invalid("sortBy", v)
		}
	}
	if v := cq.get("sortDir"); v != "" {
		f.sortDir = strings.ToUpper(v)
		if f.sortDir != "ASC" && f.sortDir != "DESC" {
			invalid("sortDir", v)
		}
	}
	if v := cq.get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			invalid("page", v)
		} else {
			f.page = n
		}
	}
	if v := cq.get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad["pageSize"] = []string{fmt.Sprintf("The value '%s' is not valid for pageSize; it must be between 1 and 500.", v)}
		} else {
			f.pageSize = n
		}
	}
	return f, bad
}

func (f *shipmentFilter) match(sh *SSShipment) bool {
	switch {
	case f.batchID != nil && sh.BatchID != *f.batchID,
		f.orderID != nil && sh.OrderID != *f.orderID,
		f.storeID != nil && (sh.AdvancedOptions == nil || sh.AdvancedOptions.StoreID == nil || *sh.AdvancedOptions.StoreID != *f.storeID),
		f.orderNumber != "" && !strings.EqualFold(sh.OrderNumber, f.orderNumber),
		f.trackingNumber != "" && !strings.EqualFold(sh.TrackingNumber, f.trackingNumber),
		f.carrier != "" && !strings.EqualFold(sh.CarrierCode, f.carrier),
		f.service != "" && !strings.EqualFold(sh.ServiceCode, f.service),
		f.shipFrom != "" && sh.ShipDate < f.shipFrom,
		f.shipTo != "" && sh.ShipDate > f.shipTo:
		return false
	}
	if f.recipientName != "" || f.recipientCountryCode != "" {
		a := sh.ShipTo
		if a == nil {
			return false
		}
		if f.recipientName != "" && (a.Name == nil || !strings.Contains(strings.ToLower(*a.Name), strings.ToLower(f.recipientName))) {
			return false
		}
		if f.recipientCountryCode != "" && (a.Country == nil || !strings.EqualFold(*a.Country, f.recipientCountryCode)) {
			return false
		}
	}
	if f.createFrom != nil || f.createTo != nil {
		t, err := ParseSSTime(sh.CreateDate)
		if err != nil || (f.createFrom != nil && t.Before(*f.createFrom)) || (f.createTo != nil && t.After(*f.createTo)) {
			return false
		}
	}
	if f.voidFrom != nil || f.voidTo != nil {
		if sh.VoidDate == nil {
			return false
		}
		t, err := ParseSSTime(*sh.VoidDate)
		if err != nil || (f.voidFrom != nil && t.Before(*f.voidFrom)) || (f.voidTo != nil && t.After(*f.voidTo)) {
			return false
		}
	}
	return true
}

// listShipments serves GET /shipments: {shipments, total, page, pages}.
func (ss *shipStation) listShipments(w http.ResponseWriter, r *http.Request) {
	f, bad := parseShipmentFilter(r.URL.Query())
	if len(bad) > 0 {
		writeJSON(w, http.StatusBadRequest, ssMessage{Message: "The request is invalid.", ModelState: bad})
		return
	}
	ss.mu.Lock()
	var all []SSShipment
	for _, sh := range ss.shipments {
		if f.match(sh) {
			all = append(all, sh.clone(f.items))
		}
	}
	ss.mu.Unlock()
	if f.sortBy != "" {
		key := func(sh *SSShipment) string {
			if f.sortBy == "ShipDate" {
				return sh.ShipDate
			}
			return sh.CreateDate
		}
		sort.SliceStable(all, func(i, j int) bool {
			a, b := key(&all[i]), key(&all[j])
			if f.sortBy == "CreateDate" {
				ta, _ := ParseSSTime(a)
				tb, _ := ParseSSTime(b)
				if f.sortDir == "DESC" {
					return ta.After(tb)
				}
				return ta.Before(tb)
			}
			if f.sortDir == "DESC" {
				return a > b
			}
			return a < b
		})
	}
	type resp struct {
		Shipments []SSShipment `json:"shipments"`
		Total     int          `json:"total"`
		Page      int          `json:"page"`
		Pages     int          `json:"pages"`
	}
	out := resp{Shipments: paginate(all, f.page, f.pageSize), Total: len(all), Page: f.page, Pages: (len(all) + f.pageSize - 1) / f.pageSize}
	if out.Shipments == nil {
		out.Shipments = []SSShipment{}
	}
	writeJSON(w, http.StatusOK, out)
}
