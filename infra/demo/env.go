// Package demo runs shiprelay end to end on one machine: the sandbox
// (simulated BigCommerce, Amazon and ShipStation), the local runner with every
// function from template.yaml, DynamoDB Local and the SQS emulator. It is
// what `make run` shows, what `make bench` measures and what the end-to-end
// tests drive.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shiprelay/shiprelay/infra/runner"
	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/app"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// Names of the demo's store and credentials. They are sandbox values, not
// secrets of anyone's.
const (
	StoreID        = "bc-main"
	StoreHash      = "abc123xyz"
	bcToken        = "demo-bigcommerce-token"
	webhookHeader  = "X-Webhook-Secret"
	webhookSecret  = "local-webhook-secret"
	ssKey          = "demo-shipstation-key"
	ssSecret       = "demo-shipstation-secret"
	ssToken        = "local-shipstation-token"
	ShipStationID  = 22766
	shipStationAcc = "main"

	// AmazonUSStore and AmazonJPStore are the two marketplaces of the
	// sandbox's one Amazon seller, each mapped to its own ShipStation store
	// of the same account. They share one credentials secret.
	AmazonUSStore         = "amazon-us"
	AmazonJPStore         = "amazon-jp"
	AmazonUSShipStationID = 22767
	AmazonJPShipStationID = 22768
	amazonSecret          = "shiprelay/amazon/" + sandbox.DefaultAmazonSellerID
	// DefaultAmazonSpeedUp multiplies Amazon's refill rates (searchOrders
	// then refills in about 3 s instead of 3 minutes); bursts are real.
	DefaultAmazonSpeedUp = 60
	// DefaultClockSpeedUp is the demo's redaction clock: 14 days (an
	// unshipped Amazon order's redaction) pass in about 45 s, one hour (the
	// sweep's period) in about 133 ms.
	DefaultClockSpeedUp = 14 * 24 * 3600 / 45
)

// EnvOptions configure Up.
type EnvOptions struct {
	// TemplatePath is template.yaml (default: found from the working directory up).
	TemplatePath string
	// HTTPAddr is the runner's address (default 127.0.0.1:3000; tests use 127.0.0.1:0).
	HTTPAddr string
	// Seed makes the sandbox reproducible.
	Seed uint64
	// BigCommerceQuota is requests per 30 s (default 450, BigCommerce Pro).
	BigCommerceQuota int
	// ShipStationQuota is requests per minute of the ShipStation account,
	// in the sandbox and in the functions' budget (default 40, ShipStation's).
	ShipStationQuota int
	// PollEvery overrides the poll schedule (default 10 s); 0 keeps it.
	PollEvery time.Duration
	// DisableSchedules turns the timed poll off (tests fire it by hand).
	DisableSchedules bool
	// Faults of each simulated server.
	BigCommerceFaults, ShipStationFaults sandbox.Faults
	// Warehouse ships pushed orders after WarehouseDelay (split, combined,
	// voided and re-labelled per WarehouseFaults) and fires SHIP_NOTIFY.
	Warehouse       bool
	WarehouseDelay  time.Duration
	WarehouseFaults sandbox.WarehouseFaults
	// LogWriter receives every function's JSON logs (default: discarded).
	LogWriter io.Writer
	// TableName and QueuePrefix isolate one Env from another (defaults are
	// unique per Up call, so tests can run several).
	TableName, QueuePrefix string

	// AmazonSpeedUp multiplies the sandbox Amazon's refill rates and, through
	// SHIPRELAY_AMAZON_SPEEDUP, the functions' Amazon budgets (default
	// DefaultAmazonSpeedUp; bursts stay Amazon's).
	AmazonSpeedUp float64
	// AmazonFaults are the SP-API's fault knobs (429s, 5xx, latency).
	AmazonFaults sandbox.Faults
	// AmazonNotify are the ORDER_CHANGE knobs: dropped, duplicated and
	// reordered notifications.
	AmazonNotify sandbox.AmazonNotifyKnobs
	// NoOrderChangePump leaves the sandbox's ORDER_CHANGE messages where
	// they are: the caller delivers them (DeliverOrderChanges,
	// PumpOrderChanges). By default a pump sends them to the
	// OrderChangeQueue every OrderChangeEvery, as Amazon does.
	NoOrderChangePump bool
	// OrderChangeEvery is the pump's period (default 200 ms).
	OrderChangeEvery time.Duration

	// ClockSpeedUp runs the redaction sweep's clock that many times faster
	// than real time from the runner's start (SHIPRELAY_CLOCK_SPEEDUP), so
	// that Amazon buyer data falls due within the run; 0 or 1 is real time
	// (the variable is then unset for the functions, whatever the process
	// environment says). The demo uses DefaultClockSpeedUp.
	ClockSpeedUp float64
	// RedactEvery is the redact schedule's period. By default it is real
	// time's (the template's hourly rate); with ClockSpeedUp, three
	// quarters of a simulated hour (100 ms at DefaultClockSpeedUp), never
	// less than 20 ms: the hourly sweep on the accelerated clock, with room
	// for timer jitter. Sweeps run one at a time, as hourly ones do (see
	// Env.RedactLateness).
	RedactEvery time.Duration
}

