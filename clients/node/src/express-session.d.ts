import type { EventEmitter } from 'node:events'

import type { SessiondClient } from './index.js'

/** express-session's `genid`: a random UUID version 4 (crypto.randomUUID). */
export declare function genid (req?: unknown): string

/** A session as express-session hands it to a store: its data and its cookie. */
export interface SessionData {
  cookie: {
    originalMaxAge?: number | null
    maxAge?: number | null
    expires?: Date | string | null | boolean
    [attribute: string]: unknown
  }
  [key: string]: unknown
}

export type StoreCallback<T = void> = (err?: any, value?: T) => void

export interface SessiondStoreOptions {
  /** A client of your own; else one is made from url, apiKey and timeout. */
  client?: SessiondClient
  url?: string
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null
  /** Milliseconds per call to Sessiond (default 2000). */
  timeout?: number | null
  /** The lifetime in seconds of sessions whose cookie has no maxAge (default: Sessiond's --lifetime). */
  ttl?: number | ((sess: SessionData) => number | null | undefined)
  /** Whose session it is (your user id), for listing and revoking a user's sessions; undefined leaves it, null clears it. */
  subject?: (sess: SessionData) => string | number | null | undefined
  /** Plain reads, and touch sends nothing (as connect-redis's disableTouch). */
  disableTouch?: boolean
  /** When Sessiond is unavailable, go on with an empty session that is never saved (default false: the request fails). */
  failOpen?: boolean
  /** How often a conditional write is re-applied when other requests keep writing (default 5). */
  conflictRetries?: number
  /** Where fail-open warnings and dropped writes are logged (default console). */
  logger?: { warn?: (message: string) => void, error?: (message: string) => void }
}

/** The store class sessiondStore() returns: an express-session Store. */
export interface SessiondStore extends EventEmitter {
  readonly client: SessiondClient
  ttl: SessiondStoreOptions['ttl']
  subject: SessiondStoreOptions['subject']
  disableTouch: boolean
  failOpen: boolean
  conflictRetries: number
  logger: NonNullable<SessiondStoreOptions['logger']>
  get (sid: string, callback: StoreCallback<SessionData | null>): void
  set (sid: string, session: SessionData, callback?: StoreCallback): void
  touch (sid: string, session: SessionData, callback?: StoreCallback): void
  destroy (sid: string, callback?: StoreCallback): void
  createSession (req: any, session: SessionData): any
  /** True when this session was opened while Sessiond was unavailable (failOpen): it is never saved. */
  isUnavailable (session: object): boolean
  // Inherited from express-session's Store:
  regenerate (req: any, callback: (err?: any) => void): void
  load (sid: string, callback: (err?: any, session?: any) => void): void
}

export interface SessiondStoreClass {
  new (options?: SessiondStoreOptions): SessiondStore
}

/**
 * A store class made from the app's express-session (the module, or its Store class):
 * `const SessiondStore = sessiondStore(session)`.
 */
export declare function sessiondStore (session: { Store: new (...args: any[]) => any } | (new (...args: any[]) => any)): SessiondStoreClass

export default sessiondStore
