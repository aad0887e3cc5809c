package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/infra/ops"
	"github.com/shiprelay/shiprelay/shared/config"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usageText = `usage: shiprelay [target] <command> [flags]

Target (one of; the AWS ones use the default credential chain, i.e. your own
credentials, and need the matching IAM permissions):
  -stack NAME            read TableName and the *QueueUrl/*DLQUrl Outputs of
                         the CloudFormation stack (cloudformation:DescribeStacks)
  -table T -queue Id=URL explicit ledger table and queue URLs (-queue repeats;
                         both also override what -stack found)
  -local                 the local stack (AWS_ENDPOINT_URL_DYNAMODB/_SQS), named
                         as the local runner does: table shiprelay-local, queues
                         shiprelay-local-<LogicalId> (-table, -prefix override)
  -region R, -profile P  AWS region and shared-config profile
  -json                  JSON for scripts instead of aligned text

Commands:
  exceptions [-limit N]
      Exception records, newest first: time, id, kind, op, store, order,
      message (PII-free by construction). -limit 0 lists all (default 50).
  dlq [-n N]
      Each dead-letter queue (IngestDLQ, PushDLQ, ShipmentsDLQ,
      NotifyBigCommerceDLQ): depth and its first N messages (id, receive
      count, first receive, body: ids only). Listing receives each message and
      makes it visible again at once (SQS counts that as a receive).
  replay dlq QUEUE [-max N] [-dry-run]
      Move messages from a DLQ back to its source queue (IngestDLQ→IngestQueue,
      PushDLQ→PushQueue, ShipmentsDLQ→ShipmentsQueue,
      NotifyBigCommerceDLQ→NotifyBigCommerceQueue): send, then delete, so
      at-least-once; every consumer is idempotent, so a duplicate is harmless.
      A push re-reads the ledger and upserts by orderKey (one ShipStation
      order however often it is replayed). A replayed notify never
      re-confirms a confirmation that succeeded: the notify function acks a
      message whose notification is no longer planned (shared/notify,
      Service.Process), and the ledger never changes a confirmed notification.
      -max 0 (default) moves until the DLQ is empty; -dry-run lists what would
      move and moves none.
  replay exception ID
      Re-drive the work behind one exception where that is meaningful: an
      order in exception goes back to pending (history event "replayed", by
      operator) and one push of the ledger's current version is queued; an
      order already in ShipStation at that version goes back to pushed; a
      pending order gets one push; otherwise nothing. Prints what it did.
  stores [-config FILE] [-store ID]... [-paused]
      Pause status of the configured stores (-config, the YAML configuration)
      and/or the named ones; -paused shows only paused stores.
  stores resume ID
      Clear a store's pause (after re-authorising shiprelay with the channel).
  stores reimport ID -config FILE -from YYYY-MM-DD[THH:MM:SSZ]
      Reset the store's import date: the next scheduled poll re-reads every
      order changed since then (orders the ledger already holds at that
      version are skipped, so nothing is pushed twice).

Exit codes: 0 ok, 1 error, 2 usage.
`

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// run runs the CLI and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &options{queues: queueFlag{}}
	err := dispatch(ctx, o, args, stdout)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usageText)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "shiprelay: %s\n(shiprelay -h for the usage)\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "shiprelay: %v\n", err)
		return exitError
	}
}

// newFlags returns a flag set that reports its errors instead of printing
// them, with the common flags registered.
func newFlags(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.register(fs)
	return fs
}

// parse parses args with fs, letting flags and positional arguments mix
// ("replay dlq PushDLQ -max 5"), and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func dispatch(ctx context.Context, o *options, args []string, w io.Writer) error {
	global := newFlags("shiprelay", o)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	rest := global.Args()
	if len(rest) == 0 {
		return usagef("no command")
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "help":
		return flag.ErrHelp
	case "exceptions":
		return cmdExceptions(ctx, o, rest, w)
	case "dlq":
		return cmdDLQ(ctx, o, rest, w)
	case "replay":
		return cmdReplay(ctx, o, rest, w)
	case "stores":
		return cmdStores(ctx, o, rest, w)
	}
	return usagef("unknown command %q", cmd)
}

func cmdExceptions(ctx context.Context, o *options, args []string, w io.Writer) error {
	fs := newFlags("exceptions", o)
	limit := fs.Int("limit", 50, "most records to list (0: all)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *limit < 0 {
		return usagef("usage: exceptions [-limit N]")
	}
	t, err := o.target(ctx, false)
	if err != nil {
		return err
	}
	es, err := t.Exceptions(ctx, *limit)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(w, es)
	}
	return printExceptions(w, es)
}

func cmdDLQ(ctx context.Context, o *options, args []string, w io.Writer) error {
	fs := newFlags("dlq", o)
	n := fs.Int("n", 10, "messages to show per queue (0: depth only)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *n < 0 {
		return usagef("usage: dlq [-n N]")
	}
	t, err := o.target(ctx, true)
	if err != nil {
		return err
	}
	st, err := t.DLQs(ctx, *n)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(w, st)
	}
	return printDLQs(w, st)
}

