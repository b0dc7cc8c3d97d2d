// The arithmetic behind the charts, free of the DOM and of Chart.js so that
// the tests run it in Node.
import { type TransportName, TRANSPORTS } from '../../../server/core/names.ts'
import type { WireTally } from '../../../server/wire/types.ts'
import type { LatencySample } from '../state/lab.ts'

export interface PerMessage {
  overhead: number
  payload: number
  total: number
  messages: number
}

export interface BytesPerMessage {
  /** Server to client, per message delivered; undefined until one was. */
  out: PerMessage | undefined
  /** Client to server, per message sent; undefined until one was. */
  in: PerMessage | undefined
}

function perMessage(overhead: number, payload: number, messages: number): PerMessage | undefined {
  if (!(messages > 0)) return undefined
  return {
    overhead: overhead / messages,
    payload: payload / messages,
    total: (overhead + payload) / messages,
    messages,
  }
}

/**
 * Bytes on the wire per chat message, split into payload and overhead.
 * Everything the transport sent counts, idle traffic included: an empty poll
 * or a ping is part of what delivering messages over that transport costs.
 */
export function bytesPerMessage(tally: WireTally | undefined): BytesPerMessage {
  if (!tally) return { out: undefined, in: undefined }
  return {
    out: perMessage(tally.overheadOut, tally.payloadOut, tally.messagesOut),
    in: perMessage(tally.overheadIn, tally.payloadIn, tally.messagesIn),
  }
}

export interface LatencyStats {
  count: number
  min: number
  median: number
  p95: number
  max: number
  last: number
}

/** Nearest-rank percentile of sorted values (0 < p <= 100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** Per receiving transport: how many samples and their spread, for the chart's text summary. */
export function latencyStats(samples: readonly LatencySample[], transport: TransportName): LatencyStats | undefined {
  const values = samples.filter((s) => s.transport === transport).map((s) => s.ms)
  if (values.length === 0) return undefined
  const last = values.at(-1)!
  values.sort((a, b) => a - b)
  return {
    count: values.length,
    min: values[0]!,
    median: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.at(-1)!,
    last,
  }
}

/**
 * Calls `run` at most once per `intervalMs`: the first call runs at once, the
 * calls that follow within the interval collapse into one at its end, so the
 * last change is never lost.
 */
export function throttle(run: () => void, intervalMs: number): { call: () => void; cancel: () => void } {
  let lastRun = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined
  const fire = () => {
    timer = undefined
    lastRun = Date.now()
    run()
  }
  return {
    call() {
      if (timer !== undefined) return
      const wait = lastRun + intervalMs - Date.now()
      if (wait <= 0) fire()
      else timer = setTimeout(fire, wait)
    },
    cancel() {
      clearTimeout(timer)
      timer = undefined
    },
  }
}

/** One value per transport, keyed by its name. */
export function perTransport<T>(value: (t: TransportName) => T): Record<TransportName, T> {
  return Object.fromEntries(TRANSPORTS.map((t) => [t, value(t)])) as Record<TransportName, T>
}
