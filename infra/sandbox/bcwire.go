package sandbox

import (
	"fmt"
	"net/url"
)

// This file renders BigCommerce V2/V3 JSON exactly as the API does: every
// field of the OpenAPI schemas (orders.v2.oas2.yml), money as 4-decimal
// strings, dates as RFC-2822, nullable fields as null.

type bcResource struct {
	URL      string `json:"url"`
	Resource string `json:"resource"`
}

type bcFormField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type bcBillingWire struct {
	FirstName   string        `json:"first_name"`
	LastName    string        `json:"last_name"`
	Company     string        `json:"company"`
	Street1     string        `json:"street_1"`
	Street2     string        `json:"street_2"`
	City        string        `json:"city"`
	State       string        `json:"state"`
	Zip         string        `json:"zip"`
	Country     string        `json:"country"`
	CountryISO2 string        `json:"country_iso2"`
	Phone       string        `json:"phone"`
	Email       string        `json:"email"`
	FormFields  []bcFormField `json:"form_fields"`
}

type bcOrderWire struct {
	ID                                  int           `json:"id"`
	CustomerID                          int           `json:"customer_id"`
	DateCreated                         string        `json:"date_created"`
	DateModified                        string        `json:"date_modified"`
	DateShipped                         string        `json:"date_shipped"`
	StatusID                            int           `json:"status_id"`
	Status                              string        `json:"status"`
	CustomStatus                        string        `json:"custom_status"`
	SubtotalExTax                       string        `json:"subtotal_ex_tax"`
	SubtotalIncTax                      string        `json:"subtotal_inc_tax"`
	SubtotalTax                         string        `json:"subtotal_tax"`
	BaseShippingCost                    string        `json:"base_shipping_cost"`
	ShippingCostExTax                   string        `json:"shipping_cost_ex_tax"`
	ShippingCostIncTax                  string        `json:"shipping_cost_inc_tax"`
	ShippingCostTax                     string        `json:"shipping_cost_tax"`
	ShippingCostTaxClassID              int           `json:"shipping_cost_tax_class_id"`
	BaseHandlingCost                    string        `json:"base_handling_cost"`
	HandlingCostExTax                   string        `json:"handling_cost_ex_tax"`
	HandlingCostIncTax                  string        `json:"handling_cost_inc_tax"`
	HandlingCostTax                     string        `json:"handling_cost_tax"`
	HandlingCostTaxClassID              int           `json:"handling_cost_tax_class_id"`
	BaseWrappingCost                    string        `json:"base_wrapping_cost"`
	WrappingCostExTax                   string        `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax                  string        `json:"wrapping_cost_inc_tax"`
	WrappingCostTax                     string        `json:"wrapping_cost_tax"`
	WrappingCostTaxClassID              int           `json:"wrapping_cost_tax_class_id"`
	TotalExTax                          string        `json:"total_ex_tax"`
	TotalIncTax                         string        `json:"total_inc_tax"`
	TotalTax                            string        `json:"total_tax"`
	ItemsTotal                          int           `json:"items_total"`
	ItemsShipped                        int           `json:"items_shipped"`
	PaymentMethod                       string        `json:"payment_method"`
	PaymentProviderID                   string        `json:"payment_provider_id"`
	PaymentStatus                       string        `json:"payment_status"`
	RefundedAmount                      string        `json:"refunded_amount"`
	OrderIsDigital                      bool          `json:"order_is_digital"`
	StoreCreditAmount                   string        `json:"store_credit_amount"`
	GiftCertificateAmount               string        `json:"gift_certificate_amount"`
	IPAddress                           string        `json:"ip_address"`
	IPAddressV6                         string        `json:"ip_address_v6"`
	GeoipCountry                        string        `json:"geoip_country"`
	GeoipCountryISO2                    string        `json:"geoip_country_iso2"`
	CurrencyID                          int           `json:"currency_id"`
	CurrencyCode                        string        `json:"currency_code"`
	CurrencyExchangeRate                string        `json:"currency_exchange_rate"`
	DefaultCurrencyID                   int           `json:"default_currency_id"`
	DefaultCurrencyCode                 string        `json:"default_currency_code"`
	StaffNotes                          string        `json:"staff_notes"`
	CustomerMessage                     string        `json:"customer_message"`
	DiscountAmount                      string        `json:"discount_amount"`
	CouponDiscount                      string        `json:"coupon_discount"`
	ShippingAddressCount                int           `json:"shipping_address_count"`
	IsDeleted                           bool          `json:"is_deleted"`
	EbayOrderID                         string        `json:"ebay_order_id"`
	CartID                              string        `json:"cart_id"`
	BillingAddress                      bcBillingWire `json:"billing_address"`
	IsEmailOptIn                        bool          `json:"is_email_opt_in"`
	CreditCardType                      *string       `json:"credit_card_type"`
	OrderSource                         string        `json:"order_source"`
	ChannelID                           int           `json:"channel_id"`
	ExternalSource                      *string       `json:"external_source"`
	Consignments                        bcResource    `json:"consignments"`
	Products                            bcResource    `json:"products"`
	ShippingAddresses                   bcResource    `json:"shipping_addresses"`
	Coupons                             bcResource    `json:"coupons"`
	ExternalID                          *string       `json:"external_id"`
	ExternalMerchantID                  *string       `json:"external_merchant_id"`
	TaxProviderID                       string        `json:"tax_provider_id"`
	CustomerLocale                      string        `json:"customer_locale"`
	ExternalOrderID                     string        `json:"external_order_id"`
	StoreDefaultCurrencyCode            string        `json:"store_default_currency_code"`
	StoreDefaultToTransactionalExchRate string        `json:"store_default_to_transactional_exchange_rate"`
	IsTaxInclusivePricing               bool          `json:"is_tax_inclusive_pricing"`
	Fees                                bcResource    `json:"fees"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// orderWire renders o; base is the API root, e.g. "http://127.0.0.1:4010/stores/abc/v2".
func orderWire(o *BCOrder, base string) bcOrderWire {
	ex, tax := o.subtotalCents()
	ship := o.shippingCents()
	res := func(name string) bcResource {
		p := fmt.Sprintf("/orders/%d/%s", o.ID, name)
		return bcResource{URL: base + p, Resource: p}
	}
	w := bcOrderWire{
		ID:                                  o.ID,
		CustomerID:                          o.CustomerID,
		DateCreated:                         rfc2822(o.DateCreated),
		DateModified:                        rfc2822(o.DateModified),
		DateShipped:                         rfc2822(o.DateShipped),
		StatusID:                            o.StatusID,
		Status:                              o.StatusName(),
		CustomStatus:                        o.StatusName(),
		SubtotalExTax:                       money(ex),
		SubtotalIncTax:                      money(ex + tax),
		SubtotalTax:                         money(tax),
		BaseShippingCost:                    money(ship),
		ShippingCostExTax:                   money(ship),
		ShippingCostIncTax:                  money(ship),
		ShippingCostTax:                     money(0),
		ShippingCostTaxClassID:              2,
		BaseHandlingCost:                    money(0),
		HandlingCostExTax:                   money(0),
		HandlingCostIncTax:                  money(0),
		HandlingCostTax:                     money(0),
		HandlingCostTaxClassID:              2,
		BaseWrappingCost:                    money(0),
		WrappingCostExTax:                   money(0),
		WrappingCostIncTax:                  money(0),
		WrappingCostTax:                     money(0),
		WrappingCostTaxClassID:              3,
		TotalExTax:                          money(ex + ship - o.DiscountCents),
		TotalIncTax:                         money(o.TotalIncTaxCents()),
		TotalTax:                            money(tax),
		ItemsTotal:                          o.ItemsTotal(),
		ItemsShipped:                        o.ItemsShipped(),
		PaymentMethod:                       o.PaymentMethod,
		PaymentStatus:                       o.PaymentStatus,
		RefundedAmount:                      money(0),
		OrderIsDigital:                      o.IsDigital(),
		StoreCreditAmount:                   money(0),
		GiftCertificateAmount:               money(0),
		IPAddress:                           o.IPAddress,
		GeoipCountry:                        o.Billing.Country,
		GeoipCountryISO2:                    o.Billing.CountryISO2,
		CurrencyID:                          1,
		CurrencyCode:                        o.CurrencyCode,
		CurrencyExchangeRate:                "1.0000000000",
		DefaultCurrencyID:                   1,
		DefaultCurrencyCode:                 o.CurrencyCode,
		StaffNotes:                          o.StaffNotes,
		CustomerMessage:                     o.CustomerMessage,
		DiscountAmount:                      money(o.DiscountCents),
		CouponDiscount:                      money(0),
		ShippingAddressCount:                len(o.ShippingAddresses),
		IsDeleted:                           o.IsDeleted,
		EbayOrderID:                         o.EbayOrderID,
		CartID:                              o.CartID,
		BillingAddress:                      billingWire(o.Billing),
		OrderSource:                         o.OrderSource,
		ChannelID:                           o.ChannelID,
		ExternalSource:                      nullable(o.ExternalSource),
		Consignments:                        res("consignments"),
		Products:                            res("products"),
		ShippingAddresses:                   res("shipping_addresses"),
		Coupons:                             res("coupons"),
		ExternalID:                          nullable(o.ExternalID),
		TaxProviderID:                       "BasicTaxProvider",
		CustomerLocale:                      "en",
		ExternalOrderID:                     o.ExternalOrderID,
		StoreDefaultCurrencyCode:            o.CurrencyCode,
		StoreDefaultToTransactionalExchRate: "1.0000000000",
		Fees:                                res("fees"),
	}
	return w
}

func billingWire(a Address) bcBillingWire {
	return bcBillingWire{
		FirstName: a.FirstName, LastName: a.LastName, Company: a.Company, Street1: a.Street1, Street2: a.Street2,
		City: a.City, State: a.State, Zip: a.Zip, Country: a.Country, CountryISO2: a.CountryISO2,
		Phone: a.Phone, Email: a.Email, FormFields: []bcFormField{},
	}
}

type bcProductOptionWire struct {
	ID                   int    `json:"id"`
	OptionID             int    `json:"option_id"`
	OrderProductID       int    `json:"order_product_id"`
	ProductOptionID      int    `json:"product_option_id"`
	DisplayName          string `json:"display_name"`
	DisplayNameCustomer  string `json:"display_name_customer"`
	DisplayNameMerchant  string `json:"display_name_merchant"`
	DisplayValue         string `json:"display_value"`
	DisplayValueCustomer string `json:"display_value_customer"`
	DisplayValueMerchant string `json:"display_value_merchant"`
	Value                string `json:"value"`
	Type                 string `json:"type"`
	Name                 string `json:"name"`
	DisplayStyle         string `json:"display_style"`
}

type bcProductWire struct {
	ID                    int                   `json:"id"`
	OrderID               int                   `json:"order_id"`
	ProductID             int                   `json:"product_id"`
	VariantID             int                   `json:"variant_id"`
	OrderPickupMethodID   int                   `json:"order_pickup_method_id"`
	OrderAddressID        int                   `json:"order_address_id"`
	Name                  string                `json:"name"`
	NameCustomer          string                `json:"name_customer"`
	NameMerchant          string                `json:"name_merchant"`
	SKU                   string                `json:"sku"`
	UPC                   string                `json:"upc"`
	Type                  string                `json:"type"`
	BasePrice             string                `json:"base_price"`
	PriceExTax            string                `json:"price_ex_tax"`
	PriceIncTax           string                `json:"price_inc_tax"`
	PriceTax              string                `json:"price_tax"`
	BaseTotal             string                `json:"base_total"`
	TotalExTax            string                `json:"total_ex_tax"`
	TotalIncTax           string                `json:"total_inc_tax"`
	TotalTax              string                `json:"total_tax"`
	Weight                string                `json:"weight"`
	Width                 string                `json:"width"`
	Height                string                `json:"height"`
	Depth                 string                `json:"depth"`
	Quantity              int                   `json:"quantity"`
	BaseCostPrice         string                `json:"base_cost_price"`
	CostPriceIncTax       string                `json:"cost_price_inc_tax"`
	CostPriceExTax        string                `json:"cost_price_ex_tax"`
	CostPriceTax          string                `json:"cost_price_tax"`
	IsRefunded            bool                  `json:"is_refunded"`
	QuantityRefunded      int                   `json:"quantity_refunded"`
	RefundAmount          string                `json:"refund_amount"`
	ReturnID              int                   `json:"return_id"`
	WrappingID            int                   `json:"wrapping_id"`
	WrappingName          *string               `json:"wrapping_name"`
	BaseWrappingCost      string                `json:"base_wrapping_cost"`
	WrappingCostExTax     string                `json:"wrapping_cost_ex_tax"`
	WrappingCostIncTax    string                `json:"wrapping_cost_inc_tax"`
	WrappingCostTax       string                `json:"wrapping_cost_tax"`
	WrappingMessage       string                `json:"wrapping_message"`
	QuantityShipped       int                   `json:"quantity_shipped"`
	EventName             *string               `json:"event_name"`
	EventDate             *string               `json:"event_date"`
	FixedShippingCost     string                `json:"fixed_shipping_cost"`
	EbayItemID            string                `json:"ebay_item_id"`
	EbayTransactionID     string                `json:"ebay_transaction_id"`
	OptionSetID           *int                  `json:"option_set_id"`
	ParentOrderProductID  *int                  `json:"parent_order_product_id"`
	IsBundledProduct      bool                  `json:"is_bundled_product"`
	BinPickingNumber      string                `json:"bin_picking_number"`
	ExternalID            *string               `json:"external_id"`
	Brand                 string                `json:"brand"`
	AppliedDiscounts      []struct{}            `json:"applied_discounts"`
	ProductOptions        []bcProductOptionWire `json:"product_options"`
	ConfigurableFields    []struct{}            `json:"configurable_fields"`
	GiftCertificateID     *int                  `json:"gift_certificate_id"`
	DiscountedTotalIncTax string                `json:"discounted_total_inc_tax"`
}

func productWire(o *BCOrder, l *LineItem) bcProductWire {
	q := int64(l.Quantity)
	w := bcProductWire{
		ID:                    l.ID,
		OrderID:               o.ID,
		ProductID:             l.ProductID,
		VariantID:             l.VariantID,
		OrderAddressID:        l.OrderAddressID,
		Name:                  l.Name,
		NameCustomer:          l.Name,
		NameMerchant:          l.Name,
		SKU:                   l.SKU,
		UPC:                   l.UPC,
		Type:                  l.Type,
		BasePrice:             money(l.UnitPriceCents),
		PriceExTax:            money(l.UnitPriceCents),
		PriceIncTax:           money(l.UnitPriceCents + l.UnitTaxCents),
		PriceTax:              money(l.UnitTaxCents),
		BaseTotal:             money(l.UnitPriceCents * q),
		TotalExTax:            money(l.UnitPriceCents * q),
		TotalIncTax:           money((l.UnitPriceCents + l.UnitTaxCents) * q),
		TotalTax:              money(l.UnitTaxCents * q),
		Weight:                l.Weight,
		Width:                 "0.0000",
		Height:                "0.0000",
		Depth:                 "0.0000",
		Quantity:              l.Quantity,
		BaseCostPrice:         money(0),
		CostPriceIncTax:       money(0),
		CostPriceExTax:        money(0),
		CostPriceTax:          money(0),
		IsRefunded:            l.QuantityRefunded > 0,
		QuantityRefunded:      l.QuantityRefunded,
		RefundAmount:          money(0),
		BaseWrappingCost:      money(0),
		WrappingCostExTax:     money(0),
		WrappingCostIncTax:    money(0),
		WrappingCostTax:       money(0),
		QuantityShipped:       l.QuantityShipped,
		FixedShippingCost:     money(0),
		AppliedDiscounts:      []struct{}{},
		ProductOptions:        []bcProductOptionWire{},
		ConfigurableFields:    []struct{}{},
		DiscountedTotalIncTax: money((l.UnitPriceCents + l.UnitTaxCents) * q),
	}
	if len(l.Options) > 0 {
		set := 5
		w.OptionSetID = &set
	}
	for _, opt := range l.Options {
		w.ProductOptions = append(w.ProductOptions, bcProductOptionWire{
			ID:                   opt.ID,
			OptionID:             opt.OptionID,
			OrderProductID:       l.ID,
			ProductOptionID:      opt.ProductOptionID,
			DisplayName:          opt.DisplayName,
			DisplayNameCustomer:  opt.DisplayName,
			DisplayNameMerchant:  opt.DisplayName,
			DisplayValue:         opt.DisplayValue,
			DisplayValueCustomer: opt.DisplayValue,
			DisplayValueMerchant: opt.DisplayValue,
			Value:                fmt.Sprint(opt.ProductOptionID*100 + len(opt.DisplayValue)),
			Type:                 opt.Type,
			Name:                 opt.DisplayName,
			DisplayStyle:         displayStyle(opt.Type),
		})
	}
	return w
}

func displayStyle(typ string) string {
	switch typ {
	case "Swatch":
		return "Swatch"
	case "Multiple choice":
		return "Rectangle"
	default:
		return ""
	}
}

type bcShippingAddressWire struct {
	ID                     int           `json:"id"`
	OrderID                int           `json:"order_id"`
	FirstName              string        `json:"first_name"`
	LastName               string        `json:"last_name"`
	Company                string        `json:"company"`
	Street1                string        `json:"street_1"`
	Street2                string        `json:"street_2"`
	City                   string        `json:"city"`
	Zip                    string        `json:"zip"`
	Country                string        `json:"country"`
	CountryISO2            string        `json:"country_iso2"`
	State                  string        `json:"state"`
	Email                  string        `json:"email"`
	Phone                  string        `json:"phone"`
	ItemsTotal             int           `json:"items_total"`
	ItemsShipped           int           `json:"items_shipped"`
	ShippingMethod         string        `json:"shipping_method"`
	BaseCost               string        `json:"base_cost"`
	CostExTax              string        `json:"cost_ex_tax"`
	CostIncTax             string        `json:"cost_inc_tax"`
	CostTax                string        `json:"cost_tax"`
	CostTaxClassID         int           `json:"cost_tax_class_id"`
	BaseHandlingCost       string        `json:"base_handling_cost"`
	HandlingCostExTax      string        `json:"handling_cost_ex_tax"`
	HandlingCostIncTax     string        `json:"handling_cost_inc_tax"`
	HandlingCostTax        string        `json:"handling_cost_tax"`
	HandlingCostTaxClassID int           `json:"handling_cost_tax_class_id"`
	ShippingZoneID         int           `json:"shipping_zone_id"`
	ShippingZoneName       string        `json:"shipping_zone_name"`
	FormFields             []bcFormField `json:"form_fields"`
	ShippingQuotes         bcResource    `json:"shipping_quotes"`
}

func shippingAddressWire(o *BCOrder, a *ShippingAddress, base string) bcShippingAddressWire {
	total, shipped := 0, 0
	for _, l := range o.Lines {
		if l.OrderAddressID == a.ID {
			total += l.Quantity
			shipped += l.QuantityShipped
		}
	}
	zone, zoneName := 1, "United States"
	if a.CountryISO2 != "US" {
		zone, zoneName = 2, "International"
	}
	p := fmt.Sprintf("/orders/%d/shipping_addresses/%d/shipping_quotes", o.ID, a.ID)
	return bcShippingAddressWire{
		ID: a.ID, OrderID: o.ID,
		FirstName: a.FirstName, LastName: a.LastName, Company: a.Company, Street1: a.Street1, Street2: a.Street2,
		City: a.City, Zip: a.Zip, Country: a.Country, CountryISO2: a.CountryISO2, State: a.State, Email: a.Email, Phone: a.Phone,
		ItemsTotal: total, ItemsShipped: shipped, ShippingMethod: a.ShippingMethod,
		BaseCost: money(a.ShippingCostCents), CostExTax: money(a.ShippingCostCents), CostIncTax: money(a.ShippingCostCents), CostTax: money(0),
		CostTaxClassID: 2, BaseHandlingCost: money(0), HandlingCostExTax: money(0), HandlingCostIncTax: money(0), HandlingCostTax: money(0),
		HandlingCostTaxClassID: 2, ShippingZoneID: zone, ShippingZoneName: zoneName,
		FormFields: []bcFormField{}, ShippingQuotes: bcResource{URL: base + p, Resource: p},
	}
}

type bcShippingAddressBase struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Company     string `json:"company"`
	Street1     string `json:"street_1"`
	Street2     string `json:"street_2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	Country     string `json:"country"`
	CountryISO2 string `json:"country_iso2"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
}

