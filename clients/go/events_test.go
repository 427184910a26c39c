package sessiond_test

// Lifecycle events (GET /events) with Client.Events against the real sessiond binary: every
// kind of event, a stream from now, a stream resumed after its connection was cut (a relay that
// drops it) and after Sessiond restarted (a Missed notice), the context and Close ending it, the
// errors that are not retried (events-off, a malformed ID, a wrong API key), and the API key's
// namespace. The parser and the stubs are in events_internal_test.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
)

// take is the next count events of s, or a failure after within (the stream is closed then,
// which ends the Next that waits).
func take(t *testing.T, s *sessiond.EventStream, count int, within time.Duration) []sessiond.Event {
	t.Helper()
	var got []sessiond.Event
	done := make(chan error, 1)
	go func() {
		for len(got) < count {
			if !s.Next() {
				done <- fmt.Errorf("the stream ended: %v", s.Err())
				return
			}
			got = append(got, s.Event())
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%d of %d events: %v", len(got), count, err)
		}
	case <-time.After(within):
		s.Close()
		<-done
		t.Fatalf("%d of %d events within %s: %+v", len(got), count, within, got)
	}
	return got
}

func lifecycle(t *testing.T, items []sessiond.Event) []*sessiond.LifecycleEvent {
	t.Helper()
	var out []*sessiond.LifecycleEvent
	for i, item := range items {
		e, ok := item.(*sessiond.LifecycleEvent)
		if !ok {
			t.Fatalf("item %d is not a lifecycle event: %#v", i, item)
		}
		out = append(out, e)
	}
	return out
}

func eventSubject() string { return "user-" + sessiond.NewSID() }

func TestEventsEveryKind(t *testing.T) {
	srv := sessiondtest.Start(t, "--max-sessions-per-subject", "1", "--sweep-interval", "1s")
	c := newClient(t, srv.URL)
	who := eventSubject()
	started := time.Now().Add(-time.Second)
	a := createWithDevice(t, srv.URL, who, map[string]string{"ua": "go test"})
	b, err := c.Rotate(ctx(t), a)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx(t), b.SID); err != nil {
		t.Fatal(err)
	}
	cs, _ := c.Create(ctx(t), sessiond.CreateParams{Subject: who})
	if err := c.RevokeHandle(ctx(t), who, cs.Handle()); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Create(ctx(t), sessiond.CreateParams{Subject: who})
	e, _ := c.Create(ctx(t), sessiond.CreateParams{Subject: who})          // the subject's second: d is evicted
	f, _ := c.Create(ctx(t), sessiond.CreateParams{Lifetime: time.Second}) // expires within the sweep's second

	s := c.Events(context.Background(), "0")
	defer s.Close()
	got := lifecycle(t, take(t, s, 10, 20*time.Second))
	type kind struct{ typ, handle string }
	var kinds []kind
	for _, ev := range got {
		kinds = append(kinds, kind{ev.Type, ev.Handle})
	}
	want := []kind{
		{sessiond.EventCreated, sessiond.HandleFor(a)}, {sessiond.EventRotated, b.Handle()}, {sessiond.EventDeleted, b.Handle()},
		{sessiond.EventCreated, cs.Handle()}, {sessiond.EventRevoked, cs.Handle()},
		{sessiond.EventCreated, d.Handle()}, {sessiond.EventLimitEvicted, d.Handle()}, {sessiond.EventCreated, e.Handle()},
		{sessiond.EventCreated, f.Handle()}, {sessiond.EventExpired, f.Handle()},
	}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("events\n got %v\nwant %v", kinds, want)
	}
	ids := make([]string, len(got))
	seen := map[string]bool{}
	for i, ev := range got {
		ids[i] = ev.ID
		seen[ev.ID] = true
		if ev.Time.Before(started) || ev.Time.Location() != time.UTC {
			t.Fatalf("time of %+v", ev)
		}
		for _, sid := range []string{a, b.SID, cs.SID, d.SID, e.SID, f.SID} {
			if bytes.Contains(ev.Raw, []byte(sid)) {
				t.Fatalf("an event names a sid: %s", ev.Raw)
			}
		}
	}
	if !sort.StringsAreSorted(ids) || len(seen) != 10 || s.LastEventID() != ids[9] {
		t.Fatalf("IDs only grow: %q (last %q)", ids, s.LastEventID())
	}
	if got[0].Subject != who || got[0].Device["ua"] != "go test" || got[0].From != "" {
		t.Fatalf("created: %+v", got[0])
	}
	if got[1].From != sessiond.HandleFor(a) || got[1].Subject != who {
		t.Fatalf("rotated: %+v", got[1])
	}
	if got[8].Subject != "" || got[8].Device != nil || got[9].Time.Before(got[8].Time) {
		t.Fatalf("expired: %+v after %+v", got[9], got[8])
	}
}

