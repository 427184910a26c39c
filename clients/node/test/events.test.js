// Lifecycle events (GET /events) with client.events(): the Server-Sent Events parser against the
// HTML standard's rules, then the real sessiond binary: every kind of event, a stream resumed
// after its connection was cut (a relay that drops it) and after Sessiond restarted (a Missed
// notice), a stream from now, stopping with an AbortSignal, the errors that are not retried
// (events-off, a malformed ID, a wrong API key) and the API key's namespace.

import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'

import { EventStreamParser, MAX_RETRY_DELAY, retryDelay } from '../src/event-stream.js'
import {
  BadRequestError,
  EVENT_TYPES,
  LifecycleEvent,
  Missed,
  ProblemError,
  SessiondClient,
  SessiondError,
  UnauthorizedError,
  UnavailableError
} from '../src/index.js'
import { freePort, recordingFetch, startRelay, startSessiond, startSessiondAt } from '../test-support/sessiond.js'

const HANDLE = '7db8182f26b9ef9938efa0806c9f8d46'
const encoder = new TextEncoder()

function parse (chunks, lastEventId = '') {
  const parser = new EventStreamParser(lastEventId)
  const frames = []
  for (const chunk of chunks) frames.push(...parser.feed(typeof chunk === 'string' ? encoder.encode(chunk) : chunk))
  return { frames, parser }
}

const frame = (event, data, lastEventId = '') => ({ event, data, lastEventId })

describe('the event stream format', () => {
  test('an event is its id, event and data lines, then a blank line; retry in ms', () => {
    const { frames, parser } = parse(['retry: 1000\n\nid: 5-0\nevent: created\ndata: {"a":1}\n\n'])
    assert.deepEqual(frames, [frame('created', '{"a":1}', '5-0')])
    assert.equal(parser.retry, 1000)
    assert.equal(parser.lastEventId, '5-0')
  })

  test('data lines are joined by line feeds, comments ignored, one space after the colon dropped', () => {
    const { frames } = parse([': keep-alive\n\ndata: one\n: between\ndata:two\ndata:  three\ndata\n\n'])
    assert.deepEqual(frames, [frame('message', 'one\ntwo\n three\n')])
  })

  test('a field without a colon has an empty value; unknown fields are ignored', () => {
    const { frames } = parse(['event\ndata: x\nfoo: bar\nid\n\n'], '3-0')
    assert.deepEqual(frames, [frame('message', 'x', '')])
  })

  test('CRLF, LF and CR end lines, even cut anywhere', () => {
    const text = 'id: 1-0\r\nevent: created\rdata: a\n\r\nid: 2-0\revent: deleted\r\ndata: b\r\r'
    const whole = parse([text]).frames
    assert.deepEqual(whole, [frame('created', 'a', '1-0'), frame('deleted', 'b', '2-0')])
    assert.deepEqual(parse([...encoder.encode(text)].map((b) => Uint8Array.of(b))).frames, whole)
    for (let cut = 0; cut < text.length; cut++) {
      assert.deepEqual(parse([text.slice(0, cut), text.slice(cut)]).frames, whole, `cut at ${cut}`)
    }
  })

  test('UTF-8 cut inside a character, and a leading BOM', () => {
    const bytes = [0xef, 0xbb, 0xbf, ...encoder.encode('data: {"subject":"café ☕"}\n\n')]
    assert.deepEqual(parse(bytes.map((b) => Uint8Array.of(b))).frames, [frame('message', '{"subject":"café ☕"}')])
  })

  test('the last ID carries over an event without one; an empty id resets it', () => {
    const { frames, parser } = parse(['event: missed\ndata: {}\n\n', 'id: 7-1\ndata: a\n\n', 'data: b\n\n', 'id\ndata: c\n\n'], '6-0')
    assert.deepEqual(frames.map((f) => f.lastEventId), ['6-0', '7-1', '7-1', ''])
    assert.equal(parser.lastEventId, '')
  })

  test('an id with NUL is ignored; an event without data only sets the ID; an unfinished one is dropped', () => {
    const { frames, parser } = parse(['id: 1\u00002\ndata: a\n\nid: 9-9\nevent: created\n\nid: 10-0\ndata: x\n'])
    assert.deepEqual(frames, [frame('message', 'a', '')])
    assert.equal(parser.lastEventId, '9-9')
  })

  test('retry only when all digits', () => {
    assert.equal(parse(['retry: 2500\n']).parser.retry, 2500)
    for (const bad of ['retry: 1.5\n', 'retry: -1\n', 'retry: 1s\n', 'retry: ١٢\n', 'retry:\n']) {
      assert.equal(parse([bad]).parser.retry, null, bad)
    }
  })

  test('reconnecting waits retry, then doubles it for each failure, up to a cap', () => {
    assert.equal(retryDelay(1000, 0), 1000)
    assert.deepEqual([1, 2, 3].map((n) => retryDelay(1000, n)), [2000, 4000, 8000])
    assert.equal(retryDelay(1000, 50), MAX_RETRY_DELAY)
    assert.equal(retryDelay(3600000, 0), MAX_RETRY_DELAY)
    assert.equal(retryDelay(0, 0), 100)
    assert.equal(retryDelay(1000, 1, { retryAfter: 7 }), 7000)
  })
})

