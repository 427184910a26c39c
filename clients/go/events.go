package sessiond

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The kinds of lifecycle events Sessiond tells (LifecycleEvent.Type). A later Sessiond may add
// kinds: their events are yielded too, with their own Type.
const (
	// EventCreated: a session was created (Create, with or without a SID).
	EventCreated = "created"
	// EventRotated: a sid was rotated; Handle is the new sid's, From the old one's.
	EventRotated = "rotated"
	// EventDeleted: a session was deleted by its sid.
	EventDeleted = "deleted"
	// EventRevoked: a session was revoked by its subject's handle (RevokeHandle, RevokeSubject).
	EventRevoked = "revoked"
	// EventExpired: a session reached its expiry; Time is the expiry itself.
	EventExpired = "expired"
	// EventLimitEvicted: a session was revoked to keep its subject within sessiond's
	// --max-sessions-per-subject.
	EventLimitEvicted = "limit_evicted"
)

const (
	// EventsRetry is the wait before reconnecting until the server says otherwise (its
	// "retry:" line; Sessiond sends 1000 ms).
	EventsRetry = time.Second
	// EventsMaxRetryDelay is the longest wait between two attempts to reconnect, however many
	// failed in a row or what "retry:" says.
	EventsMaxRetryDelay = 30 * time.Second
	// EventsIdleTimeout: a stream that sends nothing for this long (not even the keep-alive
	// comment Sessiond sends every 15 s) is taken for a dead connection, and reopened.
	EventsIdleTimeout = 45 * time.Second
)

// An Event is what an EventStream yields: a *LifecycleEvent, or a *Missed where events were
// lost. Tell them apart with a type switch.
type Event interface {
	isEvent()
}

// LifecycleEvent is one event of a session's life, as GET /events tells it: a handle, never a
// sid, and never the session's data.
type LifecycleEvent struct {
	// ID is the event's ID ("1795956493261-0"); IDs only grow. Keep the last one seen to
	// resume after it (Client.Events).
	ID string
	// Type is one of EventCreated, EventRotated, EventDeleted, EventRevoked, EventExpired and
	// EventLimitEvicted (or a kind a later Sessiond added).
	Type string
	// Handle is the session's handle (for EventRotated, the new sid's), as SubjectSessions
	// lists it; HandleFor(sid) computes it from a sid.
	Handle string
	// From is, for EventRotated only, the handle of the sid that was rotated away ("" else).
	From string
	// Subject is whom the session belongs to ("" for none).
	Subject string
	// Device is the session's device metadata (nil for none).
	Device map[string]string
	// Time is when it happened (for EventExpired, the expiry itself), in UTC, to the
	// millisecond.
	Time time.Time
	// Raw is the event's data line as Sessiond sent it (a JSON object), for members this
	// package does not know.
	Raw json.RawMessage
}

// Missed says that the events after After (the ID the stream resumed from) are lost: they fell
// out of Sessiond's bounded history (--event-history) before they were read, or went with a
// restart of a server on the embedded store. The events that follow are the oldest Sessiond
// holds. What was derived from the events (a cache of sessions, a count) should be rebuilt.
type Missed struct {
	After  string
	Detail string
}

func (*LifecycleEvent) isEvent() {}
func (*Missed) isEvent()         {}

