package shipstation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// shipmentJSON is a label as GET /shipments returns it (one entry of the
// SHIP_NOTIFY resource), with an adjustment line and a line added in
// ShipStation (no lineItemKey) next to the channel's line.
const shipmentJSON = `{
  "shipmentId": 98765432, "orderId": 123456789, "orderKey": "amazon:113-4567890-1234567", "userId": null,
  "customerEmail": "x7y8z9@marketplace.amazon.com", "orderNumber": "113-4567890-1234567",
  "createDate": "2026-11-21T09:15:02.1230000", "shipDate": "2026-11-21", "shipmentCost": 8.51, "insuranceCost": 0,
  "trackingNumber": "9400111899223344556677", "isReturnLabel": false, "batchNumber": "100345",
  "carrierCode": "stamps_com", "serviceCode": "usps_ground_advantage", "packageCode": "package",
  "confirmation": "delivery", "warehouseId": 55555, "voided": false, "voidDate": null,
  "marketplaceNotified": false, "notifyErrorMessage": null,
  "shipTo": {"name": "Jane Doe", "company": null, "street1": "123 MAIN ST", "street2": "", "street3": null, "city": "SEATTLE",
    "state": "WA", "postalCode": "98101-1234", "country": "US", "phone": null, "residential": true},
  "weight": {"value": 12, "units": "ounces", "WeightUnits": 1},
  "dimensions": {"units": "inches", "length": 9, "width": 6, "height": 2},
  "insuranceOptions": {"provider": null, "insureShipment": false, "insuredValue": 0},
  "advancedOptions": {"storeId": 22766, "customField1": "113-4567890-1234567", "customField2": "amazon", "source": "amazon"},
  "shipmentItems": [
    {"orderItemId": 4455667, "lineItemKey": "68828574383266", "sku": "MUG-BLK-11", "name": "Black Mug 11oz", "quantity": 2, "unitPrice": 15.99},
    {"orderItemId": 4455668, "lineItemKey": "68828574383267", "sku": "", "name": "Discount", "quantity": 1, "unitPrice": -2.00, "adjustment": true},
    {"orderItemId": 4455669, "lineItemKey": null, "sku": "INSERT", "name": "Thank-you card", "quantity": 1, "unitPrice": 0}
  ],
  "labelData": null, "formData": null
}`

func pageJSON(page, pages int, shipments ...string) string {
	return fmt.Sprintf(`{"shipments":[%s],"total":%d,"page":%d,"pages":%d}`, strings.Join(shipments, ","), len(shipments)*pages, page, pages)
}

