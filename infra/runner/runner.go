// Package runner runs shiprelay's whole function set in one process against
// the local stack (DynamoDB Local and the local-aws-sqs emulator), reading
// template.yaml so that routes, queues and schedules have one source of
// truth:
//
//   - every HttpApi route is served over HTTP as API Gateway's HTTP API
//     (payload format 2.0) would;
//   - every SQS event becomes an event source mapping: long-poll, batch
//     (BatchSize, MaximumBatchingWindowInSeconds), invoke, delete what
//     succeeded (ReportBatchItemFailures), at most MaximumConcurrency batches
//     at once; the queues' RedrivePolicy moves poison messages to their DLQ;
//   - every Schedule event fires on its rate(...) or cron(...) expression
//     (or a shorter demo period), and on demand over HTTP;
//   - GET /_runner/status reports queue depths and invocation counts.
//
// Handlers come from a HandlerFactory (shared/app's Build in the binary,
// fakes in tests); each function's environment is its template Environment
// (Globals merged) resolved against the local resources, then the process
// environment.
package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// HandlerFactory builds the handler of one function. function is the
// function's CodeUri directory name ("webhook", "poll", "ingest", "push",
// "reconcile"); getenv returns the function's environment.
type HandlerFactory func(function string, getenv func(string) string) (lambda.Handler, error)

// Defaults of Config.
const (
	DefaultHTTPAddr    = "127.0.0.1:3000"
	DefaultTableName   = "shiprelay-local"
	DefaultQueuePrefix = "shiprelay-local-"
	DefaultStackName   = "shiprelay-local"
	DefaultAccountID   = "123456789012"
	DefaultRegion      = "us-east-1"
	DefaultReceiveWait = time.Second
	// DefaultMaxConcurrency is used for an SQS event without
	// ScalingConfig.MaximumConcurrency.
	DefaultMaxConcurrency = 5
	// MaxPayloadBytes is API Gateway's request payload limit (10 MB).
	MaxPayloadBytes = 10 << 20
)

// Config configures a Runner. Only TemplatePath and Factory are required.
type Config struct {
	// TemplatePath is the SAM template (template.yaml).
	TemplatePath string
	// Parameters overrides template parameter defaults (Name -> value).
	Parameters map[string]string
	// Factory builds the handlers.
	Factory HandlerFactory
	// HTTPAddr is where routes and /_runner/ are served (DefaultHTTPAddr;
	// "127.0.0.1:0" picks a free port, see Addr).
	HTTPAddr string
	// TableName names the local table (DefaultTableName). With several
	// tables in the template, each is TableName-<LogicalId>.
	TableName string
	// QueuePrefix prefixes each queue's logical id to name the local queue
	// (DefaultQueuePrefix).
	QueuePrefix string
	// ScheduleEvery replaces the period of schedules, keyed by function
	// logical id ("PollFunction"), its name without "Function" ("Poll") or
	// its CodeUri directory ("poll").
	ScheduleEvery map[string]time.Duration
	// DisableSchedules turns timed firing off (on-demand firing still works).
	DisableSchedules bool
	// ReceiveWait is the long-poll wait of an idle event source mapping
	// (DefaultReceiveWait; whole seconds, at most 20).
	ReceiveWait time.Duration
	// Region and AccountID feed AWS::Region, AWS::AccountId and the ARNs
	// (default AWS_REGION or DefaultRegion, and DefaultAccountID).
	Region    string
	AccountID string // see Region
	// StackName is AWS::StackName (DefaultStackName).
	StackName string
	// Getenv reads the process environment (os.Getenv); it backs every
	// function's environment after its template variables.
	Getenv func(string) string
	// Logger receives the runner's own logs (default: JSON on stderr).
	Logger *slog.Logger
	// AWS is the SDK configuration for the local endpoints (default:
	// config.LoadDefaultConfig, which honours AWS_ENDPOINT_URL_DYNAMODB and
	// AWS_ENDPOINT_URL_SQS).
	AWS *aws.Config
	// Stdout, when set, receives the endpoint summary Start prints.
	Stdout io.Writer
}