// Env is a running local shiprelay with its sandbox.
type Env struct {
	Sandbox *sandbox.Sandbox
	// Amazon is the simulated Selling Partner API (one seller, two
	// marketplaces: AmazonUSStore and AmazonJPStore).
	Amazon *sandbox.Amazon
	Runner *runner.Runner
	Ledger *dynamo.Ledger
	BCURL  string
	SSURL  string
	// AmazonURL is the SP-API endpoint, AmazonLWAURL the LWA host.
	AmazonURL, AmazonLWAURL string
	Dir                     string

	servers  []*http.Server
	cancel   context.CancelFunc
	awsCfg   aws.Config
	pumpDone chan struct{}
	changes  orderChanges
	// Getenv is the process environment the functions see beyond their
	// template variables (the secrets file, the log level).
	Getenv func(string) string

	// ClockSpeedUp is the redaction sweep's clock factor (1: real time).
	ClockSpeedUp float64
	// RedactEvery is the redact schedule's local period (0: the template's).
	RedactEvery time.Duration
	// clockStart is when the redact function's clock started (just after
	// its handler was built, as app's clock starts while it is built).
	clockStart time.Time

	// tap counts what the functions log (see LogCounts).
	tap *logTap
	// dedupeAmazon are the Amazon orders of DedupeTraffics, checked by
	// CheckDedupe rather than CheckAmazon.
	dedupeMu     sync.Mutex
	dedupeAmazon map[string]bool
}

// FindTemplate walks up from the working directory to template.yaml.
func FindTemplate() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("template.yaml not found above the working directory")
		}
		dir = parent
	}
}

