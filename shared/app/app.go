// Package app wires shiprelay's functions: it reads the environment, builds
// the adapters (DynamoDB ledger, SQS queues, Secrets Manager, channel and
// ShipStation clients) and returns each function's Lambda handler. The
// functions' mains and the local runner both call Build, so what runs
// locally is exactly what runs in Lambda.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ingest"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/notify"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/orderchange"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/push"
	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/reconcile"
	"github.com/shiprelay/shiprelay/shared/relay"
	"github.com/shiprelay/shiprelay/shared/retry"
	"github.com/shiprelay/shiprelay/shared/secrets"
	"github.com/shiprelay/shiprelay/shared/shipstation"
	"github.com/shiprelay/shiprelay/shared/sqs"
	"github.com/shiprelay/shiprelay/shared/sweep"
	"github.com/shiprelay/shiprelay/shared/webhook"
)

// Environment variables every function reads (declared in template.yaml).
const (
	EnvTable       = "SHIPRELAY_TABLE"
	EnvIngestQueue = "SHIPRELAY_INGEST_QUEUE_URL"
	EnvPushQueue   = "SHIPRELAY_PUSH_QUEUE_URL"
	// EnvShipmentsQueue is the queue of label reads (SHIP_NOTIFY and pulls).
	EnvShipmentsQueue = "SHIPRELAY_SHIPMENTS_QUEUE_URL"
	// EnvNotifyBigCommerceQueue is BigCommerce's notify queue.
	EnvNotifyBigCommerceQueue = "SHIPRELAY_NOTIFY_BIGCOMMERCE_QUEUE_URL"
	// EnvNotifyAmazonQueue is Amazon's notify queue.
	EnvNotifyAmazonQueue = "SHIPRELAY_NOTIFY_AMAZON_QUEUE_URL"
	// EnvOrderChangeQueue is the queue Amazon writes ORDER_CHANGE
	// notifications to (the orderchange function's own, for backoff).
	EnvOrderChangeQueue = "SHIPRELAY_ORDER_CHANGE_QUEUE_URL"
	// EnvNotifyChannel and EnvNotifyQueue configure one notify function:
	// the channel it confirms on and its own queue (for backoff).
	EnvNotifyChannel = "SHIPRELAY_NOTIFY_CHANNEL"
	EnvNotifyQueue   = "SHIPRELAY_NOTIFY_QUEUE_URL"
	EnvConfig        = "SHIPRELAY_CONFIG"       // a secret name, or "file:<path>"
	EnvSecretsFile   = "SHIPRELAY_SECRETS_FILE" // local stack only: secrets from a JSON file
	EnvLogLevel      = "SHIPRELAY_LOG_LEVEL"    // DEBUG, INFO, WARN, ERROR
	EnvMetricsSpace  = "SHIPRELAY_METRICS_NAMESPACE"
	// EnvClockSpeedUp (local stack only) runs the redaction sweep's clock
	// that many times faster than real time from the process start, so a
	// demo shows 14-day redactions within minutes.
	EnvClockSpeedUp = "SHIPRELAY_CLOCK_SPEEDUP"
)

// Functions lists the function names Build knows (functions/<name>).
var Functions = []string{"webhook", "poll", "ingest", "push", "reconcile", "shipments", "notify", "orderchange", "redact"}

// Deps are the adapters shared by every function of one process.
type Deps struct {
	Config  *config.Config
	Ledger  *dynamo.Ledger
	Secrets config.Secrets
	Log     *slog.Logger
	Metrics *obs.Metrics
	HTTP    *http.Client
	AWS     aws.Config
	SQS     *awssqs.Client
	getenv  func(string) string

	clients *clients
	amazon  *amazonClients
}

// Load builds the dependencies from the environment, logging to stderr and
// writing metrics to stdout as Lambda expects.
func Load(ctx context.Context, getenv func(string) string) (*Deps, error) {
	return load(ctx, getenv, os.Stderr, os.Stdout)
}

// LoadWith is Load with logs and metrics both written to w (the local demo
// keeps them apart from its progress output).
func LoadWith(ctx context.Context, getenv func(string) string, w io.Writer) (*Deps, error) {
	return load(ctx, getenv, w, w)
}

