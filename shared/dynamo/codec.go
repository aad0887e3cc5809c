package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/ledger"
	"github.com/shiprelay/shiprelay/shared/order"
	"github.com/shiprelay/shiprelay/shared/redaction"
)

// Attribute names.
const (
	attrPK          = "pk"
	attrSK          = "sk"
	attrGSI1PK      = "gsi1pk"
	attrGSI1SK      = "gsi1sk"
	attrGSI2PK      = "gsi2pk"
	attrGSI2SK      = "gsi2sk"
	attrGSI3PK      = "gsi3pk"
	attrGSI3SK      = "gsi3sk"
	attrOrder       = "order"
	attrState       = "state"
	attrModifiedAt  = "modifiedAt"
	attrImportedAt  = "importedAt"
	attrUpdatedAt   = "updatedAt"
	attrFirstSeenAt = "firstSeenAt"
	attrPushes      = "pushes"
	attrLastError   = "lastError"
	attrRev         = "rev"
	attrPersonal    = "personal"
	attrAt          = "at"
	attrKind        = "kind"
	attrMessage     = "message"
	attrException   = "exception"
	attrUntil       = "until"
	attrTokens      = "tokens"
	attrBlocked     = "blockedUntil"
	attrRedactDue   = "redactDue"
	attrRedactedAt  = "redactedAt"
	attrPIITTL      = "piiTTL"
)

// Key prefixes and fixed sort keys.
const (
	prefixOrder     = "ORDER#"
	skOrder         = "ORDER"
	skPII           = "PII"
	prefixHistory   = "H#"
	prefixException = "EXC#"
	skException     = "EXC"
	gsi2Exceptions  = "EXCEPTIONS"
	prefixClaim     = "CLAIM#"
	skClaim         = "CLAIM"
	prefixWM        = "WM#"
	skWM            = "WM"
	prefixRate      = "RATE#"
	skRate          = "RATE"
	prefixStore     = "STORE#"
	prefixUpdated   = "UPDATED#"
	prefixRedact    = "REDACT#"
	dayLayout       = "2006-01-02"
)

// timeLayout is RFC 3339 in UTC with exactly nine fraction digits, so that
// stored times sort as strings (time.RFC3339Nano trims trailing zeros and
// would not). time.Parse(time.RFC3339Nano, …) reads it back.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func orderPK(id order.ID) string { return prefixOrder + string(id) }

func gsi1PK(storeID string, s ledger.State) string {
	return prefixStore + storeID + "#" + string(s)
}

func dayPK(t time.Time) string { return prefixUpdated + t.UTC().Format(dayLayout) }

// timeID is the sort key of the listings: "<time>#<id>".
func timeID(t time.Time, id string) string { return fmtTime(t) + "#" + id }

// encoder marshals domain values with their json tags (so `json:"-"` keeps
// order.Personal out of the order item) and times in timeLayout.
var encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
	o.TagKey = "json"
	o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
		return &types.AttributeValueMemberS{Value: fmtTime(t)}, nil
	}
})

var decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) {
	o.TagKey = "json"
})

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func nf(v float64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'g', -1, 64)}
}

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(pk), attrSK: s(sk)}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) (float64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("attribute %s: bad number %q", name, v.Value)
	}
	return f, nil
}

func getInt(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: bad integer %q", name, v.Value)
	}
	return i, nil
}

func getTime(item map[string]types.AttributeValue, name string) (time.Time, error) {
	t, err := parseTime(getS(item, name))
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %w", name, err)
	}
	return t, nil
}

// stored is an order item as read: the record (without Personal), the
// revision that conditional writes compare against and the time to live
// its buyer data item must carry (0: none).
type stored struct {
	rec    ledger.Record
	rev    int64
	piiTTL int64
}

// redacted reports whether the order's buyer data has been redacted.
func (st *stored) redacted() bool { return st != nil && !st.rec.RedactedAt.IsZero() }

func decodeOrderItem(item map[string]types.AttributeValue) (stored, error) {
	var st stored
	var err error
	av, ok := item[attrOrder]
	if !ok {
		return st, fmt.Errorf("order item %s: no order attribute", getS(item, attrPK))
	}
	if err = decoder.Decode(av, &st.rec.Order); err != nil {
		return st, fmt.Errorf("order item %s: %w", getS(item, attrPK), err)
	}
	if p, ok := item[attrPushes]; ok {
		var list []ledger.Push
		if err = decoder.Decode(p, &list); err != nil {
			return st, fmt.Errorf("order item %s: pushes: %w", getS(item, attrPK), err)
		}
		st.rec.Pushes = make(map[string]ledger.Push, len(list))
		for _, p := range list {
			st.rec.Pushes[p.Group] = p
		}
	}
	st.rec.State = ledger.State(getS(item, attrState))
	st.rec.LastError = getS(item, attrLastError)
	for name, dst := range map[string]*time.Time{
		attrImportedAt:  &st.rec.ImportedAt,
		attrUpdatedAt:   &st.rec.UpdatedAt,
		attrFirstSeenAt: &st.rec.FirstSeenAt,
		attrRedactDue:   &st.rec.RedactionDue,
		attrRedactedAt:  &st.rec.RedactedAt,
	} {
		if *dst, err = getTime(item, name); err != nil {
			return st, err
		}
	}
	if st.rev, err = getInt(item, attrRev); err != nil {
		return st, err
	}
	if st.piiTTL, err = getInt(item, attrPIITTL); err != nil {
		return st, err
	}
	return st, nil
}

