package gorillastore_test

import (
	"context"
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

	"github.com/gorilla/sessions"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/gorillastore"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
)

func setup(t *testing.T, args ...string) (*sessiondtest.Server, *sessiond.Client) {
	srv := sessiondtest.Start(t, args...)
	c, err := sessiond.NewClient(srv.URL, sessiond.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ctx() context.Context { return context.Background() }

// app: the usual gorilla handlers, with the store in place of a Redis one.
func app(t *testing.T, store sessions.Store) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		session, err := store.Get(r, "session")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		n, _ := session.Values["count"].(int)
		session.Values["count"] = n + 1
		if err := session.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, n+1)
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "session")
		session.Values[r.URL.Query().Get("key")] = r.URL.Query().Get("value")
		if err := sessions.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "session")
		session.Values["user"] = "ada"
		gorillastore.Rotate(session)
		session.AddFlash("welcome")
		_ = session.Save(r, w)
	})
	mux.HandleFunc("/flash", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "session")
		flashes := session.Flashes()
		_ = session.Save(r, w)
		fmt.Fprint(w, flashes...)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		session, _ := store.Get(r, "session")
		session.Options.MaxAge = -1
		_ = session.Save(r, w)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
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

func TestCounterLoginFlashLogout(t *testing.T) {
	_, c := setup(t)
	store := gorillastore.New(c)
	b := newBrowser(t, app(t, store).URL)
	resp, body := b.get("/count")
	if body != "1" || len(resp.Cookies()) != 1 {
		t.Fatalf("%q %v", body, resp.Cookies())
	}
	cookie := resp.Cookies()[0]
	if !sessiond.ValidSID(cookie.Value) || cookie.MaxAge != 30*86400 || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie: %+v", cookie)
	}
	if _, body = b.get("/count"); body != "2" {
		t.Fatalf("an int comes back as an int: %q", body)
	}
	s, err := c.Get(ctx(), b.sid())
	if err != nil || string(s.Data["count"]) != "2" || s.Lifetime != 30*24*time.Hour || s.Version != 2 {
		t.Fatalf("in Sessiond (plain JSON, MaxAge as lifetime): %+v %v", s, err)
	}
	before := b.sid()
	b.get("/login")
	if b.sid() == before {
		t.Fatal("not rotated at login")
	}
	if _, err := c.Get(ctx(), before); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("the sid before login: %v", err)
	}
	if _, body = b.get("/flash"); body != "welcome" {
		t.Fatalf("flash: %q", body)
	}
	if _, body = b.get("/flash"); body != "" {
		t.Fatalf("a flash twice: %q", body)
	}
	after := b.sid()
	resp, _ = b.get("/logout")
	if len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 || b.sid() != "" {
		t.Fatalf("logout cookie: %v", resp.Cookies())
	}
	if _, err := c.Get(ctx(), after); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestUnknownCookieIsNeverAdopted(t *testing.T) {
	_, c := setup(t)
	b := newBrowser(t, app(t, gorillastore.New(c)).URL)
	planted := sessiond.NewSID()
	b.setSID(planted)
	if _, body := b.get("/count"); body != "1" || b.sid() == planted {
		t.Fatalf("%q %s", body, b.sid())
	}
	if _, err := c.Get(ctx(), planted); !errors.Is(err, sessiond.ErrNotFound) {
		t.Fatalf("planted: %v", err)
	}
}

