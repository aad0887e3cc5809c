// Package dynamo is shiprelay's ledger on DynamoDB: one table (Schema) that
// holds the orders, their buyer data, their history, the exceptions, the
// delivery claims, the pull watermarks and the shared rate buckets.
//
// # Table
//
// Primary key pk (S, HASH) and sk (S, RANGE); GSI gsi1 (gsi1pk, gsi1sk) and
// GSI gsi2 (gsi2pk, gsi2sk), both S keys with projection ALL; the sparse
// GSI gsi3 (gsi3pk, gsi3sk), S keys with projection KEYS_ONLY; time to live
// on ttl (epoch seconds); on-demand billing. Every time attribute is RFC 3339
// in UTC with exactly nine fraction digits ("2026-11-21T17:03:20.000000000Z",
// see timeLayout), so that times sort as strings. Money stays decimal text
// inside the order; no float64 is ever stored except the rate buckets'
// token counts.
//
// # Items
//
// Order, pk=ORDER#<order id> sk=ORDER:
//
//	order        M  the order.Order, PII-free (its json names; Personal is never here)
//	state        S  ledger.State
//	modifiedAt   S  order.ModifiedAt (the version; conditions compare it)
//	importedAt   S  first write; kept by every later write
//	firstSeenAt  S  when the hub first heard of the order; kept
//	updatedAt    S  last ledger write
//	pushes       L  ledger.Push per ship group, by group (absent until the first push)
//	lastError    S  latest exception message (PII-free), optional
//	rev          N  revision, +1 on every write; conditional writes compare it
//	gsi1pk/sk       STORE#<storeId>#<state> / <updatedAt>#<order id>   (ByState, newest first)
//	gsi2pk/sk       UPDATED#<yyyy-mm-dd of updatedAt> / <updatedAt>#<order id>   (UpdatedBetween)
//	redactDue    S  when the buyer data is due for redaction (SetRedactionDue); kept after
//	piiTTL       N  the ttl the PII item carries (due + grace, epoch seconds); removed by Redact
//	gsi3pk/sk       REDACT#<shard 0..3 by hash of the id> / <redactDue>#<order id>
//	                (DueForRedaction); only while due and not redacted: the index is sparse
//	redactedAt   S  when Redact redacted the buyer data; its buyer data is never written again
//
// Buyer data, pk=ORDER#<order id> sk=PII:
//
//	personal     S  order.Personal as JSON (after Redact: redaction.Redact of it)
//	ttl          N  piiTTL while the order waits for redaction; Upsert keeps it
//
// What readers get as Personal (Get, and the record Upsert returns): nil
// when there is no PII item (none was given, as for an FBA order, or
// DynamoDB deleted it); redaction.Redact of its content, with
// Personal.Redacted set, when the order is redacted or the item's ttl is
// past (DynamoDB deletes expired items late, up to days; the raw content
// is never handed out); else the content. Readers show nil and redacted
// data alike as redacted.
//
// History, pk=ORDER#<order id> sk=H#<at>#<random>: at, kind, message (an
// order.Event, PII-free). History returns it oldest first.
//
// Exception, pk=EXC#<exception id> sk=EXC: exception (ledger.Exception as
// JSON), at; gsi2pk=EXCEPTIONS, gsi2sk=<at>#<exception id> (newest first).
//
// Claim, pk=CLAIM#<key> sk=CLAIM: until (exact expiry), ttl (until in epoch
// seconds, rounded up).
//
// Watermark, pk=WM#<key> sk=WM: at.
//
// Rate bucket, pk=RATE#<key> sk=RATE: tokens (N), updatedAt, blockedUntil
// (ratelimit.Bucket), rev (N), ttl (a week after the last use).
//
// Label, pk=SHIP#<account>:<shipmentId> sk=SHIP: data (shipment.Shipment),
// updatedAt. A void is final: a stale unvoided read never overwrites it.
//
// OrderKey, pk=OKEY#<account>#<orderKey> sk=OKEY: orderId, group; written in
// MarkPushed's transaction, so every label's orderKey leads to its order.
//
// Notification, pk=ORDER#<id> sk=N#<notification id>: data
// (shipment.Notification), nstate; created with attribute_not_exists, so a
// label is planned for an order exactly once however often it is seen.
//
// Identity, pk=IDENT#<key> sk=IDENT: members ([]dedupe.Member as JSON),
// primary, rev (N, its Version; UpdateIdentity's puts are conditioned on it).
//
// # Consistency
//
// Upsert and MarkPushed read the order item (strongly consistent), decide,
// and write in one TransactWriteItems conditioned on the revision read; a
// lost race re-reads and decides again, a bounded number of times.
// SetRedactionDue and Redact work the same way, so an Upsert racing them
// re-reads: it never writes buyer data without its ttl, nor over redacted
// data. SetState and RecordException need no read: they update the item
// unconditionally except for its existence and bump rev, which makes a
// concurrent Upsert or MarkPushed re-read. Listings (ByState,
// UpdatedBetween, Exceptions) read GSIs, which are eventually consistent in
// AWS. Errors are classified into errs kinds here, at the edge.
package dynamo
