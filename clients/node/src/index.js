// A client for the whole Sessiond API on Node's own fetch (no dependency).
//
//   import { SessiondClient, newSid } from 'sessiond'
//   const client = new SessiondClient({ url: 'http://127.0.0.1:8080', apiKey: process.env.SESSIOND_API_KEY })
//   let s = await client.create({ data: { user: 42 }, subject: 'user-42', lifetime: 3600 })
//   s = await client.patch(s.sid, { data: { cart: [1, 2], flash: null } })   // merge patch: null removes
//   s = await client.rotate(s.sid)                                            // at login: a new sid
//   await client.revokeSubject('user-42', { except: s.handle })               // log out everywhere else
//
// Every method sends one request and returns a promise. Connections are kept alive and reused
// (Node's fetch pools them); each call gives up after `timeout` ms. Errors are thrown as the
// classes of ./errors.js.

import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

import { DEFAULT_RETRY, EventStreamParser, IDLE_TIMEOUT, retryDelay } from './event-stream.js'

import {
  BadRequestError,
  NotFoundError,
  PreconditionFailedError,
  ProblemError,
  SessiondError,
  SessionExistsError,
  SessionNotFoundError,
  UnauthorizedError,
  UnavailableError,
  UnprocessableError
} from './errors.js'

export * from './errors.js'

export const VERSION = '0.1.0'

const JSON_TYPE = 'application/json'
const MERGE_PATCH_TYPE = 'application/merge-patch+json'

/** A sid as Sessiond issues it: a lowercase canonical UUID. */
export const SID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * A new session id for `create({ sid })`: a random UUID version 4 (`crypto.randomUUID()`), the
 * only form Sessiond accepts there. Pass only ids minted this way by your own code, never one
 * read from a cookie or any other part of a request: creating a session under an id the client
 * chose is session fixation.
 */
export function newSid () {
  return randomUUID()
}

/**
 * The handle Sessiond lists a session under: the first 128 bits of SHA-256 over
 * `sessiond-handle-v1:` and the sid, in hex. It names the session for revoking, and cannot be
 * turned back into the sid.
 */
export function handleFor (sid) {
  return createHash('sha256').update('sessiond-handle-v1:' + sid, 'utf8').digest('hex').slice(0, 32)
}

function timestamp (value) {
  if (typeof value !== 'string') return null
  const date = new Date(value)
  return Number.isNaN(date.valueOf()) ? null : date
}

/** A session as Sessiond returns it. */
export class Session {
  constructor (json) {
    this.sid = json.sid
    this.data = json.data ?? {}
    this.permanent = Boolean(json.permanent)
    this.subject = json.subject ?? null
    /** The session's own idle lifetime in seconds, or null: then `permanent` picks it. */
    this.lifetime = Number.isInteger(json.lifetime) ? json.lifetime : null
    this.version = Number.isInteger(json.version) ? json.version : 0
    this.createdAt = timestamp(json.created_at)
    this.updatedAt = timestamp(json.updated_at)
    this.expiresAt = timestamp(json.expires_at)
    this.ttl = Number.isInteger(json.ttl) ? json.ttl : 0
    Object.defineProperty(this, 'raw', { value: json, enumerable: false })
  }

  /** The entity tag of this version, for If-Match: `'"3"'`. */
  get etag () {
    return `"${this.version}"`
  }

  /** This session's handle in subject listings (see handleFor). */
  get handle () {
    return handleFor(this.sid)
  }
}

/** One entry of a subject's listing: a handle and times, never a sid or data. */
export class SessionSummary {
  constructor (json) {
    this.handle = json.handle
    this.permanent = Boolean(json.permanent)
    this.createdAt = timestamp(json.created_at)
    this.updatedAt = timestamp(json.updated_at)
    this.expiresAt = timestamp(json.expires_at)
    this.ttl = Number.isInteger(json.ttl) ? json.ttl : 0
  }
}

/** The kinds of lifecycle events Sessiond tells (`LifecycleEvent.type`). */
export const EVENT_TYPES = Object.freeze(['created', 'rotated', 'deleted', 'revoked', 'expired', 'limit_evicted'])

/**
 * One event of a session's life, as GET /events tells it: a handle, never a sid. `type` is one
 * of EVENT_TYPES (a later Sessiond may add kinds: they come as LifecycleEvents too); `from` is
 * the old sid's handle for `rotated` (else null); `time` a Date (for `expired`, the expiry).
 * Keep the last `id` seen to resume after it: `events({ lastEventId })`.
 */
