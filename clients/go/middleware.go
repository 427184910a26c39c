package sessiond

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/sessiond/sessiond/clients/go/internal/mergepatch"
)

// Middleware keeps each request's session in Sessiond, with only the sid in a cookie. Make
// it with NewMiddleware, change its fields before use, and wrap your handler with Handler.
//
// Loading is eager: when the request carries a cookie with a sid, the session is read
// (GET /sessions/{sid}?touch=true, which also slides its expiry) before the handler runs,
// so the handler never runs without its session (or, failing open, with an empty one it
// knows about). A request without the cookie costs no call. An unknown, expired or
// malformed sid gives a new, empty session; its sid is chosen by Sessiond when it is first
// stored, never taken from the cookie.
//
// Saving happens when the response starts (the handler's first Write, WriteHeader or
// Flush), or after the handler when it writes nothing: the changes go to Sessiond first, then
// the cookie is set, then the headers go out. So a response never reaches the browser
// before its session is saved, and when the save fails (failing closed) the response is
// replaced by the ErrorHandler's. What the handler changes in the session after the
// response started is saved after the handler, except what needs a new cookie (a first
// save of a new session, a rotation), which is then logged and dropped.
//
// What a request sends: nothing when the session did not change. Else the changes of the
// top-level keys as one merge patch (Client.Update), so two concurrent requests of a user
// that change different keys both keep their change. A new session is created (POST) only
// once it holds data; an emptied or destroyed one is deleted and its cookie removed; a
// rotated one gets its new sid by POST /sessions/{sid}/rotate after the changes.
type Middleware struct {
	Client *Client

	// CookieName is "session" by default. The cookie is HttpOnly; Path, Domain, Secure and
	// SameSite (Lax by default) come from the fields below.
	CookieName     string
	CookiePath     string
	CookieDomain   string
	CookieSecure   bool
	CookieSameSite http.SameSite

	// NoTouch reads sessions without sliding their expiry (GET without ?touch=true): then
	// only writes extend a session's life.
	NoTouch bool

	// FailOpen: when Sessiond is unavailable, the request goes on with an empty session that
	// is never saved (Unavailable reports it), so it cannot overwrite the user's real one,
	// and a warning is logged (an error for changes that were not saved). By default
	// (false) the middleware fails closed: the ErrorHandler answers instead of the handler
	// (when loading) or instead of its response (when saving).
	FailOpen bool

	// ErrorHandler answers when the session cannot be loaded or saved. The default logs the
	// error and answers 503 (with Retry-After when Sessiond sent one) when Sessiond is
	// unavailable, else 500.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger is log.Default() when nil.
	Logger *log.Logger
}

// NewMiddleware returns a Middleware with the default settings.
func NewMiddleware(client *Client) *Middleware {
	return &Middleware{
		Client:         client,
		CookieName:     "session",
		CookiePath:     "/",
		CookieSameSite: http.SameSiteLaxMode,
	}
}

type contextKey struct{}

// FromContext returns the request's session, or nil outside Middleware.Handler.
func FromContext(ctx context.Context) *RequestSession {
	s, _ := ctx.Value(contextKey{}).(*RequestSession)
	return s
}

// RequestSession is the session of one request. Its methods are safe for concurrent use by
// the goroutines of that request.
type RequestSession struct {
	mu sync.Mutex
	// read is the session as Sessiond last gave it (nil for a new session).
	read *Session
	// values are the data as the request left it, each key's JSON text.
	values      map[string]json.RawMessage
	permanent   bool
	subject     string
	lifetime    time.Duration
	modified    bool
	rotate      bool
	destroyed   bool
	touched     bool
	staleCookie bool
	unavailable bool
}

