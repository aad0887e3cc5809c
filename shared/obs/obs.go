// Package obs is shiprelay's observability: JSON logs through log/slog that
// carry the request id and order id of the work at hand, and CloudWatch
// embedded-metric-format (EMF) metrics.
//
// Nothing secret and no buyer PII is ever passed to a logger: log ids,
// counts, kinds and vendor error messages, never an order's Personal data.
package obs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

type ctxKey int

const attrsKey ctxKey = iota

// NewLogger returns a JSON logger writing to w at the level named by level
// ("DEBUG", "INFO", "WARN", "ERROR"; default INFO). Attributes added with
// With are included in every record logged with a context.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToUpper(level) {
	case "DEBUG":
		l = slog.LevelDebug
	case "WARN", "WARNING":
		l = slog.LevelWarn
	case "ERROR":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(ctxHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})})
}

// With returns a context whose log records carry attrs, e.g.
// obs.With(ctx, "order_id", id).
func With(ctx context.Context, args ...any) context.Context {
	prev, _ := ctx.Value(attrsKey).([]any)
	next := make([]any, 0, len(prev)+len(args))
	next = append(next, prev...)
	next = append(next, args...)
	return context.WithValue(ctx, attrsKey, next)
}

type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if args, ok := ctx.Value(attrsKey).([]any); ok {
		r.Add(args...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(a []slog.Attr) slog.Handler { return ctxHandler{h.Handler.WithAttrs(a)} }
func (h ctxHandler) WithGroup(n string) slog.Handler      { return ctxHandler{h.Handler.WithGroup(n)} }

// Metrics writes CloudWatch EMF records. The zero value is unusable; use
// NewMetrics.
type Metrics struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	now       func() time.Time
}

// NewMetrics returns an EMF writer for namespace. A nil writer means stdout,
// where Lambda's log agent picks EMF lines up.
func NewMetrics(w io.Writer, namespace string) *Metrics {
	if w == nil {
		w = os.Stdout
	}
	if namespace == "" {
		namespace = "shiprelay"
	}
	return &Metrics{w: w, namespace: namespace, now: time.Now}
}

// Unit is a CloudWatch metric unit.
type Unit string

// Units used by shiprelay.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Put emits one metric value with dimensions (e.g. {"Function": "push"}).
// A nil *Metrics discards it.
func (m *Metrics) Put(name string, value float64, unit Unit, dims map[string]string) {
	if m == nil {
		return
	}
	keys := make([]string, 0, len(dims))
	rec := map[string]any{}
	for k, v := range dims {
		keys = append(keys, k)
		rec[k] = v
	}
	rec[name] = value
	rec["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  m.namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []any{map[string]any{"Name": name, "Unit": unit}},
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}