// Runner runs the function set. Create it with New, then Setup (optional:
// Start calls it), Start and Wait, or Run.
type Runner struct {
	cfg  Config
	tpl  *samtemplate.Template
	log  *slog.Logger
	sqs  *sqs.Client
	ddb  *dynamodb.Client
	base context.Context

	functions []*function
	byID      map[string]*function
	routes    []*route
	mappings  []*mapping
	schedules []*scheduleEntry
	queues    map[string]*localQueue
	queueIDs  []string
	tables    map[string]string // logical id -> local table name

	setupDone bool
	started   time.Time
	ln        net.Listener
	srv       *http.Server
	wg        sync.WaitGroup // invocations and loops
	done      chan struct{}
	errMu     sync.Mutex
	runErr    error
}

type function struct {
	fn      samtemplate.Function
	name    string // CodeUri directory
	timeout time.Duration
	env     map[string]string
	handler lambda.Handler
	arn     string

	invocations atomic.Int64
	errors      atomic.Int64
	inFlight    atomic.Int64
}

type localQueue struct {
	q   samtemplate.Queue
	url string
	arn string
	// dlqOf lists the queues that redrive to this one.
	dlqOf []string
}

// New parses the template and prepares the routes, event source mappings
// and schedules. It does not touch the network.
func New(cfg Config) (*Runner, error) {
	if cfg.TemplatePath == "" {
		return nil, errors.New("runner: no template path")
	}
	if cfg.Factory == nil {
		return nil, errors.New("runner: no handler factory")
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = DefaultHTTPAddr
	}
	if cfg.TableName == "" {
		cfg.TableName = DefaultTableName
	}
	if cfg.QueuePrefix == "" {
		cfg.QueuePrefix = DefaultQueuePrefix
	}
	if cfg.StackName == "" {
		cfg.StackName = DefaultStackName
	}
	if cfg.Region == "" {
		cfg.Region = cfg.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.ReceiveWait <= 0 {
		cfg.ReceiveWait = DefaultReceiveWait
	}
	if cfg.ReceiveWait > 20*time.Second {
		cfg.ReceiveWait = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	tpl, err := samtemplate.Parse(cfg.TemplatePath)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	r := &Runner{
		cfg:    cfg,
		tpl:    tpl,
		log:    cfg.Logger.With("component", "runner"),
		byID:   map[string]*function{},
		queues: map[string]*localQueue{},
		tables: map[string]string{},
		done:   make(chan struct{}),
	}
	// Parameters are checked now, so that a bad override fails early.
	if _, err := tpl.ParameterValues(cfg.Parameters); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	if err := r.plan(); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	return r, nil
}

// plan builds the runner's view of the template.
func (r *Runner) plan() error {
	tables, err := r.tpl.Tables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		name := r.cfg.TableName
		if len(tables) > 1 {
			name = r.cfg.TableName + "-" + t.LogicalID
		}
		r.tables[t.LogicalID] = name
	}
	queues, err := r.tpl.Queues()
	if err != nil {
		return err
	}
	for _, q := range queues {
		r.queues[q.LogicalID] = &localQueue{q: q}
		r.queueIDs = append(r.queueIDs, q.LogicalID)
	}
	for _, q := range queues {
		if q.Redrive != nil {
			dlq, ok := r.queues[q.Redrive.DeadLetterQueue]
			if !ok {
				return fmt.Errorf("queue %s: RedrivePolicy names no queue of the template", q.LogicalID)
			}
			dlq.dlqOf = append(dlq.dlqOf, q.LogicalID)
		}
	}
	fns, err := r.tpl.Functions()
	if err != nil {
		return err
	}
	// Parameters only (resources are not known yet) for the numbers and
	// schedule expressions the event sources need.
	pres, err := r.tpl.Resolver(samtemplate.ResolverOptions{
		Parameters: r.cfg.Parameters,
		Pseudo:     samtemplate.PseudoParameters(r.cfg.Region, r.cfg.AccountID, r.cfg.StackName),
	})
	if err != nil {
		return err
	}
	for _, f := range fns {
		if f.Dir == "" {
			return fmt.Errorf("function %s: CodeUri is not a local directory", f.LogicalID)
		}
		timeout, err := f.Timeout.IntOr(pres, 3)
		if err != nil {
			return fmt.Errorf("function %s: Timeout: %w", f.LogicalID, err)
		}
		fn := &function{
			fn:      f,
			name:    f.Dir,
			timeout: time.Duration(timeout) * time.Second,
			arn:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.cfg.Region, r.cfg.AccountID, r.functionName(f.LogicalID)),
		}
		r.functions = append(r.functions, fn)
		r.byID[f.LogicalID] = fn
		for i := range f.Events {
			ev := f.Events[i]
			switch {
			case ev.HttpApi != nil:
				rt, err := newRoute(fn, ev, pres)
				if err != nil {
					return fmt.Errorf("function %s event %s: %w", f.LogicalID, ev.Name, err)
				}
				r.routes = append(r.routes, rt)
			case ev.SQS != nil:
				m, err := r.newMapping(fn, ev, pres)
				if err != nil {
					return fmt.Errorf("function %s event %s: %w", f.LogicalID, ev.Name, err)
				}
				if m != nil {
					r.mappings = append(r.mappings, m)
				}
			case ev.Schedule != nil:
				s, err := r.newSchedule(fn, ev, pres)
				if err != nil {
					return fmt.Errorf("function %s event %s: %w", f.LogicalID, ev.Name, err)
				}
				r.schedules = append(r.schedules, s)
			default:
				r.log.Warn("event type not run locally", "function", f.LogicalID, "event", ev.Name, "type", ev.Type)
			}
		}
	}
	for key := range r.cfg.ScheduleEvery {
		if r.lookup(key) == nil {
			return fmt.Errorf("-schedule-every %s: no such function", key)
		}
	}
	sort.SliceStable(r.routes, func(i, j int) bool { return r.routes[i].specificity() > r.routes[j].specificity() })
	return nil
}