func TestShipmentWireAndToDomain(t *testing.T) {
	var s Shipment
	if err := json.Unmarshal([]byte(shipmentJSON), &s); err != nil {
		t.Fatal(err)
	}
	if s.ShipmentCost != "8.51" || s.InsuranceCost != "0" || s.WarehouseID != 55555 || s.BatchNumber != "100345" ||
		s.ShipTo.Name != "Jane Doe" || s.ShipTo.Residential == nil || !*s.ShipTo.Residential || s.Weight.Value != "12" ||
		s.Dimensions.Length != "9" || s.AdvancedOptions.StoreID != 22766 || s.ShipmentItems[0].UnitPrice != "15.99" ||
		!s.ShipmentItems[1].Adjustment || s.UserID != "" || s.LabelData != "" || !s.VoidDate.IsZero() {
		t.Errorf("%+v", s)
	}
	d, err := ToDomain(s, "main")
	if err != nil {
		t.Fatal(err)
	}
	want := shipment.Shipment{
		ID: "98765432", Account: "main", OrderKey: "amazon:113-4567890-1234567", ShipStationOrderID: 123456789,
		TrackingNumber: "9400111899223344556677", CarrierCode: "stamps_com", ServiceCode: "usps_ground_advantage",
		ShipDate:  time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),       // midnight PST
		CreatedAt: time.Date(2026, 11, 21, 17, 15, 2, 123e6, time.UTC), // 09:15:02.123 PST
		Lines:     []shipment.Line{{LineID: "68828574383266", SKU: "MUG-BLK-11", Quantity: 2}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
	if d.ShipDate.Location() != time.UTC || d.CreatedAt.Location() != time.UTC {
		t.Error("times not in UTC")
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}

	voided := s
	voided.Voided, voided.VoidDate = true, Time{time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)}
	if d, err := ToDomain(voided, "main"); err != nil || !d.Voided || !d.VoidedAt.Equal(voided.VoidDate.Time) {
		t.Errorf("voided: %+v %v", d, err)
	}
	for field, mutate := range map[string]func(*Shipment) string{
		"shipmentId": func(s *Shipment) string { s.ShipmentID = 0; return "main" },
		"orderKey":   func(s *Shipment) string { s.OrderKey = ""; return "main" },
		"account":    func(*Shipment) string { return "" },
		"shipmentItems[0].quantity": func(s *Shipment) string {
			s.ShipmentItems = []ShipmentItem{{LineItemKey: "1", Quantity: 0}}
			return "main"
		},
	} {
		bad := s
		bad.ShipmentItems = slices.Clone(s.ShipmentItems)
		account := mutate(&bad)
		if _, err := ToDomain(bad, account); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestListShipments(t *testing.T) {
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.Method != http.MethodGet || r.URL.Path != "/shipments" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		want := url.Values{
			"batchId": {"144015674"}, "orderId": {"123456789"}, "storeId": {"22766"}, "includeShipmentItems": {"True"},
			"createDateStart": {"2026-07-01 12:00:00"}, "createDateEnd": {"2026-11-21 01:00:00"},
			"shipDateStart": {"2026-11-21 00:00:00"}, "shipDateEnd": {"2026-11-22 00:00:00"},
			"sortBy": {"ShipDate"}, "sortDir": {"DESC"}, "page": {"2"}, "pageSize": {"500"},
		}
		if got := r.URL.Query(); !reflect.DeepEqual(got, want) {
			t.Errorf("query %v", got)
		}
		limitHeaders(w, 37, 41)
		io.WriteString(w, pageJSON(2, 2, shipmentJSON))
	})
	page, err := c.ListShipments(context.Background(), ShipmentsQuery{
		BatchID: "144015674", OrderID: 123456789, StoreID: 22766, IncludeShipmentItems: true,
		CreateDateStart: time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC),  // PDT
		CreateDateEnd:   time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), // PST
		ShipDateStart:   time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
		ShipDateEnd:     time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		SortBy:          "ShipDate", SortDir: "DESC", Page: 2, PageSize: 500,
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.Page != 2 || page.Pages != 2 || page.Total != 2 || len(page.Shipments) != 1 || page.Shipments[0].ShipmentID != 98765432 {
		t.Errorf("%+v", page)
	}
	if len(b.takes) != 1 || len(b.observes) != 1 || b.observes[0].remaining != 37 {
		t.Errorf("budget %v %+v", b.takes, b.observes)
	}
	for _, bad := range []ShipmentsQuery{{PageSize: 501}, {Page: -1}, {OrderID: -1}, {SortBy: "shipdate"}, {SortDir: "up"}} {
		if _, err := c.ListShipments(context.Background(), bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if len(b.takes) != 1 {
		t.Errorf("invalid queries were sent: %v", b.takes)
	}
}

func TestListShipmentsMinimalQuery(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			t.Errorf("query %q", r.URL.RawQuery)
		}
		io.WriteString(w, pageJSON(1, 0))
	})
	if page, err := c.ListShipments(context.Background(), ShipmentsQuery{}); err != nil || len(page.Shipments) != 0 {
		t.Errorf("%+v %v", page, err)
	}
}

// pagedServer serves the shipments of batch 7 over three pages and records
// the query of every request.
func pagedServer(t *testing.T) (*Client, *[]url.Values) {
	var seen []url.Values
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.URL.Path != "/shipments" {
			t.Errorf("path %s", r.URL.Path)
		}
		q := r.URL.Query()
		seen = append(seen, q)
		n, _ := strconv.Atoi(cmp.Or(q.Get("page"), "1"))
		if n < 1 || n > 3 {
			t.Errorf("page %d asked for", n)
		}
		one := strings.Replace(shipmentJSON, "98765432", strconv.Itoa(1000+n*2), 1)
		two := strings.Replace(shipmentJSON, "98765432", strconv.Itoa(1001+n*2), 1)
		io.WriteString(w, pageJSON(n, 3, one, two))
	})
	return c, &seen
}

func collect(ids *[]int64) func([]Shipment) error {
	return func(ss []Shipment) error {
		for _, s := range ss {
			*ids = append(*ids, s.ShipmentID)
		}
		return nil
	}
}