func cmdReplay(ctx context.Context, o *options, args []string, w io.Writer) error {
	fs := newFlags("replay", o)
	maxN := fs.Int("max", 0, "replay dlq: most messages to move (0: until the DLQ is empty)")
	dry := fs.Bool("dry-run", false, "replay dlq: list what would move, move nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 2 && pos[0] == "dlq" && *maxN >= 0:
		if _, ok := ops.LookupDLQ(pos[1]); !ok {
			return usagef("%q is not a dead-letter queue (IngestDLQ, PushDLQ, ShipmentsDLQ, NotifyBigCommerceDLQ)", pos[1])
		}
		t, err := o.target(ctx, true)
		if err != nil {
			return err
		}
		res, err := t.ReplayDLQ(ctx, pos[1], *maxN, *dry)
		if perr := output(w, o, res, printDLQReplay); perr != nil {
			return perr
		}
		return err
	case len(pos) == 2 && pos[0] == "exception" && *maxN == 0 && !*dry:
		t, err := o.target(ctx, true)
		if err != nil {
			return err
		}
		res, err := t.ReplayException(ctx, pos[1])
		if err != nil && res.Exception.ID == "" {
			return err
		}
		if perr := output(w, o, res, printExceptionReplay); perr != nil {
			return perr
		}
		return err
	}
	return usagef("usage: replay dlq QUEUE [-max N] [-dry-run] | replay exception ID")
}

func cmdStores(ctx context.Context, o *options, args []string, w io.Writer) error {
	fs := newFlags("stores", o)
	conf := fs.String("config", "", "configuration YAML `file` whose stores to list (file:PATH also accepted)")
	var ids multiFlag
	fs.Var(&ids, "store", "store `id` to list (repeatable)")
	pausedOnly := fs.Bool("paused", false, "list paused stores only")
	from := fs.String("from", "", "reimport: the `date` (YYYY-MM-DD, or RFC 3339) to re-import from")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 2 && pos[0] == "resume" {
		t, err := o.target(ctx, false)
		if err != nil {
			return err
		}
		before, err := t.ResumeStore(ctx, pos[1])
		if err != nil {
			return err
		}
		return output(w, o, resumeResult{StoreID: pos[1], WasPaused: before.Paused, Before: before}, printResume)
	}
	if len(pos) == 2 && pos[0] == "reimport" {
		return storesReimport(ctx, o, pos[1], *conf, *from, w)
	}
	if len(pos) > 0 {
		return usagef("usage: stores [-config FILE] [-store ID]... [-paused] | stores resume ID | stores reimport ID -config FILE -from DATE")
	}
	if *conf != "" {
		data, err := os.ReadFile(strings.TrimPrefix(*conf, "file:"))
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		c, err := config.Parse(data)
		if err != nil {
			return err
		}
		configured := make([]string, 0, len(c.Stores)+len(ids))
		for _, s := range c.Stores {
			configured = append(configured, s.ID)
		}
		ids = append(configured, ids...)
	}
	if len(ids) == 0 {
		return usagef("stores: the ledger keeps no list of stores; give -config FILE or -store ID")
	}
	t, err := o.target(ctx, false)
	if err != nil {
		return err
	}
	sts, err := t.StoreStatuses(ctx, dedupe(ids))
	if err != nil {
		return err
	}
	if *pausedOnly {
		kept := sts[:0]
		for _, s := range sts {
			if s.Paused {
				kept = append(kept, s)
			}
		}
		sts = kept
	}
	return output(w, o, sts, printStores)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

// String implements flag.Value.
func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value.
func (m *multiFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty value")
	}
	*m = append(*m, s)
	return nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// storesReimport resets a configured store's import date.
func storesReimport(ctx context.Context, o *options, storeID, conf, from string, w io.Writer) error {
	if conf == "" || from == "" {
		return usagef("usage: stores reimport ID -config FILE -from YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, from)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, from); err != nil {
			return usagef("stores reimport: -from %q is not YYYY-MM-DD or RFC 3339", from)
		}
	}
	data, err := os.ReadFile(strings.TrimPrefix(conf, "file:"))
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	c, err := config.Parse(data)
	if err != nil {
		return err
	}
	st := c.Store(storeID)
	if st == nil {
		return fmt.Errorf("store %q is not in %s", storeID, conf)
	}
	tg, err := o.target(ctx, false)
	if err != nil {
		return err
	}
	before, err := tg.Reimport(ctx, st.Channel, storeID, t)
	if err != nil {
		return err
	}
	return output(w, o, reimportResult{StoreID: storeID, Channel: string(st.Channel), From: t.UTC(), Before: before}, printReimport)
}
