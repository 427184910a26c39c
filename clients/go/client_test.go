package sessiond_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
)

var shared *sessiondtest.Server

// server is the sessiond that the tests which do not stop or pause it share.
func server(t *testing.T) *sessiondtest.Server {
	t.Helper()
	if shared == nil {
		shared = sessiondtest.Start(&keepAlive{T: t})
	}
	return shared
}

// keepAlive starts the shared server without tying its stop to the first test's end.
type keepAlive struct{ *testing.T }

func (k *keepAlive) Cleanup(func()) {}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

func newClient(t *testing.T, url string, opts ...sessiond.Option) *sessiond.Client {
	t.Helper()
	c, err := sessiond.NewClient(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func jsonText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	return string(raw)
}

func TestCreateGetPatchReplaceDelete(t *testing.T) {
	c := newClient(t, server(t).URL)
	s, err := c.Create(ctx(t), sessiond.CreateParams{
		Data: map[string]interface{}{"user": 42, "cart": []int{1, 2}, "big": int64(9007199254740993)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sessiond.ValidSID(s.SID) || s.Version != 1 || s.ETag() != `"1"` || s.Permanent || s.Subject != "" || s.Lifetime != 0 {
		t.Fatalf("created: %+v", s)
	}
	if s.TTL != 24*time.Hour || s.ExpiresAt.Sub(s.CreatedAt) != 24*time.Hour {
		t.Fatalf("ttl %v, expires %v, created %v", s.TTL, s.ExpiresAt, s.CreatedAt)
	}
	if got := jsonText(t, s.Data["big"]); got != "9007199254740993" {
		t.Fatalf("a 64-bit integer came back as %s", got)
	}
	got, err := c.Get(ctx(t), s.SID)
	if err != nil || got.Version != 1 || jsonText(t, got.Data["cart"]) != "[1,2]" {
		t.Fatalf("get: %+v %v", got, err)
	}
	var data struct {
		User int   `json:"user"`
		Cart []int `json:"cart"`
	}
	if err := got.DecodeData(&data); err != nil || data.User != 42 || len(data.Cart) != 2 {
		t.Fatalf("decode: %+v %v", data, err)
	}

	patched, err := c.Patch(ctx(t), s.SID, sessiond.Patch{
		Data:      map[string]interface{}{"cart": []int{1, 2, 3}, "user": nil, "flash": "hi"},
		Permanent: sessiond.Bool(true),
		Subject:   sessiond.String("user-42"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if patched.Version != 2 || !patched.Permanent || patched.Subject != "user-42" || patched.TTL != 31*24*time.Hour {
		t.Fatalf("patched: %+v", patched)
	}
	if _, ok := patched.Data["user"]; ok || jsonText(t, patched.Data["cart"]) != "[1,2,3]" || jsonText(t, patched.Data["flash"]) != `"hi"` {
		t.Fatalf("patched data: %s", mustJSON(patched.Data))
	}
	cleared, err := c.Patch(ctx(t), s.SID, sessiond.Patch{ClearSubject: true})
	if err != nil || cleared.Subject != "" || !cleared.Permanent {
		t.Fatalf("clear subject: %+v %v", cleared, err)
	}

	replaced, err := c.Replace(ctx(t), s.SID, sessiond.ReplaceParams{Data: map[string]string{"only": "this"}})
	if err != nil {
		t.Fatal(err)
	}
	if replaced.Version != 4 || replaced.Permanent || len(replaced.Data) != 1 || jsonText(t, replaced.Data["only"]) != `"this"` {
		t.Fatalf("replaced: %+v", replaced)
	}
	if err := c.Delete(ctx(t), s.SID); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx(t), s.SID); err != nil {
		t.Fatalf("a second delete: %v", err)
	}
	if _, err := c.Get(ctx(t), s.SID); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.Replace(ctx(t), s.SID, sessiond.ReplaceParams{}); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("PUT never creates: %v", err)
	}
	if _, err := c.Patch(ctx(t), s.SID, sessiond.Patch{}); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("PATCH never creates: %v", err)
	}
}

func mustJSON(v interface{}) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCreateUnderMintedSID(t *testing.T) {
	c := newClient(t, server(t).URL)
	sid := sessiond.NewSID()
	if !sessiond.ValidSID(sid) || sid[14] != '4' || !strings.ContainsRune("89ab", rune(sid[19])) {
		t.Fatalf("NewSID: %s", sid)
	}
	s, err := c.Create(ctx(t), sessiond.CreateParams{SID: sid, Data: map[string]int{"n": 1}, Lifetime: 300 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != sid || s.Version != 1 || s.Lifetime != 300*time.Second || s.TTL != 300*time.Second {
		t.Fatalf("created: %+v", s)
	}
	_, err = c.Create(ctx(t), sessiond.CreateParams{SID: sid, Data: map[string]int{"n": 2}})
	if !errors.Is(err, sessiond.ErrSessionExists) || errors.Is(err, sessiond.ErrPreconditionFailed) || errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("second create: %v", err)
	}
	var e *sessiond.Error
	if !errors.As(err, &e) || e.Status != 412 || e.Slug() != "session-exists" {
		t.Fatalf("as: %#v", e)
	}
	if strings.Contains(err.Error(), sid) {
		t.Fatalf("the message names the sid: %v", err)
	}
	got, _ := c.Get(ctx(t), sid)
	if jsonText(t, got.Data["n"]) != "1" {
		t.Fatalf("session-exists changed the session: %s", got.Data["n"])
	}
	_, err = c.Create(ctx(t), sessiond.CreateParams{SID: strings.ToUpper(sessiond.NewSID())})
	if !errors.Is(err, sessiond.ErrBadRequest) {
		t.Fatalf("uppercase sid: %v", err)
	}
}

func TestLifetime(t *testing.T) {
	c := newClient(t, server(t).URL)
	s, err := c.Create(ctx(t), sessiond.CreateParams{Lifetime: 300 * time.Second})
	if err != nil || s.Lifetime != 300*time.Second {
		t.Fatalf("%+v %v", s, err)
	}
	s, err = c.Patch(ctx(t), s.SID, sessiond.Patch{Data: map[string]interface{}{"a": 1}})
	if err != nil || s.Lifetime != 300*time.Second || s.TTL != 300*time.Second {
		t.Fatalf("a patch without lifetime keeps it: %+v %v", s, err)
	}
	s, err = c.Patch(ctx(t), s.SID, sessiond.Patch{Lifetime: 600 * time.Second})
	if err != nil || s.Lifetime != 600*time.Second {
		t.Fatalf("set: %+v %v", s, err)
	}
	s, err = c.Patch(ctx(t), s.SID, sessiond.Patch{ClearLifetime: true})
	if err != nil || s.Lifetime != 0 || s.TTL != 24*time.Hour {
		t.Fatalf("clear: %+v %v", s, err)
	}
	s, _ = c.Patch(ctx(t), s.SID, sessiond.Patch{Lifetime: 60 * time.Second})
	s, err = c.Replace(ctx(t), s.SID, sessiond.ReplaceParams{Data: map[string]int{}})
	if err != nil || s.Lifetime != 0 {
		t.Fatalf("a replace without lifetime clears it: %+v %v", s, err)
	}
	if _, err := c.Patch(ctx(t), s.SID, sessiond.Patch{Lifetime: 1500 * time.Millisecond}); err == nil || errors.Is(err, sessiond.ErrInvalid) {
		t.Fatalf("1.5 s is refused before any call: %v", err)
	}
	if _, err := c.Patch(ctx(t), s.SID, sessiond.Patch{Lifetime: time.Second, ClearLifetime: true}); err == nil {
		t.Fatal("set and clear together")
	}
	_, err = c.Patch(ctx(t), s.SID, sessiond.Patch{Lifetime: 40 * 24 * time.Hour})
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrInvalid) || !errors.As(err, &e) || e.Slug() != "lifetime-too-long" {
		t.Fatalf("too long: %v", err)
	}
}

func TestTouchRotateAndPreconditions(t *testing.T) {
	c := newClient(t, server(t).URL)
	s, _ := c.Create(ctx(t), sessiond.CreateParams{Data: map[string]int{"n": 1}})
	time.Sleep(1100 * time.Millisecond)
	plain, err := c.Get(ctx(t), s.SID)
	if err != nil || !plain.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("a plain read does not slide: %v %v", plain.ExpiresAt, s.ExpiresAt)
	}
	touched, err := c.GetAndTouch(ctx(t), s.SID)
	if err != nil || touched.Version != 1 || !touched.ExpiresAt.After(s.ExpiresAt) {
		t.Fatalf("get and touch: %+v %v", touched, err)
	}
	touched2, err := c.Touch(ctx(t), s.SID, sessiond.IfVersion(1))
	if err != nil || touched2.Version != 1 || touched2.ExpiresAt.Before(touched.ExpiresAt) {
		t.Fatalf("touch: %+v %v", touched2, err)
	}
	if _, err := c.Patch(ctx(t), s.SID, sessiond.Patch{Data: map[string]interface{}{"n": 2}}, sessiond.IfVersion(1)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Patch(ctx(t), s.SID, sessiond.Patch{Data: map[string]interface{}{"n": 3}}, sessiond.IfVersion(1))
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrPreconditionFailed) || errors.Is(err, sessiond.ErrSessionExists) || !errors.As(err, &e) || e.CurrentVersion != 2 {
		t.Fatalf("stale version: %v (%+v)", err, e)
	}
	if err := c.Delete(ctx(t), s.SID, sessiond.IfVersion(1)); !errors.Is(err, sessiond.ErrPreconditionFailed) {
		t.Fatalf("delete at a stale version: %v", err)
	}
	rotated, err := c.Rotate(ctx(t), s.SID, sessiond.IfVersion(2), sessiond.WithRequestID("go-client-test-rotate"))
	if err != nil || rotated.SID == s.SID || rotated.Version != 3 || jsonText(t, rotated.Data["n"]) != "2" {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	if _, err := c.Get(ctx(t), s.SID); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("the old sid after a rotation: %v", err)
	}
}

func TestSubjects(t *testing.T) {
	c := newClient(t, server(t).URL)
	subject := "user/42 é" // a slash and a space are escaped into one path segment
	var sids []string
	for i := 0; i < 3; i++ {
		s, err := c.Create(ctx(t), sessiond.CreateParams{Subject: subject, Permanent: i == 0})
		if err != nil {
			t.Fatal(err)
		}
		if s.Subject != subject {
			t.Fatalf("subject %q", s.Subject)
		}
		sids = append(sids, s.SID)
	}
	list, err := c.SubjectSessions(ctx(t), subject)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %+v %v", list, err)
	}
	// Oldest first; sessions created in the same millisecond may come in any order.
	byHandle := map[string]sessiond.SessionSummary{}
	for _, entry := range list {
		byHandle[entry.Handle] = entry
	}
	for i, sid := range sids {
		entry, ok := byHandle[sessiond.HandleFor(sid)]
		if !ok || entry.TTL <= 0 || entry.Permanent != (i == 0) {
			t.Fatalf("session %d: %+v in %+v", i, entry, list)
		}
	}
	if err := c.RevokeHandle(ctx(t), subject, sessiond.HandleFor(sids[2])); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx(t), sids[2]); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("revoked by handle: %v", err)
	}
	n, err := c.RevokeSubject(ctx(t), subject, sessiond.HandleFor(sids[0]))
	if err != nil || n != 1 {
		t.Fatalf("revoke all but one: %d %v", n, err)
	}
	if _, err := c.Get(ctx(t), sids[0]); err != nil {
		t.Fatalf("the kept one: %v", err)
	}
	n, err = c.RevokeSubject(ctx(t), subject, "")
	if err != nil || n != 1 {
		t.Fatalf("revoke all: %d %v", n, err)
	}
	list, err = c.SubjectSessions(ctx(t), subject)
	if err != nil || len(list) != 0 {
		t.Fatalf("after: %+v %v", list, err)
	}
}

