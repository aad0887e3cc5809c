package sandbox

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Faults are the fault-injection knobs of one simulated server. Rates are
// probabilities in [0, 1] rolled per request (or per webhook) with the
// sandbox's seeded generator.
type Faults struct {
	// Rate429 is the probability of answering 429 (with the vendor's rate
	// headers) although the quota is not exhausted.
	Rate429 float64 `json:"rate_429"`
	// Rate5xx is the probability of answering 500, 502 or 503 before the
	// request has any effect.
	Rate5xx float64 `json:"rate_5xx"`
	// RateLostResponse is the probability that a mutating request (POST, PUT,
	// DELETE) takes effect but the client receives a 502 instead of the
	// answer, as when a response is lost on the way back.
	RateLostResponse float64 `json:"rate_lost_response"`
	// Latency is added to every API request.
	Latency time.Duration `json:"-"`
	// LatencyJitter adds a uniformly random extra delay in [0, LatencyJitter).
	LatencyJitter time.Duration `json:"-"`
	// WebhookDropRate is the probability that a webhook is never delivered.
	WebhookDropRate float64 `json:"webhook_drop_rate"`
	// WebhookDuplicateRate is the probability that a webhook is delivered a
	// second time with the identical body and headers.
	WebhookDuplicateRate float64 `json:"webhook_duplicate_rate"`
}

// ServerStats are the request counters common to both servers.
type ServerStats struct {
	// Requests counts API requests (admin requests excluded).
	Requests int64 `json:"requests"`
	// RequestsByRoute counts API requests per route pattern, e.g.
	// "GET /v2/orders" or "POST /orders/createorders".
	RequestsByRoute map[string]int64 `json:"requests_by_route"`
	// Unauthorized counts 401 answers.
	Unauthorized int64 `json:"unauthorized_401"`
	// RateLimited429 counts 429s served because the quota was exhausted.
	RateLimited429 int64 `json:"rate_limited_429"`
	// Injected429 counts 429s served by the Rate429 knob.
	Injected429 int64 `json:"injected_429"`
	// Total429 is RateLimited429 + Injected429.
	Total429 int64 `json:"total_429"`
	// Injected5xx counts 5xx served by the Rate5xx knob.
	Injected5xx int64 `json:"injected_5xx"`
	// LostResponses counts requests applied whose answer was replaced by a 502.
	LostResponses int64 `json:"lost_responses"`
}

// rlState is the outcome of one rate-limit check.
type rlState struct {
	allowed bool
	quota   int
	left    int
	window  time.Duration
	reset   time.Duration
}

// fixedWindow is a fixed-window request counter per key. A window opens at a
// key's first request and lasts for window; the quota is then restored.
type fixedWindow struct {
	mu      sync.Mutex
	quota   int
	window  time.Duration
	buckets map[string]*windowBucket
}

type windowBucket struct {
	start time.Time
	used  int
}

func newFixedWindow(quota int, window time.Duration) *fixedWindow {
	return &fixedWindow{quota: quota, window: window, buckets: map[string]*windowBucket{}}
}

func (l *fixedWindow) configure(quota int, window time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if quota > 0 {
		l.quota = quota
	}
	if window > 0 {
		l.window = window
	}
	l.buckets = map[string]*windowBucket{}
}

func (l *fixedWindow) settings() (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.quota, l.window
}

func (l *fixedWindow) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets = map[string]*windowBucket{}
}

// take consumes one request of key's quota if any is left.
func (l *fixedWindow) take(key string, now time.Time) rlState {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || !now.Before(b.start.Add(l.window)) {
		b = &windowBucket{start: now}
		l.buckets[key] = b
	}
	st := rlState{quota: l.quota, window: l.window, reset: b.start.Add(l.window).Sub(now)}
	if b.used < l.quota {
		b.used++
		st.allowed = true
	}
	st.left = l.quota - b.used
	return st
}

// front is the part common to both simulated servers: fault knobs, the
// seeded fault generator, the rate limiter and the request counters.
type front struct {
	name    string
	limiter *fixedWindow

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	st     ServerStats
}

