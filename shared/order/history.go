package order

import "time"

// EventKind names an entry in an order's history.
type EventKind string

// History event kinds. The history is PII-free: messages never carry buyer data.
const (
	EventImported   EventKind = "imported"
	EventUpdated    EventKind = "updated"
	EventSkipped    EventKind = "skipped"
	EventPushed     EventKind = "pushed"
	EventHeld       EventKind = "held"
	EventShipped    EventKind = "shipped"
	EventConfirmed  EventKind = "confirmed"
	EventRedacted   EventKind = "redacted"
	EventException  EventKind = "exception"
	EventRuleDecide EventKind = "rule"
	// EventLinked records the order's place among the orders that stand
	// for one marketplace order (package dedupe): primary or hidden.
	EventLinked EventKind = "linked"
)

// Event is one line of an order's short, PII-free history.
type Event struct {
	At      time.Time `json:"at"`
	Kind    EventKind `json:"kind"`
	Message string    `json:"message,omitempty"`
}
