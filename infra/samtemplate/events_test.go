package samtemplate

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/shipstation"
)

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return os.ErrInvalid
	}
	return nil
}

// routeParamRE matches the {name} parameters of an HttpApi path.
var routeParamRE = regexp.MustCompile(`\{([^{}]+)\}`)

// routeChecks hold, per HttpApi route of the template, what a sample
// request of that route must carry beyond the API Gateway v2 shape.
var routeChecks = map[string]func(req events.APIGatewayV2HTTPRequest) error{
	// BigCommerce signs nothing: the store's secret is a custom header.
	"POST /webhooks/bigcommerce/{storeId}": func(req events.APIGatewayV2HTTPRequest) error {
		if req.Headers["x-webhook-secret"] == "" {
			return fmt.Errorf("no x-webhook-secret header")
		}
		return nil
	},
	// ShipStation V1 webhooks are unsigned: the token is in the path, and
	// the body is a SHIP_NOTIFY whose resource_url the receiver accepts.
	"POST /webhooks/shipstation/{accountId}/{token}": func(req events.APIGatewayV2HTTPRequest) error {
		hook, err := shipstation.ParseWebhook([]byte(req.Body))
		if err != nil {
			return err
		}
		if hook.ResourceType != "SHIP_NOTIFY" {
			return fmt.Errorf("resource_type %q, want SHIP_NOTIFY", hook.ResourceType)
		}
		if _, err := shipstation.ResourceURL(hook.ResourceURL, config.DefaultShipStationURL); err != nil {
			return err
		}
		return nil
	},
}

// queueBodies return, per queue of the template, the message type its
// consumer decodes; check validates a decoded body against the function.
var queueBodies = map[string]func() any{
	"IngestQueue":            func() any { return &queue.Ingest{} },
	"PushQueue":              func() any { return &queue.Push{} },
	"ShipmentsQueue":         func() any { return &queue.Shipments{} },
	"NotifyBigCommerceQueue": func() any { return &queue.Notify{} },
	"NotifyAmazonQueue":      func() any { return &queue.Notify{} },
	"OrderChangeQueue":       func() any { return &orderChangeBody{} },
}

// orderChangeBody decodes an ORDER_CHANGE notification the way the
// orderchange function does.
type orderChangeBody struct{ c amazon.OrderChange }

// UnmarshalJSON parses and validates the notification.
func (b *orderChangeBody) UnmarshalJSON(data []byte) error {
	c, err := amazon.ParseOrderChange(data)
	b.c = c
	return err
}

// checkBody checks what a queue message says against its function.
func checkBody(fn *Function, body any) error {
	switch b := body.(type) {
	case *queue.Shipments:
		if b.Account == "" || b.ReceivedAt.IsZero() || (b.ResourceURL == "") == b.From.IsZero() {
			return fmt.Errorf("want an account, a receivedAt and either a resourceUrl or a window: %+v", b)
		}
		if b.ResourceURL != "" {
			if _, err := shipstation.ResourceURL(b.ResourceURL, config.DefaultShipStationURL); err != nil {
				return err
			}
		}
	case *queue.Notify:
		ch, _, _, err := b.OrderID.Parse()
		if err != nil {
			return err
		}
		if want := fn.Environment["SHIPRELAY_NOTIFY_CHANNEL"]; string(ch) != want {
			return fmt.Errorf("order %s is on channel %q; %s notifies on %v", b.OrderID, ch, fn.LogicalID, want)
		}
		if b.NotificationID == "" {
			return fmt.Errorf("no notificationId")
		}
	}
	return nil
}

