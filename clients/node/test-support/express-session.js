// A stand-in for express-session 1.18, which cannot be installed here (it has no Debian package
// and there is no npm registry offline). It is written for these tests, after express-session's
// documented behaviour and its source (index.js, session/store.js, session.js, cookie.js), and
// makes the same store calls with the same arguments and callback shapes, at the same points of
// a request:
//
//   - store.get(sid, cb) when the request has a signed session cookie; cb(err) with a code other
//     than ENOENT fails the request (next(err)); cb(null, null) or ENOENT: a new session
//   - store.generate(req) (installed on the store by the middleware): req.sessionID = genid(req)
//     and a new Session with a new Cookie of the middleware's cookie options
//   - store.createSession(req, sess) on load (and on session.reload)
//   - at res.end: store.destroy(sid, cb) when req.session was unset with unset: 'destroy';
//     else session.save() -> store.set(sid, session, cb) when the session should be saved
//     (changed, or resave, or new and saveUninitialized), else store.touch(sid, session, cb)
//     when the store has touch and the session came from the cookie; the headers (Set-Cookie)
//     are written before the store answers, the body after; a store error goes to next(err)
//   - session.regenerate(cb) -> store.regenerate(req, cb): store.destroy(old sid), then
//     store.generate(req), then cb(err)
//   - session.destroy(cb) -> delete req.session; store.destroy(sid, cb)
//   - "changed" is a SHA-1 of JSON.stringify(session) without its top-level cookie, as there
//   - the Store base class is an EventEmitter (util.inherits), with regenerate, load and
//     createSession; 'disconnect' and 'connect' events turn sessions off and on
//
// Left out: MemoryStore, cookie.secure 'auto' and trust proxy, the deprecation warnings, and the
// split write of the last body byte (this writes the headers first and the whole body after the
// store answers, which is what a client sees either way).

import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import util from 'node:util'

import { cookie as cookieLib, cookieSignature as signature } from './node-modules.js'

// MARK: Cookie (session/cookie.js)

export function Cookie (options) {
  this.path = '/'
  this.maxAge = null
  this.httpOnly = true
  if (options) {
    if (typeof options !== 'object') throw new TypeError('argument options must be a object')
    for (const key in options) {
      if (key !== 'data') this[key] = options[key]
    }
  }
  if (this.originalMaxAge === undefined || this.originalMaxAge === null) this.originalMaxAge = this.maxAge
}

Cookie.prototype = {
  set expires (date) {
    this._expires = date
    this.originalMaxAge = this.maxAge
  },
  get expires () {
    return this._expires
  },
  set maxAge (ms) {
    if (ms && typeof ms !== 'number' && !(ms instanceof Date)) throw new TypeError('maxAge must be a number or Date')
    this.expires = typeof ms === 'number' ? new Date(Date.now() + ms) : ms
  },
  get maxAge () {
    return this.expires instanceof Date ? this.expires.valueOf() - Date.now() : this.expires
  },
  get data () {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this._expires,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite
    }
  },
  serialize (name, val) {
    return cookieLib.serialize(name, val, this.data)
  },
  toJSON () {
    return this.data
  }
}

// MARK: Session (session/session.js)

export function Session (req, data) {
  Object.defineProperty(this, 'req', { value: req })
  Object.defineProperty(this, 'id', { value: req.sessionID })
  if (typeof data === 'object' && data !== null) {
    for (const prop in data) {
      if (!(prop in this)) this[prop] = data[prop]
    }
  }
}

function defineMethod (obj, name, fn) {
  Object.defineProperty(obj, name, { configurable: true, enumerable: false, value: fn, writable: true })
}

