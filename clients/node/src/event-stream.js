// The event stream format of the HTML standard (Server-Sent Events), as GET /events sends it,
// and the reconnection policy of SessiondClient.events. No I/O here.

/** Milliseconds to wait before reconnecting until the server says otherwise (`retry:`). */
export const DEFAULT_RETRY = 1000
/** The longest wait between two attempts to reconnect, whatever `retry:` says. */
export const MAX_RETRY_DELAY = 30000
/**
 * A stream that sends nothing for this many milliseconds (not even the keep-alive comment
 * Sessiond sends every 15 s) is taken for a dead connection, and reopened.
 */
export const IDLE_TIMEOUT = 45000

const LINE_END = /\r\n|\r|\n/

/**
 * The event stream interpretation of the HTML standard, fed bytes as they arrive, in pieces of
 * any size: UTF-8 (a leading BOM dropped), lines ended by CRLF, LF or CR, comments (`:`)
 * ignored, `field: value` with one space after the colon dropped, a field without a colon an
 * empty value, `data` lines joined by "\n", an `id` with NUL ignored, `retry` only when all
 * digits, unknown fields ignored, and an event dispatched at a blank line (none when it had no
 * `data`). One parser reads one connection: what a connection left unfinished is dropped.
 *
 * `lastEventId` starts as the ID the connection resumed from, so an event without an `id` line
 * (Sessiond's `missed`) keeps it; `retry` is the server's reconnection time in ms, or null.
 */
export class EventStreamParser {
  #decoder = new TextDecoder('utf-8') // drops a leading BOM; replaces what is not UTF-8
  #afterCR = false
  #pending = ''
  #data = []
  #event = ''
  #id

  constructor (lastEventId = '') {
    this.#id = lastEventId
    this.lastEventId = lastEventId
    this.retry = null
  }

  /** The events that `chunk` (a Uint8Array) completes, in order: `{ event, data, lastEventId }`. */
  feed (chunk) {
    let text = this.#decoder.decode(chunk, { stream: true })
    if (text === '') return []
    if (this.#afterCR) {
      this.#afterCR = false
      if (text.startsWith('\n')) text = text.slice(1) // the LF of a CRLF cut between two chunks
    }
    const buffer = this.#pending + text
    const lines = buffer.split(LINE_END)
    this.#pending = lines.pop()
    this.#afterCR = buffer.endsWith('\r')
    const frames = []
    for (const line of lines) this.#line(line, frames)
    return frames
  }

  #line (line, frames) {
    if (line === '') {
      this.lastEventId = this.#id
      if (this.#data.length > 0) {
        frames.push({ event: this.#event || 'message', data: this.#data.join('\n'), lastEventId: this.lastEventId })
      }
      this.#data = []
      this.#event = ''
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (name === 'event') this.#event = value
    else if (name === 'data') this.#data.push(value)
    else if (name === 'id') {
      if (!value.includes('\0')) this.#id = value
    } else if (name === 'retry') {
      if (/^[0-9]+$/.test(value)) this.retry = Number(value)
    }
  }
}

/**
 * Milliseconds to wait before the next attempt: the server's `retry` (at least 100 ms), doubled
 * for each attempt that failed in a row, at least a 503's Retry-After, at most MAX_RETRY_DELAY.
 */
export function retryDelay (retry, failures, error) {
  let delay = Math.max(retry, 100) * 2 ** Math.min(failures, 16)
  if (typeof error?.retryAfter === 'number') delay = Math.max(delay, error.retryAfter * 1000)
  return Math.min(delay, MAX_RETRY_DELAY)
}
