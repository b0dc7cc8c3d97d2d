// The arithmetic of the report, kept apart from any I/O so that it is tested
// on its own: byte deltas per message, the bandwidth projection, histogram
// percentiles in microseconds, per-connection memory, ratios to a baseline.
import type { RecordableHistogram } from 'node:perf_hooks'
import type { WireSnapshot, WireTally } from '../server/wire/meter.ts'
import { emptyTally } from '../server/wire/types.ts'

export interface Bytes {
  bytes: number
  payload: number
  overhead: number
}

/** One leg of a delivery (sender<->server or server<->receiver), per message, in both directions. */
export interface LegBytes {
  in: Bytes
  out: Bytes
}

const ZERO: WireTally = emptyTally()

export function tallyOf(snapshot: Pick<WireSnapshot, 'transports'>, name: string): WireTally {
  return snapshot.transports[name] ?? ZERO
}

/** A transport's HTTP requests on a meter: Transport Lab keeps one tally per transport, a baseline one per role (`sse:send`). */
export function requestsOf(snapshot: Pick<WireSnapshot, 'transports'>, transport: string): number {
  let requests = 0
  for (const [name, tally] of Object.entries(snapshot.transports))
    if (name === transport || name.startsWith(`${transport}:`)) requests += tally.httpRequests
  return requests
}

/**
 * What a delivery window's HTTP requests (sends and polls) cost per message: over the messages the server
 * accepted between the marks, not those completed (delivered to every receiver). Short polling completes messages
 * in bursts of one interval, so a window's completed count depends on where its marks fall; the server accepts
 * them at an even pace. Undefined for a window without accepted messages.
 */
export function requestsPerMessageOf(
  meter: { before: Pick<WireSnapshot, 'transports'>; after: Pick<WireSnapshot, 'transports'> },
  marks: { before: { accepted: number }; after: { accepted: number } },
  transport: string,
): number | undefined {
  const accepted = marks.after.accepted - marks.before.accepted
  if (accepted <= 0) return undefined
  return (requestsOf(meter.after, transport) - requestsOf(meter.before, transport)) / accepted
}

export interface TallyDelta {
  bytesIn: number
  bytesOut: number
  payloadIn: number
  payloadOut: number
  httpRequests: number
}

export function tallyDelta(before: WireTally, after: WireTally): TallyDelta {
  return {
    bytesIn: after.bytesIn - before.bytesIn,
    bytesOut: after.bytesOut - before.bytesOut,
    payloadIn: after.payloadIn - before.payloadIn,
    payloadOut: after.payloadOut - before.payloadOut,
    httpRequests: after.httpRequests - before.httpRequests,
  }
}

function split(bytes: number, payload: number, messages: number): Bytes {
  // Payload is counted when a frame is built and bytes when they reach the socket; overhead is never negative.
  const p = Math.min(payload, bytes)
  return { bytes: bytes / messages, payload: p / messages, overhead: (bytes - p) / messages }
}

/** Bytes per message of a measured window that carried `messages` messages. */
export function perMessage(delta: TallyDelta, messages: number): LegBytes {
  if (!(messages > 0)) throw new RangeError('perMessage needs at least one message')
  return { in: split(delta.bytesIn, delta.payloadIn, messages), out: split(delta.bytesOut, delta.payloadOut, messages) }
}

/** Mbit/s for `clients` clients each receiving `messagesPerSecond` messages of `bytesPerMessage` bytes on the wire. */
export function projectMbps(clients: number, bytesPerMessage: number, messagesPerSecond = 1): number {
  return (clients * messagesPerSecond * bytesPerMessage * 8) / 1e6
}

export const PROJECTION_CLIENTS = [1_000, 10_000, 100_000] as const

export interface LatencySummary {
  count: number
  minUs: number | null
  meanUs: number | null
  p50Us: number | null
  p90Us: number | null
  p99Us: number | null
  p999Us: number | null
  maxUs: number | null
}

const us = (ns: number) => Math.round(ns / 10) / 100

/** A perf_hooks histogram of nanosecond recordings, summarized in microseconds (two decimals). */
export function summarizeHistogram(histogram: RecordableHistogram): LatencySummary {
  const count = histogram.count
  if (count === 0)
    return { count, minUs: null, meanUs: null, p50Us: null, p90Us: null, p99Us: null, p999Us: null, maxUs: null }
  return {
    count,
    minUs: us(histogram.min),
    meanUs: us(histogram.mean),
    p50Us: us(histogram.percentile(50)),
    p90Us: us(histogram.percentile(90)),
    p99Us: us(histogram.percentile(99)),
    p999Us: us(histogram.percentile(99.9)),
    maxUs: us(histogram.max),
  }
}

