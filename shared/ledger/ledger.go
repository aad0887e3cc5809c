// Package ledger defines the order ledger: what shiprelay knows about every
// order, written before any side effect that depends on it. The DynamoDB
// implementation lives in package dynamo; this package imports no AWS SDK.
package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/shipment"
)

// State is where an order stands in shiprelay's own pipeline (not the
// channel's status).
type State string

// Pipeline states.
const (
	// StatePending: in the ledger, not yet (or not in this version) in ShipStation.
	StatePending State = "pending"
	// StatePushed: the current version is in ShipStation.
	StatePushed State = "pushed"
	// StateSkipped: deliberately not pushed (digital-only, not importable status).
	StateSkipped State = "skipped"
	// StateException: needs a person; see the exception records.
	StateException State = "exception"
)

// Push records one ShipStation order created for one ship group.
type Push struct {
	Group              string       `json:"group"`
	OrderKey           string       `json:"orderKey"`
	ShipStationOrderID int64        `json:"shipStationOrderId"`
	Account            string       `json:"account"`
	Version            time.Time    `json:"version"` // order.ModifiedAt that was pushed
	Status             order.Status `json:"status"`
	At                 time.Time    `json:"at"`
}

// Record is an order as the ledger holds it.
type Record struct {
	Order      order.Order     `json:"order"`
	State      State           `json:"state"`
	ImportedAt time.Time       `json:"importedAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Pushes     map[string]Push `json:"pushes,omitempty"`
	// FirstSeenAt is when shiprelay first heard of this order (webhook or
	// poll receipt), for latency measurement.
	FirstSeenAt time.Time `json:"firstSeenAt"`
	// LastError is the latest exception message, PII-free.
	LastError string `json:"lastError,omitempty"`
	// RedactionDue is when the order's buyer data is due for redaction
	// (Redactions.SetRedactionDue); zero when no schedule applies.
	RedactionDue time.Time `json:"redactionDue,omitzero"`
	// RedactedAt is when the order's buyer data was redacted
	// (Redactions.Redact); zero while it is not.
	RedactedAt time.Time `json:"redactedAt,omitzero"`
}

// PushedVersion reports whether every ship group of the order has been pushed
// at the order's current version.
func (r *Record) PushedVersion() bool {
	for _, g := range r.Order.ShipGroups {
		p, ok := r.Pushes[g.Key]
		if !ok || p.Version.Before(r.Order.ModifiedAt) || p.Status != r.Order.Status {
			return false
		}
	}
	return len(r.Order.ShipGroups) > 0
}

// Result says what an Upsert did.
type Result int

// Upsert results.
const (
	Created   Result = iota + 1 // the order was new
	Updated                     // a newer version replaced the stored one
	Unchanged                   // the same version was already stored (a replay)
	Stale                       // the stored version is newer; nothing was written
)

func (r Result) String() string {
	switch r {
	case Created:
		return "created"
	case Updated:
		return "updated"
	case Unchanged:
		return "unchanged"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// Exception is a record that needs a person: the channel or ShipStation
// rejected something, or the store needs re-authorisation. Its message is
// PII-free.
type Exception struct {
	ID      string    `json:"id"`
	OrderID order.ID  `json:"orderId,omitempty"`
	StoreID string    `json:"storeId,omitempty"`
	Kind    string    `json:"kind"` // errs.Kind string: invalid, unauthorised, ...
	Op      string    `json:"op"`   // what failed, e.g. "shipstation.createorders"
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Page is a cursor into a listing; empty means "from the start" or "no more".
type Page string

// Store is the order ledger.
type Store interface {
	// Upsert writes o and, apart from it, o.Personal, unless the ledger holds
	// a version whose ModifiedAt is newer, or the same with the same content
	// (a same-time version with other content is a change within the
	// channel's timestamp resolution, and is written). firstSeen is when the
	// hub first heard of the order. A history event is appended on Created
	// and Updated. It returns the record as stored after the call. Buyer
	// data of an order already redacted is never written again (see
	// Redactions).
	Upsert(ctx context.Context, o order.Order, state State, firstSeen, now time.Time) (Result, Record, error)
	// Get returns the record with its Personal data. Personal is nil when
	// the ledger holds no buyer data for the order (none was given, as for
	// an FBA order, or it was deleted); it is the redacted text, with
	// Personal.Redacted set, when the order was redacted or its buyer data
	// has passed its time to live (see Redactions). Readers show both as
	// redacted. A missing order is errs.NotFound.
	Get(ctx context.Context, id order.ID) (Record, error)
	// MarkPushed records the result of a push for one group. It never replaces
	// a push of a newer version. When every group is pushed at the order's
	// current version the state becomes StatePushed.
	MarkPushed(ctx context.Context, id order.ID, p Push, now time.Time) error
	// SetState moves the order to a pipeline state with a history event.
	SetState(ctx context.Context, id order.ID, s State, ev order.Event, now time.Time) error
	// RecordException stores an exception, moves its order (if any) to
	// StateException and appends a history event.
	RecordException(ctx context.Context, e Exception) error
	// Exceptions lists exception records, newest first.
	Exceptions(ctx context.Context, limit int, from Page) ([]Exception, Page, error)
	// AppendEvent adds a history event.
	AppendEvent(ctx context.Context, id order.ID, ev order.Event) error
	// History returns the order's history, oldest first.
	History(ctx context.Context, id order.ID) ([]order.Event, error)
	// ByState lists a store's orders in a state, most recently updated first.
	ByState(ctx context.Context, storeID string, s State, limit int, from Page) ([]Record, Page, error)
	// UpdatedBetween lists orders whose ledger UpdatedAt is in [from, to),
	// oldest first, across all stores.
	UpdatedBetween(ctx context.Context, from, to time.Time, limit int, page Page) ([]Record, Page, error)
}

// Claims dedupes deliveries: the first Claim of a key wins.
type Claims interface {
	// Claim returns true the first time key is claimed within ttl, false for
	// every later call.
	Claim(ctx context.Context, key string, ttl time.Duration, now time.Time) (bool, error)
	// Release forgets a claim, so that a delivery whose processing failed
	// after the claim is accepted again.
	Release(ctx context.Context, key string) error
	// ClaimFor claims key for owner within ttl and returns the holder: owner
	// when it won (or already held it, so a retry is not refused by its own
	// claim), else the owner that holds it.
	ClaimFor(ctx context.Context, key, owner string, ttl time.Duration, now time.Time) (string, error)
}

// Watermarks keep the progress of scheduled pulls.
type Watermarks interface {
	// Watermark returns the stored time for key, or the zero time.
	Watermark(ctx context.Context, key string) (time.Time, error)
	// SetWatermark stores t for key, only moving it forward.
	SetWatermark(ctx context.Context, key string, t time.Time) error
	// ResetWatermark stores t for key, earlier or later: an operator's
	// "re-import from this date".
	ResetWatermark(ctx context.Context, key string, t time.Time) error
}

// ExceptionID names an exception. With key parts (order id, version, …) it
// is deterministic, so the same failure recorded again on a redelivery is
// one record; without, it is unique.
func ExceptionID(op string, key ...string) string {
	if len(key) == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return op + ":" + hex.EncodeToString(b[:])
	}
	return op + ":" + strings.Join(key, ":")
}

// Shipments is the ledger of ShipStation labels and of the notifications
// that relay them to the channels.
type Shipments interface {
	// RecordShipment stores a label by its key. It returns the label as it
	// was stored before the call (nil when new), so the caller sees a void.
	// Recording the same content again writes nothing.
	RecordShipment(ctx context.Context, s shipment.Shipment, now time.Time) (prev *shipment.Shipment, err error)
	// Label reads a recorded label by its key (errs.NotFound when unknown).
	Label(ctx context.Context, key string) (shipment.Shipment, error)
	// ResolveOrderKey finds the order and ship group a ShipStation orderKey
	// was pushed for by account (errs.NotFound when shiprelay never pushed it).
	ResolveOrderKey(ctx context.Context, account, orderKey string) (order.ID, string, error)
	// PlanNotification creates n unless a notification with its ID exists,
	// with a history event on its order; created is false for a replay.
	PlanNotification(ctx context.Context, n shipment.Notification) (created bool, err error)
	// Notifications lists an order's notifications.
	Notifications(ctx context.Context, id order.ID) ([]shipment.Notification, error)
	// SettleNotification moves a notification out of Planned (to Confirmed,
	// Skipped or Failed, with the channel's reference or a reason). A
	// confirmed notification never changes again: settling it is a no-op
	// that returns its stored state.
	SettleNotification(ctx context.Context, id order.ID, notificationID string, st shipment.State, ref, reason string, now time.Time) (shipment.Notification, error)
}

// Identities holds the dedupe identities (package dedupe): one item per
// real marketplace order, listing the orders that stand for it and naming
// the primary among them.
type Identities interface {
	// Identity reads an identity; an unknown key is errs.NotFound.
	Identity(ctx context.Context, key string) (dedupe.Identity, error)
	// UpdateIdentity reads the identity (a new one, with Key set and no
	// member, when there is none), applies fn to it and, when fn reports a
	// change, writes it with a condition on the version it read, so that
	// two invocations never both write over the same version; on a
	// conflict it reads again and applies fn again (fn must be a pure
	// function of the identity it is given). It returns the identity as it
	// was read (before the last application of fn) and as stored after.
	UpdateIdentity(ctx context.Context, key string, fn func(*dedupe.Identity) bool) (before, after dedupe.Identity, err error)
}

// DueRedaction is an order whose buyer data is due for redaction.
type DueRedaction struct {
	ID  order.ID  `json:"id"`
	Due time.Time `json:"due"`
}

// Redactions is the ledger's side of the buyer-data redaction schedule
// (package redaction decides which orders and when). A sweep calls
// DueForRedaction with the current time and Redact for each order listed.
type Redactions interface {
	// SetRedactionDue stores when the order's buyer data is due for
	// redaction, listing it for DueForRedaction from then on, and gives its
	// buyer data a time to live of due+grace, so that the data goes even
	// if no sweep ever redacts it; later writes of buyer data keep that
	// time to live. Call it again whenever the due time is recomputed: the
	// last call wins. It is idempotent, and a no-op for an order already
	// redacted. A missing order is errs.NotFound; a zero due is
	// errs.Invalid.
	SetRedactionDue(ctx context.Context, id order.ID, due time.Time, grace time.Duration) error
	// DueForRedaction lists orders not yet redacted whose due time is at or
	// before before, up to limit per page (in due order within each of the
	// index's shards, not across them). Pass the returned Page back for the
	// next page; it is empty after the last.
	DueForRedaction(ctx context.Context, before time.Time, limit int, page Page) ([]DueRedaction, Page, error)
	// Redact replaces the order's buyer data by its redacted text
	// (redaction.Redact), marks the order redacted (Record.RedactedAt),
	// takes it off the DueForRedaction listing and appends an
	// order.EventRedacted history event, all at once. It does not check the
	// due time: the caller decides. An order without buyer data (FBA) is
	// marked all the same. It returns false, writing nothing, when the
	// order was already redacted; a missing order is errs.NotFound. Once
	// redacted, an order's buyer data is never written again (Upsert keeps
	// the redacted text).
	Redact(ctx context.Context, id order.ID, now time.Time) (bool, error)
}

// StoreStatus is the hub's own view of a store's health.
type StoreStatus struct {
	StoreID string `json:"storeId"`
	// Paused stores are not called: their work is parked until an operator
	// resumes them (after re-authorising shiprelay with the channel).
	Paused   bool      `json:"paused"`
	Reason   string    `json:"reason,omitempty"`
	PausedAt time.Time `json:"pausedAt,omitzero"`
}

// Stores keeps the paused flag of each store.
type Stores interface {
	// PauseStore pauses a store; it returns true only for the call that
	// paused it (so exactly one exception is raised).
	PauseStore(ctx context.Context, storeID, reason string, now time.Time) (bool, error)
	// ResumeStore clears the pause.
	ResumeStore(ctx context.Context, storeID string) error
	// StoreStatus reads a store's status (zero value when never paused).
	StoreStatus(ctx context.Context, storeID string) (StoreStatus, error)
}

// Raise records the exception of a failure of op and logs it (PII-free:
// ids, kind and the classified error only). An unclassified cause counts
// as invalid: it needs a person. key, when given, makes the record's id
// deterministic, so a redelivered failure is one record.
func Raise(ctx context.Context, s Store, log *slog.Logger, op string, id order.ID, storeID string, cause error, at time.Time, key ...string) error {
	kind := errs.KindOf(cause)
	if kind == errs.Other {
		kind = errs.Invalid
	}
	e := Exception{
		ID: ExceptionID(op, key...), OrderID: id, StoreID: storeID,
		Kind: kind.String(), Op: op, Message: cause.Error(), At: at.UTC(),
	}
	if err := s.RecordException(ctx, e); err != nil {
		return fmt.Errorf("record exception: %w", err)
	}
	log.WarnContext(ctx, op+": exception recorded", "kind", e.Kind, "error", cause.Error())
	return nil
}

// Pause pauses a store whose channel refused its credentials (a revoked
// authorisation, an expired refresh token) and, for the call that paused
// it only, raises the one exception that tells the operator what to do: no
// retry storm, one record. The work that hit the refusal waits (its caller
// parks it); ops resume the store once it is re-authorised.
func Pause(ctx context.Context, s Store, st Stores, log *slog.Logger, op, storeID string, cause error, now time.Time) error {
	first, err := st.PauseStore(ctx, storeID, "re-authorisation required: "+cause.Error(), now)
	if err != nil {
		return fmt.Errorf("pause store: %w", err)
	}
	if !first {
		return nil
	}
	return Raise(ctx, s, log, op, "", storeID,
		errs.E(errs.Unauthorised, op, fmt.Errorf("store %s paused, re-authorisation required (then run: shiprelay stores resume %s): %w", storeID, storeID, cause)),
		now, "paused", storeID, now.UTC().Format(time.RFC3339Nano))
}
