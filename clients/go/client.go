package sessiond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Version of this package, sent in the User-Agent.
const Version = "0.1.0"

const (
	mediaJSON       = "application/json"
	mediaMergePatch = "application/merge-patch+json"
	// Sessions are at most 64 KiB by default; anything this large is not an answer of ours.
	maxResponseBytes = 8 << 20
)

// DefaultTimeout bounds each call of a Client made without WithHTTPClient: connecting,
// sending and reading the whole answer. A context's deadline, when earlier, applies first.
const DefaultTimeout = 5 * time.Second

// Client talks to one Sessiond service. It is safe for concurrent use; make one and share it
// (its keep-alive connections are reused across calls).
type Client struct {
	base       string // scheme://host[:port][/prefix], without a trailing slash
	apiKey     string
	userAgent  string
	httpClient *http.Client
}

// An Option configures a Client.
type Option func(*Client)

// WithAPIKey sends Authorization: Bearer <key> on every call (needed when sessiond runs with
// --api-keys-file; the key's namespace is the only one the client sees).
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient uses hc for every call instead of the default client (see NewClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithTimeout sets the default client's overall timeout per call (DefaultTimeout otherwise).
// It has no effect together with WithHTTPClient.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if c.httpClient != nil && c.httpClient.Transport == defaultTransport {
			hc := *c.httpClient
			hc.Timeout = d
			c.httpClient = &hc
		}
	}
}

// WithUserAgent replaces the User-Agent ("sessiond-go/<Version>").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// defaultTransport is shared by the clients made without WithHTTPClient: connections are
// pooled per host. No proxy (Sessiond is an internal service); a connection that stays idle
// for 30 s is closed by the client, before sessiond's --idle-timeout (60 s by default) would
// close it under a request.
var defaultTransport = &http.Transport{
	Proxy: nil,
	DialContext: (&net.Dialer{
		Timeout:   2 * time.Second,
		KeepAlive: 30 * time.Second,
	}).DialContext,
	MaxIdleConns:          256,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       30 * time.Second,
	TLSHandshakeTimeout:   5 * time.Second,
	ResponseHeaderTimeout: DefaultTimeout,
	ExpectContinueTimeout: time.Second,
}

// NewClient makes a client for the service at baseURL ("http://127.0.0.1:8080"; https and a
// path prefix work too).
//
// Without WithHTTPClient it uses an http.Client with a timeout of DefaultTimeout per call, a
// 2 s connect timeout, up to 64 idle keep-alive connections to Sessiond, and no proxy.
// Every method also takes a context: its deadline and cancellation apply to the call.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("sessiond: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sessiond: base URL must be http:// or https:// with a host, and no query: %q", baseURL)
	}
	c := &Client{
		base:       strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		userAgent:  "sessiond-go/" + Version,
		httpClient: &http.Client{Transport: defaultTransport, Timeout: DefaultTimeout},
	}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// URL is the service's base URL.
func (c *Client) URL() string { return c.base }

// Session is a session as Sessiond returns it.
type Session struct {
	SID string
	// Data holds each top-level key's JSON value as Sessiond stored it. Decode one with
	// json.Unmarshal, or all of it with DecodeData.
	Data      map[string]json.RawMessage
	Permanent bool
	// Subject is whom the session belongs to ("" for none).
	Subject string
	// Lifetime is the session's own idle lifetime, 0 when it has none (then Permanent picks
	// the service's --lifetime or --permanent-lifetime).
	Lifetime time.Duration
	// Version grows by one with each write; IfVersion(Version) makes a write conditional.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
	// TTL is the time left, in whole seconds rounded up, when the answer was made.
	TTL time.Duration
}

// ETag is the entity tag of this version (`"3"`).
func (s *Session) ETag() string { return strconv.Quote(strconv.FormatInt(s.Version, 10)) }

// Handle is the name of this session in its subject's listings (see HandleFor).
func (s *Session) Handle() string { return HandleFor(s.SID) }