export interface AgeSummary {
  count: number
  minUs: number | null
  p50Us: number | null
  p95Us: number | null
  maxUs: number | null
}

/** The ticker's figures from a histogram of nanosecond ages: the median and p95 a lesson quotes, and the extremes. */
export function summarizeAge(histogram: RecordableHistogram): AgeSummary {
  const count = histogram.count
  if (count === 0) return { count, minUs: null, p50Us: null, p95Us: null, maxUs: null }
  return {
    count,
    minUs: us(histogram.min),
    p50Us: us(histogram.percentile(50)),
    p95Us: us(histogram.percentile(95)),
    maxUs: us(histogram.max),
  }
}

/** A latency in ms (from performance.now() differences) as the histogram's integer nanoseconds; the histogram takes nothing below 1. */
export function toNanoseconds(ms: number): { ns: number; clamped: boolean } {
  const ns = Math.round(ms * 1e6)
  return ns >= 1 ? { ns, clamped: false } : { ns: 1, clamped: true }
}

/** (after - before) / n: memory each connection added. */
export function perConnection(before: number, after: number, connections: number): number {
  if (!(connections > 0)) throw new RangeError('perConnection needs at least one connection')
  return (after - before) / connections
}

/** What a memory reading says a process holds: its heap in use, and its RSS without V8's young generation. */
export interface MemoryReading {
  heapUsedBytes: number
  rssBytes: number
  youngGenerationBytes: number
}

/**
 * The memory each of `connections` clients added between two readings, both after a full GC: heap in use, and
 * RSS less V8's young generation. V8 sizes the young generation by how fast the process allocated in the last
 * seconds (a crowd that polls grows it to tens of MB, an idle one lets it shrink), so counted per connection it
 * would make a busy crowd look tens of KB a client heavier, and a crowd read while the server's start-up young
 * generation was still there lighter than nothing.
 */
export function memoryPerConnection(
  before: MemoryReading,
  after: MemoryReading,
  connections: number,
): { heapBytes: number; rssBytes: number } {
  return {
    heapBytes: perConnection(before.heapUsedBytes, after.heapUsedBytes, connections),
    rssBytes: perConnection(
      before.rssBytes - before.youngGenerationBytes,
      after.rssBytes - after.youngGenerationBytes,
      connections,
    ),
  }
}

/** A count over a window, scaled to one minute. */
export function perMinute(count: number, windowMs: number): number {
  if (!(windowMs > 0)) throw new RangeError('perMinute needs a window longer than 0 ms')
  return (count * 60_000) / windowMs
}

export function perSecond(count: number, windowMs: number): number {
  if (!(windowMs > 0)) throw new RangeError('perSecond needs a window longer than 0 ms')
  return (count * 1000) / windowMs
}

/** The tolerance the issue sets: Transport Lab within 10% of the bare servers. */
export const TOLERANCE = 0.1

export type Better = 'higher' | 'lower'

export interface Ratio {
  /** lab / baseline */
  ratio: number | null
  /** How much worse Transport Lab is, as a fraction (0.25 = 25% worse); negative when it is better. */
  worseBy: number | null
  /** True when Transport Lab is more than TOLERANCE worse (and beyond the spread, when there is one). */
  flagged: boolean
  /** More than TOLERANCE worse, but the readings of the two overlap: not told apart from noise. */
  withinSpread?: boolean
  note?: string
}

/** What one figure read over its repetitions: each reading, the lowest and the highest. */
export interface Spread {
  values: number[]
  min: number
  max: number
}

/** The repetitions' notes, each once, as a row's note. */
export function notesOf(readings: Array<{ note?: string }>): { note?: string } {
  const notes = [...new Set(readings.flatMap((r) => (r.note ? [r.note] : [])))]
  return notes.length ? { note: notes.join('; ') } : {}
}

/** The spread of a figure's repetitions (the finite ones), or null when none is left. */
export function spreadOf(values: Array<number | null | undefined>): Spread | null {
  const finite = values.filter((v): v is number => v != null && Number.isFinite(v))
  if (finite.length === 0) return null
  return { values: finite, min: Math.min(...finite), max: Math.max(...finite) }
}

