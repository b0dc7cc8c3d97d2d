// The server's wire meter, read once a second and shared by every element:
// one request per second for the whole page, whatever the number of panels.
// The same request asks for this page's own connections (the connectionIds of
// its clients' welcomes), which give the per-message share, the share since a
// reset and the idle cost (own-connection.ts).
import { TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import type { ConnectionTallies, WireSnapshot, WireTally } from '../../../server/wire/types.ts'
import { OWN_DEFAULTS, OwnConnection, type IdleCost, type OwnOptions, type ShareFigure } from './own-connection.ts'

export type { IdleCost, ShareFigure } from './own-connection.ts'

export interface WireSample {
  /** Page clock when the answer arrived. */
  at: number
  snapshot: WireSnapshot
}

/** GET /api/wire with ?connections=...: everyone's figures, and this page's own streams among them. */
type WireReading = WireSnapshot & { connections?: ConnectionTallies }

/** Which of this page's counts a reset started: its own button, or the server's (an instructor's, or a restart). */
export type ResetBy = 'page' | 'server'

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
const GATEWAY_ERRORS = new Set([502, 503, 504])

export class WireStore extends EventTarget {
  readonly samples: WireSample[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  /** Where the meter is read: the server's own port, even for a page behind a shaped one (lab.ts). */
  baseUrl: string
  /** This page's connection per transport: the connectionId of its client's latest welcome. */
  private readonly ownIds: () => Partial<Record<TransportName, string>>
  private readonly own: Record<TransportName, OwnConnection>
  /** How the own figures are measured: the panels and the Charts caption say it as it is. */
  readonly ownOptions: OwnOptions
  private baseline: WireSnapshot | undefined
  private lastReset: { at: number; by: ResetBy } | undefined
  private lastReadAt: number | undefined
  private unreachableAt: number | undefined
  private reading = false
  /**
   * A reading not answered by then counts as the server unreachable. Without it a server that
   * accepts but never answers (a sleeping laptop, a Wi-Fi that dropped mid-request) would leave
   * the page showing old figures as live.
   */
  readTimeoutMs = 5000

  constructor(
    baseUrl = '',
    ownIds: () => Partial<Record<TransportName, string>> = () => ({}),
    ownOptions: Partial<OwnOptions> = {},
  ) {
    super()
    this.baseUrl = baseUrl
    this.ownIds = ownIds
    this.ownOptions = { ...OWN_DEFAULTS, ...ownOptions }
    this.own = Object.fromEntries(TRANSPORTS.map((t) => [t, new OwnConnection(this.ownOptions)])) as Record<
      TransportName,
      OwnConnection
    >
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
    const ids = this.ownIds()
    const asked = [...new Set(Object.values(ids).filter((id): id is string => !!id))]
    const query = asked.length > 0 ? `?connections=${asked.map(encodeURIComponent).join(',')}` : ''
    // One reading at a time: a server that answers slowly must not pile up requests that take the page's few connections.
    if (this.reading) return
    this.reading = true
    let reading: WireReading | undefined
    try {
      const res = await fetch(`${this.baseUrl}/api/wire${query}`, { signal: AbortSignal.timeout(this.readTimeoutMs) })
      // A proxy in front (Vite's, in `npm run dev`) answers these for a server that is down.
      if (GATEWAY_ERRORS.has(res.status)) throw new Error(`the proxy answered ${res.status}`)
      reading = res.ok ? ((await res.json()) as WireReading) : undefined
    } catch {
      return this.setReachable(false)
    } finally {
      this.reading = false
    }
    this.setReachable(true)
    if (!reading) return
    const { connections, ...snapshot } = reading
    this.lastReadAt = Date.now()
    this.take(snapshot, connections ?? {}, ids)
  }

  /**
   * Whether the server answered the latest reading. The meter is read once a second whatever the
   * transports do, so it is the page's one plain sign of an outage, while each panel only knows its own connection.
   */
  get reachable(): boolean {
    return this.unreachableAt === undefined
  }

  /** Since when the server has not answered, page clock as Date.now(); undefined while it answers. */
  get unreachableSince(): number | undefined {
    return this.unreachableAt
  }

  /** When the figures shown were read, page clock as Date.now(): while the server is unreachable, they are that old. */
  get readAt(): number | undefined {
    return this.lastReadAt
  }

  /** When this page's counts last started over (its own reset, or the server's it saw), page clock as Date.now(). */
  get resetAt(): number | undefined {
    return this.lastReset?.at
  }

  get resetBy(): ResetBy | undefined {
    return this.lastReset?.by
  }

  /** Counts from now on, for this page: the panels and charts show what happened since. */
  reset(): void {
    this.baseline = this.latest
    this.startOver('page')
  }

  /**
   * The instructor's reset: the server's counts back to zero for everyone
   * (POST /api/wire/reset, from the server's own machine only). Resolves to
   * undefined, or to the server's reason for refusing.
   */
  async resetServer(): Promise<string | undefined> {
    let res: Response
    try {
      res = await fetch(`${this.baseUrl}/api/wire/reset`, { method: 'POST' })
    } catch {
      return 'the server did not answer'
    }
    if (!res.ok) {
      const error = (await res.json().catch(() => ({}))) as { message?: string }
      return error.message ?? `the server answered ${res.status}`
    }
    this.baseline = undefined
    this.startOver('server')
    await this.refresh()
    return undefined
  }

  /** The server's tally for a transport, since this page's last reset. */
  tally(transport: string): WireTally | undefined {
    const current = this.latest?.transports[transport]
    return current && tallySince(current, this.baseline?.transports[transport])
  }

  /** The overhead share of this page's own connection in the readings in which its latest messages crossed it. */
  perMessage(transport: TransportName): ShareFigure | undefined {
    return this.own[transport].perMessage()
  }

  /** The overhead share of everything this page's own connection moved since the reset, or since the page opened it. */
  sinceReset(transport: TransportName): ShareFigure | undefined {
    return this.own[transport].sinceReset()
  }

  /** What this page's own connection costs per minute of quiet (see OwnConnection.idleCost). */
  idleCost(transport: TransportName): IdleCost | undefined {
    return this.own[transport].idleCost()
  }

  /** Quiet seconds found so far on this page's own connection, for a figure still being measured. */
  quietSeconds(transport: TransportName): number {
    return this.own[transport].quietSeconds
  }

  private take(snapshot: WireSnapshot, connections: ConnectionTallies, ids: Partial<Record<TransportName, string>>) {
    const previous = this.latest
    // The page's own reading of /api/wire adds to the totals every second: totals that went down were zeroed
    // (an instructor's reset, a restart), and a baseline taken before would hide what came since.
    if (previous && isBelow(snapshot.total, previous.total)) {
      this.baseline = undefined
      this.startOver('server')
    }
    const at = performance.now()
    this.samples.push({ at, snapshot })
    if (this.samples.length > SAMPLES_KEPT) this.samples.splice(0, this.samples.length - SAMPLES_KEPT)
    for (const transport of TRANSPORTS) {
      const id = ids[transport]
      const tally = id === undefined ? undefined : connections[id]?.[transport]
      this.own[transport].add(at, tally, snapshot.at)
    }
    this.dispatchEvent(new Event('change'))
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.reachable) return
    this.unreachableAt = reachable ? undefined : Date.now()
    this.dispatchEvent(new Event('reachability'))
    this.dispatchEvent(new Event('change'))
  }

  private startOver(by: ResetBy): void {
    this.lastReset = { at: Date.now(), by }
    for (const own of Object.values(this.own)) own.reset()
    this.dispatchEvent(new Event('change'))
  }
}

function isBelow(now: WireTally, before: WireTally): boolean {
  return now.httpRequests < before.httpRequests || now.bytesIn < before.bytesIn
}
