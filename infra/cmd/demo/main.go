// Command demo is `make run`: it starts the sandbox and every shiprelay
// function on the local stack, sends a steady stream of BigCommerce orders
// plus a flash-sale burst (some webhooks dropped, some duplicated) and
// Amazon orders of every kind on two marketplaces (some ORDER_CHANGE
// notifications dropped, duplicated or out of order), shows live progress
// and prints a summary. With -bench it is `make bench`'s
// end-to-end part; with -config it runs the functions against your own
// configuration and stores, without the sandbox, until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/shiprelay/shiprelay/infra/demo"
	"github.com/shiprelay/shiprelay/infra/sandbox"
)

func main() {
	var (
		keep       = flag.Bool("keep", false, "keep the stack up after the demo (Ctrl-C to stop)")
		ownCfg     = flag.String("config", "", "run against this shiprelay YAML config instead of the sandbox")
		secrets    = flag.String("secrets", "", "with -config: JSON file of secrets (name -> value)")
		bench      = flag.Bool("bench", false, "run the end-to-end benchmarks instead of the demo")
		steady     = flag.Int("steady", 60, "orders in the steady stream")
		rate       = flag.Float64("rate", 2, "steady stream, orders per second")
		burst      = flag.Int("burst", 60, "orders in the flash-sale burst")
		drop       = flag.Float64("drop", 0.05, "fraction of webhooks the sandbox drops")
		dup        = flag.Float64("dup", 0.10, "fraction of webhooks the sandbox duplicates")
		ss429      = flag.Float64("ss429", 0.05, "fraction of ShipStation calls answered 429 on top of its real 40/min limit")
		bc429      = flag.Float64("bc429", 0, "fraction of BigCommerce calls answered 429 on top of its real quota")
		fail5xx    = flag.Float64("5xx", 0.02, "fraction of ShipStation calls answered 5xx")
		bcFail     = flag.Float64("bcfail", 0.20, "fraction of BigCommerce calls failing transiently (5xx, lost responses, 429s)")
		ship       = flag.Bool("ship", true, "run the sandbox warehouse: label pushed orders and relay the shipments back")
		shipWait   = flag.Duration("ship-delay", 15*time.Second, "how long the warehouse waits before labelling an order (time to cancel it)")
		lostSN     = flag.Float64("ship-notify-drop", 0.10, "fraction of SHIP_NOTIFY webhooks lost")
		amzRounds  = flag.Int("amazon", 2, "Amazon rounds: each makes 10 orders on amazon-us and 8 on amazon-jp, of every kind (0: no Amazon traffic)")
		amzDrop    = flag.Float64("amazon-drop", 0, "fraction of ORDER_CHANGE notifications lost while the run's first Amazon orders are made (the poll finds them two minutes later: the run lasts longer)")
		amzDup     = flag.Float64("amazon-dup", 0.15, "fraction of ORDER_CHANGE notifications delivered twice")
		amzReorder = flag.Float64("amazon-reorder", 0.15, "fraction of ORDER_CHANGE notifications delivered before the previous one")
		amzSpeed   = flag.Float64("amazon-speedup", demo.DefaultAmazonSpeedUp, "multiplies Amazon's published refill rates (bursts stay Amazon's)")
		clock      = flag.Float64("clock-speedup", demo.DefaultClockSpeedUp, "runs the redaction sweep's clock this many times faster than real time (the default makes 14 days pass in 45 s; 1: real time)")
		timeout    = flag.Duration("timeout", 170*time.Second, "the demo's time limit")
		seed       = flag.Uint64("seed", 1, "random seed")
		httpAddr   = flag.String("addr", "127.0.0.1:3000", "the runner's HTTP address")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logPath, logFile, err := openLog()
	if err != nil {
		fail(err)
	}
	defer logFile.Close()
	fmt.Printf("function logs: %s\n", logPath)

	if *ownCfg != "" {
		if err := demo.Serve(ctx, *ownCfg, *secrets, *httpAddr, logFile, os.Stdout); err != nil {
			fail(err)
		}
		return
	}
	if *bench {
		if err := demo.Bench(ctx, logFile, os.Stdout); err != nil {
			fail(err)
		}
		return
	}

	env, err := demo.Up(ctx, demo.EnvOptions{
		HTTPAddr: *httpAddr, Seed: *seed, PollEvery: 10 * time.Second, LogWriter: logFile,
		BigCommerceFaults: sandbox.Faults{WebhookDropRate: *drop, WebhookDuplicateRate: *dup,
			Rate429: *bc429, Rate5xx: max(0, *bcFail-*bc429) * 0.8, RateLostResponse: max(0, *bcFail-*bc429) * 0.2},
		ShipStationFaults: sandbox.Faults{Rate429: *ss429, Rate5xx: *fail5xx, WebhookDropRate: *lostSN, WebhookDuplicateRate: *dup},
		Warehouse:         *ship, WarehouseDelay: *shipWait,
		WarehouseFaults: sandbox.WarehouseFaults{SplitRate: 0.15, CombineRate: 0.05, VoidRate: 0.05},
		AmazonSpeedUp:   *amzSpeed,
		ClockSpeedUp:    *clock,
	})
	if err != nil {
		fail(err)
	}
	defer env.Down()
	fmt.Printf("sandbox BigCommerce %s, ShipStation %s; runner %s\n", env.BCURL, env.SSURL, env.Runner.URL())
	fmt.Printf("%d orders at %.1f/s plus a burst of %d; %.0f%% of webhooks dropped, %.0f%% duplicated; %.0f%% of BigCommerce calls fail transiently; ShipStation 429s %.0f%%, 5xx %.0f%%\n",
		*steady, *rate, *burst, *drop*100, *dup*100, *bcFail*100, *ss429*100, *fail5xx*100)
	if *amzRounds > 0 {
		fmt.Printf("sandbox Amazon %s (LWA %s), rates x%g: %d orders on amazon-us (first package confirmed, FBA imported) and %d on amazon-jp (every package confirmed); %d placed before the run with their ORDER_CHANGE lost, %.0f%% of the others lost, %.0f%% duplicated, %.0f%% out of order\n",
			env.AmazonURL, env.AmazonLWAURL, *amzSpeed, demo.AmazonPerRound[demo.AmazonUSStore]**amzRounds, demo.AmazonPerRound[demo.AmazonJPStore]**amzRounds,
			2**amzRounds, *amzDrop*100, *amzDup*100, *amzReorder*100)
	}
	if env.ClockSpeedUp > 1 {
		fmt.Printf("redaction clock x%g: 14 days pass in %.0fs, the hourly sweep runs every %v\n",
			env.ClockSpeedUp, (14*24*time.Hour).Seconds()/env.ClockSpeedUp, env.RedactEvery)
	}
	if *ship {
		fmt.Printf("warehouse labels orders after %v (15%% split, 5%% combined, 5%% voided and re-labelled); %.0f%% of SHIP_NOTIFY lost\n", *shipWait, *lostSN*100)
	}
	sum, err := env.Run(ctx, demo.RunOptions{
		SteadyOrders: *steady, SteadyRate: *rate, BurstOrders: *burst, BurstAfter: 15 * time.Second,
		UpdateFraction: 0.2, Timeout: *timeout, Progress: os.Stdout, Seed: *seed,
		Amazon: demo.AmazonRunOptions{Rounds: *amzRounds, Drop: *amzDrop, Duplicate: *amzDup, Reorder: *amzReorder},
	})
	sum.Print(os.Stdout)
	if err != nil {
		fail(err)
	}
	if *keep {
		fmt.Println("stack kept up: webhooks at " + env.WebhookURL() + "; Ctrl-C to stop")
		<-ctx.Done()
	}
	if !sum.Passed() {
		env.Down()
		os.Exit(1)
	}
}

func openLog() (string, *os.File, error) {
	dir := os.Getenv("SHIPRELAY_CACHE")
	if dir == "" {
		dir = ".cache"
	}
	dir = filepath.Join(dir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	p := filepath.Join(dir, "demo-"+time.Now().UTC().Format("20060102T150405")+".log")
	f, err := os.Create(p)
	return p, f, err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demo:", err)
	os.Exit(1)
}