// Get unmarshals the value of key into v and reports whether the key was there.
func (s *RequestSession) Get(key string, v interface{}) (bool, error) {
	s.mu.Lock()
	raw, ok := s.values[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// GetString is the string under key, or "" when there is none (or it is no string).
func (s *RequestSession) GetString(key string) string {
	var v string
	if ok, err := s.Get(key, &v); !ok || err != nil {
		return ""
	}
	return v
}

// GetInt is the integer under key, or 0 when there is none (or it is no integer).
func (s *RequestSession) GetInt(key string) int64 {
	var v int64
	if ok, err := s.Get(key, &v); !ok || err != nil {
		return 0
	}
	return v
}

// Raw is the JSON text under key, or nil.
func (s *RequestSession) Raw(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(json.RawMessage(nil), s.values[key]...)
}

// Set stores v (anything encoding/json marshals) under key. The value is marshaled now: an
// error (a channel, a function, NaN) is returned here, and what is stored is the JSON, so
// changing v afterwards changes nothing until Set is called again.
func (s *RequestSession) Set(key string, v interface{}) error {
	raw, err := mergepatch.Marshal(v)
	if err != nil {
		return fmt.Errorf("sessiond: session value %q cannot be JSON: %w", key, err)
	}
	s.mu.Lock()
	s.values[key] = raw
	s.modified = true
	s.mu.Unlock()
	return nil
}

// Delete removes key.
func (s *RequestSession) Delete(key string) {
	s.mu.Lock()
	if _, ok := s.values[key]; ok {
		delete(s.values, key)
		s.modified = true
	}
	s.mu.Unlock()
}

// Has reports whether key is set.
func (s *RequestSession) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.values[key]
	return ok
}

// Keys are the keys, sorted.
func (s *RequestSession) Keys() []string {
	s.mu.Lock()
	keys := make([]string, 0, len(s.values))
	for key := range s.values {
		keys = append(keys, key)
	}
	s.mu.Unlock()
	sort.Strings(keys)
	return keys
}

// Destroy ends the session (at logout): it is deleted from Sessiond when the request
// saves, and its cookie removed. Values set after Destroy start a new session, with a new
// sid.
func (s *RequestSession) Destroy() {
	s.mu.Lock()
	s.values = map[string]json.RawMessage{}
	s.permanent, s.subject, s.lifetime = false, "", 0
	s.destroyed = true
	s.rotate = false
	s.modified = true
	s.mu.Unlock()
}

// Rotate gives the session a new sid when the request saves (at login): the old sid stops
// working at once, so an id planted before the login is worthless after it. The data stay.
func (s *RequestSession) Rotate() {
	s.mu.Lock()
	s.rotate = true
	s.mu.Unlock()
}

// SetPermanent picks the permanent lifetime (and a cookie that outlives the browser).
func (s *RequestSession) SetPermanent(permanent bool) {
	s.mu.Lock()
	s.permanent = permanent
	s.modified = true
	s.mu.Unlock()
}

// Permanent reports whether the session is permanent.
func (s *RequestSession) Permanent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.permanent
}

// SetSubject says whose session this is (your user id; "" for none), for listing and
// revoking a user's sessions.
func (s *RequestSession) SetSubject(subject string) {
	s.mu.Lock()
	s.subject = subject
	s.modified = true
	s.mu.Unlock()
}

// Subject is whose session this is ("" for none).
func (s *RequestSession) Subject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subject
}

// SetLifetime gives the session an idle lifetime of its own (whole seconds; 0 clears it, so
// that Permanent picks it again). The cookie then expires with the session.
func (s *RequestSession) SetLifetime(d time.Duration) error {
	if d != 0 {
		if _, err := lifetimeSeconds(d); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.lifetime = d
	s.modified = true
	s.mu.Unlock()
	return nil
}

// Lifetime is the session's own idle lifetime (0 for none).
func (s *RequestSession) Lifetime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lifetime
}

// SID is the session's id ("" until it is first stored).
func (s *RequestSession) SID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read == nil {
		return ""
	}
	return s.read.SID
}

// Handle is the session's handle in its subject's listings ("" until it is stored).
func (s *RequestSession) Handle() string {
	if sid := s.SID(); sid != "" {
		return HandleFor(sid)
	}
	return ""
}

// IsNew reports whether the session is not stored in Sessiond (yet).
func (s *RequestSession) IsNew() bool { return s.SID() == "" }

// Unavailable reports whether Sessiond could not be reached when the request began and the
// middleware fails open: this session is empty and is never saved.
func (s *RequestSession) Unavailable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unavailable
}

// LogoutEverywhere ends every session of this session's subject in Sessiond (all devices),
// or all but this one with keepCurrent; without it this session is destroyed too. It returns
// how many sessions Sessiond ended.
func (m *Middleware) LogoutEverywhere(ctx context.Context, keepCurrent bool) (int, error) {
	s := FromContext(ctx)
	if s == nil {
		return 0, errors.New("sessiond: LogoutEverywhere outside Middleware.Handler")
	}
	revoked := 0
	if subject := s.Subject(); subject != "" {
		keep := ""
		if keepCurrent {
			keep = s.Handle()
		}
		var err error
		if revoked, err = m.Client.RevokeSubject(ctx, subject, keep); err != nil {
			return 0, err
		}
	}
	if !keepCurrent {
		s.Destroy()
	}
	return revoked, nil
}

// Handler wraps next: see Middleware.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.load(r)
		if err != nil {
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				return // the client went away
			}
			m.fail(w, r, err)
			return
		}
		sw := &responseWriter{ResponseWriter: w, m: m, r: r, s: s}
		if s.read != nil || s.staleCookie {
			addVary(w.Header())
		}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), contextKey{}, s)))
		if !sw.started {
			sw.start()
		} else if !sw.failed {
			m.saveLate(r, s)
		}
	})
}

func (m *Middleware) logger() *log.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return log.Default()
}

