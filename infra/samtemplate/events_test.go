package samtemplate

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/queue"
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

// TestSampleEvents: every events/<function>-*.json decodes, with no unknown
// field, into the aws-lambda-go type of its function's trigger, and agrees
// with the template (route, queue message body); every function has one.
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
	covered := map[string]bool{}
	for _, file := range files {
		base := filepath.Base(file)
		dir, _, _ := strings.Cut(base, "-")
		var fn *Function
		for i := range fns {
			if fns[i].Dir == dir {
				fn = &fns[i]
			}
		}
		if fn == nil {
			t.Errorf("%s: no function with CodeUri functions/%s/", base, dir)
			continue
		}
		covered[fn.LogicalID] = true
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ev := fn.Events[0]
		switch {
		case ev.HttpApi != nil:
			var req events.APIGatewayV2HTTPRequest
			if err := decodeStrict(data, &req); err != nil {
				t.Errorf("%s: not an APIGatewayV2HTTPRequest: %v", base, err)
				continue
			}
			if req.Version != "2.0" || req.RouteKey != ev.HttpApi.RouteKey() || req.RequestContext.RouteKey != req.RouteKey {
				t.Errorf("%s: version %q routeKey %q, want 2.0 %q", base, req.Version, req.RouteKey, ev.HttpApi.RouteKey())
			}
			if req.RequestContext.HTTP.Method != ev.HttpApi.Method || req.RequestContext.HTTP.Path != req.RawPath || req.RequestContext.Stage != "$default" {
				t.Errorf("%s: requestContext %+v", base, req.RequestContext)
			}
			if want := strings.Replace(ev.HttpApi.Path, "{storeId}", req.PathParameters["storeId"], 1); req.RawPath != want {
				t.Errorf("%s: rawPath %q, want %q", base, req.RawPath, want)
			}
			for k := range req.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("%s: header %q is not lower-case", base, k)
				}
			}
			if req.Headers["x-webhook-secret"] == "" || !json.Valid([]byte(req.Body)) || req.IsBase64Encoded {
				t.Errorf("%s: want an x-webhook-secret header and a plain JSON body", base)
			}
		case ev.SQS != nil:
			var e events.SQSEvent
			if err := decodeStrict(data, &e); err != nil {
				t.Errorf("%s: not an SQSEvent: %v", base, err)
				continue
			}
			if len(e.Records) == 0 {
				t.Errorf("%s: no records", base)
			}
			for _, r := range e.Records {
				sum := md5.Sum([]byte(r.Body))
				if r.EventSource != "aws:sqs" || r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: record %+v", base, r)
				}
				if !strings.Contains(r.EventSourceARN, ev.SQS.QueueLogicalID) || r.Attributes["ApproximateReceiveCount"] == "" {
					t.Errorf("%s: eventSourceARN %q / attributes %v", base, r.EventSourceARN, r.Attributes)
				}
				var body any = &queue.Ingest{}
				if ev.SQS.QueueLogicalID == "PushQueue" {
					body = &queue.Push{}
				}
				if err := decodeStrict([]byte(r.Body), body); err != nil {
					t.Errorf("%s: body is not a %T: %v", base, body, err)
				}
			}
		case ev.Schedule != nil:
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
		if !covered[f.LogicalID] {
			t.Errorf("no events/%s-*.json sample for %s", f.Dir, f.LogicalID)
		}
	}
}
