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
    session id (`sid`) to its user (usually in a cookie), and reads, replaces or deletes the
    session on later requests.

    ## Sessions

    A session is a JSON object (`data`) plus the fields the service maintains: its id, whether
    it is permanent, a version, three timestamps and the seconds it has left. See the `Session`
    schema.

    - **Session ids** are random version 4 UUIDs drawn from the operating system's
      cryptographically secure generator, written in lowercase canonical form
      (`1b4e28ba-2fa1-41d2-883f-0016d3cca427`). Only the service makes them; a path whose id is
      not in that exact form (uppercase, braces, no hyphens) is refused with `malformed-sid`
      before anything is looked up.
    - **Versions** start at 1 and grow by one with every write. Every response that carries a
      session also carries it as a strong entity tag: `ETag: "3"`. (Conditional requests are
      not implemented yet: `If-Match` and `If-None-Match` are ignored.)
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

    ## Lifetimes

    - A **permanent** session lives for the permanent lifetime (default 31 days, setting
      `--permanent-lifetime`); any other session for the standard lifetime (default one day,
      setting `--lifetime`). Clients choose `permanent`; the service enforces the lifetime.
    - The lifetime is an **idle timeout**: every write (create, replace) sets `expires_at` to
      the time of the write plus the session's lifetime. Reading a session does not extend it.
    - An optional **absolute lifetime** (setting `--absolute-lifetime`, off by default) caps
      `expires_at` at `created_at` plus that lifetime, whatever the activity.
    - Expiry is kept to the **millisecond**: from `expires_at` on, the session is gone (GET and PUT
      give 404), even before the store has physically removed it. `ttl` is the whole seconds
      left, rounded up, so a live session never shows 0; right after a write it equals the
      lifetime in seconds (86400 for one day, 2678400 for 31 days).

    ## Requests and responses

    - Request bodies are JSON: `Content-Type: application/json` (case-insensitive; parameters
      are allowed, but a `charset` other than `utf-8` is refused with 415). Bodies must be
      valid UTF-8, must not repeat a key in any object, and may be at most 65536 bytes (setting
      `--max-body-bytes`) on every endpoint. A larger body is answered with 413 as soon as
      the limit is passed (at once when `Content-Length` declares it), and the connection is
      closed.
    - Successful JSON responses are `application/json; charset=utf-8`. Responses with a JSON
      or problem body carry `Cache-Control: no-store`.
    - Unknown query parameters are ignored.
    - A path that the API does not serve gets 404 `not-found`; a method that a path does not
      serve gets 405 `method-not-allowed` with an `Allow` header listing the methods it does
      serve (see the `MethodNotAllowed` and `NotFound` responses below). The method is checked
      before the session id, so `PATCH /sessions/not-a-uuid` is a 405.
    - A request that is not valid HTTP/1.1 gets a bare 400 without a body, and its connection
      is closed.
    - HTTP/1.1 keep-alive and pipelining are supported; responses come back in request order.

    ## Errors

    Every error is an RFC 9457 problem (`application/problem+json`) with `type`, `title`,
    `status` and `detail` (see the `Problem` schema). Programs should branch on `type`, which
    is stable; `title` is its fixed summary and `detail` explains this occurrence for humans.
    A request that fails stores nothing. The types are `https://sessiond.dev/problems/` followed
    by a slug:

    | slug | status | when |
    |---|---|---|
    | `bad-request` | 400 | the HTTP request itself is malformed: an HTTP/1.1 request without a `Host` header, or with several (the connection is closed) |
    | `malformed-sid` | 400 | the `{sid}` in the path is not a lowercase canonical UUID |
    | `invalid-json` | 400 | the body is not JSON text (syntax error, trailing bytes, lone surrogate escape, or empty while a `Content-Type` was sent) |
    | `invalid-utf8` | 400 | the body is not valid UTF-8 |
    | `duplicate-key` | 400 | an object in the body names the same key twice |
    | `too-deep` | 400 | `data` nests deeper than the limit |
    | `not-found` | 404 | no resource at this path |
    | `session-not-found` | 404 | no live session has this id: it never existed, expired or was deleted |
    | `method-not-allowed` | 405 | the path does not serve this method; `Allow` lists those it does |
    | `body-too-large` | 413 | the body exceeds the size limit |
    | `unsupported-media-type` | 415 | the request is not `Content-Type: application/json` (missing, another type, several, or a charset other than UTF-8); only a POST without body may omit it |
    | `invalid-body` | 422 | valid JSON that does not describe a session: not an object, an unknown field, a field of the wrong type, `data` missing on replace |
    | `unsupported-value` | 422 | a value that cannot be stored exactly: an integer beyond 64 bits, a number beyond a double, `\u0000` in an object key |
    | `internal-error` | 500 | a failure inside sessiond (the server log has the details) |
    | `store-unavailable` | 503 | the session store did not answer; retry after `Retry-After` seconds. Never turned into a 404 or a fallback |
