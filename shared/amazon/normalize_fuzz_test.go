package amazon

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/shiprelay/shiprelay/shared/order"
)

// FuzzNormalize feeds arbitrary getOrder bodies through the decoder and
// Normalize: never a panic, and an order said to import is a valid one.
func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"testdata/get_order.json", "testdata/search_orders.json"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"order":{"orderId":"111-1111111-1111111","createdTime":"2026-11-21T10:00:00Z","lastUpdatedTime":"2026-11-21T10:00:00Z","fulfillment":{"fulfillmentStatus":"UNSHIPPED","fulfilledBy":"MERCHANT"},"orderItems":[{"orderItemId":"1","quantityOrdered":1,"product":{"sellerSku":"A"}}]}}`))
	f.Add([]byte(`{"order":{"orderItems":[{"quantityOrdered":-1,"cancellation":{"cancellationRequest":{"requester":"BUYER"}}}],"associatedOrders":[{"orderId":"x y"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var out struct {
			Order *Order `json:"order"`
		}
		if json.Unmarshal(body, &out) != nil || out.Order == nil {
			return
		}
		for _, opts := range []NormalizeOptions{{}, {ImportFBA: true, ItemIdentifier: "asin", ConditionNote: true,
			CustomFields: [3]string{FieldSellerOrderID, FieldIOSS, FieldReplacementOf}}} {
			o, disp, err := Normalize("amz-us", out.Order, opts)
			if err != nil || disp != order.Import {
				continue
			}
			if verr := o.Validate(); verr != nil {
				t.Fatalf("imported order is invalid: %v", verr)
			}
		}
	})
}
