package sessiond_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
)

// app is a small app on the middleware, served over real HTTP.
func app(t *testing.T, c *sessiond.Client, configure func(*sessiond.Middleware)) (*httptest.Server, *sessiond.Middleware, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	m := sessiond.NewMiddleware(c)
	m.Logger = log.New(&syncWriter{w: &logs}, "", 0)
	if configure != nil {
		configure(m)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		n := s.GetInt("n") + 1
		if err := s.Set("n", n); err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/peek", func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		fmt.Fprintf(w, "n=%d unavailable=%v new=%v", s.GetInt("n"), s.Unavailable(), s.IsNew())
	})
	mux.HandleFunc("/nothing", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "static") })
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		_ = s.Set("user", r.URL.Query().Get("user"))
		s.SetSubject(r.URL.Query().Get("user"))
		s.Rotate()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sessiond.FromContext(r.Context()).Destroy()
	})
	mux.HandleFunc("/logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		n, err := m.LogoutEverywhere(r.Context(), r.URL.Query().Get("keep") == "1")
		if err != nil {
			t.Error(err)
		}
		fmt.Fprint(w, n)
	})
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv, m, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) sid() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setSID(sid string) {
	u, _ := url.Parse(b.base)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: sid, Path: "/"}})
}

func setCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			return c
		}
	}
	return nil
}

func TestMiddlewareCounter(t *testing.T) {
	c := newClient(t, server(t).URL)
	srv, _, _ := app(t, c, nil)
	b := newBrowser(t, srv.URL)

	resp, body := b.get("/nothing")
	if body != "static" || setCookie(resp) != nil || resp.Header.Get("Vary") != "" {
		t.Fatalf("a request that does not use the session: %v %v", resp.Header, body)
	}
	resp, body = b.get("/count")
	cookie := setCookie(resp)
	if body != "1" || cookie == nil || !sessiond.ValidSID(cookie.Value) || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Fatalf("first: %q %+v", body, cookie)
	}
	if cookie.MaxAge != 0 || !cookie.Expires.IsZero() {
		t.Fatalf("a session that is not permanent has a browser-session cookie: %+v", cookie)
	}
	if resp.Header.Get("Vary") != "Cookie" {
		t.Fatalf("vary: %v", resp.Header)
	}
	sid := cookie.Value
	resp, body = b.get("/count")
	if body != "2" || setCookie(resp) != nil || b.sid() != sid {
		t.Fatalf("second: %q %v", body, resp.Cookies())
	}
	stored, err := c.Get(ctx(t), sid)
	if err != nil || string(stored.Data["n"]) != "2" || stored.Version != 2 {
		t.Fatalf("in Sessiond: %+v %v", stored, err)
	}
	// A read without a change writes nothing.
	if _, body = b.get("/peek"); body != "n=2 unavailable=false new=false" {
		t.Fatal(body)
	}
	if again, _ := c.Get(ctx(t), sid); again.Version != 2 {
		t.Fatalf("a read wrote: version %d", again.Version)
	}
}

func TestMiddlewareStaleAndMalformedCookies(t *testing.T) {
	c := newClient(t, server(t).URL)
	srv, _, _ := app(t, c, nil)
	b := newBrowser(t, srv.URL)
	planted := sessiond.NewSID()
	b.setSID(planted)
	_, body := b.get("/count")
	if body != "1" || b.sid() == planted || !sessiond.ValidSID(b.sid()) {
		t.Fatalf("an unknown sid was adopted: %q %s", body, b.sid())
	}
	if _, err := c.Get(ctx(t), planted); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("the planted sid exists: %v", err)
	}
	// A cookie that is no sid is not sent to Sessiond; an empty session removes it.
	b2 := newBrowser(t, srv.URL)
	b2.setSID("../../etc")
	resp, body := b2.get("/peek")
	cookie := setCookie(resp)
	if body != "n=0 unavailable=false new=true" || cookie == nil || cookie.MaxAge >= 0 {
		t.Fatalf("malformed: %q %+v", body, cookie)
	}
}

