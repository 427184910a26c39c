package scsstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	sessiond "github.com/sessiond/sessiond/clients/go"
	"github.com/sessiond/sessiond/clients/go/internal/sessiondtest"
	"github.com/sessiond/sessiond/clients/go/scsstore"
)

// The method sets of github.com/alexedwards/scs/v2's Store and CtxStore, as scs declares
// them (store.go): the store satisfies them without importing scs.
type scsStore interface {
	Delete(token string) (err error)
	Find(token string) (b []byte, found bool, err error)
	Commit(token string, b []byte, expiry time.Time) (err error)
}

type scsCtxStore interface {
	scsStore
	DeleteCtx(ctx context.Context, token string) (err error)
	FindCtx(ctx context.Context, token string) (b []byte, found bool, err error)
	CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) (err error)
}

var (
	_ scsStore    = (*scsstore.Store)(nil)
	_ scsCtxStore = (*scsstore.Store)(nil)
)

// generateToken is scs's: 32 bytes from crypto/rand, base64 (URL alphabet, no padding).
func generateToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func setup(t *testing.T) (*sessiondtest.Server, *sessiond.Client, *scsstore.Store) {
	srv := sessiondtest.Start(t)
	c, err := sessiond.NewClient(srv.URL, sessiond.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, scsstore.New(c)
}

func TestSID(t *testing.T) {
	token := generateToken()
	sid := scsstore.SID(token)
	if !sessiond.ValidSID(sid) || sid[14] != '4' || sid != scsstore.SID(token) || sid == scsstore.SID(generateToken()) {
		t.Fatalf("%s", sid)
	}
}

// The calls scs's LoadAndSave makes, in its order: Load (Find with the cookie's token; not
// found -> a new session without a token), Commit (a token minted now for a new session),
// RenewToken (Delete the old token, a new one minted), Destroy (Delete).
func TestDrivenAsScsDrivesIt(t *testing.T) {
	_, c, store := setup(t)
	ctx := context.Background()

	// Request 1: no cookie. scs mints a token at Commit: the store creates the session.
	token := generateToken()
	expiry := time.Now().Add(24 * time.Hour)
	if err := store.CommitCtx(ctx, token, []byte("gob bytes\x00\xff"), expiry); err != nil {
		t.Fatal(err)
	}
	s, err := c.Get(ctx, scsstore.SID(token))
	if err != nil || s.Version != 1 {
		t.Fatalf("created: %+v %v", s, err)
	}
	var encoded string
	_ = json.Unmarshal(s.Data[scsstore.DataKey], &encoded)
	if raw, _ := base64.StdEncoding.DecodeString(encoded); !bytes.Equal(raw, []byte("gob bytes\x00\xff")) || len(s.Data) != 1 {
		t.Fatalf("data: %v", s.Data)
	}
	if s.Lifetime < 24*time.Hour-2*time.Second || s.Lifetime > 24*time.Hour {
		t.Fatalf("expiry as lifetime: %v", s.Lifetime)
	}

	// Request 2: the cookie's token is found, then committed: a write (PUT), not a create.
	b, found, err := store.Find(token)
	if err != nil || !found || string(b) != "gob bytes\x00\xff" {
		t.Fatalf("find: %q %v %v", b, found, err)
	}
	if err := store.Commit(token, []byte("v2"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, _ = c.Get(ctx, scsstore.SID(token))
	if s.Version != 2 || s.Lifetime != time.Hour {
		t.Fatalf("written: v%d %v", s.Version, s.Lifetime)
	}

	// Request 3: login: RenewToken deletes the old token, and the new one is committed.
	if _, found, _ := store.Find(token); !found {
		t.Fatal("not found")
	}
	if err := store.Delete(token); err != nil {
		t.Fatal(err)
	}
	renewed := generateToken()
	if err := store.Commit(renewed, []byte("v2"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.Find(token); found {
		t.Fatal("the token before login still works")
	}
	if b, found, _ := store.Find(renewed); !found || string(b) != "v2" {
		t.Fatal("the renewed token")
	}

	// Request 4: logout (Destroy): Delete; a second Delete is a no-op.
	if err := store.DeleteCtx(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteCtx(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if _, found, err := store.Find(renewed); found || err != nil {
		t.Fatalf("after logout: %v %v", found, err)
	}
	// Tokens scs never issued, and malformed ones, are not found (and not an error).
	for _, bad := range []string{generateToken(), "", "../x", "\x00"} {
		if _, found, err := store.Find(bad); found || err != nil {
			t.Fatalf("%q: %v %v", bad, found, err)
		}
	}
}

// A session found by this request and deleted (logged out, revoked) before its Commit is
// not brought back by the Commit.
func TestCommitAfterLogoutElsewhereDoesNotResurrect(t *testing.T) {
	_, c, store := setup(t)
	token := generateToken()
	if err := store.Commit(token, []byte("a"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.Find(token); !found {
		t.Fatal("not found")
	}
	if err := c.Delete(context.Background(), scsstore.SID(token)); err != nil { // another request logs out
		t.Fatal(err)
	}
	if err := store.Commit(token, []byte("late"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.Find(token); found {
		t.Fatal("a logged-out session was brought back")
	}
}

func TestExpiryAndSubject(t *testing.T) {
	_, c, store := setup(t)
	store.Subject = func(ctx context.Context) string { s, _ := ctx.Value(userKey{}).(string); return s }
	token := generateToken()
	ctx := context.WithValue(context.Background(), userKey{}, "user-7")
	if err := store.CommitCtx(ctx, token, []byte("x"), time.Now().Add(90*time.Second+300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Get(ctx, scsstore.SID(token))
	if err != nil || s.Lifetime != 91*time.Second || s.Subject != "user-7" {
		t.Fatalf("%+v %v", s, err)
	}
	if list, _ := c.SubjectSessions(ctx, "user-7"); len(list) != 1 || list[0].Handle != sessiond.HandleFor(scsstore.SID(token)) {
		t.Fatalf("listing: %+v", list)
	}
	// An expiry that has passed deletes.
	if err := store.Commit(token, []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.Find(token); found {
		t.Fatal("an expired commit kept the session")
	}
	// Longer than --max-lifetime: the error reaches scs.
	err = store.Commit(generateToken(), []byte("x"), time.Now().Add(40*24*time.Hour))
	if !errors.Is(err, sessiond.ErrInvalid) {
		t.Fatalf("too long: %v", err)
	}
}

type userKey struct{}

func TestUnavailableIsAnErrorNotAMiss(t *testing.T) {
	srv, _, store := setup(t)
	token := generateToken()
	if err := store.Commit(token, []byte("x"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, found, err := store.Find(token)
	if found || !errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("find: %v %v", found, err)
	}
	if err := store.Commit(generateToken(), []byte("x"), time.Now().Add(time.Hour)); !errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("commit: %v", err)
	}
	if err := store.Delete(token); !errors.Is(err, sessiond.ErrUnavailable) {
		t.Fatalf("delete: %v", err)
	}
}
