// Command app is a small net/http app whose sessions live in Sessiond: a counter, login
// (with rotation), logout, and "log out everywhere".
//
//	sessiond &                                  # on 127.0.0.1:8080
//	SESSIOND_URL=http://127.0.0.1:8080 SESSIOND_API_KEY=... go run ./examples/app
//	curl -c jar -b jar localhost:8000/          # 1, 2, 3...
//	curl -c jar -b jar -X POST 'localhost:8000/login?user=ada'
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
)

// Routes is the app's handler, on the session middleware.
func Routes(client *sessiond.Client, failOpen bool) http.Handler {
	sessions := sessiond.NewMiddleware(client)
	sessions.FailOpen = failOpen // false (the default): a 503 when Sessiond is down

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s := sessiond.FromContext(r.Context())
		n := s.GetInt("visits") + 1
		_ = s.Set("visits", n)
		fmt.Fprintf(w, "visit %d, user %q\n", n, s.GetString("user"))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		user := r.URL.Query().Get("user") // check a password here
		s := sessiond.FromContext(r.Context())
		_ = s.Set("user", user)
		s.SetSubject(user) // for "log out everywhere"
		s.Rotate()         // a new sid at login: a sid planted before is worthless
		fmt.Fprintf(w, "logged in as %s\n", user)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sessiond.FromContext(r.Context()).Destroy() // deleted in Sessiond, cookie removed
		fmt.Fprintln(w, "logged out")
	})
	mux.HandleFunc("/logout-everywhere", func(w http.ResponseWriter, r *http.Request) {
		n, err := sessions.LogoutEverywhere(r.Context(), false)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ended %d sessions\n", n)
	})
	return sessions.Handler(mux)
}

func main() {
	url := os.Getenv("SESSIOND_URL")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	client, err := sessiond.NewClient(url, sessiond.WithAPIKey(os.Getenv("SESSIOND_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8000"
	}
	server := &http.Server{Addr: addr, Handler: Routes(client, false), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on http://%s (sessions in %s)", addr, url)
	log.Fatal(server.ListenAndServe())
}