// DecodeData unmarshals the whole data object into v (a pointer to a struct or a map).
func (s *Session) DecodeData(v interface{}) error {
	raw, err := json.Marshal(s.Data)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

type wireSession struct {
	SID       string                     `json:"sid"`
	Data      map[string]json.RawMessage `json:"data"`
	Permanent bool                       `json:"permanent"`
	Subject   *string                    `json:"subject"`
	Lifetime  *int64                     `json:"lifetime"`
	Version   int64                      `json:"version"`
	CreatedAt time.Time                  `json:"created_at"`
	UpdatedAt time.Time                  `json:"updated_at"`
	ExpiresAt time.Time                  `json:"expires_at"`
	TTL       int64                      `json:"ttl"`
}

func (w *wireSession) session() *Session {
	s := &Session{
		SID:       w.SID,
		Data:      w.Data,
		Permanent: w.Permanent,
		Version:   w.Version,
		CreatedAt: w.CreatedAt,
		UpdatedAt: w.UpdatedAt,
		ExpiresAt: w.ExpiresAt,
		TTL:       time.Duration(w.TTL) * time.Second,
	}
	if s.Data == nil {
		s.Data = map[string]json.RawMessage{}
	}
	if w.Subject != nil {
		s.Subject = *w.Subject
	}
	if w.Lifetime != nil {
		s.Lifetime = time.Duration(*w.Lifetime) * time.Second
	}
	return s
}

// SessionSummary is one entry of a subject's listing: a handle and times, never a sid or
// data.
type SessionSummary struct {
	Handle    string
	Permanent bool
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
	TTL       time.Duration
}

// CreateParams is what Create stores.
type CreateParams struct {
	// Data is a JSON object: a map or a struct (nil for {}).
	Data interface{}
	// Permanent picks the permanent lifetime (31 days by default) over the standard one.
	Permanent bool
	// Subject is your user id, for listing and revoking a user's sessions ("" for none).
	Subject string
	// Lifetime is the session's own idle lifetime, in whole seconds (0 for none); at most the
	// service's --max-lifetime (else ErrInvalid, lifetime-too-long).
	Lifetime time.Duration
	// SID, when set, creates the session under this id (PUT with If-None-Match: *) instead of
	// letting Sessiond choose it: ErrSessionExists when a live session has it. It must be an
	// id your code has just minted with NewSID, NEVER one read from a cookie or any other part
	// of a request: creating a session under an id the client chose is session fixation.
	SID string
}

// ReplaceParams is the whole writable state that Replace stores: what is left out is reset
// (not permanent, no subject, no lifetime of its own).
type ReplaceParams struct {
	Data      interface{}
	Permanent bool
	Subject   string
	Lifetime  time.Duration
}

// Patch is an RFC 7396 merge patch of a session; what is left at its zero value is kept.
type Patch struct {
	// Data is merged into the session's data: a nil value removes its key, a nested map
	// merges into the object under its key, any other value replaces the key's value.
	// (json.RawMessage values are sent as they are.)
	Data map[string]interface{}
	// Permanent, when not nil, sets the permanence.
	Permanent *bool
	// Subject, when not nil, sets the subject; ClearSubject removes it.
	Subject      *string
	ClearSubject bool
	// Lifetime, when not 0, sets the session's own lifetime (whole seconds); ClearLifetime
	// removes it (Permanent picks the lifetime again).
	Lifetime      time.Duration
	ClearLifetime bool
}

// Bool returns a pointer to b, for Patch.Permanent.
func Bool(b bool) *bool { return &b }

// String returns a pointer to s, for Patch.Subject.
func String(s string) *string { return &s }

// A CallOption adds a precondition or a header to one call.
type CallOption func(*callOptions)

type callOptions struct {
	ifMatch   string
	requestID string
}

// IfVersion makes a write (Replace, Patch, Delete, Touch, Rotate) apply only if the session
// is live at this version (If-Match); else ErrPreconditionFailed with the current version,
// and nothing changes.
func IfVersion(version int64) CallOption {
	return func(o *callOptions) { o.ifMatch = strconv.Quote(strconv.FormatInt(version, 10)) }
}

// WithRequestID sends X-Request-Id (1 to 128 visible ASCII characters), which sessiond
// logs with the request.
func WithRequestID(id string) CallOption { return func(o *callOptions) { o.requestID = id } }

func lifetimeSeconds(d time.Duration) (int64, error) {
	if d < time.Second || d%time.Second != 0 {
		return 0, fmt.Errorf("sessiond: a lifetime is whole seconds, at least 1 s, not %s", d)
	}
	return int64(d / time.Second), nil
}

func dataValue(data interface{}) interface{} {
	if data == nil {
		return struct{}{}
	}
	return data
}

// Create stores a new session at version 1 (POST /sessions; with p.SID, PUT /sessions/{sid}
// with If-None-Match: *).
func (c *Client) Create(ctx context.Context, p CreateParams, opts ...CallOption) (*Session, error) {
	body := map[string]interface{}{"data": dataValue(p.Data), "permanent": p.Permanent}
	if p.Subject != "" {
		body["subject"] = p.Subject
	}
	if p.Lifetime != 0 {
		seconds, err := lifetimeSeconds(p.Lifetime)
		if err != nil {
			return nil, err
		}
		body["lifetime"] = seconds
	}
	if p.SID == "" {
		return c.session(ctx, request{method: http.MethodPost, path: "/sessions", body: body, media: mediaJSON}, opts)
	}
	return c.session(ctx, request{
		method: http.MethodPut, path: "/sessions/" + url.PathEscape(p.SID), route: "/sessions/{sid}",
		body: body, media: mediaJSON, ifNoneMatch: "*",
	}, opts)
}

// Get reads a live session (GET /sessions/{sid}); it does not extend its life.
func (c *Client) Get(ctx context.Context, sid string, opts ...CallOption) (*Session, error) {
	return c.session(ctx, request{method: http.MethodGet, path: sessionPath(sid), route: "/sessions/{sid}"}, opts)
}

// GetAndTouch reads a live session and slides its expiry, in one call
// (GET /sessions/{sid}?touch=true); the version stays.
func (c *Client) GetAndTouch(ctx context.Context, sid string, opts ...CallOption) (*Session, error) {
	return c.session(ctx, request{
		method: http.MethodGet, path: sessionPath(sid) + "?touch=true", route: "/sessions/{sid}",
	}, opts)
}

// Replace replaces data, permanence, subject and lifetime as a whole (PUT /sessions/{sid}).
// It never creates: ErrNotFound when the session is gone.
func (c *Client) Replace(ctx context.Context, sid string, p ReplaceParams, opts ...CallOption) (*Session, error) {
	body := map[string]interface{}{"data": dataValue(p.Data), "permanent": p.Permanent}
	if p.Subject != "" {
		body["subject"] = p.Subject
	}
	if p.Lifetime != 0 {
		seconds, err := lifetimeSeconds(p.Lifetime)
		if err != nil {
			return nil, err
		}
		body["lifetime"] = seconds
	}
	return c.session(ctx, request{
		method: http.MethodPut, path: sessionPath(sid), route: "/sessions/{sid}", body: body, media: mediaJSON,
	}, opts)
}

// Patch applies a merge patch atomically (PATCH /sessions/{sid}): two requests that change
// different keys both keep their change. It never creates: ErrNotFound when the session is
// gone.
func (c *Client) Patch(ctx context.Context, sid string, p Patch, opts ...CallOption) (*Session, error) {
	body := map[string]interface{}{}
	if p.Data != nil {
		body["data"] = p.Data
	}
	if p.Permanent != nil {
		body["permanent"] = *p.Permanent
	}
	switch {
	case p.Subject != nil && p.ClearSubject:
		return nil, errors.New("sessiond: Patch sets Subject and ClearSubject")
	case p.Subject != nil:
		body["subject"] = *p.Subject
	case p.ClearSubject:
		body["subject"] = nil
	}
	switch {
	case p.Lifetime != 0 && p.ClearLifetime:
		return nil, errors.New("sessiond: Patch sets Lifetime and ClearLifetime")
	case p.Lifetime != 0:
		seconds, err := lifetimeSeconds(p.Lifetime)
		if err != nil {
			return nil, err
		}
		body["lifetime"] = seconds
	case p.ClearLifetime:
		body["lifetime"] = nil
	}
	return c.PatchDocument(ctx, sid, body, opts...)
}

// PatchDocument sends doc, a whole merge patch document ({"data": {...}, "permanent": ...}),
// as it is.
func (c *Client) PatchDocument(ctx context.Context, sid string, doc interface{}, opts ...CallOption) (*Session, error) {
	return c.session(ctx, request{
		method: http.MethodPatch, path: sessionPath(sid), route: "/sessions/{sid}", body: doc, media: mediaMergePatch,
	}, opts)
}

// Delete removes a session (a logout). It succeeds also when the session was already gone.
func (c *Client) Delete(ctx context.Context, sid string, opts ...CallOption) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: sessionPath(sid), route: "/sessions/{sid}"}, opts)
	return err
}

