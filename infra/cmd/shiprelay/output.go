package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shiprelay/shiprelay/infra/ops"
	"github.com/shiprelay/shiprelay/shared/ledger"
)

// maxBody bounds a message body in text output (JSON keeps it whole).
const maxBody = 160

// output writes v as JSON with -json, else with its text printer.
func output[T any](w io.Writer, o *options, v T, text func(io.Writer, T) error) error {
	if o.json {
		return writeJSON(w, v)
	}
	return text(w, v)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// cell makes a value fit one aligned cell: no tabs or line breaks, "-" for
// empty.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}

func clipped(s string, n int) string {
	s = cell(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func printExceptions(w io.Writer, es []ledger.Exception) error {
	if len(es) == 0 {
		_, err := fmt.Fprintln(w, "no exceptions")
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "TIME\tID\tKIND\tOP\tSTORE\tORDER\tMESSAGE")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			fmtTime(e.At), cell(e.ID), cell(e.Kind), cell(e.Op), cell(e.StoreID), cell(string(e.OrderID)), cell(e.Message))
	}
	return tw.Flush()
}

func printMessages(tw io.Writer, msgs []ops.Message) {
	fmt.Fprintln(tw, "  ID\tRECEIVES\tFIRST RECEIVED\tSENT\tBODY")
	for _, m := range msgs {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", cell(m.ID), m.ReceiveCount, fmtTime(m.FirstReceived), fmtTime(m.Sent), clipped(m.Body, maxBody))
	}
}

func printDLQs(w io.Writer, sts []ops.DLQStatus) error {
	tw := table(w)
	fmt.Fprintln(tw, "DLQ\tSOURCE\tVISIBLE\tIN FLIGHT")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", s.Queue, s.Source, s.Visible, s.InFlight)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sts {
		if len(s.Messages) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s, first %d:\n", s.Queue, len(s.Messages))
		tw := table(w)
		printMessages(tw, s.Messages)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func printDLQReplay(w io.Writer, r ops.DLQReplay) error {
	var err error
	if r.DryRun {
		_, err = fmt.Fprintf(w, "dry run: would move %d message%s from %s to %s (none moved)\n", len(r.Messages), plural(len(r.Messages)), r.DLQ, r.Source)
	} else {
		_, err = fmt.Fprintf(w, "moved %d message%s from %s to %s\n", r.Moved, plural(r.Moved), r.DLQ, r.Source)
	}
	if err != nil || len(r.Messages) == 0 {
		return err
	}
	tw := table(w)
	printMessages(tw, r.Messages)
	return tw.Flush()
}

func printExceptionReplay(w io.Writer, r ops.ExceptionReplay) error {
	e := r.Exception
	fmt.Fprintf(w, "exception %s (%s %s", e.ID, cell(e.Op), cell(e.Kind))
	if r.OrderID != "" {
		fmt.Fprintf(w, ", order %s", r.OrderID)
	}
	fmt.Fprintln(w, ")")
	if r.StateBefore != "" {
		if r.StateBefore != r.StateAfter {
			fmt.Fprintf(w, "  order state: %s -> %s\n", r.StateBefore, r.StateAfter)
		} else {
			fmt.Fprintf(w, "  order state: %s\n", r.StateBefore)
		}
	}
	switch r.Action {
	case ops.ActionPushed:
		fmt.Fprintf(w, "  queued one push (version %s) on PushQueue\n", r.Version.UTC().Format(time.RFC3339Nano))
	case ops.ActionRestored:
		fmt.Fprintln(w, "  no push queued")
	default:
		fmt.Fprintln(w, "  nothing done")
	}
	if r.Note != "" {
		fmt.Fprintf(w, "  %s\n", r.Note)
	}
	return nil
}

func printStores(w io.Writer, sts []ledger.StoreStatus) error {
	if len(sts) == 0 {
		_, err := fmt.Fprintln(w, "no stores to show")
		return err
	}
	tw := table(w)
	fmt.Fprintln(tw, "STORE\tPAUSED\tSINCE\tREASON")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.StoreID, strconv.FormatBool(s.Paused), fmtTime(s.PausedAt), cell(s.Reason))
	}
	return tw.Flush()
}

// resumeResult is what `stores resume` reports.
type resumeResult struct {
	StoreID   string             `json:"storeId"`
	WasPaused bool               `json:"wasPaused"`
	Before    ledger.StoreStatus `json:"before"`
}

func printResume(w io.Writer, r resumeResult) error {
	var err error
	if r.WasPaused {
		_, err = fmt.Fprintf(w, "store %s resumed (paused since %s: %s)\n", r.StoreID, fmtTime(r.Before.PausedAt), cell(r.Before.Reason))
	} else {
		_, err = fmt.Fprintf(w, "store %s was not paused; nothing to do\n", r.StoreID)
	}
	return err
}

type reimportResult struct {
	StoreID string    `json:"storeId"`
	Channel string    `json:"channel"`
	From    time.Time `json:"from"`
	Before  time.Time `json:"before,omitzero"`
}

func printReimport(w io.Writer, r reimportResult) error {
	_, err := fmt.Fprintf(w, "store %s (%s) will re-import orders changed since %s on the next poll (import date was %s)\n",
		r.StoreID, r.Channel, fmtTime(r.From), fmtTime(r.Before))
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