func serve(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

// Up starts the sandbox and the runner against the local stack
// (AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS must point at it).
func Up(ctx context.Context, o EnvOptions) (*Env, error) {
	for _, v := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"} {
		if os.Getenv(v) == "" {
			return nil, fmt.Errorf("%s is not set: start the local stack first (eval \"$(infra/local/stack.sh start)\")", v)
		}
	}
	if o.TemplatePath == "" {
		p, err := FindTemplate()
		if err != nil {
			return nil, err
		}
		o.TemplatePath = p
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = runner.DefaultHTTPAddr
	}
	if o.BigCommerceQuota == 0 {
		o.BigCommerceQuota = 450
	}
	if o.LogWriter == nil {
		o.LogWriter = io.Discard
	}
	tap := &logTap{w: o.LogWriter}
	o.LogWriter = tap
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	if o.TableName == "" {
		o.TableName = "shiprelay-demo-" + suffix
	}
	if o.QueuePrefix == "" {
		o.QueuePrefix = "shiprelay-demo-" + suffix + "-"
	}

	e := &Env{tap: tap}
	ctx, e.cancel = context.WithCancel(ctx)
	ok := false
	defer func() {
		if !ok {
			e.Down()
		}
	}()
	e.Sandbox = sandbox.New(sandbox.Options{
		Seed:              o.Seed,
		Stores:            []sandbox.StoreConfig{{Hash: StoreHash, StoreID: "1001234567", Tokens: []string{bcToken}}},
		ShipStationKeys:   []sandbox.KeyPair{{Key: ssKey, Secret: ssSecret}},
		ShipStationQuota:  o.ShipStationQuota,
		BigCommerceQuota:  o.BigCommerceQuota,
		BigCommerceFaults: o.BigCommerceFaults,
		ShipStationFaults: o.ShipStationFaults,
		WarehouseEnabled:  o.Warehouse,
		WarehouseDelay:    o.WarehouseDelay,
		WarehouseFaults:   o.WarehouseFaults,
		WarehouseBatches:  true,
	})
	bc, bcURL, err := serve(e.Sandbox.BigCommerce())
	if err != nil {
		return nil, err
	}
	ss, ssURL, err := serve(e.Sandbox.ShipStation())
	if err != nil {
		return nil, err
	}
	e.servers = []*http.Server{bc, ss}
	e.Sandbox.SetShipStationBaseURL(ssURL)
	e.BCURL, e.SSURL = bcURL, ssURL

	if o.AmazonSpeedUp <= 0 {
		o.AmazonSpeedUp = DefaultAmazonSpeedUp
	}
	e.Amazon = sandbox.NewAmazon(sandbox.AmazonOptions{
		Seed: o.Seed, SpeedUp: o.AmazonSpeedUp, Faults: o.AmazonFaults,
	})
	e.Amazon.SetNotifyKnobs(o.AmazonNotify)
	sp, spURL, err := serve(e.Amazon.Handler())
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, sp)
	lwa, lwaURL, err := serve(e.Amazon.LWAHandler())
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, lwa)
	e.AmazonURL, e.AmazonLWAURL = spURL, lwaURL

	if e.Dir, err = os.MkdirTemp("", "shiprelay-demo-"); err != nil {
		return nil, err
	}
	cfgPath, secPath, err := writeConfig(e.Dir, configURLs{bc: bcURL, ss: ssURL, amazon: spURL, lwa: lwaURL}, o.BigCommerceQuota, o.ShipStationQuota)
	if err != nil {
		return nil, err
	}
	speedUp := strconv.FormatFloat(o.AmazonSpeedUp, 'f', -1, 64)
	e.ClockSpeedUp, e.RedactEvery = 1, o.RedactEvery
	clockSpeedUp := ""
	if o.ClockSpeedUp > 1 {
		e.ClockSpeedUp = o.ClockSpeedUp
		clockSpeedUp = strconv.FormatFloat(o.ClockSpeedUp, 'f', -1, 64)
		if e.RedactEvery <= 0 {
			e.RedactEvery = max(20*time.Millisecond, time.Duration(float64(redaction.SweepInterval)*0.75/o.ClockSpeedUp))
		}
	}

	getenv := func(k string) string {
		switch k {
		case app.EnvSecretsFile:
			return secPath
		case app.EnvLogLevel:
			return "INFO"
		case app.EnvAmazonSpeedUp:
			return speedUp
		case app.EnvClockSpeedUp:
			return clockSpeedUp
		}
		return os.Getenv(k)
	}
	e.Getenv = getenv
	// Function logs go where the caller says; app.Load logs to os.Stderr,
	// so the factory swaps the writer through the logger it builds.
	factory := func(fn string, fnenv func(string) string) (lambda.Handler, error) {
		d, err := app.LoadWith(ctx, fnenv, o.LogWriter)
		if err != nil {
			return nil, err
		}
		h, err := d.Handler(fn)
		if fn == "redact" && err == nil {
			// The sweep's clock starts while its handler is built: now is
			// at most a few microseconds later (SimNow runs that little
			// behind it, never ahead).
			e.clockStart = time.Now()
			if e.ClockSpeedUp > 1 {
				h = &oneSweepAtATime{h: h}
			}
		}
		return h, err
	}
	cfg := runner.Config{
		TemplatePath:     o.TemplatePath,
		Parameters:       map[string]string{"ConfigSecretName": "file:" + cfgPath},
		Factory:          factory,
		HTTPAddr:         o.HTTPAddr,
		TableName:        o.TableName,
		QueuePrefix:      o.QueuePrefix,
		DisableSchedules: o.DisableSchedules,
		Getenv:           getenv,
		Logger:           slog.New(slog.NewJSONHandler(o.LogWriter, nil)),
	}
	cfg.ScheduleEvery = map[string]time.Duration{}
	if o.PollEvery > 0 {
		cfg.ScheduleEvery["poll"] = o.PollEvery
	}
	if e.RedactEvery > 0 {
		cfg.ScheduleEvery["redact"] = e.RedactEvery
	}
	if e.Runner, err = runner.New(cfg); err != nil {
		return nil, err
	}
	if err := e.Runner.Start(ctx); err != nil {
		e.Runner = nil // nothing to wait for
		return nil, err
	}
	if _, err := e.Sandbox.AddWebhook(sandbox.WebhookDestination{
		StoreHash: StoreHash,
		URL:       e.Runner.URL() + "/webhooks/bigcommerce/" + StoreID,
		Headers:   map[string]string{webhookHeader: webhookSecret},
	}); err != nil {
		return nil, err
	}
	if _, err := e.Sandbox.AddShipStationWebhook(e.Runner.URL()+"/webhooks/shipstation/"+shipStationAcc+"/"+ssToken, "SHIP_NOTIFY"); err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	e.awsCfg = awsCfg
	e.Ledger = dynamo.New(dynamo.NewClient(awsCfg), e.Runner.TableName("Table"))
	if !o.NoOrderChangePump {
		every := o.OrderChangeEvery
		if every <= 0 {
			every = 200 * time.Millisecond
		}
		e.pumpDone = make(chan struct{})
		go e.pump(ctx, every)
	}
	ok = true
	return e, nil
}

