package dynamo_test

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shiprelay/shiprelay/shared/dedupe"
	"github.com/shiprelay/shiprelay/shared/errs"
	"github.com/shiprelay/shiprelay/shared/order"
)

// marketplaceMember is the Amazon order of identity key's marketplace order.
func marketplaceMember(t testing.TB, num string, at time.Time) dedupe.Member {
	t.Helper()
	id, err := order.NewID(order.Amazon, "amz1", num)
	if err != nil {
		t.Fatal(err)
	}
	return dedupe.Member{ID: id, Version: at, JoinedAt: at}
}

// copyMember is BigCommerce order num, a copy of a marketplace order.
func copyMember(t testing.TB, num string, at time.Time) dedupe.Member {
	t.Helper()
	id, err := order.NewID(order.BigCommerce, "s1", num)
	if err != nil {
		t.Fatal(err)
	}
	return dedupe.Member{ID: id, Copy: true, Version: at, JoinedAt: at}
}

func observe(m dedupe.Member) func(*dedupe.Identity) bool {
	return func(x *dedupe.Identity) bool { return x.Observe(m) }
}

func TestIdentityRoundTrip(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const key = "amazon:113-0000001-0000001"
	if _, err := l.Identity(c, key); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown identity: %v", err)
	}
	if _, err := l.Identity(c, ""); !errs.Is(err, errs.Invalid) {
		t.Fatalf("empty key read: %v", err)
	}
	if _, _, err := l.UpdateIdentity(c, "", observe(copyMember(t, "1", t0))); !errs.Is(err, errs.Invalid) {
		t.Fatalf("empty key update: %v", err)
	}

	cp := copyMember(t, "1001", t0)
	cp.Cancelled = true
	before, after, err := l.UpdateIdentity(c, key, observe(cp))
	if err != nil {
		t.Fatal(err)
	}
	if want := (dedupe.Identity{Key: key}); !reflect.DeepEqual(before, want) {
		t.Errorf("before the first write = %+v, want %+v", before, want)
	}
	if after.Key != key || after.Version != 1 || len(after.Members) != 1 || after.Primary != cp.ID {
		t.Errorf("after the first write = %+v", after)
	}
	got, err := l.Identity(c, key)
	if err != nil || !reflect.DeepEqual(got, after) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, after)
	}

	mp := marketplaceMember(t, "113-0000001-0000001", t0.Add(time.Minute))
	before2, after2, err := l.UpdateIdentity(c, key, func(x *dedupe.Identity) bool {
		changed := x.Observe(mp)
		changed = x.Label(cp, t0.Add(time.Hour)) || changed
		return changed
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before2, after) {
		t.Errorf("before the second write = %+v, want %+v", before2, after)
	}
	if after2.Version != 2 || len(after2.Members) != 2 || after2.Primary != cp.ID || after2.Primary != dedupe.Decide(after2) {
		t.Errorf("after the second write = %+v", after2)
	}
	got, err = l.Identity(c, key)
	if err != nil || !reflect.DeepEqual(got, after2) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, after2)
	}
	if m, ok := got.Member(cp.ID); !ok || !m.Labelled || !m.LabelledAt.Equal(t0.Add(time.Hour)) || !m.Cancelled {
		t.Errorf("labelled copy read back as %+v", m)
	}
	if _, err := l.Identity(c, key+"-other"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("other key: %v", err)
	}
}

func TestUpdateIdentityWithoutChangeWritesNothing(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const key = "ebay:12-34567-89012"
	before, after, err := l.UpdateIdentity(c, key, func(x *dedupe.Identity) bool {
		x.Members = append(x.Members, copyMember(t, "1", t0)) // discarded: fn reports no change
		return false
	})
	want := dedupe.Identity{Key: key}
	if err != nil || !reflect.DeepEqual(before, want) || !reflect.DeepEqual(after, want) {
		t.Fatalf("no change on a new key: %+v %+v %v", before, after, err)
	}
	if _, err := l.Identity(c, key); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a no-change update created the identity: %v", err)
	}

	m := copyMember(t, "2", t0)
	if _, _, err := l.UpdateIdentity(c, key, observe(m)); err != nil {
		t.Fatal(err)
	}
	before, after, err = l.UpdateIdentity(c, key, observe(m)) // the same facts again
	if err != nil || before.Version != 1 || !reflect.DeepEqual(before, after) {
		t.Fatalf("replay: %+v %+v %v", before, after, err)
	}
	if got, err := l.Identity(c, key); err != nil || got.Version != 1 {
		t.Fatalf("replay wrote: %+v %v", got, err)
	}
}