// TestSampleEvents: every events/<function>-*.json decodes, with no unknown
// field, into the aws-lambda-go type of its trigger, and agrees with the
// template (route, queue message body); every event of every function (each
// HttpApi route) has one.
func TestSampleEvents(t *testing.T) {
	tpl := loadTemplate(t)
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{} // "<LogicalID>.<event name>"
	for _, file := range files {
		base := filepath.Base(file)
		dir, rest, _ := strings.Cut(base, "-")
		qualifier, _, _ := strings.Cut(rest, "-")
		// Functions sharing a CodeUri (one notify function per channel) are
		// told apart by the name's second word: notify-<channel>-….
		var fn *Function
		for i := range fns {
			if fns[i].Dir != dir {
				continue
			}
			if ch, ok := fns[i].Environment["SHIPRELAY_NOTIFY_CHANNEL"].(string); ok && ch != qualifier {
				continue
			}
			fn = &fns[i]
		}
		if fn == nil {
			t.Errorf("%s: no function with CodeUri functions/%s/", base, dir)
			continue
		}
		if len(fn.Events) == 0 {
			t.Errorf("%s: function %s has no event", base, fn.LogicalID)
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// Every event of a function has the same trigger type (the runner
		// and the handlers rely on it); HttpApi samples pick their route.
		ev := fn.Events[0]
		switch {
		case ev.HttpApi != nil:
			var req events.APIGatewayV2HTTPRequest
			if err := decodeStrict(data, &req); err != nil {
				t.Errorf("%s: not an APIGatewayV2HTTPRequest: %v", base, err)
				continue
			}
			var route *HttpApiEvent
			for _, e := range fn.Events {
				if e.HttpApi != nil && e.HttpApi.RouteKey() == req.RouteKey {
					route, ev = e.HttpApi, e
				}
			}
			if route == nil {
				t.Errorf("%s: routeKey %q is no HttpApi route of %s", base, req.RouteKey, fn.LogicalID)
				continue
			}
			covered[fn.LogicalID+"."+ev.Name] = true
			if req.Version != "2.0" || req.RequestContext.RouteKey != req.RouteKey {
				t.Errorf("%s: version %q requestContext.routeKey %q, want 2.0 %q", base, req.Version, req.RequestContext.RouteKey, req.RouteKey)
			}
			if req.RequestContext.HTTP.Method != route.Method || req.RequestContext.HTTP.Path != req.RawPath || req.RequestContext.Stage != "$default" {
				t.Errorf("%s: requestContext %+v", base, req.RequestContext)
			}
			params := routeParamRE.FindAllStringSubmatch(route.Path, -1)
			if len(req.PathParameters) != len(params) {
				t.Errorf("%s: pathParameters %v, want one for each of %v", base, req.PathParameters, params)
			}
			want := routeParamRE.ReplaceAllStringFunc(route.Path, func(p string) string {
				v := req.PathParameters[p[1:len(p)-1]]
				if v == "" || strings.Contains(v, "/") {
					t.Errorf("%s: pathParameters[%q] is %q", base, p, v)
				}
				return v
			})
			if req.RawPath != want {
				t.Errorf("%s: rawPath %q, want %q", base, req.RawPath, want)
			}
			for k := range req.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("%s: header %q is not lower-case", base, k)
				}
			}
			if !json.Valid([]byte(req.Body)) || req.IsBase64Encoded {
				t.Errorf("%s: want a plain JSON body", base)
			}
			if n := req.Headers["content-length"]; n != "" && n != strconv.Itoa(len(req.Body)) {
				t.Errorf("%s: content-length %s, body is %d bytes", base, n, len(req.Body))
			}
			check, ok := routeChecks[req.RouteKey]
			if !ok {
				t.Errorf("%s: no routeChecks entry for %q", base, req.RouteKey)
			} else if err := check(req); err != nil {
				t.Errorf("%s: %v", base, err)
			}
		case ev.SQS != nil:
			covered[fn.LogicalID+"."+ev.Name] = true
			var e events.SQSEvent
			if err := decodeStrict(data, &e); err != nil {
				t.Errorf("%s: not an SQSEvent: %v", base, err)
				continue
			}
			if len(e.Records) == 0 {
				t.Errorf("%s: no records", base)
			}
			newBody, ok := queueBodies[ev.SQS.QueueLogicalID]
			if !ok {
				t.Errorf("%s: no queueBodies entry for %s", base, ev.SQS.QueueLogicalID)
				continue
			}
			for _, r := range e.Records {
				sum := md5.Sum([]byte(r.Body))
				if r.EventSource != "aws:sqs" || r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: record %+v", base, r)
				}
				if !strings.Contains(r.EventSourceARN, "-"+ev.SQS.QueueLogicalID+"-") || r.Attributes["ApproximateReceiveCount"] == "" {
					t.Errorf("%s: eventSourceARN %q / attributes %v", base, r.EventSourceARN, r.Attributes)
				}
				body := newBody()
				if err := decodeStrict([]byte(r.Body), body); err != nil {
					t.Errorf("%s: body is not a %T: %v", base, body, err)
				} else if err := checkBody(fn, body); err != nil {
					t.Errorf("%s: body: %v", base, err)
				}
			}
		case ev.Schedule != nil:
			covered[fn.LogicalID+"."+ev.Name] = true
			var e events.EventBridgeEvent
			if err := decodeStrict(data, &e); err != nil {
				t.Errorf("%s: not an EventBridgeEvent: %v", base, err)
				continue
			}
			if e.DetailType != "Scheduled Event" || e.Source != "aws.events" || len(e.Resources) != 1 || string(e.Detail) != "{}" || e.Time.IsZero() {
				t.Errorf("%s: %+v", base, e)
			}
		default:
			t.Errorf("%s: function %s has no HttpApi, SQS or Schedule event", base, fn.LogicalID)
		}
	}
	for _, f := range fns {
		for _, ev := range f.Events {
			if !covered[f.LogicalID+"."+ev.Name] {
				t.Errorf("no events/%s-*.json sample for %s's event %s", f.Dir, f.LogicalID, ev.Name)
			}
		}
	}
}
