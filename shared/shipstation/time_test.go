package shipstation

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFormatTimeAcrossDST(t *testing.T) {
	cases := []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2026, 1, 15, 20, 0, 0, 0, time.UTC), "2026-01-15T12:00:00.0000000"},      // PST, UTC-8
		{time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC), "2026-07-01T12:00:00.0000000"},       // PDT, UTC-7
		{time.Date(2026, 3, 8, 9, 59, 59, 0, time.UTC), "2026-03-08T01:59:59.0000000"},      // last second of PST
		{time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC), "2026-03-08T03:00:00.0000000"},       // spring forward
		{time.Date(2026, 11, 1, 8, 30, 0, 0, time.UTC), "2026-11-01T01:30:00.0000000"},      // 01:30 PDT
		{time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC), "2026-11-01T01:30:00.0000000"},      // 01:30 PST, again
		{time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "2026-11-01T02:00:00.0000000"},      // PST
		{time.Date(2026, 12, 31, 23, 0, 0, 123e6, time.UTC), "2026-12-31T15:00:00.1230000"}, // fraction kept
		{time.Date(2026, 7, 1, 21, 0, 0, 0, time.FixedZone("CEST", 2*3600)), "2026-07-01T12:00:00.0000000"},
	}
	for _, tc := range cases {
		if got := FormatTime(tc.utc); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.utc, got, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	cases := map[string]time.Time{
		"2026-11-21T09:15:02.1230000": time.Date(2026, 11, 21, 17, 15, 2, 123e6, time.UTC),
		"2026-07-01T12:00:00.0000000": time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC),
		"2026-07-01T12:00:00":         time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC),
		"2016-11-29 23:59:59":         time.Date(2016, 11, 30, 7, 59, 59, 0, time.UTC),
		"2026-11-21":                  time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
		"2026-03-08T03:00:00.0000000": time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC),
		"2026-07-01T12:00:00-04:00":   time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "21/11/2026", "2026-13-01", "now"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Round trip through the wire format for every hour of a DST-change day.
	start := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
	for h := range 24 {
		u := start.Add(time.Duration(h) * time.Hour)
		back, err := ParseTime(FormatTime(u))
		if err != nil || !back.Equal(u) {
			t.Errorf("round trip %v → %v %v", u, back, err)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	var v struct {
		A Time `json:"a"`
		B Time `json:"b"`
		C Time `json:"c"`
		D Time `json:"d,omitzero"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2026-07-01T12:00:00.0000000","b":null,"c":""}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Equal(time.Date(2026, 7, 1, 19, 0, 0, 0, time.UTC)) || !v.B.IsZero() || !v.C.IsZero() {
		t.Errorf("%+v", v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"a":"2026-07-01T12:00:00.0000000","b":null,"c":null}` {
		t.Errorf("%s", b)
	}
	for _, bad := range []string{`{"a":5}`, `{"a":"later"}`, `{"a":{}}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if Pacific().String() != "America/Los_Angeles" {
		t.Errorf("location %s", Pacific())
	}
	if !At(nil).IsZero() {
		t.Error("At(nil)")
	}
}
