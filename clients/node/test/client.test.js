// The client against the real sessiond binary: every call and every error.

import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import {
  BadRequestError,
  handleFor,
  newSid,
  NotFoundError,
  PreconditionFailedError,
  ProblemError,
  Session,
  SessiondClient,
  SessiondError,
  SessionExistsError,
  SessionNotFoundError,
  UnauthorizedError,
  UnavailableError,
  UnprocessableError
} from '../src/index.js'
import { recordingFetch, startSessiond, startSilentServer } from '../test-support/sessiond.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const DAY = 86400

let server
let client
let fetchLog

before(async () => {
  server = await startSessiond()
  fetchLog = recordingFetch()
  client = new SessiondClient({ url: server.url, fetch: fetchLog })
})

after(async () => {
  await server?.stop()
})

describe('sessions', () => {
  test('create (POST): the service picks the sid; version 1, times as Dates, ttl, etag, handle', async () => {
    const before = Date.now()
    const s = await client.create({ data: { user: 42, cart: [1, 2] }, subject: 'user-42' })
    assert.ok(s instanceof Session)
    assert.match(s.sid, /^[0-9a-f-]{36}$/)
    assert.deepEqual(s.data, { user: 42, cart: [1, 2] })
    assert.equal(s.permanent, false)
    assert.equal(s.subject, 'user-42')
    assert.equal(s.lifetime, null)
    assert.equal(s.version, 1)
    assert.equal(s.etag, '"1"')
    assert.equal(s.handle, handleFor(s.sid))
    assert.ok(s.createdAt instanceof Date && s.createdAt.valueOf() >= before - 1000)
    assert.ok(s.expiresAt.valueOf() - s.createdAt.valueOf() === DAY * 1000)
    assert.ok(s.ttl > DAY - 5 && s.ttl <= DAY)
    assert.equal(s.raw.sid, s.sid)
    const call = fetchLog.calls.at(-1)
    assert.equal(call.method, 'POST')
    assert.equal(call.path, '/sessions')
    assert.equal(call.headers['content-type'], 'application/json')
  })

  test('create without arguments: an empty, not permanent session; permanent: 31 days', async () => {
    const s = await client.create()
    assert.deepEqual(s.data, {})
    const p = await client.create({ permanent: true })
    assert.equal(p.permanent, true)
    assert.ok(p.ttl > 31 * DAY - 5)
  })

  test('create({ sid }): PUT with If-None-Match: * under an app-minted uuid4, with a lifetime', async () => {
    const sid = newSid()
    assert.match(sid, UUID_V4)
    const s = await client.create({ sid, data: { a: 1 }, lifetime: 300 })
    assert.equal(s.sid, sid)
    assert.equal(s.version, 1)
    assert.equal(s.lifetime, 300)
    assert.ok(s.ttl <= 300 && s.ttl > 295)
    const call = fetchLog.calls.at(-1)
    assert.equal(call.method, 'PUT')
    assert.equal(call.path, `/sessions/${sid}`)
    assert.equal(call.headers['if-none-match'], '*')
    assert.deepEqual(call.body, { data: { a: 1 }, permanent: false, lifetime: 300 })
    assert.deepEqual((await client.get(sid)).data, { a: 1 })
  })

  test('create({ sid }) of a live sid: SessionExistsError (a 412 problem), nothing changes', async () => {
    const sid = newSid()
    await client.create({ sid, data: { first: true } })
    const error = await client.create({ sid, data: { second: true } }).catch((e) => e)
    assert.ok(error instanceof SessionExistsError)
    assert.ok(error instanceof PreconditionFailedError)
    assert.ok(error instanceof ProblemError)
    assert.ok(error instanceof SessiondError)
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'SessionExistsError')
    assert.equal(error.status, 412)
    assert.equal(error.slug, 'session-exists')
    assert.equal(error.type, 'https://sessiond.dev/problems/session-exists')
    assert.equal(typeof error.detail, 'string')
    assert.ok(!error.message.includes(sid), 'error messages never carry a sid')
    assert.deepEqual((await client.get(sid)).data, { first: true })
  })

  test('create({ sid }) with an id that is not a uuid4: BadRequestError malformed-sid', async () => {
    for (const sid of ['not-a-sid', '1b4e28ba-2fa1-11d2-883f-0016d3cca427', newSid().toUpperCase()]) {
      const error = await client.create({ sid }).catch((e) => e)
      assert.ok(error instanceof BadRequestError, sid)
      assert.equal(error.status, 400)
      assert.equal(error.slug, 'malformed-sid')
    }
  })

  test('get: the session; touch: true slides the expiry and writes nothing', async () => {
    const s = await client.create({ data: { x: 1 }, lifetime: 100 })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const read = await client.get(s.sid)
    assert.deepEqual(read.data, { x: 1 })
    assert.equal(read.expiresAt.valueOf(), s.expiresAt.valueOf())
    const touched = await client.get(s.sid, { touch: true })
    assert.equal(touched.version, 1)
    assert.ok(touched.expiresAt > s.expiresAt)
    assert.equal(fetchLog.calls.at(-1).path, `/sessions/${s.sid}?touch=true`)
  })

  test('get of an unknown sid: SessionNotFoundError (404), also a NotFoundError', async () => {
    const error = await client.get(newSid()).catch((e) => e)
    assert.ok(error instanceof SessionNotFoundError)
    assert.ok(error instanceof NotFoundError)
    assert.equal(error.status, 404)
    assert.equal(error.slug, 'session-not-found')
    assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/sessions\/\{sid\}: 404/)
  })

  test('replace (PUT): the whole state, conditional on a version; 412 carries currentVersion', async () => {
    const s = await client.create({ data: { a: 1, b: 2 }, permanent: true, subject: 'u1', lifetime: 600 })
    const r = await client.replace(s.sid, { data: { c: 3 } }, { ifMatch: 1 })
    assert.deepEqual(r.data, { c: 3 })
    assert.equal(r.version, 2)
    assert.equal(r.permanent, false, 'what is left out is reset')
    assert.equal(r.subject, null)
    assert.equal(r.lifetime, null)
    assert.equal(fetchLog.calls.at(-1).headers['if-match'], '"1"')

    const error = await client.replace(s.sid, { data: { d: 4 } }, { ifMatch: s.etag }).catch((e) => e)
    assert.ok(error instanceof PreconditionFailedError)
    assert.ok(!(error instanceof SessionExistsError))
    assert.equal(error.slug, 'precondition-failed')
    assert.equal(error.currentVersion, 2)
    assert.deepEqual((await client.get(s.sid)).data, { c: 3 })

    const ok = await client.replace(s.sid, { data: { e: 5 }, lifetime: 60 }, { ifMatch: [1, 2] })
    assert.equal(ok.version, 3)
    assert.equal(ok.lifetime, 60)
    assert.equal((await client.replace(s.sid, { data: {} }, { ifMatch: '*' })).version, 4)
  })

  test('replace never creates: SessionNotFoundError', async () => {
    const error = await client.replace(newSid(), { data: {} }).catch((e) => e)
    assert.ok(error instanceof SessionNotFoundError)
  })

  test('patch: a merge patch (null removes a key), permanent, subject, lifetime set, kept and cleared', async () => {
    const s = await client.create({ data: { keep: 1, drop: 2, prefs: { theme: 'light', lang: 'en' } } })
    let p = await client.patch(s.sid, { data: { drop: null, added: [1], prefs: { theme: 'dark' } }, lifetime: 120, subject: 'u2' })
    assert.deepEqual(p.data, { keep: 1, prefs: { theme: 'dark', lang: 'en' }, added: [1] })
    assert.equal(p.lifetime, 120)
    assert.equal(p.subject, 'u2')
    assert.equal(p.version, 2)
    const call = fetchLog.calls.at(-1)
    assert.equal(call.method, 'PATCH')
    assert.equal(call.headers['content-type'], 'application/merge-patch+json')
    p = await client.patch(s.sid, { permanent: true })
    assert.equal(p.lifetime, 120, 'a patch that leaves lifetime out keeps it')
    assert.equal(p.permanent, true)
    p = await client.patch(s.sid, { lifetime: null, subject: null })
    assert.equal(p.lifetime, null)
    assert.equal(p.subject, null)
    assert.ok(p.ttl > 31 * DAY - 5, 'permanence decides again')
    const error = await client.patch(s.sid, { data: { x: 1 } }, { ifMatch: 1 }).catch((e) => e)
    assert.ok(error instanceof PreconditionFailedError)
    assert.equal(error.currentVersion, 4)
  })

  test('a lifetime beyond --max-lifetime: UnprocessableError lifetime-too-long; not whole seconds: TypeError', async () => {
    const error = await client.create({ lifetime: 400 * DAY }).catch((e) => e)
    assert.ok(error instanceof UnprocessableError)
    assert.equal(error.status, 422)
    assert.equal(error.slug, 'lifetime-too-long')
    await assert.rejects(client.create({ lifetime: 1.5 }), TypeError)
    const zero = await client.create({ lifetime: 0 }).catch((e) => e)
    assert.ok(zero instanceof UnprocessableError)
    assert.equal(zero.slug, 'invalid-body')
  })

  test('touch: slides the expiry, same version; of an unknown sid: SessionNotFoundError', async () => {
    const s = await client.create({ data: { a: 1 }, lifetime: 100 })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const t = await client.touch(s.sid)
    assert.equal(t.version, 1)
    assert.ok(t.expiresAt > s.expiresAt)
    assert.deepEqual(t.data, { a: 1 })
    assert.equal(fetchLog.calls.at(-1).path, `/sessions/${s.sid}/touch`)
    await assert.rejects(client.touch(newSid()), SessionNotFoundError)
    await assert.rejects(client.touch(s.sid, { ifMatch: 7 }), PreconditionFailedError)
  })

  test('rotate: a new sid with the same data and lifetime; the old sid is gone at once', async () => {
    const s = await client.create({ data: { cart: [1] }, lifetime: 500, subject: 'u3' })
    const r = await client.rotate(s.sid)
    assert.notEqual(r.sid, s.sid)
    assert.deepEqual(r.data, { cart: [1] })
    assert.equal(r.lifetime, 500)
    assert.equal(r.subject, 'u3')
    await assert.rejects(client.get(s.sid), SessionNotFoundError)
    await assert.rejects(client.rotate(s.sid), SessionNotFoundError)
  })

  test('delete: 204, also when already gone; afterwards 404 and no write brings it back', async () => {
    const s = await client.create({ data: { a: 1 } })
    assert.equal(await client.delete(s.sid), undefined)
    assert.equal(await client.delete(s.sid), undefined)
    await assert.rejects(client.get(s.sid), SessionNotFoundError)
    await assert.rejects(client.patch(s.sid, { data: { a: 2 } }), SessionNotFoundError)
    await assert.rejects(client.replace(s.sid, { data: {} }), SessionNotFoundError)
    await assert.rejects(client.delete(newSid(), { ifMatch: 'nonsense' }), TypeError)
  })

  test('values come back as written: unicode, nesting, big integers within 64 bits', async () => {
    const data = { name: 'café ☕', nested: { deep: [1, { two: 2 }] }, big: 9007199254740991, f: 0.1, t: true, n: null }
    const s = await client.create({ data })
    assert.deepEqual((await client.get(s.sid)).data, data)
  })
})

