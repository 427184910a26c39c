package sessiond

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ProblemTypePrefix starts every problem type Sessiond sends; the rest is the slug
// ("session-not-found").
const ProblemTypePrefix = "https://sessiond.dev/problems/"

// Sentinel errors, for errors.Is. Every error a Client method returns for an answer of the
// service, or for a service it could not reach, is an *Error that matches at most one of them
// (see Error.Is); errors.As(err, &e) with e *Error gives the details.
var (
	// ErrNotFound: 404 session-not-found. No live session has this sid: it never existed,
	// expired, was deleted, revoked or rotated away. (A 404 "not-found" for a path the
	// service does not serve, a wrong base URL, does not match.)
	ErrNotFound = errors.New("sessiond: session not found")
	// ErrPreconditionFailed: 412 precondition-failed. The session is live at another version
	// than IfVersion named; nothing changed. Error.CurrentVersion is its version now.
	ErrPreconditionFailed = errors.New("sessiond: precondition failed")
	// ErrSessionExists: 412 session-exists. Create with a SID that a live session has;
	// nothing changed. Mint another id (NewSID) and create again.
	ErrSessionExists = errors.New("sessiond: a session with this id exists")
	// ErrUnauthorized: 401. The API key is missing or wrong (sessiond runs with
	// --api-keys-file).
	ErrUnauthorized = errors.New("sessiond: unauthorized (API key missing or wrong)")
	// ErrUnavailable: Sessiond could not be used: connection refused or reset, no answer
	// in time (a timeout, the context's deadline), or an answer of 503 (502 and 504 from a
	// proxy alike). Nothing is known about the session then: it was neither found nor lost.
	// Error.RetryAfter holds the server's hint when it sent one. Never treated as
	// ErrNotFound.
	ErrUnavailable = errors.New("sessiond: unavailable")
	// ErrBadRequest: 400 (a malformed sid, subject, handle or body).
	ErrBadRequest = errors.New("sessiond: bad request")
	// ErrInvalid: 422 (JSON the service cannot take: a lifetime too long, a number that
	// cannot be stored exactly, merged data too large...).
	ErrInvalid = errors.New("sessiond: unprocessable content")
)

// Error is an error answer of Sessiond (an RFC 9457 problem) or a failure to get one.
//
// For an answer, Status is the HTTP status and Type, Title and Detail the problem's members;
// for a call that got no answer (connection refused, timeout), Status is 0 and Err the cause
// (errors.Is(err, context.DeadlineExceeded) works through it). Messages name the route
// ("GET /sessions/{sid}"), never a sid or a subject.
type Error struct {
	// Op is the method and route: "PATCH /sessions/{sid}".
	Op string
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Type is the problem type URI ("https://sessiond.dev/problems/precondition-failed").
	Type   string
	Title  string
	Detail string
	// CurrentVersion is the session's version now, on 412 precondition-failed.
	CurrentVersion int64
	// RetryAfter is the server's Retry-After on 503 (0 when it sent none).
	RetryAfter time.Duration
	// Problem is the whole problem object, with any extension members (nil if the body
	// was not a problem).
	Problem map[string]interface{}
	// Err is the transport error when no answer came.
	Err error
}

// Slug is the problem type's short name ("session-not-found"), or "" for other types.
func (e *Error) Slug() string {
	if strings.HasPrefix(e.Type, ProblemTypePrefix) {
		return e.Type[len(ProblemTypePrefix):]
	}
	return ""
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sessiond: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status == 0 {
		b.WriteString("unavailable")
		if e.Err != nil {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
		return b.String()
	}
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%d %s", e.Status, title)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if slug := e.Slug(); slug != "" {
		fmt.Fprintf(&b, " (%s)", slug)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

// Is matches the sentinel errors of this package: ErrNotFound, ErrPreconditionFailed,
// ErrSessionExists, ErrUnauthorized, ErrUnavailable, ErrBadRequest and ErrInvalid.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnavailable:
		return e.Unavailable()
	case ErrNotFound:
		return e.Status == http.StatusNotFound && e.Slug() == "session-not-found"
	case ErrSessionExists:
		return e.Status == http.StatusPreconditionFailed && e.Slug() == "session-exists"
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed && e.Slug() != "session-exists"
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrInvalid:
		return e.Status == http.StatusUnprocessableEntity
	}
	return false
}

// Unavailable reports whether Sessiond could not be used (see ErrUnavailable).
func (e *Error) Unavailable() bool {
	switch e.Status {
	case 0, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Unwrap gives the transport error when no answer came.
func (e *Error) Unwrap() error { return e.Err }
