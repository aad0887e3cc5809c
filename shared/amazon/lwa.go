package amazon

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// DefaultLWAURL is the Login with Amazon host that issues access tokens.
const DefaultLWAURL = "https://api.amazon.com"

// opToken names LWA.Token in errors.
const opToken = "amazon.lwa.Token"

// ReauthoriseMessage is the error text when Amazon no longer honours the
// seller's refresh token: what the operator has to do about it.
const ReauthoriseMessage = "the connection appears to be invalid: re-authorise shiprelay in Seller Central → Apps and Services → Manage Your Apps"

// tokenMargin is how long before expiry a cached token is replaced.
const tokenMargin = 60 * time.Second

// defaultTokenLife is assumed when a token response omits expires_in
// (Amazon documents 3600 s).
const defaultTokenLife = time.Hour

// LWA gets and caches one seller's SP-API access token by the refresh-token
// grant. It is safe for concurrent use; concurrent callers share one
// refresh. Client secret, refresh token and access tokens never appear in
// its errors.
type LWA struct {
	// BaseURL is the LWA host; empty means DefaultLWAURL.
	BaseURL string
	// ClientID and ClientSecret are the app's LWA credentials.
	ClientID, ClientSecret string
	// RefreshToken is the seller's authorisation (Atzr|…).
	RefreshToken string
	// HTTP is the client used; nil means one with DefaultTimeout.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

func (l *LWA) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Token returns a valid access token, from cache until tokenMargin before
// it expires, else freshly issued.
func (l *LWA) Token(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.token != "" && l.now().Before(l.expires.Add(-tokenMargin)) {
		return l.token, nil
	}
	tok, life, err := l.fetch(ctx)
	if err != nil {
		return "", err
	}
	l.token, l.expires = tok, l.now().Add(life)
	return tok, nil
}

// Invalidate drops the cached token if it is still token, so the next Token
// fetches a new one (after the API rejected it). Passing the rejected token
// keeps a concurrent caller's fresh one.
func (l *LWA) Invalidate(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.token == token {
		l.token, l.expires = "", time.Time{}
	}
}

// tokenResponse is LWA's answer, success or error.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
}

func (l *LWA) fetch(ctx context.Context) (string, time.Duration, error) {
	if l.ClientID == "" || l.ClientSecret == "" || l.RefreshToken == "" {
		return "", 0, errs.Ef(errs.Unauthorised, opToken, "LWA client id, client secret or refresh token not configured")
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {l.RefreshToken},
		"client_id":     {l.ClientID},
		"client_secret": {l.ClientSecret},
	}
	u := strings.TrimRight(cmp.Or(l.BaseURL, DefaultLWAURL), "/") + "/auth/o2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, errs.Ef(errs.Invalid, opToken, "build request: bad LWA base URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := l.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		// A *url.Error names only the URL, which holds no secret.
		return "", 0, errs.E(errs.Transient, opToken, err)
	}
	defer resp.Body.Close()
	var body tokenResponse
	decErr := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	s := resp.StatusCode
	if s >= 200 && s < 300 {
		if decErr != nil || body.AccessToken == "" {
			return "", 0, errs.Ef(errs.Invalid, opToken, "HTTP %d: no access token in the response", s)
		}
		life := time.Duration(body.ExpiresIn) * time.Second
		if body.ExpiresIn <= 0 {
			life = defaultTokenLife
		}
		return body.AccessToken, life, nil
	}
	switch body.Error {
	case "invalid_grant", "unauthorized_client":
		return "", 0, errs.Ef(errs.Unauthorised, opToken, "HTTP %d: %s: %s", s, body.Error, ReauthoriseMessage)
	case "invalid_client":
		return "", 0, errs.Ef(errs.Unauthorised, opToken, "HTTP %d: invalid_client: the app's LWA client id or secret was rejected (rotated or wrong)", s)
	}
	kind := errs.Invalid
	if s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500 {
		kind = errs.Transient
	}
	if code := safeCode(body.Error); code != "" {
		return "", 0, errs.Ef(kind, opToken, "HTTP %d: %s", s, code)
	}
	return "", 0, errs.E(kind, opToken, fmt.Errorf("HTTP %d", s))
}

// safeCode returns an OAuth error code if it looks like one (a short
// snake_case word), so nothing else of the body reaches an error.
func safeCode(s string) string {
	if len(s) == 0 || len(s) > 40 {
		return ""
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return ""
		}
	}
	return s
}

// DefaultTimeout bounds one request when no HTTP client is given.
const DefaultTimeout = 30 * time.Second

// defaultHTTP is used when no HTTP client is given.
var defaultHTTP = &http.Client{Timeout: DefaultTimeout}
