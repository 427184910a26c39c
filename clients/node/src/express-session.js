// An express-session store that keeps sessions in Sessiond.
//
//   import session from 'express-session'
//   import sessiondStore, { genid } from 'sessiond/express-session'
//
//   const SessiondStore = sessiondStore(session)   // takes express-session (or its Store class) from the app
//   app.use(session({
//     store: new SessiondStore({ url: 'http://127.0.0.1:8080', apiKey: process.env.SESSIOND_API_KEY }),
//     genid,                                       // uuid4 ids: the first save creates with If-None-Match: *
//     secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false,
//   }))
//
// What each express-session call sends to Sessiond:
//   get      GET /sessions/{sid}?touch=true (the read slides the expiry; writes nothing)
//   set      a session this store did not load (a new one, from genid): PUT with If-None-Match: *;
//            a loaded one: only what changed since it was loaded, as one merge patch (PATCH), or
//            nothing when nothing changed
//   touch    nothing when the read already slid the expiry, else POST /sessions/{sid}/touch; a
//            changed cookie.maxAge is written (PATCH) instead
//   destroy  DELETE /sessions/{sid}
// The README explains the choices (the cookie, lifetimes, regenerate, failures).

import { randomUUID } from 'node:crypto'

import {
  BadRequestError,
  PreconditionFailedError,
  SessiondClient,
  SessionExistsError,
  SessionNotFoundError,
  SID_PATTERN,
  UnavailableError
} from './index.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * express-session's `genid` option: a random UUID version 4 (crypto.randomUUID). The store
 * creates a session under it on its first save (PUT with If-None-Match: *). express-session
 * calls it only for new sessions, never with an id from a cookie.
 */
export function genid () {
  return randomUUID()
}

/** A change that an RFC 7396 merge patch cannot say: a null to store (null means "remove"). */
class NotMergeable extends Error {}

