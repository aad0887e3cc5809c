package amazon

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/config"
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

// euOrder is a merchant-fulfilled Amazon Business order shipped from outside
// the EU: IOSS numbers on its lines, the buyer's VAT registration, a seller
// order id alias and a PO number, as getOrder returns it with includedData
// BUYER,RECIPIENT,FULFILLMENT,PROCEEDS,TAX,CANCELLATION.
const euOrder = `{
  "orderId": "305-1111111-3333333",
  "orderAliases": [{"aliasId": "SO-2026-0042", "aliasType": "SELLER_ORDER_ID"}],
  "createdTime": "2026-11-21T09:02:11Z",
  "lastUpdatedTime": "2026-11-21T14:35:40Z",
  "programs": ["AMAZON_BUSINESS"],
  "salesChannel": {"channelName": "AMAZON", "marketplaceId": "A1PA6795UKMFR9", "marketplaceName": "Amazon.de"},
  "buyer": {"buyerName": "Greta Gruber", "buyerEmail": "xyz789@marketplace.amazon.de",
    "buyerCompanyName": "Gruber Werkzeug GmbH", "buyerPurchaseOrderNumber": "PO-7781"},
  "recipient": {"deliveryAddress": {
    "name": "Greta Gruber", "companyName": "Gruber Werkzeug GmbH", "addressLine1": "Hauptstrasse 5",
    "city": "Berlin", "postalCode": "10115", "countryCode": "DE", "phone": "+49 30 1234567", "addressType": "COMMERCIAL"}},
  "proceeds": {"grandTotal": {"amount": "119.00", "currencyCode": "EUR"}},
  "tax": {"taxRegistrations": [
    {"entityType": "BUYER", "legalName": "Gruber Werkzeug GmbH", "taxRegistrationType": "VAT", "taxRegistrationNumber": "DE811907980",
     "taxRegistrationAddress": {"name": "Greta Gruber", "addressLine1": "Hauptstrasse 5", "city": "Berlin", "countryCode": "DE"}},
    {"entityType": "MARKETPLACE", "taxRegistrationType": "VAT", "taxRegistrationNumber": "DE814584193"},
    {"entityType": "MERCHANT", "legalName": "Seller Ltd"}
  ]},
  "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT", "fulfillmentServiceLevel": "STANDARD"},
  "orderItems": [
    {"orderItemId": "50000000000001", "quantityOrdered": 1,
     "product": {"asin": "B000TOOL01", "title": "Torque wrench", "sellerSku": "TW-1",
       "price": {"unitPrice": {"amount": "79.00", "currencyCode": "EUR"}}},
     "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 1,
       "shipping": {"internationalShipping": {"iossNumber": "IM2760000742"}}}},
    {"orderItemId": "50000000000002", "quantityOrdered": 2,
     "product": {"asin": "B000TOOL02", "title": "Socket set", "sellerSku": "SS-2",
       "price": {"unitPrice": {"amount": "20.00", "currencyCode": "EUR"}}},
     "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2,
       "shipping": {"internationalShipping": {"iossNumber": "IM2760000742"}}}}
  ]
}`

// euPII is every piece of buyer data in euOrder.
var euPII = []string{"Greta", "Gruber", "xyz789", "Hauptstrasse", "1234567", "DE811907980"}

// assertNoPII fails when the non-personal part of o (what the ledger keeps
// after redaction) carries any of pii.
func assertNoPII(t *testing.T, o order.Order, pii []string) {
	t.Helper()
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pii {
		if strings.Contains(string(raw), v) {
			t.Errorf("order JSON carries PII %q: %s", v, raw)
		}
	}
}

