package amazon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// primeOrder is a merchant-fulfilled Prime order with two physical lines, a
// value-add service line and buyer data, as getOrder returns it with
// includedData=BUYER,RECIPIENT,FULFILLMENT,PROCEEDS.
const primeOrder = `{
  "orderId": "113-1111111-2222222",
  "createdTime": "2026-11-21T09:02:11-05:00",
  "lastUpdatedTime": "2026-11-21T14:35:40Z",
  "programs": ["PRIME"],
  "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
  "buyer": {"buyerName": "Jane Doe", "buyerEmail": "abc123@marketplace.amazon.com"},
  "recipient": {"deliveryAddress": {
    "name": "Jane Doe", "addressLine1": "1 Main St", "addressLine2": "Apt 4",
    "city": "Seattle", "stateOrRegion": "WA", "postalCode": "98101-1234",
    "countryCode": "US", "phone": "+1 206-555-0100", "addressType": "RESIDENTIAL"}},
  "proceeds": {"grandTotal": {"amount": "52.87", "currencyCode": "USD"}},
  "fulfillment": {
    "fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT", "fulfillmentServiceLevel": "SECOND_DAY",
    "shipByWindow": {"earliestDateTime": "2026-11-22T08:00:00Z", "latestDateTime": "2026-11-24T07:59:59Z"},
    "deliverByWindow": {"earliestDateTime": "2026-11-25T08:00:00Z", "latestDateTime": "2026-11-26T07:59:59+00:00"}
  },
  "orderItems": [
    {"orderItemId": "40000000000001", "quantityOrdered": 2,
     "associatedOrderItems": [{"orderId": "113-1111111-2222222", "orderItemId": "40000000000003", "associationType": "VALUE_ADD_SERVICE"}],
     "product": {"asin": "B000TEST01", "title": "Enamel mug", "sellerSku": "MUG-GRN-12",
       "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
       "price": {"unitPrice": {"amount": "15.99", "currencyCode": "USD"}}},
     "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2}},
    {"orderItemId": "40000000000002", "quantityOrdered": 1,
     "product": {"asin": "B000TEST02", "title": "Used kettle", "sellerSku": "KETTLE-U",
       "condition": {"conditionType": "USED", "conditionSubtype": "VERY_GOOD", "conditionNote": "Small scratch on lid"},
       "price": {"unitPrice": {"amount": "20.89", "currencyCode": "USD"}}}},
    {"orderItemId": "40000000000003", "quantityOrdered": 1,
     "product": {"asin": "B000SERVICE", "title": "Installation", "price": {"unitPrice": {"amount": "9.00", "currencyCode": "USD"}}}}
  ]
}`

func decode(t *testing.T, s string, edit func(*Order)) *Order {
	t.Helper()
	var o Order
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&o)
	}
	return &o
}

