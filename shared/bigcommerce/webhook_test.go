package bigcommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
)

const createdHook = `{
  "created_at": 1763741000,
  "store_id": "1001234567",
  "producer": "stores/abc123xyz",
  "scope": "store/order/created",
  "hash": "5d41402abc4b2a76b9719d911017c592ae1bd3a7",
  "data": { "type": "order", "id": 10452 }
}`

func TestParseWebhookOrderCreated(t *testing.T) {
	w, err := ParseWebhook([]byte(createdHook))
	if err != nil {
		t.Fatal(err)
	}
	if w.Scope != "store/order/created" || w.StoreID != "1001234567" || w.StoreHash != "abc123xyz" ||
		w.Producer != "stores/abc123xyz" || w.Hash != "5d41402abc4b2a76b9719d911017c592ae1bd3a7" ||
		!w.CreatedAt.Equal(time.Unix(1763741000, 0)) || w.Data.Type != "order" || w.Data.ID != 10452 || w.Data.IDText != "10452" ||
		w.Data.OrderID != 10452 || !w.IsOrderScope() || w.Data.Status != nil {
		t.Errorf("%+v", w)
	}
}

func TestParseWebhookOtherShapes(t *testing.T) {
	w, err := ParseWebhook([]byte(`{"scope":"store/order/statusUpdated","store_id":1025646,"data":{"type":"order","id":250,"status":{"previous_status_id":1,"new_status_id":11}}}`))
	if err != nil || w.Data.Status == nil || *w.Data.Status != (StatusChange{1, 11}) || w.StoreID != "1025646" || !w.CreatedAt.IsZero() {
		t.Errorf("statusUpdated: %+v %v", w, err)
	}
	w, err = ParseWebhook([]byte(`{"scope":"store/shipment/created","producer":"stores/h","data":{"type":"shipment","id":12,"orderId":251}}`))
	if err != nil || w.Data.ID != 12 || w.Data.IDText != "12" || w.Data.OrderID != 251 || w.IsOrderScope() {
		t.Errorf("shipment: %+v %v", w, err)
	}
	w, err = ParseWebhook([]byte(`{"scope":"store/cart/created","data":{"type":"cart","id":"09346904-4175-44fd-be53-f7e598531b6c"},"extra":[1,2]}`))
	if err != nil || w.Data.IDText != "09346904-4175-44fd-be53-f7e598531b6c" || w.Data.ID != 0 || w.Data.OrderID != 0 {
		t.Errorf("cart: %+v %v", w, err)
	}
}

