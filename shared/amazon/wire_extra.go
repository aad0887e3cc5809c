package amazon

// Wire types of the Orders API v2026-01-01 getOrder/searchOrders response
// that the normaliser needs beyond the fields client.go started with.
// Buyer and Recipient are PII: they are only returned when requested via
// includedData (BUYER, RECIPIENT) and the app holds the restricted roles.

// Buyer is the customer who placed the order.
type Buyer struct {
	BuyerName string `json:"buyerName,omitempty"`
	// BuyerEmail is Amazon's anonymised relay address (FBM orders only).
	BuyerEmail               string `json:"buyerEmail,omitempty"`
	BuyerCompanyName         string `json:"buyerCompanyName,omitempty"`
	BuyerPurchaseOrderNumber string `json:"buyerPurchaseOrderNumber,omitempty"`
}

// Recipient is who and where the order is delivered to.
type Recipient struct {
	DeliveryAddress *CustomerAddress `json:"deliveryAddress,omitempty"`
}

// CustomerAddress is a delivery address.
type CustomerAddress struct {
	Name             string `json:"name,omitempty"`
	CompanyName      string `json:"companyName,omitempty"`
	AddressLine1     string `json:"addressLine1,omitempty"`
	AddressLine2     string `json:"addressLine2,omitempty"`
	AddressLine3     string `json:"addressLine3,omitempty"`
	City             string `json:"city,omitempty"`
	DistrictOrCounty string `json:"districtOrCounty,omitempty"`
	StateOrRegion    string `json:"stateOrRegion,omitempty"`
	Municipality     string `json:"municipality,omitempty"`
	PostalCode       string `json:"postalCode,omitempty"`
	CountryCode      string `json:"countryCode,omitempty"`
	Phone            string `json:"phone,omitempty"`
	// AddressType is RESIDENTIAL, COMMERCIAL or PICKUP_POINT.
	AddressType string `json:"addressType,omitempty"`
}

// OrderProceeds is the order's financial summary.
type OrderProceeds struct {
	GrandTotal *Money `json:"grandTotal,omitempty"`
}

// ItemCondition is the condition of an offer ("USED", "VERY_GOOD").
type ItemCondition struct {
	ConditionType    string `json:"conditionType,omitempty"`
	ConditionSubtype string `json:"conditionSubtype,omitempty"`
	ConditionNote    string `json:"conditionNote,omitempty"`
}

// AssociatedOrderItem links an order line to another line bought with it.
type AssociatedOrderItem struct {
	OrderID         string `json:"orderId,omitempty"`
	OrderItemID     string `json:"orderItemId,omitempty"`
	AssociationType string `json:"associationType,omitempty"`
}

// OrderAlias is another id of an order; AliasType SELLER_ORDER_ID is the
// seller's own order number.
type OrderAlias struct {
	AliasID   string `json:"aliasId"`
	AliasType string `json:"aliasType"`
}

// AssociatedOrder links an order to another one: AssociationType
// REPLACEMENT_ORIGINAL_ID or EXCHANGE_ORIGINAL_ID names the order this one
// replaces.
type AssociatedOrder struct {
	OrderID         string `json:"orderId,omitempty"`
	AssociationType string `json:"associationType,omitempty"`
}

// OrderTax is an order's tax information (includedData=TAX).
type OrderTax struct {
	TaxRegistrations []TaxRegistration `json:"taxRegistrations,omitempty"`
}

// TaxRegistration is the tax registration of a party to the order. One with
// EntityType BUYER is buyer data (its legal name and address name a
// person or their company).
type TaxRegistration struct {
	// EntityType is BUYER, MERCHANT or MARKETPLACE.
	EntityType string `json:"entityType,omitempty"`
	LegalName  string `json:"legalName,omitempty"`
	// TaxRegistrationType is BUSINESS, VAT, CST, CPF or CNPJ.
	TaxRegistrationType    string           `json:"taxRegistrationType,omitempty"`
	TaxRegistrationNumber  string           `json:"taxRegistrationNumber,omitempty"`
	TaxRegistrationAddress *CustomerAddress `json:"taxRegistrationAddress,omitempty"`
}

// ItemCancellation is the cancellation state of an order line.
type ItemCancellation struct {
	CancellationRequest   *CancellationRequest   `json:"cancellationRequest,omitempty"`
	CancellationExecution *CancellationExecution `json:"cancellationExecution,omitempty"`
}

// CancellationRequest is a request to cancel a line; Requester is BUYER.
type CancellationRequest struct {
	Requester    string `json:"requester,omitempty"`
	CancelReason string `json:"cancelReason,omitempty"`
}

// CancellationExecution is a cancellation done; CancelledBy is BUYER,
// MERCHANT or AMAZON.
type CancellationExecution struct {
	CancelledBy  string `json:"cancelledBy,omitempty"`
	CancelReason string `json:"cancelReason,omitempty"`
}

// ItemShipping is how a line ships.
type ItemShipping struct {
	InternationalShipping *ItemInternationalShipping `json:"internationalShipping,omitempty"`
}

// ItemInternationalShipping is what a cross-border line needs: IossNumber
// is Amazon's (the marketplace's) Import One-Stop Shop number for EU VAT,
// not buyer data.
type ItemInternationalShipping struct {
	IossNumber string `json:"iossNumber,omitempty"`
}