export class LifecycleEvent {
  constructor (json) {
    this.id = json.id
    this.type = json.type
    this.handle = json.handle
    this.from = typeof json.from === 'string' ? json.from : null
    this.subject = typeof json.subject === 'string' ? json.subject : null
    this.device = json.device && typeof json.device === 'object' ? json.device : null
    this.time = timestamp(json.time)
    Object.defineProperty(this, 'raw', { value: json, enumerable: false })
  }
}

/**
 * Events after `after` (the ID the stream resumed from) are lost: they fell out of Sessiond's
 * bounded history (--event-history) before they were read, or went with a restart of the
 * server. What follows are the oldest events Sessiond holds; rebuild what was derived from them.
 */
export class Missed {
  constructor ({ after, detail = null }) {
    this.type = 'missed'
    this.after = after
    this.detail = detail
  }
}

function itemOf (frame) {
  let body = null
  try {
    body = JSON.parse(frame.data)
  } catch {}
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SessiondError(`Sessiond sent an event whose data is not a JSON object: ${JSON.stringify(frame.data.slice(0, 200))}`)
  }
  if (frame.event === 'missed') {
    return new Missed({
      after: typeof body.after === 'string' ? body.after : frame.lastEventId,
      detail: typeof body.detail === 'string' ? body.detail : null
    })
  }
  const event = new LifecycleEvent({ id: frame.lastEventId, type: frame.event, ...body })
  if (typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.handle !== 'string' || event.time === null) {
    throw new SessiondError(`Sessiond sent an event that is not a lifecycle event: ${frame.data.slice(0, 200)}`)
  }
  return event
}

// Whether reconnecting may help: Sessiond could not be used (refused or dropped, no answer in
// time, 502/503/504) or failed (500). A request it refused (400, 401) or a server that records
// no events (501 events-off) would fail again.
function isTransient (error) {
  return error instanceof UnavailableError || (error instanceof ProblemError && error.status >= 500 && error.status !== 501)
}

// Waits, or returns early (false) when the signal is aborted.
async function pause (ms, signal) {
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch (error) {
    if (signal?.aborted) return false
    throw error
  }
}

function formatIfMatch (value) {
  if (Number.isInteger(value) && value >= 0) return `"${value}"`
  if (typeof value === 'string') {
    if (value === '*' || value.startsWith('"') || value.startsWith('W/')) return value
    if (/^[0-9]+$/.test(value)) return `"${value}"`
  }
  if (Array.isArray(value) && value.length > 0) return value.map(formatIfMatch).join(', ')
  throw new TypeError(`ifMatch takes a version (integer), "*", an entity tag or a list of versions, not ${JSON.stringify(value)}`)
}

function checkLifetime (value) {
  if (value === undefined || value === null) return value
  if (!Number.isInteger(value)) {
    throw new TypeError(`lifetime must be whole seconds (an integer) or null, not ${JSON.stringify(value)}`)
  }
  return value
}

function segment (value) {
  if (typeof value !== 'string') throw new TypeError(`expected a string, not ${typeof value}`)
  return encodeURIComponent(value)
}

// Error messages name the route, never a sid (a sid in a log is a session to take over) nor a
// subject.
function route (path) {
  return path.split('?')[0]
    .replace(/\/sessions\/[^/]+/, '/sessions/{sid}')
    .replace(/\/subjects\/[^/]+/, '/subjects/{subject}')
}