// The next `count` items of an events iterator, or a failure after `within` ms.
async function take (items, count, within = 20000) {
  const got = []
  const deadline = sleep(within, 'timeout', { ref: false })
  for (let i = 0; i < count; i++) {
    const next = await Promise.race([items.next(), deadline])
    if (next === 'timeout') assert.fail(`${got.length} of ${count} events within ${within} ms: ${JSON.stringify(got)}`)
    assert.equal(next.done, false)
    got.push(next.value)
  }
  return got
}

async function until (condition, what, within = 5000) {
  const deadline = Date.now() + within
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${within} ms: ${what}`)
    await sleep(20)
  }
}

const kinds = (items) => items.map((item) => [item.type, item.handle ?? null])
const subject = () => 'user-' + Math.random().toString(16).slice(2)

describe('against the real server', () => {
  test('every kind of event arrives, with its handle, subject and time; IDs only grow', { timeout: 30000 }, async () => {
    const server = await startSessiond('--max-sessions-per-subject', '1', '--sweep-interval', '1s')
    try {
      const client = new SessiondClient({ url: server.url })
      const who = subject()
      const started = Date.now()
      const a = await client.create({ data: { secret: 1 }, subject: who })
      const b = await client.rotate(a.sid)
      await client.delete(b.sid)
      const c = await client.create({ subject: who })
      await client.revokeHandle(who, c.handle)
      const d = await client.create({ subject: who })
      const e = await client.create({ subject: who }) // the subject's second: d is evicted
      const f = await client.create({ lifetime: 1 }) // expires within the sweep's second
      const items = client.events({ lastEventId: '0' })
      const got = await take(items, 10)
      await items.return()
      assert.deepEqual(kinds(got), [
        ['created', a.handle], ['rotated', b.handle], ['deleted', b.handle],
        ['created', c.handle], ['revoked', c.handle],
        ['created', d.handle], ['limit_evicted', d.handle], ['created', e.handle],
        ['created', f.handle], ['expired', f.handle]
      ])
      assert.deepEqual(new Set(got.map((item) => item.type)), new Set(EVENT_TYPES))
      assert.ok(got.every((item) => item instanceof LifecycleEvent))
      const ids = got.map((item) => item.id)
      assert.deepEqual([...ids].sort(), ids)
      assert.equal(new Set(ids).size, 10)
      assert.equal(got[0].subject, who)
      assert.equal(got[0].from, null)
      assert.equal(got[1].from, a.handle)
      assert.equal(got[8].subject, null)
      assert.equal(got[8].device, null)
      assert.ok(got.every((item) => item.time instanceof Date && item.time.valueOf() >= started - 1000))
      for (const s of [a, b, c, d, e, f]) assert.ok(!JSON.stringify(got.map((item) => item.raw)).includes(s.sid))
    } finally {
      await server.stop()
    }
  })

  test('without lastEventId the stream starts with the next event', { timeout: 30000 }, async () => {
    const server = await startSessiond()
    try {
      const client = new SessiondClient({ url: server.url })
      const before = await client.create()
      const items = client.events()
      const later = []
      let reading = true
      const creating = (async () => { // the stream opens at the first next(), at a time unknown here
        while (reading) {
          await sleep(300)
          if (reading) later.push((await client.create()).handle)
        }
      })()
      const [event] = await take(items, 1).finally(() => { reading = false })
      await creating
      await items.return()
      assert.ok(event instanceof LifecycleEvent)
      assert.notEqual(event.handle, before.handle)
      assert.ok(later.includes(event.handle))
    } finally {
      await server.stop()
    }
  })

  test('a cut connection is resumed from the last ID, without loss or duplicate', { timeout: 30000 }, async () => {
    const server = await startSessiond()
    const relay = await startRelay(server.port)
    try {
      const recorded = recordingFetch()
      const client = new SessiondClient({ url: relay.url, fetch: recorded })
      const direct = new SessiondClient({ url: server.url })
      const made = []
      for (let i = 0; i < 3; i++) made.push((await direct.create()).handle)
      const items = client.events({ lastEventId: '0' })
      const got = await take(items, 3)
      relay.cut()
      for (let i = 0; i < 2; i++) made.push((await direct.create()).handle) // while the stream is down
      const cutAt = Date.now()
      got.push(...await take(items, 2))
      assert.ok(Date.now() - cutAt >= 900, 'the server\'s "retry: 1000" was waited')
      made.push((await direct.create()).handle) // and the resumed stream goes on live
      got.push(...await take(items, 1))
      await items.return()
      assert.deepEqual(got.map((item) => item.handle), made)
      const ids = got.map((item) => item.id)
      assert.equal(new Set(ids).size, 6)
      assert.deepEqual([...ids].sort(), ids)
      const calls = recorded.calls.filter((call) => call.path === '/events')
      assert.equal(calls.length, 2)
      assert.equal(calls[0].headers['last-event-id'], '0')
      assert.equal(calls[0].headers.accept, 'text/event-stream')
      assert.equal(calls[1].headers['last-event-id'], ids[2])
    } finally {
      await relay.stop()
      await server.stop()
    }
  })

  test('a restart of Sessiond is resumed with a Missed notice', { timeout: 30000 }, async () => {
    let server = await startSessiond()
    try {
      const client = new SessiondClient({ url: server.url })
      const first = await client.create()
      const items = client.events({ lastEventId: '0' })
      const [event] = await take(items, 1)
      assert.equal(event.handle, first.handle)
      await server.stop() // the stream ends cleanly; the embedded store's history goes with the process
      server = await startSessiondAt(server.port)
      const after = await client.create()
      const got = await take(items, 2)
      await items.return()
      assert.ok(got[0] instanceof Missed)
      assert.equal(got[0].type, 'missed')
      assert.equal(got[0].after, event.id)
      assert.ok(got[0].detail)
      assert.ok(got[1] instanceof LifecycleEvent)
      assert.equal(got[1].handle, after.handle)
    } finally {
      await server.stop()
    }
  })

  test('an AbortSignal ends the iteration while it waits, and the connection with it', { timeout: 30000 }, async () => {
    const server = await startSessiond()
    const relay = await startRelay(server.port)
    try {
      const client = new SessiondClient({ url: relay.url })
      const made = await client.create()
      const controller = new AbortController()
      const seen = []
      const started = Date.now()
      setTimeout(() => controller.abort(), 1000)
      for await (const item of client.events({ lastEventId: '0', signal: controller.signal })) seen.push(item.handle)
      assert.deepEqual(seen, [made.handle])
      assert.ok(Date.now() - started < 5000)
      const streams = () => relay.connections.filter((c) => c.open && c.request.startsWith('GET /events '))
      await until(() => streams().length === 0, 'the stream\'s connection is closed')
      const items = client.events({ lastEventId: '0' })
      await take(items, 1)
      assert.equal(streams().length, 1)
      await items.return() // leaving a for await loop does this
      await until(() => streams().length === 0, 'the stream\'s connection is closed after return()', 1000)
      const aborted = AbortSignal.abort()
      for await (const item of client.events({ signal: aborted })) assert.fail(`an item after abort: ${item}`)
    } finally {
      await relay.stop()
      await server.stop()
    }
  })

  test('events-off (501) and a malformed ID (400) are thrown at once, not retried', async () => {
    const server = await startSessiond('--event-history', '0')
    try {
      const client = new SessiondClient({ url: server.url })
      const started = Date.now()
      const error = await client.events().next().catch((e) => e)
      assert.ok(error instanceof ProblemError, String(error))
      assert.ok(!(error instanceof UnavailableError))
      assert.equal(error.status, 501)
      assert.equal(error.slug, 'events-off')
      assert.ok(Date.now() - started < 1000)
      const malformed = await client.events({ lastEventId: 'yesterday' }).next().catch((e) => e)
      assert.ok(malformed instanceof BadRequestError, String(malformed))
      assert.equal(malformed.slug, 'malformed-event-id')
      assert.match(malformed.message, /GET http:\/\/127\.0\.0\.1:\d+\/events/)
      await assert.rejects(client.events({ lastEventId: 0 }).next(), TypeError)
    } finally {
      await server.stop()
    }
  })

  test('a server that cannot be reached at first: UnavailableError', async () => {
    const client = new SessiondClient({ url: `http://127.0.0.1:${await freePort()}` })
    const error = await client.events().next().catch((e) => e)
    assert.ok(error instanceof UnavailableError, String(error))
    assert.ok(error instanceof SessiondError)
  })

  test('the API key is sent and opens its namespace only; none or a wrong one: UnauthorizedError', { timeout: 30000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessiond-node-'))
    const keys = { shop: 'a'.repeat(40), blog: 'b'.repeat(40) }
    const file = join(dir, 'keys.txt')
    writeFileSync(file, `shop:${keys.shop}\nblog:${keys.blog}\n`)
    chmodSync(file, 0o600)
    const server = await startSessiond('--api-keys-file', file)
    try {
      for (const namespace of ['shop', 'blog']) {
        const recorded = recordingFetch()
        const client = new SessiondClient({ url: server.url, apiKey: keys[namespace], fetch: recorded })
        const made = await client.create()
        const items = client.events({ lastEventId: '0' })
        const [event] = await take(items, 1)
        await items.return()
        assert.equal(event.handle, made.handle)
        assert.equal(recorded.calls.at(-1).headers.authorization, `Bearer ${keys[namespace]}`)
      }
      for (const apiKey of [null, 'c'.repeat(40)]) {
        const error = await new SessiondClient({ url: server.url, apiKey }).events().next().catch((e) => e)
        assert.ok(error instanceof UnauthorizedError, String(error))
      }
    } finally {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

test('a frame that is not an event is a SessiondError, not a crash of the parser', { timeout: 30000 }, async () => {
  const { createServer } = await import('node:http')
  const stub = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(`id: 1-0\nevent: created\ndata: {"id":"1-0","type":"created","handle":"${HANDLE}","subject":null,"device":null,"time":"2026-11-29T12:48:13.261Z"}\n\nid: 2-0\nevent: created\ndata: not json\n\n`)
  })
  await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve))
  try {
    const items = new SessiondClient({ url: `http://127.0.0.1:${stub.address().port}` }).events()
    const [event] = await take(items, 1)
    assert.equal(event.handle, HANDLE)
    assert.equal(event.time.toISOString(), '2026-11-29T12:48:13.261Z')
    await assert.rejects(items.next(), SessiondError)
  } finally {
    stub.closeAllConnections()
    await new Promise((resolve) => stub.close(resolve))
  }
})
