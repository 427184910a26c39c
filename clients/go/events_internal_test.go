package sessiond

// The Server-Sent Events parser against the HTML standard's rules, the frames that become
// events, the reconnection delays, and what stubs alone can make happen: a stream that goes
// silent, a 503 with Retry-After on reconnecting, a 401 on reconnecting, a frame that is not an
// event. The real server is in events_test.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testHandle = "7db8182f26b9ef9938efa0806c9f8d46"
const otherHandle = "ef556344141670d30815227911dbc7b6"

func parse(lastEventID string, chunks ...string) ([]eventFrame, *eventParser) {
	p := newEventParser(lastEventID)
	var frames []eventFrame
	for _, chunk := range chunks {
		frames = append(frames, p.feed([]byte(chunk))...)
	}
	return frames, p
}

func frame(event, data, id string) eventFrame {
	return eventFrame{event: event, data: data, lastEventID: id}
}

func sameFrames(t *testing.T, got, want []eventFrame, what string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func TestEventStreamFormat(t *testing.T) {
	frames, p := parse("", "retry: 1000\n\nid: 5-0\nevent: created\ndata: {\"a\":1}\n\n")
	sameFrames(t, frames, []eventFrame{frame("created", `{"a":1}`, "5-0")}, "an event")
	if !p.hasRetry || p.retry != time.Second || p.lastEventID != "5-0" {
		t.Fatalf("retry %v %v, last ID %q", p.hasRetry, p.retry, p.lastEventID)
	}

	// Data lines joined by line feeds, comments ignored, one space after the colon dropped.
	frames, _ = parse("", ": keep-alive\n\ndata: one\n: between\ndata:two\ndata:  three\ndata\n\n")
	sameFrames(t, frames, []eventFrame{frame("message", "one\ntwo\n three\n", "")}, "data lines")

	// A field without a colon has an empty value; unknown fields are ignored.
	frames, _ = parse("3-0", "event\ndata: x\nfoo: bar\nid\n\n")
	sameFrames(t, frames, []eventFrame{frame("message", "x", "")}, "fields without a colon")

	// The last ID carries over an event without one; an empty id resets it.
	frames, p = parse("6-0", "event: missed\ndata: {}\n\n", "id: 7-1\ndata: a\n\n", "data: b\n\n", "id\ndata: c\n\n")
	var ids []string
	for _, f := range frames {
		ids = append(ids, f.lastEventID)
	}
	if !reflect.DeepEqual(ids, []string{"6-0", "7-1", "7-1", ""}) || p.lastEventID != "" {
		t.Fatalf("IDs %q, last %q", ids, p.lastEventID)
	}

	// An id with NUL is ignored; an event without data only sets the ID; an unfinished one is
	// dropped.
	frames, p = parse("", "id: 1\x002\ndata: a\n\nid: 9-9\nevent: created\n\nid: 10-0\ndata: x\n")
	sameFrames(t, frames, []eventFrame{frame("message", "a", "")}, "NUL in id")
	if p.lastEventID != "9-9" {
		t.Fatalf("last ID %q", p.lastEventID)
	}

	// retry only when all digits.
	if _, p := parse("", "retry: 2500\n"); !p.hasRetry || p.retry != 2500*time.Millisecond {
		t.Fatalf("retry: 2500 -> %v", p.retry)
	}
	if _, p := parse("", "retry: 99999999999999999999999\n"); !p.hasRetry || p.retry != EventsMaxRetryDelay {
		t.Fatalf("a huge retry -> %v", p.retry)
	}
	for _, bad := range []string{"retry: 1.5\n", "retry: -1\n", "retry: 1s\n", "retry: ١٢\n", "retry:\n", "retry: +5\n"} {
		if _, p := parse("", bad); p.hasRetry {
			t.Fatalf("%q was taken: %v", bad, p.retry)
		}
	}
}

func TestEventStreamLineEndsCutAnywhere(t *testing.T) {
	text := "id: 1-0\r\nevent: created\rdata: a\n\r\nid: 2-0\revent: deleted\r\ndata: b\r\r"
	want := []eventFrame{frame("created", "a", "1-0"), frame("deleted", "b", "2-0")}
	whole, _ := parse("", text)
	sameFrames(t, whole, want, "whole")
	var bytewise []string
	for i := 0; i < len(text); i++ {
		bytewise = append(bytewise, text[i:i+1])
	}
	got, _ := parse("", bytewise...)
	sameFrames(t, got, want, "one byte at a time")
	for cut := 0; cut <= len(text); cut++ { // a CRLF cut in two is one line end, not two
		got, _ := parse("", text[:cut], text[cut:])
		sameFrames(t, got, want, fmt.Sprintf("cut at %d", cut))
	}
}

func TestEventStreamUTF8AndBOM(t *testing.T) {
	text := "\xef\xbb\xbfdata: {\"subject\":\"café ☕\"}\n\n"
	want := []eventFrame{frame("message", `{"subject":"café ☕"}`, "")}
	var bytewise []string
	for i := 0; i < len(text); i++ {
		bytewise = append(bytewise, text[i:i+1])
	}
	got, _ := parse("", bytewise...)
	sameFrames(t, got, want, "a BOM and UTF-8 one byte at a time")
	got, _ = parse("", text)
	sameFrames(t, got, want, "at once")
	// Only a leading BOM is dropped, once; bytes that are not UTF-8 are replaced.
	got, _ = parse("", "\xef\xbb\xbf\xef\xbb\xbfdata: x\xff\n\n")
	sameFrames(t, got, nil, "a second BOM is part of a field's name")
	got, _ = parse("", "data: x\xff\n\n")
	sameFrames(t, got, []eventFrame{frame("message", "x\uFFFD", "")}, "not UTF-8")
	// An empty chunk, and a stream of fewer bytes than a BOM.
	got, _ = parse("", "", "\n", "data: y\n", "\n")
	sameFrames(t, got, []eventFrame{frame("message", "y", "")}, "short chunks")
}

func TestEventsOfFrames(t *testing.T) {
	created, err := eventOf(frame("created", `{"id":"1-0","type":"created","handle":"`+testHandle+`","subject":"u","device":{"ua":"x","n":1},"time":"2026-11-29T12:48:13.261Z","later":true}`, "1-0"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := created.(*LifecycleEvent)
	want := time.Date(2026, 11, 29, 12, 48, 13, 261e6, time.UTC)
	if !ok || e.ID != "1-0" || e.Type != EventCreated || e.Handle != testHandle || e.From != "" || e.Subject != "u" ||
		!reflect.DeepEqual(e.Device, map[string]string{"ua": "x"}) || !e.Time.Equal(want) || e.Time.Location() != time.UTC ||
		!strings.Contains(string(e.Raw), `"later":true`) {
		t.Fatalf("created: %+v", created)
	}
	rotated, err := eventOf(frame("rotated", `{"id":"2-0","type":"rotated","handle":"`+otherHandle+`","from":"`+testHandle+`","subject":null,"device":null,"time":"2026-11-29T12:48:13.261Z"}`, "2-0"))
	if r, ok := rotated.(*LifecycleEvent); err != nil || !ok || r.From != testHandle || r.Subject != "" || r.Device != nil {
		t.Fatalf("rotated: %+v %v", rotated, err)
	}
	// id and type default to the frame's.
	bare, err := eventOf(frame("deleted", `{"handle":"`+testHandle+`","time":"2026-11-29T12:48:13Z"}`, "3-0"))
	if b, ok := bare.(*LifecycleEvent); err != nil || !ok || b.ID != "3-0" || b.Type != EventDeleted {
		t.Fatalf("bare: %+v %v", bare, err)
	}
	missed, err := eventOf(frame("missed", `{"type":"missed","after":"1-0","detail":"dropped"}`, "1-0"))
	if m, ok := missed.(*Missed); err != nil || !ok || *m != (Missed{After: "1-0", Detail: "dropped"}) {
		t.Fatalf("missed: %+v %v", missed, err)
	}
	missed, _ = eventOf(frame("missed", `{}`, "4-0"))
	if m, ok := missed.(*Missed); !ok || m.After != "4-0" {
		t.Fatalf("missed without after: %+v", missed)
	}
	for _, data := range []string{"not json", "[1]", "null", `{"type":"created"}`, `{"handle":"` + testHandle + `","time":"yesterday"}`,
		`{"id":5,"handle":"` + testHandle + `","time":"2026-11-29T12:48:13Z"}`} {
		_, err := eventOf(frame("created", data, "3-0"))
		var se *Error
		if !errors.As(err, &se) || se.Op != "GET /events" || errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: %v", data, err)
		}
	}
}

func TestEventsRetryDelay(t *testing.T) {
	cases := []struct {
		retry    time.Duration
		failures int
		err      *Error
		want     time.Duration
	}{
		{time.Second, 0, nil, time.Second},
		{time.Second, 1, nil, 2 * time.Second},
		{time.Second, 2, nil, 4 * time.Second},
		{time.Second, 3, nil, 8 * time.Second},
		{time.Second, 50, nil, EventsMaxRetryDelay},
		{time.Hour, 0, nil, EventsMaxRetryDelay},
		{0, 0, nil, 100 * time.Millisecond}, // "retry: 0" does not spin
		{time.Second, 1, &Error{Status: 503, RetryAfter: 7 * time.Second}, 7 * time.Second},
		{time.Second, 1, &Error{Status: 503, RetryAfter: time.Hour}, EventsMaxRetryDelay},
	}
	for _, c := range cases {
		if got := retryDelay(c.retry, c.failures, c.err); got != c.want {
			t.Errorf("retryDelay(%v, %d, %v) = %v, want %v", c.retry, c.failures, c.err, got, c.want)
		}
	}
}

// stub answers GET /events with answers[i] for its i-th request (the last one again after),
// and records each request's Last-Event-ID.
type stub struct {
	*httptest.Server
	mu      sync.Mutex
	resumes []string
	times   []time.Time
}

func newStub(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) *stub {
	s := &stub{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		i := len(s.resumes)
		s.resumes = append(s.resumes, r.Header.Get("Last-Event-ID"))
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		if i >= len(answers) {
			i = len(answers) - 1
		}
		answers[i](w, r)
	}))
	t.Cleanup(func() {
		s.CloseClientConnections()
		s.Close()
	})
	return s
}