func load(ctx context.Context, getenv func(string) string, logW, metricsW io.Writer) (*Deps, error) {
	log := obs.NewLogger(logW, getenv(EnvLogLevel))
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	ddb := dynamo.NewClient(cfg)
	var sec config.Secrets
	if f := getenv(EnvSecretsFile); f != "" {
		sec = secrets.File{Path: f}
	} else {
		sec = &secrets.Cache{Next: secrets.Manager{Client: secretsmanager.NewFromConfig(cfg)}, TTL: 5 * time.Minute}
	}
	conf, err := loadConfig(ctx, getenv(EnvConfig), sec)
	if err != nil {
		return nil, err
	}
	table := getenv(EnvTable)
	if table == "" {
		return nil, fmt.Errorf("%s is not set", EnvTable)
	}
	d := &Deps{
		Config:  conf,
		Ledger:  dynamo.New(ddb, table),
		Secrets: sec,
		Log:     log,
		Metrics: obs.NewMetrics(metricsW, getenv(EnvMetricsSpace)),
		HTTP:    &http.Client{Timeout: 20 * time.Second},
		AWS:     cfg,
		SQS:     awssqs.NewFromConfig(cfg),
		getenv:  getenv,
	}
	d.clients = &clients{deps: d}
	d.amazon = &amazonClients{deps: d}
	return d, nil
}