// createWithDevice creates a session with device metadata (a member Client.Create does not
// send), and returns its sid.
func createWithDevice(t *testing.T, url, subject string, device map[string]string) string {
	t.Helper()
	body := fmt.Sprintf(`{"data":{"secret":1},"subject":%q,"device":{"ua":%q}}`, subject, device["ua"])
	resp, err := http.Post(url+"/sessions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("create with a device: %d %s", resp.StatusCode, raw)
	}
	i := bytes.Index(raw, []byte(`"sid":"`))
	return string(raw[i+7 : i+7+36])
}

func TestEventsFromNow(t *testing.T) {
	srv := sessiondtest.Start(t)
	c := newClient(t, srv.URL)
	before, _ := c.Create(ctx(t), sessiond.CreateParams{})
	s := c.Events(context.Background(), "")
	defer s.Close()
	// The stream opens at the first Next, at a moment unknown here: create until one arrives.
	var mu sync.Mutex
	var later []string
	stop := make(chan struct{})
	creating := make(chan struct{})
	go func() {
		defer close(creating)
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if made, err := c.Create(context.Background(), sessiond.CreateParams{}); err == nil {
				mu.Lock()
				later = append(later, made.Handle())
				mu.Unlock()
			}
		}
	}()
	got := lifecycle(t, take(t, s, 1, 20*time.Second))
	close(stop)
	<-creating
	found := false
	for _, h := range later {
		found = found || h == got[0].Handle
	}
	if got[0].Handle == before.Handle() || !found {
		t.Fatalf("from now: %+v", got[0])
	}
}

func TestEventsResumeAfterCutConnection(t *testing.T) {
	srv := sessiondtest.Start(t)
	r := startRelay(t, srv.Port)
	c := newClient(t, r.url)
	direct := newClient(t, srv.URL)
	var made []string
	create := func(n int) {
		for i := 0; i < n; i++ {
			s, err := direct.Create(ctx(t), sessiond.CreateParams{})
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, s.Handle())
		}
	}
	create(3)
	s := c.Events(context.Background(), "0")
	defer s.Close()
	got := lifecycle(t, take(t, s, 3, 20*time.Second))
	r.cut()
	create(2) // while the stream is down
	cutAt := time.Now()
	got = append(got, lifecycle(t, take(t, s, 2, 20*time.Second))...)
	if waited := time.Since(cutAt); waited < 900*time.Millisecond {
		t.Fatalf(`the server's "retry: 1000" was not waited: %v`, waited)
	}
	create(1) // and the resumed stream goes on live
	got = append(got, lifecycle(t, take(t, s, 1, 20*time.Second))...)
	var handles, ids []string
	for _, e := range got {
		handles = append(handles, e.Handle)
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(handles) != fmt.Sprint(made) {
		t.Fatalf("lost or repeated events:\n got %v\nmade %v", handles, made)
	}
	if !sort.StringsAreSorted(ids) || ids[2] == ids[3] {
		t.Fatalf("IDs: %q", ids)
	}
	requests := r.requests()
	if len(requests) != 2 {
		t.Fatalf("%d requests through the relay, want 2", len(requests))
	}
	for i, resume := range []string{"0", ids[2]} {
		if !strings.Contains(requests[i], "\r\nLast-Event-ID: "+resume+"\r\n") || !strings.Contains(requests[i], "\r\nAccept: text/event-stream\r\n") {
			t.Fatalf("request %d does not resume from %s:\n%s", i, resume, requests[i])
		}
	}
}

