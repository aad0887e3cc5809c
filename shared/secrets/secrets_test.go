package secrets_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/secrets"
)

const (
	ssSecret = "ss-api-secret-7f3a9c"
	bcToken  = "bc-access-token-51d0e2"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func secretsFile(t *testing.T, content string) secrets.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secrets.json")
	writeFile(t, p, content)
	return secrets.File{Path: p}
}

const fileJSON = `{
  "shiprelay/config": "file-config-value",
  "shiprelay/shipstation/main": {"apiKey": "k1", "apiSecret": "` + ssSecret + `"},
  "shiprelay/bigcommerce/bc-main": "{\"accessToken\":\"` + bcToken + `\",\"webhookSecret\":\"wh\"}"
}`

func TestFileStringAndObjectValues(t *testing.T) {
	f := secretsFile(t, fileJSON)
	ctx := context.Background()

	v, err := f.Get(ctx, "shiprelay/config")
	if err != nil || v != "file-config-value" {
		t.Errorf("string value = %q, %v", v, err)
	}

	v, err = f.Get(ctx, "shiprelay/shipstation/main")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]string
	if err := json.Unmarshal([]byte(v), &obj); err != nil {
		t.Fatalf("object value is not returned as JSON text: %q: %v", v, err)
	}
	if obj["apiKey"] != "k1" || obj["apiSecret"] != ssSecret || len(obj) != 2 {
		t.Errorf("object value = %v", obj)
	}

	// A string holding JSON (as Secrets Manager stores it) comes back as that text.
	v, err = f.Get(ctx, "shiprelay/bigcommerce/bc-main")
	if err != nil || v != `{"accessToken":"`+bcToken+`","webhookSecret":"wh"}` {
		t.Errorf("JSON-in-string value = %q, %v", v, err)
	}
}

func TestFileErrors(t *testing.T) {
	ctx := context.Background()
	f := secretsFile(t, fileJSON)

	_, err := f.Get(ctx, "shiprelay/shipstation/other")
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("missing name: kind %v (%v), want not_found", errs.KindOf(err), err)
	}
	if err != nil && !strings.Contains(err.Error(), "shiprelay/shipstation/other") {
		t.Errorf("missing-name error does not name the secret: %v", err)
	}
	assertNoValue(t, err)

	bad := []struct{ name, content string }{
		{"truncated", `{"shiprelay/shipstation/main": {"apiKey": "k1", "apiSecret": "` + ssSecret + `"`},
		{"unquoted value", `{"shiprelay/shipstation/main": ` + ssSecret + `}`},
		{"top-level string", `"` + ssSecret + `"`},
		{"top-level array", `["` + ssSecret + `"]`},
		{"not json", ssSecret},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := secretsFile(t, b.content).Get(ctx, "shiprelay/shipstation/main")
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("kind %v (%v), want invalid", errs.KindOf(err), err)
			}
			assertNoValue(t, err)
		})
	}

	_, err = secrets.File{Path: filepath.Join(t.TempDir(), "absent.json")}.Get(ctx, "x")
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("absent file: kind %v (%v), want invalid", errs.KindOf(err), err)
	}
}

func assertNoValue(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, v := range []string{ssSecret, bcToken} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error shows a secret value: %v", err)
		}
	}
}

// clock is a settable time source for Cache.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheServesWithinTTLAndRefetchesAfter(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "secrets.json")
	writeFile(t, p, `{"a": "v1", "b": "b1"}`)
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	c := &secrets.Cache{Next: secrets.File{Path: p}, TTL: 5 * time.Minute, Now: clk.Now}

	if v, err := c.Get(ctx, "a"); err != nil || v != "v1" {
		t.Fatalf("first Get = %q, %v", v, err)
	}
	// The file changes; within the TTL the cache answers without reading it.
	writeFile(t, p, `{"a": "v2", "b": "b2"}`)
	clk.Add(5*time.Minute - time.Nanosecond)
	if v, err := c.Get(ctx, "a"); err != nil || v != "v1" {
		t.Errorf("Get within TTL = %q, %v; want the cached v1", v, err)
	}
	// Names are cached apart: b was never fetched, so it is read now.
	if v, err := c.Get(ctx, "b"); err != nil || v != "b2" {
		t.Errorf("Get of another name = %q, %v; want b2", v, err)
	}
	clk.Add(time.Nanosecond) // exactly TTL after the fetch of a
	if v, err := c.Get(ctx, "a"); err != nil || v != "v2" {
		t.Errorf("Get at TTL = %q, %v; want the refetched v2", v, err)
	}
	// The refetch restarts the TTL.
	writeFile(t, p, `{"a": "v3"}`)
	clk.Add(time.Minute)
	if v, _ := c.Get(ctx, "a"); v != "v2" {
		t.Errorf("Get after refetch = %q, want cached v2", v)
	}
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "secrets.json")
	writeFile(t, p, `{}`)
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	c := &secrets.Cache{Next: secrets.File{Path: p}, TTL: time.Hour, Now: clk.Now}
	if _, err := c.Get(ctx, "late"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("Get of missing secret: %v", err)
	}
	writeFile(t, p, `{"late": "now-here"}`)
	if v, err := c.Get(ctx, "late"); err != nil || v != "now-here" {
		t.Errorf("after the secret was created: %q, %v (a failure must not be cached)", v, err)
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := secretsFile(t, fileJSON)
	c := &secrets.Cache{Next: f, TTL: time.Minute}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get(ctx, "shiprelay/config"); err != nil || v != "file-config-value" {
				t.Errorf("concurrent Get = %q, %v", v, err)
			}
		}()
	}
	wg.Wait()
}

func TestJSONHelper(t *testing.T) {
	ctx := context.Background()
	f := secretsFile(t, `{
  "obj": {"apiKey": "k1", "apiSecret": "`+ssSecret+`"},
  "text": "{\"accessToken\": \"`+bcToken+`\"}",
  "plain": "`+ssSecret+`",
  "array": ["`+ssSecret+`"],
  "typed": {"apiKey": 5, "apiSecret": "`+ssSecret+`"}
}`)
	var ss struct {
		APIKey    string `json:"apiKey"`
		APISecret string `json:"apiSecret"`
	}
	if err := secrets.JSON(ctx, f, "obj", &ss); err != nil || ss.APIKey != "k1" || ss.APISecret != ssSecret {
		t.Errorf("object secret: %+v, %v", ss, err)
	}
	var bc struct {
		AccessToken string `json:"accessToken"`
	}
	if err := secrets.JSON(ctx, f, "text", &bc); err != nil || bc.AccessToken != bcToken {
		t.Errorf("JSON-text secret: %+v, %v", bc, err)
	}
	for _, name := range []string{"plain", "array", "typed"} {
		err := secrets.JSON(ctx, f, name, &ss)
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: kind %v (%v), want invalid", name, errs.KindOf(err), err)
		}
		if err != nil && !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: error does not name the secret: %v", name, err)
		}
		assertNoValue(t, err)
	}
	if err := secrets.JSON(ctx, f, "absent", &ss); !errs.Is(err, errs.NotFound) {
		t.Errorf("absent: %v, want not_found passed through", err)
	}
}