// Touch slides the session's expiry without writing (POST /sessions/{sid}/touch).
func (c *Client) Touch(ctx context.Context, sid string, opts ...CallOption) (*Session, error) {
	return c.session(ctx, request{
		method: http.MethodPost, path: sessionPath(sid) + "/touch", route: "/sessions/{sid}/touch",
	}, opts)
}

// Rotate gives the session a new sid (returned in the session); the old one is gone at once.
// Call it at login, so that an id planted before is worthless after.
func (c *Client) Rotate(ctx context.Context, sid string, opts ...CallOption) (*Session, error) {
	return c.session(ctx, request{
		method: http.MethodPost, path: sessionPath(sid) + "/rotate", route: "/sessions/{sid}/rotate",
	}, opts)
}

// SubjectSessions lists the live sessions of a subject, oldest first.
func (c *Client) SubjectSessions(ctx context.Context, subject string, opts ...CallOption) ([]SessionSummary, error) {
	raw, err := c.do(ctx, request{
		method: http.MethodGet, path: subjectPath(subject), route: "/subjects/{subject}/sessions",
	}, opts)
	if err != nil {
		return nil, err
	}
	var body struct {
		Sessions []struct {
			Handle    string    `json:"handle"`
			Permanent bool      `json:"permanent"`
			CreatedAt time.Time `json:"created_at"`
			UpdatedAt time.Time `json:"updated_at"`
			ExpiresAt time.Time `json:"expires_at"`
			TTL       int64     `json:"ttl"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("sessiond: GET /subjects/{subject}/sessions: answer is not a listing: %w", err)
	}
	list := make([]SessionSummary, 0, len(body.Sessions))
	for _, s := range body.Sessions {
		list = append(list, SessionSummary{
			Handle: s.Handle, Permanent: s.Permanent, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
			ExpiresAt: s.ExpiresAt, TTL: time.Duration(s.TTL) * time.Second,
		})
	}
	return list, nil
}

// RevokeSubject ends every live session of the subject ("log out everywhere"), or all but the
// one whose handle is exceptHandle (the current device's; "" for none). It returns how many
// it ended.
func (c *Client) RevokeSubject(ctx context.Context, subject, exceptHandle string, opts ...CallOption) (int, error) {
	path := subjectPath(subject)
	if exceptHandle != "" {
		path += "?except=" + url.QueryEscape(exceptHandle)
	}
	raw, err := c.do(ctx, request{method: http.MethodDelete, path: path, route: "/subjects/{subject}/sessions"}, opts)
	if err != nil {
		return 0, err
	}
	var body struct {
		Revoked int `json:"revoked"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return 0, fmt.Errorf("sessiond: DELETE /subjects/{subject}/sessions: answer is not JSON: %w", err)
	}
	return body.Revoked, nil
}

// RevokeHandle ends one session of the subject, named by its handle (it succeeds also when
// there was none).
func (c *Client) RevokeHandle(ctx context.Context, subject, handle string, opts ...CallOption) error {
	_, err := c.do(ctx, request{
		method: http.MethodDelete, path: subjectPath(subject) + "/" + url.PathEscape(handle),
		route: "/subjects/{subject}/sessions/{handle}",
	}, opts)
	return err
}

// Ready returns nil when the service and its store answer (GET /readyz), else an error that
// matches ErrUnavailable (or, for a service that is shutting down, whose slug is
// "shutting-down").
func (c *Client) Ready(ctx context.Context, opts ...CallOption) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/readyz", noKey: true}, opts)
	return err
}

