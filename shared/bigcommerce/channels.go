package bigcommerce

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/httpapi"
)

// StorefrontChannelID is the channel every store has: its BigCommerce
// storefront (BigCommerce's definition; orders default to it).
const StorefrontChannelID = 1

// Channel platforms and types shiprelay looks at (GET /v3/channels/{id}).
const (
	PlatformBigCommerce = "bigcommerce"
	PlatformAmazon      = "amazon"
	PlatformEBay        = "ebay"
	// ChannelTypeStorefront is the type of storefront channels, including
	// headless ones whose platform is not bigcommerce (wordpress, next, …).
	ChannelTypeStorefront = "storefront"
)

// Channel is a sales channel of a store as GET /v3/channels/{id} returns it
// (the fields shiprelay uses).
type Channel struct {
	ID int64 `json:"id"`
	// Name is the merchant's name for the channel.
	Name string `json:"name"`
	// Platform is e.g. bigcommerce, amazon, ebay, walmart, "facebook by meta".
	Platform string `json:"platform"`
	// Type is storefront, marketplace, marketing or pos.
	Type string `json:"type"`
	// Status is e.g. active, connected, disconnected.
	Status string `json:"status"`
}

// OriginPlatform is the platform to give DetectOrigin for an order on this
// channel: Platform in lower case, except that every storefront-type channel
// (headless storefronts run on WordPress, Next.js, … have their own
// platform) counts as the BigCommerce storefront, PlatformBigCommerce.
func (ch Channel) OriginPlatform() string {
	if strings.EqualFold(strings.TrimSpace(ch.Type), ChannelTypeStorefront) {
		return PlatformBigCommerce
	}
	return strings.ToLower(strings.TrimSpace(ch.Platform))
}

// storefront is what Lookup answers for channel ids 0 and 1 without asking.
var storefront = Channel{ID: StorefrontChannelID, Name: "storefront", Platform: PlatformBigCommerce, Type: ChannelTypeStorefront}

// Channel returns one channel of the store (GET /v3/channels/{id}, V3
// envelope {"data": {...}}), through the same budget and error
// classification as every other call: a channel the store does not have is
// errs.NotFound, a token without the Channels scope errs.Unauthorised.
func (c *Client) Channel(ctx context.Context, id int64) (Channel, error) {
	const op = "bigcommerce.Channel"
	what := "channel " + itoa(id)
	if id <= 0 {
		return Channel{}, errs.Ef(errs.Invalid, op, "%s: channel id must be positive", what)
	}
	var env struct {
		Data *Channel `json:"data"`
	}
	status, err := c.doVersion(ctx, "v3", op, what, http.MethodGet, "/channels/"+itoa(id), nil, nil, &env)
	switch {
	case errors.Is(err, httpapi.ErrEmptyBody):
		return Channel{}, errs.Ef(errs.NotFound, op, "%s: empty response", what)
	case err != nil:
		return Channel{}, err
	case status == http.StatusNoContent:
		return Channel{}, errs.Ef(errs.NotFound, op, "%s: HTTP 204", what)
	case env.Data == nil:
		return Channel{}, errs.Ef(errs.Invalid, op, "%s: response has no data", what)
	case env.Data.ID != id:
		return Channel{}, errs.Ef(errs.Invalid, op, "%s: response is for channel %d", what, env.Data.ID)
	}
	return *env.Data, nil
}

// DefaultChannelTTL is how long a ChannelCache keeps an answer.
const DefaultChannelTTL = time.Hour

// ChannelCache remembers the channels of one store (channel ids are per
// store) so that importing orders asks BigCommerce at most once per channel
// per TTL, however many orders and goroutines ask. The zero value is ready
// to use; it is safe for concurrent use.
//
// A channel BigCommerce says it does not know (404), one it refuses to show
// (401/403: the token lacks the Channels scope) and an unusable answer are
// remembered too, as their error, for the TTL. Transient failures (429,
// 5xx, timeouts, a cancelled context) are not remembered.
type ChannelCache struct {
	// TTL is how long an answer is kept; zero means DefaultChannelTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[int64]*channelEntry
}

type channelEntry struct {
	ready   chan struct{} // closed once ch/err are set
	ch      Channel
	err     error
	expires time.Time
}

// Lookup returns channel id of the store c calls. Ids 0 and 1 are the
// storefront by BigCommerce's definition and are answered without a call;
// a negative id is errs.Invalid. Concurrent lookups of the same channel
// share one request. The error is the Client's, classified as by
// Client.Channel: callers treat errs.NotFound, errs.Invalid and
// errs.Unauthorised as "unknown channel" and anything else as worth a retry.
func (cc *ChannelCache) Lookup(ctx context.Context, c *Client, id int64) (Channel, error) {
	switch {
	case id == 0 || id == StorefrontChannelID:
		return storefront, nil
	case id < 0:
		return Channel{}, errs.Ef(errs.Invalid, "bigcommerce.Channel", "channel %d: channel id must not be negative", id)
	}
	now := cc.Now
	if now == nil {
		now = time.Now
	}
	cc.mu.Lock()
	if e, ok := cc.m[id]; ok {
		select {
		case <-e.ready:
			if now().Before(e.expires) {
				cc.mu.Unlock()
				return e.ch, e.err
			}
			delete(cc.m, id) // expired: ask again below
		default:
			// Another goroutine is asking: share its answer.
			cc.mu.Unlock()
			select {
			case <-e.ready:
				return e.ch, e.err
			case <-ctx.Done():
				return Channel{}, errs.E(errs.Transient, "bigcommerce.Channel", ctx.Err())
			}
		}
	}
	e := &channelEntry{ready: make(chan struct{})}
	if cc.m == nil {
		cc.m = map[int64]*channelEntry{}
	}
	cc.m[id] = e
	cc.mu.Unlock()

	ch, err := c.Channel(ctx, id)

	cc.mu.Lock()
	e.ch, e.err = ch, err
	if err == nil || errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) || errs.Is(err, errs.Unauthorised) {
		e.expires = now().Add(cmp.Or(cc.TTL, DefaultChannelTTL))
	} else if cc.m[id] == e {
		delete(cc.m, id) // not remembered: the next lookup asks again
	}
	close(e.ready)
	cc.mu.Unlock()
	return ch, err
}
