// Package sessiond is a Go client for Sessiond, the session service, and a net/http
// middleware that keeps each request's session in it.
//
//	client, err := sessiond.NewClient("http://127.0.0.1:8080", sessiond.WithAPIKey(key))
//	s, err := client.Create(ctx, sessiond.CreateParams{Data: map[string]interface{}{"user": 42}, Subject: "user-42"})
//	s, err = client.Patch(ctx, s.SID, sessiond.Patch{Data: map[string]interface{}{"cart": []int{1, 2}, "flash": nil}})
//	s, err = client.Rotate(ctx, s.SID)                 // at login: a new sid
//	n, err := client.RevokeSubject(ctx, "user-42", s.Handle()) // log out everywhere else
//	err = client.Delete(ctx, s.SID)
//
// Errors are *Error values that match ErrNotFound, ErrPreconditionFailed (with
// CurrentVersion), ErrSessionExists, ErrUnauthorized and ErrUnavailable (with RetryAfter)
// through errors.Is; a Sessiond that cannot be reached is ErrUnavailable, never ErrNotFound.
//
// Client.Events streams the namespace's session lifecycle events (GET /events: created,
// rotated, deleted, revoked, expired, limit_evicted), reconnecting by itself and resuming
// after the last event seen; see EventStream.
//
// The middleware (NewMiddleware, FromContext) is described on Middleware. Stores for
// gorilla/sessions and alexedwards/scs are in the subpackages gorillastore and scsstore.
package sessiond