type bcShipmentWire struct {
	ID                          int                   `json:"id"`
	OrderID                     int                   `json:"order_id"`
	CustomerID                  int                   `json:"customer_id"`
	OrderAddressID              int                   `json:"order_address_id"`
	DateCreated                 string                `json:"date_created"`
	MerchantShippingCost        string                `json:"merchant_shipping_cost"`
	TrackingNumber              string                `json:"tracking_number"`
	ShippingMethod              string                `json:"shipping_method"`
	ShippingProvider            string                `json:"shipping_provider"`
	TrackingCarrier             string                `json:"tracking_carrier"`
	TrackingLink                string                `json:"tracking_link"`
	Comments                    string                `json:"comments"`
	BillingAddress              bcShippingAddressBase `json:"billing_address"`
	ShippingAddress             bcShippingAddressBase `json:"shipping_address"`
	Items                       []ShipmentItem        `json:"items"`
	ShippingProviderDisplayName string                `json:"shipping_provider_display_name"`
	GeneratedTrackingLink       string                `json:"generated_tracking_link"`
}

func addressBase(a Address) bcShippingAddressBase {
	return bcShippingAddressBase(a)
}

var providerNames = map[string]string{
	"": "None", "auspost": "Australia Post", "canadapost": "Canada Post", "endicia": "Endicia", "usps": "USPS",
	"fedex": "FedEx", "royalmail": "Royal Mail", "ups": "UPS", "upsready": "UPS Ready", "upsonline": "UPS Online",
	"shipperhq": "ShipperHQ",
}

