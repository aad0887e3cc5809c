package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shiprelay/shiprelay/infra/samtemplate"
)

// route is one HttpApi route.
type route struct {
	fn       *function
	event    string
	method   string // upper case; ANY matches every method
	path     string // template: /webhooks/bigcommerce/{storeId}
	routeKey string
	segments []string
	timeout  time.Duration
}

func newRoute(fn *function, ev samtemplate.Event, res samtemplate.Resolver) (*route, error) {
	h := ev.HttpApi
	if !strings.HasPrefix(h.Path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", h.Path)
	}
	if h.PayloadFormatVersion != "2.0" {
		return nil, fmt.Errorf("payload format %s: the runner speaks 2.0", h.PayloadFormatVersion)
	}
	ms, err := h.TimeoutInMillis.IntOr(res, 30000)
	if err != nil {
		return nil, fmt.Errorf("TimeoutInMillis: %w", err)
	}
	timeout := min(fn.timeout, time.Duration(ms)*time.Millisecond)
	return &route{
		fn: fn, event: ev.Name, method: h.Method, path: h.Path, routeKey: h.RouteKey(),
		segments: strings.Split(strings.TrimPrefix(h.Path, "/"), "/"), timeout: timeout,
	}, nil
}

// specificity orders routes as API Gateway prefers them: more literal
// segments first, greedy paths last.
func (rt *route) specificity() int {
	n := 0
	for _, s := range rt.segments {
		switch {
		case strings.HasSuffix(s, "+}"):
			n -= 1000
		case strings.HasPrefix(s, "{"):
		default:
			n += 10
		}
	}
	if rt.method != "ANY" {
		n++
	}
	return n
}

// match returns the path parameters when rawPath matches the route.
func (rt *route) match(method, rawPath string) (map[string]string, bool) {
	if rt.method != "ANY" && rt.method != method {
		return nil, false
	}
	parts := strings.Split(strings.TrimPrefix(rawPath, "/"), "/")
	params := map[string]string{}
	for i, seg := range rt.segments {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(parts) {
				return nil, false
			}
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return nil, false
			}
			v, err := url.PathUnescape(rest)
			if err != nil {
				return nil, false
			}
			params[seg[1:len(seg)-2]] = v
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if parts[i] == "" {
				return nil, false
			}
			v, err := url.PathUnescape(parts[i])
			if err != nil {
				return nil, false
			}
			params[seg[1:len(seg)-1]] = v
			continue
		}
		if seg != parts[i] {
			return nil, false
		}
	}
	if len(parts) != len(rt.segments) {
		return nil, false
	}
	return params, true
}

