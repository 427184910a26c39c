export declare const PROBLEM_TYPE_PREFIX: 'https://sessiond.dev/problems/'

/** An RFC 9457 problem object as Sessiond sends it, with any extension members. */
export interface ProblemBody {
  type?: string
  title?: string
  status?: number
  detail?: string
  current_version?: number
  [member: string]: unknown
}

export interface ProblemInit {
  status: number
  type?: string | null
  title?: string | null
  detail?: string | null
  body?: ProblemBody
  headers?: Record<string, string>
  where?: string
}

/** Base class of every error of this package. */
export declare class SessiondError extends Error {
  constructor (message?: string, options?: { cause?: unknown })
}

/** Sessiond answered with an error status and (normally) a problem body. */
export declare class ProblemError extends SessiondError {
  constructor (init: ProblemInit)
  /** The HTTP status. */
  readonly status: number
  /** The problem type URI; "about:blank" when the answer had none. */
  readonly type: string
  /** The last part of a Sessiond problem type ("session-not-found"), else null. */
  readonly slug: string | null
  readonly title: string | null
  readonly detail: string | null
  /** The whole problem object. */
  readonly body: ProblemBody
  /** The response's headers, names in lower case. */
  readonly headers: Record<string, string>
}

/** 400: a malformed sid, subject, handle, If-Match header, query or body. */
export declare class BadRequestError extends ProblemError {}
/** 401 unauthorized: the API key is missing or wrong. */
export declare class UnauthorizedError extends ProblemError {}
/** 404: no such path. */
export declare class NotFoundError extends ProblemError {}
/** 404 session-not-found: no live session has this sid. */
export declare class SessionNotFoundError extends NotFoundError {}
/** 412 precondition-failed: the session is live at another version; nothing changed. */
export declare class PreconditionFailedError extends ProblemError {
  /** The session's version now (the problem's current_version), or null. */
  readonly currentVersion: number | null
}
/** 412 session-exists: create({ sid }) named a sid a live session has; nothing changed. */
export declare class SessionExistsError extends PreconditionFailedError {}
/** 422: an unacceptable body (invalid-body, lifetime-too-long, data-too-large...). */
export declare class UnprocessableError extends ProblemError {}

export interface UnavailableInit {
  status?: number | null
  type?: string | null
  title?: string | null
  detail?: string | null
  body?: ProblemBody
  headers?: Record<string, string>
  retryAfter?: number | null
  cause?: unknown
}

/**
 * Sessiond could not be used: connection refused or reset, no answer within the timeout, or a
 * 503 (502 and 504 from a proxy). Never a "not found".
 */
export declare class UnavailableError extends SessiondError {
  constructor (message: string, init?: UnavailableInit)
  /** The status when the service answered (503...), null when it did not. */
  readonly status: number | null
  readonly type: string | null
  readonly slug: string | null
  readonly title: string | null
  readonly detail: string | null
  readonly body: ProblemBody
  readonly headers: Record<string, string>
  /** Seconds to wait before retrying, from Retry-After, or null. */
  readonly retryAfter: number | null
}
