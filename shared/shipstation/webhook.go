package shipstation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
)

// ResourceType is the event a V1 webhook reports (its resource_type).
type ResourceType string

// The V1 webhook events.
const (
	OrderNotify         ResourceType = "ORDER_NOTIFY"
	ItemOrderNotify     ResourceType = "ITEM_ORDER_NOTIFY"
	ShipNotify          ResourceType = "SHIP_NOTIFY"
	ItemShipNotify      ResourceType = "ITEM_SHIP_NOTIFY"
	FulfillmentShipped  ResourceType = "FULFILLMENT_SHIPPED"
	FulfillmentRejected ResourceType = "FULFILLMENT_REJECTED"
)

// Known reports whether t is one of the documented events.
func (t ResourceType) Known() bool {
	switch t {
	case OrderNotify, ItemOrderNotify, ShipNotify, ItemShipNotify, FulfillmentShipped, FulfillmentRejected:
		return true
	}
	return false
}

// MaxResourceURL is the longest resource_url accepted. ShipStation documents
// at most 200 characters; the limit leaves slack for longer query strings
// (a storeID, paging) without letting a body carry arbitrary amounts of text.
const MaxResourceURL = 2048

// MaxWebhookBody is the largest webhook body ParseWebhook reads.
const MaxWebhookBody = 16 << 10

// Webhook is the body of a V1 webhook POST. It carries no data and is not
// signed: its only use is to say which resource to fetch, with our own
// credentials, after ResourceURL has checked it.
type Webhook struct {
	// ResourceURL is the untrusted URL to fetch; check it with ResourceURL.
	ResourceURL string
	// ResourceType is a Known event.
	ResourceType ResourceType
}

// ParseWebhook reads {"resource_url": "...", "resource_type": "..."}
// strictly: one JSON object and nothing after it, no key twice, both keys
// present (exact spelling) as non-empty strings, resource_url at most
// MaxResourceURL bytes, resource_type a Known event. Other keys are ignored
// so that a field ShipStation adds does not break the hook. The URL itself is
// not checked here (see ResourceURL). Every error is errs.Invalid and never
// quotes the body.
func ParseWebhook(body []byte) (Webhook, error) {
	w, err := parseWebhook(body)
	if err != nil {
		return Webhook{}, errs.E(errs.Invalid, "shipstation.ParseWebhook", err)
	}
	return w, nil
}

func parseWebhook(body []byte) (Webhook, error) {
	if len(body) > MaxWebhookBody {
		return Webhook{}, fmt.Errorf("body larger than %d bytes", MaxWebhookBody)
	}
	top, err := objectOnce(body)
	if err != nil {
		return Webhook{}, err
	}
	str := func(key string) (string, error) {
		raw, ok := top[key]
		if !ok {
			return "", fmt.Errorf("%s is missing", key)
		}
		var s string
		if bytes.Equal(raw, []byte("null")) || json.Unmarshal(raw, &s) != nil {
			return "", fmt.Errorf("%s must be a string", key)
		}
		if strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("%s is empty", key)
		}
		return s, nil
	}
	var w Webhook
	if w.ResourceURL, err = str("resource_url"); err != nil {
		return Webhook{}, err
	}
	if len(w.ResourceURL) > MaxResourceURL {
		return Webhook{}, fmt.Errorf("resource_url longer than %d bytes", MaxResourceURL)
	}
	t, err := str("resource_type")
	if err != nil {
		return Webhook{}, err
	}
	if w.ResourceType = ResourceType(t); !w.ResourceType.Known() {
		return Webhook{}, errors.New("resource_type is not a known event")
	}
	return w, nil
}

// objectOnce decodes one JSON object into its raw members, rejecting a
// repeated key and anything after the object.
func objectOnce(body []byte) (map[string]json.RawMessage, error) {
	notObject := errors.New("body is not one JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	top := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		key, _ := tok.(string) // an object's member always starts with a string key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, notObject
		}
		if _, dup := top[key]; dup {
			return nil, errors.New("body repeats a key")
		}
		top[key] = raw
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notObject
	}
	return top, nil
}

// shipmentsQueryKeys are the query parameters a shipments resource URL may
// carry, lower-cased (ShipStation, an ASP.NET API, reads them regardless of
// case, so two spellings of one key are the same key): the batch and store
// of SHIP_NOTIFY, paging, and the documented GET /shipments filters.
var shipmentsQueryKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{
		"batchId", "storeId", "includeShipmentItems", "page", "pageSize",
		"recipientName", "recipientCountryCode", "orderNumber", "orderId",
		"carrierCode", "serviceCode", "trackingNumber", "customsCountryCode",
		"createDateStart", "createDateEnd", "shipDateStart", "shipDateEnd",
		"voidDateStart", "voidDateEnd", "sortBy", "sortDir",
	} {
		m[strings.ToLower(k)] = true
	}
	return m
}()