func sessionPath(sid string) string { return "/sessions/" + url.PathEscape(sid) }

func subjectPath(subject string) string { return "/subjects/" + url.PathEscape(subject) + "/sessions" }

type request struct {
	method, path string
	route        string // the path as errors name it: no sid, no subject
	body         interface{}
	media        string
	ifNoneMatch  string
	noKey        bool
}

func (c *Client) session(ctx context.Context, req request, opts []CallOption) (*Session, error) {
	raw, err := c.do(ctx, req, opts)
	if err != nil {
		return nil, err
	}
	var w wireSession
	if err := json.Unmarshal(raw, &w); err != nil || w.SID == "" {
		return nil, &Error{Op: req.op(), Status: http.StatusOK, Title: "answer is not a session", Err: err}
	}
	return w.session(), nil
}

func (r request) op() string {
	route := r.route
	if route == "" {
		route = r.path
	}
	return r.method + " " + route
}

func (c *Client) do(ctx context.Context, req request, opts []CallOption) ([]byte, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	var body io.Reader
	var payload []byte
	if req.body != nil {
		var err error
		if payload, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("sessiond: %s: the body cannot be JSON: %w", req.op(), err)
		}
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, body)
	if err != nil {
		return nil, fmt.Errorf("sessiond: %s: %w", req.op(), err)
	}
	hr.Header.Set("Accept", "application/json, application/problem+json")
	hr.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		hr.Header.Set("Content-Type", req.media)
	}
	if c.apiKey != "" && !req.noKey {
		hr.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if o.ifMatch != "" {
		hr.Header.Set("If-Match", o.ifMatch)
	}
	if req.ifNoneMatch != "" {
		hr.Header.Set("If-None-Match", req.ifNoneMatch)
	}
	if o.requestID != "" {
		hr.Header.Set("X-Request-Id", o.requestID)
	}
	resp, err := c.httpClient.Do(hr)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The caller gave up (its request ended): not a verdict on Sessiond.
			return nil, fmt.Errorf("sessiond: %s: %w", req.op(), ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the sid: keep it out of messages and logs
		}
		return nil, &Error{Op: req.op(), Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &Error{Op: req.op(), Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	return nil, problem(req.op(), resp, raw)
}

func problem(op string, resp *http.Response, raw []byte) *Error {
	e := &Error{Op: op, Status: resp.StatusCode}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var body map[string]interface{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&body) == nil {
			e.Problem = body
			e.Type, _ = body["type"].(string)
			e.Title, _ = body["title"].(string)
			e.Detail, _ = body["detail"].(string)
			if n, ok := body["current_version"].(json.Number); ok {
				e.CurrentVersion, _ = n.Int64()
			}
		}
	}
	if e.Problem == nil {
		text := strings.TrimSpace(string(raw))
		if len(text) > 200 {
			text = text[:200]
		}
		e.Detail = text
	}
	if seconds, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Retry-After")), 10, 64); err == nil && seconds >= 0 {
		e.RetryAfter = time.Duration(seconds) * time.Second
	}
	return e
}
