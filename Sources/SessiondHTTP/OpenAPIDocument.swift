import NIOCore

/// The OpenAPI document served at /openapi.yaml, generated from api/openapi.yaml by
/// scripts/embed-openapi (do not edit here; a test checks that the two are identical).
enum OpenAPIDocument {
    static let buffer = ByteBuffer(string: yaml)
    static let yaml = #####"""
openapi: 3.1.0
info:
  title: Sessiond
  version: 0.1.0
  summary: Server-side sessions for web apps in any language, over HTTP/JSON.
  description: |
    Sessiond keeps the session data of web applications on the server side, behind a small
    HTTP/JSON API that any language can use. An application creates a session, hands the
    session id (`sid`) to its user (usually in a cookie), and reads, replaces, patches or
    deletes the session on later requests.

    ## Sessions

    A session is a JSON object (`data`) plus the fields the service maintains: its id, whether
    it is permanent, whom it belongs to (`subject`), a version, three timestamps and the seconds
    it has left. See the `Session` schema.

    - **Session ids** are random version 4 UUIDs drawn from the operating system's
      cryptographically secure generator, written in lowercase canonical form
      (`1b4e28ba-2fa1-41d2-883f-0016d3cca427`). Only the service makes them; a path whose id is
      not in that exact form (uppercase, braces, no hyphens) is refused with `malformed-sid`
      before anything is looked up. `POST /sessions/{sid}/rotate` gives a session a new id
      (after a login, say); the old id is gone at once.
    - **Versions** start at 1 and grow by one with every write (create, replace, patch,
      rotate); a touch leaves it as it is. Every response that carries a session also carries
      it as a strong entity tag: `ETag: "3"`.
    - **Conditional writes**: `PUT`, `PATCH` and `DELETE /sessions/{sid}`, touch and rotate
      honour `If-Match` (RFC 9110): `*` or a comma-separated list of entity tags as `ETag` gives
      them. The request goes ahead only when the session is live and its version is listed
      (strong comparison: a weak tag such as `W/"3"` never matches; `*` matches any live
      session); else the answer is 412 `precondition-failed`, whose body holds
      `current_version` and whose `ETag` is the current version, and nothing changes. A session
      that is absent answers as without `If-Match`: 404 `session-not-found`, or 204 for
      `DELETE`. An `If-Match` that is neither `*` nor a list of entity tags is 400
      `invalid-if-match`. `If-None-Match` is ignored.
    - **Data** is any JSON object. What a client stores, it gets back with the same values,
      as compact JSON with the object members in the order they were sent:
      - Integers (numbers written without a fraction or exponent) must fit in a signed 64-bit
        integer and come back as plain decimals (`9007199254740993` stays exact; `-0` comes
        back as `0`).
      - Other numbers must be finite IEEE 754 doubles and come back as the shortest decimal
        that reads back as the same double, always marked as a real number: `0.10` comes back
        as `0.1`, `1E2` as `100.0`, `1e-7` as `1e-7`, `1e+16` as `1e16`, `-0.0` as `-0.0`.
      - Strings may hold any Unicode text, `\u0000` included; object keys may not contain
        `\u0000`. Strings come back with non-ASCII characters as UTF-8 (not `\u` escapes) and
        the characters below U+0020 escaped.
      - `data` may nest at most 32 levels of objects and arrays (`data` itself is level 1;
        server setting `--max-data-depth`).
    - **Subjects** say whom a session belongs to, as the application names it (a user id such
      as `user-42`): any string of 1 to 256 bytes of UTF-8, or `null` for none (the default).
      Create, replace and patch set it. `/subjects/{subject}/sessions` lists the live sessions
      of a subject and revokes them, all at once ("log out everywhere") or one by one.
    - **Handles** name sessions in those listings, which never show a sid or data. A handle is
      the first 16 bytes of SHA-256 over `sessiond-handle-v1:` followed by the sid, as 32
      lowercase hex digits (in Python:
      `hashlib.sha256(b"sessiond-handle-v1:" + sid.encode()).hexdigest()[:32]`). It cannot be
      turned back into the sid, so it may be shown to users and logged.

    ## Lifetimes

    - A **permanent** session lives for the permanent lifetime (default 31 days, setting
      `--permanent-lifetime`); any other session for the standard lifetime (default one day,
      setting `--lifetime`). Clients choose `permanent`; the service enforces the lifetime.
    - The lifetime is an **idle timeout**: every write (create, replace, patch, rotate) and
      every touch (`POST /sessions/{sid}/touch`, or `GET /sessions/{sid}?touch=true`) sets
      `expires_at` to the time of the request plus the session's lifetime. A plain read does
      not extend it.
    - An optional **absolute lifetime** (setting `--absolute-lifetime`, off by default) caps
      `expires_at` at `created_at` plus that lifetime, whatever the activity. A rotated session
      keeps its `created_at`, so rotation does not lift the cap.
    - Expiry is kept to the **millisecond**: from `expires_at` on, the session is gone (every
      call on its sid gives 404, and listings leave it out), even before the store has
      physically removed it. `ttl` is the whole seconds left, rounded up, so a live session
      never shows 0; right after a write or touch it equals the lifetime in seconds (86400 for
      one day, 2678400 for 31 days) unless the absolute lifetime caps it.

    ## Requests and responses

    - Request bodies are JSON: `Content-Type: application/json`, except for `PATCH`, which
      takes an RFC 7396 merge patch as `Content-Type: application/merge-patch+json` (and
      nothing else, `application/json` included). The media type is case-insensitive;
      parameters are allowed, but a `charset` other than `utf-8` is refused with 415. Bodies
      must be valid UTF-8, must not repeat a key in any object, and may be at most 65536 bytes
      (setting `--max-body-bytes`) on every endpoint. A larger body is answered with 413 as
      soon as the limit is passed (at once when `Content-Length` declares it), and the
      connection is closed. Touch and rotate take no body: a non-empty one is 422
      `invalid-body`.
    - A request must arrive whole, head and body, within 30 seconds of its first byte
      (setting `--request-timeout`); else it is answered with 408 `request-timeout` on any
      endpoint, and the connection is closed. Every operation lists the 408 and the 413.
    - Successful JSON responses are `application/json; charset=utf-8`. Responses with a JSON
      or problem body carry `Cache-Control: no-store`.
    - Query parameters: `GET` (and `HEAD`) `/sessions/{sid}` takes `touch`,
      `DELETE /subjects/{subject}/sessions` takes `except`, and the other `/subjects` calls
      take none. On these, a parameter of another name, a parameter given twice, a `touch`
      other than `true` or `false`, or a malformed percent-escape is 400 `invalid-query` (a
      malformed `except` is `malformed-handle`). The other session calls (`POST /sessions`,
      `PUT`, `PATCH` and `DELETE /sessions/{sid}`, touch and rotate) take no query parameter:
      any is 400 `invalid-query`. The probes and `/openapi.yaml` ignore the query string.
    - The `{subject}` path segment is percent-decoded: the subject `user/42` is
      `/subjects/user%2F42/sessions`. The other path segments are taken as they are.
    - A path that the API does not serve gets 404 `not-found`; a method that a path does not
      serve gets 405 `method-not-allowed` with an `Allow` header listing the methods it does
      serve (see the `MethodNotAllowed` and `NotFound` responses below). The method is checked
      before the ids in the path, so `POST /sessions/not-a-uuid` is a 405.
    - A request that is not valid HTTP/1.1, or whose framing cannot be trusted, gets a problem
      (`bad-request`, `uri-too-long`, `header-too-large`, `unsupported-transfer-coding`,
      `http-version-not-supported`), and its connection is closed.
    - HTTP/1.1 keep-alive and pipelining are supported; responses come back in request order.
      `Upgrade` is ignored (the connection stays HTTP/1.1) and `CONNECT` gets a 405.

