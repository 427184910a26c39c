// examples/app.js, run with Debian's Express and the express-session stand-in against the real
// binary: counter, login (new id), devices, logout everywhere, logout.

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { createApp } from '../examples/app.js'
import { SessiondClient, SessionNotFoundError } from '../src/index.js'
import session from '../test-support/express-session.js'
import { express } from '../test-support/node-modules.js'
import { startSessiond } from '../test-support/sessiond.js'

let sessiond
let listening
let base

before(async () => {
  sessiond = await startSessiond()
  const app = createApp({ express, session, url: sessiond.url, secret: 'example secret' })
  listening = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  base = `http://127.0.0.1:${listening.address().port}`
})

after(async () => {
  if (listening) await new Promise((resolve) => listening.close(resolve))
  await sessiond?.stop()
})

function browser () {
  let cookie = null
  return {
    get sid () { return cookie && decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0] },
    async send (method, path, form) {
      const headers = {}
      if (cookie) headers.cookie = cookie
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
      const response = await fetch(base + path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined })
      for (const line of response.headers.getSetCookie()) cookie = line.split(';')[0]
      return { status: response.status, body: await response.json() }
    }
  }
}

test('the example app: counter, login with a new id, devices, logout everywhere, logout', async () => {
  const admin = new SessiondClient({ url: sessiond.url })
  const phone = browser()
  assert.deepEqual((await phone.send('GET', '/')).body, { user: null, views: 1 })
  assert.deepEqual((await phone.send('GET', '/')).body, { user: null, views: 2 })
  const anonymous = phone.sid
  assert.equal((await admin.get(anonymous)).lifetime, 1800, 'cookie.maxAge of 30 minutes')

  assert.deepEqual((await phone.send('POST', '/login', { user: 'ada' })).body, { user: 'ada' })
  assert.notEqual(phone.sid, anonymous)
  await assert.rejects(admin.get(anonymous), SessionNotFoundError)
  assert.deepEqual((await phone.send('GET', '/')).body, { user: 'ada', views: 1 })

  const laptop = browser()
  await laptop.send('POST', '/login', { user: 'ada' })
  const devices = (await laptop.send('GET', '/devices')).body
  assert.equal(devices.length, 2)

  assert.deepEqual((await laptop.send('POST', '/logout-everywhere')).body, { revoked: 2 })
  assert.deepEqual((await phone.send('GET', '/')).body, { user: null, views: 1 })
  await phone.send('POST', '/login', { user: 'ada' })
  const sid = phone.sid
  assert.deepEqual((await phone.send('POST', '/logout')).body, { user: null })
  await assert.rejects(admin.get(sid), SessionNotFoundError)
})
