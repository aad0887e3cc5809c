package config

import (
	"strings"
	"testing"
)

const amazonBase = `
shipstation:
  - id: main
    credentialsSecret: ss
stores:
  - id: amz-us
    channel: amazon
    credentialsSecret: shiprelay/amazon/seller1
    amazon:
      sellerId: A3SANDBOXSELLER
      marketplaceId: ATVPDKIKX0DER
    shipstation: {account: main, storeId: 1}
`

func TestAmazonStoreDefaults(t *testing.T) {
	c, err := Parse([]byte(amazonBase))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Store("amz-us").Amazon
	if a.ItemIdentifier != "sku" || a.TaxIDsTo != "internalNotes" || a.Confirm != ConfirmFirstOnly || a.ImportFBA || a.OneTrackingPerOrder {
		t.Fatalf("defaults: %+v", a)
	}
	if _, ok := a.Authorized(); ok {
		t.Error("Authorized without authorizedOn")
	}
}

func TestAmazonStoreFull(t *testing.T) {
	src := strings.Replace(amazonBase, "      marketplaceId: ATVPDKIKX0DER\n", `      marketplaceId: ATVPDKIKX0DER
      lwaURL: http://127.0.0.1:9000
      importFBA: true
      itemIdentifier: asin
      conditionNote: true
      customFields: [sellerOrderId, "", ioss]
      taxIdsTo: customField2
      confirm: every-package
      oneTrackingPerOrder: true
      authorizedOn: 2026-01-15
`, 1) + `  - id: amz-jp
    channel: amazon
    credentialsSecret: shiprelay/amazon/seller1
    amazon: {sellerId: A3SANDBOXSELLER, marketplaceId: A1VC38T7YXB528}
    shipstation: {account: main, storeId: 2}
`
	c, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Store("amz-us").Amazon
	if !a.ImportFBA || a.ItemIdentifier != "asin" || !a.ConditionNote || a.TaxIDsTo != "customField2" ||
		a.Confirm != ConfirmEveryPackage || !a.OneTrackingPerOrder || len(a.CustomFields) != 3 {
		t.Fatalf("parsed: %+v", a)
	}
	if d, ok := a.Authorized(); !ok || d.Format("2006-01-02") != "2026-01-15" {
		t.Errorf("Authorized = %v, %v", d, ok)
	}
	if got := len(c.StoresOf("amazon")); got != 2 {
		t.Errorf("%d amazon stores, want 2 (one seller, two marketplaces)", got)
	}
}

func TestAmazonStoreErrorsNameTheField(t *testing.T) {
	cases := []struct{ name, from, to, want string }{
		{"no amazon section", "    amazon:\n      sellerId: A3SANDBOXSELLER\n      marketplaceId: ATVPDKIKX0DER\n", "", "stores[0].amazon: is required"},
		{"bad seller", "sellerId: A3SANDBOXSELLER", "sellerId: seller one", "stores[0].amazon.sellerId"},
		{"bad marketplace", "marketplaceId: ATVPDKIKX0DER", "marketplaceId: amazon.com", "stores[0].amazon.marketplaceId"},
		{"bad identifier", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      itemIdentifier: upc\n", "stores[0].amazon.itemIdentifier"},
		{"bad policy", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      confirm: all\n", "stores[0].amazon.confirm"},
		{"unknown custom field", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      customFields: [buyerName]\n", "stores[0].amazon.customFields[0]"},
		{"four custom fields", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      customFields: [orderId, orderId, orderId, orderId]\n", "at most 3"},
		{"tax ids on a used custom field", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      customFields: [orderId]\n      taxIdsTo: customField1\n", "stores[0].amazon.taxIdsTo"},
		{"bad tax target", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      taxIdsTo: customs\n", "stores[0].amazon.taxIdsTo"},
		{"bad date", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      authorizedOn: 15/01/2026\n", "stores[0].amazon.authorizedOn"},
		{"catalog dimensions", "marketplaceId: ATVPDKIKX0DER\n", "marketplaceId: ATVPDKIKX0DER\n      catalogDimensions: true\n", "stores[0].amazon.catalogDimensions: is not supported yet"},
		{"amazon on bigcommerce", "channel: amazon", "channel: bigcommerce", "stores[0].amazon: only an amazon store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(amazonBase, tc.from, tc.to, 1)
			if src == amazonBase {
				t.Fatalf("mutation %q did not apply", tc.from)
			}
			_, err := Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	twice := amazonBase + `  - id: amz-us-2
    channel: amazon
    credentialsSecret: x
    amazon: {sellerId: A3SANDBOXSELLER, marketplaceId: ATVPDKIKX0DER}
    shipstation: {account: main}
`
	if _, err := Parse([]byte(twice)); err == nil || !strings.Contains(err.Error(), "one store per marketplace") {
		t.Fatalf("same marketplace twice: %v", err)
	}
}