func (s *stub) requests() ([]string, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.resumes...), append([]time.Time(nil), s.times...)
}

func sse(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/event-stream")
	_, _ = w.Write([]byte(text))
	w.(http.Flusher).Flush()
}

func created(id string) string {
	return fmt.Sprintf("id: %s\nevent: created\ndata: {\"id\":%q,\"type\":\"created\",\"handle\":%q,\"subject\":null,\"device\":null,\"time\":\"2026-11-29T12:48:13.261Z\"}\n\n", id, id, testHandle)
}

func nextID(t *testing.T, s *EventStream) string {
	t.Helper()
	if !s.Next() {
		t.Fatalf("the stream ended: %v", s.Err())
	}
	e, ok := s.Event().(*LifecycleEvent)
	if !ok {
		t.Fatalf("not a lifecycle event: %#v", s.Event())
	}
	return e.ID
}

func TestEventsSilentStreamIsReopened(t *testing.T) {
	st := newStub(t,
		func(w http.ResponseWriter, r *http.Request) {
			sse(w, "retry: 50\n\n"+created("1-0")+": keep-alive\n\n")
			<-r.Context().Done() // then silence, the connection open
		},
		func(w http.ResponseWriter, r *http.Request) {
			sse(w, created("2-0"))
			<-r.Context().Done()
		})
	c, _ := NewClient(st.URL)
	s := c.Events(context.Background(), "")
	defer s.Close()
	s.idleTimeout = 300 * time.Millisecond
	started := time.Now()
	if id := nextID(t, s); id != "1-0" {
		t.Fatalf("first %q", id)
	}
	if id := nextID(t, s); id != "2-0" {
		t.Fatalf("second %q", id)
	}
	resumes, times := st.requests()
	if !reflect.DeepEqual(resumes, []string{"", "1-0"}) {
		t.Fatalf("Last-Event-ID of each request: %q", resumes)
	}
	if gap := times[1].Sub(times[0]); gap < 300*time.Millisecond || time.Since(started) > 5*time.Second {
		t.Fatalf("reopened after %v", gap)
	}
	if s.LastEventID() != "2-0" {
		t.Fatalf("LastEventID %q", s.LastEventID())
	}
}