// EventStream reads the lifecycle events of GET /events, one at a time, as a bufio.Scanner
// reads lines:
//
//	stream := client.Events(ctx, lastID)
//	defer stream.Close()
//	for stream.Next() {
//		switch e := stream.Event().(type) {
//		case *sessiond.Missed:
//			resync() // events were lost: rebuild what you derive from them
//		case *sessiond.LifecycleEvent:
//			audit(e.Type, e.Handle, e.Subject, e.Time)
//			lastID = e.ID // resume from here after a restart of your own
//		}
//	}
//	if err := stream.Err(); err != nil { ... }
//
// Next, Event, Err and LastEventID are for one goroutine; Close may be called from any, also
// while Next waits.
type EventStream struct {
	c           *Client
	parent      context.Context
	ctx         context.Context // parent, canceled by Close too
	cancel      context.CancelFunc
	closed      atomic.Bool
	hc          *http.Client
	idleTimeout time.Duration

	resume   string // the last event ID seen: Last-Event-ID of the next request
	retry    time.Duration
	failures int
	opened   bool   // the first request got its stream
	wait     bool   // wait before the next request
	waitErr  *Error // the failure that the wait follows, if any
	body     io.ReadCloser
	connDone context.CancelFunc
	idle     *time.Timer
	parser   *eventParser
	frames   []eventFrame
	buf      []byte

	event Event
	err   error
	done  bool
}

// Events streams the namespace's session lifecycle events (GET /events) as they happen, for
// ever: *LifecycleEvent items, and a *Missed item where events were lost. Without lastEventID
// ("") the stream starts with the next event; with the ID of an event it starts right after
// that one ("0": every event Sessiond still holds).
//
// The request is sent at the first Next, with the client's HTTP client and API key; the
// stream keeps its connection to itself until Close (or the end of ctx) closes it. The
// client's per-call timeout (DefaultTimeout, WithTimeout) bounds only the wait for the answer,
// not the stream. When the stream ends (Sessiond shut down) or its connection breaks
// (or sends nothing, not even a keep-alive, for EventsIdleTimeout), it is reopened after the
// server's retry (1 s) with Last-Event-ID set to the last ID seen, so no event is skipped nor
// yielded twice; an attempt that fails waits twice as long as the one before (at least a 503's
// Retry-After), up to EventsMaxRetryDelay, for as long as it takes.
//
// The first request's failure ends the stream, and Err returns it as any call's (an *Error
// that matches ErrUnavailable, ErrUnauthorized...); so does, at any time, an answer that
// retrying cannot change: ErrBadRequest (slug "malformed-event-id"), ErrUnauthorized, or an
// *Error of Status 501 (slug "events-off": sessiond runs with --event-history 0, or on Redis
// Cluster). The end of ctx ends the stream too, and Err returns its error; after Close, Err
// returns nil.
func (c *Client) Events(ctx context.Context, lastEventID string) *EventStream {
	hc := *c.httpClient
	hc.Timeout = 0 // the stream never ends; the answer's wait is bounded in open
	inner, cancel := context.WithCancel(ctx)
	return &EventStream{
		c: c, parent: ctx, ctx: inner, cancel: cancel, hc: &hc, idleTimeout: EventsIdleTimeout,
		resume: lastEventID, retry: EventsRetry,
	}
}

const eventsOp = "GET /events"

// Next advances to the next event, which Event then returns. It waits for one as long as it
// takes, reconnecting as needed; false when the stream has ended (see Err).
func (s *EventStream) Next() bool {
	s.event = nil
	for {
		if s.done {
			return false
		}
		if s.closed.Load() {
			return s.finish(nil)
		}
		if s.ctx.Err() != nil {
			return s.finish(s.ctxErr())
		}
		if len(s.frames) > 0 {
			frame := s.frames[0]
			s.frames = s.frames[1:]
			s.resume = frame.lastEventID
			event, err := eventOf(frame)
			if err != nil {
				return s.finish(err)
			}
			s.event = event
			return true
		}
		if s.body == nil {
			if s.wait && !s.sleep(retryDelay(s.retry, s.failures, s.waitErr)) {
				continue // closed, or the context ended
			}
			s.wait, s.waitErr = false, nil
			if err := s.open(); err != nil {
				if s.ctx.Err() != nil {
					continue // closed, or the context ended: told above
				}
				var e *Error
				if !s.opened || !errors.As(err, &e) || !e.transient() {
					return s.finish(err)
				}
				s.failures++
				s.wait, s.waitErr = true, e
				continue
			}
			s.opened = true
			s.failures = 0
			continue
		}
		if s.buf == nil {
			s.buf = make([]byte, 32<<10)
		}
		s.idle.Reset(s.idleTimeout)
		n, err := s.body.Read(s.buf)
		s.idle.Stop()
		if n > 0 {
			s.frames = append(s.frames, s.parser.feed(s.buf[:n])...)
		}
		if err != nil {
			// The stream ended (Sessiond is shutting down), the connection broke, or it stayed
			// silent past the idle timeout: reconnect after the server's retry.
			s.disconnect()
			s.wait = true
		}
	}
}