func TestMiddlewareLoginRotationAndLogout(t *testing.T) {
	c := newClient(t, server(t).URL)
	srv, _, _ := app(t, c, nil)
	b := newBrowser(t, srv.URL)
	b.get("/count")
	before := b.sid()
	resp, _ := b.get("/login?user=ada")
	after := b.sid()
	if resp.StatusCode != 204 || after == before || setCookie(resp) == nil {
		t.Fatalf("login: %d %s -> %s", resp.StatusCode, before, after)
	}
	if _, err := c.Get(ctx(t), before); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("the sid before login still works: %v", err)
	}
	s, err := c.Get(ctx(t), after)
	if err != nil || s.Subject != "ada" || string(s.Data["user"]) != `"ada"` || string(s.Data["n"]) != "1" {
		t.Fatalf("after login: %+v %v", s, err)
	}
	resp, _ = b.get("/logout")
	cookie := setCookie(resp)
	if cookie == nil || cookie.MaxAge >= 0 || b.sid() != "" {
		t.Fatalf("logout cookie: %+v", cookie)
	}
	if _, err := c.Get(ctx(t), after); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestMiddlewareLogoutEverywhere(t *testing.T) {
	c := newClient(t, server(t).URL)
	srv, _, _ := app(t, c, nil)
	user := "grace-" + sessiond.NewSID()
	phone, laptop, tablet := newBrowser(t, srv.URL), newBrowser(t, srv.URL), newBrowser(t, srv.URL)
	for _, b := range []*browser{phone, laptop, tablet} {
		b.get("/login?user=" + user)
	}
	if _, body := laptop.get("/logout-everywhere?keep=1"); body != "2" {
		t.Fatalf("revoked %s", body)
	}
	if _, body := laptop.get("/peek"); !strings.Contains(body, "new=false") {
		t.Fatalf("the kept session: %s", body)
	}
	if _, body := phone.get("/peek"); !strings.Contains(body, "new=true") {
		t.Fatalf("the phone is still logged in: %s", body)
	}
	if _, body := laptop.get("/logout-everywhere"); body != "1" || laptop.sid() != "" {
		t.Fatalf("all: %s %s", body, laptop.sid())
	}
}

// Two requests of one user that change different keys both keep their change: each sends a
// merge patch of its own keys.
func TestMiddlewareConcurrentRequestsKeepBothChanges(t *testing.T) {
	c := newClient(t, server(t).URL)
	m := sessiond.NewMiddleware(c)
	var loaded sync.WaitGroup
	loaded.Add(2)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		loaded.Done()
		loaded.Wait() // both have read the same version
		_ = s.Set(r.URL.Query().Get("key"), "set")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	s, _ := c.Create(ctx(t), sessiond.CreateParams{Data: map[string]int{"n": 1}})
	var wg sync.WaitGroup
	for _, key := range []string{"a", "b"} {
		wg.Add(1)
		go func(key string) {
			defer wg.Done()
			req, _ := http.NewRequest("GET", srv.URL+"/?key="+key, nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: s.SID})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}(key)
	}
	wg.Wait()
	got, _ := c.Get(ctx(t), s.SID)
	if string(got.Data["a"]) != `"set"` || string(got.Data["b"]) != `"set"` || string(got.Data["n"]) != "1" {
		t.Fatalf("lost an update: %s", mustJSON(got.Data))
	}
}

