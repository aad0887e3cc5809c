package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/infra/sandbox"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// RedactionReport is what the redaction sweep did by the end of a run, on
// its clock (accelerated by Env.ClockSpeedUp): which Amazon orders were due
// (their ledger RedactionDue at or before the sweep's now), which were
// redacted (RedactedAt) and when. Verify adds what the ledger and the
// sandbox ShipStation hold of the redacted orders. Its texts name orders by
// id: no buyer data.
type RedactionReport struct {
	// SpeedUp is the sweep's clock factor; Simulated the time that clock
	// has run since the runner started.
	SpeedUp   float64
	Simulated time.Duration
	// Lateness is how late a redaction may come (Env.RedactLateness).
	Lateness time.Duration
	// Scheduled: orders the schedule applies to with a due time.
	Scheduled int
	// Due: of those, due by the end of the run (or redacted); Done:
	// redacted; Pending: due less than Lateness ago and not redacted yet
	// (the next sweep's); Later: not due yet.
	Due, Done, Pending, Later int
	// MaxLate is the latest redaction after its due time (sweep's clock).
	MaxLate time.Duration
	// Overdue: redacted more than Lateness after the due time. Undone:
	// due longer than that ago and not redacted (overdue too, unless a
	// sweep is redacting it as it is read: its time is the sweep's start).
	// Early: redacted before the due time. All must be empty.
	Overdue, Undone, Early []string

	// Verified says Verify ran (at the end of the run).
	Verified bool
	// LedgerChecked: redacted orders whose ledger Personal reads
	// redaction.Redacted and none of whose ledger items holds a buyer value.
	LedgerChecked int
	// NoBuyerData: redacted orders the ledger held no buyer data for (FBA).
	NoBuyerData int
	// Resent: redacted orders whose ShipStation copy was open and now holds
	// the redacted text; ShippedKept: those whose copy had shipped (or been
	// cancelled), which ShipStation's V1 API cannot change; NotInShipStation:
	// never pushed (pending, cancelled while pending); ShipStationNoData:
	// whose copy never held buyer data (FBA).
	Resent, ShippedKept, NotInShipStation, ShipStationNoData int
	// Problems found by Verify.
	Problems []string
}

// OK reports whether every due redaction was done in time, none early,
// and nothing of a redacted order's buyer data is left where it can be changed.
func (r RedactionReport) OK() bool {
	return len(r.Overdue) == 0 && len(r.Undone) == 0 && len(r.Early) == 0 && len(r.Problems) == 0
}

// Issues lists everything wrong, overdue first.
func (r RedactionReport) Issues() []string {
	out := append([]string(nil), r.Overdue...)
	out = append(out, r.Undone...)
	out = append(out, r.Early...)
	return append(out, r.Problems...)
}

// redactionApplies: an order Amazon's redaction schedule covers.
func redactionApplies(rec ledger.Record) bool { return redaction.Applies(rec.Order) }

// CheckRedactions builds the report from ledger records (ledgerRecords) at
// the sweep's clock simNow.
func (e *Env) CheckRedactions(recs []ledger.Record, simNow time.Time) RedactionReport {
	r := RedactionReport{SpeedUp: e.ClockSpeedUp, Lateness: e.RedactLateness()}
	if !e.clockStart.IsZero() {
		r.Simulated = simNow.Sub(e.clockStart)
	}
	for _, rec := range recs {
		if !redactionApplies(rec) {
			continue
		}
		due, at := rec.RedactionDue, rec.RedactedAt
		if due.IsZero() {
			if !at.IsZero() {
				r.Early = append(r.Early, fmt.Sprintf("%s: redacted with no due time recorded", rec.Order.ID))
			}
			continue
		}
		r.Scheduled++
		switch {
		case !at.IsZero():
			r.Due++
			r.Done++
			late := at.Sub(due)
			r.MaxLate = max(r.MaxLate, late)
			switch {
			case late < 0:
				r.Early = append(r.Early, fmt.Sprintf("%s: redacted %s before its due time", rec.Order.ID, simDuration(-late)))
			case late > r.Lateness:
				r.Overdue = append(r.Overdue, fmt.Sprintf("%s: redacted %s after its due time (overdue)", rec.Order.ID, simDuration(late)))
			}
		case !due.After(simNow):
			r.Due++
			if since := simNow.Sub(due); since > r.Lateness {
				r.Undone = append(r.Undone, fmt.Sprintf("%s: due %s ago, not redacted (overdue)", rec.Order.ID, simDuration(since)))
			} else {
				r.Pending++
			}
		default:
			r.Later++
		}
	}
	sort.Strings(r.Overdue)
	sort.Strings(r.Undone)
	sort.Strings(r.Early)
	return r
}

