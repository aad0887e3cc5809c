// Command sandbox serves the simulated BigCommerce and ShipStation V1 APIs
// on two loopback ports, for `make run`, demos and benchmarks.
//
//	go run ./infra/sandbox/cmd/sandbox -bigcommerce-addr 127.0.0.1:4010 -shipstation-addr 127.0.0.1:4020
//
// Admin endpoints under /_sandbox/ on each port drive it (see package sandbox).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shiprelay/shiprelay/infra/sandbox"
)

// headerFlags collects repeated -webhook-header "Name: value" flags.
type headerFlags map[string]string

func (h headerFlags) String() string { return fmt.Sprint(map[string]string(h)) }

func (h headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	h[strings.TrimSpace(name)] = strings.TrimSpace(value)
	return nil
}

func main() {
	log.SetFlags(0)
	bcAddr := flag.String("bigcommerce-addr", "127.0.0.1:4010", "listen address of the BigCommerce API")
	ssAddr := flag.String("shipstation-addr", "127.0.0.1:4020", "listen address of the ShipStation V1 API")
	seed := flag.Uint64("seed", 1, "seed of the order generator and fault rolls")
	storeHash := flag.String("store-hash", sandbox.DefaultStoreHash, "BigCommerce store hash")
	storeID := flag.String("store-id", sandbox.DefaultStoreID, "BigCommerce numeric store id (webhook store_id)")
	bcToken := flag.String("bigcommerce-token", sandbox.DefaultBigCommerceToken, "accepted X-Auth-Token")
	ssKey := flag.String("shipstation-key", sandbox.DefaultShipStationKey, "accepted ShipStation API key")
	ssSecret := flag.String("shipstation-secret", sandbox.DefaultShipStationSecret, "accepted ShipStation API secret")
	timeScale := flag.Float64("time-scale", 1, "divide the default rate-limit windows and webhook retry delays by this factor")
	orders := flag.Int("orders", 0, "random BigCommerce orders to create at start")
	webhookURL := flag.String("webhook-url", "", "register this BigCommerce webhook destination (scope store/order/*)")
	webhookSecret := flag.String("webhook-signing-secret", "", "sign webhooks with Standard Webhooks headers using this secret")
	warehouse := flag.Bool("warehouse", false, "run the ShipStation warehouse: ship awaiting_shipment orders after -warehouse-delay and fire SHIP_NOTIFY")
	warehouseDelay := flag.Duration("warehouse-delay", 0, "how long an order waits before the warehouse ships it (default 2s / time-scale)")
	splitRate := flag.Float64("split-rate", 0, "probability that the warehouse ships an order in 2-3 packages")
	combineRate := flag.Float64("combine-rate", 0, "probability that the warehouse puts orders to the same address on one label")
	voidRate := flag.Float64("void-rate", 0, "probability that the warehouse voids a label and relabels")
	shipNotifyURL := flag.String("ship-notify-url", "", "subscribe this URL to ShipStation SHIP_NOTIFY webhooks")
	headers := headerFlags{}
	flag.Var(headers, "webhook-header", "custom header sent with webhooks, \"Name: value\" (repeatable)")
	flag.Parse()

	opts := sandbox.Options{
		Seed:                 *seed,
		TimeScale:            *timeScale,
		Stores:               []sandbox.StoreConfig{{Hash: *storeHash, StoreID: *storeID, Tokens: []string{*bcToken}}},
		ShipStationKeys:      []sandbox.KeyPair{{Key: *ssKey, Secret: *ssSecret}},
		WebhookSigningSecret: *webhookSecret,
		WarehouseEnabled:     *warehouse,
		WarehouseDelay:       *warehouseDelay,
		WarehouseFaults:      sandbox.WarehouseFaults{SplitRate: *splitRate, CombineRate: *combineRate, VoidRate: *voidRate},
	}
	if *webhookURL != "" {
		opts.Webhooks = []sandbox.WebhookDestination{{URL: *webhookURL, Headers: headers}}
	}
	sb := sandbox.New(opts)
	defer sb.Close()
	if len(sb.Webhooks("")) == 0 && *webhookURL != "" {
		log.Fatalf("sandbox: invalid -webhook-url %q", *webhookURL)
	}

	bcLn, err := net.Listen("tcp", *bcAddr)
	if err != nil {
		log.Fatalf("sandbox: %v", err)
	}
	ssLn, err := net.Listen("tcp", *ssAddr)
	if err != nil {
		log.Fatalf("sandbox: %v", err)
	}
	sb.SetShipStationBaseURL("http://" + ssLn.Addr().String())
	if *shipNotifyURL != "" {
		if _, err := sb.AddShipStationWebhook(*shipNotifyURL, "SHIP_NOTIFY"); err != nil {
			log.Fatalf("sandbox: %v", err)
		}
	}
	servers := []*http.Server{
		{Handler: sb.BigCommerce(), ReadHeaderTimeout: 10 * time.Second},
		{Handler: sb.ShipStation(), ReadHeaderTimeout: 10 * time.Second},
	}
	errc := make(chan error, 2)
	for i, ln := range []net.Listener{bcLn, ssLn} {
		go func() { errc <- servers[i].Serve(ln) }()
	}
	if *orders > 0 {
		if _, err := sb.CreateRandomOrders("", *orders); err != nil {
			log.Fatalf("sandbox: %v", err)
		}
	}
	fmt.Printf("bigcommerce: http://%s/stores/%s  (X-Auth-Token: %s)\n", bcLn.Addr(), *storeHash, *bcToken)
	fmt.Printf("shipstation: http://%s  (Basic %s:%s)\n", ssLn.Addr(), *ssKey, *ssSecret)
	fmt.Printf("admin:       http://%s/_sandbox/stats  http://%s/_sandbox/stats\n", bcLn.Addr(), ssLn.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("sandbox: %v", err)
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
}