func mustNormalize(t *testing.T, o *Order, opts NormalizeOptions) (order.Order, order.Disposition) {
	t.Helper()
	out, d, err := Normalize("store-1", o, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out, d
}

func TestNormalizePrimeMultiItem(t *testing.T) {
	out, d := mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{ConditionNote: true})
	if d != order.Import || out.Status != order.AwaitingShipment || out.ChannelStatus != "UNSHIPPED" {
		t.Fatalf("disposition %v status %q", d, out.Status)
	}
	if err := out.Validate(); err != nil {
		t.Fatal(err)
	}
	if out.ID != "amazon:store-1:113-1111111-2222222" || out.OrderNumber != "113-1111111-2222222" {
		t.Errorf("id %q number %q", out.ID, out.OrderNumber)
	}
	if !out.OrderDate.Equal(time.Date(2026, 11, 21, 14, 2, 11, 0, time.UTC)) || out.OrderDate.Location() != time.UTC ||
		!out.ModifiedAt.Equal(time.Date(2026, 11, 21, 14, 35, 40, 0, time.UTC)) {
		t.Errorf("dates %v %v", out.OrderDate, out.ModifiedAt)
	}
	if out.ShipBy == nil || !out.ShipBy.Equal(time.Date(2026, 11, 24, 7, 59, 59, 0, time.UTC)) ||
		out.DeliverBy == nil || !out.DeliverBy.Equal(time.Date(2026, 11, 26, 7, 59, 59, 0, time.UTC)) {
		t.Errorf("shipBy %v deliverBy %v", out.ShipBy, out.DeliverBy)
	}
	if len(out.Tags) != 1 || out.Tags[0] != TagPrime {
		t.Errorf("tags %v", out.Tags)
	}
	if out.Currency != "USD" || out.Total != "52.87" || out.RequestedService != "SECOND_DAY" {
		t.Errorf("currency %q total %q service %q", out.Currency, out.Total, out.RequestedService)
	}
	if len(out.Items) != 2 {
		t.Fatalf("items %+v (the service line must be dropped)", out.Items)
	}
	a, b := out.Items[0], out.Items[1]
	if a.LineID != "40000000000001" || a.SKU != "MUG-GRN-12" || a.ProductID != "B000TEST01" || a.Name != "Enamel mug" ||
		a.Quantity != 2 || a.UnitPrice != "15.99" || len(a.Options) != 1 || a.Options[0] != (order.Option{Name: "Condition", Value: "New"}) {
		t.Errorf("item 0 %+v", a)
	}
	wantOpts := []order.Option{{Name: "Condition", Value: "Used - Very Good"}, {Name: "Condition note", Value: "Small scratch on lid"}}
	if b.LineID != "40000000000002" || b.Quantity != 1 || b.UnitPrice != "20.89" || len(b.Options) != 2 ||
		b.Options[0] != wantOpts[0] || b.Options[1] != wantOpts[1] {
		t.Errorf("item 1 %+v", b)
	}
	g := out.ShipGroups[0]
	if g.Key != "" || g.ShipTo.City != "Seattle" || g.ShipTo.State != "WA" || g.ShipTo.PostalCode != "98101-1234" ||
		g.ShipTo.Country != "US" || g.ShipTo.Residential == nil || !*g.ShipTo.Residential {
		t.Errorf("ship group %+v", g)
	}
	p := out.Personal
	if p == nil {
		t.Fatal("no personal data")
	}
	st := p.ShipTo[""]
	if st.Name != "Jane Doe" || st.Street1 != "1 Main St" || st.Street2 != "Apt 4" || st.Phone != "+1 206-555-0100" ||
		p.Email != "abc123@marketplace.amazon.com" || p.BillTo.Name != "Jane Doe" {
		t.Errorf("personal %+v", p)
	}
	// PII stays out of the order itself.
	raw, _ := json.Marshal(out)
	for _, pii := range []string{"Jane", "Main St", "555-0100", "abc123@"} {
		if strings.Contains(string(raw), pii) {
			t.Errorf("order JSON carries PII %q", pii)
		}
	}

	// Without ConditionNote the note is not an option.
	out, _ = mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{})
	if len(out.Items[1].Options) != 1 {
		t.Errorf("options without note %+v", out.Items[1].Options)
	}
}

func TestNormalizeBusiness(t *testing.T) {
	o := decode(t, primeOrder, func(o *Order) {
		o.Programs = []string{"AMAZON_BUSINESS"}
		o.Buyer.BuyerCompanyName = "Acme Corp"
		o.Recipient.DeliveryAddress.CompanyName = "Acme Corp"
		o.Recipient.DeliveryAddress.AddressType = "COMMERCIAL"
		o.Fulfillment.FulfillmentStatus = "PARTIALLY_SHIPPED"
	})
	out, d := mustNormalize(t, o, NormalizeOptions{})
	if d != order.Import || out.Status != order.AwaitingShipment {
		t.Errorf("disposition %v status %q", d, out.Status)
	}
	if len(out.Tags) != 1 || out.Tags[0] != TagBusiness {
		t.Errorf("tags %v", out.Tags)
	}
	if r := out.ShipGroups[0].ShipTo.Residential; r == nil || *r {
		t.Errorf("residential %v", r)
	}
	if out.Personal.BillTo.Company != "Acme Corp" || out.Personal.ShipTo[""].Company != "Acme Corp" {
		t.Errorf("personal %+v", out.Personal)
	}
}