// Verify checks every redacted Amazon order: its ledger Personal reads
// redaction.Redacted, none of its ledger items holds one of the sandbox
// order's buyer values (but its Amazon relay e-mail, which is kept), and
// its ShipStation copy, if still open, was sent again without them.
func (e *Env) Verify(ctx context.Context, r *RedactionReport, recs []ledger.Record) error {
	r.Verified = true
	deadline := time.Now().Add(10 * time.Second)
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	ss := map[string][]sandbox.SSOrder{}
	for _, o := range e.Sandbox.ShipStationOrders() {
		if store, id, ok := SplitAmazonOrderKey(o.OrderKey); ok {
			k := AmazonOrderKey(store, id)
			ss[k] = append(ss[k], o)
		}
	}
	for _, rec := range recs {
		if !redactionApplies(rec) || rec.RedactedAt.IsZero() || rec.Order.Channel != order.Amazon {
			continue
		}
		id := rec.Order.ID
		_, store, orderID, err := id.Parse()
		if err != nil {
			problem("%s: %v", id, err)
			continue
		}
		ao, ok := e.Amazon.Order(orderID)
		if !ok {
			problem("%s: redacted, but the sandbox Amazon has no such order", id)
			continue
		}
		values := buyerValues(ao)

		got, err := e.Ledger.Get(ctx, id)
		if err != nil {
			return err
		}
		if p := got.Order.Personal; p == nil {
			r.NoBuyerData++
		} else {
			raw, _ := json.Marshal(p)
			names := p.BillTo.Name == redaction.Redacted
			for _, c := range p.ShipTo {
				names = names && c.Name == redaction.Redacted
			}
			switch {
			case !p.Redacted || !names:
				problem("%s: redacted, but the ledger's buyer data does not read %q", id, redaction.Redacted)
			case containsAny(string(raw), values):
				problem("%s: redacted, but the ledger's buyer data holds a buyer value", id)
			}
		}
		items, err := e.ledgerItems(ctx, id)
		if err != nil {
			return err
		}
		leak := false
		for sk, text := range items {
			if containsAny(text, values) {
				problem("%s: redacted, but its ledger item %s holds a buyer value", id, sk)
				leak = true
			}
		}
		if !leak && got.Order.Personal != nil {
			r.LedgerChecked++
		}

		copies := ss[AmazonOrderKey(store, orderID)]
		if len(copies) == 0 {
			r.NotInShipStation++
			continue
		}
		resent, kept := false, false
		for _, c := range copies {
			raw, _ := json.Marshal(c)
			if containsAny(string(raw), values) && c.OrderStatus != "shipped" && c.OrderStatus != "cancelled" {
				// Open with the buyer's data: its redacted copy may still
				// be on its way (a redaction as the run ended).
				c, raw = e.awaitRedactedCopy(ctx, c, values, deadline)
			}
			switch {
			case !containsAny(string(raw), values):
				resent = resent || strings.Contains(string(raw), redaction.Redacted)
			case c.OrderStatus == "shipped" || c.OrderStatus == "cancelled":
				kept = true
			default:
				problem("%s: redacted, but its ShipStation copy %s is %s and still holds the buyer's data", id, c.OrderKey, c.OrderStatus)
			}
		}
		switch {
		case resent:
			r.Resent++
		case kept:
			r.ShippedKept++
		default:
			r.ShipStationNoData++ // an FBA order's copy: it never held any
		}
	}
	sort.Strings(r.Problems)
	return nil
}

// awaitRedactedCopy re-reads an open ShipStation copy that still holds
// buyer data until it does not, it ships or is cancelled, or the deadline.
func (e *Env) awaitRedactedCopy(ctx context.Context, c sandbox.SSOrder, values []string, deadline time.Time) (sandbox.SSOrder, []byte) {
	for {
		raw, _ := json.Marshal(c)
		if !containsAny(string(raw), values) || c.OrderStatus == "shipped" || c.OrderStatus == "cancelled" || time.Now().After(deadline) {
			return c, raw
		}
		select {
		case <-ctx.Done():
			return c, raw
		case <-time.After(200 * time.Millisecond):
		}
		if o, ok := e.Sandbox.ShipStationOrder(c.OrderKey); ok {
			c = o
		}
	}
}

// buyerValues are a sandbox Amazon order's buyer values that redaction
// replaces: all of PIIValues but Amazon's relay e-mail address (kept).
func buyerValues(o sandbox.AmazonOrder) []string {
	var out []string
	for _, v := range o.PIIValues() {
		if !redaction.IsRelayEmail(v) {
			out = append(out, v)
		}
	}
	return out
}

func containsAny(s string, values []string) bool {
	for _, v := range values {
		if v != "" && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// ledgerItems reads every raw item of an order's partition (the order,
// its buyer data, history and notifications, as shared/dynamo lays them
// out: pk ORDER#<id>), as JSON text by sort key. It reads DynamoDB
// directly: Ledger.Get redacts what it hands out, whatever is stored.
func (e *Env) ledgerItems(ctx context.Context, id order.ID) (map[string]string, error) {
	db := dynamodb.NewFromConfig(e.awsCfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	out := map[string]string{}
	var start map[string]types.AttributeValue
	for {
		res, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName:              aws.String(e.Runner.TableName("Table")),
			KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: "ORDER#" + string(id)},
			},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("read the ledger items of %s: %w", id, err)
		}
		for _, it := range res.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, err
			}
			raw, _ := json.Marshal(m)
			sk, _ := m["sk"].(string)
			out[sk] = string(raw)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// ledgerRecords lists the ledger's orders updated in the last day (every
// order of a run).
func (e *Env) ledgerRecords(ctx context.Context) ([]ledger.Record, error) {
	var out []ledger.Record
	from := time.Now().Add(-24 * time.Hour)
	var page string
	for {
		recs, next, err := e.Ledger.UpdatedBetween(ctx, from, time.Now().Add(time.Minute), 1000, pageOf(page))
		if err != nil {
			return out, err
		}
		out = append(out, recs...)
		if next == "" {
			return out, nil
		}
		page = string(next)
	}
}

// simDuration renders a duration on the sweep's clock: days and hours,
// minutes below a day, seconds below an hour.
func simDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd %dh", days, (d-days*24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.Round(time.Second).String()
}
