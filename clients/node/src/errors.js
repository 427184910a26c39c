// Errors of the Sessiond client. Every error is a SessiondError. An error answer of the service
// (an RFC 9457 problem, application/problem+json) is a ProblemError, or one of its subclasses
// chosen by status and problem type; a service that cannot be reached, does not answer in time,
// or answers 503 (502 and 504 from a proxy alike) is an UnavailableError, never a "not found".

export const PROBLEM_TYPE_PREFIX = 'https://sessiond.dev/problems/'

/** Base class of every error of this package. */
export class SessiondError extends Error {
  constructor (message, options) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * Sessiond answered with an error status and (normally) a problem body: `status`, `type` (the
 * problem type URI), `slug` (`"session-not-found"`...), `title`, `detail`, `body` (the whole
 * problem object, with extension members) and `headers`.
 */
export class ProblemError extends SessiondError {
  constructor ({ status, type, title, detail, body, headers, where } = {}) {
    const slug = typeof type === 'string' && type.startsWith(PROBLEM_TYPE_PREFIX)
      ? type.slice(PROBLEM_TYPE_PREFIX.length)
      : null
    let message = `${status} ${title || 'error'}`
    if (detail) message += `: ${detail}`
    if (slug) message += ` (${slug})`
    super(where ? `${where}: ${message}` : message)
    this.status = status
    this.type = type || 'about:blank'
    this.slug = slug
    this.title = title ?? null
    this.detail = detail ?? null
    this.body = body ?? {}
    this.headers = headers ?? {}
  }
}

/** 400: a malformed sid, subject, handle, If-Match header, query or body. */
export class BadRequestError extends ProblemError {}

/** 401 `unauthorized`: the API key is missing or wrong (Sessiond runs with API keys). */
export class UnauthorizedError extends ProblemError {}

/** 404: no such path. */
export class NotFoundError extends ProblemError {}

/** 404 `session-not-found`: no live session has this sid (never issued, expired, deleted or rotated away). */
export class SessionNotFoundError extends NotFoundError {}

/**
 * 412 `precondition-failed`: the session is live at another version than `ifMatch` named;
 * nothing was changed. `currentVersion` is the session's version now.
 */
export class PreconditionFailedError extends ProblemError {
  get currentVersion () {
    const value = this.body.current_version
    return Number.isInteger(value) ? value : null
  }
}

/**
 * 412 `session-exists`: `create({ sid })` named a sid that a live session already has; nothing
 * was changed. Mint another id (`newSid()`) and create again.
 */
export class SessionExistsError extends PreconditionFailedError {}

/** 422: well-formed JSON that is not an acceptable session (`invalid-body`, `lifetime-too-long`...). */
export class UnprocessableError extends ProblemError {}

/**
 * Sessiond could not be used: connection refused or reset, no answer within the timeout, or a
 * 503 (`store-unavailable`; 502 and 504 from a proxy). Nothing can be said about the session: it
 * was neither found nor lost. `retryAfter` is the server's hint in seconds when it sent one;
 * `status`, `type`, `slug`, `detail` and `body` are set when the service answered, and `cause`
 * is the network error when it did not. A timeout means "no answer in time", not "not applied".
 */
export class UnavailableError extends SessiondError {
  constructor (message, { status = null, type = null, title = null, detail = null, body = {}, headers = {}, retryAfter = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.status = status
    this.type = type
    this.slug = typeof type === 'string' && type.startsWith(PROBLEM_TYPE_PREFIX)
      ? type.slice(PROBLEM_TYPE_PREFIX.length)
      : null
    this.title = title
    this.detail = detail
    this.body = body
    this.headers = headers
    this.retryAfter = retryAfter
  }
}
