// How far the server's clock is from this page's, so that a message stamped
// by the server (serverAt) gets a latency on this page even when another
// client sent it. Fed by a small time probe (GET /api/time: a few at start,
// then one now and then) and by this page's own messages as they come back;
// the arithmetic is in ../latency.ts.
import { now } from '../clock.ts'
import { ClockOffsetEstimator, type ClockExchange, type ClockOffset } from '../latency.ts'

/**
 * A few probes in the first seconds, a second apart: the page is at its busiest while its clients connect, and
 * the quickest round trip decides. Then one now and then, so that the estimate never rests on old exchanges
 * alone while nobody here sends.
 */
const PROBES_AT_START = 5
const PROBE_GAP_AT_START_MS = 1000
const PROBE_INTERVAL_MS = 30_000

export class ServerClock extends EventTarget {
  /** Where the clock is read: the server's own port, even for a page behind a shaped one (lab.ts). */
  baseUrl: string
  private readonly estimator = new ClockOffsetEstimator()
  private running = false
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(baseUrl = '') {
    super()
    this.baseUrl = baseUrl
  }

  /** Server clock − page clock, once an exchange has told; 'change' says when it does. */
  get offset(): ClockOffset | undefined {
    return this.estimator.estimate
  }

  start(): void {
    if (this.running) return
    this.running = true
    let probes = 0
    const next = async () => {
      await this.probe()
      if (!this.running) return
      probes++
      this.timer = setTimeout(() => void next(), probes < PROBES_AT_START ? PROBE_GAP_AT_START_MS : PROBE_INTERVAL_MS)
    }
    void next()
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  add(exchange: ClockExchange): void {
    if (this.estimator.add(exchange)) this.dispatchEvent(new Event('change'))
  }

  /** One exchange over GET /api/time; false when the server did not answer with its clock. */
  async probe(): Promise<boolean> {
    try {
      const sentAt = now()
      const res = await fetch(`${this.baseUrl}/api/time`, { cache: 'no-store' })
      // The answer is in: the stamp was taken before it left, whenever its few bytes of body are read.
      const receivedAt = now()
      const body = (await res.json()) as { serverAt?: unknown }
      if (!res.ok || typeof body.serverAt !== 'number') return false
      this.add({ sentAt, serverAt: body.serverAt, receivedAt })
      return true
    } catch {
      // The server is restarting or gone: the next probe, or this page's next message, will tell.
      return false
    }
  }
}