func loadConfig(ctx context.Context, src string, sec config.Secrets) (*config.Config, error) {
	if src == "" {
		return nil, fmt.Errorf("%s is not set (a Secrets Manager secret name, or file:<path>)", EnvConfig)
	}
	var data []byte
	if path, ok := strings.CutPrefix(src, "file:"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = b
	} else {
		s, err := sec.Get(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = []byte(s)
	}
	return config.Parse(data)
}

// queues resolves queue URLs from the environment, remembering every
// variable that is missing so a handler is built or refused in one go.
type queues struct {
	d       *Deps
	missing []string
}

// get returns the queue named by env (nil when the variable is unset).
func (q *queues) get(env string) *sqs.Queue {
	url := q.d.getenv(env)
	if url == "" {
		q.missing = append(q.missing, env)
		return nil
	}
	return &sqs.Queue{Client: q.d.SQS, URL: url}
}

func (q *queues) err() error {
	if len(q.missing) == 0 {
		return nil
	}
	return fmt.Errorf("not set: %s", strings.Join(q.missing, ", "))
}

// Build returns the Lambda handler of function name, configured from getenv.
func Build(ctx context.Context, name string, getenv func(string) string) (lambda.Handler, error) {
	d, err := Load(ctx, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d.Handler(name)
}

// Handler returns function name's handler over d.
func (d *Deps) Handler(name string) (lambda.Handler, error) {
	q := &queues{d: d}
	var h any
	switch name {
	case "webhook":
		ttl := d.Config.Settings.WebhookDedupeTTL.D()
		bc := &webhook.BigCommerce{Stores: d.clients, Claims: d.Ledger, Ingest: q.get(EnvIngestQueue), Log: d.Log, DedupeTTL: ttl}
		ss := &webhook.ShipStation{Accounts: d.clients, Claims: d.Ledger, Shipments: q.get(EnvShipmentsQueue), Log: d.Log, DedupeTTL: ttl}
		h = lambdaio.HTTP(webhook.Routes(bc, ss))
	case "poll":
		h = (&poll.Service{
			Config: d.Config, Watermarks: d.Ledger, Ledger: d.Ledger, Ingest: q.get(EnvIngestQueue), Shipments: q.get(EnvShipmentsQueue),
			Log: d.Log, Metrics: d.Metrics,
			Listers: map[order.Channel]poll.Lister{order.BigCommerce: d.clients, order.Amazon: d.amazon},
		}).Handle
	case "ingest":
		h = (&ingest.Service{
			Config: d.Config, Ledger: d.Ledger, Stores: d.Ledger, Redactions: d.Ledger, Push: q.get(EnvPushQueue), Log: d.Log, Metrics: d.Metrics,
			Identities: d.Ledger, Self: q.get(EnvIngestQueue), Shipments: q.get(EnvShipmentsQueue),
			Retry: d.retrier("ingest", q.get(EnvIngestQueue)),
			Fetch: map[order.Channel]ingest.Fetcher{order.BigCommerce: d.clients, order.Amazon: d.amazon},
		}).Handle
	case "orderchange":
		h = (&orderchange.Service{
			Config: d.Config, Ledger: d.Ledger, Ingest: q.get(EnvIngestQueue), Log: d.Log, Metrics: d.Metrics,
			Retry: d.retrier("orderchange", q.get(EnvOrderChangeQueue)),
		}).Handle
	case "push":
		h = (&push.Service{
			Config: d.Config, Ledger: d.Ledger, Retry: d.retrier("push", q.get(EnvPushQueue)),
			Log: d.Log, Metrics: d.Metrics, Account: d.clients.shipStation,
			Identities: d.Ledger, Self: q.get(EnvPushQueue),
		}).Handle
	case "shipments":
		h = (&relay.Service{
			Config: d.Config, Ledger: d.Ledger, Source: d.clients.labels, Log: d.Log, Metrics: d.Metrics,
			Notify: map[order.Channel]queue.Sender{
				order.BigCommerce: q.get(EnvNotifyBigCommerceQueue), order.Amazon: q.get(EnvNotifyAmazonQueue),
			},
			Ingest: q.get(EnvIngestQueue),
			Retry:  d.retrier("shipments", q.get(EnvShipmentsQueue)),
		}).Handle
	case "notify":
		var c notify.Confirmer
		switch ch := order.Channel(d.getenv(EnvNotifyChannel)); ch {
		case order.BigCommerce:
			c = &notify.BigCommerce{Client: d.clients.bigCommerceClient, Carriers: d.carriers}
		case order.Amazon:
			c = &notify.Amazon{Client: d.amazon.Client, Carriers: d.carriers}
		default:
			return nil, fmt.Errorf("%s=%q: no notifier for that channel", EnvNotifyChannel, ch)
		}
		self := q.get(EnvNotifyQueue)
		h = (&notify.Service{
			Config: d.Config, Ledger: d.Ledger, Confirmer: c, Log: d.Log, Metrics: d.Metrics,
			Retry: d.retrier("notify", self), Self: self, VerifyAfter: d.Config.Settings.VerifyAfter.D(),
		}).Handle
	case "redact":
		h = (&sweep.Redactions{Ledger: d.Ledger, Push: q.get(EnvPushQueue), Log: d.Log, Metrics: d.Metrics, Now: d.clock()}).Handle
	case "reconcile":
		h = (&reconcile.Service{Config: d.Config, Ledger: d.Ledger, Push: q.get(EnvPushQueue), Log: d.Log, Metrics: d.Metrics}).Handle
	default:
		return nil, fmt.Errorf("unknown function %q (known: %s)", name, strings.Join(Functions, ", "))
	}
	if err := q.err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return lambda.NewHandler(h), nil
}

// MaxReceives is, per consuming function, the maxReceiveCount of its
// queue's redrive policy in template.yaml (a template test holds them
// equal).
var MaxReceives = map[string]int{"ingest": 5, "push": 5, "shipments": 5, "notify": 8, "orderchange": 5}

// retrier is the retry policy of a function consuming q: the last failed
// receive records an exception before the message moves to the dead-letter
// queue.
func (d *Deps) retrier(function string, q *sqs.Queue) *lambdaio.Retrier {
	maxReceives := MaxReceives[function]
	return &lambdaio.Retrier{
		Visibility: q, Requeue: q, Policy: retry.Default, Log: d.Log, MaxReceives: maxReceives,
		GiveUp: func(ctx context.Context, m events.SQSMessage, cause error) {
			kind := errs.KindOf(cause)
			if kind == errs.Other {
				kind = errs.Transient
			}
			e := ledger.Exception{
				ID: ledger.ExceptionID("dlq", m.MessageId), Kind: kind.String(), Op: function,
				Message: fmt.Sprintf("moved to the dead-letter queue after %d receives: %v", maxReceives, cause),
				At:      time.Now().UTC(),
			}
			if err := d.Ledger.RecordException(ctx, e); err != nil {
				d.Log.ErrorContext(ctx, "could not record the dead-letter exception", "error", err.Error())
			}
		},
	}
}

// clock is the sweep's clock: real time, or, with EnvClockSpeedUp on the
// local stack, time running that many times faster from now on.
func (d *Deps) clock() func() time.Time {
	f := d.speedUp(EnvClockSpeedUp)
	if f <= 1 {
		return time.Now
	}
	start := time.Now()
	return func() time.Time {
		return start.Add(time.Duration(float64(time.Since(start)) * f))
	}
}

// speedUp reads a local-only speed-up factor from env; 1 (real time) when
// unset or not a number.
func (d *Deps) speedUp(env string) float64 {
	var f float64
	if _, err := fmt.Sscan(d.getenv(env), &f); err != nil || f <= 1 {
		return 1
	}
	return f
}

// Must is for mains: it returns h or exits with the error logged.
func Must(h lambda.Handler, err error) lambda.Handler {
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "error", err.Error())
		os.Exit(1)
	}
	return h
}

// clients caches per-store and per-account API clients and their
// credentials for the life of the process.
type clients struct {
	deps *Deps
	mu   sync.Mutex
	bc   map[string]*bcStore
	ss   map[string]*shipstation.Client
}
