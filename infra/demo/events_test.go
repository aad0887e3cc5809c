package demo

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/app"
)

// TestSampleEventsRunAgainstTheLocalStack invokes every function's handler,
// built exactly as its Lambda main builds it, with the sample events that
// `sam local invoke -e events/...` uses.
func TestSampleEventsRunAgainstTheLocalStack(t *testing.T) {
	env, ctx := up(t, sandbox.Faults{WebhookDropRate: 1})
	tpl, err := FindTemplate()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(tpl), "events")
	invoke := func(fn, file string) []byte {
		t.Helper()
		vars := env.Runner.Env(fn)
		getenv := func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return env.Getenv(k)
		}
		d, err := app.LoadWith(ctx, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		h, err := d.Handler(fn)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("%s with %s: %v", fn, file, err)
		}
		return out
	}

	var web events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(invoke("webhook", "webhook-bigcommerce-order-created.json"), &web); err != nil {
		t.Fatal(err)
	}
	if web.StatusCode != 202 {
		t.Fatalf("webhook sample: status %d body %s, want 202", web.StatusCode, web.Body)
	}

	invoke("poll", "poll-scheduled.json")

	for _, fn := range []string{"ingest", "push"} {
		var resp events.SQSEventResponse
		if err := json.Unmarshal(invoke(fn, fn+"-sqs.json"), &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s sample: failures %+v", fn, resp.BatchItemFailures)
		}
	}
	// The reconcile sample sweeps the ledger the samples above wrote.
	invoke("reconcile", "reconcile-scheduled.json")

	// The push sample names an order the ledger never saw: it is not
	// retried forever but recorded as an exception.
	exc, _, err := env.Ledger.Exceptions(ctx, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range exc {
		if e.OrderID == "bigcommerce:bc-main:10452" && e.Op == "push" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no push exception for the sample order: %+v", exc)
	}
}