func TestEventsReconnectRespectsRetryAfterAndStopsAt4xx(t *testing.T) {
	st := newStub(t,
		func(w http.ResponseWriter, r *http.Request) { sse(w, "retry: 10\n\n"+created("1-0")) }, // then it ends
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"type":"https://sessiond.dev/problems/store-unavailable","title":"Session store unavailable","status":503}`))
		},
		func(w http.ResponseWriter, r *http.Request) { sse(w, created("2-0")) },
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"type":"https://sessiond.dev/problems/unauthorized","title":"Unauthorized","status":401}`))
		})
	c, _ := NewClient(st.URL)
	s := c.Events(context.Background(), "0")
	defer s.Close()
	if nextID(t, s) != "1-0" || nextID(t, s) != "2-0" {
		t.Fatal("events")
	}
	if s.Next() {
		t.Fatalf("an event after a 401: %#v", s.Event())
	}
	if !errors.Is(s.Err(), ErrUnauthorized) || s.Event() != nil {
		t.Fatalf("Err %v", s.Err())
	}
	resumes, times := st.requests()
	if !reflect.DeepEqual(resumes, []string{"0", "1-0", "1-0", "2-0"}) {
		t.Fatalf("Last-Event-ID of each request: %q", resumes)
	}
	if gap := times[2].Sub(times[1]); gap < time.Second {
		t.Fatalf("Retry-After: 1 was not waited: %v", gap)
	}
	if gap := times[1].Sub(times[0]); gap > 900*time.Millisecond {
		t.Fatalf("retry: 10 was not taken: %v", gap)
	}
	if s.Next() || !errors.Is(s.Err(), ErrUnauthorized) {
		t.Fatal("Next after the end")
	}
}