func TestAllResourceShipmentsPages(t *testing.T) {
	c, seen := pagedServer(t)
	hook, err := ParseWebhook([]byte(`{"resource_url":"` + c.BaseURL + `/shipments?batchId=7&includeShipmentItems=False","resource_type":"SHIP_NOTIFY"}`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := ResourceURL(hook.ResourceURL, c.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := c.AllResourceShipments(context.Background(), u, collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if want := []int64{1002, 1003, 1004, 1005, 1006, 1007}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	want := []url.Values{
		{"batchId": {"7"}, "includeShipmentItems": {"True"}},
		{"batchId": {"7"}, "includeShipmentItems": {"True"}, "page": {"2"}},
		{"batchId": {"7"}, "includeShipmentItems": {"True"}, "page": {"3"}},
	}
	if !reflect.DeepEqual(*seen, want) {
		t.Errorf("queries %v", *seen)
	}
}

func TestAllShipmentsPages(t *testing.T) {
	c, seen := pagedServer(t)
	var ids []int64
	err := c.AllShipments(context.Background(), ShipmentsQuery{BatchID: "7", IncludeShipmentItems: true, Page: 2}, collect(&ids))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1004, 1005, 1006, 1007}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if len(*seen) != 2 || (*seen)[0].Get("page") != "2" || (*seen)[1].Get("page") != "3" || (*seen)[1].Get("includeShipmentItems") != "True" {
		t.Errorf("queries %v", *seen)
	}

	// fn's error stops the walk.
	*seen = nil
	stop := errors.New("stop")
	err = c.AllShipments(context.Background(), ShipmentsQuery{BatchID: "7"}, func([]Shipment) error { return stop })
	if !errors.Is(err, stop) || len(*seen) != 1 {
		t.Errorf("%v after %d requests", err, len(*seen))
	}
}

func TestAllShipmentsStopsOnEmptyPage(t *testing.T) {
	hits := 0
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits++
		if hits == 1 {
			io.WriteString(w, pageJSON(1, 99, shipmentJSON))
			return
		}
		io.WriteString(w, pageJSON(hits, 99))
	})
	calls := 0
	if err := c.AllShipments(context.Background(), ShipmentsQuery{}, func([]Shipment) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if hits != 2 || calls != 1 {
		t.Errorf("%d requests, %d calls", hits, calls)
	}
}

func TestGetResourceChecksURL(t *testing.T) {
	hits := 0
	c, b := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set(HeaderReset, "41")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	for _, raw := range []string{
		"https://ssapi.shipstation.com/shipments?batchId=1", // the production host is not this client's base
		c.BaseURL + "/orders?batchId=1",
		strings.Replace(c.BaseURL, "127.0.0.1", "localhost", 1) + "/shipments",
	} {
		u, _ := url.Parse(raw)
		if _, err := c.GetResource(context.Background(), u); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v", raw, err)
		}
	}
	if _, err := c.GetResource(context.Background(), nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("nil: %v", err)
	}
	if err := c.AllResourceShipments(context.Background(), nil, collect(new([]int64))); !errs.Is(err, errs.Invalid) {
		t.Errorf("nil: %v", err)
	}
	if hits != 0 || len(b.takes) != 0 {
		t.Fatalf("%d requests sent, %d takes", hits, len(b.takes))
	}

	// A URL that was not run through ResourceURL is checked and fixed here.
	u, _ := url.Parse(c.BaseURL + "/shipments?batchId=1&includeShipmentItems=False")
	_, err := c.GetResource(context.Background(), u)
	if !errs.Is(err, errs.Transient) || errs.RetryAfterOf(err) != 41*time.Second || hits != 1 {
		t.Errorf("429: %v (%d requests)", err, hits)
	}
}

func TestGetResourceForcesItems(t *testing.T) {
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		if r.URL.Path != "/shipments" || r.URL.RawQuery != "batchId=1&includeShipmentItems=True" {
			t.Errorf("%s?%s", r.URL.Path, r.URL.RawQuery)
		}
		io.WriteString(w, pageJSON(1, 1, shipmentJSON))
	})
	u, _ := url.Parse(c.BaseURL + "/shipments?batchId=1&includeShipmentItems=false")
	page, err := c.GetResource(context.Background(), u)
	if err != nil || len(page.Shipments) != 1 || len(page.Shipments[0].ShipmentItems) != 3 {
		t.Errorf("%+v %v", page, err)
	}
}