func TestErrorsNameNoSID(t *testing.T) {
	c := newClient(t, server(t).URL)
	sid := sessiond.NewSID()
	_, err := c.Get(ctx(t), sid)
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrNotFound) || errors.Is(err, sessiond.ErrUnavailable) || !errors.As(err, &e) {
		t.Fatalf("%v", err)
	}
	if e.Status != 404 || e.Op != "GET /sessions/{sid}" || e.Title == "" || strings.Contains(err.Error(), sid) {
		t.Fatalf("%#v: %v", e, err)
	}
	// A 404 for a path the service does not serve (a wrong base URL) is not a missing session.
	wrong := newClient(t, server(t).URL+"/prefix")
	if _, err := wrong.Get(ctx(t), sid); errors.Is(err, sessiond.ErrNotFound) || !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("wrong base URL: %v", err)
	}
	if _, err := sessiond.NewClient("ftp://x"); err == nil {
		t.Fatal("ftp URL accepted")
	}
	if _, err := c.Create(ctx(t), sessiond.CreateParams{Data: map[string]interface{}{"f": func() {}}}); err == nil {
		t.Fatal("a function was sent as JSON")
	}
}

func TestReady(t *testing.T) {
	c := newClient(t, server(t).URL)
	if err := c.Ready(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestAPIKey(t *testing.T) {
	key := strings.Repeat("k", 40)
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("app:"+key+"\nother:"+strings.Repeat("o", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := sessiondtest.Start(t, "--api-keys-file", file)
	anonymous := newClient(t, srv.URL)
	_, err := anonymous.Create(ctx(t), sessiond.CreateParams{})
	if !errors.Is(err, sessiond.ErrUnauthorized) || errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("without a key: %v", err)
	}
	if _, err := newClient(t, srv.URL, sessiond.WithAPIKey("wrong"+key)).Create(ctx(t), sessiond.CreateParams{}); !errors.Is(err, sessiond.ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
	if err := anonymous.Ready(ctx(t)); err != nil {
		t.Fatalf("/readyz needs no key: %v", err)
	}
	c := newClient(t, srv.URL, sessiond.WithAPIKey(key))
	s, err := c.Create(ctx(t), sessiond.CreateParams{Data: map[string]int{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	other := newClient(t, srv.URL, sessiond.WithAPIKey(strings.Repeat("o", 40)))
	if _, err := other.Get(ctx(t), s.SID); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("another namespace: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	srv := sessiondtest.Start(t)
	c := newClient(t, srv.URL)
	s, err := c.Create(ctx(t), sessiond.CreateParams{})
	if err != nil {
		t.Fatal(err)
	}

	// Paused: the context's deadline ends the call.
	srv.Pause()
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Get(short, s.SID)
	if !errors.Is(err, sessiond.ErrUnavailable) || errors.Is(err, sessiond.ErrNotFound) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("paused: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the deadline was not kept: %v", time.Since(start))
	}
	// The client's own timeout, without a deadline in the context.
	quick := newClient(t, srv.URL, sessiond.WithTimeout(300*time.Millisecond))
	if _, err := quick.Get(context.Background(), s.SID); !errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("client timeout: %v", err)
	}
	// A caller that gives up is not an outage.
	canceled, cancelNow := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancelNow() }()
	if _, err := c.Get(canceled, s.SID); !errors.Is(err, context.Canceled) || errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("canceled: %v", err)
	}
	srv.Resume()
	if _, err := c.Get(ctx(t), s.SID); err != nil {
		t.Fatalf("resumed: %v", err)
	}

	// Stopped: connection refused.
	srv.Stop()
	_, err = c.Get(ctx(t), s.SID)
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrUnavailable) || errors.Is(err, sessiond.ErrNotFound) || !errors.As(err, &e) || e.Status != 0 || e.Err == nil {
		t.Fatalf("stopped: %v", err)
	}
	if strings.Contains(err.Error(), s.SID) {
		t.Fatalf("the message names the sid: %v", err)
	}
	if err := c.Ready(ctx(t)); !errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("ready when stopped: %v", err)
	}
}

func TestReadyWhileShuttingDown(t *testing.T) {
	srv := sessiondtest.Start(t, "--drain-delay", "10s")
	defer srv.Kill() // no need to wait for the drain
	c := newClient(t, srv.URL)
	srv.Terminate()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = c.Ready(ctx(t)); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrUnavailable) || !errors.As(err, &e) || e.Status != 503 || e.Slug() != "shutting-down" {
		t.Fatalf("draining: %v", err)
	}
}

// Retry-After comes with store-unavailable, which the embedded store never answers; a stub
// gives the header and the problem as the OpenAPI document shows them.
func TestRetryAfterStub(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret-key" || r.Header.Get("Accept") == "" ||
			!strings.HasPrefix(r.Header.Get("User-Agent"), "sessiond-go/") {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(503)
		_, _ = w.Write([]byte(`{"type":"https://sessiond.dev/problems/store-unavailable","title":"Session store unavailable","status":503,"detail":"the session store did not answer; retry shortly"}`))
	}))
	defer stub.Close()
	c := newClient(t, stub.URL, sessiond.WithAPIKey("secret-key"))
	_, err := c.Touch(ctx(t), sessiond.NewSID())
	var e *sessiond.Error
	if !errors.Is(err, sessiond.ErrUnavailable) || !errors.As(err, &e) || e.RetryAfter != 7*time.Second || e.Slug() != "store-unavailable" {
		t.Fatalf("%v", err)
	}
}
