// Command runner runs shiprelay's whole function set in one process against
// the local stack, reading template.yaml for routes, queues and schedules.
//
//	eval "$(infra/local/stack.sh start)"
//	go run ./infra/cmd/runner -schedule-every Poll=10s
//	go run ./infra/cmd/runner fire PollFunction
//	go run ./infra/cmd/runner status
//
// Run without a subcommand, it creates the table and queues, serves the
// HttpApi routes and /_runner/ on -addr, polls the queues and fires the
// schedules until SIGINT or SIGTERM, then waits for in-flight invocations.
// `fire` and `status` talk to a running runner over HTTP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/shared/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "runner:", err)
		}
		os.Exit(1)
	}
}

// kv is a repeatable Name=Value flag.
type kv map[string]string

// String implements flag.Value.
func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }

// Set implements flag.Value.
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=Value, got %q", s)
	}
	m[k] = v
	return nil
}

// every is a repeatable Function=Duration flag.
type every map[string]time.Duration

// String implements flag.Value.
func (m every) String() string { return fmt.Sprint(map[string]time.Duration(m)) }

// Set implements flag.Value.
func (m every) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Function=Duration (Poll=10s), got %q", s)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration", v)
	}
	m[k] = d
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "fire":
			return fire(ctx, args[1:], stdout, stderr)
		case "status":
			return status(ctx, args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	fs.SetOutput(stderr)
	template := fs.String("template", "template.yaml", "SAM template")
	addr := fs.String("addr", runner.DefaultHTTPAddr, "HTTP address for the routes and /_runner/")
	table := fs.String("table", runner.DefaultTableName, "local DynamoDB table name")
	prefix := fs.String("queue-prefix", runner.DefaultQueuePrefix, "local queue name prefix (+ logical id)")
	noSchedules := fs.Bool("no-schedules", false, "do not fire schedules on time (POST /_runner/schedules/{Function} still works)")
	wait := fs.Duration("receive-wait", runner.DefaultReceiveWait, "long-poll wait of an idle queue (whole seconds, at most 20s)")
	level := fs.String("log-level", "info", "runner log level: debug, info, warn, error")
	params := kv{}
	fs.Var(params, "param", "template parameter override Name=Value (repeatable), e.g. -param ConfigSecretName=file:config.local.yaml")
	sched := every{}
	fs.Var(sched, "schedule-every", "fire a function's schedule at this period instead, Function=Duration (repeatable), e.g. -schedule-every Poll=10s")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage:
  runner [flags]                        run the function set until SIGINT/SIGTERM
  runner fire [-addr A] <Function>      fire a scheduled function on a running runner
  runner status [-addr A]               print a running runner's status

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	r, err := runner.New(runner.Config{
		TemplatePath:     *template,
		Parameters:       params,
		Factory:          factory(ctx),
		HTTPAddr:         *addr,
		TableName:        *table,
		QueuePrefix:      *prefix,
		ScheduleEvery:    sched,
		DisableSchedules: *noSchedules,
		ReceiveWait:      *wait,
		Logger:           slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: lv})),
		Stdout:           stdout,
	})
	if err != nil {
		return err
	}
	return r.Run(ctx)
}

// factory builds the real handlers with shared/app.
func factory(ctx context.Context) runner.HandlerFactory {
	return func(name string, getenv func(string) string) (lambda.Handler, error) {
		return app.Build(ctx, name, getenv)
	}
}

func clientFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("runner "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", runner.DefaultHTTPAddr, "address of the running runner")
	return fs, addr
}

func baseURL(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return addr
	}
	return "http://" + addr
}

func fire(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, addr := clientFlags("fire", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: runner fire [-addr 127.0.0.1:3000] <FunctionLogicalId>")
	}
	res, err := runner.RemoteFire(ctx, baseURL(*addr), fs.Arg(0))
	if res != nil {
		printJSON(stdout, res)
	}
	return err
}

func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, addr := clientFlags("status", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := runner.RemoteStatus(ctx, baseURL(*addr))
	if err != nil {
		return err
	}
	printJSON(stdout, st)
	return nil
}

func printJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(w, string(b))
}