func TestUpdateIdentityConcurrentMembersAllKept(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const key, workers = "amazon:113-0000002-0000002", 16
	var wg sync.WaitGroup
	afters := make([]dedupe.Identity, workers)
	errc := make([]error, workers)
	for i := range workers {
		m := copyMember(t, fmt.Sprint(2000+i), t0.Add(time.Duration(i)*time.Second))
		wg.Go(func() {
			_, afters[i], errc[i] = l.UpdateIdentity(c, key, observe(m))
		})
	}
	wg.Wait()
	var versions []int64
	for i, err := range errc {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
		versions = append(versions, afters[i].Version)
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions written = %v, want 1..%d each once", versions, workers)
		}
	}
	got, err := l.Identity(c, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Members) != workers || got.Version != workers {
		t.Fatalf("identity has %d members at version %d, want %d", len(got.Members), got.Version, workers)
	}
	for i := range workers {
		id := copyMember(t, fmt.Sprint(2000+i), t0).ID
		if _, ok := got.Member(id); !ok {
			t.Errorf("member %s lost", id)
		}
	}
	if got.Primary == "" || got.Primary != dedupe.Decide(got) {
		t.Errorf("primary %q, Decide says %q", got.Primary, dedupe.Decide(got))
	}
}

// TestUpdateIdentityNeverTwoPrimaries races the marketplace order against
// its copies: whatever the interleaving, every identity written or
// returned that holds the marketplace order names it primary.
func TestUpdateIdentityNeverTwoPrimaries(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const n = 8
	for round := range 3 {
		key := fmt.Sprintf("amazon:113-0000003-%07d", round)
		mp := marketplaceMember(t, key[len("amazon:"):], t0.Add(time.Hour))
		type result struct {
			before, after dedupe.Identity
			err           error
		}
		results := make([]result, 2*n)
		var calls atomic.Int64
		var wg sync.WaitGroup
		for i := range 2 * n {
			m := mp
			if i%2 == 1 {
				m = copyMember(t, fmt.Sprintf("3%d%03d", round, i), t0.Add(time.Duration(i)*time.Second))
			}
			wg.Go(func() {
				r := &results[i]
				r.before, r.after, r.err = l.UpdateIdentity(c, key, func(x *dedupe.Identity) bool {
					calls.Add(1)
					return x.Observe(m)
				})
			})
		}
		wg.Wait()
		written := map[int64]dedupe.Identity{}
		for i, r := range results {
			if r.err != nil {
				t.Fatalf("round %d, worker %d: %v", round, i, r.err)
			}
			if _, ok := r.after.Member(mp.ID); ok && r.after.Primary != mp.ID {
				t.Errorf("round %d, worker %d: primary %q with the marketplace order a member: %+v", round, i, r.after.Primary, r.after)
			}
			if r.after.Version == r.before.Version {
				continue // nothing written
			}
			if r.after.Version != r.before.Version+1 {
				t.Errorf("round %d, worker %d: wrote version %d over %d", round, i, r.after.Version, r.before.Version)
			}
			if prev, dup := written[r.after.Version]; dup {
				t.Errorf("round %d: version %d written twice: %+v and %+v", round, r.after.Version, prev, r.after)
			}
			written[r.after.Version] = r.after
		}
		got, err := l.Identity(c, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Primary != mp.ID || len(got.Members) != n+1 || int(got.Version) != len(written) {
			t.Errorf("round %d: final %+v (%d writes)", round, got, len(written))
		}
		t.Logf("round %d: %d calls, %d applications of fn, %d writes", round, 2*n, calls.Load(), len(written))
		if m, ok := got.Marketplace(); !ok || m.ID != mp.ID {
			t.Errorf("round %d: marketplace member %+v", round, m)
		}
	}
}

// TestUpdateIdentityGivesUpTransient makes every attempt lose: fn itself
// writes the identity before the outer write can.
func TestUpdateIdentityGivesUpTransient(t *testing.T) {
	l, _, _ := newLedger(t)
	c := ctx(t)
	const key = "amazon:113-0000004-0000004"
	calls := 0
	_, _, err := l.UpdateIdentity(c, key, func(x *dedupe.Identity) bool {
		calls++
		rival := copyMember(t, fmt.Sprint(4000+calls), t0)
		if _, _, err := l.UpdateIdentity(c, key, observe(rival)); err != nil {
			t.Errorf("rival write: %v", err)
		}
		return x.Observe(copyMember(t, "4999", t0))
	})
	if !errs.Is(err, errs.Transient) {
		t.Fatalf("err = %v, want transient", err)
	}
	got, gerr := l.Identity(c, key)
	if gerr != nil || int(got.Version) != calls || len(got.Members) != calls {
		t.Fatalf("after %d lost attempts: %+v %v", calls, got, gerr)
	}
	if _, ok := got.Member(copyMember(t, "4999", t0).ID); ok {
		t.Errorf("a losing write was stored")
	}
}
