package sandbox

import (
	"github.com/shiprelay/shiprelay/infra/testenv"

	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Contract tests: real Amazon simulator traffic is validated against
// Amazon's own Swagger 2.0 documents in ../shared/specs/amazon (converted to
// OpenAPI 3 by kin-openapi) and the ORDER_CHANGE JSON schema.

// amazonSpecsDir finds ../shared/specs/amazon (see testenv.SharedPath).
func amazonSpecsDir(t *testing.T) string { return testenv.SharedPath(t, "specs", "amazon") }

func loadAmazonSpec(t *testing.T, name string) *openapi3.T {
	t.Helper()
	path := filepath.Join(amazonSpecsDir(t), name)
	specMu.Lock()
	defer specMu.Unlock()
	if doc := specCache[path]; doc != nil {
		return doc
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v2 openapi2.T
	if err := json.Unmarshal(raw, &v2); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatalf("convert %s: %v", path, err)
	}
	// Amazon's own examples do not all match its schemas; skip them.
	if err := doc.Validate(openapi3.NewLoader().Context, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("validate %s: %v", path, err)
	}
	specCache[path] = doc
	return doc
}

func TestAmazonContractOrders(t *testing.T) {
	doc := loadAmazonSpec(t, "orders_2026-01-01.json")
	e := newAmzEnv(t, AmazonOptions{Seed: 5, SpeedUp: 1000})
	e.login()
	e.pace = time.Second
	orders := []AmazonOrder{
		e.az.GenerateOrder(AmazonOrderSpec{Prime: true, Items: 2, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{FBA: true}),
		e.az.GenerateOrder(AmazonOrderSpec{Business: true, Items: 3, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{Japan: true}),
		e.az.GenerateOrder(AmazonOrderSpec{}),
	}
	e.az.GenerateOrders(20)
	e.clock.Advance(time.Second)
	if r := e.do("POST", "/orders/v0/orders/"+orders[0].OrderID+"/shipmentConfirmation",
		confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{orders[0].Items[0].OrderItemID, 1})); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	_ = e.az.CancelOrder(orders[4].OrderID)
	e.clock.Advance(5 * time.Minute)

	all := "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES,TAX,PAYMENT"
	search := "/orders/2026-01-01/orders"
	r := e.do("GET", search+"?marketplaceIds="+AmazonMarketplaceUS+","+AmazonMarketplaceJP+"&lastUpdatedAfter=2026-01-01T00:00:00Z&maxResultsPerPage=7&includedData="+all, nil)
	pages := 0
	for {
		pages++
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		validateResponse(t, doc, "GET", search, nil, r)
		var page struct {
			Pagination struct {
				NextToken string `json:"nextToken"`
			} `json:"pagination"`
		}
		r.json(t, &page)
		if page.Pagination.NextToken == "" {
			break
		}
		r = e.do("GET", search+"?paginationToken="+page.Pagination.NextToken, nil)
	}
	if pages != 4 {
		t.Errorf("pages = %d, want 4 for 25 orders at 7 per page", pages)
	}
	r = e.do("GET", search+"?marketplaceIds="+AmazonMarketplaceUS+"&createdAfter=2026-01-01T00:00:00Z&fulfillmentStatuses=UNSHIPPED&fulfilledBy=MERCHANT", nil)
	validateResponse(t, doc, "GET", search, nil, r)

	get := "/orders/2026-01-01/orders/{orderId}"
	for _, o := range orders {
		for _, inc := range []string{"", "?includedData=" + all} {
			r := e.do("GET", "/orders/2026-01-01/orders/"+o.OrderID+inc, nil)
			if r.status != 200 {
				t.Fatalf("getOrder: %d %s", r.status, r.body)
			}
			validateResponse(t, doc, "GET", get, map[string]string{"orderId": o.OrderID}, r)
		}
	}
	// The validator is not vacuous: an unknown fulfillment status fails.
	r = e.do("GET", "/orders/2026-01-01/orders/"+orders[2].OrderID+"?includedData=FULFILLMENT", nil)
	r.body = bytes.Replace(r.body, []byte(`"UNSHIPPED"`), []byte(`"WAITING"`), 1)
	if err := checkResponse(t, doc, "GET", get, map[string]string{"orderId": orders[2].OrderID}, r); err == nil {
		t.Fatal("a response with fulfillmentStatus WAITING passed the spec")
	}
	// Error bodies match ErrorList.
	validateResponse(t, doc, "GET", get, map[string]string{"orderId": "x"}, e.do("GET", "/orders/2026-01-01/orders/x", nil))
	validateResponse(t, doc, "GET", search, nil, e.do("GET", search+"?paginationToken=bogus", nil))
	tok := e.token
	e.token = "Atza|bogus"
	validateResponse(t, doc, "GET", get, map[string]string{"orderId": "x"}, e.do("GET", "/orders/2026-01-01/orders/x", nil))
	e.token = tok
	e.pace = 0
	var last resp
	for range 40 {
		if last = e.do("GET", "/orders/2026-01-01/orders/"+orders[0].OrderID, nil); last.status == 429 {
			break
		}
	}
	if last.status != 429 {
		t.Fatalf("no 429 after 40 getOrder calls")
	}
	validateResponse(t, doc, "GET", get, map[string]string{"orderId": orders[0].OrderID}, last)
}

func TestAmazonContractConfirmShipmentRequest(t *testing.T) {
	doc := loadAmazonSpec(t, "ordersV0.json")
	e := newAmzEnv(t, AmazonOptions{})
	e.login()
	o := e.az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true})
	path := "/orders/v0/orders/" + o.OrderID + "/shipmentConfirmation"
	body, _ := json.Marshal(confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{o.Items[0].OrderItemID, 1}, AmazonPackageItem{o.Items[1].OrderItemID, 2}))
	// The body the sandbox accepts is valid against Amazon's spec.
	vreq, _ := http.NewRequest("POST", "http://sandbox"+path, bytes.NewReader(body))
	vreq.Header.Set("Content-Type", "application/json")
	validateRequest(t, doc, vreq, "/orders/v0/orders/{orderId}/shipmentConfirmation", map[string]string{"orderId": o.OrderID})
	if r := e.do("POST", path, body); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	// The validator is not vacuous: a numeric packageReferenceId (which
	// the sandbox rejects) is also rejected by the spec.
	bad, _ := json.Marshal(confirmBody(AmazonMarketplaceUS, 1, "UPS", AmazonPackageItem{o.Items[0].OrderItemID, 1}))
	breq, _ := http.NewRequest("POST", "http://sandbox"+path, bytes.NewReader(bad))
	breq.Header.Set("Content-Type", "application/json")
	in := &openapi3filter.RequestValidationInput{Request: breq, PathParams: map[string]string{"orderId": o.OrderID},
		Route: specRoute(t, doc, "POST", "/orders/v0/orders/{orderId}/shipmentConfirmation"), Options: filterOptions()}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err == nil || !strings.Contains(err.Error(), "packageReferenceId") {
		t.Fatalf("numeric packageReferenceId passed the spec: %v", err)
	}
}