func shipmentWire(o *BCOrder, sh *BCShipment) bcShipmentWire {
	var ship Address
	if a, ok := o.ShippingAddress(sh.OrderAddressID); ok {
		ship = a.Address
	}
	display, ok := providerNames[sh.ShippingProvider]
	if !ok {
		display = sh.ShippingProvider
	}
	link := ""
	if sh.TrackingLink == "" && sh.TrackingNumber != "" {
		n := url.QueryEscape(sh.TrackingNumber)
		switch {
		case sh.ShippingProvider == "usps" || sh.ShippingProvider == "endicia" || (sh.ShippingProvider == "" && sh.TrackingCarrier == "usps"):
			link = "https://tools.usps.com/go/TrackConfirmAction?tLabels=" + n
		case sh.ShippingProvider == "ups" || sh.ShippingProvider == "upsready" || (sh.ShippingProvider == "" && sh.TrackingCarrier == "ups"):
			link = "https://www.ups.com/track?tracknum=" + n
		case sh.ShippingProvider == "fedex" || (sh.ShippingProvider == "" && sh.TrackingCarrier == "fedex"):
			link = "https://www.fedex.com/fedextrack/?trknbr=" + n
		case sh.TrackingCarrier != "":
			link = "https://track.aftership.com/" + url.PathEscape(sh.TrackingCarrier) + "/" + n
		}
	}
	items := sh.Items
	if items == nil {
		items = []ShipmentItem{}
	}
	return bcShipmentWire{
		ID: sh.ID, OrderID: sh.OrderID, CustomerID: sh.CustomerID, OrderAddressID: sh.OrderAddressID,
		DateCreated: rfc2822(sh.DateCreated), MerchantShippingCost: sh.MerchantShippingCost,
		TrackingNumber: sh.TrackingNumber, ShippingMethod: sh.ShippingMethod, ShippingProvider: sh.ShippingProvider,
		TrackingCarrier: sh.TrackingCarrier, TrackingLink: sh.TrackingLink, Comments: sh.Comments,
		BillingAddress: addressBase(o.Billing), ShippingAddress: addressBase(ship), Items: items,
		ShippingProviderDisplayName: display, GeneratedTrackingLink: link,
	}
}

