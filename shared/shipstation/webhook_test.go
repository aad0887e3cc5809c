package shipstation

import (
	"net/url"
	"strings"
	"testing"

	"github.com/shiprelay/shiprelay/shared/errs"
)

const shipNotifyHook = `{"resource_url":"https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=False","resource_type":"SHIP_NOTIFY"}`

func TestParseWebhook(t *testing.T) {
	w, err := ParseWebhook([]byte(" " + shipNotifyHook + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w.ResourceType != ShipNotify || w.ResourceURL != "https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=False" {
		t.Errorf("%+v", w)
	}
	if _, err := ParseWebhook([]byte(`{"resource_url":"x","resource_type":"FULFILLMENT_SHIPPED","extra":[1,{"a":null}]}`)); err != nil {
		t.Errorf("unknown key: %v", err)
	}
	long := `{"resource_url":"` + strings.Repeat("a", MaxResourceURL+1) + `","resource_type":"SHIP_NOTIFY"}`
	for _, bad := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"resource_url":"x"}`, `{"resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":"","resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":"  ","resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":null,"resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":5,"resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":"x","resource_type":"ship_notify"}`,
		`{"resource_url":"x","resource_type":"SHIP_NOTIFY "}`,
		`{"resource_url":"x","resource_type":"ORDER_CREATED"}`,
		`{"RESOURCE_URL":"x","resource_type":"SHIP_NOTIFY"}`,
		`{"resource_url":"x","resource_url":"y","resource_type":"SHIP_NOTIFY"}`,
		shipNotifyHook + `{}`, shipNotifyHook + `x`, `{"resource_url":"x","resource_type":"SHIP_NOTIFY"`,
		long,
		`{"resource_url":"x","resource_type":"SHIP_NOTIFY","pad":"` + strings.Repeat("p", MaxWebhookBody) + `"}`,
	} {
		if _, err := ParseWebhook([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("%.80s: %v", bad, err)
		}
	}
}

func TestResourceURL(t *testing.T) {
	const prod = "https://ssapi.shipstation.com"
	const want = "https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=True"
	cases := []struct {
		name, raw, base string
		want            string // "" means rejected
		reason          string // part of the error
	}{
		{"good", "https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=False", prod, want, ""},
		{"adds includeShipmentItems", "https://ssapi.shipstation.com/shipments?batchId=144015674", prod, want, ""},
		{"true kept", "https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=true", prod, want, ""},
		{"storeID kept", "https://ssapi.shipstation.com/shipments?batchId=1&storeID=22766&includeShipmentItems=false&page=2&pageSize=500", prod,
			"https://ssapi.shipstation.com/shipments?batchId=1&includeShipmentItems=True&page=2&pageSize=500&storeID=22766", ""},
		{"filters", "https://ssapi.shipstation.com/shipments?shipDateStart=2026-11-21&sortBy=ShipDate&orderNumber=113-4567890-1234567", prod,
			"https://ssapi.shipstation.com/shipments?includeShipmentItems=True&orderNumber=113-4567890-1234567&shipDateStart=2026-11-21&sortBy=ShipDate", ""},
		{"host case", "https://SSAPI.ShipStation.com/shipments?batchId=144015674", prod, want, ""},
		{"explicit 443", "https://ssapi.shipstation.com:443/shipments?batchId=144015674&includeShipmentItems=False", prod, want, ""},
		{"443 base", "https://ssapi.shipstation.com/shipments?batchId=144015674", prod + ":443/",
			"https://ssapi.shipstation.com:443/shipments?batchId=144015674&includeShipmentItems=True", ""},
		{"default base", "https://ssapi.shipstation.com/shipments?batchId=144015674", "", want, ""},
		{"sandbox http", "http://127.0.0.1:4020/shipments?batchId=7&includeShipmentItems=False", "http://127.0.0.1:4020",
			"http://127.0.0.1:4020/shipments?batchId=7&includeShipmentItems=True", ""},
		{"base prefix", "https://proxy.example.com/ss/shipments?batchId=7", "https://proxy.example.com/ss/",
			"https://proxy.example.com/ss/shipments?batchId=7&includeShipmentItems=True", ""},

		{"http on https base", "http://ssapi.shipstation.com/shipments?batchId=1", prod, "", "scheme"},
		{"https on http base", "https://127.0.0.1:4020/shipments?batchId=1", "http://127.0.0.1:4020", "", "scheme"},
		{"other scheme", "ftp://ssapi.shipstation.com/shipments", prod, "", "scheme"},
		{"other host", "https://evil.com/shipments?batchId=1", prod, "", "host"},
		{"trailing dot", "https://ssapi.shipstation.com./shipments?batchId=1", prod, "", "host"},
		{"suffix host", "https://ssapi.shipstation.com.evil.com/shipments?batchId=1", prod, "", "host"},
		{"sub host", "https://x.ssapi.shipstation.com/shipments?batchId=1", prod, "", "host"},
		{"ip spelling", "http://127.1:4020/shipments", "http://127.0.0.1:4020", "", "host"},
		{"ip hex", "http://0x7f.0.0.1:4020/shipments", "http://127.0.0.1:4020", "", "host"},
		{"ipv6 for localhost", "http://[::1]:4020/shipments", "http://127.0.0.1:4020", "", "host"},
		{"port 8443", "https://ssapi.shipstation.com:8443/shipments?batchId=1", prod, "", "port"},
		{"port 0443", "https://ssapi.shipstation.com:0443/shipments?batchId=1", prod, "", "port"},
		{"empty port", "https://ssapi.shipstation.com:/shipments?batchId=1", prod, "", "port"},
		{"sandbox other port", "http://127.0.0.1:4021/shipments", "http://127.0.0.1:4020", "", "port"},
		{"sandbox port 80", "http://127.0.0.1/shipments", "http://127.0.0.1:4020", "", "port"},
		{"userinfo", "https://user@ssapi.shipstation.com/shipments?batchId=1", prod, "", "userinfo"},
		{"empty userinfo", "https://@ssapi.shipstation.com/shipments?batchId=1", prod, "", "userinfo"},
		{"user:pass", "https://u:p@ssapi.shipstation.com/shipments?batchId=1", prod, "", "userinfo"},
		{"host as userinfo", "https://ssapi.shipstation.com@evil.com/shipments", prod, "", ""},
		{"backslash", `https://ssapi.shipstation.com\@evil.com/shipments`, prod, "", ""},
		{"orders", "https://ssapi.shipstation.com/orders?storeID=1&importBatch=x", prod, "", "path"},
		{"dot dot", "https://ssapi.shipstation.com/shipments/../orders", prod, "", "path"},
		{"encoded dot dot", "https://ssapi.shipstation.com/shipments/%2e%2e/orders", prod, "", "path"},
		{"encoded slash", "https://ssapi.shipstation.com/shipments%2f..%2forders", prod, "", "path"},
		{"encoded letter", "https://ssapi.shipstation.com/%73hipments", prod, "", "path"},
		{"trailing slash", "https://ssapi.shipstation.com/shipments/", prod, "", "path"},
		{"double slash", "https://ssapi.shipstation.com//shipments", prod, "", "path"},
		{"sub path", "https://ssapi.shipstation.com/shipments/123", prod, "", "path"},
		{"case path", "https://ssapi.shipstation.com/Shipments", prod, "", "path"},
		{"no path", "https://ssapi.shipstation.com?batchId=1", prod, "", "path"},
		{"prefix missing", "https://proxy.example.com/shipments", "https://proxy.example.com/ss", "", "path"},
		{"unknown key", "https://ssapi.shipstation.com/shipments?batchId=1&redirect=x", prod, "", "not allowed"},
		{"importBatch", "https://ssapi.shipstation.com/shipments?importBatch=1", prod, "", "not allowed"},
		{"repeated key", "https://ssapi.shipstation.com/shipments?batchId=1&batchId=2", prod, "", "repeated"},
		{"repeated store", "https://ssapi.shipstation.com/shipments?storeID=1&storeId=2", prod, "", "repeated"},
		{"case-variant include", "https://ssapi.shipstation.com/shipments?includeShipmentItems=True&INCLUDESHIPMENTITEMS=False", prod, "", "repeated"},
		{"bad include", "https://ssapi.shipstation.com/shipments?includeShipmentItems=1", prod, "", "includeShipmentItems"},
		{"bad page", "https://ssapi.shipstation.com/shipments?page=0", prod, "", "page"},
		{"page text", "https://ssapi.shipstation.com/shipments?page=01", prod, "", "page"},
		{"big pageSize", "https://ssapi.shipstation.com/shipments?pageSize=501", prod, "", "pageSize"},
		{"semicolon", "https://ssapi.shipstation.com/shipments?batchId=1;page=2", prod, "", "malformed"},
		{"bad escape", "https://ssapi.shipstation.com/shipments?batchId=%zz", prod, "", ""},
		{"fragment", "https://ssapi.shipstation.com/shipments?batchId=1#x", prod, "", "fragment"},
		{"empty fragment", "https://ssapi.shipstation.com/shipments#", prod, "", "fragment"},
		{"space", "https://ssapi.shipstation.com/shipments?batchId=1 ", prod, "", "whitespace"},
		{"newline", "https://ssapi.shipstation.com/shipments?batchId=1\r\nX: y", prod, "", "whitespace"},
		{"non-ascii host", "https://ssapi.shipstаtion.com/shipments", prod, "", "non-ASCII"},
		{"relative", "/shipments?batchId=1", prod, "", "absolute"},
		{"scheme-relative", "//ssapi.shipstation.com/shipments", prod, "", "absolute"},
		{"opaque", "https:ssapi.shipstation.com/shipments", prod, "", "absolute"},
		{"empty", "", prod, "", "empty"},
		{"too long", "https://ssapi.shipstation.com/shipments?batchId=" + strings.Repeat("1", MaxResourceURL), prod, "", "longer"},
		{"bad base", "https://ssapi.shipstation.com/shipments", "ssapi.shipstation.com", "", "base"},
		{"base with query", "https://ssapi.shipstation.com/shipments", prod + "?x=1", "", "base"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ResourceURL(tc.raw, tc.base)
			if tc.want == "" {
				if u != nil || !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("got %v, %v; want an Invalid error about %q", u, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tc.want {
				t.Errorf("got  %s\nwant %s", u, tc.want)
			}
			again, err := ResourceURL(u.String(), tc.base)
			if err != nil || again.String() != u.String() {
				t.Errorf("not idempotent: %v %v", again, err)
			}
		})
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		shipNotifyHook,
		`{"resource_url":"https://ssapi.shipstation.com/orders?storeID=1&importBatch=a","resource_type":"ORDER_NOTIFY"}`,
		`{"resource_url":"x","resource_type":"ITEM_SHIP_NOTIFY","resource_url":"y"}`,
		`{"resource_url":"\u0000","resource_type":"FULFILLMENT_REJECTED"}`,
		`null`, `[]`, `{}`, ``, `{"a":1}{}`, `{"resource_url":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error not classified Invalid: %v", err)
			}
			if w != (Webhook{}) {
				t.Fatalf("error with a value %+v", w)
			}
			return
		}
		if !w.ResourceType.Known() || strings.TrimSpace(w.ResourceURL) == "" || len(w.ResourceURL) > MaxResourceURL {
			t.Fatalf("accepted %+v", w)
		}
		if len(body) > MaxWebhookBody {
			t.Fatalf("accepted a body of %d bytes", len(body))
		}
	})
}

func FuzzResourceURL(f *testing.F) {
	bases := []string{"https://ssapi.shipstation.com", "http://127.0.0.1:4020", "https://proxy.example.com:8443/ss/"}
	for _, s := range []string{
		"https://ssapi.shipstation.com/shipments?batchId=144015674&includeShipmentItems=False",
		"https://ssapi.shipstation.com:443/shipments?storeID=1&page=2&pageSize=10",
		"https://ssapi.shipstation.com.evil.com/shipments",
		"https://ssapi.shipstation.com@evil.com/shipments",
		"https://ssapi.shipstation.com/shipments/%2e%2e/orders",
		"http://127.0.0.1:4020/shipments?batchId=7",
		"https://proxy.example.com:8443/ss/shipments?sortBy=ShipDate&sortDir=DESC",
		"https://[::1]:443/shipments", "https://ssapi.shipstation.com/shipments?x=%00&y=%zz#f",
	} {
		for i := range bases {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		base := bases[int(which)%len(bases)]
		u, err := ResourceURL(raw, base)
		if err != nil {
			if u != nil || !errs.Is(err, errs.Invalid) {
				t.Fatalf("%v / %v", u, err)
			}
			return
		}
		b, _ := url.Parse(base)
		if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("%q accepted as %s", raw, u)
		}
		if u.Path != strings.TrimRight(b.Path, "/")+"/shipments" || u.RawPath != "" {
			t.Fatalf("%q accepted with path %q", raw, u.EscapedPath())
		}
		q := u.Query()
		if v := q["includeShipmentItems"]; len(v) != 1 || v[0] != "True" {
			t.Fatalf("%q accepted as %s", raw, u)
		}
		// What was accepted is exactly what we GET: the raw URL pointed at
		// the same host, port and path.
		in, err := url.Parse(raw)
		if err != nil || !strings.EqualFold(in.Hostname(), b.Hostname()) || effectivePort(in) != effectivePort(b) ||
			in.Scheme != b.Scheme || in.EscapedPath() != u.EscapedPath() || in.User != nil {
			t.Fatalf("%q accepted as %s", raw, u)
		}
		seen := map[string]bool{}
		for k := range q {
			lk := strings.ToLower(k)
			if !shipmentsQueryKeys[lk] || seen[lk] {
				t.Fatalf("%q accepted with key %q", raw, k)
			}
			seen[lk] = true
		}
		again, err := ResourceURL(u.String(), base)
		if err != nil || again.String() != u.String() {
			t.Fatalf("not idempotent: %s → %v %v", u, again, err)
		}
	})
}