func TestNormalizeFBA(t *testing.T) {
	fba := func(status string) *Order {
		return decode(t, primeOrder, func(o *Order) {
			o.Fulfillment.FulfilledBy = "AMAZON"
			o.Fulfillment.FulfillmentStatus = status
		})
	}
	out, d := mustNormalize(t, fba("SHIPPED"), NormalizeOptions{})
	if d != order.Ignore || out.Personal != nil {
		t.Errorf("FBA import off: %v personal %v", d, out.Personal)
	}
	out, d = mustNormalize(t, fba("UNSHIPPED"), NormalizeOptions{ImportFBA: true})
	if d != order.Import || out.Status != order.Shipped || out.Personal != nil {
		t.Errorf("FBA import on: %v %q personal %v", d, out.Status, out.Personal)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
	out, d = mustNormalize(t, fba("CANCELLED"), NormalizeOptions{ImportFBA: true})
	if d != order.Import || out.Status != order.Cancelled {
		t.Errorf("FBA cancelled: %v %q", d, out.Status)
	}
	if _, d = mustNormalize(t, fba("PENDING"), NormalizeOptions{ImportFBA: true}); d != order.Ignore {
		t.Errorf("FBA pending: %v", d)
	}
}

func TestNormalizeStatuses(t *testing.T) {
	for status, want := range map[string]struct {
		s order.Status
		d order.Disposition
	}{
		"PENDING":              {"", order.Ignore},
		"PENDING_AVAILABILITY": {"", order.Ignore},
		"UNSHIPPED":            {order.AwaitingShipment, order.Import},
		"PARTIALLY_SHIPPED":    {order.AwaitingShipment, order.Import},
		"SHIPPED":              {order.Shipped, order.Import},
		"CANCELLED":            {order.Cancelled, order.Import},
	} {
		o := decode(t, primeOrder, func(o *Order) { o.Fulfillment.FulfillmentStatus = status })
		out, d := mustNormalize(t, o, NormalizeOptions{})
		if out.Status != want.s || d != want.d {
			t.Errorf("%s: %q %v", status, out.Status, d)
		}
	}
	// Pending orders carry no prices: not an error.
	o := decode(t, primeOrder, func(o *Order) {
		o.Fulfillment.FulfillmentStatus = "PENDING"
		o.Proceeds = nil
		for i := range o.OrderItems {
			o.OrderItems[i].Product.Price = nil
		}
	})
	if out, d := mustNormalize(t, o, NormalizeOptions{}); d != order.Ignore || out.Items[0].UnitPrice != "0" {
		t.Errorf("pending without prices: %v %+v", d, out.Items[0])
	}
}

func TestNormalizeJapaneseAddress(t *testing.T) {
	addr := &CustomerAddress{
		Name:          "山田 太郎",
		AddressLine1:  "渋谷区道玄坂1-2-3",
		AddressLine2:  "渋谷マークシティ 10階",
		City:          "渋谷区",
		StateOrRegion: "東京都",
		PostalCode:    "150-0043",
		CountryCode:   "JP",
		Phone:         "03-1234-5678",
	}
	o := decode(t, primeOrder, func(o *Order) {
		o.Programs = nil
		o.Proceeds = nil
		o.Recipient.DeliveryAddress = addr
		o.Buyer.BuyerName = "山田 太郎"
		o.OrderItems = o.OrderItems[:1]
		o.OrderItems[0].Product.Price.UnitPrice = &Money{Amount: "1980", CurrencyCode: "JPY"}
	})
	out, _ := mustNormalize(t, o, NormalizeOptions{})
	g := out.ShipGroups[0].ShipTo
	if g.City != addr.City || g.State != addr.StateOrRegion || g.PostalCode != addr.PostalCode || g.Country != "JP" {
		t.Errorf("address %+v", g)
	}
	st := out.Personal.ShipTo[""]
	if st.Name != addr.Name || st.Street1 != addr.AddressLine1 || st.Street2 != addr.AddressLine2 || st.Phone != addr.Phone {
		t.Errorf("contact %+v", st)
	}
	if out.Currency != "JPY" || out.Total != "3960" || out.Items[0].UnitPrice != "1980" {
		t.Errorf("currency %q total %q", out.Currency, out.Total)
	}
}

func TestNormalizeItemIdentifier(t *testing.T) {
	o := decode(t, primeOrder, nil)
	for ident, want := range map[string]string{"": "MUG-GRN-12", "sku": "MUG-GRN-12", "ASIN": "B000TEST01", "asin": "B000TEST01"} {
		out, _ := mustNormalize(t, o, NormalizeOptions{ItemIdentifier: ident})
		if out.Items[0].SKU != want {
			t.Errorf("%q: sku %q", ident, out.Items[0].SKU)
		}
	}
	// A line without a seller SKU falls back to its ASIN.
	o.OrderItems[0].Product.SellerSKU = ""
	if out, _ := mustNormalize(t, o, NormalizeOptions{}); out.Items[0].SKU != "B000TEST01" {
		t.Errorf("fallback sku %q", out.Items[0].SKU)
	}
	if _, _, err := Normalize("store-1", o, NormalizeOptions{ItemIdentifier: "upc"}); err == nil || !strings.Contains(err.Error(), "opts.ItemIdentifier") {
		t.Errorf("bad identifier: %v", err)
	}
}

func TestNormalizeMoneyExact(t *testing.T) {
	o := decode(t, primeOrder, func(o *Order) {
		o.Proceeds = nil
		o.OrderItems[0].QuantityOrdered = 3
		o.OrderItems[0].Product.Price.UnitPrice.Amount = "0.10"
		o.OrderItems[1].Product.Price.UnitPrice.Amount = "0.20"
	})
	out, _ := mustNormalize(t, o, NormalizeOptions{})
	// 3×0.1 + 0.2 is 0.5 exactly; float64 would give 0.5000000000000001.
	if out.Items[0].UnitPrice != "0.1" || out.Items[1].UnitPrice != "0.2" || out.Total != "0.5" || out.AmountPaid != "0.5" {
		t.Errorf("unit %q %q total %q", out.Items[0].UnitPrice, out.Items[1].UnitPrice, out.Total)
	}
	o.OrderItems[0].Product.Price.UnitPrice.Amount = "12345678901234567.89"
	out, _ = mustNormalize(t, o, NormalizeOptions{})
	if out.Items[0].UnitPrice != "12345678901234567.89" {
		t.Errorf("large amount %q", out.Items[0].UnitPrice)
	}
}

func TestNormalizeErrors(t *testing.T) {
	for name, c := range map[string]struct {
		edit  func(*Order)
		field string
	}{
		"money":        {func(o *Order) { o.OrderItems[1].Product.Price.UnitPrice.Amount = "12,50" }, "orderItems[1].product.price.unitPrice.amount"},
		"grand total":  {func(o *Order) { o.Proceeds.GrandTotal.Amount = "lots" }, "proceeds.grandTotal.amount"},
		"currency mix": {func(o *Order) { o.OrderItems[1].Product.Price.UnitPrice.CurrencyCode = "EUR" }, "orderItems[1].product.price.unitPrice.currencyCode"},
		"updated":      {func(o *Order) { o.LastUpdatedTime = time.Time{} }, "lastUpdatedTime"},
		"created":      {func(o *Order) { o.CreatedTime = time.Time{} }, "createdTime"},
		"status":       {func(o *Order) { o.Fulfillment.FulfillmentStatus = "LOST" }, "fulfillment.fulfillmentStatus"},
		"fulfilledBy":  {func(o *Order) { o.Fulfillment.FulfilledBy = "" }, "fulfillment.fulfilledBy"},
		"fulfillment":  {func(o *Order) { o.Fulfillment = nil }, "fulfillment"},
		"order id":     {func(o *Order) { o.OrderID = "" }, "orderId"},
		"line id":      {func(o *Order) { o.OrderItems[0].OrderItemID = "" }, "orderItems[0].orderItemId"},
		"quantity":     {func(o *Order) { o.OrderItems[1].QuantityOrdered = -1 }, "orderItems[1].quantityOrdered"},
		"country":      {func(o *Order) { o.Recipient.DeliveryAddress.CountryCode = "USA" }, "recipient.deliveryAddress.countryCode"},
	} {
		_, d, err := Normalize("store-1", decode(t, primeOrder, c.edit), NormalizeOptions{})
		if err == nil || !strings.Contains(err.Error(), c.field) || d != order.Ignore {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, pii := range []string{"Jane", "Main St", "555", "abc123"} {
			if strings.Contains(err.Error(), pii) {
				t.Errorf("%s: error carries PII: %v", name, err)
			}
		}
	}
	if _, _, err := Normalize("store-1", nil, NormalizeOptions{}); err == nil {
		t.Error("nil order")
	}
	// A malformed date never reaches Normalize: decoding fails.
	if err := json.Unmarshal([]byte(`{"lastUpdatedTime":"21/11/2026"}`), &Order{}); err == nil {
		t.Error("malformed date decoded")
	}
}

func TestNormalizeNoBuyerData(t *testing.T) {
	o := decode(t, primeOrder, func(o *Order) { o.Buyer, o.Recipient = nil, nil })
	out, d := mustNormalize(t, o, NormalizeOptions{})
	if d != order.Import || out.Personal != nil || len(out.ShipGroups) != 1 {
		t.Errorf("%v personal %v groups %v", d, out.Personal, out.ShipGroups)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
}

func TestNormalizeFixture(t *testing.T) {
	var body struct{ Order *Order }
	if err := json.Unmarshal(fixture(t, "get_order.json"), &body); err != nil {
		t.Fatal(err)
	}
	out, d := mustNormalize(t, body.Order, NormalizeOptions{})
	if d != order.Import || out.Status != order.AwaitingShipment || out.Total != "31.98" || out.Personal != nil {
		t.Errorf("%v %q total %q", d, out.Status, out.Total)
	}
}