func (r *Runner) functionName(logicalID string) string { return r.cfg.StackName + "-" + logicalID }

// lookup finds a function by logical id, by logical id without the
// "Function" suffix, or by CodeUri directory (case-insensitive).
func (r *Runner) lookup(key string) *function {
	for _, f := range r.functions {
		id := f.fn.LogicalID
		if strings.EqualFold(key, id) || strings.EqualFold(key, strings.TrimSuffix(id, "Function")) || strings.EqualFold(key, f.name) {
			return f
		}
	}
	return nil
}

// Setup creates the tables and the queues (with their dead-letter queues
// and redrive policies) on the local endpoints, resolves every function's
// environment and builds the handlers. It is idempotent on the emulators: a
// table or queue that exists is reused.
func (r *Runner) Setup(ctx context.Context) error {
	if r.setupDone {
		return nil
	}
	if r.cfg.AWS == nil {
		c, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(r.cfg.Region))
		if err != nil {
			return fmt.Errorf("runner: aws config: %w", err)
		}
		r.cfg.AWS = &c
	}
	r.sqs = sqs.NewFromConfig(*r.cfg.AWS)
	r.ddb = dynamodb.NewFromConfig(*r.cfg.AWS, func(o *dynamodb.Options) {
		// DynamoDB Local sends no CRC32 on error responses (aws-sdk-go-v2 #3545).
		o.DisableValidateResponseChecksum = true
	})
	if err := r.createTables(ctx); err != nil {
		return err
	}
	if err := r.createQueues(ctx); err != nil {
		return err
	}
	res, err := r.resolver()
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	for _, f := range r.functions {
		env, err := resolveEnv(f.fn.Environment, res)
		if err != nil {
			return fmt.Errorf("runner: function %s: environment: %w", f.fn.LogicalID, err)
		}
		f.env = env
		h, err := r.cfg.Factory(f.name, r.getenv(f))
		if err != nil {
			return fmt.Errorf("runner: function %s (%s): %w", f.fn.LogicalID, f.name, err)
		}
		if h == nil {
			return fmt.Errorf("runner: function %s (%s): the factory returned no handler", f.fn.LogicalID, f.name)
		}
		f.handler = h
	}
	for _, m := range r.mappings {
		m.queue = r.queues[m.queueID]
	}
	r.setupDone = true
	return nil
}

