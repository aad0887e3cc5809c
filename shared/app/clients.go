package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shiprelay/shiprelay/shared/bigcommerce"
	"github.com/shiprelay/shiprelay/shared/carrier"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/push"
	"github.com/shiprelay/shiprelay/shared/ratelimit"
	"github.com/shiprelay/shiprelay/shared/relay"
	"github.com/shiprelay/shiprelay/shared/secrets"
	"github.com/shiprelay/shiprelay/shared/shipstation"
	"github.com/shiprelay/shiprelay/shared/webhook"
)

// bigCommerceCredentials is the JSON of a BigCommerce store's secret.
type bigCommerceCredentials struct {
	AccessToken   string `json:"accessToken"`
	WebhookSecret string `json:"webhookSecret"`
	// ClientSecret verifies Standard Webhooks signatures when set.
	ClientSecret string `json:"clientSecret"`
}

// shipStationCredentials is the JSON of a ShipStation account's secret.
type shipStationCredentials struct {
	APIKey    string `json:"apiKey"`
	APISecret string `json:"apiSecret"`
	// WebhookToken is the secret path segment of the SHIP_NOTIFY webhook.
	WebhookToken string `json:"webhookToken"`
}

type bcStore struct {
	client *bigcommerce.Client
	auth   webhook.BigCommerceAuth
	// copies are the store's copies settings; patterns the origin patterns
	// in force (the configured ones, else bigcommerce.DefaultPatterns).
	copies   config.CopiesSettings
	patterns []bigcommerce.Pattern
	// channels remembers the store's channels (one Channels API call per
	// channel per hour).
	channels *bigcommerce.ChannelCache
}

