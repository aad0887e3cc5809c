package sandbox

import (
	"fmt"
	"time"
)

// AmazonOrderSpec describes an order for GenerateOrder. The zero value is a
// merchant-fulfilled, PENDING, one-item US order.
type AmazonOrderSpec struct {
	// FBA makes the order Amazon-fulfilled (fulfilledBy AMAZON); it then
	// starts UNSHIPPED and cannot be confirmed by the seller.
	FBA bool
	// Prime adds the PRIME program (seller-fulfilled Prime when !FBA).
	Prime bool
	// Business adds AMAZON_BUSINESS, a company name and a PO number.
	Business bool
	// Japan ships to a Japanese address on amazon.co.jp in JPY.
	Japan bool
	// Items is the number of order lines (default 1); line i has quantity
	// i+1.
	Items int
	// Unshipped starts a merchant order UNSHIPPED instead of PENDING.
	Unshipped bool
}

// GenerateOrder creates and stores an order described by spec and returns it.
func (a *Amazon) GenerateOrder(spec AmazonOrderSpec) AmazonOrder {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.generateLocked(spec)
}

// GenerateOrders creates n orders cycling through the interesting kinds:
// plain merchant, Prime, FBA, business multi-item, Japanese, multi-item.
func (a *Amazon) GenerateOrders(n int) []AmazonOrder {
	kinds := []AmazonOrderSpec{
		{},
		{Prime: true, Unshipped: true},
		{FBA: true, Prime: true},
		{Business: true, Items: 3, Unshipped: true},
		{Japan: true, Items: 2},
		{Items: 2, Unshipped: true},
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]AmazonOrder, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, a.generateLocked(kinds[a.rng.IntN(len(kinds))]))
	}
	return out
}

func (a *Amazon) generateLocked(spec AmazonOrderSpec) AmazonOrder {
	a.seq++
	now := a.now().UTC()
	if spec.Items <= 0 {
		spec.Items = 1
	}
	prefix := 111 + a.rng.IntN(3)
	if spec.Japan {
		prefix = 503
	}
	id := fmt.Sprintf("%03d-%07d-%07d", prefix, a.rng.IntN(10000000), a.seq)
	tok := fmt.Sprintf("pii%06x", a.rng.Uint32()&0xffffff)
	o := &AmazonOrder{
		OrderID:       id,
		SellerOrderID: fmt.Sprintf("SO-%06d", a.seq),
		MarketplaceID: AmazonMarketplaceUS,
		Currency:      "USD",
		Created:       now,
		LastUpdated:   now,
		Status:        AmazonPending,
		FulfilledBy:   "MERCHANT",
		ServiceLevel:  "STANDARD",
		ShipBy:        now.Add(48 * time.Hour).Truncate(time.Second),
		DeliverBy:     now.Add(5 * 24 * time.Hour).Truncate(time.Second),
		Buyer: AmazonBuyer{
			Name:  "Buyer " + tok,
			Email: tok + "@marketplace.amazon.com",
		},
		Address: AmazonAddress{
			Name:          "Recipient " + tok,
			AddressLine1:  "100 " + tok + " Street",
			City:          "Seattle",
			StateOrRegion: "WA",
			PostalCode:    "98101",
			CountryCode:   "US",
			Phone:         "+1 206-555-" + fmt.Sprintf("%04d", a.rng.IntN(10000)) + " x" + tok,
			AddressType:   "RESIDENTIAL",
		},
	}
	if spec.Unshipped || spec.FBA {
		o.Status = AmazonUnshipped
	}
	if spec.FBA {
		o.FulfilledBy = "AMAZON"
	}
	if spec.Prime {
		o.Programs = append(o.Programs, "PRIME")
		o.ServiceLevel = "SECOND_DAY"
	}
	if spec.Business {
		o.Programs = append(o.Programs, "AMAZON_BUSINESS")
		o.Buyer.CompanyName = "Company " + tok
		o.Buyer.PurchaseOrder = fmt.Sprintf("PO-%05d", a.seq)
		o.Address.CompanyName = "Company " + tok
		o.Address.AddressType = "COMMERCIAL"
	}
	if spec.Japan {
		o.MarketplaceID = AmazonMarketplaceJP
		o.Currency = "JPY"
		o.Address = AmazonAddress{
			Name:          "山田 太郎 " + tok,
			AddressLine1:  "千代田1-1 " + tok,
			AddressLine2:  "サンドボックスビル 3F",
			City:          "千代田区",
			StateOrRegion: "東京都",
			PostalCode:    "100-0001",
			CountryCode:   "JP",
			Phone:         "03-5555-" + fmt.Sprintf("%04d", a.rng.IntN(10000)) + " " + tok,
			AddressType:   "RESIDENTIAL",
		}
	}
	for i := 0; i < spec.Items; i++ {
		price := fmt.Sprintf("%d.%02d", 5+a.rng.IntN(60), a.rng.IntN(100))
		if spec.Japan {
			price = fmt.Sprintf("%d", 500+a.rng.IntN(9000))
		}
		o.Items = append(o.Items, AmazonOrderItem{
			OrderItemID: fmt.Sprintf("%014d", int64(a.seq)*1000+int64(i)+10000000000000),
			ASIN:        fmt.Sprintf("B0%08X", a.rng.Uint32()),
			SellerSKU:   fmt.Sprintf("SKU-%03d", a.rng.IntN(1000)),
			Title:       fmt.Sprintf("Sandbox product %d", i+1),
			Quantity:    i + 1,
			UnitPrice:   price,
		})
	}
	a.orders[id] = o
	a.queueStatusChange(o)
	return o.clone()
}
