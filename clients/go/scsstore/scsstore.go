// Package scsstore keeps the sessions of github.com/alexedwards/scs/v2 in Sessiond.
//
//	sessionManager := scs.New()
//	sessionManager.Store = scsstore.New(client) // in place of redisstore.New(pool)
//
// The store has the method sets of scs.Store and scs.CtxStore (Find, Commit, Delete and
// their Ctx variants). Go interfaces need no import, so this package does not depend on scs.
//
// What is stored: scs hands a store its session as opaque bytes (its Codec's encoding, gob
// by default), so each scs session is one Sessiond session whose data is
// {"scs": "<those bytes in base64>"}. Other apps can see that the session exists (and its
// subject listings, lifetime, expiry), not read its values; for sessions that other
// languages share, use the sessiond Middleware and JSON values instead.
//
// Ids: scs mints its tokens itself (32 bytes from crypto/rand, base64), and Sessiond takes
// only UUIDs as sids, so the sid of a token is derived from it: the first 16 bytes of
// SHA-256 over "sessiond-scs-v1:" and the token, as a version 4 UUID (122 of the token's
// random bits). The cookie holds scs's token, never the sid.
//
// Creation and the fixation rule: Sessiond creates a session under an id the app chose only
// with PUT and If-None-Match: *, and only for ids the app minted itself. scs keeps that
// rule: when a request's cookie names a token that Find does not find, scs starts a new
// session without a token and mints a fresh one (generateToken) at Commit; RenewToken
// (call it at login) deletes the old token and mints a new one. So a token reaches Commit
// either because Find found it in this request, or because scs just minted it. The store
// tells the two apart: it remembers the tokens Find found (in memory, for five minutes at
// least unless more than 50,000 are found in that time): Commit of such a token writes with PUT, which
// never creates, so a session logged out or revoked while the request ran is not brought
// back; Commit of any other token creates with If-None-Match: *, and a token that exists
// after all (found long ago, or by another process) is written with PUT.
//
// Expiry: Commit's expiry becomes the session's own lifetime in Sessiond (whole seconds,
// rounded up), at most the server's --max-lifetime (31 days by default; scs's Lifetime
// must not be longer). An expiry that has passed deletes the session.
//
// When Sessiond is unavailable, every method returns the error (errors.Is(err,
// sessiond.ErrUnavailable)), and scs's LoadAndSave answers with its ErrorFunc (500 by
// default): scs fails closed; it has no fail-open mode.
package scsstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
)

// DataKey is the key of the scs bytes in the Sessiond session's data.
const DataKey = "scs"

// Store keeps scs sessions in Sessiond. It is safe for concurrent use.
type Store struct {
	client *sessiond.Client
	// Subject, when set, names the subject of a session from the request's context at
	// Commit (CommitCtx only), e.g. the user id your login put in the context; "" for none.
	Subject func(ctx context.Context) string

	mu       sync.Mutex
	found    map[string]struct{} // tokens Find found, this generation
	previous map[string]struct{} // and the generation before
	rotated  time.Time
}

const (
	generation    = 5 * time.Minute
	maxGeneration = 50000
)

// New returns a store on client.
func New(client *sessiond.Client) *Store {
	return &Store{client: client, found: map[string]struct{}{}, previous: map[string]struct{}{}, rotated: time.Now()}
}

// SID is the Sessiond sid of an scs token.
func SID(token string) string {
	sum := sha256.Sum256([]byte("sessiond-scs-v1:" + token))
	var b [16]byte
	copy(b[:], sum[:16])
	return sessiond.FormatUUIDv4(b)
}

func (s *Store) remember(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.rotated) > generation || len(s.found) >= maxGeneration {
		s.previous, s.found, s.rotated = s.found, map[string]struct{}{}, time.Now()
	}
	s.found[token] = struct{}{}
}

// wasFound reports whether Find found token lately, and forgets it.
func (s *Store) wasFound(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.found[token]
	_, b := s.previous[token]
	delete(s.found, token)
	delete(s.previous, token)
	return a || b
}

// Find is scs.Store's Find.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// FindCtx returns the scs bytes of token's session; found is false when there is none (or
// it expired, or the token is empty).
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if token == "" {
		return nil, false, nil
	}
	session, err := s.client.Get(ctx, SID(token))
	if errors.Is(err, sessiond.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var encoded string
	if raw, ok := session.Data[DataKey]; !ok || json.Unmarshal(raw, &encoded) != nil {
		return nil, false, nil // not a session of this store
	}
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, false, nil
	}
	s.remember(token)
	return b, true, nil
}

// Commit is scs.Store's Commit.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx stores b under token until expiry (see the package doc for how the session is
// created or written).
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if token == "" {
		return errors.New("scsstore: Commit without a token")
	}
	found := s.wasFound(token)
	left := time.Until(expiry)
	if left <= 0 {
		return s.DeleteCtx(ctx, token)
	}
	lifetime := (left + time.Second - 1) / time.Second * time.Second
	data := map[string]string{DataKey: base64.StdEncoding.EncodeToString(b)}
	subject := ""
	if s.Subject != nil {
		subject = s.Subject(ctx)
	}
	sid := SID(token)
	if found {
		_, err := s.client.Replace(ctx, sid, sessiond.ReplaceParams{Data: data, Subject: subject, Lifetime: lifetime})
		if errors.Is(err, sessiond.ErrNotFound) {
			// Logged out, revoked or expired while the request ran: not brought back.
			return nil
		}
		return err
	}
	_, err := s.client.Create(ctx, sessiond.CreateParams{SID: sid, Data: data, Subject: subject, Lifetime: lifetime})
	if errors.Is(err, sessiond.ErrSessionExists) {
		_, err = s.client.Replace(ctx, sid, sessiond.ReplaceParams{Data: data, Subject: subject, Lifetime: lifetime})
	}
	if err != nil {
		return fmt.Errorf("scsstore: commit: %w", err)
	}
	return nil
}

// Delete is scs.Store's Delete.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// DeleteCtx removes token's session (a no-op when there is none).
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	s.wasFound(token)
	if token == "" {
		return nil
	}
	return s.client.Delete(ctx, SID(token))
}
