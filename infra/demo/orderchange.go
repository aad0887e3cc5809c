package demo

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/shiprelay/shiprelay/shared/queue"
	"github.com/shiprelay/shiprelay/shared/sqs"
)

// Amazon delivers ORDER_CHANGE notifications by writing them to an SQS
// queue the seller owns (the template's OrderChangeQueue). The sandbox
// Amazon only queues the message bodies; the pump below is the delivery:
// every OrderChangeEvery it drains them and sends them to the runner's
// OrderChangeQueue, in the order (and with the losses and duplicates) the
// sandbox's notify knobs produced.

// OrderChangeStats count the ORDER_CHANGE messages delivered to the
// OrderChangeQueue.
type OrderChangeStats struct {
	// Delivered is every message sent to the queue, duplicates included.
	Delivered int
	// Duplicates are messages whose NotificationId was delivered before.
	Duplicates int
	// OutOfOrder are messages delivered after one Amazon sent later (an
	// older EventTime); StaleForOrder those of them delivered after a
	// newer change of the same order (an older TimeOfOrderChange).
	OutOfOrder, StaleForOrder int
}

// orderChanges is the pump's bookkeeping.
type orderChanges struct {
	mu      sync.Mutex
	stats   OrderChangeStats
	seen    map[string]bool
	latest  map[string]time.Time
	last    time.Time // newest EventTime delivered
	pending [][]byte  // drained but not yet sent (a failed send is retried)
	pumped  int64     // drained bodies sent
	// importable holds, per order, when a notification with a status
	// other than Pending was first delivered (an order that reached
	// ShipStation before, or without, one came through the poll).
	importable map[string]time.Time
}

// orderChangeHead is what the pump reads of a body to count it.
type orderChangeHead struct {
	EventTime time.Time `json:"EventTime"`
	Payload   struct {
		OrderChangeNotification struct {
			AmazonOrderID string `json:"AmazonOrderId"`
			Summary       struct {
				OrderStatus string `json:"OrderStatus"`
			} `json:"Summary"`
			OrderChangeTrigger struct {
				TimeOfOrderChange time.Time `json:"TimeOfOrderChange"`
			} `json:"OrderChangeTrigger"`
		} `json:"OrderChangeNotification"`
	} `json:"Payload"`
	NotificationMetadata struct {
		NotificationID string `json:"NotificationId"`
	} `json:"NotificationMetadata"`
}

// DeliverOrderChanges sends ORDER_CHANGE bodies to the OrderChangeQueue as
// they are, as Amazon's Notifications service does.
func (e *Env) DeliverOrderChanges(ctx context.Context, bodies ...[]byte) error {
	if len(bodies) == 0 {
		return nil
	}
	msgs := make([]queue.Message, len(bodies))
	for i, b := range bodies {
		msgs[i] = queue.Message{Body: b}
	}
	q := &sqs.Queue{Client: e.sqsClient(), URL: e.Runner.QueueURL("OrderChangeQueue")}
	if err := q.Send(ctx, msgs...); err != nil {
		return err
	}
	c := &e.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen, c.latest, c.importable = map[string]bool{}, map[string]time.Time{}, map[string]time.Time{}
	}
	now := time.Now()
	for _, b := range bodies {
		c.stats.Delivered++
		var h orderChangeHead
		if json.Unmarshal(b, &h) != nil {
			continue
		}
		if id := h.NotificationMetadata.NotificationID; id != "" {
			if c.seen[id] {
				c.stats.Duplicates++
				continue
			}
			c.seen[id] = true
		}
		if h.EventTime.Before(c.last) {
			c.stats.OutOfOrder++
		} else {
			c.last = h.EventTime
		}
		n := h.Payload.OrderChangeNotification
		if st := n.Summary.OrderStatus; st != "" && st != "Pending" {
			if _, ok := c.importable[n.AmazonOrderID]; !ok {
				c.importable[n.AmazonOrderID] = now
			}
		}
		at := n.OrderChangeTrigger.TimeOfOrderChange
		if last, ok := c.latest[n.AmazonOrderID]; ok && at.Before(last) {
			c.stats.StaleForOrder++
			continue
		}
		c.latest[n.AmazonOrderID] = at
	}
	return nil
}

// PumpOrderChanges drains the sandbox Amazon's ORDER_CHANGE messages and
// delivers them; it returns how many it sent. Messages a failed send could
// not deliver are kept for the next call.
func (e *Env) PumpOrderChanges(ctx context.Context) (int, error) {
	c := &e.changes
	c.mu.Lock()
	batch := append(c.pending, e.Amazon.DrainOrderChanges()...)
	c.pending = nil
	c.mu.Unlock()
	if err := e.DeliverOrderChanges(ctx, batch...); err != nil {
		c.mu.Lock()
		c.pending = append(batch, c.pending...)
		c.mu.Unlock()
		return 0, err
	}
	c.mu.Lock()
	c.pumped += int64(len(batch))
	c.mu.Unlock()
	return len(batch), nil
}

// OrderChanges returns the delivery counters.
func (e *Env) OrderChanges() OrderChangeStats {
	e.changes.mu.Lock()
	defer e.changes.mu.Unlock()
	return e.changes.stats
}

// notifiedBy reports whether a notification with a status other than
// Pending was delivered for the order by t.
func (e *Env) notifiedBy(orderID string, t time.Time) bool {
	e.changes.mu.Lock()
	defer e.changes.mu.Unlock()
	at, ok := e.changes.importable[orderID]
	return ok && !at.After(t)
}

// pump delivers ORDER_CHANGE messages every period until ctx ends.
func (e *Env) pump(ctx context.Context, every time.Duration) {
	defer close(e.pumpDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = e.PumpOrderChanges(ctx) // a failed send is retried next tick
		}
	}
}

// OrderChangesWaiting is how many ORDER_CHANGE messages the sandbox
// queued that the pump has not delivered yet.
func (e *Env) OrderChangesWaiting() int {
	queued := e.Amazon.Stats().NotificationsQueued
	e.changes.mu.Lock()
	defer e.changes.mu.Unlock()
	return int(queued - e.changes.pumped)
}