func newFront(name string, f Faults, seed uint64, quota int, window time.Duration) *front {
	return &front{
		name:    name,
		limiter: newFixedWindow(quota, window),
		faults:  f,
		rng:     rand.New(rand.NewPCG(seed, 0x6661756c74)), // "fault"
		st:      ServerStats{RequestsByRoute: map[string]int64{}},
	}
}

func (f *front) setFaults(x Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = x
}

func (f *front) getFaults() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// roll returns true with probability p.
func (f *front) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < p
}

func (f *front) count(fn func(st *ServerStats)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.st)
}

func (f *front) stats() ServerStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.st
	out.RequestsByRoute = make(map[string]int64, len(f.st.RequestsByRoute))
	for k, v := range f.st.RequestsByRoute {
		out.RequestsByRoute[k] = v
	}
	out.Total429 = out.RateLimited429 + out.Injected429
	return out
}

// apiDialect is how one vendor authenticates and words its errors.
type apiDialect struct {
	// authenticate returns the rate-limit key of the caller, or ok=false.
	authenticate func(r *http.Request) (key string, ok bool)
	// rateHeaders sets the vendor's rate-limit headers.
	rateHeaders  func(h http.Header, st rlState)
	unauthorized func(w http.ResponseWriter, r *http.Request)
	tooMany      func(w http.ResponseWriter, r *http.Request)
	serverError  func(w http.ResponseWriter, r *http.Request, code int)
	// routeName turns a ServeMux pattern into the RequestsByRoute key.
	routeName func(pattern string) string
}

// serveAPI runs one vendor API request through authentication, the rate
// limiter and the fault knobs before handing it to next.
func (f *front) serveAPI(w http.ResponseWriter, r *http.Request, d apiDialect, now time.Time, next http.Handler) {
	f.count(func(st *ServerStats) { st.Requests++ })
	key, ok := d.authenticate(r)
	if !ok {
		f.count(func(st *ServerStats) { st.Unauthorized++ })
		d.unauthorized(w, r)
		return
	}
	rl := f.limiter.take(key, now)
	d.rateHeaders(w.Header(), rl)
	if !rl.allowed {
		f.count(func(st *ServerStats) { st.RateLimited429++ })
		d.tooMany(w, r)
		return
	}
	fl := f.getFaults()
	if delay := f.latency(fl); delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.roll(fl.Rate429) {
		f.count(func(st *ServerStats) { st.Injected429++ })
		d.tooMany(w, r)
		return
	}
	if f.roll(fl.Rate5xx) {
		f.count(func(st *ServerStats) { st.Injected5xx++ })
		d.serverError(w, r, f.pick5xx())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && f.roll(fl.RateLostResponse) {
		rec := &discardWriter{h: http.Header{}}
		next.ServeHTTP(rec, r)
		f.count(func(st *ServerStats) {
			st.LostResponses++
			st.RequestsByRoute[d.routeName(r.Pattern)]++
		})
		d.serverError(w, r, http.StatusBadGateway)
		return
	}
	next.ServeHTTP(w, r)
	f.count(func(st *ServerStats) { st.RequestsByRoute[d.routeName(r.Pattern)]++ })
}

func (f *front) latency(fl Faults) time.Duration {
	d := fl.Latency
	if fl.LatencyJitter > 0 {
		f.mu.Lock()
		d += time.Duration(f.rng.Int64N(int64(fl.LatencyJitter)))
		f.mu.Unlock()
	}
	return d
}

func (f *front) pick5xx() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[f.rng.IntN(3)]
}

// discardWriter swallows a response (used for lost responses).
type discardWriter struct {
	h    http.Header
	body bytes.Buffer
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return d.body.Write(p) }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// methodFallback answers requests no pattern matched: 405 when the path
// exists for another method, 404 otherwise.
func methodFallback(mux *http.ServeMux, notFound func(w http.ResponseWriter, r *http.Request), notAllowed func(w http.ResponseWriter, r *http.Request, allow []string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" && p != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			sort.Strings(allow)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			notAllowed(w, r, allow)
			return
		}
		notFound(w, r)
	}
}