func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err error) {
	if m.ErrorHandler != nil {
		m.ErrorHandler(w, r, err)
		return
	}
	m.logger().Printf("sessiond: %s %s: %v", r.Method, r.URL.Path, err)
	var e *Error
	if errors.As(err, &e) && e.Unavailable() {
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int64(e.RetryAfter/time.Second)))
		}
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

func (m *Middleware) load(r *http.Request) (*RequestSession, error) {
	s := &RequestSession{values: map[string]json.RawMessage{}}
	cookie, err := r.Cookie(m.CookieName)
	if err != nil || cookie.Value == "" {
		return s, nil
	}
	if !ValidSID(cookie.Value) {
		s.staleCookie = true
		return s, nil
	}
	var read *Session
	if m.NoTouch {
		read, err = m.Client.Get(r.Context(), cookie.Value)
	} else {
		read, err = m.Client.GetAndTouch(r.Context(), cookie.Value)
	}
	switch {
	case err == nil:
		s.adopt(read)
		s.touched = !m.NoTouch
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest):
		// Unknown, expired, deleted, rotated away: a new session, whose sid Sessiond will
		// choose. The cookie's is never adopted.
		s.staleCookie = true
	case errors.Is(err, ErrUnavailable) && m.FailOpen:
		m.logger().Printf("sessiond: Sessiond is unavailable, so %s %s runs with an empty session that will not be saved: %v",
			r.Method, r.URL.Path, err)
		s.unavailable = true
	default:
		return nil, err
	}
	return s, nil
}

// adopt takes what Sessiond holds as what the request read (the lock is held or unneeded).
func (s *RequestSession) adopt(read *Session) {
	s.read = read
	s.values = make(map[string]json.RawMessage, len(read.Data))
	for key, value := range read.Data {
		s.values[key] = value
	}
	s.permanent, s.subject, s.lifetime = read.Permanent, read.Subject, read.Lifetime
	s.modified, s.rotate, s.destroyed = false, false, false
}

func (s *RequestSession) reset() {
	s.read = nil
	s.values = map[string]json.RawMessage{}
	s.permanent, s.subject, s.lifetime = false, "", 0
	s.modified, s.rotate, s.destroyed = false, false, false
}

// cookieAction is what the response must do with the cookie after a save.
type cookieAction int

const (
	cookieKeep cookieAction = iota
	cookieSet
	cookieRemove
)

// save writes what changed. late: the response has started, so no cookie can change, and
// what would need one is not done.
func (m *Middleware) save(ctx context.Context, s *RequestSession, late bool) (cookieAction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable {
		if s.modified {
			m.logger().Printf("sessiond: Sessiond was unavailable in this request, so the changes it made to the session were not saved (keys now: %v)",
				sortedKeys(s.values))
		}
		return cookieKeep, nil
	}
	action := cookieKeep
	if s.destroyed {
		s.destroyed = false
		if s.read != nil {
			if err := m.Client.Delete(ctx, s.read.SID); err != nil {
				return cookieKeep, err
			}
			s.read = nil
			action = cookieRemove
		}
		if s.blank() {
			s.reset()
			return action, nil
		}
	}
	if s.read == nil {
		if s.blank() {
			s.modified = false
			if s.staleCookie && !late {
				s.staleCookie = false
				return cookieRemove, nil
			}
			return action, nil
		}
		if late {
			m.logger().Printf("sessiond: a new session got its first values after the response started, so it cannot get a cookie and is not stored (keys: %v)",
				sortedKeys(s.values))
			return action, nil
		}
		created, err := m.Client.Create(ctx, CreateParams{
			Data: s.values, Permanent: s.permanent, Subject: s.subject, Lifetime: s.lifetime,
		})
		if err != nil {
			return action, err
		}
		s.adopt(created)
		s.staleCookie = false
		return cookieSet, nil
	}
	if s.blank() && (len(s.read.Data) > 0 || s.modified) {
		// Emptied: deleted, and its cookie removed. A request still running with this sid
		// gets 404 on its write and cannot bring the session back.
		if err := m.Client.Delete(ctx, s.read.SID); err != nil {
			return cookieKeep, err
		}
		s.reset()
		return cookieRemove, nil
	}
	written, err := m.Client.Update(ctx, s.read, &Session{
		Data: s.values, Permanent: s.permanent, Subject: s.subject, Lifetime: s.lifetime,
	})
	if err == nil && s.rotate {
		if late {
			m.logger().Printf("sessiond: Rotate was called after the response started, so the new sid could not reach the cookie; the session was not rotated")
			s.rotate = false
		} else {
			written, err = m.Client.Rotate(ctx, s.read.SID)
		}
	}
	if errors.Is(err, ErrNotFound) {
		// Deleted (a logout in another request, a revocation) or expired since this request
		// read it: never recreated with this request's view of it.
		m.logger().Printf("sessiond: the session was gone when this request saved it (logged out or expired); it is not recreated")
		s.reset()
		if late {
			return cookieKeep, nil
		}
		return cookieRemove, nil
	}
	if err != nil {
		return cookieKeep, err
	}
	if written != nil {
		rotated := written.SID != s.read.SID
		s.adopt(written)
		if rotated || s.persistent() {
			return cookieSet, nil
		}
		return cookieKeep, nil
	}
	s.modified = false
	if s.touched && s.persistent() {
		return cookieSet, nil // the read slid the expiry: so does the cookie
	}
	return cookieKeep, nil
}

