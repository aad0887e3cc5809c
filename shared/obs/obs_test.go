package obs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/obs"
)

// lines decodes every JSON line of buf.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestLoggerCarriesContextAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := obs.NewLogger(&buf, "INFO")
	ctx := obs.With(context.Background(), "request_id", "req-1")
	orderCtx := obs.With(ctx, "order_id", "bigcommerce:bc-main:101")

	log.InfoContext(orderCtx, "push: in ShipStation", "shipstation_order_id", 7)
	log.InfoContext(ctx, "parent only")
	log.With("fn", "push").InfoContext(orderCtx, "derived logger")
	log.Info("no context")

	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("got %d records, want 4: %s", len(got), buf.String())
	}
	first := got[0]
	if first["msg"] != "push: in ShipStation" || first["level"] != "INFO" {
		t.Errorf("record = %v", first)
	}
	if first["request_id"] != "req-1" || first["order_id"] != "bigcommerce:bc-main:101" || first["shipstation_order_id"] != float64(7) {
		t.Errorf("record lacks the context attrs: %v", first)
	}
	if got[1]["request_id"] != "req-1" {
		t.Errorf("parent context lost its attr: %v", got[1])
	}
	if _, ok := got[1]["order_id"]; ok {
		t.Errorf("obs.With on a child leaked into the parent context: %v", got[1])
	}
	if got[2]["fn"] != "push" || got[2]["order_id"] != "bigcommerce:bc-main:101" {
		t.Errorf("a logger derived with With() dropped attrs: %v", got[2])
	}
	if _, ok := got[3]["request_id"]; ok {
		t.Errorf("a record without context carries context attrs: %v", got[3])
	}
}

func TestWithDoesNotAliasSiblings(t *testing.T) {
	var buf bytes.Buffer
	log := obs.NewLogger(&buf, "INFO")
	// Build a parent whose attr slice has spare capacity, then two children:
	// appending for one must not overwrite the other's attrs.
	parent := obs.With(obs.With(context.Background(), "a", 1), "b", 2)
	c1 := obs.With(parent, "order_id", "one")
	c2 := obs.With(parent, "order_id", "two")
	log.InfoContext(c1, "x")
	log.InfoContext(c2, "y")
	got := lines(t, &buf)
	if got[0]["order_id"] != "one" || got[1]["order_id"] != "two" {
		t.Errorf("siblings share attrs: %v / %v", got[0], got[1])
	}
}

func TestLevelFilter(t *testing.T) {
	cases := []struct {
		level string
		want  []string // messages that pass, of debug/info/warn/error
	}{
		{"DEBUG", []string{"d", "i", "w", "e"}},
		{"debug", []string{"d", "i", "w", "e"}},
		{"INFO", []string{"i", "w", "e"}},
		{"", []string{"i", "w", "e"}},
		{"nonsense", []string{"i", "w", "e"}},
		{"WARN", []string{"w", "e"}},
		{"warning", []string{"w", "e"}},
		{"ERROR", []string{"e"}},
	}
	for _, c := range cases {
		t.Run(c.level, func(t *testing.T) {
			var buf bytes.Buffer
			log := obs.NewLogger(&buf, c.level)
			ctx := context.Background()
			log.DebugContext(ctx, "d")
			log.InfoContext(ctx, "i")
			log.WarnContext(ctx, "w")
			log.ErrorContext(ctx, "e")
			var msgs []string
			for _, l := range lines(t, &buf) {
				msgs = append(msgs, l["msg"].(string))
			}
			if strings.Join(msgs, ",") != strings.Join(c.want, ",") {
				t.Errorf("level %q passed %v, want %v", c.level, msgs, c.want)
			}
		})
	}
}