func TestMiddlewareValues(t *testing.T) {
	c := newClient(t, server(t).URL)
	m := sessiond.NewMiddleware(c)
	var step func(*sessiond.RequestSession)
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		step(sessiond.FromContext(r.Context()))
	})))
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	do := func(f func(*sessiond.RequestSession)) *sessiond.Session {
		step = f
		b.get("/")
		s, err := c.Get(ctx(t), b.sid())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := do(func(s *sessiond.RequestSession) {
		_ = s.Set("prefs", map[string]interface{}{"theme": "dark", "lang": "en", "html": "<b>"})
		_ = s.Set("list", []interface{}{1, nil})
	})
	if string(s.Data["list"]) != "[1,null]" {
		t.Fatal(mustJSON(s.Data))
	}
	// A nested key removed: the merge patch says null for it.
	s = do(func(s *sessiond.RequestSession) {
		_ = s.Set("prefs", map[string]interface{}{"theme": "dark", "html": "<b>"})
	})
	if string(s.Data["prefs"]) != `{"html":"<b>","theme":"dark"}` || s.Version != 2 {
		t.Fatalf("nested: %s v%d", s.Data["prefs"], s.Version)
	}
	// Unchanged values (HTML characters included) write nothing.
	s = do(func(s *sessiond.RequestSession) {
		_ = s.Set("prefs", map[string]interface{}{"theme": "dark", "html": "<b>"})
	})
	if s.Version != 2 {
		t.Fatalf("an unchanged value was written: v%d", s.Version)
	}
	// A null value, which a merge patch cannot store: written whole with If-Match.
	s = do(func(s *sessiond.RequestSession) {
		_ = s.Set("gone", nil)
		_ = s.Set("obj", map[string]interface{}{"x": nil})
	})
	if string(s.Data["gone"]) != "null" || string(s.Data["obj"]) != `{"x":null}` || string(s.Data["list"]) != "[1,null]" {
		t.Fatalf("nulls: %s", mustJSON(s.Data))
	}
	// Values that are not JSON are refused by Set.
	step = func(s *sessiond.RequestSession) {
		if err := s.Set("ch", make(chan int)); err == nil {
			t.Error("a channel was accepted")
		}
	}
	b.get("/")
	// Lifetime and permanence: a cookie that expires with the session.
	step = func(s *sessiond.RequestSession) { _ = s.SetLifetime(300 * time.Second) }
	resp, _ := b.get("/")
	cookie := setCookie(resp)
	if cookie == nil || cookie.MaxAge < 299 || cookie.MaxAge > 301 {
		t.Fatalf("lifetime cookie: %+v", cookie)
	}
	if s, _ := c.Get(ctx(t), b.sid()); s.Lifetime != 300*time.Second {
		t.Fatalf("lifetime: %v", s.Lifetime)
	}
	// Touched on each read: the cookie of a session with an expiry is sent again.
	step = func(s *sessiond.RequestSession) {}
	if resp, _ := b.get("/"); setCookie(resp) == nil {
		t.Fatal("the refreshed cookie was not sent")
	}
	step = func(s *sessiond.RequestSession) { s.SetPermanent(true); _ = s.SetLifetime(0) }
	resp, _ = b.get("/")
	if s, _ := c.Get(ctx(t), b.sid()); !s.Permanent || s.Lifetime != 0 || setCookie(resp).MaxAge < 31*86400-2 {
		t.Fatalf("permanent: %+v %+v", s, setCookie(resp))
	}
}

// The session is saved when the response starts, before its headers go out: the cookie is
// in the headers of a handler that writes its body at once, and changes after that are saved
// after the handler.
func TestMiddlewareSavesBeforeTheResponseStarts(t *testing.T) {
	c := newClient(t, server(t).URL)
	m := sessiond.NewMiddleware(c)
	var logs bytes.Buffer
	m.Logger = log.New(&syncWriter{w: &logs}, "", 0)
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		_ = s.Set("first", 1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("streaming "))
		w.(http.Flusher).Flush()
		_ = s.Set("late", 2) // after the headers: saved after the handler, no cookie needed
		if r.URL.Query().Get("rotate") == "1" {
			s.Rotate() // too late: logged, not done
		}
		_, _ = w.Write([]byte("done"))
	})))
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	resp, body := b.get("/")
	if body != "streaming done" || setCookie(resp) == nil {
		t.Fatalf("%q %v", body, resp.Cookies())
	}
	s, err := c.Get(ctx(t), b.sid())
	if err != nil || string(s.Data["first"]) != "1" || string(s.Data["late"]) != "2" {
		t.Fatalf("saved: %+v %v", s, err)
	}
	sid := b.sid()
	b.get("/?rotate=1")
	if b.sid() != sid || !strings.Contains(logs.String(), "Rotate was called after the response started") {
		t.Fatalf("late rotation: %s %s", b.sid(), logs.String())
	}
	if _, err := c.Get(ctx(t), sid); err != nil {
		t.Fatalf("the session was lost by a late rotation: %v", err)
	}
}