// ResourceURL checks the untrusted resource_url of a SHIP_NOTIFY webhook
// against base, the account's configured API root ("" means
// https://ssapi.shipstation.com), and returns the URL to GET: rebuilt from
// base's scheme, host and path, with the checked query and
// includeShipmentItems=True (replacing any other value: without it the
// shipments come back without their items).
//
// It accepts only a URL that
//   - is at most MaxResourceURL bytes of printable ASCII, with no fragment
//     (not even an empty "#") and no userinfo;
//   - has base's scheme: https, or http only when base itself is http (a
//     local sandbox such as http://127.0.0.1:4020);
//   - has base's host name, compared case-insensitively but otherwise
//     exactly: no trailing dot, no other spelling of an IP address;
//   - has base's effective port (443 for https, 80 for http when absent, so
//     an explicit ":443" equals none; "host:" with an empty port is refused);
//   - has the path base path + "/shipments", spelled literally (no
//     percent-encoding, dot segments or trailing slash);
//   - has only the query keys of GET /shipments (batchId, storeId/storeID,
//     includeShipmentItems, page, pageSize and the documented filters), each
//     at most once in any letter case, with page and pageSize positive
//     integers (pageSize at most MaxPageSize) and includeShipmentItems true
//     or false.
//
// Errors are errs.Invalid and say which rule failed.
func ResourceURL(raw, base string) (*url.URL, error) {
	u, err := resourceURL(raw, base)
	if err != nil {
		return nil, errs.E(errs.Invalid, "shipstation.ResourceURL", err)
	}
	return u, nil
}

func resourceURL(raw, base string) (*url.URL, error) {
	b, err := parseBase(base)
	if err != nil {
		return nil, err
	}
	switch {
	case raw == "":
		return nil, errors.New("resource_url is empty")
	case len(raw) > MaxResourceURL:
		return nil, fmt.Errorf("resource_url is longer than %d bytes", MaxResourceURL)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return nil, errors.New("resource_url contains whitespace, control or non-ASCII characters")
		}
	}
	if strings.Contains(raw, "#") {
		return nil, errors.New("resource_url has a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("resource_url is not a valid URL")
	}
	switch {
	case !u.IsAbs() || u.Opaque != "" || u.Host == "":
		return nil, errors.New("resource_url is not an absolute URL with a host")
	case u.Scheme != b.Scheme:
		return nil, fmt.Errorf("scheme %.10q is not the configured %q", u.Scheme, b.Scheme)
	case u.User != nil:
		return nil, errors.New("resource_url carries userinfo")
	case !strings.EqualFold(u.Hostname(), b.Hostname()):
		return nil, fmt.Errorf("host %.100q is not the configured host %q", u.Hostname(), b.Hostname())
	case strings.HasSuffix(u.Host, ":"):
		return nil, errors.New("resource_url has an empty port")
	case effectivePort(u) != effectivePort(b):
		return nil, fmt.Errorf("port %.10q is not the configured port %s", effectivePort(u), effectivePort(b))
	}
	want := &url.URL{Path: strings.TrimRight(b.Path, "/") + "/shipments"}
	if u.Path != want.Path || u.EscapedPath() != want.EscapedPath() {
		return nil, fmt.Errorf("path %.100q is not %q", u.EscapedPath(), want.EscapedPath())
	}
	q, err := shipmentsQuery(u.RawQuery)
	if err != nil {
		return nil, err
	}
	out := &url.URL{Scheme: b.Scheme, Host: b.Host, Path: want.Path, RawQuery: q.Encode()}
	if len(out.String()) > MaxResourceURL {
		return nil, fmt.Errorf("resource_url is longer than %d bytes once normalised", MaxResourceURL)
	}
	return out, nil
}

// shipmentsQuery checks a resource URL's query (see ResourceURL) and returns
// it with includeShipmentItems=True. Keys keep their spelling.
func shipmentsQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("query is malformed")
	}
	seen := map[string]bool{}
	out := url.Values{}
	for k, vs := range q {
		lk := strings.ToLower(k)
		if !shipmentsQueryKeys[lk] {
			return nil, fmt.Errorf("query parameter %.40q is not allowed", k)
		}
		if seen[lk] || len(vs) != 1 {
			return nil, fmt.Errorf("query parameter %q is repeated", k)
		}
		seen[lk] = true
		v := vs[0]
		switch lk {
		case "page", "pagesize":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || (lk == "pagesize" && n > MaxPageSize) || v != strconv.Itoa(n) {
				return nil, fmt.Errorf("query parameter %s must be an integer from 1 (pageSize at most %d)", k, MaxPageSize)
			}
		case "includeshipmentitems":
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				return nil, errors.New("query parameter includeShipmentItems must be true or false")
			}
			continue // replaced below
		}
		out[k] = vs
	}
	out.Set("includeShipmentItems", "True")
	return out, nil
}

// parseBase checks the configured API root.
func parseBase(base string) (*url.URL, error) {
	if base == "" {
		base = config.DefaultShipStationURL
	}
	b, err := url.Parse(base)
	if err != nil || (b.Scheme != "https" && b.Scheme != "http") || b.Hostname() == "" || b.Opaque != "" ||
		b.User != nil || b.RawQuery != "" || b.ForceQuery || b.Fragment != "" || strings.HasSuffix(b.Host, ":") {
		return nil, errors.New("the configured base URL is not an absolute http(s) URL without userinfo, query or fragment")
	}
	return b, nil
}

// effectivePort is u's port, or the scheme's default.
func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}