// Event is the event Next advanced to: a *LifecycleEvent or a *Missed (nil before Next, and
// after Next returned false).
func (s *EventStream) Event() Event { return s.event }

// Err is why the stream ended: nil while it goes on and after Close; the context's error
// when it ended (errors.Is(err, context.Canceled) or context.DeadlineExceeded; never
// ErrUnavailable); or an *Error (see Client.Events).
func (s *EventStream) Err() error { return s.err }

// LastEventID is the ID of the last event Next advanced to (or the ID the stream resumed from,
// before the first): keep it to resume after it later.
func (s *EventStream) LastEventID() string { return s.resume }

// Close ends the stream and closes its connection; a Next waiting in another goroutine returns
// false. It returns nil, and may be called more than once.
func (s *EventStream) Close() error {
	s.closed.Store(true)
	s.cancel()
	return nil
}

func (s *EventStream) finish(err error) bool {
	s.done = true
	s.err = err
	s.event = nil
	s.frames = nil
	s.disconnect()
	s.cancel()
	return false
}

func (s *EventStream) ctxErr() error {
	if s.closed.Load() || s.parent.Err() == nil {
		return nil
	}
	return fmt.Errorf("sessiond: %s: %w", eventsOp, s.parent.Err())
}

func (s *EventStream) disconnect() {
	if s.body != nil {
		if s.parser != nil && s.parser.hasRetry {
			s.retry = s.parser.retry
		}
		s.connDone()
		s.body.Close()
		s.body = nil
		s.parser = nil
	}
}

// sleep waits d; false when the stream was closed or its context ended meanwhile.
func (s *EventStream) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// errStreamEnded: the stream was closed, or its context ended, while it opened.
var errStreamEnded = errors.New("sessiond: the event stream ended")

// open sends GET /events and keeps its response once it is a stream.
func (s *EventStream) open() error {
	c := s.c
	connCtx, connDone := context.WithCancel(s.ctx)
	hr, err := http.NewRequestWithContext(connCtx, http.MethodGet, c.base+"/events", nil)
	if err != nil {
		connDone()
		return fmt.Errorf("sessiond: %s: %w", eventsOp, err)
	}
	hr.Header.Set("Accept", "text/event-stream")
	hr.Header.Set("Cache-Control", "no-cache")
	hr.Header.Set("Accept-Encoding", "identity") // each event as it comes, not a compressed block
	hr.Header.Set("User-Agent", c.userAgent)
	if c.apiKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if s.resume != "" {
		hr.Header["Last-Event-ID"] = []string{s.resume} // spelt as the standard spells it
	}
	// The answer must come within the client's per-call timeout; the stream then has none.
	timeout := c.httpClient.Timeout
	var timedOut atomic.Bool
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() { timedOut.Store(true); connDone() })
	}
	resp, err := s.hc.Do(hr)
	if timer != nil {
		timer.Stop()
	}
	if err == nil && timedOut.Load() { // the timer fired as the answer came: its connection is gone
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		connDone()
		if s.ctx.Err() != nil {
			return errStreamEnded
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // as in every call's errors
		}
		if timedOut.Load() {
			err = fmt.Errorf("no answer within %s: %w", timeout, context.DeadlineExceeded)
		}
		return &Error{Op: eventsOp, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		connDone()
		return problem(eventsOp, resp, raw)
	}
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if media != "text/event-stream" {
		resp.Body.Close()
		connDone()
		if media == "" {
			media = "no media type"
		}
		return &Error{
			Op: eventsOp, Status: resp.StatusCode, Title: "answer is not an event stream",
			Detail: "Sessiond answered 200 with " + media,
		}
	}
	s.body = resp.Body
	s.connDone = connDone
	s.parser = newEventParser(s.resume)
	// The idle timer (armed only while Next reads) drops this connection, not the stream.
	s.idle = time.AfterFunc(time.Hour, connDone)
	s.idle.Stop()
	return nil
}