func TestMiddlewareFailClosed(t *testing.T) {
	srv := sessiondtest.Start(t)
	c := newClient(t, srv.URL, sessiond.WithTimeout(time.Second))
	web, _, _ := app(t, c, nil)
	b := newBrowser(t, web.URL)
	b.get("/count")
	srv.Stop()
	resp, body := b.get("/count")
	if resp.StatusCode != 503 || strings.TrimSpace(body) != "session store unavailable" {
		t.Fatalf("load: %d %q", resp.StatusCode, body)
	}
	// No cookie: nothing to load, but the save fails when the response starts, so the
	// handler's answer is replaced.
	fresh := newBrowser(t, web.URL)
	resp, body = fresh.get("/count")
	if resp.StatusCode != 503 || strings.Contains(body, "1") || setCookie(resp) != nil {
		t.Fatalf("save: %d %q", resp.StatusCode, body)
	}
	// A request that does not use the session is served.
	if resp, body := fresh.get("/nothing"); resp.StatusCode != 200 || body != "static" {
		t.Fatalf("static: %d %q", resp.StatusCode, body)
	}
}

func TestMiddlewareFailOpen(t *testing.T) {
	srv := sessiondtest.Start(t)
	c := newClient(t, srv.URL, sessiond.WithTimeout(time.Second))
	web, _, logs := app(t, c, func(m *sessiond.Middleware) { m.FailOpen = true })
	b := newBrowser(t, web.URL)
	b.get("/count")
	b.get("/count")
	sid := b.sid()
	srv.Pause()
	resp, body := b.get("/peek")
	if resp.StatusCode != 200 || body != "n=0 unavailable=true new=true" || setCookie(resp) != nil {
		t.Fatalf("load: %d %q", resp.StatusCode, body)
	}
	resp, body = b.get("/count")
	if resp.StatusCode != 200 || body != "1" || setCookie(resp) != nil || b.sid() != sid {
		t.Fatalf("an unavailable session is never saved: %d %q %v", resp.StatusCode, body, resp.Cookies())
	}
	fresh := newBrowser(t, web.URL)
	if resp, body := fresh.get("/count"); resp.StatusCode != 200 || body != "1" || setCookie(resp) != nil {
		t.Fatalf("save: %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "unavailable") {
		t.Fatalf("nothing logged: %s", logs.String())
	}
	srv.Resume()
	if _, body := b.get("/count"); body != "3" {
		t.Fatalf("the real session was kept: %q", body)
	}
}

func TestMiddlewareSessionGoneDuringRequest(t *testing.T) {
	c := newClient(t, server(t).URL)
	m := sessiond.NewMiddleware(c)
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		_ = c.Delete(r.Context(), s.SID()) // a logout in another request
		_ = s.Set("late", true)
	})))
	m.Logger = log.New(io.Discard, "", 0)
	defer srv.Close()
	s, _ := c.Create(ctx(t), sessiond.CreateParams{Data: map[string]int{"n": 1}})
	b := newBrowser(t, srv.URL)
	b.setSID(s.SID)
	resp, _ := b.get("/")
	if cookie := setCookie(resp); resp.StatusCode != 200 || cookie == nil || cookie.MaxAge >= 0 {
		t.Fatalf("%d %+v", resp.StatusCode, cookie)
	}
	if _, err := c.Get(ctx(t), s.SID); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("a logged-out session was brought back: %v", err)
	}
}