// configURLs are the simulated servers writeConfig points the stores at.
type configURLs struct{ bc, ss, amazon, lwa string }

// AmazonStoreSetup is how the demo configures one Amazon marketplace.
type AmazonStoreSetup struct {
	ID            string
	MarketplaceID string
	ShipStationID int
	ImportFBA     bool
	// Confirm is the confirmation policy (config.ConfirmFirstOnly or
	// config.ConfirmEveryPackage).
	Confirm string
}

// AmazonStores are the demo's two Amazon stores: one seller on amazon.com
// (FBA orders imported, the first package confirmed) and amazon.co.jp (FBA
// orders left alone, every package confirmed).
var AmazonStores = []AmazonStoreSetup{
	{ID: AmazonUSStore, MarketplaceID: sandbox.AmazonMarketplaceUS, ShipStationID: AmazonUSShipStationID, ImportFBA: true, Confirm: config.ConfirmFirstOnly},
	{ID: AmazonJPStore, MarketplaceID: sandbox.AmazonMarketplaceJP, ShipStationID: AmazonJPShipStationID, ImportFBA: false, Confirm: config.ConfirmEveryPackage},
}

// AmazonStore returns the setup of a demo Amazon store (nil if unknown).
func AmazonStore(id string) *AmazonStoreSetup {
	for i := range AmazonStores {
		if AmazonStores[i].ID == id {
			return &AmazonStores[i]
		}
	}
	return nil
}

