// Package secrets resolves secret names to values: from AWS Secrets Manager
// in production, from a local JSON file in the local stack. Values are
// cached for a while so that a warm Lambda does not call Secrets Manager on
// every invocation. No value is ever logged or put in an error.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/errs"
)

// Manager reads secrets from AWS Secrets Manager.
type Manager struct {
	Client *secretsmanager.Client
}

var _ config.Secrets = Manager{}

// Get returns the secret's SecretString.
func (m Manager) Get(ctx context.Context, name string) (string, error) {
	out, err := m.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", errs.Ef(errs.NotFound, "secrets.Get", "secret %q does not exist", name)
		}
		var ad interface{ ErrorCode() string }
		if errors.As(err, &ad) && ad.ErrorCode() == "AccessDeniedException" {
			return "", errs.Ef(errs.Unauthorised, "secrets.Get", "no access to secret %q", name)
		}
		return "", errs.E(errs.Transient, "secrets.Get "+name, err)
	}
	if out.SecretString == nil {
		return "", errs.Ef(errs.Invalid, "secrets.Get", "secret %q has no string value", name)
	}
	return *out.SecretString, nil
}

// File reads secrets from a JSON file mapping names to values; a value may
// be a string or any JSON object (returned as its JSON text). It is re-read
// on every call, so editing the file takes effect at once.
type File struct {
	Path string
}

var _ config.Secrets = File{}

// Get returns the named value.
func (f File) Get(_ context.Context, name string) (string, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return "", errs.E(errs.Invalid, "secrets.File", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", errs.Ef(errs.Invalid, "secrets.File", "%s is not a JSON object of secrets: %v", f.Path, err)
	}
	raw, ok := m[name]
	if !ok {
		return "", errs.Ef(errs.NotFound, "secrets.File", "secret %q is not in %s", name, f.Path)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	return string(raw), nil
}

// Cache wraps a Secrets with a time-bounded cache.
type Cache struct {
	Next config.Secrets
	TTL  time.Duration
	Now  func() time.Time

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	v  string
	at time.Time
}

// Get returns a cached value younger than TTL, or fetches it.
func (c *Cache) Get(ctx context.Context, name string) (string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	if e, ok := c.m[name]; ok && now().Sub(e.at) < c.TTL {
		c.mu.Unlock()
		return e.v, nil
	}
	c.mu.Unlock()
	v, err := c.Next.Get(ctx, name)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cached{}
	}
	c.m[name] = cached{v, now()}
	c.mu.Unlock()
	return v, nil
}

// JSON fetches a secret and decodes it as a JSON object into v.
func JSON(ctx context.Context, s config.Secrets, name string, v any) error {
	raw, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		// Never include raw: it is the secret.
		return errs.Ef(errs.Invalid, "secrets.JSON", "secret %q is not the expected JSON object", name)
	}
	return nil
}