    ## API keys and namespaces

    Started with `--api-keys-file`, the server needs `Authorization: Bearer <key>` on every
    `/sessions` and `/subjects` call (and on `/metrics`, unless `--metrics-auth none`); a
    missing or unknown key gets 401 `unauthorized` with `WWW-Authenticate`. Each key belongs to
    a namespace, and a key sees only its namespace's sessions and subjects: a sid created under
    one namespace is 404 under another. Without a keys file (allowed on loopback only, or with
    `--allow-unauthenticated`) every call is open and the header is ignored. `/livez`,
    `/readyz` and `/openapi.yaml` never need a key.

    ## Request ids

    Every response to a request whose head arrived carries `X-Request-Id`: the request's own
    `X-Request-Id` when it is 1 to 128 visible ASCII characters without spaces, else a new
    random id of 32 lowercase hex digits (a value that does not qualify is replaced, never
    refused). The same id is in the server's access log line, so a client that sends its own
    can find its request there. Every operation lists the request header, and the responses
    list the response header.

    ## Errors

    Every error is an RFC 9457 problem (`application/problem+json`) with `type`, `title`,
    `status` and `detail` (see the `Problem` schema); a 412 adds `current_version`. Programs
    should branch on `type`, which is stable; `title` is its fixed summary and `detail` explains
    this occurrence for humans. A request that fails stores nothing. The types are
    `https://sessiond.dev/problems/` followed by a slug:

    | slug | status | when |
    |---|---|---|
    | `bad-request` | 400 | the HTTP request itself is malformed or its framing cannot be trusted (the connection is closed): an HTTP/1.1 request without a `Host` header or with several; a line that does not end with CRLF, whitespace before a header's colon, obsolete line folding, a control character in a header value; `Content-Length` and `Transfer-Encoding` together, `Content-Length` values that differ, `Transfer-Encoding` in an HTTP/1.0 request or with `chunked` not last (RFC 9112 §6) |
    | `uri-too-long` | 414 | the request line alone exceeds the 80 KiB head limit (the connection is closed) |
    | `header-too-large` | 431 | the request head (request line, header lines and their line ends) exceeds 80 KiB (the connection is closed) |
    | `unsupported-transfer-coding` | 501 | a transfer coding other than `chunked`, such as `gzip, chunked` (the connection is closed) |
    | `http-version-not-supported` | 505 | an HTTP version other than 1.x (the connection is closed) |
    | `malformed-sid` | 400 | the `{sid}` in the path is not a lowercase canonical UUID |
    | `malformed-subject` | 400 | the `{subject}` in the path, once percent-decoded, is empty or longer than 256 bytes, or it has a bad percent-escape or is not UTF-8 |
    | `malformed-handle` | 400 | a session handle (the `{handle}` in the path, or `except`) is not 32 lowercase hex digits |
    | `invalid-if-match` | 400 | the `If-Match` header is neither `*` nor a list of entity tags |
    | `invalid-query` | 400 | the query string names a parameter the endpoint does not take or names one twice, gives `touch` a value other than `true` or `false`, or has a bad percent-escape |
    | `invalid-json` | 400 | the body is not JSON text (syntax error, trailing bytes, lone surrogate escape, or empty while a `Content-Type` was sent) |
    | `invalid-utf8` | 400 | the body is not valid UTF-8 |
    | `duplicate-key` | 400 | an object in the body names the same key twice |
    | `too-deep` | 400 | `data` nests deeper than the limit |
    | `not-found` | 404 | no resource at this path |
    | `session-not-found` | 404 | no live session has this id: it never existed, expired, was deleted, revoked or rotated |
    | `method-not-allowed` | 405 | the path does not serve this method; `Allow` lists those it does |
    | `precondition-failed` | 412 | `If-Match` does not list the version of the live session; `current_version` in the body and `ETag` give the current one |
    | `body-too-large` | 413 | the body exceeds the size limit |
    | `unsupported-media-type` | 415 | the request does not declare the endpoint's media type, `application/json` (`application/merge-patch+json` for `PATCH`): missing, another type, several, or a charset other than UTF-8; only a POST without body may omit it |
    | `invalid-body` | 422 | valid JSON that the endpoint cannot take: not an object, an unknown field, a field of the wrong type, `data` missing on replace, a `subject` that is empty or longer than 256 bytes, `data` not an object in a patch, any body on touch or rotate |
    | `unsupported-value` | 422 | a value that cannot be stored exactly: an integer beyond 64 bits, a number beyond a double's range (too large, like `1e400`, or too close to zero to be anything but 0, like `1e-400`), `\u0000` in an object key |
    | `data-too-large` | 422 | the data that a `PATCH` would produce is larger than the body limit (`--max-body-bytes`); nothing is written |
    | `unauthorized` | 401 | the server has API keys and the request has no `Authorization: Bearer <key>`, or a key that is not one of them; `WWW-Authenticate` says which |
    | `request-timeout` | 408 | the request did not arrive whole within the request timeout (`--request-timeout`, 30 s) of its first byte; the connection is closed |
    | `internal-error` | 500 | a failure inside sessiond (the server log has the details) |
    | `store-unavailable` | 503 | the session store did not answer; retry after `Retry-After` seconds. Never turned into a 404 or a fallback |
    | `shutting-down` | 503 | from `/readyz` only: the server received SIGTERM and is draining its requests |
    | `store-full` | 507 | the embedded store holds as many sessions of this namespace as `--max-sessions` allows |
servers:
  - url: http://127.0.0.1:8080
    description: A local sessiond with the default settings.
tags:
  - name: sessions
    description: Create, read, replace, patch, touch, rotate and delete sessions.
  - name: subjects
    description: List and revoke the sessions of a subject.
  - name: operations
    description: Probes for orchestrators and the API description.
paths:
  /sessions:
    description: 'The collection of sessions. Serves POST only; any other method gets 405 `method-not-allowed` with `Allow: POST`.'
    post:
      tags: [sessions]
      operationId: createSession
      summary: Create a session
      description: |
        Creates a session with a new random id, version 1, and `expires_at` one lifetime from
        now (the permanent lifetime when `permanent` is true, else the standard one; capped by
        the absolute lifetime if one is configured).

        The body is optional: an empty body without `Content-Type` creates a session with
        `data` `{}`, `permanent` false and `subject` null, as does `{}`. An empty body sent with
        `Content-Type: application/json` is not JSON (400 `invalid-json`).