servers:
  - url: http://127.0.0.1:8080
    description: A local sessiond with the default settings.
tags:
  - name: sessions
    description: Create, read, replace and delete sessions.
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
        `data` `{}` and `permanent` false, as does `{}`. An empty body sent with
        `Content-Type: application/json` is not JSON (400 `invalid-json`).
      requestBody:
        required: false
        description: The initial data and permanence. Both fields are optional; no other field is accepted.
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
                summary: A permanent session
                value:
                  data:
                    user: 42
                  permanent: true
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
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
              description: Delete the new session.
        '400':
          $ref: '#/components/responses/MalformedBody'
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
  /sessions/{sid}:
    description: 'One session. Serves GET (and HEAD, GET without the body), PUT and DELETE; any other method gets 405 `method-not-allowed` with `Allow: GET, HEAD, PUT, DELETE` (whatever the sid).'
    parameters:
      - $ref: '#/components/parameters/sid'
    get:
      tags: [sessions]
      operationId: getSession
      summary: Read a session
      description: |
        Returns the session if it is live. Reading does not extend its life; `ttl` is counted
        at the time of the request. An expired session is never returned, even if the store
        still holds it.
      responses:
        '200':
          description: The session, with its version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Session'
          links:
            replaceSession:
              operationId: replaceSession
              parameters:
                sid: $response.body#/sid
            deleteSession:
              operationId: deleteSession
              parameters:
                sid: $response.body#/sid
        '400':
          $ref: '#/components/responses/MalformedSID'
        '404':
          $ref: '#/components/responses/SessionNotFound'
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
        Replaces `data` and `permanent` of a live session as a whole: `data` is required (send
        `{}` to empty it) and an omitted `permanent` means false. The version grows by one,
        `updated_at` becomes now, and `expires_at` slides to now plus the lifetime that the new
        `permanent` selects (capped by the absolute lifetime if one is configured);
        `created_at` and `sid` stay.

        PUT never creates: a session that is absent, expired or deleted gives 404, so a late
        write after a logout cannot bring the session back. The sid is checked first (400),
        then the body (415, 400, 422), then the store (404). A refused request changes nothing.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/SessionReplace'
            examples:
              replace:
                summary: New data, not permanent
                value:
                  data:
                    user: 42
                    cart: [1, 2, 3]
              empty:
                summary: Empty the data, make it permanent
                value:
                  data: {}
                  permanent: true
      responses:
        '200':
          description: The session after the write, with its new version as `ETag`.
          headers:
            ETag:
              $ref: '#/components/headers/ETag'
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
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
          $ref: '#/components/responses/MalformedSIDOrBody'
        '404':
          $ref: '#/components/responses/SessionNotFound'
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
    delete:
      tags: [sessions]
      operationId: deleteSession
      summary: Delete a session
      description: |
        Removes the session (a logout). Answers 204 also when there was no such session, so
        retries are safe; afterwards every call on this sid gives 404.
      responses:
        '204':
          description: The session is gone (or never existed). No body.
        '400':
          $ref: '#/components/responses/MalformedSID'
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
      summary: Liveness probe
      description: 200 whenever the process serves HTTP. It does not ask the store; use `/readyz` for that.
      responses:
        '200':
          description: The process is up.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
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
        '413':
          $ref: '#/components/responses/BodyTooLarge'
  /readyz:
    description: 'Readiness probe. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getReadiness
      summary: Readiness probe
      description: |
        200 when the session store answers (the memory store always does; the Redis store
        when Redis answers a PING in time), else 503 `store-unavailable` with `Retry-After`.
        Take an instance out of a load balancer's rotation while it answers 503.
      responses:
        '200':
          description: The store answers. `store` names the configured store.
          headers:
            Cache-Control:
              $ref: '#/components/headers/CacheControl'
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
        '413':
          $ref: '#/components/responses/BodyTooLarge'
        '500':
          $ref: '#/components/responses/InternalError'
        '503':
          $ref: '#/components/responses/StoreUnavailable'
  /openapi.yaml:
    description: 'This document. Serves GET (and HEAD); other methods get 405 `method-not-allowed` with `Allow: GET, HEAD`.'
    get:
      tags: [operations]
      operationId: getOpenAPIDocument
      summary: This API description
      description: The OpenAPI 3.1 document of the API that this server implements, embedded in the binary when it was built.
      responses:
        '200':
          description: The document, as YAML.
          content:
            application/yaml:
              schema:
                description: An OpenAPI 3.1 document.
        '413':
          $ref: '#/components/responses/BodyTooLarge'