// transient reports whether reconnecting may help: Sessiond could not be used (refused or
// dropped, no answer in time, 502/503/504) or failed (500). A request it refused (400, 401) or
// a server that records no events (501 events-off) would fail again, as would an answer that
// is not an event stream.
func (e *Error) transient() bool {
	return e.Unavailable() || (e.Status >= 500 && e.Status != http.StatusNotImplemented)
}

// retryDelay is the wait before the next attempt: the server's retry (at least 100 ms), doubled
// for each attempt that failed in a row, at least a 503's Retry-After, at most
// EventsMaxRetryDelay.
func retryDelay(retry time.Duration, failures int, err *Error) time.Duration {
	if retry < 100*time.Millisecond {
		retry = 100 * time.Millisecond
	}
	if failures > 16 {
		failures = 16
	}
	delay := retry
	for i := 0; i < failures && delay < EventsMaxRetryDelay; i++ {
		delay *= 2
	}
	if err != nil && err.RetryAfter > delay {
		delay = err.RetryAfter
	}
	if delay > EventsMaxRetryDelay {
		delay = EventsMaxRetryDelay
	}
	return delay
}

// eventOf is what a stream yields for one frame of Sessiond's: a *Missed for "event: missed",
// else a *LifecycleEvent; an *Error when its data is not such an object.
func eventOf(frame eventFrame) (Event, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(frame.data), &body); err != nil || body == nil {
		return nil, notAnEvent("data that is not a JSON object", frame.data, err)
	}
	str := func(name string) (string, bool) {
		var v string
		raw, ok := body[name]
		if !ok || json.Unmarshal(raw, &v) != nil || bytes.Equal(raw, []byte("null")) {
			return "", false
		}
		return v, true
	}
	if frame.event == "missed" {
		m := &Missed{}
		var ok bool
		if m.After, ok = str("after"); !ok {
			m.After = frame.lastEventID
		}
		m.Detail, _ = str("detail")
		return m, nil
	}
	e := &LifecycleEvent{ID: frame.lastEventID, Type: frame.event, Raw: json.RawMessage(frame.data)}
	// id and type, when present, must be strings; handle and time must be there.
	for name, field := range map[string]*string{"id": &e.ID, "type": &e.Type} {
		if _, present := body[name]; present {
			v, ok := str(name)
			if !ok {
				return nil, notAnEvent("an event that is not a lifecycle event", frame.data, nil)
			}
			*field = v
		}
	}
	handle, ok := str("handle")
	when, okTime := str("time")
	t, err := time.Parse(time.RFC3339Nano, when)
	if !ok || !okTime || err != nil {
		return nil, notAnEvent("an event that is not a lifecycle event", frame.data, err)
	}
	e.Handle, e.Time = handle, t.UTC()
	e.From, _ = str("from")
	e.Subject, _ = str("subject")
	var device map[string]interface{}
	if raw, ok := body["device"]; ok && json.Unmarshal(raw, &device) == nil && device != nil {
		e.Device = make(map[string]string, len(device))
		for k, v := range device {
			if s, ok := v.(string); ok {
				e.Device[k] = s
			}
		}
	}
	return e, nil
}

func notAnEvent(what, data string, err error) *Error {
	if len(data) > 200 {
		data = data[:200]
	}
	return &Error{Op: eventsOp, Status: http.StatusOK, Title: "Sessiond sent " + what, Detail: strconv.Quote(data), Err: err}
}