func TestEventsRestartIsMissed(t *testing.T) {
	srv := sessiondtest.Start(t)
	c := newClient(t, srv.URL)
	first, _ := c.Create(ctx(t), sessiond.CreateParams{})
	s := c.Events(context.Background(), "0")
	defer s.Close()
	event := lifecycle(t, take(t, s, 1, 20*time.Second))[0]
	if event.Handle != first.Handle() {
		t.Fatalf("first: %+v", event)
	}
	srv.Stop() // the stream ends cleanly; the embedded store's history goes with the process
	sessiondtest.StartAt(t, srv.Port)
	after, err := c.Create(ctx(t), sessiond.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}
	got := take(t, s, 2, 30*time.Second)
	m, ok := got[0].(*sessiond.Missed)
	if !ok || m.After != event.ID || m.Detail == "" {
		t.Fatalf("not told of missed events: %#v", got[0])
	}
	if e, ok := got[1].(*sessiond.LifecycleEvent); !ok || e.Handle != after.Handle() {
		t.Fatalf("after the restart: %#v", got[1])
	}
}

func TestEventsContextAndClose(t *testing.T) {
	srv := sessiondtest.Start(t)
	r := startRelay(t, srv.Port)
	c := newClient(t, r.url)
	made, _ := c.Create(ctx(t), sessiond.CreateParams{})

	// The context's end stops a Next that waits, and closes the connection.
	cctx, cancel := context.WithCancel(context.Background())
	s := c.Events(cctx, "0")
	if e := lifecycle(t, take(t, s, 1, 20*time.Second))[0]; e.Handle != made.Handle() {
		t.Fatalf("%+v", e)
	}
	if r.openStreams() != 1 {
		t.Fatalf("%d streams open", r.openStreams())
	}
	time.AfterFunc(300*time.Millisecond, cancel)
	started := time.Now()
	if s.Next() {
		t.Fatalf("an event after the context ended: %#v", s.Event())
	}
	if !errors.Is(s.Err(), context.Canceled) || errors.Is(s.Err(), sessiond.ErrUnavailable) || time.Since(started) > 3*time.Second {
		t.Fatalf("canceled: %v after %v", s.Err(), time.Since(started))
	}
	r.waitNoStreams(t)
	if s.Next() || s.Event() != nil {
		t.Fatal("Next after the end")
	}
	s.Close()

	// Close from another goroutine: Next returns false, Err is nil.
	s = c.Events(context.Background(), "0")
	take(t, s, 1, 20*time.Second)
	time.AfterFunc(300*time.Millisecond, func() { s.Close() })
	if s.Next() || s.Err() != nil {
		t.Fatalf("closed: %v", s.Err())
	}
	r.waitNoStreams(t)

	// A context that has ended already: no request at all.
	before := len(r.requests())
	s = c.Events(cctx, "")
	if s.Next() || !errors.Is(s.Err(), context.Canceled) || len(r.requests()) != before {
		t.Fatalf("a dead context: %v", s.Err())
	}

	// Closed before the first Next.
	s = c.Events(context.Background(), "")
	s.Close()
	if s.Next() || s.Err() != nil || len(r.requests()) != before {
		t.Fatalf("closed first: %v", s.Err())
	}
}

func TestEventsOffAndMalformedIDAreNotRetried(t *testing.T) {
	srv := sessiondtest.Start(t, "--event-history", "0")
	c := newClient(t, srv.URL)
	started := time.Now()
	s := c.Events(context.Background(), "")
	defer s.Close()
	var e *sessiond.Error
	if s.Next() || !errors.As(s.Err(), &e) || e.Status != 501 || e.Slug() != "events-off" || errors.Is(s.Err(), sessiond.ErrUnavailable) {
		t.Fatalf("events off: %v", s.Err())
	}
	if time.Since(started) > time.Second {
		t.Fatalf("took %v", time.Since(started))
	}
	s = c.Events(context.Background(), "yesterday")
	defer s.Close()
	if s.Next() || !errors.Is(s.Err(), sessiond.ErrBadRequest) || !errors.As(s.Err(), &e) || e.Slug() != "malformed-event-id" || e.Op != "GET /events" {
		t.Fatalf("malformed: %v", s.Err())
	}
}