// httpEvent is the API Gateway HTTP API payload format 2.0 request, with
// the fields API Gateway leaves out when empty omitted (it decodes into
// events.APIGatewayV2HTTPRequest).
type httpEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	RequestContext        httpContext       `json:"requestContext"`
	Body                  *string           `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type httpContext struct {
	AccountID    string   `json:"accountId"`
	APIID        string   `json:"apiId"`
	DomainName   string   `json:"domainName"`
	DomainPrefix string   `json:"domainPrefix"`
	HTTP         httpDesc `json:"http"`
	RequestID    string   `json:"requestId"`
	RouteKey     string   `json:"routeKey"`
	Stage        string   `json:"stage"`
	Time         string   `json:"time"`
	TimeEpoch    int64    `json:"timeEpoch"`
}

type httpDesc struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// BuildHTTPEvent builds the payload format 2.0 event API Gateway's HTTP API
// sends for request req matched to routeKey with the given path parameters.
// Headers are lower-cased (repeated ones joined with ","), Cookie headers
// become cookies, a body that is not valid UTF-8 is base64-encoded.
func BuildHTTPEvent(req *http.Request, body []byte, routeKey string, pathParams map[string]string, accountID, requestID string, now time.Time) ([]byte, error) {
	rawPath := req.URL.EscapedPath()
	headers := map[string]string{}
	var cookies []string
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = req.Host
	if _, ok := headers["content-length"]; !ok && len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	sourceIP, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		sourceIP = req.RemoteAddr
	}
	if xff, ok := headers["x-forwarded-for"]; ok {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	_, port, _ := net.SplitHostPort(req.Host)
	if port == "" {
		port = "80"
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	headers["x-amzn-trace-id"] = traceID(now)

	var query map[string]string
	if req.URL.RawQuery != "" {
		q, _ := url.ParseQuery(req.URL.RawQuery)
		if len(q) > 0 {
			query = map[string]string{}
			for k, vs := range q {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ev := httpEvent{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               rawPath,
		RawQueryString:        req.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: httpContext{
			AccountID:    accountID,
			APIID:        "local",
			DomainName:   host,
			DomainPrefix: strings.SplitN(host, ".", 2)[0],
			HTTP: httpDesc{
				Method:    req.Method,
				Path:      rawPath,
				Protocol:  req.Proto,
				SourceIP:  sourceIP,
				UserAgent: req.UserAgent(),
			},
			RequestID: requestID,
			RouteKey:  routeKey,
			Stage:     "$default",
			Time:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch: now.UnixMilli(),
		},
	}
	if len(pathParams) > 0 {
		ev.PathParameters = pathParams
	}
	if len(body) > 0 {
		var s string
		if utf8.Valid(body) {
			s = string(body)
		} else {
			s = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
		ev.Body = &s
	}
	return json.Marshal(ev)
}

func traceID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b[:]))
}

// apiRequestID looks like API Gateway's requestContext.requestId.
func apiRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.TrimRight(base64.StdEncoding.EncodeToString(b[:]), "=") + "="
}

// WriteHTTPResponse writes a function's payload format 2.0 result as API
// Gateway does: a JSON object with statusCode is an
// events.APIGatewayV2HTTPResponse (headers, multiValueHeaders, cookies,
// base64 body); any other valid JSON is a 200 application/json body.
func WriteHTTPResponse(w http.ResponseWriter, out []byte) error {
	trimmed := bytes.TrimSpace(out)
	var probe map[string]json.RawMessage
	if json.Unmarshal(trimmed, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(trimmed, &resp); err != nil {
				return fmt.Errorf("malformed Lambda proxy response: %w", err)
			}
			if resp.StatusCode < 100 || resp.StatusCode > 599 {
				return fmt.Errorf("malformed Lambda proxy response: statusCode %d", resp.StatusCode)
			}
			body := []byte(resp.Body)
			if resp.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(resp.Body)
				if err != nil {
					return fmt.Errorf("malformed Lambda proxy response: body: %w", err)
				}
				body = b
			}
			for k, v := range resp.Headers {
				w.Header().Set(k, v)
			}
			for k, vs := range resp.MultiValueHeaders {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			for _, c := range resp.Cookies {
				w.Header().Add("Set-Cookie", c)
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(resp.StatusCode)
			_, err := w.Write(body)
			return err
		}
	}
	if !json.Valid(trimmed) {
		return errors.New("malformed Lambda proxy response: not JSON")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(trimmed)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(trimmed)
	return err
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func apiError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// ServeHTTP serves the template's HttpApi routes and the runner's own
// endpoints (GET /_runner/status, POST /_runner/schedules/{Function}).
func (r *Runner) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if rest, ok := strings.CutPrefix(req.URL.Path, "/_runner/"); ok {
		r.serveRunner(w, req, rest)
		return
	}
	rawPath := req.URL.EscapedPath()
	var rt *route
	var params map[string]string
	for _, c := range r.routes {
		if p, ok := c.match(req.Method, rawPath); ok {
			rt, params = c, p
			break
		}
	}
	if rt == nil {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxPayloadBytes+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayloadBytes {
		apiError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	reqID := apiRequestID()
	w.Header().Set("Apigw-Requestid", reqID)
	payload, err := BuildHTTPEvent(req, body, rt.routeKey, params, r.cfg.AccountID, reqID, time.Now())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out, _, err := r.invokeTimeout(req.Context(), rt.fn, "http "+rt.routeKey, payload, rt.timeout)
	switch {
	case errors.Is(err, ErrTimeout):
		apiError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	case err != nil:
		apiError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := WriteHTTPResponse(w, out); err != nil {
		r.log.Warn("bad function response", "function", rt.fn.fn.LogicalID, "error", err.Error())
		apiError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func (r *Runner) serveRunner(w http.ResponseWriter, req *http.Request, rest string) {
	switch {
	case rest == "status":
		if req.Method != http.MethodGet {
			apiError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		st, err := r.Status(req.Context())
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	case strings.HasPrefix(rest, "schedules/"):
		if req.Method != http.MethodPost {
			apiError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		id := strings.TrimPrefix(rest, "schedules/")
		res, err := r.FireSchedule(req.Context(), id)
		switch {
		case errors.Is(err, ErrNoSchedule):
			writeJSON(w, http.StatusNotFound, map[string]string{"message": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusBadGateway, res)
		default:
			writeJSON(w, http.StatusOK, res)
		}
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

// Status is what GET /_runner/status returns.
type Status struct {
	// StartedAt is when the runner started.
	StartedAt time.Time `json:"startedAt"`
	// URL is the runner's base URL.
	URL string `json:"url"`
	// Queues by logical id, dead-letter queues included.
	Queues map[string]QueueStatus `json:"queues"`
	// Functions by logical id.
	Functions map[string]FunctionStatus `json:"functions"`
}

// QueueStatus is one queue's state.
type QueueStatus struct {
	// URL is the local queue URL.
	URL string `json:"url"`
	// DeadLetterQueue is the queue's DLQ (logical id), if it has one.
	DeadLetterQueue string `json:"deadLetterQueue,omitempty"`
	// DeadLetterFor lists the queues this one is the DLQ of.
	DeadLetterFor []string `json:"deadLetterFor,omitempty"`
	// Visible, InFlight and Delayed are the approximate message counts.
	Visible  int `json:"visible"`
	InFlight int `json:"inFlight"` // see Visible
	Delayed  int `json:"delayed"`  // see Visible
}

// FunctionStatus is one function's counters.
type FunctionStatus struct {
	// Name is the CodeUri directory ("webhook").
	Name string `json:"name"`
	// Invocations counts invocations since start, Errors the failed ones
	// (function errors, timeouts), InFlight those running now.
	Invocations int64 `json:"invocations"`
	Errors      int64 `json:"errors"`   // see Invocations
	InFlight    int64 `json:"inFlight"` // see Invocations
	// Triggers lists the function's routes, queues and schedules.
	Triggers []string `json:"triggers"`
}

// Status reports every queue's approximate visible, in-flight and delayed
// counts (dead-letter queues included) and every function's invocation and
// error counts.
func (r *Runner) Status(ctx context.Context) (*Status, error) {
	st := &Status{StartedAt: r.started, URL: r.URL(), Queues: map[string]QueueStatus{}, Functions: map[string]FunctionStatus{}}
	for _, id := range r.queueIDs {
		q := r.queues[id]
		qs := QueueStatus{URL: q.url, DeadLetterFor: q.dlqOf}
		if q.q.Redrive != nil {
			qs.DeadLetterQueue = q.q.Redrive.DeadLetterQueue
		}
		if r.sqs != nil && q.url != "" {
			v, f, d, err := r.depth(ctx, q.url)
			if err != nil {
				return nil, fmt.Errorf("queue %s: %w", id, err)
			}
			qs.Visible, qs.InFlight, qs.Delayed = v, f, d
		}
		st.Queues[id] = qs
	}
	for _, f := range r.functions {
		fs := FunctionStatus{Name: f.name, Invocations: f.invocations.Load(), Errors: f.errors.Load(), InFlight: f.inFlight.Load()}
		for _, rt := range r.routes {
			if rt.fn == f {
				fs.Triggers = append(fs.Triggers, "http "+rt.routeKey)
			}
		}
		for _, m := range r.mappings {
			if m.fn == f {
				fs.Triggers = append(fs.Triggers, "sqs "+m.queueID)
			}
		}
		for _, s := range r.schedules {
			if s.fn == f {
				fs.Triggers = append(fs.Triggers, "schedule "+s.describe())
			}
		}
		sort.Strings(fs.Triggers)
		st.Functions[f.fn.LogicalID] = fs
	}
	return st, nil
}