// blank: nothing worth a session (no data, subject, permanence or lifetime of its own).
func (s *RequestSession) blank() bool {
	return len(s.values) == 0 && s.subject == "" && !s.permanent && s.lifetime == 0
}

func (s *RequestSession) persistent() bool {
	return s.read != nil && (s.read.Permanent || s.read.Lifetime > 0)
}

func sortedKeys(values map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(values))
	for key := range values {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func (m *Middleware) saveLate(r *http.Request, s *RequestSession) {
	_, err := m.save(saveContext{r.Context()}, s, true)
	if err != nil {
		m.logger().Printf("sessiond: %s %s: the session changes made after the response started were not saved: %v",
			r.Method, r.URL.Path, err)
	}
}

func (m *Middleware) cookie(s *RequestSession, action cookieAction) *http.Cookie {
	c := &http.Cookie{
		Name: m.CookieName, Path: m.CookiePath, Domain: m.CookieDomain,
		Secure: m.CookieSecure, HttpOnly: true, SameSite: m.CookieSameSite,
	}
	if action == cookieRemove {
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Value = s.read.SID
	if s.persistent() && !s.read.ExpiresAt.IsZero() {
		c.Expires = s.read.ExpiresAt
		c.MaxAge = int((time.Until(s.read.ExpiresAt) + time.Second - 1) / time.Second)
		if c.MaxAge <= 0 {
			c.MaxAge = 1
		}
	}
	return c
}

func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		if v == "Cookie" {
			return
		}
	}
	h.Add("Vary", "Cookie")
}

// saveContext keeps the request's values but not its cancellation: a save goes through
// when the client disconnects after the handler ran (the Client's timeout still bounds it).
type saveContext struct{ parent context.Context }

func (saveContext) Deadline() (time.Time, bool)         { return time.Time{}, false }
func (saveContext) Done() <-chan struct{}               { return nil }
func (saveContext) Err() error                          { return nil }
func (c saveContext) Value(key interface{}) interface{} { return c.parent.Value(key) }

// errSessionNotSaved is what the handler's writes return after the session could not be
// saved and the ErrorHandler answered instead.
var errSessionNotSaved = errors.New("sessiond: the session could not be saved; the error handler answered instead")

// responseWriter saves the session when the response starts, before its headers go out.
type responseWriter struct {
	http.ResponseWriter
	m       *Middleware
	r       *http.Request
	s       *RequestSession
	started bool
	failed  bool
}

// start saves the session and sets the cookie, once; false when the save failed and the
// ErrorHandler answered.
func (w *responseWriter) start() bool {
	if w.started {
		return !w.failed
	}
	w.started = true
	action, err := w.m.save(saveContext{w.r.Context()}, w.s, false)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Unavailable() && w.m.FailOpen {
			w.s.mu.Lock()
			w.s.unavailable = true // later saves of this request are skipped
			w.s.modified = false
			w.s.mu.Unlock()
			w.m.logger().Printf("sessiond: Sessiond is unavailable, so the changes %s %s made to the session were not saved: %v",
				w.r.Method, w.r.URL.Path, err)
			return true
		}
		w.failed = true
		h := w.ResponseWriter.Header()
		for _, name := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Etag", "Last-Modified", "Location"} {
			h.Del(name)
		}
		w.m.fail(w.ResponseWriter, w.r, err)
		return false
	}
	if action != cookieKeep {
		http.SetCookie(w.ResponseWriter, w.m.cookie(w.s, action))
		addVary(w.ResponseWriter.Header())
	}
	return true
}

func (w *responseWriter) WriteHeader(code int) {
	if w.start() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.start() {
		return 0, errSessionNotSaved
	}
	return w.ResponseWriter.Write(b)
}

// Flush saves the session, then flushes (when the underlying writer can).
func (w *responseWriter) Flush() {
	if w.start() {
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

// Hijack saves the session, then hands over the connection (when the underlying writer can).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.start() {
		return nil, nil, errSessionNotSaved
	}
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	return h.Hijack()
}

// Unwrap gives the underlying writer (for http.ResponseController, Go 1.20+).
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