describe('subjects', () => {
  test('subjectSessions lists handles and times; revokeSubject with except; revokeHandle', async () => {
    const subject = 'user/42 ünïcode'
    const a = await client.create({ subject, data: {} })
    const b = await client.create({ subject, data: {}, permanent: true })
    const c = await client.create({ subject, data: {} })
    const listed = await client.subjectSessions(subject)
    assert.deepEqual(listed.map((x) => x.handle), [a.handle, b.handle, c.handle])
    assert.equal(listed[1].permanent, true)
    assert.ok(listed[0].expiresAt instanceof Date && listed[0].ttl > 0)
    assert.equal(fetchLog.calls.at(-1).path, `/subjects/${encodeURIComponent(subject)}/sessions`)
    for (const entry of listed) assert.equal(JSON.stringify(entry).includes(a.sid), false)

    await client.revokeHandle(subject, b.handle)
    await assert.rejects(client.get(b.sid), SessionNotFoundError)
    assert.equal(await client.revokeSubject(subject, { except: c.handle }), 1)
    await assert.rejects(client.get(a.sid), SessionNotFoundError)
    assert.equal((await client.get(c.sid)).sid, c.sid)
    assert.equal(await client.revokeSubject(subject), 1)
    assert.deepEqual(await client.subjectSessions(subject), [])
    assert.equal(await client.revokeSubject(subject), 0)
  })

  test('a malformed handle: BadRequestError', async () => {
    const error = await client.revokeSubject('u', { except: 'xyz' }).catch((e) => e)
    assert.ok(error instanceof BadRequestError)
    assert.equal(error.slug, 'malformed-handle')
  })
})