// bigCommerce returns the client and webhook credentials of a store; ok is
// false when the store is unknown, disabled or not a BigCommerce store.
func (c *clients) bigCommerce(ctx context.Context, storeID string) (*bcStore, bool, error) {
	st := c.deps.Config.Store(storeID)
	if st == nil || !st.IsEnabled() || st.Channel != order.BigCommerce {
		return nil, false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.bc[storeID]; ok {
		return s, true, nil
	}
	var cred bigCommerceCredentials
	if err := secrets.JSON(ctx, c.deps.Secrets, st.CredentialsSecret, &cred); err != nil {
		return nil, false, fmt.Errorf("store %s credentials: %w", storeID, err)
	}
	if cred.AccessToken == "" || cred.WebhookSecret == "" {
		return nil, false, errs.Ef(errs.Invalid, "app", "store %s: secret %q needs accessToken and webhookSecret", storeID, st.CredentialsSecret)
	}
	bc := st.BigCommerce
	s := &bcStore{
		client: &bigcommerce.Client{
			BaseURL: st.BaseURL, StoreHash: bc.StoreHash, AccessToken: cred.AccessToken,
			HTTP: c.deps.HTTP, Budget: c.deps.Ledger, BudgetKey: "bigcommerce:" + bc.StoreHash,
			Limit:   ratelimit.PerWindow(bc.RequestsPer30s, 30*time.Second),
			MaxWait: c.deps.Config.Settings.MaxBudgetWait.D(),
		},
		auth: webhook.BigCommerceAuth{
			StoreHash: bc.StoreHash, Header: bc.WebhookHeader, Secret: cred.WebhookSecret,
			SigningSecret: cred.ClientSecret,
		},
		copies:   bc.CopiesSettings(),
		channels: &bigcommerce.ChannelCache{},
	}
	s.patterns = s.copies.Patterns
	if s.patterns == nil {
		s.patterns = bigcommerce.DefaultPatterns()
	}
	if c.bc == nil {
		c.bc = map[string]*bcStore{}
	}
	c.bc[storeID] = s
	return s, true, nil
}

// BigCommerceAuth implements webhook.BigCommerceStores.
func (c *clients) BigCommerceAuth(ctx context.Context, storeID string) (webhook.BigCommerceAuth, bool, error) {
	s, ok, err := c.bigCommerce(ctx, storeID)
	if !ok || err != nil {
		return webhook.BigCommerceAuth{}, ok, err
	}
	return s.auth, true, nil
}

// Fetch implements ingest.Fetcher for BigCommerce: the order, all its
// product lines and shipping addresses, normalised, with the marketplace
// order it mirrors (Origin) or, for a non-storefront order whose origin was
// not recognised, why (OriginReview). The platform of the order's channel
// comes from the Channels API (cached per store, not asked for the
// storefront) unless the store's copies.channels is off; a transient
// failure of that call fails the fetch so that it is retried, an unknown
// channel counts as an unknown platform.
func (c *clients) Fetch(ctx context.Context, storeID, channelOrderID string) (order.Order, order.Disposition, error) {
	s, ok, err := c.bigCommerce(ctx, storeID)
	if err != nil {
		return order.Order{}, 0, err
	}
	if !ok {
		return order.Order{}, 0, errs.Ef(errs.Invalid, "bigcommerce.Fetch", "store %q is not a configured BigCommerce store", storeID)
	}
	id, err := strconv.ParseInt(channelOrderID, 10, 64)
	if err != nil || id <= 0 {
		return order.Order{}, 0, errs.Ef(errs.Invalid, "bigcommerce.Fetch", "order id %q is not a positive integer", channelOrderID)
	}
	o, err := s.client.GetOrder(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	if _, disp, known := order.BigCommerceStatus(o.StatusID); known && disp == order.Ignore {
		// Not importable yet: spare the line and address calls.
		return order.Order{ChannelStatus: o.Status}, order.Ignore, nil
	}
	platform, note, err := s.platform(ctx, o.ChannelID)
	if err != nil {
		return order.Order{}, 0, err
	}
	products, err := s.client.Products(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	addrs, err := s.client.ShippingAddresses(ctx, id)
	if err != nil {
		return order.Order{}, 0, err
	}
	out, disp, err := bigcommerce.Normalize(storeID, o, products, addrs)
	if err != nil {
		return order.Order{}, 0, err
	}
	out.Origin, out.OriginReview = bigcommerce.DetectOrigin(o, platform, s.patterns)
	if out.OriginReview != "" && note != "" {
		out.OriginReview += "; " + note
	}
	return out, disp, nil
}

// platform returns the platform of a channel of the store for
// DetectOrigin: "" when copies.channels is off or the Channels API does
// not know the channel (note then says why, PII-free). err is set only for
// failures worth a retry.
func (s *bcStore) platform(ctx context.Context, channelID int64) (platform, note string, err error) {
	if !s.copies.UseChannels {
		return "", "", nil
	}
	ch, err := s.channels.Lookup(ctx, s.client, channelID)
	switch {
	case err == nil:
		return ch.OriginPlatform(), "", nil
	case errs.Is(err, errs.NotFound):
		return "", fmt.Sprintf("channel %d is unknown to the Channels API", channelID), nil
	case errs.Is(err, errs.Unauthorised):
		return "", "the Channels API refused to describe the channel: give the API account read access to Channels, or set copies.channels: false", nil
	case errs.Is(err, errs.Invalid):
		return "", fmt.Sprintf("the Channels API gave no usable answer for channel %d", channelID), nil
	}
	return "", "", err
}

// ModifiedBetween implements poll.Lister for BigCommerce.
func (c *clients) ModifiedBetween(ctx context.Context, storeID string, from, to time.Time, page func([]poll.Change) error) (time.Time, error) {
	return to, c.listModified(ctx, storeID, from, to, page)
}

func (c *clients) listModified(ctx context.Context, storeID string, from, to time.Time, page func([]poll.Change) error) error {
	s, ok, err := c.bigCommerce(ctx, storeID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Ef(errs.Invalid, "bigcommerce.poll", "store %q is not a configured BigCommerce store", storeID)
	}
	const limit = 250
	for p := 1; ; p++ {
		orders, err := s.client.ListOrders(ctx, bigcommerce.ListOrdersQuery{
			MinDateModified: from, MaxDateModified: to, Page: p, Limit: limit, Sort: "date_modified:asc",
		})
		if err != nil {
			return err
		}
		changes := make([]poll.Change, 0, len(orders))
		for _, o := range orders {
			ch := poll.Change{ChannelOrderID: strconv.FormatInt(o.ID, 10)}
			if t, err := bigcommerce.ParseTime(o.DateModified); err == nil {
				ch.ModifiedAt = t
			}
			changes = append(changes, ch)
		}
		if len(changes) > 0 {
			if err := page(changes); err != nil {
				return err
			}
		}
		if len(orders) < limit {
			return nil
		}
	}
}

// shipStationClient returns the client of a ShipStation account.
func (c *clients) shipStationClient(ctx context.Context, id string) (*shipstation.Client, error) {
	a := c.deps.Config.Account(id)
	if a == nil {
		return nil, errs.Ef(errs.Invalid, "app", "shipstation account %q is not configured", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.ss[id]; ok {
		return cl, nil
	}
	var cred shipStationCredentials
	if err := secrets.JSON(ctx, c.deps.Secrets, a.CredentialsSecret, &cred); err != nil {
		return nil, fmt.Errorf("shipstation %s credentials: %w", id, err)
	}
	cl := &shipstation.Client{
		BaseURL: a.BaseURL, APIKey: cred.APIKey, APISecret: cred.APISecret, HTTP: c.deps.HTTP,
		Budget: c.deps.Ledger, BudgetKey: "shipstation:" + id, Limit: a.Limit(),
		MaxWait: c.deps.Config.Settings.MaxBudgetWait.D(),
	}
	if c.ss == nil {
		c.ss = map[string]*shipstation.Client{}
	}
	c.ss[id] = cl
	return cl, nil
}

// shipStation returns an account's client as the push function uses it.
func (c *clients) shipStation(ctx context.Context, id string) (push.Creator, error) {
	return c.shipStationClient(ctx, id)
}

// bigCommerceClient returns a store's BigCommerce client.
func (c *clients) bigCommerceClient(ctx context.Context, storeID string) (*bigcommerce.Client, error) {
	s, ok, err := c.bigCommerce(ctx, storeID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Ef(errs.Invalid, "app", "store %q is not a configured, enabled BigCommerce store", storeID)
	}
	return s.client, nil
}

// carriers returns a store's carrier map.
func (d *Deps) carriers(storeID string) *carrier.Map {
	if st := d.Config.Store(storeID); st != nil {
		return st.CarrierMap()
	}
	return carrier.Default()
}

// ShipStationAuth implements webhook.ShipStationAccounts: the webhook
// token lives in the account's credentials secret ("webhookToken").
func (c *clients) ShipStationAuth(ctx context.Context, accountID string) (webhook.ShipStationAuth, bool, error) {
	a := c.deps.Config.Account(accountID)
	if a == nil {
		return webhook.ShipStationAuth{}, false, nil
	}
	var cred shipStationCredentials
	if err := secrets.JSON(ctx, c.deps.Secrets, a.CredentialsSecret, &cred); err != nil {
		return webhook.ShipStationAuth{}, false, fmt.Errorf("shipstation %s credentials: %w", accountID, err)
	}
	if cred.WebhookToken == "" {
		// No token configured: the account takes no webhooks (the pull
		// still catches every label).
		return webhook.ShipStationAuth{}, false, nil
	}
	return webhook.ShipStationAuth{Token: cred.WebhookToken, BaseURL: a.BaseURL}, true, nil
}

// labels returns the label source of a ShipStation account.
func (c *clients) labels(ctx context.Context, account string) (relay.Source, error) {
	cl, err := c.shipStationClient(ctx, account)
	if err != nil {
		return nil, err
	}
	return shipstation.Labels{Client: cl, Account: account}, nil
}
