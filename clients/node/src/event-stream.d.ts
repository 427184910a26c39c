// The event stream format of the HTML standard (Server-Sent Events) and the reconnection policy
// of SessiondClient.events. Internal: not in the package's exports map.

/** Milliseconds to wait before reconnecting until the server says otherwise. */
export declare const DEFAULT_RETRY: number
/** The longest wait between two attempts to reconnect, in ms. */
export declare const MAX_RETRY_DELAY: number
/** Milliseconds without a byte after which a stream is taken for dead, and reopened. */
export declare const IDLE_TIMEOUT: number

/** One dispatched event: its type ('message' when it named none), its data, and the last event ID. */
export interface Frame {
  event: string
  data: string
  lastEventId: string
}

/** The HTML standard's event stream interpretation, fed bytes as they arrive. */
export declare class EventStreamParser {
  constructor (lastEventId?: string)
  /** The stream's last event ID (it starts as the one given). */
  readonly lastEventId: string
  /** The server's reconnection time in ms, or null. */
  readonly retry: number | null
  /** The events that `chunk` completes, in order. */
  feed (chunk: Uint8Array): Frame[]
}

/** Milliseconds before the next attempt: `retry` doubled per failure in a row, at most MAX_RETRY_DELAY. */
export declare function retryDelay (retry: number, failures: number, error?: { retryAfter?: number | null }): number