describe('operations and failures', () => {
  test('ready(): true when sessiond answers, false when it cannot be reached', async () => {
    assert.equal(await client.ready(), true)
    const gone = await startSessiond()
    const c = new SessiondClient({ url: gone.url })
    assert.equal(await c.ready(), true)
    await gone.stop()
    assert.equal(await c.ready(), false)
  })

  test('connection refused: UnavailableError with the cause, never a not-found', async () => {
    const gone = await startSessiond()
    await gone.stop()
    const c = new SessiondClient({ url: gone.url })
    const error = await c.get(newSid()).catch((e) => e)
    assert.ok(error instanceof UnavailableError)
    assert.ok(!(error instanceof ProblemError))
    assert.ok(error instanceof SessiondError)
    assert.equal(error.status, null)
    assert.ok(error.cause)
    assert.match(error.message, /cannot be reached: GET http:\/\/127\.0\.0\.1:\d+\/sessions\/\{sid\}: ECONNREFUSED/)
  })

  test('no answer within the timeout: UnavailableError after about that long', async () => {
    const silent = await startSilentServer()
    try {
      const c = new SessiondClient({ url: silent.url, timeout: 300 })
      const started = Date.now()
      const error = await c.patch(newSid(), { data: { a: 1 } }).catch((e) => e)
      const took = Date.now() - started
      assert.ok(error instanceof UnavailableError, String(error))
      assert.match(error.message, /did not answer in time \(300 ms\)/)
      assert.ok(took >= 250 && took < 3000, `took ${took} ms`)
      assert.equal(await c.ready(), false)
    } finally {
      await silent.stop()
    }
  })

  test('503 with Retry-After (a stub: the store being down): UnavailableError with retryAfter and the problem', async () => {
    const stub = http.createServer((req, res) => {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '2' })
      res.end(JSON.stringify({ type: 'https://sessiond.dev/problems/store-unavailable', title: 'Store unavailable', status: 503, detail: 'the store did not answer' }))
    })
    await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve))
    try {
      const c = new SessiondClient({ url: `http://127.0.0.1:${stub.address().port}` })
      const error = await c.get(newSid()).catch((e) => e)
      assert.ok(error instanceof UnavailableError)
      assert.equal(error.status, 503)
      assert.equal(error.retryAfter, 2)
      assert.equal(error.slug, 'store-unavailable')
      assert.equal(error.detail, 'the store did not answer')
      assert.equal(await c.ready(), false)
    } finally {
      stub.closeAllConnections()
      await new Promise((resolve) => stub.close(resolve))
    }
  })

  test('API keys: none or a wrong one is UnauthorizedError; the right one works; namespaces are apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessiond-node-'))
    const keyA = 'a'.repeat(40)
    const keyB = 'b'.repeat(40)
    const file = join(dir, 'keys.txt')
    writeFileSync(file, `shop:${keyA}\nadmin:${keyB}\n`)
    chmodSync(file, 0o600)
    const keyed = await startSessiond('--api-keys-file', file)
    try {
      const anonymous = new SessiondClient({ url: keyed.url })
      const error = await anonymous.create().catch((e) => e)
      assert.ok(error instanceof UnauthorizedError)
      assert.equal(error.status, 401)
      assert.equal(error.slug, 'unauthorized')
      assert.ok(error.headers['www-authenticate'])
      const wrong = new SessiondClient({ url: keyed.url, apiKey: 'c'.repeat(40) })
      await assert.rejects(wrong.create(), UnauthorizedError)

      const recorded = recordingFetch()
      const shop = new SessiondClient({ url: keyed.url, apiKey: keyA, fetch: recorded })
      const s = await shop.create({ data: { a: 1 } })
      assert.equal(recorded.calls[0].headers.authorization, `Bearer ${keyA}`)
      assert.deepEqual((await shop.get(s.sid)).data, { a: 1 })
      const admin = new SessiondClient({ url: keyed.url, apiKey: keyB })
      await assert.rejects(admin.get(s.sid), SessionNotFoundError)
    } finally {
      await keyed.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a URL with a path prefix, and bad options', async () => {
    const stub = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ sid: 'x', data: { path: req.url }, version: 1 }))
    })
    await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve))
    try {
      const c = new SessiondClient({ url: `http://127.0.0.1:${stub.address().port}/sessiond/` })
      assert.equal((await c.get('abc')).data.path, '/sessiond/sessions/abc')
    } finally {
      stub.closeAllConnections()
      await new Promise((resolve) => stub.close(resolve))
    }
    assert.throws(() => new SessiondClient({ url: 'ftp://x' }), TypeError)
    assert.throws(() => new SessiondClient({ url: 'nonsense' }), TypeError)
    assert.throws(() => new SessiondClient({ timeout: -1 }), TypeError)
  })

  test('keep-alive: sequential calls reuse one connection', async () => {
    let connections = 0
    const stub = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ sid: 'x', data: {}, version: 1 }))
    })
    stub.on('connection', () => { connections++ })
    await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve))
    try {
      const c = new SessiondClient({ url: `http://127.0.0.1:${stub.address().port}` })
      for (let i = 0; i < 20; i++) await c.get('x')
      // Node's fetch (undici) may open a second connection for the second call, then keeps
      // reusing it: 20 calls, never 20 connections.
      assert.ok(connections <= 2, `${connections} connections for 20 calls`)
    } finally {
      stub.closeAllConnections()
      await new Promise((resolve) => stub.close(resolve))
    }
  })
})
