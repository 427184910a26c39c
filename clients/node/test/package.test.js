// The package as an app imports it: its exports map (by the package's own name), and the
// hand-written declarations next to each module, which name exactly what the module exports.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

function declared (file) {
  const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8')
  const names = new Set()
  for (const match of text.matchAll(/^export declare (?:class|function|const) (\w+)/gm)) names.add(match[1])
  if (/^export default /m.test(text)) names.add('default')
  for (const match of text.matchAll(/^export \* from '\.\/(\w+)\.js'/gm)) {
    for (const name of declared(`${match[1]}.d.ts`)) names.add(name)
  }
  return names
}

test('package.json: an ESM package for Node 18+, with types in its exports, that depends on nothing', () => {
  assert.equal(pkg.type, 'module')
  assert.equal(pkg.engines.node, '>=18')
  assert.equal(pkg.scripts.test, 'node --test')
  assert.equal(pkg.dependencies, undefined)
  assert.equal(pkg.peerDependencies, undefined)
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (entry === './package.json') continue
    assert.deepEqual(Object.keys(target), ['types', 'default'], `${entry}: types first, as TypeScript requires`)
    readFileSync(new URL(`../${target.types}`, import.meta.url))
    readFileSync(new URL(`../${target.default}`, import.meta.url))
  }
})

test('the exports map resolves by the package name', async () => {
  const client = await import('sessiond')
  const store = await import('sessiond/express-session')
  assert.equal(typeof client.SessiondClient, 'function')
  assert.equal(typeof store.default, 'function')
  assert.equal(store.default, store.sessiondStore)
})

for (const [module, file] of [['sessiond', 'index.d.ts'], ['sessiond/express-session', 'express-session.d.ts']]) {
  test(`${file} declares exactly what ${module} exports`, async () => {
    const runtime = new Set(Object.keys(await import(module)))
    assert.deepEqual([...declared(file)].sort(), [...runtime].sort())
  })
}

test('the store class made from a Store base has the methods its declaration lists', async () => {
  const { EventEmitter } = await import('node:events')
  const { sessiondStore } = await import('sessiond/express-session')
  class Store extends EventEmitter {}
  const SessiondStore = sessiondStore(Store)
  const store = new SessiondStore({ url: 'http://127.0.0.1:1' })
  const text = readFileSync(new URL('../src/express-session.d.ts', import.meta.url), 'utf8')
  const body = text.slice(text.indexOf('export interface SessiondStore extends'), text.indexOf('export interface SessiondStoreClass'))
  for (const [, name] of body.matchAll(/^ {2}(\w+) \(/gm)) {
    if (name === 'regenerate' || name === 'load') continue // express-session's Store gives these
    assert.equal(typeof store[name], 'function', name)
  }
  for (const [, name] of body.matchAll(/^ {2}(?:readonly )?(\w+): /gm)) {
    assert.ok(name in store, name)
  }
  assert.throws(() => sessiondStore({}), TypeError)
})