// pii is a buyer data item as read. data may be raw buyer data whatever
// the item's ttl says: only view hands buyer data to callers.
type pii struct {
	present bool
	ttl     int64 // epoch seconds; 0: none
	data    *order.Personal
}

// decodePII reads a PII item (nil: absent).
func decodePII(item map[string]types.AttributeValue) (pii, error) {
	if item == nil {
		return pii{}, nil
	}
	p := pii{present: true}
	var err error
	if p.ttl, err = getInt(item, TTLAttribute); err != nil {
		return pii{}, err
	}
	raw := getS(item, attrPersonal)
	if raw == "" {
		return p, nil
	}
	p.data = new(order.Personal)
	if err := json.Unmarshal([]byte(raw), p.data); err != nil {
		return pii{}, fmt.Errorf("pii item %s: %w", getS(item, attrPK), err)
	}
	return p, nil
}

// expired reports whether the item's time to live has passed at now
// (DynamoDB deletes expired items late, up to days).
func (p pii) expired(now time.Time) bool { return p.ttl > 0 && p.ttl <= now.Unix() }

// view is the buyer data readers get at now, for an order redacted or not:
//   - no item (none was given, as for an FBA order, or DynamoDB deleted
//     it), or an empty one: nil, which readers show as redacted;
//   - the order is redacted, or the item's ttl has passed:
//     redaction.Redact of what it holds (Personal.Redacted set), never the
//     raw data;
//   - otherwise the data as stored.
func (p pii) view(now time.Time, redacted bool) *order.Personal {
	if !p.present || p.data == nil {
		return nil
	}
	if redacted || p.expired(now) {
		return redaction.Redact(p.data)
	}
	return p.data
}

func historyItem(id order.ID, ev order.Event) map[string]types.AttributeValue {
	item := keyOf(orderPK(id), prefixHistory+fmtTime(ev.At)+"#"+randomSuffix())
	item[attrAt] = s(fmtTime(ev.At))
	item[attrKind] = s(string(ev.Kind))
	if ev.Message != "" {
		item[attrMessage] = s(ev.Message)
	}
	return item
}

func decodeEvent(item map[string]types.AttributeValue) (order.Event, error) {
	at, err := getTime(item, attrAt)
	if err != nil {
		return order.Event{}, err
	}
	return order.Event{At: at, Kind: order.EventKind(getS(item, attrKind)), Message: getS(item, attrMessage)}, nil
}

func exceptionItem(e ledger.Exception) (map[string]types.AttributeValue, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	item := keyOf(prefixException+e.ID, skException)
	item[attrGSI2PK] = s(gsi2Exceptions)
	item[attrGSI2SK] = s(timeID(e.At, e.ID))
	item[attrAt] = s(fmtTime(e.At))
	item[attrException] = s(string(body))
	return item, nil
}

func decodeException(item map[string]types.AttributeValue) (ledger.Exception, error) {
	var e ledger.Exception
	if err := json.Unmarshal([]byte(getS(item, attrException)), &e); err != nil {
		return e, fmt.Errorf("exception item %s: %w", getS(item, attrPK), err)
	}
	return e, nil
}

// encodePage turns the key attributes of the last item returned into an
// opaque cursor.
func encodePage(item map[string]types.AttributeValue, names ...string) (ledger.Page, error) {
	m := make(map[string]string, len(names))
	for _, name := range names {
		v := getS(item, name)
		if v == "" {
			return "", fmt.Errorf("page: item lacks key attribute %s", name)
		}
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return ledger.Page(base64.RawURLEncoding.EncodeToString(b)), nil
}

// decodePage reads a cursor made by encodePage; it must hold exactly names.
func decodePage(op string, p ledger.Page, names ...string) (map[string]types.AttributeValue, error) {
	if p == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(string(p))
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err == nil && len(m) != len(names) {
		err = fmt.Errorf("has %d keys, want %d", len(m), len(names))
	}
	out := make(map[string]types.AttributeValue, len(names))
	for _, name := range names {
		if err != nil {
			break
		}
		v, ok := m[name]
		if !ok || v == "" {
			err = fmt.Errorf("lacks %s", name)
		}
		out[name] = s(v)
	}
	if err != nil {
		return nil, errs.Ef(errs.Invalid, op, "bad page cursor: %v", err)
	}
	return out, nil
}

// pushList stores pushes as a list ordered by group: DynamoDB map keys may
// not be empty, and the only group of a single-address order is "".
func pushList(m map[string]ledger.Push) []ledger.Push {
	out := make([]ledger.Push, 0, len(m))
	for _, g := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[g])
	}
	return out
}
