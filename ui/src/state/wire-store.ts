// The server's wire meter, read once a second and shared by every element:
// one request per second for the whole page, whatever the number of panels.
import type { WireSnapshot, WireTally } from '../../../server/wire/types.ts'

export interface WireSample {
  /** Page clock when the answer arrived. */
  at: number
  snapshot: WireSnapshot
}

export interface IdleCost {
  requestsPerMinute: number
  bytesPerMinute: number
  /** Over how many seconds of quiet this was measured. */
  windowSeconds: number
}

/** Counts that only go up: a reset subtracts them. The rest (connections open, requests held) are states, kept as they are. */
const COUNTS = [
  'bytesIn',
  'bytesOut',
  'payloadIn',
  'payloadOut',
  'plainIn',
  'plainOut',
  'connectionsTotal',
  'httpRequests',
  'messagesIn',
  'messagesOut',
] as const satisfies ReadonlyArray<keyof WireTally>

/** A transport's tally counted from `base` on: what happened since a reset. */
export function tallySince(current: WireTally, base: WireTally | undefined): WireTally {
  if (!base) return current
  const since = { ...current }
  for (const key of COUNTS) since[key] = Math.max(0, current[key] - base[key])
  since.overheadIn = Math.max(0, since.bytesIn - since.payloadIn)
  since.overheadOut = Math.max(0, since.bytesOut - since.payloadOut)
  return since
}

const SAMPLES_KEPT = 180
/**
 * A transport counts as idle over a window in which it delivered no message.
 * A minute, because keep-alives are slow: WebSocket and Engine.IO pings every
 * 15 s, SSE heartbeats every 15 s and stream renewals every 30 s, a long poll
 * held for 25 s would not show in less. It counts once the page has samples
 * spanning at least 90% of it.
 */
const IDLE_WINDOW_MS = 60_000

export class WireStore extends EventTarget {
  readonly samples: WireSample[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly baseUrl: string
  private readonly lastIdle = new Map<string, IdleCost>()
  private baseline: WireSnapshot | undefined

  constructor(baseUrl = '') {
    super()
    this.baseUrl = baseUrl
  }

  get latest(): WireSnapshot | undefined {
    return this.samples.at(-1)?.snapshot
  }

  start(intervalMs = 1000): void {
    if (this.timer) return
    void this.refresh()
    this.timer = setInterval(() => void this.refresh(), intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  async refresh(): Promise<void> {
    try {
      const res = await fetch(`${this.baseUrl}/api/wire`)
      if (!res.ok) return
      const snapshot = (await res.json()) as WireSnapshot
      this.samples.push({ at: performance.now(), snapshot })
      if (this.samples.length > SAMPLES_KEPT) this.samples.splice(0, this.samples.length - SAMPLES_KEPT)
      this.dispatchEvent(new Event('change'))
    } catch {
      // The server is restarting or gone: the panels show their own connection state.
    }
  }

  /** When this page last reset its counters (the server's totals are not touched), or undefined. */
  get resetAt(): number | undefined {
    return this.baseline?.at
  }

  /** Counts from now on, for this page: the panels and charts show what happened since. */
  reset(): void {
    this.baseline = this.latest
    this.dispatchEvent(new Event('change'))
  }

  /** The server's tally for a transport, since this page's last reset. */
  tally(transport: string): WireTally | undefined {
    const current = this.latest?.transports[transport]
    return current && tallySince(current, this.baseline?.transports[transport])
  }

  /**
   * Requests and bytes per minute over the last quiet window of a transport:
   * what it costs to keep a connection (or a polling loop) alive with nothing to say.
   * While messages flow, the last quiet figure is kept.
   */
  idleCost(transport: string): IdleCost | undefined {
    const last = this.samples.at(-1)
    if (!last) return this.lastIdle.get(transport)
    const startIndex = this.samples.findIndex((s) => last.at - s.at <= IDLE_WINDOW_MS)
    const first = this.samples[startIndex]
    const a = first?.snapshot.transports[transport]
    const b = last.snapshot.transports[transport]
    if (!first || !a || !b || last.at - first.at < IDLE_WINDOW_MS * 0.9) return this.lastIdle.get(transport)
    if (b.messagesOut !== a.messagesOut || b.messagesIn !== a.messagesIn) return this.lastIdle.get(transport)
    const minutes = (last.at - first.at) / 60_000
    const cost = {
      requestsPerMinute: (b.httpRequests - a.httpRequests) / minutes,
      bytesPerMinute: (b.bytesIn + b.bytesOut - a.bytesIn - a.bytesOut) / minutes,
      windowSeconds: (last.at - first.at) / 1000,
    }
    this.lastIdle.set(transport, cost)
    return cost
  }
}
