package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WebhookStats counts webhook deliveries of one sandbox.
type WebhookStats struct {
	// Events counts webhooks produced (one per event and destination).
	Events int64 `json:"events"`
	// Sent counts deliveries answered with 2xx, duplicates included.
	Sent int64 `json:"sent"`
	// Attempts counts HTTP attempts, retries included.
	Attempts int64 `json:"attempts"`
	// Failed counts deliveries abandoned after WebhookMaxAttempts.
	Failed int64 `json:"failed"`
	// Dropped counts webhooks never sent because of WebhookDropRate.
	Dropped int64 `json:"dropped"`
	// Duplicated counts webhooks sent a second time because of WebhookDuplicateRate.
	Duplicated int64 `json:"duplicated"`
	// Pending counts deliveries queued or in flight.
	Pending int64 `json:"pending"`
}

// WebhookDelivery records one webhook delivery (the last 10,000 are kept).
type WebhookDelivery struct {
	// MessageID is the Standard Webhooks id; identical for a duplicate.
	MessageID string `json:"message_id"`
	// Scope is the event scope, e.g. store/order/created.
	Scope string `json:"scope"`
	// URL is the destination.
	URL string `json:"url"`
	// Body is the exact payload sent.
	Body string `json:"body"`
	// Duplicate is true for the second copy of a duplicated webhook.
	Duplicate bool `json:"duplicate"`
	// Dropped is true when the drop knob suppressed the webhook.
	Dropped bool `json:"dropped"`
	// Delivered is true when the destination answered 2xx.
	Delivered bool `json:"delivered"`
	// Attempts is the number of HTTP attempts made.
	Attempts int `json:"attempts"`
	// LastStatus is the last HTTP status received (0 on transport error).
	LastStatus int `json:"last_status"`
	// At is when the record was completed.
	At time.Time `json:"at"`
}

// outbound is one webhook to deliver.
type outbound struct {
	msgID     string
	timestamp int64
	scope     string
	url       string
	headers   map[string]string
	secret    string
	body      []byte
	duplicate bool
}

const maxDeliveryLog = 10000

// dispatcher delivers webhooks asynchronously with bounded retries. It is
// independent of the vendor so ShipStation webhooks can use it too.
type dispatcher struct {
	client      *http.Client
	maxAttempts int
	retryDelay  time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*outbound
	pending int64
	closed  bool
	st      WebhookStats
	log     []WebhookDelivery

	done chan struct{}
	wg   sync.WaitGroup
}

func newDispatcher(workers, maxAttempts int, retryDelay, timeout time.Duration) *dispatcher {
	d := &dispatcher{
		client:      &http.Client{Timeout: timeout},
		maxAttempts: maxAttempts,
		retryDelay:  retryDelay,
		done:        make(chan struct{}),
	}
	d.cond = sync.NewCond(&d.mu)
	for range workers {
		d.wg.Add(1)
		go d.worker()
	}
	return d
}

// enqueue schedules o for delivery; drop and dup come from the fault knobs.
func (d *dispatcher) enqueue(o *outbound, drop, dup bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st.Events++
	if d.closed {
		return
	}
	if drop {
		d.st.Dropped++
		d.record(WebhookDelivery{MessageID: o.msgID, Scope: o.scope, URL: o.url, Body: string(o.body), Dropped: true, At: time.Now()})
		return
	}
	d.queue = append(d.queue, o)
	d.pending++
	if dup {
		d.st.Duplicated++
		c := *o
		c.duplicate = true
		d.queue = append(d.queue, &c)
		d.pending++
	}
	d.cond.Broadcast()
}

func (d *dispatcher) record(rec WebhookDelivery) {
	if len(d.log) >= maxDeliveryLog {
		copy(d.log, d.log[1:])
		d.log = d.log[:len(d.log)-1]
	}
	d.log = append(d.log, rec)
}

func (d *dispatcher) worker() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if d.closed {
			d.mu.Unlock()
			return
		}
		o := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		d.deliver(o)
	}
}

func (d *dispatcher) deliver(o *outbound) {
	rec := WebhookDelivery{MessageID: o.msgID, Scope: o.scope, URL: o.url, Body: string(o.body), Duplicate: o.duplicate}
	delay := d.retryDelay
	for attempt := 1; attempt <= d.maxAttempts; attempt++ {
		rec.Attempts = attempt
		status := d.post(o)
		rec.LastStatus = status
		d.mu.Lock()
		d.st.Attempts++
		d.mu.Unlock()
		if status >= 200 && status < 300 {
			rec.Delivered = true
			break
		}
		if attempt == d.maxAttempts {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-d.done:
			t.Stop()
			d.finish(rec)
			return
		}
		delay *= 2
	}
	d.finish(rec)
}

func (d *dispatcher) finish(rec WebhookDelivery) {
	rec.At = time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if rec.Delivered {
		d.st.Sent++
	} else {
		d.st.Failed++
	}
	d.pending--
	d.record(rec)
	d.cond.Broadcast()
}

// post makes one attempt and returns the HTTP status (0 on transport error).
func (d *dispatcher) post(o *outbound) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-d.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(o.body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shiprelay-sandbox-webhooks/1")
	for k, v := range o.headers {
		req.Header.Set(k, v)
	}
	if o.secret != "" {
		id, ts := o.msgID, strconv.FormatInt(o.timestamp, 10)
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", ts)
		req.Header.Set("webhook-signature", StandardWebhookSignature(o.secret, id, ts, o.body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode
}

// StandardWebhookSignature computes the Standard Webhooks signature header
// value "v1,<base64 HMAC-SHA256 of id.timestamp.body>". A secret of the form
// "whsec_<base64>" is base64-decoded to get the key, as the Standard Webhooks
// specification says; any other secret is used as raw bytes.
func StandardWebhookSignature(secret, id, timestamp string, body []byte) string {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
			key = k
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// flush waits until no delivery is queued or in flight, or ctx ends.
func (d *dispatcher) flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.pending > 0 && !d.closed {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.cond.Wait()
	}
	return nil
}

func (d *dispatcher) snapshot() WebhookStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.st
	st.Pending = d.pending
	return st
}

func (d *dispatcher) deliveries() []WebhookDelivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]WebhookDelivery, len(d.log))
	copy(out, d.log)
	return out
}

func (d *dispatcher) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.done)
	d.queue = nil
	d.cond.Broadcast()
	d.mu.Unlock()
	d.wg.Wait()
	d.client.CloseIdleConnections()
}
