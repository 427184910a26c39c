package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
)

func TestExampleApp(t *testing.T) {
	srv := sessiondtest.Start(t)
	client, err := sessiond.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(Routes(client, false))
	defer web.Close()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	call := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, web.URL+path, nil)
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, step := range []struct{ method, path, want string }{
		{"GET", "/", `visit 1, user ""`},
		{"GET", "/", `visit 2, user ""`},
		{"POST", "/login?user=ada", "logged in as ada"},
		{"GET", "/", `visit 3, user "ada"`},
		{"GET", "/logout-everywhere", "ended 1 sessions"},
		{"GET", "/", `visit 1, user ""`},
		{"GET", "/logout", "logged out"},
	} {
		if status, body := call(step.method, step.path); status != 200 || !strings.Contains(body, step.want) {
			t.Fatalf("%s %s: %d %q, want %q", step.method, step.path, status, body, step.want)
		}
	}
	srv.Stop()
	if status, _ := call("GET", "/"); status != http.StatusServiceUnavailable {
		t.Fatalf("Sessiond down: %d, want 503 (fail closed)", status)
	}
}