// eventFrame is one event of a text/event-stream: its type ("message" when it named none), its
// data (the data lines joined by line feeds) and the stream's last event ID after it.
type eventFrame struct {
	event, data, lastEventID string
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// eventParser is the event stream interpretation of the HTML standard (Server-Sent Events),
// fed bytes as they arrive, in pieces of any size: UTF-8 (a leading BOM dropped; bytes that are
// not UTF-8 replaced), lines ended by CRLF, LF or CR, comments (":") ignored, "field: value"
// with one space after the colon dropped, a field without a colon an empty value, data lines
// joined by "\n", an id with NUL ignored, retry only when all ASCII digits, unknown fields
// ignored, and an event dispatched at a blank line (none when it had no data). One parser
// reads one connection: what a connection left unfinished is dropped, as the standard says.
//
// lastEventID starts as the ID the connection resumed from, so an event without an id line
// (Sessiond's missed) keeps it; retry is the server's reconnection time when hasRetry.
type eventParser struct {
	started     bool // past the place of a BOM
	afterCR     bool // the last byte fed was a CR: a LF right after it ends no line
	pending     []byte
	data        []string
	hasData     bool
	event       string
	id          string
	lastEventID string
	retry       time.Duration
	hasRetry    bool
}

func newEventParser(lastEventID string) *eventParser {
	return &eventParser{id: lastEventID, lastEventID: lastEventID}
}

// feed returns the events that chunk completes, in order.
func (p *eventParser) feed(chunk []byte) []eventFrame {
	if len(chunk) == 0 {
		return nil
	}
	if p.afterCR {
		p.afterCR = false
		if chunk[0] == '\n' { // the LF of a CRLF cut between two chunks
			chunk = chunk[1:]
		}
	}
	p.pending = append(p.pending, chunk...)
	if !p.started {
		if len(p.pending) < len(utf8BOM) && bytes.HasPrefix(utf8BOM, p.pending) {
			return nil // perhaps a BOM cut in pieces
		}
		p.started = true
		p.pending = bytes.TrimPrefix(p.pending, utf8BOM)
	}
	var frames []eventFrame
	rest := p.pending
	for {
		end := bytes.IndexAny(rest, "\r\n")
		if end < 0 {
			break
		}
		line := rest[:end]
		if rest[end] == '\r' {
			if end+1 == len(rest) {
				p.afterCR = true
				rest = rest[end+1:]
				frames = p.line(line, frames)
				break
			}
			if rest[end+1] == '\n' {
				end++
			}
		}
		rest = rest[end+1:]
		frames = p.line(line, frames)
	}
	p.pending = append(p.pending[:0], rest...)
	return frames
}

func (p *eventParser) line(raw []byte, frames []eventFrame) []eventFrame {
	if len(raw) == 0 {
		p.lastEventID = p.id
		if p.hasData {
			event := p.event
			if event == "" {
				event = "message"
			}
			frames = append(frames, eventFrame{event: event, data: strings.Join(p.data, "\n"), lastEventID: p.lastEventID})
		}
		p.data, p.hasData, p.event = nil, false, ""
		return frames
	}
	if raw[0] == ':' {
		return frames
	}
	line := strings.ToValidUTF8(string(raw), "\uFFFD")
	name, value := line, ""
	if colon := strings.IndexByte(line, ':'); colon >= 0 {
		name, value = line[:colon], strings.TrimPrefix(line[colon+1:], " ")
	}
	switch name {
	case "event":
		p.event = value
	case "data":
		p.data = append(p.data, value)
		p.hasData = true
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.id = value
		}
	case "retry":
		if value != "" && strings.Trim(value, "0123456789") == "" {
			p.retry, p.hasRetry = EventsMaxRetryDelay, true // beyond the cap (or an int64): the cap
			if ms, err := strconv.ParseInt(value, 10, 64); err == nil && ms < int64(EventsMaxRetryDelay/time.Millisecond) {
				p.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return frames
}