defineMethod(Session.prototype, 'touch', function touch () {
  return this.resetMaxAge()
})
defineMethod(Session.prototype, 'resetMaxAge', function resetMaxAge () {
  this.cookie.maxAge = this.cookie.originalMaxAge
  return this
})
defineMethod(Session.prototype, 'save', function save (fn) {
  this.req.sessionStore.set(this.id, this, fn || function () {})
  return this
})
defineMethod(Session.prototype, 'reload', function reload (fn) {
  const req = this.req
  const store = this.req.sessionStore
  store.get(this.id, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn(new Error('failed to load session'))
    store.createSession(req, sess)
    fn()
  })
  return this
})
defineMethod(Session.prototype, 'destroy', function destroy (fn) {
  delete this.req.session
  this.req.sessionStore.destroy(this.id, fn)
  return this
})
defineMethod(Session.prototype, 'regenerate', function regenerate (fn) {
  this.req.sessionStore.regenerate(this.req, fn)
  return this
})

// MARK: Store (session/store.js): a function constructor inheriting EventEmitter, as there

export function Store () {
  EventEmitter.call(this)
}
util.inherits(Store, EventEmitter)

Store.prototype.regenerate = function (req, fn) {
  const self = this
  this.destroy(req.sessionID, function (err) {
    self.generate(req)
    fn(err)
  })
}

Store.prototype.load = function (sid, fn) {
  const self = this
  this.get(sid, function (err, sess) {
    if (err) return fn(err)
    if (!sess) return fn()
    const req = { sessionID: sid, sessionStore: self }
    fn(null, self.createSession(req, sess))
  })
}

Store.prototype.createSession = function (req, sess) {
  const expires = sess.cookie.expires
  const originalMaxAge = sess.cookie.originalMaxAge
  sess.cookie = new Cookie(sess.cookie)
  if (typeof expires === 'string') sess.cookie.expires = new Date(expires)
  sess.cookie.originalMaxAge = originalMaxAge
  req.session = new Session(req, sess)
  return req.session
}

// MARK: the middleware (index.js)

const defer = setImmediate

function hash (sess) {
  const str = JSON.stringify(sess, function (key, val) {
    if (this === sess && key === 'cookie') return
    return val
  })
  return createHash('sha1').update(str, 'utf8').digest('hex')
}

function getcookie (req, name, secrets) {
  const header = req.headers.cookie
  if (!header) return undefined
  const raw = cookieLib.parse(header)[name]
  if (!raw || raw.slice(0, 2) !== 's:') return undefined
  for (const secret of secrets) {
    const value = signature.unsign(raw.slice(2), secret)
    if (value !== false) return value
  }
  return undefined
}

function setcookie (res, name, val, secret, options) {
  const data = cookieLib.serialize(name, 's:' + signature.sign(val, secret), options)
  const prev = res.getHeader('Set-Cookie') || []
  res.setHeader('Set-Cookie', Array.isArray(prev) ? prev.concat(data) : [prev, data])
}

// on-headers: run `listener` once, just before the response's headers are written.
function onHeaders (res, listener) {
  const writeHead = res.writeHead
  let fired = false
  res.writeHead = function (...args) {
    if (!fired) {
      fired = true
      listener.call(res)
    }
    return writeHead.apply(this, args)
  }
}

