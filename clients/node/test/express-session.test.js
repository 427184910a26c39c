// The store driven as express-session 1.18 drives it (load, regenerate, save, touch, destroy),
// in a real Express app (Debian's node-express) served over HTTP, against the real sessiond.
// express-session itself cannot be installed offline: test-support/express-session.js is a
// stand-in that makes the same store calls (see its header).

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import sessiondStore, { genid } from '../src/express-session.js'
import { SessiondClient, SessionNotFoundError, UnavailableError, newSid } from '../src/index.js'
import session, { Session } from '../test-support/express-session.js'
import { cookieSignature as signature, express } from '../test-support/node-modules.js'
import { recordingFetch, startSessiond } from '../test-support/sessiond.js'

const SECRET = 'a secret for the tests'
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const SessiondStore = sessiondStore(session)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let server
let admin // reads Sessiond directly, beside the app
const servers = []

before(async () => {
  server = await startSessiond()
  admin = new SessiondClient({ url: server.url })
})

after(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve))
  await server?.stop()
})

/** A barrier per name: the first `count` arrivals wait until all have come. */
function barriers () {
  const waiting = new Map()
  return (name, count) => new Promise((resolve) => {
    const entry = waiting.get(name) ?? { arrived: [], count }
    waiting.set(name, entry)
    entry.arrived.push(resolve)
    if (entry.arrived.length >= entry.count) {
      waiting.delete(name)
      for (const release of entry.arrived) release()
    }
  })
}

/** An Express app with the store, on a free loopback port. Returns { url, store, calls }. */
async function startApp ({ storeOptions = {}, sessionOptions = {}, sessiondUrl = server.url } = {}) {
  const fetchLog = recordingFetch()
  const store = new SessiondStore({ client: new SessiondClient({ url: sessiondUrl, fetch: fetchLog }), logger: quietLogger(), ...storeOptions })
  const wait = barriers()
  const app = express()
  app.use(express.json())
  app.use(session({ store, genid, secret: SECRET, resave: false, saveUninitialized: false, name: 'sid', ...sessionOptions }))

  const view = (req) => ({
    sid: req.sessionID,
    session: req.session ? JSON.parse(JSON.stringify(req.session)) : null,
    maxAge: req.session?.cookie.maxAge ?? null,
    unavailable: req.session ? store.isUnavailable(req.session) : null
  })
  app.get('/read', (req, res) => res.json(view(req)))
  app.get('/views', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json(view(req))
  })
  app.post('/set', (req, res) => {
    Object.assign(req.session, req.body)
    res.json(view(req))
  })
  app.post('/unset', (req, res) => {
    for (const key of req.body) delete req.session[key]
    res.json(view(req))
  })
  app.post('/edit-prefs', (req, res) => {
    req.session.prefs.theme = req.body.theme
    res.json(view(req))
  })
  app.post('/login', (req, res, next) => {
    const before = req.sessionID
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = req.body.user
      res.json({ ...view(req), before })
    })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })))
  })
  app.post('/reload', (req, res, next) => {
    req.session.reload((err) => {
      if (err) return next(err)
      req.session.afterReload = true
      res.json(view(req))
    })
  })
  app.post('/max-age', (req, res) => {
    req.session.cookie.maxAge = req.body.maxAge
    res.json(view(req))
  })
  app.post('/save-twice', (req, res, next) => {
    req.session.first = 1
    req.session.save((err) => {
      if (err) return next(err)
      req.session.second = 2
      res.json(view(req))
    })
  })
  // Waits for `count` requests at the barrier `name` (after the session was loaded), then sets.
  app.post('/together/:name/:count', async (req, res) => {
    await wait(req.params.name, Number(req.params.count))
    Object.assign(req.session, req.body)
    res.json(view(req))
  })
  const lateErrors = [] // errors express-session passes to next() after the response has started
  app.use((err, req, res, next) => {
    if (res.headersSent) return lateErrors.push(err)
    res.status(500).json({ error: err.name, message: err.message })
  })

  const listening = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  servers.push(listening)
  return { url: `http://127.0.0.1:${listening.address().port}`, store, calls: fetchLog.calls, clear: fetchLog.clear, lateErrors }
}

