// This page's own connection on one transport, as the server's wire meter
// counts it (GET /api/wire?connections=...), read once a second. Everyone's
// figures grow with every client since the server started; these follow the
// one stream this page opened, so they say what this page's connection costs:
// per message (the seconds in which its last messages crossed it, which stay
// put while nothing is said), since a reset, and while it is quiet.
import type { StreamTally } from '../../../server/wire/types.ts'

/** What the stream carried between two readings. */
export interface OwnInterval {
  /** Page clock when the later reading arrived. */
  at: number
  ms: number
  bytes: number
  payload: number
  messages: number
  requests: number
  /** The stream's first reading: all it carried before, its handshake included, over a span the page did not see. */
  opening: boolean
}

export interface IdleCost {
  requestsPerMinute: number
  bytesPerMinute: number
  /** The quiet seconds it was measured over: readings in which the connection carried no message. */
  quietSeconds: number
  /** The span those quiet seconds were found in: the last IDLE_SPAN_MS of readings, or fewer. */
  spanSeconds: number
  /** Page clock when it was measured: while messages flow, the last figure is kept. */
  at: number
}

export interface ShareFigure {
  /** Overhead / bytes, 0 to 1. */
  share: number
  bytes: number
  /** Messages in and out the figure covers. */
  messages: number
}

export interface OwnOptions {
  /** How far back quiet seconds are looked for. */
  idleSpanMs: number
  /**
   * Quiet time needed before an idle figure is shown: enough to cover the
   * slowest keep-alive at the server's defaults more than once (WebSocket and
   * Engine.IO pings and SSE heartbeats every 15 s, SSE renewals every 30 s,
   * a long poll held for 25 s), so that each transport's keep-alive shows.
   */
  idleQuietMinMs: number
  /** How many of the latest messages the per-message share covers (at least). */
  perMessageCount: number
}

export const OWN_DEFAULTS: OwnOptions = { idleSpanMs: 300_000, idleQuietMinMs: 60_000, perMessageCount: 10 }

const SUMMED = ['bytesIn', 'bytesOut', 'payloadIn', 'payloadOut', 'messagesIn', 'messagesOut', 'requests'] as const

export class OwnConnection {
  /** Intervals of the last idleSpanMs, oldest first. */
  readonly intervals: OwnInterval[] = []
  private readonly options: OwnOptions
  private last: { at: number; tally: StreamTally } | undefined
  /** The latest intervals that carried messages, as many as perMessageCount needs. */
  private readonly withMessages: OwnInterval[] = []
  private since = { bytes: 0, payload: 0 }
  private lastIdle: IdleCost | undefined

  constructor(options: Partial<OwnOptions> = {}) {
    this.options = { ...OWN_DEFAULTS, ...options }
  }

  /**
   * One reading: the stream's tally (undefined when this page has none on
   * the transport at the moment, e.g. between an SSE renewal and the welcome
   * that names its new connection) and the server's clock. The interval since
   * the stream's last reading counts when its counts only grew; a stream not
   * seen before counts whole (its handshake and welcome), except per message;
   * counts that went down (the server's reset, a restart) start over without
   * counting.
   */
  add(at: number, tally: StreamTally | undefined, serverAt: number): void {
    this.trim(at)
    if (!tally) return
    const previous = this.last
    this.last = { at, tally }
    if (previous?.tally.openedAt !== tally.openedAt) {
      this.count(interval(at, Math.max(0, serverAt - tally.openedAt), tally, undefined))
    } else if (SUMMED.every((key) => tally[key] >= previous.tally[key])) {
      this.count(interval(at, at - previous.at, tally, previous.tally))
    }
  }

  /** Counts from now on, for the share since a reset (this page's, or the server's). */
  reset(): void {
    this.since = { bytes: 0, payload: 0 }
  }

  /** The overhead share of the bytes moved in the readings in which the latest perMessageCount messages crossed. */
  perMessage(): ShareFigure | undefined {
    let bytes = 0
    let payload = 0
    let messages = 0
    for (let i = this.withMessages.length - 1; i >= 0 && messages < this.options.perMessageCount; i--) {
      const next = this.withMessages[i]!
      bytes += next.bytes
      payload += next.payload
      messages += next.messages
    }
    return bytes > 0 ? { share: Math.max(0, bytes - payload) / bytes, bytes, messages } : undefined
  }

  /** The overhead share of every byte this page's connection moved since the reset (or since the page opened it). */
  sinceReset(): ShareFigure | undefined {
    const { bytes, payload } = this.since
    return bytes > 0 ? { share: Math.max(0, bytes - payload) / bytes, bytes, messages: 0 } : undefined
  }

  /** Seconds of quiet found so far in the span, for "measuring…". */
  get quietSeconds(): number {
    return quietOf(this.intervals).ms / 1000
  }

  /**
   * Requests and bytes per minute of quiet: over the readings of the last
   * idleSpanMs in which the connection carried no message, once they add up
   * to idleQuietMinMs. While messages flow and they do not, the last figure is kept.
   */
  idleCost(): IdleCost | undefined {
    const quiet = quietOf(this.intervals)
    const first = this.intervals[0]
    const latest = this.intervals.at(-1)
    if (!first || !latest || quiet.ms < this.options.idleQuietMinMs) return this.lastIdle
    const perMinute = 60_000 / quiet.ms
    this.lastIdle = {
      requestsPerMinute: quiet.requests * perMinute,
      bytesPerMinute: quiet.bytes * perMinute,
      quietSeconds: quiet.ms / 1000,
      spanSeconds: (latest.at - first.at + first.ms) / 1000,
      at: latest.at,
    }
    return this.lastIdle
  }

  private count(next: OwnInterval): void {
    this.since.bytes += next.bytes
    this.since.payload += next.payload
    this.intervals.push(next)
    // The opening reading holds the handshake: what one message costs is measured without it.
    if (next.opening || next.messages === 0) return
    this.withMessages.push(next)
    let kept = 0
    for (let i = this.withMessages.length - 1; i >= 0; i--) {
      kept += this.withMessages[i]!.messages
      if (kept >= this.options.perMessageCount) {
        this.withMessages.splice(0, i)
        break
      }
    }
  }

  private trim(now: number): void {
    const from = this.intervals.findIndex((i) => now - (i.at - i.ms) <= this.options.idleSpanMs)
    this.intervals.splice(0, from < 0 ? this.intervals.length : from)
  }
}

function interval(at: number, ms: number, now: StreamTally, before: StreamTally | undefined): OwnInterval {
  const d = (key: (typeof SUMMED)[number]) => now[key] - (before?.[key] ?? 0)
  return {
    at,
    ms,
    bytes: d('bytesIn') + d('bytesOut'),
    payload: d('payloadIn') + d('payloadOut'),
    messages: d('messagesIn') + d('messagesOut'),
    requests: d('requests'),
    opening: before === undefined,
  }
}

function quietOf(intervals: OwnInterval[]): { ms: number; bytes: number; requests: number } {
  const quiet = { ms: 0, bytes: 0, requests: 0 }
  for (const i of intervals) {
    if (i.messages > 0 || i.opening) continue
    quiet.ms += i.ms
    quiet.bytes += i.bytes
    quiet.requests += i.requests
  }
  return quiet
}