func TestParseWebhookRejects(t *testing.T) {
	cases := map[string]string{
		"empty":            ``,
		"null":             `null`,
		"array":            `[{"scope":"store/order/created"}]`,
		"string":           `"store/order/created"`,
		"trailing":         createdHook + `{}`,
		"no scope":         `{"data":{"type":"order","id":1}}`,
		"scope not string": `{"scope":5,"data":{"type":"order","id":1}}`,
		"scope prefix":     `{"scope":"order/created","data":{"type":"order","id":1}}`,
		"scope bare":       `{"scope":"store/","data":{"type":"order","id":1}}`,
		"no data":          `{"scope":"store/order/created"}`,
		"data array":       `{"scope":"store/order/created","data":[1]}`,
		"no type":          `{"scope":"store/product/created","data":{"id":1}}`,
		"empty type":       `{"scope":"store/product/created","data":{"type":" ","id":1}}`,
		"type number":      `{"scope":"store/product/created","data":{"type":1,"id":1}}`,
		"order no id":      `{"scope":"store/order/created","data":{"type":"order"}}`,
		"order id 0":       `{"scope":"store/order/created","data":{"type":"order","id":0}}`,
		"order id neg":     `{"scope":"store/order/created","data":{"type":"order","id":-4}}`,
		"order id string":  `{"scope":"store/order/created","data":{"type":"order","id":"12"}}`,
		"order id float":   `{"scope":"store/order/created","data":{"type":"order","id":1.5}}`,
		"order id exp":     `{"scope":"store/order/created","data":{"type":"order","id":1e3}}`,
		"order id huge":    `{"scope":"store/order/created","data":{"type":"order","id":99999999999999999999}}`,
		"order id object":  `{"scope":"store/order/created","data":{"type":"order","id":{}}}`,
		"producer":         `{"scope":"store/order/created","producer":"abc","data":{"type":"order","id":1}}`,
		"created_at":       `{"scope":"store/order/created","created_at":"yesterday","data":{"type":"order","id":1}}`,
		"status shape":     `{"scope":"store/order/statusUpdated","data":{"type":"order","id":1,"status":"x"}}`,
		"shipment orderId": `{"scope":"store/shipment/created","data":{"type":"shipment","id":1,"orderId":"x"}}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(body))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind: %v", err)
			}
		})
	}
}

func sign(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyStandardWebhook(t *testing.T) {
	key := []byte("my-client-secret-bytes")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(key)
	body := []byte(createdHook)
	now := time.Unix(1763741000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := sign(key, "msg_1", ts, body)
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		h.Set("Webhook-Id", id)
		h.Set("Webhook-Timestamp", ts)
		h.Set("Webhook-Signature", sig)
		return h
	}
	ok := []struct {
		name   string
		h      http.Header
		secret string
		now    time.Time
	}{
		{"whsec", headers("msg_1", ts, "v1,"+good), whsec, now},
		{"raw", headers("msg_1", ts, "v1,"+good), string(key), now},
		{"several", headers("msg_1", ts, "v1,AAAA v2,xyz v1,"+good), whsec, now},
		{"skew inside", headers("msg_1", ts, "v1,"+good), whsec, now.Add(4 * time.Minute)},
	}
	for _, tc := range ok {
		if err := VerifyStandardWebhook(tc.h, body, tc.secret, tc.now, 5*time.Minute); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	bad := []struct {
		name   string
		h      http.Header
		body   []byte
		secret string
		now    time.Time
	}{
		{"tampered body", headers("msg_1", ts, "v1,"+good), []byte(strings.Replace(createdHook, "10452", "10453", 1)), whsec, now},
		{"other id", headers("msg_2", ts, "v1,"+good), body, whsec, now},
		{"wrong secret", headers("msg_1", ts, "v1,"+good), body, "other", now},
		{"old", headers("msg_1", ts, "v1,"+good), body, whsec, now.Add(6 * time.Minute)},
		{"future", headers("msg_1", ts, "v1,"+good), body, whsec, now.Add(-6 * time.Minute)},
		{"v2 only", headers("msg_1", ts, "v2,"+good), body, whsec, now},
		{"no comma", headers("msg_1", ts, good), body, whsec, now},
		{"bad base64", headers("msg_1", ts, "v1,!!!"), body, whsec, now},
		{"missing sig", headers("msg_1", ts, ""), body, whsec, now},
		{"missing id", headers("", ts, "v1,"+good), body, whsec, now},
		{"bad ts", headers("msg_1", "12x", "v1,"+good), body, whsec, now},
		{"negative ts", headers("msg_1", "-9223372036854775808", "v1,"+good), body, whsec, now},
		{"empty secret", headers("msg_1", ts, "v1,"+good), body, "", now},
		{"bad whsec", headers("msg_1", ts, "v1,"+good), body, "whsec_***", now},
	}
	for _, tc := range bad {
		err := VerifyStandardWebhook(tc.h, tc.body, tc.secret, tc.now, 5*time.Minute)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !errors.Is(err, ErrSignature) || !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if strings.Contains(err.Error(), "my-client-secret") {
			t.Errorf("%s: leaks secret", tc.name)
		}
	}
	// Zero tolerance means the default (5 minutes).
	if err := VerifyStandardWebhook(headers("msg_1", ts, "v1,"+good), body, whsec, now.Add(time.Minute), 0); err != nil {
		t.Errorf("default tolerance: %v", err)
	}
}

func TestVerifyHeaderSecret(t *testing.T) {
	h := http.Header{}
	h.Set("X-Hub-Secret", "s3cret")
	if err := VerifyHeaderSecret(h, "X-Hub-Secret", "s3cret"); err != nil {
		t.Error(err)
	}
	for _, want := range []string{"s3cre", "s3cret!", ""} {
		if err := VerifyHeaderSecret(h, "X-Hub-Secret", want); !errors.Is(err, ErrSignature) {
			t.Errorf("%q: %v", want, err)
		}
	}
	if err := VerifyHeaderSecret(http.Header{}, "X-Hub-Secret", "s3cret"); err == nil {
		t.Error("missing header accepted")
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		createdHook,
		`{"scope":"store/order/statusUpdated","data":{"type":"order","id":250,"status":{"previous_status_id":1,"new_status_id":11}}}`,
		`{"scope":"store/shipment/created","data":{"type":"shipment","id":12,"orderId":251}}`,
		`{"scope":"store/cart/created","data":{"type":"cart","id":"09346904-4175-44fd-be53-f7e598531b6c"}}`,
		`{"scope":"store/order/created","data":{"type":"order","id":"12"}}`,
		`{"scope":"store/order/created","data":{"type":"order","id":-1}}`,
		`{"scope":"store/order/created","data":{"type":"order","id":1e2}}`,
		`{"scope":"store/","data":null}`,
		`null`, `[]`, `{}`, ``, `{"scope":"store/order/created","data":{"type":"order","id":9223372036854775807}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error not classified Invalid: %v", err)
			}
			return
		}
		if !strings.HasPrefix(w.Scope, "store/") || len(w.Scope) <= len("store/") {
			t.Fatalf("accepted scope %q", w.Scope)
		}
		if strings.TrimSpace(w.Data.Type) == "" {
			t.Fatal("accepted empty data.type")
		}
		if w.IsOrderScope() && (w.Data.OrderID <= 0 || w.Data.ID != w.Data.OrderID || w.Data.IDText != strconv.FormatInt(w.Data.ID, 10)) {
			t.Fatalf("order scope with id %d / %q / %d", w.Data.ID, w.Data.IDText, w.Data.OrderID)
		}
		if w.Data.OrderID < 0 || w.Data.ID < 0 {
			t.Fatalf("negative id %d / %d", w.Data.ID, w.Data.OrderID)
		}
		if w.Data.ID != 0 && w.Data.IDText != strconv.FormatInt(w.Data.ID, 10) {
			t.Fatalf("id %d text %q", w.Data.ID, w.Data.IDText)
		}
		if w.Producer != "" && "stores/"+w.StoreHash != w.Producer {
			t.Fatalf("producer %q hash %q", w.Producer, w.StoreHash)
		}
		if !w.CreatedAt.IsZero() && w.CreatedAt.Location() != time.UTC {
			t.Fatal("created_at not UTC")
		}
	})
}