/**
 * Transport Lab's figure against its baseline's. For a "higher is better" figure
 * (throughput) worse means lab < baseline x 0.9; for "lower is better" (memory,
 * bytes, CPU) worse means lab > baseline x 1.1.
 *
 * With the figures' spreads over their repetitions, a difference is flagged
 * only when it is also larger than the noise: every reading of Transport Lab
 * worse than every reading of the baseline (the two ranges do not overlap).
 * Otherwise the run cannot tell the two apart, and the note says so.
 */
export function compare(
  lab: number | null | undefined,
  baseline: number | null | undefined,
  better: Better,
  tolerance = TOLERANCE,
  spreads?: { lab: Spread | null; baseline: Spread | null },
): Ratio {
  if (lab == null || baseline == null || !Number.isFinite(lab) || !Number.isFinite(baseline)) {
    return { ratio: null, worseBy: null, flagged: false, note: 'not measured' }
  }
  if (baseline <= 0) return { ratio: null, worseBy: null, flagged: false, note: 'baseline too small to compare' }
  if (lab < 0)
    return { ratio: null, worseBy: null, flagged: false, note: 'a negative figure (noise) cannot be compared' }
  const ratio = lab / baseline
  const worseBy = better === 'higher' ? 1 - ratio : ratio - 1
  const beyondTolerance = worseBy > tolerance + 1e-9
  if (!beyondTolerance || !spreads?.lab || !spreads.baseline) return { ratio, worseBy, flagged: beyondTolerance }
  const beyondSpread =
    better === 'higher' ? spreads.lab.max < spreads.baseline.min : spreads.lab.min > spreads.baseline.max
  return beyondSpread
    ? { ratio, worseBy, flagged: true }
    : {
        ratio,
        worseBy,
        flagged: false,
        withinSpread: true,
        note: 'within the spread of the repetitions: not told apart from noise',
      }
}

export function median(values: number[]): number | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface CpuUsage {
  user: number
  system: number
}

/** CPU seconds between two process.cpuUsage() readings (µs). */
export function cpuSeconds(before: CpuUsage, after: CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1e6
}

/** A figure over the same figure in a reference phase (noisy: a flood phase over the quiet one); null when either is missing or the reference is 0. */
export function ratioTo(value: number | null | undefined, reference: number | null | undefined): number | null {
  if (value == null || reference == null || !Number.isFinite(value) || !Number.isFinite(reference) || reference <= 0)
    return null
  return value / reference
}

export interface Memory {
  rssBytes: number
  heapUsedBytes: number
  /** external + arrayBuffers */
  externalBytes: number
}

/** The highest of each figure over a list of readings (each figure's own maximum, not one reading's). */
export function peakMemory(readings: Memory[]): Memory {
  if (readings.length === 0) throw new RangeError('peakMemory needs at least one reading')
  return {
    rssBytes: Math.max(...readings.map((r) => r.rssBytes)),
    heapUsedBytes: Math.max(...readings.map((r) => r.heapUsedBytes)),
    externalBytes: Math.max(...readings.map((r) => r.externalBytes)),
  }
}

/** What the slow-consumer policy lets N stopped readers cost: N x SEND_BUFFER_BYTES. */
export function sendBufferBudget(readers: number, sendBufferBytes: number): number {
  return readers * sendBufferBytes
}

/** The settings that decide when a dead peer is reaped (ms). */
export interface ReapSettings {
  wsHeartbeatMs: number
  sioPingIntervalMs: number
  sioPingTimeoutMs: number
  sseStreamMaxMs: number
  /** How long a renewed SSE stream's member waits for the reconnect (the server's SSE_REJOIN_GRACE_MS). */
  sseRejoinGraceMs: number
  httpSessionTtlMs: number
  longPollTimeoutMs: number
  /** How often the hub drops members whose lease ran out. */
  leaseSweepMs: number
}

export interface ReapWindow {
  minMs: number
  maxMs: number
  /** The settings the window comes from, by their environment names. */
  settings: Record<string, number>
}

/**
 * When a peer that stops answering right after it joined should be gone,
 * by the server's settings, counted from that moment:
 *   websocket      pinged at the first heartbeat tick, dropped at the next: (H, 2H]
 *   socket.io      Engine.IO pings after the interval, closes after the timeout: I + T
 *   sse            renewed after M x [0.9, 1.1], then the rejoin grace, then the lease sweep
 *   short-polling  the session's lease (TTL) after its last request, then the sweep
 *   long-polling   the lease is TTL + the long-poll timeout (its last poll is held that long)
 */
