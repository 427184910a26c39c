export * from './errors.js'

export declare const VERSION: string

/** A sid as Sessiond issues it: a lowercase canonical UUID. */
export declare const SID_PATTERN: RegExp

/** JSON as Sessiond stores it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** A new random UUID version 4 for create({ sid }). Never pass an id read from a request. */
export declare function newSid (): string

/** The handle a session is listed and revoked under (first 128 bits of SHA-256, hex). */
export declare function handleFor (sid: string): string

/** A session as Sessiond returns it. */
export declare class Session {
  constructor (json: Record<string, unknown>)
  readonly sid: string
  readonly data: JsonObject
  readonly permanent: boolean
  readonly subject: string | null
  /** The session's own idle lifetime in seconds, or null: then `permanent` picks it. */
  readonly lifetime: number | null
  readonly version: number
  readonly createdAt: Date | null
  readonly updatedAt: Date | null
  readonly expiresAt: Date | null
  /** Whole seconds left at the time of the response. */
  readonly ttl: number
  /** The JSON of the response. */
  readonly raw: Record<string, unknown>
  /** The entity tag of this version, for ifMatch: '"3"'. */
  readonly etag: string
  readonly handle: string
}

/** One entry of a subject's listing: a handle and times, never a sid or data. */
export declare class SessionSummary {
  constructor (json: Record<string, unknown>)
  readonly handle: string
  readonly permanent: boolean
  readonly createdAt: Date | null
  readonly updatedAt: Date | null
  readonly expiresAt: Date | null
  readonly ttl: number
}

/** The kinds of lifecycle events Sessiond tells. */
export declare const EVENT_TYPES: readonly ['created', 'rotated', 'deleted', 'revoked', 'expired', 'limit_evicted']
export type LifecycleEventType = typeof EVENT_TYPES[number]

/** One event of a session's life, as GET /events tells it: a handle, never a sid. */
export declare class LifecycleEvent {
  constructor (json: Record<string, unknown>)
  /** The event's ID (`<milliseconds>-<sequence>`); IDs only grow. Resume after it with events({ lastEventId }). */
  readonly id: string
  /** One of EVENT_TYPES (a later Sessiond may add kinds). */
  readonly type: LifecycleEventType | (string & {})
  /** The session's handle (for `rotated`, the new sid's). */
  readonly handle: string
  /** `rotated` only: the old sid's handle; else null. */
  readonly from: string | null
  readonly subject: string | null
  readonly device: Record<string, string> | null
  /** When it happened (for `expired`, the expiry itself). */
  readonly time: Date
  /** The event's JSON. */
  readonly raw: Record<string, unknown>
}

/**
 * Events after `after` (the ID the stream resumed from) are lost (bounded history, or a restart
 * of Sessiond); what follows are the oldest events held.
 */
export declare class Missed {
  constructor (init: { after: string, detail?: string | null })
  readonly type: 'missed'
  readonly after: string
  readonly detail: string | null
}

export interface EventsOptions {
  /** Start right after this event ID ('0': every event held); none: from the next event on. */
  lastEventId?: string | null
  /** Aborting it ends the iteration and closes the connection. */
  signal?: AbortSignal
}

/** A version, '*', an entity tag ('"3"'), or a list of versions. */
export type IfMatch = number | string | Array<number | string>

export interface ClientOptions {
  /** Sessiond's base URL; default http://127.0.0.1:8080. A path prefix is kept. */
  url?: string
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null
  /** Milliseconds for a whole call, answer included; default 2000; 0 or null: none. */
  timeout?: number | null
  /** A fetch to use instead of the global one. */
  fetch?: typeof globalThis.fetch
  userAgent?: string
}

export interface CreateOptions {
  data?: JsonObject
  permanent?: boolean
  subject?: string | null
  /** Whole seconds (>= 1, at most the server's --max-lifetime), or null for the one `permanent` picks. */
  lifetime?: number | null
  /** Create under this id (PUT with If-None-Match: *): a fresh newSid(), never one from a request. */
  sid?: string
}

export interface ReplaceBody {
  data: JsonObject
  permanent?: boolean
  subject?: string | null
  lifetime?: number | null
}

/** An RFC 7396 merge patch of the resource: what it leaves out is kept, null clears. */
export interface MergePatch {
  data?: { [key: string]: JsonValue }
  permanent?: boolean
  subject?: string | null
  lifetime?: number | null
}

export interface Conditional {
  ifMatch?: IfMatch
}

export declare class SessiondClient {
  constructor (options?: ClientOptions)
  readonly url: string
  readonly timeout: number | null
  /** POST /sessions, or with `sid` PUT /sessions/{sid} with If-None-Match: * (SessionExistsError when taken). */
  create (options?: CreateOptions): Promise<Session>
  /** GET /sessions/{sid}; `touch: true` also slides the expiry. */
  get (sid: string, options?: { touch?: boolean }): Promise<Session>
  /** PUT /sessions/{sid}: the whole writable state (what is left out is reset); never creates. */
  replace (sid: string, body: ReplaceBody, options?: Conditional): Promise<Session>
  /** PATCH /sessions/{sid} with a merge patch, applied atomically. */
  patch (sid: string, patch: MergePatch, options?: Conditional): Promise<Session>
  /** DELETE /sessions/{sid}; fine when already gone. */
  delete (sid: string, options?: Conditional): Promise<void>
  /** POST /sessions/{sid}/touch: slides the expiry, same version. */
  touch (sid: string, options?: Conditional): Promise<Session>
  /** POST /sessions/{sid}/rotate: the same session under a new sid; the old one is gone. */
  rotate (sid: string, options?: Conditional): Promise<Session>
  /** GET /subjects/{subject}/sessions, oldest first. */
  subjectSessions (subject: string): Promise<SessionSummary[]>
  /** DELETE /subjects/{subject}/sessions (all but `except`, a handle); how many were ended. */
  revokeSubject (subject: string, options?: { except?: string }): Promise<number>
  /** DELETE /subjects/{subject}/sessions/{handle}. */
  revokeHandle (subject: string, handle: string): Promise<void>
  /**
   * GET /events: lifecycle events as they happen, for ever; reconnects by itself with
   * Last-Event-ID, and throws only the first request's failure and what retrying cannot fix
   * (400, 401, 501 events-off). Tell the items apart with `instanceof Missed`.
   */
  events (options?: EventsOptions): AsyncGenerator<LifecycleEvent | Missed, void, undefined>
  /** GET /readyz: true when the service and its store answer; never throws for Sessiond's failures. */
  ready (): Promise<boolean>
}
