// Package gorillastore keeps github.com/gorilla/sessions sessions in Sessiond.
//
//	store := gorillastore.New(client) // in place of redistore.NewRediStore(10, "tcp", ":6379", "", key)
//	session, err := store.Get(r, "session")
//
// The cookie holds only the sid that Sessiond issued (a random UUID, so it needs no signing
// keys); the values stay in Sessiond.
//
// Values: gorilla's session.Values is a map[interface{}]interface{}. This store keeps string
// keys, each value as plain JSON under its key in the Sessiond session's data, so apps in
// other languages read them. Save refuses (with an error, storing nothing) a key that is not
// a string, and a value that encoding/json cannot marshal (a channel, a function, NaN).
// Values come back as encoding/json reads them into an interface{}, except that a number
// without a fraction or exponent that fits comes back as an int (not float64), so
// session.Values["count"].(int) works as with gob-based stores: strings, bools, int,
// float64, []interface{} and map[string]interface{} (a struct comes back as a map: marshal
// it to JSON yourself and back, or keep plain types). Flashes work (they are a []interface{}
// under "_flash").
//
// What is sent to Sessiond:
//
//   - Get / New: nothing without a cookie. Else one GET /sessions/{sid}?touch=true (which
//     slides the expiry). An unknown, expired or malformed sid gives a new session (IsNew,
//     ID ""), whose sid Sessiond chooses when it is first saved; the cookie's is never
//     adopted.
//   - Save: a new session is created (POST) once it holds values; a stored one gets one merge
//     patch of the keys that changed since Get (Client.Update), so two concurrent requests of
//     one user that change different keys both keep their change. Options.MaxAge < 0 deletes
//     the session and expires the cookie (logout). Rotate (at login) gives it a new sid at
//     Save. A session logged out elsewhere while the request ran is not recreated.
//   - Options.MaxAge > 0 is the session's own idle lifetime in Sessiond (at most the
//     server's --max-lifetime, 31 days by default), and the cookie's Max-Age.
//
// To send only what changed, the session keeps what was read under a key of this package's
// own unexported type in session.Values (so len(session.Values) counts it, and ranging over
// Values meets it: skip non-string keys). An app that replaces session.Values with a new map
// makes Save write the whole map (PUT).
//
// When Sessiond is unavailable: by default (fail closed) Get returns the error (with a new,
// empty session, as gorilla's stores do for errors) and Save returns it, so the handler
// answers 500 or 503; with FailOpen, Get returns an empty session that Save never stores
// (Unavailable reports it) and no error, and Save logs what it could not store.
package gorillastore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/sessions"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/mergepatch"
)

// Store is a sessions.Store on Sessiond.
type Store struct {
	Client *sessiond.Client
	// Options are the default options of new sessions (and their cookies): Path "/", MaxAge
	// 30 days, HttpOnly, SameSite Lax.
	Options *sessions.Options
	// NoTouch reads without sliding the expiry: only Save extends a session's life.
	NoTouch bool
	// FailOpen: see the package doc.
	FailOpen bool
	// Logger is log.Default() when nil.
	Logger *log.Logger
}

// New returns a store with the default Options.
func New(client *sessiond.Client) *Store {
	return &Store{
		Client: client,
		Options: &sessions.Options{
			Path: "/", MaxAge: 86400 * 30, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		},
	}
}

type stateKey struct{}

// state is what the store keeps in session.Values[stateKey{}].
type state struct {
	read        *sessiond.Session
	rotate      bool
	unavailable bool
	staleCookie bool
}

// Get returns the named session of the request, once per request (sessions.GetRegistry).
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the named session from the request's cookie, or makes a new one.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.Options
	session.Options = &opts
	session.IsNew = true
	st := &state{}
	session.Values[stateKey{}] = st
	cookie, err := r.Cookie(name)
	if err != nil || cookie.Value == "" {
		return session, nil
	}
	if !sessiond.ValidSID(cookie.Value) {
		st.staleCookie = true
		return session, nil
	}
	var read *sessiond.Session
	if s.NoTouch {
		read, err = s.Client.Get(r.Context(), cookie.Value)
	} else {
		read, err = s.Client.GetAndTouch(r.Context(), cookie.Value)
	}
	switch {
	case err == nil:
	case errors.Is(err, sessiond.ErrNotFound) || errors.Is(err, sessiond.ErrBadRequest):
		st.staleCookie = true
		return session, nil
	case errors.Is(err, sessiond.ErrUnavailable) && s.FailOpen:
		s.logger().Printf("gorillastore: Sessiond is unavailable, so this request runs with an empty session that will not be saved: %v", err)
		st.unavailable = true
		return session, nil
	default:
		return session, err
	}
	for key, raw := range read.Data {
		value, err := decode(raw)
		if err != nil {
			return sessions.NewSession(s, name), fmt.Errorf("gorillastore: session value %q: %w", key, err)
		}
		session.Values[key] = value
	}
	st.read = read
	session.ID = read.SID
	session.IsNew = false
	return session, nil
}