func TestEventsUnreachable(t *testing.T) {
	c := newClient(t, fmt.Sprintf("http://127.0.0.1:%d", sessiondtest.FreePort(t)))
	s := c.Events(context.Background(), "")
	defer s.Close()
	var e *sessiond.Error
	if s.Next() || !errors.Is(s.Err(), sessiond.ErrUnavailable) || !errors.As(s.Err(), &e) || e.Status != 0 {
		t.Fatalf("unreachable: %v", s.Err())
	}
}

func TestEventsAPIKey(t *testing.T) {
	keys := map[string]string{"shop": strings.Repeat("a", 40), "blog": strings.Repeat("b", 40)}
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("shop:"+keys["shop"]+"\nblog:"+keys["blog"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := sessiondtest.Start(t, "--api-keys-file", file)
	r := startRelay(t, srv.Port)
	for _, namespace := range []string{"shop", "blog"} {
		c := newClient(t, r.url, sessiond.WithAPIKey(keys[namespace]))
		made, err := c.Create(ctx(t), sessiond.CreateParams{})
		if err != nil {
			t.Fatal(err)
		}
		s := c.Events(context.Background(), "0")
		got := lifecycle(t, take(t, s, 1, 20*time.Second))
		s.Close()
		if got[0].Handle != made.Handle() {
			t.Fatalf("%s sees %+v", namespace, got[0])
		}
		requests := r.requests()
		if last := requests[len(requests)-1]; !strings.Contains(last, "\r\nAuthorization: Bearer "+keys[namespace]+"\r\n") {
			t.Fatalf("the key was not sent:\n%s", last)
		}
	}
	for _, key := range []string{"", strings.Repeat("c", 40)} {
		s := newClient(t, srv.URL, sessiond.WithAPIKey(key)).Events(context.Background(), "")
		if s.Next() || !errors.Is(s.Err(), sessiond.ErrUnauthorized) || strings.Contains(fmt.Sprint(s.Err()), keys["shop"]) {
			t.Fatalf("key %q: %v", key, s.Err())
		}
		s.Close()
	}
}

// relay is a TCP relay on loopback to a server's port that can cut every connection it carries
// (a network that drops them), and keeps the first bytes each client sent (its request).
type relay struct {
	url      string
	listener net.Listener
	port     int
	mu       sync.Mutex
	conns    []*relayed
}

type relayed struct {
	down, up net.Conn
	request  bytes.Buffer
	open     bool
}

func startRelay(t *testing.T, port int) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{url: "http://" + l.Addr().String(), listener: l, port: port}
	go r.accept()
	t.Cleanup(func() {
		l.Close()
		r.cut()
	})
	return r
}

func (r *relay) accept() {
	for {
		down, err := r.listener.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err != nil {
			down.Close()
			continue
		}
		c := &relayed{down: down, up: up, open: true}
		r.mu.Lock()
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		go r.pump(c, down, up, true)
		go r.pump(c, up, down, false)
	}
}

func (r *relay) pump(c *relayed, from, to net.Conn, record bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if record {
				r.mu.Lock()
				if c.request.Len() < 64<<10 {
					c.request.Write(buf[:n])
				}
				r.mu.Unlock()
			}
			if _, werr := to.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			break
		}
	}
	r.mu.Lock()
	c.open = false
	r.mu.Unlock()
	from.Close()
	to.Close()
}

// cut drops every connection the relay carries, both ways.
func (r *relay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.down.Close()
		c.up.Close()
	}
}

// requests are the GET /events requests that came through the relay, in the order of their
// connections (a stream may reuse a kept-alive connection of the client's other calls).
func (r *relay) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.conns {
		for _, part := range strings.Split(c.request.String(), "GET /events ")[1:] {
			out = append(out, "GET /events "+strings.SplitN(part, "\r\n\r\n", 2)[0]+"\r\n")
		}
	}
	return out
}

func (r *relay) openStreams() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.conns {
		if c.open && strings.Contains(c.request.String(), "GET /events ") {
			n++
		}
	}
	return n
}

func (r *relay) waitNoStreams(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.openStreams() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d event streams still open", r.openStreams())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