// emf is the part of an EMF record the tests read.
type emf struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func TestEMFRecord(t *testing.T) {
	var buf bytes.Buffer
	m := obs.NewMetrics(&buf, "")
	before := time.Now().UnixMilli()
	m.Put("WebhookToShipStationLatency", 1234.5, obs.Milliseconds, map[string]string{"Function": "push", "Channel": "bigcommerce"})
	m.Put("OrdersPushed", 3, obs.Count, map[string]string{"Function": "push"})
	after := time.Now().UnixMilli()

	raw := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(raw) != 2 {
		t.Fatalf("got %d lines, want one per Put: %q", len(raw), buf.String())
	}
	var rec emf
	var flat map[string]any
	if err := json.Unmarshal([]byte(raw[0]), &rec); err != nil {
		t.Fatalf("EMF line is not JSON: %v: %s", err, raw[0])
	}
	if err := json.Unmarshal([]byte(raw[0]), &flat); err != nil {
		t.Fatal(err)
	}
	if rec.AWS.Timestamp < before || rec.AWS.Timestamp > after {
		t.Errorf("Timestamp %d not in [%d, %d] (epoch ms)", rec.AWS.Timestamp, before, after)
	}
	if len(rec.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("CloudWatchMetrics = %+v", rec.AWS.CloudWatchMetrics)
	}
	cw := rec.AWS.CloudWatchMetrics[0]
	if cw.Namespace != "shiprelay" {
		t.Errorf("Namespace = %q, want the default shiprelay", cw.Namespace)
	}
	if len(cw.Metrics) != 1 || cw.Metrics[0].Name != "WebhookToShipStationLatency" || cw.Metrics[0].Unit != "Milliseconds" {
		t.Errorf("Metrics = %+v", cw.Metrics)
	}
	if len(cw.Dimensions) != 1 {
		t.Fatalf("Dimensions = %v, want one dimension set", cw.Dimensions)
	}
	dims := append([]string(nil), cw.Dimensions[0]...)
	sort.Strings(dims)
	if strings.Join(dims, ",") != "Channel,Function" {
		t.Errorf("Dimensions[0] = %v", cw.Dimensions[0])
	}
	// EMF: every dimension and the metric are top-level members.
	if flat["WebhookToShipStationLatency"] != 1234.5 || flat["Function"] != "push" || flat["Channel"] != "bigcommerce" {
		t.Errorf("top-level members = %v", flat)
	}

	var rec2 emf
	var flat2 map[string]any
	_ = json.Unmarshal([]byte(raw[1]), &rec2)
	_ = json.Unmarshal([]byte(raw[1]), &flat2)
	if flat2["OrdersPushed"] != float64(3) || rec2.AWS.CloudWatchMetrics[0].Metrics[0].Unit != "Count" {
		t.Errorf("second record = %s", raw[1])
	}
}

func TestEMFNamespaceAndNoDimensions(t *testing.T) {
	var buf bytes.Buffer
	obs.NewMetrics(&buf, "custom").Put("PollEnqueued", 0, obs.Count, nil)
	var rec emf
	var flat map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	_ = json.Unmarshal(buf.Bytes(), &flat)
	cw := rec.AWS.CloudWatchMetrics[0]
	if cw.Namespace != "custom" {
		t.Errorf("Namespace = %q", cw.Namespace)
	}
	if v, ok := flat["PollEnqueued"]; !ok || v != float64(0) {
		t.Errorf("a zero value must still be emitted: %v", flat)
	}
	// CloudWatch needs Dimensions to be an array of arrays, also when empty.
	if len(cw.Dimensions) != 1 || len(cw.Dimensions[0]) != 0 {
		t.Errorf("Dimensions = %#v, want [[]]", cw.Dimensions)
	}
	if !strings.Contains(buf.String(), `"Dimensions":[[]]`) {
		t.Errorf("Dimensions not rendered as [[]]: %s", buf.String())
	}
}

func TestEMFConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	m := obs.NewMetrics(&buf, "shiprelay")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Put("OrdersImported", float64(i), obs.Count, map[string]string{"Channel": "bigcommerce"})
		}()
	}
	wg.Wait()
	raw := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(raw) != 50 {
		t.Fatalf("got %d lines, want 50", len(raw))
	}
	for _, l := range raw {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved line: %q", l)
		}
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	var m *obs.Metrics
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Put on nil *Metrics panicked: %v", r)
		}
	}()
	m.Put("OrdersPushed", 1, obs.Count, map[string]string{"Function": "push"})
}
