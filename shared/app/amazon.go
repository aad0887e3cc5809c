package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/secrets"
)

// amazonCredentials is the JSON of an Amazon store's secret: the SP-API
// application's LWA credentials and the seller's refresh token.
type amazonCredentials struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	RefreshToken string `json:"refreshToken"`
}

// EnvAmazonSpeedUp (local stack only) multiplies Amazon's published rates,
// for a sandbox sped up the same way.
const EnvAmazonSpeedUp = "SHIPRELAY_AMAZON_SPEEDUP"

// amazonIncluded is what ingest reads of an order: enough to normalise it
// with buyer data (which needs the app's restricted-data roles).
var amazonIncluded = []string{"BUYER", "RECIPIENT", "FULFILLMENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "PACKAGES", "TAX"}

// amazonClients builds and caches one SP-API client per Amazon store; the
// stores of one seller share one LWA token cache (keyed by the secret) and
// one rate budget (Amazon's limits are per seller and application).
type amazonClients struct {
	deps *Deps

	mu      sync.Mutex
	tokens  map[string]*amazon.LWA
	clients map[string]*amazon.Client
}

// store returns the enabled Amazon store with id, or an Invalid error.
func (a *amazonClients) store(storeID string) (*config.Store, error) {
	st := a.deps.Config.Store(storeID)
	if st == nil || !st.IsEnabled() || st.Channel != order.Amazon || st.Amazon == nil {
		return nil, errs.Ef(errs.Invalid, "app", "store %q is not a configured, enabled Amazon store", storeID)
	}
	return st, nil
}

// Client returns a store's SP-API client.
func (a *amazonClients) Client(ctx context.Context, storeID string) (*amazon.Client, error) {
	st, err := a.store(storeID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[storeID]; ok {
		return c, nil
	}
	lwa, ok := a.tokens[st.CredentialsSecret]
	if !ok {
		var cred amazonCredentials
		if err := secrets.JSON(ctx, a.deps.Secrets, st.CredentialsSecret, &cred); err != nil {
			return nil, fmt.Errorf("store %s credentials: %w", storeID, err)
		}
		if cred.ClientID == "" || cred.ClientSecret == "" || cred.RefreshToken == "" {
			return nil, errs.Ef(errs.Unauthorised, "app", "store %s: secret %q needs clientId, clientSecret and refreshToken", storeID, st.CredentialsSecret)
		}
		lwa = &amazon.LWA{
			BaseURL: st.Amazon.LWAURL, ClientID: cred.ClientID, ClientSecret: cred.ClientSecret,
			RefreshToken: cred.RefreshToken, HTTP: a.deps.HTTP,
		}
		if a.tokens == nil {
			a.tokens = map[string]*amazon.LWA{}
		}
		a.tokens[st.CredentialsSecret] = lwa
	}
	c := &amazon.Client{
		MarketplaceID: st.Amazon.MarketplaceID, BaseURL: st.BaseURL, Tokens: lwa, HTTP: a.deps.HTTP,
		Budget: a.deps.Ledger, BudgetKey: "amazon:" + st.Amazon.SellerID,
		MaxWait: a.deps.Config.Settings.MaxBudgetWait.D(), Limits: a.limits(),
	}
	if a.clients == nil {
		a.clients = map[string]*amazon.Client{}
	}
	a.clients[storeID] = c
	return c, nil
}

// limits returns the published usage plans multiplied by the local
// speed-up (nil, the published ones, in production).
func (a *amazonClients) limits() map[string]ratelimit.Limit {
	f := a.deps.speedUp(EnvAmazonSpeedUp)
	if f <= 1 {
		return nil
	}
	out := map[string]ratelimit.Limit{}
	for op, l := range amazon.Limits {
		out[op] = ratelimit.Limit{Rate: l.Rate * f, Burst: l.Burst}
	}
	return out
}

// options returns a store's normalisation settings.
func amazonOptions(st *config.Store) amazon.NormalizeOptions {
	a := st.Amazon
	var cf [3]string
	copy(cf[:], a.CustomFields)
	return amazon.NormalizeOptions{
		ImportFBA: a.ImportFBA, ItemIdentifier: a.ItemIdentifier, ConditionNote: a.ConditionNote,
		CustomFields: cf, TaxIDsTo: a.TaxIDsTo,
	}
}

// Fetch implements ingest.Fetcher for Amazon: getOrder (v2026-01-01) with
// buyer, recipient and fulfilment data, normalised with the store's settings.
func (a *amazonClients) Fetch(ctx context.Context, storeID, channelOrderID string) (order.Order, order.Disposition, error) {
	st, err := a.store(storeID)
	if err != nil {
		return order.Order{}, 0, err
	}
	c, err := a.Client(ctx, storeID)
	if err != nil {
		return order.Order{}, 0, err
	}
	o, err := c.GetOrder(ctx, channelOrderID, amazonIncluded)
	if err != nil {
		return order.Order{}, 0, err
	}
	if m := o.SalesChannel.MarketplaceID; m != "" && m != st.Amazon.MarketplaceID {
		return order.Order{}, 0, errs.Ef(errs.Invalid, "amazon.Fetch", "order %s belongs to marketplace %s, not this store's %s", channelOrderID, m, st.Amazon.MarketplaceID)
	}
	out, disp, err := amazon.Normalize(storeID, &o, amazonOptions(st))
	if err != nil {
		return order.Order{}, 0, errs.E(errs.Invalid, "amazon.Fetch", err)
	}
	return out, disp, nil
}

// ModifiedBetween implements poll.Lister for Amazon with searchOrders by
// lastUpdatedAfter, page by page. Amazon requires the window to end at
// least two minutes before now; the end it actually searched (the
// response's lastUpdatedBefore) is returned as the next watermark.
func (a *amazonClients) ModifiedBetween(ctx context.Context, storeID string, from, to time.Time, page func([]poll.Change) error) (time.Time, error) {
	if _, err := a.store(storeID); err != nil {
		return time.Time{}, err
	}
	c, err := a.Client(ctx, storeID)
	if err != nil {
		return time.Time{}, err
	}
	if lim := to.Add(-amazonSearchLag); lim.Before(to) {
		to = lim
	}
	if !from.Before(to) {
		return from, nil
	}
	q := amazon.SearchQuery{LastUpdatedAfter: from, LastUpdatedBefore: to, MaxResultsPerPage: 100}
	var until time.Time
	for {
		res, err := c.SearchOrders(ctx, q)
		if err != nil {
			return time.Time{}, err
		}
		if until.IsZero() && res.LastUpdatedBefore != nil {
			until = res.LastUpdatedBefore.UTC()
		}
		changes := make([]poll.Change, 0, len(res.Orders))
		for _, o := range res.Orders {
			changes = append(changes, poll.Change{ChannelOrderID: o.OrderID, ModifiedAt: o.LastUpdatedTime.UTC()})
		}
		if len(changes) > 0 {
			if err := page(changes); err != nil {
				return time.Time{}, err
			}
		}
		if res.NextToken == "" {
			break
		}
		// Later pages repeat the first query with the token, as the API asks.
		q.PaginationToken = res.NextToken
	}
	if until.IsZero() {
		until = to
	}
	return until, nil
}

// amazonSearchLag is how far before now searchOrders' window must end.
const amazonSearchLag = 2 * time.Minute