func TestNormalizeBusinessFlagAndTag(t *testing.T) {
	out, d := mustNormalize(t, decode(t, euOrder, nil), NormalizeOptions{})
	if d != order.Import || out.Status != order.AwaitingShipment || !out.Business {
		t.Errorf("disposition %v status %q business %v", d, out.Status, out.Business)
	}
	if len(out.Tags) != 1 || out.Tags[0] != TagBusiness {
		t.Errorf("tags %v", out.Tags)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
	// Prime and Business together: both tags, in program order.
	out, _ = mustNormalize(t, decode(t, euOrder, func(o *Order) { o.Programs = []string{"PRIME", "AMAZON_BUSINESS"} }), NormalizeOptions{})
	if !out.Business || strings.Join(out.Tags, ",") != "Prime,Business" {
		t.Errorf("business %v tags %v", out.Business, out.Tags)
	}
	// A consumer order is not a business order.
	out, _ = mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{})
	if out.Business {
		t.Error("Prime consumer order flagged as business")
	}
	assertNoPII(t, out, []string{"Jane", "Main St", "555-0100", "abc123@"})
}

func TestNormalizeCustomFields(t *testing.T) {
	repl := func(o *Order) {
		o.AssociatedOrders = []AssociatedOrder{{OrderID: "305-9999999-0000000", AssociationType: "REPLACEMENT_ORIGINAL_ID"}}
		o.OrderItems[1].Fulfillment.Shipping.InternationalShipping.IossNumber = "IM2760000999"
	}
	for src, want := range map[string]string{
		"":                       "",
		FieldOrderID:             "305-1111111-3333333",
		FieldSellerOrderID:       "SO-2026-0042",
		FieldPurchaseOrderNumber: "PO-7781",
		FieldMarketplaceID:       "A1PA6795UKMFR9",
		FieldServiceLevel:        "STANDARD",
		FieldIOSS:                "IM2760000742, IM2760000999",
		FieldReplacementOf:       "305-9999999-0000000",
	} {
		for slot := range 3 {
			var opts NormalizeOptions
			opts.CustomFields[slot] = src
			out, _ := mustNormalize(t, decode(t, euOrder, repl), opts)
			var wantFields [3]string
			wantFields[slot] = want
			if out.CustomFields != wantFields {
				t.Errorf("source %q in slot %d: custom fields %q, want %q", src, slot, out.CustomFields, wantFields)
			}
		}
	}

	// All three at once.
	out, _ := mustNormalize(t, decode(t, euOrder, nil), NormalizeOptions{CustomFields: [3]string{FieldOrderID, FieldPurchaseOrderNumber, FieldIOSS}})
	if out.CustomFields != [3]string{"305-1111111-3333333", "PO-7781", "IM2760000742"} {
		t.Errorf("custom fields %q", out.CustomFields)
	}

	// Attributes the order lacks leave the field empty; it is not an error.
	bare := decode(t, euOrder, func(o *Order) {
		o.OrderAliases = []OrderAlias{{AliasID: "X", AliasType: "OTHER"}}
		o.Buyer = nil
		o.OrderItems[0].Fulfillment.Shipping = nil
		o.OrderItems[1].Fulfillment = nil
		o.SalesChannel.MarketplaceID = ""
	})
	out, _ = mustNormalize(t, bare, NormalizeOptions{CustomFields: [3]string{FieldSellerOrderID, FieldPurchaseOrderNumber, FieldIOSS}})
	if out.CustomFields != [3]string{} {
		t.Errorf("missing attributes: %q", out.CustomFields)
	}
	out, _ = mustNormalize(t, bare, NormalizeOptions{CustomFields: [3]string{FieldMarketplaceID, FieldReplacementOf, ""}})
	if out.CustomFields != [3]string{} {
		t.Errorf("missing attributes: %q", out.CustomFields)
	}

	// An unknown source is an error naming the option.
	_, d, err := Normalize("store-1", decode(t, euOrder, nil), NormalizeOptions{CustomFields: [3]string{"", "buyerName"}})
	if err == nil || !strings.Contains(err.Error(), "opts.CustomFields[1]") || d != order.Ignore {
		t.Errorf("unknown source: %v", err)
	}
}

func TestNormalizeCustomFieldSourcesMatchConfig(t *testing.T) {
	ours := []string{"", FieldOrderID, FieldSellerOrderID, FieldPurchaseOrderNumber, FieldMarketplaceID, FieldServiceLevel, FieldIOSS, FieldReplacementOf, FieldDeliverBy}
	if got, want := strings.Join(ours, ","), strings.Join(config.AmazonCustomFieldSources, ","); got != want {
		t.Errorf("sources %q, config has %q", got, want)
	}
	for _, src := range config.AmazonCustomFieldSources {
		opts := NormalizeOptions{CustomFields: [3]string{src}}
		if _, _, err := Normalize("store-1", decode(t, euOrder, nil), opts); err != nil {
			t.Errorf("config source %q: %v", src, err)
		}
	}
}