function retryAfter (value) {
  if (value == null || value === '') return null
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

function headersObject (headers) {
  const result = {}
  for (const [name, value] of headers) result[name] = value
  return result
}

/**
 * A client for one Sessiond service.
 *
 * Options: `url` (default http://127.0.0.1:8080; a path prefix is kept), `apiKey` (sent as
 * `Authorization: Bearer <apiKey>`), `timeout` (ms for the whole call, answer included; 2000 by
 * default, 0 or null for none), `fetch` (a fetch function to use instead of the global one),
 * `userAgent`.
 */
export class SessiondClient {
  #fetch
  #headers

  constructor ({ url = 'http://127.0.0.1:8080', apiKey = null, timeout = 2000, fetch = globalThis.fetch, userAgent } = {}) {
    let parsed
    try {
      parsed = new URL(url)
    } catch {
      throw new TypeError(`Sessiond URL must be http:// or https:// with a host: ${JSON.stringify(url)}`)
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
      throw new TypeError(`Sessiond URL must be http:// or https:// with a host: ${JSON.stringify(url)}`)
    }
    if (typeof fetch !== 'function') throw new TypeError('no fetch function: Node 18 or later has one')
    if (timeout != null && (typeof timeout !== 'number' || timeout < 0)) {
      throw new TypeError('timeout must be milliseconds (a number >= 0) or null')
    }
    this.url = String(url).replace(/\/+$/, '')
    this.timeout = timeout || null
    this.#fetch = fetch
    this.#headers = {
      accept: 'application/json, application/problem+json',
      'user-agent': userAgent || `sessiond-node/${VERSION}`
    }
    if (apiKey) this.#headers.authorization = `Bearer ${apiKey}`
  }

  // MARK: sessions

  /**
   * A new session at version 1. Without `sid`: POST /sessions, the service picks the sid. With
   * `sid` (from newSid(), never from a request): PUT /sessions/{sid} with If-None-Match: *,
   * SessionExistsError when a live session has it.
   */
  async create ({ data, permanent = false, subject = null, lifetime = null, sid } = {}) {
    const body = {}
    if (data !== undefined || sid !== undefined) body.data = data ?? {}
    body.permanent = Boolean(permanent)
    if (subject != null) body.subject = subject
    if (checkLifetime(lifetime) != null) body.lifetime = lifetime
    if (sid === undefined) {
      return new Session(await this.#request('POST', '/sessions', { body, contentType: JSON_TYPE }))
    }
    return new Session(await this.#request('PUT', `/sessions/${segment(sid)}`, { body, contentType: JSON_TYPE, ifNoneMatch: '*' }))
  }

  /** GET /sessions/{sid}; with `touch: true` the read also slides the expiry (no write). */
  async get (sid, { touch = false } = {}) {
    return new Session(await this.#request('GET', `/sessions/${segment(sid)}` + (touch ? '?touch=true' : '')))
  }

  /**
   * PUT /sessions/{sid}: replaces data, permanent, subject and lifetime whole (what is left out
   * is reset). With `ifMatch` it applies only at that version, else PreconditionFailedError. It
   * never creates a session (SessionNotFoundError): see create({ sid }).
   */
  async replace (sid, { data, permanent = false, subject = null, lifetime = null } = {}, { ifMatch } = {}) {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError('replace needs data: an object')
    const body = { data, permanent: Boolean(permanent), subject }
    if (checkLifetime(lifetime) != null) body.lifetime = lifetime
    return new Session(await this.#request('PUT', `/sessions/${segment(sid)}`, { body, contentType: JSON_TYPE, ifMatch }))
  }

  /**
   * PATCH /sessions/{sid} with an RFC 7396 merge patch of the resource, applied atomically:
   * `{ data: { cart: [1], flash: null } }` merges into data (null removes a key), `permanent`
   * switches the lifetime, `subject` sets it (null clears), `lifetime` sets the session's own
   * (null clears). What the patch leaves out is kept.
   */
  async patch (sid, patch, { ifMatch } = {}) {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new TypeError('patch must be an object')
    checkLifetime(patch.lifetime)
    return new Session(await this.#request('PATCH', `/sessions/${segment(sid)}`, { body: patch, contentType: MERGE_PATCH_TYPE, ifMatch }))
  }

  /** DELETE /sessions/{sid}: succeeds also when the session was already gone. */
  async delete (sid, { ifMatch } = {}) {
    await this.#request('DELETE', `/sessions/${segment(sid)}`, { ifMatch })
  }

  /** POST /sessions/{sid}/touch: slides the expiry; writes nothing (same version). */
  async touch (sid, { ifMatch } = {}) {
    return new Session(await this.#request('POST', `/sessions/${segment(sid)}/touch`, { ifMatch }))
  }

  /** POST /sessions/{sid}/rotate: the same session under a new sid (returned); the old sid is gone at once. */
  async rotate (sid, { ifMatch } = {}) {
    return new Session(await this.#request('POST', `/sessions/${segment(sid)}/rotate`, { ifMatch }))
  }

  // MARK: subjects

  /** GET /subjects/{subject}/sessions: the subject's live sessions, oldest first. */
  async subjectSessions (subject) {
    const body = await this.#request('GET', `/subjects/${segment(subject)}/sessions`)
    return (body.sessions ?? []).map((entry) => new SessionSummary(entry))
  }

  /**
   * DELETE /subjects/{subject}/sessions: ends every live session of the subject ("log out
   * everywhere"), or all but the one whose handle `except` names. Returns how many were ended.
   */
  async revokeSubject (subject, { except } = {}) {
    let path = `/subjects/${segment(subject)}/sessions`
    if (except != null) path += '?except=' + encodeURIComponent(except)
    const body = await this.#request('DELETE', path)
    return Number.isInteger(body?.revoked) ? body.revoked : 0
  }

  /** DELETE /subjects/{subject}/sessions/{handle}: ends one of the subject's sessions. */
  async revokeHandle (subject, handle) {
    await this.#request('DELETE', `/subjects/${segment(subject)}/sessions/${segment(handle)}`)
  }

  // MARK: lifecycle events

  /**
   * GET /events: the namespace's session lifecycle events as they happen, for ever, as an async
   * iterator of LifecycleEvent and Missed items (`for await (const item of client.events())`).
   *
   * Without `lastEventId` the stream starts with the next event; with an event's `id`, right
   * after it (`'0'`: every event Sessiond still holds). When the stream ends (Sessiond shut
   * down) or its connection breaks (or sends nothing, not even a keep-alive, for 45 s), it is
   * reopened after the server's `retry` (1 s) with Last-Event-ID set to the last ID seen, so no
   * event is skipped nor yielded twice; an attempt that fails waits twice as long as the one
   * before, up to 30 s, for as long as it takes. The first request's failure is thrown as any
   * call's (UnavailableError, a ProblemError), and so is, at any time, an answer that retrying
   * cannot change: BadRequestError (malformed-event-id), UnauthorizedError, or a ProblemError
   * of status 501 (events-off: Sessiond runs with --event-history 0, or on Redis Cluster).
   *
   * Aborting `signal` ends the iteration (the loop just ends), as does leaving the loop; either
   * closes the connection. The answer must come within the client's `timeout`.
   */
  async * events ({ lastEventId = null, signal } = {}) {
    if (lastEventId != null && typeof lastEventId !== 'string') {
      throw new TypeError(`lastEventId must be an event's id (a string) or null, not ${JSON.stringify(lastEventId)}`)
    }
    const where = `GET ${this.url}/events`
    let resume = lastEventId
    let retry = DEFAULT_RETRY
    let failures = 0
    let opened = false
    while (!signal?.aborted) {
      const controller = new AbortController()
      const stop = () => controller.abort()
      signal?.addEventListener('abort', stop, { once: true })
      try {
        let response
        try {
          response = await this.#openEvents(resume, where, controller.signal)
        } catch (error) {
          if (signal?.aborted) return
          if (!opened || !isTransient(error)) throw error
          failures += 1
          if (!await pause(retryDelay(retry, failures, error), signal)) return
          continue
        }
        opened = true
        failures = 0
        const parser = new EventStreamParser(resume ?? '')
        const reader = response.body.getReader()
        const idle = setTimeout(stop, Math.max(IDLE_TIMEOUT, this.timeout ?? 0))
        try {
          for (;;) {
            let chunk
            try {
              chunk = await reader.read()
            } catch {
              break // the connection broke, or stayed silent past IDLE_TIMEOUT, or signal
            }
            if (chunk.done) break // the stream ended: Sessiond is shutting down
            idle.refresh()
            for (const frame of parser.feed(chunk.value)) {
              resume = frame.lastEventId
              yield itemOf(frame)
            }
          }
        } finally {
          clearTimeout(idle)
        }
        if (parser.retry !== null) retry = parser.retry
      } finally {
        signal?.removeEventListener('abort', stop)
        controller.abort() // closes the connection when the loop is left
      }
      if (!await pause(retryDelay(retry, 0), signal)) return
    }
  }

  async #openEvents (lastEventId, where, signal) {
    const headers = { ...this.#headers, accept: 'text/event-stream', 'cache-control': 'no-cache' }
    if (lastEventId) headers['last-event-id'] = lastEventId
    const answer = new AbortController()
    const abort = () => answer.abort()
    signal.addEventListener('abort', abort, { once: true })
    let timedOut = false
    const timer = this.timeout ? setTimeout(() => { timedOut = true; answer.abort() }, this.timeout) : null
    let response
    try {
      response = await this.#fetch(this.url + '/events', { method: 'GET', headers, signal: answer.signal })
      if (response.status !== 200) throw problem(response, await response.text(), where)
    } catch (error) {
      if (error instanceof SessiondError) throw error
      if (timedOut) {
        throw new UnavailableError(`Sessiond did not answer in time (${this.timeout} ms): ${where}`, { cause: error })
      }
      const reason = error?.cause?.code || error?.cause?.message || error?.message
      throw new UnavailableError(`Sessiond cannot be reached: ${where}: ${reason}`, { cause: error })
    } finally {
      clearTimeout(timer)
    }
    const mediaType = (response.headers.get('content-type') || '').split(';')[0].trim().toLowerCase()
    if (mediaType !== 'text/event-stream') {
      answer.abort()
      throw new SessiondError(`Sessiond answered 200 with ${mediaType || 'no media type'}, not an event stream: ${where}`)
    }
    return response
  }

  // MARK: operations

  /** GET /readyz: true when the service and its store answer, false otherwise (never throws). */
  async ready () {
    try {
      await this.#request('GET', '/readyz', { parse: false })
      return true
    } catch (error) {
      if (error instanceof SessiondError) return false
      throw error
    }
  }

  // MARK: HTTP

  async #request (method, path, { body, contentType, ifMatch, ifNoneMatch, parse = true } = {}) {
    const headers = { ...this.#headers }
    if (ifMatch !== undefined && ifMatch !== null) headers['if-match'] = formatIfMatch(ifMatch)
    if (ifNoneMatch !== undefined) headers['if-none-match'] = ifNoneMatch
    let payload
    if (body !== undefined) {
      payload = JSON.stringify(body)
      headers['content-type'] = contentType || JSON_TYPE
    }
    const where = `${method} ${this.url}${route(path)}`
    let response
    let text
    try {
      response = await this.#fetch(this.url + path, {
        method,
        headers,
        body: payload,
        signal: this.timeout ? AbortSignal.timeout(this.timeout) : undefined
      })
      text = await response.text()
    } catch (error) {
      if (error?.name === 'TimeoutError' || error?.name === 'AbortError') {
        throw new UnavailableError(`Sessiond did not answer in time (${this.timeout} ms): ${where}`, { cause: error })
      }
      const reason = error?.cause?.code || error?.cause?.message || error?.message
      throw new UnavailableError(`Sessiond cannot be reached: ${where}: ${reason}`, { cause: error })
    }
    if (response.status >= 200 && response.status < 300) {
      if (!parse || response.status === 204 || text === '') return null
      try {
        return JSON.parse(text)
      } catch (error) {
        throw new SessiondError(`Sessiond answered ${response.status} with a body that is not JSON: ${where}`, { cause: error })
      }
    }
    throw problem(response, text, where)
  }
}

function problem (response, text, where) {
  const { status } = response
  let body = {}
  if ((response.headers.get('content-type') || '').includes('json')) {
    try {
      const parsed = JSON.parse(text)
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed
    } catch {}
  }
  const type = typeof body.type === 'string' ? body.type : null
  const title = typeof body.title === 'string' ? body.title : (response.statusText || null)
  let detail = typeof body.detail === 'string' ? body.detail : null
  if (Object.keys(body).length === 0) detail = text.trim().slice(0, 200) || null
  const headers = headersObject(response.headers)
  if (status === 502 || status === 503 || status === 504) {
    const error = new UnavailableError(`${where}: ${status} ${title || 'unavailable'}${detail ? ': ' + detail : ''}`, {
      status, type, title, detail, body, headers, retryAfter: retryAfter(response.headers.get('retry-after'))
    })
    return error
  }
  const slug = type && type.startsWith('https://sessiond.dev/problems/') ? type.slice('https://sessiond.dev/problems/'.length) : null
  let Class = ProblemError
  if (status === 400) Class = BadRequestError
  else if (status === 401) Class = UnauthorizedError
  else if (status === 404) Class = slug === 'session-not-found' ? SessionNotFoundError : NotFoundError
  else if (status === 412) Class = slug === 'session-exists' ? SessionExistsError : PreconditionFailedError
  else if (status === 422) Class = UnprocessableError
  return new Class({ status, type, title, detail, body, headers, where })
}