export function deadPeerWindow(transport: string, s: ReapSettings): ReapWindow {
  switch (transport) {
    case 'websocket':
      return { minMs: s.wsHeartbeatMs, maxMs: 2 * s.wsHeartbeatMs, settings: { WS_HEARTBEAT_MS: s.wsHeartbeatMs } }
    case 'socket.io': {
      const ms = s.sioPingIntervalMs + s.sioPingTimeoutMs
      return {
        minMs: ms,
        maxMs: ms,
        settings: { SIO_PING_INTERVAL_MS: s.sioPingIntervalMs, SIO_PING_TIMEOUT_MS: s.sioPingTimeoutMs },
      }
    }
    case 'sse':
      return {
        minMs: 0.9 * s.sseStreamMaxMs + s.sseRejoinGraceMs,
        maxMs: 1.1 * s.sseStreamMaxMs + s.sseRejoinGraceMs + s.leaseSweepMs,
        settings: { SSE_STREAM_MAX_MS: s.sseStreamMaxMs, 'rejoin grace': s.sseRejoinGraceMs },
      }
    case 'short-polling':
      return {
        minMs: s.httpSessionTtlMs,
        maxMs: s.httpSessionTtlMs + s.leaseSweepMs,
        settings: { HTTP_SESSION_TTL_MS: s.httpSessionTtlMs },
      }
    case 'long-polling': {
      const lease = s.httpSessionTtlMs + s.longPollTimeoutMs
      return {
        minMs: lease,
        maxMs: lease + s.leaseSweepMs,
        settings: { HTTP_SESSION_TTL_MS: s.httpSessionTtlMs, LONG_POLL_TIMEOUT_MS: s.longPollTimeoutMs },
      }
    }
    default:
      throw new RangeError(`no reap window for ${transport}`)
  }
}

/** Whether a measured delay falls in a window, give or take `slackMs` (the watch's resolution, a request's time). */
export function withinWindow(ms: number | null, window: Pick<ReapWindow, 'minMs' | 'maxMs'>, slackMs: number): boolean {
  return ms !== null && ms >= window.minMs - slackMs && ms <= window.maxMs + slackMs
}

/** One delivery a ticker receiver got: when, and the updates it carried (seq and the tick's time, both clocks wall-clock ms). */
export interface TickerDelivery {
  receivedAt: number
  updates: Array<{ seq: number; sentAt: number }>
}

export interface DeliveryTally {
  /** Distinct measured updates received. */
  received: number
  /** Deliveries that carried at least one measured update. */
  deliveries: number
  updatesPerDeliveryMean: number | null
  updatesPerDeliveryMax: number | null
  /** receivedAt - sentAt of each measured update, first receipt only, in ms. */
  agesMs: number[]
}

/** What each delivery carried of the measured updates: a delivery counts once it carried one; an update counts once, where it first arrived. */
export function tallyDeliveries(deliveries: readonly TickerDelivery[], measured: ReadonlySet<number>): DeliveryTally {
  const seen = new Set<number>()
  const agesMs: number[] = []
  let count = 0
  let max: number | null = null
  for (const delivery of deliveries) {
    let carried = 0
    for (const update of delivery.updates) {
      if (!measured.has(update.seq) || seen.has(update.seq)) continue
      seen.add(update.seq)
      agesMs.push(delivery.receivedAt - update.sentAt)
      carried++
    }
    if (carried === 0) continue
    count++
    max = Math.max(max ?? 0, carried)
  }
  return {
    received: seen.size,
    deliveries: count,
    updatesPerDeliveryMean: count > 0 ? seen.size / count : null,
    updatesPerDeliveryMax: max,
    agesMs,
  }
}

/** Calls per command from Redis's `INFO commandstats` ("cmdstat_evalsha:calls=12,usec=..."), by command name. */
export function parseCommandStats(info: string): Record<string, number> {
  const calls: Record<string, number> = {}
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match) calls[match[1]!] = Number(match[2])
  }
  return calls
}

/**
 * The commands Redis ran between two readings of `INFO commandstats`, by name (those that ran at least once),
 * less the first reading itself: an INFO is counted once it has answered, so the reading before is in the
 * reading after, and the reading after is not.
 */
export function commandsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [name, calls] of Object.entries(after)) {
    const ran = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0)
    if (ran > 0) delta[name] = ran
  }
  return delta
}