// compileOrderChangeSchema compiles OrderChangeNotification.json.
func compileOrderChangeSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(amazonSpecsDir(t), "OrderChangeNotification.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///OrderChangeNotification.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///OrderChangeNotification.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAmazonContractOrderChange(t *testing.T) {
	schema := compileOrderChangeSchema(t)
	az := NewAmazon(AmazonOptions{Seed: 11, Now: newFakeClock().Now})
	defer az.Close()
	o := az.GenerateOrder(AmazonOrderSpec{Prime: true, Business: true, Items: 2})
	az.GenerateOrder(AmazonOrderSpec{FBA: true})
	az.GenerateOrder(AmazonOrderSpec{Japan: true})
	if err := az.MarkUnshipped(o.OrderID); err != nil {
		t.Fatal(err)
	}
	if err := az.CancelOrder(o.OrderID); err != nil {
		t.Fatal(err)
	}
	extra, err := az.OrderChangeMessage(o.OrderID, "BuyerRequestedChange", "Buyer requested cancellation")
	if err != nil {
		t.Fatal(err)
	}
	msgs := append(az.DrainOrderChanges(), extra)
	if len(msgs) != 6 {
		t.Fatalf("%d messages, want 6", len(msgs))
	}
	for i, m := range msgs {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("message %d does not match OrderChangeNotification.json: %v\n%s", i, err, m)
		}
		for _, pii := range o.PIIValues() {
			if bytes.Contains(m, []byte(pii)) {
				t.Errorf("message %d carries PII %q", i, pii)
			}
		}
	}
	if !bytes.Contains(msgs[4], []byte(`"OrderStatus":"Canceled"`)) || !bytes.Contains(msgs[4], []byte(`"Business"`)) {
		t.Errorf("cancel message %s", msgs[4])
	}
	// The validator is not vacuous.
	bad := bytes.Replace(msgs[0], []byte(`"FulfillmentType":"MFN"`), []byte(`"FulfillmentType":"MERCHANT"`), 1)
	if v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad)); schema.Validate(v) == nil {
		t.Fatal("FulfillmentType MERCHANT passed the schema")
	}
	if len(az.DrainOrderChanges()) != 0 {
		t.Fatal("drain did not empty the queue")
	}
}

func TestAmazonOrderChangeKnobs(t *testing.T) {
	az := NewAmazon(AmazonOptions{Seed: 4, Now: newFakeClock().Now})
	defer az.Close()
	az.SetNotifyKnobs(AmazonNotifyKnobs{DropRate: 0.2, DuplicateRate: 0.3, ReorderRate: 0.3})
	az.GenerateOrders(200)
	msgs := az.DrainOrderChanges()
	st := az.Stats()
	if st.NotificationsDropped == 0 || int64(len(msgs)) != st.NotificationsQueued {
		t.Fatalf("stats %+v, %d messages", st, len(msgs))
	}
	ids := map[string]int{}
	outOfOrder := 0
	var prev string
	for _, m := range msgs {
		var body struct {
			NotificationMetadata struct{ NotificationId string }
			Payload              struct {
				OrderChangeNotification struct{ AmazonOrderId string }
			}
		}
		if err := json.Unmarshal(m, &body); err != nil {
			t.Fatal(err)
		}
		ids[body.NotificationMetadata.NotificationId]++
		id := body.Payload.OrderChangeNotification.AmazonOrderId
		// Order ids end in the generation sequence number.
		if prev != "" && id[len(id)-7:] < prev[len(prev)-7:] {
			outOfOrder++
		}
		prev = id
	}
	dups := 0
	for _, n := range ids {
		if n > 1 {
			dups++
		}
	}
	if dups == 0 || outOfOrder == 0 || len(ids)+int(st.NotificationsDropped) != 200 {
		t.Fatalf("dups=%d outOfOrder=%d distinct=%d dropped=%d", dups, outOfOrder, len(ids), st.NotificationsDropped)
	}
}