function quietLogger () {
  const lines = []
  return { lines, warn: (m) => lines.push(['warn', m]), error: (m) => lines.push(['error', m]) }
}

function signedCookie (sid) {
  return encodeURIComponent('s:' + signature.sign(sid, SECRET))
}

/** Real HTTP with a cookie jar for the one cookie `sid`, as a browser keeps it. */
class Browser {
  constructor (base) {
    this.base = base
    this.cookie = null // the raw value
  }

  get sid () {
    if (!this.cookie) return null
    const value = decodeURIComponent(this.cookie).slice(2)
    return value.slice(0, value.lastIndexOf('.'))
  }

  plant (sid) {
    this.cookie = signedCookie(sid)
  }

  async request (method, path, body) {
    const headers = {}
    if (this.cookie) headers.cookie = `sid=${this.cookie}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const setCookies = response.headers.getSetCookie()
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim())
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
      if (name !== 'sid') continue
      const expires = attributes.find((a) => a.toLowerCase().startsWith('expires='))
      this.cookie = expires && Date.parse(expires.slice(8)) <= Date.now() ? null : value
    }
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null, setCookies }
  }

  get (path) { return this.request('GET', path) }
  post (path, body = {}) { return this.request('POST', path, body) }
}

const summary = (calls) => calls.map((c) => `${c.method} ${c.path.replace(/[0-9a-f-]{36}/g, '{sid}')}`)

describe('express-session drives the store', () => {
  test('a new session: genid gives a uuid4, the first save creates it (PUT If-None-Match: *), the cookie names it', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 60000 } } })
    const browser = new Browser(app.url)
    const r = await browser.get('/views')
    assert.equal(r.status, 200)
    assert.match(browser.sid, UUID_V4)
    assert.equal(r.body.sid, browser.sid)
    assert.deepEqual(summary(app.calls), ['PUT /sessions/{sid}'])
    const put = app.calls[0]
    assert.equal(put.headers['if-none-match'], '*')
    assert.equal(put.path, `/sessions/${browser.sid}`)
    assert.equal(put.body.lifetime, 60, 'cookie.maxAge 60000 ms is a lifetime of 60 s')
    const stored = await admin.get(browser.sid)
    assert.equal(stored.version, 1)
    assert.equal(stored.lifetime, 60)
    // express-session keeps the cookie inside the session: its attributes are stored, its
    // expires (which changes on every request) is not.
    assert.deepEqual(stored.data, { cookie: { originalMaxAge: 60000, httpOnly: true, path: '/' }, views: 1 })
  })

  test('saveUninitialized: false: a visitor who stores nothing costs no call and gets no cookie', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    const r = await browser.get('/read')
    assert.equal(r.status, 200)
    assert.deepEqual(r.setCookies, [])
    assert.deepEqual(app.calls, [])
  })

  test('load and save: one read that slides the expiry (GET ?touch=true), then only what changed (PATCH)', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 60000 } } })
    const browser = new Browser(app.url)
    await browser.post('/set', { name: 'Ada', cart: [1, 2], prefs: { theme: 'light', lang: 'en' } })
    app.clear()
    const r = await browser.get('/views')
    assert.equal(r.body.session.views, 1)
    assert.equal(r.body.session.name, 'Ada')
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'PATCH /sessions/{sid}'])
    assert.deepEqual(app.calls[1].body, { data: { views: 1 } }, 'no cookie, no lifetime, no other key')
    assert.equal((await admin.get(browser.sid)).version, 2)

    app.clear()
    await browser.post('/unset', ['cart'])
    assert.deepEqual(app.calls[1].body, { data: { cart: null } }, 'a removed key is null in the merge patch')
    app.clear()
    await browser.post('/edit-prefs', { theme: 'dark' })
    assert.deepEqual(app.calls[1].body, { data: { prefs: { theme: 'dark' } } }, 'a nested change sends only that member')
    assert.deepEqual((await admin.get(browser.sid)).data.prefs, { theme: 'dark', lang: 'en' })
  })

  test('a null value (which a merge patch cannot store): PUT If-Match, re-applied when another request wrote in between', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { a: 1, b: 2 })
    const stored = await admin.get(browser.sid)
    app.clear()
    const request = browser.post('/together/null/2', { a: null })
    await sleep(200) // the request has read the session and waits
    await admin.patch(browser.sid, { data: { other: 'kept' } }) // another writer, another key
    await fetch(`${app.url}/together/null/2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    const r = await request
    assert.equal(r.status, 200)
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'PUT /sessions/{sid}', 'GET /sessions/{sid}', 'PUT /sessions/{sid}'])
    assert.equal(app.calls[1].headers['if-match'], `"${stored.version}"`, 'on the version it read: 412')
    assert.equal(app.calls[3].headers['if-match'], `"${stored.version + 1}"`, 'again on the current version')
    assert.deepEqual(app.calls[3].body.data, { cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, a: null, b: 2, other: 'kept' })
    const after = await admin.get(browser.sid)
    assert.equal(after.data.a, null)
    assert.equal(after.data.other, 'kept')
    assert.equal(after.data.b, 2)
  })

  test('touch: a request that changes nothing writes nothing, its read slid the expiry (version unchanged)', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 100000 } } })
    const browser = new Browser(app.url)
    await browser.get('/views')
    const first = await admin.get(browser.sid)
    await sleep(1100)
    app.clear()
    const r = await browser.get('/read')
    assert.equal(r.body.session.views, 1)
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true'], 'express-session calls store.touch: nothing more to send')
    const later = await admin.get(browser.sid)
    assert.equal(later.version, first.version)
    assert.ok(later.expiresAt > first.expiresAt)
    assert.ok(r.body.maxAge > 98000 && r.body.maxAge <= 100000, 'cookie.maxAge is read back from expires_at')
  })

  test('touch with disableTouch: plain reads, and touch sends nothing; without a read, store.touch is Sessiond\'s touch', async () => {
    const app = await startApp({ storeOptions: { disableTouch: true } })
    const browser = new Browser(app.url)
    await browser.get('/views')
    app.clear()
    await browser.get('/read')
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}'])

    // store.touch on a session the store did not load (called by hand): POST /touch, no data.
    const other = await startApp()
    const s = await admin.create({ data: { cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, x: 1 } })
    const req = { sessionID: s.sid, sessionStore: other.store }
    const sess = new Session(req, { x: 1 })
    await new Promise((resolve, reject) => other.store.touch(s.sid, sess, (err) => (err ? reject(err) : resolve())))
    assert.deepEqual(summary(other.calls), ['POST /sessions/{sid}/touch'])
    assert.equal((await admin.get(s.sid)).version, 1)
  })

  test('two concurrent requests of one user, each setting a different key: both survive', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { start: true })
    const [a, b] = await Promise.all([
      browser.post('/together/pair/2', { fromA: 'a' }),
      browser.post('/together/pair/2', { fromB: 'b' })
    ])
    assert.equal(a.status, 200)
    assert.equal(b.status, 200)
    assert.equal(a.body.session.fromB, undefined, 'each request saw the session without the other key')
    const patches = app.calls.filter((c) => c.method === 'PATCH').map((c) => JSON.stringify(c.body)).sort()
    assert.deepEqual(patches, ['{"data":{"fromA":"a"}}', '{"data":{"fromB":"b"}}'], 'each sent only its own key')
    assert.equal(app.calls.filter((c) => c.method === 'PUT').length, 1, 'only the first request\'s create')
    assert.equal(b.body.session.fromA, undefined)
    const stored = await admin.get(browser.sid)
    assert.equal(stored.data.fromA, 'a')
    assert.equal(stored.data.fromB, 'b')
    assert.equal(stored.data.start, true)
    assert.deepEqual((await browser.get('/read')).body.session.fromA, 'a')
  })

  test('regenerate (login): the old session is deleted, the new genid sid is created with If-None-Match: *', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 30000 } } })
    const browser = new Browser(app.url)
    await browser.post('/set', { anonymous: 'cart' })
    const before = browser.sid
    app.clear()
    const r = await browser.post('/login', { user: 'ada' })
    assert.equal(r.status, 200)
    assert.equal(r.body.before, before)
    assert.notEqual(browser.sid, before)
    assert.match(browser.sid, UUID_V4)
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'DELETE /sessions/{sid}', 'PUT /sessions/{sid}'])
    assert.equal(app.calls[1].path, `/sessions/${before}`)
    assert.equal(app.calls[2].path, `/sessions/${browser.sid}`)
    assert.equal(app.calls[2].headers['if-none-match'], '*')
    await assert.rejects(admin.get(before), SessionNotFoundError)
    const stored = await admin.get(browser.sid)
    assert.equal(stored.data.user, 'ada')
    assert.equal(stored.data.anonymous, undefined, 'regenerate gives an empty session, as express-session does')
    assert.equal(stored.lifetime, 30)
  })

  test('destroy (logout): DELETE; the old cookie then gets a new empty session, never the old one back', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { user: 'ada' })
    const old = browser.sid
    app.clear()
    const r = await browser.post('/logout')
    assert.equal(r.status, 200)
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'DELETE /sessions/{sid}'])
    await assert.rejects(admin.get(old), SessionNotFoundError)
    const next = await browser.get('/read')
    assert.equal(next.body.session.user, undefined)
    assert.notEqual(next.body.sid, old)
    await assert.rejects(admin.get(old), SessionNotFoundError)
  })

  test('a request that saves after the user logged out elsewhere does not bring the session back', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { user: 'ada' })
    const sid = browser.sid
    const slow = browser.post('/together/logout-race/2', { late: 'write' })
    await sleep(200) // the slow request has loaded the session and waits
    await admin.delete(sid) // logout from another tab or device
    const release = fetch(`${app.url}/together/logout-race/2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    const [r] = await Promise.all([slow, release])
    assert.equal(r.status, 200)
    assert.deepEqual(summary(app.calls).slice(-1), ['PATCH /sessions/{sid}'], 'the late write was tried (404) and nothing else')
    assert.deepEqual(app.lateErrors, [])
    await assert.rejects(admin.get(sid), SessionNotFoundError)
  })

  test('cookie.maxAge is the lifetime: ceil(maxAge / 1000); set in a request, written without a data change', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 1500 } } })
    const browser = new Browser(app.url)
    await browser.get('/views')
    assert.equal((await admin.get(browser.sid)).lifetime, 2)
    app.clear()
    await browser.post('/max-age', { maxAge: 3600000 }) // "remember me"
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'PATCH /sessions/{sid}'])
    assert.deepEqual(app.calls[1].body, { data: { cookie: { originalMaxAge: 3600000 } }, lifetime: 3600 })
    const stored = await admin.get(browser.sid)
    assert.equal(stored.lifetime, 3600)
    assert.equal(stored.data.views, 1)
  })

  test('a browser-session cookie (no maxAge) gives no lifetime (Sessiond\'s own), or the ttl option', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    const r = await browser.get('/views')
    assert.ok(!r.setCookies[0].includes('Expires'), 'a browser-session cookie')
    const stored = await admin.get(browser.sid)
    assert.equal(stored.lifetime, null)
    assert.ok(stored.ttl > 86000)

    const withTtl = await startApp({ storeOptions: { ttl: 900 } })
    const b2 = new Browser(withTtl.url)
    await b2.get('/views')
    assert.equal((await admin.get(b2.sid)).lifetime, 900)
  })

  test('the lifetime is real: once it has passed, the cookie gets a new session', async () => {
    const app = await startApp({ sessionOptions: { cookie: { maxAge: 1000 } } })
    const browser = new Browser(app.url)
    await browser.get('/views')
    const sid = browser.sid
    const expired = sid
    await sleep(1300) // the browser would have dropped the cookie; one that keeps it gets nothing
    browser.plant(expired)
    const r = await browser.get('/read')
    assert.notEqual(r.body.sid, sid)
    assert.equal(r.body.session.views, undefined)
  })

  test('the cookie\'s attributes come back from Sessiond: a rolling cookie keeps SameSite, Path, HttpOnly and its Max-Age', async () => {
    const app = await startApp({ sessionOptions: { rolling: true, cookie: { maxAge: 120000, sameSite: 'lax', path: '/' } } })
    const browser = new Browser(app.url)
    await browser.get('/views')
    const r = await browser.get('/read')
    assert.equal(r.setCookies.length, 1)
    const line = r.setCookies[0]
    assert.match(line, /SameSite=Lax/)
    assert.match(line, /HttpOnly/)
    assert.match(line, /Path=\//)
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)[1])
    assert.ok(Math.abs(expires - (Date.now() + 120000)) < 5000)
  })

  test('a cookie naming no session: a new session under a new genid id, never the cookie\'s (no fixation)', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    const planted = newSid()
    browser.plant(planted)
    const r = await browser.post('/set', { user: 'victim' })
    assert.notEqual(browser.sid, planted)
    assert.equal(r.body.sid, browser.sid)
    await assert.rejects(admin.get(planted), SessionNotFoundError)
    assert.equal((await admin.get(browser.sid)).data.user, 'victim')

    // An id of another store (express-session's default uid-safe ids): never sent to Sessiond.
    app.clear()
    browser.plant('zR8xN1d4v2lQp0c9bB3fYk1m7sT6uW5e')
    await browser.post('/set', { user: 'x' })
    assert.deepEqual(summary(app.calls), ['PUT /sessions/{sid}'])
  })

  test('reload: the session is read again; the save after it sends only what changed', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { a: 1 })
    await admin.patch(browser.sid, { data: { b: 2 } })
    app.clear()
    const r = await browser.post('/reload')
    assert.equal(r.body.session.b, 2)
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true', 'GET /sessions/{sid}?touch=true', 'PATCH /sessions/{sid}'])
    assert.deepEqual(app.calls[2].body, { data: { afterReload: true } })
  })

  test('an explicit save() then the end of the request: created once, then patched with the rest', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    const r = await browser.post('/save-twice')
    assert.equal(r.status, 200)
    assert.deepEqual(summary(app.calls), ['PUT /sessions/{sid}', 'PATCH /sessions/{sid}'])
    assert.deepEqual(app.calls[1].body, { data: { second: 2 } })
    const stored = await admin.get(browser.sid)
    assert.equal(stored.data.first, 1)
    assert.equal(stored.data.second, 2)
  })

  test('the subject option lists sessions under the user, so the client can log them out everywhere', async () => {
    const app = await startApp({ storeOptions: { subject: (sess) => sess.user } })
    const phone = new Browser(app.url)
    const laptop = new Browser(app.url)
    await phone.post('/login', { user: 'grace' })
    await laptop.post('/login', { user: 'grace' })
    const listed = await admin.subjectSessions('grace')
    assert.equal(listed.length, 2)
    assert.equal(await app.store.client.revokeSubject('grace'), 2)
    assert.equal((await phone.get('/read')).body.session.user, undefined)
    assert.equal((await laptop.get('/read')).body.session.user, undefined)
  })

  test('a session written by another client (no cookie key) loads with express-session\'s default cookie', async () => {
    const app = await startApp()
    const s = await admin.create({ data: { from: 'python', save: 'a key a Session cannot hold' }, lifetime: 600 })
    const browser = new Browser(app.url)
    browser.plant(s.sid)
    const r = await browser.get('/views')
    assert.equal(r.body.session.from, 'python')
    assert.ok(r.body.maxAge > 590000 && r.body.maxAge <= 600000)
    const stored = await admin.get(s.sid)
    assert.equal(stored.data.views, 1)
    assert.equal(stored.data.save, 'a key a Session cannot hold', 'a key the Session skipped is not deleted')
    assert.equal(stored.lifetime, 600)
  })
})

describe('the Store contract', () => {
  test('get: callback(null, null) for no session, a malformed sid, or an unknown one; callbacks are async and called once', async () => {
    const app = await startApp()
    for (const sid of [newSid(), 'not-a-sid', undefined]) {
      let returned = false
      const result = await new Promise((resolve) => {
        let calls = 0
        app.store.get(sid, (...args) => {
          calls++
          const early = !returned
          setTimeout(() => resolve({ args, calls, early }), 20)
        })
        returned = true
      })
      assert.deepEqual(result.args, [null, null])
      assert.equal(result.calls, 1)
      assert.equal(result.early, false, 'never called before get returns')
    }
  })

  test('load(sid, cb): a Session made by createSession; set and destroy with their callbacks', async () => {
    const app = await startApp()
    const browser = new Browser(app.url)
    await browser.post('/set', { a: 1 })
    const loaded = await new Promise((resolve, reject) => app.store.load(browser.sid, (err, s) => (err ? reject(err) : resolve(s))))
    assert.ok(loaded instanceof Session)
    assert.equal(loaded.id, browser.sid)
    assert.equal(loaded.a, 1)
    loaded.b = 2
    await new Promise((resolve, reject) => app.store.set(loaded.id, loaded, (err) => (err ? reject(err) : resolve())))
    assert.deepEqual(app.calls.at(-1).body, { data: { b: 2 } })
    await new Promise((resolve, reject) => app.store.destroy(loaded.id, (err) => (err ? reject(err) : resolve())))
    await assert.rejects(admin.get(loaded.id), SessionNotFoundError)
    // destroy of a session that is gone, or of an id that is not a sid: fine too
    await new Promise((resolve, reject) => app.store.destroy(loaded.id, (err) => (err ? reject(err) : resolve())))
    await new Promise((resolve, reject) => app.store.destroy('nope', (err) => (err ? reject(err) : resolve())))
    const missing = await new Promise((resolve) => app.store.load(loaded.id, (...args) => resolve(args)))
    assert.deepEqual(missing, [])
  })

  test('set with an id that is not a uuid4 (the app forgot genid): an error that says so', async () => {
    const app = await startApp({ sessionOptions: { genid: undefined } })
    const browser = new Browser(app.url)
    const r = await browser.post('/set', { a: 1 })
    // express-session passes a store error to next(err) after the response has started; the
    // body is written all the same, and nothing was stored.
    assert.equal(r.status, 200)
    assert.deepEqual(app.calls, [])
    assert.equal(app.lateErrors.length, 1)
    assert.match(app.lateErrors[0].message, /genid/)
    const error = await new Promise((resolve) => app.store.set('abc', { cookie: {} }, resolve))
    assert.ok(error instanceof TypeError)
    assert.match(error.message, /genid/)
  })
})

describe('when Sessiond is down', () => {
  async function downSessiond () {
    const doomed = await startSessiond()
    const s = await new SessiondClient({ url: doomed.url }).create({ data: { cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, user: 'ada' } })
    await doomed.stop()
    return { url: doomed.url, sid: s.sid }
  }

  test('fail closed (the default): the request fails with UnavailableError, never a new session', async () => {
    const down = await downSessiond()
    const app = await startApp({ sessiondUrl: down.url })
    const browser = new Browser(app.url)
    browser.plant(down.sid)
    const r = await browser.get('/read')
    assert.equal(r.status, 500)
    assert.equal(r.body.error, 'UnavailableError')
    assert.deepEqual(r.setCookies, [], 'the cookie is left alone')
    assert.equal(browser.sid, down.sid)
  })

  test('fail open: the request runs with an empty session that is never saved; the cookie is left alone', async () => {
    const down = await downSessiond()
    const app = await startApp({ sessiondUrl: down.url, storeOptions: { failOpen: true } })
    const browser = new Browser(app.url)
    browser.plant(down.sid)
    const r = await browser.post('/set', { changed: true })
    assert.equal(r.status, 200)
    assert.equal(r.body.sid, down.sid)
    assert.equal(r.body.unavailable, true)
    assert.deepEqual(r.setCookies, [])
    assert.deepEqual(summary(app.calls), ['GET /sessions/{sid}?touch=true'], 'no write is attempted')
    assert.ok(app.store.logger.lines.some(([level]) => level === 'warn'))
    assert.ok(app.store.logger.lines.some(([level]) => level === 'error'), 'the dropped change is logged')
    assert.ok(app.store.logger.lines.every(([, line]) => !line.includes(down.sid)), 'logs never carry a sid')
  })

  test('fail open does not hide other errors, and destroy (logout) always reports failure', async () => {
    const down = await downSessiond()
    const app = await startApp({ sessiondUrl: down.url, storeOptions: { failOpen: true } })
    const error = await new Promise((resolve) => app.store.destroy(down.sid, resolve))
    assert.ok(error instanceof UnavailableError)
  })
})
