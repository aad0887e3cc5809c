package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/infra/testenv"
)

func TestFlagErrors(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"-param", "NoEquals"},
		{"-schedule-every", "Poll"},
		{"-schedule-every", "Poll=0s"},
		{"-schedule-every", "Poll=soon"},
		{"-log-level", "loud"},
		{"extra"},
		{"-template", "does-not-exist.yaml"},
		{"-template", "../../../template.yaml", "-param", "Nope=1"},
		{"fire"},
		{"fire", "a", "b"},
	} {
		var out, errOut bytes.Buffer
		if err := run(ctx, args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestFireAndStatus drives `runner fire` and `runner status` against a
// runner (library, fake handlers) on the local stack.
func TestFireAndStatus(t *testing.T) {
	testenv.RequireStack(t)
	var fired atomic.Int32
	factory := func(name string, _ func(string) string) (lambda.Handler, error) {
		return lambda.NewHandler(func(ev events.EventBridgeEvent) (string, error) {
			fired.Add(1)
			return ev.DetailType, nil
		}), nil
	}
	r, err := runner.New(runner.Config{TemplatePath: "../../../template.yaml", Factory: factory, HTTPAddr: "127.0.0.1:0",
		TableName: "cli-test", QueuePrefix: "cli-test-", DisableSchedules: true, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = r.Wait() }()

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"fire", "-addr", r.Addr(), "PollFunction"}, &out, &errOut); err != nil {
		t.Fatalf("fire: %v %s", err, errOut.String())
	}
	var res runner.FireResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Function != "PollFunction" || string(res.Response) != `"Scheduled Event"` || fired.Load() != 1 {
		t.Errorf("fire printed %q (%v), fired %d", out.String(), err, fired.Load())
	}
	out.Reset()
	if err := run(ctx, []string{"fire", "-addr", r.URL(), "Nope"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("fire Nope: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"status", "-addr", r.Addr()}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var st runner.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || len(st.Queues) != 12 || st.Functions["PollFunction"].Invocations != 1 {
		t.Errorf("status printed %q (%v)", out.String(), err)
	}
}
