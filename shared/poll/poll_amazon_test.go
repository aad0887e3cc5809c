package poll_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/infra/testenv"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/dynamo"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/poll"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// boundedLister reports one change and a window that ends before the one
// asked for, as Amazon's searchOrders does (it ends ≥ 2 minutes before now).
type boundedLister struct {
	lag   time.Duration
	calls int
}

func (l *boundedLister) ModifiedBetween(_ context.Context, _ string, _, to time.Time, page func([]poll.Change) error) (time.Time, error) {
	l.calls++
	if err := page([]poll.Change{{ChannelOrderID: "111-0000001-0000001", ModifiedAt: to.Add(-l.lag - time.Minute)}}); err != nil {
		return time.Time{}, err
	}
	return to.Add(-l.lag), nil
}

const amazonPollCfg = `
settings: {pollOverlap: 10m, initialLookback: 24h}
shipstation:
  - {id: main, credentialsSecret: ss}
stores:
  - id: amz-us
    channel: amazon
    credentialsSecret: amz
    amazon: {sellerId: A3TH9S8BH6GOGM, marketplaceId: ATVPDKIKX0DER, authorizedOn: AUTH}
    shipstation: {account: main}
`

func newAmazonPoll(t *testing.T, authorisedOn string) (*poll.Service, *dynamo.Ledger, *boundedLister, *time.Time) {
	t.Helper()
	cfg, err := config.Parse([]byte(strings.ReplaceAll(amazonPollCfg, "AUTH", authorisedOn)))
	if err != nil {
		t.Fatal(err)
	}
	client, table := testenv.DynamoDB(t)
	led := dynamo.New(client, table)
	l := &boundedLister{lag: 2 * time.Minute}
	now := t0
	svc := &poll.Service{
		Config: cfg, Watermarks: led, Ledger: led, Log: obs.NewLogger(&bytes.Buffer{}, "ERROR"),
		Ingest:  &sqs.Queue{Client: testenv.SQS(t), URL: testenv.Queue(t, "ingest", nil)},
		Listers: map[order.Channel]poll.Lister{order.Amazon: l},
		Now:     func() time.Time { return now },
	}
	return svc, led, l, &now
}

func TestPollWatermarkIsTheWindowTheChannelSearched(t *testing.T) {
	svc, led, _, _ := newAmazonPoll(t, "2026-06-01")
	c := context.Background()
	if err := svc.Run(c); err != nil {
		t.Fatal(err)
	}
	wm, err := led.Watermark(c, poll.WatermarkKey(order.Amazon, "amz-us"))
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(-2 * time.Minute); !wm.Equal(want) {
		t.Fatalf("watermark %v, want the searched window's end %v (not the time asked for)", wm, want)
	}
}

func TestPollSkipsAPausedStoreAndKeepsItsWatermark(t *testing.T) {
	svc, led, l, now := newAmazonPoll(t, "2026-06-01")
	c := context.Background()
	if err := svc.Run(c); err != nil {
		t.Fatal(err)
	}
	key := poll.WatermarkKey(order.Amazon, "amz-us")
	before, _ := led.Watermark(c, key)
	if _, err := led.PauseStore(c, "amz-us", "re-authorisation required", *now); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Minute)
	if err := svc.Run(c); err != nil {
		t.Fatal(err)
	}
	if l.calls != 1 {
		t.Errorf("a paused store was polled (%d calls)", l.calls)
	}
	if after, _ := led.Watermark(c, key); !after.Equal(before) {
		t.Errorf("watermark moved while paused: %v → %v", before, after)
	}
	if err := led.ResumeStore(c, "amz-us"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Run(c); err != nil {
		t.Fatal(err)
	}
	if l.calls != 2 {
		t.Errorf("resumed store not polled (%d calls)", l.calls)
	}
}

func TestReauthorisationReminderIsRaisedOnce30DaysAhead(t *testing.T) {
	// Authorised 2025-12-10: due 2026-12-10, reminder from 2026-11-10 on.
	svc, led, _, now := newAmazonPoll(t, "2025-12-10")
	c := context.Background()
	*now = time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC)
	if err := svc.Run(c); err != nil {
		t.Fatal(err)
	}
	if exs, _, _ := led.Exceptions(c, 10, ""); len(exs) != 0 {
		t.Fatalf("reminder raised 31 days ahead: %+v", exs)
	}
	for _, d := range []int{10, 11, 20} {
		*now = time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC)
		if err := svc.Run(c); err != nil {
			t.Fatal(err)
		}
	}
	exs, _, err := led.Exceptions(c, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1 {
		t.Fatalf("%d reminder exceptions, want 1: %+v", len(exs), exs)
	}
	e := exs[0]
	if e.StoreID != "amz-us" || e.Kind != "unauthorised" || !strings.Contains(e.Message, "2026-12-10") || !strings.Contains(e.Message, "Manage Your Apps") {
		t.Errorf("reminder %+v", e)
	}
}

// refusingLister refuses the store's credentials, as Amazon's LWA does on
// invalid_grant.
type refusingLister struct{ calls int }

func (l *refusingLister) ModifiedBetween(context.Context, string, time.Time, time.Time, func([]poll.Change) error) (time.Time, error) {
	l.calls++
	return time.Time{}, errs.Ef(errs.Unauthorised, "amazon.lwa.Token", "HTTP 400: invalid_grant: re-authorise")
}

func TestPollPausesAStoreWhoseCredentialsAreRefused(t *testing.T) {
	svc, led, _, now := newAmazonPoll(t, "2026-06-01")
	l := &refusingLister{}
	svc.Listers[order.Amazon] = l
	c := context.Background()
	if err := svc.Run(c); !errs.Is(err, errs.Unauthorised) {
		t.Fatalf("Run = %v, want the refusal reported", err)
	}
	for range 3 {
		*now = now.Add(5 * time.Minute)
		if err := svc.Run(c); err != nil {
			t.Fatalf("Run on a paused store = %v", err)
		}
	}
	if l.calls != 1 {
		t.Errorf("the channel was called %d times; a paused store is left alone", l.calls)
	}
	if st, _ := led.StoreStatus(c, "amz-us"); !st.Paused {
		t.Error("store not paused")
	}
	if exs, _, _ := led.Exceptions(c, 10, ""); len(exs) != 1 {
		t.Errorf("%d exceptions, want 1: %+v", len(exs), exs)
	}
}