// getenv is a function's view of the environment: its resolved template
// variables first, then the process environment.
func (r *Runner) getenv(f *function) func(string) string {
	return func(k string) string {
		if v, ok := f.env[k]; ok {
			return v
		}
		return r.cfg.Getenv(k)
	}
}

// resolver maps the template's references to the local resources.
func (r *Runner) resolver() (*samtemplate.MapResolver, error) {
	o := samtemplate.ResolverOptions{
		Parameters: r.cfg.Parameters,
		Pseudo:     samtemplate.PseudoParameters(r.cfg.Region, r.cfg.AccountID, r.cfg.StackName),
		Resources:  map[string]any{},
		Attributes: map[string]any{},
	}
	for id, res := range r.tpl.Resources {
		o.Resources[id] = id
		switch res.Type {
		case samtemplate.TypeTable:
			name := r.tables[id]
			arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", r.cfg.Region, r.cfg.AccountID, name)
			o.Resources[id] = name
			o.Attributes[id+".Arn"] = arn
			o.Attributes[id+".StreamArn"] = arn + "/stream/local"
		case samtemplate.TypeQueue:
			q := r.queues[id]
			o.Resources[id] = q.url
			o.Attributes[id+".Arn"] = q.arn
			o.Attributes[id+".QueueUrl"] = q.url
			o.Attributes[id+".QueueName"] = q.arn[strings.LastIndexByte(q.arn, ':')+1:]
		case samtemplate.TypeFunction:
			o.Resources[id] = r.functionName(id)
			o.Attributes[id+".Arn"] = r.byID[id].arn
			o.Attributes[id+"Role.Arn"] = fmt.Sprintf("arn:aws:iam::%s:role/%s-%sRole", r.cfg.AccountID, r.cfg.StackName, id)
		case samtemplate.TypeHttpApi:
			o.Resources[id] = "local"
			o.Attributes[id+".ApiId"] = "local"
			o.Attributes[id+".ApiEndpoint"] = "http://" + r.cfg.HTTPAddr
		case samtemplate.TypeLogGroup:
			o.Resources[id] = "/aws/local/" + id
			o.Attributes[id+".Arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/local/%s:*", r.cfg.Region, r.cfg.AccountID, id)
		}
	}
	return r.tpl.Resolver(o)
}

func resolveEnv(vars map[string]any, res samtemplate.Resolver) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range vars {
		rv, err := samtemplate.Resolve(v, res)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if rv == samtemplate.NoValue {
			continue
		}
		s, err := samtemplate.ScalarString(rv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = s
	}
	return out, nil
}

// Env returns the resolved template environment of a function (by logical
// id, short name or directory), without the process environment. It is
// available after Setup.
func (r *Runner) Env(function string) map[string]string {
	f := r.lookup(function)
	if f == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range f.env {
		out[k] = v
	}
	return out
}

// QueueURL returns the local URL of the queue with the given logical id
// ("" before Setup or for an unknown id).
func (r *Runner) QueueURL(logicalID string) string {
	if q, ok := r.queues[logicalID]; ok {
		return q.url
	}
	return ""
}

// TableName returns the local name of the table with the given logical id.
func (r *Runner) TableName(logicalID string) string { return r.tables[logicalID] }

// Addr returns the address the HTTP server listens on (after Start).
func (r *Runner) Addr() string {
	if r.ln == nil {
		return r.cfg.HTTPAddr
	}
	return r.ln.Addr().String()
}

// URL returns the runner's base URL, http://<Addr>.
func (r *Runner) URL() string { return "http://" + r.Addr() }