export function session (options = {}) {
  const cookieOptions = options.cookie || {}
  const generateId = options.genid || (() => randomBytes(24).toString('base64url'))
  const name = options.name || options.key || 'connect.sid'
  const store = options.store
  const resaveSession = options.resave === undefined ? true : options.resave
  const rollingSessions = Boolean(options.rolling)
  const saveUninitializedSession = options.saveUninitialized === undefined ? true : options.saveUninitialized
  const unsetDestroy = options.unset === 'destroy'
  let secret = options.secret
  if (!store) throw new TypeError('this stand-in has no MemoryStore: pass a store')
  if (typeof generateId !== 'function') throw new TypeError('genid option must be a function')
  if (!secret) throw new TypeError('secret option required for sessions')
  if (!Array.isArray(secret)) secret = [secret]

  store.generate = function (req) {
    req.sessionID = generateId(req)
    req.session = new Session(req)
    req.session.cookie = new Cookie(cookieOptions)
  }

  const storeImplementsTouch = typeof store.touch === 'function'
  let storeReady = true
  store.on('disconnect', () => { storeReady = false })
  store.on('connect', () => { storeReady = true })

  return function sessionMiddleware (req, res, next) {
    if (req.session) return next()
    if (!storeReady) return next()
    const originalPath = new URL(req.originalUrl || req.url, 'http://x').pathname
    if (originalPath.indexOf(cookieOptions.path || '/') !== 0) return next()

    let originalHash
    let originalId
    let savedHash
    let touched = false

    req.sessionStore = store
    const cookieId = req.sessionID = getcookie(req, name, secret)

    onHeaders(res, function () {
      if (!req.session) return
      if (!shouldSetCookie(req)) return
      if (!touched) {
        req.session.touch()
        touched = true
      }
      try {
        setcookie(res, name, req.sessionID, secret[0], req.session.cookie.data)
      } catch (err) {
        defer(next, err)
      }
    })

    const _end = res.end
    let ended = false
    res.end = function end (chunk, encoding) {
      if (ended) return false
      ended = true
      const finish = () => _end.call(res, chunk, encoding)
      // Headers (and so Set-Cookie) go out before the store answers, as with express-session.
      const writeHeaders = () => { if (!res.headersSent) res._implicitHeader() }

      if (shouldDestroy(req)) {
        writeHeaders()
        store.destroy(req.sessionID, function ondestroy (err) {
          if (err) defer(next, err)
          finish()
        })
        return true
      }
      if (!req.session) return finish()
      if (!touched) {
        req.session.touch()
        touched = true
      }
      if (shouldSave(req)) {
        writeHeaders()
        req.session.save(function onsave (err) {
          if (err) defer(next, err)
          finish()
        })
        return true
      } else if (storeImplementsTouch && shouldTouch(req)) {
        writeHeaders()
        store.touch(req.sessionID, req.session, function ontouch (err) {
          if (err) defer(next, err)
          finish()
        })
        return true
      }
      return finish()
    }

    function generate () {
      store.generate(req)
      originalId = req.sessionID
      originalHash = hash(req.session)
      wrapmethods(req.session)
    }

    function inflate (req, sess) {
      store.createSession(req, sess)
      originalId = req.sessionID
      originalHash = hash(sess)
      if (!resaveSession) savedHash = originalHash
      wrapmethods(req.session)
    }

    function rewrapmethods (sess, callback) {
      return function () {
        if (req.session !== sess) wrapmethods(req.session)
        callback.apply(this, arguments)
      }
    }

    function wrapmethods (sess) {
      const _reload = sess.reload
      const _save = sess.save
      function reload (callback) {
        _reload.call(this, rewrapmethods(this, callback))
      }
      function save () {
        savedHash = hash(this)
        _save.apply(this, arguments)
      }
      Object.defineProperty(sess, 'reload', { configurable: true, enumerable: false, value: reload, writable: true })
      Object.defineProperty(sess, 'save', { configurable: true, enumerable: false, value: save, writable: true })
    }

    function isModified (sess) {
      return originalId !== sess.id || originalHash !== hash(sess)
    }

    function isSaved (sess) {
      return originalId === sess.id && savedHash === hash(sess)
    }

    function shouldDestroy (req) {
      return req.sessionID && unsetDestroy && req.session == null
    }

    function shouldSave (req) {
      if (typeof req.sessionID !== 'string') return false
      return !saveUninitializedSession && !savedHash && cookieId !== req.sessionID
        ? isModified(req.session)
        : !isSaved(req.session)
    }

    function shouldTouch (req) {
      if (typeof req.sessionID !== 'string') return false
      return cookieId === req.sessionID && !shouldSave(req)
    }

    function shouldSetCookie (req) {
      if (typeof req.sessionID !== 'string') return false
      return cookieId !== req.sessionID
        ? saveUninitializedSession || isModified(req.session)
        : rollingSessions || (req.session.cookie.expires != null && isModified(req.session))
    }

    if (!req.sessionID) {
      generate()
      next()
      return
    }

    store.get(req.sessionID, function (err, sess) {
      if (err && err.code !== 'ENOENT') {
        next(err)
        return
      }
      try {
        if (err || !sess) generate()
        else inflate(req, sess)
      } catch (e) {
        next(e)
        return
      }
      next()
    })
  }
}

session.Store = Store
session.Cookie = Cookie
session.Session = Session

export default session