func TestValuesAndRefusals(t *testing.T) {
	_, c := setup(t)
	store := gorillastore.New(c)
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	session, err := store.Get(r, "s")
	if err != nil || !session.IsNew {
		t.Fatal(err)
	}
	if again, _ := store.Get(r, "s"); again != session {
		t.Fatal("Get is not cached per request (sessions.GetRegistry)")
	}
	session.Values["str"] = "x<y"
	session.Values["float"] = 1.5
	session.Values["list"] = []interface{}{1, "a", nil}
	session.Values["map"] = map[string]interface{}{"k": 1}
	if err := session.Save(r, w); err != nil {
		t.Fatal(err)
	}
	s, _ := c.Get(ctx(), session.ID)
	if string(s.Data["str"]) != `"x<y"` || string(s.Data["float"]) != "1.5" || string(s.Data["list"]) != `[1,"a",null]` {
		t.Fatalf("stored: %v", s.Data)
	}
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.AddCookie(w.Result().Cookies()[0])
	loaded, err := store.Get(r2, "s")
	if err != nil || loaded.IsNew || loaded.ID != session.ID {
		t.Fatalf("%+v %v", loaded, err)
	}
	if loaded.Values["str"] != "x<y" || loaded.Values["float"] != 1.5 || loaded.Values["list"].([]interface{})[0] != 1 ||
		loaded.Values["map"].(map[string]interface{})["k"] != 1 {
		t.Fatalf("loaded: %#v", loaded.Values)
	}
	loaded.Values[42] = "not a string key"
	if err := loaded.Save(r2, httptest.NewRecorder()); err == nil || !strings.Contains(err.Error(), "strings") {
		t.Fatalf("non-string key: %v", err)
	}
	delete(loaded.Values, 42)
	loaded.Values["f"] = func() {}
	if err := loaded.Save(r2, httptest.NewRecorder()); err == nil {
		t.Fatal("a function was stored")
	}
	delete(loaded.Values, "f")
	// Unchanged: nothing is written.
	if err := loaded.Save(r2, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Get(ctx(), session.ID); s.Version != 1 {
		t.Fatalf("an unchanged session was written: v%d", s.Version)
	}
	// Values replaced by a new map: that map is the whole state.
	loaded.Values = map[interface{}]interface{}{"only": true}
	if err := loaded.Save(r2, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Get(ctx(), session.ID); len(s.Data) != 1 || string(s.Data["only"]) != "true" {
		t.Fatalf("replaced: %v", s.Data)
	}
}

func TestConcurrentRequestsKeepBothChanges(t *testing.T) {
	_, c := setup(t)
	store := gorillastore.New(c)
	s, _ := c.Create(ctx(), sessiond.CreateParams{Data: map[string]int{"n": 1}})
	var loaded, wg sync.WaitGroup
	loaded.Add(2)
	for _, key := range []string{"a", "b"} {
		wg.Add(1)
		go func(key string) {
			defer wg.Done()
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(&http.Cookie{Name: "s", Value: s.SID})
			session, err := store.Get(r, "s")
			loaded.Done()
			loaded.Wait()
			if err != nil {
				t.Error(err)
				return
			}
			session.Values[key] = key
			if err := session.Save(r, httptest.NewRecorder()); err != nil {
				t.Error(err)
			}
		}(key)
	}
	wg.Wait()
	got, _ := c.Get(ctx(), s.SID)
	if string(got.Data["a"]) != `"a"` || string(got.Data["b"]) != `"b"` || string(got.Data["n"]) != "1" {
		t.Fatalf("lost an update: %v", got.Data)
	}
}

func TestFailClosedAndOpen(t *testing.T) {
	srv, c := setup(t)
	closed := app(t, gorillastore.New(c))
	openStore := gorillastore.New(c)
	openStore.FailOpen = true
	openStore.Logger = log.New(io.Discard, "", 0)
	open := app(t, openStore)
	b := newBrowser(t, closed.URL)
	b.get("/count")
	sid := b.sid()
	srv.Pause()
	if resp, _ := b.get("/count"); resp.StatusCode != 503 {
		t.Fatalf("fail closed: %d", resp.StatusCode)
	}
	b.base = open.URL
	resp, body := b.get("/count")
	if resp.StatusCode != 200 || body != "1" || len(resp.Cookies()) != 0 {
		t.Fatalf("fail open: %d %q %v", resp.StatusCode, body, resp.Cookies())
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: sid})
	if session, err := openStore.Get(r, "session"); err != nil || !gorillastore.Unavailable(session) {
		t.Fatalf("Unavailable: %v", err)
	}
	srv.Resume()
	if _, body := b.get("/count"); body != "2" {
		t.Fatalf("the real session was kept: %q", body)
	}
}