// Start runs Setup if needed, listens on HTTPAddr and starts the event
// source mappings and schedules. It returns once everything runs; the
// runner stops when ctx is cancelled (see Wait).
func (r *Runner) Start(ctx context.Context) error {
	if r.ln != nil {
		return errors.New("runner: already started")
	}
	if err := r.Setup(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", r.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	r.ln = ln
	r.base = context.WithoutCancel(ctx)
	r.started = time.Now()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	if r.cfg.Stdout != nil {
		r.PrintEndpoints(r.cfg.Stdout)
	}
	r.log.Info("runner started", "http", r.URL(), "functions", len(r.functions), "routes", len(r.routes),
		"mappings", len(r.mappings), "schedules", len(r.schedules))

	serveErr := make(chan error, 1)
	go func() { serveErr <- r.srv.Serve(ln) }()
	var loops sync.WaitGroup
	for _, m := range r.mappings {
		loops.Add(1)
		go func() {
			defer loops.Done()
			r.runMapping(ctx, m)
		}()
	}
	if !r.cfg.DisableSchedules {
		for _, s := range r.schedules {
			loops.Add(1)
			go func() {
				defer loops.Done()
				r.runSchedule(ctx, s)
			}()
		}
	}
	go func() {
		var err error
		select {
		case <-ctx.Done():
		case err = <-serveErr:
			r.log.Error("http server stopped", "error", err.Error())
		}
		// Stop taking work, then let in-flight requests and invocations finish.
		sctx, cancel := context.WithTimeout(context.Background(), r.maxTimeout()+5*time.Second)
		if serr := r.srv.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
		cancel()
		loops.Wait()
		r.wg.Wait()
		r.errMu.Lock()
		r.runErr = err
		r.errMu.Unlock()
		r.log.Info("runner stopped")
		close(r.done)
	}()
	return nil
}

func (r *Runner) maxTimeout() time.Duration {
	var m time.Duration
	for _, f := range r.functions {
		m = max(m, f.timeout)
	}
	return m
}

// Wait blocks until the runner has stopped (its context was cancelled) and
// every in-flight invocation has finished.
func (r *Runner) Wait() error {
	<-r.done
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.runErr
}

// Done is closed when the runner has stopped.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Run is Start followed by Wait.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.Start(ctx); err != nil {
		return err
	}
	return r.Wait()
}

// PrintEndpoints writes a human-readable summary of the routes, queues,
// tables, schedules and runner endpoints.
func (r *Runner) PrintEndpoints(w io.Writer) {
	base := r.URL()
	fmt.Fprintf(w, "shiprelay local runner (%s)\n", r.cfg.TemplatePath)
	for _, rt := range r.routes {
		fmt.Fprintf(w, "  route     %-6s %s%s -> %s (%s)\n", rt.method, base, rt.path, rt.fn.fn.LogicalID, rt.fn.name)
	}
	for _, m := range r.mappings {
		fmt.Fprintf(w, "  sqs       %s -> %s (batch %d, window %s, concurrency %d)\n", m.queueID, m.fn.fn.LogicalID, m.batchSize, m.window, m.maxConcurrency)
	}
	for _, s := range r.schedules {
		state := s.describe()
		if r.cfg.DisableSchedules {
			state += ", timed firing off"
		}
		fmt.Fprintf(w, "  schedule  %s.%s %s -> POST %s/_runner/schedules/%s\n", s.fn.fn.LogicalID, s.event, state, base, s.fn.fn.LogicalID)
	}
	for _, id := range r.queueIDs {
		q := r.queues[id]
		kind := ""
		if len(q.dlqOf) > 0 {
			kind = " (dead-letter queue of " + strings.Join(q.dlqOf, ", ") + ")"
		}
		fmt.Fprintf(w, "  queue     %-12s %s%s\n", id, q.url, kind)
	}
	for _, id := range sortedKeys(r.tables) {
		fmt.Fprintf(w, "  table     %-12s %s\n", id, r.tables[id])
	}
	fmt.Fprintf(w, "  status    GET %s/_runner/status\n", base)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