components:
  parameters:
    sid:
      name: sid
      in: path
      required: true
      description: The session id, as the service issued it (a lowercase canonical UUID).
      schema:
        $ref: '#/components/schemas/SessionID'
      example: 1b4e28ba-2fa1-41d2-883f-0016d3cca427
  headers:
    ETag:
      description: The session's version as a strong entity tag, e.g. `"3"`.
      required: true
      schema:
        type: string
        pattern: '^"[1-9][0-9]*"$'
      example: '"1"'
    Location:
      description: The new session's URL, relative to the server (`/sessions/{sid}`).
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
      description: The methods that the path serves, comma-separated, e.g. `GET, HEAD, PUT, DELETE`.
      required: true
      schema:
        type: string
      example: GET, HEAD, PUT, DELETE
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
    Session:
      type: object
      description: A session as the service shows it.
      additionalProperties: false
      required: [sid, data, permanent, version, created_at, updated_at, expires_at, ttl]
      properties:
        sid:
          $ref: '#/components/schemas/SessionID'
        data:
          $ref: '#/components/schemas/SessionData'
        permanent:
          type: boolean
          description: Whether the permanent lifetime applies.
        version:
          type: integer
          minimum: 1
          description: 1 at creation, plus one for every write. Also sent as `ETag`.
        created_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was created.
        updated_at:
          $ref: '#/components/schemas/Timestamp'
          description: When the session was last written (equal to `created_at` until the first replace).
        expires_at:
          $ref: '#/components/schemas/Timestamp'
          description: The instant from which the session is gone (the last write plus the lifetime, capped by the absolute lifetime).
        ttl:
          type: integer
          minimum: 0
          description: Whole seconds left until `expires_at` at the time of the response, rounded up.
    ProblemTypeURI:
      type: string
      format: uri
      description: The stable identifier of a kind of problem (see the table in the API description).
      enum:
        - https://sessiond.dev/problems/bad-request
        - https://sessiond.dev/problems/malformed-sid
        - https://sessiond.dev/problems/invalid-json
        - https://sessiond.dev/problems/invalid-utf8
        - https://sessiond.dev/problems/duplicate-key
        - https://sessiond.dev/problems/too-deep
        - https://sessiond.dev/problems/not-found
        - https://sessiond.dev/problems/session-not-found
        - https://sessiond.dev/problems/method-not-allowed
        - https://sessiond.dev/problems/body-too-large
        - https://sessiond.dev/problems/unsupported-media-type
        - https://sessiond.dev/problems/invalid-body
        - https://sessiond.dev/problems/unsupported-value
        - https://sessiond.dev/problems/internal-error
        - https://sessiond.dev/problems/store-unavailable
    Problem:
      type: object
      description: |
        An RFC 9457 problem, the body of every error response. Clients should ignore members
        they do not know: later versions may add some.
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
  responses:
    MalformedSID:
      description: '`malformed-sid`: the sid in the path is not a lowercase canonical UUID.'
      headers:
        Cache-Control:
          $ref: '#/components/headers/CacheControl'
      content:
        application/problem+json:
          schema:
            allOf:
              - $ref: '#/components/schemas/Problem'
              - properties:
                  type:
                    const: https://sessiond.dev/problems/malformed-sid
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/malformed-sid
            title: Malformed session id
            status: 400
            detail: a session id is a lowercase canonical UUID such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427
    MalformedBody:
      description: |
        The body is not acceptable JSON: `invalid-json` (not JSON text), `invalid-utf8`,
        `duplicate-key` or `too-deep` (`data` nests deeper than the limit).
      headers:
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
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/duplicate-key
            title: Body has a duplicate object key
            status: 400
            detail: duplicate object key near '"a"' (line 1, column 18)
    MalformedSIDOrBody:
      description: |
        `malformed-sid` (checked first), or a body that is not acceptable JSON: `invalid-json`,
        `invalid-utf8`, `duplicate-key` or `too-deep`.
      headers:
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
                      - https://sessiond.dev/problems/invalid-json
                      - https://sessiond.dev/problems/invalid-utf8
                      - https://sessiond.dev/problems/duplicate-key
                      - https://sessiond.dev/problems/too-deep
                  status:
                    const: 400
          example:
            type: https://sessiond.dev/problems/invalid-json
            title: Body is not valid JSON
            status: 400
            detail: invalid token near 'nope' (line 1, column 4)
    NotFound:
      description: '`not-found`: the API serves nothing at this path (any path not listed in this document).'
      headers:
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
      description: '`session-not-found`: no live session has this id (it never existed, expired or was deleted).'
      headers:
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
        every method that this document does not list under a path; `Allow` names those it
        lists.
      headers:
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
            detail: 'PATCH is not allowed here; allowed: GET, HEAD, PUT, DELETE'
    BodyTooLarge:
      description: |
        `body-too-large`: the body exceeds the limit (default 65536 bytes; server setting
        `--max-body-bytes`). Checked on every endpoint before anything else; the connection is
        closed after this response (`Connection: close`).
      headers:
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
    UnsupportedMediaType:
      description: |
        `unsupported-media-type`: the request does not say `Content-Type: application/json`
        (it is missing, names another type, is repeated, or names a charset other than UTF-8).
        Only a POST without a body may leave it out.
      headers:
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
    InvalidBody:
      description: |
        Valid JSON that cannot be accepted: `invalid-body` (not an object, an unknown field, a
        field of the wrong type, `data` missing on replace) or `unsupported-value` (an integer
        beyond 64 bits, a number beyond a double, `\u0000` in an object key).
      headers:
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
    InternalError:
      description: '`internal-error`: the request failed inside sessiond; the server log has the details (never session data).'
      headers:
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
    StoreUnavailable:
      description: |
        `store-unavailable`: the session store did not answer in time (e.g. Redis is down).
        Nothing is known about the session; retry after `Retry-After` seconds. The service
        never answers 404 or falls back to another store in this case.
      headers:
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
