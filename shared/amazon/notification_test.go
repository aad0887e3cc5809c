package amazon

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// referenceExample is the §6.4 ORDER_CHANGE example of the shared API
// contracts digest, read in place (it is not copied into the repository).
func referenceExample(t *testing.T) []byte {
	t.Helper()
	doc := string(readShared(t, "reference", "api-contracts.md"))
	_, rest, ok := strings.Cut(doc, "### 6.4")
	if !ok {
		t.Fatal("§6.4 not found in api-contracts.md")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("§6.4 has no json block")
	}
	return []byte(block)
}

func TestParseOrderChangeFixtures(t *testing.T) {
	c, err := ParseOrderChange(fixture(t, "order_change_canceled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.NotificationID != "5b0c9f7e-8f5a-4d2e-b1a4-3c2d1e0f9a8b" || c.AmazonOrderID != "702-1234567-7654321" ||
		c.SellerID != "A1SELLERTEST01" || c.MarketplaceID != "A2EUQ1WTGCTBG2" || c.ChangeType != "OrderStatusChange" {
		t.Errorf("ids: %+v", c)
	}
	if c.OrderStatus != "Canceled" || c.Status != order.Cancelled || c.Disposition != order.Import || c.FulfilledBy != order.AmazonByMerchant {
		t.Errorf("status: %q %q %v %q", c.OrderStatus, c.Status, c.Disposition, c.FulfilledBy)
	}
	if want := time.Date(2026, 11, 20, 9, 12, 3, 4e6, time.UTC); !c.EventTime.Equal(want) {
		t.Errorf("EventTime %v", c.EventTime)
	}
	if !c.CancelRequested() || c.Prime() || len(c.Items) != 1 || c.Items[0].OrderItemID != "11223344556677" || c.Items[0].Quantity != 1 {
		t.Errorf("items: %+v", c.Items)
	}

	a, err := ParseOrderChange(fixture(t, "order_change_afn.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.FulfilledBy != order.AmazonByAmazon || a.Status != order.Shipped || a.Disposition != order.Ignore {
		t.Errorf("AFN: %q %q %v", a.FulfilledBy, a.Status, a.Disposition)
	}

	p, err := ParseOrderChange(fixture(t, "order_change_prime_unshipped.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Prime() || !p.CancelRequested() || p.Status != order.AwaitingShipment || p.Disposition != order.Import ||
		p.ChangeType != "BuyerRequestedChange" || len(p.Items) != 2 || p.Items[0].QuantityShipped != 1 {
		t.Errorf("prime: %+v", p)
	}
}

func TestParseOrderChangeReferenceExample(t *testing.T) {
	c, err := ParseOrderChange(referenceExample(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != order.AwaitingShipment || c.Disposition != order.Import || !c.Prime() || c.FulfilledBy != order.AmazonByMerchant {
		t.Errorf("%+v", c)
	}
}

// mutate decodes the canceled fixture, applies f and re-encodes it.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, "order_change_canceled.json"), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ocn(m map[string]any) map[string]any {
	return m["Payload"].(map[string]any)["OrderChangeNotification"].(map[string]any)
}

func summary(m map[string]any) map[string]any { return ocn(m)["Summary"].(map[string]any) }

func item0(m map[string]any) map[string]any {
	return summary(m)["OrderItems"].([]any)[0].(map[string]any)
}

func TestParseOrderChangeRejects(t *testing.T) {
	cases := []struct {
		name, want string
		body       []byte
	}{
		{"empty", "empty or truncated", []byte("")},
		{"not json", "invalid JSON", []byte("{nope")},
		{"array", "wrong type", []byte("[]")},
		{"trailing", "trailing data", append(fixture(t, "order_change_canceled.json"), []byte(" {}")...)},
		{"type", "NotificationType", mutate(t, func(m map[string]any) { m["NotificationType"] = "ANY_OFFER_CHANGED" })},
		{"payload version", "PayloadVersion", mutate(t, func(m map[string]any) { m["PayloadVersion"] = "2.0" })},
		{"no metadata", "NotificationMetadata missing", mutate(t, func(m map[string]any) { delete(m, "NotificationMetadata") })},
		{"no notification id", "NotificationId", mutate(t, func(m map[string]any) {
			delete(m["NotificationMetadata"].(map[string]any), "NotificationId")
		})},
		{"no payload", "OrderChangeNotification missing", mutate(t, func(m map[string]any) { m["Payload"] = map[string]any{} })},
		{"event time", "EventTime", mutate(t, func(m map[string]any) { m["EventTime"] = "yesterday" })},
		{"seller", "SellerId", mutate(t, func(m map[string]any) { ocn(m)["SellerId"] = "" })},
		{"order id", "AmazonOrderId", mutate(t, func(m map[string]any) { ocn(m)["AmazonOrderId"] = "<script>" })},
		{"change type", "OrderChangeType", mutate(t, func(m map[string]any) { ocn(m)["OrderChangeType"] = "Other" })},
		{"trigger", "OrderChangeTrigger missing", mutate(t, func(m map[string]any) { delete(ocn(m), "OrderChangeTrigger") })},
		{"trigger time", "TimeOfOrderChange", mutate(t, func(m map[string]any) {
			ocn(m)["OrderChangeTrigger"].(map[string]any)["TimeOfOrderChange"] = "2026-11-20"
		})},
		{"summary", "Summary missing", mutate(t, func(m map[string]any) { delete(ocn(m), "Summary") })},
		{"marketplace", "MarketplaceId", mutate(t, func(m map[string]any) { summary(m)["MarketplaceId"] = "" })},
		{"status v2026 spelling", "OrderStatus", mutate(t, func(m map[string]any) { summary(m)["OrderStatus"] = "Cancelled" })},
		{"fulfilment v2026 spelling", "FulfillmentType", mutate(t, func(m map[string]any) { summary(m)["FulfillmentType"] = "MERCHANT" })},
		{"no items", "OrderItems missing", mutate(t, func(m map[string]any) { delete(summary(m), "OrderItems") })},
		{"item id", "OrderItemId", mutate(t, func(m map[string]any) { delete(item0(m), "OrderItemId") })},
		{"quantity", "Quantity missing", mutate(t, func(m map[string]any) { delete(item0(m), "Quantity") })},
		{"negative quantity", "negative", mutate(t, func(m map[string]any) { item0(m)["Quantity"] = -1 })},
		{"over-shipped", "QuantityShipped", mutate(t, func(m map[string]any) { item0(m)["QuantityShipped"] = 5 })},
		{"quantity type", "wrong type", mutate(t, func(m map[string]any) { item0(m)["Quantity"] = "1" })},
		{"huge", "larger than", bytes.Repeat([]byte(" "), maxNotification+1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseOrderChange(c.body)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v; want Invalid containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "<script>") || strings.Contains(err.Error(), "ANY_OFFER") {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

// TestOrderChangeFixturesMatchSchema validates the reference example and
// every fixture against Amazon's published JSON Schema, so the parser is
// tested on messages Amazon could really send.
func TestOrderChangeFixturesMatchSchema(t *testing.T) {
	raw := readShared(t, "specs", "amazon/OrderChangeNotification.json")
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://shiprelay.invalid/OrderChangeNotification.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{"§6.4": referenceExample(t)}
	files, _ := filepath.Glob(filepath.Join("testdata", "order_change_*.json"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		bodies[f] = fixture(t, filepath.Base(f))
	}
	for name, b := range bodies {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not match the schema: %v", name, err)
		}
		if _, err := ParseOrderChange(b); err != nil {
			t.Errorf("%s: schema-valid but rejected: %v", name, err)
		}
	}
	// The schema agrees with the parser on a status only the v2026 API spells.
	bad := mutate(t, func(m map[string]any) { summary(m)["OrderStatus"] = "CANCELLED" })
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if sch.Validate(inst) == nil {
		t.Error("schema accepted a v2026 status spelling")
	}
}

func FuzzParseOrderChange(f *testing.F) {
	for _, n := range []string{"order_change_canceled.json", "order_change_afn.json", "order_change_prime_unshipped.json"} {
		f.Add(fixture(f, n))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseOrderChange(body)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error not Invalid: %v", err)
			}
			return
		}
		if c.NotificationID == "" || c.AmazonOrderID == "" || c.EventTime.IsZero() || c.Items == nil {
			t.Fatalf("accepted an incomplete change: %+v", c)
		}
		if _, _, ok := order.AmazonStatus(c.OrderStatus); !ok {
			t.Fatalf("accepted unknown status")
		}
		if c.FulfilledBy == order.AmazonByAmazon && c.Disposition != order.Ignore {
			t.Fatalf("AFN order imported")
		}
	})
}
