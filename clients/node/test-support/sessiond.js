// The real sessiond binary on a free loopback port, for the tests. SESSIOND_BIN names it
// (default: the debug build of this repository); a missing binary fails the tests, loudly.

import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

export const BIN = process.env.SESSIOND_BIN || fileURLToPath(new URL('../../../.build/debug/sessiond', import.meta.url))

export function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** One sessiond process of the test's own (memory store), ready when this resolves. */
export async function startSessiond (...args) {
  return startSessiondAt(await freePort(), ...args)
}

/** The same on a given port: that of one that was stopped, for a restart. */
export async function startSessiondAt (port, ...args) {
  try {
    accessSync(BIN, constants.X_OK)
  } catch {
    throw new Error(`no sessiond binary at ${BIN} (set SESSIOND_BIN to the built binary)`)
  }
  const url = `http://127.0.0.1:${port}`
  const proc = spawn(BIN, ['--host', '127.0.0.1', '--port', String(port), '--store', 'memory', '--log-level', 'warning', ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  proc.stdout.on('data', (chunk) => { output += chunk })
  proc.stderr.on('data', (chunk) => { output += chunk })
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  let exitedEarly = null
  exited.then((status) => { exitedEarly = status })

  const deadline = Date.now() + 15000
  for (;;) {
    try {
      const response = await fetch(url + '/readyz', { signal: AbortSignal.timeout(500) })
      await response.arrayBuffer()
      if (response.status === 200) break
    } catch {}
    if (exitedEarly) throw new Error(`sessiond exited at start (${JSON.stringify(exitedEarly)}): ${output}`)
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`sessiond was not ready within 15 s: ${output}`)
    }
    await sleep(50)
  }

  return {
    url,
    port,
    proc,
    output: () => output,
    async stop () {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGCONT')
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** A TCP server on loopback that accepts connections and never answers: a hanging Sessiond. */
export async function startSilentServer () {
  const sockets = new Set()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async stop () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** A fetch that records each request (method, path, headers, parsed body) before sending it. */
export function recordingFetch () {
  const calls = []
  async function recorded (url, init = {}) {
    const { pathname, search } = new URL(url)
    calls.push({
      method: init.method || 'GET',
      path: pathname + search,
      headers: { ...(init.headers || {}) },
      body: init.body === undefined ? undefined : JSON.parse(init.body)
    })
    return fetch(url, init)
  }
  recorded.calls = calls
  recorded.clear = () => { calls.length = 0 }
  return recorded
}

/**
 * A TCP relay on loopback to a server's port that can cut every connection it carries (a network
 * that drops them): `cut()` destroys them, both ways; new connections are relayed as before.
 * `connections` lists each one relayed: the start of its latest request, and whether it is open.
 */
export async function startRelay (port) {
  const sockets = new Set()
  const connections = []
  const track = (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }
  const server = net.createServer((downstream) => {
    const upstream = net.connect(port, '127.0.0.1')
    const connection = { request: '', open: true }
    connections.push(connection)
    track(downstream)
    track(upstream)
    downstream.on('data', (chunk) => {
      const text = chunk.toString('latin1')
      if (/^[A-Z]+ \//.test(text)) connection.request = text // a keep-alive connection's next request
    })
    downstream.pipe(upstream)
    upstream.pipe(downstream)
    downstream.on('close', () => { connection.open = false; upstream.destroy() })
    upstream.on('close', () => { connection.open = false; downstream.destroy() })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    connections,
    cut () {
      for (const socket of sockets) socket.destroy()
    },
    async stop () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