func TestNormalizeReplacement(t *testing.T) {
	for typ, note := range map[string]string{
		"REPLACEMENT_ORIGINAL_ID": "Replacement for Amazon order 113-9999999-0000001",
		"EXCHANGE_ORIGINAL_ID":    "Replacement for Amazon order 113-9999999-0000001 (exchange)",
	} {
		o := decode(t, primeOrder, func(o *Order) {
			o.AssociatedOrders = []AssociatedOrder{
				{OrderID: "113-5555555-0000000", AssociationType: "SOMETHING_ELSE"},
				{OrderID: "113-9999999-0000001", AssociationType: typ},
				{OrderID: "113-9999999-0000002", AssociationType: typ},
			}
		})
		out, d := mustNormalize(t, o, NormalizeOptions{CustomFields: [3]string{FieldReplacementOf, FieldDeliverBy}})
		if d != order.Import || out.ReplacementOf != "amazon:store-1:113-9999999-0000001" || out.InternalNotes != note {
			t.Errorf("%s: replacement of %q, notes %q", typ, out.ReplacementOf, out.InternalNotes)
		}
		if out.CustomFields[0] != "113-9999999-0000001" {
			t.Errorf("%s: custom field %q", typ, out.CustomFields[0])
		}
		if err := out.Validate(); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}

	// An ordinary order: the deliver-by date goes to the notes unless a
	// custom field carries it.
	out, _ := mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{})
	if out.ReplacementOf != "" || out.InternalNotes != "Deliver by 2026-11-26" {
		t.Errorf("ordinary order: %q %q", out.ReplacementOf, out.InternalNotes)
	}
	out, _ = mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{CustomFields: [3]string{"", "", FieldDeliverBy}})
	if out.InternalNotes != "" || out.CustomFields[2] != "2026-11-26" {
		t.Errorf("deliver-by in customField3: notes %q, fields %q", out.InternalNotes, out.CustomFields)
	}
	// A malformed original id is an error naming the field.
	for _, bad := range []string{"", "113/../x"} {
		o := decode(t, primeOrder, func(o *Order) {
			o.AssociatedOrders = []AssociatedOrder{{OrderID: bad, AssociationType: "REPLACEMENT_ORIGINAL_ID"}}
		})
		if _, _, err := Normalize("store-1", o, NormalizeOptions{}); err == nil || !strings.Contains(err.Error(), "associatedOrders[0].orderId") {
			t.Errorf("original id %q: %v", bad, err)
		}
	}
}