type bcV2Error struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

type bcV3Error struct {
	Status int               `json:"status"`
	Title  string            `json:"title"`
	Type   string            `json:"type"`
	Errors map[string]string `json:"errors"`
}

type bcStatusWire struct {
	ID                int    `json:"id"`
	Name              string `json:"name"`
	SystemLabel       string `json:"system_label"`
	CustomLabel       string `json:"custom_label"`
	SystemDescription string `json:"system_description"`
	Count             *int   `json:"count,omitempty"`
	SortOrder         int    `json:"sort_order"`
}

type bcChannelWire struct {
	ID                int      `json:"id"`
	ExternalID        string   `json:"external_id"`
	IsListableFromUI  bool     `json:"is_listable_from_ui"`
	IsEnabled         bool     `json:"is_enabled"`
	IsVisible         bool     `json:"is_visible"`
	Status            string   `json:"status"`
	Name              string   `json:"name"`
	Type              string   `json:"type"`
	Platform          string   `json:"platform"`
	DateCreated       string   `json:"date_created"`
	DateModified      string   `json:"date_modified"`
	IconURL           string   `json:"icon_url"`
	EnabledCurrencies []string `json:"enabled_currencies,omitempty"`
	DefaultCurrency   string   `json:"default_currency,omitempty"`
}