func writeConfig(dir string, u configURLs, bcQuota, ssQuota int) (cfgPath, secPath string, err error) {
	if ssQuota <= 0 {
		ssQuota = 40
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by the demo: one BigCommerce store, one Amazon seller on two
# marketplaces and one ShipStation account, all simulated.
settings:
  pollOverlap: 2m
  initialLookback: 1h
  labelPullInterval: 15s
  verifyAfter: 10s
  reconcileAfter: 1m
shipstation:
  - id: %s
    credentialsSecret: shiprelay/shipstation/%s
    baseURL: %s
    requestsPerMinute: %d
    rules:
      # Automation rules, so that the summary shows their decisions:
      # custom field 3 marks bulk BigCommerce orders and the copies of
      # marketplace orders (neither changes what ShipStation ships).
      - name: Bulk orders
        when:
          - {field: marketplace, op: equals, value: BigCommerce}
          - {field: itemCount, op: greater, value: 3}
        then:
          customField: {3: bulk}
      - name: Marketplace copies
        when:
          - {field: source, op: in, values: [Amazon, eBay]}
        then:
          customField: {3: marketplace copy}
stores:
  - id: %s
    channel: bigcommerce
    baseURL: %s
    credentialsSecret: shiprelay/bigcommerce/%s
    bigcommerce:
      storeHash: %s
      requestsPer30s: %d
      webhookHeader: %s
    shipstation:
      account: %s
      storeId: %d
`, shipStationAcc, shipStationAcc, u.ss, ssQuota, StoreID, u.bc, StoreID, StoreHash, bcQuota, webhookHeader, shipStationAcc, ShipStationID)
	for _, st := range AmazonStores {
		fmt.Fprintf(&b, `  - id: %s
    channel: amazon
    baseURL: %s
    credentialsSecret: %s
    amazon:
      sellerId: %s
      marketplaceId: %s
      lwaURL: %s
      importFBA: %t
      confirm: %s
    shipstation:
      account: %s
      storeId: %d
`, st.ID, u.amazon, amazonSecret, sandbox.DefaultAmazonSellerID, st.MarketplaceID, u.lwa, st.ImportFBA, st.Confirm, shipStationAcc, st.ShipStationID)
	}
	sec := map[string]any{
		"shiprelay/shipstation/" + shipStationAcc: map[string]string{"apiKey": ssKey, "apiSecret": ssSecret, "webhookToken": ssToken},
		"shiprelay/bigcommerce/" + StoreID:        map[string]string{"accessToken": bcToken, "webhookSecret": webhookSecret},
		amazonSecret: map[string]string{"clientId": sandbox.DefaultAmazonClientID, "clientSecret": sandbox.DefaultAmazonClientSecret,
			"refreshToken": sandbox.DefaultAmazonRefreshToken},
	}
	secJSON, _ := json.MarshalIndent(sec, "", "  ")
	cfgPath = filepath.Join(dir, "shiprelay.yaml")
	secPath = filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(secPath, secJSON, 0o600); err != nil {
		return "", "", err
	}
	return cfgPath, secPath, nil
}

// WebhookURL is where the sandbox store's webhooks go.
func (e *Env) WebhookURL() string { return e.Runner.URL() + "/webhooks/bigcommerce/" + StoreID }

// WebhookHeaders are the headers a genuine delivery carries.
func WebhookHeaders() map[string]string { return map[string]string{webhookHeader: webhookSecret} }

// Down stops everything Up started.
func (e *Env) Down() {
	if e.cancel != nil {
		e.cancel()
	}
	if e.pumpDone != nil {
		<-e.pumpDone
	}
	if e.Runner != nil {
		_ = e.Runner.Wait()
	}
	if e.Sandbox != nil {
		e.Sandbox.Close()
	}
	if e.Amazon != nil {
		e.Amazon.Close()
	}
	for _, s := range e.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.Shutdown(ctx)
		cancel()
	}
	if e.Dir != "" && strings.Contains(e.Dir, "shiprelay-demo-") {
		_ = os.RemoveAll(e.Dir)
	}
}

func (e *Env) sqsClient() *awssqs.Client { return awssqs.NewFromConfig(e.awsCfg) }

// SimNow is the redaction sweep's clock now: real time, or with
// ClockSpeedUp, the runner's start plus the time since, that many times
// over (as app's clock computes it).
func (e *Env) SimNow() time.Time { return e.simAt(time.Now()) }

// simAt is the sweep's clock at real time t.
func (e *Env) simAt(t time.Time) time.Time {
	if e.ClockSpeedUp <= 1 || e.clockStart.IsZero() {
		return t
	}
	return e.clockStart.Add(time.Duration(float64(t.Sub(e.clockStart)) * e.ClockSpeedUp))
}

// RedactLateness is how late after its due time a redaction may come: one
// sweep interval (an hour) on the sweep's clock, or, when the local
// schedule's period on that clock is longer than three quarters of that,
// four thirds of it (room for timer jitter, as the default period leaves).
// Later is overdue.
func (e *Env) RedactLateness() time.Duration {
	return max(redaction.SweepInterval, time.Duration(float64(e.RedactEvery)*e.ClockSpeedUp*4/3))
}

// oneSweepAtATime runs the redact function's sweeps one after the other
// when its schedule is accelerated: an hourly sweep never overlaps the
// next, but at a sweep every 100 ms a sweep redacting many orders would
// (sweeps racing for the same orders would record the later one's time).
// A firing that finds one sweep running and another waiting is skipped.
type oneSweepAtATime struct {
	h       lambda.Handler
	mu      sync.Mutex
	waiting atomic.Bool
}

func (o *oneSweepAtATime) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if !o.waiting.CompareAndSwap(false, true) {
		return []byte(`{"skipped":true}`), nil
	}
	o.mu.Lock()
	o.waiting.Store(false)
	defer o.mu.Unlock()
	return o.h.Invoke(ctx, payload)
}