        With `--max-sessions` on the embedded store, a create beyond the namespace's limit is
        507 `store-full` and stores nothing.
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      requestBody:
        required: false
        description: The initial data, permanence and subject. Every field is optional; no other field is accepted.
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/SessionCreate'
            examples:
              shopping:
                summary: A session with data
                value:
                  data:
                    user: 42
                    cart: [1, 2]
              remember-me:
                summary: A permanent session of a subject
                value:
                  data:
                    user: 42
                  permanent: true
                  subject: user-42
              empty:
                summary: An empty session
                value: {}
      responses:
        '201':
          description: Created. The body is the new session; `Location` is its URL and `ETag` its version (`"1"`).
          headers:
            Location:
              $ref: '#/components/headers/Location'
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
              example:
                sid: 1b4e28ba-2fa1-41d2-883f-0016d3cca427
                data:
                  user: 42
                  cart: [1, 2]
                permanent: false
                subject: user-42
                version: 1
                created_at: '2026-11-26T10:00:00.000Z'
                updated_at: '2026-11-26T10:00:00.000Z'
                expires_at: '2026-11-27T10:00:00.000Z'
                ttl: 86400
          links:
            getSession:
              operationId: getSession
              parameters:
                sid: $response.body#/sid
              description: Read the new session.
            replaceSession:
              operationId: replaceSession
              parameters:
                sid: $response.body#/sid
              description: Replace the new session's data.
            patchSession:
              operationId: patchSession
              parameters:
                sid: $response.body#/sid
              description: Patch the new session.
            touchSession:
              operationId: touchSession
              parameters:
                sid: $response.body#/sid
              description: Extend the new session's life.
            rotateSession:
              operationId: rotateSession
              parameters:
                sid: $response.body#/sid
              description: Give the new session a new id.
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
              description: Delete the new session.
            listSubjectSessions:
              operationId: listSubjectSessions
              parameters:
                subject: $response.body#/subject
              description: List the sessions of the new session's subject (when it has one).
        '400':
          $ref: '#/components/responses/MalformedBody'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '415':
          $ref: '#/components/responses/UnsupportedMediaType'
        '422':
          $ref: '#/components/responses/InvalidBody'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
        '507':
          $ref: '#/components/responses/StoreFull'
  /sessions/{sid}:
    description: 'One session. Serves GET (and HEAD, GET without the body), PUT, PATCH and DELETE; any other method gets 405 `method-not-allowed` with `Allow: GET, HEAD, PUT, PATCH, DELETE` (whatever the sid).'
    parameters:
      - $ref: '#/components/parameters/sid'
    get:
      tags: [sessions]
      operationId: getSession
      summary: Read a session
      description: |
        Returns the session if it is live. A plain read does not extend its life; `ttl` is
        counted at the time of the request. An expired session is never returned, even if the
        store still holds it.

        With `?touch=true` the read also slides `expires_at` to now plus the session's lifetime
        (never past the absolute lifetime), in one step, as `POST /sessions/{sid}/touch` does;
        `version` and `updated_at` stay. `?touch=false` is a plain read. HEAD takes the same
        parameter and answers the same, without the body.
      parameters:
        - $ref: '#/components/parameters/touch'
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The session (after the touch, when asked for), with its version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
          links:
            replaceSession:
              operationId: replaceSession
              parameters:
                sid: $response.body#/sid
            patchSession:
              operationId: patchSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedSIDOrQuery'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/SessionNotFound'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
    put:
      tags: [sessions]
      operationId: replaceSession
      summary: Replace a session's data
      description: |
        Replaces `data`, `permanent` and `subject` of a live session as a whole: `data` is
        required (send `{}` to empty it), an omitted `permanent` means false and an omitted
        `subject` means none (it clears the subject). The version grows by one, `updated_at`
        becomes now, and `expires_at` slides to now plus the lifetime that the new `permanent`
        selects (capped by the absolute lifetime if one is configured); `created_at` and `sid`
        stay.

