// Package queue defines the outbound work queues and the messages they carry.
// The SQS implementation lives in package sqs.
package queue

import (
	"context"
	"time"

	"github.com/shiprelay/shiprelay/shared/order"
)

// MaxDelay is the longest delivery delay SQS allows.
const MaxDelay = 15 * time.Minute

// Message is one message to send.
type Message struct {
	Body []byte
	// Delay postpones delivery (SQS allows up to 15 minutes).
	Delay time.Duration
	// Attributes are string message attributes (no PII).
	Attributes map[string]string
}

// Sender sends messages to one queue. Send is all-or-error: when it returns
// an error, the caller must assume none of msgs was sent and retry all.
type Sender interface {
	Send(ctx context.Context, msgs ...Message) error
}

// Visibility changes when a received message becomes visible again, which is
// how a consumer backs off without losing it.
type Visibility interface {
	ChangeVisibility(ctx context.Context, receiptHandle string, timeout time.Duration) error
}

// Ingest asks the ingest function to fetch and normalise one channel order.
type Ingest struct {
	Channel        order.Channel `json:"channel"`
	StoreID        string        `json:"storeId"`
	ChannelOrderID string        `json:"channelOrderId"`
	// Source is "webhook" or "poll" (or "replay").
	Source string `json:"source"`
	// ReceivedAt is when the hub first heard of this change.
	ReceivedAt time.Time `json:"receivedAt"`
	// ModifiedAt, when the sender knows it (a poll does), is the channel's
	// modification time of the change: ingest skips the fetch when the
	// ledger already holds that version or a newer one.
	ModifiedAt time.Time `json:"modifiedAt,omitzero"`
	// Relink says the order's dedupe identity changed (another order that
	// stands for the same marketplace order arrived, was cancelled or
	// shipped): ingest decides the order's pipeline state again from the
	// ledger, without asking the channel, and re-drives its push.
	Relink bool `json:"relink,omitempty"`
}

// Push asks the push function to send one ledger order to ShipStation.
type Push struct {
	OrderID order.ID `json:"orderId"`
	// Version is the order.ModifiedAt the sender wrote. It is for tracing:
	// the push reads the ledger with strong consistency, which is never
	// behind a message, and always pushes the ledger's current version.
	Version time.Time `json:"version"`
	// Redacted asks for the ShipStation orders already created for the
	// order to be sent again, now that its buyer data is redacted (the
	// version is unchanged, so an ordinary push would skip them).
	Redacted bool `json:"redacted,omitempty"`
	// Relink asks for the order's ShipStation orders to be sent again as
	// its role in its dedupe identity says now (the primary as its channel
	// says, another member hidden), even when the ledger records them
	// pushed: its role changed, or a push raced with the change.
	Relink bool `json:"relink,omitempty"`
}

// Shipments asks the shipments function to read labels from ShipStation:
// either the resource a SHIP_NOTIFY webhook named, or a window of a
// scheduled pull.
type Shipments struct {
	// Account is the ShipStation account (config id).
	Account string `json:"account"`
	// ResourceURL is the validated SHIP_NOTIFY resource.
	ResourceURL string `json:"resourceUrl,omitempty"`
	// From and To bound a pull by label creation time.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// ReceivedAt is when the hub heard of the labels.
	ReceivedAt time.Time `json:"receivedAt"`
	// Identity, instead of reading ShipStation, asks for the labels
	// already recorded for the orders of a dedupe identity to be relayed
	// again: an order that joined the identity after it shipped (the
	// marketplace's order arriving after its copy shipped, a recreated
	// copy) hears of them. Account is empty then.
	Identity string `json:"identity,omitempty"`
}

// Notify asks a channel's notify function to confirm one planned
// notification or, with Verify, to read a confirmed one back from the
// channel.
type Notify struct {
	OrderID        order.ID `json:"orderId"`
	NotificationID string   `json:"notificationId"`
	// Verify asks for the read-back of a confirmation the notify function
	// recorded (it sends this to its own queue, delayed): the channel is
	// asked whether it kept what it accepted. A verify message never leads
	// to another one.
	Verify bool `json:"verify,omitempty"`
}