func TestNormalizeTaxIDs(t *testing.T) {
	out, _ := mustNormalize(t, decode(t, euOrder, nil), NormalizeOptions{TaxIDsTo: "customField2"})
	// The IOSS number is Amazon's: it stays with the order, once.
	if want := []order.TaxID{{Kind: TaxKindIOSS, Number: "IM2760000742"}}; !slices.Equal(out.TaxIDs, want) {
		t.Errorf("order tax ids %+v, want %+v", out.TaxIDs, want)
	}
	// The buyer's VAT number is buyer data; the marketplace's and the
	// merchant's registrations are not kept.
	if out.Personal == nil {
		t.Fatal("no personal data")
	}
	if want := []order.TaxID{{Kind: "VAT", Number: "DE811907980"}}; !slices.Equal(out.Personal.TaxIDs, want) {
		t.Errorf("personal tax ids %+v, want %+v", out.Personal.TaxIDs, want)
	}
	// TaxIDsTo is not applied by Normalize: nothing lands in the notes or
	// the custom fields.
	if out.InternalNotes != "" || out.CustomFields != [3]string{} {
		t.Errorf("notes %q custom fields %q", out.InternalNotes, out.CustomFields)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
	assertNoPII(t, out, append(euPII, "DE814584193", "Seller Ltd"))
	if p := out.Personal; p.BillTo.Name != "Greta Gruber" || p.BillTo.Company != "Gruber Werkzeug GmbH" || p.ShipTo[""].Street1 != "Hauptstrasse 5" {
		t.Errorf("personal %+v", p)
	}

	// Buyer tax data without buyer or recipient sections still is Personal.
	out, _ = mustNormalize(t, decode(t, euOrder, func(o *Order) { o.Buyer, o.Recipient = nil, nil }), NormalizeOptions{})
	if out.Personal == nil || len(out.Personal.TaxIDs) != 1 {
		t.Errorf("personal %+v", out.Personal)
	}
	assertNoPII(t, out, euPII)

	// Amazon-fulfilled orders never carry buyer data; the IOSS number stays.
	fba := decode(t, euOrder, func(o *Order) {
		o.Fulfillment.FulfilledBy = "AMAZON"
		o.Fulfillment.FulfillmentStatus = "SHIPPED"
	})
	out, d := mustNormalize(t, fba, NormalizeOptions{ImportFBA: true})
	if d != order.Import || out.Personal != nil || len(out.TaxIDs) != 1 {
		t.Errorf("FBA: %v personal %+v tax ids %+v", d, out.Personal, out.TaxIDs)
	}
	assertNoPII(t, out, euPII)

	// No tax data: nothing.
	out, _ = mustNormalize(t, decode(t, primeOrder, nil), NormalizeOptions{})
	if out.TaxIDs != nil || out.Personal.TaxIDs != nil {
		t.Errorf("tax ids %+v %+v", out.TaxIDs, out.Personal.TaxIDs)
	}
}

func TestNormalizeCancelRequested(t *testing.T) {
	withRequest := func(status string) *Order {
		return decode(t, primeOrder, func(o *Order) {
			o.Fulfillment.FulfillmentStatus = status
			o.OrderItems[1].Cancellation = &ItemCancellation{CancellationRequest: &CancellationRequest{Requester: "BUYER", CancelReason: "Changed mind"}}
		})
	}
	out, d := mustNormalize(t, withRequest("UNSHIPPED"), NormalizeOptions{})
	if d != order.Import || out.Status != order.OnHold || !out.CancelRequested || out.ChannelStatus != "UNSHIPPED" {
		t.Errorf("unshipped: %v status %q cancel requested %v", d, out.Status, out.CancelRequested)
	}
	if strings.Join(out.Tags, ",") != TagPrime+","+TagCancelRequested {
		t.Errorf("tags %v", out.Tags)
	}
	if err := out.Validate(); err != nil {
		t.Error(err)
	}
	raw, _ := json.Marshal(out)
	if !strings.Contains(string(raw), `"cancelRequested":true`) || strings.Contains(string(raw), "Changed mind") {
		t.Errorf("order JSON %s", raw)
	}
	out, _ = mustNormalize(t, withRequest("PARTIALLY_SHIPPED"), NormalizeOptions{})
	if out.Status != order.OnHold || !out.CancelRequested {
		t.Errorf("partially shipped: %q %v", out.Status, out.CancelRequested)
	}

	// Too late (shipped) or already done (cancelled): no hold.
	for status, want := range map[string]order.Status{"SHIPPED": order.Shipped, "CANCELLED": order.Cancelled} {
		out, _ := mustNormalize(t, withRequest(status), NormalizeOptions{})
		if out.Status != want || out.CancelRequested || slices.Contains(out.Tags, TagCancelRequested) {
			t.Errorf("%s: status %q cancel requested %v tags %v", status, out.Status, out.CancelRequested, out.Tags)
		}
	}
	// A pending order is not imported at all.
	if out, d := mustNormalize(t, withRequest("PENDING"), NormalizeOptions{}); d != order.Ignore || out.CancelRequested {
		t.Errorf("pending: %v %v", d, out.CancelRequested)
	}
	// An executed cancellation without a buyer request, or no cancellation: no hold.
	o := decode(t, primeOrder, func(o *Order) {
		o.OrderItems[0].Cancellation = &ItemCancellation{CancellationExecution: &CancellationExecution{CancelledBy: "MERCHANT"}}
	})
	if out, _ := mustNormalize(t, o, NormalizeOptions{}); out.Status != order.AwaitingShipment || out.CancelRequested {
		t.Errorf("merchant cancellation: %q %v", out.Status, out.CancelRequested)
	}
}

func TestNormalizeJapaneseAddressUnchanged(t *testing.T) {
	// The whole address, as Amazon JP sends it, reaches Personal and the
	// order byte for byte: no transliteration, no reordering, no trimming
	// of full-width characters.
	addr := &CustomerAddress{
		Name:          "佐藤　花子",
		CompanyName:   "株式会社サンプル",
		AddressLine1:  "大阪府大阪市北区梅田３丁目１－１",
		AddressLine2:  "サウスゲートビル１２Ｆ",
		AddressLine3:  "受付気付",
		City:          "大阪市北区",
		StateOrRegion: "大阪府",
		PostalCode:    "530-0001",
		CountryCode:   "JP",
		Phone:         "06-1234-5678",
	}
	o := decode(t, primeOrder, func(o *Order) {
		o.Recipient.DeliveryAddress = addr
		o.Proceeds = nil
		for i := range o.OrderItems {
			o.OrderItems[i].Product.Price.UnitPrice.CurrencyCode = "JPY"
		}
	})
	out, _ := mustNormalize(t, o, NormalizeOptions{})
	g := out.ShipGroups[0].ShipTo
	if g.City != addr.City || g.State != addr.StateOrRegion || g.PostalCode != addr.PostalCode || g.Country != "JP" {
		t.Errorf("address %+v", g)
	}
	want := order.Contact{Name: addr.Name, Company: addr.CompanyName, Street1: addr.AddressLine1, Street2: addr.AddressLine2,
		Street3: addr.AddressLine3, Phone: addr.Phone, Email: "abc123@marketplace.amazon.com"}
	if got := out.Personal.ShipTo[""]; got != want {
		t.Errorf("contact %+v, want %+v", got, want)
	}
	assertNoPII(t, out, []string{"佐藤", "株式会社", "梅田", "サウスゲート", "受付", "06-1234"})
}

func TestNormalizeSpecExamples(t *testing.T) {
	var spec struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Examples map[string]json.RawMessage `json:"examples"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(readShared(t, "specs", "amazon/orders_2026-01-01.json"), &spec); err != nil {
		t.Fatal(err)
	}
	// searchOrders' example: a Prime Business replacement order, shipped,
	// with a buyer's cancellation request that came too late.
	var search SearchResult
	if err := json.Unmarshal(spec.Paths["/orders/2026-01-01/orders"]["get"].Responses["200"].Examples["application/json"], &search); err != nil {
		t.Fatal(err)
	}
	if len(search.Orders) == 0 {
		t.Fatal("no example order")
	}
	out, _, err := Normalize("store-1", &search.Orders[0], NormalizeOptions{CustomFields: [3]string{FieldSellerOrderID, FieldReplacementOf, FieldMarketplaceID}})
	if err != nil {
		t.Fatal(err)
	}
	if out.ReplacementOf != "amazon:store-1:123-4567890-1234566" || !out.Business || out.CancelRequested || out.Status != order.Shipped ||
		out.CustomFields != [3]string{"SELLER-ORDER-2024-001", "123-4567890-1234566", "ATVPDKIKX0DER"} {
		t.Errorf("search example: replacement %q business %v cancel %v status %q fields %q",
			out.ReplacementOf, out.Business, out.CancelRequested, out.Status, out.CustomFields)
	}
	// getOrder's example carries an IOSS number.
	var get struct{ Order *Order }
	if err := json.Unmarshal(spec.Paths["/orders/2026-01-01/orders/{orderId}"]["get"].Responses["200"].Examples["application/json"], &get); err != nil {
		t.Fatal(err)
	}
	out, _, err = Normalize("store-1", get.Order, NormalizeOptions{CustomFields: [3]string{FieldIOSS}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.TaxIDs, []order.TaxID{{Kind: TaxKindIOSS, Number: "IM1234567890"}}) || out.CustomFields[0] != "IM1234567890" {
		t.Errorf("get example: tax ids %+v fields %q", out.TaxIDs, out.CustomFields)
	}
}