        PUT never creates: a session that is absent, expired or deleted gives 404, so a late
        write after a logout cannot bring the session back. With `If-Match`, a live session
        whose version is not listed gives 412. The sid is checked first (400), then the request
        (`If-Match` 400, body 415, 400, 422), then the store (404, 412). A refused request
        changes nothing.
      parameters:
        - $ref: '#/components/parameters/IfMatch'
        - $ref: '#/components/parameters/XRequestId'
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/SessionReplace'
            examples:
              replace:
                summary: New data, not permanent, no subject
                value:
                  data:
                    user: 42
                    cart: [1, 2, 3]
              empty:
                summary: Empty the data, make it permanent, keep the subject
                value:
                  data: {}
                  permanent: true
                  subject: user-42
      responses:
        '200':
          description: The session after the write, with its new version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
          links:
            getSession:
              operationId: getSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedWriteRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/SessionNotFound'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '415':
          $ref: '#/components/responses/UnsupportedMediaType'
        '422':
          $ref: '#/components/responses/InvalidBody'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
    patch:
      tags: [sessions]
      operationId: patchSession
      summary: Patch a session
      description: |
        Changes part of a live session: the body is an RFC 7396 JSON merge patch of the
        session's writable members, sent as `Content-Type: application/merge-patch+json` (any
        other type, `application/json` included, is 415).

        - `data`, an object, is merged into the session's data as RFC 7396 says: a member whose
          value is `null` removes that key, an object merges into an object of the same key
          (recursively; into anything else it replaces it), and any other value (arrays
          included) replaces the key's value. `data` itself may not be `null` or a non-object
          (422).
        - `permanent` sets the permanence; `subject` sets the subject (a string) or clears it
          (`null`).
        - A member that is absent leaves the field as it is; `{}` changes nothing but is still a
          write. Other members (`sid`, `version`, ...) are refused with 422.

        Like every write, a patch adds one to the version, sets `updated_at` to now and slides
        `expires_at` to now plus the lifetime that the resulting `permanent` selects (capped by
        the absolute lifetime if one is configured). When the merged data would be larger than
        the body limit (`--max-body-bytes`), the answer is 422 `data-too-large` and nothing is
        written. Like PUT, PATCH never creates (404) and honours `If-Match` (412); a refused
        request changes nothing.
      parameters:
        - $ref: '#/components/parameters/IfMatch'
        - $ref: '#/components/parameters/XRequestId'
      requestBody:
        required: true
        content:
          application/merge-patch+json:
            schema:
              $ref: '#/components/schemas/SessionMergePatch'
            examples:
              cart:
                summary: Set one key, remove another
                value:
                  data:
                    cart: [1, 2, 3]
                    coupon: null
              login:
                summary: Attach the session to a subject and make it permanent
                value:
                  permanent: true
                  subject: user-42
              logout-of-subject:
                summary: Detach the session from its subject
                value:
                  subject: null
      responses:
        '200':
          description: The session after the patch, with its new version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
          links:
            getSession:
              operationId: getSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedWriteRequest'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/SessionNotFound'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '415':
          $ref: '#/components/responses/UnsupportedPatchMediaType'
        '422':
          $ref: '#/components/responses/InvalidPatch'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
    delete:
      tags: [sessions]
      operationId: deleteSession
      summary: Delete a session
      description: |
        Removes the session (a logout). Answers 204 also when there was no such session, so
        retries are safe; afterwards every call on this sid gives 404. With `If-Match`, a live
        session whose version is not listed is kept and the answer is 412; a session that is
        already gone still gives 204.
      parameters:
        - $ref: '#/components/parameters/IfMatch'
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '204':
          description: The session is gone (or never existed). No body.
          headers:
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
        '400':
          $ref: '#/components/responses/MalformedSIDOrIfMatch'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
  /sessions/{sid}/touch:
    description: 'Extends the life of one session. Serves POST only; any other method gets 405 `method-not-allowed` with `Allow: POST` (whatever the sid).'
    parameters:
      - $ref: '#/components/parameters/sid'
    post:
      tags: [sessions]
      operationId: touchSession
      summary: Extend a session's life
      description: |
        Slides `expires_at` of a live session to now plus its lifetime (never past the absolute
        lifetime, if one is configured), without writing: `version`, `updated_at` and the data
        stay as they are. Takes no body (a non-empty body is 422 `invalid-body`). Gives 404 for
        a session that is absent, expired or deleted; with `If-Match`, 412 for a live session
        whose version is not listed. The sid is checked first (400), then the body (422), then
        `If-Match` (400), then the store (404, 412).
      parameters:
        - $ref: '#/components/parameters/IfMatch'
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The session after the touch, with its (unchanged) version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
          links:
            getSession:
              operationId: getSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedSIDOrIfMatch'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/SessionNotFound'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '422':
          $ref: '#/components/responses/BodyNotAccepted'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
  /sessions/{sid}/rotate:
    description: 'Gives one session a new id. Serves POST only; any other method gets 405 `method-not-allowed` with `Allow: POST` (whatever the sid).'
    parameters:
      - $ref: '#/components/parameters/sid'
    post:
      tags: [sessions]
      operationId: rotateSession
      summary: Give a session a new id
      description: |
        Moves a live session to a new random id, as an application should do when the
        privileges behind a session change (at login), so that an id seen before cannot be used
        after. The new session has the same `data`, `permanent`, `subject` and `created_at`; its
        version is the old one plus one, `updated_at` is now and `expires_at` slides to now plus
        the lifetime (capped by the absolute lifetime if one is configured). The old id answers
        404 from then on.

        Takes no body (a non-empty body is 422 `invalid-body`). Gives 404 for a session that is
        absent, expired or deleted; with `If-Match`, 412 for a live session whose version is not
        listed. The sid is checked first (400), then the body (422), then `If-Match` (400), then
        the store (404, 412). The new id is a new entry in the store: with `--max-sessions` on
        the embedded store, a namespace at its limit gets 507 `store-full`, and the session
        stays under its old id.
      parameters:
        - $ref: '#/components/parameters/IfMatch'
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '201':
          description: The session under its new id; `Location` is its new URL and `ETag` its new version.
          headers:
            Location:
              $ref: '#/components/headers/Location'
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
              example:
                sid: 6f1c2a3e-8b4d-4c1f-9a2e-3d5b7c9e0f12
                data:
                  user: 42
                  cart: [1, 2]
                permanent: false
                subject: user-42
                version: 2
                created_at: '2026-11-26T10:00:00.000Z'
                updated_at: '2026-11-26T10:05:00.250Z'
                expires_at: '2026-11-27T10:05:00.250Z'
                ttl: 86400
          links:
            getSession:
              operationId: getSession
              parameters:
                sid: $response.body#/sid
              description: Read the session under its new id.
            replaceSession:
              operationId: replaceSession
              parameters:
                sid: $response.body#/sid
            patchSession:
              operationId: patchSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedSIDOrIfMatch'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '404':
          $ref: '#/components/responses/SessionNotFound'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '412':
          $ref: '#/components/responses/PreconditionFailed'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '422':
          $ref: '#/components/responses/BodyNotAccepted'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
        '507':
          $ref: '#/components/responses/StoreFull'
  /subjects/{subject}/sessions:
    description: 'The live sessions of one subject. Serves GET (and HEAD, GET without the body) and DELETE; any other method gets 405 `method-not-allowed` with `Allow: GET, HEAD, DELETE` (whatever the subject).'
    parameters:
      - $ref: '#/components/parameters/subject'
    get:
      tags: [subjects]
      operationId: listSubjectSessions
      summary: List the sessions of a subject
      description: |
        Lists the live sessions whose `subject` is this one, oldest `created_at` first, each
        under its handle with its permanence, timestamps and `ttl` (counted at the time of the
        request). Never shows a sid or data. A subject without live sessions gives an empty
        list, not 404. Takes no query parameter (400 `invalid-query`).
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The subject's live sessions.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/SubjectSessions'
              example:
                subject: user-42
                sessions:
                  - handle: 9f86d081884c7d659a2feaa0c55ad015
                    permanent: true
                    created_at: '2026-11-20T08:00:00.000Z'
                    updated_at: '2026-11-25T18:30:00.000Z'
                    expires_at: '2026-12-21T08:00:00.000Z'
                    ttl: 2152800
                  - handle: 3c2e1d0b9a8f7e6d5c4b3a2918070605
                    permanent: false
                    created_at: '2026-11-26T10:00:00.000Z'
                    updated_at: '2026-11-26T10:00:00.000Z'
                    expires_at: '2026-11-27T10:00:00.000Z'
                    ttl: 86400
          links:
            revokeSubjectSession:
              operationId: revokeSubjectSession
              parameters:
                subject: $response.body#/subject
                handle: $response.body#/sessions/0/handle
              description: Revoke the subject's oldest session.
        '400':
          $ref: '#/components/responses/MalformedSubjectOrQuery'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
    delete:
      tags: [subjects]
      operationId: revokeSubjectSessions
      summary: Revoke all sessions of a subject
      description: |
        Deletes every live session of the subject ("log out everywhere"), or every one but the
        session whose handle `except` names (the one the user is working in). Afterwards every
        call on their sids gives 404. Answers 200 also when there was nothing to revoke.
      parameters:
        - $ref: '#/components/parameters/except'
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: How many sessions were revoked.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/SubjectRevocation'
              example:
                subject: user-42
                revoked: 2
        '400':
          $ref: '#/components/responses/MalformedSubjectHandleOrQuery'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
  /subjects/{subject}/sessions/{handle}:
    description: 'One session of a subject, by handle. Serves DELETE only; any other method gets 405 `method-not-allowed` with `Allow: DELETE` (whatever the subject and handle).'
    parameters:
      - $ref: '#/components/parameters/subject'
      - $ref: '#/components/parameters/handle'
    delete:
      tags: [subjects]
      operationId: revokeSubjectSession
      summary: Revoke one session of a subject
      description: |
        Deletes the live session that has this handle and belongs to this subject (a "log out
        that device" button next to a listing). Answers 204 whether or not there was such a
        session: a session of another subject is left alone, and retries are safe. Afterwards
        every call on its sid gives 404. Takes no query parameter (400 `invalid-query`).
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '204':
          description: No session of this subject has this handle any more. No body.
          headers:
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
        '400':
          $ref: '#/components/responses/MalformedSubjectHandleOrQuery'
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
  /livez:
    description: 'Liveness probe. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getLiveness
      security: []
      summary: Liveness probe
      description: 200 whenever the process serves HTTP. It does not ask the store; use `/readyz` for that.
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The process is up.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [status]
                properties:
                  status:
                    const: alive
              example:
                status: alive
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
  /readyz:
    description: 'Readiness probe. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getReadiness
      security: []
      summary: Readiness probe
      description: |
        200 when the session store answers (the memory store always does; the Redis store
        when Redis answers a PING in time), else 503 `store-unavailable` with `Retry-After`.
        From the moment the server receives SIGTERM it answers 503 `shutting-down` (while it
        still serves requests for `--drain-delay`, then finishes those in flight). Take an
        instance out of a load balancer's rotation while it answers 503.
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The store answers. `store` names the configured store.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                required: [status, store]
                properties:
                  status:
                    const: ready
                  store:
                    type: string
                    enum: [memory, redis]
                    description: The configured session store (server setting `--store`).
              example:
                status: ready
                store: memory
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/NotReady'
  /metrics:
    description: 'Prometheus metrics. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getMetrics
      summary: Metrics in the Prometheus text format
      description: |
        The Prometheus text exposition format 0.0.4: `sessiond_http_request_duration_seconds`
        (histogram by `route` template and `status_class`), `sessiond_store_command_duration_seconds`
        (histogram by store `operation`), `sessiond_errors_total` (by problem `type` slug),
        `sessiond_sessions_created_total`, `sessiond_sessions_deleted_total`,
        `sessiond_sessions_rotated_total`, `sessiond_conditional_write_conflicts_total` and
        `sessiond_store_up` (1 when the store's last call was answered, else 0). HEAD answers
        the same without the body. With API keys it needs a key unless the server runs with
        `--metrics-auth none`; without a keys file it is open, like every call.
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: 'Every metric, as `Content-Type: text/plain; version=0.0.4; charset=utf-8`.'
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            text/plain; version=0.0.4:
              schema:
                type: string
              example: |
                # HELP sessiond_sessions_created_total Sessions created (POST /sessions).
                # TYPE sessiond_sessions_created_total counter
                sessiond_sessions_created_total 12
        '401':
          $ref: '#/components/responses/Unauthorized'
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
  /openapi.yaml:
    description: 'This document. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getOpenAPIDocument
      security: []
      summary: This API description
      description: The OpenAPI 3.1 document of the API that this server implements, embedded in the binary when it was built.
      parameters:
        - $ref: '#/components/parameters/XRequestId'
      responses:
        '200':
          description: The document, as YAML.
          headers:
            X-Request-Id:
              $ref: '#/components/headers/XRequestId'
          content:
            application/yaml:
              schema:
                description: An OpenAPI 3.1 document.
        '408':
          $ref: '#/components/responses/RequestTimeout'
        '413':
          $ref: '#/components/responses/BodyTooLarge'
security:
  - bearerAuth: []
  - {}
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      description: |
        An API key of the server's `--api-keys-file` (`namespace:key` lines), sent as
        `Authorization: Bearer <key>`. Required on the `/sessions` and `/subjects` calls (and
        `/metrics`, unless `--metrics-auth none`) when the server has keys; a key sees only its
        namespace. Without `--api-keys-file` the server runs open and ignores the header, which
        is why every such operation also lists the empty requirement `{}`.
  parameters:
    sid:
      name: sid
      in: path
      required: true
      description: The session id, as the service issued it (a lowercase canonical UUID).
      schema:
        $ref: '#/components/schemas/SessionID'
      example: 1b4e28ba-2fa1-41d2-883f-0016d3cca427
    subject:
      name: subject
      in: path
      required: true
      description: |
        The subject, percent-encoded as a path segment (`user%2F42` for `user/42`). Once
        decoded it must be 1 to 256 bytes of UTF-8 (else 400 `malformed-subject`); `maxLength`
        below counts characters, which is the same only for ASCII.
      schema:
        type: string
        minLength: 1
        maxLength: 256
      example: user-42
    handle:
      name: handle
      in: path
      required: true
      description: A session handle, as a subject listing shows it (32 lowercase hex digits; else 400 `malformed-handle`).
      schema:
        $ref: '#/components/schemas/SessionHandle'
      example: 9f86d081884c7d659a2feaa0c55ad015
    touch:
      name: touch
      in: query
      required: false
      description: |
        `true` also extends the session's life, as `POST /sessions/{sid}/touch` does; `false`
        (or leaving it out) is a plain read. Any other value, giving it twice, or any other
        parameter is 400 `invalid-query`.
      schema:
        type: boolean
        default: false
      example: true
    except:
      name: except
      in: query
      required: false
      description: |
        The handle of a session to keep (usually the caller's own). A value that is not a
        handle is 400 `malformed-handle`; giving it twice, or any other parameter, is 400
        `invalid-query`.
      schema:
        $ref: '#/components/schemas/SessionHandle'
      example: 9f86d081884c7d659a2feaa0c55ad015
    IfMatch:
      name: If-Match
      in: header
      required: false
      description: |
        Makes the request conditional on the session's version (RFC 9110 section 13.1.1): `*`,
        or a comma-separated list of entity tags as `ETag` gives them (`"3"`, `"3", "4"`). The
        request goes ahead only if the session is live and its version is listed; weak tags
        (`W/"3"`) and tags that are not a version never match. A live session at another
        version gives 412 `precondition-failed`; an absent one answers as without the header
        (404, or 204 for `DELETE`). Anything else than `*` or a list of entity tags (opaque
        tags of visible ASCII other than `"` and `,`; RFC 9110's obsolete non-ASCII bytes are
        refused too) is 400 `invalid-if-match`.
      schema:
        type: string
        pattern: '^[ \t]*(\*|(,[ \t]*)*(W/)?"[!#-+\--~]*"([ \t]*,([ \t]*(W/)?"[!#-+\--~]*")?)*)[ \t]*$'
      example: '"1"'
    XRequestId:
      name: X-Request-Id
      in: header
      required: false
      description: |
        An id for this request, to find it in the server's log and tie it to the caller's own
        logs. Kept when it is 1 to 128 visible ASCII characters without spaces, and sent back
        as the response's `X-Request-Id`; any other value, or none, is replaced by a new random
        id. Never refused.
      schema:
        type: string
      example: checkout-7f3a9c
  headers:
    ETag:
      description: The session's version as a strong entity tag, e.g. `"3"` (on a 412, the version the session has now).
      required: true
      schema:
        type: string
        pattern: '^"[1-9][0-9]*"$'
      example: '"1"'
    Location:
      description: The session's URL, relative to the server (`/sessions/{sid}`).
      required: true
      schema:
        type: string
        format: uri-reference
        pattern: '^/sessions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      example: /sessions/1b4e28ba-2fa1-41d2-883f-0016d3cca427
    CacheControl:
      description: Session data and errors are never to be stored by caches.
      required: true
      schema:
        type: string
        const: no-store
    Allow:
      description: The methods that the path serves, comma-separated, e.g. `GET, HEAD, PUT, PATCH, DELETE`.
      required: true
      schema:
        type: string
      example: GET, HEAD, PUT, PATCH, DELETE
    XRequestId:
      description: |
        The request's own `X-Request-Id` when it is 1 to 128 visible ASCII characters without
        spaces, else a new random id of 32 lowercase hex digits. The access log line of the
        request has the same id.
      required: true
      schema:
        type: string
        pattern: '^[!-~]{1,128}$'
      example: 3f2a9c0e8b7d4e1fa6c5b4d3e2f1a0b9
    RetryAfter:
      description: Seconds to wait before retrying.
      required: true
      schema:
        type: integer
        minimum: 0
      example: 1
  schemas:
    SessionID:
      type: string
      description: A session id, a version 4 UUID in lowercase canonical form. Paths accept any UUID of this form; an id that the service never issued is simply not found.
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      minLength: 36
      maxLength: 36
      examples:
        - 1b4e28ba-2fa1-41d2-883f-0016d3cca427
    SessionHandle:
      type: string
      description: |
        The public name of a session: the first 16 bytes of SHA-256 over `sessiond-handle-v1:`
        followed by the sid, as 32 lowercase hex digits. It cannot be turned back into the sid.
      pattern: '^[0-9a-f]{32}$'
      minLength: 32
      maxLength: 32
      examples:
        - 9f86d081884c7d659a2feaa0c55ad015
    Subject:
      type: string
      description: |
        Whom a session belongs to, as the application names it (a user id such as `user-42`):
        any string of 1 to 256 bytes of UTF-8. `maxLength` counts characters, which is the same
        as bytes only for ASCII; a longer one is refused (422 `invalid-body` in a body).
      minLength: 1
      maxLength: 256
      examples:
        - user-42
    Timestamp:
      type: string
      format: date-time
      description: An instant in UTC with millisecond precision (RFC 3339), e.g. `2026-11-26T10:05:00.250Z`.
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
      examples:
        - '2026-11-26T10:05:00.250Z'
    JSONValue:
      description: |
        Any JSON value, with the limits that let the service store it exactly (see "Data" in
        the API description): an integer written without fraction or exponent must fit in a
        signed 64-bit integer, any other number in an IEEE 754 double, and object keys may not
        contain `\u0000`; the service answers 422 `unsupported-value` otherwise. The number
        limits depend on how a number is written (`1e300` is a double, the same value written
        out in digits is an integer beyond 64 bits), which JSON Schema cannot express, so this
        schema leaves numbers unbounded.
      type: [object, array, string, number, boolean, 'null']
      items:
        $ref: '#/components/schemas/JSONValue'
      propertyNames:
        pattern: '^[^\u0000]*$'
      additionalProperties:
        $ref: '#/components/schemas/JSONValue'
    SessionData:
      description: |
        The application's session data: a JSON object of at most 32 levels of objects and
        arrays (this object being level 1; server setting `--max-data-depth`). It comes back
        exactly as it was stored, in compact form.
      type: object
      propertyNames:
        pattern: '^[^\u0000]*$'
      additionalProperties:
        $ref: '#/components/schemas/JSONValue'
      examples:
        - user: 42
          cart: [1, 2]
    SessionCreate:
      type: object
      description: The body of `POST /sessions`. Every field is optional; no other field is accepted.
      additionalProperties: false
      properties:
        data:
          $ref: '#/components/schemas/SessionData'
          description: The initial data; `{}` when omitted.
        permanent:
          type: boolean
          default: false
          description: Whether the permanent lifetime applies (else the standard one).
        subject:
          type: [string, 'null']
          minLength: 1
          maxLength: 256
          default: null
          description: Whom the session belongs to, 1 to 256 bytes of UTF-8 (`maxLength` counts characters); `null` or omitted for none.
    SessionReplace:
      type: object
      description: The body of `PUT /sessions/{sid}`, the new state as a whole. No other field is accepted.
      additionalProperties: false
      required: [data]
      properties:
        data:
          $ref: '#/components/schemas/SessionData'
          description: The new data, replacing the old as a whole.
        permanent:
          type: boolean
          default: false
          description: Whether the permanent lifetime applies from now on; false when omitted.
        subject:
          type: [string, 'null']
          minLength: 1
          maxLength: 256
          default: null
          description: Whom the session belongs to from now on, 1 to 256 bytes of UTF-8 (`maxLength` counts characters); `null` or omitted clears it.
    SessionMergePatch:
      type: object
      description: |
        The body of `PATCH /sessions/{sid}` (`application/merge-patch+json`): an RFC 7396 merge
        patch of the session's writable members. Every member is optional, and an absent member
        leaves the field as it is; no other member is accepted.
      additionalProperties: false
      properties:
        data:
          $ref: '#/components/schemas/DataMergePatch'
        permanent:
          type: boolean
          description: The new permanence (and with it the lifetime from now on).
        subject:
          type: [string, 'null']
          minLength: 1
          maxLength: 256
          description: A string (1 to 256 bytes of UTF-8; `maxLength` counts characters) sets the subject; `null` clears it.
    DataMergePatch:
      description: |
        A merge patch of `data`, an object (never `null`): each member whose value is `null`
        removes that key from the data, an object merges into the object under the same key
        (recursively, with the same rules) or replaces any other value there, and any other
        value (arrays included) replaces the key's value. The patch obeys the limits of `data`
        (depth, numbers, keys), and the merged data must fit in the body limit (422
        `data-too-large`).
      type: object
      propertyNames:
        pattern: '^[^\u0000]*$'
      additionalProperties:
        $ref: '#/components/schemas/JSONValue'
      examples:
        - cart: [1, 2, 3]
          coupon: null
    Session:
      type: object
      description: A session as the service shows it.
      additionalProperties: false
      required: [sid, data, permanent, subject, version, created_at, updated_at, expires_at, ttl]
      properties:
        sid:
          $ref: '#/components/schemas/SessionID'
        data:
          $ref: '#/components/schemas/SessionData'
        permanent:
          type: boolean
          description: Whether the permanent lifetime applies.
        subject:
          type: [string, 'null']
          minLength: 1
          maxLength: 256
          description: Whom the session belongs to (1 to 256 bytes of UTF-8; `maxLength` counts characters), or `null` for none.
        version:
          type: integer
          minimum: 1
          description: 1 at creation, plus one for every write (replace, patch, rotate; not touch). Also sent as `ETag`.
        created_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was created (a rotated session keeps it).
        updated_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was last written (equal to `created_at` until the first replace, patch or rotate).
        expires_at:
          $ref: '#/components/schemas/Timestamp'
          description: The instant from which the session is gone (the last write or touch plus the lifetime, capped by the absolute lifetime).
        ttl:
          type: integer
          minimum: 0
          description: Whole seconds left until `expires_at` at the time of the response, rounded up.
    SessionSummary:
      type: object
      description: A session as a subject listing shows it, without its sid or data.
      additionalProperties: false
      required: [handle, permanent, created_at, updated_at, expires_at, ttl]
      properties:
        handle:
          $ref: '#/components/schemas/SessionHandle'
        permanent:
          type: boolean
          description: Whether the permanent lifetime applies.
        created_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was created.
        updated_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was last written.
        expires_at:
          $ref: '#/components/schemas/Timestamp'
          description: The instant from which the session is gone.
        ttl:
          type: integer
          minimum: 0
          description: Whole seconds left until `expires_at` at the time of the response, rounded up.
    SubjectSessions:
      type: object
      description: The live sessions of a subject, oldest `created_at` first; an empty list when it has none.
      additionalProperties: false
      required: [subject, sessions]
      properties:
        subject:
          $ref: '#/components/schemas/Subject'
          description: The subject, as decoded from the path.
        sessions:
          type: array
          items:
            $ref: '#/components/schemas/SessionSummary'
    SubjectRevocation:
      type: object
      description: The outcome of revoking a subject's sessions.
      additionalProperties: false
      required: [subject, revoked]
      properties:
        subject:
          $ref: '#/components/schemas/Subject'
          description: The subject, as decoded from the path.
        revoked:
          type: integer
          minimum: 0
          description: |
            How many live sessions were deleted (0 when there were none). A session that a
            rotation in flight had already copied to its new sid may count twice (the copy is
            deleted too, and the rotation answers 404).
    ProblemTypeURI:
      type: string
      format: uri
      description: The stable identifier of a kind of problem (see the table in the API description).
      enum:
        - https://sessiond.dev/problems/bad-request
        - https://sessiond.dev/problems/uri-too-long
        - https://sessiond.dev/problems/header-too-large
        - https://sessiond.dev/problems/unsupported-transfer-coding
        - https://sessiond.dev/problems/http-version-not-supported
        - https://sessiond.dev/problems/malformed-sid
        - https://sessiond.dev/problems/malformed-subject
        - https://sessiond.dev/problems/malformed-handle
        - https://sessiond.dev/problems/invalid-if-match
        - https://sessiond.dev/problems/invalid-query
        - https://sessiond.dev/problems/invalid-json
        - https://sessiond.dev/problems/invalid-utf8
        - https://sessiond.dev/problems/duplicate-key
        - https://sessiond.dev/problems/too-deep
        - https://sessiond.dev/problems/not-found
        - https://sessiond.dev/problems/session-not-found
        - https://sessiond.dev/problems/method-not-allowed
        - https://sessiond.dev/problems/precondition-failed
        - https://sessiond.dev/problems/body-too-large
        - https://sessiond.dev/problems/unsupported-media-type
        - https://sessiond.dev/problems/invalid-body
        - https://sessiond.dev/problems/unsupported-value
        - https://sessiond.dev/problems/data-too-large
        - https://sessiond.dev/problems/internal-error
        - https://sessiond.dev/problems/store-unavailable
        - https://sessiond.dev/problems/unauthorized
        - https://sessiond.dev/problems/store-full
        - https://sessiond.dev/problems/request-timeout
        - https://sessiond.dev/problems/shutting-down
    Problem:
      type: object
      description: |
        An RFC 9457 problem, the body of every error response. Clients should ignore members
        they do not know: later versions may add some (a 412 already adds `current_version`).
      required: [type, title, status, detail]
      properties:
        type:
          type: string
          format: uri
          description: The kind of problem, `https://sessiond.dev/problems/<slug>`; stable, made to be compared.
        title:
          type: string
          description: A fixed, human summary of the kind of problem.
        status:
          type: integer
          minimum: 400
          maximum: 599
          description: The HTTP status code of the response.
        detail:
          type: string
          description: What went wrong with this request, for humans. Never holds session data.
      examples:
        - type: https://sessiond.dev/problems/session-not-found
          title: Session not found
          status: 404
          detail: 'no live session has this id: it never existed, expired, was deleted or rotated'
    PreconditionFailedProblem:
      description: The body of a 412 `precondition-failed`, a problem that also gives the session's current version.
      allOf:
        - $ref: '#/components/schemas/Problem'
        - type: object
          required: [current_version]
          properties:
            type:
              const: https://sessiond.dev/problems/precondition-failed
            status:
              const: 412
            current_version:
              type: integer
              minimum: 1
              description: The version the session has now (also sent as `ETag`).
      examples:
        - type: https://sessiond.dev/problems/precondition-failed
          title: Session version has moved on
          status: 412
          detail: the session is at another version than If-Match names; read it again and retry
          current_version: 4
  responses:
    MalformedSIDOrQuery:
      description: |
        `malformed-sid` (checked first), or `invalid-query`: a query parameter other than
        `touch`, `touch` given twice, a `touch` other than `true` or `false`, or a bad
        percent-escape.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/malformed-sid
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/invalid-query
            title: Unsupported query parameter
            status: 400
            detail: 'this endpoint takes no query parameter of that name; accepted: touch'
    MalformedSIDOrIfMatch:
      description: '`malformed-sid` (checked first), `invalid-query` (this call takes no query parameter), or `invalid-if-match`: `If-Match` is neither `*` nor a list of entity tags.'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/malformed-sid
                      - https://sessiond.dev/problems/invalid-if-match
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/invalid-if-match
            title: Malformed If-Match header
            status: 400
            detail: If-Match must be * or a list of entity tags such as "3" (as the ETag header gives them)
    MalformedBody:
      description: |
        The body is not acceptable JSON: `invalid-json` (not JSON text), `invalid-utf8`,
        `duplicate-key` or `too-deep` (`data` nests deeper than the limit); or
        `invalid-query`: the request has a query string (this call takes no parameter).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/invalid-json
                      - https://sessiond.dev/problems/invalid-utf8
                      - https://sessiond.dev/problems/duplicate-key
                      - https://sessiond.dev/problems/too-deep
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/duplicate-key
            title: Body has a duplicate object key
            status: 400
            detail: duplicate object key near '"a"' (line 1, column 18)
    MalformedWriteRequest:
      description: |
        `malformed-sid` (checked first), `invalid-query` (this call takes no query parameter),
        `invalid-if-match` (`If-Match` is neither `*` nor a list of entity tags), or a body that
        is not acceptable JSON: `invalid-json`, `invalid-utf8`, `duplicate-key` or `too-deep`.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/malformed-sid
                      - https://sessiond.dev/problems/invalid-if-match
                      - https://sessiond.dev/problems/invalid-json
                      - https://sessiond.dev/problems/invalid-utf8
                      - https://sessiond.dev/problems/duplicate-key
                      - https://sessiond.dev/problems/too-deep
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/invalid-json
            title: Body is not valid JSON
            status: 400
            detail: invalid token near 'nope' (line 1, column 4)
    MalformedSubjectOrQuery:
      description: |
        `malformed-subject` (checked first): the subject in the path, once percent-decoded, is
        empty or longer than 256 bytes, or it has a bad percent-escape or is not UTF-8; or
        `invalid-query`: the request has a query parameter (this call takes none) or a bad
        percent-escape in its query.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/malformed-subject
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/malformed-subject
            title: Malformed subject
            status: 400
            detail: a subject is 1 to 256 bytes of UTF-8, percent-encoded in the path
    MalformedSubjectHandleOrQuery:
      description: |
        `malformed-subject` (checked first), as for the listing; `malformed-handle`: the handle
        (the `{handle}` in the path, or `except`) is not 32 lowercase hex digits; or
        `invalid-query`: a query parameter this call does not take (`except` is the only one,
        and only when revoking all), a parameter given twice, or a bad percent-escape.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/malformed-subject
                      - https://sessiond.dev/problems/malformed-handle
                      - https://sessiond.dev/problems/invalid-query
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/malformed-handle
            title: Malformed session handle
            status: 400
            detail: a session handle is 32 lowercase hex digits, as a subject listing shows it
    NotFound:
      description: '`not-found`: the API serves nothing at this path (any path not listed in this document).'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/not-found
                  status:
                    const: 404
    SessionNotFound:
      description: '`session-not-found`: no live session has this id (it never existed, expired, was deleted, revoked or rotated).'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/session-not-found
                  status:
                    const: 404
          example:
            type: https://sessiond.dev/problems/session-not-found
            title: Session not found
            status: 404
            detail: 'no live session has this id: it never existed, expired, was deleted or rotated'
    MethodNotAllowed:
      description: |
        `method-not-allowed`: the path exists but does not serve this method. Returned for
        every method that this document does not list under a path (HEAD is served wherever
        GET is); `Allow` names those it serves.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Allow:
          $ref: '#/components/headers/Allow'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/method-not-allowed
                  status:
                    const: 405
          example:
            type: https://sessiond.dev/problems/method-not-allowed
            title: Method not allowed
            status: 405
            detail: 'POST is not allowed here; allowed: GET, HEAD, PUT, PATCH, DELETE'
    PreconditionFailed:
      description: |
        `precondition-failed`: `If-Match` does not list the version of the live session.
        Nothing changed; `current_version` and `ETag` give the version the session has now.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        ETag:
          $ref: '#/components/headers/ETag'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            $ref: '#/components/schemas/PreconditionFailedProblem'
          example:
            type: https://sessiond.dev/problems/precondition-failed
            title: Session version has moved on
            status: 412
            detail: the session is at another version than If-Match names; read it again and retry
            current_version: 4
    BodyTooLarge:
      description: |
        `body-too-large`: the body exceeds the limit (default 65536 bytes; server setting
        `--max-body-bytes`). Checked on every endpoint before anything else; the connection is
        closed after this response (`Connection: close`).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/body-too-large
                  status:
                    const: 413
          example:
            type: https://sessiond.dev/problems/body-too-large
            title: Body is too large
            status: 413
            detail: the body exceeds the limit of 65536 bytes
    RequestTimeout:
      description: |
        `request-timeout`: the request did not arrive whole within the request timeout of its
        first byte (default 30 s; server setting `--request-timeout`): its head came too slowly,
        or, once the head was in, its body. The connection is closed after this response
        (`Connection: close`). Any endpoint may answer it; clients that send their requests at
        once never see it.
      headers:
        X-Request-Id:
          description: As on every response, when the request's head arrived; a request whose head never arrived whole gets none.
          required: false
          schema:
            type: string
            pattern: '^[!-~]{1,128}$'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/request-timeout
                  status:
                    const: 408
          example:
            type: https://sessiond.dev/problems/request-timeout
            title: Request not received in time
            status: 408
            detail: the request did not arrive whole within 30 s
    UnsupportedMediaType:
      description: |
        `unsupported-media-type`: the request does not say `Content-Type: application/json`
        (it is missing, names another type, is repeated, or names a charset other than UTF-8).
        Only a POST without a body may leave it out.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/unsupported-media-type
                  status:
                    const: 415
          example:
            type: https://sessiond.dev/problems/unsupported-media-type
            title: Unsupported media type
            status: 415
            detail: Content-Type text/plain is not accepted here; send application/json
    UnsupportedPatchMediaType:
      description: |
        `unsupported-media-type`: the request does not say
        `Content-Type: application/merge-patch+json` (it is missing, names another type,
        `application/json` included, is repeated, or names a charset other than UTF-8).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/unsupported-media-type
                  status:
                    const: 415
          example:
            type: https://sessiond.dev/problems/unsupported-media-type
            title: Unsupported media type
            status: 415
            detail: Content-Type application/json is not accepted here; send application/merge-patch+json
    InvalidBody:
      description: |
        Valid JSON that cannot be accepted: `invalid-body` (not an object, an unknown field, a
        field of the wrong type, `data` missing on replace, a `subject` that is empty or longer
        than 256 bytes) or `unsupported-value` (an integer beyond 64 bits, a number beyond a
        double, `\u0000` in an object key).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/invalid-body
                      - https://sessiond.dev/problems/unsupported-value
                  status:
                    const: 422
          example:
            type: https://sessiond.dev/problems/invalid-body
            title: Body does not describe a session
            status: 422
            detail: data must be a JSON object, not an array
    InvalidPatch:
      description: |
        A merge patch that cannot be applied: `invalid-body` (not an object, a member other
        than `data`, `permanent` and `subject`, `data` that is `null` or not an object,
        `permanent` not a boolean, `subject` not a string or `null`, or empty or longer than 256
        bytes), `unsupported-value` (an integer beyond 64 bits, a number beyond a double,
        `\u0000` in an object key) or `data-too-large` (the merged data would be larger than the
        body limit; nothing is written).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/invalid-body
                      - https://sessiond.dev/problems/unsupported-value
                      - https://sessiond.dev/problems/data-too-large
                  status:
                    const: 422
          example:
            type: https://sessiond.dev/problems/data-too-large
            title: Merged session data is too large
            status: 422
            detail: the data after this patch would exceed the limit of 65536 bytes
    BodyNotAccepted:
      description: '`invalid-body`: this endpoint takes no body, and the request has a non-empty one.'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/invalid-body
                  status:
                    const: 422
          example:
            type: https://sessiond.dev/problems/invalid-body
            title: Body does not describe a session
            status: 422
            detail: this endpoint takes no body
    InternalError:
      description: '`internal-error`: the request failed inside sessiond; the server log has the details (never session data).'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/internal-error
                  status:
                    const: 500
    Unauthorized:
      description: |
        `unauthorized`: the server has API keys, and the request sent none (`WWW-Authenticate:
        Bearer realm="sessiond"`) or one that is not among them (`..., error="invalid_token"`).
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        WWW-Authenticate:
          description: '`Bearer realm="sessiond"`, with `error="invalid_token"` when a wrong key was sent (RFC 6750).'
          required: true
          schema:
            type: string
            pattern: '^Bearer realm="sessiond"(, error="invalid_token")?$'
          example: Bearer realm="sessiond", error="invalid_token"
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/unauthorized
                  status:
                    const: 401
          example:
            type: https://sessiond.dev/problems/unauthorized
            title: Missing or wrong API key
            status: 401
            detail: 'this call needs an API key: send Authorization: Bearer <key>'
    StoreFull:
      description: '`store-full`: the embedded store holds as many sessions of this namespace as `--max-sessions` allows; nothing was stored.'
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/store-full
                  status:
                    const: 507
          example:
            type: https://sessiond.dev/problems/store-full
            title: Session store is full
            status: 507
            detail: this namespace holds as many sessions as --max-sessions allows; delete some or raise the limit
    NotReady:
      description: |
        `store-unavailable` (with `Retry-After`): the store does not answer; or `shutting-down`
        (without it): the server received SIGTERM and is draining, and will not be ready again.
      headers:
        Retry-After:
          description: Seconds to wait before asking again; sent with `store-unavailable` only.
          required: false
          schema:
            type: integer
            minimum: 0
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    enum:
                      - https://sessiond.dev/problems/store-unavailable
                      - https://sessiond.dev/problems/shutting-down
                  status:
                    const: 503
          example:
            type: https://sessiond.dev/problems/shutting-down
            title: sessiond is shutting down
            status: 503
            detail: sessiond is draining its requests before it stops; send new ones elsewhere
    StoreUnavailable:
      description: |
        `store-unavailable`: the session store did not answer in time (e.g. Redis is down).
        Nothing is known about the session; retry after `Retry-After` seconds. The service
        never answers 404 or falls back to another store in this case.
      headers:
        X-Request-Id:
          $ref: '#/components/headers/XRequestId'
        Retry-After:
          $ref: '#/components/headers/RetryAfter'
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/store-unavailable
                  status:
                    const: 503
          example:
            type: https://sessiond.dev/problems/store-unavailable
            title: Session store unavailable
            status: 503
            detail: the session store did not answer; retry shortly

"""#####
}
