package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// RemoteFire asks a running runner at baseURL ("http://127.0.0.1:3000") to
// fire a scheduled function now (POST /_runner/schedules/{function}) and
// returns its report. A function error is returned as an error along with
// the report.
func RemoteFire(ctx context.Context, baseURL, function string) (*FireResult, error) {
	u := strings.TrimRight(baseURL, "/") + "/_runner/schedules/" + url.PathEscape(function)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	body, code, err := do(req)
	if err != nil {
		return nil, err
	}
	var res FireResult
	switch code {
	case http.StatusOK, http.StatusBadGateway:
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("runner: bad reply: %w", err)
		}
		if code != http.StatusOK {
			return &res, fmt.Errorf("%s failed: %s", res.Function, res.Error)
		}
		return &res, nil
	}
	return nil, fmt.Errorf("runner: %s: %s", http.StatusText(code), message(body))
}

// RemoteStatus fetches GET /_runner/status from a running runner.
func RemoteStatus(ctx context.Context, baseURL string) (*Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/_runner/status", nil)
	if err != nil {
		return nil, err
	}
	body, code, err := do(req)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("runner: %s: %s", http.StatusText(code), message(body))
	}
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("runner: bad reply: %w", err)
	}
	return &st, nil
}

func do(req *http.Request) ([]byte, int, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("runner: is it running? %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}

func message(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(body))
}