func TestEventsFrameThatIsNotAnEvent(t *testing.T) {
	st := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, created("1-0")+"id: 2-0\nevent: created\ndata: not json\n\n")
	})
	c, _ := NewClient(st.URL)
	s := c.Events(context.Background(), "")
	defer s.Close()
	if nextID(t, s) != "1-0" {
		t.Fatal("first")
	}
	var e *Error
	if s.Next() || !errors.As(s.Err(), &e) || e.Op != "GET /events" || errors.Is(s.Err(), ErrUnavailable) {
		t.Fatalf("not json: %v", s.Err())
	}
}

func TestEventsAnswerThatIsNotAStream(t *testing.T) {
	st := newStub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
	c, _ := NewClient(st.URL)
	s := c.Events(context.Background(), "")
	defer s.Close()
	var e *Error
	if s.Next() || !errors.As(s.Err(), &e) || e.Status != 200 || !strings.Contains(e.Error(), "application/json") {
		t.Fatalf("JSON: %v", s.Err())
	}
}

func TestEventsAnswerMustComeInTime(t *testing.T) {
	st := newStub(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c, _ := NewClient(st.URL, WithTimeout(300*time.Millisecond))
	started := time.Now()
	s := c.Events(context.Background(), "")
	defer s.Close()
	if s.Next() || !errors.Is(s.Err(), ErrUnavailable) || !errors.Is(s.Err(), context.DeadlineExceeded) {
		t.Fatalf("no answer: %v", s.Err())
	}
	if time.Since(started) > 3*time.Second {
		t.Fatalf("took %v", time.Since(started))
	}
}