function isPlainObject (value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function same (a, b) {
  return JSON.stringify(a) === JSON.stringify(b)
}

function hasNullMember (value) {
  if (!isPlainObject(value)) return false
  return Object.values(value).some((member) => member === null || hasNullMember(member))
}

// The merge patch that turns `old` into `neu` (both plain objects), or NotMergeable.
function mergeDiff (old, neu) {
  const patch = {}
  for (const key of Object.keys(old)) {
    if (!Object.hasOwn(neu, key)) patch[key] = null
  }
  for (const [key, value] of Object.entries(neu)) {
    if (Object.hasOwn(old, key) && same(old[key], value)) continue
    const member = memberPatch(Object.hasOwn(old, key) ? old[key] : undefined, value)
    if (member !== undefined) patch[key] = member
  }
  return patch
}

function memberPatch (old, neu) {
  if (isPlainObject(old) && isPlainObject(neu)) {
    const patch = mergeDiff(old, neu)
    return Object.keys(patch).length > 0 ? patch : undefined // only the order of keys differs
  }
  if (neu === null || hasNullMember(neu)) throw new NotMergeable()
  return neu
}

/**
 * The session as it is kept in Sessiond: the JSON express-session's stores write (values as
 * JSON.stringify gives them), with the cookie's attributes but not its `expires`, which changes
 * on every request and is read back from Sessiond's expires_at instead.
 */
function storedForm (sess) {
  const json = JSON.parse(JSON.stringify(sess))
  if (!isPlainObject(json)) throw new TypeError('a session must serialize to a JSON object')
  if (isPlainObject(json.cookie)) delete json.cookie.expires
  return json
}

/**
 * A store class for express-session, made from the app's own express-session, so this package
 * depends on nothing: `sessiondStore(session)` or `sessiondStore(session.Store)`.
 */
export function sessiondStore (session) {
  const Store = session?.Store ?? session
  if (typeof Store !== 'function') {
    throw new TypeError('sessiondStore(session) takes express-session (the module) or its Store class')
  }

  class SessiondStore extends Store {
    // What this store knows of a session object it returned (the plain object of get, then the
    // express-session Session made of it): sid, version, the stored form it was loaded or last
    // written with, lifetime, permanent, subject, whether the expiry slid in this request, and
    // whether Sessiond was unavailable (fail open). Keyed by the object, so concurrent requests
    // of one session each have their own.
    #states = new WeakMap()

    constructor (options = {}) {
      super(options)
      const {
        client, url, apiKey, timeout, ttl, subject,
        disableTouch = false, failOpen = false, conflictRetries = 5, logger = console
      } = options
      this.client = client ?? new SessiondClient({ url, apiKey, timeout })
      this.ttl = ttl
      this.subject = subject
      this.disableTouch = Boolean(disableTouch)
      this.failOpen = Boolean(failOpen)
      this.conflictRetries = conflictRetries
      this.logger = logger
    }

    /** express-session's get: callback(null, session), callback(null, null) when there is none, callback(err). */
    get (sid, callback) {
      settle(this.#get(sid), callback)
    }

    /** express-session's set: writes what changed (see the module doc); callback(err). */
    set (sid, sess, callback) {
      settle(this.#save(sid, sess, 'set').then(() => undefined), callback)
    }

    /** express-session's touch: slides the expiry, writes no data (a changed cookie.maxAge excepted). */
    touch (sid, sess, callback) {
      settle(this.#save(sid, sess, 'touch').then(() => undefined), callback)
    }

    /** express-session's destroy: DELETE (also fine when the session is gone); callback(err). */
    destroy (sid, callback) {
      settle(this.#destroy(sid), callback)
    }

    /**
     * Makes express-session's Session of what get returned (express-session calls this on load
     * and reload) and remembers what it was loaded with, so that set sends only what changed.
     */
    createSession (req, sess) {
      const loaded = this.#states.get(sess)
      const created = super.createSession(req, sess)
      if (loaded) {
        // The baseline is what the Session holds: keys it cannot hold (a key named "save" from
        // another app) are not taken as removed.
        this.#states.set(created, { ...loaded, data: loaded.unavailable ? {} : storedForm(created) })
      }
      return created
    }

    /** True when this session was made because Sessiond was unavailable (failOpen): it is never saved. */
    isUnavailable (sess) {
      return this.#states.get(sess)?.unavailable === true
    }

    // MARK: internals

    async #get (sid) {
      if (typeof sid !== 'string' || !SID_PATTERN.test(sid)) return null // never sent: not a Sessiond sid
      let resource
      try {
        resource = await this.client.get(sid, { touch: !this.disableTouch })
      } catch (error) {
        if (error instanceof SessionNotFoundError || error instanceof BadRequestError) return null
        if (error instanceof UnavailableError && this.failOpen) {
          this.logger.warn?.(`sessiond: Sessiond is unavailable, so this request runs with an empty session that will not be saved: ${error.message}`)
          const sess = { cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' } }
          this.#states.set(sess, { sid, unavailable: true })
          return sess
        }
        throw error
      }
      const sess = { ...resource.data }
      const cookie = isPlainObject(resource.data.cookie)
        ? { ...resource.data.cookie }
        // A session written by another client: express-session's default cookie.
        : { originalMaxAge: resource.lifetime != null ? resource.lifetime * 1000 : null, httpOnly: true, path: '/' }
      cookie.expires = cookie.originalMaxAge != null && resource.expiresAt ? resource.expiresAt.toISOString() : null
      sess.cookie = cookie
      this.#states.set(sess, {
        sid,
        version: resource.version,
        data: resource.data,
        lifetime: resource.lifetime,
        permanent: resource.permanent,
        subject: resource.subject,
        touched: !this.disableTouch
      })
      return sess
    }

    #lifetime (sess) {
      const ms = sess?.cookie?.originalMaxAge
      if (typeof ms === 'number' && Number.isFinite(ms)) return Math.max(1, Math.ceil(ms / 1000))
      const ttl = typeof this.ttl === 'function' ? this.ttl(sess) : this.ttl
      if (ttl == null) return null // a browser-session cookie: Sessiond's own lifetime (--lifetime)
      if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError(`ttl must be whole seconds (>= 1), not ${ttl}`)
      return ttl
    }

    #subject (sess) {
      if (typeof this.subject !== 'function') return undefined
      const value = this.subject(sess)
      if (value === undefined || value === null) return value
      return String(value)
    }

    async #save (sid, sess, mode) {
      const state = this.#states.get(sess)
      if (state?.unavailable) {
        if (mode === 'set') this.logger.error?.('sessiond: this session was opened while Sessiond was unavailable; its changes are not saved')
        return
      }
      try {
        if (!state || state.sid !== sid) {
          if (mode === 'touch') {
            if (!this.disableTouch && SID_PATTERN.test(sid)) await this.client.touch(sid)
            return
          }
          return await this.#create(sid, sess)
        }
        if (state.gone) return
        return await this.#update(sid, sess, state, mode)
      } catch (error) {
        if (error instanceof SessionNotFoundError) {
          // Deleted (logged out) or expired while this request ran: never brought back.
          if (state) state.gone = true
          return
        }
        if (error instanceof UnavailableError && this.failOpen) {
          this.logger.error?.(`sessiond: the session could not be saved, Sessiond is unavailable: ${error.message}`)
          return
        }
        throw error
      }
    }

    async #create (sid, sess) {
      if (!UUID_V4.test(sid)) {
        throw new TypeError('sessiond: a new session needs an id from genid (a random UUID version 4): pass `genid` from sessiond/express-session to session()')
      }
      const data = storedForm(sess)
      const lifetime = this.#lifetime(sess)
      const subject = this.#subject(sess)
      let resource
      try {
        resource = await this.client.create({ sid, data, lifetime, subject: subject ?? null })
      } catch (error) {
        if (!(error instanceof SessionExistsError)) throw error
        // Not one of ours (set was called on an object this store did not load): upsert, as
        // the Store contract says, by writing what differs from what is there.
        const current = await this.client.get(sid)
        const state = {
          sid,
          version: current.version,
          data: current.data,
          lifetime: current.lifetime,
          permanent: current.permanent,
          subject: current.subject,
          touched: false
        }
        this.#states.set(sess, state)
        return this.#update(sid, sess, state, 'set')
      }
      this.#states.set(sess, {
        sid,
        version: resource.version,
        data,
        lifetime: resource.lifetime,
        permanent: resource.permanent,
        subject: resource.subject,
        touched: true
      })
    }

    async #update (sid, sess, state, mode) {
      const data = storedForm(sess)
      const lifetime = this.#lifetime(sess)
      const subject = this.#subject(sess)
      const patch = {}
      let dataPatch = null
      try {
        dataPatch = mergeDiff(state.data, data)
      } catch (error) {
        if (!(error instanceof NotMergeable)) throw error
      }
      if (dataPatch && Object.keys(dataPatch).length > 0) patch.data = dataPatch
      if (lifetime !== state.lifetime) patch.lifetime = lifetime
      if (subject !== undefined && subject !== state.subject) patch.subject = subject

      let resource
      if (dataPatch === null) {
        resource = await this.#replaceChanged(sid, state, data, lifetime, subject)
      } else if (Object.keys(patch).length > 0) {
        resource = await this.client.patch(sid, patch)
      } else {
        if (!state.touched && !(mode === 'touch' && this.disableTouch)) {
          await this.client.touch(sid)
          state.touched = true
        }
        return
      }
      Object.assign(state, {
        version: resource.version,
        data, // what this session object holds now: the baseline of its next write
        lifetime: resource.lifetime,
        permanent: resource.permanent,
        subject: resource.subject,
        touched: true
      })
    }

    // A change a merge patch cannot say (a null to store): PUT with If-Match on the version this
    // request knows, the keys it changed applied to what is there; on 412 the changes are
    // applied again to the current state, so other requests' changes of other keys are kept.
    async #replaceChanged (sid, state, data, lifetime, subject) {
      const changed = new Set()
      for (const key of Object.keys(state.data)) if (!Object.hasOwn(data, key)) changed.add(key)
      for (const key of Object.keys(data)) if (!Object.hasOwn(state.data, key) || !same(state.data[key], data[key])) changed.add(key)
      let current = { version: state.version, data: state.data, permanent: state.permanent, subject: state.subject }
      for (let attempt = 0; ; attempt++) {
        const next = { ...current.data }
        for (const key of changed) {
          if (Object.hasOwn(data, key)) next[key] = data[key]
          else delete next[key]
        }
        try {
          return await this.client.replace(sid, {
            data: next,
            permanent: current.permanent,
            subject: subject !== undefined ? subject : current.subject,
            lifetime
          }, { ifMatch: current.version })
        } catch (error) {
          if (!(error instanceof PreconditionFailedError) || attempt >= this.conflictRetries) throw error
          current = await this.client.get(sid)
        }
      }
    }

    async #destroy (sid) {
      if (typeof sid !== 'string' || !SID_PATTERN.test(sid)) return // never a Sessiond session
      await this.client.delete(sid)
    }
  }

  return SessiondStore
}

// Runs a promise for an express-session callback: callback(err) or callback(null, value), once,
// outside the promise chain (an exception thrown by the callback is not taken for the store's).
function settle (promise, callback) {
  promise.then(
    (value) => { if (callback) process.nextTick(callback, null, value) },
    (error) => { if (callback) process.nextTick(callback, error) }
  )
}

export default sessiondStore
