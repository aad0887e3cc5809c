// Package orderchange is Amazon's push path: the ORDER_CHANGE notifications
// Amazon writes to an SQS queue. Each message is validated, deduplicated by
// its NotificationId (Amazon delivers at least once, and a duplicated
// subscription duplicates every message), routed to the store of its seller
// and marketplace, and handed to ingest, which reads the order with getOrder
// and writes the ledger. The notification's own summary is never applied:
// ingest always reads the order's current state, and the ledger never lets
// an older version overwrite a newer one, so a message delivered late or out
// of order cannot roll an order back. Its change time rides along so that
// ingest skips the getOrder call when the ledger already holds that version.
package orderchange

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/shared/amazon"
	"github.com/shiprelay/shiprelay/shared/config"
	"github.com/shiprelay/shiprelay/shared/lambdaio"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/obs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/queue"
)

// Ledger is what the function needs of the ledger.
type Ledger interface {
	ledger.Store
	ledger.Claims
}

// Service is the ORDER_CHANGE function.
type Service struct {
	Config *config.Config
	Ledger Ledger
	Ingest queue.Sender
	// Retry schedules the redelivery of a failed message.
	Retry   *lambdaio.Retrier
	Log     *slog.Logger
	Metrics *obs.Metrics
	Now     func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Outcome says what became of one notification.
type Outcome string

// Outcomes of Process.
const (
	Forwarded Outcome = "forwarded" // handed to ingest
	Duplicate Outcome = "duplicate" // NotificationId seen before
	Ignored   Outcome = "ignored"   // nothing to import (pending, FBA, other marketplace)
	Rejected  Outcome = "rejected"  // invalid: recorded as an exception
)

// Handle is the Lambda handler: one notification per SQS record, partial
// batch failures reported.
func (s *Service) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx = lambdaio.WithRequestID(ctx)
	return lambdaio.EachRecord(ctx, s.Log, ev, s.Retry, func(ctx context.Context, m events.SQSMessage) error {
		_, err := s.Process(ctx, []byte(m.Body), m.MessageId)
		return err
	}), nil
}

// Process handles one message body (messageID names the SQS message in an
// exception). A nil error means done; an error means retry.
func (s *Service) Process(ctx context.Context, body []byte, messageID string) (Outcome, error) {
	c, err := amazon.ParseOrderChange(body)
	if err != nil {
		// Never retried: the same bytes fail the same way. The exception
		// keeps the reason (the parser names fields, never values).
		s.count(Rejected)
		key := []string{"message", messageID}
		if messageID == "" {
			key = nil
		}
		return Rejected, ledger.Raise(ctx, s.Ledger, s.Log, "amazon.orderchange", "", "", err, s.now(), key...)
	}
	ctx = obs.With(ctx, "notification_id", c.NotificationID, "amazon_order_id", c.AmazonOrderID, "change_type", c.ChangeType)
	st := s.store(c.SellerID, c.MarketplaceID)
	if st == nil {
		// Another marketplace of the seller, not set up as a store here.
		s.Log.InfoContext(ctx, "orderchange: no enabled store for this seller and marketplace; ignored", "marketplace_id", c.MarketplaceID)
		s.count(Ignored)
		return Ignored, nil
	}
	ctx = obs.With(ctx, "store_id", st.ID)
	if !s.wanted(c, st) {
		s.Log.InfoContext(ctx, "orderchange: not importable in this state; ignored", "order_status", c.OrderStatus, "fulfilled_by", string(c.FulfilledBy))
		s.count(Ignored)
		return Ignored, nil
	}
	now := s.now()
	key := "amazon-notification:" + c.NotificationID
	first, err := s.Ledger.Claim(ctx, key, s.Config.Settings.WebhookDedupeTTL.D(), now)
	if err != nil {
		return "", fmt.Errorf("dedupe claim: %w", err)
	}
	if !first {
		s.Log.InfoContext(ctx, "orderchange: duplicate notification ignored")
		s.count(Duplicate)
		return Duplicate, nil
	}
	msg, err := json.Marshal(queue.Ingest{
		Channel: order.Amazon, StoreID: st.ID, ChannelOrderID: c.AmazonOrderID,
		Source: "notification", ReceivedAt: now.UTC(), ModifiedAt: c.ChangedAt.UTC(),
	})
	if err != nil {
		return "", err
	}
	if err := s.Ingest.Send(ctx, queue.Message{Body: msg}); err != nil {
		// Un-claim, so the redelivery is accepted: nothing accepted is lost.
		if rerr := s.Ledger.Release(ctx, key); rerr != nil {
			s.Log.ErrorContext(ctx, "orderchange: release claim failed", "error", rerr.Error())
		}
		return "", fmt.Errorf("enqueue ingest: %w", err)
	}
	s.Log.InfoContext(ctx, "orderchange: forwarded to ingest", "order_status", c.OrderStatus)
	s.count(Forwarded)
	return Forwarded, nil
}

// store finds the enabled Amazon store of a seller's marketplace.
func (s *Service) store(sellerID, marketplaceID string) *config.Store {
	for _, st := range s.Config.StoresOf(order.Amazon) {
		if a := st.Amazon; a != nil && a.SellerID == sellerID && a.MarketplaceID == marketplaceID {
			return st
		}
	}
	return nil
}

// wanted says whether the change can lead to an import. Pending orders wait
// (their UNSHIPPED change comes later); Amazon-fulfilled orders matter only
// to a store importing them. Anything else goes to ingest, which decides on
// the order's current state.
func (s *Service) wanted(c amazon.OrderChange, st *config.Store) bool {
	if c.FulfilledBy == order.AmazonByAmazon {
		_, disp, _ := order.AmazonStatus(c.OrderStatus)
		return st.Amazon.ImportFBA && disp == order.Import
	}
	return c.Disposition == order.Import || c.CancelRequested()
}

func (s *Service) count(o Outcome) {
	s.Metrics.Put("OrderChanges", 1, obs.Count, map[string]string{"Outcome": string(o)})
}