// Unavailable reports whether the session is the empty one a FailOpen store gave because
// Sessiond was unavailable (it is never saved).
func Unavailable(session *sessions.Session) bool {
	st, _ := session.Values[stateKey{}].(*state)
	return st != nil && st.unavailable
}

// Rotate gives the session a new sid at its next Save (call it at login): the old sid stops
// working at once and the cookie gets the new one; the values stay.
func Rotate(session *sessions.Session) {
	st, _ := session.Values[stateKey{}].(*state)
	if st == nil {
		st = &state{}
		session.Values[stateKey{}] = st
	}
	st.rotate = true
}

// Save stores the session and sets (or, for MaxAge < 0, expires) its cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	err := s.save(r, w, session)
	var e *sessiond.Error
	if err != nil && s.FailOpen && errors.As(err, &e) && e.Unavailable() {
		s.logger().Printf("gorillastore: Sessiond is unavailable, so the changes to the session were not saved: %v", err)
		return nil
	}
	return err
}

func (s *Store) save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	ctx := r.Context()
	st, _ := session.Values[stateKey{}].(*state)
	if st == nil {
		// Values replaced by a new map: it is the whole state; what was read is unknown.
		st = &state{}
		if session.ID != "" {
			st.read = &sessiond.Session{SID: session.ID}
		}
		session.Values[stateKey{}] = st
	} else if st.unavailable {
		if len(session.Values) > 1 {
			s.logger().Printf("gorillastore: Sessiond was unavailable when this request loaded the session, so its values were not saved")
		}
		return nil
	}
	options := session.Options
	if options == nil {
		options = s.Options
	}
	if options.MaxAge < 0 {
		if session.ID != "" {
			if err := s.Client.Delete(ctx, session.ID); err != nil {
				return err
			}
		}
		st.read, session.ID, session.IsNew = nil, "", true
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", options))
		return nil
	}
	data, err := encodeValues(session.Values)
	if err != nil {
		return err
	}
	lifetime := time.Duration(0)
	if options.MaxAge > 0 {
		lifetime = time.Duration(options.MaxAge) * time.Second
	}
	var written *sessiond.Session
	switch {
	case st.read == nil:
		if len(data) == 0 {
			if st.staleCookie {
				expired := *options
				expired.MaxAge = -1
				http.SetCookie(w, sessions.NewCookie(session.Name(), "", &expired))
				st.staleCookie = false
			}
			return nil // nothing to keep
		}
		written, err = s.Client.Create(ctx, sessiond.CreateParams{Data: data, Lifetime: lifetime})
	case st.read.Version == 0:
		// Replaced Values: the whole map.
		written, err = s.Client.Replace(ctx, st.read.SID, sessiond.ReplaceParams{Data: data, Lifetime: lifetime})
	default:
		want := *st.read
		want.Data, want.Lifetime = data, lifetime
		written, err = s.Client.Update(ctx, st.read, &want)
		if written == nil && err == nil {
			written = st.read
		}
	}
	if err == nil && st.rotate && written != nil {
		written, err = s.Client.Rotate(ctx, written.SID)
	}
	if errors.Is(err, sessiond.ErrNotFound) {
		// Logged out elsewhere (or expired) while the request ran: not recreated.
		s.logger().Printf("gorillastore: the session was gone when it was saved (logged out or expired); it is not recreated")
		st.read, session.ID, session.IsNew = nil, "", true
		expired := *options
		expired.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", &expired))
		return nil
	}
	if err != nil {
		return err
	}
	st.rotate = false
	st.read, session.ID, session.IsNew = written, written.SID, false
	http.SetCookie(w, sessions.NewCookie(session.Name(), written.SID, options))
	return nil
}

func (s *Store) logger() *log.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return log.Default()
}

// encodeValues turns session.Values into Sessiond's data: string keys, JSON values.
func encodeValues(values map[interface{}]interface{}) (map[string]json.RawMessage, error) {
	data := make(map[string]json.RawMessage, len(values))
	for key, value := range values {
		if _, ours := key.(stateKey); ours {
			continue
		}
		k, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("gorillastore: session keys must be strings to be stored in Sessiond, not %T (%v)", key, key)
		}
		raw, err := mergepatch.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("gorillastore: session value %q cannot be stored in Sessiond, which keeps JSON: %w", k, err)
		}
		data[k] = raw
	}
	return data, nil
}

// decode reads a JSON value as encoding/json does into an interface{}, with integers that
// fit as int.
func decode(raw json.RawMessage) (interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return numbers(v), nil
}

func numbers(v interface{}) interface{} {
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 0); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case []interface{}:
		for i := range t {
			t[i] = numbers(t[i])
		}
	case map[string]interface{}:
		for k := range t {
			t[k] = numbers(t[k])
		}
	}
	return v
}

var _ sessions.Store = (*Store)(nil)
