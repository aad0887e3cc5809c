package sandbox

import (
	"github.com/shiprelay/shiprelay/infra/testenv"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// amzStrict checks v2026-01-01 bodies beyond what kin-openapi can: the
// spec declares no additionalProperties, so invented fields pass it, and
// most enums are only listed in descriptions ("**Possible values**:
// `A`, `B`"). check reports every property the spec does not declare and
// every string outside its documented possible values.
type amzStrict struct{ defs map[string]any }

func loadAmzStrict(t *testing.T) amzStrict {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(amazonSpecsDir(t), "orders_2026-01-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return amzStrict{doc.Definitions}
}

var amzBackticked = regexp.MustCompile("`([^`]+)`")

func amzPossibleValues(schema map[string]any) []string {
	d, _ := schema["description"].(string)
	_, after, ok := strings.Cut(d, "Possible values")
	if !ok {
		return nil
	}
	var out []string
	for _, m := range amzBackticked.FindAllStringSubmatch(after, -1) {
		out = append(out, m[1])
	}
	return out
}

// check validates body against definition def and returns the findings.
func (s amzStrict) check(t *testing.T, def string, body []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var errs []string
	s.walk(v, map[string]any{"$ref": "#/definitions/" + def}, "$", nil, &errs)
	return errs
}

// strictOK fails t with the findings of check.
func (s amzStrict) strictOK(t *testing.T, def string, r resp) {
	t.Helper()
	if errs := s.check(t, def, r.body); len(errs) > 0 {
		t.Errorf("%s %s: outside the spec:\n%s\nbody: %.2000s", r.req.Method, r.req.URL.Path, strings.Join(errs, "\n"), r.body)
	}
}

func (s amzStrict) walk(v any, schema map[string]any, path string, allowed []string, errs *[]string) {
	if pv := amzPossibleValues(schema); pv != nil {
		allowed = pv
	}
	if ref, ok := schema["$ref"].(string); ok {
		schema, _ = s.defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		if pv := amzPossibleValues(schema); pv != nil {
			allowed = pv
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for k, val := range x {
			p, ok := props[k].(map[string]any)
			if !ok {
				*errs = append(*errs, path+"."+k+": property not in the spec")
				continue
			}
			s.walk(val, p, path+"."+k, nil, errs)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, val := range x {
			s.walk(val, items, fmt.Sprintf("%s[%d]", path, i), allowed, errs)
		}
	case string:
		if allowed != nil && !slices.Contains(allowed, x) {
			*errs = append(*errs, fmt.Sprintf("%s: %q is not one of %v", path, x, allowed))
		}
	}
}

func TestAmazonContractOrders(t *testing.T) {
	doc := loadAmazonSpec(t, "orders_2026-01-01.json")
	strict := loadAmzStrict(t)
	e := newAmzEnv(t, AmazonOptions{Seed: 5, SpeedUp: 1000})
	e.login()
	e.pace = time.Second
	orders := []AmazonOrder{
		e.az.GenerateOrder(AmazonOrderSpec{Prime: true, Items: 2, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{FBA: true}),
		e.az.GenerateOrder(AmazonOrderSpec{Business: true, Items: 3, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{Japan: true}),
		e.az.GenerateOrder(AmazonOrderSpec{}),
		// 5: buyer asked to cancel; 6: cancelled after the request.
		e.az.GenerateOrder(AmazonOrderSpec{Items: 2, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{Unshipped: true}),
		// 7, 8: EU imports (UK and DE marketplace), business with VAT.
		e.az.GenerateOrder(AmazonOrderSpec{EU: true, Business: true, Items: 2, Unshipped: true, MarketplaceID: AmazonMarketplaceUK}),
		e.az.GenerateOrder(AmazonOrderSpec{EU: true, Unshipped: true, MarketplaceID: AmazonMarketplaceDE}),
		// 9: used; 10: British domestic.
		e.az.GenerateOrder(AmazonOrderSpec{Used: true, Items: 2, Unshipped: true}),
		e.az.GenerateOrder(AmazonOrderSpec{MarketplaceID: AmazonMarketplaceUK, Business: true, Unshipped: true}),
	}
	// 11: replacement of the EU business order.
	orders = append(orders, e.az.GenerateOrder(AmazonOrderSpec{ReplacementOf: orders[7].OrderID, Unshipped: true}))
	e.az.GenerateOrders(20)
	e.clock.Advance(time.Second)
	if r := e.do("POST", "/orders/v0/orders/"+orders[0].OrderID+"/shipmentConfirmation",
		confirmBody(AmazonMarketplaceUS, "1", "UPS", AmazonPackageItem{orders[0].Items[0].OrderItemID, 1})); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/orders/v0/orders/"+orders[8].OrderID+"/shipmentConfirmation",
		confirmBody(AmazonMarketplaceDE, "1", "DHL", AmazonPackageItem{orders[8].Items[0].OrderItemID, 1})); r.status != 204 {
		t.Fatalf("confirm DE: %d %s", r.status, r.body)
	}
	_ = e.az.CancelOrder(orders[4].OrderID)
	for _, o := range orders[5:7] {
		if err := e.az.RequestCancel(o.OrderID, "Order created by mistake"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.az.CancelOrder(orders[6].OrderID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)

	all := "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT,FULFILLMENT_ORDERS"
	search := "/orders/2026-01-01/orders"
	mkts := strings.Join([]string{AmazonMarketplaceUS, AmazonMarketplaceJP, AmazonMarketplaceUK, AmazonMarketplaceDE}, ",")
	r := e.do("GET", search+"?marketplaceIds="+mkts+"&lastUpdatedAfter=2026-01-01T00:00:00Z&maxResultsPerPage=7&includedData="+all, nil)
	pages, seen := 0, 0
	for {
		pages++
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		validateResponse(t, doc, "GET", search, nil, r)
		strict.strictOK(t, "SearchOrdersResponse", r)
		var page struct {
			Orders     []json.RawMessage `json:"orders"`
			Pagination struct {
				NextToken string `json:"nextToken"`
			} `json:"pagination"`
		}
		r.json(t, &page)
		seen += len(page.Orders)
		if page.Pagination.NextToken == "" {
			break
		}
		r = e.do("GET", search+"?paginationToken="+page.Pagination.NextToken, nil)
	}
	if total := len(e.az.Orders()); seen != total || pages != (total+6)/7 {
		t.Errorf("%d orders on %d pages, want %d on %d", seen, pages, total, (total+6)/7)
	}
	r = e.do("GET", search+"?marketplaceIds="+AmazonMarketplaceUS+"&createdAfter=2026-01-01T00:00:00Z&fulfillmentStatuses=UNSHIPPED&fulfilledBy=MERCHANT", nil)
	validateResponse(t, doc, "GET", search, nil, r)
	strict.strictOK(t, "SearchOrdersResponse", r)

	get := "/orders/2026-01-01/orders/{orderId}"
	bodies := map[string][]byte{}
	for _, o := range orders {
		for _, inc := range []string{"", "?includedData=" + all} {
			r := e.do("GET", "/orders/2026-01-01/orders/"+o.OrderID+inc, nil)
			if r.status != 200 {
				t.Fatalf("getOrder: %d %s", r.status, r.body)
			}
			validateResponse(t, doc, "GET", get, map[string]string{"orderId": o.OrderID}, r)
			strict.strictOK(t, "GetOrderResponse", r)
			if inc != "" {
				bodies[o.OrderID] = r.body
			}
		}
	}
	// The new sections are really in the validated bodies.
	for i, want := range map[int][]string{
		5:  {`"cancellationRequest":{"cancelReason":"Order created by mistake","requester":"BUYER"}`},
		6:  {`"cancellationExecution":{"cancelReason":"Order created by mistake","cancelledBy":"BUYER"}`, `"CANCELLED"`},
		7:  {`"iossNumber":"` + AmazonIOSSNumber + `"`, `"taxRegistrationType":"VAT"`, `"entityType":"BUYER"`, `"currencyCode":"GBP"`, `"reportingScheme":"IOSS"`},
		8:  {`"iossNumber":"` + AmazonIOSSNumber + `"`, `"marketplaceId":"` + AmazonMarketplaceDE + `"`, `"packageReferenceId":"1"`},
		9:  {`"conditionType":"USED"`, `"conditionNote":`},
		10: {`"countryCode":"GB"`, `"taxRegistrationType":"VAT"`},
		11: {`"associatedOrders":[{"associationType":"REPLACEMENT_ORIGINAL_ID","orderId":"` + orders[7].OrderID + `"}]`, `"amount":"0.00"`},
		0:  {`"orderAliases":[{"aliasId":"` + orders[0].SellerOrderID + `","aliasType":"SELLER_ORDER_ID"}]`, `"packageItems":[{"orderItemId"`},
	} {
		for _, w := range want {
			if !bytes.Contains(bodies[orders[i].OrderID], []byte(w)) {
				t.Errorf("order %d lacks %s:\n%s", i, w, bodies[orders[i].OrderID])
			}
		}
	}
	if bytes.Contains(bodies[orders[10].OrderID], []byte("iossNumber")) {
		t.Errorf("a British domestic order carries an IOSS number")
	}
	// The strict check is not vacuous: an invented property and an
	// undocumented enum value are both reported.
	bad := bytes.Replace(bodies[orders[5].OrderID], []byte(`"requester":"BUYER"`), []byte(`"requester":"CUSTOMER","isBuyerRequestedCancel":true`), 1)
	if errs := strict.check(t, "GetOrderResponse", bad); len(errs) != 2 {
		t.Fatalf("strict check found %v in a body with two defects", errs)
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

// compileStrictOrderChangeSchema compiles OrderChangeNotification.json with
// additionalProperties false on every object that lists properties, so
// invented fields (e.g. a BuyerCancelReason the schema does not have)
// fail.
func compileStrictOrderChangeSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(amazonSpecsDir(t), "OrderChangeNotification.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var tighten func(v any)
	tighten = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x["properties"]; ok {
				x["additionalProperties"] = false
			}
			for k, c := range x {
				if k != "examples" {
					tighten(c)
				}
			}
		case []any:
			for _, c := range x {
				tighten(c)
			}
		}
	}
	tighten(doc)
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///OrderChangeNotificationStrict.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///OrderChangeNotificationStrict.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validateOrderChanges checks each message against the schema and its
// strict variant, and that none carries a PII value.
func validateOrderChanges(t *testing.T, msgs [][]byte, pii []string) {
	t.Helper()
	schema, strict := compileOrderChangeSchema(t), compileStrictOrderChangeSchema(t)
	for i, m := range msgs {
		for _, s := range []*jsonschema.Schema{schema, strict} {
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(m))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(v); err != nil {
				t.Errorf("message %d does not match OrderChangeNotification.json: %v\n%s", i, err, m)
			}
		}
		for _, p := range pii {
			if bytes.Contains(m, []byte(p)) {
				t.Errorf("message %d carries PII %q", i, p)
			}
		}
	}
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
	validateOrderChanges(t, msgs, o.PIIValues())
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
	// The strict variant rejects a property the schema does not declare.
	bad = bytes.Replace(msgs[0], []byte(`"IsBuyerRequestedCancel":false`), []byte(`"IsBuyerRequestedCancel":false,"BuyerCancelReason":"x"`), 1)
	if v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad)); compileStrictOrderChangeSchema(t).Validate(v) == nil {
		t.Fatal("an undeclared BuyerCancelReason passed the strict schema")
	}
}

// amzChange is the part of an ORDER_CHANGE body the tests look at.
type amzChange struct {
	Payload struct {
		OrderChangeNotification struct {
			AmazonOrderId      string
			OrderChangeType    string
			OrderChangeTrigger struct{ ChangeReason string }
			Summary            struct {
				MarketplaceId      string
				OrderStatus        string
				OrderType          string
				OrderPrograms      []string
				LatestDeliveryDate *string
				OrderItems         []struct {
					OrderItemId            string
					IsBuyerRequestedCancel bool
				}
			}
		}
	}
}

func parseChange(t *testing.T, m []byte) amzChange {
	t.Helper()
	var c amzChange
	if err := json.Unmarshal(m, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAmazonContractOrderChangeKinds validates the ORDER_CHANGE messages of
// the newer scenarios: buyer cancellation request, cancellation after it,
// replacement, EU import with VAT registration, used condition, shipment.
func TestAmazonContractOrderChangeKinds(t *testing.T) {
	e := newAmzEnv(t, AmazonOptions{Seed: 12})
	e.login()
	e.pace = time.Second
	az := e.az
	eu := az.GenerateOrder(AmazonOrderSpec{EU: true, Business: true, Items: 2, Unshipped: true})
	rep := az.GenerateOrder(AmazonOrderSpec{ReplacementOf: eu.OrderID})
	used := az.GenerateOrder(AmazonOrderSpec{Used: true, Unshipped: true})
	cxl := az.GenerateOrder(AmazonOrderSpec{Items: 3})
	if err := az.RequestCancel(cxl.OrderID, "Found a better price"); err != nil {
		t.Fatal(err)
	}
	if err := az.CancelOrder(cxl.OrderID); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/orders/v0/orders/"+eu.OrderID+"/shipmentConfirmation",
		confirmBody(eu.MarketplaceID, "1", "DHL", AmazonPackageItem{eu.Items[0].OrderItemID, 1}, AmazonPackageItem{eu.Items[1].OrderItemID, 2})); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	msgs := az.DrainOrderChanges()
	if len(msgs) != 7 {
		t.Fatalf("%d messages, want 7", len(msgs))
	}
	var pii []string
	for _, o := range []AmazonOrder{eu, rep, used, cxl} {
		pii = append(pii, o.PIIValues()...)
	}
	validateOrderChanges(t, msgs, pii)
	var cs []amzChange
	for _, m := range msgs {
		cs = append(cs, parseChange(t, m))
	}
	req := cs[4].Payload.OrderChangeNotification
	if req.AmazonOrderId != cxl.OrderID || req.OrderChangeType != "BuyerRequestedChange" || req.OrderChangeTrigger.ChangeReason != "Buyer Requested Cancel" ||
		req.Summary.OrderStatus != "Pending" || len(req.Summary.OrderItems) != 3 {
		t.Errorf("cancel request message %s", msgs[4])
	}
	for _, it := range req.Summary.OrderItems {
		if !it.IsBuyerRequestedCancel {
			t.Errorf("item %s of the request lacks IsBuyerRequestedCancel", it.OrderItemId)
		}
	}
	if c := cs[5].Payload.OrderChangeNotification; c.OrderChangeType != "OrderStatusChange" || c.Summary.OrderStatus != "Canceled" ||
		!c.Summary.OrderItems[0].IsBuyerRequestedCancel || c.Summary.LatestDeliveryDate != nil {
		t.Errorf("cancel message %s", msgs[5])
	}
	if c := cs[1].Payload.OrderChangeNotification; !slices.Contains(c.Summary.OrderPrograms, "Replacement") || !slices.Contains(c.Summary.OrderPrograms, "Business") ||
		c.Summary.OrderType != "StandardOrder" || c.Summary.MarketplaceId != eu.MarketplaceID {
		t.Errorf("replacement message %s", msgs[1])
	}
	if c := cs[0].Payload.OrderChangeNotification; slices.Contains(c.Summary.OrderPrograms, "Replacement") || c.Summary.OrderItems[0].IsBuyerRequestedCancel {
		t.Errorf("plain EU message %s", msgs[0])
	}
	if c := cs[6].Payload.OrderChangeNotification; c.AmazonOrderId != eu.OrderID || c.Summary.OrderStatus != "Shipped" || c.Summary.LatestDeliveryDate == nil {
		t.Errorf("shipment message %s", msgs[6])
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
